//! "Me" additions: the caller's permanent access keys (create with the secret shown once, list, disable
//! and enable, delete) through the IAM credential handlers, and the CodeArts projects the caller is a
//! member of with its role in each (list_projects_v4, show_cur_user_role).

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::csrf::Signed;
use super::me::{self, Fresh};
use crate::auth::Principal;
use crate::authz::roles::projectman_role_name;
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::iam::credentials;
use crate::http::projectman::{members, projects};

pub struct KeyRow {
    pub access: String,
    pub active: bool,
    pub created: String,
    pub description: String,
}

pub struct Membership {
    pub project_id: String,
    pub name: String,
    pub role: String,
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// The caller's own keys (list_permanent_access_keys with `user_id`: never another user's).
pub async fn list(state: &AppState, principal: &Principal) -> ApiResult<Vec<KeyRow>> {
    let Json(listed) = credentials::list(
        State(state.clone()),
        principal.clone(),
        QueryParams::parse(&format!("user_id={}", principal.user_id))?,
    )
    .await?;
    Ok(listed["credentials"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|k| KeyRow {
            access: text(k, "access"),
            active: text(k, "status") == "active",
            created: text(k, "create_time"),
            description: text(k, "description"),
        })
        .collect())
}

/// The projects the caller is a member of and its role there. The root user sees every project of the
/// account; where it is not a member it has no role, only the root user's rights.
pub async fn memberships(state: &AppState, principal: &Principal) -> ApiResult<Vec<Membership>> {
    let Json(listed) = projects::list(
        State(state.clone()),
        principal.clone(),
        QueryParams::parse("limit=1000")?,
    )
    .await?;
    let mut rows = Vec::new();
    for p in listed["projects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let project_id = text(p, "project_id");
        let role = match members::current_role(
            State(state.clone()),
            principal.clone(),
            Path(project_id.clone()),
        )
        .await
        {
            Ok(Json(r)) => r["user_role"]
                .as_i64()
                .and_then(projectman_role_name)
                .unwrap_or("Unknown role")
                .to_string(),
            Err(ApiError::NotFound(_)) => "Not a member (account root)".to_string(),
            Err(e) => return Err(e),
        };
        rows.push(Membership {
            name: text(p, "project_name"),
            project_id,
            role,
        });
    }
    Ok(rows)
}

#[derive(Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    description: String,
}

/// `POST /ui/me/keys`: a new key of the caller's; the secret is in this answer only.
pub async fn create(State(state): State<AppState>, signed: Signed<CreateForm>) -> Response {
    let Signed { session, form } = signed;
    let created = async {
        let body = json!({ "credential": {
            "user_id": session.principal.user_id,
            "description": form.description,
        }});
        let body =
            serde_json::from_value(body).map_err(|e| ApiError::invalid("body", e.to_string()))?;
        let answer = credentials::create(
            State(state.clone()),
            session.principal.clone(),
            JsonBody(body),
        )
        .await?
        .into_response();
        let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok::<_, ApiError>((
            text(&value["credential"], "access"),
            text(&value["credential"], "secret"),
        ))
    };
    match created.await {
        Ok((access, secret)) => super::views::respond(
            me::page(&state, &session, Fresh::AccessKey(access, secret), None).await,
        ),
        Err(e) => super::views::error_page(e),
    }
}

#[derive(Deserialize)]
pub struct StatusForm {
    access: String,
    status: String,
}

/// `POST /ui/me/keys/status`: update_permanent_access_key's status, `active` or `inactive`.
pub async fn set_status(State(state): State<AppState>, signed: Signed<StatusForm>) -> Response {
    let Signed { session, form } = signed;
    let body = json!({ "credential": { "status": form.status } });
    let done = match serde_json::from_value(body) {
        Ok(b) => credentials::update(
            State(state),
            session.principal,
            Path(form.access),
            JsonBody(b),
        )
        .await
        .map(drop),
        Err(e) => Err(ApiError::invalid("body", e.to_string())),
    };
    let notice = if form.status == "active" {
        "key-enabled"
    } else {
        "key-disabled"
    };
    match done {
        Ok(()) => Redirect::to(&format!("/ui/me?done={notice}")).into_response(),
        Err(e) => super::views::error_page(e),
    }
}

#[derive(Deserialize)]
pub struct KeyForm {
    access: String,
}

/// `POST /ui/me/keys/delete`: delete_permanent_access_key.
pub async fn delete(State(state): State<AppState>, signed: Signed<KeyForm>) -> Response {
    let Signed { session, form } = signed;
    match credentials::delete(State(state), session.principal, Path(form.access)).await {
        Ok(_) => Redirect::to("/ui/me?done=key-deleted").into_response(),
        Err(e) => super::views::error_page(e),
    }
}
