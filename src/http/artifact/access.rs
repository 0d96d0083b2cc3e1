//! What the caller may do with repositories, through the privilege engine of SPEC §5: the same entries and
//! path globs that decide artifact requests decide the management API.

use std::collections::HashMap;

use crate::auth::{Credential, Principal};
use crate::authz::privileges::{allows, PrivilegeEntry};
use crate::authz::scope::Scope;
use crate::domain::operation::{Operation, OperationSet};
use crate::http::app::AppState;
use crate::http::artifact::privileges::{entries_for_user, entries_for_users};
use crate::http::error::ApiError;
use crate::store::repos::{self, Repository};
use crate::store::{Conn, StoreResult};

/// The caller's privilege entries, per project, narrowed by the scope of the ticket the caller presented
/// (if any): every question below answers within both, so a scoped ticket sees nothing else.
#[derive(Debug, Default)]
pub struct CallerAccess {
    by_project: HashMap<String, Vec<PrivilegeEntry>>,
    scope: Scope,
}

/// The scope of the principal's credential: a ticket's `embed_id`, else everything.
pub fn scope_of(principal: &Principal) -> Scope {
    match &principal.credential {
        Credential::Ticket { embed_id, .. } => Scope::from_embed_id(embed_id),
        _ => Scope::Everything,
    }
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
        let access = Self::load_for_user(conn, &principal.user_id, principal.is_root, project_ids)?;
        Ok(CallerAccess {
            scope: scope_of(principal),
            ..access
        })
    }

    /// Every repository of the caller's account, and the caller's access to them.
    pub fn with_account_repos(
        conn: &Conn,
        principal: &Principal,
    ) -> StoreResult<(Vec<Repository>, Self)> {
        let all = repos::domain_repos(conn, &principal.domain_id)?;
        let access = Self::load(conn, principal, all.iter().map(|r| r.project_id.as_str()))?;
        Ok((all, access))
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
        Ok(CallerAccess {
            by_project,
            scope: Scope::Everything,
        })
    }

    /// `load_for_user` for several users, as (user id, is root), with a few queries per project whatever
    /// their number.
    pub fn load_for_users<'a>(
        conn: &Conn,
        users: &[(&str, bool)],
        project_ids: impl IntoIterator<Item = &'a str>,
    ) -> StoreResult<HashMap<String, CallerAccess>> {
        let mut out: HashMap<String, CallerAccess> = users
            .iter()
            .map(|(id, _)| (id.to_string(), CallerAccess::default()))
            .collect();
        let mut seen = std::collections::HashSet::new();
        for project_id in project_ids {
            if !seen.insert(project_id) {
                continue;
            }
            for (user_id, entries) in entries_for_users(conn, project_id, users)? {
                if let Some(access) = out.get_mut(&user_id) {
                    access.by_project.insert(project_id.to_string(), entries);
                }
            }
        }
        Ok(out)
    }

    fn entries(&self, project_id: &str) -> &[PrivilegeEntry] {
        self.by_project
            .get(project_id)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// `op` on `rel` inside `repo`.
    pub fn allows(&self, repo: &Repository, op: Operation, rel: &str) -> bool {
        let path = object_path(repo, rel);
        self.scope.covers(&repo.name, &repo.id, &path)
            && allows(self.entries(&repo.project_id), op, &path)
    }

    /// `op` on a new repository named `name` of a project; never through a scoped ticket.
    pub fn allows_in_project(&self, project_id: &str, op: Operation, name: &str) -> bool {
        self.scope == Scope::Everything && allows(self.entries(project_id), op, &format!("/{name}"))
    }

    /// Whether the caller may read anything of `repo`: the whole repository, or a path inside it.
    pub fn can_read(&self, repo: &Repository) -> bool {
        self.in_scope(repo)
            && (repo.allow_anonymous || self.may_somewhere(repo, Operation::Download))
    }

    /// Whether anything of `repo` is within the caller's scope.
    pub fn in_scope(&self, repo: &Repository) -> bool {
        self.scope.root_in(&repo.name, &repo.id).is_some()
    }

    /// Whether some grant gives `op` on the repository or on a path inside it (inside the scope).
    pub fn may_somewhere(&self, repo: &Repository, op: Operation) -> bool {
        let Some(root) = self.scope.root_in(&repo.name, &repo.id) else {
            return false;
        };
        self.entries(&repo.project_id).iter().any(|e| {
            e.operations.contains(op) && Scope::glob_reaches(&root, &e.granted_object_path)
        })
    }

    /// The directory (relative, ending in `/`) the caller's figures of `repo` are limited to: a ticket
    /// scoped to a path counts only the files under it. `None`: the whole repository.
    pub fn figures_prefix(&self, repo: &Repository) -> Option<String> {
        let root = self.scope.root_in(&repo.name, &repo.id)?;
        let rest = root
            .strip_prefix(&object_path(repo, ""))?
            .strip_prefix('/')?;
        Some(format!("{rest}/"))
    }

    /// Live files and bytes of `repo` the caller's figures show, from the repository's totals `whole`.
    pub fn usage(
        &self,
        conn: &Conn,
        repo: &Repository,
        whole: (i64, i64),
    ) -> StoreResult<(i64, i64)> {
        match self.figures_prefix(repo) {
            Some(prefix) => repos::live_usage_under(conn, &repo.id, &prefix),
            None => Ok(whole),
        }
    }
}

/// Where the principal's scope lies in its account.
pub enum ScopeTarget {
    Everything,
    /// Inside a repository of the project `project_id`, from the object path `root` down.
    Within {
        project_id: String,
        root: String,
    },
    /// The scope names no repository of the account.
    Nothing,
}

impl ScopeTarget {
    pub fn load(conn: &Conn, principal: &Principal) -> StoreResult<ScopeTarget> {
        let scope = scope_of(principal);
        let Some(key) = scope.repository_key() else {
            return Ok(ScopeTarget::Everything);
        };
        let found = repos::get_repo_by_name_or_id(conn, key)?
            .filter(|r| r.domain_id == principal.domain_id)
            .and_then(|repo| {
                let root = scope.root_in(&repo.name, &repo.id)?;
                Some(ScopeTarget::Within {
                    project_id: repo.project_id,
                    root,
                })
            });
        Ok(found.unwrap_or(ScopeTarget::Nothing))
    }

    /// Whether the scope lies in the project `project_id`.
    pub fn in_project(&self, project_id: &str) -> bool {
        match self {
            ScopeTarget::Everything => true,
            ScopeTarget::Within { project_id: p, .. } => p == project_id,
            ScopeTarget::Nothing => false,
        }
    }

    /// The entries (of one project) that reach into the scope: a scoped ticket is not told of grants on
    /// other repositories.
    pub fn narrow(&self, entries: Vec<PrivilegeEntry>) -> Vec<PrivilegeEntry> {
        match self {
            ScopeTarget::Everything => entries,
            ScopeTarget::Within { project_id, root } => entries
                .into_iter()
                .filter(|e| {
                    &e.project_id == project_id && Scope::glob_reaches(root, &e.granted_object_path)
                })
                .collect(),
            ScopeTarget::Nothing => Vec::new(),
        }
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
    let (repo, access) = found.ok_or_else(|| {
        ApiError::not_found(format!("No repository {key} in the caller's account"))
    })?;
    crate::http::audit::note_repo(&repo);
    Ok((repo, access))
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
