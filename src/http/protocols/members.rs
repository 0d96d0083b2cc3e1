//! The members of a virtual repository, as every format's virtual reads and writes see them: in order,
//! active ones only, and for a read only those the caller may download from (a virtual repository never
//! serves a member's file to someone without `download` on that member).

use super::access::permitted_members;
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::repo_kinds::HOSTED;
use crate::store::remote::{self as remote_store, VirtualSettings};
use crate::store::repos::Repository;

/// The members of `repo` in order, active ones only, and its settings.
pub async fn all(
    state: &AppState,
    repo: &Repository,
) -> Result<(VirtualSettings, Vec<Repository>), ApiError> {
    let id = repo.id.clone();
    Ok(state
        .db
        .call(move |conn| remote_store::virtual_with_members(conn, &id))
        .await?)
}

/// The members the caller may download `path` from, in order, and the hosted members the
/// dependency-confusion rule asks whether they hold a name: every active hosted member when
/// `hosted_names_hide_remote` is on (none when it is off), readable by the caller or not — a name claimed
/// in a hosted member hides the public package of that name from everyone, and a caller who cannot read the
/// hosted one learns only that no public package of that name is served.
pub async fn readable(
    state: &AppState,
    repo: &Repository,
    caller: Option<&Principal>,
    path: &str,
) -> Result<(VirtualSettings, Vec<Repository>, Vec<Repository>), ApiError> {
    let (settings, members) = all(state, repo).await?;
    let guards = if settings.hosted_names_hide_remote {
        members
            .iter()
            .filter(|m| m.repo_type == HOSTED)
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let readable = permitted_members(state, caller, members, Operation::Download, path).await?;
    Ok((settings, readable, guards))
}

/// The dependency-confusion rule, once a hosted member was found to hold the name: remote members are
/// not consulted for it at all.
pub fn keep_hosted_only(members: &mut Vec<Repository>) {
    members.retain(|m| m.repo_type == HOSTED);
}

/// Where a change sent to virtual repository `repo` goes: its default deploy repository.
pub async fn deploy_target(state: &AppState, repo: &Repository) -> Result<Repository, ApiError> {
    let (settings, members) = all(state, repo).await?;
    let target = settings
        .default_deploy_repo_id
        .and_then(|id| members.into_iter().find(|m| m.id == id))
        .ok_or_else(|| {
            ApiError::invalid(
                "default_deploy_repository",
                format!(
                    "is not set for virtual repository {}: set it with update_artifactory to publish through it",
                    repo.name
                ),
            )
        })?;
    crate::http::audit::note_repo_instead(repo, &target);
    Ok(target)
}
