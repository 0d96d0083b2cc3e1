//! The token handshake of container registries, for remote `docker2` repositories. A registry asked
//! without credentials answers `401` with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`; the
//! client GETs the realm with `service` and `scope` (Basic with the configured credentials, if any) and
//! sends the token it answers as `Authorization: Bearer`. A `Basic` challenge is answered with the
//! configured credentials. Tokens are kept per repository and scope until shortly before they expire,
//! a `Basic` challenge for an hour (the credentials then go with the first request). An anonymous 404
//! is asked again with the configured credentials before it is believed (some registries hide private
//! images so). A token is a secret: it is never logged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::upstream::{Credentials, StatusCode, Upstream, UpstreamError, UpstreamRequest, Url};

/// A token's life when the registry does not say (the distribution spec's default).
const DEFAULT_EXPIRES_IN: u64 = 60;
/// A token is given up this long before it expires, so it does not run out in flight.
const MARGIN: Duration = Duration::from_secs(10);
/// A token answer larger than this is refused.
const MAX_TOKEN_ANSWER: u64 = 64 * 1024;

/// What a `401` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

/// Parses a `WWW-Authenticate` value (one challenge; its parameters quoted or not).
pub fn parse_challenge(value: &str) -> Option<Challenge> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        return Some(Challenge::Basic);
    }
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let params = parse_params(rest);
    let get = |k: &str| {
        params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    Some(Challenge::Bearer {
        realm: get("realm")?,
        service: get("service"),
        scope: get("scope"),
    })
}

/// `k="v",k2=v2` (a quoted value may hold commas, and `\"`).
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' {
                break;
            }
            name.push(c);
            chars.next();
        }
        if chars.next().is_none() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((name.trim().to_string(), value.trim().to_string()));
    }
}

/// A token answer: `token` or `access_token`, and `expires_in` seconds.
pub fn parse_token_answer(bytes: &[u8]) -> Option<(String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let token = v
        .get("token")
        .or_else(|| v.get("access_token"))?
        .as_str()?
        .to_string();
    let printable = !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic());
    let expires_in = v
        .get("expires_in")
        .and_then(|e| e.as_u64())
        .unwrap_or(DEFAULT_EXPIRES_IN)
        .max(DEFAULT_EXPIRES_IN);
    printable.then_some((token, expires_in))
}

/// A repository id and a scope.
type TokenKey = (String, String);

/// How an upstream was last answered for a scope.
#[derive(Clone, PartialEq, Eq)]
pub enum Kept {
    /// A token of its realm.
    Bearer(String),
    /// Its `Basic` challenge: the configured credentials go with the first request.
    Basic,
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kept::Bearer(_) => f.write_str("Bearer(<redacted>)"),
            Kept::Basic => f.write_str("Basic"),
        }
    }
}

/// How long a `Basic` challenge is remembered.
const BASIC_KEPT_SECS: u64 = 3600;

/// Tokens by repository id and scope, each with when it is given up. Cheap to clone.
#[derive(Clone, Default)]
pub struct Tokens {
    kept: Arc<Mutex<HashMap<TokenKey, (Kept, Instant)>>>,
}

impl Tokens {
    pub fn get(&self, repo_id: &str, scope: &str) -> Option<Kept> {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let key = (repo_id.to_string(), scope.to_string());
        match kept.get(&key) {
            Some((token, until)) if Instant::now() < *until => Some(token.clone()),
            Some(_) => {
                kept.remove(&key);
                None
            }
            None => None,
        }
    }

    fn put(&self, repo_id: &str, scope: &str, token: Kept, expires_in: u64) {
        let until = Instant::now() + Duration::from_secs(expires_in).saturating_sub(MARGIN);
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        // Expired ones go when the map grows; a registry rarely hands out many scopes.
        if kept.len() > 10_000 {
            let now = Instant::now();
            kept.retain(|_, (_, u)| *u > now);
        }
        kept.insert((repo_id.to_string(), scope.to_string()), (token, until));
    }

    pub fn forget(&self, repo_id: &str, scope: &str) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.remove(&(repo_id.to_string(), scope.to_string()));
    }
}

/// GETs `request` from a registry: with the kept token for `scope`, else without credentials; a `401`
/// is answered as its challenge asks, once.
pub async fn get(
    upstream: &Upstream,
    tokens: &Tokens,
    repo_id: &str,
    scope: &str,
    request: UpstreamRequest,
) -> Result<crate::upstream::UpstreamResponse, UpstreamError> {
    let credentials = request.credentials_of();
    let kept = tokens.get(repo_id, scope);
    let first = match &kept {
        Some(Kept::Bearer(token)) => request.clone().bearer(token.clone()),
        Some(Kept::Basic) => request.clone(),
        None => request.clone().without_credentials(),
    };
    let mut response = upstream.get(first).await?;
    if kept.is_none() && response.status == StatusCode::NOT_FOUND && request.has_credentials() {
        // Some registries hide a private image from an anonymous request behind a 404, not a 401:
        // with credentials configured, they are offered once before the 404 is believed.
        response = upstream.get(request.clone()).await?;
        if response.status == StatusCode::OK {
            tokens.put(repo_id, scope, Kept::Basic, BASIC_KEPT_SECS);
        }
    }
    if response.status != StatusCode::UNAUTHORIZED {
        return Ok(response);
    }
    tokens.forget(repo_id, scope);
    let challenge = response
        .www_authenticate
        .as_deref()
        .and_then(parse_challenge);
    match challenge {
        Some(Challenge::Bearer {
            realm,
            service,
            scope: asked,
        }) => {
            let scope_sent = asked.unwrap_or_else(|| scope.to_string());
            let (token, expires_in) = fetch_token(
                upstream,
                &realm,
                service.as_deref(),
                &scope_sent,
                credentials,
                response.host(),
            )
            .await?;
            tokens.put(repo_id, scope, Kept::Bearer(token.clone()), expires_in);
            upstream.get(request.bearer(token)).await
        }
        Some(Challenge::Basic) if request.has_credentials() => {
            tokens.put(repo_id, scope, Kept::Basic, BASIC_KEPT_SECS);
            upstream.get(request).await
        }
        _ => Ok(response),
    }
}

async fn fetch_token(
    upstream: &Upstream,
    realm: &str,
    service: Option<&str>,
    scope: &str,
    credentials: Option<Credentials>,
    host: &str,
) -> Result<(String, u64), UpstreamError> {
    let refused = |reason: &'static str| UpstreamError::InvalidRequest {
        host: host.to_string(),
        reason,
    };
    let mut url = Url::parse(realm).map_err(|_| refused("the token realm is not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refused("the token realm is not an http(s) URL"));
    }
    {
        let mut query = url.query_pairs_mut();
        if let Some(service) = service {
            query.append_pair("service", service);
        }
        query.append_pair("scope", scope);
    }
    let mut request = UpstreamRequest::new(url, MAX_TOKEN_ANSWER);
    if let Some(c) = credentials {
        request = request.credentials(c);
    }
    let response = upstream.get(request).await?;
    if response.status != StatusCode::OK {
        return Err(response.status_error());
    }
    let bytes = response.body.bytes().await?;
    parse_token_answer(&bytes).ok_or_else(|| refused("the token realm answered no token"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_as_registries_send_them() {
        assert_eq!(
            parse_challenge(
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#
            ),
            Some(Challenge::Bearer {
                realm: "https://auth.docker.io/token".into(),
                service: Some("registry.docker.io".into()),
                scope: Some("repository:library/alpine:pull".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Bearer realm="http://a/t", scope="repository:x:pull,push""#),
            Some(Challenge::Bearer {
                realm: "http://a/t".into(),
                service: None,
                scope: Some("repository:x:pull,push".into()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate"), None);
    }

    #[test]
    fn token_answers_take_either_name_and_a_floor_on_their_life() {
        assert_eq!(
            parse_token_answer(br#"{"token":"abc","expires_in":300}"#),
            Some(("abc".into(), 300))
        );
        assert_eq!(
            parse_token_answer(br#"{"access_token":"x.y","expires_in":5}"#),
            Some(("x.y".into(), 60))
        );
        assert_eq!(parse_token_answer(br#"{"token":""}"#), None);
        assert_eq!(parse_token_answer(br#"{"token":"a b"}"#), None);
        assert_eq!(parse_token_answer(b"nope"), None);
    }

    #[test]
    fn kept_tokens_expire() {
        let tokens = Tokens::default();
        tokens.put("r", "s", Kept::Bearer("tok-xyz".into()), 60);
        assert_eq!(tokens.get("r", "s"), Some(Kept::Bearer("tok-xyz".into())));
        assert_eq!(tokens.get("r", "other"), None);
        assert!(!format!("{:?}", tokens.get("r", "s")).contains("xyz"));
        tokens.put("r", "s", Kept::Basic, 5);
        assert_eq!(tokens.get("r", "s"), None);
    }
}
