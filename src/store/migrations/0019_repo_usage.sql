-- Issue 15: the live files and bytes of each repository, kept by triggers in the writing transaction. The
-- repository list and the statistics summed every live file of the account per request: under uploads the
-- sum grew with every file, and a list took longer the more was uploaded.
CREATE TABLE repo_usage (
    repo_id  TEXT PRIMARY KEY,
    files    INTEGER NOT NULL,
    bytes    INTEGER NOT NULL
);
INSERT INTO repo_usage (repo_id, files, bytes)
    SELECT repo_id, count(*), coalesce(sum(size), 0) FROM files WHERE deleted_at IS NULL GROUP BY repo_id;

CREATE TRIGGER files_usage_insert AFTER INSERT ON files WHEN NEW.deleted_at IS NULL
BEGIN
    INSERT INTO repo_usage (repo_id, files, bytes) VALUES (NEW.repo_id, 1, NEW.size)
        ON CONFLICT (repo_id) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes;
END;
-- An UPDATE, not an upsert: the rows a deleted repository's cascade removes must not bring its row back.
CREATE TRIGGER files_usage_delete AFTER DELETE ON files WHEN OLD.deleted_at IS NULL
BEGIN
    UPDATE repo_usage SET files = files - 1, bytes = bytes - OLD.size WHERE repo_id = OLD.repo_id;
END;
CREATE TRIGGER files_usage_update AFTER UPDATE OF repo_id, size, deleted_at ON files
    WHEN OLD.repo_id <> NEW.repo_id OR OLD.size <> NEW.size
      OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL)
BEGIN
    UPDATE repo_usage SET files = files - 1, bytes = bytes - OLD.size
        WHERE OLD.deleted_at IS NULL AND repo_id = OLD.repo_id;
    INSERT INTO repo_usage (repo_id, files, bytes) SELECT NEW.repo_id, 1, NEW.size WHERE NEW.deleted_at IS NULL
        ON CONFLICT (repo_id) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes;
END;
CREATE TRIGGER repositories_usage_delete AFTER DELETE ON repositories
BEGIN
    DELETE FROM repo_usage WHERE repo_id = OLD.id;
END;
