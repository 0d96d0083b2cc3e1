//! The retention job: at start and then every `release_retention_interval_secs`, every project's
//! retention settings are applied. Versions older than `file_expire_time` days go to the bin, versions
//! in the bin longer than `trash_file_expire_time` days are deleted for good and their blobs reclaimed.
//! Each removal is recorded (`release_removals`, listed by `.../auto-deletion/records`) in the
//! transaction that makes it, so a run cut short by a crash leaves nothing half-done, and the next run
//! simply finds what is still due: the job keeps no state of its own beyond the rows.

use std::time::Duration;

use crate::http::app::AppState;
use crate::http::storage::reclaim;
use crate::service::release::expired;
use crate::store::audit::{self, AuditEntry};
use crate::store::now_ms;
use crate::store::release::{self, Removal};
use crate::store::release_settings;

/// What one run removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RunReport {
    pub binned: usize,
    pub deleted: usize,
    pub freed_bytes: i64,
}

/// Applies every project's retention once, at `now`.
pub async fn run_once(state: &AppState, now: i64) -> anyhow::Result<RunReport> {
    let day_ms = (state.config.release_retention_day_secs as i64).saturating_mul(1000);
    let settings = state
        .db
        .call(|conn| release_settings::active_retentions(conn))
        .await?;
    let mut report = RunReport::default();
    let mut domains: Vec<String> = Vec::new();
    for retention in settings {
        let domain_id = retention.domain_id.clone();
        let (binned, deleted, blobs) = state
            .db
            .call(move |conn| {
                let tx = conn.transaction()?;
                let versions = release::of_project(&tx, &retention.project_id)?;
                let (to_bin, to_delete) = expired(&retention, &versions, now, day_ms);
                let record = |v: &release::ReleaseFile, action: &str| Removal {
                    project_id: v.project_id.clone(),
                    version_id: v.id.clone(),
                    path: v.path.clone(),
                    version: v.version,
                    size: v.size,
                    action: action.to_string(),
                    at: now,
                };
                let bin_ids: Vec<String> = to_bin.iter().map(|v| v.id.clone()).collect();
                release::trash(&tx, &bin_ids, "retention", now)?;
                let audit = |v: &release::ReleaseFile, operation: &str| {
                    let info = format!("{} version {}", v.path, v.version);
                    AuditEntry::by_arca(&retention.domain_id, &v.project_id, "release", operation, info)
                };
                for v in &to_bin {
                    release::record_removal(&tx, &retention.domain_id, &record(v, "trash"))?;
                    audit::record(&tx, &audit(v, "retentionTrash"))?;
                }
                let delete_ids: Vec<String> = to_delete.iter().map(|v| v.id.clone()).collect();
                let blobs = release::purge(&tx, &delete_ids)?;
                for v in &to_delete {
                    release::record_removal(&tx, &retention.domain_id, &record(v, "delete"))?;
                    audit::record(&tx, &audit(v, "retentionDelete"))?;
                }
                if !delete_ids.is_empty() {
                    release::drop_empty_folders(&tx, &retention.project_id)?;
                }
                tx.commit()?;
                for v in &to_bin {
                    tracing::info!(project_id = %v.project_id, path = %v.path, version = v.version, "retention moved a release file to the recycle bin");
                }
                for v in &to_delete {
                    tracing::info!(project_id = %v.project_id, path = %v.path, version = v.version, "retention deleted a release file for good");
                }
                Ok((bin_ids.len(), delete_ids.len(), blobs))
            })
            .await?;
        report.binned += binned;
        report.deleted += deleted;
        report.freed_bytes += reclaim(state, blobs)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if (binned > 0 || deleted > 0) && !domains.contains(&domain_id) {
            domains.push(domain_id);
        }
    }
    for domain_id in domains {
        super::capacity::check(state, &domain_id).await;
    }
    Ok(report)
}

/// Runs at start and on the configured schedule, logging each run's figures.
pub async fn run(state: AppState) {
    let interval = state.config.release_retention_interval_secs;
    loop {
        match run_once(&state, now_ms()).await {
            Ok(r) => tracing::info!(
                binned = r.binned,
                deleted = r.deleted,
                freed_bytes = r.freed_bytes,
                "release retention run finished"
            ),
            Err(e) => {
                tracing::warn!(error = ?e, "release retention run failed; the next one retries")
            }
        }
        if interval == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_secs(interval)).await;
    }
}
