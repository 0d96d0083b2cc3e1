//! The PyPI JSON API of hosted repositories: `GET {repo}/pypi/{project}/json` and
//! `GET {repo}/pypi/{project}/{version}/json`, warehouse's shape (formats::pypi_json), kept in the
//! metadata documents cache like the simple pages (ETag, 304, gzip/brotli) and readable by whoever may
//! read the project's simple page. Errors answer in JSON, `{"message": …}`, as warehouse's do.

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::access::authorize;
use super::documents::document_response;
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::formats::pypi::{self, file_href};
use crate::formats::pypi_json::{self, ReleaseFile, Subject};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::http::urls::public_base_url;
use crate::service::documents::Document;
use crate::service::repo_kinds;
use crate::store::pypi as store;
use crate::store::repos::{self, Repository};

const JSON: &str = "application/json";

/// Whether a repository-relative path is one of the JSON API's (its errors then answer in JSON).
pub fn is_json_api(segments: &[&str]) -> bool {
    matches!(segments, ["pypi", _, "json"] | ["pypi", _, _, "json"])
}

/// An error of the JSON API: its status (and challenge), the message as JSON.
pub fn json_error(e: ApiError) -> Response {
    let status = e.status();
    let message = match &e {
        ApiError::Internal(detail) => {
            tracing::error!(detail, "internal error");
            "internal error".to_string()
        }
        other => other.to_string(),
    };
    let mut response = (status, axum::Json(json!({ "message": message }))).into_response();
    e.add_headers_and_basic_challenge(&mut response);
    response
}

pub async fn serve(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    name: &str,
    version: Option<&str>,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let project = pypi::normalize(name);
    if !pypi::is_valid_name(name) || version.is_some_and(|v| !pypi::is_valid_version(v)) {
        return Err(ApiError::not_found("Not Found"));
    }
    // The same privilege the project's simple page needs.
    let project_path = format!("packages/{project}");
    authorize(state, caller, repo, Operation::Download, &project_path).await?;
    if repo.repo_type != repo_kinds::HOSTED {
        return Err(ApiError::not_found("Not Found"));
    }
    let base = public_base_url(&state.config, headers);
    let key = format!("pypi-json\0{base}\0{project}\0{}", version.unwrap_or(""));
    let document = state
        .documents
        .get_or_build(&state.db, &repo.id, key, || async {
            let (repo_id, lookup) = (repo.id.clone(), project.clone());
            // The generation is read first: the document then reflects at least that state (the
            // cache's own rule), and it doubles as the serial.
            let (serial, dists) = state
                .db
                .call(move |conn| {
                    let serial = repos::metadata_generation(conn, &repo_id)?.unwrap_or(0);
                    Ok((serial, store::live_of_project(conn, &repo_id, &lookup)?))
                })
                .await?;
            let Some(last) = dists.last() else {
                return Ok::<_, ApiError>(None);
            };
            let repo_url = format!("{base}/artifactory/api/pypi/{}", repo.name);
            let files: Vec<ReleaseFile> = dists
                .iter()
                .map(|d| ReleaseFile {
                    version: d.dist.version.clone(),
                    filename: d.dist.filename.clone(),
                    url: format!(
                        "{repo_url}/{}",
                        file_href(&project, &d.dist.version, &d.dist.filename)
                            .trim_start_matches("../../")
                    ),
                    md5: d.md5.clone(),
                    sha256: d.sha256.clone(),
                    size: d.size,
                    packagetype: d.dist.packagetype.clone(),
                    requires_python: d.dist.requires_python.clone(),
                    yanked: d.dist.yanked,
                    yanked_reason: d.dist.yanked_reason.clone(),
                    upload_time: iso_time(d.dist.uploaded_at),
                })
                .collect();
            let subject = Subject {
                display_name: &last.dist.display_name,
                project: &project,
                repo_url: &repo_url,
                last_serial: serial,
            };
            let Some(body) = pypi_json::document(&subject, &files, version) else {
                return Ok(None);
            };
            let modified = dists.iter().map(|d| d.dist.uploaded_at).max().unwrap_or(0);
            Ok(Some(
                Document::build(body.to_string().into_bytes(), JSON, modified).await,
            ))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("Not Found"))?;
    Ok(document_response(&document, headers, head, None))
}

fn iso_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_default()
}
