//! Release repositories' files: one row per stored version of a full name, the folders above them, and
//! what the retention job removed. The rules (who may, which versions expire) are `service::release`'s.

use crate::blob::BlobInfo;
use crate::domain::new_hex_id;
use crate::params;
use crate::store::{Conn, Row};

use super::{repos, StoreError, StoreResult};

/// A stored version with its blob's digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFile {
    pub id: String,
    pub file_id: String,
    pub domain_id: String,
    pub project_id: String,
    pub path: String,
    pub version: i64,
    pub sha256: String,
    pub md5: String,
    pub sha1: String,
    pub sha512: String,
    pub size: i64,
    pub content_type: String,
    pub category: String,
    pub provenance: Provenance,
    pub created_at: i64,
    pub created_by: String,
    pub created_by_name: String,
    pub deleted_at: Option<i64>,
}

/// Where a version came from, as the build that uploaded it declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    pub build_id: String,
    pub build_no: String,
    pub build_name: String,
    pub build_url: String,
    pub repo_url: String,
    pub repo_branch: String,
    pub commit_id: String,
    pub release_version: String,
}

impl ReleaseFile {
    pub fn is_live(&self) -> bool {
        self.deleted_at.is_none()
    }

    /// The last path segment.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

const SELECT: &str = "SELECT f.id, f.file_id, f.domain_id, f.project_id, f.path, f.version, f.sha256, b.md5, \
    b.sha1, b.sha512, f.size, f.content_type, f.category, f.build_id, f.build_no, f.build_name, f.build_url, \
    f.repo_url, f.repo_branch, f.commit_id, f.release_version, f.created_at, f.created_by, f.created_by_name, \
    f.deleted_at FROM release_files f JOIN blobs b ON b.sha256 = f.sha256";

fn from_row(r: &Row<'_>) -> StoreResult<ReleaseFile> {
    Ok(ReleaseFile {
        id: r.get(0)?,
        file_id: r.get(1)?,
        domain_id: r.get(2)?,
        project_id: r.get(3)?,
        path: r.get(4)?,
        version: r.get(5)?,
        sha256: r.get(6)?,
        md5: r.get(7)?,
        sha1: r.get(8)?,
        sha512: r.get(9)?,
        size: r.get(10)?,
        content_type: r.get(11)?,
        category: r.get(12)?,
        provenance: Provenance {
            build_id: r.get(13)?,
            build_no: r.get(14)?,
            build_name: r.get(15)?,
            build_url: r.get(16)?,
            repo_url: r.get(17)?,
            repo_branch: r.get(18)?,
            commit_id: r.get(19)?,
            release_version: r.get(20)?,
        },
        created_at: r.get(21)?,
        created_by: r.get(22)?,
        created_by_name: r.get(23)?,
        deleted_at: r.get(24)?,
    })
}

/// What an upload records beside its bytes.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub domain_id: String,
    pub project_id: String,
    pub path: String,
    pub content_type: String,
    pub category: String,
    pub provenance: Provenance,
    pub user_id: String,
    pub user_name: String,
}

/// Records `info` as the next version of `new.path` (its folders created as needed) and answers the row.
/// Run in an immediate transaction, so two uploads of one name cannot take the same version number; the
/// unique index would refuse the second anyway.
pub fn insert_version(
    conn: &Conn,
    new: &NewVersion,
    info: &BlobInfo,
    now: i64,
) -> StoreResult<ReleaseFile> {
    repos::insert_blob(conn, info, now)?;
    let mut folder = new.path.as_str();
    while let Some((parent, _)) = folder.rsplit_once('/') {
        conn.execute(
            "INSERT INTO release_folders (id, project_id, path, created_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT DO NOTHING",
            params![new_hex_id(), new.project_id, parent, now],
        )?;
        folder = parent;
    }
    let (last, file_id): (i64, Option<String>) = conn.query_row(
        "SELECT CAST(coalesce(max(version), 0) AS BIGINT), min(file_id) FROM release_files \
         WHERE project_id = ?1 AND path = ?2",
        params![new.project_id, new.path],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let id = new_hex_id();
    let p = &new.provenance;
    conn.execute(
        "INSERT INTO release_files (id, file_id, domain_id, project_id, path, version, sha256, size, content_type, \
         category, build_id, build_no, build_name, build_url, repo_url, repo_branch, commit_id, release_version, \
         created_at, created_by, created_by_name) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
        params![
            id,
            file_id.unwrap_or_else(new_hex_id),
            new.domain_id,
            new.project_id,
            new.path,
            last + 1,
            info.sha256,
            info.size as i64,
            new.content_type,
            new.category,
            p.build_id,
            p.build_no,
            p.build_name,
            p.build_url,
            p.repo_url,
            p.repo_branch,
            p.commit_id,
            p.release_version,
            now,
            new.user_id,
            new.user_name
        ],
    )?;
    get(conn, &new.domain_id, &id)?
        .ok_or_else(|| StoreError::Corrupt("a release file vanished as it was stored".into()))
}

/// A version of the account by id, live or in the bin.
pub fn get(conn: &Conn, domain_id: &str, id: &str) -> StoreResult<Option<ReleaseFile>> {
    conn.query_opt(
        &format!("{SELECT} WHERE f.id = ?1 AND f.domain_id = ?2"),
        params![id, domain_id],
        from_row,
    )
}

/// Every version of a project (live and in the bin), oldest first.
pub fn of_project(conn: &Conn, project_id: &str) -> StoreResult<Vec<ReleaseFile>> {
    conn.query_map(
        &format!("{SELECT} WHERE f.project_id = ?1 ORDER BY f.path, f.version"),
        params![project_id],
        from_row,
    )
}

/// Every version of an account (live and in the bin).
pub fn of_domain(conn: &Conn, domain_id: &str) -> StoreResult<Vec<ReleaseFile>> {
    conn.query_map(
        &format!("{SELECT} WHERE f.domain_id = ?1 ORDER BY f.project_id, f.path, f.version"),
        params![domain_id],
        from_row,
    )
}

/// Versions and bytes an account stores (the bin included: its bytes are still kept).
pub fn domain_usage(conn: &Conn, domain_id: &str) -> StoreResult<(i64, i64)> {
    conn.query_row(
        "SELECT count(*), CAST(coalesce(sum(size), 0) AS BIGINT) FROM release_files WHERE domain_id = ?1",
        params![domain_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Live bytes per project of an account: `(project_id, bytes)`.
pub fn live_bytes_by_project(conn: &Conn, domain_id: &str) -> StoreResult<Vec<(String, i64)>> {
    conn.query_map(
        "SELECT project_id, CAST(coalesce(sum(size), 0) AS BIGINT) FROM release_files \
         WHERE domain_id = ?1 AND deleted_at IS NULL GROUP BY project_id",
        params![domain_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A folder of the account by id: `(project_id, path)`.
pub fn folder(conn: &Conn, domain_id: &str, id: &str) -> StoreResult<Option<(String, String)>> {
    conn.query_opt(
        "SELECT d.project_id, d.path FROM release_folders d JOIN projects p ON p.id = d.project_id \
         WHERE d.id = ?1 AND p.domain_id = ?2",
        params![id, domain_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// A project's folders: `(id, path, created_at)`.
pub fn folders_of_project(
    conn: &Conn,
    project_id: &str,
) -> StoreResult<Vec<(String, String, i64)>> {
    conn.query_map(
        "SELECT id, path, created_at FROM release_folders WHERE project_id = ?1 ORDER BY path",
        params![project_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
}

/// Moves live versions to the bin; answers how many moved.
pub fn trash(conn: &Conn, ids: &[String], user_id: &str, now: i64) -> StoreResult<usize> {
    let mut moved = 0;
    for id in ids {
        moved += conn.execute(
            "UPDATE release_files SET deleted_at = ?2, deleted_by = ?3 WHERE id = ?1 AND deleted_at IS NULL",
            params![id, now, user_id],
        )?;
    }
    Ok(moved)
}

/// Takes versions out of the bin; answers how many came back.
pub fn restore(conn: &Conn, ids: &[String]) -> StoreResult<usize> {
    let mut restored = 0;
    for id in ids {
        restored += conn.execute(
            "UPDATE release_files SET deleted_at = NULL, deleted_by = NULL WHERE id = ?1 AND deleted_at IS NOT NULL",
            params![id],
        )?;
    }
    Ok(restored)
}

/// Deletes versions for good; answers the blobs they used, for the caller to reclaim once committed.
pub fn purge(conn: &Conn, ids: &[String]) -> StoreResult<Vec<String>> {
    let mut blobs = Vec::new();
    for id in ids {
        let sha: Option<String> = conn.query_opt(
            "DELETE FROM release_files WHERE id = ?1 RETURNING sha256",
            params![id],
            |r| r.get(0),
        )?;
        blobs.extend(sha);
    }
    Ok(blobs)
}

/// Drops folders of a project that no version (live or binned) lies under any more.
pub fn drop_empty_folders(conn: &Conn, project_id: &str) -> StoreResult<()> {
    let folders = folders_of_project(conn, project_id)?;
    let paths: Vec<String> = conn.query_map(
        "SELECT DISTINCT path FROM release_files WHERE project_id = ?1",
        params![project_id],
        |r| r.get(0),
    )?;
    for (id, folder, _) in folders {
        let prefix = format!("{folder}/");
        if !paths.iter().any(|p| p.starts_with(&prefix)) {
            conn.execute("DELETE FROM release_folders WHERE id = ?1", params![id])?;
        }
    }
    Ok(())
}

/// One removal by the retention job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    pub project_id: String,
    pub version_id: String,
    pub path: String,
    pub version: i64,
    pub size: i64,
    pub action: String,
    pub at: i64,
}

pub fn record_removal(conn: &Conn, domain_id: &str, r: &Removal) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO release_removals (domain_id, project_id, version_id, path, version, size, action, at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![domain_id, r.project_id, r.version_id, r.path, r.version, r.size, r.action, r.at],
    )?;
    Ok(())
}

/// The removals of a project, newest first: `(total, page)`.
pub fn removals(
    conn: &Conn,
    domain_id: &str,
    project_id: &str,
    offset: i64,
    limit: i64,
) -> StoreResult<(i64, Vec<Removal>)> {
    let total = conn.query_row(
        "SELECT count(*) FROM release_removals WHERE domain_id = ?1 AND project_id = ?2",
        params![domain_id, project_id],
        |r| r.get(0),
    )?;
    let rows = conn.query_map(
        "SELECT project_id, version_id, path, version, size, action, at FROM release_removals \
         WHERE domain_id = ?1 AND project_id = ?2 ORDER BY at DESC, id DESC LIMIT ?3 OFFSET ?4",
        params![domain_id, project_id, limit, offset],
        |r| {
            Ok(Removal {
                project_id: r.get(0)?,
                version_id: r.get(1)?,
                path: r.get(2)?,
                version: r.get(3)?,
                size: r.get(4)?,
                action: r.get(5)?,
                at: r.get(6)?,
            })
        },
    )?;
    Ok((total, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::projects::{insert_project, Project};
    use crate::store::test_backends;

    fn blob(tag: &str) -> BlobInfo {
        BlobInfo {
            sha256: format!("{tag:0>64}"),
            size: 5,
            md5: format!("{tag:0>32}"),
            sha1: format!("{tag:0>40}"),
            sha512: format!("{tag:0>128}"),
        }
    }

    fn new(path: &str) -> NewVersion {
        NewVersion {
            domain_id: "d".into(),
            project_id: "p".repeat(32),
            path: path.into(),
            content_type: "application/octet-stream".into(),
            category: "test".into(),
            provenance: Provenance {
                build_no: "7".into(),
                ..Provenance::default()
            },
            user_id: "u".into(),
            user_name: "user".into(),
        }
    }

    /// Versions, folders, the bin and purging on every backend; a blob a release file uses is never
    /// collected as garbage, and is once the last version using it is gone.
    #[test]
    fn versions_bin_purge_and_garbage() {
        for (_guard, db) in test_backends() {
            db.blocking(|conn| {
                let domain = Domain {
                    id: "d".into(),
                    name: "dom".into(),
                };
                insert_domain(conn, &domain, 0)?;
                insert_project(
                    conn,
                    &Project {
                        id: "p".repeat(32),
                        domain_id: "d".into(),
                        name: "proj".into(),
                        description: String::new(),
                        project_type: "scrum".into(),
                        creator_id: "u".into(),
                        created_at: 0,
                        updated_at: 0,
                    },
                )?;
                let one = insert_version(conn, &new("1.0/a/app.bin"), &blob("a"), 10)?;
                let two = insert_version(conn, &new("1.0/a/app.bin"), &blob("b"), 20)?;
                let other = insert_version(conn, &new("top.bin"), &blob("a"), 30)?;
                assert_eq!((one.version, two.version, other.version), (1, 2, 1));
                assert_eq!(one.file_id, two.file_id);
                assert_ne!(one.file_id, other.file_id);
                assert_eq!(two.provenance.build_no, "7");
                let folders: Vec<String> = folders_of_project(conn, &one.project_id)?
                    .into_iter()
                    .map(|f| f.1)
                    .collect();
                assert_eq!(folders, ["1.0", "1.0/a"]);
                assert!(get(conn, "elsewhere", &one.id)?.is_none());

                assert_eq!(trash(conn, &[two.id.clone(), two.id.clone()], "u", 40)?, 1);
                assert_eq!(get(conn, "d", &two.id)?.unwrap().deleted_at, Some(40));
                assert_eq!(restore(conn, std::slice::from_ref(&two.id))?, 1);
                assert!(get(conn, "d", &two.id)?.unwrap().is_live());
                assert_eq!(domain_usage(conn, "d")?, (3, 15));

                let shared = vec![blob("a").sha256, blob("b").sha256];
                assert!(repos::collect_garbage(conn, &shared)?.is_empty());
                assert!(repos::unreferenced_blobs(conn)?.is_empty());
                let freed = purge(conn, &[one.id.clone(), two.id.clone()])?;
                assert_eq!(freed.len(), 2);
                drop_empty_folders(conn, &one.project_id)?;
                assert!(folders_of_project(conn, &one.project_id)?.is_empty());
                // "a" is still used by top.bin; "b" is garbage now.
                let collected = repos::collect_garbage(conn, &shared)?;
                assert_eq!(collected, [(blob("b").sha256, 5)]);
                let again = insert_version(conn, &new("1.0/a/app.bin"), &blob("c"), 50)?;
                assert_eq!(again.version, 1);
                Ok(())
            })
            .unwrap();
        }
    }
}
