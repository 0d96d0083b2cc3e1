//! PyPI through a virtual repository: a project's page is the union of its members' pages by file name
//! (the first member in order that lists a name wins it, `formats::pypi::union_by_filename`), every link
//! on the virtual repository itself; a file is served by the member whose entry won its name; only
//! members the caller may download from are consulted. With `hosted_names_hide_remote`, a project a
//! hosted member holds is looked up in hosted members only. Changes go to the default deploy
//! repository (`pypi::dispatch`).

use axum::http::HeaderMap;
use axum::response::Response;

use super::download::serve_bytes;
use super::pypi::{hosted_files, page_response, wants, with_vary};
use super::{members, pypi_remote};
use crate::auth::Principal;
use crate::formats::pypi::{self, IndexFile};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::repo_kinds::REMOTE;
use crate::store::pypi as store;
use crate::store::repos::{self, Repository};

/// The members the caller may download `path` from, in order, after the dependency-confusion rule for
/// `project`.
async fn readable_members(
    state: &AppState,
    repo: &Repository,
    project: &str,
    path: &str,
    caller: Option<&Principal>,
) -> Result<Vec<Repository>, ApiError> {
    let (_, mut readable, guards) = members::readable(state, repo, caller, path).await?;
    for member in &guards {
        let (repo_id, key) = (member.id.clone(), project.to_string());
        let holds = state
            .db
            .call(move |conn| store::live_of_project(conn, &repo_id, &key))
            .await?;
        if !holds.is_empty() {
            members::keep_hosted_only(&mut readable);
            break;
        }
    }
    Ok(readable)
}

/// One member's page of a project; what it holds and how.
struct MemberPage {
    name: Option<String>,
    files: Vec<IndexFile>,
    modified: i64,
    stale: bool,
}

/// `simple/{project}/` (normalised) through virtual repository `repo` (authorized on it already).
pub async fn project_index(
    state: &AppState,
    repo: &Repository,
    project: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let media = wants(headers)?;
    let path = format!("packages/{project}");
    let readable = readable_members(state, repo, project, &path, caller).await?;
    let mut pages = Vec::with_capacity(readable.len());
    let mut upstream_failure = None;
    for member in &readable {
        let page = if member.repo_type == REMOTE {
            pypi_remote::project_files(state, member, project, caller)
                .await
                .map(|found| {
                    found.map(|l| MemberPage {
                        name: None,
                        files: l.files,
                        modified: l.modified,
                        stale: l.stale,
                    })
                })
        } else {
            hosted_files(state, member, project).await.map(|found| {
                found.map(|(name, files, modified)| MemberPage {
                    name: Some(name),
                    files,
                    modified,
                    stale: false,
                })
            })
        };
        match page {
            Ok(Some(page)) => pages.push(page),
            Ok(None) | Err(ApiError::NotFound(_)) => {}
            // One member's upstream failing does not hide what the others have.
            Err(failure @ ApiError::Upstream { .. }) => {
                upstream_failure.get_or_insert(failure);
            }
            Err(other) => return Err(other),
        }
    }
    let name = pages
        .iter()
        .find_map(|p| p.name.clone())
        .unwrap_or_else(|| project.to_string());
    let modified = pages.iter().map(|p| p.modified).max().unwrap_or(0);
    let stale = pages.iter().any(|p| p.stale);
    let merged = pypi::union_by_filename(project, pages.into_iter().map(|p| p.files).collect());
    if merged.is_empty() {
        return Err(upstream_failure
            .unwrap_or_else(|| ApiError::not_found(format!("No project {project}"))));
    }
    let files: Vec<IndexFile> = merged.into_iter().map(|(file, _)| file).collect();
    let mut response = page_response(&name, &files, media, modified, headers, head);
    super::remote::mark_stale(&mut response, stale);
    Ok(response)
}

/// `simple/` through a virtual repository: the projects of its readable members — a hosted member's
/// projects, a remote member's cached pages (as its own `simple/` lists them).
pub async fn root_index(
    state: &AppState,
    repo: &Repository,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let media = wants(headers)?;
    let (_, readable, _) = members::readable(state, repo, caller, "").await?;
    let mut projects = Vec::new();
    let mut modified = repo.modified_at;
    for member in &readable {
        if member.repo_type == REMOTE {
            let (cached, kept) = pypi_remote::cached_projects(state, member).await?;
            projects.extend(cached);
            modified = modified.max(kept);
        } else {
            let repo_id = member.id.clone();
            let held = state
                .db
                .call(move |conn| store::live_projects(conn, &repo_id))
                .await?;
            projects.extend(held);
            modified = modified.max(member.modified_at);
        }
    }
    projects.sort();
    projects.dedup();
    let body = if media == pypi::JSON_V1 {
        pypi::root_json(&projects).to_string()
    } else {
        pypi::root_html(&projects)
    };
    Ok(with_vary(serve_bytes(
        body.into_bytes(),
        media,
        modified,
        headers,
        head,
    )))
}

/// `packages/{project}/{version}/{filename}` through a virtual repository: served by the first member
/// (of those the caller may download it from) that has the distribution — the member whose entry won
/// its name on the merged page. `{filename}.metadata` comes from the member that won `{filename}`,
/// or from nowhere.
#[allow(clippy::too_many_arguments)]
pub async fn file(
    state: &AppState,
    repo: &Repository,
    project: &str,
    version: &str,
    filename: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let unlisted = || ApiError::not_found(format!("No file {filename} for {project} {version}"));
    if !pypi::is_valid_name(project) || pypi::normalize(project) != project {
        return Err(unlisted());
    }
    let rel = format!("packages/{project}/{version}/{filename}");
    let dist = filename.strip_suffix(".metadata").unwrap_or(filename);
    let dist_rel = format!("packages/{project}/{version}/{dist}");
    let readable = readable_members(state, repo, project, &rel, caller).await?;
    let mut upstream_failure = None;
    for member in &readable {
        if member.repo_type == REMOTE {
            match pypi_remote::has_file(state, member, project, version, dist, caller).await {
                Ok(true) => {
                    return pypi_remote::file(
                        state, member, project, version, filename, headers, head, caller,
                    )
                    .await
                }
                Ok(false) | Err(ApiError::NotFound(_)) => {}
                Err(failure @ ApiError::Upstream { .. }) => {
                    upstream_failure.get_or_insert(failure);
                }
                Err(other) => return Err(other),
            }
        } else if live_file(state, member, &dist_rel).await?.is_some() {
            let file = live_file(state, member, &rel).await?.ok_or_else(unlisted)?;
            return super::download::serve_file(state, &file, headers, head).await;
        }
    }
    Err(upstream_failure.unwrap_or_else(unlisted))
}

async fn live_file(
    state: &AppState,
    repo: &Repository,
    rel: &str,
) -> Result<Option<repos::FileEntry>, ApiError> {
    let (repo_id, rel) = (repo.id.clone(), rel.to_string());
    Ok(state
        .db
        .call(move |conn| repos::get_live_file(conn, &repo_id, &rel))
        .await?)
}
