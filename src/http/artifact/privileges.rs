//! A user's privileges in a CodeArts project (seed 002), merged per SPEC §5.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

use crate::auth::Principal;
use crate::authz::privileges::{merge, MergedPrivileges, PrivilegeEntry};
use crate::authz::roles::{self, BuiltinRole};
use crate::domain::is_alnum32;
use crate::domain::operation::OperationSet;
use crate::http::app::AppState;
use crate::http::envelope::{success, success_camel};
use crate::http::error::{ApiError, ApiResult};
use crate::store::projects;
use crate::store::{Conn, StoreResult};

/// `GET /cloudartifact/v3/user/{project_id}/privileges` (seed 002: the envelope spells `traceId`).
pub async fn show_v3(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(success_camel(
        privileges_of(&state, &principal, project_id).await?,
    ))
}

/// `GET /v5/user/{project_id}/privileges` (the SDK's `list_user_privileges`; its model spells `trace_id`).
pub async fn show_v5(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(success(
        privileges_of(&state, &principal, project_id).await?,
    ))
}

async fn privileges_of(
    state: &AppState,
    principal: &Principal,
    project_id: String,
) -> ApiResult<MergedPrivileges> {
    if !is_alnum32(&project_id) {
        return Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        ));
    }
    let domain_id = principal.domain_id.clone();
    let user_id = principal.user_id.clone();
    let is_root = principal.is_root;
    let entries = state
        .db
        .call(move |conn| {
            if projects::get_project(conn, &domain_id, &project_id)?.is_none() {
                return Ok(None);
            }
            entries_for_user(conn, &project_id, &user_id, is_root).map(Some)
        })
        .await?
        .ok_or_else(|| ApiError::not_found("No such project in the caller's account"))?;
    Ok(merge(&entries))
}

/// The privilege entries of a user in a project, through the user's role there. The account's root user
/// holds Project manager rights in every project of its account (decision).
pub fn entries_for_user(
    conn: &Conn,
    project_id: &str,
    user_id: &str,
    is_root: bool,
) -> StoreResult<Vec<PrivilegeEntry>> {
    let role = match projects::get_member(conn, project_id, user_id)? {
        Some(member) => roles::from_projectman_role(member.role_id),
        None if is_root => Some(&roles::PROJECT_MANAGER),
        None => None,
    };
    let Some(role) = role else {
        return Ok(Vec::new());
    };
    entries_for_role(conn, project_id, role)
}

/// Stored grants of a built-in role in a project; without any, the role's defaults on the whole project.
pub fn entries_for_role(
    conn: &Conn,
    project_id: &str,
    role: &BuiltinRole,
) -> StoreResult<Vec<PrivilegeEntry>> {
    let stored = projects::grants_for_role(conn, project_id, role.id)?;
    let entry = |path: String, type_id: String, area: String, ops: OperationSet| PrivilegeEntry {
        role_id: role.id.to_string(),
        role_name: role.name.to_string(),
        role_chinese_name: role.chinese_name.to_string(),
        project_id: project_id.to_string(),
        area_service_id: area,
        granted_object_path: path,
        granted_object_type_id: type_id,
        operations: ops,
    };
    if stored.is_empty() {
        return Ok(vec![entry(
            "/*".to_string(),
            roles::OBJECT_TYPE_PROJECT.to_string(),
            roles::AREA_SERVICE_ID.to_string(),
            role.operations(),
        )]);
    }
    Ok(stored
        .into_iter()
        .map(|g| {
            entry(
                g.granted_object_path,
                g.granted_object_type_id,
                g.area_service_id,
                OperationSet::from_bits(g.operations),
            )
        })
        .collect())
}
