//! Ticket uses taken in batches. Every use of a ticket is a counted write (its uses left), and one
//! write transaction per request made a ticket-authenticated GET cost four times an anonymous one. Uses
//! asked for while a batch is being written wait for the next one, which takes them all in one
//! transaction (`tickets::consume_many`): the count stays exact (nothing is counted in memory, so a crash
//! loses no use and grants none twice, and several nodes on one PostgreSQL share it), and under load the
//! commit is paid once per batch instead of once per request.

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::{mpsc, oneshot};

use crate::store::tickets::{self, GrantedUses, WantedUses};
use crate::store::{now_ms, Db, StoreError, StoreResult};

/// At most this many requests go into one transaction, so that one batch never holds the write lock long.
const MOST_PER_BATCH: usize = 512;

/// Requests waiting for the next batch; beyond this, senders wait (back-pressure).
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<StoreResult<Option<Granted>>>;

/// One granted use: whose ticket it is.
#[derive(Debug, Clone)]
pub struct Granted {
    pub user: crate::store::identity::User,
    pub embed_id: String,
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
}

impl TicketUses {
    pub fn new(db: Db) -> TicketUses {
        TicketUses {
            db,
            queue: Mutex::new(None),
        }
    }

    /// Takes one use of ticket `id` (its public id) for a login as `name`, when given. `None` when the
    /// ticket is unknown, expired, used up or revoked, its user disabled, or `name` someone else's.
    pub async fn take(&self, id: String, name: Option<String>) -> StoreResult<Option<Granted>> {
        let (reply, answer) = oneshot::channel();
        let mut wanted = Wanted { id, name, reply };
        loop {
            let queue = self.sender();
            match queue.send(wanted).await {
                Ok(()) => break,
                // The task ended with its runtime; the next `sender` starts another one.
                Err(mpsc::error::SendError(back)) => {
                    wanted = back;
                    self.queue.lock().unwrap_or_else(|p| p.into_inner()).take();
                }
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the ticket writer stopped".into())))
    }

    fn sender(&self) -> mpsc::Sender<Wanted> {
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(sender) = queue.as_ref().filter(|s| !s.is_closed()) {
            return sender.clone();
        }
        let (sender, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(self.db.clone(), receiver));
        *queue = Some(sender.clone());
        sender
    }
}

async fn write_batches(db: Db, mut queue: mpsc::Receiver<Wanted>) {
    let mut batch = Vec::new();
    while queue.recv_many(&mut batch, MOST_PER_BATCH).await > 0 {
        let (groups, replies) = group(std::mem::take(&mut batch));
        let result = db
            .call(move |conn| tickets::consume_many(conn, &groups, now_ms()))
            .await;
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
                            user: g.user,
                            embed_id: g.embed_id,
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
            tasks.push(tokio::spawn(async move {
                uses.take(id.into(), name.map(str::to_string)).await
            }));
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
        assert!(uses.take("other".into(), None).await.unwrap().is_some());
        assert_eq!(left("other"), 99);
    }
}
