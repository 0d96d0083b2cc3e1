//! Container images (OCI Distribution Specification v1.1): repository names, tags and digests as the
//! spec's grammar defines them, request paths under `/v2/`, and the manifests a registry must read
//! (Docker schema 2 manifests and lists, OCI image manifests and indexes) for what they reference.

use serde::Deserialize;

pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// A manifest is refused beyond this (the spec's suggested minimum a registry must take).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// Docker's own limit on a whole name (`host` excluded).
const MAX_NAME: usize = 255;

/// One path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: `.`, `_`, `__` or any number of `-`.
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Whether `name` is a repository name of the spec (components joined by `/`).
pub fn is_valid_name(name: &str) -> bool {
    name.len() <= MAX_NAME && name.split('/').all(is_component)
}

/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let b = tag.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b[1..]
            .iter()
            .all(|x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

/// A content digest arca verifies: `sha256:` with 64 or `sha512:` with 128 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    pub algorithm: Algorithm,
    pub hex: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Digest {
    /// Parses a digest; `None` for anything but a well-formed sha256 or sha512 one.
    pub fn parse(s: &str) -> Option<Digest> {
        let (alg, hex) = s.split_once(':')?;
        let (algorithm, len) = match alg {
            "sha256" => (Algorithm::Sha256, 64),
            "sha512" => (Algorithm::Sha512, 128),
            _ => return None,
        };
        let lower_hex = hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        (hex.len() == len && lower_hex).then(|| Digest {
            algorithm,
            hex: hex.to_string(),
        })
    }

    /// The digest of bytes in memory, by `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Digest {
        use sha2::Digest as _;
        let hex = match algorithm {
            Algorithm::Sha256 => hex::encode(sha2::Sha256::digest(bytes)),
            Algorithm::Sha512 => hex::encode(sha2::Sha512::digest(bytes)),
        };
        Digest { algorithm, hex }
    }

    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest::of(Algorithm::Sha256, bytes)
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let alg = match self.algorithm {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        };
        write!(f, "{alg}:{}", self.hex)
    }
}

/// A manifest reference: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Tag(String),
    Digest(Digest),
}

/// Why a request path is refused: the spec's error code names the part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    Name,
    Digest,
    Reference,
}

impl Reference {
    pub fn parse(s: &str) -> Result<Reference, PathError> {
        if s.contains(':') {
            Digest::parse(s)
                .map(Reference::Digest)
                .ok_or(PathError::Digest)
        } else if is_valid_tag(s) {
            Ok(Reference::Tag(s.to_string()))
        } else {
            Err(PathError::Reference)
        }
    }
}

/// What a `/v2/<name>/…` path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Manifest(Reference),
    Blob(Digest),
    /// `blobs/uploads/` (a new session).
    UploadStart,
    Upload(String),
    Tags,
    Referrers(Digest),
}

/// A parsed `/v2/` path: the arca repository (the name's first component), the image (the rest) and
/// what is asked of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub repo: String,
    pub image: String,
    pub endpoint: Endpoint,
}

impl Target {
    /// The whole name a client uses (`<repo>/<image>`).
    pub fn name(&self) -> String {
        format!("{}/{}", self.repo, self.image)
    }
}

/// Parses the path after `/v2/` (not percent-decoded: no valid part needs escaping). `Ok(None)` when it
/// is not one of the spec's endpoints.
pub fn parse_path(rest: &str) -> Result<Option<Target>, PathError> {
    let segments: Vec<&str> = rest.split('/').collect();
    let n = segments.len();
    let tail = |k: usize| segments.get(n.wrapping_sub(k)).copied();
    let (endpoint, used) = match (tail(3), tail(2), tail(1)) {
        (_, Some("tags"), Some("list")) => (Endpoint::Tags, 2),
        (Some("blobs"), Some("uploads"), Some("")) => (Endpoint::UploadStart, 3),
        (Some("blobs"), Some("uploads"), Some(id)) => {
            if !is_upload_id(id) {
                return Err(PathError::Reference);
            }
            (Endpoint::Upload(id.to_string()), 3)
        }
        (_, Some("blobs"), Some("uploads")) => (Endpoint::UploadStart, 2),
        (_, Some("blobs"), Some(d)) => (
            Endpoint::Blob(Digest::parse(d).ok_or(PathError::Digest)?),
            2,
        ),
        (_, Some("manifests"), Some(r)) => (Endpoint::Manifest(Reference::parse(r)?), 2),
        (_, Some("referrers"), Some(d)) => (
            Endpoint::Referrers(Digest::parse(d).ok_or(PathError::Digest)?),
            2,
        ),
        _ => return Ok(None),
    };
    let name = &segments[..n - used];
    if name.len() < 2 {
        // `/v2/<repo>/manifests/x`: an arca repository holds images, it is not one.
        return Err(PathError::Name);
    }
    let full = name.join("/");
    if !is_valid_name(&full) {
        return Err(PathError::Name);
    }
    Ok(Some(Target {
        repo: name[0].to_string(),
        image: name[1..].join("/"),
        endpoint,
    }))
}

/// Upload session ids are ours: 32 lower-case hex digits.
pub fn is_upload_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: String,
    size: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

/// What a registry needs of a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub media_type: String,
    /// Blobs it references (config and layers) — empty for an index.
    pub blobs: Vec<Digest>,
    /// Manifests it references (an index's entries).
    pub manifests: Vec<Digest>,
    pub subject: Option<Digest>,
    /// `artifactType`, or an image manifest's config media type (what the referrers API reports).
    pub artifact_type: Option<String>,
    pub annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Why a manifest is refused (`MANIFEST_INVALID`, the message says what).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not a JSON document of a known shape")]
    NotJson,
    #[error("the manifest's schemaVersion must be 2")]
    SchemaVersion,
    #[error("the manifest's media type is not one this registry stores (Docker schema 2 manifest or list, OCI image manifest or index)")]
    MediaType,
    #[error("the manifest's mediaType differs from its Content-Type")]
    MediaTypeMismatch,
    #[error("a descriptor of the manifest has an invalid or unsupported digest")]
    Digest,
    #[error("an image manifest needs a config and layers; an index needs manifests")]
    Shape,
}

/// Parses a manifest sent with `content_type` (the header; the document's own `mediaType` wins when it
/// has one, and the two must then agree).
pub fn parse_manifest(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, ManifestError> {
    let raw: RawManifest = serde_json::from_slice(bytes).map_err(|_| ManifestError::NotJson)?;
    if raw.schema_version != Some(2) {
        return Err(ManifestError::SchemaVersion);
    }
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim())
        .filter(|c| !c.is_empty());
    let media_type = match (&raw.media_type, header) {
        (Some(own), Some(h)) if own != h => return Err(ManifestError::MediaTypeMismatch),
        (Some(own), _) => own.clone(),
        (None, Some(h)) => h.to_string(),
        // An OCI document may omit mediaType; its shape tells which it is.
        (None, None) if raw.manifests.is_some() => OCI_INDEX.to_string(),
        (None, None) => OCI_MANIFEST.to_string(),
    };
    let digest = |d: &RawDescriptor| Digest::parse(&d.digest).ok_or(ManifestError::Digest);
    let subject = raw.subject.as_ref().map(digest).transpose()?;
    let (blobs, manifests) = match media_type.as_str() {
        DOCKER_MANIFEST | OCI_MANIFEST => {
            let config = raw.config.as_ref().ok_or(ManifestError::Shape)?;
            let layers = raw.layers.as_ref().ok_or(ManifestError::Shape)?;
            let mut blobs = vec![digest(config)?];
            for l in layers {
                blobs.push(digest(l)?);
            }
            (blobs, Vec::new())
        }
        DOCKER_LIST | OCI_INDEX => {
            let entries = raw.manifests.as_ref().ok_or(ManifestError::Shape)?;
            let manifests = entries.iter().map(digest).collect::<Result<_, _>>()?;
            (Vec::new(), manifests)
        }
        _ => return Err(ManifestError::MediaType),
    };
    let artifact_type = raw.artifact_type.clone().or_else(|| {
        (media_type == OCI_MANIFEST)
            .then(|| raw.config.as_ref().and_then(|c| c.media_type.clone()))
            .flatten()
    });
    let _ = raw.config.as_ref().map(|c| c.size);
    Ok(Manifest {
        media_type,
        blobs,
        manifests,
        subject,
        artifact_type,
        annotations: raw.annotations,
    })
}

/// A `Content-Range` of a chunk (`<start>-<end>`, inclusive), as PATCH sends it.
pub fn parse_content_range(value: &str) -> Option<(u64, u64)> {
    let v = value.trim();
    let v = v.strip_prefix("bytes ").unwrap_or(v);
    let v = v.split('/').next()?;
    let (a, b) = v.split_once('-')?;
    let (a, b) = (a.parse().ok()?, b.parse().ok()?);
    (a <= b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    #[test]
    fn names_follow_the_spec_grammar() {
        for ok in ["a/b", "repo/library/ubuntu", "r/a.b_c__d---e", "r0/x9/y-z"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "", "A/b", "a//b", "a/b/", "/a", "a/-b", "a/b-", "a/b...c", "a/b___c", "a/b c",
            "a/../b", "a/.", "a/b%2f",
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        assert!(!is_valid_name(&format!("a/{}", "b".repeat(300))));
    }

    #[test]
    fn tags_and_digests() {
        assert!(is_valid_tag("latest") && is_valid_tag("_x.Y-1") && is_valid_tag(&"a".repeat(128)));
        assert!(!is_valid_tag("") && !is_valid_tag(".x") && !is_valid_tag("-x"));
        assert!(!is_valid_tag(&"a".repeat(129)) && !is_valid_tag("a/b") && !is_valid_tag("a:b"));
        let d = Digest::parse(SHA).unwrap();
        assert_eq!(d.algorithm, Algorithm::Sha256);
        assert_eq!(d.to_string(), SHA);
        assert_eq!(Digest::sha256_of(b"foo").to_string(), SHA);
        let long = format!("sha512:{}", "a".repeat(128));
        assert_eq!(Digest::parse(&long).unwrap().algorithm, Algorithm::Sha512);
        for bad in [
            "sha256:",
            "sha256:ABC",
            &SHA.to_uppercase(),
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            &format!("{SHA}0"),
            "sha256",
            &format!("sha512:{}", "a".repeat(64)),
        ] {
            assert!(Digest::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(Reference::parse("v1"), Ok(Reference::Tag("v1".into())));
        assert_eq!(Reference::parse("sha256:zz"), Err(PathError::Digest));
        assert_eq!(Reference::parse("..x"), Err(PathError::Reference));
    }

    #[test]
    fn paths_split_into_repository_image_and_endpoint() {
        let t = parse_path("repo/a/b/manifests/latest").unwrap().unwrap();
        assert_eq!((t.repo.as_str(), t.image.as_str()), ("repo", "a/b"));
        assert_eq!(
            t.endpoint,
            Endpoint::Manifest(Reference::Tag("latest".into()))
        );
        assert_eq!(t.name(), "repo/a/b");
        // An image may itself be called `manifests` or `blobs`: the endpoint is read from the end.
        let t = parse_path(&format!("repo/blobs/manifests/blobs/{SHA}"))
            .unwrap()
            .unwrap();
        assert_eq!(t.image, "blobs/manifests");
        assert!(matches!(t.endpoint, Endpoint::Blob(_)));
        let t = parse_path("r/i/blobs/uploads/").unwrap().unwrap();
        assert_eq!(t.endpoint, Endpoint::UploadStart);
        let t = parse_path("r/i/blobs/uploads").unwrap().unwrap();
        assert_eq!(t.endpoint, Endpoint::UploadStart);
        let id = "0123456789abcdef0123456789abcdef";
        let t = parse_path(&format!("r/i/blobs/uploads/{id}"))
            .unwrap()
            .unwrap();
        assert_eq!(t.endpoint, Endpoint::Upload(id.into()));
        assert_eq!(
            parse_path("r/i/tags/list").unwrap().unwrap().endpoint,
            Endpoint::Tags
        );
        let t = parse_path(&format!("r/i/referrers/{SHA}"))
            .unwrap()
            .unwrap();
        assert!(matches!(t.endpoint, Endpoint::Referrers(_)));
        assert_eq!(parse_path("r/i/other/x").unwrap(), None);
        assert_eq!(parse_path("").unwrap(), None);
        assert_eq!(parse_path("r/manifests/latest"), Err(PathError::Name));
        assert_eq!(parse_path("R/i/manifests/latest"), Err(PathError::Name));
        assert_eq!(parse_path("r/../i/manifests/latest"), Err(PathError::Name));
        assert_eq!(
            parse_path("r/i/blobs/sha256:nothex"),
            Err(PathError::Digest)
        );
        assert_eq!(parse_path("r/i/manifests/%00"), Err(PathError::Reference));
        assert_eq!(
            parse_path("r/i/blobs/uploads/.."),
            Err(PathError::Reference)
        );
        assert_eq!(parse_path("r/i/blobs/uploads/../x"), Ok(None));
    }

    fn image_manifest(media_type: Option<&str>, extra: &str) -> String {
        let mt = media_type
            .map(|m| format!(r#""mediaType":"{m}","#))
            .unwrap_or_default();
        format!(
            r#"{{"schemaVersion":2,{mt}"config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{SHA}","size":3}},"layers":[{{"mediaType":"x","digest":"sha512:{}","size":1}}]{extra}}}"#,
            "b".repeat(128)
        )
    }

    #[test]
    fn manifests_name_what_they_reference() {
        let m = parse_manifest(image_manifest(Some(OCI_MANIFEST), "").as_bytes(), None).unwrap();
        assert_eq!(m.media_type, OCI_MANIFEST);
        assert_eq!(m.blobs.len(), 2);
        assert_eq!(m.blobs[1].algorithm, Algorithm::Sha512);
        assert_eq!(
            m.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        assert!(m.subject.is_none());
        // Without mediaType, the header decides; a document that has one must agree with it.
        let doc = image_manifest(
            None,
            &format!(r#","subject":{{"digest":"{SHA}","size":1}},"artifactType":"a/b""#),
        );
        let m = parse_manifest(
            doc.as_bytes(),
            Some(&format!("{DOCKER_MANIFEST}; charset=x")),
        )
        .unwrap();
        assert_eq!(m.media_type, DOCKER_MANIFEST);
        assert_eq!(m.subject, Digest::parse(SHA));
        assert_eq!(m.artifact_type.as_deref(), Some("a/b"));
        let doc = image_manifest(Some(OCI_MANIFEST), "");
        assert_eq!(
            parse_manifest(doc.as_bytes(), Some(DOCKER_MANIFEST)),
            Err(ManifestError::MediaTypeMismatch)
        );
        let index = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{{"digest":"{SHA}","size":1}}]}}"#
        );
        let m = parse_manifest(index.as_bytes(), None).unwrap();
        assert_eq!((m.blobs.len(), m.manifests.len()), (0, 1));
        let list = index.replace(OCI_INDEX, DOCKER_LIST);
        assert_eq!(
            parse_manifest(list.as_bytes(), None).unwrap().media_type,
            DOCKER_LIST
        );
        let unknown = index.replace(OCI_INDEX, "application/x");
        assert_eq!(
            parse_manifest(unknown.as_bytes(), None),
            Err(ManifestError::MediaType)
        );
        assert_eq!(parse_manifest(b"[]", None), Err(ManifestError::NotJson));
        assert_eq!(
            parse_manifest(br#"{"schemaVersion":1}"#, None),
            Err(ManifestError::SchemaVersion)
        );
        let bad = image_manifest(Some(OCI_MANIFEST), "").replace(SHA, "sha256:0");
        assert_eq!(
            parse_manifest(bad.as_bytes(), None),
            Err(ManifestError::Digest)
        );
        let shapeless = format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}"}}"#);
        assert_eq!(
            parse_manifest(shapeless.as_bytes(), None),
            Err(ManifestError::Shape)
        );
    }

    #[test]
    fn content_ranges() {
        assert_eq!(parse_content_range("0-9"), Some((0, 9)));
        assert_eq!(parse_content_range("bytes 10-19/*"), Some((10, 19)));
        assert_eq!(parse_content_range("9-0"), None);
        assert_eq!(parse_content_range("x"), None);
    }
}
