-- Issue 15: see migrations/0017_repo_meta_gens.sql. The one trigger function now counts in the table of
-- its own.
CREATE TABLE repo_meta_gens (
    repo_id TEXT PRIMARY KEY REFERENCES repositories(id) ON DELETE CASCADE,
    meta_gen BIGINT NOT NULL
);
INSERT INTO repo_meta_gens (repo_id, meta_gen) SELECT id, meta_gen FROM repositories;

CREATE OR REPLACE FUNCTION arca_bump_meta_gen() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        target := OLD.repo_id;
    ELSE
        target := NEW.repo_id;
    END IF;
    INSERT INTO repo_meta_gens (repo_id, meta_gen) VALUES (target, 1)
        ON CONFLICT (repo_id) DO UPDATE SET meta_gen = repo_meta_gens.meta_gen + 1;
    RETURN NULL;
END $$;
