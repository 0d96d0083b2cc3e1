//! The S3 blob store: objects `<prefix>/blobs/ab/cd/<sha256>` in one bucket, through `object_store`.
//!
//! A blob's key is its SHA-256, known only once the last byte has been read. A body that fits in one
//! part (`part_size`, 8 MiB or more) is held in memory while hashed and PUT straight to its key. A larger
//! one streams as a multipart upload to `<prefix>/tmp/<random>` (a part being read plus at most
//! `PARTS_IN_FLIGHT` being sent: memory stays a few parts whatever the size), and once complete is
//! copied server-side to its key and the temporary object deleted. CopyObject takes at most 5 GiB; a
//! larger blob is copied by streaming the temporary object back into a multipart upload of its key
//! (the bytes cross the network twice, still in bounded memory). Every write lands whole or not at all
//! (S3 makes an object visible only when its PUT, copy or multipart upload completes), and a blob
//! already stored is not written again. An upload dropped half-way aborts its multipart upload and
//! deletes its temporary object in the background; what a crash leaves under `tmp/` is removed by the
//! blob sweep once older than its grace period, and the parts of a multipart upload a crash never
//! aborted are the bucket's lifecycle rule's to expire (README: "Blobs on S3").

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{
    BackoffConfig, ClientOptions, GetOptions, ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload,
    RetryConfig, WriteMultipart,
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::{
    is_sha256_hex, BlobError, BlobInfo, BlobStore, ByteStream, ListedBlob, LocalBlob, PlaceGate,
    StreamFailure, StreamHasher, Unavailable,
};

/// The smallest part; larger limits get larger parts, as S3 allows 10,000 parts to an upload.
const MIN_PART_SIZE: usize = 8 * 1024 * 1024;
const MAX_PARTS: u64 = 10_000;
/// Parts sent at once by one upload, besides the one being read.
const PARTS_IN_FLIGHT: usize = 1;
/// The largest object CopyObject copies.
const COPY_LIMIT: u64 = 5 * 1024 * 1024 * 1024;
/// Keys a sweep looks at per listing request (S3's page).
const LIST_BATCH: usize = 1000;
/// The most read from a body at once.
const READ_CHUNK: usize = 256 * 1024;
/// How long `check` waits for the store.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// Where the store is and who arca is to it (from `Config`'s `s3_*` settings).
#[derive(Clone)]
pub struct S3Settings {
    pub bucket: String,
    pub prefix: String,
    pub endpoint: String,
    pub region: String,
    pub path_style: bool,
    pub access_key_id: String,
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("path_style", &self.path_style)
            .finish_non_exhaustive()
    }
}

impl S3Settings {
    pub fn of(config: &crate::config::Config) -> Self {
        S3Settings {
            bucket: config.s3_bucket.clone(),
            prefix: config.s3_prefix.clone(),
            endpoint: config.s3_endpoint.clone(),
            region: config.s3_region.clone(),
            path_style: config.s3_path_style,
            access_key_id: config.s3_access_key_id.clone(),
            secret_access_key: config.s3_secret_access_key.clone(),
        }
    }
}

pub struct S3BlobStore {
    store: Arc<AmazonS3>,
    /// `<prefix>/` or empty.
    root: String,
    /// Where `local_copy` writes its temporary files.
    spool: PathBuf,
    read_only: bool,
    part_size: usize,
    copy_limit: u64,
    page: usize,
}

impl S3BlobStore {
    /// A client for the bucket; nothing is sent until the first request (`check` asks at once).
    /// `spool` is emptied: it holds only `local_copy`'s temporary files.
    pub fn open(settings: &S3Settings, spool: PathBuf, read_only: bool) -> Result<Self, BlobError> {
        // reqwest's rustls is built without a bundled provider; ring is the one the rest of arca uses.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientOptions::new()
            .with_allow_http(settings.endpoint.starts_with("http://"))
            .with_connect_timeout(Duration::from_secs(5))
            // A download streams for as long as its client reads: no total timeout, only an idle one.
            .with_timeout_disabled()
            .with_read_timeout(Duration::from_secs(60));
        // A store that is down must fail requests within seconds (503), not after object_store's
        // default of ten retries over three minutes.
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_virtual_hosted_style_request(!settings.path_style)
            .with_client_options(client)
            .with_retry(retry);
        if !settings.endpoint.is_empty() {
            builder = builder.with_endpoint(&settings.endpoint);
        }
        let store = builder.build().map_err(|e| {
            BlobError::Unavailable(Unavailable::Refused, format!("invalid S3 settings: {e}"))
        })?;
        if !read_only {
            if spool.exists() {
                std::fs::remove_dir_all(&spool)?;
            }
            std::fs::create_dir_all(&spool)?;
        }
        Ok(S3BlobStore {
            store: Arc::new(store),
            root: if settings.prefix.is_empty() {
                String::new()
            } else {
                format!("{}/", settings.prefix)
            },
            spool,
            read_only,
            part_size: MIN_PART_SIZE,
            copy_limit: COPY_LIMIT,
            page: LIST_BATCH,
        })
    }

    /// Smaller parts and copy limit, so that tests reach the multipart and the large-copy paths with
    /// small bodies (S3 itself wants parts of 5 MiB but the last; s3s-fs does not check).
    #[cfg(test)]
    fn with_page(mut self, page: usize) -> Self {
        self.page = page;
        self
    }

    #[cfg(test)]
    fn with_sizes(mut self, part_size: usize, copy_limit: u64) -> Self {
        self.part_size = part_size;
        self.copy_limit = copy_limit;
        self
    }

    /// An object in the temporary area, as an upload between its multipart completion and its copy
    /// leaves it.
    #[cfg(test)]
    pub(crate) async fn plant_temporary(&self, name: &str) {
        let path = self.temporary_area().join(name);
        self.store
            .put(&path, PutPayload::from_static(b"parts"))
            .await
            .unwrap();
    }

    #[cfg(test)]
    pub(crate) async fn temporary_count(&self) -> usize {
        self.store
            .list(Some(&self.temporary_area()))
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .len()
    }

    /// A listed object as a blob, if it is one: only keys named as `put` names them (anything else
    /// there is not ours).
    fn ours(&self, object: ObjectMeta) -> Option<ListedBlob> {
        let name = object.location.filename()?.to_string();
        let ours = is_sha256_hex(&name) && object.location == self.blob_path(&name);
        ours.then(|| ListedBlob {
            sha256: name,
            size: object.size,
            written: SystemTime::from(object.last_modified),
        })
    }

    fn blob_path(&self, sha256: &str) -> Path {
        Path::from(format!(
            "{}blobs/{}/{}/{sha256}",
            self.root,
            &sha256[0..2],
            &sha256[2..4]
        ))
    }

    fn temporary_area(&self) -> Path {
        Path::from(format!("{}tmp", self.root))
    }

    async fn exists(&self, path: &Path) -> Result<bool, BlobError> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(failure(e)),
        }
    }

    /// A blob too large for CopyObject: its temporary object read back into a multipart upload.
    async fn copy_large(&self, from: &Path, to: &Path) -> Result<(), BlobError> {
        let source = self.store.get(from).await.map_err(failure)?;
        let upload = self.store.put_multipart(to).await.map_err(failure)?;
        let mut writer = AbortOnDrop::new(
            WriteMultipart::new_with_chunk_size(upload, self.part_size),
            self.store.clone(),
            None,
        );
        let mut stream = source.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(failure)?;
            let w = writer.get();
            w.wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(failure)?;
            w.put(chunk);
        }
        writer.take().finish().await.map_err(failure)?;
        Ok(())
    }

    /// Moves a completed temporary object to the blob's key, unless the blob is already stored.
    async fn place(&self, temp: &Path, info: &BlobInfo) -> Result<(), BlobError> {
        let key = self.blob_path(&info.sha256);
        if self.exists(&key).await? {
            return Ok(());
        }
        if info.size <= self.copy_limit {
            self.store.copy(temp, &key).await.map_err(failure)
        } else {
            self.copy_large(temp, &key).await
        }
    }
}

/// Reads up to `size` bytes of the body as the chunks they arrived in (each copied to an allocation of
/// its own size: no part-sized buffer grown by copying, nothing kept that was not read), hashing and
/// counting on the way. Fewer than `size` bytes: the body ended.
async fn fill(
    reader: &mut (dyn AsyncRead + Send + Unpin),
    size: usize,
    hasher: &mut StreamHasher,
    limit: u64,
    buf: &mut [u8],
) -> Result<(Vec<Bytes>, usize), BlobError> {
    let (mut chunks, mut len) = (Vec::new(), 0);
    while len < size {
        let want = (size - len).min(buf.len());
        let n = reader.read(&mut buf[..want]).await?;
        if n == 0 {
            break;
        }
        if hasher.size() + n as u64 > limit {
            return Err(BlobError::TooLarge(limit));
        }
        let chunk = Bytes::copy_from_slice(&buf[..n]);
        hasher.update(chunk.clone()).await;
        chunks.push(chunk);
        len += n;
    }
    Ok((chunks, len))
}

/// A multipart upload that is aborted in the background if dropped before it finished (the client went
/// away, a limit was hit, the store failed), with the temporary object it was to become, if any.
struct AbortOnDrop {
    writer: Option<WriteMultipart>,
    store: Arc<AmazonS3>,
    temp: Option<Path>,
}

impl AbortOnDrop {
    fn new(writer: WriteMultipart, store: Arc<AmazonS3>, temp: Option<Path>) -> Self {
        AbortOnDrop {
            writer: Some(writer),
            store,
            temp,
        }
    }

    fn get(&mut self) -> &mut WriteMultipart {
        self.writer.as_mut().expect("taken only to finish")
    }

    /// The writer, to finish: `finish` aborts the upload itself when it fails.
    fn take(&mut self) -> WriteMultipart {
        self.writer.take().expect("taken once")
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let writer = self.writer.take();
        let temp = self.temp.take();
        if writer.is_none() && temp.is_none() {
            return;
        }
        let store = self.store.clone();
        // Without a runtime (the process is ending) the sweep and the lifecycle rule clean up instead.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Some(writer) = writer {
                    if let Err(e) = writer.abort().await {
                        tracing::warn!(error = %e, "could not abort an interrupted multipart upload");
                    }
                }
                if let Some(temp) = temp {
                    if let Err(e) = store.delete(&temp).await {
                        tracing::warn!(error = %e, "could not delete a temporary object; the blob sweep will");
                    }
                }
            });
        }
    }
}

/// What an S3 failure means to an operator. Not-found answers are the caller's to interpret first
/// (a missing object); one that reaches here is a missing bucket. object_store classifies some answers
/// (`PermissionDenied`) but leaves most inside a generic error whose text carries S3's status and code,
/// so those are read from the text.
fn failure(e: object_store::Error) -> BlobError {
    let text = e.to_string();
    let problem = match &e {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => Unavailable::Refused,
        _ if text.contains("NoSuchBucket") => Unavailable::NoBucket,
        _ if [
            "403 Forbidden",
            "401 Unauthorized",
            "AccessDenied",
            "SignatureDoesNotMatch",
            "InvalidAccessKeyId",
        ]
        .iter()
        .any(|sign| text.contains(sign)) =>
        {
            Unavailable::Refused
        }
        object_store::Error::NotFound { .. } => Unavailable::NoBucket,
        _ => Unavailable::Unreachable,
    };
    BlobError::Unavailable(problem, text)
}

/// `failure`, but a not-found answer about an object means the blob is missing.
fn missing_or_failure(sha256: &str, e: object_store::Error) -> BlobError {
    match e {
        object_store::Error::NotFound { ref source, .. }
            if !source.to_string().contains("NoSuchBucket") =>
        {
            BlobError::Missing(sha256.to_string())
        }
        other => failure(other),
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put_gated(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        gate: &dyn PlaceGate,
    ) -> Result<BlobInfo, BlobError> {
        if self.read_only {
            return Err(BlobError::ReadOnly);
        }
        let part_size = self
            .part_size
            .max(limit.div_ceil(MAX_PARTS).min(COPY_LIMIT) as usize);
        let mut hasher = StreamHasher::default();
        let mut buf = vec![0u8; READ_CHUNK];
        let (first, len) = fill(reader, part_size, &mut hasher, limit, &mut buf).await?;
        if len < part_size {
            // The whole body is here: its key is known, so it goes there directly.
            let info = hasher.finish().await;
            gate.before_place(&info).await?;
            let key = self.blob_path(&info.sha256);
            if !self.exists(&key).await? {
                self.store
                    .put(&key, first.into_iter().collect::<PutPayload>())
                    .await
                    .map_err(failure)?;
            }
            return Ok(info);
        }
        let temp = self.temporary_area().join(crate::domain::new_hex_id());
        let upload = self.store.put_multipart(&temp).await.map_err(failure)?;
        let mut writer = AbortOnDrop::new(
            WriteMultipart::new_with_chunk_size(upload, part_size),
            self.store.clone(),
            Some(temp.clone()),
        );
        let mut part = first;
        loop {
            let w = writer.get();
            w.wait_for_capacity(PARTS_IN_FLIGHT)
                .await
                .map_err(failure)?;
            // Chunks are handed over without copying; a part starts uploading once it is whole.
            for chunk in part {
                w.put(chunk);
            }
            let (next, len) = fill(reader, part_size, &mut hasher, limit, &mut buf).await?;
            if len == 0 {
                break;
            }
            part = next;
        }
        writer.take().finish().await.map_err(failure)?;
        let info = hasher.finish().await;
        // Should the gate or `place` fail, the guard deletes the temporary object in the background.
        gate.before_place(&info).await?;
        self.place(&temp, &info).await?;
        writer.temp = None;
        if let Err(e) = self.store.delete(&temp).await {
            tracing::warn!(error = %e, "could not delete a temporary object; the blob sweep will");
        }
        Ok(info)
    }

    async fn read(&self, sha256: &str, offset: u64, len: u64) -> Result<ByteStream, BlobError> {
        if !is_sha256_hex(sha256) {
            return Err(BlobError::Missing(sha256.to_string()));
        }
        let key = self.blob_path(sha256);
        if len == 0 {
            // S3 has no empty range; the blob must still exist.
            self.store
                .head(&key)
                .await
                .map_err(|e| missing_or_failure(sha256, e))?;
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        let options = GetOptions::new().with_range(Some(offset..offset + len));
        let found = self
            .store
            .get_opts(&key, options)
            .await
            .map_err(|e| missing_or_failure(sha256, e))?;
        Ok(Box::pin(found.into_stream().map_err(|e| {
            tracing::warn!(error = %e, "reading a blob from S3 failed mid-stream");
            match failure(e) {
                BlobError::Unavailable(problem, _) => io::Error::other(StreamFailure(problem)),
                other => io::Error::other(other),
            }
        })))
    }

    async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        if !is_sha256_hex(sha256) {
            return Ok(());
        }
        match self.store.delete(&self.blob_path(sha256)).await {
            Ok(()) => Ok(()),
            Err(e) => match missing_or_failure(sha256, e) {
                BlobError::Missing(_) => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ListedBlob>, BlobError> {
        if prefix.len() != 2 || !is_sha256_hex(&format!("{prefix:0<64}")) {
            return Ok(Vec::new());
        }
        let slice = Path::from(format!("{}blobs/{prefix}", self.root));
        let objects: Vec<_> = self
            .store
            .list(Some(&slice))
            .try_collect()
            .await
            .map_err(failure)?;
        Ok(objects
            .into_iter()
            .filter_map(|object| self.ours(object))
            .filter(|blob| blob.sha256.starts_with(prefix))
            .collect())
    }

    /// One listing request (up to 1,000 keys, in key order) rather than a request per slice: 256
    /// requests a sweep for a store of a few blobs cost more than the blobs, on S3 as on a test server
    /// that walks its files for every listing.
    async fn list_batch(
        &self,
        cursor: Option<String>,
    ) -> Result<(Vec<ListedBlob>, Option<String>), BlobError> {
        let area = Path::from(format!("{}blobs", self.root));
        let mut listing = match &cursor {
            Some(after) => self
                .store
                .list_with_offset(Some(&area), &Path::from(after.as_str())),
            None => self.store.list(Some(&area)),
        };
        let mut batch = Vec::new();
        let mut last = None;
        // Stopping at a page's length keeps the listing to one request.
        while batch.len() < self.page {
            let Some(object) = listing.next().await else {
                last = None;
                break;
            };
            let object = object.map_err(failure)?;
            last = Some(object.location.to_string());
            batch.push(object);
        }
        let listed = batch
            .into_iter()
            .filter_map(|object| self.ours(object))
            .collect();
        Ok((listed, last))
    }

    async fn local_copy(&self, sha256: &str) -> Result<LocalBlob, BlobError> {
        if !is_sha256_hex(sha256) {
            return Err(BlobError::Missing(sha256.to_string()));
        }
        let found = self
            .store
            .get(&self.blob_path(sha256))
            .await
            .map_err(|e| missing_or_failure(sha256, e))?;
        // Removed when dropped, also if the copy fails half-way.
        let copy = LocalBlob::temporary(self.spool.join(crate::domain::new_hex_id()));
        let mut file = tokio::fs::File::create(copy.path()).await?;
        let mut stream = found.into_stream();
        while let Some(chunk) = stream.next().await {
            file.write_all(&chunk.map_err(failure)?).await?;
        }
        file.flush().await?;
        Ok(copy)
    }

    async fn clear_temporary(&self, cutoff: SystemTime) -> Result<usize, BlobError> {
        let stale: Vec<Path> = self
            .store
            .list(Some(&self.temporary_area()))
            .try_filter(|object| {
                futures_util::future::ready(SystemTime::from(object.last_modified) <= cutoff)
            })
            .map_ok(|object| object.location)
            .try_collect()
            .await
            .map_err(failure)?;
        for path in &stale {
            match self.store.delete(path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(failure(e)),
            }
        }
        Ok(stale.len())
    }

    async fn check(&self) -> Result<(), BlobError> {
        // One listing request of a key range that is normally empty: it needs the endpoint up, the
        // bucket there and the credentials accepted, and costs the same however large the store is.
        let probe = Path::from(format!("{}health-check", self.root));
        let mut listing = self.store.list(Some(&probe));
        match tokio::time::timeout(CHECK_TIMEOUT, listing.next()).await {
            Ok(None | Some(Ok(_))) => Ok(()),
            Ok(Some(Err(e))) => Err(failure(e)),
            Err(_) => Err(BlobError::Unavailable(
                Unavailable::Unreachable,
                format!("no answer within {CHECK_TIMEOUT:?}"),
            )),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
