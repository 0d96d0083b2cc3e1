//! `SDK-HMAC-SHA256`: the Authorization header, the payload term (`resolve_payload`), the canonical
//! request, and the binding of a streamed body to its signed hash (`http::payload::bind`).
//!
//! Input, one item a line: the Authorization value, the method, the raw path, the raw query, then
//! `name: value` headers up to an empty line; the rest is the body. As in the server, a body under
//! `/artifactory/` streams after the check (`Payload::Streamed`) and any other is read first
//! (`Payload::Read`).
//!
//! Properties: a parsed header renders back to itself; the payload term is the hash of the body read, or
//! for a streamed body the hash declared in a signed `X-Sdk-Content-Sha256` (the body then bound to it)
//! or `UNSIGNED-PAYLOAD` under a signed non-JSON `Content-Type`, and nothing else; canonicalisation is
//! deterministic, idempotent and yields only unreserved characters and escapes (so no two requests share
//! a canonical form by smuggling separators); a request signed with a key verifies with it and with no
//! other key, not with one signature character changed, and not for another body; a bound body reads
//! through whole exactly when it has the hash it was bound to.
#![no_main]

use arca::auth::signature::{
    canonical_query, canonical_request, canonical_uri, resolve_payload, sign, string_to_sign,
    verify, Payload, RequestParts, SignatureError, SignatureHeader, CONTENT_SHA256_HEADER,
    DATE_HEADER, EMPTY_SHA256, UNSIGNED_PAYLOAD,
};
use arca::http::payload;
use arca_fuzz::{block_on, body_in_pieces};
use chrono::NaiveDateTime;
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

const SECRET: &[u8] = b"fuzz-secret-key";

fn only_canonical_chars(s: &str, extra: &[u8]) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.~%".contains(&b) || extra.contains(&b))
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string())
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Checks what `resolve_payload` answered against the rules, independently of how it decides.
fn check_term(
    headers: &HeaderMap,
    signed: &[String],
    payload: Payload<'_>,
) -> Result<arca::auth::signature::PayloadTerm, SignatureError> {
    let resolved = resolve_payload(headers, signed, payload);
    let is_signed = |name: &str| signed.iter().any(|h| h == name);
    let declared = header_text(headers, CONTENT_SHA256_HEADER);
    if declared.is_some() && !is_signed(CONTENT_SHA256_HEADER) {
        assert_eq!(resolved, Err(SignatureError::UnsignedContentHash));
        return resolved;
    }
    let Ok(term) = &resolved else {
        return resolved;
    };
    match payload {
        Payload::Read(None) => assert_eq!(term.term, EMPTY_SHA256),
        Payload::Read(Some(computed)) => {
            assert!(term.term.eq_ignore_ascii_case(computed), "{term:?}");
            assert_eq!(term.must_hash_to, None);
        }
        Payload::Streamed { empty: true } => {
            assert_eq!(term.term, EMPTY_SHA256);
            assert_eq!(term.must_hash_to.as_deref(), Some(EMPTY_SHA256));
        }
        Payload::Streamed { empty: false } => {
            assert_eq!(declared.as_deref(), Some(term.term.as_str()));
            if term.term == UNSIGNED_PAYLOAD {
                assert_eq!(term.must_hash_to, None);
                assert!(is_signed("content-type"));
                let ct = header_text(headers, "content-type").expect("a content type");
                assert!(!ct.to_ascii_lowercase().starts_with("application/json"));
            } else {
                assert!(is_sha256_hex(&term.term), "{term:?}");
                assert_eq!(term.must_hash_to, Some(term.term.to_ascii_lowercase()));
            }
        }
    }
    resolved
}

fuzz_target!(|data: &[u8]| {
    // Four lines, then headers up to an empty line; the rest is the body.
    let mut rest = data;
    let mut line = || {
        let end = rest.iter().position(|b| *b == b'\n');
        let (line, after) = match end {
            Some(at) => (&rest[..at], &rest[at + 1..]),
            None => (rest, &[][..]),
        };
        rest = after;
        std::str::from_utf8(line).ok()
    };
    let (Some(auth), Some(method), Some(raw_path), Some(raw_query)) =
        (line(), line(), line(), line())
    else {
        return;
    };
    let (method, raw_path) = (
        Some(method).filter(|m| !m.is_empty()).unwrap_or("GET"),
        Some(raw_path).filter(|p| !p.is_empty()).unwrap_or("/"),
    );
    let raw_query = Some(raw_query).filter(|q| !q.is_empty());
    let mut header_lines = Vec::new();
    while let Some(text) = line() {
        if text.is_empty() {
            break;
        }
        header_lines.push(text);
    }
    let body = rest;
    let mut headers = HeaderMap::new();
    for line in header_lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_bytes(value.trim().as_bytes()),
        ) else {
            continue;
        };
        headers.append(name, value);
    }

    let parsed = SignatureHeader::parse(auth);
    if let Ok(h) = &parsed {
        assert_eq!(h.signature.len(), 64);
        assert!(h
            .signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert!(!h.access_key.is_empty() && h.access_key.len() <= 128);
        assert!(h.signed_headers.iter().all(|s| !s.is_empty()));
        let rendered = format!(
            "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={}",
            h.access_key,
            h.signed_headers.join(";"),
            h.signature
        );
        assert_eq!(SignatureHeader::parse(&rendered).as_ref(), Ok(h));
    }

    let uri = canonical_uri(raw_path);
    assert!(uri.ends_with('/'));
    assert!(only_canonical_chars(&uri, b"/"), "{uri:?}");
    assert_eq!(canonical_uri(&uri), uri, "canonical_uri is idempotent");
    let Ok(query) = canonical_query(raw_query) else {
        return;
    };
    assert!(only_canonical_chars(&query, b"=&"), "{query:?}");
    assert_eq!(
        canonical_query(Some(&query)).as_ref(),
        Ok(&query),
        "canonical_query is idempotent"
    );

    let mut signed: Vec<String> = match &parsed {
        Ok(h) => h.signed_headers.clone(),
        Err(_) => headers.keys().map(|k| k.as_str().to_string()).collect(),
    };
    for required in ["host", DATE_HEADER] {
        if !signed.iter().any(|s| s == required) {
            signed.push(required.to_string());
        }
    }
    let streamed = raw_path.starts_with("/artifactory/");
    let body_sha256 = hex::encode(Sha256::digest(body));
    let payload = if streamed {
        Payload::Streamed {
            empty: body.is_empty(),
        }
    } else {
        Payload::Read((!body.is_empty()).then_some(body_sha256.as_str()))
    };
    let Ok(term) = check_term(&headers, &signed, payload) else {
        return;
    };
    if let Ok(h) = &parsed {
        // The client's own claims: verifying them must not panic, whatever they are.
        let _ = check_term(&headers, &h.signed_headers, payload);
    }

    let req = RequestParts {
        method,
        raw_path,
        raw_query,
        headers: &headers,
        payload_term: &term.term,
    };
    let canonical = canonical_request(&req, &signed).expect("the query was canonicalised");
    assert_eq!(
        canonical_request(&req, &signed).as_ref(),
        Ok(&canonical),
        "deterministic"
    );
    assert!(canonical.starts_with(&format!(
        "{}\n{uri}\n{query}\n",
        method.to_ascii_uppercase()
    )));
    assert!(canonical.ends_with(&format!("\n{}", term.term)));

    if let Ok(h) = &parsed {
        let fixed_now = NaiveDateTime::parse_from_str("20240501T080000Z", "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc();
        let _ = verify(h, &req, SECRET, fixed_now, 900);
    }

    // A streamed body bound to the hash it must have reads through whole exactly when it has it.
    if let Some(expected) = &term.must_hash_to {
        let read = block_on(axum::body::to_bytes(
            payload::bind(body_in_pieces(body), expected.clone()),
            usize::MAX,
        ));
        if *expected == body_sha256 {
            assert_eq!(read.expect("the bound body reads").as_ref(), body);
        } else {
            assert!(
                read.is_err(),
                "a body that differs from its signed hash was read"
            );
        }
    }

    // Sign the request ourselves and check that exactly the right signature verifies.
    let Some(date) = header_text(&headers, DATE_HEADER) else {
        return;
    };
    let Ok(at) = NaiveDateTime::parse_from_str(&date, "%Y%m%dT%H%M%SZ") else {
        return;
    };
    let signature = sign(SECRET, &string_to_sign(&date, &canonical));
    let mine = SignatureHeader {
        access_key: "AKFUZZ".into(),
        signed_headers: signed.clone(),
        signature: signature.clone(),
    };
    let now = at.and_utc();
    assert_eq!(verify(&mine, &req, SECRET, now, 900), Ok(()));
    assert_eq!(
        verify(&mine, &req, b"another-key", now, 900),
        Err(SignatureError::Mismatch)
    );
    let position = data.len() % 64;
    let mut tampered = signature.into_bytes();
    tampered[position] = if tampered[position] == b'0' {
        b'1'
    } else {
        b'0'
    };
    let tampered = SignatureHeader {
        signature: String::from_utf8(tampered).unwrap(),
        ..mine.clone()
    };
    assert_eq!(
        verify(&tampered, &req, SECRET, now, 900),
        Err(SignatureError::Mismatch)
    );
    // The same signature for another body read whole: its term differs, so it does not verify.
    if !streamed {
        let other_body = [body, b"x"].concat();
        let other_sha256 = hex::encode(Sha256::digest(&other_body));
        if let Ok(other) = resolve_payload(&headers, &signed, Payload::Read(Some(&other_sha256))) {
            let swapped = RequestParts {
                payload_term: &other.term,
                ..req
            };
            assert_eq!(
                verify(&mine, &swapped, SECRET, now, 900),
                Err(SignatureError::Mismatch)
            );
        }
    }
});
