//! Rows a request reads on every artifact GET (its repository, the file, the caller's password hash and
//! privilege entries), kept in memory and dropped the moment a table they come from changes.
//!
//! Only when this process is the database's one writer (SQLite): every change then goes through
//! `Db::blocking`, which watches what each call writes with SQLite's update hook and, once the call has
//! returned (its transaction committed), bumps the generation of each table class it touched. A read
//! notes the generation before it asks the database and keeps the answer under it; an answer is served
//! from memory only while its classes' generation is unchanged. So an answer kept while a change was in
//! flight is never served after the change's call returned, which is before the change is acknowledged.
//! On PostgreSQL other nodes change rows this node never sees, so nothing is kept and every read asks.
//!
//! SQLite reports rows changed by statements and by triggers, not those a `DELETE` without `WHERE` drops
//! (its truncate optimization) nor changes to `WITHOUT ROWID` tables: the watched tables are never emptied
//! that way and all have rowids.

use std::hash::Hash;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use quick_cache::sync::Cache;

use super::{Conn, Db, StoreResult};

/// Groups of tables whose changes drop the answers read from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tables {
    Repositories = 0,
    /// `files` and the `blobs` their rows are read with.
    Files = 1,
    Users = 2,
    /// Who holds which role where and what the roles grant: members, roles, grants, shares, projects.
    Grants = 3,
    /// Repositories' metadata generations (`repo_meta_gens`), bumped by every upload.
    MetaGens = 4,
}

const CLASSES: usize = 5;

impl Tables {
    fn of(table: &str) -> Option<Tables> {
        Some(match table {
            "repositories" => Tables::Repositories,
            "files" | "blobs" => Tables::Files,
            "users" => Tables::Users,
            "project_members" | "roles" | "role_grants" | "repo_shares" | "projects" => {
                Tables::Grants
            }
            "repo_meta_gens" => Tables::MetaGens,
            _ => return None,
        })
    }

    fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// The change count of each table class since start.
#[derive(Default)]
pub struct Generations([AtomicU64; CLASSES]);

impl Generations {
    /// One number that changes whenever any of `tables` does.
    fn of(&self, tables: &[Tables]) -> u64 {
        tables
            .iter()
            .map(|t| self.0[*t as usize].load(Ordering::Acquire))
            .fold(0u64, u64::wrapping_add)
    }

    fn bump(&self, touched: u32) {
        for (class, generation) in self.0.iter().enumerate() {
            if touched & (1 << class) != 0 {
                generation.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

/// Watches one `Db::blocking` call's writes on a SQLite connection.
pub(super) struct Watch {
    touched: Arc<AtomicU32>,
}

impl Watch {
    pub(super) fn start(conn: &rusqlite::Connection) -> Watch {
        let touched = Arc::new(AtomicU32::new(0));
        let marks = touched.clone();
        conn.update_hook(Some(
            move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| {
                if let Some(class) = Tables::of(table) {
                    marks.fetch_or(class.bit(), Ordering::Relaxed);
                }
            },
        ));
        Watch { touched }
    }

    /// After the call: its transaction, if any, has committed or rolled back.
    pub(super) fn finish(self, conn: &rusqlite::Connection, generations: &Generations) {
        conn.update_hook(None::<fn(rusqlite::hooks::Action, &str, &str, i64)>);
        generations.bump(self.touched.load(Ordering::Relaxed));
    }
}

/// Answers of one kind of read, by key, each kept under the generation it was read at.
pub struct RowCache<K, V> {
    tables: &'static [Tables],
    entries: Cache<K, (u64, V)>,
}

impl<K, V> RowCache<K, V>
where
    K: Eq + Hash + Clone + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// At most `capacity` answers, read from `tables`.
    pub fn new(tables: &'static [Tables], capacity: usize) -> Self {
        RowCache {
            tables,
            entries: Cache::new(capacity.max(1)),
        }
    }

    /// The answer for `key`, from memory when no table it reads has changed since it was kept; else read
    /// by the database call `load` makes of the key (made only then, so a hit allocates nothing for it).
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
        let generation = generations.of(self.tables);
        if let Some((kept_at, value)) = self.entries.get(&key) {
            if kept_at == generation {
                return Ok(value);
            }
        }
        let value = db.call(load(&key)).await?;
        self.entries.insert(key, (generation, value.clone()));
        Ok(value)
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
    async fn an_upload_leaves_the_repository_rows_kept() {
        let (_dir, db) = test_db();
        let repo = repo_fixture();
        let id = repo.id.clone();
        db.call(move |c| {
            insert_domain(
                c,
                &Domain {
                    id: "d".into(),
                    name: "dom".into(),
                },
                0,
            )?;
            insert_repo(c, &repo)
        })
        .await
        .unwrap();
        let of = |tables: &[Tables]| db.generations().unwrap().of(tables);
        let (repos, files, meta) = (
            of(&[Tables::Repositories]),
            of(&[Tables::Files]),
            of(&[Tables::MetaGens]),
        );
        let blob = crate::blob::BlobInfo::of(b"bytes");
        let upload = id.clone();
        db.call(move |c| repos::put_file(c, &upload, "a.txt", &blob, "text/plain", "u", 1))
            .await
            .unwrap();
        assert_eq!(of(&[Tables::Repositories]), repos);
        assert_ne!(of(&[Tables::Files]), files);
        assert_ne!(of(&[Tables::MetaGens]), meta);
        let generation = db
            .call(move |c| repos::metadata_generation(c, &id))
            .await
            .unwrap();
        assert_eq!(generation, Some(1));
    }
}
