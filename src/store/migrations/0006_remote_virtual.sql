-- Remote (proxy) and virtual (group) repositories. A repository's kind stays in repositories.repo_type;
-- what only a remote or a virtual one has lives in tables of their own, so hosted rows carry nothing new.

-- How a remote repository reaches its upstream. The password is sealed with the account's secret key,
-- as secret access keys are.
CREATE TABLE remote_settings (
    repo_id                TEXT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    remote_url             TEXT NOT NULL,
    user_name              TEXT NOT NULL DEFAULT '',
    password_sealed        BLOB,
    metadata_max_age_secs  INTEGER NOT NULL,
    not_found_cache_secs   INTEGER NOT NULL
);

-- A virtual repository's members, in the order they are consulted; the deploy target and the
-- dependency-confusion switch.
CREATE TABLE virtual_settings (
    repo_id                  TEXT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    default_deploy_repo_id   TEXT REFERENCES repositories(id) ON DELETE SET NULL,
    hosted_names_hide_remote INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE virtual_members (
    virtual_id  TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    member_id   TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    PRIMARY KEY (virtual_id, position),
    UNIQUE (virtual_id, member_id)
);
CREATE INDEX virtual_members_member ON virtual_members(member_id);

-- What a remote repository learnt of an upstream path: the validators of its last answer (for
-- conditional refreshes) and when it was checked; `missing` marks a remembered 404.
CREATE TABLE remote_paths (
    repo_id        TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    path           TEXT NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    checked_at     INTEGER NOT NULL,
    missing        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (repo_id, path)
);

-- Outbound HTTP proxies of an account (NetProxyModelV5); the default one carries every upstream request.
CREATE TABLE net_proxies (
    id               INTEGER PRIMARY KEY,
    domain_id        TEXT NOT NULL REFERENCES domains(id),
    host_name        TEXT NOT NULL,
    host             TEXT NOT NULL,
    port             INTEGER NOT NULL,
    user_name        TEXT NOT NULL DEFAULT '',
    password_sealed  BLOB,
    is_default       INTEGER NOT NULL DEFAULT 0,
    remark           TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    modified_at      INTEGER NOT NULL,
    modified_by      TEXT NOT NULL
);
CREATE UNIQUE INDEX net_proxies_one_default ON net_proxies(domain_id) WHERE is_default = 1;
