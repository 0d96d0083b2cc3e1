//! Manifests, tags and referrers. A manifest is a file `<image>/manifests/<digest>` whose content type
//! is its media type; `oci_manifests` keeps what it references and its subject, `oci_tags` the tags.
//! Deleting through `/v2/` is for good (a registry client expects it); through the management API a
//! manifest goes to the recycle bin and keeps its layers until it is purged.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::download::serve_file;
use super::oci::{allow, digest_invalid, registry, with_headers, Caller};
use super::oci_blobs::live_file;
use crate::blob::BlobInfo;
use crate::domain::operation::Operation;
use crate::formats::oci::{self as format, Digest, Reference, MAX_MANIFEST_BYTES, OCI_INDEX};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::{read_body, QueryParams};
use crate::http::storage::{reclaim, UploadFence};
use crate::store::now_ms;
use crate::store::oci::{self as store, blob_path, manifest_path, NewManifest};
use crate::store::repos::{self, Repository};

fn manifest_unknown() -> ApiError {
    registry("MANIFEST_UNKNOWN", 404, "manifest unknown to registry")
}

/// The digest a reference stands for now (a tag's target while its manifest is live).
async fn resolve(
    state: &AppState,
    repo: &Repository,
    image: &str,
    reference: &Reference,
) -> Result<String, ApiError> {
    match reference {
        Reference::Digest(d) => Ok(d.to_string()),
        Reference::Tag(tag) => {
            let (repo_id, image, tag) = (repo.id.clone(), image.to_string(), tag.clone());
            state
                .db
                .call(move |conn| store::tag_digest(conn, &repo_id, &image, &tag))
                .await?
                .ok_or_else(manifest_unknown)
        }
    }
}

/// A manifest of hosted repository `repo`; `via`: the virtual repository a push was sent to (its deploy
/// repository is `repo`).
pub(super) async fn manifest(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    parts: &Parts,
    body: Body,
    via: Option<&Repository>,
) -> Result<Response, ApiError> {
    let format::Endpoint::Manifest(reference) = &target.endpoint else {
        return Err(ApiError::MethodNotAllowed);
    };
    let image = &target.image;
    let rel = reference_path(image, reference);
    match parts.method {
        Method::GET | Method::HEAD => {
            allow(state, caller, repo, target, Operation::Download, &rel).await?;
            let digest = resolve(state, repo, image, reference).await?;
            let file = live_file(state, repo, manifest_path(image, &digest))
                .await?
                .ok_or_else(manifest_unknown)?;
            let mut response =
                serve_file(state, &file, &parts.headers, parts.method == Method::HEAD).await?;
            if let Ok(v) = HeaderValue::from_str(&digest) {
                response.headers_mut().insert("docker-content-digest", v);
            }
            Ok(response)
        }
        Method::PUT => {
            allow(state, caller, repo, target, Operation::Upload, &rel).await?;
            put(state, caller, repo, target, reference, parts, body, via).await
        }
        Method::DELETE => {
            allow(state, caller, repo, target, Operation::Delete, &rel).await?;
            delete(state, repo, image, reference).await
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

#[allow(clippy::too_many_arguments)]
async fn put(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    reference: &Reference,
    parts: &Parts,
    body: Body,
    via: Option<&Repository>,
) -> Result<Response, ApiError> {
    let user_id = caller
        .principal
        .as_ref()
        .map(|p| p.user_id.clone())
        .ok_or(ApiError::Unauthenticated("credentials required"))?;
    let bytes = read_body(body, MAX_MANIFEST_BYTES)
        .await
        .map_err(|e| match e {
            ApiError::BodyTooLarge { .. } => registry(
                "MANIFEST_INVALID",
                413,
                format!("a manifest may be at most {MAX_MANIFEST_BYTES} bytes"),
            ),
            other => other,
        })?;
    crate::http::payload::finish().await?;
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let parsed = format::parse_manifest(&bytes, content_type)
        .map_err(|e| registry("MANIFEST_INVALID", 400, e.to_string()))?;
    let digest = match reference {
        Reference::Digest(d) => {
            let computed = Digest::of(d.algorithm, &bytes);
            if &computed != d {
                return Err(digest_invalid("the manifest does not match the digest"));
            }
            computed
        }
        Reference::Tag(_) => Digest::sha256_of(&bytes),
    }
    .to_string();
    let image = target.image.clone();
    if let Some(via) = via {
        super::oci_virtual::fill_blobs(state, caller, via, repo, &image, &parsed.blobs).await?;
    }
    // Everything it references must be in this image already (pushed, or mounted).
    let mut wanted: Vec<String> = parsed
        .blobs
        .iter()
        .map(|d| blob_path(&image, &d.to_string()))
        .collect();
    wanted.extend(
        parsed
            .manifests
            .iter()
            .map(|d| manifest_path(&image, &d.to_string())),
    );
    let repo_id = repo.id.clone();
    let missing = state
        .db
        .call(move |conn| {
            for path in &wanted {
                if repos::get_live_file(conn, &repo_id, path)?.is_none() {
                    return Ok(true);
                }
            }
            Ok(false)
        })
        .await?;
    if missing {
        return Err(registry(
            "MANIFEST_BLOB_UNKNOWN",
            400,
            "the manifest references a blob or manifest this image does not have",
        ));
    }
    let targets: Vec<String> = parsed
        .blobs
        .iter()
        .chain(parsed.manifests.iter())
        .map(|d| d.to_string())
        .collect();
    let fence = UploadFence::new(state).await;
    let info: BlobInfo = match fence
        .put(state, &mut &bytes[..], MAX_MANIFEST_BYTES as u64)
        .await
    {
        Ok(info) => info,
        Err(e) => {
            let e = fence.error(e);
            fence.release(state).await;
            return Err(e);
        }
    };
    let subject = parsed.subject.as_ref().map(|d| d.to_string());
    let annotations = parsed
        .annotations
        .as_ref()
        .map(|a| Value::Object(a.clone()).to_string());
    let (repo_id, tag, d, media_type, artifact_type, subj, size) = (
        repo.id.clone(),
        match reference {
            Reference::Tag(t) => Some(t.clone()),
            Reference::Digest(_) => None,
        },
        digest.clone(),
        parsed.media_type.clone(),
        parsed.artifact_type.clone(),
        subject.clone(),
        bytes.len() as i64,
    );
    let sha = info.sha256.clone();
    let committed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            let path = manifest_path(&image, &d);
            let replaced =
                repos::replace_file(&tx, &repo_id, &path, &info, &media_type, &user_id, now)?;
            store::put_manifest(
                &tx,
                &repo_id,
                &image,
                &NewManifest {
                    digest: &d,
                    media_type: &media_type,
                    size,
                    artifact_type: artifact_type.as_deref(),
                    subject: subj.as_deref(),
                    annotations: annotations.as_deref(),
                    targets: &targets,
                    now,
                },
            )?;
            if let Some(tag) = &tag {
                store::set_tag(&tx, &repo_id, &image, tag, &d, now)?;
            }
            tx.commit()?;
            Ok(replaced)
        })
        .await;
    fence.release(state).await;
    match committed {
        Ok(replaced) => reclaim(state, replaced.into_iter().collect()).await?,
        Err(e) => {
            reclaim(state, vec![sha]).await?;
            return Err(e.into());
        }
    };
    crate::telemetry::record_publish(super::oci::FORMAT);
    let mut headers = vec![
        (
            "location",
            format!("/v2/{}/manifests/{digest}", target.name()),
        ),
        ("docker-content-digest", digest.clone()),
    ];
    if let Some(subject) = subject {
        headers.push(("oci-subject", subject));
    }
    Ok(with_headers(StatusCode::CREATED, &headers))
}

async fn delete(
    state: &AppState,
    repo: &Repository,
    image: &str,
    reference: &Reference,
) -> Result<Response, ApiError> {
    let (repo_id, image) = (repo.id.clone(), image.to_string());
    let outcome = match reference {
        Reference::Tag(tag) => {
            let tag = tag.clone();
            state
                .db
                .call(move |conn| {
                    Ok(store::delete_tag(conn, &repo_id, &image, &tag)?.then(Vec::new))
                })
                .await?
        }
        Reference::Digest(d) => {
            let digest = d.to_string();
            state
                .db
                .call(move |conn| {
                    let tx = conn.transaction()?;
                    let Some(file) =
                        repos::get_live_file(&tx, &repo_id, &manifest_path(&image, &digest))?
                    else {
                        return Ok(None);
                    };
                    let gone = repos::purge_file(&tx, file.id)?;
                    store::forget_manifest(&tx, &repo_id, &image, &digest)?;
                    tx.commit()?;
                    Ok(Some(gone.into_iter().collect()))
                })
                .await?
        }
    };
    let garbage = outcome.ok_or_else(manifest_unknown)?;
    reclaim(state, garbage).await?;
    Ok(with_headers(StatusCode::ACCEPTED, &[]))
}

/// `GET /v2/<name>/tags/list?n=&last=`: tags in lexical order, paged with a `Link` to the next page.
pub(super) async fn tags(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let image = target.image.clone();
    allow(
        state,
        caller,
        repo,
        target,
        Operation::Download,
        &format!("{image}/tags"),
    )
    .await?;
    let all = hosted_tags(state, repo, &image)
        .await?
        .ok_or_else(|| registry("NAME_UNKNOWN", 404, "repository name not known to registry"))?;
    tags_answer(target, all, parts)
}

/// The tags of a hosted repository's image (`None`: no such image).
pub(super) async fn hosted_tags(
    state: &AppState,
    repo: &Repository,
    image: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    let (repo_id, image) = (repo.id.clone(), image.to_string());
    let (all, exists) = state
        .db
        .call(move |conn| {
            Ok((
                store::tags(conn, &repo_id, &image)?,
                store::image_exists(conn, &repo_id, &image)?,
            ))
        })
        .await?;
    Ok((!all.is_empty() || exists).then_some(all))
}

/// A `tags/list` answer of `all`, sorted and paged by the request's `n` and `last`, with the `Link` to
/// the next page.
pub(super) fn tags_answer(
    target: &format::Target,
    mut all: Vec<String>,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let q = QueryParams::parse(parts.uri.query().unwrap_or(""))?;
    let n = match q.get("n") {
        None => None,
        Some(_) => Some(q.int("n", 0..=10_000, 100)? as usize),
    };
    let last = q.string("last", 128)?;
    all.sort();
    all.dedup();
    let after: Vec<String> = match &last {
        Some(l) => all.into_iter().filter(|t| t > l).collect(),
        None => all,
    };
    let (page, more) = match n {
        Some(n) if after.len() > n => (after[..n].to_vec(), true),
        _ => (after, false),
    };
    let mut response = axum::Json(json!({"name": target.name(), "tags": page})).into_response();
    if let (true, Some(n), Some(last)) = (more, n, page.last()) {
        let link = format!(
            "</v2/{}/tags/list?n={n}&last={last}>; rel=\"next\"",
            target.name()
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=]`: an image index of the manifests whose subject
/// is `digest`.
pub(super) async fn referrers(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    digest: &Digest,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let image = target.image.clone();
    allow(
        state,
        caller,
        repo,
        target,
        Operation::Download,
        &format!("{image}/referrers"),
    )
    .await?;
    let descriptors = hosted_referrers(state, repo, &image, digest).await?;
    referrers_answer(descriptors, parts)
}

/// The descriptors of a hosted repository's manifests whose subject is `digest`.
pub(super) async fn hosted_referrers(
    state: &AppState,
    repo: &Repository,
    image: &str,
    digest: &Digest,
) -> Result<Vec<Value>, ApiError> {
    let (repo_id, image, subject) = (repo.id.clone(), image.to_string(), digest.to_string());
    let rows = state
        .db
        .call(move |conn| store::referrers(conn, &repo_id, &image, &subject))
        .await?;
    Ok(rows
        .into_iter()
        .map(|m| {
            let mut d = json!({"mediaType": m.media_type, "digest": m.digest, "size": m.size});
            if let Some(t) = m.artifact_type {
                d["artifactType"] = json!(t);
            }
            if let Some(a) = m
                .annotations
                .and_then(|a| serde_json::from_str::<Value>(&a).ok())
            {
                d["annotations"] = a;
            }
            d
        })
        .collect())
}

/// The referrers index of `descriptors`, filtered by the request's `artifactType`.
pub(super) fn referrers_answer(
    descriptors: Vec<Value>,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let q = QueryParams::parse(parts.uri.query().unwrap_or(""))?;
    let filter = q.filter("artifactType", 255)?;
    let manifests: Vec<Value> = descriptors
        .into_iter()
        .filter(|d| {
            filter.is_none() || d.get("artifactType").and_then(Value::as_str) == filter.as_deref()
        })
        .collect();
    let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, OCI_INDEX)],
        body.to_string(),
    )
        .into_response();
    if filter.is_some() {
        response.headers_mut().insert(
            "oci-filters-applied",
            HeaderValue::from_static("artifactType"),
        );
    }
    Ok(response)
}

/// The path privileges are checked on for a manifest by `reference`: the manifest's file by digest,
/// `{image}/tags/{tag}` by tag.
pub(super) fn reference_path(image: &str, reference: &Reference) -> String {
    match reference {
        Reference::Digest(d) => manifest_path(image, &d.to_string()),
        Reference::Tag(t) => format!("{image}/tags/{t}"),
    }
}
