//! Cargo registries at `/artifactory/api/cargo/{repo}/` (SPEC §7): the sparse index (`index/`), publish,
//! download, yank/unyank, owners and search of the registry web API. Errors are
//! `{"errors":[{"detail": ...}]}`, which cargo prints. Cargo sends its token verbatim in
//! `Authorization`: a ticket, or `Basic <base64(repo user:password)>`.

use std::io;

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::TryStreamExt;
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio_util::io::StreamReader;

use super::access::{authorize, identify, load_repo, refuse_change_unless_hosted};
use super::documents::document_response;
use super::download::{serve_bytes, serve_file};
use super::{cargo_remote, cargo_virtual};
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::formats::cargo::{self as format, PublishMeta};
use crate::http::app::AppState;
use crate::http::error::{json_problem, malformed_json, ApiError};
use crate::http::limits::{client_body_failure, client_io_error};
use crate::http::payload;
use crate::http::storage::{reclaim, UploadFence};
use crate::http::urls::public_base_url;
use crate::service::documents::Document;
use crate::service::repo_kinds;
use crate::store::cargo::{self as store, NewVersion};
use crate::store::repos::{self, Repository};
use crate::store::{identity, now_ms};

const FORMAT: &str = "cargo";
const PREFIX: &str = "/artifactory/api/cargo/";
/// The JSON metadata of a publish request.
pub const MAX_METADATA_BYTES: u32 = 1024 * 1024;

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    match dispatch(&state, request).await {
        Ok(r) => r,
        Err(e) => cargo_error(e),
    }
}

fn cargo_error(e: ApiError) -> Response {
    let status = e.status();
    let detail = match &e {
        ApiError::Internal(detail) => {
            tracing::error!(detail, "internal error");
            "internal error".to_string()
        }
        other => other.to_string(),
    };
    let mut response = (status, Json(json!({"errors": [{"detail": detail}]}))).into_response();
    e.add_headers(&mut response);
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Cargo"));
    }
    response
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let path = request.uri().path().to_string();
    let rest = path
        .strip_prefix(PREFIX)
        .ok_or_else(|| ApiError::not_found("not a Cargo path"))?;
    if rest.contains(['%', '\\']) || rest.split('/').any(|s| s == ".." || s == ".") {
        return Err(ApiError::invalid(
            "path",
            "holds characters no crate path has",
        ));
    }
    let (repo_key, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let (parts, body) = request.into_parts();
    let (caller, body) = identify(state, &parts, body).await?;
    let repo = load_repo(state, &parts, caller.as_ref(), repo_key, Some(FORMAT)).await?;
    let read = parts.method == Method::GET || parts.method == Method::HEAD;
    // A publish, yank or owner change sent to a virtual registry goes to its default deploy repository.
    let repo = if repo.repo_type == repo_kinds::VIRTUAL && !read {
        super::members::deploy_target(state, &repo).await?
    } else {
        repo
    };
    refuse_change_unless_hosted(&repo, &parts.method)?;
    let head = parts.method == Method::HEAD;
    let segments: Vec<&str> = tail.split('/').collect();
    match segments.as_slice() {
        ["index", "config.json"] if read => {
            if caller.is_none() && !repo.allow_anonymous {
                return Err(ApiError::Unauthenticated("credentials required"));
            }
            let base = format!(
                "{}{PREFIX}{}",
                public_base_url(&state.config, &parts.headers),
                repo.name
            );
            let config = json!({
                "dl": format!("{base}/api/v1/crates"),
                "api": base,
                "auth-required": !repo.allow_anonymous,
            });
            Ok(serve_bytes(
                config.to_string().into_bytes(),
                "application/json",
                repo.modified_at,
                &parts.headers,
                head,
            ))
        }
        ["index", ..] if read => {
            let index_rel = tail.strip_prefix("index/").unwrap_or("");
            let name = format::name_of_index_path(index_rel)
                .ok_or_else(|| ApiError::not_found(format!("No index file {index_rel}")))?;
            authorize(
                state,
                caller.as_ref(),
                &repo,
                Operation::Download,
                &format!("crates/{name}"),
            )
            .await?;
            if repo.repo_type == repo_kinds::REMOTE {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return cargo_remote::index_file(state, &repo, index_rel, headers, head, caller)
                    .await;
            }
            if repo.repo_type == repo_kinds::VIRTUAL {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return cargo_virtual::index_file(
                    state, &repo, index_rel, &name, headers, head, caller,
                )
                .await;
            }
            index_file(state, &repo, &name, &parts.headers, head).await
        }
        ["api", "v1", "crates", "new"] if parts.method == Method::PUT => {
            let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
            publish(state, &repo, &principal, body).await
        }
        ["api", "v1", "crates", name, vers, action @ ("yank" | "unyank")] => {
            let expected = if *action == "yank" {
                Method::DELETE
            } else {
                Method::PUT
            };
            if parts.method != expected {
                return Err(ApiError::MethodNotAllowed);
            }
            let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
            let rel = crate_path(name, vers);
            authorize(state, Some(&principal), &repo, Operation::Delete, &rel).await?;
            let (repo_id, n, v, yanked) = (
                repo.id.clone(),
                name.to_string(),
                vers.to_string(),
                *action == "yank",
            );
            let changed = state
                .db
                .call(move |conn| store::set_yanked(conn, &repo_id, &n, &v, yanked))
                .await?;
            if changed == 0 {
                return Err(ApiError::not_found(format!(
                    "crate `{name}` has no version {vers}"
                )));
            }
            Ok(Json(json!({"ok": true})).into_response())
        }
        ["api", "v1", "crates", name, vers, "download"] if read => {
            let rel = crate_path(name, vers);
            authorize(state, caller.as_ref(), &repo, Operation::Download, &rel).await?;
            if repo.repo_type == repo_kinds::REMOTE {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return cargo_remote::download(
                    state, &repo, name, vers, &rel, headers, head, caller,
                )
                .await;
            }
            if repo.repo_type == repo_kinds::VIRTUAL {
                let (headers, caller) = (&parts.headers, caller.as_ref());
                return cargo_virtual::download(state, &repo, name, vers, headers, head, caller)
                    .await;
            }
            hosted_download(state, &repo, name, vers, &parts.headers, head).await
        }
        ["api", "v1", "crates", name, "owners"] => {
            let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
            owners(state, &repo, &principal, name, &parts.method, body).await
        }
        ["api", "v1", "crates"] if read => {
            let query = crate::http::extract::QueryParams::parse(parts.uri.query().unwrap_or(""))?;
            let q = query.string("q", 64)?.unwrap_or_default();
            let per_page = query.int("per_page", 1..=100, 10)?;
            authorize(state, caller.as_ref(), &repo, Operation::Download, "").await?;
            let repo_id = repo.id.clone();
            let hits = state
                .db
                .call(move |conn| store::search(conn, &repo_id, &q, per_page))
                .await?;
            let crates: Vec<Value> = hits
                .iter()
                .filter_map(|(_, line)| serde_json::from_str::<Value>(line).ok())
                .map(|e| json!({"name": e["name"], "max_version": e["vers"], "description": ""}))
                .collect();
            Ok(Json(json!({"meta": {"total": crates.len()}, "crates": crates})).into_response())
        }
        _ => Err(ApiError::not_found(format!(
            "No Cargo resource {tail} in {}",
            repo.name
        ))),
    }
}

/// Where a crate version's `.crate` lives in the repository.
pub fn crate_path(name: &str, vers: &str) -> String {
    format!("crates/{}/{name}-{vers}.crate", name.to_ascii_lowercase())
}

/// One index file: a JSON line per live version, `yanked` as set now.
async fn index_file(
    state: &AppState,
    repo: &Repository,
    name: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let key = format!("cargo\0{name}");
    let document = state
        .documents
        .get_or_build(&state.db, &repo.id, key, || async {
            let Some((body, modified)) = hosted_index(state, repo, name).await? else {
                return Ok::<_, ApiError>(None);
            };
            let content_type = "text/plain; charset=utf-8";
            Ok(Some(
                Document::build(body.into_bytes(), content_type, modified).await,
            ))
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No crate {name}")))?;
    Ok(document_response(&document, headers, head, None))
}

/// A hosted repository's index file of crate `name` (a JSON line per live version) and when it changed;
/// `None` when it has no such crate.
pub(super) async fn hosted_index(
    state: &AppState,
    repo: &Repository,
    name: &str,
) -> Result<Option<(String, i64)>, ApiError> {
    let (repo_id, key) = (repo.id.clone(), name.to_string());
    let versions = state
        .db
        .call(move |conn| store::live_versions(conn, &repo_id, &key))
        .await?;
    if versions.is_empty() {
        return Ok(None);
    }
    let mut body = String::new();
    for (line, yanked, _) in &versions {
        let mut entry: Value = serde_json::from_str(line)
            .map_err(|e| ApiError::Internal(format!("stored index line: {e}")))?;
        entry["yanked"] = json!(yanked);
        body.push_str(&entry.to_string());
        body.push('\n');
    }
    let modified = versions.iter().map(|v| v.2).max().unwrap_or(0);
    Ok(Some((body, modified)))
}

/// A hosted repository's `.crate` of `name` `vers`.
pub(super) async fn hosted_download(
    state: &AppState,
    repo: &Repository,
    name: &str,
    vers: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let file = state
        .hot
        .crate_file(&state.db, &repo.id, name, vers)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("crate `{name}` has no version {vers}")))?;
    serve_file(state, &file, headers, head).await
}

fn bad_frame(e: io::Error) -> ApiError {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return ApiError::invalid(
            "body",
            "is not a cargo publish request (length-prefixed JSON, then the .crate)",
        );
    }
    client_body_failure(&e).unwrap_or_else(|| ApiError::Internal(e.to_string()))
}

/// The head of a publish request, up to where the `.crate` starts: u32 LE length + JSON metadata
/// (validated), then the u32 LE length of the `.crate`.
pub async fn read_publish_head<R: AsyncRead + Unpin>(
    reader: &mut R,
) -> Result<(PublishMeta, u64), ApiError> {
    let json_len = reader.read_u32_le().await.map_err(bad_frame)?;
    if json_len > MAX_METADATA_BYTES {
        return Err(ApiError::invalid("metadata", "is larger than 1 MiB"));
    }
    let mut json_bytes = vec![0u8; json_len as usize];
    reader
        .read_exact(&mut json_bytes)
        .await
        .map_err(bad_frame)?;
    let meta: PublishMeta = serde_json::from_slice(&json_bytes).map_err(|e| {
        ApiError::invalid(
            "metadata",
            format!("is not valid publish JSON: {}", json_problem(&e)),
        )
    })?;
    format::validate(&meta).map_err(|e| ApiError::invalid("metadata", e))?;
    let crate_len = u64::from(reader.read_u32_le().await.map_err(bad_frame)?);
    Ok((meta, crate_len))
}

/// `PUT /api/v1/crates/new`: the head (`read_publish_head`), then the `.crate`, which streams into the
/// blob store.
async fn publish(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let mut reader = StreamReader::new(body.into_data_stream().map_err(client_io_error));
    let (meta, crate_len) = read_publish_head(&mut reader).await?;
    let rel = crate_path(&meta.name, &meta.vers);
    crate::http::audit::note_detail(&meta.name, Some(&meta.vers));
    authorize(state, Some(principal), repo, Operation::Upload, &rel).await?;
    let (repo_id, key, vers, canonical) = (
        repo.id.clone(),
        meta.name.to_ascii_lowercase(),
        meta.vers.clone(),
        format::canonical(&meta.name),
    );
    let clash = state
        .db
        .call(move |conn| {
            if let Some(existing) = store::colliding_name(conn, &repo_id, &canonical)? {
                if existing != key {
                    return Ok(Some(format!(
                        "crate name collides with the existing crate `{existing}`"
                    )));
                }
            }
            Ok(store::version_path(conn, &repo_id, &key, &vers)?
                .map(|_| format!("crate version `{vers}` is already uploaded")))
        })
        .await?;
    if let Some(reason) = clash {
        return Err(ApiError::invalid("metadata", reason));
    }
    let fence = UploadFence::new(state).await;
    let mut limited = (&mut reader).take(crate_len.min(state.config.max_artifact_bytes));
    let info = match fence
        .put(state, &mut limited, state.config.max_artifact_bytes)
        .await
    {
        Ok(info) => info,
        Err(e) => {
            let e = fence.error(e);
            fence.release(state).await;
            return Err(e);
        }
    };
    if info.size != crate_len {
        fence.release(state).await;
        reclaim(state, vec![info.sha256]).await?;
        return Err(ApiError::invalid(
            "body",
            "the .crate is shorter than its declared length",
        ));
    }
    if let Err(e) = payload::finish().await {
        fence.release(state).await;
        reclaim(state, vec![info.sha256]).await?;
        return Err(e);
    }
    let line = format::index_entry(&meta, &info.sha256).to_string();
    let (repo_id, user_id, name, vers, blob) = (
        repo.id.clone(),
        principal.user_id.clone(),
        meta.name.clone(),
        meta.vers.clone(),
        info.clone(),
    );
    // The version, its first owner and its file row commit together: the index never lists a version
    // whose crate is missing, even after a crash.
    let inserted = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            let fresh = store::insert_version(
                &tx,
                &repo_id,
                &NewVersion {
                    name: &name,
                    vers: &vers,
                    index_line: &line,
                    path: &rel,
                    user_id: &user_id,
                    now,
                },
            )?;
            if !fresh {
                return Ok(None);
            }
            if store::owners(&tx, &repo_id, &name)?.is_empty() {
                store::add_owner(&tx, &repo_id, &name, &user_id)?;
            }
            let replaced = repos::replace_file(
                &tx,
                &repo_id,
                &rel,
                &blob,
                "application/x-tar",
                &user_id,
                now,
            )?;
            tx.commit()?;
            Ok(Some(replaced))
        })
        .await;
    fence.release(state).await;
    match inserted {
        Ok(Some(replaced)) => reclaim(state, replaced.into_iter().collect()).await?,
        Ok(None) => {
            reclaim(state, vec![info.sha256]).await?;
            return Err(ApiError::invalid(
                "metadata",
                format!("crate version `{}` is already uploaded", meta.vers),
            ));
        }
        Err(e) => {
            reclaim(state, vec![info.sha256]).await?;
            return Err(e.into());
        }
    };
    tracing::info!(repo = %repo.name, name = %meta.name, vers = %meta.vers, "crate published");
    crate::telemetry::record_publish("cargo");
    Ok(
        Json(json!({"warnings": {"invalid_categories": [], "invalid_badges": [], "other": []}}))
            .into_response(),
    )
}

/// `GET/PUT/DELETE /api/v1/crates/{name}/owners`. Changing owners needs being one (or `editRepository`).
async fn owners(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    name: &str,
    method: &Method,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    authorize(
        state,
        Some(principal),
        repo,
        Operation::Download,
        &format!("crates/{}", name.to_ascii_lowercase()),
    )
    .await?;
    let (repo_id, key) = (repo.id.clone(), name.to_string());
    let current = state
        .db
        .call(move |conn| store::owners(conn, &repo_id, &key))
        .await?;
    if current.is_empty() {
        return Err(ApiError::not_found(format!("No crate {name}")));
    }
    if method == Method::GET {
        let users: Vec<Value> = current
            .iter()
            .enumerate()
            .map(|(i, (id, login))| json!({"id": i + 1, "login": login, "name": login, "user_id": id}))
            .collect();
        return Ok(Json(json!({ "users": users })).into_response());
    }
    if method != Method::PUT && method != Method::DELETE {
        return Err(ApiError::MethodNotAllowed);
    }
    let is_owner = current.iter().any(|(id, _)| *id == principal.user_id);
    if !is_owner {
        authorize(state, Some(principal), repo, Operation::EditRepository, "").await?;
    }
    let bytes = crate::http::extract::read_body(body, 64 * 1024).await?;
    let request: Value = serde_json::from_slice(&bytes).map_err(|e| malformed_json(&e))?;
    let logins: Vec<String> = request["users"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    if logins.is_empty() || logins.len() > 50 {
        return Err(ApiError::invalid("users", "must list 1 to 50 user names"));
    }
    let (repo_id, key, domain_id, adding) = (
        repo.id.clone(),
        name.to_string(),
        repo.domain_id.clone(),
        method == Method::PUT,
    );
    let outcome = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            for login in &logins {
                let Some(user) = identity::find_user_by_name(&tx, &domain_id, login)? else {
                    return Ok(Err(ApiError::invalid(
                        "users",
                        format!("no user named `{login}`"),
                    )));
                };
                if adding {
                    store::add_owner(&tx, &repo_id, &key, &user.id)?;
                } else {
                    store::remove_owner(&tx, &repo_id, &key, &user.id)?;
                }
            }
            if store::owners(&tx, &repo_id, &key)?.is_empty() {
                return Ok(Err(ApiError::Conflict(
                    "a crate must keep at least one owner".into(),
                )));
            }
            tx.commit()?;
            Ok(Ok(logins))
        })
        .await??;
    let verb = if method == Method::PUT {
        "added"
    } else {
        "removed"
    };
    Ok(
        Json(json!({"ok": true, "msg": format!("owners {verb}: {}", outcome.join(", "))}))
            .into_response(),
    )
}
