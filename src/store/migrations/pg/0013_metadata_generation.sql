-- Issue 15: see migrations/0013_metadata_generation.sql. One trigger function for every table a generated
-- metadata document is built from; it bumps the row's repository's generation in the changing transaction.
ALTER TABLE repositories ADD COLUMN meta_gen BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION arca_bump_meta_gen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = OLD.repo_id;
    ELSE
        UPDATE repositories SET meta_gen = meta_gen + 1 WHERE id = NEW.repo_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER files_meta_gen AFTER INSERT OR UPDATE OR DELETE ON files
    FOR EACH ROW EXECUTE FUNCTION arca_bump_meta_gen();
CREATE TRIGGER npm_packages_meta_gen AFTER INSERT OR UPDATE OR DELETE ON npm_packages
    FOR EACH ROW EXECUTE FUNCTION arca_bump_meta_gen();
CREATE TRIGGER npm_versions_meta_gen AFTER INSERT OR UPDATE OR DELETE ON npm_versions
    FOR EACH ROW EXECUTE FUNCTION arca_bump_meta_gen();
CREATE TRIGGER pypi_files_meta_gen AFTER INSERT OR UPDATE OR DELETE ON pypi_files
    FOR EACH ROW EXECUTE FUNCTION arca_bump_meta_gen();
CREATE TRIGGER cargo_versions_meta_gen AFTER INSERT OR UPDATE OR DELETE ON cargo_versions
    FOR EACH ROW EXECUTE FUNCTION arca_bump_meta_gen();
