//! Repositories shared into other projects of their account (README "Sharing repositories with other
//! projects"): `create_project_related_repository` sets which repositories a project shares in,
//! `show_project_related_repository` lists projects and whether a repository is shared into each,
//! `show_project_list` and `list_maven_list` list a project's repositories, its own and those shared in.
//! The privilege engine gives the members of a project read access to what is shared into it
//! (`privileges::entries_for_user`).

use std::collections::HashSet;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::CallerAccess;
use super::repositories::{repository_do, repository_dov5, ViewContext};
use crate::auth::Principal;
use crate::domain::is_alnum32;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::repos::{self, Repository, STATUS_ACTIVE};
use crate::store::{now_ms, projects, shares, Conn, StoreResult};

/// The most repositories one project may have shared in.
const MAX_SHARED: usize = 100;

fn project_param(value: Option<String>) -> ApiResult<String> {
    match value {
        Some(v) if is_alnum32(&v) => Ok(v),
        _ => Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        )),
    }
}

fn no_project() -> ApiError {
    ApiError::not_found("project_id is not a project of the caller's account")
}

/// A project's repositories: its own, then those shared into it (active ones only), with whether each
/// is shared in. `None` when the project is not the account's.
fn repos_of_project(
    conn: &Conn,
    domain_id: &str,
    project_id: &str,
) -> StoreResult<Option<Vec<(Repository, bool)>>> {
    if projects::get_project(conn, domain_id, project_id)?.is_none() {
        return Ok(None);
    }
    let own = repos::domain_repos(conn, domain_id)?
        .into_iter()
        .filter(|r| r.project_id == project_id)
        .map(|r| (r, false));
    let shared = shares::shared_into(conn, project_id)?
        .into_iter()
        .map(|r| (r, true));
    Ok(Some(
        own.chain(shared)
            .filter(|(r, _)| r.status == STATUS_ACTIVE && r.domain_id == domain_id)
            .collect(),
    ))
}

/// A project's repositories the caller may read, with the caller's access to their projects.
async fn readable_repos_of(
    state: &AppState,
    principal: &Principal,
    headers: HeaderMap,
    project_id: String,
) -> ApiResult<(Vec<(Repository, bool)>, CallerAccess, ViewContext)> {
    let (principal, config) = (principal.clone(), state.config.clone());
    let found = state
        .db
        .call(move |conn| {
            let Some(repos) = repos_of_project(conn, &principal.domain_id, &project_id)? else {
                return Ok(None);
            };
            let access = CallerAccess::load(
                conn,
                &principal,
                repos.iter().map(|(r, _)| r.project_id.as_str()),
            )?;
            let ctx = ViewContext::load(conn, &config, &principal.domain_id, &headers)?;
            Ok(Some((repos, access, ctx)))
        })
        .await?;
    let (repos, access, ctx) = found.ok_or_else(no_project)?;
    let readable = repos
        .into_iter()
        .filter(|(r, _)| access.can_read(r))
        .collect();
    Ok((readable, access, ctx))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelatedBody {
    project_id: Option<String>,
    ids: Option<Vec<String>>,
}

/// `POST /cloudartifact/v5/maven/project/repository` (create_project_related_repository): the
/// repositories in `ids` (ids or names, of other projects of the account) become exactly those shared
/// into `project_id`; an empty list stops sharing any. Every repository named or unshared needs
/// `editRepository` on it, and every one named `createRepository` in the project.
pub async fn create_related(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<RelatedBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    let project_id = project_param(body.project_id)?;
    let ids = body
        .ids
        .ok_or_else(|| ApiError::invalid("ids", "is required (an empty list stops sharing)"))?;
    if ids.len() > MAX_SHARED {
        return Err(ApiError::invalid(
            "ids",
            format!("holds at most {MAX_SHARED} repositories"),
        ));
    }
    for (i, id) in ids.iter().enumerate() {
        if id.is_empty() || id.len() > 64 {
            return Err(ApiError::invalid(
                &format!("ids[{i}]"),
                "must be a repository id or name",
            ));
        }
    }
    let principal_copy = principal.clone();
    let answer = state
        .db
        .call(move |conn| {
            let p = &principal_copy;
            let tx = conn.transaction()?;
            if projects::get_project(&tx, &p.domain_id, &project_id)?.is_none() {
                return Ok(Err((no_project(), Vec::new())));
            }
            let mut wanted: Vec<Repository> = Vec::new();
            for (i, key) in ids.iter().enumerate() {
                let repo = repos::get_repo_by_name_or_id(&tx, key)?
                    .filter(|r| r.domain_id == p.domain_id && r.status == STATUS_ACTIVE);
                let Some(repo) = repo else {
                    return Ok(Err((
                        ApiError::not_found(format!(
                            "ids[{i}]: no repository {key} in the caller's account"
                        )),
                        Vec::new(),
                    )));
                };
                if repo.project_id == project_id {
                    return Ok(Err((
                        ApiError::invalid(
                            &format!("ids[{i}]"),
                            "is a repository of this project already",
                        ),
                        Vec::new(),
                    )));
                }
                if !wanted.iter().any(|w| w.id == repo.id) {
                    wanted.push(repo);
                }
            }
            let before = shares::shared_into(&tx, &project_id)?;
            let kept: HashSet<&str> = wanted.iter().map(|r| r.id.as_str()).collect();
            let removed: Vec<&Repository> = before
                .iter()
                .filter(|r| !kept.contains(r.id.as_str()))
                .collect();
            let homes = wanted
                .iter()
                .chain(removed.iter().copied())
                .map(|r| r.project_id.as_str())
                .chain([project_id.as_str()]);
            let access = CallerAccess::load(&tx, p, homes)?;
            let involved: Vec<Repository> = wanted
                .iter()
                .chain(removed.iter().copied())
                .cloned()
                .collect();
            // Every repository named must be the caller's to edit, also one already shared: the call
            // states the whole set, and a caller who could not change it must not be told it succeeded.
            for repo in &involved {
                if !access.allows(repo, Operation::EditRepository, "") {
                    let refusal = ApiError::forbidden(format!(
                        "editRepository is not allowed on /{}",
                        repo.name
                    ));
                    return Ok(Err((refusal, involved.clone())));
                }
            }
            for repo in &wanted {
                if !access.allows_in_project(&project_id, Operation::CreateRepository, &repo.name) {
                    let refusal = ApiError::forbidden(format!(
                        "createRepository is not allowed in project {project_id}"
                    ));
                    return Ok(Err((refusal, involved.clone())));
                }
            }
            let ids: Vec<String> = wanted.iter().map(|r| r.id.clone()).collect();
            shares::set_shared_into(&tx, &project_id, &ids, &p.user_id, now_ms())?;
            tx.commit()?;
            Ok(Ok((
                json!({"project_id": project_id, "ids": ids}),
                involved,
            )))
        })
        .await?;
    // The audit log files the change under every repository it names or unshares, refused or not; the
    // task-local it notes in is this task's, not the database thread's.
    let (answer, involved) = match answer {
        Ok(done) => done,
        Err((e, involved)) => {
            involved.iter().for_each(crate::http::audit::note_repo);
            return Err(e);
        }
    };
    involved.iter().for_each(crate::http::audit::note_repo);
    Ok(success(answer))
}

/// `GET /v5/maven/project/repository` (show_project_related_repository): the caller's projects (all of
/// the account's for its root user), `search_name` matching their names, `offset`/`limit` paged, each
/// with its number of repositories (own and shared in) and, for `repo_id`, whether that repository
/// belongs to it or is shared into it (`associated`). `PrivilegeProjectInfoV5`.
pub async fn show_related(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let search = query.string("search_name", 200)?.filter(|s| !s.is_empty());
    let offset = query.int("offset", 0..=2_147_483_647, 0)?;
    let limit = query.int("limit", 1..=100, 10)?;
    let repo_key = query.string("repo_id", 64)?.filter(|s| !s.is_empty());
    let (principal_copy, config) = (principal.clone(), state.config.clone());
    let found = state
        .db
        .call(move |conn| {
            let p = &principal_copy;
            let repo = match &repo_key {
                Some(key) => match repos::get_repo_by_name_or_id(conn, key)?
                    .filter(|r| r.domain_id == p.domain_id && r.status == STATUS_ACTIVE)
                {
                    Some(repo) => {
                        let access = CallerAccess::load(conn, p, [repo.project_id.as_str()])?;
                        if !access.can_read(&repo) {
                            return Ok(Err(ApiError::forbidden(format!(
                                "download is not allowed on /{}",
                                repo.name
                            ))));
                        }
                        Some(repo)
                    }
                    None => {
                        return Ok(Err(ApiError::not_found(format!(
                            "No repository {key} in the caller's account"
                        ))))
                    }
                },
                None => None,
            };
            let member = (!p.is_root).then_some(p.user_id.as_str());
            let (total, page) = projects::list_projects(
                conn,
                &p.domain_id,
                member,
                search.as_deref(),
                offset,
                limit,
            )?;
            let shared_in: Vec<String> = match &repo {
                Some(r) => shares::projects_of(conn, &r.id)?,
                None => Vec::new(),
            };
            let ctx = ViewContext::load(conn, &config, &p.domain_id, &HeaderMap::new())?;
            let mut rows = Vec::with_capacity(page.len());
            for (i, project) in page.iter().enumerate() {
                let count =
                    repos_of_project(conn, &p.domain_id, &project.id)?.map_or(0, |r| r.len());
                let associated = repo
                    .as_ref()
                    .is_some_and(|r| r.project_id == project.id || shared_in.contains(&project.id));
                rows.push(json!({
                    "id": (offset + i as i64 + 1).to_string(),
                    "name": project.name,
                    "status": "",
                    "project_id": project.id,
                    "created_time": ctx.time(project.created_at),
                    "repository_num": count,
                    "repository_id": repo.as_ref().map(|r| r.id.as_str()).unwrap_or(""),
                    "region": config.region,
                    "domain_id": p.domain_id,
                    "associated": associated,
                }));
            }
            Ok(Ok(json!({
                "total_records": total,
                "project_info": rows,
            })))
        })
        .await??;
    Ok(success(found))
}

/// `GET /cloudartifact/v5/maven/repository/list` (show_project_list): the repositories of `project_id`
/// the caller may read, its own and those shared into it (`shared`), as `ShowProjectListResult`.
pub async fn project_list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let project_id = project_param(query.string("project_id", 64)?)?;
    let (repos, _, ctx) = readable_repos_of(&state, &principal, headers, project_id).await?;
    let rows: Vec<Value> = repos
        .iter()
        .enumerate()
        .map(|(i, (repo, shared))| {
            let mut view = repository_do(repo, &ctx);
            if let Value::Object(map) = &mut view {
                map.insert("id".into(), json!((i + 1).to_string()));
                map.insert("name".into(), json!(repo.id));
                map.insert("repoType".into(), json!(repo.repo_type));
                map.insert("excludesPattern".into(), json!(""));
                map.insert("storageSummaryInfo".into(), json!(""));
                map.insert("shared".into(), json!(shared));
            }
            view
        })
        .collect();
    Ok(success(rows))
}

/// `GET /cloudartifact/v5/maven/list` (list_maven_list): the Maven repositories of `project_id`, its own
/// and those shared into it, that the caller may read (`access=r`, the default) or also upload to
/// (`rw`); `policy` (`release`/`releases` or `snapshot`) and `repo_ids` (ids or names, comma-separated)
/// narrow them. arca has no default repositories, so `default` adds none. `RepositoryDOV5`.
pub async fn maven_list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let project_id = project_param(query.string("project_id", 64)?)?;
    query.bool("default", false)?;
    let policy = query
        .one_of("policy", &["release", "releases", "snapshot"])?
        .map(|p| {
            if p == "releases" {
                "release".to_string()
            } else {
                p
            }
        });
    let access_wanted = query.one_of("access", &["r", "rw"])?;
    let only: Option<Vec<String>> = query.string("repo_ids", 6_500)?.map(|ids| {
        ids.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    });
    let (repos, access, ctx) = readable_repos_of(&state, &principal, headers, project_id).await?;
    let rows: Vec<Value> = repos
        .iter()
        .map(|(repo, _)| repo)
        .filter(|r| r.format == "maven2")
        .filter(|r| policy.as_deref().is_none_or(|p| r.policy == p))
        .filter(|r| {
            only.as_ref()
                .is_none_or(|ids| ids.iter().any(|k| *k == r.id || *k == r.name))
        })
        .filter(|r| {
            access_wanted.as_deref() != Some("rw") || access.may_somewhere(r, Operation::Upload)
        })
        .map(|r| repository_dov5(r, &ctx))
        .collect();
    Ok(success(rows))
}
