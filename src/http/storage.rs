//! Writing and reclaiming stored content, shared by the package protocols and the management API.
//! The order is SPEC §8's: bytes to a temporary file while hashing, fsync, rename, then the metadata commit.

use axum::body::Body;
use futures_util::TryStreamExt;
use tokio_util::io::StreamReader;

use super::app::AppState;
use super::error::ApiError;
use super::limits::{client_body_failure, client_io_error};
use crate::blob::{BlobError, BlobInfo};
use crate::store::now_ms;
use crate::store::repos::{self, FileEntry, Repository};

impl From<BlobError> for ApiError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::TooLarge(limit) => ApiError::BodyTooLarge {
                limit: limit as usize,
            },
            // The client's body failing (stalled, cut short) is not a storage failure.
            BlobError::Io(e) => client_body_failure(&e)
                .unwrap_or_else(|| ApiError::Internal(BlobError::Io(e).to_string())),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Streams `body` into the blob store and points `path` of `repo` at it. Answers the new file.
pub async fn store_file(
    state: &AppState,
    repo: &Repository,
    path: &str,
    body: Body,
    content_type: &str,
    user_id: &str,
) -> Result<FileEntry, ApiError> {
    let stream = body.into_data_stream().map_err(client_io_error);
    let mut reader = StreamReader::new(stream);
    let guard = state.blob_gc.read().await;
    let info: BlobInfo = state
        .blobs
        .put(&mut reader, state.config.max_artifact_bytes)
        .await?;
    let (repo_id, path_owned, content_type, user_id) = (
        repo.id.clone(),
        path.to_string(),
        content_type.to_string(),
        user_id.to_string(),
    );
    let (replaced, entry) = state
        .db
        .call(move |conn| {
            let replaced = repos::put_file(
                conn,
                &repo_id,
                &path_owned,
                &info,
                &content_type,
                &user_id,
                now_ms(),
            )?;
            let entry = repos::get_live_file(conn, &repo_id, &path_owned)?;
            Ok((replaced, entry))
        })
        .await?;
    drop(guard);
    if let Some(old) = replaced {
        reclaim(state, vec![old]).await?;
    }
    entry.ok_or_else(|| ApiError::Internal("a file vanished right after it was stored".into()))
}

/// Deletes the blobs among `candidates` that nothing references any more: recorded blobs no file uses,
/// and blobs an upload stored but never recorded (it was refused after its bytes were streamed). Answers
/// the bytes freed of recorded blobs. Under the exclusive lock no upload is between storing its bytes and
/// recording them, so an unrecorded blob is garbage.
pub async fn reclaim(state: &AppState, candidates: Vec<String>) -> Result<i64, ApiError> {
    if candidates.is_empty() {
        return Ok(0);
    }
    let _exclusive = state.blob_gc.write().await;
    let (unrecorded, freed) = state
        .db
        .call(move |conn| {
            let unrecorded = repos::unrecorded_blobs(conn, &candidates)?;
            Ok((unrecorded, repos::collect_garbage(conn, &candidates)?))
        })
        .await?;
    for sha256 in unrecorded {
        state.blobs.delete(&sha256).await?;
    }
    let mut bytes = 0;
    for (sha256, size) in freed {
        state.blobs.delete(&sha256).await?;
        bytes += size;
    }
    Ok(bytes)
}
