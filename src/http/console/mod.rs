//! The web console (issue 14): server-rendered pages under `/` and `/ui/...`, templates compiled into the
//! binary (askama, `templates/console/`), one stylesheet and one small script embedded with `include_str!`.
//!
//! A console request is authenticated by a session cookie (`session`), and every state-changing one by
//! the session's CSRF token and a same-origin check (`csrf`). The pages do their work by calling the
//! management API's own handlers with the session's principal, so the console can do exactly what the
//! API lets the same user do, through the same privilege engine.

mod admin;
mod csrf;
mod markdown;
mod me;
mod package_data;
mod packages;
mod pages;
mod search;
mod session;
mod views;
// Storage, following, access keys, repository settings and deleted files (issue 14, second slice).
mod bin_files;
mod follow;
mod keys;
mod repo_edit;
mod storage;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::app::AppState;

pub use session::SESSION_COOKIE;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(pages::home))
        .route("/ui", get(pages::home))
        .route("/ui/sign-in", post(pages::sign_in))
        .route("/ui/sign-out", post(pages::sign_out))
        .route(
            "/ui/repositories",
            get(pages::repositories).post(pages::create_repository),
        )
        .route("/ui/repositories/delete", post(pages::delete_repository))
        .route("/ui/repositories/restore", post(pages::restore_repository))
        .route("/ui/browse/{project}/{repo}", get(pages::browse))
        .route("/ui/me", get(me::show))
        .route("/ui/me/repo-password", post(me::reset_repo_password))
        .route("/ui/me/tickets", post(me::issue_ticket))
        .route("/ui/me/tickets/revoke", post(me::revoke_ticket))
        // Package pages and search (packages.rs, search.rs).
        .route("/ui/packages/{repo}/{*package}", get(packages::show))
        .route("/ui/search", get(search::show))
        .merge(admin::router())
        // Storage, following, access keys, repository settings and deleted files.
        .route("/ui/storage", get(storage::show))
        .route("/ui/followed", get(follow::followed))
        .route("/ui/follow", post(follow::follow))
        .route("/ui/me/keys", post(keys::create))
        .route("/ui/me/keys/status", post(keys::set_status))
        .route("/ui/me/keys/delete", post(keys::delete))
        .route(
            "/ui/repositories/edit",
            get(repo_edit::show).post(repo_edit::save),
        )
        .route("/ui/files/delete", post(bin_files::delete))
        .route("/ui/files/restore", post(bin_files::restore))
        .route("/ui/assets/console.css", get(css))
        .route("/ui/assets/console.js", get(js))
        .layer(middleware::from_fn(security_headers))
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Nothing but the binary's own files may run or be loaded (a page that somehow echoed hostile markup
/// could still run no script), no page may be framed, and pages that show a user's data are not cached.
async fn security_headers(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/ui/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !is_asset {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
