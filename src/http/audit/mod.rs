//! The audit log (`show_audit`; README "Audit log"). One layer, `record_changes`, sees every request: the
//! state-changing ones (`classify`) are recorded once answered, with what the inner layers noted on the
//! way — the caller (`note_principal`, from the authentication layer and the protocols' `access`), the
//! repository (`note_repo`, from the two places a repository is looked up), a package and version
//! (`note_detail`) — and the error the answer carries (`ApiError` leaves an `ErrorSummary` on it).
//!
//! The entry is written after the handler has committed its change and before the answer leaves, so an
//! answered change always has its entry; a crash in between loses the entry of a change whose answer was
//! never sent. A failed write is logged and the answer goes out unchanged: recording never fails a
//! request. Code with its own transaction (the release repositories' jobs) calls `store::audit::record`
//! inside it, or `record` here.

mod classify;
pub mod prune;
mod show;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::json;

pub use classify::{classify, Kind};
pub use show::show;

use super::app::AppState;
use super::trace::current_trace_id;
use crate::auth::Principal;
use crate::store::audit::{self as store_audit, AuditEntry};
use crate::store::repos::Repository;
use crate::store::{identity, Db};

/// The code and message of an error answer, left on the response for the audit layer (every error
/// answer passes `ApiError::add_headers`).
#[derive(Debug, Clone)]
pub struct ErrorSummary {
    pub code: &'static str,
    pub message: String,
}

/// How long an answer waits for its entry to be written before going out anyway (the write goes on).
const WRITE_WAIT: Duration = Duration::from_secs(5);
/// The longest user agent kept.
const MAX_USER_AGENT: usize = 256;

/// What the inner layers learnt about the request being served.
#[derive(Debug, Default)]
struct Note {
    principal: Option<Principal>,
    repos: Vec<NotedRepo>,
    project_id: Option<String>,
    operation: Option<&'static str>,
    package: Option<String>,
    version: Option<String>,
}

#[derive(Debug, Clone)]
struct NotedRepo {
    id: String,
    name: String,
    domain_id: String,
    project_id: String,
    format: String,
}

tokio::task_local! {
    static NOTE: Arc<Mutex<Note>>;
}

fn with_note(f: impl FnOnce(&mut Note)) {
    let _ = NOTE.try_with(|note| f(&mut note.lock().unwrap_or_else(|e| e.into_inner())));
}

/// The authenticated caller of the request being served.
pub fn note_principal(principal: &Principal) {
    with_note(|n| n.principal = Some(principal.clone()));
}

/// A repository the request addresses; a request that names several is recorded once for each.
pub fn note_repo(repo: &Repository) {
    with_note(|n| {
        if !n.repos.iter().any(|r| r.id == repo.id) {
            n.repos.push(NotedRepo {
                id: repo.id.clone(),
                name: repo.name.clone(),
                domain_id: repo.domain_id.clone(),
                project_id: repo.project_id.clone(),
                format: repo.format.clone(),
            });
        }
    });
}

/// The CodeArts project a request changes, where no repository names it (a role's grants).
pub fn note_project(project_id: &str) {
    with_note(|n| n.project_id = Some(project_id.to_string()));
}

/// The request addresses `target` in place of `addressed` (a virtual repository's deploy repository).
pub fn note_repo_instead(addressed: &Repository, target: &Repository) {
    with_note(|n| n.repos.retain(|r| r.id != addressed.id));
    note_repo(target);
}

/// What a protocol handler found the request to do, where the path alone does not say (an npm document
/// PUT publishes, deprecates or unpublishes).
pub fn note_operation(operation: &'static str) {
    with_note(|n| n.operation = Some(operation));
}

/// The package (and version) a protocol request changes.
pub fn note_detail(package: &str, version: Option<&str>) {
    with_note(|n| {
        n.package = Some(package.to_string());
        n.version = version.map(str::to_string);
    });
}

/// Writes an entry on its own (no transaction to join). For events without a request: jobs, notices.
pub async fn record(db: &Db, entry: AuditEntry) -> Result<String, crate::store::StoreError> {
    db.call(move |conn| store_audit::record(conn, &entry)).await
}

/// The layer: records each state-changing request once it is answered.
pub async fn record_changes(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(kind) = classify(request.method(), request.uri().path()) else {
        return next.run(request).await;
    };
    let ip = state
        .auth_limiter
        .client_addr(request.headers(), request.extensions())
        .map(|a| a.to_canonical().to_string())
        .unwrap_or_default();
    let user_agent: String = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(MAX_USER_AGENT)
        .collect();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let note = Arc::new(Mutex::new(Note::default()));
    let response = NOTE.scope(note.clone(), next.run(request)).await;
    let note = std::mem::take(&mut *note.lock().unwrap_or_else(|e| e.into_inner()));
    let error = response.extensions().get::<ErrorSummary>().cloned();
    // No route, or the wrong method: nothing was attempted.
    if error
        .as_ref()
        .is_some_and(|e| e.code == "ARCA.00000007" || e.code == "ARCA.00000008")
    {
        return response;
    }
    let status = response.status().as_u16();
    let entries = entries_of(kind, note, &method, &path, status, error, ip, user_agent);
    if entries.is_empty() {
        return response;
    }
    let db = state.db.clone();
    // The entry of a change is the change's work: like an upload's own transaction it yields the CPU
    // to reads (`Db::call_yielding`).
    let write = tokio::spawn(async move {
        let written = db
            .call_yielding(move |conn| {
                for mut entry in entries {
                    if entry.tenant_name.is_empty() {
                        entry.tenant_name = identity::get_domain(conn, &entry.domain_id)?
                            .map(|d| d.name)
                            .unwrap_or_default();
                    }
                    store_audit::record(conn, &entry)?;
                }
                Ok(())
            })
            .await;
        if let Err(e) = written {
            tracing::warn!(error = %e, "audit entry not recorded");
        }
    });
    if tokio::time::timeout(WRITE_WAIT, write).await.is_err() {
        tracing::warn!("audit entry still being written; answering without waiting longer");
    }
    response
}

/// The entries a request leaves: one per repository it addressed (or one), in its caller's account, else
/// in the account of the repository it tried to change; none when neither is known (a request refused
/// before its credential named anyone).
#[allow(clippy::too_many_arguments)]
fn entries_of(
    kind: Kind,
    note: Note,
    method: &str,
    path: &str,
    status: u16,
    error: Option<ErrorSummary>,
    ip: String,
    user_agent: String,
) -> Vec<AuditEntry> {
    let domain_id = match (&note.principal, note.repos.first()) {
        (Some(p), _) => p.domain_id.clone(),
        (None, Some(r)) => r.domain_id.clone(),
        (None, None) => return Vec::new(),
    };
    let success = (200..400).contains(&status);
    let reason = match (&error, success) {
        (Some(e), _) => format!("{}: {}", e.code, e.message),
        (None, false) => format!("HTTP {status}"),
        (None, true) => String::new(),
    };
    let (operator_id, operator_name) = note
        .principal
        .as_ref()
        .map(|p| (p.user_id.clone(), p.user_name.clone()))
        .unwrap_or_else(|| (String::new(), "anonymous".to_string()));
    let operation = note.operation.unwrap_or(kind.operation).to_string();
    let module_name = kind.module;
    let target = match (&note.package, &note.version) {
        (Some(p), Some(v)) => format!("{p}@{v}"),
        (Some(p), None) => p.clone(),
        _ => path.to_string(),
    };
    // Only the account's own repositories: another account's is not for this log to name.
    let mut repos: Vec<Option<&NotedRepo>> = note
        .repos
        .iter()
        .filter(|r| r.domain_id == domain_id)
        .map(Some)
        .collect();
    if repos.is_empty() {
        repos.push(None);
    }
    repos
        .into_iter()
        .map(|repo| {
            let module = match (module_name, repo) {
                // Maven's format is `maven2` in the API; the module is the protocol's name.
                (classify::BY_FORMAT, Some(r)) if r.format == "maven2" => "maven".to_string(),
                (classify::BY_FORMAT, Some(r)) => r.format.clone(),
                (classify::BY_FORMAT, None) => "generic".to_string(),
                (m, _) => m.to_string(),
            };
            let data = json!({
                "method": method,
                "path": path,
                "status": status,
                "result": if success { store_audit::SUCCESS } else { store_audit::FAILURE },
                "trace_id": current_trace_id(),
                "repository": repo.map(|r| r.name.as_str()),
                "package": note.package,
                "version": note.version,
            });
            AuditEntry {
                domain_id: domain_id.clone(),
                project_id: repo
                    .map(|r| r.project_id.clone())
                    .or_else(|| note.project_id.clone())
                    .or_else(|| kind.project_id.clone())
                    .unwrap_or_default(),
                repo_id: repo.map(|r| r.id.clone()).unwrap_or_default(),
                repo_name: repo.map(|r| r.name.clone()).unwrap_or_default(),
                module,
                operation: operation.clone(),
                operator_id: operator_id.clone(),
                operator_name: operator_name.clone(),
                ip: ip.clone(),
                user_agent: user_agent.clone(),
                info: target.clone(),
                data: data.to_string(),
                result: if success {
                    store_audit::SUCCESS
                } else {
                    store_audit::FAILURE
                }
                .to_string(),
                status: i64::from(status),
                reason: reason.clone(),
                ..Default::default()
            }
        })
        .collect()
}
