//! Security scans (`list_sec_guard_list`; README "Security scans"): a background job scans every uploaded
//! file once, in upload order, with the offline checks of `formats::scan` plus the stored bytes' SHA-256
//! against the digest recorded at upload; `GET /cloudartifact/v5/sec-guard/task/list` answers the tasks
//! and their counts (`SecGuardTaskCount`). There is no vulnerability or virus database: those counts are 0.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use chrono::{FixedOffset, TimeZone};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::auth::Principal;
use crate::blob::LocalBlob;
use crate::formats::scan::{self, Finding, Kind, Limits, Severity};
use crate::http::app::AppState;
use crate::http::artifact::access::CallerAccess;
use crate::http::envelope::success;
use crate::http::error::ApiResult;
use crate::http::extract::QueryParams;
use crate::store::scans::{self, Pending, ScanTask};
use crate::store::{now_ms, repos, StoreError};

/// How often the job looks for new uploads when it has caught up.
const POLL: Duration = Duration::from_secs(2);
const BATCH: i64 = 20;
/// Files larger than this are recorded as `skipped`, not read.
const SCAN_MAX_BYTES: i64 = 32 << 20;
const DAY_MS: i64 = 86_400_000;

/// Scans what was uploaded since the last scan, then keeps polling; a restart goes on from the last
/// file scanned.
pub async fn run(state: AppState) {
    loop {
        match scan_batch(&state).await {
            Ok(n) if n as i64 == BATCH => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "security scan failed; retrying"),
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn scan_batch(state: &AppState) -> Result<usize, StoreError> {
    let pending = state.db.call(|conn| scans::pending(conn, BATCH)).await?;
    for file in &pending {
        let task = scan_file(state, file).await;
        if task.high > 0 {
            tracing::warn!(repo = %task.repo_name, path = %task.path, findings = %task.findings,
                "security scan found problems");
        }
        state
            .db
            .call(move |conn| scans::insert(conn, &task))
            .await?;
    }
    Ok(pending.len())
}

async fn scan_file(state: &AppState, file: &Pending) -> ScanTask {
    if file.size > SCAN_MAX_BYTES {
        // Reading it whole (a download from a bucket, a local copy) would cost more than a background
        // check should; its digest was computed from the bytes as they were stored.
        return task_of(file, "skipped", Vec::new());
    }
    let outcome = match state.blobs.local_copy(&file.sha256).await {
        Ok(local) => {
            let (path, sha256) = (file.path.clone(), file.sha256.clone());
            tokio::task::spawn_blocking(move || scan_local(local, &path, &sha256))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
        }
        Err(e) => Err(e.to_string()),
    };
    let (status, findings) = match outcome {
        Ok(findings) => ("success", findings),
        Err(e) => {
            tracing::warn!(path = %file.path, error = %e, "security scan could not read a file");
            ("failed", Vec::new())
        }
    };
    task_of(file, status, findings)
}

fn task_of(file: &Pending, status: &str, findings: Vec<Finding>) -> ScanTask {
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count() as i64;
    let listed: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({
                "severity": match f.severity {
                    Severity::High => "high",
                    Severity::Medium => "medium",
                    Severity::Low => "low",
                },
                "kind": f.kind,
                "entry": f.entry,
            })
        })
        .collect();
    ScanTask {
        id: crate::domain::new_hex_id(),
        file_id: file.file_id,
        domain_id: file.domain_id.clone(),
        repo_id: file.repo_id.clone(),
        repo_name: file.repo_name.clone(),
        path: file.path.clone(),
        sha256: file.sha256.clone(),
        status: status.to_string(),
        high: count(Severity::High),
        medium: count(Severity::Medium),
        low: count(Severity::Low),
        findings: Value::Array(listed).to_string(),
        created_at: now_ms(),
    }
}

/// The checks on a stored file: its bytes hash to the digest recorded at upload, then the checks its
/// kind (by name) takes.
fn scan_local(local: LocalBlob, path: &str, sha256: &str) -> std::io::Result<Vec<Finding>> {
    let mut file = std::fs::File::open(local.path())?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    let mut findings = Vec::new();
    if hex::encode(hasher.finalize()) != sha256 {
        findings.push(Finding {
            severity: Severity::High,
            kind: "checksum_mismatch",
            entry: String::new(),
        });
    }
    let len = file.metadata()?.len();
    let limits = Limits::default();
    let open = || std::fs::File::open(local.path());
    findings.extend(match scan::kind_of(path) {
        Kind::Zip => scan::scan_zip(rawzip::FileReader::from(open()?), len, &limits),
        Kind::TarGz => scan::scan_tar(open()?, len, true, &limits),
        Kind::Tar => scan::scan_tar(open()?, len, false, &limits),
        Kind::Gzip => scan::scan_gzip(open()?, len, &limits),
        Kind::Plain => scan::scan_plain(open()?, &limits)?,
    });
    Ok(findings)
}

fn severity_counts(high: i64, medium: i64, low: i64) -> Value {
    json!({"high": high, "medium": medium, "low": low})
}

/// `GET /cloudartifact/v5/sec-guard/task/list` (list_sec_guard_list): the scans of the last `date` days
/// (1..365, default 1) of files in repositories the caller may read, newest first, `page_no`/`page_size`
/// paged, with their counts.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let days = query.int("date", 1..=365, 1)?;
    let page_no = query.int("page_no", 1..=2_147_483_647, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let since = now_ms() - days * DAY_MS;
    let principal_copy = principal.clone();
    let visible = state
        .db
        .call(move |conn| {
            let p = &principal_copy;
            let tasks = scans::list_since(conn, &p.domain_id, since)?;
            let by_id: HashMap<String, repos::Repository> =
                repos::domain_repos(conn, &p.domain_id)?
                    .into_iter()
                    .map(|r| (r.id.clone(), r))
                    .collect();
            let access =
                CallerAccess::load(conn, p, by_id.values().map(|r| r.project_id.as_str()))?;
            Ok(tasks
                .into_iter()
                .filter(|t| by_id.get(&t.repo_id).is_some_and(|r| access.can_read(r)))
                .collect::<Vec<_>>())
        })
        .await?;
    let offset = FixedOffset::east_opt(state.config.display_offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    let artifacts: HashSet<(&str, &str)> = visible
        .iter()
        .map(|t| (t.repo_id.as_str(), t.path.as_str()))
        .collect();
    let sum = |f: fn(&ScanTask) -> i64| visible.iter().map(f).sum::<i64>();
    let no_vulnerabilities = json!({"critical": 0, "high": 0, "medium": 0, "low": 0});
    let skip = usize::try_from((page_no - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let list: Vec<Value> = visible
        .iter()
        .skip(skip)
        .take(page_size as usize)
        .map(|t| {
            let full = format!("/{}/{}", t.repo_name, t.path);
            let name = t.path.rsplit('/').next().unwrap_or(&t.path);
            let findings: Value = serde_json::from_str(&t.findings).unwrap_or(json!([]));
            json!({
                "task_id": t.id,
                "task_name": format!("scan of {full}"),
                "scan_path": full,
                "file_name": name,
                "display_name": name,
                "path": full,
                "created_time": offset
                    .timestamp_millis_opt(t.created_at)
                    .single()
                    .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default(),
                "opensource": no_vulnerabilities,
                "virus": 0,
                "malware": severity_counts(t.high, t.medium, t.low),
                "status": t.status,
                "findings": findings,
            })
        })
        .collect();
    Ok(success(json!({
        "task": visible.len(),
        "artifact": artifacts.len(),
        "opensource": no_vulnerabilities,
        "virus": 0,
        "malware": severity_counts(sum(|t| t.high), sum(|t| t.medium), sum(|t| t.low)),
        "total": visible.len(),
        "list": list,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_bytes_that_do_not_hash_to_their_digest_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"hello").unwrap();
        let right = hex::encode(Sha256::digest(b"hello"));
        let scan = |sha: &str| scan_local(LocalBlob::in_place(path.clone()), "a.txt", sha).unwrap();
        assert!(scan(&right).is_empty());
        let wrong = hex::encode(Sha256::digest(b"hellO"));
        assert_eq!(
            scan(&wrong).iter().map(|f| f.kind).collect::<Vec<_>>(),
            vec!["checksum_mismatch"]
        );
    }
}
