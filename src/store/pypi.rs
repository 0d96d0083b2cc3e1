//! Distributions of PyPI repositories (`pypi_files`), joined with the live files they describe.

use crate::params;
use crate::store::{Conn, Row};

use super::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribution {
    pub project: String,
    pub display_name: String,
    pub version: String,
    pub filename: String,
    pub path: String,
    pub packagetype: String,
    pub requires_python: String,
    pub metadata_path: Option<String>,
    pub yanked: bool,
    pub yanked_reason: String,
    pub uploaded_at: i64,
    pub uploaded_by: String,
}

/// A live distribution with the digests and size of its file (and of its metadata file).
#[derive(Debug, Clone)]
pub struct LiveDistribution {
    pub dist: Distribution,
    pub sha256: String,
    pub size: i64,
    pub metadata_sha256: Option<String>,
    /// The file's MD5 (the JSON API's `digests.md5`).
    pub md5: String,
}

/// Records a distribution; replaces the row of a file name whose file is gone (deleted for good).
pub fn upsert(conn: &Conn, repo_id: &str, d: &Distribution) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO pypi_files (repo_id, project, display_name, version, filename, path, packagetype, \
         requires_python, metadata_path, yanked, yanked_reason, uploaded_at, uploaded_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT (repo_id, filename) DO UPDATE SET project = ?2, display_name = ?3, version = ?4, path = ?6, \
         packagetype = ?7, requires_python = ?8, metadata_path = ?9, yanked = ?10, yanked_reason = ?11, \
         uploaded_at = ?12, uploaded_by = ?13",
        params![
            repo_id, d.project, d.display_name, d.version, d.filename, d.path, d.packagetype,
            d.requires_python, d.metadata_path, d.yanked, d.yanked_reason, d.uploaded_at, d.uploaded_by
        ],
    )?;
    Ok(())
}

const LIVE_SELECT: &str = "SELECT p.project, p.display_name, p.version, p.filename, p.path, p.packagetype, \
    p.requires_python, p.metadata_path, p.yanked, p.yanked_reason, p.uploaded_at, p.uploaded_by, f.sha256, f.size, \
    (SELECT m.sha256 FROM files m WHERE m.repo_id = p.repo_id AND m.path = p.metadata_path AND m.deleted_at IS NULL), \
    (SELECT b.md5 FROM blobs b WHERE b.sha256 = f.sha256) \
    FROM pypi_files p JOIN files f ON f.repo_id = p.repo_id AND f.path = p.path AND f.deleted_at IS NULL";

fn live_from_row(r: &Row<'_>) -> StoreResult<LiveDistribution> {
    Ok(LiveDistribution {
        dist: Distribution {
            project: r.get(0)?,
            display_name: r.get(1)?,
            version: r.get(2)?,
            filename: r.get(3)?,
            path: r.get(4)?,
            packagetype: r.get(5)?,
            requires_python: r.get(6)?,
            metadata_path: r.get(7)?,
            yanked: r.get(8)?,
            yanked_reason: r.get(9)?,
            uploaded_at: r.get(10)?,
            uploaded_by: r.get(11)?,
        },
        sha256: r.get(12)?,
        size: r.get(13)?,
        metadata_sha256: r.get(14)?,
        md5: r.get::<Option<String>>(15)?.unwrap_or_default(),
    })
}

/// The live distributions of a project, oldest upload first.
pub fn live_of_project(
    conn: &Conn,
    repo_id: &str,
    project: &str,
) -> StoreResult<Vec<LiveDistribution>> {
    conn.query_map(
        &format!(
        "{LIVE_SELECT} WHERE p.repo_id = ?1 AND p.project = ?2 ORDER BY p.uploaded_at, p.filename"
    ),
        params![repo_id, project],
        live_from_row,
    )
}

/// The live distribution of a file name.
pub fn live_file(
    conn: &Conn,
    repo_id: &str,
    filename: &str,
) -> StoreResult<Option<LiveDistribution>> {
    conn.query_opt(
        &format!("{LIVE_SELECT} WHERE p.repo_id = ?1 AND p.filename = ?2"),
        params![repo_id, filename],
        live_from_row,
    )
}

/// Normalised names of the projects with at least one live file.
pub fn live_projects(conn: &Conn, repo_id: &str) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT DISTINCT p.project FROM pypi_files p JOIN files f ON f.repo_id = p.repo_id AND f.path = p.path \
         AND f.deleted_at IS NULL WHERE p.repo_id = ?1 ORDER BY p.project", params![repo_id], |r| r.get(0))
}

/// Sets the yank state of every file of a version; answers how many rows changed.
pub fn set_yanked(
    conn: &Conn,
    repo_id: &str,
    project: &str,
    version: &str,
    yanked: bool,
    reason: &str,
) -> StoreResult<usize> {
    conn.execute(
        "UPDATE pypi_files SET yanked = ?4, yanked_reason = ?5 WHERE repo_id = ?1 AND project = ?2 AND version = ?3",
        params![repo_id, project, version, yanked, reason],
    )
}
