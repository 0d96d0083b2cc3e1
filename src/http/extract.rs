//! Extractors that parse and validate at the edge, so handlers receive checked values and every
//! rejection is an `ApiError` naming the offending parameter.

use std::collections::HashMap;
use std::ops::RangeInclusive;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::error::{json_problem, malformed_json, ApiError};
use crate::auth::signature::query_pairs;
use crate::auth::Principal;
use crate::formats::json_budget;

/// The authenticated caller: only obtainable on routes behind the authentication layer.
impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Principal>()
            .cloned()
            .ok_or(ApiError::Unauthenticated("route requires authentication"))
    }
}

/// Raw query parameters with typed, range-checked accessors.
#[derive(Debug, Default)]
pub struct QueryParams(HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        QueryParams::parse(parts.uri.query().unwrap_or(""))
    }
}

impl QueryParams {
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut map = HashMap::new();
        // The same decoding the signature was checked against, so a handler reads what was signed.
        let pairs = query_pairs(query)
            .map_err(|_| ApiError::invalid("query", "is not valid percent-encoded UTF-8"))?;
        for (key, value) in pairs {
            if map.insert(key.clone(), value).is_some() {
                return Err(ApiError::invalid(&key, "is given more than once"));
            }
        }
        Ok(QueryParams(map))
    }

    /// An optional string of at most `max_len` characters.
    pub fn string(&self, name: &str, max_len: usize) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(v) if v.chars().count() > max_len => Err(ApiError::invalid(
                name,
                format!("must be at most {max_len} characters"),
            )),
            Some(v) => Ok(Some(v.clone())),
        }
    }

    /// An optional, non-empty string; an empty value counts as absent.
    pub fn filter(&self, name: &str, max_len: usize) -> Result<Option<String>, ApiError> {
        Ok(self.string(name, max_len)?.filter(|v| !v.is_empty()))
    }

    /// An optional integer within `range`; `default` when absent.
    pub fn int(
        &self,
        name: &str,
        range: RangeInclusive<i64>,
        default: i64,
    ) -> Result<i64, ApiError> {
        let Some(raw) = self.0.get(name) else {
            return Ok(default);
        };
        let describe = || {
            format!(
                "must be an integer from {} to {}",
                range.start(),
                range.end()
            )
        };
        let value: i64 = raw
            .trim()
            .parse()
            .map_err(|_| ApiError::invalid(name, describe()))?;
        if !range.contains(&value) {
            return Err(ApiError::invalid(name, describe()));
        }
        Ok(value)
    }

    /// An optional `true`/`false` (any case); `default` when absent or empty.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        match self.0.get(name).map(|v| v.trim().to_ascii_lowercase()) {
            None => Ok(default),
            Some(v) if v.is_empty() => Ok(default),
            Some(v) if v == "true" => Ok(true),
            Some(v) if v == "false" => Ok(false),
            Some(_) => Err(ApiError::invalid(name, "must be true or false")),
        }
    }

    /// An optional value out of a fixed set; empty counts as absent.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<String>, ApiError> {
        match self.0.get(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) if allowed.contains(&v.as_str()) => Ok(Some(v.clone())),
            Some(_) => Err(ApiError::invalid(
                name,
                format!("must be one of {}", allowed.join(", ")),
            )),
        }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

/// JSON values a management body may hold (the largest real ones, batch deletes and grant lists, hold
/// a few thousand): at most ~8 MiB once parsed.
pub const MAX_JSON_VALUES: usize = 100_000;

/// A JSON body deserialised into `T`; malformed bodies are a 400 naming the problem, oversize bodies a 413.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, Self::Rejection> {
        let limit = req
            .extensions()
            .get::<BodyLimit>()
            .map(|l| l.0)
            .unwrap_or(1024 * 1024);
        let bytes = read_body(req.into_body(), limit).await?;
        if bytes.is_empty() {
            return Err(ApiError::MalformedBody("the body is empty".into()));
        }
        // Parsed, a body of small values takes 20 to 40 times its length: their count is the bound.
        if !json_budget::within(&bytes, MAX_JSON_VALUES) {
            return Err(ApiError::TooLarge {
                what: "The request body".into(),
                limit: format!("{MAX_JSON_VALUES} JSON values"),
            });
        }
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut deserializer)
            .map(JsonBody)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if path.is_empty() || path == "." || inner.is_syntax() || inner.is_eof() {
                    malformed_json(&inner)
                } else {
                    ApiError::MalformedBody(format!("field '{path}': {}", json_problem(&inner)))
                }
            })
    }
}

/// The body-size limit in force, put in the request's extensions by the app.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Reads a body whole, up to `limit` bytes (413 beyond), into one buffer: sized up front from the body's
/// declared length (`Content-Length`), and refused before anything is read when that is over the limit.
/// Collecting the frames and joining them afterwards would hold a large body twice. A declared length
/// that is a lie costs address space only (the pages are not touched until bytes arrive), and a body
/// that stops coming fails after the body timeout (408).
pub async fn read_body(body: axum::body::Body, limit: usize) -> Result<bytes::Bytes, ApiError> {
    use axum::body::HttpBody as _;
    use http_body_util::BodyExt;
    let declared = body.size_hint().lower();
    if declared > limit as u64 {
        return Err(ApiError::BodyTooLarge { limit });
    }
    let mut buffer = bytes::BytesMut::with_capacity(declared as usize);
    let mut body = body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| super::limits::body_failure(&e))?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > limit {
                return Err(ApiError::BodyTooLarge { limit });
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bodies_are_read_whole_within_the_limit() {
        let body = || axum::body::Body::from(vec![7u8; 5000]);
        assert_eq!(read_body(body(), 5000).await.unwrap().len(), 5000);
        assert!(matches!(
            read_body(body(), 4999).await,
            Err(ApiError::BodyTooLarge { limit: 4999 })
        ));
        // A streamed body without a declared length is cut off at the limit as it arrives.
        let chunks = futures_util::stream::iter(
            (0..10).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![1u8; 1000]))),
        );
        assert!(matches!(
            read_body(axum::body::Body::from_stream(chunks), 6000).await,
            Err(ApiError::BodyTooLarge { limit: 6000 })
        ));
    }

    #[test]
    fn ints_are_range_checked_and_named() {
        let q = QueryParams::parse("limit=1001&offset=abc&ok=5&neg=-1").unwrap();
        assert_eq!(q.int("ok", 0..=10, 1).unwrap(), 5);
        assert_eq!(q.int("absent", 0..=10, 7).unwrap(), 7);
        let err = q.int("limit", 0..=1000, 10).unwrap_err().to_string();
        assert!(err.contains("'limit'"), "{err}");
        assert!(q.int("offset", 0..=1000, 0).is_err());
        assert!(q.int("neg", 0..=1000, 0).is_err());
    }

    #[test]
    fn strings_are_length_checked_and_decoded() {
        let q = QueryParams::parse("name=a%20b&long=xxxxx&empty=").unwrap();
        assert_eq!(q.string("name", 10).unwrap().as_deref(), Some("a b"));
        assert!(q.string("long", 4).is_err());
        assert_eq!(q.filter("empty", 4).unwrap(), None);
        assert!(QueryParams::parse("a=1&a=2").is_err());
        assert!(QueryParams::parse("a=%ff").is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Shape {
        outer: Inner,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        left_num: i64,
    }

    async fn parse(body: &'static str) -> Result<JsonBody<Shape>, ApiError> {
        let request = Request::builder()
            .body(axum::body::Body::from(body))
            .unwrap();
        JsonBody::<Shape>::from_request(request, &()).await
    }

    #[tokio::test]
    async fn json_errors_name_the_field() {
        let err = parse(r#"{"outer": {"left_num": "many"}}"#)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("'outer.left_num'"), "{err}");
        let err = parse(r#"{"outer": {}}"#).await.unwrap_err().to_string();
        assert!(err.contains("left_num"), "{err}");
        assert!(matches!(
            parse("{not json").await,
            Err(ApiError::MalformedBody(_))
        ));
        assert!(matches!(parse("").await, Err(ApiError::MalformedBody(_))));
        assert!(parse(r#"{"outer": {"left_num": 3}}"#).await.is_ok());
    }

    #[tokio::test]
    async fn bodies_of_too_many_values_are_refused_before_parsing() {
        let many = format!("[{}]", vec!["0"; MAX_JSON_VALUES].join(","));
        let request = Request::builder()
            .body(axum::body::Body::from(many))
            .unwrap();
        assert!(matches!(
            JsonBody::<serde_json::Value>::from_request(request, &()).await,
            Err(ApiError::TooLarge { .. })
        ));
    }
}
