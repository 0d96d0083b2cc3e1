//! The request metrics layer: counts every answer by API group, route template, method and status
//! class, times it, and counts the body bytes that go in and out, so no handler has to.
//!
//! The route template is only known once the router has matched, which is inside the outer layers:
//! `note_route` (a route layer, run after matching) hands it back on the response, and `observe` (the
//! outer layer) reads it there. An unmatched request is labelled `unmatched`, never with its path.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use prometheus_client::metrics::counter::Counter;

use crate::telemetry::{GroupLabel, RequestLabels, METRICS};

#[derive(Clone)]
struct Route(String);

pub async fn note_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

pub async fn observe(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let group = api_group(request.uri().path());
    let method = method_label(request.method());
    let label = GroupLabel { group };
    let (parts, body) = request.into_parts();
    let counted = Counted {
        inner: body,
        counter: METRICS.bytes_in.get_or_create(&label).clone(),
    };
    let response = next
        .run(Request::from_parts(parts, Body::new(counted)))
        .await;
    METRICS
        .latency
        .get_or_create(&label)
        .observe(started.elapsed().as_secs_f64());
    let route = response
        .extensions()
        .get::<Route>()
        .map_or_else(|| "unmatched".to_string(), |r| r.0.clone());
    METRICS
        .requests
        .get_or_create(&RequestLabels {
            group,
            route,
            method,
            status: status_class(response.status().as_u16()),
        })
        .inc();
    let (parts, body) = response.into_parts();
    let counted = Counted {
        inner: body,
        counter: METRICS.bytes_out.get_or_create(&label).clone(),
    };
    Response::from_parts(parts, Body::new(counted))
}

/// The API group of a path, from its prefix: a fixed set of labels whatever the client sends.
pub fn api_group(path: &str) -> &'static str {
    let segments: Vec<&str> = path.trim_start_matches('/').splitn(4, '/').collect();
    match segments.as_slice() {
        ["health", ..] => "health",
        ["metrics", ..] => "metrics",
        ["artifactory", "api", "pypi", ..] => "protocol_pypi",
        ["artifactory", "api", "npm", ..] => "protocol_npm",
        ["artifactory", "api", "cargo", ..] => "protocol_cargo",
        ["artifactory", "api", "go", ..] => "protocol_go",
        // Maven and generic repositories share the hosted path; which one a request reached is a
        // repository's property, not the path's.
        ["artifactory", ..] => "protocol_maven_generic",
        ["v3" | "v3.0", ..] => "iam",
        ["v4", ..] => "projectman",
        // The release-repository API lives under /devreposerver and two project-scoped paths.
        ["devreposerver", ..] | ["v2", _, "release", ..] | ["v5", _, "versions", ..] => "release",
        // Every other /v2/ path is the container registry (OCI Distribution).
        ["v2", ..] => "protocol_oci",
        ["cloudartifact" | "v1" | "v5", ..] => "artifact",
        _ => "other",
    }
}

fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// A body that adds the bytes of each data frame to a counter as they pass, keeping the inner body's
/// size hint (so a known length still goes out as `Content-Length`).
struct Counted {
    inner: Body,
    counter: Counter,
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled {
            if let Some(data) = frame.data_ref() {
                self.counter.inc_by(data.len() as u64);
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_come_from_the_prefix_only() {
        assert_eq!(api_group("/v3/auth/tokens"), "iam");
        assert_eq!(api_group("/v3.0/OS-USER/users"), "iam");
        assert_eq!(api_group("/v4/projects/abc/members"), "projectman");
        assert_eq!(api_group("/cloudartifact/v5/file"), "artifact");
        assert_eq!(api_group("/devreposerver/v5/files/list"), "release");
        assert_eq!(api_group("/v5/p1/versions"), "release");
        assert_eq!(api_group("/v5/user/p1/privileges"), "artifact");
        assert_eq!(api_group("/v1/p1/tickets"), "artifact");
        assert_eq!(api_group("/v2/p1/release/files"), "release");
        assert_eq!(api_group("/devreposerver/v2/release/p1/files"), "release");
        assert_eq!(
            api_group("/artifactory/api/pypi/r/simple/"),
            "protocol_pypi"
        );
        assert_eq!(api_group("/artifactory/api/npm/r/x"), "protocol_npm");
        assert_eq!(api_group("/artifactory/api/cargo/r/x"), "protocol_cargo");
        assert_eq!(api_group("/artifactory/api/go/r/x/@v/list"), "protocol_go");
        assert_eq!(
            api_group("/artifactory/r/a/b.jar"),
            "protocol_maven_generic"
        );
        assert_eq!(api_group("/health"), "health");
        assert_eq!(api_group("/anything/else"), "other");
        assert_eq!(api_group("/"), "other");
    }

    #[test]
    fn status_classes() {
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(404), "4xx");
        assert_eq!(status_class(503), "5xx");
    }
}
