//! The HTTP layer: the only part of arca that knows axum. One module per API group; handlers are thin
//! and delegate to `store` and `authz`.

pub mod app;
pub mod artifact;
pub mod audit;
pub mod auth_limit;
pub mod authn;
pub mod blob_sweep;
pub mod console;
pub mod envelope;
pub mod error;
pub mod extract;
pub mod iam;
pub mod ip_allow;
pub mod limits;
pub mod metrics;
pub mod observe;
pub mod oci_gc;
pub mod openapi;
pub mod payload;
pub mod projectman;
pub mod protocols;
pub mod release;
pub mod sec_guard;
pub mod storage;
pub mod trace;
pub mod urls;
