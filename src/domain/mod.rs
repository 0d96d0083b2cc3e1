//! Identifiers and value types shared by every layer. Generators here make ids of the shapes SPEC §1 fixes;
//! validators are used by the HTTP edge so inner code can trust what it receives.

pub mod artifact_path;
pub mod ip_rule;
pub mod operation;
pub mod paging;

use rand::distributions::{Alphanumeric, Distribution, Uniform};
use rand::Rng;

/// 32 lower-case hex characters: domain, user, group, IAM project, role and repository ids.
pub fn new_hex_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// `n` random ASCII letters and digits (ticket secrets, CodeArts project ids, secret keys).
pub fn random_alnum(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// An access key id: 20 upper-case letters and digits.
pub fn new_access_key() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let pick = Uniform::from(0..CHARS.len());
    let mut rng = rand::thread_rng();
    (0..20)
        .map(|_| CHARS[pick.sample(&mut rng)] as char)
        .collect()
}

pub fn is_hex32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

pub fn is_alnum32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// IAM user, group and policy names: 1..=max printable characters with no control characters.
pub fn is_plain_name(s: &str, max: usize) -> bool {
    !s.is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_have_their_shapes() {
        assert!(is_hex32(&new_hex_id()));
        let ak = new_access_key();
        assert_eq!(ak.len(), 20);
        assert!(ak
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert!(is_alnum32(&random_alnum(32)));
        assert!(!is_hex32("ABCDEF0123456789abcdef0123456789"));
        assert!(!is_alnum32("abc-"));
    }
}
