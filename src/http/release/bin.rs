//! The recycle bin of release repositories: `PUT /devreposerver/v5/files/status` moves versions or
//! folders to the bin (`deleted`) and back (`normal`); delete_completely_update_file_state deletes them
//! for good and reclaims their blobs.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::project_access;
use crate::auth::Principal;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::JsonBody;
use crate::http::storage::reclaim;
use crate::service::release::{self as rules, ReleaseAccess};
use crate::store::projects;
use crate::store::release::{self, ReleaseFile};
use crate::store::{now_ms, Conn, StoreResult};

/// The versions a list of ids names: a version id stands for itself, a folder or project id for every
/// version below it. Unknown ids and other accounts' are 404 naming the position; nothing changes then.
fn resolve_ids(
    conn: &Conn,
    principal: &Principal,
    ids: &[String],
) -> StoreResult<Result<Vec<(ReleaseFile, ReleaseAccess)>, ApiError>> {
    let mut chosen: Vec<(ReleaseFile, ReleaseAccess)> = Vec::new();
    let mut projects_seen: HashMap<String, (Vec<ReleaseFile>, ReleaseAccess)> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        let name = format!("body[{i}]");
        if !crate::domain::is_alnum32(id) {
            return Ok(Err(ApiError::invalid(
                &name,
                "must be a file, folder or project id",
            )));
        }
        let (project_id, dir, single) =
            if let Some(v) = release::get(conn, &principal.domain_id, id)? {
                (v.project_id.clone(), String::new(), Some(v.id))
            } else if let Some((project, path)) = release::folder(conn, &principal.domain_id, id)? {
                (project, path, None)
            } else if projects::get_project(conn, &principal.domain_id, id)?.is_some() {
                (id.clone(), String::new(), None)
            } else {
                return Ok(Err(ApiError::not_found(format!(
                    "No release file, folder or project {name}"
                ))));
            };
        if !projects_seen.contains_key(&project_id) {
            let (_, access) = match project_access(conn, principal, &project_id)? {
                Ok(found) => found,
                Err(e) => return Ok(Err(e)),
            };
            projects_seen.insert(
                project_id.clone(),
                (release::of_project(conn, &project_id)?, access),
            );
        }
        let (versions, access) = &projects_seen[&project_id];
        for v in versions {
            let hit = match &single {
                Some(one) => &v.id == one,
                None => rules::is_under(&dir, &v.path),
            };
            if hit && !chosen.iter().any(|(c, _)| c.id == v.id) {
                chosen.push((v.clone(), access.clone()));
            }
        }
    }
    Ok(Ok(chosen))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    ids: Vec<String>,
    status: String,
}

/// `PUT /devreposerver/v5/files/status` (arca's): `{"ids": [...], "status": "deleted"|"normal"}` moves
/// versions (or everything under folders and projects) to the recycle bin or back. Needs `delete`
/// (resp. `restore`) on each path, and `editRepository` too for `prod` packages; all or nothing.
pub async fn update_status(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(change): JsonBody<StatusChange>,
) -> ApiResult<Json<Value>> {
    if change.ids.is_empty() || change.ids.len() > 100 {
        return Err(ApiError::invalid("ids", "must hold 1 to 100 ids"));
    }
    let to_bin = match change.status.as_str() {
        "deleted" => true,
        "normal" => false,
        _ => return Err(ApiError::invalid("status", "must be deleted or normal")),
    };
    let op = if to_bin {
        Operation::Delete
    } else {
        Operation::Restore
    };
    let changed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let chosen = match resolve_ids(&tx, &principal, &change.ids)? {
                Ok(chosen) => chosen,
                Err(e) => return Ok(Err(e)),
            };
            let mut ids = Vec::new();
            for (v, access) in &chosen {
                if v.is_live() != to_bin {
                    continue;
                }
                if !access.may_bin(v, op) {
                    return Ok(Err(ApiError::forbidden(format!(
                        "{op} is not allowed on {}",
                        rules::object_path(&v.path)
                    ))));
                }
                ids.push(v.id.clone());
            }
            let n = if to_bin {
                release::trash(&tx, &ids, &principal.user_id, now_ms())?
            } else {
                release::restore(&tx, &ids)?
            };
            tx.commit()?;
            Ok(Ok(n))
        })
        .await??;
    Ok(success(json!({"changed": changed})))
}

/// `DELETE /devreposerver/v5/files/compeletion` (delete_completely_update_file_state): deletes versions,
/// folders or a whole project's release files for good (body: their ids), live or in the bin; needs
/// `physicdelete` on each path. Unreferenced blobs are reclaimed.
pub async fn delete_completely(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(ids): JsonBody<Vec<String>>,
) -> ApiResult<Json<Value>> {
    if ids.is_empty() || ids.len() > 100 {
        return Err(ApiError::invalid("body", "must hold 1 to 100 ids"));
    }
    let (blobs, count) = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let chosen = match resolve_ids(&tx, &principal, &ids)? {
                Ok(chosen) => chosen,
                Err(e) => return Ok(Err(e)),
            };
            let mut projects_touched: Vec<String> = Vec::new();
            let mut doomed = Vec::new();
            for (v, access) in &chosen {
                if !access.allows(Operation::PhysicDelete, &v.path) {
                    return Ok(Err(ApiError::forbidden(format!(
                        "physicdelete is not allowed on {}",
                        rules::object_path(&v.path)
                    ))));
                }
                doomed.push(v.id.clone());
                if !projects_touched.contains(&v.project_id) {
                    projects_touched.push(v.project_id.clone());
                }
            }
            let blobs = release::purge(&tx, &doomed)?;
            for project in &projects_touched {
                release::drop_empty_folders(&tx, project)?;
            }
            tx.commit()?;
            Ok(Ok((blobs, doomed.len())))
        })
        .await??;
    let freed = reclaim(&state, blobs).await?;
    Ok(success(json!({"deleted": count, "freed_bytes": freed})))
}
