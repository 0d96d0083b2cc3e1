//! IAM user groups (`/v3/groups`) and their members. Groups carry the custom policies that authorize
//! IAM users (see `policies`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::users::keystone_user_json;
use super::{actions, hex_id, link_self, links, own_domain, require_self_or, text, user_of_domain};
use crate::auth::Principal;
use crate::domain::{is_plain_name, new_hex_id};
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity::{self, Group};
use crate::store::now_ms;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct GroupFields {
    name: Option<String>,
    description: Option<String>,
    domain_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct GroupBody {
    group: Option<GroupFields>,
}

impl GroupBody {
    fn fields(self, principal: &Principal) -> ApiResult<GroupFields> {
        let f = self
            .group
            .ok_or_else(|| ApiError::invalid("group", "is required"))?;
        if let Some(name) = &f.name {
            if !is_plain_name(name, 128) {
                return Err(ApiError::invalid(
                    "group.name",
                    "must be 1 to 128 characters without control characters",
                ));
            }
        }
        text("group.description", f.description.as_deref(), 255)?;
        if f.description.as_ref().is_some_and(|d| d.len() > 255) {
            return Err(ApiError::invalid(
                "group.description",
                "must be at most 255 bytes",
            ));
        }
        own_domain(principal, "group.domain_id", f.domain_id.as_deref())?;
        Ok(f)
    }
}

/// A group in Keystone's shape; `create_time` in milliseconds since the epoch.
fn group_json(g: &Group, headers: &HeaderMap, with_paging_links: bool) -> Value {
    let path = format!("/v3/groups/{}", g.id);
    json!({
        "id": g.id,
        "name": g.name,
        "domain_id": g.domain_id,
        "description": g.description,
        "create_time": g.created_at,
        "links": if with_paging_links { links(headers, &path) } else { link_self(headers, &path) },
    })
}

/// A group of the caller's domain; 404 for unknown ids and other domains' groups alike.
pub(super) async fn group_of_domain(
    state: &AppState,
    principal: &Principal,
    group_id: &str,
) -> ApiResult<Group> {
    hex_id("group_id", group_id)?;
    let (domain, id) = (principal.domain_id.clone(), group_id.to_string());
    state
        .db
        .call(move |conn| identity::get_group(conn, &domain, &id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No group {group_id} in the caller's account")))
}

/// `POST /v3/groups` (keystone_create_group): 201.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<GroupBody>,
) -> ApiResult<impl IntoResponse> {
    let f = body.fields(&principal)?;
    let name = f
        .name
        .ok_or_else(|| ApiError::invalid("group.name", "is required"))?;
    state.require(&principal, actions::CREATE_GROUP).await?;
    let group = Group {
        id: new_hex_id(),
        domain_id: principal.domain_id.clone(),
        name,
        description: f.description.unwrap_or_default(),
        created_at: now_ms(),
    };
    let stored = group.clone();
    state
        .db
        .call(move |conn| identity::insert_group(conn, &stored))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "group": group_json(&group, &headers, false) })),
    ))
}

/// `GET /v3/groups` (keystone_list_groups): `?name=` exact, `?domain_id=` (another domain: nothing).
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let name = query.filter("name", 128)?;
    let domain_id = query.filter("domain_id", 64)?;
    state.require(&principal, actions::LIST_GROUPS).await?;
    let groups = if domain_id.is_some_and(|d| d != principal.domain_id) {
        Vec::new()
    } else {
        let domain = principal.domain_id.clone();
        state
            .db
            .call(move |conn| identity::list_groups(conn, &domain, name.as_deref()))
            .await?
    };
    let groups: Vec<Value> = groups
        .iter()
        .map(|g| group_json(g, &headers, true))
        .collect();
    Ok(Json(
        json!({ "groups": groups, "links": links(&headers, "/v3/groups") }),
    ))
}

/// `GET /v3/groups/{group_id}` (keystone_show_group).
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> ApiResult<Json<Value>> {
    hex_id("group_id", &group_id)?;
    state.require(&principal, actions::GET_GROUP).await?;
    let group = group_of_domain(&state, &principal, &group_id).await?;
    Ok(Json(json!({ "group": group_json(&group, &headers, true) })))
}

/// `PATCH /v3/groups/{group_id}` (keystone_update_group): name and/or description.
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(group_id): Path<String>,
    JsonBody(body): JsonBody<GroupBody>,
) -> ApiResult<Json<Value>> {
    hex_id("group_id", &group_id)?;
    let f = body.fields(&principal)?;
    if f.name.is_none() && f.description.is_none() {
        return Err(ApiError::invalid("group", "must give name or description"));
    }
    state.require(&principal, actions::UPDATE_GROUP).await?;
    let mut group = group_of_domain(&state, &principal, &group_id).await?;
    if let Some(name) = f.name {
        group.name = name;
    }
    if let Some(d) = f.description {
        group.description = d;
    }
    let stored = group.clone();
    state
        .db
        .call(move |conn| identity::update_group(conn, &stored))
        .await?;
    Ok(Json(
        json!({ "group": group_json(&group, &headers, false) }),
    ))
}

/// `DELETE /v3/groups/{group_id}` (keystone_delete_group): 204; memberships and attachments go with it.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(group_id): Path<String>,
) -> ApiResult<StatusCode> {
    hex_id("group_id", &group_id)?;
    state.require(&principal, actions::DELETE_GROUP).await?;
    let group = group_of_domain(&state, &principal, &group_id).await?;
    state
        .db
        .call(move |conn| identity::delete_group(conn, &group.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /v3/groups/{group_id}/users` (keystone_list_users_for_group_by_admin).
pub async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(group_id): Path<String>,
) -> ApiResult<Json<Value>> {
    hex_id("group_id", &group_id)?;
    state
        .require(&principal, actions::LIST_USERS_FOR_GROUP)
        .await?;
    let group = group_of_domain(&state, &principal, &group_id).await?;
    let rows = state
        .db
        .call(move |conn| {
            identity::users_of_group(conn, &group.id)?
                .into_iter()
                .map(|u| {
                    let p = identity::get_user_profile(conn, &u.id)?;
                    Ok((u, p))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let users: Vec<Value> = rows
        .iter()
        .map(|(u, p)| keystone_user_json(u, p, &headers))
        .collect();
    Ok(Json(json!({
        "users": users,
        "links": links(&headers, &format!("/v3/groups/{group_id}/users")),
    })))
}

/// Validates both path ids, checks `action`, and loads the group and the user.
async fn membership_target(
    state: &AppState,
    principal: &Principal,
    group_id: &str,
    user_id: &str,
    action: &'static str,
) -> ApiResult<(String, String)> {
    hex_id("group_id", group_id)?;
    hex_id("user_id", user_id)?;
    state.require(principal, action).await?;
    let group = group_of_domain(state, principal, group_id).await?;
    let user = user_of_domain(state, principal, user_id).await?;
    Ok((group.id, user.id))
}

/// `PUT /v3/groups/{group_id}/users/{user_id}` (keystone_add_user_to_group): 204, idempotent.
pub async fn add_user(
    State(state): State<AppState>,
    principal: Principal,
    Path((group_id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (g, u) = membership_target(
        &state,
        &principal,
        &group_id,
        &user_id,
        actions::ADD_USER_TO_GROUP,
    )
    .await?;
    state
        .db
        .call(move |conn| identity::add_group_member(conn, &g, &u))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `HEAD /v3/groups/{group_id}/users/{user_id}` (keystone_check_user_in_group): 204 if a member, else 404.
pub async fn check_user(
    State(state): State<AppState>,
    principal: Principal,
    Path((group_id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (g, u) = membership_target(
        &state,
        &principal,
        &group_id,
        &user_id,
        actions::CHECK_USER_IN_GROUP,
    )
    .await?;
    if state
        .db
        .call(move |conn| identity::is_group_member(conn, &g, &u))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("The user is not a member of the group"))
    }
}

/// `DELETE /v3/groups/{group_id}/users/{user_id}` (keystone_remove_user_from_group): 204, or 404 when
/// the user was not a member.
pub async fn remove_user(
    State(state): State<AppState>,
    principal: Principal,
    Path((group_id, user_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (g, u) = membership_target(
        &state,
        &principal,
        &group_id,
        &user_id,
        actions::REMOVE_USER_FROM_GROUP,
    )
    .await?;
    if state
        .db
        .call(move |conn| identity::remove_group_member(conn, &g, &u))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("The user is not a member of the group"))
    }
}

/// `GET /v3/users/{user_id}/groups` (keystone_list_groups_for_user): a user may list their own groups.
pub async fn list_for_user(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Value>> {
    hex_id("user_id", &user_id)?;
    require_self_or(&state, &principal, &user_id, actions::LIST_GROUPS_FOR_USER).await?;
    let user = user_of_domain(&state, &principal, &user_id).await?;
    let groups = state
        .db
        .call(move |conn| identity::groups_of_user(conn, &user.id))
        .await?;
    let groups: Vec<Value> = groups
        .iter()
        .map(|g| group_json(g, &headers, true))
        .collect();
    Ok(Json(json!({
        "groups": groups,
        "links": links(&headers, &format!("/v3/users/{user_id}/groups")),
    })))
}
