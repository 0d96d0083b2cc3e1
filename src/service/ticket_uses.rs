//! Ticket uses taken in batches, and ahead of need. Every use of a ticket is a counted write (its uses
//! left), and one write transaction per request made a ticket-authenticated GET cost four times an
//! anonymous one. Uses asked for while a batch is being written wait for the next one, which takes them all
//! in one transaction (`tickets::consume_many`), so under load the commit is paid once per batch.
//!
//! When this process is the database's one writer (SQLite), a ticket asked for by several requests of one
//! batch, or asked for again within a second of its last use from the row, also has uses taken ahead: the row
//! is decremented for them in the same statement, and the node hands them out from memory to the next
//! requests, with no database call. They are held only while nothing has changed the ticket's row (a
//! revocation, a give-back) or any user (disabled, renamed) since they were taken, as the change counts of
//! `store::cache` tell, and only while the ticket has not expired; a holding found stale is given back to the
//! row by the next batch, and the request asks the database as if nothing had been held. So exactly as many
//! uses are granted as the ticket had: a use is either in the row or held by this node, never both, and a
//! crash loses the held ones (fewer uses, never more). The list shows the row's count plus what the node
//! holds (`held`). On PostgreSQL other nodes change tickets this node never sees, and every use asks the
//! database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, oneshot};

use crate::store::cache::{Generations, Tables};
use crate::store::identity::User;
use crate::store::tickets::{self, GrantedUses, WantedUses};
use crate::store::{now_ms, Db, StoreError, StoreResult};

/// At most this many requests go into one transaction, so that one batch never holds the write lock long.
const MOST_PER_BATCH: usize = 512;

/// Requests waiting for the next batch; beyond this, senders wait (back-pressure).
const QUEUE: usize = 4096;

/// Uses taken ahead: this many at first, twice as many as last time when those were all handed out
/// within `QUICKLY` (a busy ticket asks the database a few times a second at most), up to `MOST_AHEAD`.
const LEAST_AHEAD: i64 = 64;
const MOST_AHEAD: i64 = 8192;
const QUICKLY: std::time::Duration = std::time::Duration::from_secs(1);

/// Tickets whose row this node remembers; beyond this, those holding nothing are forgotten.
const MOST_REMEMBERED: usize = 4096;

/// A holding is current while neither its ticket's row nor any user has changed since it was taken.
const STAMPED_WITH: &[Tables] = &[Tables::Users];

type Reply = oneshot::Sender<StoreResult<Option<Granted>>>;

/// One granted use: whose ticket it is. Shared, because a held ticket hands the same one to every use.
#[derive(Debug, Clone)]
pub struct Granted {
    pub user: Arc<User>,
    pub embed_id: Arc<str>,
}

struct Wanted {
    id: String,
    name: Option<String>,
    reply: Reply,
}

/// The batching writer of one node's ticket uses. Its task starts with the first use and again if the
/// runtime it ran on has gone (tests run one runtime each).
pub struct TicketUses {
    db: Db,
    queue: Mutex<Option<mpsc::Sender<Wanted>>>,
    held: Arc<Held>,
}

/// Uses this node took ahead, by ticket id, and those it owes back to the rows.
#[derive(Default)]
struct Held {
    tickets: Mutex<HashMap<String, Holding>>,
    owed: Mutex<Vec<(String, i64)>>,
}

/// What this node knows of one ticket: its row, and the uses it holds of it.
struct Holding {
    row: i64,
    left: i64,
    /// How many were taken ahead last, and when.
    taken: i64,
    taken_at: std::time::Instant,
    /// When a use was last taken from the row.
    asked_at: std::time::Instant,
    /// The change count of the row and the users when the uses were taken; `None` when they are not to
    /// be handed out (another change came in between).
    stamp: Option<u64>,
    granted: Granted,
    expires_at: i64,
}

impl TicketUses {
    pub fn new(db: Db) -> TicketUses {
        TicketUses {
            db,
            queue: Mutex::new(None),
            held: Arc::default(),
        }
    }

    /// Takes one use of ticket `id` (its public id) for a login as `name`, when given. `None` when the
    /// ticket is unknown, expired, used up or revoked, its user disabled, or `name` someone else's.
    pub async fn take(&self, id: &str, name: Option<&str>) -> StoreResult<Option<Granted>> {
        if let Some(generations) = self.db.generations() {
            if let Some(answer) = self.held.hand_out(generations, id, name, now_ms()) {
                return Ok(answer);
            }
        }
        let (reply, answer) = oneshot::channel();
        let mut wanted = Wanted {
            id: id.to_string(),
            name: name.map(str::to_string),
            reply,
        };
        loop {
            let queue = self.sender();
            match queue.send(wanted).await {
                Ok(()) => break,
                // The task ended with its runtime; the next `sender` starts another one.
                Err(mpsc::error::SendError(back)) => {
                    wanted = back;
                    lock(&self.queue).take();
                }
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the ticket writer stopped".into())))
    }

    /// Uses of ticket `id` this node holds beyond its row's count.
    pub fn held(&self, id: &str) -> i64 {
        let holding = lock(&self.held.tickets).get(id).map_or(0, |h| h.left);
        let owed: i64 = lock(&self.held.owed)
            .iter()
            .filter(|(owed_id, _)| owed_id == id)
            .map(|(_, n)| n)
            .sum();
        holding + owed
    }

    /// Gives every held use back to its row, at shutdown.
    pub async fn give_back(&self) -> StoreResult<()> {
        let owed = self.held.all_owed();
        if owed.is_empty() {
            return Ok(());
        }
        self.db
            .call(move |conn| tickets::consume_many(conn, &[], &owed, now_ms()).map(drop))
            .await
    }

    fn sender(&self) -> mpsc::Sender<Wanted> {
        let mut queue = lock(&self.queue);
        if let Some(sender) = queue.as_ref().filter(|s| !s.is_closed()) {
            return sender.clone();
        }
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(self.db.clone(), receiver, self.held.clone()));
        *queue = Some(sender.clone());
        sender
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Whether a login as `name` (none: a bearer ticket) may use a ticket of `user`.
fn answers_to(user: &User, name: Option<&str>) -> bool {
    let Some(name) = name else { return true };
    if name == user.name {
        return true;
    }
    // The repo user name, `<domain_id>_<user_id>`.
    name.strip_prefix(user.domain_id.as_str())
        .and_then(|rest| rest.strip_prefix('_'))
        == Some(user.id.as_str())
}

impl Held {
    /// A use from memory: `Some(Some)` granted, `Some(None)` refused, `None` when the database must answer.
    fn hand_out(
        &self,
        generations: &Generations,
        id: &str,
        name: Option<&str>,
        now: i64,
    ) -> Option<Option<Granted>> {
        let mut tickets = lock(&self.tickets);
        let holding = tickets.get_mut(id)?;
        if holding.left == 0 {
            return None;
        }
        let current = generations.of_row_and(Tables::Tickets, holding.row, STAMPED_WITH);
        if holding.stamp != Some(current) || now >= holding.expires_at {
            // Revoked, or its user changed, or expired (then nothing is owed: the row refuses anyway).
            if now < holding.expires_at {
                lock(&self.owed).push((id.to_string(), holding.left));
            }
            holding.left = 0;
            holding.taken = 0;
            return None;
        }
        if !answers_to(&holding.granted.user, name) {
            return Some(None);
        }
        holding.left -= 1;
        Some(Some(holding.granted.clone()))
    }

    /// Asks uses ahead for the groups of a ticket whose row is known and of which nothing is held, when
    /// several requests want it or it was last taken from the row within `QUICKLY` (one client using it
    /// one request after another); answers, per group, the row's change count before the batch (`None`:
    /// not asked).
    fn plan(
        &self,
        generations: Option<&Generations>,
        groups: &mut [WantedUses],
    ) -> Vec<Option<u64>> {
        let Some(generations) = generations else {
            return vec![None; groups.len()];
        };
        let tickets = lock(&self.tickets);
        groups
            .iter_mut()
            .map(|group| {
                let holding = tickets.get(&group.id)?;
                let again = holding.asked_at.elapsed() < QUICKLY;
                if (group.count < 2 && !again) || holding.left > 0 {
                    return None;
                }
                group.ahead = if holding.taken_at.elapsed() < QUICKLY {
                    (holding.taken * 2).clamp(LEAST_AHEAD, MOST_AHEAD)
                } else {
                    LEAST_AHEAD
                };
                Some(generations.of_row_and(Tables::Tickets, holding.row, STAMPED_WITH))
            })
            .collect()
    }

    /// Remembers each granted ticket's row and holds the uses taken ahead, stamped when no other change
    /// came in between the count read before the batch and now (the batch itself moved it by one).
    fn keep(
        &self,
        generations: &Generations,
        ids: Vec<String>,
        before: &[Option<u64>],
        granted: &[Option<GrantedUses>],
    ) {
        let mut tickets = lock(&self.tickets);
        if tickets.len() > MOST_REMEMBERED {
            tickets.retain(|_, h| h.left > 0);
        }
        for ((id, before), grant) in ids.into_iter().zip(before).zip(granted) {
            let Some(GrantedUses {
                ahead,
                user,
                embed_id,
                expires_at,
                row: Some(row),
                ..
            }) = grant
            else {
                continue;
            };
            if *ahead == 0 {
                if let Some(known) = tickets.get_mut(&id) {
                    known.asked_at = std::time::Instant::now();
                    continue;
                }
            }
            let now = generations.of_row_and(Tables::Tickets, *row, STAMPED_WITH);
            let stamp = before
                .filter(|before| before.wrapping_add(1) == now)
                .map(|_| now);
            let holding = Holding {
                row: *row,
                left: *ahead,
                taken: *ahead,
                taken_at: std::time::Instant::now(),
                asked_at: std::time::Instant::now(),
                stamp,
                granted: Granted {
                    user: Arc::new(user.clone()),
                    embed_id: embed_id.as_str().into(),
                },
                expires_at: *expires_at,
            };
            if let Some(old) = tickets.insert(id.clone(), holding) {
                if old.left > 0 {
                    lock(&self.owed).push((id, old.left));
                }
            }
        }
    }

    fn take_owed(&self) -> Vec<(String, i64)> {
        std::mem::take(&mut *lock(&self.owed))
    }

    fn all_owed(&self) -> Vec<(String, i64)> {
        let mut owed = self.take_owed();
        for (id, holding) in lock(&self.tickets).iter_mut() {
            if holding.left > 0 {
                owed.push((id.clone(), std::mem::take(&mut holding.left)));
            }
        }
        owed
    }
}

async fn write_batches(db: Db, mut queue: mpsc::Receiver<Wanted>, held: Arc<Held>) {
    let mut batch = Vec::new();
    while queue.recv_many(&mut batch, MOST_PER_BATCH).await > 0 {
        // Requests that queued while the previous batch was taking uses ahead are served from those:
        // taking theirs from the row would change it and end the holding.
        if let Some(generations) = db.generations() {
            let now = now_ms();
            batch = std::mem::take(&mut batch)
                .into_iter()
                .filter_map(|wanted| {
                    match held.hand_out(generations, &wanted.id, wanted.name.as_deref(), now) {
                        Some(answer) => {
                            let _ = wanted.reply.send(Ok(answer));
                            None
                        }
                        None => Some(wanted),
                    }
                })
                .collect();
            if batch.is_empty() {
                continue;
            }
        }
        let (mut groups, replies) = group(std::mem::take(&mut batch));
        let before = held.plan(db.generations(), &mut groups);
        let ids: Vec<String> = groups.iter().map(|g| g.id.clone()).collect();
        let owed = held.take_owed();
        let retry = owed.clone();
        let result = db
            .call(move |conn| tickets::consume_many(conn, &groups, &owed, now_ms()))
            .await;
        match (&result, db.generations()) {
            (Ok(granted), Some(generations)) => held.keep(generations, ids, &before, granted),
            // Nothing was written: what was owed is still owed.
            (Err(_), _) => lock(&held.owed).extend(retry),
            (Ok(_), None) => {}
        }
        answer(result, replies);
    }
}

/// The batch as one [`WantedUses`] per ticket and login name, and each group's waiting requests.
fn group(batch: Vec<Wanted>) -> (Vec<WantedUses>, Vec<Vec<Reply>>) {
    let mut index: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut groups: Vec<WantedUses> = Vec::new();
    let mut replies: Vec<Vec<Reply>> = Vec::new();
    for wanted in batch {
        let key = (wanted.id, wanted.name);
        let at = *index.entry(key.clone()).or_insert_with(|| {
            groups.push(WantedUses {
                id: key.0,
                name: key.1,
                count: 0,
                ahead: 0,
            });
            replies.push(Vec::new());
            groups.len() - 1
        });
        groups[at].count += 1;
        replies[at].push(wanted.reply);
    }
    (groups, replies)
}

/// Hands each group's granted uses to its first requests in arrival order and refuses the rest.
fn answer(result: StoreResult<Vec<Option<GrantedUses>>>, replies: Vec<Vec<Reply>>) {
    match result {
        Ok(granted) => {
            for (grant, waiting) in granted.into_iter().zip(replies) {
                let (count, who) = match grant {
                    Some(g) => (
                        g.granted,
                        Some(Granted {
                            user: Arc::new(g.user),
                            embed_id: g.embed_id.into(),
                        }),
                    ),
                    None => (0, None),
                };
                for (i, reply) in waiting.into_iter().enumerate() {
                    let _ = reply.send(Ok(if i < count { who.clone() } else { None }));
                }
            }
        }
        Err(e) => {
            // Every request of the batch failed with the same cause; each answers it (507, 503, ...).
            for reply in replies.into_iter().flatten() {
                let _ = reply.send(Err(e.replicate()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_db;
    use crate::store::tickets::tests::{seed, ticket};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_uses_are_granted_exactly_as_many_as_were_left() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            seed(conn);
            tickets::insert(conn, &ticket("t", "u1", i64::MAX, 7))?;
            tickets::insert(conn, &ticket("other", "u1", i64::MAX, 100))
        })
        .unwrap();
        let uses = std::sync::Arc::new(TicketUses::new(db.clone()));
        let mut tasks = Vec::new();
        for i in 0..60 {
            let uses = uses.clone();
            let (id, name) = match i % 3 {
                0 => ("t", None),
                1 => ("t", Some("alice")),
                _ => ("t", Some("mallory")),
            };
            tasks.push(tokio::spawn(async move { uses.take(id, name).await }));
        }
        let mut granted = 0;
        for task in tasks {
            if let Some(g) = task.await.unwrap().unwrap() {
                assert_eq!(g.user.name, "alice");
                granted += 1;
            }
        }
        assert_eq!(granted, 7, "exactly the uses the ticket had");
        let left = |id: &'static str| {
            db.blocking(move |conn| {
                conn.query_row(
                    "SELECT left_num FROM tickets WHERE id = ?1",
                    crate::params![id],
                    |r| r.get::<i64>(0),
                )
            })
            .unwrap()
        };
        assert_eq!(left("t"), 0);
        assert_eq!(left("other"), 100, "another ticket untouched");
        assert!(uses.take("other", None).await.unwrap().is_some());
        assert_eq!(left("other"), 99);
    }
}

#[cfg(test)]
mod held_tests {
    use super::*;
    use crate::params;
    use crate::store::test_db;
    use crate::store::tickets::tests::{seed, ticket};

    /// Sends `count` uses of ticket `t` to a new writer before it starts, so they are one batch.
    async fn one_batch(uses: &TicketUses, count: usize, name: Option<&str>) -> usize {
        let (sender, receiver) = mpsc::channel(QUEUE);
        let mut answers = Vec::new();
        for _ in 0..count {
            let (reply, answer) = oneshot::channel();
            let wanted = Wanted {
                id: "t".into(),
                name: name.map(str::to_string),
                reply,
            };
            sender.send(wanted).await.unwrap();
            answers.push(answer);
        }
        drop(sender);
        write_batches(uses.db.clone(), receiver, uses.held.clone()).await;
        let mut granted = 0;
        for answer in answers {
            granted += usize::from(answer.await.unwrap().unwrap().is_some());
        }
        granted
    }

    fn row_left(db: &Db) -> i64 {
        db.blocking(|conn| {
            conn.query_row(
                "SELECT left_num FROM tickets WHERE id = 't'",
                params![],
                |r| r.get::<i64>(0),
            )
        })
        .unwrap()
    }

    fn with_ticket(left: i64, expires_at: i64) -> (tempfile::TempDir, Db, TicketUses) {
        let (dir, db) = test_db();
        db.blocking(|conn| {
            seed(conn);
            tickets::insert(conn, &ticket("t", "u1", expires_at, left))
        })
        .unwrap();
        let uses = TicketUses::new(db.clone());
        (dir, db, uses)
    }

    /// A batch of several uses of a known ticket takes more ahead; they are handed out from memory with no
    /// change to the row, the row plus what is held is always what is left, and exactly as many uses are
    /// granted in all as the ticket had.
    #[tokio::test]
    async fn uses_taken_ahead_are_handed_out_from_memory_and_never_more_than_were_left() {
        let (_dir, db, uses) = with_ticket(1000, i64::MAX);
        assert_eq!(one_batch(&uses, 8, None).await, 8);
        assert_eq!(
            uses.held("t"),
            0,
            "the first batch learns the ticket's row only"
        );
        assert_eq!(one_batch(&uses, 8, Some("alice")).await, 8);
        assert_eq!(uses.held("t"), 64);
        assert_eq!(row_left(&db), 1000 - 16 - 64);
        // Requests that queued while uses were being taken ahead are served from them, and the holding
        // stays current (taking theirs from the row would have ended it).
        assert_eq!(one_batch(&uses, 8, None).await, 8);
        assert_eq!((uses.held("t"), row_left(&db)), (56, 920));

        let granted = uses.take("t", None).await.unwrap().unwrap();
        assert_eq!(granted.user.name, "alice");
        assert_eq!(row_left(&db), 920, "handed out from memory");
        assert_eq!(uses.held("t"), 55);
        // The repo user name answers too; another user's name is refused and spends nothing.
        assert!(uses.take("t", Some("d_u1")).await.unwrap().is_some());
        assert!(uses.take("t", Some("bob")).await.unwrap().is_none());
        assert_eq!((uses.held("t"), row_left(&db)), (1000 - 26 - 920, 920));

        let mut granted = 26;
        loop {
            let mut round = one_batch(&uses, 16, None).await;
            for _ in 0..20 {
                round += usize::from(uses.take("t", None).await.unwrap().is_some());
            }
            granted += round;
            assert_eq!(uses.held("t") + row_left(&db), 1000 - granted as i64);
            if round == 0 {
                break;
            }
        }
        assert_eq!(granted, 1000, "exactly the uses the ticket had");
        assert_eq!((uses.held("t"), row_left(&db)), (0, 0));
        assert!(uses.take("t", None).await.unwrap().is_none());
    }

    /// Held uses end with whatever ends the ticket's uses in the database: a revocation, its user
    /// disabled, its expiry. What was held goes back to the row (not when it expired), and nothing is
    /// handed out after the change returned.
    #[tokio::test]
    async fn a_revocation_a_disabled_user_or_the_expiry_ends_what_is_held() {
        let (_dir, db, uses) = with_ticket(1000, i64::MAX);
        one_batch(&uses, 8, None).await;
        one_batch(&uses, 8, None).await;
        assert_eq!(uses.held("t"), 64);
        db.call(|conn| {
            conn.execute(
                "UPDATE users SET enabled = FALSE WHERE id = 'u1'",
                params![],
            )
        })
        .await
        .unwrap();
        assert!(uses.take("t", None).await.unwrap().is_none());
        assert_eq!(
            uses.held("t") + row_left(&db),
            1000 - 16,
            "the held uses went back"
        );
        db.call(|conn| conn.execute("UPDATE users SET enabled = TRUE WHERE id = 'u1'", params![]))
            .await
            .unwrap();
        assert_eq!(row_left(&db), 1000 - 16);

        one_batch(&uses, 8, None).await;
        assert_eq!(uses.held("t"), 64);
        db.call(|conn| tickets::revoke(conn, "t")).await.unwrap();
        assert!(uses.take("t", None).await.unwrap().is_none());
        assert_eq!(uses.held("t"), 0);

        // Long enough for two batches on a loaded machine.
        let expires_at = now_ms() + 1500;
        let (_dir, db, uses) = with_ticket(1000, expires_at);
        one_batch(&uses, 8, None).await;
        one_batch(&uses, 8, None).await;
        assert_eq!(uses.held("t"), 64);
        let until_expired = (expires_at - now_ms()).max(0) as u64;
        tokio::time::sleep(std::time::Duration::from_millis(until_expired)).await;
        assert!(uses.take("t", None).await.unwrap().is_none());
        assert_eq!(uses.held("t"), 0);
        assert_eq!(
            row_left(&db),
            1000 - 16 - 64,
            "nothing owed to an expired ticket"
        );
    }

    /// Under concurrent uses that take uses ahead, exactly as many are granted as the ticket had.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_uses_taken_ahead_grant_exactly_what_was_left() {
        let (_dir, db, uses) = with_ticket(1000, i64::MAX);
        let uses = Arc::new(uses);
        let mut granted = 0;
        for _ in 0..4 {
            let tasks: Vec<_> = (0..400)
                .map(|_| {
                    let uses = uses.clone();
                    tokio::spawn(async move { uses.take("t", None).await })
                })
                .collect();
            for task in tasks {
                granted += usize::from(task.await.unwrap().unwrap().is_some());
            }
        }
        assert_eq!(granted, 1000);
        assert_eq!((uses.held("t"), row_left(&db)), (0, 0));
    }

    /// One client using a ticket one request after another: the second use within a second takes uses
    /// ahead, the next ones come from memory, and in all exactly as many are granted as the ticket had.
    #[tokio::test]
    async fn a_ticket_used_again_soon_takes_uses_ahead_one_request_at_a_time() {
        let (_dir, db, uses) = with_ticket(1000, i64::MAX);
        assert_eq!(one_batch(&uses, 1, None).await, 1);
        assert_eq!((uses.held("t"), row_left(&db)), (0, 999));
        assert_eq!(one_batch(&uses, 1, None).await, 1);
        assert_eq!((uses.held("t"), row_left(&db)), (64, 998 - 64));
        assert!(uses.take("t", None).await.unwrap().is_some());
        assert_eq!(row_left(&db), 934, "handed out from memory");
        let mut granted = 3;
        while uses.take("t", None).await.unwrap().is_some() {
            granted += 1;
        }
        assert_eq!(granted, 1000);
        assert_eq!((uses.held("t"), row_left(&db)), (0, 0));
    }

    /// At shutdown the held uses go back to the row.
    #[tokio::test]
    async fn held_uses_are_given_back_at_shutdown() {
        let (_dir, db, uses) = with_ticket(1000, i64::MAX);
        one_batch(&uses, 8, None).await;
        one_batch(&uses, 8, None).await;
        uses.take("t", None).await.unwrap().unwrap();
        assert_eq!(row_left(&db), 920);
        uses.give_back().await.unwrap();
        assert_eq!((uses.held("t"), row_left(&db)), (0, 1000 - 17));
    }
}
