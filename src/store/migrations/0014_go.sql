-- Go modules (GOPROXY): a row per published version. A version is visible while its zip file is live,
-- so deleting the zip (to the recycle bin) hides it and restoring brings it back; the row stays, so a
-- version is never published twice with other contents (go.sum and the checksum database pin them).

CREATE TABLE go_versions (
    id            INTEGER PRIMARY KEY,
    repo_id       TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    module        TEXT NOT NULL,            -- the module path as declared, upper case and all
    version       TEXT NOT NULL,
    zip_path      TEXT NOT NULL,            -- the zip's path in `files` (case-encoded)
    mod_path      TEXT NOT NULL,            -- the go.mod's path in `files`
    has_go_mod    INTEGER NOT NULL,         -- whether the zip holds a go.mod (else the .mod is synthesized)
    published_at  INTEGER NOT NULL,
    published_by  TEXT NOT NULL,
    UNIQUE (repo_id, module, version)
);
