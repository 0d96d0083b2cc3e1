//! The rules between the HTTP layer and the store: what a request may change and how, decided once
//! for every API that changes it.

pub mod documents;
pub mod npm_remote;
pub mod registry_auth;
pub mod release;
pub mod remote_fetch;
pub mod repo_kinds;
pub mod ticket_uses;
pub mod upstreams;
