-- The audit log (show_audit): one row per recorded change, or refused attempt at one, with who made it,
-- from where and what came of it. Rows are never updated; the retention job deletes old ones.
CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    domain_id      TEXT NOT NULL,
    project_id     TEXT NOT NULL DEFAULT '',
    repo_id        TEXT NOT NULL DEFAULT '',
    repo_name      TEXT NOT NULL DEFAULT '',
    module         TEXT NOT NULL,
    operation      TEXT NOT NULL,
    operator_id    TEXT NOT NULL DEFAULT '',
    operator_name  TEXT NOT NULL DEFAULT '',
    tenant_name    TEXT NOT NULL DEFAULT '',
    ip             TEXT NOT NULL DEFAULT '',
    user_agent     TEXT NOT NULL DEFAULT '',
    info           TEXT NOT NULL DEFAULT '',
    data           TEXT NOT NULL DEFAULT '',
    result         TEXT NOT NULL,
    status         INTEGER NOT NULL,
    reason         TEXT NOT NULL DEFAULT '',
    at_ms          INTEGER NOT NULL
);
CREATE INDEX audit_log_domain_time ON audit_log (domain_id, at_ms, seq);
CREATE INDEX audit_log_time ON audit_log (at_ms);

-- Repositories shared into other projects of their account (create_project_related_repository): members
-- of those projects may read them. A repository's own project is never among them.
CREATE TABLE repo_shares (
    repo_id     TEXT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    project_id  TEXT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    PRIMARY KEY (repo_id, project_id)
);
CREATE INDEX repo_shares_project ON repo_shares (project_id);

-- Offline security scans (list_sec_guard_list): one task per uploaded file, written once its scan is done.
-- Files are scanned in id order, so the highest file_id is where the scanner goes on after a restart. No
-- reference to files: a task outlives the file it scanned.
CREATE TABLE scan_tasks (
    id          TEXT PRIMARY KEY,
    file_id     INTEGER NOT NULL UNIQUE,
    domain_id   TEXT NOT NULL,
    repo_id     TEXT NOT NULL,
    repo_name   TEXT NOT NULL,
    path        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    status      TEXT NOT NULL,
    high        INTEGER NOT NULL,
    medium      INTEGER NOT NULL,
    low         INTEGER NOT NULL,
    findings    TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX scan_tasks_domain_time ON scan_tasks (domain_id, created_at);
