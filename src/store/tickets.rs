//! Tickets (SPEC §4). The row id is the SHA-256 of the issued ticket string, so the secret itself is
//! never stored and the id can be shown in lists.

use crate::params;
use crate::store::{Conn, Row};

use super::StoreResult;

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub id: String,
    pub user_id: String,
    pub iam_project_id: String,
    pub embed_id: String,
    pub issued_at: i64,
    pub expires_at: i64,
    pub left_num: i64,
}

/// A ticket joined with what the list shows of its user.
#[derive(Debug, Clone)]
pub struct TicketView {
    pub id: String,
    pub user_id: String,
    pub user_name: String,
    pub user_type: String,
    pub iam_project_id: String,
    pub embed_id: String,
    pub expires_at: i64,
    pub left_num: i64,
    pub group_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    ExpireTime,
    LeftNum,
    UserName,
    UserId,
    EmbedId,
}

impl SortKey {
    pub fn parse(s: &str) -> Option<SortKey> {
        Some(match s {
            "expire_time" => SortKey::ExpireTime,
            "left_num" => SortKey::LeftNum,
            "user_name" => SortKey::UserName,
            "user_id" => SortKey::UserId,
            "embed_id" => SortKey::EmbedId,
            _ => return None,
        })
    }

    /// The ORDER BY columns before the id that breaks ties, in the order of the key's index (a user's or
    /// a scope's tickets follow by expiry, as `tickets_live_user` and `tickets_live_embed` hold them).
    fn columns(self) -> &'static [&'static str] {
        match self {
            SortKey::ExpireTime => &["t.expires_at"],
            SortKey::LeftNum => &["t.left_num"],
            // Names are unique per account: the account's name index, then each user's tickets in the
            // order of `tickets_live_user`, needs no sort of the project's tickets.
            SortKey::UserName => &["u.name", "t.user_id", "t.expires_at"],
            SortKey::UserId => &["t.user_id", "t.expires_at"],
            SortKey::EmbedId => &["t.embed_id", "t.expires_at"],
        }
    }
}

/// Order and window of a ticket list.
#[derive(Debug, Clone, Copy)]
pub struct TicketPage {
    pub sort: SortKey,
    pub descending: bool,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Default)]
pub struct TicketFilter {
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub user_type: Option<String>,
    pub embed_id: Option<String>,
    /// Restricts the list to one user's tickets (callers without the list permission).
    pub only_user: Option<String>,
}

const USER_TYPE_SQL: &str = "CASE WHEN u.is_root THEN 'root' ELSE 'IAM' END";

pub fn insert(conn: &Conn, t: &NewTicket) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO tickets (id, user_id, iam_project_id, embed_id, issued_at, expires_at, left_num) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![t.id, t.user_id, t.iam_project_id, t.embed_id, t.issued_at, t.expires_at, t.left_num],
    )?;
    Ok(())
}

/// Uses wanted of one ticket under one login name, taken together by [`consume_many`].
#[derive(Debug)]
pub struct WantedUses {
    pub id: String,
    pub name: Option<String>,
    pub count: usize,
    /// Uses to take beyond `count` for the node to hand out later without asking (SQLite only,
    /// `service::ticket_uses`); taken only while at least three times as many would stay in the row.
    pub ahead: i64,
}

/// What a [`WantedUses`] was granted: how many uses (at most those wanted, never more than were left), and
/// whose ticket it is.
#[derive(Debug, Clone)]
pub struct GrantedUses {
    pub granted: usize,
    /// Uses taken beyond those granted (0 or the `ahead` asked for).
    pub ahead: i64,
    pub user: crate::store::identity::User,
    pub embed_id: String,
    pub expires_at: i64,
    /// The ticket's rowid (SQLite; `None` on PostgreSQL).
    pub row: Option<i64>,
}

/// Takes the uses of several tickets in one transaction, so that a burst of requests on the same
/// tickets costs one commit rather than one each. First gives back the unused uses `returned` names (uses
/// a node took ahead and can no longer hand out). A group that fits in the uses left takes them in one
/// statement, with those it asks to take ahead when the row keeps at least three times as many; one that
/// does not (the ticket runs out in it, or is refused) falls back to one use at a time, so exactly as many
/// are granted as were left. A use is taken only from a valid ticket of an enabled
/// user; `name`, when given (a Basic login), must be the user's name or repo user name
/// (`<domain_id>_<user_id>`), checked in the statement that takes the use, so a login naming someone else
/// takes none.
pub fn consume_many(
    conn: &mut Conn,
    wanted: &[WantedUses],
    returned: &[(String, i64)],
    now: i64,
) -> StoreResult<Vec<Option<GrantedUses>>> {
    // ?5: uses that must stay in the row after the take (0 when nothing is taken ahead).
    const TAKE_N: &str = "UPDATE tickets SET left_num = left_num - ?4 \
             WHERE id = ?1 AND left_num - ?4 >= ?5 AND expires_at > ?2 AND NOT revoked \
             AND EXISTS (SELECT 1 FROM users u WHERE u.id = tickets.user_id AND u.enabled \
                 AND (CAST(?3 AS TEXT) IS NULL OR u.name = ?3 OR u.domain_id || '_' || u.id = ?3)) \
             RETURNING user_id, embed_id, expires_at, ";
    let take_sql = if conn.is_postgres() {
        format!("{TAKE_N}CAST(NULL AS BIGINT)")
    } else {
        format!("{TAKE_N}rowid")
    };
    let tx = conn.transaction()?;
    for (id, unused) in returned {
        tx.execute(
            "UPDATE tickets SET left_num = left_num + ?2 WHERE id = ?1",
            params![id, unused],
        )?;
    }
    let mut answers = Vec::with_capacity(wanted.len());
    for want in wanted {
        let take = |n: i64, keep: i64| {
            tx.query_opt(&take_sql, params![want.id, now, want.name, n, keep], |r| {
                Ok((
                    r.get::<String>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<Option<i64>>(3)?,
                ))
            })
        };
        let mut granted = 0;
        let mut ahead = 0;
        let mut owner = None;
        if want.ahead > 0 {
            if let Some(row) = take(want.count as i64 + want.ahead, 3 * want.ahead)? {
                (granted, ahead, owner) = (want.count, want.ahead, Some(row));
            }
        }
        if want.count > 1 && owner.is_none() {
            if let Some(row) = take(want.count as i64, 0)? {
                granted = want.count;
                owner = Some(row);
            }
        }
        while granted < want.count {
            match take(1, 0)? {
                Some(row) => {
                    granted += 1;
                    owner = Some(row);
                }
                None => break,
            }
        }
        let answer = match owner {
            Some((user_id, embed_id, expires_at, row)) => {
                crate::store::identity::get_user(&tx, &user_id)?.map(|user| GrantedUses {
                    granted,
                    ahead,
                    user,
                    embed_id,
                    expires_at,
                    row,
                })
            }
            None => None,
        };
        answers.push(answer);
    }
    tx.commit()?;
    Ok(answers)
}

pub fn revoke(conn: &Conn, id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "UPDATE tickets SET revoked = TRUE WHERE id = ?1 AND NOT revoked",
        params![id],
    )? > 0)
}

fn view_from_row(r: &Row<'_>) -> StoreResult<TicketView> {
    let groups: Option<String> = r.get(8)?;
    Ok(TicketView {
        id: r.get(0)?,
        user_id: r.get(1)?,
        user_name: r.get(2)?,
        user_type: r.get(3)?,
        iam_project_id: r.get(4)?,
        embed_id: r.get(5)?,
        expires_at: r.get(6)?,
        left_num: r.get(7)?,
        group_ids: groups
            .map(|g| g.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
    })
}

const VIEW_COLUMNS: &str = "SELECT t.id, t.user_id, u.name, CASE WHEN u.is_root THEN 'root' ELSE 'IAM' END, \
     t.iam_project_id, t.embed_id, t.expires_at, t.left_num, \
     (SELECT string_agg(group_id, ',') FROM (SELECT group_id FROM group_members gm WHERE gm.user_id = t.user_id ORDER BY group_id) g)";

const TICKETS_AND_USERS: &str = "tickets t JOIN users u ON u.id = t.user_id";

pub fn get_valid(conn: &Conn, id: &str, now: i64) -> StoreResult<Option<TicketView>> {
    conn
        .query_opt(
            &format!("{VIEW_COLUMNS} FROM {TICKETS_AND_USERS} WHERE t.id = ?1 AND t.left_num > 0 AND t.expires_at > ?2 AND NOT t.revoked"),
            params![id, now],
            view_from_row,
        )
}

/// Valid tickets of an IAM project: `(count before paging, page)`.
///
/// Only the filters given become conditions (an `?n IS NULL OR …` term would keep the planner from the
/// indexes), so each sort order reads the rows of its index of migration 0016 in order and stops at the
/// page. Without filters the count is the project's live-ticket counter less the live tickets already
/// expired, a range of the expiry index; with a filter it counts that filter's index range.
pub fn list_valid(
    conn: &Conn,
    iam_project_id: &str,
    filter: &TicketFilter,
    now: i64,
    page: &TicketPage,
) -> StoreResult<(i64, Vec<TicketView>)> {
    let TicketPage {
        sort,
        descending,
        limit,
        offset,
    } = *page;
    let project = iam_project_id.to_string();
    let (conditions, args) = list_conditions(&project, filter, &now);
    let count = match counted_scope(conn, iam_project_id, filter)? {
        Some(CountedScope::Nobody) => 0,
        Some(CountedScope::Counter {
            scope,
            key,
            expired,
        }) => {
            let live: Option<i64> = conn.query_opt(
                "SELECT live FROM ticket_counts WHERE iam_project_id = ?1 AND scope = ?2",
                params![iam_project_id, scope],
                |r| r.get(0),
            )?;
            let expired: i64 = conn.query_row(
                &format!("{EXPIRED_LIVE_COUNT} {expired}"),
                params![iam_project_id, now, key],
                |r| r.get(0),
            )?;
            live.unwrap_or(0) - expired
        }
        None => conn.query_row(
            &format!(
                "SELECT count(*) FROM tickets t JOIN users u ON u.id = t.user_id WHERE {}",
                conditions.join(" AND ")
            ),
            &args,
            |r| r.get(0),
        )?,
    };
    let rows = conn.query_map(
        &page_sql(
            &conditions,
            filter.user_type.is_some(),
            sort,
            descending,
            limit,
            offset,
        ),
        &args,
        view_from_row,
    )?;
    Ok((count, rows))
}

/// The page's ids are found first, from the sort key's index alone where the conditions allow (no user
/// condition, no sort by name), and only the page's own rows are read whole with their user and groups:
/// joining each skipped row's user read its table row first, a random page read per row in an order
/// other than the table's (6 ms a page sorted by uses left at offset 1,000 of a million tickets).
fn page_sql(
    conditions: &[String],
    user_condition: bool,
    sort: SortKey,
    descending: bool,
    limit: i64,
    offset: i64,
) -> String {
    let dir = if descending { "DESC" } else { "ASC" };
    let order: String = sort
        .columns()
        .iter()
        .map(|c| format!("{c} {dir}, "))
        .collect();
    // Without statistics to go by, SQLite prefers any index with a range condition (the expiry or
    // the uses left) and sorts; a range that holds for every row on the sort key's own column makes its
    // index, which needs no sort, the equal choice it then takes.
    let ordering_range = match sort {
        SortKey::UserId if conditions.len() == BASE_CONDITIONS => " AND t.user_id >= ''",
        SortKey::EmbedId if conditions.len() == BASE_CONDITIONS => " AND t.embed_id >= ''",
        _ => "",
    };
    let (from, account) = match sort {
        // Bounded to the account, the walk of users by name reads the account's name index in order.
        SortKey::UserName => (
            TICKETS_AND_USERS,
            " AND u.domain_id = (SELECT p.domain_id FROM iam_projects p WHERE p.id = ?1)",
        ),
        _ if user_condition => (TICKETS_AND_USERS, ""),
        _ => ("tickets t", ""),
    };
    format!(
        "{VIEW_COLUMNS} FROM (SELECT t.id FROM {from} WHERE {}{ordering_range}{account} \
         ORDER BY {order}t.id {dir} LIMIT {limit} OFFSET {offset}) page \
         JOIN tickets t ON t.id = page.id JOIN users u ON u.id = t.user_id ORDER BY {order}t.id {dir}",
        conditions.join(" AND "),
    )
}

/// How a list's count is read: a counter of migration 0016, or (None) by counting the filtered range.
enum CountedScope {
    /// The `ticket_counts` scope, and the condition its expired tickets meet (on `?3`, the `key`: the
    /// user or embed id).
    Counter {
        scope: String,
        key: String,
        expired: &'static str,
    },
    /// A user name no user of the account has.
    Nobody,
}

/// The counter that answers a list's count: the whole project's, or one user's or one embed id's when
/// that is the only filter.
fn counted_scope(
    conn: &Conn,
    iam_project_id: &str,
    filter: &TicketFilter,
) -> StoreResult<Option<CountedScope>> {
    const USER: &str = "AND t.user_id = ?3";
    const EMBED: &str = "AND t.embed_id = ?3";
    let TicketFilter {
        user_id,
        user_name,
        user_type,
        embed_id,
        only_user,
    } = filter;
    let counter = |scope: &str, key: &str, expired| {
        Some(CountedScope::Counter {
            scope: format!("{scope}{key}"),
            key: key.to_string(),
            expired,
        })
    };
    Ok(match (user_id, user_name, user_type, embed_id, only_user) {
        (None, None, None, None, None) => counter("", "", "AND CAST(?3 AS TEXT) = ''"),
        (Some(user), None, None, None, None) | (None, None, None, None, Some(user)) => {
            counter("user:", user, USER)
        }
        (None, None, None, Some(embed), None) => counter("embed:", embed, EMBED),
        (None, Some(name), None, None, None) => {
            let user: Option<String> = conn.query_opt(
                "SELECT n.id FROM users n WHERE n.name = ?2 \
                 AND n.domain_id = (SELECT p.domain_id FROM iam_projects p WHERE p.id = ?1)",
                params![iam_project_id, name],
                |r| r.get(0),
            )?;
            match user {
                Some(user) => counter("user:", &user, USER),
                None => Some(CountedScope::Nobody),
            }
        }
        _ => None,
    })
}

/// Live tickets past their expiry. Bounded on both sides so that SQLite, without statistics, prefers
/// this range of the expiry index to the uses-left index's `left_num > 0`.
const EXPIRED_LIVE_COUNT: &str = "SELECT count(*) FROM tickets t WHERE t.iam_project_id = ?1 \
     AND t.expires_at >= 0 AND t.expires_at <= ?2 AND t.left_num > 0 AND NOT t.revoked";

/// The conditions every list has: the project, and tickets that can still be used.
const BASE_CONDITIONS: usize = 4;

/// The WHERE terms of a ticket list and their arguments, numbered in order.
pub(crate) fn list_conditions<'a>(
    iam_project_id: &'a String,
    filter: &'a TicketFilter,
    now: &'a i64,
) -> (Vec<String>, Vec<&'a dyn crate::store::Param>) {
    let mut conditions = vec![
        "t.iam_project_id = ?1".to_string(),
        "t.expires_at > ?2".to_string(),
        "t.left_num > 0".to_string(),
        "NOT t.revoked".to_string(),
    ];
    let mut args: Vec<&dyn crate::store::Param> = vec![iam_project_id, now];
    let mut add = |term: &str, value: &'a Option<String>| {
        if let Some(v) = value {
            args.push(v);
            conditions.push(term.replace('#', &format!("?{}", args.len())));
        }
    };
    add("t.user_id = #", &filter.user_id);
    add("t.user_id = #", &filter.only_user);
    add("t.embed_id = #", &filter.embed_id);
    // Names are unique per account: the account's name index finds the one user.
    add(
        "t.user_id = (SELECT n.id FROM users n WHERE n.name = # \
         AND n.domain_id = (SELECT p.domain_id FROM iam_projects p WHERE p.id = ?1))",
        &filter.user_name,
    );
    add(
        &format!("lower({USER_TYPE_SQL}) = lower(#)"),
        &filter.user_type,
    );
    (conditions, args)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::identity::{
        insert_domain, insert_iam_project, insert_user, Domain, IamProject, User,
    };
    use crate::store::test_db;

    /// One use, as one request takes it: the ticket's `(user_id, embed_id)` when it was granted.
    fn consume(
        conn: &mut Conn,
        id: &str,
        now: i64,
        name: Option<&str>,
    ) -> StoreResult<Option<(String, String)>> {
        let wanted = WantedUses {
            id: id.to_string(),
            name: name.map(str::to_string),
            count: 1,
            ahead: 0,
        };
        let granted = consume_many(conn, &[wanted], &[], now)?.pop().flatten();
        Ok(granted.map(|g| (g.user.id, g.embed_id)))
    }

    pub(crate) fn seed(conn: &Conn) {
        insert_domain(
            conn,
            &Domain {
                id: "d".into(),
                name: "dom".into(),
            },
            0,
        )
        .unwrap();
        for (id, name) in [("u1", "alice"), ("u2", "bob")] {
            insert_user(
                conn,
                &User {
                    id: id.into(),
                    domain_id: "d".into(),
                    name: name.into(),
                    password_hash: None,
                    is_root: false,
                    enabled: true,
                    email: None,
                    phone: None,
                    description: None,
                    created_at: 0,
                    modified_at: 0,
                    created_by: id.into(),
                    modified_by: id.into(),
                },
            )
            .unwrap();
        }
        insert_iam_project(
            conn,
            &IamProject {
                id: "p".into(),
                domain_id: "d".into(),
                name: "local-1".into(),
                description: String::new(),
            },
        )
        .unwrap();
    }

    pub(crate) fn ticket(id: &str, user: &str, expires_at: i64, left_num: i64) -> NewTicket {
        NewTicket {
            id: id.into(),
            user_id: user.into(),
            iam_project_id: "p".into(),
            embed_id: String::new(),
            issued_at: 0,
            expires_at,
            left_num,
        }
    }

    #[test]
    fn consume_never_overdraws_and_respects_expiry_and_revocation() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            seed(conn);
            insert(conn, &ticket("t1", "u1", 1000, 2))?;
            insert(conn, &ticket("t2", "u1", 1000, 5))?;
            assert!(consume(conn, "t1", 10, None)?.is_some());
            assert!(consume(conn, "t1", 10, None)?.is_some());
            assert!(consume(conn, "t1", 10, None)?.is_none());
            assert!(
                consume(conn, "t2", 1000, None)?.is_none(),
                "expired at its expiry instant"
            );
            assert!(revoke(conn, "t2")?);
            assert!(consume(conn, "t2", 10, None)?.is_none());
            assert!(consume(conn, "missing", 10, None)?.is_none());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn many_uses_at_once_are_granted_up_to_what_is_left() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            seed(conn);
            insert(conn, &ticket("t", "u1", 1000, 5))?;
            let want = |name: Option<&str>, count| WantedUses {
                id: "t".into(),
                name: name.map(str::to_string),
                count,
                ahead: 0,
            };
            let granted = consume_many(
                conn,
                &[want(None, 2), want(Some("bob"), 3), want(Some("alice"), 4)],
                &[],
                10,
            )?;
            let counts: Vec<usize> = granted
                .iter()
                .map(|g| g.as_ref().map_or(0, |g| g.granted))
                .collect();
            assert_eq!(
                counts,
                [2, 0, 3],
                "bob's login takes none; alice gets the 3 left of 4"
            );
            assert_eq!(granted[0].as_ref().unwrap().user.name, "alice");
            assert!(consume_many(conn, &[want(None, 1)], &[], 10)?[0].is_none());
            Ok(())
        })
        .unwrap();
    }

    /// Uses taken ahead come out of the row only while three times as many stay in it, and given-back
    /// uses return to it.
    #[test]
    fn uses_are_taken_ahead_only_from_plenty_and_come_back() {
        for (_guard, db) in crate::store::test_backends() {
            uses_taken_ahead(&db);
        }
    }

    fn uses_taken_ahead(db: &crate::store::Db) {
        db.blocking(|conn| {
            seed(conn);
            insert(conn, &ticket("t", "u1", 1000, 300))?;
            let left = |conn: &mut Conn| {
                conn.query_row(
                    "SELECT left_num FROM tickets WHERE id = 't'",
                    params![],
                    |r| r.get::<i64>(0),
                )
            };
            let want = |count, ahead| WantedUses {
                id: "t".into(),
                name: None,
                count,
                ahead,
            };
            let granted = consume_many(conn, &[want(2, 64)], &[], 10)?
                .remove(0)
                .unwrap();
            assert_eq!((granted.granted, granted.ahead), (2, 64));
            assert_eq!(
                granted.row.is_some(),
                !conn.is_postgres(),
                "SQLite answers the rowid"
            );
            assert_eq!(left(conn)?, 300 - 66);
            // 234 left: 2 + 64 taken would leave 168, under three times 64; only the 2 are taken.
            let granted = consume_many(conn, &[want(2, 64)], &[], 10)?
                .remove(0)
                .unwrap();
            assert_eq!((granted.granted, granted.ahead), (2, 0));
            assert_eq!(left(conn)?, 232);
            consume_many(conn, &[], &[("t".into(), 64)], 10)?;
            assert_eq!(left(conn)?, 296);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn a_login_naming_another_user_or_a_disabled_user_takes_no_use() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            seed(conn);
            insert(conn, &ticket("t", "u1", 1000, 2))?;
            assert!(consume(conn, "t", 10, Some("bob"))?.is_none());
            assert!(consume(conn, "t", 10, Some("d_u2"))?.is_none());
            assert!(consume(conn, "t", 10, Some("alice"))?.is_some());
            assert!(consume(conn, "t", 10, Some("d_u1"))?.is_some());
            assert!(
                consume(conn, "t", 10, None)?.is_none(),
                "both uses were taken"
            );
            insert(conn, &ticket("d", "u1", 1000, 2))?;
            conn.execute(
                "UPDATE users SET enabled = FALSE WHERE id = 'u1'",
                params![],
            )?;
            assert!(consume(conn, "d", 10, None)?.is_none());
            let left: i64 = conn.query_row(
                "SELECT left_num FROM tickets WHERE id = 'd'",
                params![],
                |r| r.get(0),
            )?;
            assert_eq!(left, 2);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn list_counts_before_paging_filters_and_sorts() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            seed(conn);
            insert(conn, &ticket("a", "u1", 3000, 1))?;
            insert(conn, &ticket("b", "u2", 2000, 9))?;
            insert(conn, &ticket("c", "u1", 1000, 5))?;
            insert(conn, &ticket("gone", "u1", 50, 5))?;
            let page = TicketPage {
                sort: SortKey::ExpireTime,
                descending: true,
                limit: 2,
                offset: 0,
            };
            let (count, rows) = list_valid(conn, "p", &TicketFilter::default(), 100, &page)?;
            assert_eq!(count, 3);
            assert_eq!(
                rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
                ["a", "b"]
            );
            let page = TicketPage {
                sort: SortKey::LeftNum,
                descending: false,
                limit: 10,
                offset: 1,
            };
            let (_, rows) = list_valid(conn, "p", &TicketFilter::default(), 100, &page)?;
            assert_eq!(
                rows.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
                ["c", "b"]
            );
            let filter = TicketFilter {
                user_name: Some("bob".into()),
                ..Default::default()
            };
            let (count, rows) = list_valid(conn, "p", &filter, 100, &page)?;
            assert_eq!((count, rows.len()), (1, 0));
            let filter = TicketFilter {
                only_user: Some("u1".into()),
                user_type: Some("iam".into()),
                ..Default::default()
            };
            let (count, _) = list_valid(conn, "p", &filter, 100, &page)?;
            assert_eq!(count, 2);
            Ok(())
        })
        .unwrap();
    }

    /// Pages are found from the sort key's index and then read whole: the same rows in the same order
    /// on both backends, whatever the key, direction, offset or user condition.
    #[test]
    fn pages_follow_their_sort_key_on_every_backend() {
        for (_guard, db) in crate::store::test_backends() {
            db.blocking(|conn| {
                seed(conn);
                for (id, user, expires_at, left_num) in [
                    ("a1", "u1", 3000, 4),
                    ("a2", "u1", 1000, 2),
                    ("b1", "u2", 2000, 3),
                    ("b2", "u2", 4000, 1),
                    ("b3", "u2", 500, 5),
                ] {
                    insert(conn, &ticket(id, user, expires_at, left_num))?;
                }
                let ids = |sort, descending, offset, filter: &TicketFilter| {
                    let page = TicketPage {
                        sort,
                        descending,
                        limit: 3,
                        offset,
                    };
                    list_valid(conn, "p", filter, 100, &page)
                        .map(|(_, rows)| rows.into_iter().map(|r| r.id).collect::<Vec<_>>())
                };
                let all = TicketFilter::default();
                // alice's tickets, then bob's, each user's by expiry.
                assert_eq!(ids(SortKey::UserName, false, 0, &all)?, ["a2", "a1", "b3"]);
                assert_eq!(ids(SortKey::UserName, false, 3, &all)?, ["b1", "b2"]);
                assert_eq!(ids(SortKey::UserName, true, 1, &all)?, ["b1", "b3", "a1"]);
                assert_eq!(
                    ids(SortKey::ExpireTime, false, 0, &all)?,
                    ["b3", "a2", "b1"]
                );
                assert_eq!(ids(SortKey::LeftNum, true, 2, &all)?, ["b1", "a2", "b2"]);
                let iam = TicketFilter {
                    user_type: Some("iam".into()),
                    ..Default::default()
                };
                assert_eq!(ids(SortKey::LeftNum, true, 1, &iam)?, ["a1", "b1", "a2"]);
                Ok(())
            })
            .unwrap();
        }
    }

    #[test]
    fn the_counter_follows_uses_revocations_and_deletions() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            seed(conn);
            insert(conn, &ticket("a", "u1", 3000, 1))?;
            insert(conn, &ticket("b", "u2", 2000, 2))?;
            insert(conn, &ticket("c", "u2", 2000, 2))?;
            let page = TicketPage {
                sort: SortKey::ExpireTime,
                descending: true,
                limit: 10,
                offset: 0,
            };
            let count = |conn: &Conn, now| {
                list_valid(conn, "p", &TicketFilter::default(), now, &page).map(|(n, _)| n)
            };
            assert_eq!(count(conn, 100)?, 3);
            // Each counted filter agrees with the rows it lists.
            let some = |v: &str| Some(v.to_string());
            for filter in [
                TicketFilter {
                    user_id: some("u2"),
                    ..Default::default()
                },
                TicketFilter {
                    only_user: some("u1"),
                    ..Default::default()
                },
                TicketFilter {
                    user_name: some("bob"),
                    ..Default::default()
                },
                TicketFilter {
                    user_name: some("nobody"),
                    ..Default::default()
                },
                TicketFilter {
                    embed_id: some(""),
                    ..Default::default()
                },
                TicketFilter {
                    embed_id: some("other"),
                    ..Default::default()
                },
            ] {
                for now in [100, 2500] {
                    let (n, rows) = list_valid(conn, "p", &filter, now, &page)?;
                    assert_eq!(n, rows.len() as i64, "{filter:?} at {now}");
                }
            }
            assert!(consume(conn, "a", 100, None)?.is_some());
            assert!(consume(conn, "b", 100, None)?.is_some());
            assert_eq!(count(conn, 100)?, 2, "a used up, b has a use left");
            assert!(revoke(conn, "b")?);
            assert_eq!(count(conn, 100)?, 1);
            assert_eq!(count(conn, 2000)?, 0, "c expired");
            conn.execute("DELETE FROM users WHERE id = 'u2'", params![])?;
            assert_eq!(count(conn, 100)?, 0);
            Ok(())
        })
        .unwrap();
    }

    /// Every sort order and filter of the list reads an index, never the whole table, and never sorts
    /// the matching rows in a temporary B-tree: at a million tickets either would cost a scan per page.
    #[test]
    fn every_list_query_reads_an_index_in_order() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            seed(conn);
            let project = "p".to_string();
            let now = 100i64;
            let some = |v: &str| Some(v.to_string());
            let filters = [
                TicketFilter::default(),
                TicketFilter {
                    user_id: some("u1"),
                    ..Default::default()
                },
                TicketFilter {
                    only_user: some("u1"),
                    ..Default::default()
                },
                TicketFilter {
                    embed_id: some("repo"),
                    ..Default::default()
                },
                TicketFilter {
                    user_name: some("alice"),
                    ..Default::default()
                },
            ];
            let sorts = [
                SortKey::ExpireTime,
                SortKey::LeftNum,
                SortKey::UserId,
                SortKey::EmbedId,
                SortKey::UserName,
            ];
            for filter in &filters {
                let (conditions, args) = list_conditions(&project, filter, &now);
                let count = format!(
                    "SELECT count(*) FROM tickets t JOIN users u ON u.id = t.user_id WHERE {}",
                    conditions.join(" AND ")
                );
                let mut queries = vec![(count, false)];
                for sort in sorts {
                    for descending in [true, false] {
                        // A filter on one user or scope narrows the rows to sort to that key's range.
                        let unfiltered = conditions.len() == BASE_CONDITIONS;
                        let sql = page_sql(&conditions, false, sort, descending, 10, 1000);
                        queries.push((sql, unfiltered || sort == SortKey::ExpireTime));
                    }
                }
                for (sql, ordered) in queries {
                    let steps =
                        conn.query_map(&format!("EXPLAIN QUERY PLAN {sql}"), &args, |r| {
                            Ok((r.get::<i64>(0)?, r.get::<i64>(1)?, r.get::<String>(3)?))
                        })?;
                    // The page's own query, or the count's; not the ten rows read whole around it
                    // (whose groups are sorted per row, and which are sorted again, ten of them).
                    let page = steps
                        .iter()
                        .find(|(_, _, d)| d.ends_with(" page"))
                        .map_or(0, |(id, _, _)| *id);
                    let plan = steps
                        .iter()
                        .filter(|(_, parent, _)| *parent == page)
                        .map(|(_, _, detail)| detail.as_str())
                        .collect::<Vec<_>>()
                        .join("\n");
                    let all = steps.iter().map(|s| s.2.as_str()).collect::<Vec<_>>();
                    assert!(
                        !all.iter()
                            .any(|l| l.starts_with("SCAN t") || l.starts_with("SCAN u")),
                        "a full scan in {sql}:\n{}",
                        all.join("\n")
                    );
                    if ordered {
                        assert!(!plan.contains("TEMP B-TREE"), "a sort in {sql}:\n{plan}");
                    }
                }
            }
            let expired = conn
                .query_map(
                    &format!("EXPLAIN QUERY PLAN {EXPIRED_LIVE_COUNT} AND CAST(?3 AS TEXT) = ''"),
                    params![project, now, ""],
                    |r| r.get::<String>(3),
                )?
                .join("\n");
            assert!(expired.contains("tickets_live_expiry"), "{expired}");
            for (condition, index) in [
                ("AND t.user_id = ?3", "tickets_live_user"),
                ("AND t.embed_id = ?3", "tickets_live_embed"),
            ] {
                let plan = conn
                    .query_map(
                        &format!("EXPLAIN QUERY PLAN {EXPIRED_LIVE_COUNT} {condition}"),
                        params![project, now, "x"],
                        |r| r.get::<String>(3),
                    )?
                    .join("\n");
                assert!(plan.contains(index), "{plan}");
            }
            Ok(())
        })
        .unwrap();
    }
}
