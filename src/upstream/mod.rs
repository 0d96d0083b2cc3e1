//! The outbound HTTP client remote repositories reach their upstreams with.
//!
//! A remote repository is a way to make arca send requests, so this client decides where they may go:
//! only `http` and `https`; every address connected to is checked against `policy::AddressPolicy` —
//! names by a resolver that drops refused addresses at connect time (`resolver`), IP literals here
//! before each request; at most `MAX_REDIRECTS` redirects, followed here (not by reqwest) so each hop is
//! checked the same way and the upstream's credentials go only to the remote URL's own scheme, host and
//! port; bodies bounded while they stream (`body`); errors that name the host and nothing the upstream
//! wrote (`error`). The environment's `HTTP(S)_PROXY` variables are ignored: the only proxy is the one
//! configured, and it passes the same address policy.

mod body;
mod error;
mod policy;
mod resolver;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::header::{ACCEPT, ACCEPT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG};
use reqwest::header::{
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED, LOCATION, WWW_AUTHENTICATE,
};
pub use reqwest::StatusCode;
use url::Host;
pub use url::Url;

pub use body::UpstreamBody;
pub use error::UpstreamError;
pub use policy::{classify, AddressClass, AddressPolicy};

use error::{from_reqwest, Phase};

/// Redirects followed for one request; the next one is an error.
pub const MAX_REDIRECTS: usize = 5;

/// Basic credentials for an upstream or the outbound proxy. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub user_name: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user_name", &self.user_name)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A registry token sent as `Authorization: Bearer`. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
struct Bearer(String);

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer(<redacted>)")
    }
}

/// The outbound HTTP proxy upstream traffic goes through: `CONNECT host:port` for https targets,
/// absolute-form requests for http ones, with Basic proxy credentials when given.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboundProxy {
    pub host: String,
    pub port: u16,
    pub user_name: Option<String>,
    pub password: Option<String>,
}

impl fmt::Debug for OutboundProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutboundProxy")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user_name", &self.user_name)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSettings {
    /// Loopback, private and shared (CGNAT) addresses allowed; link-local never is.
    pub allow_private_networks: bool,
    /// Longest time to open a connection: name lookup, TCP, proxy tunnel, TLS.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes: the answer's head, then each read of its body. Not a total limit.
    pub read_timeout: Duration,
    pub proxy: Option<OutboundProxy>,
}

impl UpstreamSettings {
    pub fn from_config(config: &crate::config::Config, proxy: Option<OutboundProxy>) -> Self {
        UpstreamSettings {
            allow_private_networks: config.remote_allow_private_networks,
            connect_timeout: Duration::from_secs(config.remote_connect_timeout_secs),
            read_timeout: Duration::from_secs(config.remote_read_timeout_secs),
            proxy,
        }
    }
}

/// One GET to an upstream. `max_bytes` bounds the body (callers pass `max_artifact_bytes`).
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    url: Url,
    max_bytes: u64,
    credentials: Option<Credentials>,
    bearer: Option<Bearer>,
    if_none_match: Option<String>,
    if_modified_since: Option<String>,
    accept: Option<String>,
}

impl UpstreamRequest {
    pub fn new(url: Url, max_bytes: u64) -> Self {
        UpstreamRequest {
            url,
            max_bytes,
            credentials: None,
            bearer: None,
            if_none_match: None,
            if_modified_since: None,
            accept: None,
        }
    }

    /// Sent as `Authorization: Basic` to the URL's own scheme, host and port only.
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Sent as `Authorization: Bearer` (a registry token) instead of Basic, to the URL's own scheme,
    /// host and port only.
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(Bearer(token.into()));
        self
    }

    /// The same request without Basic credentials (a registry asked first without them).
    pub fn without_credentials(mut self) -> Self {
        self.credentials = None;
        self
    }

    /// The Basic credentials the request carries.
    pub fn credentials_of(&self) -> Option<Credentials> {
        self.credentials.clone()
    }

    /// Whether Basic credentials go with the request.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The ETag of the copy at hand, as the upstream sent it.
    pub fn if_none_match(mut self, etag: impl Into<String>) -> Self {
        self.if_none_match = Some(etag.into());
        self
    }

    /// The `Last-Modified` of the copy at hand, as the upstream sent it.
    pub fn if_modified_since(mut self, http_date: impl Into<String>) -> Self {
        self.if_modified_since = Some(http_date.into());
        self
    }

    pub fn accept(mut self, accept: impl Into<String>) -> Self {
        self.accept = Some(accept.into());
        self
    }

    pub fn url(&self) -> &Url {
        &self.url
    }
}

/// The final answer (after redirects), whatever its status: callers decide what a 304, a 404 or a 500
/// means for them. The body is not read yet.
pub struct UpstreamResponse {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    /// The challenge of a 401 (`WWW-Authenticate`).
    pub www_authenticate: Option<String>,
    /// The URL that answered (the last redirect's target): relative links in the body resolve against it.
    pub url: Url,
    pub body: UpstreamBody,
    host: String,
}

impl UpstreamResponse {
    /// The host (`host[:port]`) that answered.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// An error for a status the caller cannot use, dropping the body unread.
    pub fn status_error(self) -> UpstreamError {
        UpstreamError::Status {
            host: self.host,
            status: self.status.as_u16(),
        }
    }
}

impl fmt::Debug for UpstreamResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamResponse")
            .field("status", &self.status)
            .field("host", &self.host)
            .field("etag", &self.etag)
            .field("last_modified", &self.last_modified)
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

/// The client: one connection pool per settings, cheap to clone. Build a new one when the settings (the
/// outbound proxy) change.
#[derive(Clone)]
pub struct Upstream {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    policy: AddressPolicy,
    connect_timeout: Duration,
    /// The proxy's `host:port`, when one is configured.
    proxy: Option<String>,
    /// Why the configured proxy cannot be used; every request is then refused (never sent direct).
    proxy_refused: Option<String>,
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("policy", &self.inner.policy)
            .field("proxy", &self.inner.proxy)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    pub fn new(settings: UpstreamSettings) -> Upstream {
        let policy = AddressPolicy {
            allow_private_networks: settings.allow_private_networks,
        };
        let (proxy, proxy_refused) = match &settings.proxy {
            None => (None, None),
            Some(configured) => match reqwest_proxy(configured, policy) {
                Ok(proxy) => (Some(proxy), None),
                Err(reason) => (None, Some(reason)),
            },
        };
        let client = build_client(&settings, policy, proxy.clone(), true).unwrap_or_else(|err| {
            // The system's roots could not be read (none valid); Mozilla's bundled ones still serve.
            tracing::warn!(error = %err, "system root certificates unusable; using the bundled roots only");
            build_client(&settings, policy, proxy, false)
                .expect("a client without system roots has nothing left to fail on")
        });
        Upstream {
            inner: Arc::new(Inner {
                client,
                policy,
                connect_timeout: settings.connect_timeout,
                proxy: settings
                    .proxy
                    .as_ref()
                    .map(|p| proxy_authority(&p.host, p.port)),
                proxy_refused,
            }),
        }
    }

    pub fn policy(&self) -> AddressPolicy {
        self.inner.policy
    }

    /// What can be decided about a URL without a lookup: the scheme, no credentials in it, a host, and an
    /// IP-literal host against the policy. Names are checked when they are resolved, at connect time.
    pub fn check_url(&self, url: &Url) -> Result<(), UpstreamError> {
        check_url(self.inner.policy, url)
    }

    /// Whether a proxy's address is usable under a policy, as far as can be told without a lookup.
    pub fn check_proxy(proxy: &OutboundProxy, policy: AddressPolicy) -> Result<(), UpstreamError> {
        reqwest_proxy(proxy, policy)
            .map(|_| ())
            .map_err(|reason| UpstreamError::Denied {
                host: proxy_authority(&proxy.host, proxy.port),
                reason,
            })
    }

    /// GETs `request.url`, following redirects. Returns the final answer whatever its status.
    pub async fn get(&self, request: UpstreamRequest) -> Result<UpstreamResponse, UpstreamError> {
        let inner = &self.inner;
        let first_host = authority(&request.url);
        if let (Some(proxy), Some(reason)) = (&inner.proxy, &inner.proxy_refused) {
            return Err(UpstreamError::Denied {
                host: first_host,
                reason: format!("the outbound proxy {proxy} is refused: {reason}"),
            });
        }
        check_url(inner.policy, &request.url)?;
        let headers = request_headers(&request, &first_host)?;
        let origin = Origin::of(&request.url);
        let mut url = request.url.clone();
        let mut redirects = 0;
        // Once a redirect leaves the remote URL's origin, credentials are not sent again, even to a hop
        // back on it: another host does not get to choose what arca fetches there with them.
        let mut left_origin = false;
        loop {
            let host = authority(&url);
            if inner.proxy.is_some() {
                self.check_name_behind_proxy(&url, &host).await?;
            }
            let mut builder = inner.client.get(url.clone()).headers(headers.clone());
            if !left_origin {
                if let Some(Bearer(token)) = &request.bearer {
                    builder = builder.bearer_auth(token);
                } else if let Some(c) = &request.credentials {
                    builder = builder.basic_auth(&c.user_name, Some(&c.password));
                }
            }
            let response = builder
                .send()
                .await
                .map_err(|err| from_reqwest(&err, &host, Phase::Answer, inner.proxy.as_deref()))?;
            let status = response.status();
            tracing::debug!(upstream = %host, status = status.as_u16(), "upstream answered");

            let location = response.headers().get(LOCATION);
            if let (true, Some(location)) = (is_followed_redirect(status), location) {
                if redirects == MAX_REDIRECTS {
                    return Err(UpstreamError::TooManyRedirects {
                        host: first_host,
                        limit: MAX_REDIRECTS,
                    });
                }
                redirects += 1;
                let next = next_hop(&url, location, &host)?;
                check_url(inner.policy, &next)?;
                left_origin |= Origin::of(&next) != origin;
                url = next;
                continue;
            }
            return answer(response, url, host, request.max_bytes);
        }
    }

    async fn check_name_behind_proxy(&self, url: &Url, host: &str) -> Result<(), UpstreamError> {
        let Some(Host::Domain(name)) = url.host() else {
            return Ok(());
        };
        match resolver::refused_behind_proxy(self.inner.policy, name, self.inner.connect_timeout)
            .await
        {
            None => Ok(()),
            Some(class) => Err(UpstreamError::Denied {
                host: host.to_owned(),
                reason: format!("its name resolves to {}", class.describe()),
            }),
        }
    }
}

fn build_client(
    settings: &UpstreamSettings,
    policy: AddressPolicy,
    proxy: Option<reqwest::Proxy>,
    system_roots: bool,
) -> reqwest::Result<reqwest::Client> {
    let mut defaults = HeaderMap::new();
    // Stored bytes must be the upstream's file, checksums and all: no content coding.
    defaults.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    let builder = reqwest::Client::builder()
        .user_agent(concat!("arca/", env!("CARGO_PKG_VERSION")))
        .default_headers(defaults)
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .no_proxy()
        .dns_resolver(Arc::new(resolver::PolicyResolver { policy }))
        .connect_timeout(settings.connect_timeout)
        .read_timeout(settings.read_timeout)
        .tls_built_in_native_certs(system_roots);
    match proxy {
        Some(proxy) => builder.proxy(proxy),
        None => builder,
    }
    .build()
}

/// reqwest's proxy for ours, or why it is refused: a malformed host, or an IP literal the policy refuses
/// (a name is resolved through the policy resolver when the proxy is connected to).
fn reqwest_proxy(proxy: &OutboundProxy, policy: AddressPolicy) -> Result<reqwest::Proxy, String> {
    if let Ok(ip) = proxy.host.parse::<IpAddr>() {
        policy
            .check(ip)
            .map_err(|class| format!("it is {}", class.describe()))?;
    } else if !is_dns_name(&proxy.host) {
        return Err("its host is not a DNS name or an IP address".into());
    }
    if proxy.port == 0 {
        return Err("its port is 0".into());
    }
    let url = format!("http://{}", proxy_authority(&proxy.host, proxy.port));
    let mut reqwest_proxy =
        reqwest::Proxy::all(url.as_str()).map_err(|_| "its address is not a URL".to_string())?;
    if proxy.user_name.is_some() || proxy.password.is_some() {
        reqwest_proxy = reqwest_proxy.basic_auth(
            proxy.user_name.as_deref().unwrap_or(""),
            proxy.password.as_deref().unwrap_or(""),
        );
    }
    Ok(reqwest_proxy)
}

fn proxy_authority(host: &str, port: u16) -> String {
    match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => format!("[{v6}]:{port}"),
        _ => format!("{host}:{port}"),
    }
}

fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host
            .split('.')
            .all(|label| !label.is_empty() && label.len() <= 63)
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
}

fn check_url(policy: AddressPolicy, url: &Url) -> Result<(), UpstreamError> {
    let denied = |reason: String| UpstreamError::Denied {
        host: authority(url),
        reason,
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Err(denied("only http and https URLs are fetched".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(denied(
            "the URL carries credentials (they belong in the repository's user name and password)"
                .into(),
        ));
    }
    let ip = match url.host() {
        None => return Err(denied("the URL has no host".into())),
        Some(Host::Domain(_)) => return Ok(()),
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
    };
    policy
        .check(ip)
        .map_err(|class| denied(format!("it is {}", class.describe())))
}

/// `host[:port]` of a URL, the port only when it is not the scheme's default: what messages name.
fn authority(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// Where credentials may go: the remote URL's scheme, host and port exactly.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: Option<String>,
    port: Option<u16>,
}

impl Origin {
    fn of(url: &Url) -> Origin {
        Origin {
            scheme: url.scheme().to_owned(),
            host: url.host_str().map(str::to_owned),
            port: url.port_or_known_default(),
        }
    }
}

/// 301, 302, 303, 307, 308 (a GET stays a GET); 300 and 304 are answers, not redirects.
fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

fn next_hop(from: &Url, location: &HeaderValue, host: &str) -> Result<Url, UpstreamError> {
    let protocol = |reason| UpstreamError::Protocol {
        host: host.to_owned(),
        reason,
    };
    let location = location
        .to_str()
        .map_err(|_| protocol("a redirect whose Location is not text"))?;
    let mut next = from
        .join(location)
        .map_err(|_| protocol("a redirect to an invalid URL"))?;
    next.set_fragment(None);
    if from.scheme() == "https" && next.scheme() == "http" {
        return Err(UpstreamError::Denied {
            host: host.to_owned(),
            reason: "it redirected from https to http".into(),
        });
    }
    Ok(next)
}

fn request_headers(request: &UpstreamRequest, host: &str) -> Result<HeaderMap, UpstreamError> {
    let given: [(HeaderName, &Option<String>, &'static str); 3] = [
        (
            IF_NONE_MATCH,
            &request.if_none_match,
            "the If-None-Match value is not a valid header value",
        ),
        (
            IF_MODIFIED_SINCE,
            &request.if_modified_since,
            "the If-Modified-Since value is not a valid header value",
        ),
        (
            ACCEPT,
            &request.accept,
            "the Accept value is not a valid header value",
        ),
    ];
    let mut headers = HeaderMap::new();
    for (name, value, reason) in given {
        let Some(value) = value else { continue };
        let value = HeaderValue::from_str(value).map_err(|_| UpstreamError::InvalidRequest {
            host: host.to_owned(),
            reason,
        })?;
        headers.insert(name, value);
    }
    Ok(headers)
}

fn answer(
    response: reqwest::Response,
    url: Url,
    host: String,
    max_bytes: u64,
) -> Result<UpstreamResponse, UpstreamError> {
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_length = header(CONTENT_LENGTH).and_then(|v| v.trim().parse::<u64>().ok());
    let status = response.status();
    if status.is_success() && content_length.is_some_and(|length| length > max_bytes) {
        return Err(UpstreamError::TooLarge {
            host,
            limit: max_bytes,
        });
    }
    Ok(UpstreamResponse {
        status,
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
        content_type: header(CONTENT_TYPE),
        content_length,
        www_authenticate: header(WWW_AUTHENTICATE),
        url,
        body: UpstreamBody::new(response, host.clone(), max_bytes),
        host,
    })
}
