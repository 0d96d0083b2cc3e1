//! Ticket strings (SPEC §4): base64 of `ticket_<issued-at ms>:<32 letters/digits>:<user_id>`.
//! The public id is the lower-case hex SHA-256 of the base64 text.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::domain::random_alnum;

pub struct IssuedTicket {
    /// The secret shown once to its holder.
    pub value: String,
    /// What is stored and listed.
    pub public_id: String,
}

pub fn issue(issued_at_ms: i64, user_id: &str) -> IssuedTicket {
    let raw = format!("ticket_{issued_at_ms}:{}:{user_id}", random_alnum(32));
    let value = STANDARD.encode(raw);
    let public_id = public_id(&value);
    IssuedTicket { value, public_id }
}

pub fn public_id(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Cheap shape check before any lookup: valid base64 of a `ticket_` string.
pub fn looks_like_ticket(value: &str) -> bool {
    // "dGlja2V0X" is how every base64 of `ticket_` begins: most values that are not one end here.
    value.len() <= 512
        && value.starts_with("dGlja2V0X")
        && STANDARD
            .decode(value)
            .map(|raw| raw.starts_with(b"ticket_"))
            .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_tickets_decode_to_the_seed_shape() {
        let user = "09d2ca2ffd00d3c21ff8c00a4dd1e080";
        let t = issue(1752220736797, user);
        let raw = String::from_utf8(STANDARD.decode(&t.value).unwrap()).unwrap();
        let parts: Vec<&str> = raw.split(':').collect();
        assert_eq!(parts[0], "ticket_1752220736797");
        assert_eq!(parts[1].len(), 32);
        assert!(parts[1].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(parts[2], user);
        assert_eq!(t.public_id, public_id(&t.value));
        assert_eq!(t.public_id.len(), 64);
        assert!(looks_like_ticket(&t.value));
        assert!(!looks_like_ticket("not base64!"));
    }

    #[test]
    fn the_seed_example_is_a_ticket() {
        let seed = "dGlja2V0XzE3NTIyMjA3MzY3OTc6V2Z1UVNFZVJiaDJZejFiRGZJSE12QnlicXh5VGpSTk46MDlkMmNhMmZmZDAwZDNjMjFmZjhjMDBhNGRkMWUwODA=";
        assert!(looks_like_ticket(seed));
    }
}
