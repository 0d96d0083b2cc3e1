-- Fences between uploads and blob collection on nodes that share one blob store (issue 12). An upload
-- leases its digest before its bytes are placed and until its row commits; collection skips leased
-- digests and marks what it is deleting, and an upload waits for such a mark to clear before placing.
CREATE TABLE blob_leases (
    id          TEXT PRIMARY KEY,
    -- The node that took it (its `node.id`): a node restarted after a crash ends its old leases at once.
    holder      TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX blob_leases_sha256 ON blob_leases(sha256);
CREATE TABLE blob_deletions (
    sha256      TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
