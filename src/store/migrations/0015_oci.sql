-- Container images (OCI Distribution). Blobs and manifests are files of the repository
-- (`<image>/blobs/<digest>`, `<image>/manifests/<digest>`); these tables say what the files mean.
-- A manifest row outlives its file's trip to the recycle bin (restoring brings the image back, and its
-- layers are kept while it is there); the collection drops rows whose file is gone for good.

CREATE TABLE oci_manifests (
    repo_id       TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    image         TEXT NOT NULL,
    digest        TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    size          INTEGER NOT NULL,
    artifact_type TEXT,
    subject       TEXT,                     -- the digest of the manifest this one refers to
    annotations   TEXT,                     -- JSON object, for the referrers API
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (repo_id, image, digest)
);
CREATE INDEX oci_manifests_subject ON oci_manifests(repo_id, image, subject);

-- What each manifest references: config and layer blobs, or an index's manifests.
CREATE TABLE oci_manifest_refs (
    repo_id   TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    image     TEXT NOT NULL,
    manifest  TEXT NOT NULL,
    target    TEXT NOT NULL,
    PRIMARY KEY (repo_id, image, manifest, target)
);
CREATE INDEX oci_manifest_refs_target ON oci_manifest_refs(repo_id, image, target);

CREATE TABLE oci_tags (
    repo_id     TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    image       TEXT NOT NULL,
    tag         TEXT NOT NULL,
    digest      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (repo_id, image, tag)
);
CREATE INDEX oci_tags_digest ON oci_tags(repo_id, image, digest);

-- Blob upload sessions: each chunk is a blob of its own (so any node can take the next one), joined
-- when the upload completes. A chunk's blob row is kept alive by its row here.
CREATE TABLE oci_uploads (
    id          TEXT PRIMARY KEY,
    repo_id     TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    image       TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE TABLE oci_upload_chunks (
    upload_id  TEXT NOT NULL REFERENCES oci_uploads(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    PRIMARY KEY (upload_id, seq)
);
CREATE INDEX oci_upload_chunks_blob ON oci_upload_chunks(sha256);

-- The key registry tokens are signed with: one row, made by whichever node needs it first.
CREATE TABLE oci_token_keys (
    id          INTEGER PRIMARY KEY,
    key_hex     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
