//! npm packages and versions (`npm_packages`, `npm_versions`), joined with their live tarballs.

use crate::params;
use crate::store::Conn;

use super::StoreResult;

/// A live version with its tarball's digests.
#[derive(Debug, Clone)]
pub struct LiveVersion {
    pub version: String,
    pub manifest: String,
    pub deprecated: Option<String>,
    pub published_at: i64,
    pub path: String,
    pub sha1: String,
    pub sha512: String,
}

/// The package's dist-tags (JSON object text) and creation/modification times, if it was ever published.
pub fn package(conn: &Conn, repo_id: &str, name: &str) -> StoreResult<Option<(String, i64, i64)>> {
    conn
        .query_opt(
            "SELECT dist_tags, created_at, modified_at FROM npm_packages WHERE repo_id = ?1 AND name = ?2",
            params![repo_id, name],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
}

/// Creates the package row or updates its dist-tags and modification time.
pub fn put_package(
    conn: &Conn,
    repo_id: &str,
    name: &str,
    dist_tags: &str,
    now: i64,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO npm_packages (repo_id, name, dist_tags, created_at, modified_at) VALUES (?1, ?2, ?3, ?4, ?4) \
         ON CONFLICT (repo_id, name) DO UPDATE SET dist_tags = ?3, modified_at = ?4",
        params![repo_id, name, dist_tags, now],
    )?;
    Ok(())
}

pub struct NewVersion<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub manifest: &'a str,
    pub path: &'a str,
    pub user_id: &'a str,
    pub now: i64,
}

/// Records a version; false when it exists (npm never reuses a version, even after unpublishing).
pub fn insert_version(conn: &Conn, repo_id: &str, v: &NewVersion<'_>) -> StoreResult<bool> {
    Ok(conn.execute(
        "INSERT INTO npm_versions (repo_id, name, version, manifest, path, published_at, published_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        params![repo_id, v.name, v.version, v.manifest, v.path, v.now, v.user_id],
    )? > 0)
}

pub fn version_exists(conn: &Conn, repo_id: &str, name: &str, version: &str) -> StoreResult<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM npm_versions WHERE repo_id = ?1 AND name = ?2 AND version = ?3",
            params![repo_id, name, version],
            |_| Ok(()),
        )?
        .is_some())
}

/// Live versions of a package in publishing order.
pub fn live_versions(conn: &Conn, repo_id: &str, name: &str) -> StoreResult<Vec<LiveVersion>> {
    conn.query_map(
        "SELECT v.version, v.manifest, v.deprecated, v.published_at, v.path, b.sha1, b.sha512 FROM npm_versions v \
         JOIN files f ON f.repo_id = v.repo_id AND f.path = v.path AND f.deleted_at IS NULL \
         JOIN blobs b ON b.sha256 = f.sha256 WHERE v.repo_id = ?1 AND v.name = ?2 ORDER BY v.id", params![repo_id, name], |r| {
        Ok(LiveVersion {
            version: r.get(0)?,
            manifest: r.get(1)?,
            deprecated: r.get(2)?,
            published_at: r.get(3)?,
            path: r.get(4)?,
            sha1: r.get(5)?,
            sha512: r.get(6)?,
        })
    })
}

pub fn set_deprecated(
    conn: &Conn,
    repo_id: &str,
    name: &str,
    version: &str,
    message: Option<&str>,
) -> StoreResult<()> {
    conn.execute(
        "UPDATE npm_versions SET deprecated = ?4 WHERE repo_id = ?1 AND name = ?2 AND version = ?3",
        params![repo_id, name, version, message],
    )?;
    Ok(())
}

/// Versions of a package whose tarball is live, in publishing order (no manifests: for tags and revisions).
pub fn live_version_names(conn: &Conn, repo_id: &str, name: &str) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT v.version FROM npm_versions v \
         JOIN files f ON f.repo_id = v.repo_id AND f.path = v.path AND f.deleted_at IS NULL \
         WHERE v.repo_id = ?1 AND v.name = ?2 ORDER BY v.id",
        params![repo_id, name],
        |r| r.get(0),
    )
}

/// Names of the packages with at least one live tarball, in name order, at most `limit`.
pub fn live_package_names(conn: &Conn, repo_id: &str, limit: i64) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT DISTINCT v.name FROM npm_versions v \
         JOIN files f ON f.repo_id = v.repo_id AND f.path = v.path AND f.deleted_at IS NULL \
         WHERE v.repo_id = ?1 ORDER BY v.name LIMIT ?2",
        params![repo_id, limit],
        |r| r.get(0),
    )
}
