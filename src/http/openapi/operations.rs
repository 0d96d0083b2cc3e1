//! The operations endpoints: health, metrics and this document. They answer in shapes of their own, not
//! the management API's error envelope.

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

/// Paths outside the management API's error conventions.
pub const PATHS: [&str; 3] = ["/health", "/metrics", "/openapi.json"];

#[derive(OpenApi)]
#[openapi(paths(health, metrics, open_api))]
pub struct Doc;

#[utoipa::path(get, path = "/health", operation_id = "Health", tag = "operations",
    summary = "Whether this node can serve (for a load balancer); no credentials",
    responses((status = 200, description = "the node can serve", body = Healthy),
        (status = 503, description = "the database or the blob store is unreachable", body = Unhealthy)))]
fn health() {}

#[utoipa::path(get, path = "/metrics", operation_id = "Metrics", tag = "operations",
    summary = "Prometheus metrics; off (404) unless `metrics_token` is configured, then for that bearer token only",
    params(("Authorization" = String, Header, description = "`Bearer <metrics_token>`")),
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String),
        (status = 401, description = "no or another token", content_type = "text/plain", body = String),
        (status = 404, description = "metrics are off", body = super::ErrorAnswer)))]
fn metrics() {}

#[utoipa::path(get, path = "/openapi.json", operation_id = "OpenApi", tag = "operations",
    summary = "This document; no credentials",
    responses((status = 200, description = "an OpenAPI 3.1 document", body = serde_json::Value)))]
fn open_api() {}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Healthy {
    /// `ok`.
    status: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Unhealthy {
    /// `unavailable`.
    status: String,
    /// `unreachable` or `timeout`, when the database is the problem.
    database: Option<String>,
    /// `refused`, `no_bucket` or `unreachable`, when the blob store is the problem.
    blob_store: Option<String>,
}
