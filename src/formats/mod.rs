//! Package formats: pure protocol logic (no axum, no I/O), unit-tested alone. The HTTP layer feeds them
//! what the store holds and writes out what they answer.

pub mod cargo;
pub mod go;
pub mod go_upstream;
pub mod json_budget;
pub mod listing;
pub mod maven;
pub mod npm;
pub mod npm_merge;
pub mod npm_upstream;
pub mod oci;
pub mod pypi;
pub mod pypi_json;
pub mod pypi_upstream;
pub mod scan;
pub mod wheel;
