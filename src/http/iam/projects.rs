//! IAM projects (`/v3/projects`): one per region and domain (its name is the region id; the SDK finds it
//! with `GET /v3/projects?name=<region>`), and sub-projects created under it, named `<region>_<suffix>`
//! as in Huawei IAM.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{actions, hex_id, link_self, links, own_domain, require_self_or, text, user_of_domain};
use crate::auth::Principal;
use crate::domain::new_hex_id;
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity::{self, IamProject, IamProjectNode};

/// A project in Keystone's shape; a region's project has the domain as its parent.
fn project_json(node: &IamProjectNode, headers: &HeaderMap, paging_links: bool) -> Value {
    let p = &node.project;
    let path = format!("/v3/projects/{}", p.id);
    json!({
        "id": p.id,
        "name": p.name,
        "domain_id": p.domain_id,
        "parent_id": node.parent_id.clone().unwrap_or_else(|| p.domain_id.clone()),
        "description": p.description,
        "enabled": true,
        "is_domain": false,
        "links": if paging_links { links(headers, &path) } else { link_self(headers, &path) },
    })
}

fn bool_param(query: &QueryParams, name: &str) -> ApiResult<Option<bool>> {
    match query.get(name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid(name, "must be true or false")),
    }
}

/// `GET /v3/projects` (keystone_list_projects): the caller's domain's projects, filtered by `name`,
/// `domain_id`, `parent_id`, `enabled`, `is_domain`, paged by `page` ≥ 1 and `per_page` 1..=5000 (given
/// together). Every authenticated user may list them: the SDK does so to find its project id.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let name = query.filter("name", 64)?;
    let domain_id = query.filter("domain_id", 64)?;
    let parent_id = query.filter("parent_id", 64)?;
    let enabled = bool_param(&query, "enabled")?;
    let is_domain = bool_param(&query, "is_domain")?;
    let page = query.int("page", 1..=i64::from(i32::MAX), 1)?;
    let per_page = query.int("per_page", 1..=5000, 5000)?;
    match (query.get("page"), query.get("per_page")) {
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "per_page",
                "is required together with page",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "page",
                "is required together with per_page",
            ))
        }
        _ => {}
    }
    let matches_nothing = domain_id.is_some_and(|d| d != principal.domain_id)
        || enabled == Some(false)
        || is_domain == Some(true);
    let domain = principal.domain_id.clone();
    let nodes = if matches_nothing {
        Vec::new()
    } else {
        state
            .db
            .call(move |conn| identity::list_iam_project_nodes(conn, &domain))
            .await?
    };
    let projects: Vec<Value> = nodes
        .iter()
        .filter(|n| name.as_ref().is_none_or(|want| n.project.name == *want))
        .filter(|n| {
            parent_id
                .as_ref()
                .is_none_or(|want| n.parent_id.as_ref().unwrap_or(&n.project.domain_id) == want)
        })
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .map(|n| project_json(n, &headers, true))
        .collect();
    Ok(Json(
        json!({ "projects": projects, "links": links(&headers, "/v3/projects") }),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = IamCreateProjectBody)]
pub struct CreateBody {
    project: Option<CreateFields>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = IamCreateProjectFields)]
struct CreateFields {
    name: Option<String>,
    parent_id: Option<String>,
    domain_id: Option<String>,
    description: Option<String>,
}

/// A sub-project's name: `<parent region>_<suffix>`, at most 64 characters of letters, digits, `-` and `_`
/// (decision: the characters of Huawei's region ids and examples).
fn valid_sub_project_name(name: &str, parent_name: &str) -> bool {
    name.len() <= 64
        && name
            .strip_prefix(parent_name)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|suffix| !suffix.is_empty())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /v3/projects` (keystone_create_project): 201. `parent_id` is the region's project.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let f = body
        .project
        .ok_or_else(|| ApiError::invalid("project", "is required"))?;
    let name = f
        .name
        .ok_or_else(|| ApiError::invalid("project.name", "is required"))?;
    let parent_id = f
        .parent_id
        .ok_or_else(|| ApiError::invalid("project.parent_id", "is required"))?;
    hex_id("project.parent_id", &parent_id)?;
    own_domain(&principal, "project.domain_id", f.domain_id.as_deref())?;
    text("project.description", f.description.as_deref(), 255)?;
    state.require(&principal, actions::CREATE_PROJECT).await?;

    let parent = state
        .db
        .call(move |conn| identity::get_iam_project_node(conn, &parent_id))
        .await?
        .filter(|p| p.project.domain_id == principal.domain_id && p.parent_id.is_none())
        .ok_or_else(|| {
            ApiError::not_found("No region project with this parent_id in the caller's account")
        })?;
    if !valid_sub_project_name(&name, &parent.project.name) {
        return Err(ApiError::invalid(
            "project.name",
            format!(
                "must be \"{}_<suffix>\", at most 64 letters, digits, '-' and '_'",
                parent.project.name
            ),
        ));
    }
    let node = IamProjectNode {
        project: IamProject {
            id: new_hex_id(),
            domain_id: principal.domain_id.clone(),
            name,
            description: f.description.unwrap_or_default(),
        },
        parent_id: Some(parent.project.id),
    };
    let stored = node.clone();
    state
        .db
        .call(move |conn| identity::insert_iam_project_node(conn, &stored))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "project": project_json(&node, &headers, false) })),
    ))
}

/// `GET /v3/users/{user_id}/projects` (keystone_list_projects_for_user): every project of the domain is
/// open to each of its users in arca. A user may list their own.
pub async fn list_for_user(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Value>> {
    hex_id("user_id", &user_id)?;
    require_self_or(
        &state,
        &principal,
        &user_id,
        actions::LIST_PROJECTS_FOR_USER,
    )
    .await?;
    let user = user_of_domain(&state, &principal, &user_id).await?;
    let nodes = state
        .db
        .call(move |conn| identity::list_iam_project_nodes(conn, &user.domain_id))
        .await?;
    let projects: Vec<Value> = nodes
        .iter()
        .map(|n| project_json(n, &headers, true))
        .collect();
    Ok(Json(json!({
        "projects": projects,
        "links": links(&headers, &format!("/v3/users/{user_id}/projects")),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_project_names_extend_the_region() {
        assert!(valid_sub_project_name("local-1_team-a", "local-1"));
        assert!(!valid_sub_project_name("local-1", "local-1"));
        assert!(!valid_sub_project_name("local-1_", "local-1"));
        assert!(!valid_sub_project_name("local-2_x", "local-1"));
        assert!(!valid_sub_project_name("local-1_a b", "local-1"));
        assert!(!valid_sub_project_name(
            &format!("local-1_{}", "a".repeat(60)),
            "local-1"
        ));
    }
}
