//! Writing and reclaiming stored content, shared by the package protocols and the management API.
//! The order is SPEC §8's: bytes to a temporary file while hashing, fsync, rename, then the metadata commit.

use axum::body::Body;
use futures_util::TryStreamExt;
use tokio_util::io::StreamReader;

use super::app::AppState;
use super::error::ApiError;
use super::limits::{client_body_failure, client_io_error};
use super::payload;
use crate::blob::{BlobError, BlobInfo, StreamFailure};
use crate::storage_fault::{self, StorageFault};
use crate::store::repos::{self, FileEntry, Repository};
use crate::store::{now_ms, StoreError};

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::TooLarge(limit) => ApiError::BodyTooLarge {
                limit: limit as usize,
            },
            BlobError::ReadOnly => ApiError::storage(StorageFault::ReadOnly, &e),
            BlobError::Unavailable(problem, ref detail) => {
                tracing::warn!(%detail, ?problem, "the blob store failed");
                ApiError::BlobStoreUnavailable(problem)
            }
            // The client's body failing (stalled, cut short) is not a storage failure.
            // Nor is a remote store failing while a read streams (its detail was logged there).
            BlobError::Io(ref io) => match (client_body_failure(io), stream_failure(io)) {
                (Some(failure), _) => failure,
                (None, Some(problem)) => ApiError::BlobStoreUnavailable(problem),
                (None, None) => match storage_fault::of_io(io) {
                    Some(fault) => ApiError::storage(fault, &e),
                    None => ApiError::Internal(e.to_string()),
                },
            },
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// The remote blob store's failure a read stream's error carries, if it carries one.
fn stream_failure(io: &std::io::Error) -> Option<crate::blob::Unavailable> {
    Some(io.get_ref()?.downcast_ref::<StreamFailure>()?.0)
}

/// How an upload treats a live file already at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// The upload replaces it (last writer wins).
    Replace,
    /// The upload is refused with 409 (an immutable coordinate).
    Refuse,
}

/// What `store_file` records beside the bytes.
#[derive(Debug, Clone, Copy)]
pub struct NewFile<'a> {
    pub path: &'a str,
    pub content_type: &'a str,
    pub user_id: &'a str,
    pub existing: Existing,
}

/// A stored file, as this upload committed it.
#[derive(Debug)]
pub struct Stored {
    pub file: FileEntry,
    /// No live file was at the path before.
    pub created: bool,
}

/// Streams `body` into the blob store and points `file.path` of `repo` at it. Whether a live file holds
/// the path is decided in the same immediate transaction that writes the row, so concurrent uploads to
/// an immutable path have exactly one winner; the answer is read in that transaction too, so it
/// describes these bytes and not a concurrent writer's.
pub async fn store_file(
    state: &AppState,
    repo: &Repository,
    file: NewFile<'_>,
    body: Body,
) -> Result<Stored, ApiError> {
    let stream = body.into_data_stream().map_err(client_io_error);
    let mut reader = StreamReader::new(stream);
    let guard = state.blob_gc.read().await;
    let info: BlobInfo = state
        .blobs
        .put(&mut reader, state.config.max_artifact_bytes)
        .await?;
    if let Err(e) = payload::finish().await {
        drop(guard);
        reclaim(state, vec![info.sha256]).await?;
        return Err(e);
    }
    let sha256 = info.sha256.clone();
    let (repo_id, path, content_type, user_id, existing) = (
        repo.id.clone(),
        file.path.to_string(),
        file.content_type.to_string(),
        file.user_id.to_string(),
        file.existing,
    );
    let committed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let (repo_id, path) = (repo_id.as_str(), path.as_str());
            let now = now_ms();
            let replaced = match existing {
                Existing::Replace => {
                    repos::replace_file(&tx, repo_id, path, &info, &content_type, &user_id, now)?
                }
                Existing::Refuse => {
                    if !repos::create_file(&tx, repo_id, path, &info, &content_type, &user_id, now)?
                    {
                        return Ok(None);
                    }
                    None
                }
            };
            let entry = repos::get_live_file(&tx, repo_id, path)?
                .ok_or_else(|| StoreError::Corrupt("a file vanished as it was stored".into()))?;
            tx.commit()?;
            Ok(Some((entry, replaced)))
        })
        .await;
    drop(guard);
    match committed {
        Ok(Some((entry, replaced))) => {
            let created = replaced.is_none();
            reclaim(state, replaced.into_iter().collect()).await?;
            Ok(Stored {
                file: entry,
                created,
            })
        }
        Ok(None) => {
            reclaim(state, vec![sha256]).await?;
            Err(redeploy_refused(repo, file.path))
        }
        Err(e) => {
            // Not recorded: its bytes are garbage unless another file shares them (reclaim checks).
            if let Err(cleanup) = reclaim(state, vec![sha256]).await {
                tracing::warn!(error = ?cleanup, "could not reclaim the blob of a failed upload");
            }
            Err(e.into())
        }
    }
}

/// The 409 of an upload to a taken path of a repository that does not allow redeployment.
pub fn redeploy_refused(repo: &Repository, path: &str) -> ApiError {
    ApiError::Conflict(format!(
        "{path} already exists in {} and the repository does not allow redeployment",
        repo.name
    ))
}

/// Deletes the blobs among `candidates` that nothing references any more: recorded blobs no file uses,
/// and blobs an upload stored but never recorded (it was refused after its bytes were streamed). Answers
/// the bytes freed of recorded blobs. Under the exclusive lock no upload is between storing its bytes and
/// recording them, so an unrecorded blob is garbage.
pub async fn reclaim(state: &AppState, candidates: Vec<String>) -> Result<i64, ApiError> {
    Ok(reclaim_blobs(state, candidates).await?.recorded_bytes)
}

/// What `reclaim_blobs` deleted.
#[derive(Debug, Default)]
pub struct Reclaimed {
    /// Blobs that had no row (their sizes are the caller's to know).
    pub unrecorded: Vec<String>,
    /// Recorded blobs no file used, and their bytes.
    pub recorded: usize,
    pub recorded_bytes: i64,
}

/// `reclaim`, answering what it deleted.
pub async fn reclaim_blobs(
    state: &AppState,
    candidates: Vec<String>,
) -> Result<Reclaimed, ApiError> {
    if candidates.is_empty() {
        return Ok(Reclaimed::default());
    }
    let _exclusive = state.blob_gc.write().await;
    let (unrecorded, freed) = state
        .db
        .call(move |conn| {
            let unrecorded = repos::unrecorded_blobs(conn, &candidates)?;
            Ok((unrecorded, repos::collect_garbage(conn, &candidates)?))
        })
        .await?;
    for sha256 in &unrecorded {
        state.blobs.delete(sha256).await?;
    }
    let mut reclaimed = Reclaimed {
        unrecorded,
        ..Reclaimed::default()
    };
    for (sha256, size) in freed {
        state.blobs.delete(&sha256).await?;
        reclaimed.recorded += 1;
        reclaimed.recorded_bytes += size;
    }
    Ok(reclaimed)
}
