//! `SDK-HMAC-SHA256` request signatures, verified exactly as `huaweicloudsdkcore/signer/signer.py` computes them.
//!
//! Pure: it sees a request's method, wire path and query, headers and payload hash, and a secret key, and
//! answers whether the signature holds. Looking the access key up is the caller's business.
//!
//! What is verified must be what is used: the payload term of the canonical request is decided here from
//! the bytes the server received (`resolve_payload`), never taken on the client's word, and the query is
//! decoded by one function (`query_pairs`) that builds both the canonical query and the handlers'
//! parameters.

use chrono::{DateTime, NaiveDateTime, Utc};
use hmac::{Hmac, Mac};
use http::HeaderMap;
use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub const ALGORITHM: &str = "SDK-HMAC-SHA256";
pub const DATE_HEADER: &str = "x-sdk-date";
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";
const DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// The SDK declares this for bodies that are not JSON (`_process_content_header` in signer.py): the body is
/// then not covered by the signature.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Python's `quote(s, safe='~')`: everything but letters, digits and `_.-~` is percent-encoded.
const SDK_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Authorization header is not a well-formed SDK-HMAC-SHA256 value")]
    Malformed,
    #[error("the signed headers must include host and x-sdk-date")]
    MissingSignedHeader,
    #[error("the X-Sdk-Date header is missing or malformed")]
    BadDate,
    #[error("the request date is outside the accepted clock skew")]
    Skewed,
    #[error("the signature does not match")]
    Mismatch,
    #[error("X-Sdk-Content-Sha256 is present but not among the signed headers")]
    UnsignedContentHash,
    #[error("X-Sdk-Content-Sha256 does not match the body received")]
    PayloadMismatch,
    #[error("UNSIGNED-PAYLOAD is not accepted for this body")]
    UnsignedPayloadRefused,
    #[error("a signed request with a streamed body must declare X-Sdk-Content-Sha256")]
    MissingContentHash,
    #[error("X-Sdk-Content-Sha256 is neither a SHA-256 hex digest nor UNSIGNED-PAYLOAD")]
    MalformedContentHash,
    #[error("the query string is not valid percent-encoded UTF-8")]
    MalformedQuery,
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub access_key: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl SignatureHeader {
    pub fn parse(value: &str) -> Result<Self, SignatureError> {
        let rest = value
            .strip_prefix(ALGORITHM)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or(SignatureError::Malformed)?;
        let (mut access, mut signed, mut signature) = (None, None, None);
        for part in rest.split(',') {
            let (key, val) = part
                .trim()
                .split_once('=')
                .ok_or(SignatureError::Malformed)?;
            let slot = match key {
                "Access" => &mut access,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut signature,
                _ => return Err(SignatureError::Malformed),
            };
            if slot.replace(val.to_string()).is_some() {
                return Err(SignatureError::Malformed);
            }
        }
        let (Some(access_key), Some(signed), Some(signature)) = (access, signed, signature) else {
            return Err(SignatureError::Malformed);
        };
        let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
        let well_formed = !access_key.is_empty()
            && access_key.len() <= 128
            && signature.len() == 64
            && signature.bytes().all(|b| b.is_ascii_hexdigit())
            && signed_headers.iter().all(|h| !h.is_empty());
        if !well_formed {
            return Err(SignatureError::Malformed);
        }
        Ok(SignatureHeader {
            access_key,
            signed_headers,
            signature: signature.to_ascii_lowercase(),
        })
    }
}

/// A request as the server received it.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// The path exactly as on the wire (still percent-encoded).
    pub raw_path: &'a str,
    /// The query exactly as on the wire, without `?`.
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// The last line of the canonical request, as `resolve_payload` decided it.
    pub payload_term: &'a str,
}

/// What the server knows of a request's body when it checks the signature.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// The body was read whole before the check: its hex SHA-256, `None` when it is empty. Such a body is
    /// a document the handler parses, so it is always covered by the signature.
    Read(Option<&'a str>),
    /// The body streams to its consumer after the check (artifact uploads); `empty` when the request's
    /// head says there is none.
    Streamed { empty: bool },
}

/// The payload term of the canonical request and, for a streamed body, the SHA-256 its bytes must have
/// (`None` for `UNSIGNED-PAYLOAD`): the consumer refuses the body at its end when they differ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadTerm {
    pub term: String,
    pub must_hash_to: Option<String>,
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Decides the payload term from what was received. A declared `X-Sdk-Content-Sha256` counts only when it
/// is signed (otherwise anyone could pair a captured signature with a new body), must equal the hash of a
/// body that was read, and may be `UNSIGNED-PAYLOAD` only for a streamed body whose signed `Content-Type`
/// is not JSON — where the SDK itself sends it.
pub fn resolve_payload(
    headers: &HeaderMap,
    signed_headers: &[String],
    payload: Payload<'_>,
) -> Result<PayloadTerm, SignatureError> {
    let is_signed = |name: &str| signed_headers.iter().any(|h| h == name);
    let declared = header_text(headers, CONTENT_SHA256_HEADER);
    if declared.is_some() && !is_signed(CONTENT_SHA256_HEADER) {
        return Err(SignatureError::UnsignedContentHash);
    }
    let fixed = |term: &str| PayloadTerm {
        term: term.to_string(),
        must_hash_to: None,
    };
    match payload {
        // The SDK signs the empty hash for an empty body whatever it declared.
        Payload::Read(None) => Ok(fixed(EMPTY_SHA256)),
        Payload::Read(Some(computed)) => match declared.as_deref() {
            None => Ok(fixed(computed)),
            Some(UNSIGNED_PAYLOAD) => Err(SignatureError::UnsignedPayloadRefused),
            Some(d) if d.eq_ignore_ascii_case(computed) => Ok(fixed(d)),
            Some(d) if is_sha256_hex(d) => Err(SignatureError::PayloadMismatch),
            Some(_) => Err(SignatureError::MalformedContentHash),
        },
        Payload::Streamed { empty: true } => Ok(PayloadTerm {
            term: EMPTY_SHA256.to_string(),
            must_hash_to: Some(EMPTY_SHA256.to_string()),
        }),
        Payload::Streamed { empty: false } => match declared.as_deref() {
            None => Err(SignatureError::MissingContentHash),
            Some(UNSIGNED_PAYLOAD) => {
                let json = header_text(headers, "content-type").is_none_or(|ct| {
                    let ct = ct.to_ascii_lowercase();
                    ct.starts_with("application/json") || ct.starts_with("application/bson")
                });
                if json || !is_signed("content-type") {
                    return Err(SignatureError::UnsignedPayloadRefused);
                }
                Ok(fixed(UNSIGNED_PAYLOAD))
            }
            Some(d) if is_sha256_hex(d) => Ok(PayloadTerm {
                term: d.to_string(),
                must_hash_to: Some(d.to_ascii_lowercase()),
            }),
            Some(_) => Err(SignatureError::MalformedContentHash),
        },
    }
}

fn encode(s: &str) -> String {
    utf8_percent_encode(s, SDK_ENCODE).to_string()
}

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The query's pairs, decoded once for the signature and the handlers alike: `+` is a space (form
/// encoding, as browsers and curl send it), `%XX` a byte, and the result must be UTF-8. The SDK never puts
/// a bare `+` on the wire (it sends `%2B`), so a `+` that reaches here was meant as a space — and a value
/// signed as `%2B` and sent as `+` no longer verifies.
pub fn query_pairs(raw_query: &str) -> Result<Vec<(String, String)>, SignatureError> {
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let decode = |s: &str| {
                percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| SignatureError::MalformedQuery)
            };
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

pub fn canonical_uri(raw_path: &str) -> String {
    let mut uri = decode(raw_path)
        .split('/')
        .map(encode)
        .collect::<Vec<_>>()
        .join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

pub fn canonical_query(raw_query: Option<&str>) -> Result<String, SignatureError> {
    let mut pairs = query_pairs(raw_query.unwrap_or(""))?;
    pairs.sort();
    Ok(pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&"))
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
}

pub fn canonical_request(
    req: &RequestParts<'_>,
    signed_headers: &[String],
) -> Result<String, SignatureError> {
    let mut canonical_headers = String::new();
    for name in signed_headers {
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(&header_text(req.headers, name).unwrap_or_default());
        canonical_headers.push('\n');
    }
    // The canonical headers end with a newline and the SDK still joins the six parts with newlines, so an
    // empty line separates them from the signed-header list (`"%s\n%s\n%s\n%s\n%s\n%s"` in signer.py).
    Ok(format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        canonical_uri(req.raw_path),
        canonical_query(req.raw_query)?,
        canonical_headers,
        signed_headers.join(";"),
        req.payload_term
    ))
}

pub fn string_to_sign(date: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{date}\n{}",
        super::sha256_hex(canonical_request.as_bytes())
    )
}

pub fn sign(secret_key: &[u8], string_to_sign: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key).expect("HMAC takes keys of any size");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks the date window and the signature of `req` against `secret_key`.
pub fn verify(
    header: &SignatureHeader,
    req: &RequestParts<'_>,
    secret_key: &[u8],
    now: DateTime<Utc>,
    max_skew_secs: u64,
) -> Result<(), SignatureError> {
    let required = ["host", DATE_HEADER];
    if !required
        .iter()
        .all(|r| header.signed_headers.iter().any(|h| h == r))
    {
        return Err(SignatureError::MissingSignedHeader);
    }
    let date = header_text(req.headers, DATE_HEADER).ok_or(SignatureError::BadDate)?;
    let signed_at = NaiveDateTime::parse_from_str(&date, DATE_FORMAT)
        .map_err(|_| SignatureError::BadDate)?
        .and_utc();
    if (now - signed_at).num_seconds().unsigned_abs() > max_skew_secs {
        return Err(SignatureError::Skewed);
    }
    let canonical = canonical_request(req, &header.signed_headers)?;
    let expected = sign(secret_key, &string_to_sign(&date, &canonical));
    if bool::from(expected.as_bytes().ct_eq(header.signature.as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn canonical_uri_reencodes_each_segment_and_adds_slash() {
        assert_eq!(canonical_uri("/v3/projects"), "/v3/projects/");
        assert_eq!(canonical_uri("/a%20b/c~d/"), "/a%20b/c~d/");
        assert_eq!(canonical_uri("/x%2Fy"), "/x/y/");
        assert_eq!(canonical_uri("/caf%C3%A9"), "/caf%C3%A9/");
    }

    #[test]
    fn canonical_query_sorts_and_encodes() {
        let q = |raw| canonical_query(raw).unwrap();
        assert_eq!(q(Some("b=2&a=1&a=0")), "a=0&a=1&b=2");
        assert_eq!(q(Some("k=&flag")), "flag=&k=");
        assert_eq!(q(Some("q=a%20b%2Bc")), "q=a%20b%2Bc");
        assert_eq!(q(None), "");
        // A bare `+` is the space the handlers read, not the `%2B` a value may have been signed with.
        assert_eq!(q(Some("name=gen+eric")), "name=gen%20eric");
        assert_ne!(q(Some("name=gen+eric")), q(Some("name=gen%2Beric")));
        assert_eq!(
            canonical_query(Some("a=%ff")),
            Err(SignatureError::MalformedQuery)
        );
    }

    fn signed(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn headers_of(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        headers
    }

    #[test]
    fn a_read_body_is_always_hashed_and_a_declared_hash_must_match_it() {
        let body = hex::encode(Sha256::digest(b"{\"user_id\": \"root\"}"));
        let other = hex::encode(Sha256::digest(b"{}"));
        let all = signed(&["content-type", "host", "x-sdk-content-sha256", "x-sdk-date"]);
        let none = HeaderMap::new();
        assert_eq!(
            resolve_payload(&none, &all, Payload::Read(Some(&body)))
                .unwrap()
                .term,
            body
        );
        let declared = headers_of(&[("x-sdk-content-sha256", &other)]);
        assert_eq!(
            resolve_payload(&declared, &all, Payload::Read(Some(&body))),
            Err(SignatureError::PayloadMismatch)
        );
        // Not signed: a captured signature would otherwise cover any body.
        assert_eq!(
            resolve_payload(
                &declared,
                &signed(&["host", "x-sdk-date"]),
                Payload::Read(Some(&body))
            ),
            Err(SignatureError::UnsignedContentHash)
        );
        let unsigned = headers_of(&[
            ("x-sdk-content-sha256", UNSIGNED_PAYLOAD),
            ("content-type", "application/octet-stream"),
        ]);
        assert_eq!(
            resolve_payload(&unsigned, &all, Payload::Read(Some(&body))),
            Err(SignatureError::UnsignedPayloadRefused)
        );
        let matching = headers_of(&[("x-sdk-content-sha256", &body.to_uppercase())]);
        assert!(resolve_payload(&matching, &all, Payload::Read(Some(&body))).is_ok());
        assert_eq!(
            resolve_payload(&declared, &all, Payload::Read(None))
                .unwrap()
                .term,
            EMPTY_SHA256
        );
    }

    #[test]
    fn a_streamed_body_is_bound_to_its_declared_hash() {
        let all = signed(&["content-type", "host", "x-sdk-content-sha256", "x-sdk-date"]);
        let streamed = Payload::Streamed { empty: false };
        let hash = hex::encode(Sha256::digest(b"jar bytes"));
        let declared = headers_of(&[("x-sdk-content-sha256", &hash)]);
        assert_eq!(
            resolve_payload(&declared, &all, streamed),
            Ok(PayloadTerm {
                term: hash.clone(),
                must_hash_to: Some(hash.clone())
            })
        );
        assert_eq!(
            resolve_payload(&HeaderMap::new(), &all, streamed),
            Err(SignatureError::MissingContentHash)
        );
        assert_eq!(
            resolve_payload(&declared, &signed(&["host", "x-sdk-date"]), streamed),
            Err(SignatureError::UnsignedContentHash)
        );
        let octets = headers_of(&[
            ("x-sdk-content-sha256", UNSIGNED_PAYLOAD),
            ("content-type", "application/octet-stream"),
        ]);
        assert_eq!(
            resolve_payload(&octets, &all, streamed),
            Ok(PayloadTerm {
                term: UNSIGNED_PAYLOAD.into(),
                must_hash_to: None
            })
        );
        // Where the SDK would have hashed the body, or the content type that decides it is not signed.
        let json = headers_of(&[
            ("x-sdk-content-sha256", UNSIGNED_PAYLOAD),
            ("content-type", "application/json"),
        ]);
        assert_eq!(
            resolve_payload(&json, &all, streamed),
            Err(SignatureError::UnsignedPayloadRefused)
        );
        assert_eq!(
            resolve_payload(
                &octets,
                &signed(&["host", "x-sdk-content-sha256", "x-sdk-date"]),
                streamed
            ),
            Err(SignatureError::UnsignedPayloadRefused)
        );
        let garbage = headers_of(&[("x-sdk-content-sha256", "abc")]);
        assert_eq!(
            resolve_payload(&garbage, &all, streamed),
            Err(SignatureError::MalformedContentHash)
        );
        // A head without a body signs the empty hash, and the body must then indeed be empty.
        assert_eq!(
            resolve_payload(&HeaderMap::new(), &all, Payload::Streamed { empty: true })
                .unwrap()
                .must_hash_to
                .as_deref(),
            Some(EMPTY_SHA256)
        );
    }

    /// The payload term as the SDK's `_process_hash_payload` computes it, for replaying its signatures.
    fn sdk_payload_term(headers: &HeaderMap, body: &[u8]) -> String {
        if body.is_empty() {
            return EMPTY_SHA256.into();
        }
        header_text(headers, CONTENT_SHA256_HEADER)
            .unwrap_or_else(|| hex::encode(Sha256::digest(body)))
    }

    /// Signatures computed by `huaweicloudsdkcore`'s `Signer` (v3 Python SDK) for fixed requests.
    #[test]
    fn signatures_made_by_the_python_sdk_verify() {
        let secret = b"SECRETSECRETSECRETSECRETSECRETSECRET1234";
        let now = NaiveDateTime::parse_from_str("20240501T080500Z", DATE_FORMAT)
            .unwrap()
            .and_utc();
        type Case<'a> = (&'a str, &'a str, Option<&'a str>, &'a [u8], &'a str);
        let cases: [Case; 2] = [
            (
                "GET",
                "/v3/projects",
                Some("name=local-1"),
                b"",
                "59426b50cb1ba7969430c9bc63b695eb6be7f35ee176e2d40ce2624094875648",
            ),
            (
                "POST",
                "/v3/users",
                None,
                br#"{"user": {"name": "alice"}}"#,
                "5f36a65790878dd3c9a82f8fc4b2a982c69ef985fdc67c5c9c882246a5bb8c9a",
            ),
        ];
        for (method, path, query, body, signature) in cases {
            let mut headers = HeaderMap::new();
            headers.insert("content-type", "application/json".parse().unwrap());
            headers.insert("host", "127.0.0.1:8080".parse().unwrap());
            headers.insert("user-agent", "test-agent".parse().unwrap());
            headers.insert("x-sdk-date", "20240501T080000Z".parse().unwrap());
            let header = SignatureHeader::parse(&format!(
                "SDK-HMAC-SHA256 Access=AKTESTAKTESTAKTEST12, \
                 SignedHeaders=content-type;host;user-agent;x-sdk-date, Signature={signature}"
            ))
            .unwrap();
            let term = sdk_payload_term(&headers, body);
            let req = RequestParts {
                method,
                raw_path: path,
                raw_query: query,
                headers: &headers,
                payload_term: &term,
            };
            assert_eq!(
                verify(&header, &req, secret, now, 900),
                Ok(()),
                "{method} {path}"
            );
            assert_eq!(
                verify(&header, &req, b"wrong", now, 900),
                Err(SignatureError::Mismatch)
            );
        }
    }

    #[test]
    fn authorization_header_parses_and_rejects_garbage() {
        let sig = "a".repeat(64);
        let h = SignatureHeader::parse(&format!(
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature={sig}"
        ))
        .unwrap();
        assert_eq!(h.access_key, "AK1");
        assert_eq!(h.signed_headers, vec!["host", "x-sdk-date"]);
        for bad in [
            "SDK-HMAC-SHA256",
            "Basic abc",
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host",
            "SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host, Signature=zz",
            "SDK-HMAC-SHA256 Access=AK1, Access=AK2, SignedHeaders=host, Signature=00",
        ] {
            assert_eq!(
                SignatureHeader::parse(bad),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
    }

    /// Vectors recorded from the official Python SDK signer (tests/vectors/gen_signature_vectors.py).
    #[test]
    fn sdk_recorded_vectors_verify() {
        let doc: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/vectors/sdk_hmac_sha256.json")).unwrap();
        let date = doc["x_sdk_date"].as_str().unwrap();
        let now = NaiveDateTime::parse_from_str(date, DATE_FORMAT)
            .unwrap()
            .and_utc();
        let vectors = doc["vectors"].as_array().unwrap();
        assert!(vectors.len() >= 25);
        for v in vectors {
            let name = v["name"].as_str().unwrap();
            let mut headers = HeaderMap::new();
            for (k, val) in v["headers"].as_object().unwrap() {
                // The SDK sends header values as their UTF-8 bytes.
                let bytes = val.as_str().unwrap().as_bytes();
                headers.append(
                    http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    http::HeaderValue::from_bytes(bytes).unwrap(),
                );
            }
            let body: Vec<u8> = match v["body_encoding"].as_str().unwrap() {
                "base64" => {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD
                        .decode(v["body"].as_str().unwrap())
                        .unwrap()
                }
                _ => v["body"].as_str().unwrap().as_bytes().to_vec(),
            };
            let query = v["query"].as_str().unwrap();
            let term = sdk_payload_term(&headers, &body);
            let req = RequestParts {
                method: v["method"].as_str().unwrap(),
                raw_path: v["path"].as_str().unwrap(),
                raw_query: (!query.is_empty()).then_some(query),
                headers: &headers,
                payload_term: &term,
            };
            let auth = headers.get("authorization").unwrap().to_str().unwrap();
            let parsed = SignatureHeader::parse(auth).unwrap();
            let valid = v["valid"].as_bool().unwrap();
            if valid {
                assert_eq!(
                    canonical_request(&req, &parsed.signed_headers).unwrap(),
                    v["canonical_request"].as_str().unwrap(),
                    "{name}"
                );
            }
            let sk = v["sk"].as_str().unwrap().as_bytes();
            let outcome = verify(&parsed, &req, sk, now, 900);
            assert_eq!(outcome.is_ok(), valid, "{name}: {outcome:?}");
        }
    }

    #[test]
    fn dates_outside_the_window_are_rejected() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "h".parse().unwrap());
        headers.insert("x-sdk-date", "20250102T030405Z".parse().unwrap());
        let req = RequestParts {
            method: "GET",
            raw_path: "/",
            raw_query: None,
            headers: &headers,
            payload_term: EMPTY_SHA256,
        };
        let signed = vec!["host".to_string(), "x-sdk-date".to_string()];
        let signature = sign(
            b"sk",
            &string_to_sign(
                "20250102T030405Z",
                &canonical_request(&req, &signed).unwrap(),
            ),
        );
        let header = SignatureHeader {
            access_key: "AK".into(),
            signed_headers: signed,
            signature,
        };
        let at = |s: &str| {
            NaiveDateTime::parse_from_str(s, DATE_FORMAT)
                .unwrap()
                .and_utc()
        };
        assert!(verify(&header, &req, b"sk", at("20250102T031904Z"), 900).is_ok());
        assert_eq!(
            verify(&header, &req, b"sk", at("20250102T032006Z"), 900),
            Err(SignatureError::Skewed)
        );
        assert_eq!(
            verify(&header, &req, b"sk", at("20250102T024904Z"), 900),
            Err(SignatureError::Skewed)
        );
        let unsigned_host = SignatureHeader {
            signed_headers: vec!["x-sdk-date".into()],
            ..header.clone()
        };
        assert_eq!(
            verify(&unsigned_host, &req, b"sk", at("20250102T030405Z"), 900),
            Err(SignatureError::MissingSignedHeader)
        );
    }
}
