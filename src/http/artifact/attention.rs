//! Following artifacts (`create_attention`, `list_attentions`): a user follows the artifacts whose ids
//! `search_artifacts` and `list_artifactory_component` answer, and lists them. Following is per user and
//! needs `download` on the artifact; a follow names the repository and path, so a redeploy keeps it, and
//! an artifact deleted (or its repository in the bin) drops out of the list until it is back.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::CallerAccess;
use super::repositories::ViewContext;
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::domain::paging::page_window;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::repos::{self, STATUS_ACTIVE};
use crate::store::{attentions, now_ms};

/// Ids one request may follow or unfollow.
const MAX_IDS: usize = 100;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttentionBody {
    attention: Option<String>,
    ids: Option<Vec<String>>,
    format: Option<String>,
}

/// `POST /cloudartifact/v5/attention` (create_attention): `attention` "true" follows, "false" unfollows
/// the artifacts `ids`; `format`, when given, must be theirs. A missing id, another account's, or one the
/// caller may not download is 404 naming its position, and nothing changes.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<AttentionBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    let follow = match body.attention.as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return Err(ApiError::invalid(
                "attention",
                "must be \"true\" or \"false\"",
            ))
        }
    };
    let ids = body.ids.unwrap_or_default();
    if ids.is_empty() || ids.len() > MAX_IDS {
        return Err(ApiError::invalid(
            "ids",
            format!("must list 1 to {MAX_IDS} artifact ids"),
        ));
    }
    let mut parsed = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        let id: i64 = id
            .trim()
            .parse()
            .ok()
            .filter(|id| *id > 0)
            .ok_or_else(|| ApiError::invalid(&format!("ids[{i}]"), "is not an artifact id"))?;
        parsed.push(id);
    }
    let format = body.format;
    if format.as_ref().is_some_and(|f| f.len() > 32) {
        return Err(ApiError::invalid("format", "must be at most 32 characters"));
    }
    let who = principal.clone();
    state
        .db
        .call(move |conn| {
            let mut targets = Vec::with_capacity(parsed.len());
            for (i, id) in parsed.iter().enumerate() {
                let missing =
                    || ApiError::not_found(format!("No artifact ids[{i}] the caller may read"));
                let Some(file) = repos::get_live_file_by_id(conn, *id)? else {
                    return Ok(Err(missing()));
                };
                let Some(repo) = repos::get_repo(conn, &file.repo_id)? else {
                    return Ok(Err(missing()));
                };
                let access = CallerAccess::load(conn, &who, [repo.project_id.as_str()])?;
                let readable = repo.domain_id == who.domain_id
                    && repo.status == STATUS_ACTIVE
                    && access.allows(&repo, Operation::Download, &file.path);
                if !readable {
                    return Ok(Err(missing()));
                }
                if format.as_ref().is_some_and(|f| *f != repo.format) {
                    return Ok(Err(ApiError::invalid(
                        "format",
                        format!("is not the format of ids[{i}]"),
                    )));
                }
                targets.push((repo.id, file.path));
            }
            let tx = conn.transaction()?;
            let now = now_ms();
            for (repo_id, path) in &targets {
                if follow {
                    attentions::follow(&tx, &who.user_id, repo_id, path, now)?;
                } else {
                    attentions::unfollow(&tx, &who.user_id, repo_id, path)?;
                }
            }
            tx.commit()?;
            Ok(Ok(()))
        })
        .await??;
    Ok(success(json!({})))
}

/// `GET /cloudartifact/v5/attention/artifacts` (list_attentions): what the caller follows, newest first,
/// optionally only in CodeArts project `project_id`, `page_no`/`page_size` paged (`ListAttentionPageResult`, whose keys are camelCase on the wire).
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let page_no = query.int("page_no", 1..=2_147_483_647, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let project_id = query.filter("project_id", 64)?;
    let config = state.config.clone();
    let region = state.config.region.clone();
    let who = principal.clone();
    let page = state
        .db
        .call(move |conn| {
            let mut rows = Vec::new();
            for followed in attentions::list(conn, &who.user_id)? {
                let Some(repo) = repos::get_repo(conn, &followed.repo_id)? else {
                    continue;
                };
                if repo.status != STATUS_ACTIVE
                    || repo.domain_id != who.domain_id
                    || project_id.as_ref().is_some_and(|p| *p != repo.project_id)
                {
                    continue;
                }
                let Some(file) = repos::get_live_file(conn, &repo.id, &followed.path)? else {
                    continue;
                };
                // Privileges may have been taken away since the follow: the list shows only what the
                // caller may still read.
                let access = CallerAccess::load(conn, &who, [repo.project_id.as_str()])?;
                if access.allows(&repo, Operation::Download, &file.path) {
                    rows.push((repo, file));
                }
            }
            let mut ctx = ViewContext::load(conn, &config, &who.domain_id, &headers)?;
            ctx.learn_names(conn, rows.iter().map(|(_, f)| f.modified_by.as_str()))?;
            let window = page_window(rows.len() as u64, page_no as u64, page_size as u64);
            let data: Vec<Value> = rows
                .iter()
                .enumerate()
                .skip(window.skip)
                .take(window.take)
                .map(|(n, (repo, file))| {
                    json!({
                        "id": (n + 1).to_string(),
                        "domainId": repo.domain_id,
                        "repositoryId": repo.id,
                        "repositoryName": repo.name,
                        "format": repo.format,
                        "policy": repo.policy,
                        "artifactId": file.id.to_string(),
                        "path": format!("/{}", file.path),
                        "modifiedUserName": ctx.name_of(&file.modified_by),
                        "modifiedUserId": file.modified_by,
                        "userId": who.user_id,
                        "modifiedTime": ctx.time(file.modified_at),
                        "region": region,
                    })
                })
                .collect();
            Ok(json!({
                "totalRecords": rows.len(),
                "totalPages": window.total_pages,
                "data": data,
            }))
        })
        .await?;
    Ok(success(page))
}
