//! `X-Auth-Token` values: random, shown once in `X-Subject-Token`, stored only as their SHA-256.

/// A fresh token. The `MII` prefix mimics Keystone PKI tokens so clients that sniff for it are content.
pub fn new_token() -> String {
    format!("MII{}", crate::domain::random_alnum(125))
}

pub fn token_hash(token: &str) -> String {
    super::sha256_hex(token.as_bytes())
}

/// Tokens are opaque but bounded: anything longer than this or with non-token characters is rejected
/// before a database lookup.
pub fn is_plausible(token: &str) -> bool {
    !token.is_empty() && token.len() <= 8192 && token.bytes().all(|b| b.is_ascii_graphic())
}
