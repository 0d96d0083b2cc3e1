//! Editing a repository's settings: the form shows show_repository_info's answer, and saving sends the
//! fields to update_artifactory, which checks `editRepository` and every value.

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
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::artifact::access::{repo_with_access, require};
use crate::http::artifact::repositories;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::service::repo_kinds;

#[derive(Template)]
#[template(path = "console/repo_edit.html")]
pub struct Edit {
    pub chrome: Chrome,
    pub id: String,
    pub name: String,
    pub format: String,
    pub kind: String,
    pub project_id: String,
    pub description: String,
    pub includes_pattern: String,
    pub redeploy: bool,
    pub allow_anonymous: bool,
    /// Maven snapshot repositories only.
    pub snapshots: Option<String>,
    pub remote_url: String,
    pub user_name: String,
    pub password_set: bool,
    pub metadata_max_age_secs: String,
    pub not_found_cache_secs: String,
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `GET /ui/repositories/edit?id=`: the form, for callers the privilege engine lets edit the repository.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    views::respond(page(&state, &session, headers, &query).await)
}

async fn page(
    state: &AppState,
    session: &Session,
    headers: HeaderMap,
    query: &QueryParams,
) -> ApiResult<Edit> {
    let id = query
        .filter("id", 64)?
        .ok_or_else(|| ApiError::invalid("id", "is required: a repository id"))?;
    let principal = session.principal.clone();
    let (repo, access) = repo_with_access(state, &principal, &id).await?;
    require(&access, &repo, Operation::EditRepository, "")?;
    let Json(info) =
        repositories::show_info(State(state.clone()), principal.clone(), headers, Path(id)).await?;
    let r = &info["result"];
    Ok(Edit {
        chrome: Chrome {
            user_name: principal.user_name.clone(),
            csrf: session.csrf.clone(),
            admin: session.admin,
        },
        id: text(r, "id"),
        name: text(r, "name"),
        format: text(r, "format"),
        kind: text(r, "type"),
        project_id: text(r, "projectId"),
        description: text(r, "description"),
        includes_pattern: text(r, "includesPattern"),
        redeploy: text(r, "deploymentPolicy") != repositories::DISABLE_REDEPLOY,
        allow_anonymous: r["allowAnonymous"].as_bool().unwrap_or(false),
        snapshots: (text(r, "policy") == "snapshot").then(|| text(r, "maxUniqueSnapshots")),
        remote_url: text(r, "remoteUrl"),
        user_name: text(r, "userName"),
        password_set: r["passwordSet"].as_bool().unwrap_or(false),
        metadata_max_age_secs: text(r, "metadataMaxAgeSecs"),
        not_found_cache_secs: text(r, "notFoundCacheSecs"),
    })
}

#[derive(Deserialize)]
pub struct EditForm {
    id: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    includes_pattern: String,
    #[serde(default)]
    deployment_policy: String,
    /// A checkbox: present when ticked.
    allow_anonymous: Option<String>,
    max_unique_snapshots: Option<String>,
    remote_url: Option<String>,
    user_name: Option<String>,
    #[serde(default)]
    password: String,
    clear_password: Option<String>,
    metadata_max_age_secs: Option<String>,
    not_found_cache_secs: Option<String>,
}

fn seconds(name: &str, value: Option<&str>) -> ApiResult<Option<i64>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| ApiError::invalid(name, "must be a whole number of seconds")),
    }
}

/// `POST /ui/repositories/edit`: update_artifactory with the form's fields. The remote fields go only to
/// remote repositories (the API refuses them elsewhere); an empty password field keeps the password.
pub async fn save(State(state): State<AppState>, signed: Signed<EditForm>) -> Response {
    let Signed { session, form } = signed;
    let saved = async {
        let principal = session.principal.clone();
        let (repo, _) = repo_with_access(&state, &principal, &form.id).await?;
        let mut body = json!({
            "repo_name": repo.id,
            "description": form.description,
            "includes_pattern": form.includes_pattern,
            "deployment_policy": form.deployment_policy,
            "allow_anonymous": form.allow_anonymous.is_some(),
        });
        if let Some(n) = form.max_unique_snapshots.as_ref() {
            body["max_unique_snapshots"] = json!(n);
        }
        if repo.repo_type == repo_kinds::REMOTE {
            if let Some(url) = &form.remote_url {
                body["remote_url"] = json!(url);
            }
            if let Some(user) = &form.user_name {
                body["user_name"] = json!(user);
            }
            if form.clear_password.is_some() {
                body["password"] = json!("");
            } else if !form.password.is_empty() {
                body["password"] = json!(form.password);
            }
            let age = seconds(
                "metadata_max_age_secs",
                form.metadata_max_age_secs.as_deref(),
            )?;
            if let Some(n) = age {
                body["metadata_max_age_secs"] = json!(n);
            }
            let cache = seconds("not_found_cache_secs", form.not_found_cache_secs.as_deref())?;
            if let Some(n) = cache {
                body["not_found_cache_secs"] = json!(n);
            }
        }
        let body =
            serde_json::from_value(body).map_err(|e| ApiError::invalid("body", e.to_string()))?;
        repositories::update_other(
            State(state.clone()),
            principal,
            HeaderMap::new(),
            Ok(JsonBody(body)),
        )
        .await
        .map(drop)?;
        Ok::<_, ApiError>(repo.project_id)
    };
    match saved.await {
        Ok(project) => Redirect::to(&format!(
            "/ui/repositories?project={}&done=edited",
            utf8_percent_encode(&project, NON_ALPHANUMERIC)
        ))
        .into_response(),
        Err(e) => views::error_page(e),
    }
}
