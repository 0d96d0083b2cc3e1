//! Storage figures: the account's total (show_storage) and a repository's daily history
//! (list_artifactory_storage_statistic), both computed from the file table.

use std::collections::{BTreeSet, HashMap};

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use serde_json::{json, Value};

use super::access::{repo_with_access, CallerAccess};
use super::repositories::{human_bytes, require_tenant, MAVEN_FORMAT, OTHER_FORMATS};
use crate::auth::Principal;
use crate::domain::is_alnum32;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::store::repos::{self, FileEntry, Repository, STATUS_ACTIVE};

/// Longest history one request may ask for.
const MAX_DAYS: i64 = 366;

/// `GET /cloudartifact/v5/storage` (show_storage): live files and bytes in the repositories the caller
/// may read, optionally of some formats (`format_list`, comma-separated). `in_project` names no project
/// here, so it is validated and the whole account is counted (decision).
pub async fn show_storage(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let formats: Option<Vec<String>> = query.filter("format_list", 512)?.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect()
    });
    if let Some(bad) = formats
        .iter()
        .flatten()
        .find(|f| f.as_str() != MAVEN_FORMAT && !OTHER_FORMATS.contains(&f.as_str()))
    {
        return Err(ApiError::invalid(
            "format_list",
            format!(
                "holds {bad}; formats are {MAVEN_FORMAT}, {}",
                OTHER_FORMATS.join(", ")
            ),
        ));
    }
    query.bool("in_project", false)?;
    let domain_id = principal.domain_id.clone();
    let (count, bytes) = state
        .db
        .call(move |conn| {
            let all = repos::domain_repos(conn, &domain_id)?;
            let access =
                CallerAccess::load(conn, &principal, all.iter().map(|r| r.project_id.as_str()))?;
            let usage = repos::live_usage_by_repo(conn, &domain_id)?;
            let mut totals = (0i64, 0i64);
            for r in all
                .iter()
                .filter(|r| r.status == STATUS_ACTIVE && access.can_read(r))
            {
                if formats.as_ref().is_some_and(|f| !f.contains(&r.format)) {
                    continue;
                }
                if let Some(whole) = usage.get(&r.id) {
                    let (c, b) = access.usage(conn, r, *whole)?;
                    totals.0 += c;
                    totals.1 += b;
                }
            }
            Ok(totals)
        })
        .await?;
    Ok(success(StorageTotals {
        total_count: count,
        total_storage: human_bytes(bytes),
    }))
}

/// The `result` of show_storage; /openapi.json describes it from this type.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StorageTotals {
    total_count: i64,
    /// Human-readable, e.g. `2.00 KB`.
    total_storage: String,
}

/// A day given as `yyyy-MM-dd` or as epoch milliseconds, in the display offset.
fn parse_day(name: &str, raw: &str, offset: FixedOffset) -> ApiResult<NaiveDate> {
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(day);
    }
    raw.parse::<i64>()
        .ok()
        .and_then(|ms| offset.timestamp_millis_opt(ms).single())
        .map(|t| t.date_naive())
        .ok_or_else(|| ApiError::invalid(name, "must be a date yyyy-MM-dd or epoch milliseconds"))
}

/// `GET /cloudartifact/v5/{tenant_id}/{project_id}/storageinfo/statistic` (list_artifactory_storage_statistic):
/// one row per day from `start_time` to `end_time` (default: the last 7 days) with the files of `repo`
/// that were live at the end of that day. Files deleted for good leave no history (decision).
pub async fn storage_statistic(
    State(state): State<AppState>,
    principal: Principal,
    Path((tenant_id, project_id)): Path<(String, String)>,
    _headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    require_tenant(&principal, &tenant_id)?;
    if !is_alnum32(&project_id) {
        return Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        ));
    }
    let key = query
        .filter("repo", 64)?
        .ok_or_else(|| ApiError::invalid("repo", "is required: a repository id or name"))?;
    query.string("instance_id", 64)?;
    let offset = FixedOffset::east_opt(state.config.display_offset_minutes * 60)
        .expect("offset validated by config");
    let today = offset
        .timestamp_millis_opt(crate::store::now_ms())
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let end = match query.filter("end_time", 32)? {
        Some(raw) => parse_day("end_time", &raw, offset)?,
        None => today,
    };
    let start = match query.filter("start_time", 32)? {
        Some(raw) => parse_day("start_time", &raw, offset)?,
        None => end - Duration::days(6),
    };
    if start > end {
        return Err(ApiError::invalid(
            "start_time",
            "must not be after end_time",
        ));
    }
    if (end - start).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid(
            "end_time",
            format!("must be within {MAX_DAYS} days of start_time"),
        ));
    }
    let (repo, access) = repo_with_access(&state, &principal, &key).await?;
    if repo.project_id != project_id {
        return Err(ApiError::not_found(format!(
            "No repository {key} in project {project_id}"
        )));
    }
    if !access.can_read(&repo) {
        return Err(ApiError::forbidden(format!(
            "download is not allowed on /{}",
            repo.name
        )));
    }
    let repo_id = repo.id.clone();
    let mut history = state
        .db
        .call(move |conn| repos::file_history(conn, &[repo_id]))
        .await?;
    if let Some(prefix) = access.figures_prefix(&repo) {
        history.retain(|(_, _, _, path)| path.starts_with(&prefix));
    }
    let mut rows = Vec::new();
    let mut day = start;
    while day <= end {
        let end_of_day = offset
            .from_local_datetime(
                &(day + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight"),
            )
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or(i64::MAX);
        let live: Vec<_> = history
            .iter()
            .filter(|(created, deleted, _, _)| {
                *created < end_of_day && deleted.is_none_or(|d| d >= end_of_day)
            })
            .collect();
        let bytes: i64 = live.iter().map(|(_, _, size, _)| size).sum();
        let folders: BTreeSet<&str> = live
            .iter()
            .flat_map(|(_, _, _, path)| path.match_indices('/').map(move |(i, _)| &path[..i]))
            .collect();
        rows.push(json!({
            "filesCount": live.len(),
            "usedSpaceLength": bytes,
            "usedSpace": human_bytes(bytes),
            "summaryDate": day.format("%Y-%m-%d").to_string(),
            "foldersCount": folders.len(),
            "itemsCount": live.len() + folders.len(),
        }));
        day += Duration::days(1);
    }
    Ok(success(rows))
}

/// The largest live files the caller may download, largest first, at most `limit`, optionally of one
/// project (the console's storage page; no API operation lists them). Path grants can hide some of the largest files from the caller, so
/// the query looks at a wider window than it answers.
pub async fn largest_files(
    state: &AppState,
    principal: &Principal,
    project: Option<String>,
    limit: usize,
) -> ApiResult<Vec<(Repository, FileEntry)>> {
    let principal = principal.clone();
    Ok(state
        .db
        .call(move |conn| {
            let all = repos::domain_repos(conn, &principal.domain_id)?;
            let access =
                CallerAccess::load(conn, &principal, all.iter().map(|r| r.project_id.as_str()))?;
            let readable: HashMap<String, Repository> = all
                .into_iter()
                .filter(|r| r.status == STATUS_ACTIVE && access.can_read(r))
                .filter(|r| project.as_ref().is_none_or(|p| *p == r.project_id))
                .map(|r| (r.id.clone(), r))
                .collect();
            let ids: Vec<String> = readable.keys().cloned().collect();
            let window = (limit as i64 * 20).max(200);
            Ok(repos::largest_live_files(conn, &ids, window)?
                .into_iter()
                .filter_map(|f| {
                    let repo = readable.get(&f.repo_id)?;
                    let visible =
                        repo.allow_anonymous || access.allows(repo, Operation::Download, &f.path);
                    visible.then(|| (repo.clone(), f))
                })
                .take(limit)
                .collect())
        })
        .await?)
}
