//! The one error type at the HTTP edge, its stable code table, and the SPEC §3 error envelope.
//!
//! Inner modules keep their own error enums; they convert into `ApiError` here. Internal failures are
//! logged with the trace id and answered with an opaque 500: their text never reaches a client.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::trace::current_trace_id;
use crate::blob::Unavailable;
use crate::storage_fault::StorageFault;
use crate::store::StoreError;

/// Error code families: arca's own, the API gateway's (authentication) and DataArts Insight's (seed 001).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Arca,
    Insight,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Incorrect IAM authentication information: {0}")]
    Unauthenticated(&'static str),
    #[error("Invalid parameter '{name}': {reason}")]
    InvalidParameter { name: String, reason: String },
    #[error("The request body is not valid JSON for this operation: {0}")]
    MalformedBody(String),
    #[error("The request body is larger than the limit of {limit} bytes")]
    BodyTooLarge { limit: usize },
    /// A limit other than the whole body's: a form field, a form's framing, a document's JSON values.
    #[error("{what} is over its limit of {limit}")]
    TooLarge { what: String, limit: String },
    #[error("The request body stalled: no data arrived within the body timeout")]
    BodyStalled,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("No API matches {method} {path}")]
    NoRoute { method: String, path: String },
    #[error("The method is not allowed on this resource")]
    MethodNotAllowed,
    /// An upstream of a remote repository could not give what was asked (refused, unreachable, an error
    /// answer, bytes that fail their checksum): 502, or 504 when it did not answer in time. The message
    /// names the upstream host and never repeats what the upstream wrote.
    #[error("{message}")]
    Upstream { timeout: bool, message: String },
    /// A change sent to a repository that does not take it (a remote one is read-only).
    #[error("{0}")]
    NotWritable(String),
    #[error("No acceptable representation: {0}")]
    NotAcceptable(&'static str),
    /// The account has an IP allow-list and the request comes from an address outside it.
    #[error("The account accepts requests only from the addresses of its IP allow-list, and this one is not among them")]
    AddressRefused,
    #[error("Internal error; quote the trace id when reporting it")]
    Internal(String),
    #[error("The server's data directory is full (no space left on its volume), so nothing was stored: free space or enlarge the volume, then retry")]
    StorageFull,
    #[error("The server's data directory is read-only (or not writable by arca), so it serves reads but refuses changes: make it writable again (and restart arca if it started read-only), then retry")]
    StorageReadOnly,
    #[error("Too many failed authentication attempts from this address or for this user: retry after {retry_after_secs} seconds")]
    TooManyAuthFailures { retry_after_secs: u64 },
    /// The S3 blob store could not be reached or refused arca: 503, saying what to check; the store's
    /// own words go to the log only.
    #[error("{}", blob_store_message(*.0))]
    BlobStoreUnavailable(Unavailable),
    /// The metadata database (PostgreSQL) cannot be reached or refuses connections: 503, nothing changed.
    #[error("The metadata database (database_url) cannot be reached or is not accepting connections, so nothing was read or changed: check that PostgreSQL is up and reachable, then retry")]
    DatabaseUnavailable,
    /// A container registry refusal with the OCI Distribution error code its clients read
    /// (`BLOB_UNKNOWN`, `DIGEST_INVALID`…); only `/v2/` answers it, in the spec's error shape.
    #[error("{message}")]
    Registry {
        oci_code: &'static str,
        status: u16,
        message: String,
    },
    /// An error answered in DataArts Insight's code family (the seed-001 endpoints).
    #[error("{0}")]
    Insight(Box<ApiError>),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The stable code table. Codes are never reused or renumbered; README.md lists them.
pub const CODE_TABLE: &[(&str, u16, &str)] = &[
    (
        "APIGW.0301",
        401,
        "authentication failed: missing, malformed or wrong signature, token or ticket",
    ),
    (
        "ARCA.00000001",
        400,
        "a parameter is missing, malformed or out of range (the message names it)",
    ),
    (
        "ARCA.00000002",
        400,
        "the request body is not valid JSON of the expected shape",
    ),
    (
        "ARCA.00000003",
        413,
        "the request body exceeds the configured limit",
    ),
    (
        "ARCA.00000004",
        403,
        "the caller is authenticated but not allowed to do this",
    ),
    (
        "ARCA.00000005",
        404,
        "the addressed resource does not exist (or is not visible to the caller)",
    ),
    (
        "ARCA.00000006",
        409,
        "the resource already exists or conflicts with existing state",
    ),
    ("ARCA.00000007", 404, "no API at this method and path"),
    (
        "ARCA.00000008",
        405,
        "the method is not allowed on this path",
    ),
    (
        "ARCA.00000009",
        500,
        "internal error; logged on the server with the trace id",
    ),
    (
        "ARCA.00000010",
        406,
        "no representation the client accepts (PyPI index content negotiation)",
    ),
    (
        "ARCA.00000011",
        507,
        "the data directory's volume is full; nothing was stored",
    ),
    (
        "ARCA.00000012",
        503,
        "the data directory is read-only; reads are served, changes refused",
    ),
    (
        "ARCA.00000013",
        429,
        "too many failed authentications from the client's address or for the user; see Retry-After",
    ),
    (
        "ARCA.00000014",
        408,
        "the request body stalled: no data within request_body_timeout_secs",
    ),
    (
        "ARCA.00000015",
        405,
        "the repository takes no changes through this path: a remote repository is read-only",
    ),
    (
        "ARCA.00000016",
        502,
        "a remote repository's upstream refused, failed or sent bytes that fail their checksum; nothing was kept",
    ),
    (
        "ARCA.00000017",
        504,
        "a remote repository's upstream did not answer in time",
    ),
    (
        "ARCA.00000018",
        403,
        "the account has an IP allow-list and the request's client address is not in it",
    ),
    (
        "ARCA.00000019",
        503,
        "the S3 blob store cannot be reached, refused arca's credentials or lacks its bucket; nothing was stored or served",
    ),
    (
        "ARCA.00000020",
        503,
        "the metadata database (PostgreSQL) cannot be reached or is not accepting connections; nothing was read or changed",
    ),
    (
        "ARCA.00000021",
        400,
        "container registry: a name, reference, digest, manifest or upload is invalid (the OCI code in the body says which)",
    ),
    (
        "ARCA.00000022",
        404,
        "container registry: the image, manifest, blob or upload session is unknown (the OCI code in the body says which)",
    ),
    (
        "ARCA.00000023",
        416,
        "container registry: an upload chunk does not start where the upload stands",
    ),
    (
        "DataArtsInsight.00000001",
        400,
        "ticket list: a parameter is missing, malformed or out of range",
    ),
    ("DataArtsInsight.00000004", 403, "ticket list: not allowed"),
    (
        "DataArtsInsight.00000005",
        404,
        "ticket list: project or ticket not found",
    ),
];

impl ApiError {
    pub fn invalid(name: &str, reason: impl Into<String>) -> Self {
        ApiError::InvalidParameter {
            name: name.to_string(),
            reason: reason.into(),
        }
    }

    pub fn forbidden(msg: impl Into<String>) -> Self {
        ApiError::Forbidden(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        ApiError::NotFound(msg.into())
    }

    /// Re-answers this error in DataArts Insight's code family.
    pub fn insight(self) -> Self {
        match self {
            ApiError::Insight(_) => self,
            other => ApiError::Insight(Box::new(other)),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::InvalidParameter { .. } | ApiError::MalformedBody(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::BodyTooLarge { .. } | ApiError::TooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::BodyStalled => StatusCode::REQUEST_TIMEOUT,
            ApiError::Forbidden(_) | ApiError::AddressRefused => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::NoRoute { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::MethodNotAllowed | ApiError::NotWritable(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Upstream { timeout: false, .. } => StatusCode::BAD_GATEWAY,
            ApiError::Upstream { timeout: true, .. } => StatusCode::GATEWAY_TIMEOUT,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            ApiError::StorageReadOnly
            | ApiError::BlobStoreUnavailable(_)
            | ApiError::DatabaseUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyAuthFailures { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Insight(inner) => inner.status(),
            ApiError::Registry { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
            }
        }
    }

    pub fn code(&self) -> &'static str {
        self.code_in(Family::Arca)
    }

    fn code_in(&self, family: Family) -> &'static str {
        match (self, family) {
            (ApiError::Unauthenticated(_), _) => "APIGW.0301",
            (ApiError::Insight(inner), _) => inner.code_in(Family::Insight),
            (ApiError::InvalidParameter { .. } | ApiError::MalformedBody(_), Family::Insight) => {
                "DataArtsInsight.00000001"
            }
            (ApiError::Forbidden(_), Family::Insight) => "DataArtsInsight.00000004",
            (ApiError::NotFound(_), Family::Insight) => "DataArtsInsight.00000005",
            (ApiError::InvalidParameter { .. }, _) => "ARCA.00000001",
            (ApiError::MalformedBody(_), _) => "ARCA.00000002",
            (ApiError::BodyTooLarge { .. } | ApiError::TooLarge { .. }, _) => "ARCA.00000003",
            (ApiError::Forbidden(_), _) => "ARCA.00000004",
            (ApiError::NotFound(_), _) => "ARCA.00000005",
            (ApiError::Conflict(_), _) => "ARCA.00000006",
            (ApiError::NoRoute { .. }, _) => "ARCA.00000007",
            (ApiError::MethodNotAllowed, _) => "ARCA.00000008",
            (ApiError::Internal(_), _) => "ARCA.00000009",
            (ApiError::NotAcceptable(_), _) => "ARCA.00000010",
            (ApiError::StorageFull, _) => "ARCA.00000011",
            (ApiError::StorageReadOnly, _) => "ARCA.00000012",
            (ApiError::TooManyAuthFailures { .. }, _) => "ARCA.00000013",
            (ApiError::BodyStalled, _) => "ARCA.00000014",
            (ApiError::NotWritable(_), _) => "ARCA.00000015",
            (ApiError::Upstream { timeout: false, .. }, _) => "ARCA.00000016",
            (ApiError::Upstream { timeout: true, .. }, _) => "ARCA.00000017",
            (ApiError::AddressRefused, _) => "ARCA.00000018",
            (ApiError::BlobStoreUnavailable(_), _) => "ARCA.00000019",
            (ApiError::DatabaseUnavailable, _) => "ARCA.00000020",
            (ApiError::Registry { status, .. }, _) => match status {
                404 => "ARCA.00000022",
                413 => "ARCA.00000003",
                416 => "ARCA.00000023",
                _ => "ARCA.00000021",
            },
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Insight(inner) => inner.message(),
            ApiError::Unauthenticated(_) => {
                // Never say which part was wrong (SPEC §2); the detail is logged instead.
                "Incorrect IAM authentication information: the request could not be authenticated"
                    .to_string()
            }
            other => other.to_string(),
        }
    }

    /// Headers this error's answer carries whatever shape its body takes (the package protocols answer
    /// errors in their clients' own shapes).
    pub fn add_headers(&self, response: &mut Response) {
        // Every error answer passes here, whatever its shape: the audit log reads the reason from it.
        response
            .extensions_mut()
            .insert(crate::http::audit::ErrorSummary {
                code: self.code(),
                message: self.message(),
            });
        match self {
            ApiError::Insight(inner) => inner.add_headers(response),
            ApiError::TooManyAuthFailures { retry_after_secs } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
    }

    /// `add_headers`, and on a 401 the Basic challenge package clients answer with credentials (npm, pip,
    /// twine and the go command ask for them only after one).
    pub fn add_headers_and_basic_challenge(&self, response: &mut Response) {
        self.add_headers(response);
        if response.status() == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"arca\""),
            );
        }
    }

    /// A write refused for the data directory's sake; what the storage layer said goes to the log only.
    pub fn storage(fault: StorageFault, detail: &dyn std::fmt::Display) -> Self {
        match fault {
            StorageFault::Full => {
                tracing::warn!(%detail, "write refused: the data directory is full");
                ApiError::StorageFull
            }
            StorageFault::ReadOnly => {
                tracing::warn!(%detail, "write refused: the data directory is read-only");
                ApiError::StorageReadOnly
            }
        }
    }
}

/// What an operator must check when the S3 blob store fails, without the store's own text.
fn blob_store_message(problem: Unavailable) -> &'static str {
    match problem {
        Unavailable::Unreachable => "The blob store (S3) cannot be reached or is failing, so nothing was stored or served: check that the object store is up and reachable at s3_endpoint, then retry",
        Unavailable::Refused => "The blob store (S3) refused arca's requests, so nothing was stored or served: check the S3 credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and the bucket's policy, then retry",
        Unavailable::NoBucket => "The blob store's bucket (s3_bucket) does not exist, so nothing was stored or served: create it or correct the setting, then retry",
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            StoreError::Full(detail) => ApiError::storage(StorageFault::Full, &detail),
            StoreError::ReadOnly(detail) => ApiError::storage(StorageFault::ReadOnly, &detail),
            StoreError::Unavailable(detail) => {
                tracing::warn!(%detail, "the metadata database is unavailable");
                ApiError::DatabaseUnavailable
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let trace_id = current_trace_id();
        match &self {
            ApiError::Internal(detail) => tracing::error!(%trace_id, detail, "internal error"),
            ApiError::Unauthenticated(detail) => {
                tracing::info!(%trace_id, detail, "authentication failed")
            }
            other => tracing::debug!(%trace_id, error = %other, "request failed"),
        }
        let body = json!({
            "status": "error",
            "trace_id": trace_id,
            "error_code": self.code(),
            "error_msg": self.message(),
        });
        let mut response = (self.status(), axum::Json(body)).into_response();
        self.add_headers(&mut response);
        if let ApiError::Unauthenticated(_) = self {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"arca\""),
            );
        }
        response
    }
}

/// A JSON parser's complaint without the value that caused it. serde quotes the offending value
/// (`invalid type: string "hunter2", expected a boolean`), and a password typed into the wrong field must
/// reach neither an answer nor a log line: keep the kind of problem and what was expected. The expected
/// part comes last in serde's messages, so splitting at the last `, expected ` is safe whatever the value
/// holds.
pub fn json_problem(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    let text = text.strip_suffix(&position).unwrap_or(&text);
    const VALUED: [&str; 4] = [
        "invalid type",
        "invalid value",
        "unknown variant",
        "invalid length",
    ];
    match VALUED.iter().find(|kind| text.starts_with(*kind)) {
        Some(kind) => match text.rsplit_once(", expected ") {
            Some((_, expected)) => format!("{kind}, expected {expected}"),
            None => kind.to_string(),
        },
        None => text.to_string(),
    }
}

/// A body that is not the JSON document an operation takes, described without its values.
pub fn malformed_json(e: &serde_json::Error) -> ApiError {
    ApiError::MalformedBody(json_problem(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_problems_never_repeat_the_value() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Form {
            enabled: bool,
            kind: Kind,
            tags: [u8; 2],
        }
        #[derive(Debug, serde::Deserialize)]
        enum Kind {
            Hosted,
        }
        let secret = "hunter2, expected a secret";
        for (body, expected) in [
            (
                format!(r#"{{"enabled": "{secret}"}}"#),
                "invalid type, expected a boolean",
            ),
            (
                format!(r#"{{"enabled": true, "kind": "{secret}"}}"#),
                "unknown variant, expected `Hosted`",
            ),
            (
                format!(r#"{{"enabled": true, "kind": "Hosted", "tags": ["{secret}"]}}"#),
                "invalid type, expected u8",
            ),
        ] {
            let e = serde_json::from_str::<Form>(&body).unwrap_err();
            let problem = json_problem(&e);
            assert_eq!(problem, expected);
            assert!(!problem.contains("hunter2"));
        }
        let e = serde_json::from_str::<Form>("{").unwrap_err();
        assert_eq!(json_problem(&e), "EOF while parsing an object");
    }

    #[test]
    fn every_code_is_in_the_table_with_its_status() {
        let samples = [
            ApiError::Unauthenticated("x"),
            ApiError::invalid("limit", "must be 0..=1000"),
            ApiError::MalformedBody("x".into()),
            ApiError::BodyTooLarge { limit: 1 },
            ApiError::forbidden("x"),
            ApiError::not_found("x"),
            ApiError::Conflict("x".into()),
            ApiError::NoRoute {
                method: "GET".into(),
                path: "/".into(),
            },
            ApiError::MethodNotAllowed,
            ApiError::NotAcceptable("x"),
            ApiError::Internal("x".into()),
            ApiError::StorageFull,
            ApiError::StorageReadOnly,
            ApiError::TooManyAuthFailures {
                retry_after_secs: 1,
            },
            ApiError::TooLarge {
                what: "x".into(),
                limit: "1 byte".into(),
            },
            ApiError::BodyStalled,
            ApiError::NotWritable("x".into()),
            ApiError::AddressRefused,
            ApiError::Upstream {
                timeout: false,
                message: "x".into(),
            },
            ApiError::Upstream {
                timeout: true,
                message: "x".into(),
            },
            ApiError::invalid("limit", "x").insight(),
            ApiError::forbidden("x").insight(),
            ApiError::not_found("x").insight(),
            ApiError::BlobStoreUnavailable(Unavailable::Unreachable),
            ApiError::DatabaseUnavailable,
            ApiError::Registry {
                oci_code: "DIGEST_INVALID",
                status: 400,
                message: "x".into(),
            },
            ApiError::Registry {
                oci_code: "BLOB_UNKNOWN",
                status: 404,
                message: "x".into(),
            },
            ApiError::Registry {
                oci_code: "BLOB_UPLOAD_INVALID",
                status: 416,
                message: "x".into(),
            },
            ApiError::Registry {
                oci_code: "MANIFEST_INVALID",
                status: 413,
                message: "x".into(),
            },
        ];
        for e in samples {
            let row = CODE_TABLE
                .iter()
                .find(|(code, _, _)| *code == e.code())
                .unwrap_or_else(|| panic!("{} missing from the table", e.code()));
            assert_eq!(row.1, e.status().as_u16(), "{}", e.code());
        }
    }

    #[test]
    fn invalid_parameter_names_the_parameter() {
        let e = ApiError::invalid("page_size", "must be between 1 and 100");
        assert!(e.message().contains("'page_size'"));
        assert!(!ApiError::Internal("db exploded".into())
            .message()
            .contains("db"));
    }

    #[test]
    fn readme_documents_every_code() {
        let readme = include_str!("../../README.md");
        for (code, status, _) in CODE_TABLE {
            assert!(
                readme.contains(&format!("| `{code}` | {status} |")),
                "README.md's error table lacks {code}"
            );
        }
    }
}
