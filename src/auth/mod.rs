//! Authentication primitives: request signatures, tokens, tickets and secrets at rest, and the
//! `Principal` every authenticated request carries. Pure: the HTTP layer looks the credentials up.

pub mod registry_token;
pub mod secrets;
pub mod signature;
pub mod ticket;
pub mod token;

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
