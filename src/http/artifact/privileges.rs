//! A user's privileges in a CodeArts project (seed 002), merged per SPEC §5.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::auth::Principal;
use crate::authz::grants;
use crate::authz::privileges::{merge, MergedPrivileges, PrivilegeEntry};
use crate::authz::roles::{self, BuiltinRole};
use crate::domain::is_alnum32;
use crate::domain::operation::{parse_operation_list, Operation, OperationSet};
use crate::http::app::AppState;
use crate::http::artifact::access::ScopeTarget;
use crate::http::envelope::{success, success_camel};
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::store::{projects, shares};
use crate::store::{Conn, StoreResult};

/// `GET /cloudartifact/v3/user/{project_id}/privileges` (seed 002: the envelope spells `traceId`).
pub async fn show_v3(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(success_camel(
        privileges_of(&state, &principal, project_id).await?,
    ))
}

/// `GET /v5/user/{project_id}/privileges` (the SDK's `list_user_privileges`; its model spells `trace_id`).
pub async fn show_v5(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let merged = privileges_of(&state, &principal, project_id).await?;
    // The v5 model spells the index list `operations_index`, unlike seed 002's `operationsIndex`.
    let mut result = serde_json::to_value(merged).map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(map) = result.as_object_mut() {
        if let Some(index) = map.remove("operationsIndex") {
            map.insert("operations_index".into(), index);
        }
    }
    Ok(success(result))
}

async fn privileges_of(
    state: &AppState,
    principal: &Principal,
    project_id: String,
) -> ApiResult<MergedPrivileges> {
    if !is_alnum32(&project_id) {
        return Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        ));
    }
    let principal = principal.clone();
    let entries = state
        .db
        .call(move |conn| {
            if projects::get_project(conn, &principal.domain_id, &project_id)?.is_none() {
                return Ok(None);
            }
            let entries =
                entries_for_user(conn, &project_id, &principal.user_id, principal.is_root)?;
            Ok(Some(ScopeTarget::load(conn, &principal)?.narrow(entries)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("No such project in the caller's account"))?;
    Ok(merge(&entries))
}

/// The privilege entries of a user in a project, through the user's role there. The account's root user
/// holds Project manager rights in every project of its account (decision).
pub fn entries_for_user(
    conn: &Conn,
    project_id: &str,
    user_id: &str,
    is_root: bool,
) -> StoreResult<Vec<PrivilegeEntry>> {
    if is_root {
        // The account's owner keeps every operation whatever the grants say, so narrowing the Project
        // manager role can never lock a project's privileges away from everyone (decision).
        return Ok(vec![default_entry(project_id, &roles::PROJECT_MANAGER)]);
    }
    let role = match projects::get_member(conn, project_id, user_id)? {
        Some(member) => roles::from_projectman_role(member.role_id),
        None => None,
    };
    let mut entries = match role {
        Some(role) => entries_for_role(conn, project_id, role)?,
        None => Vec::new(),
    };
    // A repository of this project shared into one the user is a member of: they may read it there.
    for name in shares::readable_through_shares(conn, project_id, user_id)? {
        entries.push(shared_read_entry(project_id, &name));
    }
    Ok(entries)
}

/// `entries_for_user` for several users of one project, as (user id, is root): one query for their roles,
/// one for the repositories shared to them, and each role's grants read once (the repository user list
/// counts a page of a hundred users this way instead of with two queries each).
pub fn entries_for_users(
    conn: &Conn,
    project_id: &str,
    users: &[(&str, bool)],
) -> StoreResult<HashMap<String, Vec<PrivilegeEntry>>> {
    let others: Vec<&str> = users
        .iter()
        .filter(|(_, is_root)| !is_root)
        .map(|(id, _)| *id)
        .collect();
    let member_roles: HashMap<String, i64> = projects::member_roles(conn, project_id, &others)?
        .into_iter()
        .collect();
    let mut shared: HashMap<String, Vec<String>> = HashMap::new();
    for (user_id, name) in shares::readable_through_shares_of(conn, project_id, &others)? {
        shared.entry(user_id).or_default().push(name);
    }
    let mut of_role: HashMap<&str, Vec<PrivilegeEntry>> = HashMap::new();
    let mut out = HashMap::with_capacity(users.len());
    for (user_id, is_root) in users {
        if *is_root {
            let entries = vec![default_entry(project_id, &roles::PROJECT_MANAGER)];
            out.insert(user_id.to_string(), entries);
            continue;
        }
        let role = member_roles
            .get(*user_id)
            .and_then(|id| roles::from_projectman_role(*id));
        let mut entries = match role {
            Some(role) => match of_role.get(role.id) {
                Some(entries) => entries.clone(),
                None => {
                    let entries = entries_for_role(conn, project_id, role)?;
                    of_role.insert(role.id, entries.clone());
                    entries
                }
            },
            None => Vec::new(),
        };
        for name in shared.remove(*user_id).unwrap_or_default() {
            entries.push(shared_read_entry(project_id, &name));
        }
        out.insert(user_id.to_string(), entries);
    }
    Ok(out)
}

/// Reading one repository through a share: the Viewer role's download, on that repository only.
fn shared_read_entry(project_id: &str, repo_name: &str) -> PrivilegeEntry {
    let viewer = roles::BUILTIN_ROLES
        .iter()
        .find(|r| r.name == "Viewer")
        .unwrap_or(&roles::BUILTIN_ROLES[roles::BUILTIN_ROLES.len() - 1]);
    PrivilegeEntry {
        role_id: viewer.id.to_string(),
        role_name: viewer.name.to_string(),
        role_chinese_name: viewer.chinese_name.to_string(),
        project_id: project_id.to_string(),
        area_service_id: roles::AREA_SERVICE_ID.to_string(),
        granted_object_path: format!("/{repo_name}/*"),
        granted_object_type_id: roles::OBJECT_TYPE_PROJECT.to_string(),
        operations: OperationSet::of(&[Operation::Download]),
    }
}

/// A role's default operations on the whole project.
fn default_entry(project_id: &str, role: &BuiltinRole) -> PrivilegeEntry {
    PrivilegeEntry {
        role_id: role.id.to_string(),
        role_name: role.name.to_string(),
        role_chinese_name: role.chinese_name.to_string(),
        project_id: project_id.to_string(),
        area_service_id: roles::AREA_SERVICE_ID.to_string(),
        granted_object_path: "/*".to_string(),
        granted_object_type_id: roles::OBJECT_TYPE_PROJECT.to_string(),
        operations: role.operations(),
    }
}

/// Stored grants of a built-in role in a project; without any, the role's defaults on the whole project.
pub fn entries_for_role(
    conn: &Conn,
    project_id: &str,
    role: &BuiltinRole,
) -> StoreResult<Vec<PrivilegeEntry>> {
    let stored = projects::grants_for_role(conn, project_id, role.id)?;
    if stored.is_empty() {
        return Ok(vec![default_entry(project_id, role)]);
    }
    let entry = |path: String, type_id: String, area: String, ops: OperationSet| PrivilegeEntry {
        role_id: role.id.to_string(),
        role_name: role.name.to_string(),
        role_chinese_name: role.chinese_name.to_string(),
        project_id: project_id.to_string(),
        area_service_id: area,
        granted_object_path: path,
        granted_object_type_id: type_id,
        operations: ops,
    };
    Ok(stored
        .into_iter()
        .map(|g| {
            entry(
                g.granted_object_path,
                g.granted_object_type_id,
                g.area_service_id,
                OperationSet::from_bits(g.operations),
            )
        })
        .collect())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolePrivileges {
    privileges: Vec<PrivilegeParam>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivilegeParam {
    role_id: Option<String>,
    project_id: String,
    area_service_id: Option<String>,
    granted_object_path: String,
    granted_object_type_id: Option<String>,
    operations: String,
}

/// A grant as update_repo_roles_privilege answers it; /openapi.json describes it from this type.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivilegeView {
    role_id: String,
    role_name: String,
    role_chinese_name: String,
    project_id: String,
    area_service_id: String,
    granted_object_path: String,
    granted_object_type_id: String,
    operations: String,
    operations_index: Vec<u32>,
}

fn optional_alnum32(name: &str, value: Option<String>, default: &str) -> ApiResult<String> {
    match value {
        None => Ok(default.to_string()),
        Some(v) if v.is_empty() => Ok(default.to_string()),
        Some(v) if v.len() <= 32 && v.bytes().all(|b| b.is_ascii_alphanumeric()) => Ok(v),
        Some(_) => Err(ApiError::invalid(
            name,
            "must be at most 32 letters or digits",
        )),
    }
}

/// `PUT /cloudartifact/v5/repositories/{role_id}/privileges` (update_repo_roles_privilege): sets a built-in
/// role's grants in the projects named in the body. For each project, the grants given replace the role's
/// grants there (and its defaults); the caller needs `managePrivileges` in that project.
pub async fn update_role_grants(
    State(state): State<AppState>,
    principal: Principal,
    Path(role_id): Path<String>,
    body: Result<JsonBody<RolePrivileges>, ApiError>,
) -> ApiResult<Json<Value>> {
    let role = roles::builtin_by_id(&role_id)
        .ok_or_else(|| ApiError::invalid("role_id", "is not the id of a built-in role"))?;
    let JsonBody(body) = body?;
    if body.privileges.is_empty() || body.privileges.len() > 100 {
        return Err(ApiError::invalid(
            "privileges",
            "must hold 1 to 100 entries",
        ));
    }
    let mut by_project: Vec<(String, Vec<projects::Grant>)> = Vec::new();
    for p in body.privileges {
        if p.role_id
            .as_deref()
            .is_some_and(|r| !r.is_empty() && r != role_id)
        {
            return Err(ApiError::invalid(
                "role_id",
                "each entry's role_id must match the path",
            ));
        }
        if !is_alnum32(&p.project_id) {
            return Err(ApiError::invalid(
                "project_id",
                "must be 32 letters or digits",
            ));
        }
        if !grants::is_valid_glob(&p.granted_object_path) {
            return Err(ApiError::invalid(
                "granted_object_path",
                "must start with '/' and hold only letters, digits and / * - _ .",
            ));
        }
        crate::http::audit::note_project(&p.project_id);
        let operations =
            parse_operation_list(&p.operations).map_err(|e| ApiError::invalid("operations", e))?;
        let grant = projects::Grant {
            role_id: role.id.to_string(),
            project_id: p.project_id.clone(),
            area_service_id: optional_alnum32(
                "area_service_id",
                p.area_service_id,
                roles::AREA_SERVICE_ID,
            )?,
            granted_object_path: p.granted_object_path,
            granted_object_type_id: optional_alnum32(
                "granted_object_type_id",
                p.granted_object_type_id,
                roles::OBJECT_TYPE_PROJECT,
            )?,
            operations: operations.bits(),
        };
        match by_project.iter_mut().find(|(id, _)| *id == p.project_id) {
            Some((_, list)) => list.push(grant),
            None => by_project.push((p.project_id, vec![grant])),
        }
    }
    let domain_id = principal.domain_id.clone();
    let user_id = principal.user_id.clone();
    let is_root = principal.is_root;
    let role_copy = *role;
    let outcome = state
        .db
        .call(move |conn| {
            for (project_id, _) in &by_project {
                if projects::get_project(conn, &domain_id, project_id)?.is_none() {
                    return Ok(Err(ApiError::not_found(format!(
                        "No project {project_id} in the caller's account"
                    ))));
                }
                let own = entries_for_user(conn, project_id, &user_id, is_root)?;
                if !own
                    .iter()
                    .any(|e| e.operations.contains(Operation::ManagePrivileges))
                {
                    return Ok(Err(ApiError::forbidden(format!(
                        "managePrivileges is required in project {project_id}"
                    ))));
                }
            }
            let mut views = Vec::new();
            for (project_id, list) in &by_project {
                projects::replace_grants(conn, project_id, role_copy.id, list)?;
                views.extend(entries_for_role(conn, project_id, &role_copy)?);
            }
            Ok(Ok(views))
        })
        .await??;
    let result: Vec<PrivilegeView> = outcome
        .into_iter()
        .map(|e| PrivilegeView {
            operations: e
                .operations
                .iter()
                .map(Operation::name)
                .collect::<Vec<_>>()
                .join(","),
            operations_index: e.operations.iter().map(Operation::index).collect(),
            role_id: e.role_id,
            role_name: e.role_name,
            role_chinese_name: e.role_chinese_name,
            project_id: e.project_id,
            area_service_id: e.area_service_id,
            granted_object_path: e.granted_object_path,
            granted_object_type_id: e.granted_object_type_id,
        })
        .collect();
    Ok(success(result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::repos::{insert_repo, tests_support::repo_fixture};
    use crate::store::{shares, test_backends};

    /// The batched form answers, user by user, exactly what `entries_for_user` answers: roots, members of
    /// each role (one with stored grants), members reaching repositories through shares, strangers, and
    /// more users than one id list takes.
    #[test]
    fn entries_for_users_match_entries_for_user() {
        for (_guard, db) in test_backends() {
            db.blocking(|conn| {
                insert_domain(
                    conn,
                    &Domain {
                        id: "d".into(),
                        name: "dom".into(),
                    },
                    0,
                )?;
                for p in ["home", "other"] {
                    conn.execute(
                        "INSERT INTO projects (id, domain_id, name, project_type, creator_id, created_at, updated_at) \
                         VALUES (?1, 'd', ?1, 'scrum', 'u0', 0, 0)",
                        params![p],
                    )?;
                }
                let ids: Vec<String> = (0..130).map(|i| format!("u{i}")).collect();
                for id in &ids {
                    conn.execute(
                        "INSERT INTO users (id, domain_id, name, created_at, modified_at, created_by, modified_by) \
                         VALUES (?1, 'd', ?1, 0, 0, 'u0', 'u0')",
                        params![id],
                    )?;
                }
                let mut shared = Vec::new();
                for name in ["alpha", "beta"] {
                    let mut repo = repo_fixture();
                    repo.domain_id = "d".into();
                    repo.project_id = "home".into();
                    repo.name = name.into();
                    insert_repo(conn, &repo)?;
                    shared.push(repo.id);
                }
                shares::set_shared_into(conn, "other", &shared, "u0", 1)?;
                projects::replace_grants(
                    conn,
                    "home",
                    roles::from_projectman_role(4).unwrap().id,
                    &[projects::Grant {
                        role_id: roles::from_projectman_role(4).unwrap().id.into(),
                        project_id: "home".into(),
                        area_service_id: roles::AREA_SERVICE_ID.into(),
                        granted_object_path: "/alpha/*".into(),
                        granted_object_type_id: roles::OBJECT_TYPE_PROJECT.into(),
                        operations: OperationSet::of(&[Operation::Download]).bits(),
                    }],
                )?;
                for (i, id) in ids.iter().enumerate() {
                    // Every third user is a member of home with a role among 3..=12 and 99 (no role);
                    // every fifth is a member of other, where both repositories are shared.
                    if i % 3 == 0 {
                        let role = [3, 4, 8, 12, 99][i % 5];
                        projects::upsert_member(conn, "home", id, role, 0)?;
                    }
                    if i % 5 == 0 {
                        projects::upsert_member(conn, "other", id, 8, 0)?;
                    }
                }
                let users: Vec<(&str, bool)> = ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| (id.as_str(), i == 7))
                    .collect();
                for project in ["home", "other", "nowhere"] {
                    let batched = entries_for_users(conn, project, &users)?;
                    assert_eq!(batched.len(), users.len());
                    for (id, is_root) in &users {
                        let one = entries_for_user(conn, project, id, *is_root)?;
                        assert_eq!(batched[*id], one, "{project} {id}");
                    }
                }
                let shared = &entries_for_users(conn, "home", &users)?["u5"];
                assert_eq!(shared.len(), 2, "two repositories reached through shares");
                Ok(())
            })
            .unwrap();
        }
    }
}
