-- Issue 15: see migrations/0019_repo_usage.sql. Live files and bytes per repository, kept by triggers.
CREATE TABLE repo_usage (
    repo_id  TEXT PRIMARY KEY,
    files    BIGINT NOT NULL,
    bytes    BIGINT NOT NULL
);
INSERT INTO repo_usage (repo_id, files, bytes)
    SELECT repo_id, count(*), coalesce(sum(size), 0) FROM files WHERE deleted_at IS NULL GROUP BY repo_id;

CREATE FUNCTION arca_count_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.deleted_at IS NULL THEN
        -- An UPDATE, not an upsert: a deleted repository's cascade must not bring its row back.
        UPDATE repo_usage SET files = files - 1, bytes = bytes - OLD.size WHERE repo_id = OLD.repo_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.deleted_at IS NULL THEN
        INSERT INTO repo_usage (repo_id, files, bytes) VALUES (NEW.repo_id, 1, NEW.size)
            ON CONFLICT (repo_id) DO UPDATE SET files = repo_usage.files + 1, bytes = repo_usage.bytes + EXCLUDED.bytes;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER files_usage_change AFTER UPDATE OF repo_id, size, deleted_at ON files FOR EACH ROW
    WHEN (OLD.repo_id IS DISTINCT FROM NEW.repo_id OR OLD.size IS DISTINCT FROM NEW.size
          OR (OLD.deleted_at IS NULL) IS DISTINCT FROM (NEW.deleted_at IS NULL))
    EXECUTE FUNCTION arca_count_usage();
CREATE TRIGGER files_usage_insert_delete AFTER INSERT OR DELETE ON files FOR EACH ROW
    EXECUTE FUNCTION arca_count_usage();

CREATE FUNCTION arca_drop_usage() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM repo_usage WHERE repo_id = OLD.id;
    RETURN NULL;
END $$;
CREATE TRIGGER repositories_usage_delete AFTER DELETE ON repositories FOR EACH ROW
    EXECUTE FUNCTION arca_drop_usage();
