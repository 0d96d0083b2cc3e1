#![recursion_limit = "256"]
//! arca: a self-hosted artifact repository whose management API is wire-compatible with Huawei Cloud
//! CodeArts Artifact. See docs/ARCHITECTURE.md for the layout.

pub mod auth;
pub mod authz;
pub mod blob;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod domain;
pub mod formats;
pub mod http;
pub mod low_priority;
pub mod migrate;
pub mod server;
pub mod service;
pub mod storage_fault;
pub mod store;
pub mod telemetry;
pub mod upstream;
