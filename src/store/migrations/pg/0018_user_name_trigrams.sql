-- The repository user list's name filter (`user_name`, any part of a name, any case) as a `LIKE` that a
-- trigram index answers. pg_trgm ships with PostgreSQL (contrib) and is a trusted extension, so the
-- database's owner may create it; where it cannot be had, the filter reads every user of the account, as
-- before, and the migration says so.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX user_name_trigrams ON users USING gin (lower(name) gin_trgm_ops);
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'no trigram index on users.name (%): the user list''s name filter scans the account''s users', SQLERRM;
END $$;
