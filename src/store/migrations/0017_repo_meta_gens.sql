-- Issue 15: the metadata generation moves out of `repositories` into a table of its own. The generation
-- changes with every upload, and `repositories` is what every request's repository lookup is read from:
-- kept there, each upload made every node's in-memory repository rows (store::cache) read again. The
-- `repositories.meta_gen` column stays, unused.
CREATE TABLE repo_meta_gens (
    repo_id TEXT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    meta_gen INTEGER NOT NULL
);
INSERT INTO repo_meta_gens (repo_id, meta_gen) SELECT id, meta_gen FROM repositories;

DROP TRIGGER files_meta_gen_insert;
DROP TRIGGER files_meta_gen_update;
DROP TRIGGER files_meta_gen_delete;
DROP TRIGGER npm_packages_meta_gen_insert;
DROP TRIGGER npm_packages_meta_gen_update;
DROP TRIGGER npm_packages_meta_gen_delete;
DROP TRIGGER npm_versions_meta_gen_insert;
DROP TRIGGER npm_versions_meta_gen_update;
DROP TRIGGER npm_versions_meta_gen_delete;
DROP TRIGGER pypi_files_meta_gen_insert;
DROP TRIGGER pypi_files_meta_gen_update;
DROP TRIGGER pypi_files_meta_gen_delete;
DROP TRIGGER cargo_versions_meta_gen_insert;
DROP TRIGGER cargo_versions_meta_gen_update;
DROP TRIGGER cargo_versions_meta_gen_delete;

CREATE TRIGGER files_meta_gen_insert AFTER INSERT ON files
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER files_meta_gen_update AFTER UPDATE ON files
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER files_meta_gen_delete AFTER DELETE ON files
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (OLD.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER npm_packages_meta_gen_insert AFTER INSERT ON npm_packages
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER npm_packages_meta_gen_update AFTER UPDATE ON npm_packages
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER npm_packages_meta_gen_delete AFTER DELETE ON npm_packages
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (OLD.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER npm_versions_meta_gen_insert AFTER INSERT ON npm_versions
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER npm_versions_meta_gen_update AFTER UPDATE ON npm_versions
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER npm_versions_meta_gen_delete AFTER DELETE ON npm_versions
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (OLD.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER pypi_files_meta_gen_insert AFTER INSERT ON pypi_files
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER pypi_files_meta_gen_update AFTER UPDATE ON pypi_files
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER pypi_files_meta_gen_delete AFTER DELETE ON pypi_files
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (OLD.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER cargo_versions_meta_gen_insert AFTER INSERT ON cargo_versions
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER cargo_versions_meta_gen_update AFTER UPDATE ON cargo_versions
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (NEW.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
CREATE TRIGGER cargo_versions_meta_gen_delete AFTER DELETE ON cargo_versions
BEGIN INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (OLD.repo_id, 1)
    ON CONFLICT (repo_id) DO UPDATE SET meta_gen = meta_gen + 1; END;
