//! Helpers shared by the fuzz targets: running arca's async parsers to completion, feeding them a body
//! in pieces as a network would, and a blob store that keeps uploads in memory (the real one fsyncs every
//! file, far too slow per input).

use std::future::Future;
use std::sync::Mutex;

use arca::blob::{
    BlobError, BlobInfo, BlobStore, ByteStream, ListedBlob, LocalBlob, MultiHasher, PlaceGate,
};
use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
}

/// Runs `future` to completion; the inputs are in memory, so it never waits on anything real.
pub fn block_on<F: Future>(future: F) -> F::Output {
    RUNTIME.with(|rt| rt.block_on(future))
}

/// `data` cut into pieces of 1 to 17 bytes, their lengths drawn from the data itself: the same input is
/// always cut the same way, and the cuts land everywhere a parser may have to resume.
pub fn pieces(data: &[u8]) -> Vec<Bytes> {
    let mut state = data.iter().fold(data.len() as u32 ^ 0x9e37_79b9, |h, b| {
        h.rotate_left(5) ^ u32::from(*b)
    });
    let (mut out, mut rest) = (Vec::new(), data);
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let n = (1 + state as usize % 17).min(rest.len());
        out.push(Bytes::copy_from_slice(&rest[..n]));
        rest = &rest[n..];
    }
    out
}

/// A request body that arrives in `pieces`.
pub fn body_in_pieces(data: &[u8]) -> axum::body::Body {
    let chunks = pieces(data).into_iter().map(Ok::<_, std::io::Error>);
    axum::body::Body::from_stream(futures_util::stream::iter(chunks))
}

/// Keeps what `put` stored, so that a target can check the bytes and that every stored blob was
/// reported to the caller (who must reclaim it when the request fails).
#[derive(Default)]
pub struct MemBlobs {
    pub stored: Mutex<Vec<(BlobInfo, Vec<u8>)>>,
}

#[async_trait]
impl BlobStore for MemBlobs {
    async fn put_gated(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        gate: &dyn PlaceGate,
    ) -> Result<BlobInfo, BlobError> {
        let mut bytes = Vec::new();
        reader.take(limit + 1).read_to_end(&mut bytes).await?;
        if bytes.len() as u64 > limit {
            return Err(BlobError::TooLarge(limit));
        }
        let mut hasher = MultiHasher::default();
        hasher.update(&bytes);
        let info = hasher.finish();
        gate.before_place(&info).await?;
        self.stored.lock().unwrap().push((info.clone(), bytes));
        Ok(info)
    }

    async fn read(&self, sha256: &str, _: u64, _: u64) -> Result<ByteStream, BlobError> {
        Err(BlobError::Missing(sha256.to_string()))
    }

    async fn delete(&self, _: &str) -> Result<(), BlobError> {
        Ok(())
    }

    async fn list(&self, _: &str) -> Result<Vec<ListedBlob>, BlobError> {
        Ok(Vec::new())
    }

    async fn local_copy(&self, sha256: &str) -> Result<LocalBlob, BlobError> {
        Err(BlobError::Missing(sha256.to_string()))
    }
}
