//! Capacity notices: after every release upload (and every retention run) the account's stored bytes
//! are compared with its threshold; crossing it upwards records one notice (a row and a log line), and
//! falling back below re-arms it. Mail, SMS and webhooks are not sent.

use crate::http::app::AppState;
use crate::service::release::is_over;
use crate::store::audit::{self, AuditEntry};
use crate::store::release_settings::{self, Capacity};
use crate::store::{now_ms, release, Conn, StoreResult};

/// The capacity an account without settings has: 500 GiB, CodeArts' usual plan.
pub const DEFAULT_TOTAL_BYTES: i64 = 500 * 1024 * 1024 * 1024;
/// The threshold an account without settings has, in percent.
pub const DEFAULT_THRESHOLD: i64 = 80;

pub fn defaults() -> Capacity {
    Capacity {
        threshold_percent: DEFAULT_THRESHOLD,
        message_type: 0,
        mail: false,
        sms: false,
        total_bytes: DEFAULT_TOTAL_BYTES,
        above: false,
    }
}

pub fn total_of(conn: &Conn, domain_id: &str) -> StoreResult<i64> {
    Ok(release_settings::get_capacity(conn, domain_id)?
        .map(|c| c.total_bytes)
        .unwrap_or(DEFAULT_TOTAL_BYTES))
}

/// A recorded crossing: `(used, total, threshold)`.
type Crossing = (i64, i64, i64);

/// Compares usage with the threshold and records a crossing; never fails the request that called it.
pub async fn check(state: &AppState, domain_id: &str) {
    let domain = domain_id.to_string();
    let outcome = state
        .db
        .call(move |conn| -> StoreResult<Option<Crossing>> {
            let Some(settings) = release_settings::get_capacity(conn, &domain)? else {
                return Ok(None);
            };
            let (_, used) = release::domain_usage(conn, &domain)?;
            let over = is_over(used, settings.total_bytes, settings.threshold_percent);
            let tx = conn.transaction()?;
            let crossed = release_settings::set_above(&tx, &domain, over)? && over;
            if crossed {
                release_settings::record_notice(
                    &tx,
                    &domain,
                    used,
                    settings.total_bytes,
                    settings.threshold_percent,
                    now_ms(),
                )?;
                let info = format!(
                    "release storage {used} of {} bytes crossed {}%",
                    settings.total_bytes, settings.threshold_percent
                );
                audit::record(
                    &tx,
                    &AuditEntry::by_arca(&domain, "", "release", "capacityNotice", info),
                )?;
            }
            tx.commit()?;
            Ok(crossed.then_some((used, settings.total_bytes, settings.threshold_percent)))
        })
        .await;
    match outcome {
        Ok(Some((used, total, threshold))) => {
            tracing::warn!(
                domain_id,
                used_bytes = used,
                total_bytes = total,
                threshold_percent = threshold,
                "release repository storage crossed the capacity threshold"
            );
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = ?e, "capacity check failed"),
    }
}
