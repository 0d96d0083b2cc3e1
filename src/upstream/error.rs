//! What can go wrong talking to an upstream. Messages name the upstream's host (`host[:port]`, never a
//! path or query, which may carry a signed URL's token) and never repeat what the upstream sent or the
//! credentials used.

use std::error::Error as _;
use std::io;

use super::resolver::{RefusedName, Unresolved};

#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// The address policy, the scheme or the URL's form forbids the request; nothing was sent.
    #[error("upstream {host} refused: {reason}")]
    Denied { host: String, reason: String },
    /// No connection could be made (refused, unreachable, no such name, TLS handshake failed, proxy
    /// tunnel refused).
    #[error("cannot connect to upstream {host}: {cause}")]
    Connect { host: String, cause: String },
    /// Connecting took longer than the connect timeout, or the upstream stayed silent longer than the read
    /// timeout (before its answer or in the middle of its body).
    #[error("upstream {host} timed out {during}")]
    Timeout { host: String, during: &'static str },
    /// The body is larger than the caller's limit: announced so, or found so while streaming.
    #[error("upstream {host} sent more than {limit} bytes")]
    TooLarge { host: String, limit: u64 },
    #[error("upstream {host} redirected more than {limit} times")]
    TooManyRedirects { host: String, limit: usize },
    /// The upstream's answer could not be used: no valid HTTP answer, a body broken off, a malformed
    /// redirect.
    #[error("upstream {host} answered unusably: {reason}")]
    Protocol { host: String, reason: &'static str },
    /// An answer the caller cannot use (a 5xx, an unexpected 4xx); built by callers with
    /// `UpstreamResponse::status_error`, so the upstream's body is never read into it.
    #[error("upstream {host} answered HTTP {status}")]
    Status { host: String, status: u16 },
    /// The caller's own request was malformed (a header value with control characters).
    #[error("invalid request to upstream {host}: {reason}")]
    InvalidRequest { host: String, reason: &'static str },
}

impl UpstreamError {
    /// The status a gateway answers for this failure: 504 when the upstream was too slow, else 502.
    pub fn gateway_status(&self) -> u16 {
        match self {
            UpstreamError::Timeout { .. } => 504,
            _ => 502,
        }
    }

    pub fn host(&self) -> &str {
        match self {
            UpstreamError::Denied { host, .. }
            | UpstreamError::Connect { host, .. }
            | UpstreamError::Timeout { host, .. }
            | UpstreamError::TooLarge { host, .. }
            | UpstreamError::TooManyRedirects { host, .. }
            | UpstreamError::Protocol { host, .. }
            | UpstreamError::Status { host, .. }
            | UpstreamError::InvalidRequest { host, .. } => host,
        }
    }
}

/// Where in an exchange a reqwest error happened, to say what the timeout interrupted.
#[derive(Debug, Clone, Copy)]
pub(super) enum Phase {
    Answer,
    Body,
}

/// Maps a reqwest error to ours without its text: reqwest's messages carry the full URL. `proxy` is the
/// outbound proxy's `host:port` when one is in use: then reqwest resolves (and connects to) only the proxy.
pub(super) fn from_reqwest(
    err: &reqwest::Error,
    host: &str,
    phase: Phase,
    proxy: Option<&str>,
) -> UpstreamError {
    let host = host.to_owned();
    let whose = match proxy {
        Some(proxy) => format!("the outbound proxy {proxy}'s name"),
        None => "its name".to_owned(),
    };
    if let Some(RefusedName(class)) = find::<RefusedName>(err) {
        return UpstreamError::Denied {
            host,
            reason: format!("{whose} resolves only to {}", class.describe()),
        };
    }
    if find::<Unresolved>(err).is_some() {
        return UpstreamError::Connect {
            host,
            cause: format!("{whose} does not resolve"),
        };
    }
    if err.is_timeout() {
        let during = match (err.is_connect(), phase) {
            (true, _) => "while connecting",
            (false, Phase::Answer) => "waiting for its answer",
            (false, Phase::Body) => "in the middle of its body",
        };
        return UpstreamError::Timeout { host, during };
    }
    if err.is_connect() {
        let cause = connect_cause(err);
        let cause = match proxy {
            Some(proxy) => format!("{cause} (through the outbound proxy {proxy})"),
            None => cause,
        };
        return UpstreamError::Connect { host, cause };
    }
    let reason = match phase {
        Phase::Answer => "no valid HTTP answer",
        Phase::Body => "the body broke off before its end",
    };
    UpstreamError::Protocol { host, reason }
}

fn find<T: std::error::Error + 'static>(err: &reqwest::Error) -> Option<&T> {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        source = e.source();
    }
    None
}

/// A short cause from the I/O error underneath, from a fixed vocabulary. A TLS failure's own text
/// (rustls's, e.g. "invalid peer certificate: UnknownIssuer") is kept: it is the operator's best clue and
/// holds nothing the upstream wrote.
fn connect_cause(err: &reqwest::Error) -> String {
    let Some(mut io) = find::<io::Error>(err) else {
        return "the connection failed".into();
    };
    // An I/O error wrapping another (hyper-util wraps the TLS stream's) does not name it as its source.
    while let Some(inner) = io.get_ref().and_then(|e| e.downcast_ref::<io::Error>()) {
        io = inner;
    }
    let cause = match io.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused",
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => "connection reset",
        io::ErrorKind::HostUnreachable => "host unreachable",
        io::ErrorKind::NetworkUnreachable => "network unreachable",
        io::ErrorKind::AddrNotAvailable => "address not available",
        io::ErrorKind::UnexpectedEof => "the connection closed during the handshake",
        io::ErrorKind::InvalidData => return format!("TLS handshake failed: {io}"),
        _ => "the connection failed",
    };
    cause.into()
}
