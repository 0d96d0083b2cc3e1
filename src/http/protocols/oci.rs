//! Container images at `/v2/` (OCI Distribution Specification v1.1, the Docker registry API V2). An
//! image name is `<repository>/<image…>`: the first component is the arca repository (format
//! `docker2`), the rest the image inside it, so `{host}/{repository}/{image}:{tag}`. Each request is
//! authenticated (Basic, a ticket, or a token of `GET /v2/token`), its repository loaded as the other
//! protocols do, and authorized by the privilege engine on `<image>/…` (pull = download, push =
//! upload, delete = delete). Errors take the spec's shape; a 401 carries the Bearer challenge. A remote
//! repository is read through `oci_remote` (and takes no change), a virtual one through `oci_virtual`,
//! its pushes going to its default deploy repository's hosted handlers.

use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::access::{authorize, identify, load_repo, refuse_change_unless_hosted};
use super::members;
use crate::auth::registry_token::{self, Claims};
use crate::auth::{Credential, Principal};
use crate::domain::operation::Operation;
use crate::formats::oci::{self as format, Endpoint, PathError, Target};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::http::urls::public_base_url;
use crate::service::repo_kinds::{REMOTE, VIRTUAL};
use crate::store::repos::Repository;

pub(super) const FORMAT: &str = "docker2";
const API_VERSION: &str = "registry/2.0";

pub(super) fn registry(
    oci_code: &'static str,
    status: u16,
    message: impl Into<String>,
) -> ApiError {
    ApiError::Registry {
        oci_code,
        status,
        message: message.into(),
    }
}

pub(super) fn name_invalid() -> ApiError {
    registry("NAME_INVALID", 400, "invalid repository name")
}

pub(super) fn digest_invalid(message: &str) -> ApiError {
    registry("DIGEST_INVALID", 400, message)
}

pub(super) fn path_error(e: PathError) -> ApiError {
    match e {
        PathError::Name => name_invalid(),
        PathError::Digest => {
            digest_invalid("the digest is malformed or of an unsupported algorithm")
        }
        PathError::Reference => {
            registry("MANIFEST_INVALID", 400, "the tag or upload id is malformed")
        }
    }
}

/// Who is asking: a principal (from any credential arca accepts, or a registry token), and the token's
/// grants when the request carried one.
pub(super) struct Caller {
    pub principal: Option<Principal>,
    pub token: Option<Claims>,
}

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    let base = public_base_url(&state.config, request.headers());
    let path = request.uri().path().to_string();
    let method = request.method().clone();
    let mut response = match dispatch(&state, request).await {
        Ok(r) => r,
        Err(e) => oci_error(e, &base, &path, &method),
    };
    response.headers_mut().insert(
        "docker-distribution-api-version",
        HeaderValue::from_static(API_VERSION),
    );
    response
}

/// The scope a request needs, for the challenge: `repository:<name>:pull` or `…:pull,push`.
fn scope_of(path: &str, method: &Method) -> Option<String> {
    let rest = path.strip_prefix("/v2/")?;
    let target = format::parse_path(rest).ok()??;
    let actions = match *method {
        Method::GET | Method::HEAD => "pull",
        Method::DELETE => "delete",
        _ => "pull,push",
    };
    Some(format!("repository:{}:{actions}", target.name()))
}

/// An error in the spec's shape: `{"errors":[{"code","message","detail"}]}`.
fn oci_error(e: ApiError, base: &str, path: &str, method: &Method) -> Response {
    let (code, status, message) = match &e {
        ApiError::Registry {
            oci_code, message, ..
        } => (*oci_code, e.status(), message.clone()),
        ApiError::Unauthenticated(_) => (
            "UNAUTHORIZED",
            StatusCode::UNAUTHORIZED,
            "authentication required".to_string(),
        ),
        ApiError::Forbidden(m) => ("DENIED", StatusCode::FORBIDDEN, m.clone()),
        ApiError::AddressRefused => ("DENIED", StatusCode::FORBIDDEN, e.to_string()),
        ApiError::NotFound(m) => ("NAME_UNKNOWN", StatusCode::NOT_FOUND, m.clone()),
        ApiError::TooManyAuthFailures { .. } => (
            "TOOMANYREQUESTS",
            StatusCode::TOO_MANY_REQUESTS,
            e.to_string(),
        ),
        ApiError::BodyTooLarge { .. } | ApiError::TooLarge { .. } => {
            ("SIZE_INVALID", StatusCode::PAYLOAD_TOO_LARGE, e.to_string())
        }
        ApiError::InvalidParameter { .. } | ApiError::MalformedBody(_) => {
            ("UNSUPPORTED", StatusCode::BAD_REQUEST, e.to_string())
        }
        ApiError::MethodNotAllowed | ApiError::NotWritable(_) | ApiError::NoRoute { .. } => {
            ("UNSUPPORTED", e.status(), e.to_string())
        }
        ApiError::Internal(detail) => {
            tracing::error!(detail, "internal error");
            ("UNKNOWN", e.status(), "internal error".to_string())
        }
        other => ("UNKNOWN", other.status(), other.to_string()),
    };
    let body = json!({"errors": [{"code": code, "message": message, "detail": null}]});
    let mut response = (status, axum::Json(body)).into_response();
    e.add_headers(&mut response);
    if status == StatusCode::UNAUTHORIZED {
        let mut challenge = format!("Bearer realm=\"{base}/v2/token\",service=\"arca\"");
        if let Some(scope) = scope_of(path, method) {
            challenge.push_str(&format!(",scope=\"{scope}\""));
        }
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    response
}

/// The registry token key, read from the database (made there by the first node that needs it).
pub(super) async fn token_key(state: &AppState) -> Result<Vec<u8>, ApiError> {
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    let key = state
        .db
        .call(move |conn| crate::store::oci::token_key(conn, &fresh, crate::store::now_ms()))
        .await?;
    hex::decode(key).map_err(|_| ApiError::Internal("the registry token key is not hex".into()))
}

/// Authenticates a request: a registry token (`Bearer arcaoci1.…`), else whatever the other protocols
/// accept. A token's user is read again, so a disabled user's token stops working.
pub(super) async fn identify_caller(
    state: &AppState,
    parts: &Parts,
    body: axum::body::Body,
) -> Result<(Caller, axum::body::Body), ApiError> {
    let bearer = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| t.starts_with(registry_token::PREFIX));
    let Some(token) = bearer else {
        let (principal, body) = identify(state, parts, body).await?;
        return Ok((
            Caller {
                principal,
                token: None,
            },
            body,
        ));
    };
    let key = token_key(state).await?;
    let now = crate::store::now_ms() / 1000;
    let claims = registry_token::verify(&key, token, now).ok_or(ApiError::Unauthenticated(
        "invalid or expired registry token",
    ))?;
    let principal = if claims.sub.is_empty() {
        None
    } else {
        let user_id = claims.sub.clone();
        let user = state
            .db
            .call(move |conn| crate::store::identity::get_user(conn, &user_id))
            .await?
            .filter(|u| u.enabled)
            .ok_or(ApiError::Unauthenticated(
                "the token's user is gone or disabled",
            ))?;
        let credential = match &claims.ticket {
            Some((ticket_id, embed_id)) => Credential::Ticket {
                ticket_id: ticket_id.clone(),
                embed_id: embed_id.clone(),
            },
            None => Credential::Token { project_id: None },
        };
        let principal = Principal {
            user_id: user.id,
            user_name: user.name,
            domain_id: user.domain_id,
            is_root: user.is_root,
            credential,
        };
        crate::http::audit::note_principal(&principal);
        crate::http::ip_allow::check_parts(state, &principal.domain_id, parts).await?;
        Some(principal)
    };
    Ok((
        Caller {
            principal,
            token: Some(claims),
        },
        body,
    ))
}

/// What an operation is called in a token's grants.
fn action_of(op: Operation) -> &'static str {
    match op {
        Operation::Upload => "push",
        Operation::Delete => "delete",
        _ => "pull",
    }
}

/// Authorizes `op` on `rel` (a path under the image) of `repo`: the privilege engine decides, and a
/// token must also grant the action on the name.
pub(super) async fn allow(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    op: Operation,
    rel: &str,
) -> Result<(), ApiError> {
    if let Some(claims) = &caller.token {
        if !claims.grants(&target.name(), action_of(op)) {
            return Err(match caller.principal {
                None => ApiError::Unauthenticated("the token does not grant this action"),
                Some(_) => ApiError::forbidden(format!(
                    "the token does not grant {} on {}",
                    action_of(op),
                    target.name()
                )),
            });
        }
    }
    authorize(state, caller.principal.as_ref(), repo, op, rel).await
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let path = request.uri().path().to_string();
    let rest = path.strip_prefix("/v2").unwrap_or("");
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if rest == "token" {
        return super::oci_token::issue(state, request).await;
    }
    let (parts, body) = request.into_parts();
    let (caller, body) = identify_caller(state, &parts, body).await?;
    if rest.is_empty() {
        // The version check: clients send it first and log in when it answers 401.
        if caller.principal.is_none() && caller.token.is_none() {
            return Err(ApiError::Unauthenticated("credentials required"));
        }
        return Ok((StatusCode::OK, axum::Json(json!({}))).into_response());
    }
    let target = format::parse_path(rest)
        .map_err(path_error)?
        .ok_or_else(|| ApiError::NoRoute {
            method: parts.method.to_string(),
            path: "the path".into(),
        })?;
    let repo = load_repo(
        state,
        &parts,
        caller.principal.as_ref(),
        &target.repo,
        Some(FORMAT),
    )
    .await
    .map_err(|e| match e {
        ApiError::NotFound(_) => {
            registry("NAME_UNKNOWN", 404, "repository name not known to registry")
        }
        other => other,
    })?;
    let read = matches!(parts.method, Method::GET | Method::HEAD);
    // Pushes through a virtual repository go to its default deploy repository, as in every format.
    let (repo, via) = if repo.repo_type == VIRTUAL && !read {
        (members::deploy_target(state, &repo).await?, Some(repo))
    } else {
        (repo, None)
    };
    refuse_change_unless_hosted(&repo, &parts.method)?;
    crate::http::audit::note_detail(&target.image, None);
    let method = parts.method.clone();
    match repo.repo_type.as_str() {
        REMOTE => match (&target.endpoint, &method) {
            (Endpoint::Manifest(_), _) => {
                super::oci_remote::manifest(state, &caller, &repo, &target, &parts).await
            }
            (Endpoint::Tags, &Method::GET) => {
                super::oci_remote::tags(state, &caller, &repo, &target, &parts).await
            }
            (Endpoint::Blob(d), _) => {
                super::oci_remote::blob(state, &caller, &repo, &target, d, &parts).await
            }
            (Endpoint::Referrers(d), &Method::GET) => {
                super::oci_remote::referrers(state, &caller, &repo, &target, d, &parts).await
            }
            _ => Err(ApiError::MethodNotAllowed),
        },
        VIRTUAL if read => match &target.endpoint {
            Endpoint::Tags if method == Method::GET => {
                super::oci_virtual::tags(state, &caller, &repo, &target, &parts).await
            }
            Endpoint::Referrers(d) if method == Method::GET => {
                super::oci_virtual::referrers(state, &caller, &repo, &target, d, &parts).await
            }
            Endpoint::Manifest(_) | Endpoint::Blob(_) => {
                super::oci_virtual::read(state, &caller, &repo, &target, &parts).await
            }
            _ => Err(ApiError::MethodNotAllowed),
        },
        _ => hosted(state, &caller, &repo, &target, &parts, body, via.as_ref()).await,
    }
}

/// A request to a hosted repository; `via`: the virtual repository a push was sent to.
async fn hosted(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    parts: &Parts,
    body: axum::body::Body,
    via: Option<&Repository>,
) -> Result<Response, ApiError> {
    match (&target.endpoint, &parts.method) {
        (Endpoint::Manifest(_), _) => {
            super::oci_manifests::manifest(state, caller, repo, target, parts, body, via).await
        }
        (Endpoint::Tags, &Method::GET) => {
            super::oci_manifests::tags(state, caller, repo, target, parts).await
        }
        (Endpoint::Referrers(d), &Method::GET) => {
            super::oci_manifests::referrers(state, caller, repo, target, d, parts).await
        }
        (Endpoint::Blob(d), _) => {
            super::oci_blobs::blob(state, caller, repo, target, d, parts).await
        }
        (Endpoint::UploadStart, &Method::POST) => {
            super::oci_blobs::start(state, caller, repo, target, parts, body).await
        }
        (Endpoint::Upload(id), _) => {
            super::oci_blobs::session(state, caller, repo, target, id, parts, body).await
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// `Location`, `Docker-Content-Digest` and friends.
pub(super) fn with_headers(status: StatusCode, headers: &[(&'static str, String)]) -> Response {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(value) {
            map.insert(*name, v);
        }
    }
    map.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    (status, map).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_name_the_scope_a_request_needs() {
        assert_eq!(
            scope_of("/v2/r/i/manifests/latest", &Method::GET).as_deref(),
            Some("repository:r/i:pull")
        );
        assert_eq!(
            scope_of("/v2/r/a/b/blobs/uploads/", &Method::POST).as_deref(),
            Some("repository:r/a/b:pull,push")
        );
        assert_eq!(scope_of("/v2/", &Method::GET), None);
        assert_eq!(scope_of("/v2/BAD/i/manifests/x", &Method::GET), None);
    }
}
