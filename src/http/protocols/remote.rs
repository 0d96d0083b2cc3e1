//! Reads through remote repositories, as answers: a cached copy with the headers of a hosted file (and a
//! `Warning` when it is served stale because the upstream failed), or the bytes of a fetch as they arrive.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::download::{serve_bytes, serve_file};
use crate::auth::Principal;
use crate::domain::artifact_path::ArtifactPath;
use crate::formats::maven;
use crate::http::app::AppState;
use crate::http::artifact::repositories::MAVEN_FORMAT;
use crate::http::error::ApiError;
use crate::service::remote_fetch::{self, Expected, Fetched, Freshness, Source};
use crate::store::remote::{self, RemoteSettings};
use crate::store::repos::Repository;

/// The remote settings of `repo`, which must exist for a remote repository.
pub async fn settings_of(state: &AppState, repo: &Repository) -> Result<RemoteSettings, ApiError> {
    let id = repo.id.clone();
    state
        .db
        .call(move |conn| remote::get_remote(conn, &id))
        .await?
        .ok_or_else(|| ApiError::Internal("a remote repository without settings".into()))
}

/// Who a fetched copy is recorded as taken by: the caller, or nobody for an anonymous read.
pub fn taker(caller: Option<&Principal>) -> &str {
    caller.map(|p| p.user_id.as_str()).unwrap_or("")
}

/// `Warning: 110` on an answer that rests on a copy the upstream could not confirm.
pub fn mark_stale(response: &mut Response, stale: bool) {
    if stale {
        response.headers_mut().insert(
            header::WARNING,
            HeaderValue::from_static("110 arca \"Response is Stale\""),
        );
    }
}

/// The answer for what a read through a remote repository found.
pub async fn respond(
    state: &AppState,
    fetched: Fetched,
    request_headers: &HeaderMap,
    head: bool,
    missing: impl FnOnce() -> ApiError,
) -> Result<Response, ApiError> {
    match fetched {
        Fetched::Missing => Err(missing()),
        Fetched::Cached { file, stale } => {
            let mut response = serve_file(state, &file, request_headers, head).await?;
            mark_stale(&mut response, stale);
            Ok(response)
        }
        Fetched::Streaming {
            content_type,
            length,
            body,
        } => {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(&content_type) {
                headers.insert(header::CONTENT_TYPE, v);
            }
            if let Some(len) = length {
                headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
            }
            if head {
                // The fetch goes on in its task; this caller wanted the head only.
                return Ok((StatusCode::OK, headers).into_response());
            }
            Ok((StatusCode::OK, headers, Body::from_stream(body)).into_response())
        }
    }
}

/// A Maven or generic file through a remote repository. Maven checksum files of a copy at hand are its
/// own digests (verified when it was fetched); release files are kept for good, metadata and SNAPSHOT
/// files are revalidated after `metadata_max_age_secs`, and so is every generic file (nothing says a
/// generic path never changes).
pub async fn get_file(
    state: &AppState,
    repo: &Repository,
    path: &ArtifactPath,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    if repo.format != MAVEN_FORMAT && repo.format != "generic" {
        // npm, PyPI and Cargo files are fetched through their own protocol only, which knows the URL
        // the package index gives and the digest the file must have: through the plain path a client
        // could otherwise have any upstream URL kept, unverified, at a package's path.
        let (repo_id, rel) = (repo.id.clone(), path.as_str().to_string());
        let cached = state
            .db
            .call(move |conn| crate::store::repos::get_live_file(conn, &repo_id, &rel))
            .await?;
        return match cached {
            Some(file) => serve_file(state, &file, headers, head).await,
            None => Err(ApiError::not_found(format!(
                "No file {} cached in {}: read {} packages through their own protocol",
                path.as_str(),
                repo.name,
                repo.format
            ))),
        };
    }
    let maven_layout = repo.format == MAVEN_FORMAT;
    if maven_layout {
        if let Some((base, algorithm)) = maven::checksum_target(path.as_str()) {
            if let Some(digest) = cached_digest(state, repo, base, algorithm).await? {
                return Ok(serve_bytes(
                    digest.0.into_bytes(),
                    "text/plain",
                    digest.1,
                    headers,
                    head,
                ));
            }
        }
    }
    let rel = path.as_str();
    let found = remote_fetch::look_up(state, repo, rel).await?;
    let settings = &found.settings;
    let mutable = !maven_layout || maven::is_metadata(rel) || rel.contains("-SNAPSHOT/");
    let checksum_file = (maven_layout && !mutable && maven::checksum_target(rel).is_none())
        .then(|| remote_fetch::url_of(settings, &format!("{rel}.sha1")))
        .transpose()?;
    let source = Source {
        repo,
        settings,
        path: rel,
        url: remote_fetch::url_of(settings, rel)?,
        freshness: if mutable {
            Freshness::Mutable
        } else {
            Freshness::Immutable
        },
        expected: Expected::default(),
        checksum_file,
        whole: false,
        accept: None,
        user_id: taker(caller),
        registry_scope: None,
    };
    let fetched = remote_fetch::fetch_known(state, source, found.cached, found.known).await?;
    respond(state, fetched, headers, head, || {
        ApiError::not_found(format!("No file {rel} in {} or its upstream", repo.name))
    })
    .await
}

/// The digest of a live file, and when it changed.
async fn cached_digest(
    state: &AppState,
    repo: &Repository,
    base: &str,
    algorithm: &str,
) -> Result<Option<(String, i64)>, ApiError> {
    let (repo_id, base, algorithm) = (repo.id.clone(), base.to_string(), algorithm.to_string());
    Ok(state
        .db
        .call(move |conn| crate::store::repos::get_live_file(conn, &repo_id, &base))
        .await?
        .and_then(|f| Some((f.digest(&algorithm)?.to_string(), f.modified_at))))
}
