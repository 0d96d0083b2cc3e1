//! `POST /cloudartifact/v5/repositories` (create_docker_repositories): a hosted container image
//! repository (`docker2`). The SDK's `CreateDockerRepositoryDO` has no name and no project: its
//! `display_name` is the repository's name (the first component of image names, so lower case), and
//! the project is `project_id` when the body adds one (an arca extension), else the caller's only
//! project.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::repositories::{new_repo, repository_do, require_create, ViewContext};
use crate::auth::Principal;
use crate::domain::new_hex_id;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::service::repo_kinds;
use crate::store::{projects, repos};

pub const DOCKER_FORMAT: &str = "docker2";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerRepoBody {
    format: Option<String>,
    display_name: Option<String>,
    description: Option<String>,
    #[serde(rename = "type")]
    repo_type: Option<String>,
    /// Not in the SDK's model: the project the repository belongs to.
    project_id: Option<String>,
}

/// The repository name an image name starts with: a component of the OCI name grammar (what
/// `create_artifactory` checks too for `docker2`, naming its own field).
pub fn docker_name(field: &str, value: Option<&str>) -> ApiResult<String> {
    let v = value.unwrap_or("");
    if v.len() <= 64 && !v.contains('/') && crate::formats::oci::is_valid_name(v) {
        Ok(v.to_string())
    } else {
        Err(ApiError::invalid(
            field,
            "must be 1 to 64 lower-case letters or digits, separated by '.', '_', '__' or '-' (it starts image names)",
        ))
    }
}

async fn project_of(
    state: &AppState,
    principal: &Principal,
    given: Option<String>,
) -> ApiResult<String> {
    if let Some(p) = given {
        if crate::domain::is_alnum32(&p) {
            return Ok(p);
        }
        return Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        ));
    }
    let (domain_id, member) = (
        principal.domain_id.clone(),
        (!principal.is_root).then(|| principal.user_id.clone()),
    );
    let (total, page) = state
        .db
        .call(move |conn| projects::list_projects(conn, &domain_id, member.as_deref(), None, 0, 2))
        .await?;
    match (total, page.first()) {
        (1, Some(p)) => Ok(p.id.clone()),
        _ => Err(ApiError::invalid(
            "project_id",
            "is required when the caller belongs to more or fewer than one project",
        )),
    }
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<JsonBody<DockerRepoBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    if body.format.as_deref() != Some(DOCKER_FORMAT) {
        return Err(ApiError::invalid("format", "must be docker2"));
    }
    match body.repo_type.as_deref() {
        None | Some("") | Some(repo_kinds::HOSTED) => {}
        Some(_) => {
            return Err(ApiError::invalid(
                "type",
                "must be hosted here: remote and virtual docker2 repositories are made with create_artifactory",
            ))
        }
    }
    let name = docker_name("display_name", body.display_name.as_deref())?;
    let description = body.description.unwrap_or_default();
    if description.chars().count() > 200 {
        return Err(ApiError::invalid(
            "description",
            "must be at most 200 characters",
        ));
    }
    let project_id = project_of(&state, &principal, body.project_id).await?;
    require_create(&state, &principal, &project_id, vec![name.clone()]).await?;
    let repo = repos::Repository {
        description,
        ..new_repo(
            &principal,
            &project_id,
            name.clone(),
            name,
            DOCKER_FORMAT,
            "mixed",
            &new_hex_id(),
        )
    };
    crate::http::audit::note_repo(&repo);
    let (config, domain_id) = (state.config.clone(), principal.domain_id.clone());
    let view = state
        .db
        .call(move |conn| {
            repos::insert_repo(conn, &repo)?;
            let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            Ok(repository_do(&repo, &ctx))
        })
        .await?;
    Ok(success(view))
}
