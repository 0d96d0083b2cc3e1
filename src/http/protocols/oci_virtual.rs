//! Container images through a virtual `docker2` repository, over the members the caller may read, in
//! order: a manifest or a blob from the first member that has it, `tags/list` the union of the members'
//! tags and referrers. One member's upstream failing does not hide what the others have; when none has it, the
//! failure is answered rather than a 404. With `hosted_names_hide_remote`, an image a hosted member
//! holds is not looked up in remote members. Pushes go to the default deploy repository
//! (`oci::dispatch`).

use axum::body::Body;
use axum::http::request::Parts;
use axum::response::Response;

use super::oci::{allow, registry, Caller};
use super::oci_manifests::reference_path;
use super::{members, oci_blobs, oci_manifests, oci_remote};
use crate::domain::operation::Operation;
use crate::formats::oci::{Digest, Endpoint, Target};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::repo_kinds::REMOTE;
use crate::store::oci::blob_path;
use crate::store::repos::Repository;

/// Whether a member's error means only that it lacks what was asked.
fn is_absence(e: &ApiError) -> bool {
    match e {
        ApiError::Registry { oci_code, .. } => matches!(
            *oci_code,
            "MANIFEST_UNKNOWN" | "BLOB_UNKNOWN" | "NAME_UNKNOWN"
        ),
        ApiError::NotFound(_) => true,
        _ => false,
    }
}

/// Authorizes the read on the virtual repository and answers the members the caller may read. With
/// `hosted_names_hide_remote`, an image a hosted member holds is read from hosted members only.
async fn readable(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    rel: &str,
) -> Result<Vec<Repository>, ApiError> {
    allow(state, caller, repo, target, Operation::Download, rel).await?;
    let (_, mut readable, guards) =
        members::readable(state, repo, caller.principal.as_ref(), rel).await?;
    for member in &guards {
        if oci_manifests::hosted_tags(state, member, &target.image)
            .await?
            .is_some()
        {
            members::keep_hosted_only(&mut readable);
            break;
        }
    }
    Ok(readable)
}

/// A manifest or a blob from the first member that has it.
pub(super) async fn read(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let image = &target.image;
    let (rel, unknown) = match &target.endpoint {
        Endpoint::Manifest(reference) => (
            reference_path(image, reference),
            registry("MANIFEST_UNKNOWN", 404, "manifest unknown to registry"),
        ),
        Endpoint::Blob(d) => (
            blob_path(image, &d.to_string()),
            registry("BLOB_UNKNOWN", 404, "blob unknown to registry"),
        ),
        _ => return Err(ApiError::MethodNotAllowed),
    };
    let mut failure = None;
    for member in readable(state, caller, repo, target, &rel).await? {
        let remote = member.repo_type == REMOTE;
        let answer = match &target.endpoint {
            Endpoint::Manifest(_) if remote => {
                oci_remote::manifest(state, caller, &member, target, parts).await
            }
            Endpoint::Manifest(_) => {
                oci_manifests::manifest(state, caller, &member, target, parts, Body::empty(), None)
                    .await
            }
            Endpoint::Blob(d) if remote => {
                oci_remote::blob(state, caller, &member, target, d, parts).await
            }
            Endpoint::Blob(d) => oci_blobs::blob(state, caller, &member, target, d, parts).await,
            _ => Err(ApiError::MethodNotAllowed),
        };
        match answer {
            Ok(response) => return Ok(response),
            Err(e) if is_absence(&e) => {}
            Err(e @ ApiError::Upstream { .. }) => {
                failure.get_or_insert(e);
            }
            Err(other) => return Err(other),
        }
    }
    Err(failure.unwrap_or(unknown))
}

/// Before a manifest pushed through virtual repository `via` is stored in its deploy repository
/// `deploy`: the blobs it references that `deploy` lacks but a member the caller may read has are linked
/// into `deploy`. A client asks `HEAD /blobs/<digest>` of the virtual repository before it uploads a
/// layer, and skips the upload when any member has it (a base image pulled through a remote member).
pub(super) async fn fill_blobs(
    state: &AppState,
    caller: &Caller,
    via: &Repository,
    deploy: &Repository,
    image: &str,
    blobs: &[Digest],
) -> Result<(), ApiError> {
    for digest in blobs {
        let path = blob_path(image, &digest.to_string());
        if oci_blobs::live_file(state, deploy, path.clone())
            .await?
            .is_some()
        {
            continue;
        }
        let (_, readable, _) =
            members::readable(state, via, caller.principal.as_ref(), &path).await?;
        for member in readable.iter().filter(|m| m.id != deploy.id) {
            let found = if member.repo_type == REMOTE {
                match oci_remote::kept_blob(state, caller, member, image, digest).await {
                    Ok(found) => found,
                    Err(ApiError::Upstream { .. }) => None,
                    Err(other) => return Err(other),
                }
            } else {
                oci_blobs::live_file(state, member, path.clone()).await?
            };
            if let Some(file) = found {
                oci_blobs::link_blob(state, caller, deploy, image, digest, file).await?;
                break;
            }
        }
    }
    Ok(())
}

/// `GET /v2/<name>/referrers/<digest>`: the union of the members' referrers (each manifest once, as the
/// first member lists it); 404 when no member answers any (no referrers API upstream).
pub(super) async fn referrers(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    digest: &Digest,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let rel = format!("{}/referrers", target.image);
    let mut all: Option<Vec<serde_json::Value>> = None;
    let mut stale = false;
    let mut failure = None;
    for member in readable(state, caller, repo, target, &rel).await? {
        let found = if member.repo_type == REMOTE {
            oci_remote::referrer_list(state, caller, &member, target, digest).await
        } else {
            oci_manifests::hosted_referrers(state, &member, &target.image, digest)
                .await
                .map(|d| Some((d, false)))
        };
        match found {
            Ok(Some((descriptors, s))) => {
                stale |= s;
                let merged = all.get_or_insert_with(Vec::new);
                for d in descriptors {
                    if !merged.iter().any(|m| m.get("digest") == d.get("digest")) {
                        merged.push(d);
                    }
                }
            }
            Ok(None) => {}
            Err(e @ ApiError::Upstream { .. }) => {
                failure.get_or_insert(e);
            }
            Err(other) => return Err(other),
        }
    }
    let Some(all) = all else {
        return Err(failure.unwrap_or_else(oci_remote::no_referrers));
    };
    let mut response = oci_manifests::referrers_answer(all, parts)?;
    super::remote::mark_stale(&mut response, stale);
    Ok(response)
}

/// `GET /v2/<name>/tags/list`: the union of the members' tags.
pub(super) async fn tags(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let rel = format!("{}/tags", target.image);
    let mut all: Option<Vec<String>> = None;
    let mut stale = false;
    let mut failure = None;
    for member in readable(state, caller, repo, target, &rel).await? {
        let found = if member.repo_type == REMOTE {
            oci_remote::tag_list(state, caller, &member, target).await
        } else {
            oci_manifests::hosted_tags(state, &member, &target.image)
                .await
                .map(|t| t.map(|tags| (tags, false)))
        };
        match found {
            Ok(Some((tags, s))) => {
                stale |= s;
                all.get_or_insert_with(Vec::new).extend(tags);
            }
            Ok(None) => {}
            Err(e @ ApiError::Upstream { .. }) => {
                failure.get_or_insert(e);
            }
            Err(other) => return Err(other),
        }
    }
    let Some(all) = all else {
        return Err(failure.unwrap_or_else(|| {
            registry("NAME_UNKNOWN", 404, "repository name not known to registry")
        }));
    };
    let mut response = oci_manifests::tags_answer(target, all, parts)?;
    super::remote::mark_stale(&mut response, stale);
    Ok(response)
}
