//! Administration of CodeArts projects, their members (ProjectMan handlers) and the repository
//! privileges each role has in a project (update_repo_roles_privilege).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use chrono::{TimeZone, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::views::{GrantRow, MemberRow, Project, ProjectRow, Projects, RoleGrants};
use super::{after, body, notice, sections, text};
use crate::auth::Principal;
use crate::authz::roles::{self, projectman_role_name, BUILTIN_ROLES};
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::artifact::privileges::{entries_for_role, entries_for_user, update_role_grants};
use crate::http::console::csrf::Signed;
use crate::http::console::pages::chrome;
use crate::http::console::session::Session;
use crate::http::console::views::{error_page, render};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::iam::actions as iam;
use crate::http::projectman::{self, members, projects as pm_projects};

const PROJECT_NOTICES: [(&str, &str); 2] = [
    ("created", "Project created."),
    ("deleted", "Project deleted."),
];

const MEMBER_NOTICES: [(&str, &str); 4] = [
    ("added", "Member added."),
    ("role", "Role changed."),
    ("removed", "Member removed."),
    ("grants", "Role grants saved."),
];

/// Roles a member may be given (every ProjectMan role but the creator's own).
const ASSIGNABLE: [i64; 10] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12];

fn when(ms: i64) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// `GET /ui/admin/projects`: list_projects_v4 over the whole account (`query_type=domain_projects`,
/// which needs the root user or projectman:projects:listAll).
pub async fn list(State(state): State<AppState>, session: Session, query: QueryParams) -> Response {
    match projects_page(&state, &session, &query).await {
        Ok(page) => render(&page),
        Err(e) => error_page(e),
    }
}

async fn projects_page(
    state: &AppState,
    session: &Session,
    query: &QueryParams,
) -> ApiResult<Projects> {
    let principal = &session.principal;
    let Json(answer) = pm_projects::list(
        State(state.clone()),
        principal.clone(),
        QueryParams::parse("query_type=domain_projects&limit=1000&sort=name")?,
    )
    .await?;
    let mut rows = Vec::new();
    for p in answer["projects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let id = text(p, "project_id");
        let (_, can_delete) = projectman::powers(state, principal, &id).await?;
        rows.push(ProjectRow {
            name: text(p, "project_name"),
            kind: text(p, "project_type"),
            creator: text(&p["creator"], "user_name"),
            created: when(p["created_time"].as_i64().unwrap_or(0)),
            can_delete,
            id,
        });
    }
    Ok(Projects {
        chrome: chrome(session),
        sections: sections(state, principal, "projects").await?,
        rows,
        notice: notice(query.filter("done", 16)?, &PROJECT_NOTICES),
    })
}

#[derive(Deserialize)]
pub struct CreateForm {
    name: String,
    #[serde(default)]
    description: String,
}

/// `POST /ui/admin/projects`: create_project_v4. The API lets any user create a project; this form is
/// part of the account-wide project administration, so it takes what that page's listing takes.
pub async fn create(State(state): State<AppState>, signed: Signed<CreateForm>) -> Response {
    let Signed { session, form } = signed;
    let principal = session.principal;
    let result = async {
        state
            .require(&principal, projectman::actions::LIST_ALL_PROJECTS)
            .await?;
        let b = body(json!({
            "project_name": form.name,
            "description": form.description,
            "project_type": "scrum",
        }))?;
        pm_projects::create(State(state.clone()), principal, JsonBody(b)).await
    }
    .await;
    after(result, "/ui/admin/projects?done=created")
}

#[derive(Deserialize)]
pub struct IdForm {
    id: String,
}

/// `POST /ui/admin/projects/delete`: delete_project_v4.
pub async fn delete(State(state): State<AppState>, signed: Signed<IdForm>) -> Response {
    let Signed { session, form } = signed;
    let result = pm_projects::delete(State(state), session.principal, Path(form.id)).await;
    after(result, "/ui/admin/projects?done=deleted")
}

/// Whether the caller holds managePrivileges in the project, as update_repo_roles_privilege asks.
async fn manages_privileges(
    state: &AppState,
    principal: &Principal,
    project_id: &str,
) -> ApiResult<bool> {
    let (project, user, is_root) = (
        project_id.to_string(),
        principal.user_id.clone(),
        principal.is_root,
    );
    Ok(state
        .db
        .call(move |conn| entries_for_user(conn, &project, &user, is_root))
        .await?
        .iter()
        .any(|e| e.operations.contains(Operation::ManagePrivileges)))
}

/// `GET /ui/admin/projects/{project}`: members (list_project_members_v4) and, for a caller holding
/// managePrivileges, each role's grants. Members who may change neither get a 403, as the API's
/// changes would answer them.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    Path(project): Path<String>,
    query: QueryParams,
) -> Response {
    match project_page(&state, &session, project, &query).await {
        Ok(page) => render(&page),
        Err(e) => error_page(e),
    }
}

async fn project_page(
    state: &AppState,
    session: &Session,
    project: String,
    query: &QueryParams,
) -> ApiResult<Project> {
    let principal = &session.principal;
    let (can_manage, _) = projectman::powers(state, principal, &project).await?;
    let can_grant = manages_privileges(state, principal, &project).await?;
    if !can_manage && !can_grant {
        return Err(ApiError::forbidden(
            "Only the project's creator, its project managers, holders of managePrivileges and the \
             account's root user may administer it",
        ));
    }
    let Json(info) = pm_projects::show(
        State(state.clone()),
        principal.clone(),
        Path(project.clone()),
    )
    .await?;
    let mut members = Vec::new();
    let mut offset = 0;
    loop {
        let Json(page) = members::list(
            State(state.clone()),
            principal.clone(),
            Path(project.clone()),
            QueryParams::parse(&format!("offset={offset}&limit=100"))?,
        )
        .await?;
        let got = page["members"].as_array().cloned().unwrap_or_default();
        for m in &got {
            let role_id = m["role_id"].as_i64().unwrap_or(0);
            members.push(MemberRow {
                user_id: text(m, "user_id"),
                name: text(m, "user_name"),
                role_id,
                role_name: text(m, "role_name"),
                creator: role_id == projectman::CREATOR_ROLE,
            });
        }
        offset += got.len();
        if got.is_empty() || offset as i64 >= page["total"].as_i64().unwrap_or(0) {
            break;
        }
    }
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let candidates = if can_manage && state.is_allowed(principal, iam::LIST_USERS).await? {
        let Json(users) = crate::http::iam::users::keystone_list(
            State(state.clone()),
            principal.clone(),
            axum::http::HeaderMap::new(),
            QueryParams::parse("")?,
        )
        .await?;
        let mut list: Vec<(String, String)> = users["users"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|u| (text(u, "id"), text(u, "name")))
            .filter(|(id, _)| !members.iter().any(|m| m.user_id == *id))
            .collect();
        list.sort_by(|a, b| a.1.cmp(&b.1));
        Some(list)
    } else {
        None
    };
    let grants = if can_grant {
        Some(role_grants(state, &project).await?)
    } else {
        None
    };
    Ok(Project {
        chrome: chrome(session),
        sections: sections(state, principal, "projects").await?,
        name: text(&info["project"], "name"),
        id: project,
        members,
        can_manage,
        candidates,
        roles: ASSIGNABLE
            .iter()
            .map(|id| (*id, projectman_role_name(*id).unwrap_or("")))
            .collect(),
        grants,
        operations: Operation::ALL.iter().map(|o| o.name()).collect(),
        notice: notice(query.filter("done", 16)?, &MEMBER_NOTICES),
    })
}

/// Each built-in role's grants in the project (its defaults while it has none stored), as the
/// privilege engine reads them.
async fn role_grants(state: &AppState, project: &str) -> ApiResult<Vec<RoleGrants>> {
    let project = project.to_string();
    let all = state
        .db
        .call(move |conn| {
            BUILTIN_ROLES
                .iter()
                .map(|role| Ok((role, entries_for_role(conn, &project, role)?)))
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(all
        .into_iter()
        .map(|(role, entries)| {
            let rows: Vec<GrantRow> = entries
                .iter()
                .enumerate()
                .map(|(index, e)| GrantRow {
                    index,
                    path: e.granted_object_path.clone(),
                    type_id: e.granted_object_type_id.clone(),
                    area_id: e.area_service_id.clone(),
                    operations: Operation::ALL
                        .iter()
                        .map(|o| (o.name(), e.operations.contains(*o)))
                        .collect(),
                })
                .collect();
            RoleGrants {
                role_id: role.id,
                role_name: role.name,
                next: rows.len(),
                rows,
            }
        })
        .collect())
}

fn project_url(project: &str, done: &str) -> String {
    // The handler has checked the id (32 letters and digits) before a success leads here.
    format!("/ui/admin/projects/{project}?done={done}")
}

fn role_number(raw: &str) -> ApiResult<i64> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::invalid("role_id", "must be a ProjectMan role number"))
}

#[derive(Deserialize)]
pub struct MemberForm {
    user_id: String,
    role_id: String,
}

/// `POST /ui/admin/projects/{project}/members`: add_member_v4.
pub async fn add_member(
    State(state): State<AppState>,
    Path(project): Path<String>,
    signed: Signed<MemberForm>,
) -> Response {
    let Signed { session, form } = signed;
    let result = async {
        let role_id = role_number(&form.role_id)?;
        let b = body(json!({ "user_id": form.user_id, "role_id": role_id }))?;
        members::add(
            State(state.clone()),
            session.principal,
            Path(project.clone()),
            JsonBody(b),
        )
        .await
    }
    .await;
    after(result, &project_url(&project, "added"))
}

/// `POST /ui/admin/projects/{project}/members/role`: update_membes_role_v4 for one member.
pub async fn change_role(
    State(state): State<AppState>,
    Path(project): Path<String>,
    signed: Signed<MemberForm>,
) -> Response {
    let Signed { session, form } = signed;
    let result = async {
        let role_id = role_number(&form.role_id)?;
        let b = body(json!({ "user_ids": [form.user_id], "role_id": role_id }))?;
        members::update_role(
            State(state.clone()),
            session.principal,
            Path(project.clone()),
            JsonBody(b),
        )
        .await
    }
    .await;
    after(result, &project_url(&project, "role"))
}

#[derive(Deserialize)]
pub struct UserForm {
    user_id: String,
}

/// `POST /ui/admin/projects/{project}/members/remove`: batch_delete_members_v4 of one member.
pub async fn remove_member(
    State(state): State<AppState>,
    Path(project): Path<String>,
    signed: Signed<UserForm>,
) -> Response {
    let Signed { session, form } = signed;
    let result = async {
        let b = body(json!({ "user_ids": [form.user_id] }))?;
        members::batch_delete(
            State(state.clone()),
            session.principal,
            Path(project.clone()),
            JsonBody(b),
        )
        .await
    }
    .await;
    after(result, &project_url(&project, "removed"))
}

/// The grants a role form posts: rows `g{i}_path`, `g{i}_type`, `g{i}_area` and one `g{i}_{operation}` per ticked
/// operation; a row with an empty path is left out (that is how a grant is removed).
fn grant_entries(project: &str, fields: &HashMap<String, String>) -> ApiResult<Vec<Value>> {
    let mut entries = Vec::new();
    for i in 0..=100 {
        let Some(path) = fields.get(&format!("g{i}_path")) else {
            break;
        };
        let path = path.trim();
        if path.is_empty() {
            continue;
        }
        let operations: Vec<&str> = Operation::ALL
            .iter()
            .map(|o| o.name())
            .filter(|name| fields.contains_key(&format!("g{i}_{name}")))
            .collect();
        let mut entry = json!({
            "project_id": project,
            "granted_object_path": path,
            "operations": operations.join(","),
        });
        // A grant keeps its object type and area service unless the API's defaults applied to it.
        for (field, key) in [
            ("type", "granted_object_type_id"),
            ("area", "area_service_id"),
        ] {
            if let Some(v) = fields
                .get(&format!("g{i}_{field}"))
                .filter(|v| !v.is_empty())
            {
                entry[key] = json!(v);
            }
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err(ApiError::invalid(
            "privileges",
            "must hold at least one grant with a path (a role cannot be left without grants)",
        ));
    }
    Ok(entries)
}

/// `POST /ui/admin/projects/{project}/grants`: update_repo_roles_privilege of one role in this project.
pub async fn update_grants(
    State(state): State<AppState>,
    Path(project): Path<String>,
    signed: Signed<HashMap<String, String>>,
) -> Response {
    let Signed { session, form } = signed;
    let result = async {
        let role_id = form
            .get("role_id")
            .cloned()
            .ok_or_else(|| ApiError::invalid("role_id", "is required"))?;
        if roles::builtin_by_id(&role_id).is_none() {
            return Err(ApiError::invalid(
                "role_id",
                "is not the id of a built-in role",
            ));
        }
        let b = body(json!({ "privileges": grant_entries(&project, &form)? }))?;
        update_role_grants(
            State(state.clone()),
            session.principal,
            Path(role_id),
            Ok(JsonBody(b)),
        )
        .await
    }
    .await;
    after(result, &project_url(&project, "grants"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn grant_rows_become_entries_in_order() {
        let f = form(&[
            ("g0_path", "/*"),
            ("g0_download", "on"),
            ("g0_upload", "on"),
            ("g1_path", " "),
            ("g1_delete", "on"),
            ("g2_path", "/a/*"),
            ("g2_type", "0123456789abcdef0123456789abcdef"),
            ("g2_area", "fedcba9876543210fedcba9876543210"),
            ("g2_managePrivileges", "on"),
        ]);
        let e = grant_entries("p", &f).unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0]["operations"], "download,upload");
        assert_eq!(e[0]["granted_object_path"], "/*");
        assert!(e[0].get("granted_object_type_id").is_none());
        assert!(e[0].get("area_service_id").is_none());
        assert_eq!(e[1]["operations"], "managePrivileges");
        assert_eq!(
            e[1]["granted_object_type_id"],
            "0123456789abcdef0123456789abcdef"
        );
        assert_eq!(e[1]["area_service_id"], "fedcba9876543210fedcba9876543210");
    }

    #[test]
    fn a_form_without_any_grant_is_refused_naming_privileges() {
        let e = grant_entries("p", &form(&[("g0_path", "")])).unwrap_err();
        assert!(e.to_string().contains("'privileges'"), "{e}");
    }

    #[test]
    fn role_numbers_are_checked() {
        assert_eq!(role_number(" 4 ").unwrap(), 4);
        assert!(role_number("dev")
            .unwrap_err()
            .to_string()
            .contains("'role_id'"));
    }
}
