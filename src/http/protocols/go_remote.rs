//! Go modules through a remote repository whose `remote_url` is a GOPROXY (proxy.golang.org, Athens,
//! another arca's go repository). Each proxy URL is fetched as it is (`{remote_url}/{escaped path}`)
//! and kept at the same path: `.info`, `.mod` and `.zip` of a version for good (a canonical version
//! names fixed contents: go.sum pins them), `@v/list` and `@latest` revalidated after
//! `metadata_max_age_secs` and served stale while the upstream cannot be asked. Nothing is kept or
//! served before it passes the checks of `formats::go_upstream` — a zip the module zip rules publishing
//! applies — so a hostile upstream cannot hand the go command what arca would refuse from a publisher.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use axum::http::HeaderMap;
use axum::response::Response;

use super::go::{Resource, Target};
use super::remote::{respond, settings_of, taker};
use crate::auth::Principal;
use crate::formats::go_upstream as upstream;
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::remote_fetch::{self, ContentCheck, Expected, Fetched, Freshness, Source};
use crate::store::repos::Repository;

/// Reads a file whole when it is at most `limit` bytes; its length either way.
fn read_bounded(path: &Path, limit: u64) -> Result<(u64, Vec<u8>), String> {
    let file =
        std::fs::File::open(path).map_err(|_| "a file arca could not read back".to_string())?;
    let len = file.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    if len <= limit {
        file.take(limit)
            .read_to_end(&mut bytes)
            .map_err(|_| "a file arca could not read back".to_string())?;
    }
    Ok((len, bytes))
}

/// What the upstream's answer for `target` must pass before it is kept.
fn check_of(target: &Target) -> ContentCheck {
    let module = target.module.clone();
    match target.resource.clone() {
        Resource::List => Arc::new(|path: &Path| {
            let (len, bytes) = read_bounded(path, upstream::MAX_LIST_BYTES)?;
            upstream::check_list(len, &bytes)
        }),
        Resource::Latest => Arc::new(|path: &Path| {
            let (len, bytes) = read_bounded(path, upstream::MAX_INFO_BYTES)?;
            upstream::check_latest(len, &bytes)
        }),
        Resource::Info(version) => Arc::new(move |path: &Path| {
            let (len, bytes) = read_bounded(path, upstream::MAX_INFO_BYTES)?;
            upstream::check_info(len, &bytes, &version)
        }),
        Resource::Mod(version) => Arc::new(move |path: &Path| {
            let (len, bytes) = read_bounded(path, crate::formats::go::MAX_GO_MOD)?;
            upstream::check_mod(len, &bytes, &module, &version)
        }),
        Resource::Zip(version) => Arc::new(move |path: &Path| {
            let file = std::fs::File::open(path)
                .map_err(|_| "a file arca could not read back".to_string())?;
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            let reader = rawzip::FileReader::from(file);
            upstream::check_module_zip(reader, len, &module, &version).map(|_| ())
        }),
    }
}

/// `target` through the remote repository: the kept copy, or the upstream's once it passed its check.
async fn fetch(
    state: &AppState,
    repo: &Repository,
    target: &Target,
    caller: Option<&Principal>,
) -> Result<Fetched, ApiError> {
    let settings = settings_of(state, repo).await?;
    let path = target.path();
    let freshness = match target.resource {
        Resource::List | Resource::Latest => Freshness::Mutable,
        _ => Freshness::Immutable,
    };
    let source = Source {
        repo,
        settings: &settings,
        path: &path,
        url: remote_fetch::url_of(&settings, &path)?,
        freshness,
        expected: Expected::default(),
        checksum_file: None,
        // Answered once checked and stored: a zip's rules are read from its end, so no byte of it may
        // go out before the whole is in.
        whole: true,
        accept: None,
        user_id: taker(caller),
        registry_scope: None,
    };
    remote_fetch::fetch_checked(state, source, check_of(target)).await
}

fn missing(target: &Target) -> ApiError {
    match &target.resource {
        Resource::List | Resource::Latest => {
            ApiError::not_found(format!("unknown module {}", target.module))
        }
        Resource::Info(v) | Resource::Mod(v) | Resource::Zip(v) => {
            super::go::unknown_version(&target.module, v)
        }
    }
}

/// The answer for `target` read through remote repository `repo`.
pub async fn read(
    state: &AppState,
    repo: &Repository,
    target: &Target,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let fetched = fetch(state, repo, target, caller).await?;
    respond(state, fetched, headers, head, || missing(target)).await
}

/// A document of the remote repository (`@v/list`, `@latest`) whole, when the upstream has it: its
/// bytes, when it changed, and whether it is a stale copy.
pub async fn document(
    state: &AppState,
    repo: &Repository,
    target: &Target,
    caller: Option<&Principal>,
) -> Result<Option<(Vec<u8>, i64, bool)>, ApiError> {
    match fetch(state, repo, target, caller).await? {
        Fetched::Cached { file, stale } => {
            let bytes = super::download::read_whole(state, &file.sha256, file.size).await?;
            Ok(Some((bytes, file.modified_at, stale)))
        }
        Fetched::Missing => Ok(None),
        Fetched::Streaming { .. } => Err(ApiError::Internal(
            "a whole fetch answered with a stream".into(),
        )),
    }
}
