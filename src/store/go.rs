//! Go module versions (`go_versions`), joined with their live zips.

use crate::params;
use crate::store::Conn;

use super::StoreResult;

pub struct NewVersion<'a> {
    pub module: &'a str,
    pub version: &'a str,
    pub zip_path: &'a str,
    pub mod_path: &'a str,
    pub has_go_mod: bool,
    pub user_id: &'a str,
    pub now: i64,
}

/// A recorded version, live or not.
#[derive(Debug, Clone)]
pub struct VersionRow {
    pub version: String,
    pub mod_path: String,
    pub has_go_mod: bool,
    pub published_at: i64,
    /// Whether its zip is live.
    pub live: bool,
}

/// Records a version; false when it exists (a version is never published twice, even after its zip
/// was deleted).
pub fn insert_version(conn: &Conn, repo_id: &str, v: &NewVersion<'_>) -> StoreResult<bool> {
    Ok(conn.execute(
        "INSERT INTO go_versions (repo_id, module, version, zip_path, mod_path, has_go_mod, published_at, published_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
        params![repo_id, v.module, v.version, v.zip_path, v.mod_path, v.has_go_mod, v.now, v.user_id],
    )? > 0)
}

/// A version as recorded, with whether its zip is live.
pub fn version(
    conn: &Conn,
    repo_id: &str,
    module: &str,
    version: &str,
) -> StoreResult<Option<VersionRow>> {
    conn.query_opt(
        "SELECT v.version, v.mod_path, v.has_go_mod, v.published_at, f.id FROM go_versions v \
         LEFT JOIN files f ON f.repo_id = v.repo_id AND f.path = v.zip_path AND f.deleted_at IS NULL \
         WHERE v.repo_id = ?1 AND v.module = ?2 AND v.version = ?3",
        params![repo_id, module, version],
        |r| {
            Ok(VersionRow {
                version: r.get(0)?,
                mod_path: r.get(1)?,
                has_go_mod: r.get(2)?,
                published_at: r.get(3)?,
                live: r.get::<Option<i64>>(4)?.is_some(),
            })
        },
    )
}

/// The versions of a module whose zip is live, with their publishing times, in publishing order.
pub fn live_versions(conn: &Conn, repo_id: &str, module: &str) -> StoreResult<Vec<(String, i64)>> {
    conn.query_map(
        "SELECT v.version, v.published_at FROM go_versions v \
         JOIN files f ON f.repo_id = v.repo_id AND f.path = v.zip_path AND f.deleted_at IS NULL \
         WHERE v.repo_id = ?1 AND v.module = ?2 ORDER BY v.id",
        params![repo_id, module],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}
