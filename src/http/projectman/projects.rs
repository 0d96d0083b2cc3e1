//! CodeArts projects (ProjectMan v4): create, list, show, update, delete, check a name.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{access, actions, creator_json, CREATOR_ROLE};
use crate::auth::Principal;
use crate::domain::{is_plain_name, random_alnum};
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity;
use crate::store::now_ms;
use crate::store::projects::{
    self as store, Membership, Project, ProjectOrder, ProjectQuery, ProjectRow,
};

/// Project types ProjectMan documents (`scrum`, `xboard`, `basic`, `phoenix`) and `normal`.
const PROJECT_TYPES: [&str; 5] = ["scrum", "xboard", "basic", "phoenix", "normal"];
const MAX_NAME: usize = 128;
const MAX_DESCRIPTION: usize = 1024;

fn check_project_name(name: &str, field: &str) -> ApiResult<()> {
    if is_plain_name(name, MAX_NAME) && !name.trim().is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            field,
            format!("must be 1 to {MAX_NAME} characters without control characters"),
        ))
    }
}

fn check_description(description: Option<&str>) -> ApiResult<()> {
    match description {
        Some(d) if d.chars().count() > MAX_DESCRIPTION => Err(ApiError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        )),
        _ => Ok(()),
    }
}

fn check_type(name: &str, project_type: &str) -> ApiResult<()> {
    if PROJECT_TYPES.contains(&project_type) {
        Ok(())
    } else {
        Err(ApiError::invalid(
            name,
            "must be scrum, xboard, basic, phoenix or normal",
        ))
    }
}

/// `sort`: `name` or `created_on`, optionally followed by `asc` or `desc` (separated by a space, `,`, `:`,
/// `_` or `|`, or not at all). Without a direction, names sort ascending and creation times descending.
pub fn parse_sort(raw: &str) -> Option<ProjectOrder> {
    let s = raw.trim().to_ascii_lowercase();
    let (field, dir) = if let Some(f) = s.strip_suffix("desc") {
        (f, Some(false))
    } else if let Some(f) = s.strip_suffix("asc") {
        (f, Some(true))
    } else {
        (s.as_str(), None)
    };
    let field = field.trim_end_matches([' ', ',', ':', '_', '|']);
    match (field, dir) {
        ("name", None | Some(true)) => Some(ProjectOrder::NameAsc),
        ("name", Some(false)) => Some(ProjectOrder::NameDesc),
        ("created_on", Some(true)) => Some(ProjectOrder::CreatedAsc),
        ("created_on", None | Some(false)) => Some(ProjectOrder::CreatedDesc),
        _ => None,
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = CreateProjectV4Body)]
pub struct CreateBody {
    project_name: Option<String>,
    description: Option<String>,
    project_type: Option<String>,
    source: Option<String>,
    enterprise_id: Option<String>,
    template_id: Option<i64>,
}

/// Huawei enterprise project ids: `0` (the default one) or a UUID.
fn valid_enterprise_id(id: &str) -> bool {
    id == "0" || (id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-'))
}

/// `POST /v4/project` (create_project_v4): any user of the domain; the caller becomes the creator (-1).
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<Json<Value>> {
    let name = body
        .project_name
        .ok_or_else(|| ApiError::invalid("project_name", "is required"))?;
    check_project_name(&name, "project_name")?;
    check_description(body.description.as_deref())?;
    let project_type = body
        .project_type
        .ok_or_else(|| ApiError::invalid("project_type", "is required"))?;
    check_type("project_type", &project_type)?;
    if body.source.as_ref().is_some_and(|s| s.chars().count() > 64) {
        return Err(ApiError::invalid("source", "must be at most 64 characters"));
    }
    let enterprise_id = body.enterprise_id.unwrap_or_else(|| "0".into());
    if !valid_enterprise_id(&enterprise_id) {
        return Err(ApiError::invalid(
            "enterprise_id",
            "must be 0 or an enterprise project UUID",
        ));
    }
    if body.template_id.is_some_and(|t| t < 0) {
        return Err(ApiError::invalid("template_id", "must not be negative"));
    }

    let now = now_ms();
    let project = Project {
        id: random_alnum(32),
        domain_id: principal.domain_id.clone(),
        name,
        description: body.description.unwrap_or_default(),
        project_type,
        creator_id: principal.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    let (domain, id, user) = (
        principal.domain_id.clone(),
        project.id.clone(),
        principal.user_id.clone(),
    );
    let (row, user_num_id) = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            store::insert_project(&tx, &project)?;
            store::set_project_enterprise_id(&tx, &project.id, &enterprise_id)?;
            store::upsert_member(&tx, &project.id, &user, CREATOR_ROLE, now)?;
            let row = store::get_project_row(&tx, &domain, &id)?;
            let user_num_id = identity::user_num_id(&tx, &user)?;
            tx.commit()?;
            Ok((row, user_num_id))
        })
        .await?;
    let row = row.ok_or_else(|| ApiError::Internal("created project vanished".into()))?;
    Ok(Json(json!({
        "project_id": row.project.id,
        "project_num_id": row.num_id,
        "project_name": row.project.name,
        "description": row.project.description,
        "project_type": row.project.project_type,
        "user_num_id": user_num_id,
    })))
}

/// A project in the list shape (`ListProjectsV4ResponseBodyProjects`).
fn list_item(row: &ProjectRow) -> Value {
    json!({
        "project_id": row.project.id,
        "project_num_id": row.num_id,
        "project_name": row.project.name,
        "description": row.project.description,
        "project_type": row.project.project_type,
        "created_time": row.project.created_at,
        "updated_time": row.project.updated_at,
        "creator": creator_json(row),
    })
}

/// Which of the domain's projects a listing covers, relative to the caller.
#[derive(Debug, Clone, Copy)]
enum Listing {
    Domain,
    Joined,
    NotJoined,
}

async fn run_query(
    state: &AppState,
    principal: &Principal,
    listing: Listing,
    filters: (Option<String>, Option<String>, ProjectOrder),
    offset: i64,
    limit: i64,
) -> ApiResult<Json<Value>> {
    let (search, project_type, order) = filters;
    let domain = principal.domain_id.clone();
    let user = principal.user_id.clone();
    let (total, rows) = state
        .db
        .call(move |conn| {
            let membership = match listing {
                Listing::Domain => Membership::Any,
                Listing::Joined => Membership::MemberOf(&user),
                Listing::NotJoined => Membership::NotMemberOf(&user),
            };
            store::query_projects(
                conn,
                &ProjectQuery {
                    domain_id: &domain,
                    membership,
                    search: search.as_deref(),
                    project_type: project_type.as_deref(),
                    order,
                    offset,
                    limit,
                },
            )
        })
        .await?;
    let projects: Vec<Value> = rows.iter().map(list_item).collect();
    Ok(Json(json!({ "projects": projects, "total": total })))
}

/// Whether the caller may list projects they are not a member of.
async fn may_list_all(state: &AppState, principal: &Principal) -> ApiResult<bool> {
    state
        .is_allowed(principal, actions::LIST_ALL_PROJECTS)
        .await
}

/// `GET /v4/projects` (list_projects_v4): `offset` ≥ 0, `limit` 1..=1000 (default 10), `search` (name
/// or description, case-insensitive), `project_type`, `sort`, `archive`, `query_type`.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let offset = query.int("offset", 0..=i64::from(i32::MAX), 0)?;
    let limit = query.int("limit", 1..=1000, 10)?;
    let search = query.filter("search", 128)?;
    let project_type = query.filter("project_type", 16)?;
    if let Some(t) = &project_type {
        check_type("project_type", t)?;
    }
    let order = match query.filter("sort", 32)? {
        None => ProjectOrder::CreatedDesc,
        Some(raw) => parse_sort(&raw).ok_or_else(|| {
            ApiError::invalid(
                "sort",
                "must be name or created_on, optionally followed by asc or desc",
            )
        })?,
    };
    let archived = match query.filter("archive", 8)?.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::invalid("archive", "must be true or false")),
    };
    let listing = match query.filter("query_type", 32)?.as_deref() {
        None if principal.is_root => Listing::Domain,
        None => Listing::Joined,
        Some(kind @ ("domain_projects" | "absent")) => {
            if !may_list_all(&state, &principal).await? {
                return Err(ApiError::forbidden(format!(
                    "Listing projects the caller is not a member of needs {}",
                    actions::LIST_ALL_PROJECTS
                )));
            }
            if kind == "absent" {
                Listing::NotJoined
            } else {
                Listing::Domain
            }
        }
        Some(_) => {
            return Err(ApiError::invalid(
                "query_type",
                "must be domain_projects or absent",
            ))
        }
    };
    if archived {
        // arca does not archive projects, so no project is archived.
        return Ok(Json(json!({ "projects": [], "total": 0 })));
    }
    run_query(
        &state,
        &principal,
        listing,
        (search, project_type, order),
        offset,
        limit,
    )
    .await
}

/// `GET /v4/projects/domain/not-added` (list_domain_not_added_projects_v4): the domain's projects the
/// caller is not a member of.
pub async fn list_not_added(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let offset = query.int("offset", 0..=i64::from(i32::MAX), 0)?;
    let limit = query.int("limit", 1..=1000, 10)?;
    if !may_list_all(&state, &principal).await? {
        return Err(ApiError::forbidden(format!(
            "Listing projects the caller is not a member of needs {}",
            actions::LIST_ALL_PROJECTS
        )));
    }
    run_query(
        &state,
        &principal,
        Listing::NotJoined,
        (None, None, ProjectOrder::CreatedDesc),
        offset,
        limit,
    )
    .await
}

/// `GET /v4/projects/{project_id}` (show_project_info_v4): members and the root user.
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let a = access(&state, &principal, &project_id).await?;
    a.require_view()?;
    let row = &a.row;
    Ok(Json(json!({
        "project": {
            "project_id": row.project.id,
            "project_num_id": row.num_id,
            "name": row.project.name,
            "description": row.project.description,
            "project_type": row.project.project_type,
            "created_on": row.project.created_at,
            "updated_on": row.project.updated_at,
            "archive": 0,
            "enterprise_id": row.enterprise_id,
            "creator": creator_json(row),
        }
    })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = UpdateProjectV4Body)]
pub struct UpdateBody {
    project_name: Option<String>,
    description: Option<String>,
}

/// `PUT /v4/projects/{project_id}` (update_project_v4): name and/or description.
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> ApiResult<Json<Value>> {
    if let Some(name) = &body.project_name {
        check_project_name(name, "project_name")?;
    }
    check_description(body.description.as_deref())?;
    if body.project_name.is_none() && body.description.is_none() {
        return Err(ApiError::invalid(
            "project_name",
            "project_name or description is required",
        ));
    }
    let a = access(&state, &principal, &project_id).await?;
    a.require_manage()?;
    let mut project = a.row.project;
    if let Some(name) = body.project_name {
        project.name = name;
    }
    if let Some(d) = body.description {
        project.description = d;
    }
    project.updated_at = now_ms();
    state
        .db
        .call(move |conn| store::update_project(conn, &project))
        .await?;
    Ok(Json(json!({})))
}

/// `DELETE /v4/projects/{project_id}` (delete_project_v4): the root user or the creator only.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let a = access(&state, &principal, &project_id).await?;
    if !(a.is_root || a.is_creator()) {
        return Err(ApiError::forbidden(
            "Only the project's creator and the account's root user may delete it",
        ));
    }
    let id = a.row.project.id;
    // Repositories belong to a project; deleting it under them would orphan their files (decision: refuse).
    let refused = state
        .db
        .call(move |conn| {
            let holding = crate::store::repos::count_repos_of_project(conn, &id)?;
            if holding > 0 {
                return Ok(Some(holding));
            }
            store::delete_project(conn, &id)?;
            Ok(None)
        })
        .await?;
    if let Some(holding) = refused {
        return Err(ApiError::Conflict(format!(
            "the project still holds {holding} repositories (including the recycle bin); delete them for good first"
        )));
    }
    Ok(Json(json!({})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CheckNameBody {
    project_name: Option<String>,
}

/// `POST /v4/projects/check-name` (check_project_name_v4): whether the domain has a project of that name.
pub async fn check_name(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<CheckNameBody>,
) -> ApiResult<Json<Value>> {
    let name = body
        .project_name
        .ok_or_else(|| ApiError::invalid("project_name", "is required"))?;
    check_project_name(&name, "project_name")?;
    let domain = principal.domain_id.clone();
    let exist = state
        .db
        .call(move |conn| store::project_name_exists(conn, &domain, &name))
        .await?;
    Ok(Json(json!({ "exist": exist })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_values() {
        assert_eq!(parse_sort("name"), Some(ProjectOrder::NameAsc));
        assert_eq!(parse_sort("name desc"), Some(ProjectOrder::NameDesc));
        assert_eq!(parse_sort("NAME_DESC"), Some(ProjectOrder::NameDesc));
        assert_eq!(parse_sort("created_on"), Some(ProjectOrder::CreatedDesc));
        assert_eq!(parse_sort("created_on,asc"), Some(ProjectOrder::CreatedAsc));
        assert_eq!(parse_sort("created_onasc"), Some(ProjectOrder::CreatedAsc));
        assert_eq!(
            parse_sort("created_on:desc"),
            Some(ProjectOrder::CreatedDesc)
        );
        for bad in ["", "asc", "updated_on", "name sideways", "created"] {
            assert_eq!(parse_sort(bad), None, "{bad}");
        }
    }

    #[test]
    fn enterprise_ids() {
        assert!(valid_enterprise_id("0"));
        assert!(valid_enterprise_id("3d5c4c6e-0a4a-4b7e-9c8d-1a2b3c4d5e6f"));
        assert!(!valid_enterprise_id("1"));
        assert!(!valid_enterprise_id("not-a-uuid"));
    }

    #[test]
    fn names_types_and_descriptions() {
        assert!(check_project_name("Demo 项目", "project_name").is_ok());
        assert!(check_project_name("   ", "project_name").is_err());
        assert!(check_project_name(&"x".repeat(129), "project_name").is_err());
        assert!(check_type("project_type", "scrum").is_ok());
        assert!(check_type("project_type", "kanban").is_err());
        assert!(check_description(Some(&"d".repeat(1025))).is_err());
    }
}
