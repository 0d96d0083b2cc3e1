//! Ticket strings (SPEC §4): base64 of `ticket_<issued-at ms>:<32 letters/digits>:<user_id>`.
//! The public id is the lower-case hex SHA-256 of the base64 text.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

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
    super::sha256_hex(value.as_bytes())
}

/// The longest ticket text taken for one; a ticket is issued at about 120.
const MOST_TICKET_CHARS: usize = 512;

/// A presented value that has the shape of a ticket: checked once, before any lookup.
#[derive(Debug, Clone, Copy)]
pub struct Presented<'a>(&'a str);

impl<'a> Presented<'a> {
    /// `Some` when `value` is valid base64 of a `ticket_` string.
    pub fn parse(value: &'a str) -> Option<Presented<'a>> {
        // "dGlja2V0X" is how every base64 of `ticket_` begins: most values that are not one end here.
        if value.len() > MOST_TICKET_CHARS || !value.starts_with("dGlja2V0X") {
            return None;
        }
        // Decoded on the stack: this runs on every ticket-authenticated request.
        let mut raw = [0u8; MOST_TICKET_CHARS / 4 * 3];
        match STANDARD.decode_slice(value, &mut raw) {
            Ok(n) if raw[..n].starts_with(b"ticket_") => Some(Presented(value)),
            _ => None,
        }
    }

    pub fn public_id(&self) -> String {
        public_id(self.0)
    }
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
        assert!(Presented::parse(&t.value).is_some());
        assert!(Presented::parse("not base64!").is_none());
        assert!(Presented::parse(&t.value[..t.value.len() - 2]).is_none());
        let longest = STANDARD.encode(format!(
            "ticket_{}",
            "x".repeat(MOST_TICKET_CHARS / 4 * 3 - 7)
        ));
        assert_eq!(longest.len(), MOST_TICKET_CHARS);
        assert!(Presented::parse(&longest).is_some());
        let too_long = STANDARD.encode(format!("ticket_{}", "x".repeat(MOST_TICKET_CHARS)));
        assert!(Presented::parse(&too_long).is_none());
    }

    #[test]
    fn the_seed_example_is_a_ticket() {
        let seed = "dGlja2V0XzE3NTIyMjA3MzY3OTc6V2Z1UVNFZVJiaDJZejFiRGZJSE12QnlicXh5VGpSTk46MDlkMmNhMmZmZDAwZDNjMjFmZjhjMDBhNGRkMWUwODA=";
        assert!(Presented::parse(seed).is_some());
    }
}
