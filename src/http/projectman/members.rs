//! Members of CodeArts projects (ProjectMan v4): add one or many, list, change roles, remove, and the
//! caller's own role. Members are users of the caller's domain; role ids are ProjectMan's (SPEC §10).
//!
//! Decisions: `-1` (project creator) belongs to the creator alone: it cannot be given to anyone else, and
//! the creator's role cannot be changed nor the creator removed. Adding a user who already is a member is
//! a 409 (change roles with `POST .../members/role`); batches are all-or-nothing.

use crate::store::Conn;
use std::collections::HashSet;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{access, check_role_id, Access, CREATOR_ROLE};
use crate::auth::Principal;
use crate::authz::roles::projectman_role_name;
use crate::domain::is_hex32;
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::iam::{hex_id, user_of_domain};
use crate::store::projects as store;
use crate::store::{now_ms, StoreResult};

/// Users one batch request may name.
const MAX_BATCH: usize = 100;

/// A role a member may be given by an add or a role change: any of SPEC §10 but the creator's.
fn assignable_role(name: &str, role_id: i64) -> ApiResult<()> {
    check_role_id(name, role_id)?;
    if role_id == CREATOR_ROLE {
        return Err(ApiError::invalid(
            name,
            "-1 (project creator) is the creator's own role and cannot be given",
        ));
    }
    Ok(())
}

/// Checks a list of user ids: 1..=100 distinct 32-hex ids; errors name `<field>[i]`.
fn check_user_ids<'a>(field: &str, ids: impl ExactSizeIterator<Item = &'a str>) -> ApiResult<()> {
    if ids.len() == 0 || ids.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            field,
            format!("must list 1 to {MAX_BATCH} users"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        hex_id(&format!("{field}[{i}]"), id)?;
        if !seen.insert(id) {
            return Err(ApiError::invalid(
                &format!("{field}[{i}]"),
                "lists a user twice",
            ));
        }
    }
    Ok(())
}

/// Every named user must be a user of the caller's domain (404 naming the first that is not).
async fn users_exist(state: &AppState, principal: &Principal, ids: &[String]) -> ApiResult<()> {
    for id in ids {
        user_of_domain(state, principal, id).await?;
    }
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AddBody {
    user_id: Option<String>,
    role_id: Option<i64>,
    domain_id: Option<String>,
    domain_name: Option<String>,
}

/// Adds `(user, role)` pairs atomically: 409 if any already is a member.
async fn add_members(state: &AppState, a: Access, users: Vec<(String, i64)>) -> ApiResult<()> {
    let project_id = a.row.project.id;
    let clash = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            for (user_id, _) in &users {
                if store::get_member(&tx, &project_id, user_id)?.is_some() {
                    return Ok(Some(user_id.clone()));
                }
            }
            let now = now_ms();
            for (user_id, role_id) in &users {
                store::upsert_member(&tx, &project_id, user_id, *role_id, now)?;
            }
            tx.commit()?;
            Ok(None)
        })
        .await?;
    match clash {
        None => Ok(()),
        Some(user_id) => Err(ApiError::Conflict(format!(
            "User {user_id} already is a member of the project; change roles with POST .../members/role"
        ))),
    }
}

/// `POST /v4/projects/{project_id}/member` (add_member_v4).
pub async fn add(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<AddBody>,
) -> ApiResult<Json<Value>> {
    let user_id = body
        .user_id
        .ok_or_else(|| ApiError::invalid("user_id", "is required"))?;
    hex_id("user_id", &user_id)?;
    let role_id = body
        .role_id
        .ok_or_else(|| ApiError::invalid("role_id", "is required"))?;
    assignable_role("role_id", role_id)?;
    if let Some(domain_id) = &body.domain_id {
        if !is_hex32(domain_id) {
            return Err(ApiError::invalid(
                "domain_id",
                "must be 32 lower-case hexadecimal characters",
            ));
        }
        if *domain_id != principal.domain_id {
            return Err(ApiError::forbidden(
                "Adding users of another account is not supported",
            ));
        }
    }
    if body
        .domain_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 128)
    {
        return Err(ApiError::invalid(
            "domain_name",
            "must be at most 128 characters",
        ));
    }
    let a = access(&state, &principal, &project_id).await?;
    a.require_manage()?;
    user_of_domain(&state, &principal, &user_id).await?;
    add_members(&state, a, vec![(user_id, role_id)]).await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchAddBody {
    users: Option<Vec<BatchUser>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct BatchUser {
    user_id: Option<String>,
    role_id: Option<i64>,
}

/// `POST /v4/projects/{project_id}/members` (batch_add_members_v4): all or nothing.
pub async fn batch_add(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<BatchAddBody>,
) -> ApiResult<Json<Value>> {
    let users = body
        .users
        .ok_or_else(|| ApiError::invalid("users", "is required"))?;
    let mut pairs = Vec::with_capacity(users.len());
    for (i, u) in users.into_iter().enumerate() {
        let user_id = u
            .user_id
            .ok_or_else(|| ApiError::invalid(&format!("users[{i}].user_id"), "is required"))?;
        let role_id = u
            .role_id
            .ok_or_else(|| ApiError::invalid(&format!("users[{i}].role_id"), "is required"))?;
        assignable_role(&format!("users[{i}].role_id"), role_id)?;
        pairs.push((user_id, role_id));
    }
    check_user_ids("users", pairs.iter().map(|(id, _)| id.as_str()))?;
    let a = access(&state, &principal, &project_id).await?;
    a.require_manage()?;
    let ids: Vec<String> = pairs.iter().map(|(id, _)| id.clone()).collect();
    users_exist(&state, &principal, &ids).await?;
    add_members(&state, a, pairs).await?;
    Ok(Json(json!({})))
}

/// `GET /v4/projects/{project_id}/members` (list_project_members_v4): `offset` ≥ 0, `limit` 1..=100
/// (default 10), optional `role_id`; members see the list.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let offset = query.int("offset", 0..=i64::from(i32::MAX), 0)?;
    let limit = query.int("limit", 1..=100, 10)?;
    let role_id = match query.get("role_id") {
        None => None,
        Some(_) => {
            let r = query.int("role_id", -1..=12, 0)?;
            check_role_id("role_id", r)?;
            Some(r)
        }
    };
    let a = access(&state, &principal, &project_id).await?;
    a.require_view()?;
    let id = a.row.project.id;
    let (total, rows) = state
        .db
        .call(move |conn| store::list_member_rows(conn, &id, role_id, offset, limit))
        .await?;
    let members: Vec<Value> = rows
        .iter()
        .map(|m| {
            json!({
                "user_id": m.user_id,
                "user_name": m.user_name,
                "nick_name": m.user_name,
                "user_num_id": m.user_num_id,
                "role_id": m.role_id,
                "role_name": projectman_role_name(m.role_id),
                "domain_id": m.domain_id,
                "domain_name": m.domain_name,
                "user_type": "User",
                "forbidden": if m.enabled { 0 } else { 1 },
            })
        })
        .collect();
    Ok(Json(json!({ "members": members, "total": total })))
}

/// Checks that every named user is a member and none is the creator, then applies `change` to each,
/// atomically.
async fn change_members<F>(
    state: &AppState,
    a: Access,
    user_ids: Vec<String>,
    what: &'static str,
    change: F,
) -> ApiResult<()>
where
    F: Fn(&Conn, &str, &str) -> StoreResult<()> + Send + 'static,
{
    if user_ids.contains(&a.row.project.creator_id) {
        return Err(ApiError::forbidden(format!(
            "The project's creator cannot be {what}"
        )));
    }
    let project_id = a.row.project.id;
    let missing = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            for user_id in &user_ids {
                if store::get_member(&tx, &project_id, user_id)?.is_none() {
                    return Ok(Some(user_id.clone()));
                }
            }
            for user_id in &user_ids {
                change(&tx, &project_id, user_id)?;
            }
            tx.commit()?;
            Ok(None)
        })
        .await?;
    match missing {
        None => Ok(()),
        Some(user_id) => Err(ApiError::not_found(format!(
            "User {user_id} is not a member of the project"
        ))),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct BatchDeleteBody {
    user_ids: Option<Vec<String>>,
}

/// `DELETE /v4/projects/{project_id}/members` (batch_delete_members_v4): all or nothing.
pub async fn batch_delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<BatchDeleteBody>,
) -> ApiResult<Json<Value>> {
    let user_ids = body
        .user_ids
        .ok_or_else(|| ApiError::invalid("user_ids", "is required"))?;
    check_user_ids("user_ids", user_ids.iter().map(String::as_str))?;
    let a = access(&state, &principal, &project_id).await?;
    a.require_manage()?;
    change_members(&state, a, user_ids, "removed", |conn, project, user| {
        store::remove_member(conn, project, user).map(|_| ())
    })
    .await?;
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UpdateRoleBody {
    user_ids: Option<Vec<String>>,
    role_id: Option<i64>,
}

/// `POST /v4/projects/{project_id}/members/role` (update_membes_role_v4): one role for several members.
pub async fn update_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<UpdateRoleBody>,
) -> ApiResult<Json<Value>> {
    let user_ids = body
        .user_ids
        .ok_or_else(|| ApiError::invalid("user_ids", "is required"))?;
    check_user_ids("user_ids", user_ids.iter().map(String::as_str))?;
    let role_id = body
        .role_id
        .ok_or_else(|| ApiError::invalid("role_id", "is required"))?;
    assignable_role("role_id", role_id)?;
    let a = access(&state, &principal, &project_id).await?;
    a.require_manage()?;
    change_members(
        &state,
        a,
        user_ids,
        "given another role",
        move |conn, project, user| store::upsert_member(conn, project, user, role_id, now_ms()),
    )
    .await?;
    Ok(Json(json!({})))
}

/// `GET /v4/projects/{project_id}/user-role` (show_cur_user_role): the caller's role; 404 for
/// non-members.
pub async fn current_role(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let a = access(&state, &principal, &project_id).await?;
    let role = a
        .role
        .ok_or_else(|| ApiError::not_found("The caller is not a member of this project"))?;
    Ok(Json(json!({ "user_role": role })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creator_role_cannot_be_given() {
        assert!(assignable_role("role_id", 4).is_ok());
        let e = assignable_role("users[2].role_id", -1)
            .unwrap_err()
            .to_string();
        assert!(e.contains("'users[2].role_id'"), "{e}");
        assert!(assignable_role("role_id", 2).is_err());
    }

    #[test]
    fn user_id_lists_are_bounded_and_distinct() {
        let a = "a".repeat(32);
        let b = "b".repeat(32);
        assert!(check_user_ids("user_ids", [a.as_str(), b.as_str()].into_iter()).is_ok());
        assert!(check_user_ids("user_ids", std::iter::empty::<&str>()).is_err());
        let e = check_user_ids("user_ids", [a.as_str(), a.as_str()].into_iter())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'user_ids[1]'"), "{e}");
        let e = check_user_ids("users", ["nope"].into_iter())
            .unwrap_err()
            .to_string();
        assert!(e.contains("'users[0]'"), "{e}");
        let many: Vec<String> = (0..101).map(|i| format!("{i:032x}")).collect();
        assert!(check_user_ids("user_ids", many.iter().map(String::as_str)).is_err());
    }
}
