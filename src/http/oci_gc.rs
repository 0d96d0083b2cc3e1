//! The container registry's collection: blob files (`<image>/blobs/<digest>`) that no manifest of
//! their image references any more are removed, and then their bytes when nothing else uses them;
//! upload sessions untouched for a day are dropped with their chunks. Safe against pushes in flight
//! by a grace period: a blob file written within `oci_gc_grace_secs` is left alone, since a client
//! pushes layers before the manifest that references them. The bytes themselves go through
//! `storage::reclaim`, whose lock and leases keep them from an upload deduplicating onto them.

use std::time::Duration;

use super::app::AppState;
use super::error::ApiError;
use super::storage::reclaim;
use crate::store::{now_ms, oci, repos};

/// How long an untouched upload session lives.
const SESSION_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// What one pass removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GcReport {
    pub blob_files: usize,
    pub sessions: usize,
    pub forgotten_manifests: usize,
}

pub async fn collect(state: &AppState, grace: Duration) -> Result<GcReport, ApiError> {
    let mut report = GcReport::default();
    let now = now_ms();
    let stale = state
        .db
        .call(move |conn| oci::stale_uploads(conn, now - SESSION_TTL_MS))
        .await?;
    for id in stale {
        let chunks = state
            .db
            .call(move |conn| oci::delete_upload(conn, &id))
            .await?;
        reclaim(state, chunks).await?;
        report.sessions += 1;
    }
    report.forgotten_manifests = state
        .db
        .call(|conn| oci::forget_purged_manifests(conn))
        .await?;
    let before = now - grace.as_millis() as i64;
    let garbage = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            // Decided and purged in one transaction, so a manifest committed meanwhile cannot lose
            // a blob it was just checked to have.
            let files = oci::unreferenced_blob_files(&tx, before)?;
            let mut shas = Vec::new();
            for (id, _, _) in &files {
                shas.extend(repos::purge_file(&tx, *id)?);
            }
            tx.commit()?;
            Ok(shas)
        })
        .await?;
    report.blob_files = garbage.len();
    reclaim(state, garbage).await?;
    Ok(report)
}

/// Collects every `oci_gc_interval_secs` (0: never).
pub async fn run(state: AppState) {
    let interval = state.config.oci_gc_interval_secs;
    if interval == 0 {
        return;
    }
    let grace = Duration::from_secs(state.config.oci_gc_grace_secs);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        match collect(&state, grace).await {
            Ok(r) if r == GcReport::default() => {
                tracing::debug!("container registry collection found nothing")
            }
            Ok(r) => tracing::info!(
                blob_files = r.blob_files,
                sessions = r.sessions,
                forgotten_manifests = r.forgotten_manifests,
                "container registry collection finished"
            ),
            Err(e) => {
                tracing::warn!(error = ?e, "container registry collection failed; the next one retries")
            }
        }
    }
}
