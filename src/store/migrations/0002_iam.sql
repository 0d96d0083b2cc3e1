-- What the IAM and ProjectMan APIs answer beyond 0001: numeric ids (ProjectMan's user_num_id and
-- project_num_id), IAM user profile fields, sub-projects of a region's IAM project, Chinese policy
-- descriptions and the enterprise project a CodeArts project is bound to.

-- Numeric ids are assigned on insert by triggers, so every writer of these tables gets them for free.
ALTER TABLE users ADD COLUMN num_id INTEGER;
UPDATE users SET num_id = rowid;
CREATE UNIQUE INDEX users_num_id ON users(num_id);
CREATE TRIGGER users_assign_num_id AFTER INSERT ON users WHEN NEW.num_id IS NULL
BEGIN
    UPDATE users SET num_id = (SELECT coalesce(max(num_id), 0) + 1 FROM users) WHERE id = NEW.id;
END;

ALTER TABLE projects ADD COLUMN num_id INTEGER;
UPDATE projects SET num_id = rowid;
CREATE UNIQUE INDEX projects_num_id ON projects(num_id);
CREATE TRIGGER projects_assign_num_id AFTER INSERT ON projects WHEN NEW.num_id IS NULL
BEGIN
    UPDATE projects SET num_id = (SELECT coalesce(max(num_id), 0) + 1 FROM projects) WHERE id = NEW.id;
END;
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
    pwd_status           INTEGER NOT NULL DEFAULT 0,
    pwd_strength         TEXT,
    xuser_type           TEXT,
    xuser_id             TEXT,
    password_changed_at  INTEGER,
    last_login_at        INTEGER,
    last_project_id      TEXT
);
