//! Administration of IAM users and groups, through the IAM handlers (`iam::users`, `iam::groups`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::views::{GroupRow, Groups, UserRow, Users};
use super::{after, body, notice, sections, text};
use crate::auth::Principal;
use crate::http::app::AppState;
use crate::http::console::csrf::Signed;
use crate::http::console::pages::chrome;
use crate::http::console::session::Session;
use crate::http::console::views::{error_page, render};
use crate::http::error::ApiResult;
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::iam::actions;
use crate::http::iam::{groups as iam_groups, users as iam_users};

const USER_NOTICES: [(&str, &str); 5] = [
    ("created", "User created."),
    ("enabled", "User enabled."),
    (
        "disabled",
        "User disabled; their sessions and tokens open nothing until enabled again.",
    ),
    ("password", "Password changed."),
    ("deleted", "User deleted."),
];

const GROUP_NOTICES: [(&str, &str); 4] = [
    ("created", "Group created."),
    ("deleted", "Group deleted."),
    ("added", "User added to the group."),
    ("removed", "User removed from the group."),
];

/// The account's users, through keystone_list_users (which requires iam:users:listUsers).
async fn all_users(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
) -> ApiResult<Vec<Value>> {
    let Json(answer) = iam_users::keystone_list(
        State(state.clone()),
        principal.clone(),
        headers.clone(),
        QueryParams::parse("")?,
    )
    .await?;
    Ok(answer["users"].as_array().cloned().unwrap_or_default())
}

/// `GET /ui/admin/users`.
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    match users_page(&state, &session, &headers, &query).await {
        Ok(page) => render(&page),
        Err(e) => error_page(e),
    }
}

async fn users_page(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    query: &QueryParams,
) -> ApiResult<Users> {
    let principal = &session.principal;
    let listed = all_users(state, principal, headers).await?;
    let mut rows = Vec::with_capacity(listed.len());
    for u in &listed {
        let id = text(u, "id");
        // The OS-USER shape carries the creation time and the e-mail; a caller without
        // iam:users:getUser still sees the list, without them.
        let detail = iam_users::show(
            State(state.clone()),
            principal.clone(),
            headers.clone(),
            Path(id.clone()),
        )
        .await
        .map(|Json(v)| v["user"].clone())
        .unwrap_or(Value::Null);
        rows.push(UserRow {
            name: text(u, "name"),
            enabled: u["enabled"].as_bool().unwrap_or(false),
            email: text(&detail, "email"),
            created: text(&detail, "create_time"),
            is_root: detail["is_domain_owner"].as_bool().unwrap_or(false),
            id,
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Users {
        chrome: chrome(session),
        sections: sections(state, principal, "users").await?,
        rows,
        can_create: state.is_allowed(principal, actions::CREATE_USER).await?,
        can_update: state.is_allowed(principal, actions::UPDATE_USER).await?,
        can_delete: state.is_allowed(principal, actions::DELETE_USER).await?,
        me: principal.user_id.clone(),
        notice: notice(query.filter("done", 16)?, &USER_NOTICES),
    })
}

#[derive(Deserialize)]
pub struct CreateUserForm {
    name: String,
    password: String,
    #[serde(default)]
    email: String,
}

/// `POST /ui/admin/users`: create_user (OS-USER, which takes the e-mail too).
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed: Signed<CreateUserForm>,
) -> Response {
    let Signed { session, form } = signed;
    let mut user = json!({ "name": form.name, "password": form.password, "enabled": true });
    if !form.email.trim().is_empty() {
        user["email"] = json!(form.email.trim());
    }
    let result = match body(json!({ "user": user })) {
        Ok(b) => iam_users::create(State(state), session.principal, headers, JsonBody(b))
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    after(result, "/ui/admin/users?done=created")
}

#[derive(Deserialize)]
pub struct EnabledForm {
    id: String,
    enabled: String,
}

/// `POST /ui/admin/users/enabled`: update_user with `enabled`.
pub async fn set_enabled(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed: Signed<EnabledForm>,
) -> Response {
    let Signed { session, form } = signed;
    let enabled = match form.enabled.as_str() {
        "true" => true,
        "false" => false,
        _ => {
            return error_page(crate::http::error::ApiError::invalid(
                "enabled",
                "must be true or false",
            ))
        }
    };
    let update = json!({ "user": { "enabled": enabled } });
    let result = match body(update) {
        Ok(b) => iam_users::update(
            State(state),
            session.principal,
            headers,
            Path(form.id),
            JsonBody(b),
        )
        .await
        .map(drop),
        Err(e) => Err(e),
    };
    let done = if enabled { "enabled" } else { "disabled" };
    after(result, &format!("/ui/admin/users?done={done}"))
}

#[derive(Deserialize)]
pub struct PasswordForm {
    id: String,
    password: String,
}

/// `POST /ui/admin/users/password`: update_user with a new password (the API's password policy applies).
pub async fn set_password(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed: Signed<PasswordForm>,
) -> Response {
    let Signed { session, form } = signed;
    let result = match body(json!({ "user": { "password": form.password } })) {
        Ok(b) => iam_users::update(
            State(state),
            session.principal,
            headers,
            Path(form.id),
            JsonBody(b),
        )
        .await
        .map(drop),
        Err(e) => Err(e),
    };
    after(result, "/ui/admin/users?done=password")
}

#[derive(Deserialize)]
pub struct IdForm {
    id: String,
}

/// `POST /ui/admin/users/delete`: keystone_delete_user.
pub async fn delete(State(state): State<AppState>, signed: Signed<IdForm>) -> Response {
    let Signed { session, form } = signed;
    let result = iam_users::delete(State(state), session.principal, Path(form.id)).await;
    after(result, "/ui/admin/users?done=deleted")
}

/// `GET /ui/admin/groups`: keystone_list_groups, each group's members (keystone_list_users_for_group).
pub async fn groups(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    match groups_page(&state, &session, &headers, &query).await {
        Ok(page) => render(&page),
        Err(e) => error_page(e),
    }
}

async fn groups_page(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    query: &QueryParams,
) -> ApiResult<Groups> {
    let principal = &session.principal;
    let Json(answer) = iam_groups::list(
        State(state.clone()),
        principal.clone(),
        headers.clone(),
        QueryParams::parse("")?,
    )
    .await?;
    let may_list_members = state
        .is_allowed(principal, actions::LIST_USERS_FOR_GROUP)
        .await?;
    let mut rows = Vec::new();
    for g in answer["groups"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let id = text(g, "id");
        let members = if may_list_members {
            let Json(users) = iam_groups::list_users(
                State(state.clone()),
                principal.clone(),
                headers.clone(),
                Path(id.clone()),
            )
            .await?;
            Some(name_pairs(&users["users"]))
        } else {
            None
        };
        rows.push(GroupRow {
            name: text(g, "name"),
            description: text(g, "description"),
            members,
            id,
        });
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    let users = if state.is_allowed(principal, actions::LIST_USERS).await? {
        let listed = all_users(state, principal, headers).await?;
        let mut users = name_pairs(&Value::Array(listed));
        users.sort_by(|a, b| a.1.cmp(&b.1));
        users
    } else {
        Vec::new()
    };
    Ok(Groups {
        chrome: chrome(session),
        sections: sections(state, principal, "groups").await?,
        rows,
        users,
        can_create: state.is_allowed(principal, actions::CREATE_GROUP).await?,
        can_delete: state.is_allowed(principal, actions::DELETE_GROUP).await?,
        can_add: state
            .is_allowed(principal, actions::ADD_USER_TO_GROUP)
            .await?,
        can_remove: state
            .is_allowed(principal, actions::REMOVE_USER_FROM_GROUP)
            .await?,
        notice: notice(query.filter("done", 16)?, &GROUP_NOTICES),
    })
}

/// `(id, name)` of each user of a Keystone user list.
fn name_pairs(users: &Value) -> Vec<(String, String)> {
    users
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|u| (text(u, "id"), text(u, "name")))
        .collect()
}

#[derive(Deserialize)]
pub struct CreateGroupForm {
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /ui/admin/groups`: keystone_create_group.
pub async fn create_group(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed: Signed<CreateGroupForm>,
) -> Response {
    let Signed { session, form } = signed;
    let group = json!({ "group": { "name": form.name, "description": form.description } });
    let result = match body(group) {
        Ok(b) => iam_groups::create(State(state), session.principal, headers, JsonBody(b))
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    after(result, "/ui/admin/groups?done=created")
}

/// `POST /ui/admin/groups/delete`: keystone_delete_group.
pub async fn delete_group(State(state): State<AppState>, signed: Signed<IdForm>) -> Response {
    let Signed { session, form } = signed;
    let result = iam_groups::delete(State(state), session.principal, Path(form.id)).await;
    after(result, "/ui/admin/groups?done=deleted")
}

#[derive(Deserialize)]
pub struct MembershipForm {
    group_id: String,
    user_id: String,
}

/// `POST /ui/admin/groups/members`: keystone_add_user_to_group.
pub async fn add_to_group(
    State(state): State<AppState>,
    signed: Signed<MembershipForm>,
) -> Response {
    let Signed { session, form } = signed;
    let result = iam_groups::add_user(
        State(state),
        session.principal,
        Path((form.group_id, form.user_id)),
    )
    .await;
    after(result, "/ui/admin/groups?done=added")
}

/// `POST /ui/admin/groups/members/remove`: keystone_remove_user_from_group.
pub async fn remove_from_group(
    State(state): State<AppState>,
    signed: Signed<MembershipForm>,
) -> Response {
    let Signed { session, form } = signed;
    let result = iam_groups::remove_user(
        State(state),
        session.principal,
        Path((form.group_id, form.user_id)),
    )
    .await;
    after(result, "/ui/admin/groups?done=removed")
}
