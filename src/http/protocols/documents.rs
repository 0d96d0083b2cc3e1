//! Answers with a kept metadata document (`service::documents`): the coding the client accepts best among
//! those stored, strong entity tags per coding, and `304 Not Modified` for `If-None-Match`.
//! `If-Modified-Since` is not honoured: `Last-Modified` says when the package last changed as its rows
//! record it, which not every change moves (a tarball trashed), and HTTP dates have whole seconds; the
//! entity tag is exact. npm, pip and cargo revalidate with the tag.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::download::http_date;
use crate::service::documents::Document;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    fn tag_suffix(self) -> &'static str {
        match self {
            Coding::Identity => "",
            Coding::Gzip => "-gzip",
            Coding::Brotli => "-br",
        }
    }
}

/// The client's weight (`q`) for `coding` in `Accept-Encoding`: an explicit entry, else `*`'s, else 0.
fn weight_of(accept: &str, coding: &str) -> f32 {
    let mut star = None;
    for entry in accept.split(',') {
        let mut parts = entry.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0.0)
}

/// The stored coding to send: brotli before gzip at equal weight (smaller), identity when neither is
/// accepted (or stored).
fn choose(document: &Document, request: &HeaderMap) -> Coding {
    let accept = request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    if accept.is_empty() {
        return Coding::Identity;
    }
    let br = document
        .brotli
        .as_ref()
        .map_or(0.0, |_| weight_of(&accept, "br"));
    let gz = document
        .gzip
        .as_ref()
        .map_or(0.0, |_| weight_of(&accept, "gzip"));
    if br > 0.0 && br >= gz {
        Coding::Brotli
    } else if gz > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// Whether `If-None-Match` names this document in any coding: every coding carries the same content.
fn none_match_hits(request: &HeaderMap, digest: &str) -> bool {
    for value in request.get_all(header::IF_NONE_MATCH) {
        let Ok(value) = value.to_str() else { continue };
        for tag in value.split(',') {
            let tag = tag.trim().trim_start_matches("W/");
            if tag == "*" {
                return true;
            }
            let Some(opaque) = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
                continue;
            };
            let base = opaque
                .strip_suffix("-gzip")
                .or_else(|| opaque.strip_suffix("-br"))
                .unwrap_or(opaque);
            if base == digest {
                return true;
            }
        }
    }
    false
}

/// The answer for `document`. `vary` names the request headers besides `Accept-Encoding` the document
/// was chosen by (`Accept` for npm and PyPI), for caches between.
pub fn document_response(
    document: &Document,
    request: &HeaderMap,
    head: bool,
    vary: Option<&'static str>,
) -> Response {
    let coding = choose(document, request);
    let body: &Bytes = match coding {
        Coding::Identity => &document.identity,
        Coding::Gzip => document.gzip.as_ref().unwrap_or(&document.identity),
        Coding::Brotli => document.brotli.as_ref().unwrap_or(&document.identity),
    };
    let mut headers = HeaderMap::new();
    let etag = format!("\"{}{}\"", document.digest, coding.tag_suffix());
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&http_date(document.modified_at)) {
        headers.insert(header::LAST_MODIFIED, v);
    }
    headers.insert(
        header::VARY,
        HeaderValue::from_static(match vary {
            Some("Accept") => "Accept, Accept-Encoding",
            _ => "Accept-Encoding",
        }),
    );
    if none_match_hits(request, &document.digest) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(document.content_type),
    );
    match coding {
        Coding::Identity => {}
        Coding::Gzip => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        Coding::Brotli => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
        }
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if head {
        return (StatusCode::OK, headers).into_response();
    }
    (StatusCode::OK, headers, body.clone()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn document() -> Document {
        Document::build_now(
            b"{\"a\":1}".repeat(200),
            "application/json",
            1_700_000_000_123,
        )
    }

    #[test]
    fn the_best_accepted_stored_coding_is_sent() {
        let d = document();
        let pick = |v: &str| choose(&d, &request(&[("accept-encoding", v)]));
        assert_eq!(pick("gzip, deflate, br"), Coding::Brotli);
        assert_eq!(pick("gzip"), Coding::Gzip);
        assert_eq!(pick("br;q=0.5, gzip"), Coding::Gzip);
        assert_eq!(pick("br;q=0, gzip;q=0"), Coding::Identity);
        assert_eq!(pick("*"), Coding::Brotli);
        assert_eq!(pick("identity"), Coding::Identity);
        assert_eq!(choose(&d, &HeaderMap::new()), Coding::Identity);
        let small = Document::build_now(b"{}".to_vec(), "application/json", 0);
        assert_eq!(
            choose(&small, &request(&[("accept-encoding", "br")])),
            Coding::Identity
        );
    }

    #[test]
    fn a_known_tag_in_any_coding_answers_304() {
        let d = document();
        let status =
            |pairs: &[(&str, &str)]| document_response(&d, &request(pairs), false, None).status();
        let tag = format!("\"{}\"", d.digest);
        let gz_tag = format!("\"{}-gzip\"", d.digest);
        assert_eq!(status(&[("if-none-match", &tag)]), StatusCode::NOT_MODIFIED);
        assert_eq!(
            status(&[("if-none-match", &format!("\"x\", W/{gz_tag}"))]),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(status(&[("if-none-match", "*")]), StatusCode::NOT_MODIFIED);
        assert_eq!(status(&[("if-none-match", "\"other\"")]), StatusCode::OK);
        assert_eq!(
            status(&[("if-none-match", d.digest.as_str())]),
            StatusCode::OK
        );
        let date = http_date(d.modified_at);
        assert_eq!(status(&[("if-modified-since", &date)]), StatusCode::OK);
    }

    #[test]
    fn each_coding_has_its_own_tag_and_headers() {
        let d = document();
        let r = document_response(
            &d,
            &request(&[("accept-encoding", "gzip")]),
            false,
            Some("Accept"),
        );
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(
            r.headers()[header::ETAG].to_str().unwrap(),
            format!("\"{}-gzip\"", d.digest)
        );
        assert_eq!(r.headers()[header::VARY], "Accept, Accept-Encoding");
        assert_eq!(
            r.headers()[header::CONTENT_LENGTH].to_str().unwrap(),
            d.gzip.as_ref().unwrap().len().to_string()
        );
        let plain = document_response(&d, &HeaderMap::new(), true, None);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(
            plain.headers()[header::ETAG].to_str().unwrap(),
            format!("\"{}\"", d.digest)
        );
    }
}
