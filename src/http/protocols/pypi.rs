//! PyPI repositories at `/artifactory/api/pypi/{repo}/` (SPEC §7): the legacy upload API twine speaks,
//! the simple index (PEP 503 HTML / PEP 691 JSON), distribution and PEP 658 metadata downloads, and
//! yanking (PEP 592); a remote repository's pages and files come from its upstream (`pypi_remote`), a
//! virtual one's from its members (`pypi_virtual`), and changes sent to a virtual one go to its default
//! deploy repository.
//! Errors are plain text with the message as the HTTP reason phrase, which is what
//! pip and twine print.

use std::collections::HashMap;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::access::{
    authorize, identify, load_repo, may_upload_somewhere, refuse_change_unless_hosted,
};
use super::documents::document_response;
use super::download::{http_date, serve_bytes, serve_file};
use super::pypi_form::{self, Uploaded};
use super::{pypi_json, pypi_remote, pypi_virtual};
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::formats::pypi::{self, DistKind, IndexFile};
use crate::formats::wheel;
use crate::http::app::AppState;
use crate::http::error::{malformed_json, ApiError};
use crate::http::payload;
use crate::http::storage::{reclaim, UploadFence};
use crate::service::documents::Document;
use crate::service::repo_kinds;
use crate::store::now_ms;
use crate::store::pypi::{self as store, Distribution};
use crate::store::repos::{self, Repository};

const FORMAT: &str = "pypi";
const PREFIX: &str = "/artifactory/api/pypi/";
/// Wheels whose METADATA is larger than this get no PEP 658 file.
pub const MAX_METADATA_BYTES: u64 = 4 * 1024 * 1024;

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    // The JSON API's clients read JSON errors; pip and twine read the status line.
    let json_api = request
        .uri()
        .path()
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(_, tail)| pypi_json::is_json_api(&tail.split('/').collect::<Vec<_>>()));
    match dispatch(&state, request).await {
        Ok(r) => r,
        Err(e) if json_api => pypi_json::json_error(e),
        Err(e) => pypi_error(e),
    }
}

/// pip and twine print the status line: the message goes into the reason phrase too.
fn pypi_error(e: ApiError) -> Response {
    let status = e.status();
    let message = match &e {
        ApiError::Internal(_) => "internal error".to_string(),
        other => other.to_string(),
    };
    let reason: String = message
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(200)
        .collect();
    if let ApiError::Internal(detail) = &e {
        tracing::error!(detail, "internal error");
    }
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response();
    if let Ok(phrase) = hyper::ext::ReasonPhrase::try_from(reason.into_bytes()) {
        response.extensions_mut().insert(phrase);
    }
    e.add_headers_and_basic_challenge(&mut response);
    response
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let path = request.uri().path().to_string();
    let rest = path
        .strip_prefix(PREFIX)
        .ok_or_else(|| ApiError::not_found("not a PyPI path"))?;
    let (repo_key, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let repo_key = percent_encoding::percent_decode_str(repo_key)
        .decode_utf8()
        .map_err(|_| ApiError::invalid("repository", "is not valid UTF-8"))?
        .into_owned();
    let tail = percent_encoding::percent_decode_str(tail)
        .decode_utf8()
        .map_err(|_| ApiError::invalid("path", "is not valid UTF-8"))?
        .into_owned();
    if tail.contains(['\\', '\0']) || tail.split('/').any(|s| s == ".." || s == ".") {
        return Err(ApiError::invalid("path", "escapes the repository"));
    }
    let (parts, body) = request.into_parts();
    let (caller, body) = identify(state, &parts, body).await?;
    let repo = load_repo(state, &parts, caller.as_ref(), &repo_key, Some(FORMAT)).await?;
    let read = parts.method == Method::GET || parts.method == Method::HEAD;
    // An upload or yank sent to a virtual repository goes to its default deploy repository, and is
    // authorized there.
    let repo = if repo.repo_type == repo_kinds::VIRTUAL && !read {
        super::members::deploy_target(state, &repo).await?
    } else {
        repo
    };
    refuse_change_unless_hosted(&repo, &parts.method)?;
    let head = parts.method == Method::HEAD;
    let remote = repo.repo_type == repo_kinds::REMOTE;
    let virtual_repo = repo.repo_type == repo_kinds::VIRTUAL;
    let segments: Vec<&str> = tail.split('/').collect();
    match (&parts.method, segments.as_slice()) {
        (&Method::POST, [""]) => {
            let request = Request::from_parts(parts, body);
            upload(state, &repo, caller, request).await
        }
        (&Method::POST, [action @ ("yank" | "unyank")]) => {
            let request = Request::from_parts(parts, body);
            yank(state, &repo, caller, request, *action == "yank").await
        }
        (&Method::GET | &Method::HEAD, ["simple"]) => {
            Ok(Redirect::permanent(&format!("{path}/")).into_response())
        }
        (&Method::GET | &Method::HEAD, ["simple", ""]) => {
            authorize(state, caller.as_ref(), &repo, Operation::Download, "").await?;
            if remote {
                return pypi_remote::root_index(state, &repo, &parts.headers, head).await;
            }
            if virtual_repo {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return pypi_virtual::root_index(state, &repo, headers, head, caller).await;
            }
            root_index(state, &repo, &parts.headers, head).await
        }
        (&Method::GET | &Method::HEAD, ["simple", name] | ["simple", name, ""]) => {
            let project = pypi::normalize(name);
            if !pypi::is_valid_name(name) {
                return Err(ApiError::not_found(format!("No project {name}")));
            }
            if *name != project || !tail.ends_with('/') {
                let target = format!("{PREFIX}{}/simple/{project}/", repo.name);
                return Ok(Redirect::permanent(&target).into_response());
            }
            let project_path = format!("packages/{project}");
            authorize(
                state,
                caller.as_ref(),
                &repo,
                Operation::Download,
                &project_path,
            )
            .await?;
            if remote {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return pypi_remote::project_index(state, &repo, &project, headers, head, caller)
                    .await;
            }
            if virtual_repo {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return pypi_virtual::project_index(state, &repo, &project, headers, head, caller)
                    .await;
            }
            project_index(state, &repo, &project, &parts.headers, head).await
        }
        (&Method::GET | &Method::HEAD, ["pypi", name, "json"]) => {
            let (headers, caller) = (&parts.headers, caller.as_ref());
            pypi_json::serve(state, &repo, caller, name, None, headers, head).await
        }
        (&Method::GET | &Method::HEAD, ["pypi", name, version, "json"]) => {
            let (headers, caller) = (&parts.headers, caller.as_ref());
            pypi_json::serve(state, &repo, caller, name, Some(version), headers, head).await
        }
        (&Method::GET | &Method::HEAD, ["packages", project, version, filename]) => {
            let rel = format!("packages/{project}/{version}/{filename}");
            authorize(state, caller.as_ref(), &repo, Operation::Download, &rel).await?;
            if remote {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return pypi_remote::file(
                    state, &repo, project, version, filename, headers, head, caller,
                )
                .await;
            }
            if virtual_repo {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return pypi_virtual::file(
                    state, &repo, project, version, filename, headers, head, caller,
                )
                .await;
            }
            let file = state
                .hot
                .live_file(&state.db, &repo.id, &rel)
                .await?
                .ok_or_else(|| ApiError::not_found(format!("No file {filename}")))?;
            serve_file(state, &file, &parts.headers, head).await
        }
        (&Method::GET | &Method::HEAD | &Method::POST, _) => Err(ApiError::not_found(format!(
            "No PyPI resource {tail} in {}",
            repo.name
        ))),
        _ => Err(ApiError::MethodNotAllowed),
    }
}

pub(super) fn wants(headers: &HeaderMap) -> Result<&'static str, ApiError> {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    pypi::negotiate(accept).ok_or(ApiError::NotAcceptable(
        "offer text/html or application/vnd.pypi.simple.v1+json",
    ))
}

async fn root_index(
    state: &AppState,
    repo: &Repository,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let media = wants(headers)?;
    let key = format!("pypi-root\0{media}");
    let document = state
        .documents
        .get_or_build(&state.db, &repo.id, key, || async {
            let repo_id = repo.id.clone();
            let projects = state
                .db
                .call(move |conn| store::live_projects(conn, &repo_id))
                .await?;
            let body = if media == pypi::JSON_V1 {
                pypi::root_json(&projects).to_string()
            } else {
                pypi::root_html(&projects)
            };
            let document = Document::build(body.into_bytes(), media, repo.modified_at).await;
            Ok::<_, ApiError>(Some(document))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("No simple index"))?;
    Ok(document_response(&document, headers, head, Some("Accept")))
}

pub(super) fn with_vary(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default()
}

/// A hosted repository's files of `project`, as its page lists them: the display name, the files and
/// when the newest was uploaded. None when it holds no live file of the project.
pub(crate) async fn hosted_files(
    state: &AppState,
    repo: &Repository,
    project: &str,
) -> Result<Option<(String, Vec<IndexFile>, i64)>, ApiError> {
    let (repo_id, key) = (repo.id.clone(), project.to_string());
    let dists = state
        .db
        .call(move |conn| store::live_of_project(conn, &repo_id, &key))
        .await?;
    let Some(last) = dists.last() else {
        return Ok(None);
    };
    let name = last.dist.display_name.clone();
    let files: Vec<IndexFile> = dists
        .iter()
        .map(|d| IndexFile {
            filename: d.dist.filename.clone(),
            href: pypi::file_href(project, &d.dist.version, &d.dist.filename),
            sha256: d.sha256.clone(),
            requires_python: d.dist.requires_python.clone(),
            metadata_sha256: d.metadata_sha256.clone(),
            yanked: d.dist.yanked.then(|| d.dist.yanked_reason.clone()),
            size: Some(d.size),
            upload_time: Some(iso_time(d.dist.uploaded_at)),
            version: d.dist.version.clone(),
        })
        .collect();
    let modified = dists.iter().map(|d| d.dist.uploaded_at).max().unwrap_or(0);
    Ok(Some((name, files, modified)))
}

fn page_body(name: &str, files: &[IndexFile], media: &str) -> String {
    if media == pypi::JSON_V1 {
        pypi::project_json(name, files).to_string()
    } else {
        pypi::project_html(name, files)
    }
}

/// A project page in the negotiated format, with `Last-Modified` the newest file's upload.
pub(super) fn page_response(
    name: &str,
    files: &[IndexFile],
    media: &str,
    modified: i64,
    headers: &HeaderMap,
    head: bool,
) -> Response {
    let body = page_body(name, files, media);
    let mut response = with_vary(serve_bytes(
        body.into_bytes(),
        media,
        modified,
        headers,
        head,
    ));
    if let Ok(v) = HeaderValue::from_str(&http_date(modified)) {
        response.headers_mut().insert(header::LAST_MODIFIED, v);
    }
    response
}

async fn project_index(
    state: &AppState,
    repo: &Repository,
    project: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let media = wants(headers)?;
    let key = format!("pypi\0{media}\0{project}");
    let document = state
        .documents
        .get_or_build(&state.db, &repo.id, key, || async {
            let Some((name, files, modified)) = hosted_files(state, repo, project).await? else {
                return Ok::<_, ApiError>(None);
            };
            let body = page_body(&name, &files, media);
            Ok(Some(
                Document::build(body.into_bytes(), media, modified).await,
            ))
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No project {project}")))?;
    Ok(document_response(&document, headers, head, Some("Accept")))
}

fn field<'a>(fields: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
}

fn check_digest(name: &str, given: Option<&str>, actual: &str) -> Result<(), ApiError> {
    match given {
        Some(g) if !g.eq_ignore_ascii_case(actual) => {
            Err(ApiError::invalid(name, "does not match the uploaded file"))
        }
        _ => Ok(()),
    }
}

/// `POST /artifactory/api/pypi/{repo}/`: twine's legacy upload (`:action=file_upload`).
async fn upload(
    state: &AppState,
    repo: &Repository,
    caller: Option<Principal>,
    request: Request,
) -> Result<Response, ApiError> {
    let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
    may_upload_somewhere(state, &principal, repo).await?;
    let fence = UploadFence::new(state).await;
    // Every blob this upload streams into the store, reclaimed if the upload is refused afterwards.
    let mut stored = Vec::new();
    let form = pypi_form::read(
        &*state.blobs,
        fence.gate(),
        state.config.max_artifact_bytes,
        &pypi_form::LIMITS,
        request,
        &mut stored,
    )
    .await;
    let form = match form {
        Ok(form) => payload::finish().await.map(|()| form),
        Err(e) => Err(e),
    };
    let (fields, uploaded) = match form {
        Ok(form) => form,
        Err(e) => {
            let e = fence.database_failure().unwrap_or(e);
            fence.release(state).await;
            reclaim(state, stored).await?;
            return Err(e);
        }
    };
    let Some(uploaded) = uploaded else {
        return Err(ApiError::invalid(
            "content",
            "is required: the distribution file",
        ));
    };
    let checked = validate_upload(&fields, &uploaded);
    let (dist_kind, project, display, version) = match checked {
        Ok(v) => v,
        Err(e) => {
            fence.release(state).await;
            reclaim(state, stored).await?;
            return Err(e);
        }
    };
    let rel = format!("packages/{project}/{version}/{}", uploaded.filename);
    crate::http::audit::note_detail(&project, Some(&version.to_string()));
    if let Err(e) = authorize(state, Some(&principal), repo, Operation::Upload, &rel).await {
        fence.release(state).await;
        reclaim(state, stored).await?;
        return Err(e);
    }
    let metadata = if dist_kind == DistKind::Wheel {
        let checked = wheel_metadata(state, &uploaded.info.sha256)
            .await
            .and_then(|m| match &m {
                Some(bytes) => metadata_matches(bytes, &project, &version).map(|()| m),
                None => Ok(m),
            });
        match checked {
            Ok(m) => m,
            Err(e) => {
                fence.release(state).await;
                reclaim(state, stored).await?;
                return Err(e);
            }
        }
    } else {
        None
    };
    let metadata_blob = match metadata {
        Some(bytes) => {
            let mut cursor = std::io::Cursor::new(bytes);
            match fence.put(state, &mut cursor, MAX_METADATA_BYTES).await {
                Ok(info) => {
                    stored.push(info.sha256.clone());
                    Some(info)
                }
                Err(e) => {
                    let e = fence.error(e);
                    fence.release(state).await;
                    reclaim(state, stored).await?;
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let requires_python = field(&fields, "requires_python").unwrap_or("").to_string();
    if requires_python.len() > 256 || requires_python.chars().any(char::is_control) {
        fence.release(state).await;
        reclaim(state, stored).await?;
        return Err(ApiError::invalid(
            "requires_python",
            "must be at most 256 characters",
        ));
    }
    let now = now_ms();
    let dist = Distribution {
        project: project.clone(),
        display_name: display,
        version,
        filename: uploaded.filename.clone(),
        path: rel.clone(),
        packagetype: dist_kind.packagetype().to_string(),
        requires_python,
        metadata_path: metadata_blob.as_ref().map(|_| format!("{rel}.metadata")),
        yanked: false,
        yanked_reason: String::new(),
        uploaded_at: now,
        uploaded_by: principal.user_id.clone(),
    };
    let (repo_id, user_id, info, filename) = (
        repo.id.clone(),
        principal.user_id.clone(),
        uploaded.info.clone(),
        uploaded.filename.clone(),
    );
    // The check and the writes are one immediate transaction: of concurrent uploads of a file name
    // exactly one is recorded, with its own metadata file, and a crash leaves all of it or none.
    let outcome = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if store::live_file(&tx, &repo_id, &filename)?.is_some() {
                return Ok(Err(ApiError::Conflict(format!(
                    "File already exists: {filename}"
                ))));
            }
            let mut replaced = Vec::new();
            replaced.extend(repos::replace_file(
                &tx,
                &repo_id,
                &dist.path,
                &info,
                content_type(&filename),
                &user_id,
                now,
            )?);
            if let (Some(meta), Some(path)) = (&metadata_blob, &dist.metadata_path) {
                replaced.extend(repos::replace_file(
                    &tx,
                    &repo_id,
                    path,
                    meta,
                    "text/plain; charset=utf-8",
                    &user_id,
                    now,
                )?);
            }
            store::upsert(&tx, &repo_id, &dist)?;
            tx.commit()?;
            Ok(Ok(replaced))
        })
        .await
        .map_err(ApiError::from)
        .and_then(|checked| checked);
    fence.release(state).await;
    let replaced = match outcome {
        Ok(replaced) => replaced,
        Err(e) => {
            reclaim(state, stored).await?;
            // PyPI answers a re-upload with 400 "File already exists"; twine knows that text.
            return Err(match e {
                ApiError::Conflict(msg) => ApiError::invalid("content", msg),
                other => other,
            });
        }
    };
    // Files of a distribution whose row was gone (deleted for good) but whose file was not.
    reclaim(state, replaced).await?;
    tracing::info!(repo = %repo.name, project = %project, file = %uploaded.filename, "distribution uploaded");
    crate::telemetry::record_upload("pypi");
    Ok((StatusCode::OK, "OK").into_response())
}

fn content_type(filename: &str) -> &'static str {
    if filename.ends_with(".whl") || filename.ends_with(".zip") {
        "application/zip"
    } else {
        "application/gzip"
    }
}

/// Checks the form against the file: the action, the name and version against the file name, the
/// declared file type, and every digest given. Answers (kind, normalised project, name, version).
pub fn validate_upload(
    fields: &HashMap<String, String>,
    uploaded: &Uploaded,
) -> Result<(DistKind, String, String, String), ApiError> {
    if let Some(action) = field(fields, ":action") {
        if action != "file_upload" {
            return Err(ApiError::invalid(":action", "must be file_upload"));
        }
    }
    let name = field(fields, "name").ok_or_else(|| ApiError::invalid("name", "is required"))?;
    if !pypi::is_valid_name(name) {
        return Err(ApiError::invalid("name", "is not a valid project name"));
    }
    let version =
        field(fields, "version").ok_or_else(|| ApiError::invalid("version", "is required"))?;
    if !pypi::is_valid_version(version) {
        return Err(ApiError::invalid("version", "is not a valid version"));
    }
    let parsed = pypi::parse_filename(&uploaded.filename).ok_or_else(|| {
        ApiError::invalid(
            "content",
            "must be a wheel (.whl) or an sdist (.tar.gz, .zip) with a valid file name",
        )
    })?;
    if parsed.project != pypi::normalize(name) {
        return Err(ApiError::invalid("name", "does not match the file name"));
    }
    if !parsed.version.eq_ignore_ascii_case(version) {
        return Err(ApiError::invalid("version", "does not match the file name"));
    }
    match (field(fields, "filetype"), parsed.kind) {
        (None, _) | (Some("bdist_wheel"), DistKind::Wheel) | (Some("sdist"), DistKind::Sdist) => {}
        _ => return Err(ApiError::invalid("filetype", "does not match the file")),
    }
    let (md5, sha256) = (field(fields, "md5_digest"), field(fields, "sha256_digest"));
    if md5.is_none() && sha256.is_none() {
        return Err(ApiError::invalid(
            "sha256_digest",
            "is required (or md5_digest)",
        ));
    }
    check_digest("md5_digest", md5, &uploaded.info.md5)?;
    check_digest("sha256_digest", sha256, &uploaded.info.sha256)?;
    check_digest(
        "blake2_256_digest",
        field(fields, "blake2_256_digest"),
        &uploaded.blake2,
    )?;
    Ok((
        parsed.kind,
        parsed.project,
        name.to_string(),
        version.to_string(),
    ))
}

/// The wheel's own METADATA must name the project and version the form and the file name give.
pub fn metadata_matches(metadata: &[u8], project: &str, version: &str) -> Result<(), ApiError> {
    let (name, meta_version) = pypi::core_metadata_identity(&String::from_utf8_lossy(metadata));
    if name.as_deref().map(pypi::normalize).as_deref() != Some(project) {
        return Err(ApiError::invalid(
            "name",
            "does not match the wheel's METADATA",
        ));
    }
    if !meta_version.is_some_and(|v| v.eq_ignore_ascii_case(version)) {
        return Err(ApiError::invalid(
            "version",
            "does not match the wheel's METADATA",
        ));
    }
    Ok(())
}

/// The wheel's `*.dist-info/METADATA`, for PEP 658. A wheel without one is refused.
async fn wheel_metadata(state: &AppState, sha256: &str) -> Result<Option<Vec<u8>>, ApiError> {
    let spooled = state.blobs.local_copy(sha256).await?;
    tokio::task::spawn_blocking(move || {
        let file =
            std::fs::File::open(spooled.path()).map_err(|e| ApiError::Internal(e.to_string()))?;
        let len = file
            .metadata()
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .len();
        let found = wheel::metadata(rawzip::FileReader::from(file), len, MAX_METADATA_BYTES)
            .map_err(|e| ApiError::invalid("content", e.to_string()));
        drop(spooled);
        found
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// `POST /artifactory/api/pypi/{repo}/yank` (or `unyank`), form or JSON fields `project`, `version` and
/// optionally `reason` (decision: PEP 592 defines the flag, not an API to set it).
async fn yank(
    state: &AppState,
    repo: &Repository,
    caller: Option<Principal>,
    request: Request,
    yanked: bool,
) -> Result<Response, ApiError> {
    let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let bytes = crate::http::extract::read_body(request.into_body(), 64 * 1024).await?;
    let fields: HashMap<String, String> = if is_json {
        serde_json::from_slice(&bytes).map_err(|e| malformed_json(&e))?
    } else {
        url_form(&bytes)?
    };
    let name =
        field(&fields, "project").ok_or_else(|| ApiError::invalid("project", "is required"))?;
    let version =
        field(&fields, "version").ok_or_else(|| ApiError::invalid("version", "is required"))?;
    let reason = field(&fields, "reason").unwrap_or("").to_string();
    if !pypi::is_valid_name(name) || !pypi::is_valid_version(version) || reason.len() > 512 {
        return Err(ApiError::invalid(
            "project",
            "project, version or reason is malformed",
        ));
    }
    let project = pypi::normalize(name);
    authorize(
        state,
        Some(&principal),
        repo,
        Operation::Delete,
        &format!("packages/{project}/{version}"),
    )
    .await?;
    let (repo_id, v) = (repo.id.clone(), version.to_string());
    let changed = state
        .db
        .call(move |conn| store::set_yanked(conn, &repo_id, &project, &v, yanked, &reason))
        .await?;
    if changed == 0 {
        return Err(ApiError::not_found(format!("No release {name} {version}")));
    }
    Ok((StatusCode::OK, "OK").into_response())
}

fn url_form(bytes: &[u8]) -> Result<HashMap<String, String>, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ApiError::invalid("body", "is not UTF-8"))?;
    let mut out = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| ApiError::invalid("body", "is not valid form encoding"))
        };
        out.insert(decode(k)?, decode(v)?);
    }
    Ok(out)
}
