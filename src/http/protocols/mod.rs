//! Package protocols under `/artifactory/`: what package-manager clients speak. Each request is
//! authenticated and authorized in `access`, then served by the format's handler.

// The formats' request parsers are public for the fuzz targets (fuzz/), which drive them without a
// server; the handlers are reached through `router` only.
pub(crate) mod access;
pub mod cargo;
mod cargo_remote;
mod cargo_virtual;
mod documents;
pub(crate) mod download;
pub mod go;
mod go_publish;
mod go_remote;
mod go_virtual;
mod hosted;
pub mod hot_reads;
mod members;
pub mod npm;
mod npm_remote;
mod npm_virtual;
mod oci;
mod oci_blobs;
mod oci_manifests;
mod oci_remote;
mod oci_token;
mod oci_virtual;
pub mod pypi;
pub mod pypi_form;
mod pypi_json;
mod pypi_remote;
mod pypi_virtual;
mod remote;
mod virtual_repo;

use axum::extract::DefaultBodyLimit;
use axum::routing::any;
use axum::Router;

use super::app::AppState;
use super::payload;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/artifactory/{repo}", any(hosted::handle))
        .route("/artifactory/{repo}/", any(hosted::handle))
        .route("/artifactory/{repo}/{*path}", any(hosted::handle))
        .merge(
            Router::new()
                .route("/artifactory/api/pypi/{repo}", any(pypi::handle))
                .route("/artifactory/api/pypi/{repo}/", any(pypi::handle))
                .route("/artifactory/api/pypi/{repo}/{*path}", any(pypi::handle))
                .route("/artifactory/api/cargo/{repo}/{*path}", any(cargo::handle))
                .route("/artifactory/api/npm/{repo}/{*path}", any(npm::handle))
                .route("/artifactory/api/go/{repo}/{*path}", any(go::handle))
                // Container images (OCI Distribution); blob uploads stream like the others.
                .route("/v2", any(oci::handle))
                .route("/v2/", any(oci::handle))
                .route("/v2/token", any(oci::handle))
                // The release API's `/v2/{project_id}/release/files` shares the prefix, and matchit wants
                // one parameter name per position: the first component of an image name takes its name.
                .route("/v2/{project_id}/{*path}", any(oci::handle))
                // Uploads stream into the blob store, which enforces its own size limit.
                .layer(DefaultBodyLimit::disable()),
        )
        .layer(axum::middleware::from_fn(payload::guard))
}
