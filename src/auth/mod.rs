//! Authentication primitives: request signatures, tokens, tickets and secrets at rest, and the
//! `Principal` every authenticated request carries. Pure: the HTTP layer looks the credentials up.

pub mod registry_token;
pub mod secrets;
pub mod signature;
pub mod ticket;
pub mod token;

/// Lower-case hex SHA-256, as credentials are stored and looked up. Written through a stack buffer:
/// `hex::encode` collects a `String` one `char` at a time, which cost more than the hash on every
/// ticket- or token-authenticated request.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut text = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(data), &mut text).expect("a SHA-256 is 64 hex digits");
    String::from_utf8_lossy(&text).into_owned()
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Signature { access_key: String },
    Token { project_id: Option<String> },
    Ticket { ticket_id: String, embed_id: String },
}

/// The authenticated caller. Handlers take it as an extractor; it only exists once authentication passed.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: String,
    pub user_name: String,
    pub domain_id: String,
    pub is_root: bool,
    pub credential: Credential,
}

#[cfg(test)]
mod tests {
    #[test]
    fn sha256_hex_is_the_lower_case_digest() {
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
