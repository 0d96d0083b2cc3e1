-- Identity plane: domains, users, groups, keys, tokens, IAM projects and identity policies.
CREATE TABLE domains (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    domain_id       TEXT NOT NULL REFERENCES domains(id),
    name            TEXT NOT NULL,
    password_hash   TEXT,
    is_root         INTEGER NOT NULL DEFAULT 0,
    enabled         INTEGER NOT NULL DEFAULT 1,
    email           TEXT,
    phone           TEXT,
    description     TEXT,
    created_at      INTEGER NOT NULL,
    modified_at     INTEGER NOT NULL,
    created_by      TEXT NOT NULL,
    modified_by     TEXT NOT NULL,
    UNIQUE (domain_id, name)
);

CREATE TABLE user_groups (
    id          TEXT PRIMARY KEY,
    domain_id   TEXT NOT NULL REFERENCES domains(id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (domain_id, name)
);

CREATE TABLE group_members (
    group_id    TEXT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members(user_id);

CREATE TABLE access_keys (
    access_key  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_enc  BLOB NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX access_keys_user ON access_keys(user_id);

CREATE TABLE tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    project_id  TEXT,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE TABLE iam_projects (
    id          TEXT PRIMARY KEY,
    domain_id   TEXT NOT NULL REFERENCES domains(id),
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    UNIQUE (domain_id, name)
);

CREATE TABLE policies (
    id            TEXT PRIMARY KEY,
    domain_id     TEXT NOT NULL REFERENCES domains(id),
    name          TEXT NOT NULL,
    display_name  TEXT NOT NULL,
    policy_type   TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    document      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE group_policies (
    group_id    TEXT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
    policy_id   TEXT NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, policy_id)
);

-- Tickets: only the SHA-256 of the issued string is kept; it doubles as the public id.
CREATE TABLE tickets (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    iam_project_id  TEXT NOT NULL REFERENCES iam_projects(id),
    embed_id        TEXT NOT NULL DEFAULT '',
    issued_at       INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    left_num        INTEGER NOT NULL,
    revoked         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tickets_project ON tickets(iam_project_id, expires_at);

-- CodeArts (ProjectMan) projects, their members and the privilege grants of roles in them.
CREATE TABLE projects (
    id            TEXT PRIMARY KEY,
    domain_id     TEXT NOT NULL REFERENCES domains(id),
    name          TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    project_type  TEXT NOT NULL,
    creator_id    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (domain_id, name)
);

CREATE TABLE project_members (
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role_id     INTEGER NOT NULL,
    joined_at   INTEGER NOT NULL,
    PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_user ON project_members(user_id);

CREATE TABLE roles (
    id            TEXT PRIMARY KEY,
    project_id    TEXT REFERENCES projects(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    chinese_name  TEXT NOT NULL,
    operations    INTEGER NOT NULL
);

CREATE TABLE role_grants (
    id                      INTEGER PRIMARY KEY,
    role_id                 TEXT NOT NULL,
    project_id              TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    area_service_id         TEXT NOT NULL,
    granted_object_path     TEXT NOT NULL,
    granted_object_type_id  TEXT NOT NULL,
    operations              INTEGER NOT NULL,
    UNIQUE (role_id, project_id, granted_object_path)
);
