//! Repositories, their files, and the blobs files point at.

use crate::params;
use crate::store::{Conn, Param, Row};

use super::{StoreError, StoreResult};
use crate::blob::BlobInfo;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    pub id: String,
    pub domain_id: String,
    pub project_id: String,
    pub name: String,
    pub display_name: String,
    pub description: String,
    pub format: String,
    pub repo_type: String,
    /// Maven: `release` or `snapshot`; other formats: `mixed`.
    pub policy: String,
    pub tab_id: String,
    pub includes_pattern: String,
    /// `allow_redeploy` or `disable_redeploy`.
    pub deployment_policy: String,
    pub allow_anonymous: bool,
    /// Maven snapshot repositories: how many timestamped builds of a version to keep (0: all).
    pub max_unique_snapshots: i64,
    pub share_right: String,
    /// `active` or `trash`.
    pub status: String,
    pub deleted_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    pub modified_at: i64,
    pub modified_by: String,
}

pub const STATUS_ACTIVE: &str = "active";
pub const STATUS_TRASH: &str = "trash";

pub(super) const REPO_COLS: &str = "id, domain_id, project_id, name, display_name, description, format, repo_type, policy, \
    tab_id, includes_pattern, deployment_policy, allow_anonymous, max_unique_snapshots, share_right, status, \
    deleted_at, created_at, created_by, modified_at, modified_by";

pub(super) fn repo_from_row(r: &Row<'_>) -> StoreResult<Repository> {
    Ok(Repository {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        project_id: r.get(2)?,
        name: r.get(3)?,
        display_name: r.get(4)?,
        description: r.get(5)?,
        format: r.get(6)?,
        repo_type: r.get(7)?,
        policy: r.get(8)?,
        tab_id: r.get(9)?,
        includes_pattern: r.get(10)?,
        deployment_policy: r.get(11)?,
        allow_anonymous: r.get(12)?,
        max_unique_snapshots: r.get(13)?,
        share_right: r.get(14)?,
        status: r.get(15)?,
        deleted_at: r.get(16)?,
        created_at: r.get(17)?,
        created_by: r.get(18)?,
        modified_at: r.get(19)?,
        modified_by: r.get(20)?,
    })
}

pub fn insert_repo(conn: &Conn, r: &Repository) -> StoreResult<()> {
    conn.execute(
        &format!(
            "INSERT INTO repositories ({REPO_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
             ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)"
        ),
        params![
            r.id, r.domain_id, r.project_id, r.name, r.display_name, r.description, r.format, r.repo_type,
            r.policy, r.tab_id, r.includes_pattern, r.deployment_policy, r.allow_anonymous,
            r.max_unique_snapshots, r.share_right, r.status, r.deleted_at, r.created_at, r.created_by,
            r.modified_at, r.modified_by
        ],
    )
    .map_err(|e| {
        let e: StoreError = e;
        if e.is_unique_violation() {
            StoreError::Conflict("a repository with this name")
        } else {
            e
        }
    })?;
    Ok(())
}

/// Writes the mutable settings of a repository.
pub fn update_repo(conn: &Conn, r: &Repository) -> StoreResult<()> {
    conn.execute(
        "UPDATE repositories SET display_name = ?2, description = ?3, includes_pattern = ?4, deployment_policy = ?5, \
         allow_anonymous = ?6, max_unique_snapshots = ?7, share_right = ?8, status = ?9, deleted_at = ?10, \
         modified_at = ?11, modified_by = ?12 WHERE id = ?1",
        params![
            r.id, r.display_name, r.description, r.includes_pattern, r.deployment_policy, r.allow_anonymous,
            r.max_unique_snapshots, r.share_right, r.status, r.deleted_at, r.modified_at, r.modified_by
        ],
    )?;
    Ok(())
}

pub fn get_repo(conn: &Conn, id: &str) -> StoreResult<Option<Repository>> {
    conn.query_opt(
        &format!("SELECT {REPO_COLS} FROM repositories WHERE id = ?1"),
        params![id],
        repo_from_row,
    )
}

/// The repository's metadata generation: bumped (by triggers, migrations 0013 and 0017) in every
/// transaction that changes a row a generated metadata document is built from. None when the repository
/// is gone.
pub fn metadata_generation(conn: &Conn, repo_id: &str) -> StoreResult<Option<i64>> {
    Ok(metadata_generation_row(conn, repo_id)?.map(|g| g.generation))
}

/// A repository's metadata generation and, on SQLite, the rowid of the row that holds it (`None` before
/// the repository's first change), which is what `store::cache` counts its changes by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaGen {
    pub generation: i64,
    pub row: Option<i64>,
}

/// `metadata_generation` with the row it is read from. None when the repository is gone.
pub fn metadata_generation_row(conn: &Conn, repo_id: &str) -> StoreResult<Option<MetaGen>> {
    // PostgreSQL tables have no rowid, and nothing is kept there.
    let row = if conn.is_postgres() {
        "CAST(NULL AS BIGINT)"
    } else {
        "g.rowid"
    };
    conn.query_opt(
        &format!(
            "SELECT COALESCE(g.meta_gen, 0), {row} FROM repositories r \
             LEFT JOIN repo_meta_gens g ON g.repo_id = r.id WHERE r.id = ?1"
        ),
        params![repo_id],
        |r| {
            Ok(MetaGen {
                generation: r.get(0)?,
                row: r.get(1)?,
            })
        },
    )
}

pub fn get_repo_by_name(conn: &Conn, name: &str) -> StoreResult<Option<Repository>> {
    conn.query_opt(
        &format!("SELECT {REPO_COLS} FROM repositories WHERE name = ?1"),
        params![name],
        repo_from_row,
    )
}

pub fn repos_of_tab(conn: &Conn, tab_id: &str) -> StoreResult<Vec<Repository>> {
    conn.query_map(
        &format!("SELECT {REPO_COLS} FROM repositories WHERE tab_id = ?1 ORDER BY name"),
        params![tab_id],
        repo_from_row,
    )
}

/// A repository by name, or else by id (artifact URLs and the management API accept either).
pub fn get_repo_by_name_or_id(conn: &Conn, key: &str) -> StoreResult<Option<Repository>> {
    match get_repo_by_name(conn, key)? {
        Some(r) => Ok(Some(r)),
        None => get_repo(conn, key),
    }
}

/// Every repository of a domain, live or in the recycle bin, ordered by name.
pub fn domain_repos(conn: &Conn, domain_id: &str) -> StoreResult<Vec<Repository>> {
    conn.query_map(
        &format!("SELECT {REPO_COLS} FROM repositories WHERE domain_id = ?1 ORDER BY name"),
        params![domain_id],
        repo_from_row,
    )
}

pub fn count_repos_of_project(conn: &Conn, project_id: &str) -> StoreResult<i64> {
    conn.query_row(
        "SELECT count(*) FROM repositories WHERE project_id = ?1",
        params![project_id],
        |r| r.get(0),
    )
}

// ---- blobs and files -------------------------------------------------------------------------

pub fn insert_blob(conn: &Conn, b: &BlobInfo, now: i64) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO blobs (sha256, size, md5, sha1, sha512, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
        params![b.sha256, b.size as i64, b.md5, b.sha1, b.sha512, now],
    )?;
    Ok(())
}

/// A live or trashed file with its blob's digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub id: i64,
    pub repo_id: String,
    pub path: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub md5: String,
    pub sha1: String,
    pub sha512: String,
    pub created_at: i64,
    pub created_by: String,
    pub modified_at: i64,
    pub modified_by: String,
    pub deleted_at: Option<i64>,
}

impl FileEntry {
    /// The file's digest Maven names `algorithm` (`md5`, `sha1`, `sha256`, `sha512`).
    pub fn digest(&self, algorithm: &str) -> Option<&str> {
        match algorithm {
            "md5" => Some(&self.md5),
            "sha1" => Some(&self.sha1),
            "sha256" => Some(&self.sha256),
            "sha512" => Some(&self.sha512),
            _ => None,
        }
    }
}

const FILE_SELECT: &str = "SELECT f.id, f.repo_id, f.path, f.size, f.content_type, f.sha256, b.md5, b.sha1, b.sha512, \
    f.created_at, f.created_by, f.modified_at, f.modified_by, f.deleted_at FROM files f JOIN blobs b ON b.sha256 = f.sha256";

fn file_from_row(r: &Row<'_>) -> StoreResult<FileEntry> {
    Ok(FileEntry {
        id: r.get(0)?,
        repo_id: r.get(1)?,
        path: r.get(2)?,
        size: r.get(3)?,
        content_type: r.get(4)?,
        sha256: r.get(5)?,
        md5: r.get(6)?,
        sha1: r.get(7)?,
        sha512: r.get(8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        modified_at: r.get(11)?,
        modified_by: r.get(12)?,
        deleted_at: r.get(13)?,
    })
}

pub fn get_live_file(conn: &Conn, repo_id: &str, path: &str) -> StoreResult<Option<FileEntry>> {
    conn.query_opt(
        &format!("{FILE_SELECT} WHERE f.repo_id = ?1 AND f.path = ?2 AND f.deleted_at IS NULL"),
        params![repo_id, path],
        file_from_row,
    )
}

/// A live file by its id (the artifact id the management API answers).
pub fn get_live_file_by_id(conn: &Conn, id: i64) -> StoreResult<Option<FileEntry>> {
    conn.query_opt(
        &format!("{FILE_SELECT} WHERE f.id = ?1 AND f.deleted_at IS NULL"),
        params![id],
        file_from_row,
    )
}

/// Points `path` at a stored blob, replacing a live file there. The blob row must already exist.
/// Answers the sha256 of a replaced file's blob, which may now be garbage.
pub fn put_file(
    conn: &mut Conn,
    repo_id: &str,
    path: &str,
    blob: &BlobInfo,
    content_type: &str,
    user_id: &str,
    now: i64,
) -> StoreResult<Option<String>> {
    let tx = conn.transaction()?;
    let replaced = replace_file(&tx, repo_id, path, blob, content_type, user_id, now)?;
    tx.commit()?;
    Ok(replaced)
}

/// `put_file` inside a transaction the caller holds (to commit a file with the metadata that describes it).
pub fn replace_file(
    tx: &Conn,
    repo_id: &str,
    path: &str,
    blob: &BlobInfo,
    content_type: &str,
    user_id: &str,
    now: i64,
) -> StoreResult<Option<String>> {
    insert_blob(tx, blob, now)?;
    let previous: Option<(i64, String, i64)> = tx
        .query_opt(
            "SELECT id, sha256, created_at FROM files WHERE repo_id = ?1 AND path = ?2 AND deleted_at IS NULL",
            params![repo_id, path],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
    let created_at = match &previous {
        Some((id, _, created_at)) => {
            tx.execute("DELETE FROM files WHERE id = ?1", params![id])?;
            *created_at
        }
        None => now,
    };
    tx.execute(
        "INSERT INTO files (repo_id, path, sha256, size, content_type, created_at, created_by, modified_at, modified_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?7)",
        params![repo_id, path, blob.sha256, blob.size as i64, content_type, created_at, user_id, now],
    )?;
    Ok(previous.map(|(_, sha, _)| sha))
}

/// Points `path` at a stored blob unless a live file holds it already, inside a transaction the caller
/// holds. The check is the insert itself (`ON CONFLICT DO NOTHING` on the unique index of live paths),
/// so of concurrent writers exactly one creates the file. Answers whether this one did.
pub fn create_file(
    tx: &Conn,
    repo_id: &str,
    path: &str,
    blob: &BlobInfo,
    content_type: &str,
    user_id: &str,
    now: i64,
) -> StoreResult<bool> {
    insert_blob(tx, blob, now)?;
    let inserted = tx.execute(
        "INSERT INTO files (repo_id, path, sha256, size, content_type, created_at, created_by, modified_at, modified_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?7) ON CONFLICT (repo_id, path) WHERE deleted_at IS NULL DO NOTHING",
        params![repo_id, path, blob.sha256, blob.size as i64, content_type, now, user_id],
    )?;
    Ok(inserted > 0)
}

/// Moves a live file to the recycle bin.
pub fn trash_file(
    conn: &Conn,
    repo_id: &str,
    path: &str,
    user_id: &str,
    now: i64,
) -> StoreResult<bool> {
    Ok(conn.execute(
        "UPDATE files SET deleted_at = ?3, deleted_by = ?4 WHERE repo_id = ?1 AND path = ?2 AND deleted_at IS NULL",
        params![repo_id, path, now, user_id],
    )? > 0)
}

/// Removes a file row for good (a superseded file, a pruned snapshot). Answers its blob's sha256.
pub fn purge_file(conn: &Conn, file_id: i64) -> StoreResult<Option<String>> {
    conn.query_opt(
        "DELETE FROM files WHERE id = ?1 RETURNING sha256",
        params![file_id],
        |r| r.get(0),
    )
}

/// Live files whose path starts with `prefix` (a directory path ending in `/`, or empty for the root).
pub fn live_files_under(conn: &Conn, repo_id: &str, prefix: &str) -> StoreResult<Vec<FileEntry>> {
    // A range scan on the (repo_id, path) index: every path with the prefix sorts in [prefix, prefix + U+FFFF).
    let upper = format!("{prefix}\u{10FFFF}");
    conn.query_map(&format!(
        "{FILE_SELECT} WHERE f.repo_id = ?1 AND f.path >= ?2 AND f.path < ?3 AND f.deleted_at IS NULL ORDER BY f.path"
    ), params![repo_id, prefix, upper.as_str()], file_from_row)
}

/// Trashed files of a repository.
pub fn trashed_files(conn: &Conn, repo_id: &str) -> StoreResult<Vec<FileEntry>> {
    conn.query_map(
        &format!("{FILE_SELECT} WHERE f.repo_id = ?1 AND f.deleted_at IS NOT NULL ORDER BY f.path"),
        params![repo_id],
        file_from_row,
    )
}

/// Brings a trashed file back; fails with a conflict when a live file took its path meanwhile.
pub fn restore_file(conn: &Conn, file_id: i64) -> StoreResult<bool> {
    conn.execute("UPDATE files SET deleted_at = NULL, deleted_by = NULL WHERE id = ?1 AND deleted_at IS NOT NULL", params![file_id])
        .map(|n| n > 0)
        .map_err(|e| {
            let e: StoreError = e;
            if e.is_unique_violation() {
                StoreError::Conflict("a live file at this path")
            } else {
                e
            }
        })
}

/// Deletes a repository and all its files for good.
pub fn delete_repo(conn: &Conn, repo_id: &str) -> StoreResult<()> {
    conn.execute("DELETE FROM files WHERE repo_id = ?1", params![repo_id])?;
    conn.execute("DELETE FROM repositories WHERE id = ?1", params![repo_id])?;
    Ok(())
}

/// The blobs among `candidates` that the database does not record: bytes an upload streamed into the
/// blob store but never committed (refused or failed afterwards), which nothing can reference.
pub fn unrecorded_blobs(conn: &Conn, candidates: &[String]) -> StoreResult<Vec<String>> {
    let mut unrecorded = Vec::new();
    for sha in candidates {
        let recorded = conn.query_opt(
            "SELECT 1 FROM blobs WHERE sha256 = ?1",
            params![sha],
            |_| Ok(()),
        )?;
        if recorded.is_none() {
            unrecorded.push(sha.clone());
        }
    }
    Ok(unrecorded)
}

/// Blob rows no file (of a repository or a release repository) references: left by a crash between deleting files for good and reclaiming their
/// blobs (reclaiming runs after that commit).
pub fn unreferenced_blobs(conn: &Conn) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT b.sha256 FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = b.sha256) \
         AND NOT EXISTS (SELECT 1 FROM release_files r WHERE r.sha256 = b.sha256) \
         AND NOT EXISTS (SELECT 1 FROM oci_upload_chunks c WHERE c.sha256 = b.sha256)", params![], |r| r.get(0))
}

/// Deletes the row of blob `?1` unless a file (of a repository or a release repository) references it;
/// answers its size when it did.
pub(crate) const DELETE_UNREFERENCED_BLOB: &str = "DELETE FROM blobs WHERE sha256 = ?1 \
     AND NOT EXISTS (SELECT 1 FROM files WHERE sha256 = ?1) \
     AND NOT EXISTS (SELECT 1 FROM release_files WHERE sha256 = ?1) \
     AND NOT EXISTS (SELECT 1 FROM oci_upload_chunks WHERE sha256 = ?1) RETURNING size";

/// Deletes blob rows among `candidates` that no file references any more; answers `(sha256, size)` of
/// each, whose bytes the caller then removes from the blob store.
pub fn collect_garbage(conn: &mut Conn, candidates: &[String]) -> StoreResult<Vec<(String, i64)>> {
    let tx = conn.transaction()?;
    let mut freed = Vec::new();
    for sha in candidates {
        let gone: Option<i64> =
            tx.query_opt(DELETE_UNREFERENCED_BLOB, params![sha], |r| r.get(0))?;
        if let Some(size) = gone {
            freed.push((sha.clone(), size));
        }
    }
    tx.commit()?;
    Ok(freed)
}

/// Live files of active repositories of a domain whose blob has the given digest.
pub fn files_by_checksum(
    conn: &Conn,
    domain_id: &str,
    column: ChecksumKind,
    value: &str,
) -> StoreResult<Vec<FileEntry>> {
    conn.query_map(&format!(
        "{FILE_SELECT} JOIN repositories r ON r.id = f.repo_id WHERE r.domain_id = ?1 AND r.status = 'active' \
         AND f.deleted_at IS NULL AND b.{} = ?2 ORDER BY r.name, f.path",
        column.column()
    ), params![domain_id, value], file_from_row)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumKind {
    Md5,
    Sha1,
    Sha256,
    Sha512,
}

impl ChecksumKind {
    /// Recognises a digest by its length (hex).
    pub fn of(value: &str) -> Option<ChecksumKind> {
        if !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(match value.len() {
            32 => ChecksumKind::Md5,
            40 => ChecksumKind::Sha1,
            64 => ChecksumKind::Sha256,
            128 => ChecksumKind::Sha512,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            ChecksumKind::Md5 => "md5",
            ChecksumKind::Sha1 => "sha1",
            ChecksumKind::Sha256 => "sha256",
            ChecksumKind::Sha512 => "sha512",
        }
    }
}

/// Bytes used by live and trashed files of a repository.
pub fn repo_usage(conn: &Conn, repo_id: &str) -> StoreResult<(i64, i64)> {
    conn.query_row(
        "SELECT CAST(coalesce(sum(size), 0) AS BIGINT), count(*) FROM files WHERE repo_id = ?1",
        params![repo_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Live files and their bytes, per repository of a domain (repositories without files are absent), from
/// the counters the `files` triggers keep (migration 0019), so the answer costs a row per repository
/// rather than a row per file.
pub fn live_usage_by_repo(
    conn: &Conn,
    domain_id: &str,
) -> StoreResult<std::collections::HashMap<String, (i64, i64)>> {
    conn.query_map(
        "SELECT u.repo_id, u.files, u.bytes FROM repo_usage u JOIN repositories r ON r.id = u.repo_id \
         WHERE r.domain_id = ?1 AND u.files > 0",
        params![domain_id],
        |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))),
    )
        .map(|rows| rows.into_iter().collect())
}

/// Live files and their bytes under `prefix` (a directory path ending in `/`) of a repository.
pub fn live_usage_under(conn: &Conn, repo_id: &str, prefix: &str) -> StoreResult<(i64, i64)> {
    let upper = format!("{prefix}\u{10FFFF}");
    conn.query_row(
        "SELECT count(*), CAST(coalesce(sum(size), 0) AS BIGINT) FROM files \
         WHERE repo_id = ?1 AND path >= ?2 AND path < ?3 AND deleted_at IS NULL",
        params![repo_id, prefix, upper.as_str()],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Trashed files of a repository whose path is `prefix` itself or lies under `prefix/` (all for "").
pub fn trashed_files_under(
    conn: &Conn,
    repo_id: &str,
    prefix: &str,
) -> StoreResult<Vec<FileEntry>> {
    Ok(trashed_files(conn, repo_id)?
        .into_iter()
        .filter(|f| {
            prefix.is_empty() || f.path == prefix || f.path.starts_with(&format!("{prefix}/"))
        })
        .collect())
}

/// Blob digests of every file of a repository, live or trashed (the candidates for reclaiming once the
/// repository is deleted for good).
pub fn blob_refs_of_repo(conn: &Conn, repo_id: &str) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT DISTINCT sha256 FROM files WHERE repo_id = ?1",
        params![repo_id],
        |r| r.get(0),
    )
}

/// Live files of active repositories among `repo_ids` whose file name contains `needle`
/// (case-insensitive), ordered by repository name and path, one page of them.
pub fn search_files_by_name(
    conn: &Conn,
    repo_ids: &[String],
    needle: &str,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<FileEntry>> {
    if repo_ids.is_empty() {
        return Ok(Vec::new());
    }
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let placeholders = vec!["?"; repo_ids.len()].join(",");
    let sql = format!(
        "{FILE_SELECT} JOIN repositories r ON r.id = f.repo_id WHERE f.deleted_at IS NULL AND r.status = 'active' \
         AND f.repo_id IN ({placeholders}) \
         AND lower(replace(f.path, rtrim(f.path, replace(f.path, '/', '')), '')) LIKE '%' || lower(?) || '%' ESCAPE '\\' \
         ORDER BY r.name, f.path LIMIT ? OFFSET ?"
    );
    let mut values: Vec<&dyn Param> = repo_ids.iter().map(|id| id as &dyn Param).collect();
    values.extend([&escaped as &dyn Param, &limit, &offset]);
    conn.query_map(&sql, &values, file_from_row)
}

/// The largest live files of `repo_ids`, largest first, at most `limit` of them (the storage page's list;
/// the caller filters them further by path privileges).
pub fn largest_live_files(
    conn: &Conn,
    repo_ids: &[String],
    limit: i64,
) -> StoreResult<Vec<FileEntry>> {
    if repo_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = vec!["?"; repo_ids.len()].join(",");
    let sql = format!(
        "{FILE_SELECT} WHERE f.deleted_at IS NULL AND f.repo_id IN ({placeholders}) \
         ORDER BY f.size DESC, f.id LIMIT ?"
    );
    let mut values: Vec<&dyn Param> = repo_ids.iter().map(|id| id as &dyn Param).collect();
    values.push(&limit);
    conn.query_map(&sql, &values, file_from_row)
}

/// A file row's life: (created_at, deleted_at, size, path).
pub type FileLife = (i64, Option<i64>, i64, String);

/// Every file row of the given repositories, live or trashed: the history daily storage statistics
/// are computed from.
pub fn file_history(conn: &Conn, repo_ids: &[String]) -> StoreResult<Vec<FileLife>> {
    let mut out = Vec::new();
    for id in repo_ids {
        out.extend(conn.query_map(
            "SELECT created_at, deleted_at, size, path FROM files WHERE repo_id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn repo_fixture() -> Repository {
        Repository {
            id: crate::domain::new_hex_id(),
            domain_id: "d".into(),
            project_id: "p".into(),
            name: "fixture".into(),
            display_name: "fixture".into(),
            description: String::new(),
            format: "generic".into(),
            repo_type: "hosted".into(),
            policy: "mixed".into(),
            tab_id: "t".into(),
            includes_pattern: String::new(),
            deployment_policy: "allow_redeploy".into(),
            allow_anonymous: false,
            max_unique_snapshots: 0,
            share_right: "private".into(),
            status: STATUS_ACTIVE.into(),
            deleted_at: None,
            created_at: 0,
            created_by: "u".into(),
            modified_at: 0,
            modified_by: "u".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::test_db;
    use std::collections::HashMap;

    /// The account the tests' repositories belong to.
    fn domain(conn: &Conn) -> StoreResult<()> {
        insert_domain(
            conn,
            &Domain {
                id: "d".into(),
                name: "dom".into(),
            },
            0,
        )
    }

    fn blob(tag: &str) -> BlobInfo {
        BlobInfo {
            sha256: format!("{tag:0>64}"),
            size: 10,
            md5: format!("{tag:0>32}"),
            sha1: format!("{tag:0>40}"),
            sha512: format!("{tag:0>128}"),
        }
    }

    fn repo(name: &str) -> Repository {
        Repository {
            name: name.into(),
            ..super::tests_support::repo_fixture()
        }
    }

    #[test]
    fn files_replace_trash_restore_and_garbage() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            domain(conn)?;
            let r = repo("files");
            insert_repo(conn, &r)?;
            assert!(matches!(
                insert_repo(
                    conn,
                    &Repository {
                        id: "other".into(),
                        ..r.clone()
                    }
                ),
                Err(StoreError::Conflict(_))
            ));
            assert_eq!(
                put_file(conn, &r.id, "a/b.txt", &blob("1"), "text/plain", "u", 1)?,
                None
            );
            assert_eq!(
                put_file(conn, &r.id, "a/c.txt", &blob("1"), "text/plain", "u", 1)?,
                None
            );
            assert!(!create_file(
                conn,
                &r.id,
                "a/b.txt",
                &blob("2"),
                "text/plain",
                "u",
                2
            )?);
            assert_eq!(
                get_live_file(conn, &r.id, "a/b.txt")?.unwrap().sha256,
                blob("1").sha256
            );
            let replaced = put_file(conn, &r.id, "a/b.txt", &blob("2"), "text/plain", "u", 2)?;
            assert_eq!(replaced, Some(blob("1").sha256));
            assert!(
                collect_garbage(conn, &[blob("1").sha256])?.is_empty(),
                "still used by a/c.txt"
            );
            let under: Vec<_> = live_files_under(conn, &r.id, "a/")?
                .into_iter()
                .map(|f| f.path)
                .collect();
            assert_eq!(under, ["a/b.txt", "a/c.txt"]);
            assert!(trash_file(conn, &r.id, "a/c.txt", "u", 3)?);
            assert!(get_live_file(conn, &r.id, "a/c.txt")?.is_none());
            let trashed = trashed_files(conn, &r.id)?;
            // A file in the recycle bin does not hold its path.
            assert!(create_file(
                conn,
                &r.id,
                "a/c.txt",
                &blob("3"),
                "text/plain",
                "u",
                4
            )?);
            assert!(matches!(
                restore_file(conn, trashed[0].id),
                Err(StoreError::Conflict(_))
            ));
            let newest = get_live_file(conn, &r.id, "a/c.txt")?.unwrap();
            purge_file(conn, newest.id)?;
            assert!(restore_file(conn, trashed[0].id)?);
            assert_eq!(
                files_by_checksum(conn, "d", ChecksumKind::Sha1, &blob("1").sha1)?.len(),
                1
            );
            assert_eq!(
                unrecorded_blobs(conn, &[blob("1").sha256, blob("9").sha256])?,
                [blob("9").sha256]
            );
            assert_eq!(
                unreferenced_blobs(conn)?,
                [blob("3").sha256],
                "purged a/c.txt"
            );
            delete_repo(conn, &r.id)?;
            let mut unreferenced = unreferenced_blobs(conn)?;
            unreferenced.sort();
            assert_eq!(
                unreferenced,
                [blob("1").sha256, blob("2").sha256, blob("3").sha256]
            );
            let freed = collect_garbage(
                conn,
                &[blob("1").sha256, blob("2").sha256, blob("3").sha256],
            )?;
            assert_eq!(freed.len(), 3);
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn largest_live_files_leave_out_the_bin_and_other_repositories() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            domain(conn)?;
            let r = repo("sizes");
            insert_repo(conn, &r)?;
            let other = Repository {
                id: "other".into(),
                ..repo("other")
            };
            insert_repo(conn, &other)?;
            let sized = |tag: &str, size: u64| BlobInfo { size, ..blob(tag) };
            put_file(conn, &r.id, "small", &sized("1", 10), "x/y", "u", 1)?;
            put_file(conn, &r.id, "big", &sized("2", 30), "x/y", "u", 1)?;
            put_file(conn, &r.id, "gone", &sized("3", 99), "x/y", "u", 1)?;
            put_file(conn, &r.id, "mid", &sized("4", 20), "x/y", "u", 1)?;
            put_file(conn, &other.id, "huge", &sized("5", 500), "x/y", "u", 1)?;
            trash_file(conn, &r.id, "gone", "u", 2)?;
            let top: Vec<_> = largest_live_files(conn, std::slice::from_ref(&r.id), 2)?
                .into_iter()
                .map(|f| (f.path, f.size))
                .collect();
            assert_eq!(top, [("big".to_string(), 30), ("mid".to_string(), 20)]);
            assert!(largest_live_files(conn, &[], 5)?.is_empty());
            Ok(())
        })
        .unwrap();
    }

    /// The generation and its row, on each backend (PostgreSQL has no rowid: never a row there).
    #[test]
    fn metadata_generation_with_its_row() {
        for (_guard, db) in crate::store::test_backends() {
            db.blocking(|conn| {
                domain(conn)?;
                let r = repo("gens");
                insert_repo(conn, &r)?;
                let before = metadata_generation_row(conn, &r.id)?.expect("the repository");
                put_file(conn, &r.id, "x", &blob("1"), "t", "u", 1)?;
                let after = metadata_generation_row(conn, &r.id)?.expect("the repository");
                assert!(after.generation > before.generation);
                assert_eq!(after.row.is_some(), !conn.is_postgres());
                assert_eq!(metadata_generation_row(conn, "none")?, None);
                Ok(())
            })
            .unwrap();
        }
    }

    /// The counters the triggers keep answer what summing the files would, through every way a file
    /// comes and goes, on each backend.
    #[test]
    fn usage_counters_follow_every_change_of_the_files() {
        for (_guard, db) in crate::store::test_backends() {
            db.blocking(|conn| {
                domain(conn)?;
                let (a, b, gone) = (repo("a"), repo("b"), repo("gone"));
                for r in [&a, &b, &gone] {
                    insert_repo(conn, r)?;
                }
                let summed = |conn: &Conn| -> StoreResult<HashMap<String, (i64, i64)>> {
                    conn.query_map(
                        "SELECT repo_id, count(*), CAST(sum(size) AS BIGINT) FROM files \
                         WHERE deleted_at IS NULL GROUP BY repo_id",
                        params![],
                        |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))),
                    )
                    .map(|rows| rows.into_iter().collect())
                };
                let check = |conn: &Conn, step: &str| -> StoreResult<()> {
                    assert_eq!(
                        live_usage_by_repo(conn, "d")?,
                        summed(conn)?,
                        "after {step}"
                    );
                    Ok(())
                };
                let sized = |tag: &str, size: u64| BlobInfo { size, ..blob(tag) };
                put_file(conn, &a.id, "x", &sized("1", 100), "t", "u", 1)?;
                put_file(conn, &a.id, "y", &sized("2", 7), "t", "u", 1)?;
                put_file(conn, &b.id, "x", &sized("1", 100), "t", "u", 1)?;
                put_file(conn, &gone.id, "x", &sized("3", 5), "t", "u", 1)?;
                check(conn, "uploads")?;
                put_file(conn, &a.id, "x", &sized("4", 1000), "t", "u", 2)?;
                check(conn, "an overwrite")?;
                {
                    let tx = conn.transaction()?;
                    assert!(create_file(&tx, &a.id, "z", &sized("5", 3), "t", "u", 2)?);
                    assert!(!create_file(&tx, &a.id, "z", &sized("6", 9), "t", "u", 2)?);
                    tx.commit()?;
                }
                check(conn, "create_file")?;
                assert!(trash_file(conn, &a.id, "y", "u", 3)?);
                check(conn, "trash")?;
                let trashed = trashed_files(conn, &a.id)?[0].id;
                put_file(conn, &a.id, "y", &sized("7", 11), "t", "u", 3)?;
                assert!(restore_file(conn, trashed).is_err());
                check(conn, "a restore refused")?;
                trash_file(conn, &a.id, "y", "u", 4)?;
                assert!(restore_file(conn, trashed)?);
                check(conn, "a restore")?;
                conn.execute(
                    "UPDATE files SET size = 2 WHERE repo_id = ?1 AND path = 'z'",
                    params![a.id],
                )?;
                check(conn, "a size change")?;
                let purged = get_live_file(conn, &b.id, "x")?.unwrap().id;
                purge_file(conn, purged)?;
                check(conn, "a purge")?;
                assert!(!live_usage_by_repo(conn, "d")?.contains_key(&b.id));
                delete_repo(conn, &gone.id)?;
                check(conn, "a repository deleted")?;
                let left: i64 = conn.query_row(
                    "SELECT count(*) FROM repo_usage WHERE repo_id = ?1",
                    params![gone.id],
                    |r| r.get(0),
                )?;
                assert_eq!(left, 0, "a deleted repository keeps no counter");
                Ok(())
            })
            .unwrap();
        }
    }

    #[test]
    fn checksum_kind_by_length() {
        assert_eq!(ChecksumKind::of(&"a".repeat(32)), Some(ChecksumKind::Md5));
        assert_eq!(ChecksumKind::of(&"a".repeat(40)), Some(ChecksumKind::Sha1));
        assert_eq!(
            ChecksumKind::of(&"a".repeat(64)),
            Some(ChecksumKind::Sha256)
        );
        assert_eq!(
            ChecksumKind::of(&"a".repeat(128)),
            Some(ChecksumKind::Sha512)
        );
        assert_eq!(ChecksumKind::of(&"g".repeat(32)), None);
        assert_eq!(ChecksumKind::of("abc"), None);
    }
}
