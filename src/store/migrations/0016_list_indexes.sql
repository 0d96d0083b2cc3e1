-- Issue 15: the ticket list and the repository user list at a million rows. Each list's ORDER BY has an
-- index that yields rows in that order, so a page reads its rows and stops (no sort of the whole list), and
-- the totals the answers carry come from counters kept by triggers in the writing transaction, so no page
-- counts a million rows.

-- Tickets that can still be used, one index per sort key the list offers (the id breaks ties, as the
-- list's ORDER BY does). Partial: used-up and revoked tickets are never listed, so they cost no entries.
DROP INDEX tickets_project;
CREATE INDEX tickets_live_expiry ON tickets(iam_project_id, expires_at, id) WHERE left_num > 0 AND NOT revoked;
CREATE INDEX tickets_live_left ON tickets(iam_project_id, left_num, id, expires_at) WHERE left_num > 0 AND NOT revoked;
CREATE INDEX tickets_live_user ON tickets(iam_project_id, user_id, expires_at, id) WHERE left_num > 0 AND NOT revoked;
CREATE INDEX tickets_live_embed ON tickets(iam_project_id, embed_id, expires_at, id) WHERE left_num > 0 AND NOT revoked;
-- Every ticket of a user (ON DELETE CASCADE of a user looks them up).
CREATE INDEX tickets_user ON tickets(user_id);

-- Live tickets (not revoked, uses left) per IAM project: all of them (scope ''), each user's ('user:'
-- and the id) and each embed id's ('embed:' and the id), the filters the list offers. A list's count is
-- the scope's counter less its live tickets already expired, a range of the user or embed index.
CREATE TABLE ticket_counts (
    iam_project_id  TEXT NOT NULL,
    scope           TEXT NOT NULL,
    live            INTEGER NOT NULL,
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
CREATE TRIGGER tickets_count_insert AFTER INSERT ON tickets WHEN NEW.left_num > 0 AND NOT NEW.revoked
BEGIN
    INSERT INTO ticket_counts (iam_project_id, scope, live)
        VALUES (NEW.iam_project_id, '', 1), (NEW.iam_project_id, 'user:' || NEW.user_id, 1),
               (NEW.iam_project_id, 'embed:' || NEW.embed_id, 1)
        ON CONFLICT (iam_project_id, scope) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER tickets_count_delete AFTER DELETE ON tickets WHEN OLD.left_num > 0 AND NOT OLD.revoked
BEGIN
    UPDATE ticket_counts SET live = live - 1 WHERE iam_project_id = OLD.iam_project_id
        AND scope IN ('', 'user:' || OLD.user_id, 'embed:' || OLD.embed_id);
END;
-- A use that leaves uses (the common update) changes no count: the WHEN keeps the trigger from running.
CREATE TRIGGER tickets_count_update AFTER UPDATE ON tickets
    WHEN (OLD.left_num > 0 AND NOT OLD.revoked) <> (NEW.left_num > 0 AND NOT NEW.revoked)
      OR OLD.iam_project_id <> NEW.iam_project_id OR OLD.user_id <> NEW.user_id OR OLD.embed_id <> NEW.embed_id
BEGIN
    UPDATE ticket_counts SET live = live - 1
        WHERE OLD.left_num > 0 AND NOT OLD.revoked AND iam_project_id = OLD.iam_project_id
        AND scope IN ('', 'user:' || OLD.user_id, 'embed:' || OLD.embed_id);
    INSERT INTO ticket_counts (iam_project_id, scope, live)
        SELECT NEW.iam_project_id, s.scope, 1
        FROM (SELECT '' AS scope UNION ALL SELECT 'user:' || NEW.user_id UNION ALL SELECT 'embed:' || NEW.embed_id) s
        WHERE NEW.left_num > 0 AND NOT NEW.revoked
        ON CONFLICT (iam_project_id, scope) DO UPDATE SET live = live + 1;
END;

-- The repository user list pages an account's users by id; its total is the account's user count.
CREATE INDEX users_domain_id ON users(domain_id, id);
CREATE TABLE user_counts (
    domain_id  TEXT PRIMARY KEY,
    users      INTEGER NOT NULL
);
INSERT INTO user_counts (domain_id, users) SELECT domain_id, count(*) FROM users GROUP BY domain_id;
CREATE TRIGGER users_count_insert AFTER INSERT ON users
BEGIN
    INSERT INTO user_counts (domain_id, users) VALUES (NEW.domain_id, 1)
        ON CONFLICT (domain_id) DO UPDATE SET users = users + 1;
END;
CREATE TRIGGER users_count_delete AFTER DELETE ON users
BEGIN
    UPDATE user_counts SET users = users - 1 WHERE domain_id = OLD.domain_id;
END;
