//! Web console sessions: a row per signed-in browser, found by the hash of its cookie, gone at sign-out.

use crate::params;
use crate::store::{Conn, StoreResult};

#[derive(Debug, Clone)]
pub struct ConsoleSession {
    pub csrf_token: String,
    pub user_id: String,
    pub expires_at: i64,
}

pub fn insert(
    conn: &Conn,
    session_hash: &str,
    csrf_token: &str,
    user_id: &str,
    now: i64,
    expires_at: i64,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO console_sessions (session_hash, csrf_token, user_id, created_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![session_hash, csrf_token, user_id, now, expires_at],
    )?;
    // Expired sessions open nothing; pruning at sign-in keeps the table small without a sweeper task.
    conn.execute(
        "DELETE FROM console_sessions WHERE expires_at < ?1",
        params![now],
    )?;
    Ok(())
}

/// The live session of a cookie's hash.
pub fn find(conn: &Conn, session_hash: &str, now: i64) -> StoreResult<Option<ConsoleSession>> {
    conn.query_opt(
        "SELECT csrf_token, user_id, expires_at FROM console_sessions \
         WHERE session_hash = ?1 AND expires_at > ?2",
        params![session_hash, now],
        |r| {
            Ok(ConsoleSession {
                csrf_token: r.get(0)?,
                user_id: r.get(1)?,
                expires_at: r.get(2)?,
            })
        },
    )
}

pub fn delete(conn: &Conn, session_hash: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM console_sessions WHERE session_hash = ?1",
        params![session_hash],
    )? > 0)
}
