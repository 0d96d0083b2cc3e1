//! Counts and sizes of release repositories: the newest version of each file, release versions, a
//! project's and the account's storage, and the "package" (plan) figures CodeArts answers, which for a
//! self-hosted server are the configured capacity and what is stored.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Value};

use super::{check_project_id, offset_limit, project_access};
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::artifact::repositories::human_bytes;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::service::release::{self as rules, ReleaseAccess};
use crate::store::projects::Project;
use crate::store::release::{self, ReleaseFile};

/// A project's versions the caller may download (live and binned), with the project; 403 when the
/// caller may read nothing of its release repository.
async fn readable(
    state: &AppState,
    principal: &Principal,
    project_id: String,
) -> ApiResult<(Project, ReleaseAccess, Vec<ReleaseFile>)> {
    check_project_id("project_id", &project_id)?;
    let principal = principal.clone();
    state
        .db
        .call(move |conn| {
            let (project, access) = match project_access(conn, &principal, &project_id)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            if !access.may_somewhere(Operation::Download) {
                return Ok(Err(ApiError::forbidden(format!(
                    "download is not allowed on {}",
                    rules::object_path("")
                ))));
            }
            let versions: Vec<ReleaseFile> = release::of_project(conn, &project.id)?
                .into_iter()
                .filter(|v| access.allows(Operation::Download, &v.path))
                .collect();
            Ok(Ok((project, access, versions)))
        })
        .await?
}

fn newest_matching<'a>(versions: &'a [ReleaseFile], name: &Option<String>) -> Vec<&'a ReleaseFile> {
    let name = name.as_ref().map(|n| n.to_lowercase());
    rules::latest(versions, |v| {
        v.is_live()
            && name
                .as_ref()
                .is_none_or(|n| v.name().to_lowercase().contains(n))
    })
}

/// `GET /devreposerver/v5/{project_id}/files/version` (list_latest_version_files): the newest live
/// version of each file (`VersionViewVoV5`), `name` a part of the file name; sorted by upload time
/// (`sort_by` `modified_time`, `sort_dir` `desc` by default); `offset`/`limit`.
pub async fn latest_versions(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let name = query.filter("name", 200)?;
    query.one_of("sort_by", &["modified_time"])?;
    let ascending = query.one_of("sort_dir", &["asc", "desc"])?.as_deref() == Some("asc");
    let (offset, limit) = offset_limit(&query)?;
    let (_, _, versions) = readable(&state, &principal, project_id).await?;
    let mut newest = newest_matching(&versions, &name);
    newest.sort_by_key(|v| (v.created_at, v.id.clone()));
    if !ascending {
        newest.reverse();
    }
    let rows: Vec<Value> = newest
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|v| {
            json!({
                "id": v.id,
                "project_id": v.project_id,
                "file_id": v.file_id,
                "name": v.name(),
                "path": format!("/{}", v.path),
                "version": v.version,
            })
        })
        .collect();
    Ok(success(rows))
}

/// `GET /devreposerver/v5/{project_id}/files/version/count` (show_latest_version_files_count).
pub async fn latest_versions_count(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let name = query.filter("name", 200)?;
    let (_, _, versions) = readable(&state, &principal, project_id).await?;
    Ok(success(
        json!({"count": newest_matching(&versions, &name).len()}),
    ))
}

/// Release versions (the `release_version` uploads declared), newest first, each with the number of
/// files (distinct full names) that have a live version in it.
fn release_versions(versions: &[ReleaseFile], search: &Option<String>) -> Vec<Value> {
    let search = search.as_ref().map(|s| s.to_lowercase());
    // name -> (newest upload, paths, every version prod)
    let mut by_version: Vec<(String, i64, Vec<&str>, bool)> = Vec::new();
    for v in versions.iter().filter(|v| v.is_live()) {
        let name = &v.provenance.release_version;
        if name.is_empty()
            || search
                .as_ref()
                .is_some_and(|s| !name.to_lowercase().contains(s))
        {
            continue;
        }
        let prod = v.category == "prod";
        match by_version.iter_mut().find(|(n, ..)| n == name) {
            Some(entry) => {
                entry.1 = entry.1.max(v.created_at);
                if !entry.2.contains(&v.path.as_str()) {
                    entry.2.push(&v.path);
                }
                entry.3 &= prod;
            }
            None => by_version.push((name.clone(), v.created_at, vec![&v.path], prod)),
        }
    }
    by_version.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    by_version
        .into_iter()
        .map(|(name, _, paths, prod)| {
            json!({
                "category": if prod { "prod" } else { "test" },
                "build_version": name,
                "files_count": paths.len(),
            })
        })
        .collect()
}

/// `GET /v5/{project_id}/versions` (show_version_list): `VersionListViewV5` per release version; a
/// version is `prod` when every live file in it is; `build_version` a part of the name; `offset`/`limit`.
pub async fn version_list(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let search = query.filter("build_version", 128)?;
    let (offset, limit) = offset_limit(&query)?;
    let (_, _, versions) = readable(&state, &principal, project_id).await?;
    let rows: Vec<Value> = release_versions(&versions, &search)
        .into_iter()
        .skip(offset)
        .take(limit)
        .collect();
    Ok(success(rows))
}

/// `GET /v5/{project_id}/versions/count` (show_project_versions_count).
pub async fn versions_count(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let search = query.filter("build_version", 128)?;
    let (_, _, versions) = readable(&state, &principal, project_id).await?;
    Ok(success(
        json!({"count": release_versions(&versions, &search).len()}),
    ))
}

/// `GET /v2/{project_id}/release/files` (show_project_release_files) and its older path
/// `/devreposerver/v2/release/{project_id}/files` (show_release_project_files): every live version
/// (`ReleaseFileVersionDo`: `version` the version number, `path`, `download_url`), `file_name` a part of
/// the name, newest first. The SDK model has no status or trace id here, only `result`.
pub async fn project_release_files(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let name = query.filter("file_name", 200)?.map(|n| n.to_lowercase());
    let (offset, limit) = offset_limit(&query)?;
    let (_, _, versions) = readable(&state, &principal, project_id).await?;
    let base = super::base_url(&state, &headers);
    let mut live: Vec<&ReleaseFile> = versions
        .iter()
        .filter(|v| v.is_live())
        .filter(|v| {
            name.as_ref()
                .is_none_or(|n| v.name().to_lowercase().contains(n))
        })
        .collect();
    live.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| a.path.cmp(&b.path))
    });
    let total = live.len();
    let data: Vec<Value> = live
        .into_iter()
        .skip(offset)
        .take(limit)
        .map(|v| {
            json!({
                "version": v.version.to_string(),
                "path": format!("/{}", v.path),
                "download_url": super::download_urls(&base, v).0,
            })
        })
        .collect();
    Ok(Json(json!({"result": {
        "data": data,
        "total_records": total,
        "total_pages": super::total_pages(total, limit),
    }})))
}

/// `GET /devreposerver/v5/{project_id}/storage` (show_project_storage_info): bytes and versions stored
/// in a project's release repository (the bin included, as its bytes are kept), or below the folder
/// `parent_id`.
pub async fn project_storage(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let parent = query.filter("parent_id", 32)?.filter(|p| p != "0");
    let project = project_id.clone();
    let (_, _, versions) = readable(&state, &principal, project_id).await?;
    let dir = match parent {
        Some(parent) if parent == project => String::new(),
        Some(parent) => {
            check_project_id("parent_id", &parent)?;
            let domain_id = principal.domain_id.clone();
            let found = state
                .db
                .call(move |conn| release::folder(conn, &domain_id, &parent))
                .await?;
            match found {
                Some((p, path)) if p == project => path,
                _ => return Err(ApiError::not_found("No such folder in the project")),
            }
        }
        None => String::new(),
    };
    let (count, bytes) = versions
        .iter()
        .filter(|v| rules::is_under(&dir, &v.path))
        .fold((0i64, 0i64), |(c, b), v| (c + 1, b + v.size));
    Ok(success(json!({
        "used_space_length": bytes,
        "used_space": human_bytes(bytes),
        "files_count": count,
    })))
}

/// The account's stored bytes and versions, its capacity and its number of projects.
async fn account_figures(
    state: &AppState,
    principal: &Principal,
) -> ApiResult<(i64, i64, i64, i64)> {
    let domain_id = principal.domain_id.clone();
    Ok(state
        .db
        .call(move |conn| {
            let (count, used) = release::domain_usage(conn, &domain_id)?;
            let total = super::capacity::total_of(conn, &domain_id)?;
            let (projects, _) =
                crate::store::projects::list_projects(conn, &domain_id, None, None, 0, 1)?;
            Ok((count, used, total, projects))
        })
        .await?)
}

/// Versions and bytes of the project `project_id` names (one the caller may read something of), or
/// `None` without one.
async fn project_usage(
    state: &AppState,
    principal: &Principal,
    query: &QueryParams,
) -> ApiResult<Option<(i64, i64)>> {
    let Some(project_id) = query.filter("project_id", 32)? else {
        return Ok(None);
    };
    let (_, _, versions) = readable(state, principal, project_id).await?;
    Ok(Some((
        versions.len() as i64,
        versions.iter().map(|v| v.size).sum(),
    )))
}

fn percent(used: i64, total: i64) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    ((used as f64) * 10_000.0 / (total as f64)).round() / 100.0
}

/// `GET /devreposerver/v5/storage` (show_domain_release_repo_storage): `ReleaseStorageVOV5`.
/// `package_type` 0: a self-hosted server has no CodeArts plan; `total_count` is the account's projects,
/// each of which has its release repository.
pub async fn domain_storage(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    let (_, used, total, projects) = account_figures(&state, &principal).await?;
    Ok(success(json!({
        "used_capacity": human_bytes(used),
        "total_capacity": human_bytes(total),
        "used_capacity_size": used,
        "total_capacity_size": total,
        "package_type": "0",
        "total_count": projects,
    })))
}

/// `GET /devreposerver/v5/data/package` (show_package_data_detail): the plan figures CodeArts answers,
/// from the configured capacity and what is stored (in the account, or in the project `project_id`).
/// Download traffic is not metered (0).
pub async fn package_detail(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let of_project = project_usage(&state, &principal, &query).await?;
    let (_, used, total, _) = account_figures(&state, &principal).await?;
    let used = of_project.map_or(used, |p| p.1);
    let domain_id = principal.domain_id.clone();
    let over = state
        .db
        .call(move |conn| crate::store::release_settings::get_capacity(conn, &domain_id))
        .await?
        .is_some_and(|c| c.above);
    Ok(success(json!({
        "needNotice": over,
        "crossTenant": false,
        "packageType": 0,
        "packageStatus": 1,
        "totalStorage": human_bytes(total),
        "totalDownloadTraffic": "0 B",
        "usedStorage": human_bytes(used),
        "monthUsedTraffic": "0 B",
        "storagePercent": percent(used, total),
        "trafficPercent": 0,
        "packageDetail": 0,
        "maxRepoNum": "Infinity",
    })))
}

/// `GET /devreposerver/v5/data/package/info` (show_package_info): the plan's state and its resources.
/// A self-hosted server's plan never expires (`remainingDays` null); storage is the configured capacity,
/// used by the account or by the project `project_id`.
pub async fn package_info(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let of_project = project_usage(&state, &principal, &query).await?;
    let (count, used, total, _) = account_figures(&state, &principal).await?;
    let (count, used) = of_project.unwrap_or((count, used));
    Ok(success(json!({
        "packageType": 0,
        "packageStatus": 1,
        "remainingDays": null,
        "resources": [
            {"resourceType": "storage", "total": total, "used": used, "totalDisplay": human_bytes(total), "usedDisplay": human_bytes(used), "files": count},
            {"resourceType": "downloadTraffic", "total": 0, "used": 0, "totalDisplay": "0 B", "usedDisplay": "0 B"},
        ],
    })))
}
