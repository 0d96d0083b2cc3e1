//! Go modules through a virtual repository, over the members the caller may read, in order: `@v/list`
//! the union of the members' lists (each version once, where it first appears), `@latest` the highest
//! version any member's `@latest` names (a release above pre-releases, as `go` picks), and a version's
//! `.info`, `.mod` and `.zip` from the first member that has it. With `hosted_names_hide_remote`, a
//! module a hosted member holds is read from hosted members only. One member's upstream failing does
//! not hide what the others have. Publishing goes to the default deploy repository (`go::dispatch`).

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::download::serve_bytes;
use super::go::{hosted_versions, info_json, read_hosted, Resource, Target, MOD_TYPE};
use super::remote::mark_stale;
use super::{go_remote, members};
use crate::auth::Principal;
use crate::formats::{go as format, go_upstream};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::repo_kinds::REMOTE;
use crate::store::repos::Repository;

/// The members to read `module` from, in order, after the dependency-confusion rule.
async fn readable_members(
    state: &AppState,
    repo: &Repository,
    module: &str,
    path: &str,
    caller: Option<&Principal>,
) -> Result<Vec<Repository>, ApiError> {
    let (_, mut readable, guards) = members::readable(state, repo, caller, path).await?;
    for member in &guards {
        if !hosted_versions(state, member, module).await?.is_empty() {
            members::keep_hosted_only(&mut readable);
            break;
        }
    }
    Ok(readable)
}

/// What one member says of a module's versions: each with its `.info` time where known.
struct Versions {
    list: Vec<String>,
    /// The member's `@latest`: its version and `Time`.
    latest: Option<(String, String)>,
    modified: i64,
    stale: bool,
}

async fn member_versions(
    state: &AppState,
    member: &Repository,
    target: &Target,
    caller: Option<&Principal>,
) -> Result<Option<Versions>, ApiError> {
    if member.repo_type != REMOTE {
        let versions = hosted_versions(state, member, &target.module).await?;
        if versions.is_empty() {
            return Ok(None);
        }
        let modified = versions.iter().map(|v| v.1).max().unwrap_or(0);
        let latest = format::latest(versions.iter().map(|v| v.0.as_str())).and_then(|best| {
            let published = versions.iter().find(|v| v.0 == best)?.1;
            let info = info_json(best, published);
            Some((best.to_string(), info["Time"].as_str()?.to_string()))
        });
        return Ok(Some(Versions {
            list: versions.into_iter().map(|v| v.0).collect(),
            latest,
            modified,
            stale: false,
        }));
    }
    if target.resource == Resource::List {
        let Some((bytes, modified, stale)) =
            go_remote::document(state, member, target, caller).await?
        else {
            return Ok(None);
        };
        return Ok(Some(Versions {
            list: go_upstream::listed_versions(&bytes),
            latest: None,
            modified,
            stale,
        }));
    }
    let Some((bytes, modified, stale)) = go_remote::document(state, member, target, caller).await?
    else {
        return Ok(None);
    };
    let latest = go_upstream::info_version(&bytes)
        .map(|v| (v, go_upstream::info_time(&bytes).unwrap_or_default()));
    Ok(Some(Versions {
        list: Vec::new(),
        latest,
        modified,
        stale,
    }))
}

/// The answer for `target` read through virtual repository `repo`.
pub async fn read(
    state: &AppState,
    repo: &Repository,
    target: &Target,
    auth_path: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let readable = readable_members(state, repo, &target.module, auth_path, caller).await?;
    match &target.resource {
        Resource::List | Resource::Latest => {
            documents(state, &readable, target, headers, head, caller).await
        }
        Resource::Info(v) | Resource::Mod(v) | Resource::Zip(v) => {
            version_file(state, &readable, target, v, headers, head, caller).await
        }
    }
}

async fn documents(
    state: &AppState,
    readable: &[Repository],
    target: &Target,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let mut found = Vec::new();
    let mut upstream_failure = None;
    for member in readable {
        match member_versions(state, member, target, caller).await {
            Ok(Some(versions)) => found.push(versions),
            Ok(None) | Err(ApiError::NotFound(_)) => {}
            Err(failure @ ApiError::Upstream { .. }) => {
                upstream_failure.get_or_insert(failure);
            }
            Err(other) => return Err(other),
        }
    }
    let unknown = || {
        upstream_failure
            .unwrap_or_else(|| ApiError::not_found(format!("unknown module {}", target.module)))
    };
    if found.is_empty() {
        return Err(unknown());
    }
    let modified = found.iter().map(|v| v.modified).max().unwrap_or(0);
    let stale = found.iter().any(|v| v.stale);
    let mut response = if target.resource == Resource::List {
        let mut seen = std::collections::HashSet::new();
        let mut body = String::new();
        for version in found.iter().flat_map(|v| &v.list) {
            if seen.insert(version.as_str()) {
                body.push_str(version);
                body.push('\n');
            }
        }
        serve_bytes(body.into_bytes(), MOD_TYPE, modified, headers, head)
    } else {
        let candidates: Vec<&(String, String)> =
            found.iter().filter_map(|v| v.latest.as_ref()).collect();
        let Some(best) = format::latest(candidates.iter().map(|c| c.0.as_str())) else {
            return Err(unknown());
        };
        let time = candidates
            .iter()
            .find(|c| c.0 == best)
            .map_or("", |c| c.1.as_str());
        let body = json!({"Version": best, "Time": time}).to_string();
        serve_bytes(
            body.into_bytes(),
            "application/json",
            modified,
            headers,
            head,
        )
    };
    mark_stale(&mut response, stale);
    Ok(response)
}

/// A version's file from the first member that has the version. A member that deleted it (410) does
/// not stop the search; when no member has it, 410 if one deleted it, else 404.
#[allow(clippy::too_many_arguments)]
async fn version_file(
    state: &AppState,
    readable: &[Repository],
    target: &Target,
    version: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let mut upstream_failure = None;
    let mut gone = None;
    for member in readable {
        let answer = if member.repo_type == REMOTE {
            go_remote::read(state, member, target, headers, head, caller).await
        } else {
            read_hosted(state, member, target.clone(), headers, head).await
        };
        match answer {
            Ok(response) if response.status() == StatusCode::GONE => {
                gone.get_or_insert(response);
            }
            Ok(response) => return Ok(response),
            Err(ApiError::NotFound(_)) => {}
            Err(failure @ ApiError::Upstream { .. }) => {
                upstream_failure.get_or_insert(failure);
            }
            Err(other) => return Err(other),
        }
    }
    if let Some(response) = gone {
        return Ok(response);
    }
    Err(upstream_failure.unwrap_or_else(|| super::go::unknown_version(&target.module, version)))
}
