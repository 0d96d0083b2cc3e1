//! The client against real HTTP servers on loopback (axum, and a raw TCP forward proxy), started here.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine as _;
use bytes::Bytes;
use futures_util::{stream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const LIMIT: u64 = 1 << 20;

/// Bounds a step that only ends if the code under test works (an endless body cut by the limit, a stalled
/// one by the read timeout), so that a regression fails instead of hanging. Not a speed assertion.
async fn within<T>(what: &str, step: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), step)
        .await
        .unwrap_or_else(|_| panic!("{what} never ended"))
}

fn settings(allow_private_networks: bool) -> UpstreamSettings {
    UpstreamSettings {
        allow_private_networks,
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        proxy: None,
    }
}

/// Loopback allowed, as every test that reaches its own server needs.
fn open() -> Upstream {
    Upstream::new(settings(true))
}

fn req(url: &str) -> UpstreamRequest {
    UpstreamRequest::new(Url::parse(url).unwrap(), LIMIT)
}

fn basic(user: &str, password: &str) -> String {
    let pair = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

#[derive(Debug, Clone)]
struct Seen {
    host: String,
    path: String,
    headers: HeaderMap,
}

impl Seen {
    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

/// What a test server received, in order.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    fn seen(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
}

async fn serve(router: Router, log: &Log) -> SocketAddr {
    let log = log.clone();
    let router = router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let log = log.clone();
            async move {
                log.0.lock().unwrap().push(Seen {
                    host: request
                        .headers()
                        .get(header::HOST)
                        .map(|h| h.to_str().unwrap().to_owned())
                        .unwrap_or_default(),
                    path: request.uri().path().to_owned(),
                    headers: request.headers().clone(),
                });
                next.run(request).await
            }
        },
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    address
}

fn redirect(status: StatusCode, to: String) -> Response {
    (status, [(header::LOCATION, to)]).into_response()
}

fn assert_denied(result: Result<UpstreamResponse, UpstreamError>, what: &str) -> String {
    match result {
        Err(err @ UpstreamError::Denied { .. }) => {
            assert_eq!(err.gateway_status(), 502);
            err.to_string()
        }
        other => panic!("{what}: expected Denied, got {other:?}"),
    }
}

#[tokio::test]
async fn loopback_is_refused_by_default_as_a_literal_and_as_a_name_and_allowed_by_the_switch() {
    let log = Log::default();
    let server = serve(Router::new().route("/f", get(|| async { "hello" })), &log).await;
    let port = server.port();
    let strict = Upstream::new(settings(false));
    for target in [
        format!("http://127.0.0.1:{port}/f"),
        format!("http://[::ffff:127.0.0.1]:{port}/f"),
        format!("http://localhost:{port}/f"),
    ] {
        let message = assert_denied(strict.get(req(&target)).await, &target);
        assert!(message.contains("loopback"), "{message}");
    }
    assert!(log.seen().is_empty(), "nothing may reach the server");

    for target in [
        format!("http://127.0.0.1:{port}/f"),
        format!("http://localhost:{port}/f"),
    ] {
        let response = open().get(req(&target)).await.unwrap();
        assert_eq!(response.status, StatusCode::OK);
        assert_eq!(response.body.bytes().await.unwrap(), "hello");
    }
    assert_eq!(log.seen().len(), 2);
}

#[tokio::test]
async fn link_local_and_metadata_addresses_are_refused_even_with_private_networks_allowed() {
    let upstream = open();
    for target in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        // Spellings the URL parser turns into 169.254.169.254.
        "http://2852039166/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://224.0.0.1/",
    ] {
        assert_denied(upstream.get(req(target)).await, target);
    }
    let message = assert_denied(upstream.get(req("http://169.254.169.254/")).await, "");
    assert!(message.contains("link-local"), "{message}");
}

#[tokio::test]
async fn only_http_and_https_urls_without_credentials_are_fetched() {
    let upstream = open();
    for target in ["ftp://example.com/x", "file:///etc/passwd", "gopher://a/"] {
        assert_denied(upstream.get(req(target)).await, target);
    }
    let message = assert_denied(
        upstream
            .get(req("http://alice:pw-in-url-9c1@example.com/"))
            .await,
        "userinfo",
    );
    assert!(!message.contains("pw-in-url-9c1"), "{message}");
}

#[tokio::test]
async fn every_redirect_is_checked_against_the_policy() {
    let log = Log::default();
    let router = Router::new()
        .route(
            "/metadata",
            get(|| async {
                redirect(
                    StatusCode::FOUND,
                    "http://169.254.169.254/latest/meta-data/".into(),
                )
            }),
        )
        .route(
            "/mapped",
            get(|| async {
                redirect(
                    StatusCode::MOVED_PERMANENTLY,
                    "http://[::ffff:169.254.169.254]/".into(),
                )
            }),
        )
        .route(
            "/file",
            get(|| async { redirect(StatusCode::TEMPORARY_REDIRECT, "file:///etc/passwd".into()) }),
        );
    let server = serve(router, &log).await;
    for path in ["/metadata", "/mapped", "/file"] {
        assert_denied(
            open().get(req(&format!("http://{server}{path}"))).await,
            path,
        );
    }
    assert_eq!(log.seen().len(), 3, "only the first hops were sent");
}

#[tokio::test]
async fn redirects_stop_after_five() {
    let log = Log::default();
    let router = Router::new()
        .route(
            "/loop/{n}",
            get(|Path(n): Path<u32>| async move {
                redirect(StatusCode::FOUND, format!("/loop/{}", n + 1))
            }),
        )
        .route(
            "/chain/{n}",
            get(|Path(n): Path<u32>| async move {
                if n < MAX_REDIRECTS as u32 {
                    redirect(StatusCode::SEE_OTHER, format!("/chain/{}", n + 1))
                } else {
                    "end".into_response()
                }
            }),
        );
    let server = serve(router, &log).await;

    let err = open()
        .get(req(&format!("http://{server}/loop/0")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpstreamError::TooManyRedirects { limit: 5, .. }),
        "{err:?}"
    );
    assert_eq!(log.seen().len(), 1 + MAX_REDIRECTS);

    let response = open()
        .get(req(&format!("http://{server}/chain/0")))
        .await
        .unwrap();
    assert_eq!(response.url.path(), "/chain/5");
    assert_eq!(response.body.bytes().await.unwrap(), "end");
}

/// Server A on one port, server B on another: A /start → A /same → A via `localhost` (same port, other
/// host) → B (same host, other port) → back to A. Only the first two hops may carry Authorization.
#[tokio::test]
async fn credentials_go_only_to_the_original_scheme_host_and_port() {
    let log_b = Log::default();
    let log_a = Log::default();
    let b_port = Arc::new(Mutex::new(0u16));
    let a_port = Arc::new(Mutex::new(0u16));

    let a_for_named = a_port.clone();
    let b_for_named = b_port.clone();
    let a =
        serve(
            Router::new()
                .route(
                    "/start",
                    get(|| async { redirect(StatusCode::FOUND, "/same".into()) }),
                )
                .route(
                    "/same",
                    get(move || {
                        let port = *a_for_named.lock().unwrap();
                        async move {
                            redirect(
                                StatusCode::TEMPORARY_REDIRECT,
                                format!("http://localhost:{port}/named"),
                            )
                        }
                    }),
                )
                .route(
                    "/named",
                    get(move || {
                        let port = *b_for_named.lock().unwrap();
                        async move {
                            redirect(StatusCode::FOUND, format!("http://127.0.0.1:{port}/other"))
                        }
                    }),
                )
                .route("/back", get(|| async { "done" })),
            &log_a,
        )
        .await;
    *a_port.lock().unwrap() = a.port();
    let a_for_b = a.port();
    let b = serve(
        Router::new().route(
            "/other",
            get(move || async move {
                redirect(
                    StatusCode::PERMANENT_REDIRECT,
                    format!("http://127.0.0.1:{a_for_b}/back"),
                )
            }),
        ),
        &log_b,
    )
    .await;
    *b_port.lock().unwrap() = b.port();

    let credentials = Credentials {
        user_name: "alice".into(),
        password: "up-s3cret".into(),
    };
    let response = open()
        .get(req(&format!("http://{a}/start")).credentials(credentials))
        .await
        .unwrap();
    assert_eq!(response.body.bytes().await.unwrap(), "done");

    let expected = basic("alice", "up-s3cret");
    let a_seen = log_a.seen();
    let hops: Vec<(&str, &str, Option<String>)> = a_seen
        .iter()
        .map(|s| (s.path.as_str(), s.host.as_str(), s.header("authorization")))
        .collect();
    assert_eq!(hops.len(), 4, "{hops:?}");
    assert_eq!(hops[0].0, "/start");
    assert_eq!(hops[0].2.as_deref(), Some(expected.as_str()));
    assert_eq!(hops[1].0, "/same");
    assert_eq!(hops[1].2.as_deref(), Some(expected.as_str()));
    assert_eq!(hops[2].0, "/named");
    assert!(hops[2].1.starts_with("localhost:"), "{hops:?}");
    assert_eq!(hops[2].2, None, "another host name, same port");
    assert_eq!(hops[3].0, "/back");
    assert_eq!(hops[3].2, None, "back on the origin after leaving it");
    let b_seen = log_b.seen();
    assert_eq!(b_seen.len(), 1);
    assert_eq!(b_seen[0].header("authorization"), None, "another port");
}

#[tokio::test]
async fn a_body_over_the_limit_fails_while_streaming_and_when_announced() {
    const CHUNK: usize = 16 * 1024;
    let limit = 4 * CHUNK as u64;
    let log = Log::default();
    let router = Router::new()
        .route(
            "/endless",
            get(|| async {
                let chunks =
                    stream::repeat_with(|| Ok::<_, Infallible>(Bytes::from(vec![7u8; CHUNK])));
                Body::from_stream(chunks)
            }),
        )
        .route(
            "/announced",
            get(move || async move { vec![1u8; limit as usize + 1] }),
        )
        .route(
            "/exact",
            get(move || async move { vec![2u8; limit as usize] }),
        );
    let server = serve(router, &log).await;
    let request = |path: &str| {
        UpstreamRequest::new(
            Url::parse(&format!("http://{server}{path}")).unwrap(),
            limit,
        )
    };

    // An endless body: the test ends only because the limit cuts it.
    let response = open().get(request("/endless")).await.unwrap();
    assert_eq!(response.content_length, None);
    let mut body = response.body;
    let mut received = 0u64;
    let err = within("the endless body", async {
        loop {
            match body.next().await.expect("the body errs before it ends") {
                Ok(chunk) => received += chunk.len() as u64,
                Err(err) => break err,
            }
        }
    })
    .await;
    assert!(matches!(err, UpstreamError::TooLarge { .. }), "{err:?}");
    assert!(received <= limit);
    assert!(body.next().await.is_none(), "nothing after the error");

    let err = open().get(request("/announced")).await.unwrap_err();
    assert!(matches!(err, UpstreamError::TooLarge { .. }), "{err:?}");
    assert_eq!(err.gateway_status(), 502);

    let response = open().get(request("/exact")).await.unwrap();
    assert_eq!(response.content_length, Some(limit));
    assert_eq!(response.body.bytes().await.unwrap().len() as u64, limit);
}

#[tokio::test]
async fn a_silent_upstream_times_out_but_a_slow_steady_one_is_never_cut() {
    let upstream = Upstream::new(UpstreamSettings {
        read_timeout: Duration::from_secs(1),
        ..settings(true)
    });
    let log = Log::default();
    let router = Router::new()
        .route(
            "/stall",
            get(|| async {
                let first = stream::once(async { Ok::<_, Infallible>(Bytes::from_static(b"x")) });
                Body::from_stream(first.chain(stream::pending()))
            }),
        )
        .route(
            "/steady",
            get(|| async {
                // 6 pieces 400 ms apart: 2.4 s in all, more than the 1 s read timeout.
                let ticks = stream::unfold(0, |n| async move {
                    if n == 6 {
                        return None;
                    }
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    Some((Ok::<_, Infallible>(Bytes::from_static(b"tick")), n + 1))
                });
                Body::from_stream(ticks)
            }),
        );
    let server = serve(router, &log).await;

    let response = upstream
        .get(req(&format!("http://{server}/stall")))
        .await
        .unwrap();
    let mut body = response.body;
    assert_eq!(body.next().await.unwrap().unwrap(), "x");
    let err = within("the stalled body", body.next())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Timeout { .. }), "{err:?}");
    assert_eq!(err.gateway_status(), 504);

    // Accepts, reads, never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_address = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let err = within(
        "the request to a silent server",
        upstream.get(req(&format!("http://{silent_address}/x"))),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, UpstreamError::Timeout { .. }), "{err:?}");

    let response = upstream
        .get(req(&format!("http://{server}/steady")))
        .await
        .unwrap();
    assert_eq!(response.body.bytes().await.unwrap(), "tick".repeat(6));
}

#[tokio::test]
async fn conditional_requests_surface_304_and_headers_are_passed_on() {
    const ETAG: &str = "\"v1\"";
    const DATE: &str = "Wed, 21 Oct 2015 07:28:00 GMT";
    let log = Log::default();
    let router = Router::new().route(
        "/meta",
        get(|headers: HeaderMap| async move {
            let given = |name| headers.get(name).and_then(|v| v.to_str().ok());
            if given(header::IF_NONE_MATCH) == Some(ETAG)
                || given(header::IF_MODIFIED_SINCE) == Some(DATE)
            {
                return (StatusCode::NOT_MODIFIED, [(header::ETAG, ETAG)]).into_response();
            }
            (
                [
                    (header::ETAG, ETAG),
                    (header::LAST_MODIFIED, DATE),
                    (header::CONTENT_TYPE, "application/json"),
                ],
                "{}",
            )
                .into_response()
        }),
    );
    let server = serve(router, &log).await;
    let url = format!("http://{server}/meta");

    let fresh = open()
        .get(req(&url).accept("application/vnd.pypi.simple.v1+json"))
        .await
        .unwrap();
    assert_eq!(fresh.status, StatusCode::OK);
    assert_eq!(fresh.etag.as_deref(), Some(ETAG));
    assert_eq!(fresh.last_modified.as_deref(), Some(DATE));
    assert_eq!(fresh.content_type.as_deref(), Some("application/json"));
    assert_eq!(fresh.content_length, Some(2));

    let by_etag = open().get(req(&url).if_none_match(ETAG)).await.unwrap();
    assert_eq!(by_etag.status, StatusCode::NOT_MODIFIED);
    assert!(by_etag.body.bytes().await.unwrap().is_empty());
    let by_date = open().get(req(&url).if_modified_since(DATE)).await.unwrap();
    assert_eq!(by_date.status, StatusCode::NOT_MODIFIED);

    let seen = log.seen();
    assert_eq!(
        seen[0].header("accept").as_deref(),
        Some("application/vnd.pypi.simple.v1+json")
    );
    assert_eq!(
        seen[0].header("accept-encoding").as_deref(),
        Some("identity")
    );
    assert!(seen[0].header("user-agent").unwrap().starts_with("arca/"));
    assert_eq!(seen[1].header("if-none-match").as_deref(), Some(ETAG));
    assert_eq!(seen[2].header("if-modified-since").as_deref(), Some(DATE));

    let err = open()
        .get(req(&url).if_none_match("\"a\"\r\nX-Injected: 1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, UpstreamError::InvalidRequest { .. }),
        "{err:?}"
    );
    assert_eq!(log.seen().len(), 3);
}

#[tokio::test]
async fn messages_name_the_host_and_hold_no_secret_and_no_upstream_text() {
    let log = Log::default();
    let router = Router::new().route(
        "/broken",
        get(|| async {
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL-DETAIL stack trace",
            )
        }),
    );
    let server = serve(router, &log).await;
    let response = open()
        .get(req(&format!("http://{server}/broken")))
        .await
        .unwrap();
    assert_eq!(response.status, StatusCode::INTERNAL_SERVER_ERROR);
    let message = response.status_error().to_string();
    assert_eq!(message, format!("upstream {server} answered HTTP 500"));

    // A port nothing listens on: a connection refused, with credentials in the request.
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed_address = closed.local_addr().unwrap();
    drop(closed);
    let request =
        req(&format!("http://{closed_address}/a?token=q-s3cret")).credentials(Credentials {
            user_name: "alice".into(),
            password: "up-s3cret".into(),
        });
    assert!(!format!("{request:?}").contains("up-s3cret"));
    assert!(!format!("{:?}", request.clone().bearer("tok-s3cret")).contains("tok-s3cret"));
    let err = open().get(request).await.unwrap_err();
    assert!(matches!(err, UpstreamError::Connect { .. }), "{err:?}");
    for text in [err.to_string(), format!("{err:?}")] {
        assert!(text.contains(&closed_address.to_string()), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    let err = open()
        .get(req("http://no-such-name.invalid/"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot connect to upstream no-such-name.invalid: its name does not resolve"
    );

    let with_proxy = UpstreamSettings {
        proxy: Some(OutboundProxy {
            host: "proxy.test".into(),
            port: 3128,
            user_name: Some("carol".into()),
            password: Some("proxy-s3cret".into()),
        }),
        ..settings(false)
    };
    assert!(!format!("{with_proxy:?}").contains("s3cret"));
    assert!(!format!("{:?}", Upstream::new(with_proxy)).contains("s3cret"));
}

/// A minimal forward proxy: records each request head; answers absolute-form GETs itself (a 302 towards
/// the metadata address for paths with `redirect`), refuses CONNECT with 403.
async fn forward_proxy(heads: Arc<Mutex<Vec<String>>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let heads = heads.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buffer = [0u8; 4096];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let answer: &[u8] = if head.starts_with("CONNECT ") {
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
                } else if head.lines().next().unwrap_or("").contains("redirect") {
                    b"HTTP/1.1 302 Found\r\nLocation: http://[::ffff:169.254.169.254]/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: close\r\n\r\nproxied!"
                };
                heads.lock().unwrap().push(head);
                let _ = socket.write_all(answer).await;
            });
        }
    });
    address
}

fn proxy_at(address: SocketAddr, host: &str) -> OutboundProxy {
    OutboundProxy {
        host: host.into(),
        port: address.port(),
        user_name: Some("carol".into()),
        password: Some("proxy-s3cret".into()),
    }
}

#[tokio::test]
async fn requests_go_through_the_outbound_proxy() {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let proxy = forward_proxy(heads.clone()).await;
    let upstream = Upstream::new(UpstreamSettings {
        proxy: Some(proxy_at(proxy, "127.0.0.1")),
        ..settings(true)
    });
    let proxy_credentials = basic("carol", "proxy-s3cret").to_ascii_lowercase();

    // http: an absolute-form request to the proxy, with proxy credentials.
    let response = upstream
        .get(req("http://upstream.test:8081/pkg/a.jar"))
        .await
        .unwrap();
    assert_eq!(response.body.bytes().await.unwrap(), "proxied!");
    // https: a CONNECT tunnel; the upstream's own credentials would only travel inside it.
    let err = upstream
        .get(
            req("https://upstream.test/pkg/b.jar").credentials(Credentials {
                user_name: "alice".into(),
                password: "up-s3cret".into(),
            }),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Connect { .. }), "{err:?}");
    assert!(err.to_string().contains("outbound proxy"), "{err}");
    assert!(!err.to_string().contains("s3cret"), "{err}");

    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 2, "{heads:?}");
    assert!(
        heads[0].starts_with("GET http://upstream.test:8081/pkg/a.jar HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[1].starts_with("CONNECT upstream.test:443 HTTP/1.1\r\n"),
        "{}",
        heads[1]
    );
    for head in &heads {
        let lower = head.to_ascii_lowercase();
        assert!(
            lower.contains(&format!("proxy-authorization: {proxy_credentials}")),
            "{head}"
        );
    }
    assert!(!heads[1].to_ascii_lowercase().contains("\r\nauthorization:"));
}

#[tokio::test]
async fn the_outbound_proxy_and_targets_behind_it_pass_the_policy() {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let proxy = forward_proxy(heads.clone()).await;
    let target = "http://upstream.test/pkg/a.jar";

    // A loopback proxy under the default policy: as an IP literal, and as a name resolving to loopback.
    for host in ["127.0.0.1", "localhost"] {
        let strict = Upstream::new(UpstreamSettings {
            proxy: Some(proxy_at(proxy, host)),
            ..settings(false)
        });
        let message = assert_denied(strict.get(req(target)).await, host);
        assert!(message.contains("outbound proxy"), "{message}");
        assert!(!message.contains("s3cret"), "{message}");
    }
    let open_policy = AddressPolicy {
        allow_private_networks: true,
    };
    for host in [
        "169.254.169.254",
        "::ffff:169.254.169.254",
        "not a host",
        "",
    ] {
        let configured = proxy_at(proxy, host);
        assert!(
            Upstream::check_proxy(&configured, open_policy).is_err(),
            "{host}"
        );
        let upstream = Upstream::new(UpstreamSettings {
            proxy: Some(configured),
            ..settings(true)
        });
        assert_denied(upstream.get(req(target)).await, host);
    }
    assert!(Upstream::check_proxy(&proxy_at(proxy, "127.0.0.1"), open_policy).is_ok());
    assert!(
        heads.lock().unwrap().is_empty(),
        "nothing reached the proxy"
    );

    // Through an allowed proxy, targets are still checked: literals, redirects, and names looked up here.
    let upstream = Upstream::new(UpstreamSettings {
        proxy: Some(proxy_at(proxy, "127.0.0.1")),
        ..settings(true)
    });
    assert_denied(
        upstream.get(req("http://169.254.169.254/")).await,
        "literal",
    );
    assert_denied(
        upstream.get(req("http://upstream.test/redirect")).await,
        "redirect",
    );
    assert_eq!(heads.lock().unwrap().len(), 1, "only the redirecting hop");
    let strict = AddressPolicy {
        allow_private_networks: false,
    };
    let within = Duration::from_secs(5);
    assert_eq!(
        resolver::refused_behind_proxy(strict, "localhost", within).await,
        Some(AddressClass::Loopback)
    );
    assert_eq!(
        resolver::refused_behind_proxy(open_policy, "localhost", within).await,
        None
    );
    assert_eq!(
        resolver::refused_behind_proxy(strict, "upstream.test", within).await,
        None,
        "a name the proxy may know is let through"
    );
}

/// A TLS server whose certificate (`testdata/self-signed.crt`: for localhost and 127.0.0.1, valid for a
/// century, a subject no system root shares) no root vouches for: the handshake happens (rustls is wired
/// in) and verification refuses it.
#[tokio::test]
async fn an_upstream_whose_certificate_no_root_vouches_for_is_refused() {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certificates = CertificateDer::pem_slice_iter(include_bytes!("testdata/self-signed.crt"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("testdata/self-signed.key")).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let handshakes = Arc::new(Mutex::new(Vec::new()));
    let seen = handshakes.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let outcome = acceptor.accept(socket).await.map(|_| ());
            seen.lock().unwrap().push(outcome.is_ok());
        }
    });

    let err = open()
        .get(
            req(&format!("https://localhost:{}/x", address.port())).credentials(Credentials {
                user_name: "alice".into(),
                password: "up-s3cret".into(),
            }),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, UpstreamError::Connect { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("TLS handshake failed"), "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        *handshakes.lock().unwrap(),
        vec![false],
        "one handshake, refused"
    );
}

#[test]
fn origins_compare_scheme_host_and_effective_port() {
    let origin = |u: &str| Origin::of(&Url::parse(u).unwrap());
    assert_eq!(origin("http://a.test/x"), origin("http://a.test:80/y"));
    assert_eq!(origin("https://A.test/x"), origin("https://a.test:443/"));
    assert_ne!(origin("http://a.test/"), origin("https://a.test/"));
    assert_ne!(origin("http://a.test/"), origin("http://a.test:8080/"));
    assert_ne!(origin("http://a.test/"), origin("http://b.a.test/"));
}

#[test]
fn a_redirect_from_https_to_http_is_refused() {
    let from = Url::parse("https://repo.test/a").unwrap();
    let to =
        |location: &'static str| next_hop(&from, &HeaderValue::from_static(location), "repo.test");
    assert!(matches!(
        to("http://repo.test/b"),
        Err(UpstreamError::Denied { .. })
    ));
    assert_eq!(to("/b#frag").unwrap().as_str(), "https://repo.test/b");
    assert_eq!(
        to("https://cdn.test/c").unwrap().as_str(),
        "https://cdn.test/c"
    );
}
