//! Reading a stored file as a stream of chunks.
//!
//! A chunk the page cache holds whole is copied on the runtime thread itself (`preadv2` with
//! `RWF_NOWAIT`, which fails rather than wait for the disk); only a chunk that needs the disk goes to a
//! blocking thread. The hand-off cost more than the copy: a 1 MiB file answered in 0.50–0.62 CPU ms with
//! every read handed off against 0.27 read in place (BENCHMARKS.md).
//!
//! Chunks are read into buffers kept for reuse. A new buffer must be zeroed before `preadv2` may fill it
//! (safe Rust hands it only initialised memory), and zeroing a MiB on every answer cost a third of the
//! gain; a reused buffer is also one whose pages are already mapped and warm.

use std::fs::File;
use std::io::{self, IoSliceMut};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::{Errno, ReadWriteFlags};

use crate::blob::ByteStream;

/// The most read per step: a file of up to 1 MiB is answered from one buffer.
pub(super) const READ_CHUNK: u64 = 1024 * 1024;

/// Chunks smaller than this get a buffer of their own size: zeroing a few KiB costs nothing and a
/// kept MiB would be mostly idle.
const SHELVED_FROM: usize = 64 * 1024;

/// How many idle buffers are kept. Downloads release a buffer once the socket has taken the chunk,
/// so the number in use at once stays near the number of connections writing right now; what is
/// kept beyond that after a burst is at most this many MiB.
const SHELF_SIZE: usize = 16;

/// Idle read buffers of one store.
#[derive(Default)]
pub(super) struct Shelf(Mutex<Vec<Vec<u8>>>);

impl Shelf {
    fn kept(&self) -> std::sync::MutexGuard<'_, Vec<Vec<u8>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn buffer_for(&self, want: usize) -> Vec<u8> {
        if want < SHELVED_FROM {
            return vec![0; want];
        }
        let kept = self.kept().pop();
        kept.unwrap_or_else(|| vec![0; READ_CHUNK as usize])
    }
}

/// The first `len` bytes of `buf`; gives `buf` back to the shelf when the answer is done with it.
struct Chunk {
    buf: Vec<u8>,
    len: usize,
    shelf: Arc<Shelf>,
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        if self.buf.len() != READ_CHUNK as usize {
            return;
        }
        let mut shelf = self.shelf.kept();
        if shelf.len() < SHELF_SIZE {
            shelf.push(std::mem::take(&mut self.buf));
        }
    }
}

/// Opens `path` on this thread when every step of it is in the kernel's directory cache
/// (`RESOLVE_CACHED`, Linux 5.12), else on a blocking thread.
pub(super) async fn open(path: PathBuf, in_place: bool) -> io::Result<File> {
    if in_place {
        let flags = OFlags::RDONLY | OFlags::CLOEXEC;
        match rustix::fs::openat2(
            rustix::fs::CWD,
            &path,
            flags,
            Mode::empty(),
            ResolveFlags::CACHED,
        ) {
            Ok(fd) => return Ok(File::from(fd)),
            Err(Errno::NOENT) => return Err(io::ErrorKind::NotFound.into()),
            Err(_) => {}
        }
    }
    tokio::task::spawn_blocking(move || File::open(path))
        .await
        .map_err(io::Error::other)?
}

/// Fills what it can of `buf` from the page cache without waiting for the disk: the count filled.
/// Stops short at the first page not cached, at the end of the file, and on a filesystem or kernel
/// without `RWF_NOWAIT`; the blocking read that follows reports any real error.
fn fill_from_cache(file: &File, at: u64, buf: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buf.len() {
        let slice = &mut [IoSliceMut::new(&mut buf[filled..])];
        match rustix::io::preadv2(file, slice, at + filled as u64, ReadWriteFlags::NOWAIT) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(Errno::INTR) => continue,
            Err(_) => break,
        }
    }
    filled
}

/// Fills the rest of `buf` from `filled` on, waiting for the disk; a file shorter than that is an
/// error (its row says otherwise).
fn fill_waiting(file: &File, at: u64, buf: &mut [u8], mut filled: usize) -> io::Result<()> {
    while filled < buf.len() {
        match rustix::io::pread(file, &mut buf[filled..], at + filled as u64) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a stored file is shorter than recorded",
                ))
            }
            Ok(n) => filled += n,
            Err(Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `want` bytes of `file` from `at`, on this thread when the page cache has them.
async fn read_chunk(
    file: &Arc<File>,
    shelf: &Arc<Shelf>,
    at: u64,
    want: usize,
    in_place: bool,
) -> io::Result<Bytes> {
    let mut buf = shelf.buffer_for(want);
    let filled = if in_place {
        fill_from_cache(file, at, &mut buf[..want])
    } else {
        0
    };
    if filled < want {
        let file = file.clone();
        buf = tokio::task::spawn_blocking(move || {
            fill_waiting(&file, at, &mut buf[..want], filled).map(|()| buf)
        })
        .await
        .map_err(io::Error::other)??;
    }
    let shelf = shelf.clone();
    Ok(Bytes::from_owner(Chunk {
        buf,
        len: want,
        shelf,
    }))
}

/// `len` bytes of the open `file` from `offset`, in chunks of at most [`READ_CHUNK`]. The first is read
/// before this returns, so a file cut short of its first chunk fails the request rather than its
/// body. `in_place: false` sends every read to a blocking thread (the path a cold cache takes).
pub(super) async fn stream_file(
    shelf: &Arc<Shelf>,
    file: File,
    offset: u64,
    len: u64,
    in_place: bool,
) -> io::Result<ByteStream> {
    let file = Arc::new(file);
    let first = len.min(READ_CHUNK);
    let head = read_chunk(&file, shelf, offset, first as usize, in_place).await?;
    let shelf = shelf.clone();
    let rest =
        futures_util::stream::try_unfold((offset + first, len - first), move |(at, left)| {
            let (file, shelf) = (file.clone(), shelf.clone());
            async move {
                if left == 0 {
                    return Ok(None);
                }
                let want = left.min(READ_CHUNK);
                let chunk = read_chunk(&file, &shelf, at, want as usize, in_place).await?;
                Ok(Some((chunk, (at + want, left - want))))
            }
        });
    let head = futures_util::stream::once(std::future::ready(Ok(head)));
    Ok(Box::pin(head.chain(rest)))
}

#[cfg(test)]
mod tests {
    use super::open as open_path;
    use super::*;
    use std::io::Write;

    fn stored(data: &[u8]) -> tempfile::NamedTempFile {
        let mut stored = tempfile::NamedTempFile::new().unwrap();
        stored.write_all(data).unwrap();
        stored.flush().unwrap();
        stored
    }

    fn open(stored: &tempfile::NamedTempFile) -> File {
        File::open(stored.path()).unwrap()
    }

    async fn collect(mut s: ByteStream) -> io::Result<(Vec<u8>, Vec<usize>)> {
        let (mut out, mut sizes) = (Vec::new(), Vec::new());
        while let Some(chunk) = s.next().await {
            let chunk = chunk?;
            sizes.push(chunk.len());
            out.extend_from_slice(&chunk);
        }
        Ok((out, sizes))
    }

    #[tokio::test]
    async fn in_place_and_handed_off_reads_give_the_same_bytes() {
        let data: Vec<u8> = (0..(READ_CHUNK as usize * 2 + 777))
            .map(|i| (i % 253) as u8)
            .collect();
        let file = stored(&data);
        let shelf = Arc::new(Shelf::default());
        for in_place in [true, false] {
            for (from, len) in [(0, data.len()), (5, 100), (READ_CHUNK as usize - 3, 70_000)] {
                let s = stream_file(&shelf, open(&file), from as u64, len as u64, in_place);
                let (got, sizes) = collect(s.await.unwrap()).await.unwrap();
                assert_eq!(
                    got,
                    data[from..from + len],
                    "in_place {in_place}, from {from}"
                );
                if len == data.len() {
                    assert_eq!(sizes, [READ_CHUNK as usize, READ_CHUNK as usize, 777]);
                }
            }
        }
    }

    #[tokio::test]
    async fn opening_in_place_or_handed_off_finds_the_same_files() {
        let file = stored(b"kept");
        let gone = file.path().with_extension("gone");
        for in_place in [true, false] {
            let mut opened = open_path(file.path().to_path_buf(), in_place)
                .await
                .unwrap();
            let mut text = String::new();
            std::io::Read::read_to_string(&mut opened, &mut text).unwrap();
            assert_eq!(text, "kept");
            let missing = open_path(gone.clone(), in_place).await.unwrap_err();
            assert_eq!(
                missing.kind(),
                io::ErrorKind::NotFound,
                "in_place {in_place}"
            );
        }
    }

    #[test]
    fn a_read_from_the_cache_that_stops_short_is_finished_by_the_waiting_one() {
        let data: Vec<u8> = (0..300_000).map(|i| (i % 241) as u8).collect();
        let file = stored(&data);
        let file = open(&file);
        let mut buf = vec![0; 200_000];
        // Stands in for a cache that held only the start: the waiting read goes on from there.
        let cached = fill_from_cache(&file, 1000, &mut buf[..4096]);
        assert_eq!(cached, 4096);
        fill_waiting(&file, 1000, &mut buf, cached).unwrap();
        assert_eq!(buf, data[1000..201_000]);
        assert_eq!(fill_from_cache(&file, 299_990, &mut buf[..50]), 10);
    }

    #[tokio::test]
    async fn a_file_shorter_than_its_row_fails_in_either_path() {
        let shelf = Arc::new(Shelf::default());
        let short_head = stored(&[7u8; 100_000]);
        let short_tail = stored(&vec![1u8; READ_CHUNK as usize + 10]);
        for in_place in [true, false] {
            let err = match stream_file(&shelf, open(&short_head), 0, 150_000, in_place).await {
                Err(e) => e,
                Ok(_) => panic!("a short first chunk must fail the request"),
            };
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            let s = stream_file(&shelf, open(&short_tail), 0, READ_CHUNK + 500, in_place);
            let failed = collect(s.await.unwrap()).await.unwrap_err();
            assert_eq!(failed.kind(), io::ErrorKind::UnexpectedEof);
        }
    }

    #[tokio::test]
    async fn buffers_go_back_to_the_shelf_and_no_more_are_kept_than_it_holds() {
        let data = vec![9u8; READ_CHUNK as usize];
        let file = stored(&data);
        let shelf = Arc::new(Shelf::default());
        let mut held = Vec::new();
        for _ in 0..SHELF_SIZE + 4 {
            held.push(
                stream_file(&shelf, open(&file), 0, READ_CHUNK, true)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(shelf.kept().len(), 0);
        for s in held {
            assert_eq!(collect(s).await.unwrap().0, data);
        }
        assert_eq!(shelf.kept().len(), SHELF_SIZE);
        let small = stream_file(&shelf, open(&file), 0, 1000, true)
            .await
            .unwrap();
        assert_eq!(collect(small).await.unwrap().0, data[..1000]);
        assert_eq!(
            shelf.kept().len(),
            SHELF_SIZE,
            "a small chunk's buffer is not kept"
        );
        let again = stream_file(&shelf, open(&file), 0, READ_CHUNK, true)
            .await
            .unwrap();
        assert_eq!(
            shelf.kept().len(),
            SHELF_SIZE - 1,
            "a kept buffer is used again"
        );
        drop(again);
        assert_eq!(shelf.kept().len(), SHELF_SIZE);
    }
}
