//! Security scan tasks (`list_sec_guard_list`): one per uploaded file, written when its scan is done.

use crate::params;
use crate::store::{Conn, Row};

use super::StoreResult;

/// A file waiting for its scan.
#[derive(Debug, Clone)]
pub struct Pending {
    pub file_id: i64,
    pub domain_id: String,
    pub repo_id: String,
    pub repo_name: String,
    pub path: String,
    pub sha256: String,
    pub size: i64,
}

#[derive(Debug, Clone, Default)]
pub struct ScanTask {
    pub id: String,
    pub file_id: i64,
    pub domain_id: String,
    pub repo_id: String,
    pub repo_name: String,
    pub path: String,
    pub sha256: String,
    /// `success` (scanned; findings may be empty) or `failed` (the bytes could not be read).
    pub status: String,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    /// JSON array of `{severity, kind, entry}`.
    pub findings: String,
    pub created_at: i64,
}

/// The next files to scan: those uploaded after the last one scanned, oldest first.
pub fn pending(conn: &Conn, limit: i64) -> StoreResult<Vec<Pending>> {
    conn.query_map(
        "SELECT f.id, r.domain_id, f.repo_id, r.name, f.path, f.sha256, f.size \
         FROM files f JOIN repositories r ON r.id = f.repo_id \
         WHERE f.id > (SELECT coalesce(max(file_id), 0) FROM scan_tasks) ORDER BY f.id LIMIT ?1",
        params![limit],
        |r| {
            Ok(Pending {
                file_id: r.get(0)?,
                domain_id: r.get(1)?,
                repo_id: r.get(2)?,
                repo_name: r.get(3)?,
                path: r.get(4)?,
                sha256: r.get(5)?,
                size: r.get(6)?,
            })
        },
    )
}

/// Records a finished scan; another node's record of the same file wins quietly.
pub fn insert(conn: &Conn, t: &ScanTask) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO scan_tasks (id, file_id, domain_id, repo_id, repo_name, path, sha256, status, high, \
         medium, low, findings, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) \
         ON CONFLICT DO NOTHING",
        params![
            t.id,
            t.file_id,
            t.domain_id,
            t.repo_id,
            t.repo_name,
            t.path,
            t.sha256,
            t.status,
            t.high,
            t.medium,
            t.low,
            t.findings,
            t.created_at
        ],
    )?;
    Ok(())
}

fn from_row(r: &Row<'_>) -> StoreResult<ScanTask> {
    Ok(ScanTask {
        id: r.get(0)?,
        file_id: r.get(1)?,
        domain_id: r.get(2)?,
        repo_id: r.get(3)?,
        repo_name: r.get(4)?,
        path: r.get(5)?,
        sha256: r.get(6)?,
        status: r.get(7)?,
        high: r.get(8)?,
        medium: r.get(9)?,
        low: r.get(10)?,
        findings: r.get(11)?,
        created_at: r.get(12)?,
    })
}

/// An account's tasks since `since_ms`, newest first.
pub fn list_since(conn: &Conn, domain_id: &str, since_ms: i64) -> StoreResult<Vec<ScanTask>> {
    conn.query_map(
        "SELECT id, file_id, domain_id, repo_id, repo_name, path, sha256, status, high, medium, low, \
         findings, created_at FROM scan_tasks WHERE domain_id = ?1 AND created_at >= ?2 \
         ORDER BY created_at DESC, file_id DESC",
        params![domain_id, since_ms],
        from_row,
    )
}
