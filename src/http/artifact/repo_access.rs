//! Who may use a repository and how: the caller's repo user (SPEC §6), a project's users with their
//! privileges on a repository, and each role's operations on it.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::access::{object_path, operations_on, repo_with_access, require, ScopeTarget};
use super::privileges::entries_for_role;
use crate::auth::secrets::hash_generated_secret;
use crate::auth::{Credential, Principal};
use crate::authz::roles::{self, BUILTIN_ROLES};
use crate::domain::is_alnum32;
use crate::domain::operation::{Operation, OperationSet};
use crate::domain::random_alnum;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::store::{identity, now_ms, projects};

/// The repo user name clients log in with (SPEC §6).
pub fn repo_user_name(principal: &Principal) -> String {
    format!("{}_{}", principal.domain_id, principal.user_id)
}

/// `GET /cloudartifact/v5/repositories/user/info` (show_repo_user_info). Only a hash of the password is
/// kept (SPEC §8), so `password` is empty; `reset_user_password` answers a new one once.
pub async fn show_user_info(principal: Principal) -> ApiResult<Json<Value>> {
    Ok(success(RepoUser {
        username: repo_user_name(&principal),
        password: String::new(),
    }))
}

/// The `result` of show_repo_user_info and reset_user_password; /openapi.json describes it from this type.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoUser {
    username: String,
    /// Empty, except in reset_user_password's answer, which shows the new password once.
    password: String,
}

/// `POST /cloudartifact/v5/maven/users/me` (reset_user_password): a new random repo password for the
/// caller, answered once. Needs the caller's own credentials (a ticket cannot reset it).
pub async fn reset_password(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    if matches!(principal.credential, Credential::Ticket { .. }) {
        return Err(ApiError::forbidden(
            "a ticket cannot reset the repo password",
        ));
    }
    let password = random_alnum(32);
    let hash = hash_generated_secret(&password);
    let user_id = principal.user_id.clone();
    let updated = state
        .db
        .call(move |conn| identity::set_repo_password_hash(conn, &user_id, &hash, now_ms()))
        .await?;
    if !updated {
        return Err(ApiError::not_found("the caller's user no longer exists"));
    }
    tracing::info!(user_id = %principal.user_id, "repo password reset");
    Ok(success(RepoUser {
        username: repo_user_name(&principal),
        password,
    }))
}

fn out_of_scope() -> ApiError {
    ApiError::forbidden("The ticket is restricted to another repository or file")
}

fn op_names(ops: OperationSet) -> String {
    ops.iter()
        .map(Operation::name)
        .collect::<Vec<_>>()
        .join(",")
}

/// `GET /cloudartifact/v5/projects/{project_id}/users` (list_project_users): the project's members with
/// their role and, with `repo_id`, their operations on that repository (else on the project). `scene` is
/// accepted for compatibility and has no effect (decision).
pub async fn list_project_users(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    if !is_alnum32(&project_id) {
        return Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        ));
    }
    let repo_key = query.filter("repo_id", 64)?;
    query.string("scene", 64)?;
    let page_no = query.int("page_no", 1..=2_147_483_647, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let repo = match &repo_key {
        Some(key) => {
            let (repo, access) = repo_with_access(&state, &principal, key).await?;
            if repo.project_id != project_id {
                return Err(ApiError::not_found(format!(
                    "No repository {key} in project {project_id}"
                )));
            }
            if !access.in_scope(&repo) {
                return Err(out_of_scope());
            }
            Some(repo)
        }
        None => None,
    };
    let (domain_id, caller, is_root) = (
        principal.domain_id.clone(),
        principal.user_id.clone(),
        principal.is_root,
    );
    let offset = (page_no - 1).saturating_mul(page_size);
    let answer = state
        .db
        .call(move |conn| {
            if projects::get_project(conn, &domain_id, &project_id)?.is_none() {
                return Ok(Err(ApiError::not_found(format!(
                    "No project {project_id} in the caller's account"
                ))));
            }
            if !ScopeTarget::load(conn, &principal)?.in_project(&project_id) {
                return Ok(Err(out_of_scope()));
            }
            if !is_root && projects::get_member(conn, &project_id, &caller)?.is_none() {
                return Ok(Err(ApiError::forbidden(
                    "only the project's members may list its users",
                )));
            }
            let (total, members) =
                projects::list_members(conn, &project_id, None, offset, page_size)?;
            let path = repo
                .as_ref()
                .map(|r| object_path(r, ""))
                .unwrap_or_else(|| "/".to_string());
            let mut list = Vec::new();
            for m in members {
                let role = roles::from_projectman_role(m.role_id);
                let ops = match role {
                    Some(role) => operations_on(&entries_for_role(conn, &project_id, role)?, &path),
                    None => OperationSet::default(),
                };
                list.push(json!({
                    "user_id": m.user_id,
                    "domain_id": domain_id,
                    "user_name": m.user_name,
                    "repo_id": repo.as_ref().map(|r| r.id.clone()).unwrap_or_default(),
                    "privilege": op_names(ops),
                    "role_id": role.map(|r| r.id).unwrap_or_default(),
                    "role_name": role.map(|r| r.name).unwrap_or_default(),
                }));
            }
            Ok(Ok(json!({"total": total, "list": list})))
        })
        .await??;
    Ok(success(answer))
}

/// `GET /cloudartifact/v5/repositories/{project_id}/{repo_id}/privileges` (show_repository_roles_privilege):
/// each built-in role's operations on the repository as a whole, and the grants that reach into it.
pub async fn show_repo_roles(
    State(state): State<AppState>,
    principal: Principal,
    Path((project_id, key)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    if !is_alnum32(&project_id) {
        return Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        ));
    }
    let (repo, access) = repo_with_access(&state, &principal, &key).await?;
    if repo.project_id != project_id {
        return Err(ApiError::not_found(format!(
            "No repository {key} in project {project_id}"
        )));
    }
    if !access.can_read(&repo) {
        require(&access, &repo, Operation::ManagePrivileges, "")?;
    }
    let root = object_path(&repo, "");
    let inside = format!("{root}/");
    let rows = state
        .db
        .call(move |conn| {
            let mut rows = Vec::new();
            for role in &BUILTIN_ROLES {
                let entries = entries_for_role(conn, &project_id, role)?;
                let ops = operations_on(&entries, &root);
                let paths: Vec<&str> = entries
                    .iter()
                    .filter(|e| {
                        crate::authz::grants::covers(&e.granted_object_path, &root)
                            || e.granted_object_path.starts_with(&inside)
                    })
                    .map(|e| e.granted_object_path.as_str())
                    .collect();
                rows.push(json!({
                    "role_id": role.id,
                    "role_name": role.name,
                    "role_chinese_name": role.chinese_name,
                    "project_id": project_id,
                    "repo_id": repo.id,
                    "operations": op_names(ops),
                    "operations_index": ops.iter().map(Operation::index).collect::<Vec<_>>(),
                    "granted_object_paths": paths,
                }));
            }
            Ok(rows)
        })
        .await?;
    Ok(success(rows))
}
