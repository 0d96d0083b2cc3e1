//! The four digests of a stream being stored, computed beside the write.
//!
//! Small bodies are hashed where they are read: a 10 KiB upload should not pay for waking threads. Past
//! `PARALLEL_FROM` bytes each digest moves, with its state so far, to a thread of its own fed by a bounded
//! channel, so a large upload costs the slowest digest (SHA-512 or SHA-256) rather than the sum of four,
//! and none of it runs on the async runtime's threads.

use bytes::Bytes;
use sha2::Digest;
use tokio::sync::mpsc;

use super::{BlobInfo, MultiHasher};

/// Bytes hashed inline before the digests move to threads of their own.
const PARALLEL_FROM: u64 = 1024 * 1024;
/// Chunks queued per digest thread: a bound on what a slow digest holds back (the chunks are shared).
const QUEUED_CHUNKS: usize = 8;

/// One digest's thread: its input queue and its answer.
struct Lane {
    input: mpsc::Sender<Bytes>,
    output: tokio::task::JoinHandle<String>,
}

fn lane<D: Digest + Send + 'static>(mut digest: D) -> Lane {
    let (input, mut queue) = mpsc::channel::<Bytes>(QUEUED_CHUNKS);
    let output = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = queue.blocking_recv() {
            digest.update(&chunk);
        }
        hex::encode(digest.finalize())
    });
    Lane { input, output }
}

enum State {
    Inline(Box<MultiHasher>),
    /// md5, sha1, sha256, sha512.
    Parallel([Lane; 4]),
}

pub struct StreamHasher {
    state: State,
    size: u64,
}

impl Default for StreamHasher {
    fn default() -> Self {
        StreamHasher {
            state: State::Inline(Box::default()),
            size: 0,
        }
    }
}

impl StreamHasher {
    /// Bytes hashed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub async fn update(&mut self, chunk: Bytes) {
        self.size += chunk.len() as u64;
        match &mut self.state {
            State::Inline(hasher) => {
                hasher.update(&chunk);
                if self.size >= PARALLEL_FROM {
                    let hasher = std::mem::take(hasher.as_mut());
                    self.state = State::Parallel([
                        lane(hasher.md5),
                        lane(hasher.sha1),
                        lane(hasher.sha256),
                        lane(hasher.sha512),
                    ]);
                }
            }
            State::Parallel(lanes) => {
                for lane in lanes.iter() {
                    // A lane only stops by panicking, which `finish` reports.
                    let _ = lane.input.send(chunk.clone()).await;
                }
            }
        }
    }

    pub async fn finish(self) -> BlobInfo {
        match self.state {
            State::Inline(hasher) => hasher.finish(),
            State::Parallel(lanes) => {
                let mut digests = Vec::with_capacity(4);
                for Lane { input, output } in lanes {
                    drop(input);
                    match output.await {
                        Ok(digest) => digests.push(digest),
                        Err(e) => std::panic::resume_unwind(e.into_panic()),
                    }
                }
                let mut digests = digests.into_iter();
                let mut next = || digests.next().unwrap_or_default();
                let (md5, sha1, sha256, sha512) = (next(), next(), next(), next());
                BlobInfo {
                    sha256,
                    size: self.size,
                    md5,
                    sha1,
                    sha512,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parallel_digests_equal_the_inline_ones() {
        let data: Vec<u8> = (0..5_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
        for chunk_size in [1, 4096, 256 * 1024, 3 * 1024 * 1024] {
            let mut streamed = StreamHasher::default();
            let chunks = if chunk_size == 1 { 100 } else { usize::MAX };
            for chunk in data.chunks(chunk_size).take(chunks) {
                streamed.update(Bytes::copy_from_slice(chunk)).await;
            }
            let hashed = streamed.size() as usize;
            let mut inline = MultiHasher::default();
            inline.update(&data[..hashed]);
            assert_eq!(
                streamed.finish().await,
                inline.finish(),
                "chunks of {chunk_size}"
            );
        }
    }
}
