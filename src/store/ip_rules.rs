//! An account's IP allow-list rules.

use crate::params;
use crate::store::{Conn, Row};

use super::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpRule {
    pub id: i64,
    pub domain_id: String,
    /// An address, or a network in CIDR form with its host bits cleared.
    pub value: String,
    pub created_at: i64,
    pub created_by: String,
    pub modified_at: i64,
    pub modified_by: String,
}

const COLS: &str = "id, domain_id, value, created_at, created_by, modified_at, modified_by";

fn from_row(r: &Row<'_>) -> StoreResult<IpRule> {
    Ok(IpRule {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        value: r.get(2)?,
        created_at: r.get(3)?,
        created_by: r.get(4)?,
        modified_at: r.get(5)?,
        modified_by: r.get(6)?,
    })
}

/// The account's rules, oldest first.
pub fn list(conn: &Conn, domain_id: &str) -> StoreResult<Vec<IpRule>> {
    conn.query_map(
        &format!("SELECT {COLS} FROM domain_ip_rules WHERE domain_id = ?1 ORDER BY id"),
        params![domain_id],
        from_row,
    )
}

pub fn get(conn: &Conn, domain_id: &str, id: i64) -> StoreResult<Option<IpRule>> {
    conn.query_opt(
        &format!("SELECT {COLS} FROM domain_ip_rules WHERE domain_id = ?1 AND id = ?2"),
        params![domain_id, id],
        from_row,
    )
}

/// Inserts a rule (`id` 0) or changes one; answers its id. A value the account already has is a unique
/// violation.
pub fn save(conn: &Conn, rule: &IpRule) -> StoreResult<i64> {
    if rule.id == 0 {
        return conn.query_row(
            "INSERT INTO domain_ip_rules (domain_id, value, created_at, created_by, modified_at, modified_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
            params![
                rule.domain_id,
                rule.value,
                rule.created_at,
                rule.created_by,
                rule.modified_at,
                rule.modified_by
            ],
            |r| r.get(0),
        );
    }
    conn.execute(
        "UPDATE domain_ip_rules SET value = ?3, modified_at = ?4, modified_by = ?5 \
         WHERE domain_id = ?1 AND id = ?2",
        params![
            rule.domain_id,
            rule.id,
            rule.value,
            rule.modified_at,
            rule.modified_by
        ],
    )?;
    Ok(rule.id)
}

pub fn delete(conn: &Conn, domain_id: &str, id: i64) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM domain_ip_rules WHERE domain_id = ?1 AND id = ?2",
        params![domain_id, id],
    )? > 0)
}
