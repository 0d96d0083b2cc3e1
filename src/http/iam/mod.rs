//! The iam API group.

use axum::Router;

use super::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}

/// Routes that need no authentication (obtaining a token).
pub fn public_router() -> Router<AppState> {
    Router::new()
}
