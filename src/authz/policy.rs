//! IAM identity policies: documents of `Allow`/`Deny` statements over actions `service:resource:verb`,
//! with `*` wildcards. An explicit `Deny` beats any `Allow`; no matching statement means not allowed.

use serde::Deserialize;

/// Actions arca checks (decision: the IAM names of the seed and of the ticket list's visibility rules).
pub mod actions {
    pub const LIST_REPO_USERS: &str = "codeartsartifact:repository:listUsers";
    pub const LIST_TICKETS: &str = "codeartsartifact:ticket:list";
    pub const CREATE_TICKETS: &str = "codeartsartifact:ticket:create";
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PolicyDocument {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub statement: Vec<Statement>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Statement {
    pub effect: Effect,
    #[serde(default)]
    pub action: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// Checks a document's shape: known effects, 1..=100 well-formed actions per statement.
pub fn validate_document(doc: &PolicyDocument) -> Result<(), String> {
    if doc.statement.is_empty() || doc.statement.len() > 64 {
        return Err("Statement must hold 1 to 64 statements".into());
    }
    for st in &doc.statement {
        if st.action.is_empty() || st.action.len() > 100 {
            return Err("each statement's Action must hold 1 to 100 actions".into());
        }
        for action in &st.action {
            let parts: Vec<&str> = action.split(':').collect();
            let ok = action.len() <= 128
                && parts.len() == 3
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.bytes().all(|b| {
                            b.is_ascii_alphanumeric() || b == b'*' || b == b'_' || b == b'-'
                        })
                });
            if !ok {
                return Err(format!(
                    "action '{action}' is not of the form service:resource:verb"
                ));
            }
        }
    }
    Ok(())
}

fn action_matches(pattern: &str, action: &str) -> bool {
    // Actions contain no '/', so the grant matcher's "* matches any rest" semantics apply unchanged.
    crate::authz::grants::covers(
        &format!("/{}", pattern.to_ascii_lowercase()),
        &format!("/{}", action.to_ascii_lowercase()),
    )
}

/// Whether the documents allow `action`.
pub fn is_allowed<'a>(
    documents: impl IntoIterator<Item = &'a PolicyDocument>,
    action: &str,
) -> bool {
    let mut allowed = false;
    for doc in documents {
        for st in &doc.statement {
            if st.action.iter().any(|p| action_matches(p, action)) {
                match st.effect {
                    Effect::Deny => return false,
                    Effect::Allow => allowed = true,
                }
            }
        }
    }
    allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> PolicyDocument {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn allow_deny_and_wildcards() {
        let allow = doc(
            r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["codeartsartifact:repository:*"]}]}"#,
        );
        let deny = doc(
            r#"{"Version":"1.1","Statement":[{"Effect":"Deny","Action":["codeartsartifact:*:listUsers"]}]}"#,
        );
        let all = doc(r#"{"Version":"1.1","Statement":[{"Effect":"Allow","Action":["*:*:*"]}]}"#);
        assert!(is_allowed([&allow], actions::LIST_REPO_USERS));
        assert!(!is_allowed([&allow], actions::LIST_TICKETS));
        assert!(!is_allowed([&allow, &deny], actions::LIST_REPO_USERS));
        assert!(is_allowed([&all], "iam:users:create"));
        assert!(is_allowed([&all], actions::LIST_TICKETS));
        assert!(!is_allowed(std::iter::empty(), actions::LIST_TICKETS));
        let case = doc(
            r#"{"Statement":[{"Effect":"Allow","Action":["CodeArtsArtifact:Repository:ListUsers"]}]}"#,
        );
        assert!(is_allowed([&case], actions::LIST_REPO_USERS));
    }

    #[test]
    fn documents_are_validated() {
        assert!(validate_document(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":["a:b:c"]}]}"#
        ))
        .is_ok());
        assert!(validate_document(&doc(r#"{"Statement":[]}"#)).is_err());
        assert!(validate_document(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":["a:b"]}]}"#
        ))
        .is_err());
        assert!(validate_document(&doc(
            r#"{"Statement":[{"Effect":"Allow","Action":["a:b c:d"]}]}"#
        ))
        .is_err());
        assert!(serde_json::from_str::<PolicyDocument>(
            r#"{"Statement":[{"Effect":"Maybe","Action":["a:b:c"]}]}"#
        )
        .is_err());
    }
}
