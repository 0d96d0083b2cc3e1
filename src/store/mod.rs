//! Metadata storage: SQLite through a small connection pool, with one module per aggregate.
//! Every call runs on the blocking pool so the async runtime never waits on disk.

pub mod cargo;
pub mod identity;
pub mod npm;
pub mod projects;
pub mod pypi;
pub mod repos;
pub mod tickets;

use std::path::Path;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::Connection;

pub use rusqlite::Connection as Conn;

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_identity.sql"),
    include_str!("migrations/0002_iam.sql"),
    include_str!("migrations/0003_repositories.sql"),
    include_str!("migrations/0004_pypi_cargo.sql"),
    include_str!("migrations/0005_npm.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("connection pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
pub struct Db {
    pool: Pool<SqliteConnectionManager>,
}

impl Db {
    pub fn open(path: &Path) -> StoreResult<Db> {
        let manager = SqliteConnectionManager::file(path).with_init(|c| {
            // Every transaction takes the write lock when it begins. A deferred one that reads and then
            // writes fails at once with "database is locked" when another connection committed in
            // between (WAL mode cannot upgrade a stale snapshot, and the busy timeout does not apply).
            c.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
            c.execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 10000;",
            )
        });
        let pool = Pool::builder().max_size(8).build(manager)?;
        let db = Db { pool };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.pool.get()?;
        let tx = conn.transaction()?;
        let applied: usize = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", index + 1)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn call<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            f(&mut conn)
        })
        .await?
    }

    /// Synchronous access for start-up work that runs before the server accepts requests.
    pub fn blocking<T>(&self, f: impl FnOnce(&mut Connection) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.pool.get()?;
        f(&mut conn)
    }
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
pub(crate) fn test_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("arca.db")).unwrap();
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_take_the_write_lock_when_they_begin() {
        let (_dir, db) = test_db();
        db.blocking(|conn| Ok(conn.execute_batch("CREATE TABLE t (x INTEGER)")?))
            .unwrap();
        let mut first = db.pool.get().unwrap();
        let second = db.pool.get().unwrap();
        second.busy_timeout(std::time::Duration::ZERO).unwrap();
        let tx = first.transaction().unwrap();
        let refused = second.execute("INSERT INTO t VALUES (1)", []);
        assert!(
            refused.is_err(),
            "a writer got in while a transaction was open"
        );
        tx.execute("INSERT INTO t VALUES (2)", []).unwrap();
        tx.commit().unwrap();
        second.execute("INSERT INTO t VALUES (3)", []).unwrap();
    }
}
