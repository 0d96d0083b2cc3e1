-- Repositories, their files and the content-addressed blobs the files point at.

-- Every stored blob, by SHA-256, with the other digests clients ask for. A blob is referenced by any number
-- of files (live or in the recycle bin); one no file references is garbage and is reclaimed.
CREATE TABLE blobs (
    sha256      TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    md5         TEXT NOT NULL,
    sha1        TEXT NOT NULL,
    sha512      TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX blobs_md5 ON blobs(md5);
CREATE INDEX blobs_sha1 ON blobs(sha1);
CREATE INDEX blobs_sha512 ON blobs(sha512);

-- Names are unique on the server: they are the first segment of every artifact URL.
CREATE TABLE repositories (
    id                    TEXT PRIMARY KEY,
    domain_id             TEXT NOT NULL REFERENCES domains(id),
    project_id            TEXT NOT NULL,
    name                  TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    description           TEXT NOT NULL DEFAULT '',
    format                TEXT NOT NULL,
    repo_type             TEXT NOT NULL DEFAULT 'hosted',
    policy                TEXT NOT NULL,
    tab_id                TEXT NOT NULL,
    includes_pattern      TEXT NOT NULL DEFAULT '',
    deployment_policy     TEXT NOT NULL,
    allow_anonymous       INTEGER NOT NULL DEFAULT 0,
    max_unique_snapshots  INTEGER NOT NULL DEFAULT 0,
    share_right           TEXT NOT NULL DEFAULT 'private',
    status                TEXT NOT NULL DEFAULT 'active',
    deleted_at            INTEGER,
    created_at            INTEGER NOT NULL,
    created_by            TEXT NOT NULL,
    modified_at           INTEGER NOT NULL,
    modified_by           TEXT NOT NULL
);
CREATE INDEX repositories_project ON repositories(domain_id, project_id);
CREATE INDEX repositories_tab ON repositories(tab_id);

-- Files of repositories. `deleted_at` NULL: live; otherwise in the recycle bin. At most one live file per path.
CREATE TABLE files (
    id            INTEGER PRIMARY KEY,
    repo_id       TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    path          TEXT NOT NULL,
    sha256        TEXT NOT NULL REFERENCES blobs(sha256),
    size          INTEGER NOT NULL,
    content_type  TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    created_by    TEXT NOT NULL,
    modified_at   INTEGER NOT NULL,
    modified_by   TEXT NOT NULL,
    deleted_at    INTEGER,
    deleted_by    TEXT
);
CREATE UNIQUE INDEX files_live_path ON files(repo_id, path) WHERE deleted_at IS NULL;
CREATE INDEX files_repo_path ON files(repo_id, path);
CREATE INDEX files_sha256 ON files(sha256);

-- The password package-manager clients log in with (SPEC §6), as an argon2 hash.
ALTER TABLE users ADD COLUMN repo_password_hash TEXT;
