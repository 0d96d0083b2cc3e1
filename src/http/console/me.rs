//! The "Me" page: the caller's repo user name and a repo password reset (reset_user_password), and their
//! tickets (issue, list, revoke), each through the management API's own handler. A new password or ticket
//! is shown once, in the answer to the POST that made it, never in a URL.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::csrf::Signed;
use super::session::Session;
use super::views::{self, Chrome, Me, TicketRow};
use crate::http::app::AppState;
use crate::http::artifact::{repo_access, tickets};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity;

/// What a fresh secret the page shows once is.
pub enum Fresh {
    None,
    RepoPassword(String),
    Ticket(String),
    /// An access key and its secret.
    AccessKey(String, String),
}

pub async fn page(
    state: &AppState,
    session: &Session,
    fresh: Fresh,
    notice: Option<&str>,
) -> ApiResult<Me> {
    let principal = session.principal.clone();
    let Json(info) = repo_access::show_user_info(principal.clone()).await?;
    let domain_id = principal.domain_id.clone();
    let projects = state
        .db
        .call(move |conn| identity::list_iam_projects(conn, &domain_id, None))
        .await?;
    let mut rows = Vec::new();
    for project in &projects {
        let query = format!("limit=1000&user_id={}", principal.user_id);
        let Json(listed) = tickets::list(
            State(state.clone()),
            principal.clone(),
            Path(project.id.clone()),
            QueryParams::parse(&query),
        )
        .await?;
        for t in listed["page_data"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            rows.push(TicketRow {
                project_id: project.id.clone(),
                project_name: project.name.clone(),
                ticket: str_of(&t["ticket"]),
                scope: str_of(&t["embed_id"]),
                expires: str_of(&t["expire_time"]),
                uses_left: t["left_num"].as_i64().unwrap_or(0),
            });
        }
    }
    let (mut new_password, mut new_ticket, mut new_key) = (None, None, None);
    match fresh {
        Fresh::None => {}
        Fresh::RepoPassword(p) => new_password = Some(p),
        Fresh::Ticket(t) => new_ticket = Some(t),
        Fresh::AccessKey(ak, sk) => new_key = Some((ak, sk)),
    }
    let keys = super::keys::list(state, &session.principal).await?;
    let memberships = super::keys::memberships(state, &session.principal).await?;
    Ok(Me {
        chrome: Chrome {
            user_name: session.principal.user_name.clone(),
            csrf: session.csrf.clone(),
            admin: session.admin,
        },
        repo_user: str_of(&info["result"]["username"]),
        projects: projects.into_iter().map(|p| (p.id, p.name)).collect(),
        tickets: rows,
        new_password,
        new_ticket,
        keys,
        new_key,
        memberships,
        notice: notice.map(str::to_string),
    })
}

fn str_of(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_default()
}

/// `GET /ui/me`.
pub async fn show(State(state): State<AppState>, session: Session, query: QueryParams) -> Response {
    let notice = match query.filter("done", 16) {
        Ok(Some(d)) if d == "revoked" => Some("Ticket revoked."),
        Ok(Some(d)) if d == "key-enabled" => Some("Access key enabled."),
        Ok(Some(d)) if d == "key-disabled" => Some("Access key disabled."),
        Ok(Some(d)) if d == "key-deleted" => Some("Access key deleted."),
        _ => None,
    };
    views::respond(page(&state, &session, Fresh::None, notice).await)
}

#[derive(Deserialize)]
pub struct Nothing {}

/// `POST /ui/me/repo-password`: a new repo password, shown once.
pub async fn reset_repo_password(
    State(state): State<AppState>,
    signed: Signed<Nothing>,
) -> Response {
    let session = signed.session;
    let reset = repo_access::reset_password(State(state.clone()), session.principal.clone()).await;
    match reset {
        Ok(Json(answer)) => {
            let password = str_of(&answer["result"]["password"]);
            views::respond(page(&state, &session, Fresh::RepoPassword(password), None).await)
        }
        Err(e) => views::error_page(e),
    }
}

#[derive(Deserialize)]
pub struct IssueForm {
    project_id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    uses: String,
    #[serde(default)]
    lifetime_secs: String,
}

fn optional_int(name: &str, value: &str) -> ApiResult<Option<i64>> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    value
        .trim()
        .parse()
        .map(Some)
        .map_err(|_| ApiError::invalid(name, "must be a whole number"))
}

/// `POST /ui/me/tickets`: a ticket of the caller's (optionally scoped), shown once.
pub async fn issue_ticket(State(state): State<AppState>, signed: Signed<IssueForm>) -> Response {
    let Signed { session, form } = signed;
    let issued = async {
        let mut body = json!({});
        if !form.scope.is_empty() {
            body["embed_id"] = json!(form.scope);
        }
        if let Some(n) = optional_int("uses", &form.uses)? {
            body["left_num"] = json!(n);
        }
        if let Some(n) = optional_int("lifetime_secs", &form.lifetime_secs)? {
            body["expire_seconds"] = json!(n);
        }
        let body =
            serde_json::from_value(body).map_err(|e| ApiError::invalid("body", e.to_string()))?;
        let answer = tickets::create(
            State(state.clone()),
            session.principal.clone(),
            Path(form.project_id.clone()),
            Ok(JsonBody(body)),
        )
        .await?
        .into_response();
        let bytes = axum::body::to_bytes(answer.into_body(), 1 << 20)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok::<_, ApiError>(str_of(&value["value"]))
    };
    match issued.await {
        Ok(ticket) => views::respond(page(&state, &session, Fresh::Ticket(ticket), None).await),
        Err(e) => views::error_page(e),
    }
}

#[derive(Deserialize)]
pub struct RevokeForm {
    project_id: String,
    ticket: String,
}

/// `POST /ui/me/tickets/revoke`.
pub async fn revoke_ticket(State(state): State<AppState>, signed: Signed<RevokeForm>) -> Response {
    let Signed { session, form } = signed;
    let revoked = tickets::revoke(
        State(state),
        session.principal,
        Path((form.project_id, form.ticket)),
    )
    .await;
    match revoked {
        Ok(_) => Redirect::to("/ui/me?done=revoked").into_response(),
        Err(e) => views::error_page(e),
    }
}
