//! Uploading to and downloading from a release repository, for build scripts and curl:
//! `PUT /devreposerver/v5/release/{project_id}/files/{path}` stores a new version of `path` (query
//! parameters carry the build provenance), `GET`/`HEAD` the newest live version (or `?version=N`), and
//! `GET /devreposerver/v5/files/{id}/download` one version by id. Credentials as on `/artifactory/`:
//! a signature (with a signed `X-Sdk-Content-Sha256` for a streamed body), a token, a ticket, or Basic
//! with the repo user and password.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{base_url, check_project_id, file_view, parent_id, project_access};
use crate::auth::Principal;
use crate::domain::artifact_path::ArtifactPath;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::protocols::access::identify;
use crate::http::protocols::download::serve_file;
use crate::http::storage::{reclaim, store_body};
use crate::service::release::CATEGORIES;
use crate::store::now_ms;
use crate::store::release::{self, NewVersion, Provenance, ReleaseFile};
use crate::store::repos::FileEntry;

const PREFIX: &str = "/devreposerver/v5/release/";

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    match dispatch(&state, request).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let rest = parts.uri.path().strip_prefix(PREFIX).unwrap_or_default();
    let (project_id, raw_path) = rest
        .split_once("/files/")
        .ok_or_else(|| ApiError::invalid("path", "must name a file"))?;
    let project_id = project_id.to_string();
    check_project_id("project_id", &project_id)?;
    let path =
        ArtifactPath::parse_wire(raw_path).map_err(|e| ApiError::invalid("path", e.to_string()))?;
    if path.is_dir || path.is_root() {
        return Err(ApiError::invalid("path", "must name a file, not a folder"));
    }
    let (caller, body) = identify(state, &parts, body).await?;
    let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
    match parts.method {
        Method::PUT | Method::POST => {
            upload(state, &parts, principal, project_id, path, body).await
        }
        Method::GET | Method::HEAD => {
            let query = QueryParams::parse(parts.uri.query().unwrap_or(""))?;
            let version = match query.get("version") {
                Some(_) => Some(query.int("version", 1..=i64::MAX, 1)?),
                None => None,
            };
            let (p, principal2, project) =
                (path.as_str().to_string(), principal.clone(), project_id);
            let found = state
                .db
                .call(move |conn| {
                    let (_, access) = match project_access(conn, &principal2, &project)? {
                        Ok(found) => found,
                        Err(e) => return Ok(Err(e)),
                    };
                    if !access.allows(Operation::Download, &p) {
                        return Ok(Err(ApiError::forbidden(format!(
                            "download is not allowed on {}",
                            crate::service::release::object_path(&p)
                        ))));
                    }
                    let versions = release::of_project(conn, &project)?;
                    let chosen = versions
                        .into_iter()
                        .filter(|v| v.path == p && v.is_live())
                        .filter(|v| version.is_none_or(|n| v.version == n))
                        .max_by_key(|v| v.version);
                    Ok(Ok(chosen))
                })
                .await??;
            let file = found.ok_or_else(|| {
                ApiError::not_found(format!(
                    "No file {} in the release repository",
                    path.as_str()
                ))
            })?;
            serve(state, &file, &parts).await
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// `GET /devreposerver/v5/files/{id}/download`: one version, live, by id.
pub async fn download_by_id(State(state): State<AppState>, request: Request) -> Response {
    let run = async {
        let (parts, body) = request.into_parts();
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            return Err(ApiError::MethodNotAllowed);
        }
        let id = parts
            .uri
            .path()
            .trim_start_matches("/devreposerver/v5/files/")
            .trim_end_matches("/download")
            .to_string();
        check_project_id("id", &id)?;
        let (caller, _) = identify(&state, &parts, body).await?;
        let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
        let domain_id = principal.domain_id.clone();
        let file = state
            .db
            .call(move |conn| {
                let Some(file) = release::get(conn, &domain_id, &id)?.filter(|f| f.is_live())
                else {
                    return Ok(Err(ApiError::not_found(format!("No file {id}"))));
                };
                let (_, access) = match project_access(conn, &principal, &file.project_id)? {
                    Ok(found) => found,
                    Err(e) => return Ok(Err(e)),
                };
                if !access.allows(Operation::Download, &file.path) {
                    return Ok(Err(ApiError::forbidden(format!(
                        "download is not allowed on {}",
                        crate::service::release::object_path(&file.path)
                    ))));
                }
                Ok(Ok(file))
            })
            .await??;
        serve(&state, &file, &parts).await
    };
    match run.await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn serve(state: &AppState, f: &ReleaseFile, parts: &Parts) -> Result<Response, ApiError> {
    let entry = FileEntry {
        id: 0,
        repo_id: String::new(),
        path: f.path.clone(),
        size: f.size,
        content_type: f.content_type.clone(),
        sha256: f.sha256.clone(),
        md5: f.md5.clone(),
        sha1: f.sha1.clone(),
        sha512: f.sha512.clone(),
        created_at: f.created_at,
        created_by: f.created_by.clone(),
        modified_at: f.created_at,
        modified_by: f.created_by.clone(),
        deleted_at: None,
    };
    serve_file(state, &entry, &parts.headers, parts.method == Method::HEAD).await
}

fn provenance(query: &QueryParams) -> Result<Provenance, ApiError> {
    let text = |name: &str, max: usize| -> Result<String, ApiError> {
        let value = query.string(name, max)?.unwrap_or_default();
        if value.chars().any(char::is_control) {
            return Err(ApiError::invalid(name, "must not hold control characters"));
        }
        Ok(value)
    };
    Ok(Provenance {
        build_id: text("build_id", 64)?,
        build_no: text("build_no", 64)?,
        build_name: text("build_name", 256)?,
        build_url: text("build_url", 1024)?,
        repo_url: text("repo_url", 1024)?,
        repo_branch: text("repo_branch", 256)?,
        commit_id: text("commit_id", 64)?,
        release_version: text("release_version", 128)?,
    })
}

async fn upload(
    state: &AppState,
    parts: &Parts,
    principal: Principal,
    project_id: String,
    path: ArtifactPath,
    body: Body,
) -> Result<Response, ApiError> {
    let query = QueryParams::parse(parts.uri.query().unwrap_or(""))?;
    let provenance = provenance(&query)?;
    let category = query
        .one_of("category", &CATEGORIES)?
        .unwrap_or_else(|| "test".to_string());
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 255)
        .unwrap_or("application/octet-stream")
        .to_string();
    // Refused before a byte of the body is read.
    let (p, principal2, project, cat) = (
        path.as_str().to_string(),
        principal.clone(),
        project_id.clone(),
        category.clone(),
    );
    let project = state
        .db
        .call(move |conn| {
            let (project, access) = match project_access(conn, &principal2, &project)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            let object = crate::service::release::object_path(&p);
            if !access.allows(Operation::Upload, &p) {
                return Ok(Err(ApiError::forbidden(format!(
                    "upload is not allowed on {object}"
                ))));
            }
            if cat == "prod" && !access.allows(Operation::EditRepository, &p) {
                return Ok(Err(ApiError::forbidden(format!(
                    "publishing a prod package needs editRepository on {object}"
                ))));
            }
            Ok(Ok(project))
        })
        .await??;

    let (info, fence) = store_body(state, body).await?;
    let sha256 = info.sha256.clone();
    let new = NewVersion {
        domain_id: principal.domain_id.clone(),
        project_id: project_id.clone(),
        path: path.as_str().to_string(),
        content_type,
        category,
        provenance,
        user_id: principal.user_id.clone(),
        user_name: principal.user_name.clone(),
    };
    let committed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let stored = release::insert_version(&tx, &new, &info, now_ms())?;
            let folders = release::folders_of_project(&tx, &new.project_id)?;
            tx.commit()?;
            Ok((stored, folders))
        })
        .await;
    fence.release(state).await;
    let (stored, folders) = match committed {
        Ok(done) => done,
        Err(e) => {
            if let Err(cleanup) = reclaim(state, vec![sha256]).await {
                tracing::warn!(error = ?cleanup, "could not reclaim the blob of a failed release upload");
            }
            return Err(e.into());
        }
    };
    tracing::info!(
        project_id = %stored.project_id,
        path = %stored.path,
        version = stored.version,
        size = stored.size,
        "release file stored"
    );
    crate::telemetry::record_upload("release");
    super::capacity::check(state, &principal.domain_id).await;
    let view = file_view(
        &stored,
        &project.name,
        &parent_id(&project.id, &folders, &stored.path),
        &base_url(state, &parts.headers),
        state.config.display_offset_minutes,
    );
    Ok((StatusCode::CREATED, success(view)).into_response())
}
