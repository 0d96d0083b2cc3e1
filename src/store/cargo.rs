//! Versions and owners of crates in Cargo repositories (`cargo_versions`, `cargo_owners`). A version is
//! visible while its `.crate` file is live.

use rusqlite::{params, Connection, OptionalExtension};

use super::StoreResult;

pub struct NewVersion<'a> {
    pub name: &'a str,
    pub vers: &'a str,
    pub index_line: &'a str,
    pub path: &'a str,
    pub user_id: &'a str,
    pub now: i64,
}

/// Records a version; answers false when the version exists already (live or not: versions are never
/// reused, as on crates.io).
pub fn insert_version(conn: &Connection, repo_id: &str, v: &NewVersion<'_>) -> StoreResult<bool> {
    Ok(conn.execute(
        "INSERT OR IGNORE INTO cargo_versions (repo_id, name, vers, index_line, path, published_at, published_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![repo_id, v.name.to_ascii_lowercase(), v.vers, v.index_line, v.path, v.now, v.user_id],
    )? > 0)
}

/// The index key of a crate already in the repository whose name collides with `canonical`
/// (lowercase, `-` as `_`), if any.
pub fn colliding_name(
    conn: &Connection,
    repo_id: &str,
    canonical: &str,
) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT name FROM cargo_versions WHERE repo_id = ?1 AND replace(name, '-', '_') = ?2 LIMIT 1",
            [repo_id, canonical],
            |r| r.get(0),
        )
        .optional()?)
}

/// Index lines and yank flags of a crate's live versions, in publishing order.
pub fn live_versions(
    conn: &Connection,
    repo_id: &str,
    name: &str,
) -> StoreResult<Vec<(String, bool, i64)>> {
    let mut stmt = conn.prepare(
        "SELECT v.index_line, v.yanked, v.published_at FROM cargo_versions v JOIN files f ON f.repo_id = v.repo_id \
         AND f.path = v.path AND f.deleted_at IS NULL WHERE v.repo_id = ?1 AND v.name = ?2 ORDER BY v.id",
    )?;
    let rows = stmt.query_map([repo_id, &name.to_ascii_lowercase()], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The `.crate` path of a live version.
pub fn version_path(
    conn: &Connection,
    repo_id: &str,
    name: &str,
    vers: &str,
) -> StoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT v.path FROM cargo_versions v JOIN files f ON f.repo_id = v.repo_id AND f.path = v.path \
             AND f.deleted_at IS NULL WHERE v.repo_id = ?1 AND v.name = ?2 AND v.vers = ?3",
            params![repo_id, name.to_ascii_lowercase(), vers],
            |r| r.get(0),
        )
        .optional()?)
}

pub fn set_yanked(
    conn: &Connection,
    repo_id: &str,
    name: &str,
    vers: &str,
    yanked: bool,
) -> StoreResult<usize> {
    Ok(conn.execute(
        "UPDATE cargo_versions SET yanked = ?4 WHERE repo_id = ?1 AND name = ?2 AND vers = ?3",
        params![repo_id, name.to_ascii_lowercase(), vers, yanked],
    )?)
}

/// Crates whose name contains `query`, with their newest live version, at most `limit`.
pub fn search(
    conn: &Connection,
    repo_id: &str,
    query: &str,
    limit: i64,
) -> StoreResult<Vec<(String, String)>> {
    let escaped = query
        .to_ascii_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let mut stmt = conn.prepare(
        "SELECT v.name, v.index_line FROM cargo_versions v JOIN files f ON f.repo_id = v.repo_id AND f.path = v.path \
         AND f.deleted_at IS NULL WHERE v.repo_id = ?1 AND v.name LIKE '%' || ?2 || '%' ESCAPE '\\' \
         AND v.id = (SELECT max(w.id) FROM cargo_versions w WHERE w.repo_id = v.repo_id AND w.name = v.name) \
         ORDER BY v.name LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![repo_id, escaped, limit], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Owners of a crate: (user id, user name), in id order.
pub fn owners(conn: &Connection, repo_id: &str, name: &str) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT o.user_id, coalesce(u.name, '') FROM cargo_owners o LEFT JOIN users u ON u.id = o.user_id \
         WHERE o.repo_id = ?1 AND o.name = ?2 ORDER BY o.user_id",
    )?;
    let rows = stmt.query_map([repo_id, &name.to_ascii_lowercase()], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn add_owner(conn: &Connection, repo_id: &str, name: &str, user_id: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT OR IGNORE INTO cargo_owners (repo_id, name, user_id) VALUES (?1, ?2, ?3)",
        params![repo_id, name.to_ascii_lowercase(), user_id],
    )?;
    Ok(())
}

pub fn remove_owner(
    conn: &Connection,
    repo_id: &str,
    name: &str,
    user_id: &str,
) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM cargo_owners WHERE repo_id = ?1 AND name = ?2 AND user_id = ?3",
        params![repo_id, name.to_ascii_lowercase(), user_id],
    )? > 0)
}
