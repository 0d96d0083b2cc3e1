//! Blobs and their uploads. A blob is a file `<image>/blobs/<digest>` of the repository over the
//! content-addressed store. An upload session is a row; each chunk it receives is stored as a blob of
//! its own and recorded against the session, so any node sharing the database and the store can take
//! the next chunk; completing it joins the chunks (one chunk is used as it is), verifies the digest and
//! records the file. Sessions untouched for a day are swept (`oci_gc`).

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{header, Method, StatusCode};
use axum::response::Response;
use futures_util::{StreamExt, TryStreamExt};
use tokio_util::io::StreamReader;

use super::download::serve_file;
use super::oci::{allow, digest_invalid, registry, with_headers, Caller};
use crate::blob::BlobInfo;
use crate::domain::operation::Operation;
use crate::formats::oci::{self as format, Algorithm, Digest};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::QueryParams;
use crate::http::storage::{reclaim, store_body, UploadFence};
use crate::store::now_ms;
use crate::store::oci::{self as store, blob_path, Upload};
use crate::store::repos::{self, FileEntry, Repository};

const BLOB_TYPE: &str = "application/octet-stream";

fn blob_unknown() -> ApiError {
    registry("BLOB_UNKNOWN", 404, "blob unknown to registry")
}

fn upload_unknown() -> ApiError {
    registry(
        "BLOB_UPLOAD_UNKNOWN",
        404,
        "blob upload unknown to registry",
    )
}

fn out_of_order() -> ApiError {
    registry(
        "BLOB_UPLOAD_INVALID",
        416,
        "the chunk does not start where the upload stands",
    )
}

pub(super) async fn live_file(
    state: &AppState,
    repo: &Repository,
    path: String,
) -> Result<Option<FileEntry>, ApiError> {
    let repo_id = repo.id.clone();
    Ok(state
        .db
        .call(move |conn| repos::get_live_file(conn, &repo_id, &path))
        .await?)
}

/// `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`.
pub(super) async fn blob(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    digest: &Digest,
    parts: &Parts,
) -> Result<Response, ApiError> {
    let path = blob_path(&target.image, &digest.to_string());
    match parts.method {
        Method::GET | Method::HEAD => {
            allow(state, caller, repo, target, Operation::Download, &path).await?;
            let file = live_file(state, repo, path)
                .await?
                .ok_or_else(blob_unknown)?;
            let mut response =
                serve_file(state, &file, &parts.headers, parts.method == Method::HEAD).await?;
            if let Ok(v) = digest.to_string().parse() {
                response.headers_mut().insert("docker-content-digest", v);
            }
            Ok(response)
        }
        Method::DELETE => {
            allow(state, caller, repo, target, Operation::Delete, &path).await?;
            let file = live_file(state, repo, path)
                .await?
                .ok_or_else(blob_unknown)?;
            let gone = state
                .db
                .call(move |conn| repos::purge_file(conn, file.id))
                .await?;
            reclaim(state, gone.into_iter().collect()).await?;
            Ok(with_headers(StatusCode::ACCEPTED, &[]))
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

fn upload_location(target: &format::Target, id: &str) -> String {
    format!("/v2/{}/blobs/uploads/{id}", target.name())
}

fn blob_location(target: &format::Target, digest: &str) -> String {
    format!("/v2/{}/blobs/{digest}", target.name())
}

/// The `Range` an upload answers: the bytes it holds, `0-0` when none.
fn held(size: i64) -> String {
    format!("0-{}", (size - 1).max(0))
}

fn session_answer(status: StatusCode, target: &format::Target, id: &str, size: i64) -> Response {
    with_headers(
        status,
        &[
            ("location", upload_location(target, id)),
            ("range", held(size)),
            ("docker-upload-uuid", id.to_string()),
        ],
    )
}

fn created(target: &format::Target, digest: &str) -> Response {
    with_headers(
        StatusCode::CREATED,
        &[
            ("location", blob_location(target, digest)),
            ("docker-content-digest", digest.to_string()),
        ],
    )
}

fn query(parts: &Parts) -> Result<QueryParams, ApiError> {
    QueryParams::parse(parts.uri.query().unwrap_or(""))
}

fn wanted_digest(q: &QueryParams) -> Result<Option<Digest>, ApiError> {
    match q.get("digest") {
        None => Ok(None),
        Some(d) => Digest::parse(d)
            .map(Some)
            .ok_or_else(|| digest_invalid("the digest parameter is malformed or unsupported")),
    }
}

fn matches(info: &BlobInfo, digest: &Digest) -> bool {
    match digest.algorithm {
        Algorithm::Sha256 => info.sha256 == digest.hex,
        Algorithm::Sha512 => info.sha512 == digest.hex,
    }
}

/// Records `info` as `<image>/blobs/<digest>` (the fence, if any, is the caller's to release after).
async fn record_blob(
    state: &AppState,
    repo: &Repository,
    user_id: &str,
    image: &str,
    digest: &str,
    info: BlobInfo,
) -> Result<Option<String>, ApiError> {
    let (repo_id, path, user_id) = (
        repo.id.clone(),
        blob_path(image, digest),
        user_id.to_string(),
    );
    Ok(state
        .db
        .call(move |conn| {
            repos::put_file(conn, &repo_id, &path, &info, BLOB_TYPE, &user_id, now_ms())
        })
        .await?)
}

fn user_of(caller: &Caller) -> Result<String, ApiError> {
    caller
        .principal
        .as_ref()
        .map(|p| p.user_id.clone())
        .ok_or(ApiError::Unauthenticated("credentials required"))
}

/// Makes `file` (a blob of another repository or image) the blob `digest` of `image` in `repo`: the same
/// bytes, one more file naming them.
pub(super) async fn link_blob(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    image: &str,
    digest: &Digest,
    file: FileEntry,
) -> Result<(), ApiError> {
    let info = BlobInfo {
        sha256: file.sha256,
        size: file.size as u64,
        md5: file.md5,
        sha1: file.sha1,
        sha512: file.sha512,
    };
    let user_id = user_of(caller)?;
    let fence = UploadFence::new(state).await;
    let recorded = record_blob(state, repo, &user_id, image, &digest.to_string(), info).await;
    fence.release(state).await;
    reclaim(state, recorded?.into_iter().collect()).await?;
    Ok(())
}

/// `POST /v2/<name>/blobs/uploads/`: a cross-repository mount, a monolithic upload (`?digest=`), or a
/// new session.
pub(super) async fn start(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    parts: &Parts,
    body: Body,
) -> Result<Response, ApiError> {
    let rel = format!("{}/blobs/uploads", target.image);
    allow(state, caller, repo, target, Operation::Upload, &rel).await?;
    let user_id = user_of(caller)?;
    let q = query(parts)?;
    if let (Some(mount), Some(from)) = (q.get("mount"), q.get("from")) {
        let digest = Digest::parse(mount)
            .ok_or_else(|| digest_invalid("the mount parameter is malformed or unsupported"))?;
        if let Some(answer) = mount_blob(state, caller, repo, target, &digest, from, parts).await? {
            return Ok(answer);
        }
        // Not mountable (unknown, or not the caller's to read): a plain session, as the spec says.
    } else if let Some(digest) = wanted_digest(&q)? {
        let (info, fence) = store_body(state, body).await?;
        if !matches(&info, &digest) {
            fence.release(state).await;
            reclaim(state, vec![info.sha256]).await?;
            return Err(digest_invalid("the content does not match the digest"));
        }
        let sha = info.sha256.clone();
        let recorded = record_blob(
            state,
            repo,
            &user_id,
            &target.image,
            &digest.to_string(),
            info,
        )
        .await;
        fence.release(state).await;
        match recorded {
            Ok(replaced) => reclaim(state, replaced.into_iter().collect()).await?,
            Err(e) => {
                reclaim(state, vec![sha]).await?;
                return Err(e);
            }
        };
        crate::telemetry::record_upload(super::oci::FORMAT);
        return Ok(created(target, &digest.to_string()));
    }
    let upload = Upload {
        id: crate::domain::new_hex_id(),
        repo_id: repo.id.clone(),
        image: target.image.clone(),
        size: 0,
        created_by: user_id,
    };
    let id = upload.id.clone();
    state
        .db
        .call(move |conn| store::create_upload(conn, &upload, now_ms()))
        .await?;
    Ok(session_answer(StatusCode::ACCEPTED, target, &id, 0))
}

/// Mounts `digest` from image `from` (`<repository>/<image>`) when the caller may read it there:
/// the file is recorded here over the same blob, no bytes move.
async fn mount_blob(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    digest: &Digest,
    from: &str,
    parts: &Parts,
) -> Result<Option<Response>, ApiError> {
    let Ok(Some(source)) = format::parse_path(&format!("{from}/tags/list")) else {
        return Ok(None);
    };
    let Ok(from_repo) = super::access::load_repo(
        state,
        parts,
        caller.principal.as_ref(),
        &source.repo,
        Some(super::oci::FORMAT),
    )
    .await
    else {
        return Ok(None);
    };
    let from_path = blob_path(&source.image, &digest.to_string());
    // The privilege engine decides the read; a token must grant pull on the source too.
    if allow(
        state,
        caller,
        &from_repo,
        &source,
        Operation::Download,
        &from_path,
    )
    .await
    .is_err()
    {
        return Ok(None);
    }
    let Some(file) = live_file(state, &from_repo, from_path).await? else {
        return Ok(None);
    };
    link_blob(state, caller, repo, &target.image, digest, file).await?;
    Ok(Some(created(target, &digest.to_string())))
}

/// `PATCH`, `PUT`, `GET` and `DELETE` on `/v2/<name>/blobs/uploads/<id>`.
pub(super) async fn session(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    id: &str,
    parts: &Parts,
    body: Body,
) -> Result<Response, ApiError> {
    let rel = format!("{}/blobs/uploads", target.image);
    allow(state, caller, repo, target, Operation::Upload, &rel).await?;
    let lookup = id.to_string();
    let upload = state
        .db
        .call(move |conn| store::upload(conn, &lookup))
        .await?
        .filter(|u| u.repo_id == repo.id && u.image == target.image)
        .ok_or_else(upload_unknown)?;
    match parts.method {
        Method::GET => Ok(session_answer(
            StatusCode::NO_CONTENT,
            target,
            id,
            upload.size,
        )),
        Method::DELETE => {
            let id = id.to_string();
            let chunks = state
                .db
                .call(move |conn| store::delete_upload(conn, &id))
                .await?;
            reclaim(state, chunks).await?;
            Ok(with_headers(StatusCode::NO_CONTENT, &[]))
        }
        Method::PATCH => {
            if let Some(range) = parts.headers.get(header::CONTENT_RANGE) {
                let (start, _) = range
                    .to_str()
                    .ok()
                    .and_then(format::parse_content_range)
                    .ok_or_else(out_of_order)?;
                if start as i64 != upload.size {
                    return Err(out_of_order());
                }
            }
            let size = append(state, &upload, body).await?;
            Ok(session_answer(StatusCode::ACCEPTED, target, id, size))
        }
        Method::PUT => {
            let q = query(parts)?;
            let digest = wanted_digest(&q)?
                .ok_or_else(|| digest_invalid("completing an upload needs the digest parameter"))?;
            append(state, &upload, body).await?;
            complete(state, caller, repo, target, &upload, &digest).await
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

/// Stores a chunk and appends it where the session stands; answers the new size. An empty body
/// appends nothing.
async fn append(state: &AppState, upload: &Upload, body: Body) -> Result<i64, ApiError> {
    let (info, fence) = store_body(state, body).await?;
    if info.size == 0 {
        fence.release(state).await;
        reclaim(state, vec![info.sha256]).await?;
        let id = upload.id.clone();
        let now = state
            .db
            .call(move |conn| store::upload(conn, &id))
            .await?
            .ok_or_else(upload_unknown)?;
        return Ok(now.size);
    }
    let (id, offset, sha, size) = (
        upload.id.clone(),
        upload.size,
        info.sha256.clone(),
        info.size as i64,
    );
    let appended = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            repos::insert_blob(&tx, &info, now_ms())?;
            let ok = store::append_chunk(&tx, &id, offset, &info.sha256, size, now_ms())?;
            if ok {
                tx.commit()?;
            }
            Ok(ok)
        })
        .await;
    fence.release(state).await;
    match appended {
        Ok(true) => Ok(offset + size),
        Ok(false) => {
            reclaim(state, vec![sha]).await?;
            Err(out_of_order())
        }
        Err(e) => {
            reclaim(state, vec![sha]).await?;
            Err(e.into())
        }
    }
}

/// Joins a session's chunks into one blob, checks it against `digest`, records it and ends the session.
async fn complete(
    state: &AppState,
    caller: &Caller,
    repo: &Repository,
    target: &format::Target,
    upload: &Upload,
    digest: &Digest,
) -> Result<Response, ApiError> {
    let id = upload.id.clone();
    let chunks = state.db.call(move |conn| store::chunks(conn, &id)).await?;
    let fence = UploadFence::new(state).await;
    let joined = if chunks.len() == 1 {
        let sha = chunks[0].0.clone();
        let file_like = state.db.call(move |conn| blob_info(conn, &sha)).await?;
        file_like.ok_or_else(|| ApiError::Internal("an upload chunk has no blob row".into()))
    } else {
        let mut reader = StreamReader::new(joined_chunks(state.blobs.clone(), chunks.clone()));
        fence
            .put(state, &mut reader, state.config.max_artifact_bytes)
            .await
            .map_err(|e| fence.error(e))
    };
    let info = match joined {
        Ok(info) => info,
        Err(e) => {
            fence.release(state).await;
            return Err(e);
        }
    };
    let chunk_shas: Vec<String> = chunks.into_iter().map(|c| c.0).collect();
    if !matches(&info, digest) {
        fence.release(state).await;
        let id = upload.id.clone();
        let mut garbage = state
            .db
            .call(move |conn| store::delete_upload(conn, &id))
            .await?;
        garbage.push(info.sha256);
        reclaim(state, garbage).await?;
        return Err(digest_invalid(
            "the uploaded content does not match the digest",
        ));
    }
    let (repo_id, path, user_id, id) = (
        repo.id.clone(),
        blob_path(&target.image, &digest.to_string()),
        user_of(caller)?,
        upload.id.clone(),
    );
    let committed = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let replaced =
                repos::replace_file(&tx, &repo_id, &path, &info, BLOB_TYPE, &user_id, now_ms())?;
            let mut garbage = store::delete_upload(&tx, &id)?;
            garbage.extend(replaced);
            tx.commit()?;
            Ok(garbage)
        })
        .await;
    fence.release(state).await;
    let mut garbage = committed?;
    garbage.extend(chunk_shas);
    reclaim(state, garbage).await?;
    crate::telemetry::record_upload(super::oci::FORMAT);
    Ok(created(target, &digest.to_string()))
}

/// The chunks' bytes one after the other.
fn joined_chunks(
    blobs: std::sync::Arc<dyn crate::blob::BlobStore>,
    chunks: Vec<(String, i64)>,
) -> crate::blob::ByteStream {
    let opened = chunks.into_iter().map(move |(sha, size)| {
        let blobs = blobs.clone();
        let open: std::pin::Pin<
            Box<dyn std::future::Future<Output = std::io::Result<crate::blob::ByteStream>> + Send>,
        > = Box::pin(async move {
            blobs
                .read(&sha, 0, size as u64)
                .await
                .map_err(std::io::Error::other)
        });
        open
    });
    Box::pin(futures_util::stream::iter(opened).then(|f| f).try_flatten())
}

/// A recorded blob's digests, from its row.
fn blob_info(
    conn: &crate::store::Conn,
    sha256: &str,
) -> crate::store::StoreResult<Option<BlobInfo>> {
    conn.query_opt(
        "SELECT sha256, size, md5, sha1, sha512 FROM blobs WHERE sha256 = ?1",
        crate::params![sha256],
        |r| {
            Ok(BlobInfo {
                sha256: r.get(0)?,
                size: r.get::<i64>(1)? as u64,
                md5: r.get(2)?,
                sha1: r.get(3)?,
                sha512: r.get(4)?,
            })
        },
    )
}
