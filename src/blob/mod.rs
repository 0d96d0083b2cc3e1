//! Content-addressed blob storage (SPEC §8). Blobs are named by their SHA-256; writes stream to a temporary
//! file while every digest clients ask for is computed, are fsync'ed and renamed into place, and only then
//! may metadata point at them. The trait keeps callers independent of where bytes live: the data
//! directory (`fs`) or an S3-compatible bucket (`s3`).

pub mod fs;
mod hashing;
pub mod s3;
pub mod small;

pub use hashing::StreamHasher;

use std::io;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};
use tokio::io::AsyncRead;

/// What a stored blob is: its size and digests (lower-case hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub sha256: String,
    pub size: u64,
    pub md5: String,
    pub sha1: String,
    pub sha512: String,
}

impl BlobInfo {
    /// The digest Maven names `algorithm` (`md5`, `sha1`, `sha256`, `sha512`).
    pub fn digest(&self, algorithm: &str) -> Option<&str> {
        match algorithm {
            "md5" => Some(&self.md5),
            "sha1" => Some(&self.sha1),
            "sha256" => Some(&self.sha256),
            "sha512" => Some(&self.sha512),
            _ => None,
        }
    }

    /// The digests of bytes held in memory (a generated document).
    pub fn of(bytes: &[u8]) -> Self {
        let mut hasher = MultiHasher::default();
        hasher.update(bytes);
        hasher.finish()
    }
}

/// A blob found by listing the store: its digest, size and when its bytes were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBlob {
    pub sha256: String,
    pub size: u64,
    pub written: std::time::SystemTime,
}

/// A stream of a blob's bytes (whole or a range).
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("blob storage I/O failed: {0}")]
    Io(#[from] io::Error),
    #[error("the upload exceeds the limit of {0} bytes")]
    TooLarge(u64),
    #[error("blob {0} is missing from storage")]
    Missing(String),
    #[error("the blob store was opened read-only")]
    ReadOnly,
    /// A remote blob store (S3) failed: what the operator must look at, and the store's own words (for
    /// the log only; they never reach a client).
    #[error("the blob store is unavailable ({0:?}): {1}")]
    Unavailable(Unavailable, String),
}

/// A remote blob store failing while a read streams: the `io::Error` a `ByteStream` yields carries it, so
/// that a caller that collects the stream (a metadata document) answers 503, not an opaque 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the blob store failed while a blob was read ({0:?})")]
pub struct StreamFailure(pub Unavailable);

/// Why a remote blob store could not serve a request, as far as an operator needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    /// Not reachable, timed out, or answered a server error.
    Unreachable,
    /// It refused the credentials or the request (access denied, a bad signature).
    Refused,
    /// The configured bucket does not exist.
    NoBucket,
}

/// Told a blob's digests once they are known and before its bytes are placed under them (or found there
/// already): where an upload fences itself against another node's collection of the same digest.
#[async_trait]
pub trait PlaceGate: Send + Sync {
    async fn before_place(&self, info: &BlobInfo) -> Result<(), BlobError>;
}

/// No fence: one process owns the store, and its collection lock is enough.
pub struct Ungated;

#[async_trait]
impl PlaceGate for Ungated {
    async fn before_place(&self, _info: &BlobInfo) -> Result<(), BlobError> {
        Ok(())
    }
}

#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Streams `reader` into the store and answers the blob's digests. At most `limit` bytes are accepted.
    async fn put(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
    ) -> Result<BlobInfo, BlobError> {
        self.put_gated(reader, limit, &Ungated).await
    }

    /// `put`, passing through `gate` between hashing and placing.
    async fn put_gated(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        gate: &dyn PlaceGate,
    ) -> Result<BlobInfo, BlobError>;

    /// Streams `len` bytes of blob `sha256` from `offset`.
    async fn read(&self, sha256: &str, offset: u64, len: u64) -> Result<ByteStream, BlobError>;

    /// Removes a blob; removing an absent blob is not an error.
    async fn delete(&self, sha256: &str) -> Result<(), BlobError>;

    /// The blobs whose digest starts with `prefix` (two hex digits), so the orphan sweep goes through the
    /// store a slice at a time.
    async fn list(&self, prefix: &str) -> Result<Vec<ListedBlob>, BlobError>;

    /// The blobs after `cursor` (`None`: from the start), a batch at a time, and the cursor of the next
    /// batch (`None`: that was the last), for the orphan sweep. By default a batch is one `list` slice;
    /// a store whose every listing is a request lists more at once.
    async fn list_batch(
        &self,
        cursor: Option<String>,
    ) -> Result<(Vec<ListedBlob>, Option<String>), BlobError> {
        let slice = match cursor {
            Some(c) => u8::from_str_radix(&c, 16).unwrap_or(u8::MAX),
            None => 0,
        };
        let listed = self.list(&format!("{slice:02x}")).await?;
        Ok((
            listed,
            slice.checked_add(1).map(|next| format!("{next:02x}")),
        ))
    }

    /// The blob as a local file, for readers that need to seek (a wheel's zip directory). A backend that
    /// keeps blobs elsewhere copies it to a temporary file, removed when the answer is dropped.
    async fn local_copy(&self, sha256: &str) -> Result<LocalBlob, BlobError>;

    /// Removes what interrupted uploads left in the store's temporary area before `cutoff` (the
    /// filesystem store clears its own at start, with no other writer; a shared bucket cannot).
    /// Answers how many it removed.
    async fn clear_temporary(&self, _cutoff: std::time::SystemTime) -> Result<usize, BlobError> {
        Ok(0)
    }

    /// Whether the store answers at all, cheaply (`GET /health`).
    async fn check(&self) -> Result<(), BlobError> {
        Ok(())
    }
}

/// A blob readable from the local filesystem.
#[derive(Debug)]
pub struct LocalBlob {
    path: std::path::PathBuf,
    temporary: bool,
}

impl LocalBlob {
    pub fn in_place(path: std::path::PathBuf) -> Self {
        LocalBlob {
            path,
            temporary: false,
        }
    }

    /// A copy made for the caller, removed when dropped.
    pub fn temporary(path: std::path::PathBuf) -> Self {
        LocalBlob {
            path,
            temporary: true,
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for LocalBlob {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Computes every digest in one pass over the bytes.
#[derive(Default)]
pub struct MultiHasher {
    md5: Md5,
    sha1: Sha1,
    sha256: Sha256,
    sha512: Sha512,
    pub(crate) size: u64,
}

impl MultiHasher {
    pub fn update(&mut self, chunk: &[u8]) {
        self.md5.update(chunk);
        self.sha1.update(chunk);
        self.sha256.update(chunk);
        self.sha512.update(chunk);
        self.size += chunk.len() as u64;
    }

    pub fn finish(self) -> BlobInfo {
        BlobInfo {
            sha256: hex::encode(self.sha256.finalize()),
            size: self.size,
            md5: hex::encode(self.md5.finalize()),
            sha1: hex::encode(self.sha1.finalize()),
            sha512: hex::encode(self.sha512.finalize()),
        }
    }
}

pub fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_of_known_input() {
        let mut h = MultiHasher::default();
        h.update(b"ab");
        h.update(b"c");
        let info = h.finish();
        assert_eq!(info.size, 3);
        assert_eq!(info.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(info.sha1, "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            info.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(info.sha512.starts_with("ddaf35a193617aba"));
    }
}
