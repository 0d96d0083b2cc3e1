//! Container registry inputs: `/v2/` paths (`formats::oci::parse_path`), manifests (`parse_manifest`),
//! `Content-Range` values, token scopes and registry tokens.
//!
//! Properties: an accepted path names a valid repository and image and renders back to itself (the
//! endpoint read from the end); digests render to what parses again; an accepted manifest has one of
//! the four media types and only well-formed digests, an image manifest no index entries and an index no
//! blobs; a token never verifies under a key it was not signed with, and one signed verifies.
#![no_main]

use arca::auth::registry_token::{self, Claims, Grant};
use arca::formats::oci::{
    is_valid_name, parse_content_range, parse_manifest, parse_path, Digest, Endpoint, Reference,
    DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST,
};
use libfuzzer_sys::fuzz_target;

fn render(endpoint: &Endpoint) -> String {
    match endpoint {
        Endpoint::Manifest(Reference::Tag(t)) => format!("manifests/{t}"),
        Endpoint::Manifest(Reference::Digest(d)) => format!("manifests/{d}"),
        Endpoint::Blob(d) => format!("blobs/{d}"),
        Endpoint::UploadStart => "blobs/uploads/".to_string(),
        Endpoint::Upload(id) => format!("blobs/uploads/{id}"),
        Endpoint::Tags => "tags/list".to_string(),
        Endpoint::Referrers(d) => format!("referrers/{d}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(Some(target)) = parse_path(text) {
        assert!(!target.repo.contains('/'));
        assert!(is_valid_name(&target.name()), "{text:?}");
        let again = format!("{}/{}", target.name(), render(&target.endpoint));
        assert_eq!(parse_path(&again), Ok(Some(target)), "{text:?}");
    }
    if let Some(d) = Digest::parse(text) {
        assert_eq!(d.to_string(), text);
    }
    if let Some((a, b)) = parse_content_range(text) {
        assert!(a <= b);
    }
    let content_type = text.lines().next();
    if let Ok(m) = parse_manifest(data, content_type) {
        assert!([DOCKER_MANIFEST, DOCKER_LIST, OCI_MANIFEST, OCI_INDEX].contains(&m.media_type.as_str()));
        for d in m.blobs.iter().chain(&m.manifests).chain(&m.subject) {
            assert_eq!(Digest::parse(&d.to_string()).as_ref(), Some(d));
        }
        let is_index = m.media_type == OCI_INDEX || m.media_type == DOCKER_LIST;
        assert!(if is_index { m.blobs.is_empty() } else { m.manifests.is_empty() && !m.blobs.is_empty() });
    }
    if let Some((name, actions)) = registry_token::parse_scope(text) {
        let claims = Claims {
            sub: "u".into(),
            ticket: None,
            access: vec![Grant { name, actions }],
            iat: 100,
            exp: 200,
        };
        let token = registry_token::sign(b"key", &claims);
        assert_eq!(registry_token::verify(b"key", &token, 150), Some(claims));
        assert!(registry_token::verify(b"other", &token, 150).is_none());
    }
    // Whatever arrives as a bearer token is refused or verified, never a panic.
    let _ = registry_token::verify(b"key", text, 150);
});
