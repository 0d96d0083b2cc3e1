-- npm packages: dist-tags per package, a manifest per version. A version is visible while its tarball
-- file is live, so unpublishing (the tarball to the recycle bin) and restoring need no second bookkeeping.

CREATE TABLE npm_packages (
    repo_id      TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    dist_tags    TEXT NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    modified_at  INTEGER NOT NULL,
    PRIMARY KEY (repo_id, name)
);

CREATE TABLE npm_versions (
    id            INTEGER PRIMARY KEY,
    repo_id       TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    manifest      TEXT NOT NULL,            -- the version document as published, `dist` rebuilt when served
    path          TEXT NOT NULL,            -- the tarball's path in `files`
    deprecated    TEXT,
    published_at  INTEGER NOT NULL,
    published_by  TEXT NOT NULL,
    UNIQUE (repo_id, name, version)
);
