//! Maven and generic virtual repositories: one URL in front of an ordered list of hosted and remote
//! members. A read asks the members in order and answers with the first that has the path, consulting
//! only members the caller may download from; an artifact's `maven-metadata.xml` is the merge of every
//! member's (versions unioned, `latest`/`release` the highest). A change goes to the default deploy
//! repository. With `hosted_names_hide_remote`, an artifact (`groupId:artifactId`) that a hosted member
//! holds is never looked up in a remote member: a public package cannot shadow a private one.

use axum::http::HeaderMap;
use axum::response::Response;

use super::download::serve_bytes;
use super::{hosted, members, remote};
use crate::auth::Principal;
use crate::domain::artifact_path::ArtifactPath;
use crate::formats::maven;
use crate::http::app::AppState;
use crate::http::artifact::repositories::MAVEN_FORMAT;
use crate::http::error::ApiError;
use crate::service::remote_fetch::{self, Expected, Fetched, Freshness, Source};
use crate::service::repo_kinds::{HOSTED, REMOTE};
use crate::store::repos::{self, Repository};

/// `groupId/artifactId/` of a Maven path (a version file, or a metadata file at either level).
fn artifact_dir(path: &str) -> Option<String> {
    if let Some(v) = maven::version_file(path) {
        return Some(format!("{}/{}/", v.group_path, v.artifact_id));
    }
    let base = maven::checksum_target(path).map_or(path, |(b, _)| b);
    let dir = base.strip_suffix("/maven-metadata.xml")?;
    let (parent, last) = dir.rsplit_once('/')?;
    Some(if maven::is_snapshot_version(last) {
        format!("{parent}/")
    } else {
        format!("{dir}/")
    })
}

/// A read through virtual repository `repo` (authorized on it already).
pub async fn get(
    state: &AppState,
    repo: &Repository,
    path: &ArtifactPath,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let (settings, mut readable, guards) =
        members::readable(state, repo, caller, path.as_str()).await?;
    let rel = path.as_str();
    let maven_layout = repo.format == MAVEN_FORMAT;
    if settings.hosted_names_hide_remote && !maven_layout && repo.format != "generic" {
        // An npm, PyPI or Cargo path read as a plain file: only that format's protocol knows which
        // package a path belongs to, so here remote members are not consulted at all.
        members::keep_hosted_only(&mut readable);
    }
    if maven_layout && !guards.is_empty() {
        if let Some(dir) = artifact_dir(rel) {
            if hosted_holds(state, &guards, &dir).await? {
                members::keep_hosted_only(&mut readable);
            }
        }
    }
    if path.is_dir || path.is_root() {
        return hosted::list_members(state, repo, &readable, path, headers, head).await;
    }
    if maven_layout {
        if let Some(answer) = merged_metadata(state, &readable, rel, headers, head, caller).await? {
            return Ok(answer);
        }
    }
    let mut upstream_failure = None;
    for member in &readable {
        let answer = if member.repo_type == REMOTE {
            remote::get_file(state, member, path, headers, head, caller).await
        } else {
            match hosted::get_file(state, member, rel, headers, head).await {
                Ok(Some(found)) => Ok(found),
                Ok(None) => continue,
                Err(e) => Err(e),
            }
        };
        match answer {
            Ok(response) => return Ok(response),
            Err(ApiError::NotFound(_)) => continue,
            // One member's upstream failing does not hide what the next member has.
            Err(failure @ ApiError::Upstream { .. }) => {
                upstream_failure.get_or_insert(failure);
            }
            Err(other) => return Err(other),
        }
    }
    Err(upstream_failure.unwrap_or_else(|| {
        ApiError::not_found(format!("No file {rel} in {} or its members", repo.name))
    }))
}

/// Whether a hosted member holds anything under `dir`.
async fn hosted_holds(
    state: &AppState,
    members: &[Repository],
    dir: &str,
) -> Result<bool, ApiError> {
    let hosted: Vec<String> = members
        .iter()
        .filter(|m| m.repo_type == HOSTED)
        .map(|m| m.id.clone())
        .collect();
    let dir = dir.to_string();
    Ok(state
        .db
        .call(move |conn| {
            for id in &hosted {
                if !repos::live_files_under(conn, id, &dir)?.is_empty() {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await?)
}

/// An artifact-level `maven-metadata.xml` (or a checksum of it) merged over the members; `None` for any
/// other path, which the members answer one by one.
async fn merged_metadata(
    state: &AppState,
    members: &[Repository],
    rel: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Option<Response>, ApiError> {
    let (base, algorithm) = match maven::checksum_target(rel) {
        Some((base, algorithm)) => (base, Some(algorithm)),
        None => (rel, None),
    };
    let Some(dir) = base.strip_suffix("/maven-metadata.xml") else {
        return Ok(None);
    };
    let Some((group_path, artifact_id)) = dir.rsplit_once('/') else {
        return Ok(None);
    };
    if maven::is_snapshot_version(artifact_id) {
        return Ok(None);
    }
    let mut found = Vec::new();
    let mut newest = 0i64;
    let mut upstream_failure = None;
    for member in members {
        let xml = if member.repo_type == REMOTE {
            match remote_metadata(state, member, base, caller).await {
                Ok(xml) => xml,
                Err(failure @ ApiError::Upstream { .. }) => {
                    upstream_failure.get_or_insert(failure);
                    None
                }
                Err(other) => return Err(other),
            }
        } else {
            match hosted::maven_metadata(state, member, dir).await {
                Ok((xml, modified)) => {
                    newest = newest.max(modified);
                    Some(xml.into_bytes())
                }
                Err(ApiError::NotFound(_)) => None,
                Err(other) => return Err(other),
            }
        };
        if let Some(parsed) = xml.as_deref().and_then(maven::read_metadata_versions) {
            found.push(parsed);
        }
    }
    let Some(xml) = maven::merged_metadata(&group_path.replace('/', "."), artifact_id, &found)
    else {
        return Err(upstream_failure
            .unwrap_or_else(|| ApiError::not_found("No artifact at this path in any member")));
    };
    let (content, content_type) = match algorithm {
        None => (xml.into_bytes(), "application/xml"),
        Some(algorithm) => {
            let info = crate::blob::BlobInfo::of(xml.as_bytes());
            let digest = info.digest(algorithm).unwrap_or_default();
            (digest.as_bytes().to_vec(), "text/plain")
        }
    };
    Ok(Some(serve_bytes(
        content,
        content_type,
        newest,
        headers,
        head,
    )))
}

/// A remote member's `maven-metadata.xml`, fetched through it; `None` when its upstream has none.
async fn remote_metadata(
    state: &AppState,
    member: &Repository,
    base: &str,
    caller: Option<&Principal>,
) -> Result<Option<Vec<u8>>, ApiError> {
    let settings = remote::settings_of(state, member).await?;
    let source = Source {
        repo: member,
        settings: &settings,
        path: base,
        url: remote_fetch::url_of(&settings, base)?,
        freshness: Freshness::Mutable,
        expected: Expected::default(),
        checksum_file: None,
        whole: true,
        accept: None,
        user_id: remote::taker(caller),
        registry_scope: None,
    };
    match remote_fetch::fetch(state, source).await? {
        Fetched::Cached { file, .. } => Ok(Some(
            super::download::read_whole(state, &file.sha256, file.size).await?,
        )),
        Fetched::Missing => Ok(None),
        Fetched::Streaming { .. } => Err(ApiError::Internal(
            "a whole fetch answered with a stream".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_dirs() {
        assert_eq!(
            artifact_dir("org/ex/lib/1.0/lib-1.0.jar").as_deref(),
            Some("org/ex/lib/")
        );
        assert_eq!(
            artifact_dir("org/ex/lib/maven-metadata.xml.sha1").as_deref(),
            Some("org/ex/lib/")
        );
        assert_eq!(
            artifact_dir("org/ex/lib/1.0-SNAPSHOT/maven-metadata.xml").as_deref(),
            Some("org/ex/lib/")
        );
        assert_eq!(artifact_dir("readme.txt"), None);
    }
}
