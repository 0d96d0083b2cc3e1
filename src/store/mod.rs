//! Metadata storage: SQLite or PostgreSQL (`database_url`) through a small connection pool, every
//! query on `Conn` (conn.rs), with one module per aggregate. Every call runs on the blocking pool so the
//! async runtime never waits on disk.

pub mod attentions;
pub mod audit;
pub mod blob_leases;
pub mod cache;
pub mod cargo;
mod conn;
pub mod console_sessions;
pub mod dialect;
pub mod go;
pub mod identity;
pub mod ip_rules;
pub mod npm;
pub mod oci;
pub mod projects;
pub mod pypi;
pub mod release;
pub mod release_settings;
pub mod remote;
pub mod repos;
pub mod scans;
pub mod shares;
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
    include_str!("migrations/0009_blob_leases.sql"),
    include_str!("migrations/0010_release.sql"),
    include_str!("migrations/0011_audit.sql"),
    include_str!("migrations/0012_console_sessions.sql"),
    include_str!("migrations/0013_metadata_generation.sql"),
    include_str!("migrations/0014_go.sql"),
    include_str!("migrations/0015_oci.sql"),
    include_str!("migrations/0016_list_indexes.sql"),
    include_str!("migrations/0017_repo_meta_gens.sql"),
    include_str!("migrations/0018_user_name_trigrams.sql"),
    include_str!("migrations/0019_repo_usage.sql"),
    include_str!("migrations/0020_cargo_canonical_names.sql"),
];

/// The same schema in PostgreSQL's words, one file per SQLite migration (`migrations/pg/`): the two lists
/// stay the same length, so a schema version means the same on both.
const PG_MIGRATIONS: &[&str] = &[
    include_str!("migrations/pg/0001_identity.sql"),
    include_str!("migrations/pg/0002_iam.sql"),
    include_str!("migrations/pg/0003_repositories.sql"),
    include_str!("migrations/pg/0004_pypi_cargo.sql"),
    include_str!("migrations/pg/0005_npm.sql"),
    include_str!("migrations/pg/0006_remote_virtual.sql"),
    include_str!("migrations/pg/0007_ip_allow_list.sql"),
    include_str!("migrations/pg/0008_attention.sql"),
    include_str!("migrations/pg/0009_blob_leases.sql"),
    include_str!("migrations/pg/0010_release.sql"),
    include_str!("migrations/pg/0011_audit.sql"),
    include_str!("migrations/pg/0012_console_sessions.sql"),
    include_str!("migrations/pg/0013_metadata_generation.sql"),
    include_str!("migrations/pg/0014_go.sql"),
    include_str!("migrations/pg/0015_oci.sql"),
    include_str!("migrations/pg/0016_list_indexes.sql"),
    include_str!("migrations/pg/0017_repo_meta_gens.sql"),
    include_str!("migrations/pg/0018_user_name_trigrams.sql"),
    include_str!("migrations/pg/0019_repo_usage.sql"),
    include_str!("migrations/pg/0020_cargo_canonical_names.sql"),
];

/// Where the metadata lives, read from the `database_url` setting.
#[derive(Debug, Clone, PartialEq)]
pub enum DatabaseUrl {
    /// The embedded SQLite database: in the data directory (`None`: an empty setting or `sqlite://`), or
    /// at the path after `sqlite://`.
    Sqlite(Option<PathBuf>),
    /// A PostgreSQL server (`postgres://…` or `postgresql://…`), as the client library reads the URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// Reads the setting. The error says what is wrong without repeating the URL, which may hold a
    /// password.
    pub fn parse(url: &str) -> Result<DatabaseUrl, String> {
        if url.is_empty() {
            return Ok(DatabaseUrl::Sqlite(None));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            return Ok(DatabaseUrl::Sqlite(
                (!path.is_empty()).then(|| PathBuf::from(path)),
            ));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return match url.parse::<postgres::Config>() {
                Ok(config) if !config.get_hosts().is_empty() => {
                    Ok(DatabaseUrl::Postgres(url.to_string()))
                }
                Ok(_) => Err("database_url names no PostgreSQL host".into()),
                Err(_) => Err("database_url is not a valid postgres:// URL".into()),
            };
        }
        Err("database_url must be empty, sqlite://[PATH] or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE".into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database error: {}", postgres_message(.0))]
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
    /// The database server cannot be reached, is shutting down or starting, or refuses connections; the
    /// text is the client's, for the log.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Another error's text, where one failure is answered to several requests (`replicate`).
    #[error("{0}")]
    Repeated(String),
}

impl StoreError {
    /// The same failure again, for the other requests of a batch that failed as one: the classes that
    /// decide the answer (full, read-only, unavailable, conflict) are kept, the rest carry the text.
    pub fn replicate(&self) -> StoreError {
        match self {
            StoreError::Conflict(what) => StoreError::Conflict(what),
            StoreError::Full(d) => StoreError::Full(d.clone()),
            StoreError::ReadOnly(d) => StoreError::ReadOnly(d.clone()),
            StoreError::Unavailable(d) => StoreError::Unavailable(d.clone()),
            StoreError::Pool(e) => StoreError::Unavailable(e.to_string()),
            other => StoreError::Repeated(other.to_string()),
        }
    }

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

/// A PostgreSQL error for the log: the server's message and SQLSTATE when it answered (the client's own
/// text is only "db error"), never its DETAIL, which repeats the values of the row concerned.
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

#[derive(Clone)]
enum Pools {
    Sqlite(Pool<SqliteConnectionManager>),
    Postgres(Pool<PgManager>),
}

#[derive(Clone)]
pub struct Db {
    pool: Pools,
    /// Change counts of the tables `cache::RowCache` answers from; only where this process is the one
    /// writer (a writable SQLite database).
    generations: Option<Arc<cache::Generations>>,
    /// This process's SQLite writers' turn-taking (`conn::WriteGate`).
    write_gate: Arc<conn::WriteGate>,
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
        let mut db = Db::with_manager(path, manager)?;
        db.generations = Some(Arc::default());
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
            generations: None,
            write_gate: Arc::default(),
            dir: Arc::new(dir.to_path_buf()),
        })
    }

    fn migrate(&self) -> StoreResult<()> {
        self.blocking(|conn| {
            let tx = conn.transaction()?;
            if tx.is_postgres() {
                return migrate_postgres(tx);
            }
            let applied = tx.query_row("PRAGMA user_version", params![], |r| r.get::<i64>(0))?;
            for (index, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
                tx.execute_batch(sql)?;
                tx.execute_batch(&format!("PRAGMA user_version = {}", index + 1))?;
            }
            tx.commit()
        })
    }

    /// Connects to a PostgreSQL database (`postgres://…`) and brings its schema up to date.
    pub fn connect_postgres(url: &str) -> StoreResult<Db> {
        let config: postgres::Config = url.parse()?;
        let db = Db::postgres_pool(config, 8)?;
        db.migrate()?;
        Ok(db)
    }

    fn postgres_pool(config: postgres::Config, size: u32) -> StoreResult<Db> {
        let mut config = config;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(PG_WAIT);
        }
        // A request waits this long for a connection when the server is down, then answers 503 rather
        // than holding its client for r2d2's default 30 s.
        let pool = Pool::builder()
            .max_size(size)
            .connection_timeout(PG_WAIT)
            .build(PgManager(config))?;
        Ok(Db {
            pool: Pools::Postgres(pool),
            generations: None,
            write_gate: Arc::default(),
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

    /// `call` on an upload thread (`low_priority`): for the transactions that record uploads, so
    /// that on a saturated CPU they yield to reads as the uploads' file work does. Readers never wait for
    /// them (WAL); other writers may, a little longer.
    pub async fn call_yielding<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> StoreResult<T> + Send + 'static,
    {
        let db = self.clone();
        crate::low_priority::run(move || db.blocking(f)).await?
    }

    /// Whether other nodes may share this database (PostgreSQL), and so the blob store: in-process locks
    /// then fence nothing against them.
    pub fn is_shared(&self) -> bool {
        matches!(self.pool, Pools::Postgres(_))
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
        let waited = std::time::Instant::now();
        let conn = match &self.pool {
            Pools::Sqlite(pool) => {
                Conn::sqlite(pool.get()?).with_write_gate(self.write_gate.clone())
            }
            Pools::Postgres(pool) => {
                Conn::postgres(pool.get().map_err(|e| self.classify(e.into()))?)
            }
        };
        // A pool too small for the load shows here first, before requests time out.
        crate::telemetry::METRICS
            .pool_wait
            .observe(waited.elapsed().as_secs_f64());
        let mut conn = conn;
        let watch = match (&self.generations, conn.sqlite_handle()) {
            (Some(_), Some(handle)) => Some(cache::Watch::start(handle)),
            _ => None,
        };
        let result = f(&mut conn).map_err(|e| self.classify(e));
        if let (Some(watch), Some(generations), Some(handle)) =
            (watch, &self.generations, conn.sqlite_handle())
        {
            watch.finish(handle, generations);
        }
        result
    }

    /// The table change counts row caches check, when this process is the database's one writer.
    pub fn generations(&self) -> Option<&cache::Generations> {
        self.generations.as_deref()
    }

    /// Tells a full or read-only data directory (or database server) and an unreachable database server
    /// apart from other database failures.
    fn classify(&self, e: StoreError) -> StoreError {
        if matches!(self.pool, Pools::Postgres(_)) {
            if let Some(classified) = classify_postgres(&e) {
                return classified;
            }
        }
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

const PG_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a PostgreSQL failure means for the caller. SQLSTATE classes 08 (connection exception) and 57P (operator
/// intervention: shutting down, starting up) are a server that cannot serve now. A pool that times out
/// waiting for a connection is one whose server does not accept new ones.
fn classify_postgres(e: &StoreError) -> Option<StoreError> {
    use postgres::error::SqlState;
    let pg = match e {
        StoreError::Postgres(pg) => pg,
        StoreError::Pool(pool) => return Some(StoreError::Unavailable(pool.to_string())),
        _ => return None,
    };
    let message = postgres_message(pg);
    let Some(db) = pg.as_db_error() else {
        // No answer from the server: a closed connection or a socket error is a server out of reach;
        // anything else (a value that does not convert) is arca's own failure.
        let io = std::error::Error::source(pg).is_some_and(|s| s.is::<std::io::Error>());
        return (pg.is_closed() || io).then_some(StoreError::Unavailable(message));
    };
    let code = db.code();
    if *code == SqlState::DISK_FULL || *code == SqlState::INSUFFICIENT_RESOURCES {
        Some(StoreError::Full(message))
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        Some(StoreError::ReadOnly(message))
    } else if code.code().starts_with("08") || code.code().starts_with("57P") {
        Some(StoreError::Unavailable(message))
    } else {
        None
    }
}

/// PostgreSQL's schema version is a table of its own (it has no `user_version`). The transaction holds the
/// store's advisory lock from its start, so nodes that start at once on one database migrate it one after
/// the other: the first applies what is missing, the others find it done. DDL is transactional there, so a
/// failed migration leaves the schema as it was.
fn migrate_postgres(tx: Tx<'_>) -> StoreResult<()> {
    tx.execute_batch("CREATE TABLE IF NOT EXISTS arca_schema_version (version BIGINT NOT NULL)")?;
    let applied = tx.query_row(
        "SELECT coalesce(max(version), 0) FROM arca_schema_version",
        params![],
        |r| r.get::<i64>(0),
    )?;
    if applied > PG_MIGRATIONS.len() as i64 {
        return Err(StoreError::Corrupt(format!(
            "the database is at schema version {applied}, newer than this arca's {}",
            PG_MIGRATIONS.len()
        )));
    }
    for (index, sql) in PG_MIGRATIONS.iter().enumerate().skip(applied as usize) {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO arca_schema_version (version) VALUES (?1)",
            params![index as i64 + 1],
        )?;
    }
    tx.commit()
}

/// What a path may hold unescaped in an SQLite URI: everything but `?`, `#`, `%` and non-ASCII is safe,
/// and escaping all but the unreserved characters and `/` is simplest.
const URI_PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How many ids an id-list query takes at once (`IN (?2, …)`): shorter lists are padded with NULLs, which
/// match nothing, so one prepared statement serves every call.
pub const ID_LIST_WIDTH: usize = 100;

/// Runs `sql` once per `ID_LIST_WIDTH` of `ids`, after `key` (`?1`): `sql` names the list `{ids}`
/// (`… AND user_id IN ({ids})`). Each chunk is padded with NULLs to that width, so the statement is
/// the same whatever the number of ids and stays in the connection's prepared-statement cache.
pub(crate) fn query_by_id_list<T>(
    conn: &Conn,
    sql: &str,
    key: &dyn Param,
    ids: &[&str],
    mut f: impl FnMut(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let placeholders = (2..2 + ID_LIST_WIDTH)
        .map(|n| format!("?{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let sql = sql.replace("{ids}", &placeholders);
    let mut out = Vec::new();
    for chunk in ids.chunks(ID_LIST_WIDTH) {
        let mut list: Vec<Option<&str>> = chunk.iter().map(|id| Some(*id)).collect();
        list.resize(ID_LIST_WIDTH, None);
        let mut values: Vec<&dyn Param> = Vec::with_capacity(1 + ID_LIST_WIDTH);
        values.push(key);
        values.extend(list.iter().map(|id| id as &dyn Param));
        out.extend(conn.query_map(&sql, &values, &mut f)?);
    }
    Ok(out)
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

/// A fresh database, migrated, on each backend the tests can reach: SQLite always, and PostgreSQL when
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

/// An empty database on the server `admin` names, and its guard.
#[cfg(test)]
fn pg_empty_database(admin: &str) -> (PgTestDb, postgres::Config) {
    let name = format!("arca_test_{}", crate::domain::new_hex_id());
    let mut client = postgres::Client::connect(admin, postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let mut config: postgres::Config = admin.parse().unwrap();
    config.dbname(&name);
    let guard = PgTestDb {
        admin: admin.to_string(),
        name,
    };
    (guard, config)
}

#[cfg(test)]
fn pg_test_db(admin: &str) -> (Box<dyn std::any::Any>, Db) {
    let (guard, config) = pg_empty_database(admin);
    let db = Db::postgres_pool(config, 4).unwrap();
    db.migrate().unwrap();
    // The pool's connections close before the database is dropped: the guard is dropped after the Db
    // only if the caller keeps the tuple order, so DROP … WITH (FORCE) ends any that remain.
    (Box::new(guard), db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upload transactions run niced on every backend, and answer as `call` does.
    #[test]
    fn yielding_calls_run_on_the_niced_upload_threads() {
        // The databases are made outside any runtime, as the blocking PostgreSQL client wants.
        for (_guard, db) in test_backends() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let (nice, answer) = runtime
                .block_on(db.call_yielding(|conn| {
                    let nice = rustix::process::getpriority_process(None).unwrap_or(0);
                    Ok((
                        nice,
                        conn.query_row("SELECT CAST(40 + 2 AS BIGINT)", params![], |r| {
                            r.get::<i64>(0)
                        })?,
                    ))
                }))
                .unwrap();
            assert!(nice >= crate::low_priority::NICE);
            assert_eq!(answer, 42);
        }
    }

    #[test]
    fn database_urls_are_read_without_repeating_them() {
        assert_eq!(DatabaseUrl::parse(""), Ok(DatabaseUrl::Sqlite(None)));
        assert_eq!(
            DatabaseUrl::parse("sqlite://"),
            Ok(DatabaseUrl::Sqlite(None))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/arca/meta.db"),
            Ok(DatabaseUrl::Sqlite(Some("/var/lib/arca/meta.db".into())))
        );
        for good in [
            "postgres://arca:s3cret@db.example:5432/arca",
            "postgresql://arca@10.0.0.5/arca?sslmode=disable",
        ] {
            assert!(
                matches!(DatabaseUrl::parse(good), Ok(DatabaseUrl::Postgres(_))),
                "{good}"
            );
        }
        for bad in [
            "mysql://root:s3cret@db/arca",
            "postgres://arca:s3cret@db:notaport/arca",
            "s3cret",
        ] {
            let message = DatabaseUrl::parse(bad).unwrap_err();
            assert!(message.contains("database_url"), "{message}");
            assert!(!message.contains("s3cret"), "{message}");
        }
    }

    /// Nodes started at once on one empty database: each migrates under the advisory lock, so the schema
    /// is applied exactly once (a second application would fail on the existing tables) and every node
    /// comes up.
    #[test]
    fn nodes_starting_at_once_migrate_one_database_once() {
        let Ok(admin) = std::env::var("ARCA_TEST_PG_URL") else {
            return;
        };
        let (_guard, config) = pg_empty_database(&admin);
        let nodes: Vec<_> = (0..6)
            .map(|_| {
                let config = config.clone();
                std::thread::spawn(move || {
                    let db = Db::postgres_pool(config, 2)?;
                    db.migrate()?;
                    Ok::<_, StoreError>(db)
                })
            })
            .collect();
        let mut dbs = Vec::new();
        for node in nodes {
            dbs.push(node.join().unwrap().unwrap());
        }
        let versions: Vec<i64> = dbs[0]
            .blocking(|c| {
                c.query_map(
                    "SELECT version FROM arca_schema_version ORDER BY version",
                    params![],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(
            versions,
            (1..=PG_MIGRATIONS.len() as i64).collect::<Vec<_>>()
        );
        assert_eq!(PG_MIGRATIONS.len(), MIGRATIONS.len());
    }

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
