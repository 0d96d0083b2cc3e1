//! Files of release repositories on the management API: listing and searching (list_files), details
//! (show_file_detail, show_file_detail_by_full_name) and build provenance (list_file_build_archives);
//! the recycle bin is bin.rs'.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    base_url, check_project_id, file_view, folder_view, page, parent_id, project_access,
    total_pages,
};
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::service::release::{self as rules, ReleaseAccess, CATEGORIES};
use crate::store::projects::{self, Project};
use crate::store::release::{self, ReleaseFile};
use crate::store::{Conn, StoreResult};

/// The SDK's `RepoFileQueryDTOV5`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileQuery {
    page_no: Option<i64>,
    page_size: Option<i64>,
    parent_id: Option<String>,
    project_id: Option<String>,
    search_name: Option<String>,
    search_type: Option<String>,
    extension: Option<String>,
    order_by: Option<String>,
    sort: Option<String>,
    status: Option<String>,
    category: Option<String>,
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

fn one_of<'a>(name: &str, v: &'a Option<String>, allowed: &[&str]) -> ApiResult<Option<&'a str>> {
    match nonempty(v) {
        Some(s) if !allowed.contains(&s) => Err(ApiError::invalid(
            name,
            format!("must be one of {}", allowed.join(", ")),
        )),
        other => Ok(other),
    }
}

fn bounded<'a>(name: &str, v: &'a Option<String>, max: usize) -> ApiResult<Option<&'a str>> {
    match nonempty(v) {
        Some(s) if s.chars().count() > max => Err(ApiError::invalid(
            name,
            format!("must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

/// One row of a listing, with what it sorts by.
struct Listed {
    view: Value,
    name: String,
    size: i64,
    created: i64,
}

/// `POST /devreposerver/v5/files/list` (list_files). Without `project_id` and `parent_id`: the projects
/// whose release repository the caller may read, as folders. With a project (or a `parent_id` naming a
/// project or folder): that folder's subfolders and the newest version of each file in it, or with
/// `search_name` every file below it whose name contains the text. `status` `normal` (default) lists
/// live files, `deleted` the recycle bin; `search_type` `file`/`folder`; `order_by` `name`, `size` or
/// `created_time` with `sort` `asc`/`desc`.
pub async fn list_files(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(q): JsonBody<FileQuery>,
) -> ApiResult<Json<Value>> {
    let page_no = q.page_no.unwrap_or(1);
    if !(1..=2_147_483_647).contains(&page_no) {
        return Err(ApiError::invalid(
            "page_no",
            "must be an integer from 1 to 2147483647",
        ));
    }
    let page_size = q.page_size.unwrap_or(10);
    if !(1..=100).contains(&page_size) {
        return Err(ApiError::invalid(
            "page_size",
            "must be an integer from 1 to 100",
        ));
    }
    if let Some(p) = nonempty(&q.project_id) {
        check_project_id("project_id", p)?;
    }
    if let Some(p) = nonempty(&q.parent_id).filter(|p| *p != "0") {
        check_project_id("parent_id", p)?;
    }
    let search = bounded("search_name", &q.search_name, 200)?.map(str::to_lowercase);
    let kind = one_of("search_type", &q.search_type, &["file", "folder"])?.map(str::to_string);
    let extension =
        bounded("extension", &q.extension, 32)?.map(|e| e.trim_start_matches('.').to_lowercase());
    let order_by = one_of("order_by", &q.order_by, &["name", "size", "created_time"])?
        .unwrap_or("name")
        .to_string();
    let descending = one_of("sort", &q.sort, &["asc", "desc"])? == Some("desc");
    let binned = one_of("status", &q.status, &["normal", "deleted"])? == Some("deleted");
    let category = one_of("category", &q.category, &CATEGORIES)?.map(str::to_string);
    let base = base_url(&state, &headers);
    let offset_minutes = state.config.display_offset_minutes;
    let (project_id, parent) = (
        nonempty(&q.project_id).map(str::to_string),
        nonempty(&q.parent_id)
            .filter(|p| *p != "0")
            .map(str::to_string),
    );
    let rows = state
        .db
        .call(move |conn| {
            // Where the listing starts: a project's folder, or the account's projects.
            let start = match (&parent, &project_id) {
                (Some(parent), _) => match release::folder(conn, &principal.domain_id, parent)? {
                    Some((project, path)) => Some((project, path)),
                    None => Some((parent.clone(), String::new())),
                },
                (None, Some(project)) => Some((project.clone(), String::new())),
                (None, None) => None,
            };
            let Some((project_id, dir)) = start else {
                return Ok(Ok(list_projects(conn, &principal)?));
            };
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
            let versions = release::of_project(conn, &project.id)?;
            let folders = release::folders_of_project(conn, &project.id)?;
            let readable = |v: &ReleaseFile| access.allows(Operation::Download, &v.path);
            let files: Vec<&ReleaseFile> = if binned {
                versions
                    .iter()
                    .filter(|v| !v.is_live() && readable(v))
                    .collect()
            } else {
                rules::latest(&versions, |v| v.is_live() && readable(v))
            };
            let mut rows = Vec::new();
            let wanted = |name: &str| {
                search
                    .as_ref()
                    .is_none_or(|s| name.to_lowercase().contains(s))
            };
            if kind.as_deref() != Some("file") && !binned {
                for (id, path, created) in &folders {
                    let placed = if search.is_some() {
                        rules::is_under(&dir, path)
                    } else {
                        rules::is_child(&dir, path)
                    };
                    let name = path.rsplit('/').next().unwrap_or(path);
                    if !placed || !wanted(name) || extension.is_some() || category.is_some() {
                        continue;
                    }
                    // What the folder holds: every live version below it, as a project's size.
                    let size = versions
                        .iter()
                        .filter(|v| v.is_live() && readable(v) && rules::is_under(path, &v.path))
                        .map(|v| v.size)
                        .sum();
                    rows.push(Listed {
                        view: folder_view(
                            id,
                            &project.id,
                            &project.name,
                            &parent_id(&project.id, &folders, path),
                            path,
                            size,
                        ),
                        name: name.to_string(),
                        size,
                        created: *created,
                    });
                }
            }
            if kind.as_deref() != Some("folder") {
                for f in files {
                    let placed = if search.is_some() || binned {
                        rules::is_under(&dir, &f.path)
                    } else {
                        rules::is_child(&dir, &f.path)
                    };
                    let ext = f.name().rsplit_once('.').map(|(_, e)| e.to_lowercase());
                    if !placed
                        || !wanted(f.name())
                        || extension.as_ref().is_some_and(|e| ext.as_ref() != Some(e))
                        || category.as_ref().is_some_and(|c| &f.category != c)
                    {
                        continue;
                    }
                    rows.push(Listed {
                        view: file_view(
                            f,
                            &project.name,
                            &parent_id(&project.id, &folders, &f.path),
                            &base,
                            offset_minutes,
                        ),
                        name: f.name().to_string(),
                        size: f.size,
                        created: f.created_at,
                    });
                }
            }
            Ok(Ok(rows))
        })
        .await??;
    let mut rows = rows;
    rows.sort_by(|a, b| {
        let order = match order_by.as_str() {
            "size" => a.size.cmp(&b.size),
            "created_time" => a.created.cmp(&b.created),
            _ => a.name.cmp(&b.name),
        };
        if descending {
            order.reverse()
        } else {
            order
        }
    });
    let total = rows.len();
    let (skip, take) = page(page_no, page_size);
    let data: Vec<Value> = rows
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|r| r.view)
        .collect();
    Ok(success(json!({
        "total_records": total,
        "total_pages": total_pages(total, page_size as usize),
        "data": data,
    })))
}

/// The account's projects whose release repository the caller may read something of, as folders.
fn list_projects(conn: &Conn, principal: &Principal) -> StoreResult<Vec<Listed>> {
    let (_, all) = projects::list_projects(conn, &principal.domain_id, None, None, 0, i64::MAX)?;
    let sizes: HashMap<String, i64> = release::live_bytes_by_project(conn, &principal.domain_id)?
        .into_iter()
        .collect();
    let mut rows = Vec::new();
    for project in all {
        let Ok((_, access)) = project_access(conn, principal, &project.id)? else {
            continue;
        };
        if !access.may_somewhere(Operation::Download) {
            continue;
        }
        let size = sizes.get(&project.id).copied().unwrap_or(0);
        rows.push(Listed {
            view: folder_view(&project.id, &project.id, &project.name, "0", "", size),
            name: project.name.clone(),
            size,
            created: project.created_at,
        });
    }
    Ok(rows)
}

/// A version with its project and the project's folders.
type Located = (ReleaseFile, Project, Vec<(String, String, i64)>);

/// A live version of the account by id the caller may download, with its project and folders.
fn readable_version(
    conn: &Conn,
    principal: &Principal,
    found: Option<ReleaseFile>,
    what: &str,
) -> StoreResult<Result<Located, ApiError>> {
    let Some(file) = found.filter(ReleaseFile::is_live) else {
        return Ok(Err(ApiError::not_found(format!("No release file {what}"))));
    };
    let (project, access) = match project_access(conn, principal, &file.project_id)? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    if !access.allows(Operation::Download, &file.path) {
        return Ok(Err(ApiError::forbidden(format!(
            "download is not allowed on {}",
            rules::object_path(&file.path)
        ))));
    }
    let folders = release::folders_of_project(conn, &project.id)?;
    Ok(Ok((file, project, folders)))
}

/// `GET /devreposerver/v5/files/{id}/info` (show_file_detail): a live version by its id.
pub async fn detail(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    check_project_id("id", &id)?;
    let found = state
        .db
        .call(move |conn| {
            let found = release::get(conn, &principal.domain_id, &id)?;
            readable_version(conn, &principal, found, &id)
        })
        .await??;
    Ok(success(view_of(&state, &headers, found)))
}

fn view_of(state: &AppState, headers: &HeaderMap, (file, project, folders): Located) -> Value {
    file_view(
        &file,
        &project.name,
        &parent_id(&project.id, &folders, &file.path),
        &base_url(state, headers),
        state.config.display_offset_minutes,
    )
}

/// `GET /devreposerver/v5/files/info?file_name=/{project_id}/{path}` (show_file_detail_by_full_name):
/// the newest live version of a full name (`full_path` of `RepoFileDOV5`; the leading `/` optional).
pub async fn detail_by_full_name(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let full = query
        .filter("file_name", 2048)?
        .ok_or_else(|| ApiError::invalid("file_name", "is required"))?;
    let (project_id, path) = full
        .trim_start_matches('/')
        .split_once('/')
        .map(|(p, rest)| (p.to_string(), rest.to_string()))
        .ok_or_else(|| ApiError::invalid("file_name", "must be /{project_id}/{path}"))?;
    if !crate::domain::is_alnum32(&project_id) {
        return Err(ApiError::invalid(
            "file_name",
            "must start with a project id",
        ));
    }
    let found = state
        .db
        .call(move |conn| {
            if projects::get_project(conn, &principal.domain_id, &project_id)?.is_none() {
                return Ok(Err(super::no_project(&project_id)));
            }
            let versions = release::of_project(conn, &project_id)?;
            let newest = versions
                .into_iter()
                .filter(|v| v.path == path && v.is_live())
                .max_by_key(|v| v.version);
            readable_version(conn, &principal, newest, &path)
        })
        .await??;
    Ok(success(view_of(&state, &headers, found)))
}

/// `GET /devreposerver/v5/files/archives` (list_file_build_archives): live versions uploaded with a
/// build id or number, newest first, filtered by `build_id`, `build_no`, `repo_branch` and `parent_id`
/// (a project or a folder: the versions below it); `page_no`/`page_size`.
pub async fn build_archives(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let parent = query.filter("parent_id", 32)?.filter(|p| p != "0");
    if let Some(p) = &parent {
        check_project_id("parent_id", p)?;
    }
    let build_id = query.filter("build_id", 64)?;
    let build_no = query.filter("build_no", 64)?;
    let branch = query.filter("repo_branch", 256)?;
    let page_no = query.int("page_no", 1..=1_000_000, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let base = base_url(&state, &headers);
    let (offset_minutes, region) = (
        state.config.display_offset_minutes,
        state.config.region.clone(),
    );
    let rows = state
        .db
        .call(move |conn| {
            let within = match &parent {
                Some(parent) => Some(match release::folder(conn, &principal.domain_id, parent)? {
                    Some(found) => found,
                    None => {
                        if projects::get_project(conn, &principal.domain_id, parent)?.is_none() {
                            return Ok(Err(ApiError::not_found(format!(
                                "No folder or project {parent}"
                            ))));
                        }
                        (parent.clone(), String::new())
                    }
                }),
                None => None,
            };
            let mut access: HashMap<String, Option<(Project, ReleaseAccess)>> = HashMap::new();
            let mut rows = Vec::new();
            for v in release::of_domain(conn, &principal.domain_id)? {
                let p = &v.provenance;
                if !v.is_live() || (p.build_id.is_empty() && p.build_no.is_empty()) {
                    continue;
                }
                if build_id.as_ref().is_some_and(|b| &p.build_id != b)
                    || build_no.as_ref().is_some_and(|b| &p.build_no != b)
                    || branch.as_ref().is_some_and(|b| &p.repo_branch != b)
                    || within.as_ref().is_some_and(|(project, dir)| {
                        &v.project_id != project || !rules::is_under(dir, &v.path)
                    })
                {
                    continue;
                }
                if !access.contains_key(&v.project_id) {
                    let loaded = project_access(conn, &principal, &v.project_id)?.ok();
                    access.insert(v.project_id.clone(), loaded);
                }
                let Some(Some((project, a))) = access.get(&v.project_id) else {
                    continue;
                };
                if a.allows(Operation::Download, &v.path) {
                    rows.push(archive_view(&v, project, &base, &region, offset_minutes));
                }
            }
            Ok(Ok(rows))
        })
        .await??;
    let mut rows = rows;
    rows.sort_by(|a, b| b.0.cmp(&a.0));
    let total = rows.len();
    let (skip, take) = page(page_no, page_size);
    let data: Vec<Value> = rows
        .into_iter()
        .skip(skip)
        .take(take)
        .map(|r| r.1)
        .collect();
    Ok(success(json!({
        "total_records": total,
        "total_pages": total_pages(total, page_size as usize),
        "data": data,
    })))
}

/// A build archive as CodeArts' example shows it (camelCase), keyed by upload time.
fn archive_view(
    v: &ReleaseFile,
    project: &Project,
    base: &str,
    region: &str,
    offset_minutes: i32,
) -> ((i64, String), Value) {
    let p = &v.provenance;
    let (by_name, by_id) = super::download_urls(base, v);
    (
        (v.created_at, v.id.clone()),
        json!({
            "id": v.id,
            "fileId": v.file_id,
            "domainId": v.domain_id,
            "region": region,
            "createdTime": super::display_time(v.created_at, offset_minutes),
            "createdUserId": v.created_by,
            "createdUserName": v.created_by_name,
            "buildId": p.build_id,
            "buildName": p.build_name,
            "buildNo": p.build_no,
            "buildVersion": p.release_version,
            "buildUrl": p.build_url,
            "repoUrl": p.repo_url,
            "repoBranch": p.repo_branch,
            "commitId": p.commit_id,
            "projectId": v.project_id,
            "projectName": project.name,
            "fileName": v.name(),
            "path": format!("/{}", v.path),
            "version": v.version,
            "size": v.size,
            "md5": v.md5,
            "sha256": v.sha256,
            "category": v.category,
            "downloadUrl": by_name,
            "downloadUrlWithId": by_id,
        }),
    )
}
