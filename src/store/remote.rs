//! What remote and virtual repositories keep besides the repository row: upstream settings, ordered
//! members, what was learnt of upstream paths, and the account's outbound proxies.

use crate::params;
use crate::store::{Conn, Row};

use super::{StoreError, StoreResult};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSettings {
    pub repo_id: String,
    pub remote_url: String,
    pub user_name: String,
    /// Sealed with the account's secret key; `None`: no password.
    pub password_sealed: Option<Vec<u8>>,
    pub metadata_max_age_secs: i64,
    pub not_found_cache_secs: i64,
}

pub fn get_remote(conn: &Conn, repo_id: &str) -> StoreResult<Option<RemoteSettings>> {
    conn.query_opt(
        "SELECT repo_id, remote_url, user_name, password_sealed, metadata_max_age_secs, \
             not_found_cache_secs FROM remote_settings WHERE repo_id = ?1",
        params![repo_id],
        |r| {
            Ok(RemoteSettings {
                repo_id: r.get(0)?,
                remote_url: r.get(1)?,
                user_name: r.get(2)?,
                password_sealed: r.get(3)?,
                metadata_max_age_secs: r.get(4)?,
                not_found_cache_secs: r.get(5)?,
            })
        },
    )
}

pub fn put_remote(conn: &Conn, s: &RemoteSettings) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO remote_settings (repo_id, remote_url, user_name, password_sealed, metadata_max_age_secs, \
         not_found_cache_secs) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT (repo_id) DO UPDATE SET remote_url = excluded.remote_url, user_name = excluded.user_name, \
         password_sealed = excluded.password_sealed, metadata_max_age_secs = excluded.metadata_max_age_secs, \
         not_found_cache_secs = excluded.not_found_cache_secs",
        params![
            s.repo_id,
            s.remote_url,
            s.user_name,
            s.password_sealed,
            s.metadata_max_age_secs,
            s.not_found_cache_secs
        ],
    )?;
    Ok(())
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VirtualSettings {
    pub repo_id: String,
    /// Member repository ids in the order they are consulted.
    pub members: Vec<String>,
    pub default_deploy_repo_id: Option<String>,
    /// A package name found in a hosted member hides the same name in every remote member.
    pub hosted_names_hide_remote: bool,
}

/// A virtual repository's settings and its members in order, active ones only.
pub fn virtual_with_members(
    conn: &Conn,
    repo_id: &str,
) -> StoreResult<(VirtualSettings, Vec<super::repos::Repository>)> {
    let settings = get_virtual(conn, repo_id)?.unwrap_or_default();
    let mut found = Vec::with_capacity(settings.members.len());
    for member in &settings.members {
        if let Some(m) = super::repos::get_repo(conn, member)? {
            if m.status == super::repos::STATUS_ACTIVE {
                found.push(m);
            }
        }
    }
    Ok((settings, found))
}

pub fn get_virtual(conn: &Conn, repo_id: &str) -> StoreResult<Option<VirtualSettings>> {
    let Some((default_deploy_repo_id, hosted_names_hide_remote)) = conn
        .query_opt(
            "SELECT default_deploy_repo_id, hosted_names_hide_remote FROM virtual_settings WHERE repo_id = ?1",
            params![repo_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?
    else {
        return Ok(None);
    };
    let members = conn.query_map(
        "SELECT member_id FROM virtual_members WHERE virtual_id = ?1 ORDER BY position",
        params![repo_id],
        |r| r.get(0),
    )?;
    Ok(Some(VirtualSettings {
        repo_id: repo_id.to_string(),
        members,
        default_deploy_repo_id,
        hosted_names_hide_remote,
    }))
}

/// Replaces a virtual repository's settings and members (call inside a transaction).
pub fn put_virtual(conn: &Conn, s: &VirtualSettings) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO virtual_settings (repo_id, default_deploy_repo_id, hosted_names_hide_remote) \
         VALUES (?1, ?2, ?3) ON CONFLICT (repo_id) DO UPDATE SET \
         default_deploy_repo_id = excluded.default_deploy_repo_id, \
         hosted_names_hide_remote = excluded.hosted_names_hide_remote",
        params![
            s.repo_id,
            s.default_deploy_repo_id,
            s.hosted_names_hide_remote
        ],
    )?;
    conn.execute(
        "DELETE FROM virtual_members WHERE virtual_id = ?1",
        params![&s.repo_id],
    )?;
    for (position, member) in s.members.iter().enumerate() {
        conn.execute(
            "INSERT INTO virtual_members (virtual_id, position, member_id) VALUES (?1, ?2, ?3)",
            params![s.repo_id, position as i64, member],
        )?;
    }
    Ok(())
}

/// Every remote repository's settings in an account.
pub fn domain_remotes(conn: &Conn, domain_id: &str) -> StoreResult<Vec<RemoteSettings>> {
    let ids: Vec<String> = conn.query_map(
        "SELECT s.repo_id FROM remote_settings s JOIN repositories r ON r.id = s.repo_id WHERE r.domain_id = ?1", params![domain_id], |r| r.get(0))?;
    ids.iter()
        .filter_map(|id| get_remote(conn, id).transpose())
        .collect()
}

/// Every virtual repository's settings in an account.
pub fn domain_virtuals(conn: &Conn, domain_id: &str) -> StoreResult<Vec<VirtualSettings>> {
    let ids: Vec<String> = conn.query_map(
        "SELECT s.repo_id FROM virtual_settings s JOIN repositories r ON r.id = s.repo_id WHERE r.domain_id = ?1", params![domain_id], |r| r.get(0))?;
    ids.iter()
        .filter_map(|id| get_virtual(conn, id).transpose())
        .collect()
}

/// Whether the account has any remote repository (live or in the recycle bin).
pub fn any_remote(conn: &Conn, domain_id: &str) -> StoreResult<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM remote_settings s JOIN repositories r ON r.id = s.repo_id \
         WHERE r.domain_id = ?1)",
        params![domain_id],
        |r| r.get(0),
    )
}

/// What the last upstream answer for a path said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemotePath {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub checked_at: i64,
    pub missing: bool,
}

pub fn get_remote_path(conn: &Conn, repo_id: &str, path: &str) -> StoreResult<Option<RemotePath>> {
    conn
        .query_opt(
            "SELECT etag, last_modified, checked_at, missing FROM remote_paths WHERE repo_id = ?1 AND path = ?2",
            params![repo_id, path],
            |r| {
            Ok(RemotePath {
                etag: r.get(0)?,
                last_modified: r.get(1)?,
                checked_at: r.get(2)?,
                missing: r.get(3)?,
            })
        })
}

pub fn put_remote_path(conn: &Conn, repo_id: &str, path: &str, p: &RemotePath) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO remote_paths (repo_id, path, etag, last_modified, checked_at, missing) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (repo_id, path) DO UPDATE SET etag = excluded.etag, \
         last_modified = excluded.last_modified, checked_at = excluded.checked_at, missing = excluded.missing",
        params![
        repo_id,
        path,
        p.etag,
        p.last_modified,
        p.checked_at,
        p.missing
    ])?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetProxy {
    pub id: i64,
    pub domain_id: String,
    pub host_name: String,
    pub host: String,
    pub port: u16,
    pub user_name: String,
    pub password_sealed: Option<Vec<u8>>,
    pub is_default: bool,
    pub remark: String,
    pub created_at: i64,
    pub created_by: String,
    pub modified_at: i64,
    pub modified_by: String,
}

const PROXY_COLS: &str =
    "id, domain_id, host_name, host, port, user_name, password_sealed, is_default, remark, \
    created_at, created_by, modified_at, modified_by";

fn proxy_from_row(r: &Row<'_>) -> StoreResult<NetProxy> {
    Ok(NetProxy {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        host_name: r.get(2)?,
        host: r.get(3)?,
        port: u16::try_from(r.get::<i64>(4)?)
            .map_err(|_| StoreError::Corrupt("a proxy port out of range".into()))?,
        user_name: r.get(5)?,
        password_sealed: r.get(6)?,
        is_default: r.get(7)?,
        remark: r.get(8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        modified_at: r.get(11)?,
        modified_by: r.get(12)?,
    })
}

pub fn list_net_proxies(conn: &Conn, domain_id: &str) -> StoreResult<Vec<NetProxy>> {
    conn.query_map(
        &format!("SELECT {PROXY_COLS} FROM net_proxies WHERE domain_id = ?1 ORDER BY id"),
        params![domain_id],
        proxy_from_row,
    )
}

pub fn get_net_proxy(conn: &Conn, domain_id: &str, id: i64) -> StoreResult<Option<NetProxy>> {
    conn.query_opt(
        &format!("SELECT {PROXY_COLS} FROM net_proxies WHERE domain_id = ?1 AND id = ?2"),
        params![domain_id, id],
        proxy_from_row,
    )
}

pub fn default_net_proxy(conn: &Conn, domain_id: &str) -> StoreResult<Option<NetProxy>> {
    conn.query_opt(
        &format!("SELECT {PROXY_COLS} FROM net_proxies WHERE domain_id = ?1 AND is_default"),
        params![domain_id],
        proxy_from_row,
    )
}

/// Inserts (`id` 0) or rewrites a proxy; a default one takes the mark from any other (call inside a
/// transaction). Answers the proxy's id.
pub fn save_net_proxy(conn: &Conn, p: &NetProxy) -> StoreResult<i64> {
    if p.is_default {
        conn.execute(
            "UPDATE net_proxies SET is_default = FALSE WHERE domain_id = ?1 AND id != ?2",
            params![p.domain_id, p.id],
        )?;
    }
    if p.id == 0 {
        conn.query_row(
            "INSERT INTO net_proxies (domain_id, host_name, host, port, user_name, password_sealed, is_default, \
             remark, created_at, created_by, modified_at, modified_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
            params![
                p.domain_id, p.host_name, p.host, i64::from(p.port), p.user_name, p.password_sealed, p.is_default,
                p.remark, p.created_at, p.created_by, p.modified_at, p.modified_by
            ],
            |r| r.get(0),
        )
    } else {
        conn.execute(
            "UPDATE net_proxies SET host_name = ?3, host = ?4, port = ?5, user_name = ?6, password_sealed = ?7, \
             is_default = ?8, remark = ?9, modified_at = ?10, modified_by = ?11 WHERE domain_id = ?1 AND id = ?2",
            params![
                p.domain_id, p.id, p.host_name, p.host, i64::from(p.port), p.user_name, p.password_sealed, p.is_default,
                p.remark, p.modified_at, p.modified_by
            ],
        )?;
        Ok(p.id)
    }
}

pub fn delete_net_proxy(conn: &Conn, domain_id: &str, id: i64) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM net_proxies WHERE domain_id = ?1 AND id = ?2",
        params![domain_id, id],
    )? > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::repos::{insert_repo, tests_support::repo_fixture, Repository};
    use crate::store::Db;

    fn db_with(repos: &[&str]) -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("arca.db")).unwrap();
        let names: Vec<String> = repos.iter().map(|s| s.to_string()).collect();
        db.blocking(move |conn| {
            let domain = Domain {
                id: "d".into(),
                name: "dom".into(),
            };
            insert_domain(conn, &domain, 0)?;
            for name in &names {
                insert_repo(
                    conn,
                    &Repository {
                        id: name.clone(),
                        name: name.clone(),
                        ..repo_fixture()
                    },
                )?;
            }
            Ok(())
        })
        .unwrap();
        (dir, db)
    }

    #[test]
    fn members_keep_their_order_and_follow_deletion() {
        let (_dir, db) = db_with(&["v", "a", "b", "c"]);
        db.blocking(|conn| {
            let settings = VirtualSettings {
                repo_id: "v".into(),
                members: vec!["c".into(), "a".into(), "b".into()],
                default_deploy_repo_id: Some("a".into()),
                hosted_names_hide_remote: true,
            };
            put_virtual(conn, &settings)?;
            assert_eq!(get_virtual(conn, "v")?.unwrap(), settings);
            put_virtual(
                conn,
                &VirtualSettings {
                    members: vec!["b".into(), "c".into()],
                    ..settings.clone()
                },
            )?;
            assert_eq!(get_virtual(conn, "v")?.unwrap().members, ["b", "c"]);
            conn.execute("DELETE FROM repositories WHERE id = 'a'", params![])?;
            let after = get_virtual(conn, "v")?.unwrap();
            assert_eq!(after.default_deploy_repo_id, None);
            assert_eq!(after.members, ["b", "c"]);
            assert!(get_virtual(conn, "a")?.is_none());
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn one_default_proxy_per_account() {
        let (_dir, db) = db_with(&[]);
        db.blocking(|conn| {
            let proxy = NetProxy {
                id: 0,
                domain_id: "d".into(),
                host_name: "first".into(),
                host: "10.0.0.1".into(),
                port: 3128,
                user_name: String::new(),
                password_sealed: None,
                is_default: true,
                remark: String::new(),
                created_at: 1,
                created_by: "u".into(),
                modified_at: 1,
                modified_by: "u".into(),
            };
            let first = save_net_proxy(conn, &proxy)?;
            let second = save_net_proxy(
                conn,
                &NetProxy {
                    host_name: "second".into(),
                    ..proxy.clone()
                },
            )?;
            assert_eq!(default_net_proxy(conn, "d")?.unwrap().id, second);
            assert!(!get_net_proxy(conn, "d", first)?.unwrap().is_default);
            assert!(get_net_proxy(conn, "other", first)?.is_none());
            assert!(delete_net_proxy(conn, "d", second)?);
            assert!(default_net_proxy(conn, "d")?.is_none());
            Ok(())
        })
        .unwrap();
    }
}
