//! Cargo through a virtual repository: an index file merged over the members by version (the first member
//! in order that lists a version wins it), downloads from the member whose line won, and only members the
//! caller may download from. With `hosted_names_hide_remote`, a crate a hosted member holds is looked up
//! in hosted members only.

use std::collections::HashSet;

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;

use super::cargo::{crate_path, hosted_download, hosted_index};
use super::download::serve_bytes;
use super::{cargo_remote, members};
use crate::auth::Principal;
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::repo_kinds::REMOTE;
use crate::store::repos::Repository;

/// An index file's lines of one member, and when they changed (0 when unknown).
async fn member_index(
    state: &AppState,
    member: &Repository,
    index_rel: &str,
    name: &str,
    caller: Option<&Principal>,
) -> Result<Option<(String, i64)>, ApiError> {
    if member.repo_type == REMOTE {
        let body = cargo_remote::index_document(state, member, index_rel, caller).await?;
        Ok(body.map(|b| (String::from_utf8_lossy(&b).into_owned(), 0)))
    } else {
        hosted_index(state, member, name).await
    }
}

/// The members the caller may read crate `name` from, in order, after the dependency-confusion rule.
async fn readable_members(
    state: &AppState,
    repo: &Repository,
    name: &str,
    caller: Option<&Principal>,
) -> Result<Vec<Repository>, ApiError> {
    let (_, mut readable, guards) =
        members::readable(state, repo, caller, &format!("crates/{name}")).await?;
    for member in &guards {
        if hosted_index(state, member, name).await?.is_some() {
            members::keep_hosted_only(&mut readable);
            break;
        }
    }
    Ok(readable)
}

/// The merged index file: each version's line from the first member that lists it, and the member.
async fn merged(
    state: &AppState,
    members: &[Repository],
    index_rel: &str,
    name: &str,
    caller: Option<&Principal>,
) -> Result<(Vec<(Value, usize)>, i64, Option<ApiError>), ApiError> {
    let mut seen = HashSet::new();
    let mut lines = Vec::new();
    let mut modified = 0;
    let mut upstream_failure = None;
    for (position, member) in members.iter().enumerate() {
        let index = match member_index(state, member, index_rel, name, caller).await {
            Ok(Some(found)) => found,
            Ok(None) | Err(ApiError::NotFound(_)) => continue,
            Err(failure @ ApiError::Upstream { .. }) => {
                upstream_failure.get_or_insert(failure);
                continue;
            }
            Err(other) => return Err(other),
        };
        modified = modified.max(index.1);
        for line in index.0.lines() {
            let Ok(entry) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            if let Some(vers) = entry["vers"].as_str() {
                if seen.insert(vers.to_string()) {
                    lines.push((entry, position));
                }
            }
        }
    }
    Ok((lines, modified, upstream_failure))
}

pub async fn index_file(
    state: &AppState,
    repo: &Repository,
    index_rel: &str,
    name: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let members = readable_members(state, repo, name, caller).await?;
    let (lines, modified, upstream_failure) =
        merged(state, &members, index_rel, name, caller).await?;
    if lines.is_empty() {
        return Err(
            upstream_failure.unwrap_or_else(|| ApiError::not_found(format!("No crate {name}")))
        );
    }
    let mut body = String::new();
    for (entry, _) in &lines {
        body.push_str(&entry.to_string());
        body.push('\n');
    }
    Ok(serve_bytes(
        body.into_bytes(),
        "text/plain; charset=utf-8",
        modified,
        headers,
        head,
    ))
}

pub async fn download(
    state: &AppState,
    repo: &Repository,
    name: &str,
    vers: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let lower = name.to_ascii_lowercase();
    let index_rel = crate::formats::cargo::index_path(&lower);
    let members = readable_members(state, repo, &lower, caller).await?;
    let (lines, _, upstream_failure) = merged(state, &members, &index_rel, &lower, caller).await?;
    let Some((_, position)) = lines.iter().find(|(entry, _)| entry["vers"] == vers) else {
        return Err(upstream_failure.unwrap_or_else(|| {
            ApiError::not_found(format!("crate `{name}` has no version {vers}"))
        }));
    };
    let member = &members[*position];
    if member.repo_type == REMOTE {
        let rel = crate_path(name, vers);
        cargo_remote::download(state, member, name, vers, &rel, headers, head, caller).await
    } else {
        hosted_download(state, member, name, vers, headers, head).await
    }
}
