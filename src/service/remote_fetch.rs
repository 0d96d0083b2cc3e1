//! Reading a file through a remote repository: serve the cached copy, revalidate it when it is mutable
//! and old, or fetch it from the upstream — once, however many callers ask at the same time.
//!
//! A fetch runs in a task of its own (a caller that hangs up does not stop it). It spools the upstream's
//! bytes to a local file while hashing them; every caller of the same path reads that spool as it grows,
//! so all of them get bytes as they arrive. Each reader holds back the last byte until the bytes are
//! verified against what the caller expected (a checksum the upstream or the package index published)
//! and stored: a transfer that fails verification ends short of its length, and no client takes it for
//! complete. Only then are the bytes stored in the blob store and the file row committed, so a copy that
//! is served from the cache was always verified. An upstream 404 is remembered for the repository's
//! `not_found_cache_secs`; an upstream failure is never remembered and never answered as a 404.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::watch;

use crate::blob::{BlobInfo, ByteStream, StreamHasher};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::http::storage::UploadFence;
use crate::store::now_ms;
use crate::store::remote::{self, RemotePath, RemoteSettings};
use crate::store::repos::{self, FileEntry, Repository};
use crate::upstream::{Credentials, StatusCode, UpstreamError, UpstreamRequest, Url};

/// Files the upstream announces at most this long are answered once fetched and verified; longer ones
/// stream to their callers as they arrive.
pub const WAIT_FOR_WHOLE_BYTES: u64 = 2 * 1024 * 1024;

/// How long a cached copy may be served without asking the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Never changes once published (a release jar, a tarball, a wheel, a crate): kept for good.
    Immutable,
    /// May change (metadata, a SNAPSHOT, a generic file): revalidated after `metadata_max_age_secs`.
    Mutable,
}

/// Digests the fetched bytes must have (lower-case hex), as the package index or the upstream's
/// checksum file published them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub sha512: Option<String>,
}

/// What a read through a remote repository found.
pub enum Fetched {
    /// A stored copy: fresh, confirmed by the upstream, or — `stale` — served because the upstream could
    /// not be asked.
    Cached { file: Box<FileEntry>, stale: bool },
    /// Being fetched: the upstream's content type and length, and the bytes as they arrive.
    Streaming {
        content_type: String,
        length: Option<u64>,
        body: ByteStream,
    },
    /// The upstream has no such file (now, or within `not_found_cache_secs`).
    Missing,
}

/// One request to an upstream for a path, and the state of its answer.
#[derive(Clone, Debug)]
enum Stage {
    Connecting,
    Streaming {
        content_type: String,
        length: Option<u64>,
    },
    Stored,
    NotModified,
    Missing,
    Failed(Failure),
}

/// Why a fetch failed, in the terms a caller answers with.
#[derive(Clone, Debug)]
pub struct Failure {
    pub timeout: bool,
    pub message: String,
}

impl From<Failure> for ApiError {
    fn from(f: Failure) -> Self {
        ApiError::Upstream {
            timeout: f.timeout,
            message: f.message,
        }
    }
}

impl From<&UpstreamError> for Failure {
    fn from(e: &UpstreamError) -> Self {
        Failure {
            timeout: e.gateway_status() == 504,
            message: e.to_string(),
        }
    }
}

#[derive(Clone, Debug)]
struct Progress {
    stage: Stage,
    /// Bytes spooled so far.
    written: u64,
}

struct Transfer {
    spool: PathBuf,
    progress: watch::Receiver<Progress>,
}

/// A repository id and a path in it.
type TransferKey = (String, String);

/// The fetches in flight, by repository and path. Cheap to clone.
#[derive(Clone, Default)]
pub struct InFlight {
    transfers: Arc<Mutex<HashMap<TransferKey, Arc<Transfer>>>>,
}

/// A format's own check of fetched bytes (a module zip's rules), run on the spooled file once its digests
/// are verified and before it is stored or its last byte served: `Err` names what is wrong in words of
/// arca's own (never the upstream's), and nothing is kept.
pub type ContentCheck = Arc<dyn Fn(&std::path::Path) -> Result<(), String> + Send + Sync>;

/// Everything a fetch needs to know about where it reads from.
pub struct Source<'a> {
    pub repo: &'a Repository,
    pub settings: &'a RemoteSettings,
    /// The path in the repository (where the copy is kept).
    pub path: &'a str,
    /// The upstream URL to fetch.
    pub url: Url,
    pub freshness: Freshness,
    pub expected: Expected,
    /// An upstream file holding the SHA-1 of the bytes (Maven's `.sha1`), checked when the upstream has it.
    pub checksum_file: Option<Url>,
    /// Answer only once the whole file is stored (a document the caller rewrites before serving), never
    /// with bytes as they arrive.
    pub whole: bool,
    /// The upstream request's `Accept` (a simple page asks for PEP 691 JSON first).
    pub accept: Option<&'a str>,
    /// Recorded as the copy's uploader.
    pub user_id: &'a str,
    /// A container registry's scope (`repository:<name>:pull`): the upstream is asked as registries
    /// are, answering its `401` challenge (`service::registry_auth`).
    pub registry_scope: Option<String>,
}

/// The upstream URL of `path` under a remote repository's `remote_url` (`{remote_url}/{path}`).
pub fn url_of(settings: &RemoteSettings, path: &str) -> Result<Url, ApiError> {
    let joined = format!("{}/{}", settings.remote_url.trim_end_matches('/'), path);
    Url::parse(&joined).map_err(|_| ApiError::invalid("path", "does not make a valid upstream URL"))
}

/// Where fetches spool; emptied at start (what a crash left is of no use).
pub fn spool_dir(data_dir: &std::path::Path) -> PathBuf {
    data_dir.join("spool")
}

/// Makes the spool directory empty.
pub fn reset_spool(data_dir: &std::path::Path) -> std::io::Result<()> {
    let dir = spool_dir(data_dir);
    match std::fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    std::fs::create_dir_all(&dir)
}

/// What the database holds about a path of a remote repository, read in one call: the repository's
/// settings, the kept copy, and what the upstream last said about the path.
pub struct Lookup {
    pub settings: RemoteSettings,
    pub cached: Option<FileEntry>,
    pub known: Option<RemotePath>,
}

pub async fn look_up(state: &AppState, repo: &Repository, path: &str) -> Result<Lookup, ApiError> {
    let (repo_id, path) = (repo.id.clone(), path.to_string());
    state
        .db
        .call(move |conn| {
            let Some(settings) = remote::get_remote(conn, &repo_id)? else {
                return Ok(Err(ApiError::Internal(
                    "a remote repository without settings".into(),
                )));
            };
            Ok(Ok(Lookup {
                settings,
                cached: repos::get_live_file(conn, &repo_id, &path)?,
                known: remote::get_remote_path(conn, &repo_id, &path)?,
            }))
        })
        .await?
}

/// Reads `source.path` through the remote repository.
pub async fn fetch(state: &AppState, source: Source<'_>) -> Result<Fetched, ApiError> {
    fetch_with(state, source, None).await
}

/// `fetch`, with the fetched bytes passed through `check` before anything is kept or served.
pub async fn fetch_checked(
    state: &AppState,
    source: Source<'_>,
    check: ContentCheck,
) -> Result<Fetched, ApiError> {
    fetch_with(state, source, Some(check)).await
}

async fn fetch_with(
    state: &AppState,
    source: Source<'_>,
    check: Option<ContentCheck>,
) -> Result<Fetched, ApiError> {
    let (repo_id, path) = (source.repo.id.clone(), source.path.to_string());
    let (cached, known) = state
        .db
        .call(move |conn| {
            Ok((
                repos::get_live_file(conn, &repo_id, &path)?,
                remote::get_remote_path(conn, &repo_id, &path)?,
            ))
        })
        .await?;
    fetch_inner(state, source, cached, known, check).await
}

/// `fetch`, with what `look_up` found about the path (a cached hit then costs one database call).
pub async fn fetch_known(
    state: &AppState,
    source: Source<'_>,
    cached: Option<FileEntry>,
    known: Option<RemotePath>,
) -> Result<Fetched, ApiError> {
    fetch_inner(state, source, cached, known, None).await
}

async fn fetch_inner(
    state: &AppState,
    source: Source<'_>,
    cached: Option<FileEntry>,
    known: Option<RemotePath>,
    check: Option<ContentCheck>,
) -> Result<Fetched, ApiError> {
    let now = now_ms();
    let age_ms = |checked_at: i64| now.saturating_sub(checked_at);
    if let Some(file) = &cached {
        let fresh = source.freshness == Freshness::Immutable
            || known.as_ref().is_some_and(|k| {
                age_ms(k.checked_at) < source.settings.metadata_max_age_secs.saturating_mul(1000)
            });
        if fresh {
            return Ok(Fetched::Cached {
                file: Box::new(file.clone()),
                stale: false,
            });
        }
    } else if let Some(k) = &known {
        if k.missing
            && age_ms(k.checked_at) < source.settings.not_found_cache_secs.saturating_mul(1000)
        {
            return Ok(Fetched::Missing);
        }
    }
    let validators = cached.as_ref().and(known.as_ref());
    let (transfer, mut spool) = join_or_start(state, &source, validators, check).await?;
    let mut progress = transfer.progress.clone();
    let stage = loop {
        let current = progress.borrow_and_update().stage.clone();
        if !matches!(current, Stage::Connecting) {
            break current;
        }
        if progress.changed().await.is_err() {
            break Stage::Failed(Failure {
                timeout: false,
                message: "the upstream fetch ended unexpectedly".into(),
            });
        }
    };
    match stage {
        Stage::Streaming { length, .. }
            if source.whole || length.is_some_and(|l| l <= WAIT_FOR_WHOLE_BYTES) =>
        {
            // Small enough to answer whole: the caller then gets the stored copy's headers, or a 502
            // when the bytes fail their checksum, rather than a transfer cut short.
            let stage = loop {
                let current = progress.borrow_and_update().stage.clone();
                if !matches!(current, Stage::Streaming { .. }) {
                    break current;
                }
                if progress.changed().await.is_err() {
                    break progress.borrow().stage.clone();
                }
            };
            settled(state, &source, stage, cached).await
        }
        Stage::Streaming {
            content_type,
            length,
        } => {
            let file = spool
                .take()
                .ok_or_else(|| ApiError::Internal("the spool was not opened".into()))?;
            Ok(Fetched::Streaming {
                content_type,
                length,
                body: follow(file, transfer.progress.clone()),
            })
        }
        other => settled(state, &source, other, cached).await,
    }
}

/// The answer once a fetch has settled: stored, confirmed, missing or failed.
async fn settled(
    state: &AppState,
    source: &Source<'_>,
    stage: Stage,
    cached: Option<FileEntry>,
) -> Result<Fetched, ApiError> {
    match stage {
        Stage::Connecting | Stage::Streaming { .. } => Err(ApiError::Internal(
            "an upstream fetch settled while still running".into(),
        )),
        Stage::Missing => Ok(Fetched::Missing),
        Stage::NotModified | Stage::Stored => {
            let (repo_id, path) = (source.repo.id.clone(), source.path.to_string());
            let stored = state
                .db
                .call(move |conn| repos::get_live_file(conn, &repo_id, &path))
                .await?;
            match stored {
                Some(file) => Ok(Fetched::Cached {
                    file: Box::new(file),
                    stale: false,
                }),
                None => Ok(Fetched::Missing),
            }
        }
        Stage::Failed(failure) => match cached {
            Some(file) => {
                tracing::warn!(repo = %source.repo.name, path = source.path, error = %failure.message,
                    "upstream unavailable: serving the cached copy");
                Ok(Fetched::Cached {
                    file: Box::new(file),
                    stale: true,
                })
            }
            None => Err(failure.into()),
        },
    }
}

/// Joins the fetch of the same path in flight, or starts one; answers it with the spool opened (before
/// the fetch can remove it).
async fn join_or_start(
    state: &AppState,
    source: &Source<'_>,
    validators: Option<&RemotePath>,
    check: Option<ContentCheck>,
) -> Result<(Arc<Transfer>, Option<tokio::fs::File>), ApiError> {
    let key = (source.repo.id.clone(), source.path.to_string());
    let spool_dir = spool_dir(&state.config.data_dir);
    let (transfer, started) = {
        let mut transfers = state
            .in_flight
            .transfers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match transfers.get(&key) {
            Some(t) => (t.clone(), None),
            None => {
                let spool = spool_dir.join(crate::domain::new_hex_id());
                // Created before the transfer is visible, so every caller that finds it can open it.
                std::fs::File::create(&spool)
                    .map_err(|e| ApiError::from(crate::blob::BlobError::Io(e)))?;
                let (sender, receiver) = watch::channel(Progress {
                    stage: Stage::Connecting,
                    written: 0,
                });
                let t = Arc::new(Transfer {
                    spool,
                    progress: receiver,
                });
                transfers.insert(key.clone(), t.clone());
                (t, Some(sender))
            }
        }
    };
    if let Some(sender) = started {
        let mut request = UpstreamRequest::new(source.url.clone(), state.config.max_artifact_bytes);
        // The upstream's credentials go to the remote URL's own origin only: a tarball or a wheel an index
        // points at on another host gets none.
        let same_origin = Url::parse(&source.settings.remote_url)
            .is_ok_and(|base| base.origin() == source.url.origin());
        let has_credentials =
            !source.settings.user_name.is_empty() || source.settings.password_sealed.is_some();
        let credentials = (same_origin && has_credentials).then(|| Credentials {
            user_name: source.settings.user_name.clone(),
            password: source
                .settings
                .password_sealed
                .as_deref()
                .and_then(|sealed| state.secrets.open(sealed).ok())
                .and_then(|plain| String::from_utf8(plain).ok())
                .unwrap_or_default(),
        });
        if let Some(c) = &credentials {
            request = request.credentials(c.clone());
        }
        if let Some(accept) = source.accept {
            request = request.accept(accept);
        }
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.if_none_match(etag.clone());
            }
            if let Some(modified) = &v.last_modified {
                request = request.if_modified_since(modified.clone());
            }
        }
        let job = Job {
            state: state.clone(),
            repo: source.repo.clone(),
            path: source.path.to_string(),
            expected: source.expected.clone(),
            checksum_file: source.checksum_file.clone(),
            check,
            credentials,
            user_id: source.user_id.to_string(),
            registry_scope: source.registry_scope.clone(),
            spool: transfer.spool.clone(),
            key,
            request,
        };
        tokio::spawn(job.run(sender));
    }
    let spool = tokio::fs::File::open(&transfer.spool).await.ok();
    Ok((transfer, spool))
}

struct Job {
    state: AppState,
    repo: Repository,
    path: String,
    expected: Expected,
    checksum_file: Option<Url>,
    check: Option<ContentCheck>,
    credentials: Option<Credentials>,
    user_id: String,
    registry_scope: Option<String>,
    spool: PathBuf,
    key: TransferKey,
    request: UpstreamRequest,
}

impl Job {
    async fn run(self, sender: watch::Sender<Progress>) {
        let outcome = self.transfer(&sender).await;
        let stage = match outcome {
            Ok(stage) => stage,
            Err(failure) => {
                tracing::warn!(repo = %self.repo.name, path = %self.path, error = %failure.message,
                    "upstream fetch failed");
                Stage::Failed(failure)
            }
        };
        // Leave the map before the spool goes: a caller that still finds this transfer has opened it.
        self.state
            .in_flight
            .transfers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
        sender.send_modify(|p| p.stage = stage);
        let _ = tokio::fs::remove_file(&self.spool).await;
    }

    async fn transfer(&self, sender: &watch::Sender<Progress>) -> Result<Stage, Failure> {
        let upstream = self
            .state
            .upstreams
            .for_account(
                &self.state.db,
                &self.state.config,
                &self.state.secrets,
                &self.repo.domain_id,
            )
            .await
            .map_err(local_failure)?;
        let response = match &self.registry_scope {
            Some(scope) => {
                let tokens = &self.state.registry_tokens;
                crate::service::registry_auth::get(
                    &upstream,
                    tokens,
                    &self.repo.id,
                    scope,
                    self.request.clone(),
                )
                .await
            }
            None => upstream.get(self.request.clone()).await,
        }
        .map_err(|e| Failure::from(&e))?;
        match response.status {
            StatusCode::NOT_MODIFIED => {
                self.record(None, None, false).await?;
                return Ok(Stage::NotModified);
            }
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                self.record_missing().await?;
                return Ok(Stage::Missing);
            }
            StatusCode::OK => {}
            _ => return Err(Failure::from(&response.status_error())),
        }
        let content_type = response
            .content_type
            .clone()
            .filter(|t| t.len() <= 200)
            .unwrap_or_else(|| "application/octet-stream".into());
        let (etag, last_modified) = (response.etag.clone(), response.last_modified.clone());
        sender.send_modify(|p| {
            p.stage = Stage::Streaming {
                content_type: content_type.clone(),
                length: response.content_length,
            }
        });
        let mut spool = tokio::fs::OpenOptions::new()
            .write(true)
            .open(&self.spool)
            .await
            .map_err(io_failure)?;
        let mut hashes = StreamHasher::default();
        let mut written = 0u64;
        let mut body = response.body;
        while let Some(chunk) = body.next().await {
            let chunk: Bytes = chunk.map_err(|e| Failure::from(&e))?;
            hashes.update(chunk.clone()).await;
            spool.write_all(&chunk).await.map_err(io_failure)?;
            // tokio's File hands a write to a blocking thread and answers before it is done; followers
            // read the spool through handles of their own, so `written` may count only what the file
            // holds, or a follower reads past its end and ends its answer short.
            spool.flush().await.map_err(io_failure)?;
            written += chunk.len() as u64;
            sender.send_modify(|p| p.written = written);
        }
        spool.flush().await.map_err(io_failure)?;
        let mut expected = self.expected.clone();
        if let Some(url) = &self.checksum_file {
            expected.sha1 =
                expected
                    .sha1
                    .or(published_sha1(&upstream, url, self.credentials.as_ref()).await);
        }
        verify(
            &hashes.finish().await,
            &expected,
            self.request.url().host_str().unwrap_or(""),
        )?;
        if let Some(check) = &self.check {
            self.run_check(check.clone()).await?;
        }
        self.store(&content_type, etag, last_modified).await?;
        Ok(Stage::Stored)
    }

    /// The format's check of the spooled bytes, on a blocking thread (it reads the file).
    async fn run_check(&self, check: ContentCheck) -> Result<(), Failure> {
        let spool = self.spool.clone();
        let verdict = tokio::task::spawn_blocking(move || check(&spool))
            .await
            .map_err(|e| local_failure_of(ApiError::Internal(e.to_string())))?;
        verdict.map_err(|why| {
            let host = self.request.url().host_str().unwrap_or("").to_string();
            tracing::warn!(repo = %self.repo.name, path = %self.path, why = %why,
                "upstream file refused by its format's check");
            Failure {
                timeout: false,
                message: format!("upstream {host} sent {why}; nothing was kept"),
            }
        })
    }

    /// Puts the verified spool into the blob store and commits the file row and what the upstream said.
    async fn store(
        &self,
        content_type: &str,
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> Result<(), Failure> {
        let state = &self.state;
        let fence = UploadFence::new(state).await;
        let mut reader = tokio::fs::File::open(&self.spool)
            .await
            .map_err(io_failure)?;
        let info: BlobInfo = match fence
            .put(state, &mut reader, state.config.max_artifact_bytes)
            .await
        {
            Ok(info) => info,
            Err(e) => {
                let e = fence.error(e);
                fence.release(state).await;
                return Err(local_failure_of(e));
            }
        };
        let (repo_id, path, user_id) = (
            self.repo.id.clone(),
            self.path.clone(),
            self.user_id.clone(),
        );
        let content_type = content_type.to_string();
        let replaced = state
            .db
            .call(move |conn| {
                let tx = conn.transaction()?;
                let now = now_ms();
                let replaced =
                    repos::replace_file(&tx, &repo_id, &path, &info, &content_type, &user_id, now)?;
                remote::put_remote_path(
                    &tx,
                    &repo_id,
                    &path,
                    &RemotePath {
                        etag,
                        last_modified,
                        checked_at: now,
                        missing: false,
                    },
                )?;
                tx.commit()?;
                Ok(replaced)
            })
            .await;
        fence.release(state).await;
        let replaced = replaced.map_err(|e| local_failure_of(e.into()))?;
        if let Some(old) = replaced {
            let _ = crate::http::storage::reclaim(state, vec![old]).await;
        }
        Ok(())
    }

    /// The upstream confirmed the copy at hand (a 304): it is fresh again.
    async fn record(
        &self,
        etag: Option<String>,
        last_modified: Option<String>,
        missing: bool,
    ) -> Result<(), Failure> {
        let (repo_id, path) = (self.repo.id.clone(), self.path.clone());
        self.state
            .db
            .call(move |conn| {
                let previous = remote::get_remote_path(conn, &repo_id, &path)?;
                let keep = |new: Option<String>,
                            old: Option<&RemotePath>,
                            pick: fn(&RemotePath) -> Option<String>| {
                    new.or_else(|| old.and_then(pick))
                };
                remote::put_remote_path(
                    conn,
                    &repo_id,
                    &path,
                    &RemotePath {
                        etag: keep(etag, previous.as_ref(), |p| p.etag.clone()),
                        last_modified: keep(last_modified, previous.as_ref(), |p| {
                            p.last_modified.clone()
                        }),
                        checked_at: now_ms(),
                        missing,
                    },
                )
            })
            .await
            .map_err(|e| local_failure_of(e.into()))
    }

    /// The upstream has no such file: remember it, and retire a copy taken earlier to the recycle bin.
    async fn record_missing(&self) -> Result<(), Failure> {
        let (repo_id, path) = (self.repo.id.clone(), self.path.clone());
        self.state
            .db
            .call(move |conn| {
                let tx = conn.transaction()?;
                let now = now_ms();
                repos::trash_file(&tx, &repo_id, &path, "", now)?;
                remote::put_remote_path(
                    &tx,
                    &repo_id,
                    &path,
                    &RemotePath {
                        etag: None,
                        last_modified: None,
                        checked_at: now,
                        missing: true,
                    },
                )?;
                tx.commit()?;
                Ok(())
            })
            .await
            .map_err(|e| local_failure_of(e.into()))
    }
}

/// The SHA-1 an upstream publishes beside a file (`<file>.sha1`: the hex digest, maybe followed by the
/// file name). None when the upstream has none or cannot be asked now: the file is then kept unverified,
/// as Maven itself would (its default checksum policy only warns).
async fn published_sha1(
    upstream: &crate::upstream::Upstream,
    url: &Url,
    credentials: Option<&Credentials>,
) -> Option<String> {
    let mut request = UpstreamRequest::new(url.clone(), 4096);
    if let Some(credentials) = credentials {
        request = request.credentials(credentials.clone());
    }
    let response = match upstream.get(request).await {
        Ok(r) if r.status == StatusCode::OK => r,
        Ok(_) => return None,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the upstream's checksum file");
            return None;
        }
    };
    let text = response.body.bytes().await.ok()?;
    let token = std::str::from_utf8(&text).ok()?.split_whitespace().next()?;
    (token.len() == 40 && token.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| token.to_ascii_lowercase())
}

fn local_failure(e: crate::store::StoreError) -> Failure {
    local_failure_of(e.into())
}

fn io_failure(e: std::io::Error) -> Failure {
    local_failure_of(crate::blob::BlobError::Io(e).into())
}

/// A failure on arca's side (the disk, the database) while fetching: answered as what it is, not as an
/// upstream failure.
fn local_failure_of(e: ApiError) -> Failure {
    tracing::warn!(error = %e, "storing an upstream file failed");
    Failure {
        timeout: false,
        message: format!("the upstream file could not be kept: {e}"),
    }
}

/// Refuses bytes whose digests differ from those published for them.
fn verify(info: &BlobInfo, expected: &Expected, host: &str) -> Result<(), Failure> {
    let checks = [
        (expected.sha1.as_deref(), &info.sha1),
        (expected.sha256.as_deref(), &info.sha256),
        (expected.sha512.as_deref(), &info.sha512),
    ];
    for (want, got) in checks {
        if want.is_some_and(|w| !w.eq_ignore_ascii_case(got)) {
            return Err(Failure {
                timeout: false,
                message: format!(
                    "upstream {host} sent bytes that do not match their published checksum; nothing was kept"
                ),
            });
        }
    }
    Ok(())
}

/// The spool's bytes as they arrive, holding back the last one until the transfer is stored.
fn follow(file: tokio::fs::File, progress: watch::Receiver<Progress>) -> ByteStream {
    struct Reader {
        file: tokio::fs::File,
        progress: watch::Receiver<Progress>,
        sent: u64,
    }
    let reader = Reader {
        file,
        progress,
        sent: 0,
    };
    Box::pin(futures_util::stream::unfold(
        Some(reader),
        |reader| async move {
            let mut r = reader?;
            loop {
                let now = r.progress.borrow_and_update().clone();
                let (limit, finished) = match &now.stage {
                    Stage::Stored => (now.written, true),
                    Stage::Streaming { .. } => (now.written.saturating_sub(1), false),
                    Stage::Failed(f) => {
                        let error = std::io::Error::other(f.message.clone());
                        return Some((Err(error), None));
                    }
                    _ => {
                        let error =
                            std::io::Error::other("the upstream transfer ended unexpectedly");
                        return Some((Err(error), None));
                    }
                };
                if r.sent < limit {
                    let want = (limit - r.sent).min(64 * 1024) as usize;
                    let mut buf = vec![0u8; want];
                    let read = async {
                        r.file.seek(SeekFrom::Start(r.sent)).await?;
                        r.file.read(&mut buf).await
                    }
                    .await;
                    return match read {
                        Ok(0) => Some((Err(std::io::Error::other("the spool ended early")), None)),
                        Ok(n) => {
                            buf.truncate(n);
                            r.sent += n as u64;
                            Some((Ok(Bytes::from(buf)), Some(r)))
                        }
                        Err(e) => Some((Err(e), None)),
                    };
                }
                if finished {
                    return None;
                }
                if r.progress.changed().await.is_err() {
                    // The fetch ended without a last word: the stage read next says how.
                    let stage = r.progress.borrow().stage.clone();
                    if !matches!(stage, Stage::Stored) {
                        let error =
                            std::io::Error::other("the upstream transfer ended unexpectedly");
                        return Some((Err(error), None));
                    }
                }
            }
        },
    ))
}
