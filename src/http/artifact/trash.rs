//! The recycle bin (issue 3 §6): deleting a file moves it there, restoring puts it (or a whole repository)
//! back, and deleting from the bin is permanent and reclaims the blobs nothing references any more.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::{repo_with_access, require};
use crate::auth::Principal;
use crate::domain::artifact_path::ArtifactPath;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::http::storage::reclaim;
use crate::store::repos::{self, Repository, STATUS_ACTIVE, STATUS_TRASH};
use crate::store::{now_ms, StoreError};

const MAX_ITEMS: usize = 100;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathBody {
    path: Option<String>,
}

/// Splits `/<repo>/<path>` (the leading `/` optional) into the repository key and the parsed path.
fn repo_and_path(full: &str) -> ApiResult<(String, ArtifactPath)> {
    let trimmed = full.strip_prefix('/').unwrap_or(full);
    let (repo, rest) = trimmed.split_once('/').unwrap_or((trimmed, ""));
    if repo.is_empty() {
        return Err(ApiError::invalid(
            "path",
            "must start with the repository name: /<repository>/<path>",
        ));
    }
    let path =
        ArtifactPath::parse_plain(rest).map_err(|e| ApiError::invalid("path", e.to_string()))?;
    Ok((repo.to_string(), path))
}

/// `DELETE /cloudartifact/v5/file` (delete_artifact_file): moves a file, or every file under a directory,
/// to the recycle bin. `path` is `/<repository>/<path>`.
pub async fn delete_file(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<PathBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    let (key, path) = repo_and_path(body.path.as_deref().unwrap_or(""))?;
    if path.is_root() {
        return Err(ApiError::invalid(
            "path",
            "names a whole repository; delete repositories with delete_repository",
        ));
    }
    let (repo, access) = repo_with_access(&state, &principal, &key).await?;
    if repo.status != STATUS_ACTIVE {
        return Err(ApiError::not_found(format!(
            "Repository {key} is in the recycle bin"
        )));
    }
    require(&access, &repo, Operation::Delete, path.as_str())?;
    let (repo_id, rel, user_id) = (
        repo.id.clone(),
        path.as_str().to_string(),
        principal.user_id.clone(),
    );
    let trashed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            let mut paths = Vec::new();
            if repos::get_live_file(&tx, &repo_id, &rel)?.is_some() {
                paths.push(rel.clone());
            } else {
                paths.extend(
                    repos::live_files_under(&tx, &repo_id, &format!("{rel}/"))?
                        .into_iter()
                        .map(|f| f.path),
                );
            }
            for p in &paths {
                repos::trash_file(&tx, &repo_id, p, &user_id, now)?;
            }
            tx.commit()?;
            Ok(paths)
        })
        .await?;
    if trashed.is_empty() {
        return Err(ApiError::not_found(format!(
            "No file or directory /{}/{}",
            repo.name,
            path.as_str()
        )));
    }
    tracing::info!(repo = %repo.name, files = trashed.len(), "files moved to the recycle bin");
    Ok(success(json!({"deleted": trashed.len(), "paths": trashed})))
}

/// One item of `batch_restore_repo` / `batch_delete_trashes`: a repository (`id`: its id or name) and,
/// in `uri`, optionally a file or directory inside it (`/path` or `/<repository>/path`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrashItem {
    id: Option<String>,
    format: Option<String>,
    status: Option<String>,
    uri: Option<String>,
    include_pattern: Option<String>,
}

struct Outcome {
    success: u32,
    failed: Vec<String>,
    freed_bytes: i64,
}

impl Outcome {
    fn answer(self) -> Json<Value> {
        success(json!({
            "successNum": self.success,
            "failedNum": self.failed.len(),
            "failedMessages": self.failed,
            "freedBytes": self.freed_bytes,
        }))
    }
}

#[derive(Clone, Copy)]
enum Action {
    Restore,
    Purge,
}

/// Runs `action` on each item (repository key, uri), counting successes and the bytes they freed. A bad
/// parameter or an internal error ends the batch; other failures are reported per item.
async fn for_each_item(
    state: &AppState,
    principal: &Principal,
    items: Vec<TrashItem>,
    action: Action,
) -> ApiResult<Outcome> {
    let mut outcome = Outcome {
        success: 0,
        failed: Vec::new(),
        freed_bytes: 0,
    };
    for item in items {
        let key = item.id.clone().unwrap_or_default();
        let uri = item.uri.as_deref();
        let result = match action {
            Action::Restore => restore_one(state, principal, &key, uri).await.map(|()| 0),
            Action::Purge => purge_one(state, principal, &key, uri).await,
        };
        match result {
            Ok(freed) => {
                outcome.success += 1;
                outcome.freed_bytes += freed;
            }
            Err(e @ (ApiError::InvalidParameter { .. } | ApiError::Internal(_))) => return Err(e),
            Err(e) => outcome.failed.push(format!("{key}: {e}")),
        }
    }
    Ok(outcome)
}

fn parse_items(body: Result<JsonBody<Vec<TrashItem>>, ApiError>) -> ApiResult<Vec<TrashItem>> {
    let JsonBody(items) = body?;
    if items.is_empty() || items.len() > MAX_ITEMS {
        return Err(ApiError::invalid(
            "body",
            format!("must list 1 to {MAX_ITEMS} recycle bin items"),
        ));
    }
    for item in &items {
        if item
            .id
            .as_deref()
            .is_none_or(|i| i.is_empty() || i.len() > 64)
        {
            return Err(ApiError::invalid(
                "id",
                "each item needs a repository id (or name)",
            ));
        }
        for (name, value) in [
            ("format", &item.format),
            ("status", &item.status),
            ("include_pattern", &item.include_pattern),
        ] {
            if value.as_deref().is_some_and(|v| v.len() > 512) {
                return Err(ApiError::invalid(name, "must be at most 512 characters"));
            }
        }
        if item.uri.as_deref().is_some_and(|u| u.len() > 2048) {
            return Err(ApiError::invalid("uri", "must be at most 2048 characters"));
        }
    }
    Ok(items)
}

/// The path inside `repo` an item's `uri` names ("" for the whole repository).
fn item_path(repo: &Repository, uri: Option<&str>) -> ApiResult<String> {
    let uri = uri.unwrap_or("").trim();
    let own_prefix = format!("/{}", repo.name);
    let relative = match uri.strip_prefix(&own_prefix) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => uri,
    };
    let path =
        ArtifactPath::parse_plain(relative).map_err(|e| ApiError::invalid("uri", e.to_string()))?;
    Ok(path.as_str().to_string())
}

/// `PUT /cloudartifact/v5/trashes` (batch_restore_repo): brings repositories or files back from the bin.
/// A file whose path a newer live file took stays in the bin and is reported as failed.
pub async fn restore(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<Vec<TrashItem>>, ApiError>,
) -> ApiResult<Json<Value>> {
    let items = parse_items(body)?;
    let outcome = for_each_item(&state, &principal, items, Action::Restore).await?;
    Ok(outcome.answer())
}

async fn restore_one(
    state: &AppState,
    principal: &Principal,
    key: &str,
    uri: Option<&str>,
) -> ApiResult<()> {
    let (mut repo, access) = repo_with_access(state, principal, key).await?;
    let rel = item_path(&repo, uri)?;
    require(&access, &repo, Operation::Restore, &rel)?;
    if rel.is_empty() && repo.status == STATUS_TRASH {
        repo.status = STATUS_ACTIVE.to_string();
        repo.deleted_at = None;
        repo.modified_at = now_ms();
        repo.modified_by = principal.user_id.clone();
        state
            .db
            .call(move |conn| repos::update_repo(conn, &repo))
            .await?;
        return Ok(());
    }
    if repo.status != STATUS_ACTIVE {
        return Err(ApiError::Conflict(format!(
            "repository {} is in the recycle bin; restore the repository first",
            repo.name
        )));
    }
    let repo_id = repo.id.clone();
    let restored = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let files = repos::trashed_files_under(&tx, &repo_id, &rel)?;
            let mut restored = 0;
            // Newest deletion first, so of several trashed versions of a path the latest comes back.
            let mut files = files;
            files.sort_by_key(|f| std::cmp::Reverse(f.deleted_at));
            for f in files {
                match repos::restore_file(&tx, f.id) {
                    Ok(true) => restored += 1,
                    Ok(false) => {}
                    Err(StoreError::Conflict(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            tx.commit()?;
            Ok(restored)
        })
        .await?;
    if restored == 0 {
        return Err(ApiError::not_found(
            "nothing of this path is in the recycle bin (or live files hold its paths)",
        ));
    }
    Ok(())
}

/// `DELETE /cloudartifact/v5/trashes` (batch_delete_trashes): deletes for good. An item naming a
/// repository in the bin deletes it with all its files (`physicdelete`); naming a live repository
/// empties its bin (`clearall`), or with a `uri`, the trashed files under it (`physicdelete`). Blobs no
/// longer referenced are reclaimed; `freedBytes` reports the bytes freed.
pub async fn purge(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<Vec<TrashItem>>, ApiError>,
) -> ApiResult<Json<Value>> {
    let items = parse_items(body)?;
    let outcome = for_each_item(&state, &principal, items, Action::Purge).await?;
    tracing::info!(
        freed_bytes = outcome.freed_bytes,
        items = outcome.success,
        "recycle bin items deleted for good"
    );
    Ok(outcome.answer())
}

async fn purge_one(
    state: &AppState,
    principal: &Principal,
    key: &str,
    uri: Option<&str>,
) -> ApiResult<i64> {
    let (repo, access) = repo_with_access(state, principal, key).await?;
    let rel = item_path(&repo, uri)?;
    let repo_id = repo.id.clone();
    let candidates = if rel.is_empty() && repo.status == STATUS_TRASH {
        require(&access, &repo, Operation::PhysicDelete, "")?;
        state
            .db
            .call(move |conn| {
                let tx = conn.transaction()?;
                let refs = repos::blob_refs_of_repo(&tx, &repo_id)?;
                repos::delete_repo(&tx, &repo_id)?;
                tx.commit()?;
                Ok(refs)
            })
            .await?
    } else {
        let op = if rel.is_empty() {
            Operation::ClearAll
        } else {
            Operation::PhysicDelete
        };
        require(&access, &repo, op, &rel)?;
        let files = state
            .db
            .call(move |conn| {
                let tx = conn.transaction()?;
                let files = repos::trashed_files_under(&tx, &repo_id, &rel)?;
                let mut refs = Vec::new();
                for f in &files {
                    if let Some(sha) = repos::purge_file(&tx, f.id)? {
                        refs.push(sha);
                    }
                }
                tx.commit()?;
                Ok(refs)
            })
            .await?;
        if files.is_empty() {
            return Err(ApiError::not_found(
                "nothing of this path is in the recycle bin",
            ));
        }
        files
    };
    let mut unique = candidates;
    unique.sort();
    unique.dedup();
    reclaim(state, unique).await
}
