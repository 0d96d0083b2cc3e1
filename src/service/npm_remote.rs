//! npm through a remote repository: the upstream's packument fetched whole, kept as a file of the
//! repository (`formats::npm_upstream::packument_path`) and revalidated after `metadata_max_age_secs`;
//! tarballs fetched from the `dist.tarball` the packument lists, checked against its `dist.integrity`
//! (SHA-512) or else its `dist.shasum` (SHA-1), and kept for good.

use futures_util::TryStreamExt;
use serde_json::{Map, Value};

use super::remote_fetch::{self, Expected, Fetched, Freshness, Source};
use crate::formats::json_budget;
use crate::formats::npm_upstream::{self as upstream, MAX_PACKUMENT_VALUES};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::store::remote::RemoteSettings;
use crate::store::repos::{self, FileEntry, Repository};
use crate::upstream::Url;

/// A package's upstream packument as the cached copy holds it (not yet rewritten for serving).
pub struct RemotePackument {
    pub doc: Map<String, Value>,
    /// The cached copy: when it last changed is the packument's `Last-Modified`.
    pub file: FileEntry,
    /// Served from the cache because the upstream could not be asked.
    pub stale: bool,
}

/// The packument of `name` through the remote repository, or None when the upstream has no such package.
pub async fn packument(
    state: &AppState,
    repo: &Repository,
    settings: &RemoteSettings,
    name: &str,
    user_id: &str,
) -> Result<Option<RemotePackument>, ApiError> {
    let path = upstream::packument_path(name);
    let source = Source {
        repo,
        settings,
        path: &path,
        url: remote_fetch::url_of(settings, &upstream::upstream_path(name))?,
        freshness: Freshness::Mutable,
        expected: Expected::default(),
        checksum_file: None,
        whole: true,
        accept: None,
        user_id,
        registry_scope: None,
    };
    match remote_fetch::fetch(state, source).await? {
        Fetched::Missing => Ok(None),
        Fetched::Cached { file, stale } => match read_packument(state, settings, &file, name).await
        {
            Ok(doc) => Ok(Some(RemotePackument {
                doc,
                file: *file,
                stale,
            })),
            Err(unusable @ ApiError::Upstream { .. }) => {
                discard(state, &file).await?;
                Err(unusable)
            }
            Err(other) => Err(other),
        },
        Fetched::Streaming { .. } => Err(ApiError::Internal(
            "a packument fetch answered before it was whole".into(),
        )),
    }
}

/// The tarball `file` of `name` through the remote repository: the cached copy, else fetched from where
/// the packument says; Missing when the packument lists no version with that file.
pub async fn tarball(
    state: &AppState,
    repo: &Repository,
    settings: &RemoteSettings,
    name: &str,
    file: &str,
    user_id: &str,
) -> Result<Fetched, ApiError> {
    // Only tarball names: the packument kept beside the tarballs is not one.
    if !file.ends_with(".tgz") {
        return Ok(Fetched::Missing);
    }
    let path = format!("{name}/-/{file}");
    // A tarball never changes once kept: serve it without reading (or revalidating) the packument.
    let (repo_id, lookup) = (repo.id.clone(), path.clone());
    if let Some(cached) = state
        .db
        .call(move |conn| repos::get_live_file(conn, &repo_id, &lookup))
        .await?
    {
        return Ok(Fetched::Cached {
            file: Box::new(cached),
            stale: false,
        });
    }
    let Some(packument) = packument(state, repo, settings, name, user_id).await? else {
        return Ok(Fetched::Missing);
    };
    let Some(listed) = upstream::tarball_of(&packument.doc, name, file) else {
        return Ok(Fetched::Missing);
    };
    // A relative `dist.tarball` is read against the packument's own URL.
    let url = remote_fetch::url_of(settings, &upstream::upstream_path(name))?
        .join(&listed.url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            upstream_fault(
                settings,
                format!("lists no usable tarball URL for {name}@{}", listed.version),
            )
        })?;
    let source = Source {
        repo,
        settings,
        path: &path,
        url,
        freshness: Freshness::Immutable,
        expected: Expected {
            sha1: listed.sha1,
            sha256: None,
            sha512: listed.sha512,
        },
        checksum_file: None,
        whole: false,
        accept: None,
        user_id,
        registry_scope: None,
    };
    remote_fetch::fetch(state, source).await
}

/// The cached packument, parsed within the limits of a package document.
async fn read_packument(
    state: &AppState,
    settings: &RemoteSettings,
    file: &FileEntry,
    name: &str,
) -> Result<Map<String, Value>, ApiError> {
    let limit = state.config.max_package_document_bytes;
    if file.size < 0 || file.size as u64 > limit as u64 {
        return Err(upstream_fault(
            settings,
            format!("sent a packument for {name} larger than {limit} bytes"),
        ));
    }
    let stream = state.blobs.read(&file.sha256, 0, file.size as u64).await?;
    let chunks: Vec<bytes::Bytes> = stream
        .try_collect()
        .await
        .map_err(|e| ApiError::from(crate::blob::BlobError::Io(e)))?;
    let bytes = chunks.concat();
    if !json_budget::within(&bytes, MAX_PACKUMENT_VALUES) {
        return Err(upstream_fault(
            settings,
            format!("sent a packument for {name} of more than {MAX_PACKUMENT_VALUES} JSON values"),
        ));
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(doc)) if doc.get("versions").is_none_or(Value::is_object) => Ok(doc),
        _ => Err(upstream_fault(
            settings,
            format!("sent a packument for {name} that is not an npm package document"),
        )),
    }
}

/// Retires a kept packument arca cannot use to the recycle bin (unless a newer copy replaced it
/// meanwhile), so that the next read fetches it whole again instead of revalidating it: like a tarball
/// that fails its checksum, it is not kept.
async fn discard(state: &AppState, file: &FileEntry) -> Result<(), ApiError> {
    let (repo_id, path, id) = (file.repo_id.clone(), file.path.clone(), file.id);
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if repos::get_live_file(&tx, &repo_id, &path)?.is_some_and(|live| live.id == id) {
                repos::trash_file(&tx, &repo_id, &path, "", crate::store::now_ms())?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// A 502 for what the upstream sent, naming its host only.
fn upstream_fault(settings: &RemoteSettings, what: String) -> ApiError {
    let host = Url::parse(&settings.remote_url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| {
                format!(
                    "{h}{}",
                    u.port().map(|p| format!(":{p}")).unwrap_or_default()
                )
            })
        })
        .unwrap_or_default();
    ApiError::Upstream {
        timeout: false,
        message: format!("upstream {host} {what}"),
    }
}
