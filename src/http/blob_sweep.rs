//! Reclaiming what a crash leaves in the blob store. An upload stores its bytes, then commits the row
//! that records them; a `kill -9` in between leaves bytes no row records. Purging files commits first and
//! deletes their blobs after; a crash in between leaves blob rows no file references. Neither is ever
//! referenced again, so a sweep reclaims both: once at start (in the background, so the server answers
//! at once) and then every `blob_sweep_interval_secs`.
//!
//! Safety with uploads in flight comes from the collection lock, not from timing: every upload holds
//! `blob_gc` shared from storing its bytes to committing their row, and `reclaim` re-checks each
//! candidate under the lock held exclusively, so a blob an upload is about to record (or has just
//! deduplicated onto) is never deleted. The grace period is a second fence for writers that lock cannot
//! see (another process on the same store): bytes younger than it are left for a later sweep. On a
//! shared database (several nodes, one bucket) uploads also hold leases in the database that every
//! node's collection respects (store::blob_leases), so the grace period is not what keeps them safe.

use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime};

use super::app::AppState;
use super::error::ApiError;
use super::storage::reclaim_blobs;
use crate::store::{blob_leases, now_ms, repos};

/// What one sweep found and reclaimed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepReport {
    /// Blobs on disk no row recorded (left between storing bytes and committing), and their bytes.
    pub orphans: usize,
    pub orphan_bytes: u64,
    /// Blob rows no file referenced (left between purging files and deleting their blobs), and their bytes.
    pub unreferenced: usize,
    pub unreferenced_bytes: i64,
    /// Blobs looked at on disk.
    pub listed: usize,
    /// Temporary objects interrupted uploads left in a shared store (S3), older than the grace period.
    pub temporary: usize,
}

/// Sweeps the whole store once. Unrecorded blobs younger than `grace` are left alone.
pub async fn sweep(state: &AppState, grace: Duration) -> Result<SweepReport, ApiError> {
    let mut report = SweepReport::default();
    if state.db.is_shared() {
        // Leases and deletion marks of nodes that died mid-way; the live ones are what keeps this sweep
        // off other nodes' uploads.
        state
            .db
            .call(|conn| blob_leases::purge_expired(conn, now_ms()))
            .await?;
    }
    let rows = state
        .db
        .call(|conn| repos::unreferenced_blobs(conn))
        .await?;
    let freed = reclaim_blobs(state, rows).await?;
    report.unreferenced = freed.recorded;
    report.unreferenced_bytes = freed.recorded_bytes;

    let cutoff = SystemTime::now()
        .checked_sub(grace)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    // A temporary object lives from a multipart upload's completion to its copy into place. Under the
    // collection lock no upload of this process is in flight, so its own are leftovers; other processes'
    // are what the grace period keeps (theirs live seconds).
    report.temporary = {
        let _exclusive = state.blob_gc.write().await;
        state.blobs.clear_temporary(cutoff).await?
    };
    // A batch at a time (a two-digit slice of the filesystem store, a listing page of S3), so memory
    // stays bounded whatever the store holds.
    let mut cursor = None;
    loop {
        let (listed, next) = state.blobs.list_batch(cursor).await?;
        report.listed += listed.len();
        let aged: HashMap<String, u64> = listed
            .into_iter()
            .filter(|b| b.written <= cutoff)
            .map(|b| (b.sha256, b.size))
            .collect();
        if !aged.is_empty() {
            // A first look without the lock, so uploads wait only for the few candidates.
            let candidates: Vec<String> = aged.keys().cloned().collect();
            let unrecorded = state
                .db
                .call(move |conn| repos::unrecorded_blobs(conn, &candidates))
                .await?;
            let gone = reclaim_blobs(state, unrecorded).await?;
            report.orphans += gone.unrecorded.len();
            report.orphan_bytes += gone.unrecorded.iter().map(|s| aged[s]).sum::<u64>();
        }
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(report)
}

/// Sweeps at start and then on the configured schedule, logging each sweep's figures.
pub async fn run(state: AppState) {
    let interval = state.config.blob_sweep_interval_secs;
    let grace = Duration::from_secs(state.config.blob_sweep_grace_secs);
    loop {
        let started = Instant::now();
        match sweep(&state, grace).await {
            Ok(r) => tracing::info!(
                orphans = r.orphans,
                orphan_bytes = r.orphan_bytes,
                unreferenced = r.unreferenced,
                unreferenced_bytes = r.unreferenced_bytes,
                listed = r.listed,
                temporary = r.temporary,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "blob sweep finished"
            ),
            Err(e) => tracing::warn!(error = ?e, "blob sweep failed; the next one retries"),
        }
        if interval == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(interval)).await;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::blob::fs::FsBlobStore;
    use crate::blob::s3::tests::S3Server;
    use crate::blob::BlobInfo;
    use crate::params;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::Db;

    fn state(dir: &std::path::Path) -> AppState {
        with_blobs(dir, Arc::new(FsBlobStore::open(dir).unwrap()))
    }

    fn with_blobs(dir: &std::path::Path, blobs: Arc<dyn crate::blob::BlobStore>) -> AppState {
        let db = Db::open(&dir.join("arca.db")).unwrap();
        db.blocking(|conn| {
            insert_domain(
                conn,
                &Domain {
                    id: "d".into(),
                    name: "dom".into(),
                },
                0,
            )?;
            repos::insert_repo(conn, &repos::tests_support::repo_fixture())
        })
        .unwrap();
        AppState::for_tests(db, blobs, dir)
    }

    async fn put(state: &AppState, bytes: &[u8]) -> BlobInfo {
        state.blobs.put(&mut &bytes[..], 1 << 20).await.unwrap()
    }

    async fn record(state: &AppState, path: &str, info: &BlobInfo) {
        let (path, info) = (path.to_string(), info.clone());
        state
            .db
            .call(move |conn| {
                let repo_id: String =
                    conn.query_row("SELECT id FROM repositories", params![], |r| r.get(0))?;
                repos::put_file(conn, &repo_id, &path, &info, "x", "u", 1).map(|_| ())
            })
            .await
            .unwrap();
    }

    async fn on_disk(state: &AppState) -> Vec<String> {
        let mut all = Vec::new();
        for prefix in (0..=255u8).map(|b| format!("{b:02x}")) {
            all.extend(
                state
                    .blobs
                    .list(&prefix)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|b| b.sha256),
            );
        }
        all.sort();
        all
    }

    #[tokio::test]
    async fn crash_leftovers_go_and_recorded_blobs_stay() {
        let dir = tempfile::tempdir().unwrap();
        crash_leftovers(&state(dir.path())).await;
    }

    #[tokio::test]
    async fn crash_leftovers_go_and_recorded_blobs_stay_on_s3() {
        let server = S3Server::start();
        let dir = tempfile::tempdir().unwrap();
        crash_leftovers(&with_blobs(dir.path(), Arc::new(server.store("sweep")))).await;
    }

    async fn crash_leftovers(state: &AppState) {
        let state = state.clone();
        let kept = put(&state, b"recorded").await;
        record(&state, "kept.bin", &kept).await;
        let orphan = put(&state, b"stored, never committed").await;
        let purged = put(&state, b"file purged, blob not yet deleted").await;
        record(&state, "purged.bin", &purged).await;
        state
            .db
            .call(|conn| conn.execute("DELETE FROM files WHERE path = 'purged.bin'", params![]))
            .await
            .unwrap();

        // Younger than the grace period: left for a later sweep.
        let young = sweep(&state, Duration::from_secs(3600)).await.unwrap();
        assert_eq!((young.orphans, young.unreferenced), (0, 1));
        assert_eq!(on_disk(&state).await.len(), 2);

        let report = sweep(&state, Duration::ZERO).await.unwrap();
        assert_eq!(report.orphans, 1);
        assert_eq!(report.orphan_bytes, orphan.size);
        assert_eq!(on_disk(&state).await, [kept.sha256]);
        assert_eq!(sweep(&state, Duration::ZERO).await.unwrap().orphans, 0);
    }

    #[tokio::test]
    async fn a_blob_an_upload_is_about_to_record_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let state = state(dir.path());
        // An upload in flight: its bytes are stored and its row not yet committed.
        let upload = state.blob_gc.read().await;
        let info = put(&state, b"in flight").await;
        let sweeping = tokio::spawn({
            let state = state.clone();
            async move { sweep(&state, Duration::ZERO).await }
        });
        // Let the sweep list the blob and find no row for it; it must then wait for the lock.
        tokio::time::sleep(Duration::from_millis(200)).await;
        record(&state, "in-flight.bin", &info).await;
        drop(upload);
        let report = sweeping.await.unwrap().unwrap();
        assert_eq!(report.orphans, 0);
        assert_eq!(on_disk(&state).await, [info.sha256]);
    }

    #[tokio::test]
    async fn on_s3_a_temporary_object_of_an_upload_in_flight_is_kept() {
        let server = S3Server::start();
        let dir = tempfile::tempdir().unwrap();
        let s3 = Arc::new(server.store("sweep"));
        let state = with_blobs(dir.path(), s3.clone());
        // An upload between completing its multipart upload and copying it into place: it holds the
        // collection lock shared, and its temporary object is there. The sweep has no grace period.
        let upload = state.blob_gc.read().await;
        s3.plant_temporary("in-flight").await;
        let sweeping = tokio::spawn({
            let state = state.clone();
            async move { sweep(&state, Duration::ZERO).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            s3.temporary_count().await,
            1,
            "deleted under an upload in flight"
        );
        drop(upload);
        // Once no upload is in flight, what is left is a crash's leftover.
        let report = sweeping.await.unwrap().unwrap();
        assert_eq!(report.temporary, 1);
        assert_eq!(s3.temporary_count().await, 0);
    }
}
