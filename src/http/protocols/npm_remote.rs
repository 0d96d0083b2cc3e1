//! npm reads through a remote repository: packuments (full, and abbreviated derived from the full one)
//! with every `dist.tarball` pointing at arca, tarballs, and dist-tags. The rules are in
//! `service::npm_remote`; this shapes the answers as hosted npm does.

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::Value;

use super::access::authorize;
use super::download::serve_bytes;
use super::remote::{mark_stale, respond, settings_of, taker};
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::formats::npm as format;
use crate::formats::npm_upstream;
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::npm_remote::{self as service, RemotePackument};
use crate::store::repos::Repository;

async fn load(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    name: &str,
) -> Result<RemotePackument, ApiError> {
    authorize(state, caller, repo, Operation::Download, name).await?;
    let settings = settings_of(state, repo).await?;
    service::packument(state, repo, &settings, name, taker(caller))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("package {name} not found")))
}

/// The packument, with the ETag of the document served and the Last-Modified of the cached copy.
#[allow(clippy::too_many_arguments)]
pub async fn packument(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    headers: &HeaderMap,
    tarball_base: &str,
    name: &str,
    abbreviated: bool,
    head: bool,
) -> Result<Response, ApiError> {
    let found = load(state, repo, caller, name).await?;
    let modified = super::npm::iso(found.file.modified_at);
    let body = npm_upstream::served(found.doc, name, tarball_base, abbreviated, &modified);
    let content_type = if abbreviated {
        format::ABBREVIATED
    } else {
        "application/json"
    };
    let mut response = serve_bytes(
        body.to_string().into_bytes(),
        content_type,
        found.file.modified_at,
        headers,
        head,
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    mark_stale(&mut response, found.stale);
    Ok(response)
}

/// A tarball: the kept copy, or fetched from where the packument lists it.
pub async fn tarball(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    headers: &HeaderMap,
    name: &str,
    file: &str,
    head: bool,
) -> Result<Response, ApiError> {
    let path = format!("{name}/-/{file}");
    authorize(state, caller, repo, Operation::Download, &path).await?;
    serve_tarball(state, repo, caller, headers, name, file, head).await
}

/// `tarball`, authorized already (a virtual repository's member).
pub async fn serve_tarball(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    headers: &HeaderMap,
    name: &str,
    file: &str,
    head: bool,
) -> Result<Response, ApiError> {
    let settings = settings_of(state, repo).await?;
    let fetched = service::tarball(state, repo, &settings, name, file, taker(caller)).await?;
    respond(state, fetched, headers, head, || {
        ApiError::not_found(format!("No tarball {file}"))
    })
    .await
}

/// `npm dist-tag ls`: the tags of the served packument.
pub async fn dist_tags(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    headers: &HeaderMap,
    name: &str,
) -> Result<Response, ApiError> {
    let found = load(state, repo, caller, name).await?;
    let served = npm_upstream::served(found.doc, name, "", true, "");
    let tags = served.get("dist-tags").cloned().unwrap_or(Value::Null);
    let mut response = serve_bytes(
        tags.to_string().into_bytes(),
        "application/json",
        found.file.modified_at,
        headers,
        false,
    );
    mark_stale(&mut response, found.stale);
    Ok(response)
}
