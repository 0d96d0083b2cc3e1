//! Container images through a remote `docker2` repository, whose `remote_url` is another registry's
//! base (`https://registry-1.docker.io`, a distribution registry, another arca): `/v2/<repo>/<image>/…`
//! reads `{remote_url}/v2/<image>/…`, asked as registries are (the Bearer handshake of
//! `service::registry_auth`). Manifests by digest and blobs are kept for good at the paths a hosted
//! repository keeps them, once their bytes match the digest (a blob streams to the caller as it
//! arrives, its last byte held back until it is verified); a tag's manifest is kept at
//! `<image>/tags/<tag>` and revalidated after `metadata_max_age_secs`, served stale while the upstream
//! cannot be asked; the tag list likewise at `<image>/_tags` and a referrers list at
//! `<image>/_referrers/<digest>` (no image component starts with `_`).

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{HeaderValue, Method};
use axum::response::Response;

use super::download::{read_whole, serve_file};
use super::oci::{allow, registry, Caller};
use super::oci_manifests::reference_path;
use super::remote::{mark_stale, respond, settings_of, taker};
use crate::domain::operation::Operation;
use crate::formats::oci::{
    self as format, Algorithm, Digest, Reference, Target, DOCKER_LIST, DOCKER_MANIFEST,
    MAX_MANIFEST_BYTES, OCI_INDEX, OCI_MANIFEST,
};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::remote_fetch::{self, ContentCheck, Expected, Fetched, Freshness, Source};
use crate::store::oci::{blob_path, manifest_path};
use crate::store::remote::RemoteSettings;
use crate::store::repos::{FileEntry, Repository};
use crate::upstream::Url;

/// The upstream URL of `rest` (`<image>/manifests/<ref>`, …) under the registry at `remote_url` (given
/// with or without its `/v2`).
fn url_of(settings: &RemoteSettings, rest: &str) -> Result<Url, ApiError> {
    let base = settings.remote_url.trim_end_matches('/');
    let base = base.strip_suffix("/v2").unwrap_or(base);
    Url::parse(&format!("{base}/v2/{rest}"))
        .map_err(|_| ApiError::invalid("path", "does not make a valid upstream URL"))
}

fn scope_of(image: &str) -> Option<String> {
    Some(format!("repository:{image}:pull"))
}

fn expected_of(digest: &Digest) -> Expected {
    match digest.algorithm {
        Algorithm::Sha256 => Expected {
            sha256: Some(digest.hex.clone()),
            ..Expected::default()
        },
        Algorithm::Sha512 => Expected {
            sha512: Some(digest.hex.clone()),
            ..Expected::default()
        },
    }
}

/// Reads a spooled document whole when it is at most `limit` bytes.
fn read_bounded(path: &Path, limit: usize) -> Result<Vec<u8>, String> {
    let file =
        std::fs::File::open(path).map_err(|_| "a file arca could not read back".to_string())?;
    let mut bytes = Vec::new();
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|_| "a file arca could not read back".to_string())?;
    if bytes.len() > limit {
        return Err(format!("a document larger than {limit} bytes"));
    }
    Ok(bytes)
}

fn manifest_check() -> ContentCheck {
    Arc::new(|path: &Path| {
        let bytes = read_bounded(path, MAX_MANIFEST_BYTES)?;
        format::parse_manifest(&bytes, None)
            .map(|_| ())
            .map_err(|e| format!("a manifest arca refuses ({e})"))
    })
}

fn tags_check() -> ContentCheck {
    Arc::new(|path: &Path| {
        let bytes = read_bounded(path, MAX_MANIFEST_BYTES)?;
        listed_tags(&bytes)
            .map(|_| ())
            .ok_or_else(|| "a tag list that is not one".to_string())
    })
}

fn referrers_check() -> ContentCheck {
    Arc::new(|path: &Path| {
        let bytes = read_bounded(path, MAX_MANIFEST_BYTES)?;
        listed_referrers(&bytes)
            .map(|_| ())
            .ok_or_else(|| "a referrers answer that is not an image index".to_string())
    })
}

/// The descriptors of an upstream's referrers index, each with a valid digest; only the fields a
/// descriptor of the referrers API has are kept.
pub(super) fn listed_referrers(bytes: &[u8]) -> Option<Vec<serde_json::Value>> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let items = v.get("manifests")?.as_array()?;
    items
        .iter()
        .map(|d| {
            let digest = d
                .get("digest")?
                .as_str()
                .filter(|x| Digest::parse(x).is_some())?;
            let mut out = serde_json::json!({
                "mediaType": d.get("mediaType")?.as_str()?,
                "digest": digest,
                "size": d.get("size")?.as_u64()?,
            });
            if let Some(t) = d.get("artifactType").and_then(|t| t.as_str()) {
                out["artifactType"] = serde_json::json!(t);
            }
            if let Some(a) = d.get("annotations").filter(|a| a.is_object()) {
                out["annotations"] = a.clone();
            }
            Some(out)
        })
        .collect()
}

/// The upstream's referrers of `digest` (`None`: it answers none — no such image, or no referrers API),
/// and whether the list is a stale copy. Kept at `<image>/_referrers/<digest>`, revalidated like tags.
pub(super) async fn referrer_list(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    digest: &Digest,
) -> Result<Option<(Vec<serde_json::Value>, bool)>, ApiError> {
    let image = &target.image;
    let wanted = Wanted {
        path: format!("{image}/_referrers/{digest}"),
        upstream: format!("{image}/referrers/{digest}"),
        freshness: Freshness::Mutable,
        expected: Expected::default(),
        whole: true,
        accept: Some(OCI_INDEX),
        check: Some(referrers_check()),
    };
    let Some((file, stale)) = fetch_whole(state, repo, image, wanted, caller).await? else {
        return Ok(None);
    };
    let bytes = read_whole(state, &file.sha256, file.size).await?;
    let listed = listed_referrers(&bytes)
        .ok_or_else(|| ApiError::Internal("a kept referrers list does not parse".into()))?;
    Ok(Some((listed, stale)))
}

/// `GET /v2/<name>/referrers/<digest>` of a remote repository: the upstream's, filtered here by
/// `artifactType`; 404 when the upstream has no referrers API (clients then read the tag schema).
pub(super) async fn referrers(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    digest: &Digest,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let rel = format!("{}/referrers", target.image);
    allow(state, caller, repo, target, Operation::Download, &rel).await?;
    let (listed, stale) = referrer_list(state, caller, repo, target, digest)
        .await?
        .ok_or_else(no_referrers)?;
    let mut response = super::oci_manifests::referrers_answer(listed, parts)?;
    mark_stale(&mut response, stale);
    Ok(response)
}

pub(super) fn no_referrers() -> ApiError {
    registry(
        "NAME_UNKNOWN",
        404,
        "the upstream registry answers no referrers for this image",
    )
}

/// The tags of an upstream's `tags/list` answer (`"tags": null` is none).
pub(super) fn listed_tags(bytes: &[u8]) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    match v.get("tags")? {
        serde_json::Value::Null => Some(Vec::new()),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .filter(|t| format::is_valid_tag(t))
                    .map(str::to_string)
            })
            .collect(),
        _ => None,
    }
}

struct Wanted<'a> {
    path: String,
    upstream: String,
    freshness: Freshness,
    expected: Expected,
    whole: bool,
    accept: Option<&'a str>,
    check: Option<ContentCheck>,
}

/// The four manifest types a registry stores.
const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

async fn fetch(
    state: &AppState,
    repo: &Repository,
    image: &str,
    wanted: Wanted<'_>,
    caller: &Caller,
) -> Result<Fetched, ApiError> {
    let settings = settings_of(state, repo).await?;
    let source = Source {
        repo,
        settings: &settings,
        path: &wanted.path,
        url: url_of(&settings, &wanted.upstream)?,
        freshness: wanted.freshness,
        expected: wanted.expected,
        checksum_file: None,
        whole: wanted.whole,
        accept: wanted.accept,
        user_id: taker(caller.principal.as_ref()),
        registry_scope: scope_of(image),
    };
    match wanted.check {
        Some(check) => remote_fetch::fetch_checked(state, source, check).await,
        None => remote_fetch::fetch(state, source).await,
    }
}

fn manifest_unknown() -> ApiError {
    registry("MANIFEST_UNKNOWN", 404, "manifest unknown to registry")
}

fn blob_unknown() -> ApiError {
    registry("BLOB_UNKNOWN", 404, "blob unknown to registry")
}

/// A manifest of the remote repository, kept: the file and whether it is a stale copy.
pub(super) async fn manifest_file(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    reference: &Reference,
) -> Result<Option<(FileEntry, bool)>, ApiError> {
    let image = &target.image;
    let wanted = match reference {
        Reference::Digest(d) => Wanted {
            path: manifest_path(image, &d.to_string()),
            upstream: format!("{image}/manifests/{d}"),
            freshness: Freshness::Immutable,
            expected: expected_of(d),
            whole: true,
            accept: Some(MANIFEST_ACCEPT),
            check: Some(manifest_check()),
        },
        Reference::Tag(t) => Wanted {
            path: format!("{image}/tags/{t}"),
            upstream: format!("{image}/manifests/{t}"),
            freshness: Freshness::Mutable,
            expected: Expected::default(),
            whole: true,
            accept: Some(MANIFEST_ACCEPT),
            check: Some(manifest_check()),
        },
    };
    fetch_whole(state, repo, image, wanted, caller).await
}

/// `fetch` of a `whole` document: the kept file and whether it is a stale copy, `None` when the upstream
/// has none.
async fn fetch_whole(
    state: &AppState,
    repo: &Repository,
    image: &str,
    wanted: Wanted<'_>,
    caller: &Caller,
) -> Result<Option<(FileEntry, bool)>, ApiError> {
    match fetch(state, repo, image, wanted, caller).await? {
        Fetched::Cached { file, stale } => Ok(Some((*file, stale))),
        Fetched::Missing => Ok(None),
        Fetched::Streaming { .. } => Err(ApiError::Internal(
            "a whole fetch answered with a stream".into(),
        )),
    }
}

/// `GET`/`HEAD /v2/<name>/manifests/<reference>` of a remote repository.
pub(super) async fn manifest(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let format::Endpoint::Manifest(reference) = &target.endpoint else {
        return Err(ApiError::MethodNotAllowed);
    };
    let image = &target.image;
    let rel = reference_path(image, reference);
    allow(state, caller, repo, target, Operation::Download, &rel).await?;
    let (file, stale) = manifest_file(state, caller, repo, target, reference)
        .await?
        .ok_or_else(manifest_unknown)?;
    serve_manifest(state, &file, stale, reference, parts).await
}

/// A kept manifest with its media type and `Docker-Content-Digest`.
pub(super) async fn serve_manifest(
    state: &AppState,
    file: &FileEntry,
    stale: bool,
    reference: &Reference,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let digest = match reference {
        Reference::Digest(d) => d.to_string(),
        Reference::Tag(_) => format!("sha256:{}", file.sha256),
    };
    let mut response =
        serve_file(state, file, &parts.headers, parts.method == Method::HEAD).await?;
    if let Ok(v) = HeaderValue::from_str(&digest) {
        response.headers_mut().insert("docker-content-digest", v);
    }
    let known = [OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST];
    if !known.iter().any(|k| file.content_type.starts_with(k)) {
        // The upstream's type says nothing a client can use: name the manifest's own.
        let bytes = read_whole(state, &file.sha256, file.size).await?;
        if let Ok(m) = format::parse_manifest(&bytes, None) {
            if let Ok(v) = HeaderValue::from_str(&m.media_type) {
                response.headers_mut().insert("content-type", v);
            }
        }
    }
    mark_stale(&mut response, stale);
    Ok(response)
}

/// `GET`/`HEAD /v2/<name>/blobs/<digest>` of a remote repository.
pub(super) async fn blob(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    digest: &Digest,
    parts: &Parts,
) -> Result<Response, ApiError> {
    if parts.method != Method::GET && parts.method != Method::HEAD {
        return Err(ApiError::MethodNotAllowed);
    }
    let image = &target.image;
    let path = blob_path(image, &digest.to_string());
    allow(state, caller, repo, target, Operation::Download, &path).await?;
    let wanted = Wanted {
        path,
        upstream: format!("{image}/blobs/{digest}"),
        freshness: Freshness::Immutable,
        expected: expected_of(digest),
        whole: false,
        accept: None,
        check: None,
    };
    let fetched = fetch(state, repo, image, wanted, caller).await?;
    let head = parts.method == Method::HEAD;
    let mut response = respond(state, fetched, &parts.headers, head, blob_unknown).await?;
    if let Ok(v) = HeaderValue::from_str(&digest.to_string()) {
        response.headers_mut().insert("docker-content-digest", v);
    }
    Ok(response)
}

/// A blob of the remote repository once kept (fetched whole when it is not yet): for a push through a
/// virtual repository, which links it into the deploy repository.
pub(super) async fn kept_blob(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    image: &str,
    digest: &Digest,
) -> Result<Option<FileEntry>, ApiError> {
    let wanted = Wanted {
        path: blob_path(image, &digest.to_string()),
        upstream: format!("{image}/blobs/{digest}"),
        freshness: Freshness::Immutable,
        expected: expected_of(digest),
        whole: true,
        accept: None,
        check: None,
    };
    match fetch(state, repo, image, wanted, caller).await? {
        Fetched::Cached { file, .. } => Ok(Some(*file)),
        _ => Ok(None),
    }
}

/// The tags the upstream lists for the image (`None`: it knows no such image), and whether the list
/// is a stale copy.
pub(super) async fn tag_list(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
) -> Result<Option<(Vec<String>, bool)>, ApiError> {
    let image = &target.image;
    let wanted = Wanted {
        path: format!("{image}/_tags"),
        upstream: format!("{image}/tags/list"),
        freshness: Freshness::Mutable,
        expected: Expected::default(),
        whole: true,
        accept: Some("application/json"),
        check: Some(tags_check()),
    };
    let Some((file, stale)) = fetch_whole(state, repo, image, wanted, caller).await? else {
        return Ok(None);
    };
    let bytes = read_whole(state, &file.sha256, file.size).await?;
    let tags = listed_tags(&bytes)
        .ok_or_else(|| ApiError::Internal("a kept tag list does not parse".into()))?;
    Ok(Some((tags, stale)))
}

/// `GET /v2/<name>/tags/list` of a remote repository.
pub(super) async fn tags(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &Target,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let rel = format!("{}/tags", target.image);
    allow(state, caller, repo, target, Operation::Download, &rel).await?;
    let (tags, stale) = tag_list(state, caller, repo, target)
        .await?
        .ok_or_else(|| registry("NAME_UNKNOWN", 404, "repository name not known to registry"))?;
    let mut response = super::oci_manifests::tags_answer(target, tags, parts)?;
    mark_stale(&mut response, stale);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_lists_parse_as_registries_answer_them() {
        assert_eq!(
            listed_tags(br#"{"name":"a/b","tags":["v1","latest"]}"#),
            Some(vec!["v1".to_string(), "latest".to_string()])
        );
        assert_eq!(listed_tags(br#"{"name":"a/b","tags":null}"#), Some(vec![]));
        assert_eq!(listed_tags(br#"{"name":"a/b","tags":["../x"]}"#), None);
        assert_eq!(listed_tags(br#"{"name":"a/b"}"#), None);
    }

    #[test]
    fn referrers_keep_descriptors_with_valid_digests_only() {
        let d = format!("sha256:{}", "a".repeat(64));
        let doc = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"m","digest":"{d}","size":3,"artifactType":"t","extra":1}}]}}"#
        );
        let listed = listed_referrers(doc.as_bytes()).unwrap();
        assert_eq!(
            listed,
            vec![serde_json::json!({"mediaType":"m","digest":d,"size":3,"artifactType":"t"})]
        );
        let bad = r#"{"manifests":[{"mediaType":"m","digest":"sha256:zz","size":3}]}"#;
        assert_eq!(listed_referrers(bad.as_bytes()), None);
        assert_eq!(listed_referrers(b"{}"), None);
    }

    #[test]
    fn upstream_urls_take_the_base_with_or_without_v2() {
        let mut settings = RemoteSettings {
            repo_id: String::new(),
            remote_url: String::new(),
            user_name: String::new(),
            password_sealed: None,
            metadata_max_age_secs: 0,
            not_found_cache_secs: 0,
        };
        for base in ["http://r:5000", "http://r:5000/", "http://r:5000/v2/"] {
            settings.remote_url = base.to_string();
            assert_eq!(
                url_of(&settings, "lib/x/manifests/1").unwrap().as_str(),
                "http://r:5000/v2/lib/x/manifests/1"
            );
        }
    }
}
