//! `/ui/search`: files by name (the API's search_artifacts) or by checksum (search_by_checksum), called
//! with the session's principal so the API's own filtering decides what the caller may see. A hit that is
//! part of an npm, PyPI, Cargo or Maven package links to the package's page, any other to Browse.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use super::packages;
use super::session::Session;
use super::views::{self, Chrome};
use crate::http::app::AppState;
use crate::http::artifact::files;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::repos::{self, ChecksumKind};

const PAGE_SIZE: i64 = 50;

pub struct Hit {
    pub name: String,
    pub repo: String,
    pub format: String,
    pub path: String,
    pub modified: String,
    /// The package page's URL, when the file belongs to a package.
    pub package: Option<(String, String)>,
    pub browse: String,
}

#[derive(Template)]
#[template(path = "console/search.html")]
pub struct SearchPage {
    pub chrome: Chrome,
    pub query: String,
    /// "name" or "checksum" once a search ran.
    pub by: String,
    pub hits: Vec<Hit>,
    pub page: i64,
    pub more: bool,
}

fn enc(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// `GET /ui/search?q=&page=`: a hex digest of 32, 40, 64 or 128 digits is looked up as a checksum, any
/// other text as part of a file name.
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
) -> ApiResult<SearchPage> {
    let q = query
        .string("q", 128)?
        .unwrap_or_default()
        .trim()
        .to_string();
    let page = query.int("page", 1..=10_000, 1)?;
    let mut result = SearchPage {
        chrome: super::pages::chrome(session),
        query: q.clone(),
        by: String::new(),
        hits: Vec::new(),
        page,
        more: false,
    };
    if q.is_empty() {
        return Ok(result);
    }
    let principal = session.principal.clone();
    let found: Vec<Value> = if ChecksumKind::of(&q.to_ascii_lowercase()).is_some() {
        result.by = "checksum".into();
        let api_query = format!("checksum={}&page_no={page}&page_size={PAGE_SIZE}", enc(&q));
        let Json(answer) = files::search_by_checksum(
            State(state.clone()),
            principal.clone(),
            headers,
            QueryParams::parse(&api_query)?,
        )
        .await?;
        answer["result"].as_array().cloned().unwrap_or_default()
    } else {
        result.by = "name".into();
        if q.chars().count() > 100 {
            return Err(ApiError::invalid("q", "must be at most 100 characters"));
        }
        let body = serde_json::from_value(json!({
            "artifact_name": q, "page_no": page, "page_size": PAGE_SIZE,
        }))
        .map_err(|e| ApiError::invalid("q", e.to_string()))?;
        let Json(answer) = files::search_artifacts(
            State(state.clone()),
            principal.clone(),
            headers,
            Ok(JsonBody(body)),
        )
        .await?;
        answer["result"]["artifacts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    result.more = found.len() as i64 == PAGE_SIZE;
    // Browse links name the repository's project, which search results do not carry.
    let domain_id = principal.domain_id.clone();
    let projects: HashMap<String, String> = state
        .db
        .call(move |conn| repos::domain_repos(conn, &domain_id))
        .await?
        .into_iter()
        .map(|r| (r.id, r.project_id))
        .collect();
    for f in &found {
        let (repo, path, format) = (
            text(f, "repoName"),
            text(f, "relativePath"),
            text(f, "repoType"),
        );
        let project = projects.get(&text(f, "repo")).cloned().unwrap_or_default();
        let package = packages::package_of(&format, &path).map(|p| {
            let href = packages::href(&repo, &p);
            (p, href)
        });
        result.hits.push(Hit {
            name: text(f, "name"),
            browse: format!(
                "/ui/browse/{}/{}?path={}",
                enc(&project),
                enc(&repo),
                enc(&path)
            ),
            modified: text(f, "modified"),
            repo,
            format,
            path,
            package,
        });
    }
    Ok(result)
}
