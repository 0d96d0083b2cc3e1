-- Issue 15: see migrations/0016_list_indexes.sql. Counters kept by triggers in the writing transaction,
-- indexes in the order of each list's ORDER BY.
DROP INDEX tickets_project;
CREATE INDEX tickets_live_expiry ON tickets(iam_project_id, expires_at, id) WHERE left_num > 0 AND NOT revoked;
CREATE INDEX tickets_live_left ON tickets(iam_project_id, left_num, id, expires_at) WHERE left_num > 0 AND NOT revoked;
CREATE INDEX tickets_live_user ON tickets(iam_project_id, user_id, expires_at, id) WHERE left_num > 0 AND NOT revoked;
CREATE INDEX tickets_live_embed ON tickets(iam_project_id, embed_id, expires_at, id) WHERE left_num > 0 AND NOT revoked;
CREATE INDEX tickets_user ON tickets(user_id);

CREATE TABLE ticket_counts (
    iam_project_id  TEXT NOT NULL,
    scope           TEXT NOT NULL,
    live            BIGINT NOT NULL,
    PRIMARY KEY (iam_project_id, scope)
);
INSERT INTO ticket_counts (iam_project_id, scope, live)
    SELECT iam_project_id, '', count(*) FROM tickets WHERE left_num > 0 AND NOT revoked GROUP BY iam_project_id;
INSERT INTO ticket_counts (iam_project_id, scope, live)
    SELECT iam_project_id, 'user:' || user_id, count(*) FROM tickets WHERE left_num > 0 AND NOT revoked
    GROUP BY iam_project_id, user_id;
INSERT INTO ticket_counts (iam_project_id, scope, live)
    SELECT iam_project_id, 'embed:' || embed_id, count(*) FROM tickets WHERE left_num > 0 AND NOT revoked
    GROUP BY iam_project_id, embed_id;

CREATE FUNCTION arca_count_tickets() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.left_num > 0 AND NOT OLD.revoked THEN
        UPDATE ticket_counts SET live = live - 1 WHERE iam_project_id = OLD.iam_project_id
            AND scope IN ('', 'user:' || OLD.user_id, 'embed:' || OLD.embed_id);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.left_num > 0 AND NOT NEW.revoked THEN
        INSERT INTO ticket_counts (iam_project_id, scope, live)
            VALUES (NEW.iam_project_id, '', 1), (NEW.iam_project_id, 'user:' || NEW.user_id, 1),
                   (NEW.iam_project_id, 'embed:' || NEW.embed_id, 1)
            ON CONFLICT (iam_project_id, scope) DO UPDATE SET live = ticket_counts.live + 1;
    END IF;
    RETURN NULL;
END $$;
-- A use that leaves uses (the common update) changes no count: the WHEN keeps it from running at all.
CREATE TRIGGER tickets_count_change AFTER UPDATE ON tickets FOR EACH ROW
    WHEN ((OLD.left_num > 0 AND NOT OLD.revoked) IS DISTINCT FROM (NEW.left_num > 0 AND NOT NEW.revoked)
          OR OLD.iam_project_id IS DISTINCT FROM NEW.iam_project_id OR OLD.user_id IS DISTINCT FROM NEW.user_id
          OR OLD.embed_id IS DISTINCT FROM NEW.embed_id)
    EXECUTE FUNCTION arca_count_tickets();
CREATE TRIGGER tickets_count_insert_delete AFTER INSERT OR DELETE ON tickets FOR EACH ROW
    EXECUTE FUNCTION arca_count_tickets();

CREATE INDEX users_domain_id ON users(domain_id, id);
CREATE TABLE user_counts (
    domain_id  TEXT PRIMARY KEY,
    users      BIGINT NOT NULL
);
INSERT INTO user_counts (domain_id, users) SELECT domain_id, count(*) FROM users GROUP BY domain_id;
CREATE FUNCTION arca_count_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE user_counts SET users = users - 1 WHERE domain_id = OLD.domain_id;
    ELSE
        INSERT INTO user_counts (domain_id, users) VALUES (NEW.domain_id, 1)
            ON CONFLICT (domain_id) DO UPDATE SET users = user_counts.users + 1;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_count AFTER INSERT OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION arca_count_users();
