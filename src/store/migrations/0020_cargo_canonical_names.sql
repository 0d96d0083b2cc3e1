-- Issue 15: a cargo publish looks for another crate of the repository whose name is the same once `-` and
-- `_` are taken as one (crates.io's rule). Without an index on that form each publish read every version
-- of every crate in the repository, and publishing slowed as the repository grew. The name is in the index
-- too: without statistics SQLite prefers a covering index, and the unique one covers (repo_id) alone.
CREATE INDEX cargo_versions_canonical ON cargo_versions(repo_id, replace(name, '-', '_'), name);
