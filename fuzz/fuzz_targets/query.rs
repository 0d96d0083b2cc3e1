//! Query strings: `signature::query_pairs`, the one decoding behind both the signature's canonical query
//! and the parameters handlers read (`QueryParams`).
//!
//! Properties: decoding never panics; the decoded pairs, percent-encoded again, decode to the same pairs;
//! the canonical query is those pairs sorted and re-encoded (so it decodes back to them, holds only
//! unreserved characters and escapes, and is its own canonical form); `QueryParams` accepts exactly the
//! queries that decode and repeat no name, reads every value as decoded, and its typed accessors answer
//! a value or a 400 for every parameter; a query that does not decode is refused by all three alike.
#![no_main]

use std::collections::HashSet;

use arca::auth::signature::{canonical_query, query_pairs, SignatureError};
use arca::http::extract::QueryParams;
use libfuzzer_sys::fuzz_target;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

fn encode(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let params = QueryParams::parse(raw);
    let canonical = canonical_query(Some(raw));
    let pairs = match query_pairs(raw) {
        Ok(pairs) => pairs,
        Err(e) => {
            assert_eq!(e, SignatureError::MalformedQuery);
            assert_eq!(canonical, Err(SignatureError::MalformedQuery));
            let refused = params.expect_err("QueryParams took a query that does not decode");
            assert_eq!(refused.status(), 400);
            return;
        }
    };

    let again = query_pairs(&encode(&pairs)).expect("re-encoded pairs decode");
    assert_eq!(again, pairs);

    let canonical = canonical.expect("a query that decodes has a canonical form");
    assert!(
        canonical
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.~%=&".contains(&b)),
        "{canonical:?}"
    );
    let mut sorted = pairs.clone();
    sorted.sort();
    assert_eq!(query_pairs(&canonical).as_ref(), Ok(&sorted));
    assert_eq!(canonical_query(Some(&canonical)).as_ref(), Ok(&canonical));

    let distinct = pairs.iter().map(|(k, _)| k).collect::<HashSet<_>>().len() == pairs.len();
    match params {
        Ok(params) => {
            assert!(distinct, "a repeated name was accepted");
            for (name, value) in &pairs {
                assert_eq!(params.get(name), Some(value.as_str()));
                let typed = [
                    params.string(name, 8).err(),
                    params.filter(name, 8).err(),
                    params.int(name, -5..=i64::MAX, 0).err(),
                    params.bool(name, false).err(),
                    params.one_of(name, &["a", "b"]).err(),
                ];
                for refused in typed.into_iter().flatten() {
                    assert_eq!(refused.status(), 400);
                }
            }
        }
        Err(refused) => {
            assert!(!distinct, "{refused}");
            assert_eq!(refused.status(), 400);
        }
    }
});
