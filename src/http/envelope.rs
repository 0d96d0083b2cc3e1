//! Success envelopes. Each endpoint keeps its own spelling of the trace id field, as its seed or SDK
//! model has it (SPEC §3).

use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};

use super::trace::current_trace_id;

/// `{"status": "success", "trace_id": ..., "result": ...}`.
pub fn success<T: Serialize>(result: T) -> Json<Value> {
    Json(json!({"status": "success", "trace_id": current_trace_id(), "result": result}))
}

/// `{"status": "success", "traceId": ..., "result": ...}` (seed 002's spelling).
pub fn success_camel<T: Serialize>(result: T) -> Json<Value> {
    Json(json!({"status": "success", "traceId": current_trace_id(), "result": result}))
}
