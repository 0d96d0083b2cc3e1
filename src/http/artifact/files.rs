//! Files of repositories through the management API: the file tree, a file's details, and searches by
//! name and by checksum.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::{object_path, repo_with_access, CallerAccess};
use super::repositories::{require_tenant, ViewContext, MAVEN_FORMAT, OTHER_FORMATS};
use crate::auth::Principal;
use crate::domain::artifact_path::ArtifactPath;
use crate::domain::is_alnum32;
use crate::domain::operation::Operation;
use crate::formats::listing::{self, FileFact};
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::repos::{self, ChecksumKind, FileEntry, Repository, STATUS_ACTIVE};

fn project_matches(repo: &Repository, project_id: &str) -> ApiResult<()> {
    if !is_alnum32(project_id) {
        return Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        ));
    }
    if repo.project_id != project_id {
        return Err(ApiError::not_found(format!(
            "No repository {} in project {project_id}",
            repo.name
        )));
    }
    Ok(())
}

fn query_path(query: &QueryParams) -> ApiResult<ArtifactPath> {
    let raw = query.string("path", 2048)?.unwrap_or_default();
    ArtifactPath::parse_plain(&raw).map_err(|e| ApiError::invalid("path", e.to_string()))
}

/// `GET /cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-tree` (show_file_tree): the children
/// of a directory, live or (`is_recycle_bin=true`) in the recycle bin.
pub async fn file_tree(
    State(state): State<AppState>,
    principal: Principal,
    Path((tenant_id, project_id, key)): Path<(String, String, String)>,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    require_tenant(&principal, &tenant_id)?;
    let path = query_path(&query)?;
    query.string("instance_id", 64)?;
    let recycle_bin = query.bool("is_recycle_bin", false)?;
    let (repo, access) = repo_with_access(&state, &principal, &key).await?;
    project_matches(&repo, &project_id)?;
    let rel = path.as_str().to_string();
    if !access.allows(&repo, Operation::Download, &rel) && !access.can_read(&repo) {
        return Err(ApiError::forbidden(format!(
            "download is not allowed on {}",
            object_path(&repo, &rel)
        )));
    }
    if !recycle_bin && repo.status != STATUS_ACTIVE {
        return Err(ApiError::not_found(format!(
            "Repository {key} is in the recycle bin"
        )));
    }
    let prefix = path.dir_prefix();
    let (repo_id, domain_id) = (repo.id.clone(), principal.domain_id.clone());
    let config = state.config.clone();
    let is_virtual = repo.repo_type == crate::service::repo_kinds::VIRTUAL;
    let (user_id, is_root) = (principal.user_id.clone(), principal.is_root);
    let (files, ctx) = state
        .db
        .call(move |conn| {
            let files: Vec<FileEntry> = if recycle_bin {
                repos::trashed_files(conn, &repo_id)?
                    .into_iter()
                    .filter(|f| f.path.starts_with(&prefix))
                    .collect()
            } else if is_virtual {
                virtual_files_under(conn, &repo_id, &prefix, &user_id, is_root)?
            } else {
                repos::live_files_under(conn, &repo_id, &prefix)?
            };
            let mut ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            ctx.learn_names(conn, files.iter().map(|f| f.modified_by.as_str()))?;
            Ok((files, ctx))
        })
        .await?;
    let prefix = path.dir_prefix();
    // Only what the caller may read is shown: a grant on /repo/com/acme/* shows just that subtree.
    let visible: Vec<&FileEntry> = files
        .iter()
        .filter(|f| access.allows(&repo, Operation::Download, &f.path))
        .collect();
    if visible.is_empty() && !path.is_root() {
        return Err(ApiError::not_found(format!(
            "No directory {}",
            object_path(&repo, &rel)
        )));
    }
    let facts = visible.iter().map(|f| FileFact {
        relative_path: &f.path[prefix.len()..],
        size: f.size,
        sha256: &f.sha256,
        modified_at: f.modified_at,
    });
    let children = listing::children(facts);
    let base_uri = object_path(&repo, &rel);
    let view: Vec<Value> = children
        .iter()
        .map(|c| {
            let child_rel = format!("{prefix}{}", c.name);
            let newest = visible
                .iter()
                .filter(|f| f.path == child_rel || f.path.starts_with(&format!("{child_rel}/")))
                .max_by_key(|f| f.modified_at);
            json!({
                "name": c.name,
                "uri": object_path(&repo, &child_rel),
                "path": child_rel,
                "modified": newest.map(|f| ctx.time(f.modified_at)).unwrap_or_default(),
                "folder": c.folder,
                "modified_by": newest.map(|f| ctx.name_of(&f.modified_by)).unwrap_or_default(),
                "has_child": c.folder,
            })
        })
        .collect();
    let created = visible.iter().map(|f| f.created_at).min();
    Ok(success(json!({
        "uploadAccess": access.allows(&repo, Operation::Upload, &rel).to_string(),
        "total": view.len().to_string(),
        "uri": base_uri,
        "created": created.map(|t| ctx.time(t)).unwrap_or_else(|| ctx.time(repo.created_at)),
        "children": view,
    })))
}

/// What a virtual repository shows under `prefix`: its members' files in member order, a path two members
/// hold being the first one's, and only files of members the user may download from (as its package URLs
/// serve them; a ticket's scope was checked on the virtual repository).
fn virtual_files_under(
    conn: &crate::store::Conn,
    virtual_id: &str,
    prefix: &str,
    user_id: &str,
    is_root: bool,
) -> crate::store::StoreResult<Vec<FileEntry>> {
    let (_, members) = crate::store::remote::virtual_with_members(conn, virtual_id)?;
    let access = CallerAccess::load_for_user(
        conn,
        user_id,
        is_root,
        members.iter().map(|m| m.project_id.as_str()),
    )?;
    let mut seen = std::collections::HashSet::new();
    let mut files = Vec::new();
    for member in &members {
        for file in repos::live_files_under(conn, &member.id, prefix)? {
            let readable =
                member.allow_anonymous || access.allows(member, Operation::Download, &file.path);
            if readable && seen.insert(file.path.clone()) {
                files.push(file);
            }
        }
    }
    Ok(files)
}

/// `GET /cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-detail` (list_artifactory_component):
/// a file's facts and digests, or a directory's totals.
pub async fn file_detail(
    State(state): State<AppState>,
    principal: Principal,
    Path((tenant_id, project_id, key)): Path<(String, String, String)>,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    require_tenant(&principal, &tenant_id)?;
    let path = query_path(&query)?;
    query.string("instance_id", 64)?;
    let format = query.filter("format", 32)?;
    let (repo, access) = repo_with_access(&state, &principal, &key).await?;
    project_matches(&repo, &project_id)?;
    if format.as_deref().is_some_and(|f| f != repo.format) {
        return Err(ApiError::invalid(
            "format",
            "is not the repository's format",
        ));
    }
    if repo.status != STATUS_ACTIVE {
        return Err(ApiError::not_found(format!(
            "Repository {key} is in the recycle bin"
        )));
    }
    let rel = path.as_str().to_string();
    if !access.allows(&repo, Operation::Download, &rel) {
        return Err(ApiError::forbidden(format!(
            "download is not allowed on {}",
            object_path(&repo, &rel)
        )));
    }
    let (repo_id, domain_id, lookup) = (repo.id.clone(), principal.domain_id.clone(), rel.clone());
    let config = state.config.clone();
    let (file, under, ctx) = state
        .db
        .call(move |conn| {
            let file = if lookup.is_empty() {
                None
            } else {
                repos::get_live_file(conn, &repo_id, &lookup)?
            };
            let under = if file.is_none() {
                let prefix = if lookup.is_empty() {
                    String::new()
                } else {
                    format!("{lookup}/")
                };
                repos::live_files_under(conn, &repo_id, &prefix)?
            } else {
                Vec::new()
            };
            let mut ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            let authors = file.iter().chain(&under);
            ctx.learn_names(
                conn,
                authors.flat_map(|f| [f.created_by.as_str(), f.modified_by.as_str()]),
            )?;
            Ok((file, under, ctx))
        })
        .await?;
    let uri = object_path(&repo, &rel);
    if let Some(f) = file {
        let name = f.path.rsplit('/').next().unwrap_or_default().to_string();
        return Ok(success(json!({
            "id": f.id.to_string(),
            "name": name,
            "path": f.path,
            "uri": uri,
            "folder": false,
            "repo": repo.id,
            "repoName": repo.name,
            "format": repo.format,
            "size": f.size,
            "mimeType": f.content_type,
            "md5": f.md5,
            "sha1": f.sha1,
            "sha256": f.sha256,
            "sha512": f.sha512,
            "created": ctx.time(f.created_at),
            "createdBy": f.created_by,
            "createdUserName": ctx.name_of(&f.created_by),
            "modified": ctx.time(f.modified_at),
            "modifiedBy": f.modified_by,
            "modifiedUserName": ctx.name_of(&f.modified_by),
            "downloadUrl": format!("{}/artifactory{}", ctx.base, uri),
        })));
    }
    if under.is_empty() && !path.is_root() {
        return Err(ApiError::not_found(format!("No file or directory {uri}")));
    }
    Ok(success(json!({
        "name": path.file_name(),
        "path": rel,
        "uri": uri,
        "folder": true,
        "repo": repo.id,
        "repoName": repo.name,
        "format": repo.format,
        "filesCount": under.len(),
        "size": under.iter().map(|f| f.size).sum::<i64>(),
        "modified": under.iter().map(|f| f.modified_at).max().map(|t| ctx.time(t)).unwrap_or_default(),
    })))
}

/// The SDK's `ArtifactSearchResult`.
/// `ctx` knowing the names of the authors of `files` (`ViewContext::learn_names`), in a call of its own.
async fn with_author_names<'a>(
    state: &AppState,
    mut ctx: ViewContext,
    files: impl Iterator<Item = &'a FileEntry>,
) -> ApiResult<ViewContext> {
    let ids: Vec<String> = files
        .flat_map(|f| [f.created_by.clone(), f.modified_by.clone()])
        .collect();
    if ids.is_empty() {
        return Ok(ctx);
    }
    Ok(state
        .db
        .call(move |conn| {
            ctx.learn_names(conn, ids.iter().map(String::as_str))?;
            Ok(ctx)
        })
        .await?)
}

fn search_result(f: &FileEntry, repo: &Repository, ctx: &ViewContext) -> Value {
    json!({
        "id": f.id.to_string(),
        "name": f.path.rsplit('/').next().unwrap_or_default(),
        "relativePath": f.path,
        "repo": repo.id,
        "repoName": repo.name,
        "displayName": repo.display_name,
        "repoType": repo.format,
        "createdBy": f.created_by,
        "createdUserName": ctx.name_of(&f.created_by),
        "created": ctx.time(f.created_at),
        "modified": ctx.time(f.modified_at),
        "oldRepoId": "",
    })
}

fn check_format(name: &str, value: Option<&str>) -> ApiResult<()> {
    match value {
        None => Ok(()),
        Some(f) if f == MAVEN_FORMAT || OTHER_FORMATS.contains(&f) => Ok(()),
        Some(_) => Err(ApiError::invalid(
            name,
            format!(
                "must be one of {MAVEN_FORMAT}, {}",
                OTHER_FORMATS.join(", ")
            ),
        )),
    }
}

/// Repositories searches look in: active, readable by the caller, optionally of one project or format.
async fn searchable_repos(
    state: &AppState,
    principal: &Principal,
    project: Option<String>,
    format: Option<String>,
    headers: HeaderMap,
) -> ApiResult<(Vec<Repository>, CallerAccess, ViewContext)> {
    let domain_id = principal.domain_id.clone();
    let principal_copy = principal.clone();
    let config = state.config.clone();
    Ok(state
        .db
        .call(move |conn| {
            let (all, access) = CallerAccess::with_account_repos(conn, &principal_copy)?;
            let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            let repos: Vec<Repository> = all
                .into_iter()
                .filter(|r| r.status == STATUS_ACTIVE)
                .filter(|r| project.as_ref().is_none_or(|p| &r.project_id == p))
                .filter(|r| format.as_ref().is_none_or(|f| &r.format == f))
                .filter(|r| access.can_read(r))
                .collect();
            Ok((repos, access, ctx))
        })
        .await?)
}

fn scope_project(in_project: bool, project_id: Option<String>) -> ApiResult<Option<String>> {
    match (in_project, project_id.filter(|p| !p.is_empty())) {
        (_, Some(p)) if !is_alnum32(&p) => Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        )),
        (true, None) => Err(ApiError::invalid(
            "project_id",
            "is required when in_project is true",
        )),
        (true, p) => Ok(p),
        (false, _) => Ok(None),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchBody {
    artifact_name: Option<String>,
    artifact_type: Option<String>,
    page_no: Option<i64>,
    page_size: Option<i64>,
    project_id: Option<String>,
    in_project: Option<bool>,
}

/// `POST /cloudartifact/v5/tree/repos/artifacts` (search_artifacts): files whose name contains
/// `artifact_name` (case-insensitive), in the repositories the caller may read.
pub async fn search_artifacts(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<JsonBody<SearchBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    let needle = body.artifact_name.unwrap_or_default();
    if needle.trim().is_empty() || needle.chars().count() > 100 {
        return Err(ApiError::invalid(
            "artifact_name",
            "must be 1 to 100 characters",
        ));
    }
    let format = body.artifact_type.filter(|t| !t.is_empty());
    check_format("artifact_type", format.as_deref())?;
    let page_no = body.page_no.unwrap_or(1);
    if !(1..=2_147_483_647).contains(&page_no) {
        return Err(ApiError::invalid(
            "page_no",
            "must be an integer from 1 to 2147483647",
        ));
    }
    let page_size = body.page_size.unwrap_or(10);
    if !(1..=100).contains(&page_size) {
        return Err(ApiError::invalid(
            "page_size",
            "must be an integer from 1 to 100",
        ));
    }
    let project = scope_project(body.in_project.unwrap_or(false), body.project_id)?;
    let (repos_list, access, ctx) =
        searchable_repos(&state, &principal, project, format, headers).await?;
    let ids: Vec<String> = repos_list.iter().map(|r| r.id.clone()).collect();
    let mut hits: Vec<(FileEntry, &Repository)> = Vec::new();
    let needle = needle.trim().to_string();
    // Files outside the caller's grants are filtered after the query, so fetch pages until this one is
    // full; grants rarely hide files, so this is usually one query.
    let mut skipped_visible = 0i64;
    let want_skip = (page_no - 1).saturating_mul(page_size);
    let mut offset = 0i64;
    let batch = 500i64;
    loop {
        let (ids_copy, needle_copy) = (ids.clone(), needle.clone());
        let chunk = state
            .db
            .call(move |conn| {
                repos::search_files_by_name(conn, &ids_copy, &needle_copy, batch, offset)
            })
            .await?;
        let exhausted = (chunk.len() as i64) < batch;
        for f in chunk {
            let Some(repo) = repos_list.iter().find(|r| r.id == f.repo_id) else {
                continue;
            };
            if !access.allows(repo, Operation::Download, &f.path) {
                continue;
            }
            if skipped_visible < want_skip {
                skipped_visible += 1;
                continue;
            }
            if (hits.len() as i64) < page_size {
                hits.push((f, repo));
            }
        }
        offset += batch;
        if exhausted || hits.len() as i64 >= page_size {
            break;
        }
    }
    let ctx = with_author_names(&state, ctx, hits.iter().map(|(f, _)| f)).await?;
    let results: Vec<Value> = hits
        .iter()
        .map(|(f, repo)| search_result(f, repo, &ctx))
        .collect();
    Ok(success(json!({ "artifacts": results })))
}

/// `GET /cloudartifact/v5/search/checksum` (search_by_checksum): files whose content has the digest; the
/// algorithm follows from its length (MD5 32, SHA-1 40, SHA-256 64, SHA-512 128 hex digits).
pub async fn search_by_checksum(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let checksum = query
        .filter("checksum", 128)?
        .unwrap_or_default()
        .to_ascii_lowercase();
    let kind = ChecksumKind::of(&checksum).ok_or_else(|| {
        ApiError::invalid(
            "checksum",
            "must be an MD5, SHA-1, SHA-256 or SHA-512 digest in hex (32, 40, 64 or 128 digits)",
        )
    })?;
    let page_no = query.int("page_no", 1..=2_147_483_647, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let format = query.filter("format", 32)?;
    check_format("format", format.as_deref())?;
    let in_project = query.bool("in_project", false)?;
    let project = scope_project(in_project, query.filter("project_id", 64)?)?;
    let (repos_list, access, ctx) =
        searchable_repos(&state, &principal, project, format, headers).await?;
    let domain_id = principal.domain_id.clone();
    let files = state
        .db
        .call(move |conn| repos::files_by_checksum(conn, &domain_id, kind, &checksum))
        .await?;
    let hits: Vec<(&FileEntry, &Repository)> = files
        .iter()
        .filter_map(|f| {
            let repo = repos_list.iter().find(|r| r.id == f.repo_id)?;
            access
                .allows(repo, Operation::Download, &f.path)
                .then_some((f, repo))
        })
        .skip(((page_no - 1) * page_size) as usize)
        .take(page_size as usize)
        .collect();
    let ctx = with_author_names(&state, ctx, hits.iter().map(|(f, _)| *f)).await?;
    let visible: Vec<Value> = hits
        .iter()
        .map(|(f, repo)| search_result(f, repo, &ctx))
        .collect();
    Ok(success(visible))
}
