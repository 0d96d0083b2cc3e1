//! The audit log's retention: entries older than `audit_retention_days` are deleted at start and then
//! hourly (README "Audit log"). Idempotent, so several nodes pruning at once only repeat each other.

use std::time::Duration;

use crate::http::app::AppState;
use crate::store::audit;
use crate::store::now_ms;

/// Rows deleted per statement, so the write lock is held only briefly at a time.
const BATCH: i64 = 5_000;
const INTERVAL: Duration = Duration::from_secs(3600);
const DAY_MS: i64 = 86_400_000;

/// Deletes what is past retention; answers how many entries went.
pub async fn prune_once(state: &AppState) -> Result<usize, crate::store::StoreError> {
    let days = state.config.audit_retention_days;
    if days == 0 {
        return Ok(0);
    }
    let before = now_ms().saturating_sub(i64::try_from(days).unwrap_or(i64::MAX / DAY_MS) * DAY_MS);
    let mut total = 0;
    loop {
        let gone = state
            .db
            .call(move |conn| audit::prune(conn, before, BATCH))
            .await?;
        total += gone;
        if gone < BATCH as usize {
            return Ok(total);
        }
    }
}

/// Prunes at start and every hour after, logging what went.
pub async fn run(state: AppState) {
    loop {
        match prune_once(&state).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "audit log pruned"),
            Err(e) => tracing::warn!(error = %e, "audit log pruning failed; the next run retries"),
        }
        tokio::time::sleep(INTERVAL).await;
    }
}
