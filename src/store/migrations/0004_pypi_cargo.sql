-- Package metadata of PyPI and Cargo repositories, kept beside the files they describe so indexes are
-- answered from the database. Each row names its file's path in `files`: a row whose file is in the
-- recycle bin (or gone) is hidden by joining with the live files.

CREATE TABLE pypi_files (
    id              INTEGER PRIMARY KEY,
    repo_id         TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    project         TEXT NOT NULL,          -- PEP 503 normalised
    display_name    TEXT NOT NULL,          -- as the uploader spelled it
    version         TEXT NOT NULL,
    filename        TEXT NOT NULL,
    path            TEXT NOT NULL,
    packagetype     TEXT NOT NULL,
    requires_python TEXT NOT NULL DEFAULT '',
    metadata_path   TEXT,                   -- PEP 658 core metadata, for wheels
    yanked          INTEGER NOT NULL DEFAULT 0,
    yanked_reason   TEXT NOT NULL DEFAULT '',
    uploaded_at     INTEGER NOT NULL,
    uploaded_by     TEXT NOT NULL,
    UNIQUE (repo_id, filename)
);
CREATE INDEX pypi_files_project ON pypi_files(repo_id, project);

CREATE TABLE cargo_versions (
    id            INTEGER PRIMARY KEY,
    repo_id       TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,            -- lowercase: the index key
    vers          TEXT NOT NULL,
    index_line    TEXT NOT NULL,            -- the sparse index entry, `yanked` filled in when served
    path          TEXT NOT NULL,
    yanked        INTEGER NOT NULL DEFAULT 0,
    published_at  INTEGER NOT NULL,
    published_by  TEXT NOT NULL,
    UNIQUE (repo_id, name, vers)
);

CREATE TABLE cargo_owners (
    repo_id  TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name     TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    PRIMARY KEY (repo_id, name, user_id)
);
