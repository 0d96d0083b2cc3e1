//! The bearer tokens of the container registry's token endpoint (`GET /v2/token`): who the caller is
//! and which actions on which image names were granted, signed with HMAC-SHA256 under a key every node
//! reads from the database, valid for a few minutes. Pure: the HTTP layer decides the grants and keeps
//! the key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Marks arca's registry tokens apart from tickets, which also come as `Bearer`.
pub const PREFIX: &str = "arcaoci1.";
/// How long a token is good for, in seconds.
pub const LIFETIME_SECS: i64 = 300;

/// An image name and the actions granted on it (`pull`, `push`, `delete`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub name: String,
    pub actions: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user, or empty for an anonymous caller.
    pub sub: String,
    /// A ticket's id and embed id when the caller authenticated with one, so its scope still applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<(String, String)>,
    pub access: Vec<Grant>,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    /// Whether the token grants `action` on `name`.
    pub fn grants(&self, name: &str, action: &str) -> bool {
        self.access
            .iter()
            .any(|g| g.name == name && g.actions.iter().any(|a| a == action))
    }
}

fn mac(key: &[u8], payload: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `arcaoci1.<claims>.<signature>`, both parts base64url.
pub fn sign(key: &[u8], claims: &Claims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).expect("claims serialize"));
    let signature = URL_SAFE_NO_PAD.encode(mac(key, &payload));
    format!("{PREFIX}{payload}.{signature}")
}

/// The claims of a token signed with `key` and not expired at `now` (seconds).
pub fn verify(key: &[u8], token: &str, now: i64) -> Option<Claims> {
    let rest = token.strip_prefix(PREFIX)?;
    if rest.len() > 16 * 1024 {
        return None;
    }
    let (payload, signature) = rest.split_once('.')?;
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let mut check = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any size");
    check.update(payload.as_bytes());
    check.verify_slice(&signature).ok()?;
    let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    (claims.exp > now && claims.iat <= now + 60).then_some(claims)
}

/// A `scope` parameter: `repository:<name>:<action>[,<action>…]` (several scopes come as several
/// parameters). `None` for another resource type or a malformed one. Only the actions a registry grants
/// (`pull`, `push`, `delete`, `*` for all three) are kept, each once, and a name longer than a repository
/// name can be is refused: a token carries what its scopes name, and one signed from a scope of any
/// size could outgrow what `verify` accepts.
pub fn parse_scope(scope: &str) -> Option<(String, Vec<String>)> {
    let rest = scope.strip_prefix("repository:")?;
    let (name, actions) = rest.rsplit_once(':')?;
    if name.len() > MAX_SCOPE_NAME {
        return None;
    }
    let mut granted: Vec<String> = Vec::new();
    for action in actions.split(',') {
        let named: &[&str] = match action {
            "*" => &["pull", "push", "delete"],
            "pull" => &["pull"],
            "push" => &["push"],
            "delete" => &["delete"],
            _ => &[],
        };
        for a in named {
            if !granted.iter().any(|g| g == a) {
                granted.push(a.to_string());
            }
        }
    }
    Some((name.to_string(), granted))
}

/// The longest repository name a scope may name (OCI names are at most 255 characters).
const MAX_SCOPE_NAME: usize = 255;

#[cfg(test)]
mod tests {
    use super::*;

    /// A scope of any size gives a token `verify` accepts (found by the `oci` fuzz target: thousands of
    /// unknown actions signed into a token over the 16 KiB `verify` takes).
    #[test]
    fn scopes_keep_known_actions_once_and_refuse_long_names() {
        let actions = vec!["pull\0x"; 4000].join(",");
        let (name, granted) =
            parse_scope(&format!("repository:r/i:{actions},pull,*,push")).unwrap();
        assert_eq!(
            (name.as_str(), granted),
            (
                "r/i",
                vec!["pull".to_string(), "push".into(), "delete".into()]
            )
        );
        assert_eq!(
            parse_scope(&format!("repository:{}:pull", "n".repeat(256))),
            None
        );
        let (name, actions) = parse_scope(&format!(
            "repository:{}:{}",
            "n".repeat(255),
            vec!["*"; 5000].join(",")
        ))
        .unwrap();
        let claims = Claims {
            sub: "u".into(),
            ticket: None,
            access: vec![Grant { name, actions }],
            iat: 100,
            exp: 200,
        };
        assert_eq!(verify(b"key", &sign(b"key", &claims), 150), Some(claims));
    }

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "u".into(),
            ticket: None,
            access: vec![Grant {
                name: "r/i".into(),
                actions: vec!["pull".into()],
            }],
            iat: 100,
            exp,
        }
    }

    #[test]
    fn tokens_verify_only_with_their_key_until_they_expire() {
        let token = sign(b"key", &claims(400));
        let got = verify(b"key", &token, 200).unwrap();
        assert!(got.grants("r/i", "pull"));
        assert!(!got.grants("r/i", "push"));
        assert!(!got.grants("r/j", "pull"));
        assert!(verify(b"other", &token, 200).is_none());
        assert!(verify(b"key", &token, 400).is_none(), "expired");
        assert!(verify(b"key", &token, 0).is_none(), "issued in the future");
        // A payload changed after signing (more actions) fails the signature.
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut forged = claims(400);
        forged.access[0].actions.push("push".into());
        let forged_payload = sign(b"x", &forged);
        let forged_payload = forged_payload.rsplit_once('.').unwrap().0;
        assert!(verify(b"key", &format!("{forged_payload}.{sig}"), 200).is_none());
        assert!(verify(b"key", &format!("{head}.x{sig}"), 200).is_none());
        assert!(verify(b"key", "tkt-whatever", 200).is_none());
    }

    #[test]
    fn scopes() {
        assert_eq!(
            parse_scope("repository:r/a/b:pull,push"),
            Some(("r/a/b".into(), vec!["pull".into(), "push".into()]))
        );
        assert_eq!(
            parse_scope("repository:r/a:*"),
            Some((
                "r/a".into(),
                vec!["pull".into(), "push".into(), "delete".into()]
            ))
        );
        assert_eq!(parse_scope("registry:catalog:*"), None);
        assert_eq!(parse_scope("repository:nocolon"), None);
    }
}
