//! The projectman API group.

use axum::Router;

use super::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
