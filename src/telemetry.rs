//! The service's counters and histograms, process-wide: what happens (requests, uploads, ticket uses,
//! failed logins, waits for a database connection) is recorded where it happens, in whichever layer
//! that is (the store, the authentication layer, a format's handler), without threading a handle
//! through every call. `GET /metrics` (src/http/metrics.rs) registers these families and encodes them.
//!
//! Every label takes its values from a small fixed set (API groups, formats, methods, status classes,
//! route templates): never a raw path, a repository or a user, which would grow without bound.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub group: &'static str,
    pub route: String,
    pub method: &'static str,
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GroupLabel {
    pub group: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FormatLabel {
    pub format: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    pub reason: &'static str,
}

type HistogramFamily = Family<GroupLabel, Histogram, fn() -> Histogram>;

pub struct Telemetry {
    pub requests: Family<RequestLabels, Counter>,
    pub latency: HistogramFamily,
    pub bytes_in: Family<GroupLabel, Counter>,
    pub bytes_out: Family<GroupLabel, Counter>,
    pub uploads: Family<FormatLabel, Counter>,
    pub publishes: Family<FormatLabel, Counter>,
    pub ticket_uses: Counter,
    pub ticket_refusals: Family<ReasonLabel, Counter>,
    pub auth_failures: Family<ReasonLabel, Counter>,
    pub pool_wait: Histogram,
    pub blob_count: Gauge,
    pub blob_bytes: Gauge,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~33 s: metadata calls sit at the low end, large uploads at the high end.
    Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.001, 2.0, 16,
    ))
}

pub static METRICS: LazyLock<Telemetry> = LazyLock::new(|| Telemetry {
    requests: Family::default(),
    latency: Family::new_with_constructor(latency_histogram),
    bytes_in: Family::default(),
    bytes_out: Family::default(),
    uploads: Family::default(),
    publishes: Family::default(),
    ticket_uses: Counter::default(),
    ticket_refusals: Family::default(),
    auth_failures: Family::default(),
    // 10 µs to ~5 s: an idle pool answers in microseconds, a starved one in pool-timeout seconds.
    pool_wait: Histogram::new(prometheus_client::metrics::histogram::exponential_buckets(
        0.00001, 4.0, 10,
    )),
    blob_count: Gauge::default(),
    blob_bytes: Gauge::default(),
});

/// Adds the families to `registry` (each registry shares the same process-wide values).
pub fn register(registry: &mut Registry) {
    let m = &*METRICS;
    registry.register(
        "http_requests",
        "Requests answered, by API group, route template, method and status class",
        m.requests.clone(),
    );
    registry.register_with_unit(
        "http_request_duration",
        "Time from a request's arrival to its answer's headers, by API group",
        Unit::Seconds,
        m.latency.clone(),
    );
    registry.register_with_unit(
        "http_request_body",
        "Request body bytes read, by API group",
        Unit::Bytes,
        m.bytes_in.clone(),
    );
    registry.register_with_unit(
        "http_response_body",
        "Response body bytes sent, by API group",
        Unit::Bytes,
        m.bytes_out.clone(),
    );
    registry.register(
        "uploads",
        "Files stored by an upload, by repository format",
        m.uploads.clone(),
    );
    registry.register(
        "publishes",
        "Package versions published (npm publish, cargo publish), by format",
        m.publishes.clone(),
    );
    registry.register("ticket_uses", "Ticket uses taken", m.ticket_uses.clone());
    registry.register(
        "ticket_refusals",
        "Tickets refused, by reason",
        m.ticket_refusals.clone(),
    );
    registry.register(
        "auth_failures",
        "Failed authentications with a credential presented (rejected), and attempts refused by the failure limit (rate_limited)",
        m.auth_failures.clone(),
    );
    registry.register_with_unit(
        "db_pool_wait",
        "Time spent waiting for a database connection from the pool",
        Unit::Seconds,
        m.pool_wait.clone(),
    );
    registry.register(
        "blob_store_blobs",
        "Blobs recorded in the blobs table (refreshed at most every few seconds)",
        m.blob_count.clone(),
    );
    registry.register_with_unit(
        "blob_store_size",
        "Bytes of the blobs recorded in the blobs table (refreshed at most every few seconds)",
        Unit::Bytes,
        m.blob_bytes.clone(),
    );
}

pub fn record_upload(format: &str) {
    METRICS
        .uploads
        .get_or_create(&FormatLabel {
            format: format.to_string(),
        })
        .inc();
}

pub fn record_publish(format: &str) {
    METRICS
        .publishes
        .get_or_create(&FormatLabel {
            format: format.to_string(),
        })
        .inc();
}

pub fn record_ticket_refusal(reason: &'static str) {
    METRICS
        .ticket_refusals
        .get_or_create(&ReasonLabel { reason })
        .inc();
}

pub fn record_auth_failure(reason: &'static str) {
    METRICS
        .auth_failures
        .get_or_create(&ReasonLabel { reason })
        .inc();
}
