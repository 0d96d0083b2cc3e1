//! Files in the recycle bin: deleting a file from its Browse page (delete_artifact_file), the bin view's
//! list of deleted files (show_file_tree with `is_recycle_bin`), and restoring one (batch_restore_repo).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::csrf::Signed;
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::artifact::access::{repo_with_access, require};
use crate::http::artifact::{files, repositories, trash};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};

/// Deleted files one bin page lists.
const MAX_ROWS: usize = 500;

pub struct TrashedFile {
    pub repo_id: String,
    pub repo: String,
    pub path: String,
    pub modified: String,
    pub modified_by: String,
    pub can_restore: bool,
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// The deleted files of the live repositories the caller can read (optionally of one project or format),
/// walking each repository's bin tree as show_file_tree answers it.
pub async fn trashed(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    project: Option<&str>,
    format: Option<&str>,
) -> ApiResult<Vec<TrashedFile>> {
    let Json(listed) = repositories::list_all(
        State(state.clone()),
        principal.clone(),
        headers.clone(),
        Path((principal.domain_id.clone(), "0".repeat(32))),
        QueryParams::parse("is_need_paging=false&in_project=false")?,
    )
    .await?;
    let mut rows = Vec::new();
    for repo in listed["result"]["repositories"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let project_id = text(repo, "projectId");
        if project.is_some_and(|p| p != project_id)
            || format.is_some_and(|f| f != text(repo, "format"))
        {
            continue;
        }
        let (repo_id, name) = (text(repo, "id"), text(repo, "name"));
        let (full, access) = repo_with_access(state, principal, &repo_id).await?;
        let mut folders = vec![String::new()];
        while let Some(dir) = folders.pop() {
            if rows.len() >= MAX_ROWS {
                return Ok(rows);
            }
            let query = format!(
                "is_recycle_bin=true&path={}",
                percent_encoding::utf8_percent_encode(&dir, percent_encoding::NON_ALPHANUMERIC)
            );
            let Json(tree) = files::file_tree(
                State(state.clone()),
                principal.clone(),
                Path((
                    principal.domain_id.clone(),
                    project_id.clone(),
                    repo_id.clone(),
                )),
                headers.clone(),
                QueryParams::parse(&query)?,
            )
            .await?;
            for child in tree["result"]["children"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let path = text(child, "path");
                if child["folder"].as_bool().unwrap_or(false) {
                    folders.push(path);
                    continue;
                }
                rows.push(TrashedFile {
                    repo_id: repo_id.clone(),
                    repo: name.clone(),
                    can_restore: access.allows(&full, Operation::Restore, &path),
                    modified: text(child, "modified"),
                    modified_by: text(child, "modified_by"),
                    path,
                });
            }
        }
    }
    rows.sort_by(|a, b| a.repo.cmp(&b.repo).then(a.path.cmp(&b.path)));
    Ok(rows)
}

#[derive(Deserialize)]
pub struct FileForm {
    repo: String,
    path: String,
}

/// `POST /ui/files/delete`: delete_artifact_file, then the bin, where the file can be restored.
pub async fn delete(State(state): State<AppState>, signed: Signed<FileForm>) -> Response {
    let Signed { session, form } = signed;
    let body = json!({ "path": format!("/{}/{}", form.repo, form.path) });
    let done = match serde_json::from_value(body) {
        Ok(b) => trash::delete_file(State(state), session.principal, Ok(JsonBody(b)))
            .await
            .map(drop),
        Err(e) => Err(ApiError::invalid("body", e.to_string())),
    };
    match done {
        Ok(()) => Redirect::to("/ui/repositories?bin=true&done=file-deleted").into_response(),
        Err(e) => super::views::error_page(e),
    }
}

#[derive(Deserialize)]
pub struct RestoreForm {
    repo_id: String,
    path: String,
}

/// `POST /ui/files/restore`: batch_restore_repo of one file, named `/<repository>/<path>` so a path that
/// begins with the repository's own name is not mistaken for one.
pub async fn restore(State(state): State<AppState>, signed: Signed<RestoreForm>) -> Response {
    let Signed { session, form } = signed;
    let restored = async {
        let (repo, access) = repo_with_access(&state, &session.principal, &form.repo_id).await?;
        // The batch answers a refused item as "failed"; asked first, a refusal is the 403 it is.
        require(&access, &repo, Operation::Restore, &form.path)?;
        let body = json!([{ "id": repo.id, "uri": format!("/{}/{}", repo.name, form.path) }]);
        let body =
            serde_json::from_value(body).map_err(|e| ApiError::invalid("body", e.to_string()))?;
        let Json(answer) = trash::restore(
            State(state.clone()),
            session.principal.clone(),
            Ok(JsonBody(body)),
        )
        .await?;
        match answer["result"]["failedMessages"].as_array() {
            Some(failed) if !failed.is_empty() => Err(ApiError::Conflict(format!(
                "The file could not be restored: {}",
                failed[0].as_str().unwrap_or_default()
            ))),
            _ => Ok(()),
        }
    };
    match restored.await {
        Ok(()) => Redirect::to("/ui/repositories?bin=true&done=file-restored").into_response(),
        Err(e) => super::views::error_page(e),
    }
}
