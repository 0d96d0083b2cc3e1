//! Trace ids: one per request, in the `X-Request-Id` header of every answer, in the envelopes and in
//! every log line of the request.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

tokio::task_local! {
    static TRACE_ID: String;
}

/// The trace id of the request being served (empty outside one).
pub fn current_trace_id() -> String {
    TRACE_ID.try_with(Clone::clone).unwrap_or_default()
}

pub async fn assign_trace_id(request: Request, next: Next) -> Response {
    let trace_id = crate::domain::new_hex_id();
    let span = tracing::info_span!(
        "request",
        trace_id = %trace_id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = std::time::Instant::now();
    let mut response = TRACE_ID
        .scope(trace_id.clone(), next.run(request).instrument(span.clone()))
        .await;
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        )
    });
    response.headers_mut().insert(
        "x-request-id",
        HeaderValue::from_str(&trace_id).expect("hex is a valid header value"),
    );
    response
}
