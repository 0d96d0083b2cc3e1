//! `GET /metrics` in the Prometheus text format, for operators: off unless `metrics_token` is set, and
//! then only for a caller presenting it as a bearer token (the figures say how busy and how big the
//! service is, which is not for anonymous eyes).
//!
//! The process gauges are read at scrape time. The heap figures are the allocator's own (jemalloc serves
//! every allocation in the process, SQLite's included), so a growth in RSS can be told apart from a
//! growth in what the program holds: `allocated` is live data, `resident` what the allocator keeps in RAM.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use subtle::ConstantTimeEq;

use super::app::AppState;
use super::error::ApiError;
use crate::store::Db;

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub fn registry(db: &Db) -> Registry {
    let mut registry = Registry::with_prefix("arca");
    registry.register_collector(Box::new(ProcessCollector { db: db.clone() }));
    crate::telemetry::register(&mut registry);
    registry
}

pub async fn serve(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let token = state.config.metrics_token.as_bytes();
    if token.is_empty() {
        return Err(ApiError::NoRoute {
            method: request.method().to_string(),
            path: request.uri().path().to_string(),
        });
    }
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !bool::from(presented.as_bytes().ct_eq(token)) {
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer realm=\"arca metrics\"")],
            "metrics_token required as a bearer token\n",
        )
            .into_response());
    }
    refresh_blob_totals(&state.db).await;
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &state.metrics)
        .map_err(|_| ApiError::Internal("metrics encoding failed".into()))?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response())
}

struct ProcessCollector {
    db: Db,
}

impl std::fmt::Debug for ProcessCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProcessCollector")
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let mut gauge = |name: &str, help: &str, unit: Option<&Unit>, value: i64| {
            let metric = encoder.encode_descriptor(name, help, unit, MetricType::Gauge)?;
            ConstGauge::new(value).encode(metric)
        };
        if let Some(heap) = heap_stats() {
            gauge(
                "heap_allocated",
                "Bytes the program holds in live allocations",
                Some(&Unit::Bytes),
                heap.allocated,
            )?;
            gauge(
                "heap_resident",
                "Bytes of RAM the allocator keeps mapped and touched",
                Some(&Unit::Bytes),
                heap.resident,
            )?;
            gauge(
                "heap_active",
                "Bytes in pages the allocator has handed out (live data, fragmentation, thread caches)",
                Some(&Unit::Bytes),
                heap.active,
            )?;
            gauge(
                "heap_metadata",
                "Bytes of the allocator's own bookkeeping",
                Some(&Unit::Bytes),
                heap.metadata,
            )?;
            gauge(
                "heap_retained",
                "Bytes the allocator has returned to the kernel but keeps as address space",
                Some(&Unit::Bytes),
                heap.retained,
            )?;
        }
        if let Some(rss) = resident_set_bytes() {
            gauge(
                "process_resident_memory",
                "Resident set size of the process",
                Some(&Unit::Bytes),
                rss,
            )?;
        }
        if let Some(fds) = open_descriptors() {
            gauge("process_open_fds", "Open file descriptors", None, fds)?;
        }
        let (connections, idle) = self.db.pool_state();
        gauge(
            "db_pool_connections",
            "Database connections the pool holds",
            None,
            connections.into(),
        )?;
        gauge(
            "db_pool_idle_connections",
            "Database connections idle in the pool",
            None,
            idle.into(),
        )?;
        Ok(())
    }
}

struct HeapStats {
    allocated: i64,
    active: i64,
    metadata: i64,
    resident: i64,
    retained: i64,
}

fn heap_stats() -> Option<HeapStats> {
    use tikv_jemalloc_ctl::{epoch, stats};
    // The statistics are a snapshot refreshed only when the epoch advances.
    epoch::advance().ok()?;
    let read = |v: Result<usize, _>| v.ok().and_then(|v| i64::try_from(v).ok());
    Some(HeapStats {
        allocated: read(stats::allocated::read())?,
        active: read(stats::active::read())?,
        metadata: read(stats::metadata::read())?,
        resident: read(stats::resident::read())?,
        retained: read(stats::retained::read())?,
    })
}

fn resident_set_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: i64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

fn open_descriptors() -> Option<i64> {
    let count = std::fs::read_dir("/proc/self/fd").ok()?.count();
    // The directory handle read_dir opened is one of them.
    i64::try_from(count.saturating_sub(1)).ok()
}

/// How long a reading of the blobs table serves scrapes: summing it is a scan, and several Prometheus
/// servers (or an impatient operator) may scrape at once.
const BLOB_TOTALS_TTL: std::time::Duration = std::time::Duration::from_secs(5);

static BLOB_TOTALS_READ: std::sync::Mutex<Option<std::time::Instant>> = std::sync::Mutex::new(None);

async fn refresh_blob_totals(db: &Db) {
    {
        let mut last = BLOB_TOTALS_READ.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|at| at.elapsed() < BLOB_TOTALS_TTL) {
            return;
        }
        // Claimed before the read, so concurrent scrapes do not all scan.
        *last = Some(std::time::Instant::now());
    }
    let totals = db
        .call(|conn| {
            conn.query_row(
                "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs",
                crate::params![],
                |r| Ok((r.get::<i64>(0)?, r.get::<i64>(1)?)),
            )
        })
        .await;
    match totals {
        Ok((count, bytes)) => {
            crate::telemetry::METRICS.blob_count.set(count);
            crate::telemetry::METRICS.blob_bytes.set(bytes);
        }
        Err(e) => tracing::warn!(error = %e, "metrics: could not read the blob totals"),
    }
}
