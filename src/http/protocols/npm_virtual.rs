//! npm through a virtual repository: the packument merged over the members the caller may read
//! (`formats::npm_merge`), its tarball links at the virtual repository, and each tarball served by the
//! first member in order that has it — the member whose version won the merge, since a version names one
//! tarball file. With `hosted_names_hide_remote`, a package a hosted member holds is read from hosted
//! members only. Changes go to the default deploy repository (see `npm::dispatch`).

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Map, Value};

use super::access::authorize;
use super::download::serve_bytes;
use super::npm::{hosted_packument, hosted_tarball, iso, load_package, packument_response};
use super::remote::mark_stale;
use super::{members, npm_remote, remote};
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::formats::{npm_merge, npm_upstream};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::npm_remote as remote_service;
use crate::service::repo_kinds::REMOTE;
use crate::store::repos::Repository;

/// The members to read package `name` (or its file at `path`) from, in order.
async fn sources(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    name: &str,
    path: &str,
) -> Result<Vec<Repository>, ApiError> {
    authorize(state, caller, repo, Operation::Download, path).await?;
    let (_, mut readable, guards) = members::readable(state, repo, caller, path).await?;
    for member in &guards {
        let held = load_package(state, member, name).await?;
        if held.is_some_and(|p| !p.live.is_empty()) {
            members::keep_hosted_only(&mut readable);
            break;
        }
    }
    Ok(readable)
}

struct Merged {
    doc: Value,
    modified: i64,
    /// Some member's part came from its cache because its upstream could not be asked.
    stale: bool,
}

async fn merged(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    base: &str,
    name: &str,
    abbreviated: bool,
) -> Result<Merged, ApiError> {
    let readable = sources(state, repo, caller, name, name).await?;
    let mut docs = Vec::with_capacity(readable.len());
    let (mut modified, mut stale) = (0, false);
    let mut upstream_failure = None;
    for member in &readable {
        if member.repo_type == REMOTE {
            let settings = remote::settings_of(state, member).await?;
            let taker = remote::taker(caller);
            match remote_service::packument(state, member, &settings, name, taker).await {
                Ok(Some(found)) => {
                    let fallback = iso(found.file.modified_at);
                    let served = npm_upstream::served(found.doc, name, base, false, &fallback);
                    modified = modified.max(found.file.modified_at);
                    stale |= found.stale;
                    if let Value::Object(doc) = served {
                        docs.push(doc);
                    }
                }
                Ok(None) | Err(ApiError::NotFound(_)) => {}
                // One member's upstream failing does not hide what the others have.
                Err(failure @ ApiError::Upstream { .. }) => {
                    upstream_failure.get_or_insert(failure);
                }
                Err(other) => return Err(other),
            }
        } else if let Some((Value::Object(doc), changed)) =
            hosted_packument(state, member, name, base, false).await?
        {
            modified = modified.max(changed);
            docs.push(doc);
        }
    }
    match npm_merge::merge(name, docs, abbreviated) {
        Some(doc) => Ok(Merged {
            doc,
            modified,
            stale,
        }),
        None => Err(upstream_failure
            .unwrap_or_else(|| ApiError::not_found(format!("package {name} not found")))),
    }
}

#[allow(clippy::too_many_arguments)]
pub async fn packument(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    headers: &HeaderMap,
    base: &str,
    name: &str,
    abbreviated: bool,
    head: bool,
) -> Result<Response, ApiError> {
    let found = merged(state, repo, caller, base, name, abbreviated).await?;
    let mut response = packument_response(&found.doc, abbreviated, found.modified, headers, head);
    mark_stale(&mut response, found.stale);
    Ok(response)
}

/// `npm dist-tag ls` through the virtual repository: the merged packument's tags.
pub async fn dist_tags(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    headers: &HeaderMap,
    name: &str,
) -> Result<Response, ApiError> {
    let found = merged(state, repo, caller, "", name, true).await?;
    let tags = found
        .doc
        .get("dist-tags")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let mut response = serve_bytes(
        tags.to_string().into_bytes(),
        "application/json",
        found.modified,
        headers,
        false,
    );
    mark_stale(&mut response, found.stale);
    Ok(response)
}

/// A tarball through the virtual repository, from the first member that has it.
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
    let readable = sources(state, repo, caller, name, &path).await?;
    let mut upstream_failure = None;
    for member in &readable {
        let answer = if member.repo_type == REMOTE {
            npm_remote::serve_tarball(state, member, caller, headers, name, file, head).await
        } else {
            hosted_tarball(state, member, name, file, headers, head).await
        };
        match answer {
            Err(ApiError::NotFound(_)) => continue,
            Err(failure @ ApiError::Upstream { .. }) => {
                upstream_failure.get_or_insert(failure);
            }
            other => return other,
        }
    }
    Err(upstream_failure.unwrap_or_else(|| ApiError::not_found(format!("No tarball {file}"))))
}
