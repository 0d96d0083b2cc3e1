//! `GET /v2/token?service=arca&scope=repository:<name>:<actions>`: the token endpoint the registry's
//! Bearer challenge points clients at. It takes what the other protocols take (Basic with the repo
//! user and password or a ticket as the password, or nothing for an anonymous caller) and answers a
//! short-lived token granting, of the actions asked, those the privilege engine allows now.

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use super::access::{authorize, identify, load_repo};
use super::oci::{token_key, FORMAT};
use crate::auth::registry_token::{self, Claims, Grant, LIFETIME_SECS};
use crate::auth::{Credential, Principal};
use crate::domain::operation::Operation;
use crate::formats::oci::is_valid_name;
use crate::http::app::AppState;
use crate::http::error::ApiError;

/// At most this many scopes are looked at (a client asks for one or two).
const MAX_SCOPES: usize = 16;

pub(super) async fn issue(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let pairs = crate::auth::signature::query_pairs(parts.uri.query().unwrap_or(""))
        .map_err(|_| ApiError::invalid("query", "is not valid percent-encoded UTF-8"))?;
    let scopes: Vec<String> = pairs
        .into_iter()
        .filter(|(k, _)| k == "scope")
        .flat_map(|(_, v)| v.split(' ').map(str::to_string).collect::<Vec<_>>())
        .take(MAX_SCOPES)
        .collect();
    let (principal, _) = identify(state, &parts, body).await?;
    let mut access = Vec::new();
    for scope in scopes {
        let Some((name, actions)) = registry_token::parse_scope(&scope) else {
            continue;
        };
        if !is_valid_name(&name) {
            continue;
        }
        let granted = granted(state, &parts, principal.as_ref(), &name, &actions).await;
        access.push(Grant {
            name,
            actions: granted,
        });
    }
    let now = crate::store::now_ms() / 1000;
    let claims = Claims {
        sub: principal
            .as_ref()
            .map(|p| p.user_id.clone())
            .unwrap_or_default(),
        ticket: principal.as_ref().and_then(|p| match &p.credential {
            Credential::Ticket {
                ticket_id,
                embed_id,
            } => Some((ticket_id.clone(), embed_id.clone())),
            _ => None,
        }),
        access,
        iat: now,
        exp: now + LIFETIME_SECS,
    };
    let token = registry_token::sign(&token_key(state).await?, &claims);
    let issued_at = DateTime::<Utc>::from_timestamp(now, 0)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    Ok(axum::Json(json!({
        "token": token,
        "access_token": token,
        "expires_in": LIFETIME_SECS,
        "issued_at": issued_at,
    }))
    .into_response())
}

/// Of `actions` on image `name`, those the caller may do now (none on a repository it cannot see).
async fn granted(
    state: &AppState,
    parts: &axum::http::request::Parts,
    principal: Option<&Principal>,
    name: &str,
    actions: &[String],
) -> Vec<String> {
    let Some((repo_name, image)) = name.split_once('/') else {
        return Vec::new();
    };
    let Ok(repo) = load_repo(state, parts, principal, repo_name, Some(FORMAT)).await else {
        return Vec::new();
    };
    let mut granted = Vec::new();
    for action in actions {
        let op = match action.as_str() {
            "pull" => Operation::Download,
            "push" => Operation::Upload,
            "delete" => Operation::Delete,
            _ => continue,
        };
        let rel = format!("{image}/manifests");
        if authorize(state, principal, &repo, op, &rel).await.is_ok() && !granted.contains(action) {
            granted.push(action.clone());
        }
    }
    granted
}
