-- Issue 15: the name-collision check of a cargo publish reads an index, not every version of the
-- repository (see the SQLite migration of the same number).
CREATE INDEX cargo_versions_canonical ON cargo_versions (repo_id, (replace(name, '-', '_')), name);
