//! Release repositories (the SDK's `devreposerver` operations): every CodeArts project has one. Files
//! arrive by `PUT /devreposerver/v5/release/{project_id}/files/{path}` (transfer.rs); the management
//! operations list, describe, bin, restore and purge them (files.rs), count them (figures.rs), and set
//! retention and capacity notices (settings.rs, applied by retention.rs and capacity.rs). The rules are
//! `service::release`'s, the rows `store::release`'s.

pub(crate) mod bin;
mod capacity;
mod figures;
pub(crate) mod files;
pub mod retention;
pub(crate) mod settings;
mod transfer;

use axum::extract::DefaultBodyLimit;
use axum::http::HeaderMap;
use axum::routing::{any, delete, get, post, put};
use axum::Router;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::{json, Value};

use super::app::AppState;
use super::error::ApiError;
use crate::auth::Principal;
use crate::domain::is_alnum32;
use crate::http::artifact::privileges::entries_for_user;
use crate::service::release::ReleaseAccess;
use crate::store::projects::{self, Project};
use crate::store::release::ReleaseFile;
use crate::store::{Conn, StoreResult};

/// The management operations, behind the authentication layer.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/devreposerver/v5/files/list", post(files::list_files))
        .route(
            "/devreposerver/v5/files/info",
            get(files::detail_by_full_name),
        )
        .route(
            "/devreposerver/v5/files/archives",
            get(files::build_archives),
        )
        .route(
            "/devreposerver/v5/files/compeletion",
            delete(bin::delete_completely),
        )
        .route("/devreposerver/v5/files/status", put(bin::update_status))
        .route("/devreposerver/v5/files/{id}/info", get(files::detail))
        .route(
            "/devreposerver/v5/{project_id}/files/version",
            get(figures::latest_versions),
        )
        .route(
            "/devreposerver/v5/{project_id}/files/version/count",
            get(figures::latest_versions_count),
        )
        .route(
            "/devreposerver/v5/{project_id}/storage",
            get(figures::project_storage),
        )
        .route("/v5/{project_id}/versions", get(figures::version_list))
        .route(
            "/v5/{project_id}/versions/count",
            get(figures::versions_count),
        )
        .route(
            "/v2/{project_id}/release/files",
            get(figures::project_release_files),
        )
        .route(
            "/devreposerver/v2/release/{project_id}/files",
            get(figures::project_release_files),
        )
        .route(
            "/devreposerver/v5/data/package/info",
            get(figures::package_info),
        )
        .route(
            "/devreposerver/v5/data/package",
            get(figures::package_detail),
        )
        .route("/devreposerver/v5/storage", get(figures::domain_storage))
        .route(
            "/devreposerver/v5/project-role/permissions",
            get(settings::role_permissions),
        )
        .route(
            "/devreposerver/v5/user/permissions",
            get(settings::user_permissions),
        )
        .route(
            "/devreposerver/v5/release/{project_id}/auto-deletion/settings",
            get(settings::show_retention).put(settings::update_retention),
        )
        .route(
            "/devreposerver/v5/release/{project_id}/auto-deletion/records",
            get(settings::retention_records),
        )
        .route(
            "/devreposerver/v5/capacity-notice/settings",
            get(settings::show_capacity).put(settings::update_capacity),
        )
        .route(
            "/devreposerver/v5/capacity-notice/records",
            get(settings::capacity_notices),
        )
}

/// Uploads and downloads, which authenticate themselves as the package protocols do (a body is streamed,
/// never read whole by the authentication layer).
pub fn transfer_router() -> Router<AppState> {
    Router::new()
        .route(
            "/devreposerver/v5/release/{project_id}/files/{*path}",
            any(transfer::handle),
        )
        .route(
            "/devreposerver/v5/files/{id}/download",
            any(transfer::download_by_id),
        )
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(super::payload::guard))
}

/// A path parameter that must be a project id: 400 naming it otherwise.
pub fn check_project_id(name: &str, value: &str) -> Result<(), ApiError> {
    if is_alnum32(value) {
        Ok(())
    } else {
        Err(ApiError::invalid(name, "must be 32 letters or digits"))
    }
}

/// A project of the caller's account with the caller's access to its release repository; another
/// account's project is answered as a missing one.
pub fn project_access(
    conn: &Conn,
    principal: &Principal,
    project_id: &str,
) -> StoreResult<Result<(Project, ReleaseAccess), ApiError>> {
    let Some(project) = projects::get_project(conn, &principal.domain_id, project_id)? else {
        return Ok(Err(no_project(project_id)));
    };
    let entries = entries_for_user(conn, project_id, &principal.user_id, principal.is_root)?;
    Ok(Ok((project, ReleaseAccess::new(entries, principal))))
}

pub fn no_project(project_id: &str) -> ApiError {
    ApiError::not_found(format!("No project {project_id} in the caller's account"))
}

const PATH_SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'?')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'+')
    .add(b'&');

/// Where a version is downloaded by name (its version pinned) and by id.
pub fn download_urls(base: &str, f: &ReleaseFile) -> (String, String) {
    let encoded: Vec<String> = f
        .path
        .split('/')
        .map(|s| utf8_percent_encode(s, PATH_SEGMENT).to_string())
        .collect();
    (
        format!(
            "{base}/devreposerver/v5/release/{}/files/{}?version={}",
            f.project_id,
            encoded.join("/"),
            f.version
        ),
        format!("{base}/devreposerver/v5/files/{}/download", f.id),
    )
}

pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    super::urls::public_base_url(&state.config, headers)
}

/// The folder id of `path`'s parent: the project id at the top.
pub fn parent_id(project_id: &str, folders: &[(String, String, i64)], path: &str) -> String {
    match path.rsplit_once('/') {
        None => project_id.to_string(),
        Some((parent, _)) => folders
            .iter()
            .find(|(_, p, _)| p == parent)
            .map(|(id, _, _)| id.clone())
            .unwrap_or_default(),
    }
}

/// The SDK's `RepoFileDOV5` of a stored version, plus its version, state and times.
pub fn file_view(
    f: &ReleaseFile,
    project_name: &str,
    parent_id: &str,
    base: &str,
    offset_minutes: i32,
) -> Value {
    let (by_name, by_id) = download_urls(base, f);
    let name = f.name();
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_string())
        .unwrap_or_default();
    json!({
        "id": f.id,
        "file_id": f.file_id,
        "repo_name": f.project_id,
        "project_name": project_name,
        "parent_id": parent_id,
        "name": name,
        "file_name": name,
        "type": "file",
        "category": f.category,
        "extension": extension,
        "path": format!("/{}", f.path),
        "full_path": format!("/{}/{}", f.project_id, f.path),
        "size": f.size,
        "md5": f.md5,
        "sha256": f.sha256,
        "download_url": by_name,
        "download_url_with_id": by_id,
        "web_url": "",
        "version_enable": f.path.matches('/').count() == 1,
        "migrated_state": 0,
        "upload_id": "",
        "version": f.version,
        "status": if f.is_live() { "normal" } else { "deleted" },
        "created_time": display_time(f.created_at, offset_minutes),
        "created_by": f.created_by_name,
        "release_version": f.provenance.release_version,
    })
}

/// A folder (or a project at the top) as `RepoFileDOV5`.
pub fn folder_view(
    id: &str,
    project_id: &str,
    project_name: &str,
    parent_id: &str,
    path: &str,
    size: i64,
) -> Value {
    let name = if path.is_empty() {
        project_name
    } else {
        path.rsplit('/').next().unwrap_or(path)
    };
    json!({
        "id": id,
        "file_id": id,
        "repo_name": project_id,
        "project_name": project_name,
        "parent_id": parent_id,
        "name": name,
        "file_name": name,
        "type": "folder",
        "category": "",
        "extension": "",
        "path": format!("/{path}"),
        "full_path": if path.is_empty() { format!("/{project_id}") } else { format!("/{project_id}/{path}") },
        "size": size,
        "md5": "",
        "sha256": "",
        "download_url": "",
        "download_url_with_id": "",
        "web_url": "",
        "version_enable": !path.is_empty() && !path.contains('/'),
        "migrated_state": 0,
        "upload_id": "",
    })
}

/// `yyyy-MM-dd HH:mm:ss` in the display offset, as CodeArts shows times.
pub fn display_time(ms: i64, offset_minutes: i32) -> String {
    use chrono::{FixedOffset, TimeZone};
    let offset = FixedOffset::east_opt(offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    offset
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// `offset`/`limit` paging: 400 naming the parameter out of range.
pub fn offset_limit(query: &super::extract::QueryParams) -> Result<(usize, usize), ApiError> {
    let offset = query.int("offset", 0..=10_000_000, 0)?;
    let limit = query.int("limit", 1..=100, 10)?;
    Ok((offset as usize, limit as usize))
}

/// `page_no`/`page_size` paging: the window to skip and take.
pub fn page(page_no: i64, page_size: i64) -> (usize, usize) {
    (
        usize::try_from((page_no - 1).saturating_mul(page_size)).unwrap_or(usize::MAX),
        page_size as usize,
    )
}

pub fn total_pages(total: usize, size: usize) -> usize {
    total.div_ceil(size.max(1))
}
