//! Release repositories' settings: per-project retention and per-account capacity notices.

use crate::params;
use crate::store::Conn;

use super::StoreResult;

/// A project's retention, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    pub project_id: String,
    pub domain_id: String,
    pub to_trash: bool,
    pub file_expire_days: i64,
    pub to_delete: bool,
    pub trash_expire_days: i64,
    /// `test` or `prod`: versions of this category are never moved to the bin; empty: none spared.
    pub skip_category: String,
    /// A JSON array of folders (`/a/b`) whose versions are never moved to the bin.
    pub skip_paths: String,
}

const RETENTION_COLS: &str = "project_id, domain_id, is_schedule_to_trash, file_expire_time, \
    is_schedule_to_delete, trash_file_expire_time, skip_category, skip_paths";

fn retention_from_row(r: &crate::store::Row<'_>) -> StoreResult<Retention> {
    Ok(Retention {
        project_id: r.get(0)?,
        domain_id: r.get(1)?,
        to_trash: r.get::<i64>(2)? != 0,
        file_expire_days: r.get(3)?,
        to_delete: r.get::<i64>(4)? != 0,
        trash_expire_days: r.get(5)?,
        skip_category: r.get(6)?,
        skip_paths: r.get(7)?,
    })
}

pub fn get_retention(conn: &Conn, project_id: &str) -> StoreResult<Option<Retention>> {
    conn.query_opt(
        &format!("SELECT {RETENTION_COLS} FROM release_retention WHERE project_id = ?1"),
        params![project_id],
        retention_from_row,
    )
}

/// Every project's retention that does anything.
pub fn active_retentions(conn: &Conn) -> StoreResult<Vec<Retention>> {
    conn.query_map(
        &format!(
            "SELECT {RETENTION_COLS} FROM release_retention \
             WHERE is_schedule_to_trash <> 0 OR is_schedule_to_delete <> 0 ORDER BY project_id"
        ),
        params![],
        retention_from_row,
    )
}

pub fn put_retention(conn: &Conn, r: &Retention, user_id: &str, now: i64) -> StoreResult<()> {
    conn.execute(
        &format!(
            "INSERT INTO release_retention ({RETENTION_COLS}, updated_at, updated_by) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (project_id) DO UPDATE SET is_schedule_to_trash = ?3, file_expire_time = ?4, \
             is_schedule_to_delete = ?5, trash_file_expire_time = ?6, skip_category = ?7, skip_paths = ?8, \
             updated_at = ?9, updated_by = ?10"
        ),
        params![
            r.project_id,
            r.domain_id,
            i64::from(r.to_trash),
            r.file_expire_days,
            i64::from(r.to_delete),
            r.trash_expire_days,
            r.skip_category,
            r.skip_paths,
            now,
            user_id
        ],
    )?;
    Ok(())
}

/// An account's capacity notice settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capacity {
    pub threshold_percent: i64,
    pub message_type: i64,
    pub mail: bool,
    pub sms: bool,
    pub total_bytes: i64,
    /// The last check found the account at or over its threshold.
    pub above: bool,
}

pub fn get_capacity(conn: &Conn, domain_id: &str) -> StoreResult<Option<Capacity>> {
    conn.query_opt(
        "SELECT capacity_threshold, message_type, is_mail_enabled, is_sms_enabled, total_capacity, above FROM capacity_settings WHERE domain_id = ?1",
        params![domain_id],
        |r| {
            Ok(Capacity {
                threshold_percent: r.get(0)?,
                message_type: r.get(1)?,
                mail: r.get::<i64>(2)? != 0,
                sms: r.get::<i64>(3)? != 0,
                total_bytes: r.get(4)?,
                above: r.get::<i64>(5)? != 0,
            })
        },
    )
}

/// Stores the settings; `above` is kept as it was (a new threshold is judged at the next check).
pub fn put_capacity(conn: &Conn, domain_id: &str, c: &Capacity, now: i64) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO capacity_settings (domain_id, capacity_threshold, message_type, is_mail_enabled, \
         is_sms_enabled, total_capacity, above, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7) \
         ON CONFLICT (domain_id) DO UPDATE SET capacity_threshold = ?2, message_type = ?3, is_mail_enabled = ?4, \
         is_sms_enabled = ?5, total_capacity = ?6, updated_at = ?7",
        params![
            domain_id,
            c.threshold_percent,
            c.message_type,
            i64::from(c.mail),
            i64::from(c.sms),
            c.total_bytes,
            now
        ],
    )?;
    Ok(())
}

/// Sets whether the account is over its threshold; answers whether this changed it (a crossing). The
/// compare-and-set is one statement, so two nodes checking at once record one crossing.
pub fn set_above(conn: &Conn, domain_id: &str, above: bool) -> StoreResult<bool> {
    Ok(conn.execute(
        "UPDATE capacity_settings SET above = ?2 WHERE domain_id = ?1 AND above <> ?2",
        params![domain_id, i64::from(above)],
    )? > 0)
}

/// A recorded notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: i64,
    pub used_bytes: i64,
    pub total_bytes: i64,
    pub threshold: i64,
    pub at: i64,
}

pub fn record_notice(
    conn: &Conn,
    domain_id: &str,
    used: i64,
    total: i64,
    threshold: i64,
    at: i64,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO capacity_notices (domain_id, used_bytes, total_bytes, threshold, at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![domain_id, used, total, threshold, at],
    )?;
    Ok(())
}

/// An account's notices, newest first: `(total, page)`.
pub fn notices(
    conn: &Conn,
    domain_id: &str,
    offset: i64,
    limit: i64,
) -> StoreResult<(i64, Vec<Notice>)> {
    let total = conn.query_row(
        "SELECT count(*) FROM capacity_notices WHERE domain_id = ?1",
        params![domain_id],
        |r| r.get(0),
    )?;
    let rows = conn.query_map(
        "SELECT id, used_bytes, total_bytes, threshold, at FROM capacity_notices WHERE domain_id = ?1 \
         ORDER BY at DESC, id DESC LIMIT ?2 OFFSET ?3",
        params![domain_id, limit, offset],
        |r| {
            Ok(Notice {
                id: r.get(0)?,
                used_bytes: r.get(1)?,
                total_bytes: r.get(2)?,
                threshold: r.get(3)?,
                at: r.get(4)?,
            })
        },
    )?;
    Ok((total, rows))
}
