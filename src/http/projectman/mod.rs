//! The ProjectMan subset (SPEC §10): CodeArts projects and their members, at the paths and in the JSON
//! shapes of ProjectMan v4, so the official `huaweicloudsdkprojectman` SDK drives arca. Answers are plain
//! JSON as the SDK models have them; errors use arca's envelope.
//!
//! Who may do what (decision, as ProjectMan's roles suggest): any user of the domain may create a project
//! and becomes its creator (role -1). Members see a project; the root user, the creator and members whose
//! role is Project manager (3, or -1) change it and its members; only the root user and the creator
//! delete it. The root user sees every project of the domain; listing projects one is not a member of
//! (`query_type=domain_projects|absent`, `/v4/projects/domain/not-added`) needs the IAM action
//! `projectman:projects:listAll` for anyone else.

pub(crate) mod members;
pub(crate) mod projects;

use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use super::app::AppState;
use super::error::{ApiError, ApiResult};
use crate::auth::Principal;
use crate::authz::roles::projectman_role_name;
use crate::domain::is_alnum32;
use crate::store::projects::{self as store, ProjectRow};

/// IAM actions ProjectMan checks besides project roles (arca's own name; Huawei's ProjectMan has no
/// documented equivalent).
pub mod actions {
    pub const LIST_ALL_PROJECTS: &str = "projectman:projects:listAll";
}

/// ProjectMan's role id of a project's creator.
pub const CREATOR_ROLE: i64 = -1;
/// ProjectMan's role id of a project manager.
pub const MANAGER_ROLE: i64 = 3;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v4/project", post(projects::create))
        .route("/v4/projects", get(projects::list))
        .route("/v4/projects/check-name", post(projects::check_name))
        .route(
            "/v4/projects/domain/not-added",
            get(projects::list_not_added),
        )
        .route(
            "/v4/projects/{project_id}",
            get(projects::show)
                .put(projects::update)
                .delete(projects::delete),
        )
        .route("/v4/projects/{project_id}/member", post(members::add))
        .route(
            "/v4/projects/{project_id}/members",
            get(members::list)
                .post(members::batch_add)
                .delete(members::batch_delete),
        )
        .route(
            "/v4/projects/{project_id}/members/role",
            post(members::update_role),
        )
        .route(
            "/v4/projects/{project_id}/user-role",
            get(members::current_role),
        )
}

/// A role id a member may be given: -1 and 3..=12 (SPEC §10); 400 naming `name` otherwise.
fn check_role_id(name: &str, role_id: i64) -> ApiResult<()> {
    if projectman_role_name(role_id).is_some() {
        Ok(())
    } else {
        Err(ApiError::invalid(
            name,
            "must be one of -1 (creator), 3 (project manager), 4 (developer), 5 (test manager), \
             6 (tester), 7 (participant), 8 (viewer), 9 (operation manager), 10 (product manager), \
             11 (system engineer), 12 (committer)",
        ))
    }
}

/// A project as the caller sees it: the row and the caller's role in it (`None`: not a member).
struct Access {
    row: ProjectRow,
    role: Option<i64>,
    is_root: bool,
    user_id: String,
}

impl Access {
    fn is_creator(&self) -> bool {
        self.row.project.creator_id == self.user_id
    }

    fn can_view(&self) -> bool {
        self.is_root || self.role.is_some()
    }

    fn can_manage(&self) -> bool {
        self.is_root || self.is_creator() || matches!(self.role, Some(CREATOR_ROLE | MANAGER_ROLE))
    }

    fn require_view(&self) -> ApiResult<()> {
        if self.can_view() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "The caller is not a member of this project",
            ))
        }
    }

    fn require_manage(&self) -> ApiResult<()> {
        if self.can_manage() {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "Only the project's creator, its project managers and the account's root user may change it",
            ))
        }
    }
}

/// Validates `{project_id}` and loads the project of the caller's domain (404 otherwise).
async fn access(state: &AppState, principal: &Principal, project_id: &str) -> ApiResult<Access> {
    if !is_alnum32(project_id) {
        return Err(ApiError::invalid(
            "project_id",
            "must be 32 letters and digits",
        ));
    }
    let (domain, id, user) = (
        principal.domain_id.clone(),
        project_id.to_string(),
        principal.user_id.clone(),
    );
    let found = state
        .db
        .call(move |conn| {
            let Some(row) = store::get_project_row(conn, &domain, &id)? else {
                return Ok(None);
            };
            let role = store::get_member(conn, &id, &user)?.map(|m| m.role_id);
            Ok(Some((row, role)))
        })
        .await?;
    let (row, role) = found.ok_or_else(|| {
        ApiError::not_found(format!("No project {project_id} in the caller's account"))
    })?;
    Ok(Access {
        row,
        role,
        is_root: principal.is_root,
        user_id: principal.user_id.clone(),
    })
}

/// The `creator` object of project answers.
fn creator_json(row: &ProjectRow) -> Value {
    json!({
        "user_num_id": row.creator_num_id,
        "user_id": row.project.creator_id,
        "user_name": row.creator_name,
        "nick_name": row.creator_name,
        "domain_id": row.project.domain_id,
        "domain_name": row.domain_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::projects::Project;

    fn access(creator: &str, user: &str, role: Option<i64>, is_root: bool) -> Access {
        Access {
            row: ProjectRow {
                project: Project {
                    id: "p".into(),
                    domain_id: "d".into(),
                    name: "n".into(),
                    description: String::new(),
                    project_type: "scrum".into(),
                    creator_id: creator.into(),
                    created_at: 0,
                    updated_at: 0,
                },
                num_id: 1,
                enterprise_id: "0".into(),
                creator_name: "c".into(),
                creator_num_id: Some(1),
                domain_name: "acme".into(),
            },
            role,
            is_root,
            user_id: user.into(),
        }
    }

    #[test]
    fn who_may_view_and_manage() {
        assert!(access("u", "u", Some(-1), false).can_manage());
        assert!(access("c", "u", Some(3), false).can_manage());
        assert!(access("c", "r", None, true).can_manage());
        let dev = access("c", "u", Some(4), false);
        assert!(dev.can_view() && !dev.can_manage());
        let outsider = access("c", "u", None, false);
        assert!(!outsider.can_view() && !outsider.can_manage());
        assert!(outsider.require_view().is_err());
    }

    #[test]
    fn role_ids_per_spec() {
        for ok in [-1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] {
            assert!(check_role_id("role_id", ok).is_ok(), "{ok}");
        }
        for bad in [-2, 0, 1, 2, 13, 100] {
            let e = check_role_id("users[0].role_id", bad)
                .unwrap_err()
                .to_string();
            assert!(e.contains("'users[0].role_id'"), "{e}");
        }
    }
}
