//! Artifacts users follow: a repository and a path per follow, so a redeploy keeps it.

use crate::params;
use crate::store::Conn;

use super::StoreResult;

/// A followed artifact: where it is, and since when it is followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attention {
    pub repo_id: String,
    pub path: String,
    pub created_at: i64,
}

pub fn follow(conn: &Conn, user_id: &str, repo_id: &str, path: &str, now: i64) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO attentions (user_id, repo_id, path, created_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT DO NOTHING",
        params![user_id, repo_id, path, now],
    )?;
    Ok(())
}

pub fn unfollow(conn: &Conn, user_id: &str, repo_id: &str, path: &str) -> StoreResult<()> {
    conn.execute(
        "DELETE FROM attentions WHERE user_id = ?1 AND repo_id = ?2 AND path = ?3",
        params![user_id, repo_id, path],
    )?;
    Ok(())
}

/// What `user_id` follows, newest follow first.
pub fn list(conn: &Conn, user_id: &str) -> StoreResult<Vec<Attention>> {
    conn.query_map(
        "SELECT repo_id, path, created_at FROM attentions WHERE user_id = ?1 \
         ORDER BY created_at DESC, repo_id, path",
        params![user_id],
        |r| {
            Ok(Attention {
                repo_id: r.get(0)?,
                path: r.get(1)?,
                created_at: r.get(2)?,
            })
        },
    )
}
