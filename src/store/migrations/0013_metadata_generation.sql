-- Issue 15: generated metadata documents (packuments, simple pages, sparse index files, maven-metadata.xml)
-- are kept once built, keyed by their repository's metadata generation. Every change to a row a document is
-- built from bumps the generation in the same transaction, by these triggers, so no path that changes
-- files or package metadata can forget to, and a reader that sees the change can never be served a
-- document built before it.
ALTER TABLE repositories ADD COLUMN meta_gen INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER files_meta_gen_insert AFTER INSERT ON files
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER files_meta_gen_update AFTER UPDATE ON files
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER files_meta_gen_delete AFTER DELETE ON files
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = OLD.repo_id; END;

CREATE TRIGGER npm_packages_meta_gen_insert AFTER INSERT ON npm_packages
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER npm_packages_meta_gen_update AFTER UPDATE ON npm_packages
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER npm_packages_meta_gen_delete AFTER DELETE ON npm_packages
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = OLD.repo_id; END;

CREATE TRIGGER npm_versions_meta_gen_insert AFTER INSERT ON npm_versions
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER npm_versions_meta_gen_update AFTER UPDATE ON npm_versions
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER npm_versions_meta_gen_delete AFTER DELETE ON npm_versions
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = OLD.repo_id; END;

CREATE TRIGGER pypi_files_meta_gen_insert AFTER INSERT ON pypi_files
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER pypi_files_meta_gen_update AFTER UPDATE ON pypi_files
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER pypi_files_meta_gen_delete AFTER DELETE ON pypi_files
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = OLD.repo_id; END;

CREATE TRIGGER cargo_versions_meta_gen_insert AFTER INSERT ON cargo_versions
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER cargo_versions_meta_gen_update AFTER UPDATE ON cargo_versions
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id; END;
CREATE TRIGGER cargo_versions_meta_gen_delete AFTER DELETE ON cargo_versions
BEGIN UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = OLD.repo_id; END;
