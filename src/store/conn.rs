//! `Conn`: the one connection type the store's queries run on, over SQLite (rusqlite) or PostgreSQL
//! (sfackler's synchronous `postgres`). It keeps the store's shape: a closure per call on the blocking pool,
//! synchronous statements, one transaction per closure. Queries are written once, in SQLite's `?1` style;
//! `dialect` turns them into PostgreSQL's `$1` style. Parameters and columns go through `Param` and
//! `FromValue`, which only types that both crates bind and read implement, so a query that compiles runs on
//! either database.

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use r2d2::PooledConnection;
use r2d2_sqlite::SqliteConnectionManager;

use super::{dialect, StoreError, StoreResult};

/// A value a statement binds: what both rusqlite and postgres know how to send. `Sync` because postgres
/// takes `&(dyn ToSql + Sync)`.
pub trait Param: rusqlite::ToSql + postgres::types::ToSql + Sync {
    fn as_sqlite(&self) -> &dyn rusqlite::ToSql;
    fn as_postgres(&self) -> &(dyn postgres::types::ToSql + Sync);
}

impl<T: rusqlite::ToSql + postgres::types::ToSql + Sync> Param for T {
    fn as_sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn as_postgres(&self) -> &(dyn postgres::types::ToSql + Sync) {
        self
    }
}

/// A column type both crates read: i64, String, bool, Vec<u8>, f64, and `Option`s of them.
pub trait FromValue: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a> {}

impl<T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>> FromValue for T {}

/// The parameters of one statement, as `&[&dyn Param]`: `params![a, b]`, or `params![]` for none.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::store::Param]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::store::Param),+] as &[&dyn $crate::store::Param]
    };
}

/// One pooled connection of either backend, and on SQLite the process's turn-taking for its write lock.
pub struct Conn(Backend, Option<Arc<WriteGate>>);

/// Lets this process's SQLite writers take the database's one write lock in turn. Without it, a writer that
/// finds the lock taken is left to SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between tries: under
/// many small writes at once (a ticket's use is one) most of a request's time went to those sleeps. Waiting
/// here wakes the next writer the moment the lock is free. A writer waits at most as long as SQLite would
/// (`busy_timeout`), then goes on to SQLite's own locking, so a call that nests a second writer cannot hang.
#[derive(Default)]
pub struct WriteGate {
    taken: Mutex<bool>,
    freed: Condvar,
}

/// A writer's turn: the next one's starts when this drops.
pub struct WriteTurn(Option<Arc<WriteGate>>);

const GATE_PATIENCE: Duration = Duration::from_secs(10);

impl WriteGate {
    fn enter(gate: &Arc<WriteGate>) -> WriteTurn {
        let taken = gate.taken.lock().unwrap_or_else(|e| e.into_inner());
        let (mut taken, waited) = gate
            .freed
            .wait_timeout_while(taken, GATE_PATIENCE, |taken| *taken)
            .unwrap_or_else(|e| e.into_inner());
        if waited.timed_out() {
            return WriteTurn(None);
        }
        *taken = true;
        WriteTurn(Some(gate.clone()))
    }
}

impl Drop for WriteTurn {
    fn drop(&mut self) {
        if let Some(gate) = self.0.take() {
            *gate.taken.lock().unwrap_or_else(|e| e.into_inner()) = false;
            gate.freed.notify_one();
        }
    }
}

// One `Conn` lives on the stack of each database call: its size costs nothing worth a box per call.
#[allow(clippy::large_enum_variant)]
enum Backend {
    Sqlite(PooledConnection<SqliteConnectionManager>),
    /// `postgres::Client` takes `&mut self` for every statement where rusqlite takes `&self`; the store's
    /// functions share `&Conn`, and a connection is used by one thread at a time, so a `RefCell` bridges
    /// them. No borrow outlives a call: rows are fetched before they are read.
    Postgres(Box<RefCell<PooledConnection<PgManager>>>),
}

/// One row of a result, read by column index.
pub struct Row<'r>(RowRef<'r>);

enum RowRef<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    pub fn get<T: FromValue>(&self, idx: usize) -> StoreResult<T> {
        match &self.0 {
            RowRef::Sqlite(r) => Ok(r.get(idx)?),
            RowRef::Postgres(r) => Ok(r.try_get(idx)?),
        }
    }
}

impl Conn {
    pub(crate) fn sqlite(conn: PooledConnection<SqliteConnectionManager>) -> Conn {
        Conn(Backend::Sqlite(conn), None)
    }

    pub(crate) fn postgres(conn: PooledConnection<PgManager>) -> Conn {
        Conn(Backend::Postgres(Box::new(RefCell::new(conn))), None)
    }

    /// Writers on this connection take turns through `gate` (SQLite).
    pub(crate) fn with_write_gate(mut self, gate: Arc<WriteGate>) -> Conn {
        self.1 = Some(gate);
        self
    }

    /// This process's turn at the write lock, for a write made outside `transaction` (which takes one
    /// itself); on PostgreSQL, where row locks order writers, none is needed.
    pub fn write_turn(&self) -> WriteTurn {
        match &self.1 {
            Some(gate) => WriteGate::enter(gate),
            None => WriteTurn(None),
        }
    }

    /// The SQLite connection underneath, for what only SQLite has (its update hook).
    pub(crate) fn sqlite_handle(&self) -> Option<&rusqlite::Connection> {
        match &self.0 {
            Backend::Sqlite(c) => Some(c),
            Backend::Postgres(_) => None,
        }
    }

    /// Runs one statement; the number of rows it changed.
    pub fn execute(&self, sql: &str, params: &[&dyn Param]) -> StoreResult<usize> {
        match &self.0 {
            Backend::Sqlite(c) => Ok(c.prepare_cached(sql)?.execute(sqlite_params(params))?),
            Backend::Postgres(c) => {
                let c = &mut *c.borrow_mut();
                let statement = c.statement(sql)?;
                Ok(c.client.execute(&statement, &postgres_params(params))? as usize)
            }
        }
    }

    /// Runs statements that take no parameters, one after the other (migrations).
    pub fn execute_batch(&self, sql: &str) -> StoreResult<()> {
        match &self.0 {
            Backend::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Backend::Postgres(c) => Ok(c.borrow_mut().client.batch_execute(sql)?),
        }
    }

    /// The first row of a query, read by `f`; `None` when there is none.
    pub fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        match &self.0 {
            Backend::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(sqlite_params(params))?;
                match rows.next()? {
                    Some(r) => f(&Row(RowRef::Sqlite(r))).map(Some),
                    None => Ok(None),
                }
            }
            Backend::Postgres(c) => {
                let rows = c.borrow_mut().query(sql, params)?;
                rows.first()
                    .map(|r| f(&Row(RowRef::Postgres(r))))
                    .transpose()
            }
        }
    }

    /// The first row of a query that always returns one (an aggregate, a row just written).
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        f: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        self.query_opt(sql, params, f)?
            .ok_or_else(|| match &self.0 {
                Backend::Sqlite(_) => rusqlite::Error::QueryReturnedNoRows.into(),
                // The queries that must return a row are aggregates and `RETURNING`: none means the data
                // is not what the store wrote.
                Backend::Postgres(_) => StoreError::Corrupt("a query returned no row".into()),
            })
    }

    /// Every row of a query, each read by `f`.
    pub fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn Param],
        mut f: impl FnMut(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        match &self.0 {
            Backend::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(sqlite_params(params))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(f(&Row(RowRef::Sqlite(r)))?);
                }
                Ok(out)
            }
            Backend::Postgres(c) => {
                let rows = c.borrow_mut().query(sql, params)?;
                rows.iter().map(|r| f(&Row(RowRef::Postgres(r)))).collect()
            }
        }
    }

    /// Begins a transaction that holds the database's write lock from its start, so that reads made in it
    /// stay true until it commits. SQLite: `BEGIN IMMEDIATE` (a deferred one that reads and then writes
    /// fails at once when another connection committed meanwhile, as WAL cannot upgrade a stale snapshot).
    /// PostgreSQL: `BEGIN` and one advisory lock, the same one writer at a time, held in the database so
    /// that it holds across nodes; `COMMIT` or `ROLLBACK` releases it. Dropped without `commit`, it rolls
    /// back.
    pub fn transaction(&mut self) -> StoreResult<Tx<'_>> {
        let turn = self.write_turn();
        match &self.0 {
            Backend::Sqlite(c) => c.execute_batch("BEGIN IMMEDIATE")?,
            Backend::Postgres(c) => c.borrow_mut().client.batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})"
            ))?,
        }
        Ok(Tx {
            conn: self,
            open: true,
            _turn: turn,
        })
    }

    /// Runs `f`'s reads in one read transaction on SQLite: they see one snapshot, and the connection's
    /// page cache is checked against the WAL once rather than at each statement. A commit by another
    /// connection between two statements makes SQLite drop the whole cache at the next one; under a
    /// steady stream of uploads that happened between most statements of a long read, which then read
    /// every page again. On PostgreSQL `f` runs as it is.
    pub fn reading<T>(&mut self, f: impl FnOnce(&mut Conn) -> StoreResult<T>) -> StoreResult<T> {
        if let Backend::Sqlite(c) = &self.0 {
            c.execute_batch("BEGIN DEFERRED")?;
        }
        let out = f(self);
        if let Backend::Sqlite(c) = &self.0 {
            if !c.is_autocommit() {
                let ended = c.execute_batch(if out.is_ok() { "COMMIT" } else { "ROLLBACK" });
                if out.is_ok() {
                    ended?;
                }
            }
        }
        out
    }

    /// Whether this connection is to PostgreSQL (for the few statements `dialect` spells per backend).
    pub fn is_postgres(&self) -> bool {
        matches!(self.0, Backend::Postgres(_))
    }

    /// The rusqlite connection underneath, for tests of SQLite's own behaviour.
    #[cfg(test)]
    pub(crate) fn as_sqlite(&self) -> &rusqlite::Connection {
        match &self.0 {
            Backend::Sqlite(c) => c,
            Backend::Postgres(_) => panic!("not an SQLite connection"),
        }
    }
}

fn sqlite_params<'p>(
    params: &'p [&'p dyn Param],
) -> rusqlite::ParamsFromIter<impl Iterator<Item = &'p dyn rusqlite::ToSql>> {
    rusqlite::params_from_iter(params.iter().map(|p| p.as_sqlite()))
}

fn postgres_params<'p>(
    params: &'p [&'p dyn Param],
) -> Vec<&'p (dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p.as_postgres()).collect()
}

/// The key of the advisory lock every PostgreSQL transaction takes (an arbitrary constant: "arca").
const WRITE_LOCK: i64 = 0x6172_6361;

/// Statements a PostgreSQL connection keeps prepared, by their SQLite text; texts beyond this many (a
/// dynamic `IN` list of every length) are prepared each time.
const STATEMENT_CACHE: usize = 512;

/// A PostgreSQL connection with the statements it has prepared, so a query's text is translated and
/// parsed once per connection rather than on every call.
pub struct PgClient {
    client: OffRuntime,
    statements: HashMap<String, postgres::Statement>,
}

impl PgClient {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(&dialect::postgres_placeholders(sql))?;
        if self.statements.len() < STATEMENT_CACHE {
            self.statements.insert(sql.to_owned(), statement.clone());
        }
        Ok(statement)
    }

    fn query(&mut self, sql: &str, params: &[&dyn Param]) -> StoreResult<Vec<postgres::Row>> {
        let statement = self.statement(sql)?;
        Ok(self.client.query(&statement, &postgres_params(params))?)
    }
}

/// A PostgreSQL client that may be dropped anywhere. The synchronous client closes its connection by
/// blocking on a runtime of its own, which panics on a tokio thread (and a panic there, during unwinding,
/// aborts the process): the last clone of the pool, and with it every connection, can be dropped by the
/// server's runtime at shutdown. Dropped on a runtime thread, the client is closed on a thread of its own.
struct OffRuntime(Option<postgres::Client>);

impl Deref for OffRuntime {
    type Target = postgres::Client;
    fn deref(&self) -> &postgres::Client {
        self.0
            .as_ref()
            .expect("the client is present until dropped")
    }
}

impl DerefMut for OffRuntime {
    fn deref_mut(&mut self) -> &mut postgres::Client {
        self.0
            .as_mut()
            .expect("the client is present until dropped")
    }
}

impl Drop for OffRuntime {
    fn drop(&mut self) {
        if let Some(client) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                std::thread::spawn(move || drop(client));
            }
        }
    }
}

/// The r2d2 manager of `PgClient`s: r2d2_postgres's, with the statement cache kept in the connection.
pub struct PgManager(pub postgres::Config);

impl r2d2::ManageConnection for PgManager {
    type Connection = PgClient;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgClient, postgres::Error> {
        Ok(PgClient {
            client: OffRuntime(Some(self.0.connect(postgres::NoTls)?)),
            statements: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgClient) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, conn: &mut PgClient) -> bool {
        conn.client.is_closed()
    }
}

/// An open transaction; the connection's statements run in it until `commit`, or a rollback on drop.
pub struct Tx<'c> {
    conn: &'c mut Conn,
    open: bool,
    /// Released after `COMMIT` or the rollback on drop (fields drop after `Drop::drop` runs).
    _turn: WriteTurn,
}

impl Tx<'_> {
    pub fn commit(mut self) -> StoreResult<()> {
        self.open = false;
        self.conn.execute_batch("COMMIT")
    }
}

impl Deref for Tx<'_> {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        self.conn
    }
}

impl DerefMut for Tx<'_> {
    fn deref_mut(&mut self) -> &mut Conn {
        self.conn
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A failed rollback leaves nothing to do here: SQLite rolls back on its own when a statement
            // fails in a way that ends the transaction, and the pool's next user starts a new one.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod gate_tests {
    use super::*;

    #[test]
    fn writers_take_turns_and_the_next_goes_as_soon_as_one_is_done() {
        let gate = Arc::new(WriteGate::default());
        let order = Arc::new(Mutex::new(Vec::new()));
        let first = WriteGate::enter(&gate);
        let waiter = {
            let (gate, order) = (gate.clone(), order.clone());
            std::thread::spawn(move || {
                let _turn = WriteGate::enter(&gate);
                order.lock().unwrap().push("second");
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        order.lock().unwrap().push("first done");
        drop(first);
        let started = std::time::Instant::now();
        waiter.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(*order.lock().unwrap(), ["first done", "second"]);
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{test_backends, StoreError};

    // The same DDL on both: SQLite reads BIGINT as INTEGER, BYTEA as a NUMERIC column (which keeps blobs
    // as they are) and DOUBLE PRECISION as REAL.
    const TABLE: &str =
        "CREATE TABLE t (i BIGINT, s TEXT, b BYTEA, f BOOLEAN, n TEXT, r DOUBLE PRECISION)";

    #[test]
    fn parameters_and_columns_round_trip() {
        for (_guard, db) in test_backends() {
            db.blocking(|c| {
                c.execute_batch(TABLE)?;
                let bytes = vec![0u8, 255, 7];
                let none: Option<&str> = None;
                let changed = c.execute(
                    "INSERT INTO t (i, s, b, f, n, r) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![i64::MIN, "it's ?1", bytes, true, none, 1.5f64],
                )?;
                assert_eq!(changed, 1);
                let row = c.query_row(
                    "SELECT i, s, b, f, n, r FROM t WHERE s = 'it''s ?1' AND i = ?1",
                    params![i64::MIN],
                    |r| {
                        Ok((
                            r.get::<i64>(0)?,
                            r.get::<String>(1)?,
                            r.get::<Vec<u8>>(2)?,
                            r.get::<bool>(3)?,
                            r.get::<Option<String>>(4)?,
                            r.get::<f64>(5)?,
                        ))
                    },
                )?;
                assert_eq!(row, (i64::MIN, "it's ?1".into(), bytes, true, None, 1.5));
                Ok(())
            })
            .unwrap();
        }
    }

    #[test]
    fn reads_in_reading_see_one_snapshot_on_sqlite() {
        let (_dir, db) = crate::store::test_db();
        let count = |c: &mut super::Conn| {
            c.query_row("SELECT count(*) FROM t", params![], |r| r.get::<i64>(0))
        };
        db.blocking(|c| c.execute_batch("CREATE TABLE t (x BIGINT); INSERT INTO t (x) VALUES (1)"))
            .unwrap();
        let seen = db
            .blocking(|c| {
                c.reading(|c| {
                    let before = count(c)?;
                    // Another connection commits between the two reads.
                    db.blocking(|other| {
                        other
                            .execute("INSERT INTO t (x) VALUES (2)", params![])
                            .map(|_| ())
                    })?;
                    Ok((before, count(c)?))
                })
            })
            .unwrap();
        assert_eq!(seen, (1, 1));
        assert_eq!(db.blocking(|c| count(c)).unwrap(), 2);
        // A failed read ends its transaction too: the connection goes back to the pool usable.
        let failed = db.blocking(|c| {
            c.reading(|c| c.query_row("SELECT nope FROM t", params![], |r| r.get::<i64>(0)))
        });
        assert!(failed.is_err());
        db.blocking(|c| {
            c.execute("INSERT INTO t (x) VALUES (3)", params![])?;
            assert_eq!(count(c)?, 3);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn optional_rows_and_collections() {
        for (_guard, db) in test_backends() {
            db.blocking(|c| {
                c.execute_batch("CREATE TABLE t (x BIGINT)")?;
                for x in [3i64, 1, 2] {
                    c.execute("INSERT INTO t (x) VALUES (?1)", params![x])?;
                }
                let all =
                    c.query_map("SELECT x FROM t ORDER BY x", params![], |r| r.get::<i64>(0))?;
                assert_eq!(all, [1, 2, 3]);
                let some = c.query_map("SELECT x FROM t WHERE x > ?1", params![5i64], |r| {
                    r.get::<i64>(0)
                })?;
                assert!(some.is_empty());
                let none = c.query_opt("SELECT x FROM t WHERE x = ?1", params![9i64], |r| {
                    r.get::<i64>(0)
                })?;
                assert_eq!(none, None);
                let missing = c.query_row("SELECT x FROM t WHERE x = 9", params![], |r| {
                    r.get::<i64>(0)
                });
                assert!(missing.is_err());
                Ok(())
            })
            .unwrap();
        }
    }

    #[test]
    fn a_transaction_commits_or_rolls_back_when_dropped() {
        for (_guard, db) in test_backends() {
            db.blocking(|c| {
                c.execute_batch("CREATE TABLE t (x BIGINT PRIMARY KEY)")?;
                {
                    let tx = c.transaction()?;
                    tx.execute("INSERT INTO t (x) VALUES (1)", params![])?;
                }
                {
                    let tx = c.transaction()?;
                    tx.execute("INSERT INTO t (x) VALUES (2)", params![])?;
                    tx.commit()?;
                }
                let xs = c.query_map("SELECT x FROM t", params![], |r| r.get::<i64>(0))?;
                assert_eq!(xs, [2]);
                let dup = c.execute("INSERT INTO t (x) VALUES (?1)", params![2i64]);
                assert!(matches!(&dup, Err(e) if e.is_unique_violation()), "{dup:?}");
                assert!(!StoreError::Conflict("x").is_unique_violation());
                let returned = c.query_row(
                    "INSERT INTO t (x) VALUES (?1) ON CONFLICT DO NOTHING RETURNING x",
                    params![5i64],
                    |r| r.get::<i64>(0),
                )?;
                assert_eq!(returned, 5);
                Ok(())
            })
            .unwrap();
        }
    }

    /// Two transactions never overlap, on one node or across nodes (two pools stand for two nodes).
    #[test]
    fn transactions_exclude_each_other() {
        for (_guard, db) in test_backends() {
            db.blocking(|c| c.execute_batch("CREATE TABLE t (x BIGINT)"))
                .unwrap();
            let writers: Vec<_> = (0..4)
                .map(|_| {
                    let db = db.clone();
                    std::thread::spawn(move || {
                        for _ in 0..25 {
                            db.blocking(|c| {
                                let tx = c.transaction()?;
                                let n = tx.query_row("SELECT count(*) FROM t", params![], |r| {
                                    r.get::<i64>(0)
                                })?;
                                tx.execute("INSERT INTO t (x) VALUES (?1)", params![n])?;
                                tx.commit()
                            })
                            .unwrap();
                        }
                    })
                })
                .collect();
            for w in writers {
                w.join().unwrap();
            }
            let distinct = db
                .blocking(|c| {
                    c.query_row("SELECT count(DISTINCT x) FROM t", params![], |r| {
                        r.get::<i64>(0)
                    })
                })
                .unwrap();
            assert_eq!(distinct, 100, "two transactions read the same count");
        }
    }
}
