//! The audit log: who changed what, from where, and what came of it (README "Audit log").
//!
//! `record` takes any `Conn`, so a change that has a transaction can write its entry in it and the two
//! commit together; the HTTP layer writes the others on their own before answering.

use crate::params;
use crate::store::{Conn, Row};

use super::StoreResult;

/// `result` of an entry whose request succeeded.
pub const SUCCESS: &str = "success";
/// `result` of an entry whose request was refused or failed.
pub const FAILURE: &str = "failure";

/// One entry. `id` and `at_ms` are filled by `record` when empty or zero.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: String,
    /// The account the entry belongs to: only its users ever see it.
    pub domain_id: String,
    /// The CodeArts project of the repository (or project) changed, when there is one.
    pub project_id: String,
    pub repo_id: String,
    pub repo_name: String,
    pub module: String,
    pub operation: String,
    pub operator_id: String,
    pub operator_name: String,
    /// The operator's account's name.
    pub tenant_name: String,
    pub ip: String,
    pub user_agent: String,
    /// What was changed, in a few words (a path, a package and version).
    pub info: String,
    /// The details as a JSON object (method, path, status, trace id, package, version).
    pub data: String,
    /// `SUCCESS` or `FAILURE`.
    pub result: String,
    pub status: i64,
    /// Why it failed (the error code and message); empty on success.
    pub reason: String,
    pub at_ms: i64,
}

/// What to list; `None` matches everything.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub domain_id: String,
    pub project_id: Option<String>,
    pub module: Option<String>,
    /// A repository's id or name.
    pub repo: Option<String>,
    pub operator_id: Option<String>,
    pub id: Option<String>,
}

const COLS: &str =
    "id, domain_id, project_id, repo_id, repo_name, module, operation, operator_id, \
    operator_name, tenant_name, ip, user_agent, info, data, result, status, reason, at_ms";

fn from_row(r: &Row<'_>) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: r.get(0)?,
        domain_id: r.get(1)?,
        project_id: r.get(2)?,
        repo_id: r.get(3)?,
        repo_name: r.get(4)?,
        module: r.get(5)?,
        operation: r.get(6)?,
        operator_id: r.get(7)?,
        operator_name: r.get(8)?,
        tenant_name: r.get(9)?,
        ip: r.get(10)?,
        user_agent: r.get(11)?,
        info: r.get(12)?,
        data: r.get(13)?,
        result: r.get(14)?,
        status: r.get(15)?,
        reason: r.get(16)?,
        at_ms: r.get(17)?,
    })
}

impl AuditEntry {
    /// An entry for what arca did on its own (a scheduled job, a threshold crossed), not for a request.
    pub fn by_arca(
        domain_id: &str,
        project_id: &str,
        module: &str,
        operation: &str,
        info: String,
    ) -> Self {
        AuditEntry {
            domain_id: domain_id.to_string(),
            project_id: project_id.to_string(),
            module: module.to_string(),
            operation: operation.to_string(),
            operator_name: "arca".to_string(),
            info,
            result: "SUCCESS".to_string(),
            status: 200,
            ..AuditEntry::default()
        }
    }
}

/// Writes an entry; answers its id. Callers with a transaction pass it, so the entry commits (or rolls
/// back) with the change it describes.
pub fn record(conn: &Conn, entry: &AuditEntry) -> StoreResult<String> {
    let id = if entry.id.is_empty() {
        crate::domain::new_hex_id()
    } else {
        entry.id.clone()
    };
    let at_ms = if entry.at_ms == 0 {
        super::now_ms()
    } else {
        entry.at_ms
    };
    conn.execute(
        &format!(
            "INSERT INTO audit_log ({COLS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
        ),
        params![
            id,
            entry.domain_id,
            entry.project_id,
            entry.repo_id,
            entry.repo_name,
            entry.module,
            entry.operation,
            entry.operator_id,
            entry.operator_name,
            entry.tenant_name,
            entry.ip,
            entry.user_agent,
            entry.info,
            entry.data,
            entry.result,
            entry.status,
            entry.reason,
            at_ms
        ],
    )?;
    Ok(id)
}

const WHERE: &str = "WHERE domain_id = ?1 \
    AND (CAST(?2 AS TEXT) IS NULL OR project_id = ?2) \
    AND (CAST(?3 AS TEXT) IS NULL OR module = ?3) \
    AND (CAST(?4 AS TEXT) IS NULL OR repo_id = ?4 OR repo_name = ?4) \
    AND (CAST(?5 AS TEXT) IS NULL OR operator_id = ?5) \
    AND (CAST(?6 AS TEXT) IS NULL OR id = ?6)";

/// The entries `filter` matches, newest first, `skip`/`take` of them, and how many match in all.
pub fn list(
    conn: &Conn,
    filter: &AuditFilter,
    skip: usize,
    take: usize,
) -> StoreResult<(Vec<AuditEntry>, i64)> {
    let f = filter;
    let total: i64 = conn.query_row(
        &format!("SELECT count(*) FROM audit_log {WHERE}"),
        params![
            f.domain_id,
            f.project_id,
            f.module,
            f.repo,
            f.operator_id,
            f.id
        ],
        |r| r.get(0),
    )?;
    let skip = i64::try_from(skip).unwrap_or(i64::MAX);
    let take = i64::try_from(take).unwrap_or(i64::MAX);
    let rows = conn.query_map(
        &format!(
            "SELECT {COLS} FROM audit_log {WHERE} ORDER BY at_ms DESC, seq DESC LIMIT ?7 OFFSET ?8"
        ),
        params![
            f.domain_id,
            f.project_id,
            f.module,
            f.repo,
            f.operator_id,
            f.id,
            take,
            skip
        ],
        from_row,
    )?;
    Ok((rows, total))
}

/// Deletes the entries older than `before_ms`, at most `batch` of them (the oldest); answers how many.
/// Batches keep each transaction, and the write lock it holds, short.
pub fn prune(conn: &Conn, before_ms: i64, batch: i64) -> StoreResult<usize> {
    conn.execute(
        "DELETE FROM audit_log WHERE seq IN \
         (SELECT seq FROM audit_log WHERE at_ms < ?1 ORDER BY at_ms LIMIT ?2)",
        params![before_ms, batch],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_db;

    fn entry(domain: &str, module: &str, repo: &str, user: &str, at_ms: i64) -> AuditEntry {
        AuditEntry {
            domain_id: domain.into(),
            module: module.into(),
            operation: "op".into(),
            repo_id: repo.into(),
            repo_name: format!("name-{repo}"),
            operator_id: user.into(),
            result: SUCCESS.into(),
            status: 200,
            at_ms,
            ..Default::default()
        }
    }

    #[test]
    fn lists_newest_first_filtered_paged_and_prunes() {
        let (_dir, db) = test_db();
        db.blocking(|conn| {
            for (i, (d, m, r, u)) in [
                ("d1", "repository", "r1", "u1"),
                ("d1", "npm", "r2", "u2"),
                ("d2", "repository", "r1", "u1"),
                ("d1", "repository", "r2", "u1"),
            ]
            .iter()
            .enumerate()
            {
                record(conn, &entry(d, m, r, u, 1000 + i as i64))?;
            }
            let all = AuditFilter {
                domain_id: "d1".into(),
                ..Default::default()
            };
            let (rows, total) = list(conn, &all, 0, 10)?;
            assert_eq!(total, 3);
            let times: Vec<i64> = rows.iter().map(|e| e.at_ms).collect();
            assert_eq!(times, vec![1003, 1001, 1000]);
            let (page, total) = list(conn, &all, 1, 1)?;
            assert_eq!((page[0].at_ms, total), (1001, 3));
            let by_repo_name = AuditFilter {
                repo: Some("name-r2".into()),
                ..all.clone()
            };
            assert_eq!(list(conn, &by_repo_name, 0, 10)?.1, 2);
            let by_user_module = AuditFilter {
                operator_id: Some("u1".into()),
                module: Some("repository".into()),
                ..all.clone()
            };
            assert_eq!(list(conn, &by_user_module, 0, 10)?.1, 2);
            assert_eq!(prune(conn, 1002, 1)?, 1);
            assert_eq!(prune(conn, 1002, 100)?, 1);
            assert_eq!(prune(conn, 1002, 100)?, 0);
            assert_eq!(list(conn, &all, 0, 10)?.1, 1);
            Ok(())
        })
        .unwrap();
    }
}
