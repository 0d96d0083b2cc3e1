//! Publishing Go modules: `PUT …/@v/<version>.zip` and `.mod`. A version is its zip, checked by the
//! module zip rules, and its go.mod: the `.mod` sent for it, else the zip's own go.mod, else
//! `module <path>`. A `.mod` sent before the zip waits at its path until the zip comes (it is listed
//! nowhere until then); one sent after must equal what the version already has. A version is never
//! published twice, even after its zip was deleted, since go.sum files pin its contents.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::go::{file_bytes, info_json, zip_refused, MOD_TYPE, ZIP_TYPE};
use crate::auth::Principal;
use crate::formats::go::{self as format, CheckedZip, ZipError, MAX_GO_MOD};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::read_body;
use crate::http::payload;
use crate::http::storage::{reclaim, store_body, UploadFence};
use crate::store::go::{self as store, NewVersion};
use crate::store::now_ms;
use crate::store::repos::{self, Repository};

fn already_published(module: &str, version: &str) -> ApiError {
    ApiError::Conflict(format!(
        "{module}@{version} is already published, and a version is never replaced (even after deletion): publish a new version"
    ))
}

async fn is_recorded(
    state: &AppState,
    repo: &Repository,
    module: &str,
    version: &str,
) -> Result<Option<store::VersionRow>, ApiError> {
    let (repo_id, m, v) = (repo.id.clone(), module.to_string(), version.to_string());
    Ok(state
        .db
        .call(move |conn| store::version(conn, &repo_id, &m, &v))
        .await?)
}

/// Checks a stored zip by the module zip rules, reading it from a local copy of its blob.
async fn check_stored_zip(
    state: &AppState,
    sha256: &str,
    module: &str,
    version: &str,
) -> Result<CheckedZip, ApiError> {
    let spooled = state.blobs.local_copy(sha256).await?;
    let (module, version) = (module.to_string(), version.to_string());
    tokio::task::spawn_blocking(move || {
        let file =
            std::fs::File::open(spooled.path()).map_err(|e| ApiError::Internal(e.to_string()))?;
        let len = file
            .metadata()
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .len();
        let checked = format::check_zip(rawzip::FileReader::from(file), len, &module, &version)
            .map_err(zip_refused);
        drop(spooled);
        checked
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// The go.mod bytes the version will serve, `None` to keep the `.mod` uploaded before the zip.
async fn choose_go_mod(
    state: &AppState,
    repo: &Repository,
    module: &str,
    mod_rel: &str,
    checked: &CheckedZip,
) -> Result<Option<Vec<u8>>, ApiError> {
    let (repo_id, path) = (repo.id.clone(), mod_rel.to_string());
    let pending = state
        .db
        .call(move |conn| repos::get_live_file(conn, &repo_id, &path))
        .await?;
    match (pending, &checked.go_mod) {
        (Some(file), Some(zip_mod)) => {
            if file_bytes(state, &file).await? != *zip_mod {
                return Err(ApiError::invalid(
                    "mod",
                    "the .mod uploaded for this version does not equal the zip's go.mod: upload the zip's go.mod as the .mod, or the zip alone",
                ));
            }
            Ok(None)
        }
        (Some(_), None) => Ok(None),
        (None, Some(zip_mod)) => Ok(Some(zip_mod.clone())),
        (None, None) => Ok(Some(format::synthesized_go_mod(module))),
    }
}

/// `PUT …/@v/<version>.zip`.
pub(super) async fn publish_zip(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    module: &str,
    version: &str,
    incompatible: bool,
    body: Body,
) -> Result<Response, ApiError> {
    if is_recorded(state, repo, module, version).await?.is_some() {
        return Err(already_published(module, version));
    }
    let zip_rel = super::go::file_path(module, version, "zip");
    let mod_rel = super::go::file_path(module, version, "mod");
    let (zip_blob, fence) = store_body(state, body).await?;
    let mut stored = vec![zip_blob.sha256.clone()];
    let prepared = async {
        let checked = check_stored_zip(state, &zip_blob.sha256, module, version).await?;
        if incompatible && checked.go_mod.is_some() {
            return Err(zip_refused(ZipError::IncompatibleWithGoMod));
        }
        match choose_go_mod(state, repo, module, &mod_rel, &checked).await? {
            None => Ok((checked, None)),
            Some(bytes) => {
                let blob = fence
                    .put(state, &mut bytes.as_slice(), MAX_GO_MOD)
                    .await
                    .map_err(|e| fence.error(e))?;
                Ok((checked, Some(blob)))
            }
        }
    }
    .await;
    let (checked, mod_blob) = match prepared {
        Ok(p) => p,
        Err(e) => {
            fence.release(state).await;
            reclaim(state, stored).await?;
            return Err(e);
        }
    };
    if let Some(blob) = &mod_blob {
        stored.push(blob.sha256.clone());
    }
    let (repo_id, user_id, m, v) = (
        repo.id.clone(),
        principal.user_id.clone(),
        module.to_string(),
        version.to_string(),
    );
    let has_go_mod = checked.go_mod.is_some();
    // The version row and its files commit together: @v/list never names a version whose zip or
    // go.mod is missing, even after a crash.
    let outcome = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            let fresh = store::insert_version(
                &tx,
                &repo_id,
                &NewVersion {
                    module: &m,
                    version: &v,
                    zip_path: &zip_rel,
                    mod_path: &mod_rel,
                    has_go_mod,
                    user_id: &user_id,
                    now,
                },
            )?;
            if !fresh {
                return Ok(None);
            }
            let mut replaced: Vec<String> =
                repos::replace_file(&tx, &repo_id, &zip_rel, &zip_blob, ZIP_TYPE, &user_id, now)?
                    .into_iter()
                    .collect();
            if let Some(blob) = &mod_blob {
                replaced.extend(repos::replace_file(
                    &tx, &repo_id, &mod_rel, blob, MOD_TYPE, &user_id, now,
                )?);
            }
            tx.commit()?;
            Ok(Some((replaced, now)))
        })
        .await;
    fence.release(state).await;
    let published_at = match outcome {
        Ok(Some((replaced, now))) => {
            reclaim(state, replaced).await?;
            now
        }
        Ok(None) => {
            reclaim(state, stored).await?;
            return Err(already_published(module, version));
        }
        Err(e) => {
            reclaim(state, stored).await?;
            return Err(e.into());
        }
    };
    tracing::info!(repo = %repo.name, module = %module, version = %version, "Go module published");
    crate::telemetry::record_publish("go");
    Ok((StatusCode::CREATED, Json(info_json(version, published_at))).into_response())
}

/// `PUT …/@v/<version>.mod`: before the zip, it is kept for the version; after, it must be what the
/// version serves already.
pub(super) async fn put_mod(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    module: &str,
    version: &str,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, MAX_GO_MOD as usize).await?;
    payload::finish().await?;
    format::check_go_mod(&bytes, module)
        .map_err(|e| ApiError::invalid("mod", e.to_string().replace("has a go.mod that ", "")))?;
    if let Some(row) = is_recorded(state, repo, module, version).await? {
        let (repo_id, path) = (repo.id.clone(), row.mod_path.clone());
        let current = state
            .db
            .call(move |conn| repos::get_live_file(conn, &repo_id, &path))
            .await?;
        let same = match current {
            Some(file) => file_bytes(state, &file).await? == bytes,
            None => false,
        };
        if same {
            return Ok(Json(info_json(version, row.published_at)).into_response());
        }
        if row.has_go_mod {
            return Err(ApiError::invalid(
                "mod",
                "does not equal the go.mod in the version's zip",
            ));
        }
        return Err(already_published(module, version));
    }
    let mod_rel = super::go::file_path(module, version, "mod");
    let fence = UploadFence::new(state).await;
    let blob = match fence.put(state, &mut &bytes[..], MAX_GO_MOD).await {
        Ok(blob) => blob,
        Err(e) => {
            let e = fence.error(e);
            fence.release(state).await;
            return Err(e);
        }
    };
    let (repo_id, user_id, m, v, b) = (
        repo.id.clone(),
        principal.user_id.clone(),
        module.to_string(),
        version.to_string(),
        blob.clone(),
    );
    // Replaced only while no version is recorded: a zip published meanwhile has fixed its go.mod.
    let outcome = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if store::version(&tx, &repo_id, &m, &v)?.is_some() {
                return Ok(None);
            }
            let replaced =
                repos::replace_file(&tx, &repo_id, &mod_rel, &b, MOD_TYPE, &user_id, now_ms())?;
            tx.commit()?;
            Ok(Some(replaced))
        })
        .await;
    fence.release(state).await;
    match outcome {
        Ok(Some(replaced)) => {
            reclaim(state, replaced.into_iter().collect()).await?;
        }
        Ok(None) => {
            reclaim(state, vec![blob.sha256]).await?;
            return Err(already_published(module, version));
        }
        Err(e) => {
            reclaim(state, vec![blob.sha256]).await?;
            return Err(e.into());
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"Version": version, "published": false})),
    )
        .into_response())
}
