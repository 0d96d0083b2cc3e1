//! npm repositories at `/artifactory/api/npm/{repo}/` (SPEC §7): publish, packuments (full and
//! abbreviated), tarballs, dist-tags, deprecate, unpublish (tarballs to the recycle bin), `npm login`
//! (legacy) and `npm whoami`. Errors are `{"error": ...}`, which npm prints. A remote repository's
//! packuments, tarballs and dist-tags are read through its upstream (`npm_remote`).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::io::{AsyncRead, ReadBuf};

use super::access::{
    authorize, identify, load_repo, may_do_somewhere, refuse_change_unless_hosted, repo_user_login,
};
use super::documents::document_response;
use super::download::{serve_bytes, serve_file};
use super::{members, npm_remote, npm_virtual};
use crate::auth::Principal;
use crate::domain::artifact_path::ArtifactPath;
use crate::domain::operation::Operation;
use crate::formats::json_budget;
use crate::formats::npm::{self as format, VersionDoc};
use crate::http::app::AppState;
use crate::http::artifact::tickets::{caller_project, store_new_ticket};
use crate::http::error::{malformed_json, ApiError};
use crate::http::extract::read_body;
use crate::http::storage::{reclaim, UploadFence};
use crate::http::urls::public_base_url;
use crate::service::documents::Document as KeptDocument;
use crate::service::repo_kinds;
use crate::store::now_ms;
use crate::store::npm as store;
use crate::store::repos::{self, Repository};

const FORMAT: &str = "npm";
const PREFIX: &str = "/artifactory/api/npm/";

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    match dispatch(&state, request).await {
        Ok(r) => r,
        Err(e) => npm_error(e),
    }
}

fn npm_error(e: ApiError) -> Response {
    let status = e.status();
    let message = match &e {
        ApiError::Internal(detail) => {
            tracing::error!(detail, "internal error");
            "internal error".to_string()
        }
        other => other.to_string(),
    };
    let mut response = (status, Json(json!({"error": message}))).into_response();
    e.add_headers_and_basic_challenge(&mut response);
    response
}

fn decode(raw: &str) -> Result<String, ApiError> {
    let s = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ApiError::invalid("path", "is not valid UTF-8"))?;
    if s.contains(['\\', '\0']) || s.split('/').any(|p| p == ".." || p == ".") {
        return Err(ApiError::invalid("path", "escapes the repository"));
    }
    Ok(s.into_owned())
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let raw_path = request.uri().path().to_string();
    let rest = raw_path
        .strip_prefix(PREFIX)
        .ok_or_else(|| ApiError::not_found("not an npm path"))?;
    let (repo_key, tail_raw) = rest.split_once('/').unwrap_or((rest, ""));
    // npm resolves a tarball's path against the registry URL when unpublishing, which repeats the prefix.
    let doubled = format!("artifactory/api/npm/{repo_key}/");
    let tail_raw = tail_raw.strip_prefix(&doubled).unwrap_or(tail_raw);
    let tail = decode(tail_raw)?;
    let (parts, body) = request.into_parts();
    let method = parts.method.clone();
    let head = method == Method::HEAD;
    let read = method == Method::GET || head;

    if let Some(user) = tail.strip_prefix("-/user/org.couchdb.user:") {
        if method != Method::PUT {
            return Err(ApiError::MethodNotAllowed);
        }
        return login(state, &parts, repo_key, user, body).await;
    }
    let (caller, body) = identify(state, &parts, body).await?;
    let requested = load_repo(state, &parts, caller.as_ref(), repo_key, Some(FORMAT)).await?;
    // Tarball links keep the URL the client used, also where a virtual repository's deploy repository answers;
    // built only for the documents that carry them, not for every tarball download.
    let base = || tarball_base(state, &parts.headers, &requested.name);
    // A change sent to a virtual repository goes to its default deploy repository and is authorized there;
    // so does the read npm makes before editing a document (`?write=true`), whose `_rev` the edit names.
    let deploy = if requested.repo_type == repo_kinds::VIRTUAL && (!read || for_writing(&parts.uri))
    {
        Some(members::deploy_target(state, &requested).await?)
    } else {
        None
    };
    let repo = deploy.as_ref().unwrap_or(&requested);
    refuse_change_unless_hosted(repo, &method)?;
    let kind = repo.repo_type.as_str();
    if tail == "-/ping" {
        return Ok(Json(json!({})).into_response());
    }
    if tail == "-/whoami" {
        let principal = caller.ok_or(ApiError::Unauthenticated("log in first (npm login)"))?;
        return Ok(Json(
            json!({"username": format!("{}_{}", principal.domain_id, principal.user_id)}),
        )
        .into_response());
    }
    if let Some(tags_path) = tail.strip_prefix("-/package/") {
        let (name, tag) = split_dist_tags(tags_path)?;
        if kind == repo_kinds::REMOTE && tag.is_none() && read {
            return npm_remote::dist_tags(state, repo, caller.as_ref(), &parts.headers, &name)
                .await;
        }
        if kind == repo_kinds::VIRTUAL && tag.is_none() && read {
            return npm_virtual::dist_tags(state, repo, caller.as_ref(), &parts.headers, &name)
                .await;
        }
        return dist_tags(
            state,
            repo,
            caller,
            &parts.headers,
            &method,
            &name,
            tag.as_deref(),
            body,
        )
        .await;
    }
    let (name, rest) = split_name(&tail)?;
    let abbreviated = wants_abbreviated(&parts.headers, &parts.uri);
    match (rest.as_slice(), &method) {
        ([], _) if read && kind == repo_kinds::REMOTE => {
            npm_remote::packument(
                state,
                repo,
                caller.as_ref(),
                &parts.headers,
                &base(),
                &name,
                abbreviated,
                head,
            )
            .await
        }
        ([], _) if read && kind == repo_kinds::VIRTUAL => {
            let caller = caller.as_ref();
            npm_virtual::packument(
                state,
                repo,
                caller,
                &parts.headers,
                &base(),
                &name,
                abbreviated,
                head,
            )
            .await
        }
        ([], _) if read => {
            packument(
                state,
                repo,
                caller,
                &parts.headers,
                &base(),
                &name,
                abbreviated,
                head,
            )
            .await
        }
        ([], &Method::PUT) | (["-rev", _], &Method::PUT) => {
            let url_rev = rest.get(1).map(|r| r.to_string());
            let principal = caller.ok_or(ApiError::Unauthenticated("log in first (npm login)"))?;
            // Publishing and deprecating are uploads, unpublishing a version is a delete: which one
            // this is shows in the body, so refuse before reading it only whoever may do neither.
            may_do_somewhere(
                state,
                &principal,
                repo,
                &[Operation::Upload, Operation::Delete],
            )
            .await?;
            let bytes = read_body(body, state.config.max_package_document_bytes).await?;
            let mut doc = Document::parse(&bytes)?;
            if url_rev.is_some() {
                doc.rev = url_rev;
            }
            put_document(state, repo, &principal, &name, doc).await
        }
        (["-rev", _], &Method::DELETE) => {
            let principal = caller.ok_or(ApiError::Unauthenticated("log in first (npm login)"))?;
            unpublish_all(state, repo, &principal, &name, rest[1]).await
        }
        (["-", file], _) if read && kind == repo_kinds::VIRTUAL => {
            let caller = caller.as_ref();
            npm_virtual::tarball(state, repo, caller, &parts.headers, &name, file, head).await
        }
        (["-", file], _) if read && kind == repo_kinds::REMOTE => {
            npm_remote::tarball(
                state,
                repo,
                caller.as_ref(),
                &parts.headers,
                &name,
                file,
                head,
            )
            .await
        }
        (["-", file], _) if read => {
            let rel = format!("{name}/-/{file}");
            authorize(state, caller.as_ref(), repo, Operation::Download, &rel).await?;
            hosted_tarball(state, repo, &name, file, &parts.headers, head).await
        }
        (["-", file, "-rev", _], &Method::DELETE) => {
            let principal = caller.ok_or(ApiError::Unauthenticated("log in first (npm login)"))?;
            let rel = format!("{name}/-/{file}");
            authorize(state, Some(&principal), repo, Operation::Delete, &rel).await?;
            let (repo_id, user_id) = (repo.id.clone(), principal.user_id.clone());
            // The version's document was already removed by the PUT before; trash the tarball if live.
            state
                .db
                .call(move |conn| repos::trash_file(conn, &repo_id, &rel, &user_id, now_ms()))
                .await?;
            Ok(Json(json!({"ok": true})).into_response())
        }
        _ => Err(ApiError::not_found(format!("No npm resource {tail}"))),
    }
}

/// A hosted repository's tarball `file` of package `name` (authorized already).
pub(super) async fn hosted_tarball(
    state: &AppState,
    repo: &Repository,
    name: &str,
    file: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let found = state
        .hot
        .live_file(&state.db, &repo.id, &[name, "/-/", file].concat())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No tarball {file}")))?;
    serve_file(state, &found, headers, head).await
}

/// `@scope/name/...` or `name/...` → (name, the remaining segments).
fn split_name(tail: &str) -> Result<(String, Vec<&str>), ApiError> {
    let segments: Vec<&str> = tail.split('/').collect();
    let (name, rest) = if tail.starts_with('@') {
        if segments.len() < 2 {
            return Err(ApiError::not_found("a scoped name needs @scope/name"));
        }
        (
            format!("{}/{}", segments[0], segments[1]),
            segments[2..].to_vec(),
        )
    } else {
        (segments[0].to_string(), segments[1..].to_vec())
    };
    if !format::is_valid_name(&name) {
        return Err(ApiError::invalid("name", "is not a valid npm package name"));
    }
    Ok((name, rest))
}

/// `{name}/dist-tags[/{tag}]` after `-/package/`.
fn split_dist_tags(path: &str) -> Result<(String, Option<String>), ApiError> {
    let (name, rest) = split_name(path)?;
    match rest.as_slice() {
        ["dist-tags"] => Ok((name, None)),
        ["dist-tags", tag] if !tag.is_empty() && tag.len() <= 128 => {
            Ok((name, Some(tag.to_string())))
        }
        _ => Err(ApiError::not_found("No such dist-tags resource")),
    }
}

pub(super) fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// Dist-tags restricted to live versions, with `latest` recomputed when it points nowhere.
fn live_tags(stored: &str, live: &[&str]) -> Map<String, Value> {
    let stored: Map<String, Value> = serde_json::from_str(stored).unwrap_or_default();
    format::visible_tags(&stored, live)
}

pub(super) struct PackageState {
    tags: String,
    created: i64,
    modified: i64,
    pub live: Vec<store::LiveVersion>,
}

impl PackageState {
    fn version_names(&self) -> Vec<&str> {
        self.live.iter().map(|l| l.version.as_str()).collect()
    }
}

pub(super) async fn load_package(
    state: &AppState,
    repo: &Repository,
    name: &str,
) -> Result<Option<PackageState>, ApiError> {
    let (repo_id, key) = (repo.id.clone(), name.to_string());
    Ok(state
        .db
        .call(move |conn| {
            let Some((tags, created, modified)) = store::package(conn, &repo_id, &key)? else {
                return Ok(None);
            };
            let live = store::live_versions(conn, &repo_id, &key)?;
            Ok(Some(PackageState {
                tags,
                created,
                modified,
                live,
            }))
        })
        .await?)
}

/// Whether the client asks for the abbreviated packument (npm's installer does; `?write=true`, which
/// npm sends before editing the document, always gets the full one).
fn wants_abbreviated(headers: &HeaderMap, uri: &axum::http::Uri) -> bool {
    !for_writing(uri)
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains(format::ABBREVIATED))
}

/// Whether a read is the one npm makes before changing the document (`?write=true`).
fn for_writing(uri: &axum::http::Uri) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|p| p == "write=true"))
}

/// The registry URL tarball links start with: `public_url`, else the request's own base.
fn tarball_base(state: &AppState, headers: &HeaderMap, repo_name: &str) -> String {
    format!(
        "{}{PREFIX}{repo_name}",
        public_base_url(&state.config, headers),
    )
}

/// A hosted repository's packument of `name` with its tarball links under `base`, and when the package
/// last changed; None when it has no live version.
pub(crate) async fn hosted_packument(
    state: &AppState,
    repo: &Repository,
    name: &str,
    base: &str,
    abbreviated: bool,
) -> Result<Option<(Value, i64)>, ApiError> {
    let Some(pkg) = load_package(state, repo, name)
        .await?
        .filter(|p| !p.live.is_empty())
    else {
        return Ok(None);
    };
    let tags = live_tags(&pkg.tags, &pkg.version_names());
    let docs: Vec<VersionDoc<'_>> = pkg
        .live
        .iter()
        .map(|v| VersionDoc {
            manifest: serde_json::from_str(&v.manifest).unwrap_or(Value::Null),
            version: &v.version,
            tarball_url: format!("{base}/{}", v.path),
            sha1: &v.sha1,
            sha512: &v.sha512,
            deprecated: v.deprecated.as_deref(),
            published: iso(v.published_at),
        })
        .collect();
    let rev = format::revision(pkg.live.len(), pkg.modified);
    let body = format::packument(
        name,
        &rev,
        &tags,
        &docs,
        &iso(pkg.created),
        &iso(pkg.modified),
        abbreviated,
    );
    Ok(Some((body, pkg.modified)))
}

/// A packument answer: the document's content type for its form, varying with `Accept`.
pub(super) fn packument_response(
    body: &Value,
    abbreviated: bool,
    modified: i64,
    headers: &HeaderMap,
    head: bool,
) -> Response {
    let content_type = if abbreviated {
        format::ABBREVIATED
    } else {
        "application/json"
    };
    let mut response = serve_bytes(
        body.to_string().into_bytes(),
        content_type,
        modified,
        headers,
        head,
    );
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

#[allow(clippy::too_many_arguments)]
async fn packument(
    state: &AppState,
    repo: &Repository,
    caller: Option<Principal>,
    headers: &HeaderMap,
    base: &str,
    name: &str,
    abbreviated: bool,
    head: bool,
) -> Result<Response, ApiError> {
    authorize(state, caller.as_ref(), repo, Operation::Download, name).await?;
    let form = if abbreviated { "abbreviated" } else { "full" };
    // The tarball links carry `base`, which follows the request's host when no public_url is set.
    let key = format!("npm\0{form}\0{base}\0{name}");
    let document = state
        .documents
        .get_or_build(&state.db, &repo.id, key, || async {
            let Some((body, modified)) =
                hosted_packument(state, repo, name, base, abbreviated).await?
            else {
                return Ok::<_, ApiError>(None);
            };
            let content_type = if abbreviated {
                format::ABBREVIATED
            } else {
                "application/json"
            };
            let bytes = body.to_string().into_bytes();
            Ok(Some(
                KeptDocument::build(bytes, content_type, modified).await,
            ))
        })
        .await?
        .ok_or_else(|| ApiError::not_found(format!("package {name} not found")))?;
    Ok(document_response(&document, headers, head, Some("Accept")))
}

/// The package document as `npm publish`, `npm deprecate` and `npm unpublish` PUT it; other fields are
/// ignored. Attachment data borrows from the request body: the tarball is decoded as it is stored.
#[derive(Deserialize)]
pub struct Document<'a> {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub versions: Option<Map<String, Value>>,
    #[serde(default, rename = "dist-tags")]
    pub dist_tags: Option<Map<String, Value>>,
    #[serde(default, rename = "_attachments", borrow)]
    pub attachments: Option<BTreeMap<String, Attachment<'a>>>,
    /// The revision the client edited (`npm deprecate` sends it here, `npm unpublish` in the URL).
    #[serde(default, rename = "_rev")]
    pub rev: Option<String>,
}

#[derive(Deserialize)]
pub struct Attachment<'a> {
    #[serde(borrow)]
    pub data: Cow<'a, str>,
    #[serde(default)]
    pub length: Option<u64>,
}

impl<'a> Document<'a> {
    /// The document of a PUT's body. Its values are counted before anything is built: parsed, a
    /// document of small values takes 20 to 40 times its length (16 MiB of `0,` took 600 MiB).
    pub fn parse(body: &'a [u8]) -> Result<Self, ApiError> {
        if !json_budget::within(body, format::MAX_DOCUMENT_VALUES) {
            return Err(ApiError::TooLarge {
                what: "The package document".into(),
                limit: format!("{} JSON values", format::MAX_DOCUMENT_VALUES),
            });
        }
        serde_json::from_slice(body).map_err(|e| malformed_json(&e))
    }
}

/// A PUT of the package document: a publish when it carries `_attachments`, else an edit (deprecations,
/// dist-tags, versions left out = unpublished).
async fn put_document(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    name: &str,
    doc: Document<'_>,
) -> Result<Response, ApiError> {
    if doc.name.as_deref().is_some_and(|n| n != name) {
        return Err(ApiError::invalid(
            "name",
            "does not match the package in the URL",
        ));
    }
    match doc.attachments.as_ref().filter(|a| !a.is_empty()) {
        Some(attachments) => publish(state, repo, principal, name, &doc, attachments).await,
        None => edit(state, repo, principal, name, &doc).await,
    }
}

/// Base64 text decoded a chunk at a time as the blob store reads it, so that a publish never holds its
/// tarball decoded. `invalid` tells a malformed text from an I/O failure afterwards.
pub struct Base64Reader<'a> {
    text: &'a [u8],
    decoded: Vec<u8>,
    offset: usize,
    invalid: bool,
}

/// Base64 characters decoded at once: a multiple of 4, so that only the last chunk may carry padding.
const BASE64_CHUNK: usize = 64 * 1024;

impl<'a> Base64Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Base64Reader {
            text: text.as_bytes(),
            decoded: Vec::with_capacity(BASE64_CHUNK / 4 * 3),
            offset: 0,
            invalid: false,
        }
    }
}

impl AsyncRead for Base64Reader<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.offset == this.decoded.len() {
            if this.text.is_empty() {
                return Poll::Ready(Ok(()));
            }
            let (chunk, rest) = this.text.split_at(this.text.len().min(BASE64_CHUNK));
            this.decoded.clear();
            this.offset = 0;
            let padding_inside = !rest.is_empty() && chunk.contains(&b'=');
            if padding_inside || STANDARD.decode_vec(chunk, &mut this.decoded).is_err() {
                this.invalid = true;
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "attachment data is not base64",
                )));
            }
            this.text = rest;
        }
        let n = buf.remaining().min(this.decoded.len() - this.offset);
        buf.put_slice(&this.decoded[this.offset..this.offset + n]);
        this.offset += n;
        Poll::Ready(Ok(()))
    }
}

/// What a publish document asks for, checked without the database.
pub struct PublishPlan<'d, 'a> {
    pub version: &'d str,
    /// The manifest as stored: `_` fields (but `_hasShrinkwrap`) and `dist` left out.
    pub manifest: Value,
    /// The `dist` the client sent, whose digests must match the tarball.
    pub sent_dist: Value,
    pub attachment: &'d Attachment<'a>,
}

/// Checks a publish document of package `name`: exactly one SemVer version, a manifest within its
/// budget that names no other version, and its tarball among the attachments.
pub fn plan_publish<'d, 'a>(
    name: &str,
    doc: &'d Document<'a>,
    attachments: &'d BTreeMap<String, Attachment<'a>>,
) -> Result<PublishPlan<'d, 'a>, ApiError> {
    let versions = doc
        .versions
        .as_ref()
        .ok_or_else(|| ApiError::invalid("versions", "is required to publish"))?;
    if versions.len() != 1 {
        return Err(ApiError::invalid(
            "versions",
            "a publish carries exactly one version",
        ));
    }
    let (version, manifest) = versions.iter().next().expect("one version");
    // The manifest is stored and parsed again for every packument served.
    if json_budget::count(manifest) > format::MAX_MANIFEST_VALUES {
        return Err(ApiError::TooLarge {
            what: "The version's manifest".into(),
            limit: format!("{} JSON values", format::MAX_MANIFEST_VALUES),
        });
    }
    if !format::is_valid_version(version) {
        return Err(ApiError::invalid("version", "is not SemVer"));
    }
    if manifest
        .get("version")
        .and_then(Value::as_str)
        .is_some_and(|v| v != version)
    {
        return Err(ApiError::invalid(
            "version",
            "the manifest names another version than its key",
        ));
    }
    // A 214-byte name and a 256-byte version are each valid, but their tarball must still be a file the
    // repository can hold (and the management API show and delete).
    let rel = format::tarball_path(name, version);
    if ArtifactPath::parse_plain(&rel).map_or(true, |p| p.as_str() != rel) {
        return Err(ApiError::invalid(
            "version",
            "is too long for this package: the tarball name would exceed 255 bytes",
        ));
    }
    // npm names the attachment `<name>-<version>.tgz` (scope included); one publish carries one tarball.
    let file = format::tarball_file(name, version);
    let attachment = match attachments.get(&file) {
        Some(a) => a,
        None if attachments.len() == 1 => attachments.values().next().expect("one attachment"),
        None => {
            return Err(ApiError::invalid(
                "_attachments",
                format!("must hold the tarball {file}"),
            ))
        }
    };
    let mut manifest = manifest.clone();
    let sent_dist = manifest
        .as_object_mut()
        .and_then(|m| {
            m.retain(|k, _| !k.starts_with('_') || k == "_hasShrinkwrap");
            m.remove("dist")
        })
        .unwrap_or(Value::Null);
    Ok(PublishPlan {
        version,
        manifest,
        sent_dist,
        attachment,
    })
}

async fn publish(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    name: &str,
    doc: &Document<'_>,
    attachments: &BTreeMap<String, Attachment<'_>>,
) -> Result<Response, ApiError> {
    let PublishPlan {
        version,
        manifest: stored_manifest,
        sent_dist,
        attachment,
    } = plan_publish(name, doc, attachments)?;
    let version = version.to_string();
    crate::http::audit::note_detail(name, Some(&version));
    let rel = format::tarball_path(name, &version);
    authorize(state, Some(principal), repo, Operation::Upload, &rel).await?;
    let (repo_id, key, v) = (repo.id.clone(), name.to_string(), version.clone());
    let republish = || {
        ApiError::forbidden(format!(
            "cannot publish over the previously published versions: {version}"
        ))
    };
    if state
        .db
        .call(move |conn| store::version_exists(conn, &repo_id, &key, &v))
        .await?
    {
        return Err(republish());
    }
    let fence = UploadFence::new(state).await;
    let mut reader = Base64Reader::new(&attachment.data);
    let info = match fence
        .put(state, &mut reader, state.config.max_artifact_bytes)
        .await
    {
        Ok(info) => info,
        Err(e) => {
            let e = if reader.invalid {
                ApiError::invalid("_attachments", "data must be base64")
            } else {
                fence.error(e)
            };
            fence.release(state).await;
            return Err(e);
        }
    };
    let refusal = if attachment.length.is_some_and(|l| l != info.size) {
        Some(ApiError::invalid(
            "_attachments",
            "length does not match the data",
        ))
    } else if sent_dist
        .get("shasum")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.eq_ignore_ascii_case(&info.sha1))
    {
        Some(ApiError::invalid(
            "dist.shasum",
            "does not match the tarball",
        ))
    } else if sent_dist
        .get("integrity")
        .and_then(Value::as_str)
        .is_some_and(|i| i.starts_with("sha512-") && i != format::integrity(&info.sha512))
    {
        Some(ApiError::invalid(
            "dist.integrity",
            "does not match the tarball",
        ))
    } else {
        None
    };
    if let Some(refusal) = refusal {
        fence.release(state).await;
        reclaim(state, vec![info.sha256]).await?;
        return Err(refusal);
    }
    let new_tags: Map<String, Value> = doc
        .dist_tags
        .iter()
        .flatten()
        .filter(|(k, v)| v.is_string() && format::is_valid_tag(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (repo_id, key, v, user_id, blob) = (
        repo.id.clone(),
        name.to_string(),
        version.clone(),
        principal.user_id.clone(),
        info.clone(),
    );
    let manifest_text = stored_manifest.to_string();
    // The version, the package's tags and the tarball's file row commit together: a version is never
    // recorded without its tarball, nor a tarball without its version.
    let outcome = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            let record = store::NewVersion {
                name: &key,
                version: &v,
                manifest: &manifest_text,
                path: &rel,
                user_id: &user_id,
                now,
            };
            if !store::insert_version(&tx, &repo_id, &record)? {
                return Ok(None);
            }
            let mut tags: Map<String, Value> = store::package(&tx, &repo_id, &key)?
                .and_then(|(t, _, _)| serde_json::from_str(&t).ok())
                .unwrap_or_default();
            tags.extend(new_tags);
            if !tags.contains_key("latest") {
                tags.insert("latest".into(), json!(v));
            }
            store::put_package(&tx, &repo_id, &key, &Value::Object(tags).to_string(), now)?;
            let replaced = repos::replace_file(
                &tx,
                &repo_id,
                &rel,
                &blob,
                "application/octet-stream",
                &user_id,
                now,
            )?;
            tx.commit()?;
            Ok(Some(replaced))
        })
        .await;
    fence.release(state).await;
    match outcome {
        Ok(Some(replaced)) => {
            reclaim(state, replaced.into_iter().collect()).await?;
        }
        Ok(None) => {
            reclaim(state, vec![info.sha256]).await?;
            return Err(republish());
        }
        Err(e) => {
            reclaim(state, vec![info.sha256]).await?;
            return Err(e.into());
        }
    }
    tracing::info!(repo = %repo.name, package = %name, version = %version, "npm package published");
    crate::telemetry::record_publish("npm");
    Ok((StatusCode::CREATED, Json(json!({"ok": true, "id": name}))).into_response())
}

/// An edit of the document: `deprecated` per version, dist-tags, and versions left out, which are
/// unpublished (their tarballs go to the recycle bin). Removing versions needs `delete` on their
/// tarballs; anything else it changes needs `upload` on the package.
async fn edit(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    name: &str,
    doc: &Document<'_>,
) -> Result<Response, ApiError> {
    let pkg = load_package(state, repo, name)
        .await?
        .filter(|p| !p.live.is_empty())
        .ok_or_else(|| ApiError::not_found(format!("package {name} not found")))?;
    let facts: Vec<format::LiveFacts<'_>> = pkg
        .live
        .iter()
        .map(|l| format::LiveFacts {
            version: &l.version,
            deprecated: l.deprecated.as_deref(),
        })
        .collect();
    let rev = format::revision(pkg.live.len(), pkg.modified);
    if doc.rev.as_deref().is_some_and(|r| r != rev) {
        return Err(outdated(name));
    }
    let plan = format::plan_edit(
        doc.versions.as_ref(),
        doc.dist_tags.as_ref(),
        &facts,
        &live_tags(&pkg.tags, &pkg.version_names()),
    );
    // A document edit unpublishes versions, deprecates or moves tags: the audit log names which.
    crate::http::audit::note_detail(name, plan.removed.first().map(String::as_str));
    crate::http::audit::note_operation(if !plan.removed.is_empty() {
        "unpublishVersion"
    } else if !plan.deprecations.is_empty() {
        "deprecate"
    } else {
        "editPackage"
    });
    if plan.needs_upload {
        authorize(state, Some(principal), repo, Operation::Upload, name).await?;
    }
    let removed: Vec<String> = pkg
        .live
        .iter()
        .filter(|l| plan.removed.contains(&l.version))
        .map(|l| l.path.clone())
        .collect();
    for path in &removed {
        authorize(state, Some(principal), repo, Operation::Delete, path).await?;
    }
    let (repo_id, key, user_id) = (repo.id.clone(), name.to_string(), principal.user_id.clone());
    let format::Edit {
        deprecations, tags, ..
    } = plan;
    let written = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            // The plan was made (and authorized) on the package as loaded: apply it only to that state.
            let current = match store::package(&tx, &repo_id, &key)? {
                Some((_, _, modified)) => Some(format::revision(
                    store::live_version_names(&tx, &repo_id, &key)?.len(),
                    modified,
                )),
                None => None,
            };
            if current.as_deref() != Some(rev.as_str()) {
                return Ok(false);
            }
            let now = now_ms();
            for (ver, msg) in &deprecations {
                store::set_deprecated(&tx, &repo_id, &key, ver, msg.as_deref())?;
            }
            for path in &removed {
                repos::trash_file(&tx, &repo_id, path, &user_id, now)?;
            }
            let stored = match tags {
                Some(t) => Value::Object(t).to_string(),
                None => store::package(&tx, &repo_id, &key)?
                    .map(|p| p.0)
                    .unwrap_or_else(|| "{}".into()),
            };
            store::put_package(&tx, &repo_id, &key, &stored, now)?;
            tx.commit()?;
            Ok(true)
        })
        .await?;
    if !written {
        return Err(outdated(name));
    }
    Ok(Json(json!({"ok": true, "id": name})).into_response())
}

fn outdated(name: &str) -> ApiError {
    ApiError::Conflict(format!(
        "{name} changed since it was read (document update conflict); fetch it again"
    ))
}

/// `npm unpublish <name> --force` (or of its last version): every live tarball to the recycle bin, if the
/// package is still at the revision the client read.
async fn unpublish_all(
    state: &AppState,
    repo: &Repository,
    principal: &Principal,
    name: &str,
    client_rev: &str,
) -> Result<Response, ApiError> {
    authorize(state, Some(principal), repo, Operation::Delete, name).await?;
    let (repo_id, key, user_id, client_rev) = (
        repo.id.clone(),
        name.to_string(),
        principal.user_id.clone(),
        client_rev.to_string(),
    );
    let outcome = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let Some((_, _, modified)) = store::package(&tx, &repo_id, &key)? else {
                return Ok(None);
            };
            let live = store::live_versions(&tx, &repo_id, &key)?;
            if live.is_empty() {
                return Ok(None);
            }
            if format::revision(live.len(), modified) != client_rev {
                return Ok(Some(false));
            }
            let now = now_ms();
            for version in &live {
                repos::trash_file(&tx, &repo_id, &version.path, &user_id, now)?;
            }
            tx.commit()?;
            Ok(Some(true))
        })
        .await?;
    match outcome {
        None => Err(ApiError::not_found(format!("package {name} not found"))),
        Some(false) => Err(outdated(name)),
        Some(true) => Ok(Json(json!({"ok": true})).into_response()),
    }
}

#[allow(clippy::too_many_arguments)]
async fn dist_tags(
    state: &AppState,
    repo: &Repository,
    caller: Option<Principal>,
    headers: &HeaderMap,
    method: &Method,
    name: &str,
    tag: Option<&str>,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let op = if *method == Method::GET {
        Operation::Download
    } else {
        Operation::Upload
    };
    authorize(state, caller.as_ref(), repo, op, name).await?;
    let change: TagChange = match (method, tag) {
        (&Method::GET, None) => {
            let (tags, modified) = change_tags(state, repo, name, None).await?;
            return Ok(serve_bytes(
                Value::Object(tags).to_string().into_bytes(),
                "application/json",
                modified,
                headers,
                false,
            ));
        }
        (&Method::PUT, Some(tag)) => {
            let bytes = read_body(body, 4096).await?;
            let version: String = serde_json::from_slice(&bytes)
                .map_err(|_| ApiError::invalid("version", "the body must be a JSON string"))?;
            if !format::is_valid_tag(tag) {
                return Err(ApiError::invalid(
                    "tag",
                    "a dist-tag is letters, digits, '-', '.', '_' or '~' and no SemVer range",
                ));
            }
            let (tag, key) = (tag.to_string(), name.to_string());
            Box::new(move |tags, live| {
                if !live.contains(&version) {
                    return Err(ApiError::not_found(format!(
                        "{key} has no version {version}"
                    )));
                }
                tags.insert(tag, json!(version));
                Ok(())
            })
        }
        (&Method::DELETE, Some(tag)) => {
            if tag == "latest" {
                return Err(ApiError::invalid("tag", "latest cannot be removed"));
            }
            let (tag, key) = (tag.to_string(), name.to_string());
            Box::new(move |tags, _| {
                tags.remove(&tag)
                    .map(drop)
                    .ok_or_else(|| ApiError::not_found(format!("{key} has no dist-tag {tag}")))
            })
        }
        _ => return Err(ApiError::MethodNotAllowed),
    };
    let (tags, _) = change_tags(state, repo, name, Some(change)).await?;
    Ok((StatusCode::CREATED, Json(Value::Object(tags))).into_response())
}

/// A change to a package's visible dist-tags, given its live versions.
type TagChange =
    Box<dyn FnOnce(&mut Map<String, Value>, &[String]) -> Result<(), ApiError> + Send + 'static>;

/// The package's visible dist-tags and modification time, after `change` (read, changed and written in
/// one transaction, so that concurrent `npm dist-tag` calls do not lose each other's tags).
async fn change_tags(
    state: &AppState,
    repo: &Repository,
    name: &str,
    change: Option<TagChange>,
) -> Result<(Map<String, Value>, i64), ApiError> {
    let (repo_id, key) = (repo.id.clone(), name.to_string());
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let missing = || ApiError::not_found(format!("package {key} not found"));
            let Some((stored, _, modified)) = store::package(&tx, &repo_id, &key)? else {
                return Ok(Err(missing()));
            };
            let live = store::live_version_names(&tx, &repo_id, &key)?;
            if live.is_empty() {
                return Ok(Err(missing()));
            }
            let names: Vec<&str> = live.iter().map(String::as_str).collect();
            let mut tags = live_tags(&stored, &names);
            let Some(change) = change else {
                return Ok(Ok((tags, modified)));
            };
            if let Err(e) = change(&mut tags, &live) {
                return Ok(Err(e));
            }
            let now = now_ms();
            store::put_package(
                &tx,
                &repo_id,
                &key,
                &Value::Object(tags.clone()).to_string(),
                now,
            )?;
            tx.commit()?;
            Ok(Ok((tags, now)))
        })
        .await?
}

/// `PUT /-/user/org.couchdb.user:{name}` (`npm login --auth-type=legacy`): the repo user name and password;
/// the answer's token is a ticket of that user (decision), with the configured lifetime and uses.
async fn login(
    state: &AppState,
    parts: &axum::http::request::Parts,
    repo_key: &str,
    user: &str,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, 64 * 1024).await?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| malformed_json(&e))?;
    let name = doc.get("name").and_then(Value::as_str).unwrap_or(user);
    let password = doc
        .get("password")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid("password", "is required"))?;
    let client = state
        .auth_limiter
        .client_addr(&parts.headers, &parts.extensions);
    let principal = state
        .auth_limiter
        .attempt(client, Some(name.to_string()))
        .run(repo_user_login(state, name, password))
        .await?;
    // The registry must be one this user may know of, as for every other npm request.
    load_repo(state, parts, Some(&principal), repo_key, Some(FORMAT)).await?;
    let requested = parts
        .headers
        .get("x-project-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let project = caller_project(state, &principal, requested).await?;
    let (ticket, _) = store_new_ticket(
        state,
        &principal.user_id,
        &project.id,
        String::new(),
        state.config.ticket_lifetime_secs as i64,
        i64::from(state.config.ticket_uses),
    )
    .await?;
    tracing::info!(user_id = %principal.user_id, "npm login");
    Ok((
        StatusCode::CREATED,
        Json(json!({"ok": true, "id": format!("org.couchdb.user:{name}"), "token": ticket})),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    async fn decode_all(text: &str) -> Result<Vec<u8>, bool> {
        let mut reader = Base64Reader::new(text);
        let mut out = Vec::new();
        match reader.read_to_end(&mut out).await {
            Ok(_) => Ok(out),
            Err(_) => Err(reader.invalid),
        }
    }

    #[tokio::test]
    async fn base64_decodes_across_chunks() {
        let data: Vec<u8> = (0..BASE64_CHUNK * 2 + 7)
            .map(|i| (i * 31 % 251) as u8)
            .collect();
        assert_eq!(decode_all(&STANDARD.encode(&data)).await, Ok(data));
        assert_eq!(decode_all("").await, Ok(Vec::new()));
        assert_eq!(decode_all("aGk=").await, Ok(b"hi".to_vec()));
    }

    /// Found by the `npm_document` fuzz target (minimised): a valid name and a valid SemVer version of
    /// 250 characters made a tarball name over 255 bytes, which was stored although no artifact path may
    /// hold it (the management API's file detail and delete could not address the file).
    #[test]
    fn fuzz_found_tarball_names_fit_an_artifact_path() {
        let input = r#"{"versions":{"2.0.0-PPPP9PPPPPdescPPPPPPPPP.readPPPPPPPPPPPPPPPPPPPPPPPPPPPPccccccccccccccccccccccccccPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPcccccccccccccccccccccccccccccccccPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPPP+PPPPPPPPbeta.11.1.0":{}},"_attachments":{"":{"data":""}}}"#;
        let doc = Document::parse(input.as_bytes()).unwrap();
        let attachments = doc.attachments.as_ref().unwrap();
        match plan_publish("demo", &doc, attachments) {
            Err(ApiError::InvalidParameter { name, .. }) => assert_eq!(name, "version"),
            Err(other) => panic!("{other}"),
            Ok(plan) => panic!("accepted version {}", plan.version),
        }
    }

    #[tokio::test]
    async fn malformed_base64_is_told_apart() {
        assert_eq!(decode_all("aGk").await, Err(true));
        assert_eq!(decode_all("a*k=").await, Err(true));
        // Padding may only end the text, even where a chunk boundary falls right after it.
        let early = format!("{}aGk={}", "A".repeat(BASE64_CHUNK - 4), "AAAA");
        assert_eq!(decode_all(&early).await, Err(true));
    }
}
