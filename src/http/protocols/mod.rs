//! Package protocols under `/artifactory/`: what package-manager clients speak. Each request is
//! authenticated and authorized in `access`, then served by the format's handler.

mod access;
mod download;
mod hosted;

use axum::routing::any;
use axum::Router;

use super::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/artifactory/{repo}", any(hosted::handle))
        .route("/artifactory/{repo}/", any(hosted::handle))
        .route("/artifactory/{repo}/{*path}", any(hosted::handle))
}
