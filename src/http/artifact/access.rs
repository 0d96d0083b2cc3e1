//! What the caller may do with repositories, through the privilege engine of SPEC §5: the same entries and
//! path globs that decide artifact requests decide the management API.

use std::collections::HashMap;

use crate::auth::Principal;
use crate::authz::grants;
use crate::authz::privileges::{allows, PrivilegeEntry};
use crate::domain::operation::{Operation, OperationSet};
use crate::http::app::AppState;
use crate::http::artifact::privileges::entries_for_user;
use crate::http::error::ApiError;
use crate::store::repos::{self, Repository};
use crate::store::{Conn, StoreResult};

/// The caller's privilege entries, per project.
#[derive(Debug, Default)]
pub struct CallerAccess {
    by_project: HashMap<String, Vec<PrivilegeEntry>>,
}

/// The path the privilege engine sees for `rel` (relative, may be empty) inside `repo`.
pub fn object_path(repo: &Repository, rel: &str) -> String {
    if rel.is_empty() {
        format!("/{}", repo.name)
    } else {
        format!("/{}/{}", repo.name, rel)
    }
}

impl CallerAccess {
    pub fn load<'a>(
        conn: &Conn,
        principal: &Principal,
        project_ids: impl IntoIterator<Item = &'a str>,
    ) -> StoreResult<Self> {
        Self::load_for_user(conn, &principal.user_id, principal.is_root, project_ids)
    }

    pub fn load_for_user<'a>(
        conn: &Conn,
        user_id: &str,
        is_root: bool,
        project_ids: impl IntoIterator<Item = &'a str>,
    ) -> StoreResult<Self> {
        let mut by_project = HashMap::new();
        for project_id in project_ids {
            if by_project.contains_key(project_id) {
                continue;
            }
            let entries = entries_for_user(conn, project_id, user_id, is_root)?;
            by_project.insert(project_id.to_string(), entries);
        }
        Ok(CallerAccess { by_project })
    }

    fn entries(&self, project_id: &str) -> &[PrivilegeEntry] {
        self.by_project
            .get(project_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// `op` on `rel` inside `repo`.
    pub fn allows(&self, repo: &Repository, op: Operation, rel: &str) -> bool {
        allows(self.entries(&repo.project_id), op, &object_path(repo, rel))
    }

    /// `op` on a new repository named `name` of a project.
    pub fn allows_in_project(&self, project_id: &str, op: Operation, name: &str) -> bool {
        allows(self.entries(project_id), op, &format!("/{name}"))
    }

    /// Whether the caller may read anything of `repo`: the whole repository, or a path inside it.
    pub fn can_read(&self, repo: &Repository) -> bool {
        repo.allow_anonymous || self.may_somewhere(repo, Operation::Download)
    }

    /// Whether some grant gives `op` on the repository or on a path inside it.
    pub fn may_somewhere(&self, repo: &Repository, op: Operation) -> bool {
        let root = object_path(repo, "");
        let inside = format!("{root}/");
        self.entries(&repo.project_id).iter().any(|e| {
            e.operations.contains(op)
                && (grants::covers(&e.granted_object_path, &root)
                    || e.granted_object_path.starts_with(&inside))
        })
    }
}

/// The union of operations that `entries` grant on `path`.
pub fn operations_on(entries: &[PrivilegeEntry], path: &str) -> OperationSet {
    let mut ops = Vec::new();
    for op in Operation::ALL {
        if allows(entries, op, path) {
            ops.push(op);
        }
    }
    OperationSet::of(&ops)
}

/// A repository of the caller's domain by name or id, with the caller's access to its project.
pub async fn repo_with_access(
    state: &AppState,
    principal: &Principal,
    key: &str,
) -> Result<(Repository, CallerAccess), ApiError> {
    let key_owned = key.to_string();
    let principal_copy = principal.clone();
    let found = state
        .db
        .call(move |conn| {
            let Some(repo) = repos::get_repo_by_name_or_id(conn, &key_owned)? else {
                return Ok(None);
            };
            if repo.domain_id != principal_copy.domain_id {
                return Ok(None);
            }
            let access = CallerAccess::load(conn, &principal_copy, [repo.project_id.as_str()])?;
            Ok(Some((repo, access)))
        })
        .await?;
    found.ok_or_else(|| ApiError::not_found(format!("No repository {key} in the caller's account")))
}

/// Fails with 403 unless the caller may perform `op` on `rel` inside `repo`.
pub fn require(
    access: &CallerAccess,
    repo: &Repository,
    op: Operation,
    rel: &str,
) -> Result<(), ApiError> {
    if access.allows(repo, op, rel) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{op} is not allowed on {}",
            object_path(repo, rel)
        )))
    }
}
