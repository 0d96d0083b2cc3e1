//! What makes a console request that changes state the user's own: the request must come from a page of
//! this server (`Origin`, or `Sec-Fetch-Site` where a browser sends no `Origin`) and carry the session's
//! CSRF token (form field `csrf` or header `X-CSRF-Token`), which only this server's pages hold. Every
//! console handler that changes state takes `Signed<T>`, so none can forget the check.

use std::collections::HashMap;

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use super::session::Session;
use super::views::error_page;
use crate::http::app::AppState;
use crate::http::error::ApiError;

/// Refuses a request another site's page sent. A request without `Origin` and `Sec-Fetch-Site` is not a
/// browser's (the CSRF token still applies to it).
pub fn same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = || ApiError::forbidden("Cross-site console requests are refused");
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| refused())?;
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let authority = origin.split_once("://").map(|(_, rest)| rest);
        let public = state.config.public_url.as_str();
        let matches_public = !public.is_empty() && public_origin(public) == origin;
        if matches_public || (!host.is_empty() && authority == Some(host)) {
            return Ok(());
        }
        return Err(refused());
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        None | Some("same-origin") | Some("none") => Ok(()),
        Some(_) => Err(refused()),
    }
}

/// `scheme://host[:port]` of the configured public URL.
fn public_origin(url: &str) -> &str {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let end = scheme.len() + 3 + rest.find('/').unwrap_or(rest.len());
            &url[..end]
        }
        None => url,
    }
}

fn token_matches(expected: &str, presented: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
}

/// A state-changing console request: its session, checked against CSRF, and its form fields.
pub struct Signed<T> {
    pub session: Session,
    pub form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Signed<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        same_origin(state, &parts.headers).map_err(error_page)?;
        let header_token = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let Form(mut fields) =
            Form::<HashMap<String, String>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(|_| error_page(ApiError::invalid("body", "is not a form")))?;
        let presented = fields.remove("csrf").or(header_token).unwrap_or_default();
        if !token_matches(&session.csrf, &presented) {
            return Err(error_page(ApiError::forbidden(
                "The request does not carry this session's CSRF token; reload the page and try again",
            )));
        }
        let value = serde_json::to_value(fields).unwrap_or_default();
        let form = serde_json::from_value(value)
            .map_err(|e| error_page(ApiError::invalid("body", e.to_string())))?;
        Ok(Signed { session, form })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_origins() {
        assert_eq!(
            public_origin("https://arca.example:8443/base"),
            "https://arca.example:8443"
        );
        assert_eq!(public_origin("http://h"), "http://h");
    }

    #[test]
    fn tokens_match_exactly() {
        assert!(token_matches("abc", "abc"));
        assert!(!token_matches("abc", "abd"));
        assert!(!token_matches("abc", "ab"));
        assert!(!token_matches("", ""));
    }
}
