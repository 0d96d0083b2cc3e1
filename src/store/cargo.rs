//! Versions and owners of crates in Cargo repositories (`cargo_versions`, `cargo_owners`). A version is
//! visible while its `.crate` file is live.

use crate::params;
use crate::store::Conn;

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
pub fn insert_version(conn: &Conn, repo_id: &str, v: &NewVersion<'_>) -> StoreResult<bool> {
    Ok(conn.execute(
        "INSERT INTO cargo_versions (repo_id, name, vers, index_line, path, published_at, published_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING",
        params![repo_id, v.name.to_ascii_lowercase(), v.vers, v.index_line, v.path, v.now, v.user_id],
    )? > 0)
}

/// The index key of a crate already in the repository whose name collides with `canonical`
/// (lowercase, `-` as `_`), if any. The expression is `cargo_versions_canonical`'s (migration 0020).
pub fn colliding_name(conn: &Conn, repo_id: &str, canonical: &str) -> StoreResult<Option<String>> {
    conn.query_opt(COLLIDING_NAME, params![repo_id, canonical], |r| r.get(0))
}

const COLLIDING_NAME: &str =
    "SELECT name FROM cargo_versions WHERE repo_id = ?1 AND replace(name, '-', '_') = ?2 LIMIT 1";

/// Index lines and yank flags of a crate's live versions, in publishing order.
pub fn live_versions(
    conn: &Conn,
    repo_id: &str,
    name: &str,
) -> StoreResult<Vec<(String, bool, i64)>> {
    conn.query_map(
        "SELECT v.index_line, v.yanked, v.published_at FROM cargo_versions v JOIN files f ON f.repo_id = v.repo_id \
         AND f.path = v.path AND f.deleted_at IS NULL WHERE v.repo_id = ?1 AND v.name = ?2 ORDER BY v.id", params![repo_id, &name.to_ascii_lowercase()], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
}

/// The `.crate` path of a live version.
pub fn version_path(
    conn: &Conn,
    repo_id: &str,
    name: &str,
    vers: &str,
) -> StoreResult<Option<String>> {
    conn
        .query_opt(
            "SELECT v.path FROM cargo_versions v JOIN files f ON f.repo_id = v.repo_id AND f.path = v.path \
             AND f.deleted_at IS NULL WHERE v.repo_id = ?1 AND v.name = ?2 AND v.vers = ?3",
            params![repo_id, name.to_ascii_lowercase(), vers],
            |r| r.get(0),
        )
}

pub fn set_yanked(
    conn: &Conn,
    repo_id: &str,
    name: &str,
    vers: &str,
    yanked: bool,
) -> StoreResult<usize> {
    conn.execute(
        "UPDATE cargo_versions SET yanked = ?4 WHERE repo_id = ?1 AND name = ?2 AND vers = ?3",
        params![repo_id, name.to_ascii_lowercase(), vers, yanked],
    )
}

/// Crates whose name contains `query`, with their newest live version, at most `limit`.
pub fn search(
    conn: &Conn,
    repo_id: &str,
    query: &str,
    limit: i64,
) -> StoreResult<Vec<(String, String)>> {
    let escaped = query
        .to_ascii_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    conn.query_map(
        "SELECT v.name, v.index_line FROM cargo_versions v JOIN files f ON f.repo_id = v.repo_id AND f.path = v.path \
         AND f.deleted_at IS NULL WHERE v.repo_id = ?1 AND v.name LIKE '%' || ?2 || '%' ESCAPE '\\' \
         AND v.id = (SELECT max(w.id) FROM cargo_versions w WHERE w.repo_id = v.repo_id AND w.name = v.name) \
         ORDER BY v.name LIMIT ?3", params![repo_id, escaped, limit], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// Owners of a crate: (user id, user name), in id order.
pub fn owners(conn: &Conn, repo_id: &str, name: &str) -> StoreResult<Vec<(String, String)>> {
    conn.query_map(
        "SELECT o.user_id, coalesce(u.name, '') FROM cargo_owners o LEFT JOIN users u ON u.id = o.user_id \
         WHERE o.repo_id = ?1 AND o.name = ?2 ORDER BY o.user_id", params![repo_id, &name.to_ascii_lowercase()], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

pub fn add_owner(conn: &Conn, repo_id: &str, name: &str, user_id: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO cargo_owners (repo_id, name, user_id) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        params![repo_id, name.to_ascii_lowercase(), user_id],
    )?;
    Ok(())
}

pub fn remove_owner(conn: &Conn, repo_id: &str, name: &str, user_id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM cargo_owners WHERE repo_id = ?1 AND name = ?2 AND user_id = ?3",
        params![repo_id, name.to_ascii_lowercase(), user_id],
    )? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::identity::{insert_domain, Domain};

    /// A publish's collision check costs an index lookup however many versions the repository holds.
    #[test]
    fn the_collision_check_reads_the_canonical_name_index() {
        let (_dir, db) = crate::store::test_db();
        db.blocking(|conn| {
            let plan = conn
                .query_map(
                    &format!("EXPLAIN QUERY PLAN {COLLIDING_NAME}"),
                    params!["r", "foo_bar"],
                    |r| r.get::<String>(3),
                )?
                .join("\n");
            assert!(plan.contains("cargo_versions_canonical"), "{plan}");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn names_collide_across_dashes_and_underscores_on_every_backend() {
        for (_guard, db) in crate::store::test_backends() {
            db.blocking(|conn| {
                insert_domain(
                    conn,
                    &Domain {
                        id: "d".into(),
                        name: "dom".into(),
                    },
                    0,
                )?;
                let repo = crate::store::repos::tests_support::repo_fixture();
                crate::store::repos::insert_repo(conn, &repo)?;
                let version = NewVersion {
                    name: "Foo-Bar",
                    vers: "1.0.0",
                    index_line: "{}",
                    path: "fo/o-/foo-bar-1.0.0.crate",
                    user_id: "u",
                    now: 0,
                };
                assert!(insert_version(conn, &repo.id, &version)?);
                assert_eq!(
                    colliding_name(conn, &repo.id, "foo_bar")?.as_deref(),
                    Some("foo-bar")
                );
                assert_eq!(colliding_name(conn, &repo.id, "foo_baz")?, None);
                Ok(())
            })
            .unwrap();
        }
    }
}
