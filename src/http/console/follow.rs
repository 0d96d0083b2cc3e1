//! Following files: the star on a file's page (create_attention) and the "Followed" page
//! (list_attentions), each through the API's own handler. The same handler unfollows.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::{json, Value};

use super::csrf::Signed;
use super::session::Session;
use super::views::{self, Chrome};
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::artifact::access::repo_with_access;
use crate::http::artifact::{attention, repositories};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};

const PAGE_SIZE: i64 = 50;
/// Pages of follows read to tell whether one file is followed (100 each).
const MAX_PAGES: i64 = 50;

/// What the caller may do with the file a Browse page shows.
pub struct FileActions {
    pub id: String,
    pub followed: bool,
    pub can_delete: bool,
}

fn enc(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// Whether the caller follows artifact `id` (list_attentions), and may delete the file (the privilege
/// engine's answer for `delete` on its path), so the page shows only the buttons that work.
pub async fn file_actions(
    state: &AppState,
    principal: &Principal,
    headers: &HeaderMap,
    repo_key: &str,
    path: &str,
    id: String,
) -> ApiResult<FileActions> {
    let (repo, access) = repo_with_access(state, principal, repo_key).await?;
    let mut followed = false;
    let mut page_no = 1;
    while !followed && page_no <= MAX_PAGES {
        let Json(page) = attention::list(
            State(state.clone()),
            principal.clone(),
            headers.clone(),
            QueryParams::parse(&format!("page_no={page_no}&page_size=100"))?,
        )
        .await?;
        let result = &page["result"];
        followed = result["data"]
            .as_array()
            .is_some_and(|rows| rows.iter().any(|r| text(r, "artifactId") == id));
        if page_no >= result["totalPages"].as_i64().unwrap_or(0) {
            break;
        }
        page_no += 1;
    }
    Ok(FileActions {
        can_delete: access.allows(&repo, Operation::Delete, path),
        followed,
        id,
    })
}

#[derive(Deserialize)]
pub struct FollowForm {
    id: String,
    follow: String,
    /// Where to go back to: a file's page (project, repo, path) or the Followed page.
    #[serde(default)]
    project: String,
    #[serde(default)]
    repo: String,
    #[serde(default)]
    path: String,
}

/// `POST /ui/follow`: create_attention with `attention` true or false.
pub async fn follow(State(state): State<AppState>, signed: Signed<FollowForm>) -> Response {
    let Signed { session, form } = signed;
    let body = json!({ "attention": form.follow, "ids": [form.id] });
    let done = match serde_json::from_value(body) {
        Ok(b) => attention::create(State(state), session.principal, Ok(JsonBody(b))).await,
        Err(e) => Err(ApiError::invalid("body", e.to_string())),
    };
    if let Err(e) = done {
        return views::error_page(e);
    }
    // The way back is built from its parts, so the form cannot send the browser elsewhere.
    let back = if form.repo.is_empty() {
        "/ui/followed".to_string()
    } else {
        format!(
            "/ui/browse/{}/{}?path={}",
            enc(&form.project),
            enc(&form.repo),
            enc(&form.path)
        )
    };
    Redirect::to(&back).into_response()
}

pub struct FollowedRow {
    pub id: String,
    pub repo: String,
    pub project_id: String,
    pub path: String,
    pub format: String,
    pub modified: String,
    pub modified_by: String,
}

#[derive(Template)]
#[template(path = "console/followed.html")]
pub struct Followed {
    pub chrome: Chrome,
    pub rows: Vec<FollowedRow>,
    pub page: i64,
    pub pages: i64,
    pub total: i64,
}

/// `GET /ui/followed?page=`.
pub async fn followed(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    views::respond(followed_page(&state, &session, headers, &query).await)
}

async fn followed_page(
    state: &AppState,
    session: &Session,
    headers: HeaderMap,
    query: &QueryParams,
) -> ApiResult<Followed> {
    let page = query.int("page", 1..=2_147_483_647, 1)?;
    let principal = session.principal.clone();
    let Json(listed) = attention::list(
        State(state.clone()),
        principal.clone(),
        headers.clone(),
        QueryParams::parse(&format!("page_no={page}&page_size={PAGE_SIZE}"))?,
    )
    .await?;
    // A follow names its repository's id; the Browse links need the repository's project.
    let Json(repos) = repositories::list_all(
        State(state.clone()),
        principal.clone(),
        headers,
        Path((principal.domain_id.clone(), "0".repeat(32))),
        QueryParams::parse("is_need_paging=false&in_project=false")?,
    )
    .await?;
    let project_of = |repo_id: &str| {
        repos["result"]["repositories"]
            .as_array()
            .and_then(|all| all.iter().find(|r| text(r, "id") == repo_id))
            .map(|r| text(r, "projectId"))
            .unwrap_or_default()
    };
    let result = &listed["result"];
    let rows = result["data"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| FollowedRow {
            id: text(r, "artifactId"),
            repo: text(r, "repositoryName"),
            project_id: project_of(&text(r, "repositoryId")),
            path: text(r, "path").trim_start_matches('/').to_string(),
            format: text(r, "format"),
            modified: text(r, "modifiedTime"),
            modified_by: text(r, "modifiedUserName"),
        })
        .collect();
    Ok(Followed {
        chrome: Chrome {
            user_name: principal.user_name.clone(),
            csrf: session.csrf.clone(),
            admin: session.admin,
        },
        rows,
        page,
        pages: result["totalPages"].as_i64().unwrap_or(0),
        total: result["totalRecords"].as_i64().unwrap_or(0),
    })
}
