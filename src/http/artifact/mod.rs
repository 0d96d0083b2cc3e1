//! The CodeArts Artifact management API: tickets (seeds 000/001), privileges (seed 002) and
//! self-hosted repository users (seed 003).

pub mod privileges;
mod tickets;
mod users;

use axum::routing::{delete, get, put};
use axum::Router;

use super::app::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cloudartifact/v5/ticket", get(tickets::issue_own))
        .route(
            "/v1/{project_id}/tickets",
            get(tickets::list).post(tickets::create),
        )
        .route("/v1/{project_id}/tickets/{ticket}", delete(tickets::revoke))
        .route(
            "/cloudartifact/v3/user/{project_id}/privileges",
            get(privileges::show_v3),
        )
        .route("/v5/user/{project_id}/privileges", get(privileges::show_v5))
        .route("/cloudartifact/v5/repositories/users", get(users::list))
        .route(
            "/cloudartifact/v5/repositories/{role_id}/privileges",
            put(privileges::update_role_grants),
        )
}
