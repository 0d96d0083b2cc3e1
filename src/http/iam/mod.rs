//! The IAM subset (SPEC §10): Keystone password tokens, IAM projects, users, groups, permanent access keys
//! and custom policies, at the paths and in the JSON shapes of Huawei Cloud IAM v3, so the official
//! `huaweicloudsdkiam` SDK drives arca. Errors use arca's envelope (the SDK reads `error_code`/`error_msg`).
//!
//! Everything is scoped to the caller's domain: an id of another domain is answered like an unknown id
//! (404), and a `{domain_id}` path parameter or `domain_id` body field naming another domain is a 403.

pub(crate) mod credentials;
pub(crate) mod groups;
pub(crate) mod policies;
pub(crate) mod projects;
pub(crate) mod tokens;
pub(crate) mod users;

use axum::http::HeaderMap;
use axum::routing::{get, post, put};
use axum::Router;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::app::AppState;
use super::error::{ApiError, ApiResult};
use crate::auth::Principal;
use crate::domain::is_hex32;
use crate::store::identity::{self, User};

/// The IAM actions arca checks, as Huawei Cloud IAM names them in its action list ("Permissions Policies
/// and Supported Actions"); `authz::policy` matches them case-insensitively, with `*` wildcards, so a
/// custom policy allowing `iam:*:*` makes an IAM administrator. The root user is allowed all of them.
///
/// Self-service needs no action, as in Huawei IAM: every user may read their own user, groups and
/// projects, validate their own token, and create, list, change and delete their own access keys.
/// Listing the domain's IAM projects (`GET /v3/projects`) and the caller's domain
/// (`GET /v3/auth/domains`) needs no action either: the SDK's credential classes call both for every
/// user to discover the project and domain ids.
pub mod actions {
    pub const CREATE_PROJECT: &str = "iam:projects:createProject";
    pub const LIST_PROJECTS_FOR_USER: &str = "iam:projects:listProjectsForUser";

    pub const LIST_USERS: &str = "iam:users:listUsers";
    pub const GET_USER: &str = "iam:users:getUser";
    pub const CREATE_USER: &str = "iam:users:createUser";
    pub const UPDATE_USER: &str = "iam:users:updateUser";
    pub const DELETE_USER: &str = "iam:users:deleteUser";
    pub const LIST_USERS_FOR_GROUP: &str = "iam:users:listUsersForGroup";

    pub const LIST_GROUPS: &str = "iam:groups:listGroups";
    pub const GET_GROUP: &str = "iam:groups:getGroup";
    pub const CREATE_GROUP: &str = "iam:groups:createGroup";
    pub const UPDATE_GROUP: &str = "iam:groups:updateGroup";
    pub const DELETE_GROUP: &str = "iam:groups:deleteGroup";
    pub const ADD_USER_TO_GROUP: &str = "iam:groups:addUserToGroup";
    pub const REMOVE_USER_FROM_GROUP: &str = "iam:groups:removeUserFromGroup";
    pub const CHECK_USER_IN_GROUP: &str = "iam:groups:checkUserInGroup";
    pub const LIST_GROUPS_FOR_USER: &str = "iam:groups:listGroupsForUser";

    pub const LIST_CREDENTIALS: &str = "iam:credentials:listCredentials";
    pub const GET_CREDENTIAL: &str = "iam:credentials:getCredential";
    pub const CREATE_CREDENTIAL: &str = "iam:credentials:createCredential";
    pub const UPDATE_CREDENTIAL: &str = "iam:credentials:updateCredential";
    pub const DELETE_CREDENTIAL: &str = "iam:credentials:deleteCredential";

    pub const LIST_ROLES: &str = "iam:roles:listRoles";
    pub const GET_ROLE: &str = "iam:roles:getRole";
    pub const CREATE_ROLE: &str = "iam:roles:createRole";
    pub const UPDATE_ROLE: &str = "iam:roles:updateRole";
    pub const DELETE_ROLE: &str = "iam:roles:deleteRole";

    pub const GRANT_ROLE_TO_GROUP: &str = "iam:permissions:grantRoleToGroupOnDomain";
    pub const CHECK_ROLE_FOR_GROUP: &str = "iam:permissions:checkRoleForGroupOnDomain";
    pub const REVOKE_ROLE_FROM_GROUP: &str = "iam:permissions:revokeRoleFromGroupOnDomain";
    pub const LIST_ROLES_FOR_GROUP: &str = "iam:permissions:listRolesForGroupOnDomain";

    /// arca's own name (Huawei documents no action for it): validating another user's token.
    pub const VALIDATE_TOKEN: &str = "iam:tokens:validate";
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v3/auth/tokens", get(tokens::validate))
        .route("/v3/auth/domains", get(tokens::list_auth_domains))
        .route("/v3/projects", get(projects::list).post(projects::create))
        .route(
            "/v3/users",
            get(users::keystone_list).post(users::keystone_create),
        )
        .route(
            "/v3/users/{user_id}",
            get(users::keystone_show)
                .patch(users::keystone_update)
                .delete(users::delete),
        )
        .route("/v3/users/{user_id}/groups", get(groups::list_for_user))
        .route("/v3/users/{user_id}/projects", get(projects::list_for_user))
        .route("/v3.0/OS-USER/users", post(users::create))
        .route(
            "/v3.0/OS-USER/users/{user_id}",
            get(users::show).put(users::update),
        )
        .route("/v3/groups", get(groups::list).post(groups::create))
        .route(
            "/v3/groups/{group_id}",
            get(groups::show)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route("/v3/groups/{group_id}/users", get(groups::list_users))
        .route(
            "/v3/groups/{group_id}/users/{user_id}",
            put(groups::add_user)
                .head(groups::check_user)
                .delete(groups::remove_user),
        )
        .route(
            "/v3.0/OS-CREDENTIAL/credentials",
            get(credentials::list).post(credentials::create),
        )
        .route(
            "/v3.0/OS-CREDENTIAL/credentials/{access_key}",
            get(credentials::show)
                .put(credentials::update)
                .delete(credentials::delete),
        )
        .route(
            "/v3.0/OS-ROLE/roles",
            get(policies::list).post(policies::create),
        )
        .route(
            "/v3.0/OS-ROLE/roles/{role_id}",
            get(policies::show)
                .patch(policies::update)
                .delete(policies::delete),
        )
        .route(
            "/v3/domains/{domain_id}/groups/{group_id}/roles",
            get(policies::list_for_group),
        )
        .route(
            "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}",
            put(policies::attach)
                .head(policies::check)
                .delete(policies::detach),
        )
}

/// Routes that need no authentication (obtaining a token).
pub fn public_router() -> Router<AppState> {
    Router::new().route("/v3/auth/tokens", post(tokens::create))
}

// ---- helpers shared by the IAM handlers ------------------------------------------------------

/// A path or body id that must be 32 lower-case hex characters; 400 naming `name` otherwise.
pub(crate) fn hex_id(name: &str, value: &str) -> ApiResult<()> {
    if is_hex32(value) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            name,
            "must be 32 lower-case hexadecimal characters",
        ))
    }
}

/// An optional text field of at most `max` characters without control characters.
fn text(name: &str, value: Option<&str>, max: usize) -> ApiResult<()> {
    match value {
        Some(v) if v.chars().count() > max => Err(ApiError::invalid(
            name,
            format!("must be at most {max} characters"),
        )),
        Some(v) if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => Err(
            ApiError::invalid(name, "must not contain control characters"),
        ),
        _ => Ok(()),
    }
}

/// A `domain_id` given in a body or a filter: only the caller's own domain may be named.
fn own_domain(principal: &Principal, name: &str, domain_id: Option<&str>) -> ApiResult<()> {
    match domain_id {
        None => Ok(()),
        Some(d) if d == principal.domain_id => Ok(()),
        Some(d) if !is_hex32(d) => Err(ApiError::invalid(
            name,
            "must be 32 lower-case hexadecimal characters",
        )),
        Some(_) => Err(ApiError::forbidden(
            "The domain named is not the caller's account; arca manages only the caller's own account",
        )),
    }
}

/// `{"self": URL}` (Keystone's `LinksSelf`).
fn link_self(headers: &HeaderMap, path: &str) -> Value {
    json!({ "self": format!("{}{path}", crate::http::urls::request_base_url(headers)) })
}

/// `{"self": URL, "previous": null, "next": null}` (Keystone's `Links`).
fn links(headers: &HeaderMap, path: &str) -> Value {
    json!({ "self": format!("{}{path}", crate::http::urls::request_base_url(headers)), "previous": null, "next": null })
}

/// Keystone's timestamps: `2024-05-01T08:00:00.000000Z`.
fn keystone_time(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default()
}

/// The OS-USER API's timestamps: `2024-05-01 08:00:00.0` (UTC).
fn huawei_time(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| {
            let tenths = t.timestamp_subsec_millis() / 100;
            format!("{}.{tenths}", t.format("%Y-%m-%d %H:%M:%S"))
        })
        .unwrap_or_default()
}

/// Allows the caller to act on `target_user_id` when it is the caller, else requires `action`.
async fn require_self_or(
    state: &AppState,
    principal: &Principal,
    target_user_id: &str,
    action: &'static str,
) -> ApiResult<()> {
    if principal.user_id == target_user_id {
        Ok(())
    } else {
        state.require(principal, action).await
    }
}

/// A user of the caller's domain; 404 for unknown ids and users of other domains alike.
pub(crate) async fn user_of_domain(
    state: &AppState,
    principal: &Principal,
    user_id: &str,
) -> ApiResult<User> {
    let id = user_id.to_string();
    let user = state
        .db
        .call(move |conn| identity::get_user(conn, &id))
        .await?;
    match user {
        Some(u) if u.domain_id == principal.domain_id => Ok(u),
        _ => Err(ApiError::not_found(format!(
            "No user {user_id} in the caller's account"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats() {
        assert_eq!(
            keystone_time(1_700_000_000_123),
            "2023-11-14T22:13:20.123000Z"
        );
        assert_eq!(huawei_time(1_700_000_000_123), "2023-11-14 22:13:20.1");
    }

    #[test]
    fn text_fields_are_bounded() {
        assert!(text("d", Some("abc"), 3).is_ok());
        assert!(text("d", None, 3).is_ok());
        let e = text("user.description", Some("abcd"), 3).unwrap_err();
        assert!(e.to_string().contains("'user.description'"));
        assert!(text("d", Some("a\u{0}"), 3).is_err());
    }
}
