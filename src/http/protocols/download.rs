//! Streaming a stored file: `Content-Length`, `ETag` (the SHA-256), `Last-Modified`, conditional GET and
//! single byte ranges. Bytes flow from the blob store to the socket; nothing is held whole in memory.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::store::repos::FileEntry;

/// `ms` since the epoch as an IMF-fixdate (`Thu, 01 Jan 1970 00:00:00 GMT`). httpdate (hyper's own `Date`
/// writer) fills a fixed buffer: chrono through `write!` cost about 2,000 instructions an answer. Its range is
/// 1970 to 9999; a time outside it is given as the nearest end rather than refused.
pub fn http_date(ms: i64) -> String {
    const LAST_MS: i64 = 253_402_300_799_999;
    let ms = ms.clamp(0, LAST_MS) as u64;
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms))
}

/// A byte range request resolved against a file size.
#[derive(Debug, PartialEq, Eq)]
pub enum RangeAnswer {
    Full,
    Partial { start: u64, end: u64 },
    Unsatisfiable,
}

/// Resolves a `Range` header. Only single `bytes=` ranges are honoured; anything else is served whole,
/// which RFC 9110 allows.
pub fn resolve_range(value: Option<&str>, size: u64) -> RangeAnswer {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeAnswer::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = match (first.is_empty(), last.is_empty()) {
        (true, true) => return RangeAnswer::Full,
        (true, false) => match last.parse::<u64>() {
            Ok(0) => return RangeAnswer::Unsatisfiable,
            Ok(n) => Some((size.saturating_sub(n), size.saturating_sub(1))),
            Err(_) => return RangeAnswer::Full,
        },
        (false, _) => {
            let Ok(start) = first.parse::<u64>() else {
                return RangeAnswer::Full;
            };
            let end = if last.is_empty() {
                size.saturating_sub(1)
            } else {
                match last.parse::<u64>() {
                    Ok(e) if e >= start => e.min(size.saturating_sub(1)),
                    _ => return RangeAnswer::Full,
                }
            };
            Some((start, end))
        }
    };
    match parsed {
        Some((start, end)) if size > 0 && start < size => RangeAnswer::Partial { start, end },
        _ => RangeAnswer::Unsatisfiable,
    }
}

const X_CHECKSUM_SHA1: header::HeaderName = header::HeaderName::from_static("x-checksum-sha1");
const X_CHECKSUM_SHA256: header::HeaderName = header::HeaderName::from_static("x-checksum-sha256");
const X_CHECKSUM_MD5: header::HeaderName = header::HeaderName::from_static("x-checksum-md5");

fn etag_of(file: &FileEntry) -> String {
    format!("\"{}\"", file.sha256)
}

fn if_none_match_hits(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

pub async fn serve_file(
    state: &AppState,
    file: &FileEntry,
    request_headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let size = file.size as u64;
    let etag = etag_of(file);
    let mut headers = HeaderMap::with_capacity(8);
    let put = |h: &mut HeaderMap, name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            h.insert(name, v);
        }
    };
    put(&mut headers, header::ETAG, &etag);
    put(
        &mut headers,
        header::LAST_MODIFIED,
        &http_date(file.modified_at),
    );
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    put(&mut headers, header::CONTENT_TYPE, &file.content_type);
    put(&mut headers, X_CHECKSUM_SHA1, &file.sha1);
    put(&mut headers, X_CHECKSUM_SHA256, &file.sha256);
    put(&mut headers, X_CHECKSUM_MD5, &file.md5);
    if if_none_match_hits(request_headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    let range = request_headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok());
    let (status, start, len) = match resolve_range(range, size) {
        RangeAnswer::Full => (StatusCode::OK, 0, size),
        RangeAnswer::Partial { start, end } => {
            put(
                &mut headers,
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{size}"),
            );
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeAnswer::Unsatisfiable => {
            put(
                &mut headers,
                header::CONTENT_RANGE,
                &format!("bytes */{size}"),
            );
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, headers).into_response());
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    if head {
        return Ok((status, headers).into_response());
    }
    if state.small_files.keeps(size) {
        let whole = match state.small_files.get(&file.sha256) {
            Some(kept) => kept,
            None => {
                let bytes = Bytes::from(read_whole(state, &file.sha256, file.size).await?);
                if bytes.len() as u64 != size {
                    return Err(ApiError::from(crate::blob::BlobError::Io(
                        std::io::Error::other("a stored file is not the size recorded for it"),
                    )));
                }
                state.small_files.insert(&file.sha256, bytes.clone());
                bytes
            }
        };
        let part = whole.slice(start as usize..(start + len) as usize);
        return Ok((status, headers, Body::from(part)).into_response());
    }
    let stream = state.blobs.read(&file.sha256, start, len).await?;
    Ok((status, headers, Body::from_stream(stream)).into_response())
}

/// A small generated document (metadata, checksum, listing) with the same caching headers.
pub fn serve_bytes(
    content: Vec<u8>,
    content_type: &str,
    modified_at: i64,
    request_headers: &HeaderMap,
    head: bool,
) -> Response {
    let etag = format!("\"{}\"", crate::auth::sha256_hex(&content));
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (header::ETAG, etag.clone()),
        (header::LAST_MODIFIED, http_date(modified_at)),
        (header::CONTENT_TYPE, content_type.to_string()),
        (header::CONTENT_LENGTH, content.len().to_string()),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    if if_none_match_hits(request_headers, &etag) {
        headers.remove(header::CONTENT_LENGTH);
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    if head {
        return (StatusCode::OK, headers).into_response();
    }
    (StatusCode::OK, headers, content).into_response()
}

/// A stored blob's bytes (metadata documents: small).
pub async fn read_whole(state: &AppState, sha256: &str, size: i64) -> Result<Vec<u8>, ApiError> {
    use futures_util::TryStreamExt;
    let stream = state.blobs.read(sha256, 0, size.max(0) as u64).await?;
    let chunks: Vec<bytes::Bytes> = stream
        .try_collect()
        .await
        .map_err(|e| ApiError::from(crate::blob::BlobError::Io(e)))?;
    Ok(chunks.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve() {
        assert_eq!(resolve_range(None, 10), RangeAnswer::Full);
        assert_eq!(
            resolve_range(Some("bytes=0-3"), 10),
            RangeAnswer::Partial { start: 0, end: 3 }
        );
        assert_eq!(
            resolve_range(Some("bytes=5-"), 10),
            RangeAnswer::Partial { start: 5, end: 9 }
        );
        assert_eq!(
            resolve_range(Some("bytes=-4"), 10),
            RangeAnswer::Partial { start: 6, end: 9 }
        );
        assert_eq!(
            resolve_range(Some("bytes=8-100"), 10),
            RangeAnswer::Partial { start: 8, end: 9 }
        );
        assert_eq!(
            resolve_range(Some("bytes=10-12"), 10),
            RangeAnswer::Unsatisfiable
        );
        assert_eq!(
            resolve_range(Some("bytes=-0"), 10),
            RangeAnswer::Unsatisfiable
        );
        assert_eq!(resolve_range(Some("bytes=0-1,4-5"), 10), RangeAnswer::Full);
        assert_eq!(resolve_range(Some("bytes=4-2"), 10), RangeAnswer::Full);
        assert_eq!(resolve_range(Some("items=0-1"), 10), RangeAnswer::Full);
        assert_eq!(
            resolve_range(Some("bytes=0-0"), 0),
            RangeAnswer::Unsatisfiable
        );
    }

    #[test]
    fn http_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        // Milliseconds are dropped, not rounded: a later If-Modified-Since of the same second matches.
        assert_eq!(
            http_date(1_752_220_736_797),
            "Fri, 11 Jul 2025 07:58:56 GMT"
        );
        assert_eq!(http_date(951_782_400_000), "Tue, 29 Feb 2000 00:00:00 GMT");
        // Outside httpdate's range (which panics there): the nearest end, never a panic.
        assert_eq!(http_date(-1), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(http_date(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }
}
