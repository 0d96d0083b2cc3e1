//! Writing and reclaiming stored content, shared by the package protocols and the management API.
//! The order is SPEC §8's: bytes to a temporary file while hashing, fsync, rename, then the metadata commit.

use axum::body::Body;
use futures_util::TryStreamExt;
use tokio_util::io::StreamReader;

use super::app::AppState;
use super::error::ApiError;
use super::limits::{client_body_failure, client_io_error};
use super::payload;
use std::sync::Arc;

use crate::blob::{BlobError, BlobInfo, PlaceGate, StreamFailure};
use crate::storage_fault::{self, StorageFault};
use crate::store::blob_leases;
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

/// How long an upload may take from knowing its digest to committing its row before its lease lapses
/// (placing a large blob is an S3 server-side copy), and how long a deletion mark outlives a collector
/// that died mid-way.
const LEASE_TTL_MS: i64 = 60 * 60 * 1000;
const DELETION_MARK_TTL_MS: i64 = 2 * 60 * 1000;
/// How often an upload whose digest is being deleted looks again.
const MARK_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// An upload's hold on the blobs it stores until their rows commit: this process's collection lock, and on
/// a shared database (several nodes, one bucket) a lease per blob there that every node's collection
/// respects (store::blob_leases). Release it once the rows committed or the upload gave up, before
/// reclaiming anything it stored.
pub struct UploadFence<'a> {
    _guard: tokio::sync::RwLockReadGuard<'a, ()>,
    leases: Option<LeaseGate>,
}

impl<'a> UploadFence<'a> {
    pub async fn new(state: &'a AppState) -> UploadFence<'a> {
        UploadFence {
            _guard: state.blob_gc.read().await,
            leases: state.db.is_shared().then(|| LeaseGate {
                db: state.db.clone(),
                holder: state.node_id.clone(),
                taken: Default::default(),
                failure: Default::default(),
            }),
        }
    }

    /// Streams `reader` into the blob store under this fence.
    pub async fn put(
        &self,
        state: &AppState,
        reader: &mut (dyn tokio::io::AsyncRead + Send + Unpin),
        limit: u64,
    ) -> Result<BlobInfo, BlobError> {
        state.blobs.put_gated(reader, limit, self.gate()).await
    }

    /// The gate a `BlobStore::put_gated` of this upload passes through.
    pub fn gate(&self) -> &dyn PlaceGate {
        match &self.leases {
            Some(gate) => gate,
            None => &crate::blob::Ungated,
        }
    }

    /// What a failed `put` answers: a database failure while taking the lease is the database's (503),
    /// not the blob store's.
    pub fn error(&self, e: BlobError) -> ApiError {
        self.database_failure().unwrap_or_else(|| e.into())
    }

    /// The database failure that made a `put` fail, if one did.
    pub fn database_failure(&self) -> Option<ApiError> {
        let gate = self.leases.as_ref()?;
        let failure = gate.failure.lock().expect("not poisoned").take();
        failure.map(ApiError::from)
    }

    pub async fn release(self, state: &AppState) {
        let Some(gate) = self.leases else { return };
        let ids = std::mem::take(&mut *gate.taken.lock().expect("not poisoned"));
        if ids.is_empty() {
            return;
        }
        // A lease left behind only delays collecting its digest until it expires.
        if let Err(e) = state
            .db
            .call(move |conn| ids.iter().try_for_each(|id| blob_leases::end(conn, id)))
            .await
        {
            tracing::warn!(error = %e, "could not end an upload's blob leases; they expire on their own");
        }
    }
}

/// Takes a lease for each blob once its digest is known, waiting out a deletion of the same digest
/// under way.
pub struct LeaseGate {
    db: crate::store::Db,
    holder: Arc<str>,
    taken: std::sync::Mutex<Vec<String>>,
    failure: std::sync::Mutex<Option<StoreError>>,
}

#[async_trait::async_trait]
impl PlaceGate for LeaseGate {
    async fn before_place(&self, info: &BlobInfo) -> Result<(), BlobError> {
        let id = crate::domain::new_hex_id();
        loop {
            let (db, lease, sha256) = (self.db.clone(), id.clone(), info.sha256.clone());
            let holder = self.holder.clone();
            let taken = db
                .call(move |conn| {
                    blob_leases::take(conn, &lease, &holder, &sha256, now_ms(), LEASE_TTL_MS)
                })
                .await;
            match taken {
                Ok(true) => {
                    self.taken.lock().expect("not poisoned").push(id);
                    return Ok(());
                }
                Ok(false) => tokio::time::sleep(MARK_POLL).await,
                Err(e) => {
                    let io = std::io::Error::other(e.to_string());
                    *self.failure.lock().expect("not poisoned") = Some(e);
                    return Err(BlobError::Io(io));
                }
            }
        }
    }
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

/// Streams a request body into the blob store under an `UploadFence` (to be released once the row that
/// records it committed); a body that fails its signed hash at the end is refused and its blob reclaimed.
pub async fn store_body<'s>(
    state: &'s AppState,
    body: Body,
) -> Result<(BlobInfo, UploadFence<'s>), ApiError> {
    let stream = body.into_data_stream().map_err(client_io_error);
    let mut reader = StreamReader::new(stream);
    let fence = UploadFence::new(state).await;
    let info = match fence
        .put(state, &mut reader, state.config.max_artifact_bytes)
        .await
    {
        Ok(info) => info,
        Err(e) => {
            let e = fence.error(e);
            fence.release(state).await;
            return Err(e);
        }
    };
    if let Err(e) = payload::finish().await {
        fence.release(state).await;
        reclaim(state, vec![info.sha256]).await?;
        return Err(e);
    }
    Ok((info, fence))
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
    let (info, fence) = store_body(state, body).await?;
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
        .call_yielding(move |conn| {
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
    fence.release(state).await;
    match committed {
        Ok(Some((entry, replaced))) => {
            crate::telemetry::record_upload(&repo.format);
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
    if state.db.is_shared() {
        return reclaim_shared(state, candidates).await;
    }
    let (unrecorded, freed) = state
        .db
        .call_yielding(move |conn| {
            let unrecorded = repos::unrecorded_blobs(conn, &candidates)?;
            Ok((unrecorded, repos::collect_garbage(conn, &candidates)?))
        })
        .await?;
    delete_claimed(state, unrecorded, freed).await
}

/// `reclaim_blobs` on a database other nodes share: what it deletes is claimed and marked in one
/// transaction that respects the other nodes' leases, and unmarked once the bytes are gone (or the
/// deletion failed: a digest whose row went but whose bytes stayed is the sweep's to collect).
async fn reclaim_shared(state: &AppState, candidates: Vec<String>) -> Result<Reclaimed, ApiError> {
    let claimed = state
        .db
        .call(move |conn| {
            blob_leases::claim_for_deletion(conn, &candidates, now_ms(), DELETION_MARK_TTL_MS)
        })
        .await?;
    let marked: Vec<String> = claimed
        .unrecorded
        .iter()
        .cloned()
        .chain(claimed.freed.iter().map(|(sha, _)| sha.clone()))
        .collect();
    let deleted = delete_claimed(state, claimed.unrecorded, claimed.freed).await;
    if let Err(e) = state
        .db
        .call(move |conn| blob_leases::unmark_deleting(conn, &marked))
        .await
    {
        tracing::warn!(error = %e, "could not clear blob deletion marks; they expire on their own");
    }
    deleted
}

async fn delete_claimed(
    state: &AppState,
    unrecorded: Vec<String>,
    freed: Vec<(String, i64)>,
) -> Result<Reclaimed, ApiError> {
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::blob::fs::FsBlobStore;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::{test_backends, Db};

    /// Two nodes on one database and one blob store, and the id of a repository.
    fn two_nodes(db: &Db, dir: &std::path::Path) -> (AppState, AppState, String) {
        let repo = repos::tests_support::repo_fixture();
        let repo_id = repo.id.clone();
        // The blocking client must not run on a runtime thread.
        tokio::task::block_in_place(|| {
            db.blocking(|conn| {
                let domain = Domain {
                    id: "d".into(),
                    name: "dom".into(),
                };
                insert_domain(conn, &domain, 0)?;
                repos::insert_repo(conn, &repo)
            })
        })
        .unwrap();
        let blobs: Arc<dyn crate::blob::BlobStore> = Arc::new(FsBlobStore::open(dir).unwrap());
        let a = AppState::for_tests(db.clone(), blobs.clone(), dir);
        let b = AppState::for_tests(db.clone(), blobs, dir);
        (a, b, repo_id)
    }

    /// Runs `test` on each database other nodes could share (PostgreSQL, when ARCA_TEST_PG_URL names
    /// a server: scripts/test.sh starts one), outside any runtime, as the blocking client wants.
    fn on_shared_databases<F, Fut>(test: F)
    where
        F: Fn(Db, std::path::PathBuf) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        for (_guard, db) in test_backends().into_iter().filter(|(_, db)| db.is_shared()) {
            let dir = tempfile::tempdir().unwrap();
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(test(db, dir.path().to_path_buf()));
        }
    }

    async fn record(state: &AppState, repo_id: &str, path: &str, info: &BlobInfo) {
        let (repo_id, path, info) = (repo_id.to_string(), path.to_string(), info.clone());
        state
            .db
            .call(move |conn| {
                repos::put_file(conn, &repo_id, &path, &info, "x", "u", 1).map(|_| ())
            })
            .await
            .unwrap();
    }

    async fn stored(state: &AppState, sha256: &str) -> bool {
        state.blobs.read(sha256, 0, 1).await.is_ok()
    }

    /// Node B has stored (deduplicated onto) content X and not yet committed its row when node A
    /// reclaims X, which nothing references yet: A must leave it, or B's file points at nothing.
    #[test]
    fn another_nodes_collection_spares_a_blob_between_its_storing_and_its_row() {
        on_shared_databases(|db, dir| async move {
            let (a, b, repo_id) = two_nodes(&db, &dir);
            let content = b"shared content".to_vec();
            let fence = UploadFence::new(&b).await;
            let info = fence.put(&b, &mut &content[..], 1 << 20).await.unwrap();
            let reclaimed = reclaim_blobs(&a, vec![info.sha256.clone()]).await.unwrap();
            assert!(
                reclaimed.unrecorded.is_empty(),
                "a leased blob is not garbage"
            );
            record(&b, &repo_id, "f", &info).await;
            fence.release(&b).await;
            assert!(stored(&b, &info.sha256).await);
            // Once recorded and released, collection still leaves it (referenced), and a blob that
            // is neither leased nor referenced goes.
            assert_eq!(
                reclaim_blobs(&a, vec![info.sha256.clone()])
                    .await
                    .unwrap()
                    .recorded,
                0
            );
            let fence = UploadFence::new(&b).await;
            let loose = fence.put(&b, &mut &b"loose"[..], 1 << 20).await.unwrap();
            fence.release(&b).await;
            let gone = reclaim_blobs(&a, vec![loose.sha256.clone()]).await.unwrap();
            assert_eq!(gone.unrecorded, vec![loose.sha256.clone()]);
            assert!(!stored(&a, &loose.sha256).await);
        });
    }

    /// Node A has claimed X for deletion (its row gone, its bytes about to go) when node B uploads X:
    /// B waits until the deletion is over and then places the bytes again, rather than deduplicating
    /// onto bytes that are about to vanish.
    #[test]
    fn an_upload_waits_out_another_nodes_deletion_of_its_content() {
        on_shared_databases(|db, dir| async move {
            let (a, b, repo_id) = two_nodes(&db, &dir);
            let content = b"content being collected".to_vec();
            let info = a.blobs.put(&mut &content[..], 1 << 20).await.unwrap();
            let sha = info.sha256.clone();
            let claimed =
                a.db.call({
                    let sha = sha.clone();
                    move |conn| {
                        blob_leases::claim_for_deletion(
                            conn,
                            &[sha],
                            now_ms(),
                            DELETION_MARK_TTL_MS,
                        )
                    }
                })
                .await
                .unwrap();
            assert_eq!(claimed.unrecorded, vec![sha.clone()]);
            let upload = tokio::spawn({
                let (b, content) = (b.clone(), content.clone());
                async move {
                    let fence = UploadFence::new(&b).await;
                    let info = fence.put(&b, &mut &content[..], 1 << 20).await.unwrap();
                    fence.release(&b).await;
                    info
                }
            });
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!upload.is_finished(), "the upload waits for the deletion");
            a.blobs.delete(&sha).await.unwrap();
            let unmark = vec![sha.clone()];
            a.db.call(move |conn| blob_leases::unmark_deleting(conn, &unmark))
                .await
                .unwrap();
            let info = upload.await.unwrap();
            record(&b, &repo_id, "f", &info).await;
            assert!(stored(&b, &sha).await, "placed again after the deletion");
        });
    }
}
