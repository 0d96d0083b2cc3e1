-- Release repositories: every CodeArts project has one, so it has no row of its own. A file is a full
-- name (its path in the project) with versions: each upload of the same name stores a new version.

-- Folders exist once a file was uploaded below them; their ids address them in list_files (parent_id).
CREATE TABLE release_folders (
    id          TEXT PRIMARY KEY,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (project_id, path)
);

-- One row per stored version. `file_id` is shared by the versions of one full name; `deleted_at` set:
-- in the recycle bin. The blob stays referenced until the row is deleted for good.
CREATE TABLE release_files (
    id               TEXT PRIMARY KEY,
    file_id          TEXT NOT NULL,
    domain_id        TEXT NOT NULL,
    project_id       TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    path             TEXT NOT NULL,
    version          INTEGER NOT NULL,
    sha256           TEXT NOT NULL REFERENCES blobs(sha256),
    size             INTEGER NOT NULL,
    content_type     TEXT NOT NULL,
    category         TEXT NOT NULL,
    build_id         TEXT NOT NULL DEFAULT '',
    build_no         TEXT NOT NULL DEFAULT '',
    build_name       TEXT NOT NULL DEFAULT '',
    build_url        TEXT NOT NULL DEFAULT '',
    repo_url         TEXT NOT NULL DEFAULT '',
    repo_branch      TEXT NOT NULL DEFAULT '',
    commit_id        TEXT NOT NULL DEFAULT '',
    release_version  TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    created_by_name  TEXT NOT NULL,
    deleted_at       INTEGER,
    deleted_by       TEXT,
    UNIQUE (project_id, path, version)
);
CREATE INDEX release_files_sha256 ON release_files(sha256);
CREATE INDEX release_files_domain ON release_files(domain_id, project_id);
CREATE INDEX release_files_file ON release_files(file_id);

-- Per-project retention (show_auto_delete_job_settings): days are counted from upload (to the bin) and
-- from deletion (out of the bin for good). `skip_paths` is a JSON array of folders never moved to the bin.
CREATE TABLE release_retention (
    project_id              TEXT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    domain_id               TEXT NOT NULL,
    is_schedule_to_trash    INTEGER NOT NULL,
    file_expire_time        INTEGER NOT NULL,
    is_schedule_to_delete   INTEGER NOT NULL,
    trash_file_expire_time  INTEGER NOT NULL,
    skip_category           TEXT NOT NULL DEFAULT '',
    skip_paths              TEXT NOT NULL DEFAULT '[]',
    updated_at              INTEGER NOT NULL,
    updated_by              TEXT NOT NULL
);

-- What the retention job removed: one row per version moved to the bin or deleted for good.
CREATE TABLE release_removals (
    id          INTEGER PRIMARY KEY,
    domain_id   TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    path        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    size        INTEGER NOT NULL,
    action      TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX release_removals_project ON release_removals(domain_id, project_id, at);

-- Per-account capacity notices (list_capacity_message_setting). `above`: the last check found the
-- account at or over its threshold, so a notice is recorded once per crossing.
CREATE TABLE capacity_settings (
    domain_id           TEXT PRIMARY KEY REFERENCES domains(id),
    capacity_threshold  INTEGER NOT NULL,
    message_type        INTEGER NOT NULL,
    is_mail_enabled     INTEGER NOT NULL,
    is_sms_enabled      INTEGER NOT NULL,
    total_capacity      INTEGER NOT NULL,
    above               INTEGER NOT NULL DEFAULT 0,
    updated_at          INTEGER NOT NULL
);

CREATE TABLE capacity_notices (
    id          INTEGER PRIMARY KEY,
    domain_id   TEXT NOT NULL,
    used_bytes  INTEGER NOT NULL,
    total_bytes INTEGER NOT NULL,
    threshold   INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX capacity_notices_domain ON capacity_notices(domain_id, at);
