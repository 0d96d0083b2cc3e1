//! Domains, users, groups, access keys, tokens, IAM projects and identity policies.

use crate::params;
use crate::store::{Conn, Row};

use super::{StoreError, StoreResult};

#[derive(Debug, Clone)]
pub struct Domain {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub domain_id: String,
    pub name: String,
    pub password_hash: Option<String>,
    pub is_root: bool,
    pub enabled: bool,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub created_at: i64,
    pub modified_at: i64,
    pub created_by: String,
    pub modified_by: String,
}

const USER_COLS: &str =
    "id, domain_id, name, password_hash, is_root, enabled, email, phone, description, \
                         created_at, modified_at, created_by, modified_by";

fn user_from_row(r: &Row<'_>) -> StoreResult<User> {
    Ok(User {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        name: r.get(2)?,
        password_hash: r.get(3)?,
        is_root: r.get(4)?,
        enabled: r.get(5)?,
        email: r.get(6)?,
        phone: r.get(7)?,
        description: r.get(8)?,
        created_at: r.get(9)?,
        modified_at: r.get(10)?,
        created_by: r.get(11)?,
        modified_by: r.get(12)?,
    })
}

pub fn insert_domain(conn: &Conn, d: &Domain, now: i64) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO domains (id, name, created_at) VALUES (?1, ?2, ?3)",
        params![d.id, d.name, now],
    )?;
    Ok(())
}

pub fn get_domain(conn: &Conn, id: &str) -> StoreResult<Option<Domain>> {
    conn.query_opt(
        "SELECT id, name FROM domains WHERE id = ?1",
        params![id],
        |r| {
            Ok(Domain {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        },
    )
}

pub fn find_domain_by_name(conn: &Conn, name: &str) -> StoreResult<Option<Domain>> {
    conn.query_opt(
        "SELECT id, name FROM domains WHERE name = ?1",
        params![name],
        |r| {
            Ok(Domain {
                id: r.get(0)?,
                name: r.get(1)?,
            })
        },
    )
}

pub fn insert_user(conn: &Conn, u: &User) -> StoreResult<()> {
    conn.execute(
        &format!("INSERT INTO users ({USER_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
        params![
            u.id, u.domain_id, u.name, u.password_hash, u.is_root, u.enabled, u.email, u.phone,
            u.description, u.created_at, u.modified_at, u.created_by, u.modified_by
        ],
    )
    .map_err(|e| unique_as_conflict(e, "a user with this name"))?;
    Ok(())
}

pub fn update_user(conn: &Conn, u: &User) -> StoreResult<()> {
    conn.execute(
        "UPDATE users SET name = ?2, password_hash = ?3, enabled = ?4, email = ?5, phone = ?6, description = ?7, \
         modified_at = ?8, modified_by = ?9 WHERE id = ?1",
        params![
            u.id, u.name, u.password_hash, u.enabled, u.email, u.phone, u.description, u.modified_at,
            u.modified_by
        ],
    )
    .map_err(|e| unique_as_conflict(e, "a user with this name"))?;
    Ok(())
}

pub fn get_user(conn: &Conn, id: &str) -> StoreResult<Option<User>> {
    conn.query_opt(
        &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
        params![id],
        user_from_row,
    )
}

pub fn find_user_by_name(conn: &Conn, domain_id: &str, name: &str) -> StoreResult<Option<User>> {
    conn.query_opt(
        &format!("SELECT {USER_COLS} FROM users WHERE domain_id = ?1 AND name = ?2"),
        params![domain_id, name],
        user_from_row,
    )
}

/// Users of a domain in `id` order, optionally only those whose name contains `name_like`
/// (case-insensitive) or equals `name_exact`.
pub fn list_users(
    conn: &Conn,
    domain_id: &str,
    name_exact: Option<&str>,
    name_contains: Option<&str>,
) -> StoreResult<Vec<User>> {
    // Spelled apart so that a name (unique in its account) is one index lookup, not a scan of the
    // account's users: `name = ?2 OR ?2 IS NULL` would keep the planner off the (domain_id, name) index.
    let by_name = if name_exact.is_some() {
        "AND name = ?2"
    } else {
        "AND CAST(?2 AS TEXT) IS NULL"
    };
    conn.query_map(
        &format!(
            "SELECT {USER_COLS} FROM users WHERE domain_id = ?1 {by_name} \
         AND (CAST(?3 AS TEXT) IS NULL OR instr(lower(name), lower(?3)) > 0) ORDER BY id"
        ),
        params![domain_id, name_exact, name_contains],
        user_from_row,
    )
}

/// `(id, name)` of the account's users who created or last changed one of its repositories or outbound
/// proxies: the names the repository views show, without reading every user of the account.
pub fn repository_author_names(conn: &Conn, domain_id: &str) -> StoreResult<Vec<(String, String)>> {
    conn.query_map(
        "SELECT id, name FROM users WHERE domain_id = ?1 AND id IN ( \
             SELECT created_by FROM repositories WHERE domain_id = ?1 \
             UNION SELECT modified_by FROM repositories WHERE domain_id = ?1 \
             UNION SELECT created_by FROM net_proxies WHERE domain_id = ?1 \
             UNION SELECT modified_by FROM net_proxies WHERE domain_id = ?1)",
        params![domain_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// The name of the account's user `id`, if there is one.
pub fn user_name_in(conn: &Conn, domain_id: &str, id: &str) -> StoreResult<Option<String>> {
    conn.query_opt(
        "SELECT name FROM users WHERE id = ?1 AND domain_id = ?2",
        params![id, domain_id],
        |r| r.get(0),
    )
}

/// The conditions of `page_users` on the account (`?1`) and the name filter (`?2`, the part or `NULL`;
/// `?3`), and what to bind to `?3`. A part of three characters or more is looked up in the trigram
/// index (migration 0018: `user_name_trigrams` on SQLite, pg_trgm's on PostgreSQL) first; `instr` then
/// decides, the same on both. A shorter part reads the account's names.
fn name_filter(conn: &Conn, name_contains: Option<&str>) -> (&'static str, String) {
    match name_contains {
        None => (
            "domain_id = ?1 AND CAST(?2 AS TEXT) IS NULL AND CAST(?3 AS TEXT) = ''",
            String::new(),
        ),
        Some(part) if part.chars().count() < 3 => (
            "domain_id = ?1 AND instr(lower(name), lower(?2)) > 0 AND CAST(?3 AS TEXT) = ''",
            String::new(),
        ),
        Some(part) if conn.is_postgres() => (
            "domain_id = ?1 AND lower(name) LIKE '%' || lower(?3) || '%' ESCAPE '\\' \
             AND instr(lower(name), lower(?2)) > 0",
            part.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_"),
        ),
        // `+domain_id` keeps SQLite from walking the account's index and probing the matches: the few
        // matching rows are looked up by rowid instead.
        Some(part) => (
            "+domain_id = ?1 \
             AND rowid IN (SELECT rowid FROM user_name_trigrams WHERE user_name_trigrams MATCH ?3) \
             AND instr(lower(name), lower(?2)) > 0",
            format!("\"{}\"", part.replace('"', "\"\"")),
        ),
    }
}

/// `user_fences` keeps every this-many-th user id: a deep page walks fewer index entries than this.
pub const USER_FENCE: i64 = 1024;

/// The id of every `USER_FENCE`th user of an account in id order (positions `USER_FENCE`,
/// `2 * USER_FENCE`, ...): where `page_users` starts a deep page instead of walking the index from the
/// first row. One scan of the account's index; kept until the users change (`HotReads::user_fences`).
pub fn user_fences(conn: &Conn, domain_id: &str) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS position \
             FROM users WHERE domain_id = ?1) AS ranked \
         WHERE position % ?2 = 0 ORDER BY id",
        params![domain_id, USER_FENCE],
        |r| r.get(0),
    )
}

/// A page of an account's users in id order, optionally only those whose name contains `name_contains`
/// (any case), and how many there are (without a filter, the trigger-kept counter of migration 0016).
/// Without a filter a deep page starts at the nearest of `fences` (`user_fences`, may be empty) before
/// `offset`, taking the rows after it, so it never walks as many as `USER_FENCE` rows.
pub fn page_users(
    conn: &Conn,
    domain_id: &str,
    name_contains: Option<&str>,
    limit: i64,
    offset: i64,
    fences: &[String],
) -> StoreResult<(i64, Vec<User>)> {
    let (filter, pattern) = name_filter(conn, name_contains);
    let total = match name_contains {
        None => conn
            .query_opt(
                "SELECT users FROM user_counts WHERE domain_id = ?1",
                params![domain_id],
                |r| r.get(0),
            )?
            .unwrap_or(0),
        Some(part) => conn.query_row(
            &format!("SELECT count(*) FROM users WHERE {filter}"),
            params![domain_id, part, pattern],
            |r| r.get(0),
        )?,
    };
    let passed = match name_contains {
        None => ((offset / USER_FENCE) as usize).min(fences.len()),
        Some(_) => 0,
    };
    let (from, offset) = match passed {
        0 => ("", offset),
        n => (fences[n - 1].as_str(), offset - n as i64 * USER_FENCE),
    };
    let users = conn.query_map(
        &format!(
            "SELECT {USER_COLS} FROM users WHERE {filter} AND id > ?6 \
             ORDER BY id LIMIT ?4 OFFSET ?5"
        ),
        params![domain_id, name_contains, pattern, limit, offset, from],
        user_from_row,
    )?;
    Ok((total, users))
}

pub fn delete_user(conn: &Conn, id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM users WHERE id = ?1 AND NOT is_root",
        params![id],
    )? > 0)
}

fn unique_as_conflict(e: StoreError, what: &'static str) -> StoreError {
    if e.is_unique_violation() {
        StoreError::Conflict(what)
    } else {
        e
    }
}

// ---- groups ----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub domain_id: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
}

fn group_from_row(r: &Row<'_>) -> StoreResult<Group> {
    Ok(Group {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
        created_at: r.get(4)?,
    })
}

pub fn insert_group(conn: &Conn, g: &Group) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO user_groups (id, domain_id, name, description, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![g.id, g.domain_id, g.name, g.description, g.created_at],
    )
    .map_err(|e| unique_as_conflict(e, "a group with this name"))?;
    Ok(())
}

pub fn get_group(conn: &Conn, domain_id: &str, id: &str) -> StoreResult<Option<Group>> {
    conn
        .query_opt(
            "SELECT id, domain_id, name, description, created_at FROM user_groups WHERE id = ?1 AND domain_id = ?2",
            params![id, domain_id],
            group_from_row,
        )
}

pub fn list_groups(conn: &Conn, domain_id: &str, name: Option<&str>) -> StoreResult<Vec<Group>> {
    conn.query_map(
        "SELECT id, domain_id, name, description, created_at FROM user_groups \
         WHERE domain_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name = ?2) ORDER BY name",
        params![domain_id, name],
        group_from_row,
    )
}

pub fn update_group(conn: &Conn, g: &Group) -> StoreResult<()> {
    conn.execute(
        "UPDATE user_groups SET name = ?2, description = ?3 WHERE id = ?1",
        params![g.id, g.name, g.description],
    )
    .map_err(|e| unique_as_conflict(e, "a group with this name"))?;
    Ok(())
}

pub fn delete_group(conn: &Conn, id: &str) -> StoreResult<bool> {
    Ok(conn.execute("DELETE FROM user_groups WHERE id = ?1", params![id])? > 0)
}

pub fn add_group_member(conn: &Conn, group_id: &str, user_id: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO group_members (group_id, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![group_id, user_id],
    )?;
    Ok(())
}

pub fn remove_group_member(conn: &Conn, group_id: &str, user_id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2",
        params![group_id, user_id],
    )? > 0)
}

pub fn is_group_member(conn: &Conn, group_id: &str, user_id: &str) -> StoreResult<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM group_members WHERE group_id = ?1 AND user_id = ?2",
            params![group_id, user_id],
            |_| Ok(()),
        )?
        .is_some())
}

pub fn groups_of_user(conn: &Conn, user_id: &str) -> StoreResult<Vec<Group>> {
    conn.query_map(
        "SELECT g.id, g.domain_id, g.name, g.description, g.created_at FROM user_groups g \
         JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ?1 ORDER BY g.id",
        params![user_id],
        group_from_row,
    )
}

pub fn users_of_group(conn: &Conn, group_id: &str) -> StoreResult<Vec<User>> {
    conn.query_map(&format!(
        "SELECT {} FROM users u JOIN group_members m ON m.user_id = u.id WHERE m.group_id = ?1 ORDER BY u.id",
        USER_COLS
            .split(", ")
            .map(|c| format!("u.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    ), params![group_id], user_from_row)
}

// ---- access keys ----------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct AccessKey {
    pub access_key: String,
    pub user_id: String,
    pub secret_enc: Vec<u8>,
    pub active: bool,
    pub description: String,
    pub created_at: i64,
}

fn key_from_row(r: &Row<'_>) -> StoreResult<AccessKey> {
    Ok(AccessKey {
        access_key: r.get(0)?,
        user_id: r.get(1)?,
        secret_enc: r.get(2)?,
        active: r.get(3)?,
        description: r.get(4)?,
        created_at: r.get(5)?,
    })
}

const KEY_COLS: &str = "access_key, user_id, secret_enc, active, description, created_at";

pub fn insert_access_key(conn: &Conn, k: &AccessKey) -> StoreResult<()> {
    conn.execute(
        &format!("INSERT INTO access_keys ({KEY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        params![
            k.access_key,
            k.user_id,
            k.secret_enc,
            k.active,
            k.description,
            k.created_at
        ],
    )?;
    Ok(())
}

pub fn get_access_key(conn: &Conn, ak: &str) -> StoreResult<Option<AccessKey>> {
    conn.query_opt(
        &format!("SELECT {KEY_COLS} FROM access_keys WHERE access_key = ?1"),
        params![ak],
        key_from_row,
    )
}

pub fn list_access_keys(conn: &Conn, user_id: &str) -> StoreResult<Vec<AccessKey>> {
    conn.query_map(
        &format!(
            "SELECT {KEY_COLS} FROM access_keys WHERE user_id = ?1 ORDER BY created_at, access_key"
        ),
        params![user_id],
        key_from_row,
    )
}

pub fn update_access_key(
    conn: &Conn,
    ak: &str,
    active: bool,
    description: &str,
) -> StoreResult<bool> {
    Ok(conn.execute(
        "UPDATE access_keys SET active = ?2, description = ?3 WHERE access_key = ?1",
        params![ak, active, description],
    )? > 0)
}

pub fn delete_access_key(conn: &Conn, ak: &str) -> StoreResult<bool> {
    Ok(conn.execute("DELETE FROM access_keys WHERE access_key = ?1", params![ak])? > 0)
}

// ---- tokens ---------------------------------------------------------------------------------

pub fn insert_token(
    conn: &Conn,
    token_hash: &str,
    user_id: &str,
    project_id: Option<&str>,
    issued_at: i64,
    expires_at: i64,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO tokens (token_hash, user_id, project_id, issued_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![token_hash, user_id, project_id, issued_at, expires_at],
    )?;
    // Expired tokens are useless; pruning on issue keeps the table small without a sweeper task.
    conn.execute(
        "DELETE FROM tokens WHERE expires_at < ?1",
        params![issued_at],
    )?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct TokenRecord {
    pub user_id: String,
    pub project_id: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

pub fn find_token(conn: &Conn, token_hash: &str, now: i64) -> StoreResult<Option<TokenRecord>> {
    conn
        .query_opt(
            "SELECT user_id, project_id, issued_at, expires_at FROM tokens WHERE token_hash = ?1 AND expires_at > ?2",
            params![token_hash, now],
            |r| {
                Ok(TokenRecord {
                    user_id: r.get(0)?,
                    project_id: r.get(1)?,
                    issued_at: r.get(2)?,
                    expires_at: r.get(3)?,
                })
            },
        )
}

// ---- IAM projects ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct IamProject {
    pub id: String,
    pub domain_id: String,
    pub name: String,
    pub description: String,
}

fn iam_project_from_row(r: &Row<'_>) -> StoreResult<IamProject> {
    Ok(IamProject {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        name: r.get(2)?,
        description: r.get(3)?,
    })
}

pub fn insert_iam_project(conn: &Conn, p: &IamProject) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO iam_projects (id, domain_id, name, description) VALUES (?1, ?2, ?3, ?4)",
        params![p.id, p.domain_id, p.name, p.description],
    )
    .map_err(|e| unique_as_conflict(e, "a project with this name"))?;
    Ok(())
}

pub fn list_iam_projects(
    conn: &Conn,
    domain_id: &str,
    name: Option<&str>,
) -> StoreResult<Vec<IamProject>> {
    conn.query_map(
        "SELECT id, domain_id, name, description FROM iam_projects \
         WHERE domain_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR name = ?2) ORDER BY name",
        params![domain_id, name],
        iam_project_from_row,
    )
}

pub fn get_iam_project(conn: &Conn, id: &str) -> StoreResult<Option<IamProject>> {
    conn.query_opt(
        "SELECT id, domain_id, name, description FROM iam_projects WHERE id = ?1",
        params![id],
        iam_project_from_row,
    )
}

// ---- identity policies ----------------------------------------------------------------------

#[derive(Debug, Clone)]
pub struct Policy {
    pub id: String,
    pub domain_id: String,
    pub name: String,
    pub display_name: String,
    pub policy_type: String,
    pub description: String,
    /// The policy document as JSON text (`{"Version": "1.1", "Statement": [...]}`).
    pub document: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const POLICY_COLS: &str =
    "id, domain_id, name, display_name, policy_type, description, document, created_at, updated_at";

fn policy_from_row(r: &Row<'_>) -> StoreResult<Policy> {
    Ok(Policy {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        name: r.get(2)?,
        display_name: r.get(3)?,
        policy_type: r.get(4)?,
        description: r.get(5)?,
        document: r.get(6)?,
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
    })
}

pub fn insert_policy(conn: &Conn, p: &Policy) -> StoreResult<()> {
    conn.execute(
        &format!(
            "INSERT INTO policies ({POLICY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            p.id,
            p.domain_id,
            p.name,
            p.display_name,
            p.policy_type,
            p.description,
            p.document,
            p.created_at,
            p.updated_at
        ],
    )?;
    Ok(())
}

pub fn update_policy(conn: &Conn, p: &Policy) -> StoreResult<()> {
    conn.execute(
        "UPDATE policies SET display_name = ?2, policy_type = ?3, description = ?4, document = ?5, updated_at = ?6 \
         WHERE id = ?1",
        params![p.id, p.display_name, p.policy_type, p.description, p.document, p.updated_at],
    )?;
    Ok(())
}

pub fn get_policy(conn: &Conn, domain_id: &str, id: &str) -> StoreResult<Option<Policy>> {
    conn.query_opt(
        &format!("SELECT {POLICY_COLS} FROM policies WHERE id = ?1 AND domain_id = ?2"),
        params![id, domain_id],
        policy_from_row,
    )
}

pub fn list_policies(conn: &Conn, domain_id: &str) -> StoreResult<Vec<Policy>> {
    conn.query_map(
        &format!("SELECT {POLICY_COLS} FROM policies WHERE domain_id = ?1 ORDER BY created_at, id"),
        params![domain_id],
        policy_from_row,
    )
}

pub fn delete_policy(conn: &Conn, id: &str) -> StoreResult<bool> {
    Ok(conn.execute("DELETE FROM policies WHERE id = ?1", params![id])? > 0)
}

pub fn attach_group_policy(conn: &Conn, group_id: &str, policy_id: &str) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO group_policies (group_id, policy_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![group_id, policy_id],
    )?;
    Ok(())
}

pub fn detach_group_policy(conn: &Conn, group_id: &str, policy_id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM group_policies WHERE group_id = ?1 AND policy_id = ?2",
        params![group_id, policy_id],
    )? > 0)
}

pub fn policies_of_group(conn: &Conn, group_id: &str) -> StoreResult<Vec<Policy>> {
    conn.query_map(&format!(
        "SELECT {} FROM policies p JOIN group_policies gp ON gp.policy_id = p.id WHERE gp.group_id = ?1 ORDER BY p.id",
        POLICY_COLS
            .split(", ")
            .map(|c| format!("p.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    ), params![group_id], policy_from_row)
}

/// Policy documents that apply to a user through the groups it belongs to.
pub fn policy_documents_for_user(conn: &Conn, user_id: &str) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT DISTINCT p.document FROM policies p \
         JOIN group_policies gp ON gp.policy_id = p.id \
         JOIN group_members gm ON gm.group_id = gp.group_id WHERE gm.user_id = ?1",
        params![user_id],
        |r| r.get(0),
    )
}

// ---- IAM API details (migration 0002) -------------------------------------------------------

/// The numeric id every user gets on insert (ProjectMan's `user_num_id`).
pub fn user_num_id(conn: &Conn, user_id: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .query_opt(
            "SELECT num_id FROM users WHERE id = ?1",
            params![user_id],
            |r| r.get(0),
        )?
        .flatten())
}

/// IAM user fields of the OS-USER API that `users` does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserProfile {
    /// `default`, `programmatic` or `console`.
    pub access_mode: String,
    pub areacode: Option<String>,
    pub pwd_status: bool,
    /// `high`, `mid` or `low`, computed when the password was set.
    pub pwd_strength: Option<String>,
    pub xuser_type: Option<String>,
    pub xuser_id: Option<String>,
    pub password_changed_at: Option<i64>,
    pub last_login_at: Option<i64>,
    pub last_project_id: Option<String>,
}

impl Default for UserProfile {
    fn default() -> Self {
        UserProfile {
            access_mode: "default".to_string(),
            areacode: None,
            pwd_status: false,
            pwd_strength: None,
            xuser_type: None,
            xuser_id: None,
            password_changed_at: None,
            last_login_at: None,
            last_project_id: None,
        }
    }
}

/// The profile of a user; the defaults when none was stored.
pub fn get_user_profile(conn: &Conn, user_id: &str) -> StoreResult<UserProfile> {
    Ok(conn
        .query_opt(
            "SELECT access_mode, areacode, pwd_status, pwd_strength, xuser_type, xuser_id, \
             password_changed_at, last_login_at, last_project_id FROM user_profiles WHERE user_id = ?1",
            params![user_id],
            |r| {
                Ok(UserProfile {
                    access_mode: r.get(0)?,
                    areacode: r.get(1)?,
                    pwd_status: r.get(2)?,
                    pwd_strength: r.get(3)?,
                    xuser_type: r.get(4)?,
                    xuser_id: r.get(5)?,
                    password_changed_at: r.get(6)?,
                    last_login_at: r.get(7)?,
                    last_project_id: r.get(8)?,
                })
            },
        )?
        .unwrap_or_default())
}

pub fn put_user_profile(conn: &Conn, user_id: &str, p: &UserProfile) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO user_profiles (user_id, access_mode, areacode, pwd_status, pwd_strength, xuser_type, \
         xuser_id, password_changed_at, last_login_at, last_project_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (user_id) DO UPDATE SET access_mode = excluded.access_mode, areacode = excluded.areacode, \
         pwd_status = excluded.pwd_status, pwd_strength = excluded.pwd_strength, xuser_type = excluded.xuser_type, \
         xuser_id = excluded.xuser_id, password_changed_at = excluded.password_changed_at, \
         last_login_at = excluded.last_login_at, last_project_id = excluded.last_project_id",
        params![
            user_id,
            p.access_mode,
            p.areacode,
            p.pwd_status,
            p.pwd_strength,
            p.xuser_type,
            p.xuser_id,
            p.password_changed_at,
            p.last_login_at,
            p.last_project_id
        ],
    )?;
    Ok(())
}

/// Notes a successful password login (and the project it was scoped to, if any).
pub fn record_login(
    conn: &Conn,
    user_id: &str,
    project_id: Option<&str>,
    now: i64,
) -> StoreResult<()> {
    let mut profile = get_user_profile(conn, user_id)?;
    profile.last_login_at = Some(now);
    if project_id.is_some() {
        profile.last_project_id = project_id.map(str::to_string);
    }
    put_user_profile(conn, user_id, &profile)
}

pub fn count_access_keys(conn: &Conn, user_id: &str) -> StoreResult<i64> {
    conn.query_row(
        "SELECT count(*) FROM access_keys WHERE user_id = ?1",
        params![user_id],
        |r| r.get(0),
    )
}

/// Every access key of a domain's users, oldest first.
pub fn list_domain_access_keys(conn: &Conn, domain_id: &str) -> StoreResult<Vec<AccessKey>> {
    conn.query_map(
        "SELECT k.access_key, k.user_id, k.secret_enc, k.active, k.description, k.created_at \
         FROM access_keys k JOIN users u ON u.id = k.user_id WHERE u.domain_id = ?1 \
         ORDER BY k.created_at, k.access_key",
        params![domain_id],
        key_from_row,
    )
}

/// An IAM project with the project it lives under (`None`: a region's project, under the domain).
#[derive(Debug, Clone)]
pub struct IamProjectNode {
    pub project: IamProject,
    pub parent_id: Option<String>,
}

fn iam_project_node_from_row(r: &Row<'_>) -> StoreResult<IamProjectNode> {
    Ok(IamProjectNode {
        project: iam_project_from_row(r)?,
        parent_id: r.get(4)?,
    })
}

pub fn list_iam_project_nodes(conn: &Conn, domain_id: &str) -> StoreResult<Vec<IamProjectNode>> {
    conn.query_map(
        "SELECT id, domain_id, name, description, parent_id FROM iam_projects WHERE domain_id = ?1 ORDER BY name", params![domain_id], iam_project_node_from_row)
}

pub fn get_iam_project_node(conn: &Conn, id: &str) -> StoreResult<Option<IamProjectNode>> {
    conn.query_opt(
        "SELECT id, domain_id, name, description, parent_id FROM iam_projects WHERE id = ?1",
        params![id],
        iam_project_node_from_row,
    )
}

pub fn insert_iam_project_node(conn: &Conn, node: &IamProjectNode) -> StoreResult<()> {
    let p = &node.project;
    conn.execute(
        "INSERT INTO iam_projects (id, domain_id, name, description, parent_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![p.id, p.domain_id, p.name, p.description, node.parent_id],
    )
    .map_err(|e| unique_as_conflict(e, "a project with this name"))?;
    Ok(())
}

/// How many groups a policy is attached to.
pub fn policy_references(conn: &Conn, policy_id: &str) -> StoreResult<i64> {
    conn.query_row(
        "SELECT count(*) FROM group_policies WHERE policy_id = ?1",
        params![policy_id],
        |r| r.get(0),
    )
}

pub fn is_policy_attached(conn: &Conn, group_id: &str, policy_id: &str) -> StoreResult<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM group_policies WHERE group_id = ?1 AND policy_id = ?2",
            params![group_id, policy_id],
            |_| Ok(()),
        )?
        .is_some())
}

pub fn policy_description_cn(conn: &Conn, policy_id: &str) -> StoreResult<String> {
    Ok(conn
        .query_opt(
            "SELECT description_cn FROM policies WHERE id = ?1",
            params![policy_id],
            |r| r.get(0),
        )?
        .unwrap_or_default())
}

pub fn set_policy_description_cn(
    conn: &Conn,
    policy_id: &str,
    description_cn: &str,
) -> StoreResult<()> {
    conn.execute(
        "UPDATE policies SET description_cn = ?2 WHERE id = ?1",
        params![policy_id, description_cn],
    )?;
    Ok(())
}

/// The policy of a domain with this display name, if any (display names are unique per domain).
pub fn find_policy_by_display_name(
    conn: &Conn,
    domain_id: &str,
    display_name: &str,
) -> StoreResult<Option<Policy>> {
    conn.query_opt(
        &format!("SELECT {POLICY_COLS} FROM policies WHERE domain_id = ?1 AND display_name = ?2"),
        params![domain_id, display_name],
        policy_from_row,
    )
}

/// Removes a policy unless it is attached to a group; `Ok(false)` when it is attached.
pub fn delete_unattached_policy(conn: &Conn, id: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM policies WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM group_policies WHERE policy_id = ?1)",
        params![id],
    )? > 0)
}

// ---- repo user passwords ----------------------------------------------------------------------

pub fn get_repo_password_hash(conn: &Conn, user_id: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .query_opt(
            "SELECT repo_password_hash FROM users WHERE id = ?1",
            params![user_id],
            |r| r.get::<Option<String>>(0),
        )?
        .flatten())
}

pub fn set_repo_password_hash(
    conn: &Conn,
    user_id: &str,
    hash: &str,
    now: i64,
) -> StoreResult<bool> {
    Ok(conn.execute(
        "UPDATE users SET repo_password_hash = ?2, modified_at = ?3 WHERE id = ?1",
        params![user_id, hash, now],
    )? > 0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::test_db;

    pub(crate) fn user(n: usize) -> User {
        User {
            id: format!("{:032x}", n * 7919 % 100_003),
            domain_id: "d".into(),
            name: format!("user{n}"),
            password_hash: None,
            is_root: false,
            enabled: true,
            email: None,
            phone: None,
            description: None,
            created_at: 0,
            modified_at: 0,
            created_by: "x".into(),
            modified_by: "x".into(),
        }
    }

    #[test]
    fn a_page_started_at_a_fence_is_the_page_the_index_walk_finds() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            let domain = Domain {
                id: "d".into(),
                name: "dom".into(),
            };
            insert_domain(conn, &domain, 0)?;
            let tx = conn.transaction()?;
            for n in 0..3000 {
                insert_user(&tx, &user(n))?;
            }
            tx.commit()?;
            let fences = user_fences(conn, "d")?;
            assert_eq!(fences.len(), 2, "positions 1024 and 2048 of 3000");
            let ids = |page: (i64, Vec<User>)| -> Vec<String> {
                page.1.into_iter().map(|u| u.id).collect()
            };
            for offset in [
                0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 2995, 2999, 3000, 9000,
            ] {
                let walked = ids(page_users(conn, "d", None, 10, offset, &[])?);
                let fenced = ids(page_users(conn, "d", None, 10, offset, &fences)?);
                assert_eq!(walked, fenced, "offset {offset}");
                assert_eq!(walked.len(), (3000 - offset).clamp(0, 10) as usize);
            }
            let (total, _) = page_users(conn, "d", Some("USER29"), 10, 0, &fences)?;
            assert_eq!(total, 111, "user29, user290-299, user2900-2999");
            let (total, page) = page_users(conn, "d", Some("r29"), 10, 105, &fences)?;
            assert_eq!((total, page.len()), (111, 6));
            assert_eq!(page_users(conn, "d", Some("99"), 10, 0, &[])?.0, 57);
            assert_eq!(page_users(conn, "d", Some("er\"1"), 10, 0, &[])?.0, 0);
            assert_eq!(page_users(conn, "d", Some("%"), 10, 0, &[])?.0, 0);

            // The trigram index follows renames and deletions.
            let mut renamed = user(5);
            renamed.name = "Zebra-5".into();
            update_user(conn, &renamed)?;
            delete_user(conn, &user(6).id)?;
            assert_eq!(page_users(conn, "d", Some("EBRA"), 10, 0, &[])?.0, 1);
            assert_eq!(page_users(conn, "d", Some("user5"), 10, 0, &[])?.0, 110);
            assert_eq!(page_users(conn, "d", Some("user6"), 10, 0, &[])?.0, 110);
            Ok(())
        })
        .unwrap();
    }
}
