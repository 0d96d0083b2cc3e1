//! Console sessions: a random cookie value (kept server-side only as its hash), `HttpOnly` so no script
//! reads it, `SameSite=Strict` so no other site's page sends it, expiring with the token lifetime, and
//! deleted at sign-out so a copied cookie dies with it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Redirect, Response};

use super::views::error_page;
use crate::auth::{token, Credential, Principal};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::store::{console_sessions, identity, now_ms};

pub const SESSION_COOKIE: &str = "arca_session";

/// A signed-in browser: who it is and the token its state-changing requests must carry.
pub struct Session {
    pub principal: Principal,
    pub csrf: String,
    /// Whether the console shows the Administration link (`admin::visible`).
    pub admin: bool,
    hash: String,
}

impl Session {
    /// Ends the session for good: the cookie's value opens nothing afterwards.
    pub async fn revoke(self, state: &AppState) -> Result<(), ApiError> {
        let hash = self.hash;
        state
            .db
            .call(move |conn| console_sessions::delete(conn, &hash))
            .await?;
        Ok(())
    }
}

/// The session cookie's value, if the request carries one.
fn presented(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| token::is_plausible(v))
}

/// The live session of a request, or `None` without one (no cookie, unknown, expired, user disabled).
/// The account's IP allow-list applies to sessions as to every other credential.
pub async fn load(state: &AppState, parts: &Parts) -> Result<Option<Session>, ApiError> {
    let Some(value) = presented(&parts.headers) else {
        return Ok(None);
    };
    let hash = token::token_hash(&value);
    let lookup = hash.clone();
    let found = state
        .db
        .call(move |conn| {
            let Some(session) = console_sessions::find(conn, &lookup, now_ms())? else {
                return Ok(None);
            };
            Ok(identity::get_user(conn, &session.user_id)?.map(|u| (session, u)))
        })
        .await?;
    let Some((session, user)) = found.filter(|(_, u)| u.enabled) else {
        return Ok(None);
    };
    let principal = Principal {
        user_id: user.id,
        user_name: user.name,
        domain_id: user.domain_id,
        is_root: user.is_root,
        // A session is a domain-scoped sign-in: it grants what a domain-scoped token of the user grants.
        credential: Credential::Token { project_id: None },
    };
    crate::http::audit::note_principal(&principal);
    crate::http::ip_allow::check_parts(state, &principal.domain_id, parts).await?;
    let admin = super::admin::visible(state, &principal).await?;
    Ok(Some(Session {
        admin,
        principal,
        csrf: session.csrf_token,
        hash,
    }))
}

/// Starts a session for `user_id`: answers the cookie's value and the session's CSRF token.
pub async fn start(state: &AppState, user_id: String) -> Result<(String, String), ApiError> {
    let value = token::new_token();
    let csrf = crate::domain::random_alnum(43);
    let hash = token::token_hash(&value);
    let now = now_ms();
    let lifetime_ms = i64::try_from(state.config.token_lifetime_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let csrf_row = csrf.clone();
    state
        .db
        .call(move |conn| {
            console_sessions::insert(
                conn,
                &hash,
                &csrf_row,
                &user_id,
                now,
                now.saturating_add(lifetime_ms),
            )
        })
        .await?;
    Ok((value, csrf))
}

/// `Set-Cookie` for a new session's value (`None`: the header that removes it).
pub fn cookie(state: &AppState, value: Option<&str>) -> String {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    match value {
        Some(v) => format!(
            "{SESSION_COOKIE}={v}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
            state.config.token_lifetime_secs
        ),
        None => format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}"),
    }
}

impl FromRequestParts<AppState> for Session {
    type Rejection = Response;

    /// Pages need a session: a browser without one is sent to the sign-in form.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match load(state, parts).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) if parts.method == axum::http::Method::GET => {
                Err(Redirect::to("/").into_response())
            }
            Ok(None) => Err(error_page(ApiError::Unauthenticated(
                "no console session; sign in again",
            ))),
            Err(e) => Err(error_page(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "a=1; arca_session=MIIabc; b=2".parse().unwrap(),
        );
        assert_eq!(presented(&headers).as_deref(), Some("MIIabc"));
        headers.insert(header::COOKIE, "arca_sessionx=1".parse().unwrap());
        assert_eq!(presented(&headers), None);
    }
}
