//! Metadata storage: SQLite (or, as issue 12 proceeds, PostgreSQL) through a small connection pool, every
//! query on `Conn` (conn.rs), with one module per aggregate. Every call runs on the blocking pool so the
//! async runtime never waits on disk.

pub mod attentions;
pub mod cargo;
mod conn;
pub mod dialect;
pub mod identity;
pub mod ip_rules;
pub mod npm;
pub mod projects;
pub mod pypi;
pub mod remote;
pub mod repos;
pub mod tickets;

use std::path::{Path, PathBuf};

use crate::params;
use std::sync::Arc;

use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{ErrorCode, OpenFlags};

use crate::storage_fault::{self, StorageFault};

use conn::PgManager;
pub use conn::{Conn, FromValue, Param, Row, Tx};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_identity.sql"),
    include_str!("migrations/0002_iam.sql"),
    include_str!("migrations/0003_repositories.sql"),
    include_str!("migrations/0004_pypi_cargo.sql"),
    include_str!("migrations/0005_npm.sql"),
    include_str!("migrations/0006_remote_virtual.sql"),
    include_str!("migrations/0007_ip_allow_list.sql"),
    include_str!("migrations/0008_attention.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("connection pool error: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("blocking task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// A write failed because the data directory's volume is full; the text is SQLite's, for the log.
    #[error("the data directory is full: {0}")]
    Full(String),
    /// A write failed because the data directory is read-only; the text is SQLite's, for the log.
    #[error("the data directory is read-only: {0}")]
    ReadOnly(String),
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            StoreError::Postgres(e) => {
                e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone)]
enum Pools {
    Sqlite(Pool<SqliteConnectionManager>),
    Postgres(Pool<PgManager>),
}

#[derive(Clone)]
pub struct Db {
    pool: Pools,
    /// The directory holding the database, probed when SQLite reports an I/O error without its cause.
    dir: Arc<PathBuf>,
}

impl Db {
    pub fn open(path: &Path) -> StoreResult<Db> {
        // Transactions take the write lock when they begin: `Conn::transaction` says why.
        let manager = SqliteConnectionManager::file(path).with_init(|c| {
            c.execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 10000;",
            )
        });
        let db = Db::with_manager(path, manager)?;
        db.migrate()?;
        Ok(db)
    }

    /// Opens the database of a data directory that is not writable: every write then fails with
    /// SQLITE_READONLY. A WAL database is readable without writing only when its `-shm` file exists
    /// (SQLite then keeps the WAL index in memory); without one, the database is opened as immutable, and
    /// changes still in a left-over `-wal` file stay invisible until the directory is writable again.
    pub fn open_read_only(path: &Path) -> StoreResult<Db> {
        if !path.exists() {
            return Err(StoreError::ReadOnly(
                "the data directory holds no database, and a read-only one cannot be given one"
                    .into(),
            ));
        }
        let sibling = |suffix: &str| {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            PathBuf::from(name)
        };
        let immutable = !sibling("-shm").exists();
        if immutable && std::fs::metadata(sibling("-wal")).is_ok_and(|m| m.len() > 0) {
            tracing::warn!(
                path = %path.display(),
                "the database has a write-ahead log but no -shm file: its latest changes stay invisible until the data directory is writable"
            );
        }
        let uri = format!(
            "file:{}?mode=ro{}",
            percent_encoding::utf8_percent_encode(&path.to_string_lossy(), URI_PATH),
            if immutable { "&immutable=1" } else { "" }
        );
        let manager = SqliteConnectionManager::file(uri)
            .with_flags(
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_URI
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .with_init(|c| {
                c.execute_batch(
                    "PRAGMA query_only = ON;
                     PRAGMA foreign_keys = ON;
                     PRAGMA busy_timeout = 10000;",
                )
            });
        let db = Db::with_manager(path, manager)?;
        let applied =
            db.blocking(|c| c.query_row("PRAGMA user_version", params![], |r| r.get::<i64>(0)))?;
        if applied < MIGRATIONS.len() as i64 {
            return Err(StoreError::ReadOnly(format!(
                "the database is at schema version {applied} and needs {}, which a read-only data directory cannot be upgraded to",
                MIGRATIONS.len()
            )));
        }
        Ok(db)
    }

    fn with_manager(path: &Path, manager: SqliteConnectionManager) -> StoreResult<Db> {
        let pool = Pools::Sqlite(Pool::builder().max_size(8).build(manager)?);
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Ok(Db {
            pool,
            dir: Arc::new(dir.to_path_buf()),
        })
    }

    fn migrate(&self) -> StoreResult<()> {
        self.blocking(|conn| {
            let tx = conn.transaction()?;
            let applied = tx.query_row("PRAGMA user_version", params![], |r| r.get::<i64>(0))?;
            for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
                tx.execute_batch(sql)?;
                tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
            }
            tx.commit()
        })
    }

    /// Connects to a PostgreSQL database (`postgres://…`). It does not migrate yet: the PostgreSQL
    /// migrations are still to be written (issue 12), so for now this serves the store's own tests.
    pub fn connect_postgres(url: &str) -> StoreResult<Db> {
        let config: postgres::Config = url.parse()?;
        let pool = Pool::builder().max_size(8).build(PgManager(config))?;
        Ok(Db {
            pool: Pools::Postgres(pool),
            dir: Arc::new(PathBuf::from(".")),
        })
    }

    /// Runs `f` with a pooled connection on the blocking thread pool.
    pub async fn call<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> StoreResult<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.blocking(f)).await?
    }

    /// Connections the pool holds, and how many of them are idle.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = match &self.pool {
            Pools::Sqlite(pool) => pool.state(),
            Pools::Postgres(pool) => pool.state(),
        };
        (state.connections, state.idle_connections)
    }

    /// Synchronous access for start-up work that runs before the server accepts requests.
    pub fn blocking<T>(&self, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = match &self.pool {
            Pools::Sqlite(pool) => Conn::sqlite(pool.get()?),
            Pools::Postgres(pool) => Conn::postgres(pool.get()?),
        };
        f(&mut conn).map_err(|e| self.classify(e))
    }

    /// Tells a full or read-only data directory apart from other database failures.
    fn classify(&self, e: StoreError) -> StoreError {
        let StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) = &e else {
            return e;
        };
        let fault = match failure.code {
            ErrorCode::DiskFull => Some(StorageFault::Full),
            ErrorCode::ReadOnly => Some(StorageFault::ReadOnly),
            ErrorCode::SystemIoFailure | ErrorCode::CannotOpen => storage_fault::probe(&self.dir),
            _ => None,
        };
        match fault {
            Some(StorageFault::Full) => StoreError::Full(e.to_string()),
            Some(StorageFault::ReadOnly) => StoreError::ReadOnly(e.to_string()),
            None => e,
        }
    }
}

/// What a path may hold unescaped in an SQLite URI: everything but `?`, `#`, `%` and non-ASCII is safe,
/// and escaping all but the unreserved characters and `/` is simplest.
const URI_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
pub(crate) fn test_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("arca.db")).unwrap();
    (dir, db)
}

/// A fresh, empty database on each backend the tests can reach: SQLite always, and PostgreSQL when
/// `ARCA_TEST_PG_URL` names a server whose user may create databases (scripts/pg-server.sh starts one).
/// The guard removes what the database used when dropped.
#[cfg(test)]
pub(crate) fn test_backends() -> Vec<(Box<dyn std::any::Any>, Db)> {
    let (dir, sqlite) = test_db();
    let mut out: Vec<(Box<dyn std::any::Any>, Db)> = vec![(Box::new(dir), sqlite)];
    if let Ok(url) = std::env::var("ARCA_TEST_PG_URL") {
        out.push(pg_test_db(&url));
    }
    out
}

/// Drops its database when dropped.
#[cfg(test)]
struct PgTestDb {
    admin: String,
    name: String,
}

#[cfg(test)]
impl Drop for PgTestDb {
    fn drop(&mut self) {
        if let Ok(mut client) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = client.batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", self.name));
        }
    }
}

#[cfg(test)]
fn pg_test_db(admin: &str) -> (Box<dyn std::any::Any>, Db) {
    let name = format!("arca_test_{}", crate::domain::new_hex_id());
    let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let mut config: postgres::Config = admin.parse().unwrap();
    config.dbname(&name);
    let pool = Pool::builder()
        .max_size(4)
        .build(PgManager(config))
        .unwrap();
    let db = Db {
        pool: Pools::Postgres(pool),
        dir: Arc::new(PathBuf::from(".")),
    };
    let guard = PgTestDb {
        admin: admin.to_string(),
        name,
    };
    // The pool's connections close before the database is dropped: the guard is dropped after the Db
    // only if the caller keeps the tuple order, so DROP … WITH (FORCE) ends any that remain.
    (Box::new(guard), db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transactions_take_the_write_lock_when_they_begin() {
        let (_dir, db) = test_db();
        db.blocking(|conn| conn.execute_batch("CREATE TABLE t (x INTEGER)"))
            .unwrap();
        let Pools::Sqlite(pool) = &db.pool else {
            unreachable!()
        };
        let mut first = Conn::sqlite(pool.get().unwrap());
        let second = Conn::sqlite(pool.get().unwrap());
        second
            .as_sqlite()
            .busy_timeout(std::time::Duration::ZERO)
            .unwrap();
        let tx = first.transaction().unwrap();
        let refused = second.execute("INSERT INTO t VALUES (1)", params![]);
        assert!(
            refused.is_err(),
            "a writer got in while a transaction was open"
        );
        tx.execute("INSERT INTO t VALUES (2)", params![]).unwrap();
        tx.commit().unwrap();
        second
            .execute("INSERT INTO t VALUES (3)", params![])
            .unwrap();
    }

    #[test]
    fn a_read_only_database_reads_and_refuses_writes_as_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("arca.db");
        let db = Db::open(&path).unwrap();
        db.blocking(|c| {
            c.execute(
                "INSERT INTO domains (id, name, created_at) VALUES ('d', 'n', 1)",
                params![],
            )
        })
        .unwrap();
        drop(db);
        let db = Db::open_read_only(&path).unwrap();
        let count: i64 = db
            .blocking(|c| {
                c.query_row("SELECT count(*) FROM domains", params![], |r| {
                    r.get::<i64>(0)
                })
            })
            .unwrap();
        assert_eq!(count, 1);
        let write = db.blocking(|c| c.execute("DELETE FROM domains", params![]));
        assert!(matches!(write, Err(StoreError::ReadOnly(_))), "{write:?}");
        assert!(matches!(
            Db::open_read_only(&dir.path().join("none.db")),
            Err(StoreError::ReadOnly(_))
        ));
    }
}
