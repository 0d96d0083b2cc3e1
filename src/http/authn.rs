//! The authentication layer: turns a request's signature, token or ticket into a `Principal` in the
//! request's extensions, or answers 401. Every route behind it can rely on the principal being there.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::app::AppState;
use super::error::ApiError;
use super::extract::read_body;
use crate::auth::signature::{self, Payload, PayloadTerm, RequestParts, SignatureHeader};
use crate::auth::{ticket, token, Credential, Principal};
use crate::service::ticket_uses::Granted;
use crate::store::{identity, now_ms};

/// Which credentials a group of routes takes besides signatures and tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tickets {
    /// For reads (the CodeArts management API): a ticket is a limited download credential.
    ForReads,
    /// Never (IAM, ProjectMan, ticket management): a ticket may not administer identities, projects or
    /// tickets. Refused before any use of it is taken.
    Refused,
}

pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    respond(&state, request, next, Tickets::ForReads).await
}

pub async fn authenticate_without_tickets(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    respond(&state, request, next, Tickets::Refused).await
}

async fn respond(state: &AppState, request: Request, next: Next, tickets: Tickets) -> Response {
    // A failed credential counts against the client and the user it names (`auth_limit`).
    let attempt = state
        .auth_limiter
        .attempt_of(request.headers(), request.extensions());
    match attempt.run(identify(state, request, tickets)).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn identify(
    state: &AppState,
    request: Request,
    tickets: Tickets,
) -> Result<Request, ApiError> {
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().map(str::to_string));
    let auth_token = request
        .headers()
        .get("x-auth-token")
        .map(|v| v.to_str().map(str::to_string));

    let (principal, request) = match (authorization, auth_token) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => {
            return Err(ApiError::Unauthenticated(
                "credential header is not visible ASCII",
            ))
        }
        (Some(Ok(value)), _) if value.starts_with(signature::ALGORITHM) => {
            verify_signature(state, request, &value).await?
        }
        (_, Some(Ok(token))) => (verify_token(state, &token).await?, request),
        (Some(Ok(value)), None) => {
            let ticket = bearer_or_basic_ticket(&value).ok_or(ApiError::Unauthenticated(
                "unsupported Authorization scheme",
            ))?;
            if tickets == Tickets::Refused {
                crate::telemetry::record_ticket_refusal("not_accepted");
                return Err(ApiError::Unauthenticated(
                    "tickets are not accepted by this API",
                ));
            }
            // Tickets are a download credential: on the management API they open only reads.
            if request.method() != Method::GET && request.method() != Method::HEAD {
                crate::telemetry::record_ticket_refusal("not_accepted");
                return Err(ApiError::Unauthenticated(
                    "tickets only authenticate GET requests",
                ));
            }
            (
                use_ticket(state, well_formed(&ticket.0)?, ticket.1.as_deref()).await?,
                request,
            )
        }
        (None, None) => return Err(ApiError::Unauthenticated("no credentials")),
    };
    // Noted before the allow-list check, so a change refused for its address is in the audit log too.
    crate::http::audit::note_principal(&principal);
    crate::http::ip_allow::check(
        state,
        &principal.domain_id,
        request.headers(),
        request.extensions(),
    )
    .await?;
    let mut request = request;
    tracing::debug!(user_id = %principal.user_id, "authenticated");
    request.extensions_mut().insert(principal);
    Ok(request)
}

/// `Bearer <ticket>`, or `Basic base64(name:<ticket>)`: the ticket and, for Basic, the name given.
pub fn bearer_or_basic_ticket(value: &str) -> Option<(String, Option<String>)> {
    if let Some(t) = value.strip_prefix("Bearer ") {
        return Some((t.trim().to_string(), None));
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    Some((password.to_string(), Some(name.to_string())))
}

async fn verify_signature(
    state: &AppState,
    request: Request,
    value: &str,
) -> Result<(Principal, Request), ApiError> {
    let (parts, body) = request.into_parts();
    // A `%2F` is one segment to the router but a separator to the canonical URI (as the SDK computes it),
    // so a signature over `/a/b` would also cover a request for the segment `a/b`. No management API
    // takes a slash inside a segment.
    if parts.uri.path().to_ascii_lowercase().contains("%2f") {
        return Err(ApiError::Unauthenticated(
            "signed paths may not carry an encoded slash",
        ));
    }
    let bytes = read_body(body, state.config.max_body_bytes).await?;
    let body_sha256 = (!bytes.is_empty()).then(|| crate::auth::sha256_hex(&bytes));
    let (principal, _) =
        verify_signed_parts(state, &parts, value, Payload::Read(body_sha256.as_deref())).await?;
    Ok((principal, Request::from_parts(parts, Body::from(bytes))))
}

/// Verifies an `SDK-HMAC-SHA256` signature over a request's head and what is known of its body. Answers
/// the payload term, whose `must_hash_to` a streamed body's consumer must enforce.
pub async fn verify_signed_parts(
    state: &AppState,
    parts: &axum::http::request::Parts,
    authorization: &str,
    payload: Payload<'_>,
) -> Result<(Principal, PayloadTerm), ApiError> {
    let header = SignatureHeader::parse(authorization)
        .map_err(|_| ApiError::Unauthenticated("malformed signature header"))?;
    let payload = signature::resolve_payload(&parts.headers, &header.signed_headers, payload)
        .map_err(|e| {
            tracing::info!(reason = %e, "signature payload refused");
            ApiError::Unauthenticated("signature rejected")
        })?;
    let access_key = header.access_key.clone();
    let (key, user) = state
        .db
        .call(move |conn| {
            let Some(key) = identity::get_access_key(conn, &access_key)? else {
                return Ok(None);
            };
            let user = identity::get_user(conn, &key.user_id)?;
            Ok(user.map(|u| (key, u)))
        })
        .await?
        .ok_or(ApiError::Unauthenticated("unknown access key"))?;
    if !key.active || !user.enabled {
        return Err(ApiError::Unauthenticated("access key or user disabled"));
    }
    let secret = state
        .secrets
        .open(&key.secret_enc)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let wire = RequestParts {
        method: parts.method.as_str(),
        raw_path: parts.uri.path(),
        raw_query: parts.uri.query(),
        headers: &parts.headers,
        payload_term: &payload.term,
    };
    signature::verify(
        &header,
        &wire,
        &secret,
        chrono::Utc::now(),
        state.config.signature_skew_secs,
    )
    .map_err(|e| {
        tracing::info!(access_key = %key.access_key, reason = %e, "signature rejected");
        ApiError::Unauthenticated("signature rejected")
    })?;
    let principal = Principal {
        user_id: user.id,
        user_name: user.name,
        domain_id: user.domain_id,
        is_root: user.is_root,
        credential: Credential::Signature {
            access_key: key.access_key,
        },
    };
    Ok((principal, payload))
}

pub async fn verify_token(state: &AppState, presented: &str) -> Result<Principal, ApiError> {
    if !token::is_plausible(presented) {
        return Err(ApiError::Unauthenticated("malformed token"));
    }
    let hash = token::token_hash(presented);
    let found = state
        .db
        .call(move |conn| {
            let Some(record) = identity::find_token(conn, &hash, now_ms())? else {
                return Ok(None);
            };
            Ok(identity::get_user(conn, &record.user_id)?.map(|u| (record, u)))
        })
        .await?;
    let (record, user) = found.ok_or(ApiError::Unauthenticated("unknown or expired token"))?;
    if !user.enabled {
        return Err(ApiError::Unauthenticated("user disabled"));
    }
    Ok(Principal {
        user_id: user.id,
        user_name: user.name,
        domain_id: user.domain_id,
        is_root: user.is_root,
        credential: Credential::Token {
            project_id: record.project_id,
        },
    })
}

/// A value given as a ticket, refused unless it has a ticket's shape.
pub fn well_formed(value: &str) -> Result<ticket::Presented<'_>, ApiError> {
    ticket::Presented::parse(value).ok_or_else(|| {
        crate::telemetry::record_ticket_refusal("malformed");
        ApiError::Unauthenticated("malformed ticket")
    })
}

/// Consumes one use of a ticket. With a Basic user name, the name must be the ticket user's name or
/// repo user name; that and the user being enabled are checked in the statement that takes the use, so a
/// refused login spends nothing.
pub async fn use_ticket(
    state: &AppState,
    presented: ticket::Presented<'_>,
    name: Option<&str>,
) -> Result<Principal, ApiError> {
    let ticket_id = presented.public_id();
    let used = state.ticket_uses.take(&ticket_id, name).await?;
    let Some(Granted { user, embed_id }) = used else {
        crate::telemetry::record_ticket_refusal("invalid");
        return Err(ApiError::Unauthenticated(
            "unknown, expired, exhausted or revoked ticket, disabled user, or another user's name",
        ));
    };
    crate::telemetry::METRICS.ticket_uses.inc();
    Ok(Principal {
        user_id: user.id.clone(),
        user_name: user.name.clone(),
        domain_id: user.domain_id.clone(),
        is_root: user.is_root,
        credential: Credential::Ticket {
            ticket_id,
            embed_id: embed_id.to_string(),
        },
    })
}
