//! Rows a request reads on every artifact GET (its repository, the file, the caller's password hash and
//! privilege entries, the repository's metadata generation), kept in memory and dropped the moment a row
//! they come from changes.
//!
//! Only when this process is the database's one writer (SQLite): every change then goes through
//! `Db::blocking`, which watches what each call writes with SQLite's update hook and, once the call has
//! returned (its transaction committed), bumps the change counts of what it touched. A kept answer carries
//! the sum of the counts it depends on and is served only while that sum is unchanged, so an answer is never
//! served after the call that changed its rows returned, which is before the change is acknowledged. On
//! PostgreSQL other nodes change rows this node never sees, so nothing is kept and every read asks.
//!
//! Most tables count per class: any change to a repository drops every kept repository. The two that
//! every upload writes, `files` and `repo_meta_gens`, count per row (by rowid, in a fixed number of
//! slots), or an upload anywhere would drop every kept file and generation and send the reads of a busy
//! node to the database: an answer naming a row depends on that row's slot; an answer that found no row
//! depends on the class's count of rows added or changed (an insert, or an update such as a restore from
//! the recycle bin, can make a row appear; a delete cannot).
//!
//! SQLite reports rows changed by statements and by triggers, not those a `DELETE` without `WHERE` drops
//! (its truncate optimization, which triggers on a table turn off), nor rows a `REPLACE` conflict
//! resolution deletes, nor changes to `WITHOUT ROWID` tables: the watched tables are never emptied that
//! way, never written with `REPLACE`, and all have rowids. `blobs` is not watched: a blob row is inserted
//! once, never updated, and deleted only when no file names it, so no kept file answer reads one that
//! changed.

use std::borrow::Borrow;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use quick_cache::sync::Cache;
use quick_cache::Equivalent;
use rusqlite::hooks::Action;

use super::{Conn, Db, StoreResult};

/// Groups of tables whose changes drop the answers read from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    Repositories = 0,
    /// `files`, counted per row.
    Files = 1,
    Users = 2,
    /// Who holds which role where and what the roles grant: members, roles, grants, shares, projects.
    Grants = 3,
    /// Repositories' metadata generations (`repo_meta_gens`), bumped by every upload; counted per row.
    MetaGens = 4,
    /// `tickets`, counted per row: what ends the uses a node holds of a ticket (`service::ticket_uses`).
    Tickets = 5,
    /// `cargo_versions`: which file a crate version's download is.
    CargoVersions = 6,
}

const CLASSES: usize = 7;
/// Row counts per row-counted class; two rows sharing a slot drop each other's answers, nothing worse.
const SLOTS: usize = 1024;
/// A call that changes more rows than this (a repository's files deleted) counts as a change to the class.
const MAX_ROWS: usize = 64;

impl Tables {
    fn of(table: &str) -> Option<Tables> {
        Some(match table {
            "repositories" => Tables::Repositories,
            "files" => Tables::Files,
            "users" => Tables::Users,
            "project_members" | "roles" | "role_grants" | "repo_shares" | "projects" => {
                Tables::Grants
            }
            "repo_meta_gens" => Tables::MetaGens,
            "tickets" => Tables::Tickets,
            "cargo_versions" => Tables::CargoVersions,
            _ => return None,
        })
    }

    fn by_row(self) -> bool {
        matches!(self, Tables::Files | Tables::MetaGens | Tables::Tickets)
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// What one database call changed.
#[derive(Default)]
struct Touched {
    /// Classes changed as a whole.
    classes: u32,
    /// Row-counted classes that had rows inserted or updated.
    appeared: u32,
    rows: Vec<(Tables, i64)>,
}

/// Change counts since start: per class, per row slot, and of anything at all.
pub struct Generations {
    /// Bumped before every other count, so a read that raced a change keeps nothing (`RowCache`).
    any: AtomicU64,
    classes: [AtomicU64; CLASSES],
    appeared: [AtomicU64; CLASSES],
    rows: Box<[AtomicU64]>,
}

impl Default for Generations {
    fn default() -> Self {
        Generations {
            any: AtomicU64::new(0),
            classes: Default::default(),
            appeared: Default::default(),
            rows: (0..CLASSES * SLOTS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Generations {
    /// One number that changes whenever any of `tables` changes as a whole.
    fn of(&self, tables: &[Tables]) -> u64 {
        tables
            .iter()
            .map(|t| self.classes[*t as usize].load(Ordering::SeqCst))
            .fold(0u64, u64::wrapping_add)
    }

    /// One number that changes whenever row `row` of `class` does, or, for an answer that found no row
    /// (`None`), whenever a row of `class` is inserted or updated.
    fn of_row(&self, class: Tables, row: Option<i64>) -> u64 {
        let rows = match row {
            Some(row) => self.rows[slot(class, row)].load(Ordering::SeqCst),
            None => self.appeared[class as usize].load(Ordering::SeqCst),
        };
        self.of(&[class]).wrapping_add(rows)
    }

    fn any(&self) -> u64 {
        self.any.load(Ordering::SeqCst)
    }

    /// One number that changes whenever row `row` of row-counted `class` does, or any of `tables`. A
    /// call that changes the row moves it by exactly one (a row is counted once per call, and a call that
    /// counts its whole class instead moves the class's count once), so a caller that read it before its
    /// own change can tell whether anyone else's came in between.
    pub(crate) fn of_row_and(&self, class: Tables, row: i64, tables: &[Tables]) -> u64 {
        debug_assert!(class.by_row(), "{class:?} is counted per class");
        self.of_row(class, Some(row)).wrapping_add(self.of(tables))
    }

    fn bump(&self, touched: &Touched) {
        if touched.classes == 0 && touched.appeared == 0 && touched.rows.is_empty() {
            return;
        }
        self.any.fetch_add(1, Ordering::SeqCst);
        for class in 0..CLASSES {
            if touched.classes & (1 << class) != 0 {
                self.classes[class].fetch_add(1, Ordering::SeqCst);
            }
            if touched.appeared & (1 << class) != 0 {
                self.appeared[class].fetch_add(1, Ordering::SeqCst);
            }
        }
        for (class, row) in &touched.rows {
            self.rows[slot(*class, *row)].fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn slot(class: Tables, row: i64) -> usize {
    class as usize * SLOTS + row.rem_euclid(SLOTS as i64) as usize
}

/// Watches one `Db::blocking` call's writes on a SQLite connection.
pub(super) struct Watch {
    touched: Arc<Mutex<Touched>>,
}

impl Watch {
    pub(super) fn start(conn: &rusqlite::Connection) -> Watch {
        let touched = Arc::new(Mutex::new(Touched::default()));
        let marks = touched.clone();
        conn.update_hook(Some(
            move |action: Action, _: &str, table: &str, row: i64| {
                let Some(class) = Tables::of(table) else {
                    return;
                };
                let mut marks = marks.lock().unwrap_or_else(|e| e.into_inner());
                if !class.by_row() {
                    marks.classes |= class.bit();
                    return;
                }
                if action != Action::SQLITE_DELETE {
                    marks.appeared |= class.bit();
                }
                if marks.classes & class.bit() != 0 {
                    return;
                }
                // Counted once per call however often the call changes it, so a call moves a row's
                // count by one (`Generations::of_row_and`).
                if marks.rows.contains(&(class, row)) {
                    return;
                }
                if marks.rows.len() >= MAX_ROWS {
                    marks.classes |= class.bit();
                    marks.rows.retain(|(c, _)| *c != class);
                    return;
                }
                marks.rows.push((class, row));
            },
        ));
        Watch { touched }
    }

    /// After the call: its transaction, if any, has committed or rolled back.
    pub(super) fn finish(self, conn: &rusqlite::Connection, generations: &Generations) {
        conn.update_hook(None::<fn(Action, &str, &str, i64)>);
        generations.bump(&self.touched.lock().unwrap_or_else(|e| e.into_inner()));
    }
}

/// The row of a row-counted class an answer was read from (`None`: it found none).
type RowOf<V> = fn(&V) -> Option<i64>;

/// Answers of one kind of read, by key, each kept with the change counts it was read at.
pub struct RowCache<K, V> {
    tables: &'static [Tables],
    /// For answers read from one row of a row-counted class: the class, and the row an answer names.
    by_row: Option<(Tables, RowOf<V>)>,
    entries: Cache<K, (u64, V)>,
}

impl<K, V> RowCache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `capacity` answers, read from `tables` (counted per class).
    pub fn new(tables: &'static [Tables], capacity: usize) -> Self {
        RowCache {
            tables,
            by_row: None,
            entries: Cache::new(capacity.max(1)),
        }
    }

    /// At most `capacity` answers, each read from the row of `class` that `row_of` names in it (`None`:
    /// the answer found none) and from `tables` (counted per class).
    pub fn by_row(
        tables: &'static [Tables],
        class: Tables,
        row_of: RowOf<V>,
        capacity: usize,
    ) -> Self {
        debug_assert!(class.by_row(), "{class:?} is counted per class");
        RowCache {
            tables,
            by_row: Some((class, row_of)),
            entries: Cache::new(capacity.max(1)),
        }
    }

    fn stamp(&self, generations: &Generations, value: &V) -> u64 {
        let classes = generations.of(self.tables);
        match self.by_row {
            Some((class, row_of)) => classes.wrapping_add(generations.of_row(class, row_of(value))),
            None => classes,
        }
    }

    /// The answer for `key`, from memory when nothing it was read from has changed since it was kept;
    /// else read by the database call `load` makes of the key (made only then, so a hit allocates nothing
    /// for it).
    pub async fn get_or_load<F>(
        &self,
        db: &Db,
        key: K,
        load: impl FnOnce(&K) -> F,
    ) -> StoreResult<V>
    where
        F: FnOnce(&mut Conn) -> StoreResult<V> + Send + 'static,
    {
        let Some(generations) = db.generations() else {
            return db.call(load(&key)).await;
        };
        if let Some(value) = self.kept(generations, &key) {
            return Ok(value);
        }
        // Which row the answer depends on is known only once it is read. A change counted between the
        // read and the stamp would leave an old answer under the new count: `any` moves first in every
        // change, so such a race shows here and the answer is served but not kept.
        let before = generations.any();
        let value = db.call(load(&key)).await?;
        let stamp = self.stamp(generations, &value);
        if generations.any() == before {
            self.entries.insert(key, (stamp, value.clone()));
        }
        Ok(value)
    }

    /// `get_or_load` by a borrowed key (a `&str` for a `String` key), so a hit allocates no key.
    pub async fn get_or_load_borrowed<Q, F>(
        &self,
        db: &Db,
        key: &Q,
        load: impl FnOnce(&K) -> F,
    ) -> StoreResult<V>
    where
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
        K: Borrow<Q>,
        F: FnOnce(&mut Conn) -> StoreResult<V> + Send + 'static,
    {
        self.get_or_load_by(db, key, Q::to_owned, load).await
    }

    /// `get_or_load` by `probe`, a key that hashes and compares as its owned form `owned` builds (made
    /// only on a miss).
    pub async fn get_or_load_by<Q, F>(
        &self,
        db: &Db,
        probe: &Q,
        owned: impl FnOnce(&Q) -> K,
        load: impl FnOnce(&K) -> F,
    ) -> StoreResult<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
        F: FnOnce(&mut Conn) -> StoreResult<V> + Send + 'static,
    {
        if let Some(value) = db.generations().and_then(|g| self.kept(g, probe)) {
            return Ok(value);
        }
        // A miss asks once more under the owned key: a lookup beside the database read that follows.
        self.get_or_load(db, owned(probe), load).await
    }

    /// The answer kept for `key`, while nothing it was read from has changed.
    fn kept<Q>(&self, generations: &Generations, key: &Q) -> Option<V>
    where
        Q: Hash + Equivalent<K> + ?Sized,
    {
        let (kept_at, value) = self.entries.get(key)?;
        (kept_at == self.stamp(generations, &value)).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::repos::{self, insert_repo, tests_support::repo_fixture, Repository};
    use crate::store::{params, test_db};

    fn repositories(conn: &mut Conn) -> StoreResult<i64> {
        conn.query_row("SELECT count(*) FROM repositories", params![], |r| {
            r.get::<i64>(0)
        })
    }

    #[tokio::test]
    async fn a_change_is_seen_by_the_next_read_and_other_tables_keep_their_answers() {
        let (_dir, db) = test_db();
        let cache: RowCache<&str, i64> = RowCache::new(&[Tables::Repositories], 8);
        let generations = || db.generations().unwrap().of(&[Tables::Repositories]);
        assert_eq!(
            cache.get_or_load(&db, "n", |_| repositories).await.unwrap(),
            0
        );
        let kept_at = generations();

        // A write to a table the answer does not come from keeps it.
        db.call(|c| {
            insert_domain(
                c,
                &Domain {
                    id: "d".into(),
                    name: "dom".into(),
                },
                0,
            )
        })
        .await
        .unwrap();
        assert_eq!(generations(), kept_at);

        db.call(|c| insert_repo(c, &repo_fixture())).await.unwrap();
        assert_ne!(generations(), kept_at);
        assert_eq!(
            cache.get_or_load(&db, "n", |_| repositories).await.unwrap(),
            1
        );

        // A change inside a transaction counts too, once the call that made it has returned.
        db.call(|c| {
            let tx = c.transaction()?;
            insert_repo(
                &tx,
                &Repository {
                    name: "second".into(),
                    ..repo_fixture()
                },
            )?;
            tx.commit()
        })
        .await
        .unwrap();
        assert_eq!(
            cache.get_or_load(&db, "n", |_| repositories).await.unwrap(),
            2
        );
        // Unchanged since: answered from memory, not by the loader.
        let answer = cache
            .get_or_load(&db, "n", |_| {
                |_: &mut Conn| -> StoreResult<i64> { panic!("read again") }
            })
            .await
            .unwrap();
        assert_eq!(answer, 2);
    }

    #[tokio::test]
    async fn a_borrowed_key_finds_the_owned_one_and_a_change_still_reloads() {
        let (_dir, db) = test_db();
        let cache: RowCache<String, i64> = RowCache::new(&[Tables::Repositories], 8);
        let never = |_: &String| |_: &mut Conn| -> StoreResult<i64> { panic!("read again") };
        assert_eq!(
            cache
                .get_or_load_borrowed(&db, "n", |_| repositories)
                .await
                .unwrap(),
            0
        );
        // Kept under the owned key: both ways of asking find it without reading.
        assert_eq!(
            cache.get_or_load_borrowed(&db, "n", never).await.unwrap(),
            0
        );
        assert_eq!(
            cache
                .get_or_load(&db, "n".to_string(), never)
                .await
                .unwrap(),
            0
        );
        domain_and_repo(&db);
        assert_eq!(
            cache
                .get_or_load_borrowed(&db, "n", |_| repositories)
                .await
                .unwrap(),
            1
        );
    }

    fn domain_and_repo(db: &Db) -> Repository {
        let repo = repo_fixture();
        let inserted = repo.clone();
        db.blocking(move |c| {
            insert_domain(
                c,
                &Domain {
                    id: "d".into(),
                    name: "dom".into(),
                },
                0,
            )?;
            insert_repo(c, &inserted)
        })
        .unwrap();
        repo
    }

    fn upload(db: &Db, repo_id: &str, path: &str, content: &[u8]) {
        let blob = crate::blob::BlobInfo::of(content);
        db.blocking(|c| repos::put_file(c, repo_id, path, &blob, "text/plain", "u", 1))
            .unwrap();
    }

    #[tokio::test]
    async fn an_upload_leaves_the_repository_rows_kept() {
        let (_dir, db) = test_db();
        let repo = domain_and_repo(&db);
        let repos_before = db.generations().unwrap().of(&[Tables::Repositories]);
        upload(&db, &repo.id, "a.txt", b"bytes");
        assert_eq!(
            db.generations().unwrap().of(&[Tables::Repositories]),
            repos_before
        );
        let id = repo.id.clone();
        let generation = db
            .call(move |c| repos::metadata_generation(c, &id))
            .await
            .unwrap();
        assert_eq!(generation, Some(1));
    }

    /// File answers and metadata generations are dropped by a change to their own row only: an upload
    /// elsewhere keeps them, and an answer that found nothing is dropped by whatever can make it appear.
    #[tokio::test]
    async fn answers_counted_per_row_are_dropped_by_their_row_only() {
        let (_dir, db) = test_db();
        let repo = domain_and_repo(&db);
        let files: RowCache<String, Option<repos::FileEntry>> =
            RowCache::by_row(&[], Tables::Files, |f| f.as_ref().map(|f| f.id), 8);
        let repo_id = repo.id.clone();
        let read = |path: &str| {
            let (repo_id, path) = (repo_id.clone(), path.to_string());
            files.get_or_load(&db, path.clone(), move |_| {
                move |c: &mut Conn| repos::get_live_file(c, &repo_id, &path)
            })
        };
        let kept = |path: &str| {
            files.get_or_load(&db, path.to_string(), |_| {
                |_: &mut Conn| -> StoreResult<Option<repos::FileEntry>> { panic!("read again") }
            })
        };
        upload(&db, &repo.id, "a.txt", b"one");
        let first = read("a.txt").await.unwrap().unwrap();
        assert_eq!(read("b.txt").await.unwrap(), None);

        // Another path's upload keeps the answer naming a row, and drops the one that found none.
        upload(&db, &repo.id, "c.txt", b"other");
        assert_eq!(kept("a.txt").await.unwrap().unwrap(), first);
        assert_eq!(read("b.txt").await.unwrap(), None);

        // An overwrite of the path is seen at once.
        upload(&db, &repo.id, "a.txt", b"two");
        let second = read("a.txt").await.unwrap().unwrap();
        assert_ne!(second.sha256, first.sha256);

        // So are the recycle bin and a restore from it (an update, which can make a row appear).
        let rid = repo.id.clone();
        db.blocking(move |c| repos::trash_file(c, &rid, "a.txt", "u", 2))
            .unwrap();
        assert_eq!(read("a.txt").await.unwrap(), None);
        db.blocking(move |c| repos::restore_file(c, second.id))
            .unwrap();
        assert_eq!(read("a.txt").await.unwrap().unwrap().id, second.id);

        // A read that raced a change is served but not kept: here the change is made by the read's own call.
        let (rid, racy) = (repo.id.clone(), "racy.txt".to_string());
        files
            .get_or_load(&db, racy.clone(), move |_| {
                move |c: &mut Conn| {
                    let found = repos::get_live_file(c, &rid, "a.txt")?;
                    let blob = crate::blob::BlobInfo::of(b"race");
                    repos::put_file(c, &rid, "elsewhere.txt", &blob, "text/plain", "u", 3)?;
                    Ok(found)
                }
            })
            .await
            .unwrap();
        let reread = std::sync::atomic::AtomicBool::new(false);
        files
            .get_or_load(&db, racy, |_| {
                reread.store(true, Ordering::SeqCst);
                |_: &mut Conn| Ok(None)
            })
            .await
            .unwrap();
        assert!(
            reread.load(Ordering::SeqCst),
            "an answer read across a change was kept"
        );

        // A repository's generation: another repository's upload keeps it, its own drops it.
        let generations: RowCache<String, Option<repos::MetaGen>> = RowCache::by_row(
            &[Tables::Repositories],
            Tables::MetaGens,
            |g| g.and_then(|g| g.row),
            8,
        );
        let other = Repository {
            name: "other".into(),
            ..repo_fixture()
        };
        let inserted = other.clone();
        db.blocking(move |c| insert_repo(c, &inserted)).unwrap();
        upload(&db, &other.id, "x", b"x");
        let generation = |id: &str| {
            let id = id.to_string();
            generations.get_or_load(&db, id.clone(), move |_| {
                move |c: &mut Conn| repos::metadata_generation_row(c, &id)
            })
        };
        let mine = generation(&repo.id).await.unwrap().unwrap();
        upload(&db, &other.id, "y", b"y");
        let kept_generation = generations
            .get_or_load(&db, repo.id.clone(), |_| {
                |_: &mut Conn| -> StoreResult<Option<repos::MetaGen>> { panic!("read again") }
            })
            .await
            .unwrap();
        assert_eq!(kept_generation, Some(mine));
        upload(&db, &repo.id, "z", b"z");
        let next = generation(&repo.id).await.unwrap().unwrap();
        assert!(next.generation > mine.generation);
    }

    /// A crate download's file is found through `cargo_versions`: a version published, yanked or gone
    /// drops what was kept from it.
    #[tokio::test]
    async fn cargo_versions_changes_drop_their_answers() {
        let (_dir, db) = test_db();
        let repo = domain_and_repo(&db);
        let cache: RowCache<&str, i64> = RowCache::new(&[Tables::CargoVersions], 8);
        let versions = |c: &mut Conn| {
            c.query_row("SELECT count(*) FROM cargo_versions", params![], |r| {
                r.get::<i64>(0)
            })
        };
        assert_eq!(cache.get_or_load(&db, "n", |_| versions).await.unwrap(), 0);
        let id = repo.id.clone();
        db.call(move |c| {
            c.execute(
                "INSERT INTO cargo_versions (repo_id, name, vers, index_line, path, published_at, \
                 published_by) VALUES (?1, 'k', '1.0.0', '{}', 'crates/k/k-1.0.0.crate', 0, 'u')",
                params![id],
            )
        })
        .await
        .unwrap();
        assert_eq!(cache.get_or_load(&db, "n", |_| versions).await.unwrap(), 1);
    }
}
