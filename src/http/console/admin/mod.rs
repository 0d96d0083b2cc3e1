//! Administration (issue 14): users, groups, projects and their members, and each role's repository
//! privileges per project. Each page is shown to whoever the API would answer: the listing handler it
//! calls decides (an IAM action, the root user, a project role), and every form posts through `Signed`
//! to the API handler of that change with the session's principal, so a forged request meets the same
//! refusal as a direct API call.

mod projects;
mod users;
mod views;

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::session::Session;
use super::views::error_page;
use crate::auth::Principal;
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::iam::actions as iam;
use crate::http::projectman::actions as projectman;
use views::Sections;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/admin", get(home))
        .route("/ui/admin/users", get(users::list).post(users::create))
        .route("/ui/admin/users/enabled", post(users::set_enabled))
        .route("/ui/admin/users/password", post(users::set_password))
        .route("/ui/admin/users/delete", post(users::delete))
        .route(
            "/ui/admin/groups",
            get(users::groups).post(users::create_group),
        )
        .route("/ui/admin/groups/delete", post(users::delete_group))
        .route("/ui/admin/groups/members", post(users::add_to_group))
        .route(
            "/ui/admin/groups/members/remove",
            post(users::remove_from_group),
        )
        .route(
            "/ui/admin/projects",
            get(projects::list).post(projects::create),
        )
        .route("/ui/admin/projects/delete", post(projects::delete))
        .route("/ui/admin/projects/{project}", get(projects::show))
        .route(
            "/ui/admin/projects/{project}/members",
            post(projects::add_member),
        )
        .route(
            "/ui/admin/projects/{project}/members/role",
            post(projects::change_role),
        )
        .route(
            "/ui/admin/projects/{project}/members/remove",
            post(projects::remove_member),
        )
        .route(
            "/ui/admin/projects/{project}/grants",
            post(projects::update_grants),
        )
}

/// Whether the Administration link shows: the root user, or a user who may list the account's users,
/// its groups or all its projects (the actions the three list pages' handlers require).
pub async fn visible(state: &AppState, principal: &Principal) -> ApiResult<bool> {
    Ok(sections(state, principal, "").await?.any())
}

async fn sections(
    state: &AppState,
    principal: &Principal,
    current: &'static str,
) -> ApiResult<Sections> {
    Ok(Sections {
        users: state.is_allowed(principal, iam::LIST_USERS).await?,
        groups: state.is_allowed(principal, iam::LIST_GROUPS).await?,
        projects: state
            .is_allowed(principal, projectman::LIST_ALL_PROJECTS)
            .await?,
        current,
    })
}

/// `GET /ui/admin`: the first administration page the caller may use.
async fn home(State(state): State<AppState>, session: Session) -> Response {
    match sections(&state, &session.principal, "").await {
        Ok(s) if s.users => see_other("/ui/admin/users"),
        Ok(s) if s.groups => see_other("/ui/admin/groups"),
        Ok(s) if s.projects => see_other("/ui/admin/projects"),
        Ok(_) => error_page(ApiError::forbidden(
            "Administration needs the root user or an IAM policy allowing iam:users:listUsers, \
             iam:groups:listGroups or projectman:projects:listAll",
        )),
        Err(e) => error_page(e),
    }
}

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// An API request body built from a console form; a field the API refuses is named by the API.
fn body<T: DeserializeOwned>(value: Value) -> ApiResult<T> {
    serde_json::from_value(value).map_err(|e| ApiError::invalid("body", e.to_string()))
}

/// After a change: back to `location` on success, the API's refusal as a page otherwise.
fn after<T>(result: ApiResult<T>, location: &str) -> Response {
    match result {
        Ok(_) => see_other(location),
        Err(e) => error_page(e),
    }
}

/// A string field of an API answer (`""` when absent).
fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The confirmation a `?done=` parameter asks for, from a fixed list (never echoed).
fn notice(done: Option<String>, known: &[(&str, &'static str)]) -> Option<String> {
    let done = done?;
    known
        .iter()
        .find(|(key, _)| *key == done)
        .map(|(_, text)| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_come_from_the_list_only() {
        let known = [("created", "Created.")];
        assert_eq!(
            notice(Some("created".into()), &known).as_deref(),
            Some("Created.")
        );
        assert_eq!(notice(Some("<b>".into()), &known), None);
        assert_eq!(notice(None, &known), None);
    }

    #[test]
    fn form_bodies_that_do_not_fit_are_400_naming_body() {
        #[derive(Debug, serde::Deserialize)]
        struct Shape {
            #[allow(dead_code)]
            n: i64,
        }
        let e = body::<Shape>(serde_json::json!({"n": "x"})).unwrap_err();
        assert!(e.to_string().contains("'body'"), "{e}");
    }
}
