//! An account's IP allow-list rules.

use rusqlite::{params, Connection, OptionalExtension, Row};

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

fn from_row(r: &Row<'_>) -> rusqlite::Result<IpRule> {
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
pub fn list(conn: &Connection, domain_id: &str) -> StoreResult<Vec<IpRule>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLS} FROM domain_ip_rules WHERE domain_id = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([domain_id], from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, domain_id: &str, id: i64) -> StoreResult<Option<IpRule>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLS} FROM domain_ip_rules WHERE domain_id = ?1 AND id = ?2"),
            params![domain_id, id],
            from_row,
        )
        .optional()?)
}

/// Inserts a rule (`id` 0) or changes one; answers its id. A value the account already has is a unique
/// violation.
pub fn save(conn: &Connection, rule: &IpRule) -> StoreResult<i64> {
    if rule.id == 0 {
        conn.execute(
            "INSERT INTO domain_ip_rules (domain_id, value, created_at, created_by, modified_at, modified_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                rule.domain_id,
                rule.value,
                rule.created_at,
                rule.created_by,
                rule.modified_at,
                rule.modified_by
            ],
        )?;
        return Ok(conn.last_insert_rowid());
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

pub fn delete(conn: &Connection, domain_id: &str, id: i64) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM domain_ip_rules WHERE domain_id = ?1 AND id = ?2",
        params![domain_id, id],
    )? > 0)
}
