-- What the IAM and ProjectMan APIs answer beyond 0001: numeric ids (ProjectMan's user_num_id and
-- project_num_id), IAM user profile fields, sub-projects of a region's IAM project, Chinese policy
-- descriptions and the enterprise project a CodeArts project is bound to.

-- Numeric ids are assigned on insert by a trigger, so every writer of these tables gets them for free
-- (SQLite's migration seeds them from rowid; a PostgreSQL database is empty when this runs). max + 1 is
-- exact because every writing transaction holds the store's advisory lock (conn.rs).
CREATE FUNCTION arca_assign_num_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.num_id IS NULL THEN
        EXECUTE format('SELECT coalesce(max(num_id), 0) + 1 FROM %I', TG_TABLE_NAME) INTO NEW.num_id;
    END IF;
    RETURN NEW;
END;
$$;

ALTER TABLE users ADD COLUMN num_id BIGINT;
CREATE UNIQUE INDEX users_num_id ON users(num_id);
CREATE TRIGGER users_assign_num_id BEFORE INSERT ON users
    FOR EACH ROW EXECUTE FUNCTION arca_assign_num_id();

ALTER TABLE projects ADD COLUMN num_id BIGINT;
CREATE UNIQUE INDEX projects_num_id ON projects(num_id);
CREATE TRIGGER projects_assign_num_id BEFORE INSERT ON projects
    FOR EACH ROW EXECUTE FUNCTION arca_assign_num_id();
ALTER TABLE projects ADD COLUMN enterprise_id TEXT NOT NULL DEFAULT '0';

-- NULL: the project of a region, whose parent is the domain; else the region project it lives under.
ALTER TABLE iam_projects ADD COLUMN parent_id TEXT REFERENCES iam_projects(id);

ALTER TABLE policies ADD COLUMN description_cn TEXT NOT NULL DEFAULT '';

-- IAM user fields of the OS-USER API that the generic users table does not hold. A user without a row
-- has the defaults.
CREATE TABLE user_profiles (
    user_id              TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    access_mode          TEXT NOT NULL DEFAULT 'default',
    areacode             TEXT,
    pwd_status           BOOLEAN NOT NULL DEFAULT FALSE,
    pwd_strength         TEXT,
    xuser_type           TEXT,
    xuser_id             TEXT,
    password_changed_at  BIGINT,
    last_login_at        BIGINT,
    last_project_id      TEXT
);
