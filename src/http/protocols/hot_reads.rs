//! The reads every package request makes before its bytes — the repository it names, the file, a repo
//! user's password hash, the caller's privilege entries — answered from memory while their tables are
//! unchanged (`store::cache`), so an artifact GET costs no database round trip once warm.

use std::sync::Arc;

use crate::authz::privileges::PrivilegeEntry;
use crate::http::artifact::privileges::entries_for_user;
use crate::store::cache::{RowCache, Tables};
use crate::store::cargo;
use crate::store::identity::{self, User};
use crate::store::repos::{self, FileEntry, Repository};
use crate::store::{Db, StoreResult};

/// A (repository id, path) key of `files`, looked up without building the owned pair: it hashes as the
/// tuple of `String`s does (field by field, each as a `str`).
#[derive(Hash)]
struct FileKey<'a>(&'a str, &'a str);

impl quick_cache::Equivalent<(String, String)> for FileKey<'_> {
    fn equivalent(&self, key: &(String, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

pub struct HotReads {
    repos: RowCache<String, Option<Repository>>,
    /// Shared, not copied: a download reads a few of the row's fields, and a copy was ten allocations.
    files: RowCache<(String, String), Option<Arc<FileEntry>>>,
    /// A crate version's file by (repository, lower-case name, version).
    crate_files: RowCache<(String, String, String), Option<Arc<FileEntry>>>,
    repo_logins: RowCache<String, Option<Arc<(User, String)>>>,
    entries: RowCache<(String, String, bool), Arc<Vec<PrivilegeEntry>>>,
    user_fences: RowCache<String, Arc<Vec<String>>>,
}

impl Default for HotReads {
    fn default() -> Self {
        HotReads {
            repos: RowCache::new(&[Tables::Repositories], 1024),
            files: RowCache::by_row(&[], Tables::Files, |file| file.as_ref().map(|f| f.id), 8192),
            crate_files: RowCache::by_row(
                &[Tables::CargoVersions],
                Tables::Files,
                |file| file.as_ref().map(|f| f.id),
                4096,
            ),
            repo_logins: RowCache::new(&[Tables::Users], 1024),
            // Shares name repositories, so a renamed or deleted one changes what they grant.
            entries: RowCache::new(&[Tables::Grants, Tables::Repositories], 1024),
            user_fences: RowCache::new(&[Tables::Users], 64),
        }
    }
}

impl HotReads {
    /// The repository named (or with the id) `key`, whatever its state.
    pub async fn repo(&self, db: &Db, key: &str) -> StoreResult<Option<Repository>> {
        self.repos
            .get_or_load_borrowed(db, key, |key| {
                let key = key.clone();
                move |conn| repos::get_repo_by_name_or_id(conn, &key)
            })
            .await
    }

    /// The live file at `path` of repository `repo_id`.
    pub async fn live_file(
        &self,
        db: &Db,
        repo_id: &str,
        path: &str,
    ) -> StoreResult<Option<Arc<FileEntry>>> {
        let probe = FileKey(repo_id, path);
        let owned = |k: &FileKey| (k.0.to_string(), k.1.to_string());
        self.files
            .get_or_load_by(db, &probe, owned, |key| {
                let (repo_id, path) = key.clone();
                move |conn| Ok(repos::get_live_file(conn, &repo_id, &path)?.map(Arc::new))
            })
            .await
    }

    /// The live file of version `vers` of crate `name` (any case), when there is one.
    pub async fn crate_file(
        &self,
        db: &Db,
        repo_id: &str,
        name: &str,
        vers: &str,
    ) -> StoreResult<Option<Arc<FileEntry>>> {
        let key = (
            repo_id.to_string(),
            name.to_ascii_lowercase(),
            vers.to_string(),
        );
        self.crate_files
            .get_or_load(db, key, |key| {
                let (repo_id, name, vers) = key.clone();
                move |conn| {
                    let Some(path) = cargo::version_path(conn, &repo_id, &name, &vers)? else {
                        return Ok(None);
                    };
                    Ok(repos::get_live_file(conn, &repo_id, &path)?.map(Arc::new))
                }
            })
            .await
    }

    /// A user and the hash of their repo password, when they have both.
    /// Shared, not copied: a Basic request reads three of the user's fields.
    pub async fn repo_login(
        &self,
        db: &Db,
        user_id: &str,
    ) -> StoreResult<Option<Arc<(User, String)>>> {
        self.repo_logins
            .get_or_load_borrowed(db, user_id, |user_id| {
                let user_id = user_id.clone();
                move |conn| {
                    Ok(identity::get_user(conn, &user_id)?
                        .zip(identity::get_repo_password_hash(conn, &user_id)?)
                        .map(Arc::new))
                }
            })
            .await
    }

    /// A user's privilege entries in a project (`entries_for_user`).
    pub async fn entries(
        &self,
        db: &Db,
        project_id: &str,
        user_id: &str,
        is_root: bool,
    ) -> StoreResult<Arc<Vec<PrivilegeEntry>>> {
        let key = (project_id.to_string(), user_id.to_string(), is_root);
        self.entries
            .get_or_load(db, key, |key| {
                let (project_id, user_id, is_root) = key.clone();
                move |conn| entries_for_user(conn, &project_id, &user_id, is_root).map(Arc::new)
            })
            .await
    }

    /// Where deep pages of an account's user list start (`identity::user_fences`). Empty on PostgreSQL,
    /// where other nodes add users unseen: kept fences would shift pages, and one scan per page costs more
    /// than the walk it saves.
    pub async fn user_fences(&self, db: &Db, domain_id: &str) -> StoreResult<Arc<Vec<String>>> {
        if db.generations().is_none() {
            return Ok(Arc::default());
        }
        self.user_fences
            .get_or_load_borrowed(db, domain_id, |domain_id| {
                let domain_id = domain_id.clone();
                move |conn| identity::user_fences(conn, &domain_id).map(Arc::new)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_key_finds_the_owned_pair_it_stands_for() {
        let files = quick_cache::sync::Cache::<(String, String), u32>::new(8);
        files.insert(
            ("repo-id".to_string(), "pkg/-/pkg-1.0.0.tgz".to_string()),
            1,
        );
        files.insert(
            ("repo-i".to_string(), "dpkg/-/pkg-1.0.0.tgz".to_string()),
            2,
        );
        assert_eq!(
            files.get(&FileKey("repo-id", "pkg/-/pkg-1.0.0.tgz")),
            Some(1)
        );
        // Where one field ends counts: the same bytes split elsewhere are another file.
        assert_eq!(
            files.get(&FileKey("repo-i", "dpkg/-/pkg-1.0.0.tgz")),
            Some(2)
        );
        assert_eq!(files.get(&FileKey("repo-id", "pkg/-/pkg-1.0.1.tgz")), None);
    }
}
