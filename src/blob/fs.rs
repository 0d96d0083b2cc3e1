//! The filesystem blob store: `<root>/blobs/ab/cd/<sha256>`, temporary files in `<root>/tmp`.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::fs::{self, File};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::low_priority;

use super::{
    is_sha256_hex, BlobError, BlobInfo, BlobStore, ByteStream, ListedBlob, LocalBlob, PlaceGate,
    StreamHasher,
};

const CHUNK: usize = 256 * 1024;

/// Bodies of at most this many bytes are read whole before anything touches the disk: hashed in memory,
/// then written, synced and moved into place in one blocking call (the streamed path takes a blocking
/// hand-off per step, about ten per upload), and not written at all when the content is stored already.
const SMALL: usize = 64 * 1024;

/// A temporary file, removed when dropped unless it was moved into place: an upload whose future is
/// dropped half-way (its connection went, the server is stopping) leaves nothing in `tmp/`.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

mod read;

pub struct FsBlobStore {
    blobs: PathBuf,
    tmp: PathBuf,
    read_only: bool,
    shelf: std::sync::Arc<read::Shelf>,
}

impl FsBlobStore {
    /// Opens the store under `root`, clearing temporary files a crash may have left.
    pub fn open(root: &Path) -> io::Result<Self> {
        let blobs = root.join("blobs");
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&blobs)?;
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir_all(&tmp)?;
        Ok(FsBlobStore {
            blobs,
            tmp,
            read_only: false,
            shelf: Default::default(),
        })
    }

    /// Opens the store under a root that cannot be written: reads only, nothing created or cleared.
    pub fn open_read_only(root: &Path) -> Self {
        FsBlobStore {
            blobs: root.join("blobs"),
            tmp: root.join("tmp"),
            read_only: true,
            shelf: Default::default(),
        }
    }

    fn path_of(&self, sha256: &str) -> PathBuf {
        self.blobs
            .join(&sha256[0..2])
            .join(&sha256[2..4])
            .join(sha256)
    }

    async fn write_temp(
        &self,
        head: bytes::Bytes,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        temp: &Path,
    ) -> Result<BlobInfo, BlobError> {
        let mut file = File::create(temp).await?;
        let mut hasher = StreamHasher::default();
        hasher.update(head.clone()).await;
        file.write_all(&head).await?;
        let mut buf = bytes::BytesMut::new();
        loop {
            buf.reserve(CHUNK);
            let n = reader.read_buf(&mut buf).await?;
            if n == 0 {
                break;
            }
            let chunk = buf.split().freeze();
            if hasher.size() + n as u64 > limit {
                return Err(BlobError::TooLarge(limit));
            }
            // The digests run on their threads while this one writes.
            hasher.update(chunk.clone()).await;
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(hasher.finish().await)
    }

    async fn write_and_place(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        temp: &Path,
        gate: &dyn PlaceGate,
    ) -> Result<BlobInfo, BlobError> {
        let mut head = bytes::BytesMut::with_capacity(SMALL + 1);
        let whole = loop {
            if reader.read_buf(&mut head).await? == 0 {
                break true;
            }
            if head.len() as u64 > limit {
                return Err(BlobError::TooLarge(limit));
            }
            if head.len() > SMALL {
                break false;
            }
        };
        let head = head.freeze();
        if whole {
            return self.place_small(head, temp, gate).await;
        }
        let info = self.write_temp(head, reader, limit, temp).await?;
        gate.before_place(&info).await?;
        let target = self.path_of(&info.sha256);
        if fs::try_exists(&target).await? {
            // Identical content is stored once.
            fs::remove_file(temp).await?;
        } else {
            let dir = target.parent().expect("blob paths have parents");
            fs::create_dir_all(dir).await?;
            fs::rename(temp, &target).await?;
            File::open(dir).await?.sync_all().await?;
        }
        Ok(info)
    }

    async fn place_small(
        &self,
        bytes: bytes::Bytes,
        temp: &Path,
        gate: &dyn PlaceGate,
    ) -> Result<BlobInfo, BlobError> {
        let hashed = bytes.clone();
        let info = low_priority::run(move || BlobInfo::of(&hashed))
            .await
            .map_err(io::Error::other)?;
        gate.before_place(&info).await?;
        let (temp, target) = (temp.to_path_buf(), self.path_of(&info.sha256));
        low_priority::run(move || write_small(&bytes, &temp, &target))
            .await
            .map_err(io::Error::other)??;
        Ok(info)
    }
}

/// Writes `bytes` to `temp`, syncs it and renames it to `target` (and syncs the directory), unless
/// `target` holds them already (identical content is stored once). A failed write removes `temp` itself:
/// the upload's own guard may have run already (its future dropped while this call was on its thread).
fn write_small(bytes: &[u8], temp: &Path, target: &Path) -> io::Result<()> {
    use std::io::Write;
    if target.try_exists()? {
        return Ok(());
    }
    let written = std::fs::File::create(temp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    let placed = written.and_then(|()| {
        let dir = target.parent().expect("blob paths have parents");
        std::fs::create_dir_all(dir)?;
        std::fs::rename(temp, target)?;
        Ok(dir)
    });
    match placed {
        Ok(dir) => std::fs::File::open(dir)?.sync_all(),
        Err(e) => {
            let _ = std::fs::remove_file(temp);
            Err(e)
        }
    }
}

/// The blobs under `blobs/ab/`: only files named as `put` names them (anything else there is not ours).
fn list_slice(top: &Path) -> io::Result<Vec<ListedBlob>> {
    let mut listed = Vec::new();
    let dirs = match std::fs::read_dir(top) {
        Ok(dirs) => dirs,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(listed),
        Err(e) => return Err(e),
    };
    for dir in dirs {
        let dir = dir?;
        if !dir.file_type()?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(dir.path())? {
            let file = file?;
            let Some(name) = file.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if !is_sha256_hex(&name)
                || !top.ends_with(&name[..2])
                || file.path() != top.join(&name[2..4]).join(&name)
            {
                continue;
            }
            let meta = match file.metadata() {
                Ok(meta) if meta.is_file() => meta,
                Ok(_) => continue,
                // Reclaimed while we looked.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            listed.push(ListedBlob {
                sha256: name,
                size: meta.len(),
                written: meta.modified()?,
            });
        }
    }
    Ok(listed)
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put_gated(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        gate: &dyn PlaceGate,
    ) -> Result<BlobInfo, BlobError> {
        if self.read_only {
            return Err(BlobError::ReadOnly);
        }
        // Whatever step fails (a full disk fails creating a directory as readily as writing), and if the
        // upload's future is dropped half-way, the guard removes the temporary file.
        let mut temp = TempFile {
            path: self.tmp.join(crate::domain::new_hex_id()),
            keep: false,
        };
        let info = self
            .write_and_place(reader, limit, &temp.path, gate)
            .await?;
        // Renamed into place or already removed as a duplicate: nothing left to clean up.
        temp.keep = true;
        Ok(info)
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ListedBlob>, BlobError> {
        if prefix.len() != 2 || !is_sha256_hex(&format!("{prefix:0<64}")) {
            return Ok(Vec::new());
        }
        // One blocking task per slice rather than one per directory entry.
        let top = self.blobs.join(prefix);
        let listed = tokio::task::spawn_blocking(move || list_slice(&top))
            .await
            .map_err(io::Error::other)??;
        Ok(listed)
    }

    async fn local_copy(&self, sha256: &str) -> Result<LocalBlob, BlobError> {
        if !is_sha256_hex(sha256) {
            return Err(BlobError::Missing(sha256.to_string()));
        }
        let path = self.path_of(sha256);
        if !fs::try_exists(&path).await? {
            return Err(BlobError::Missing(sha256.to_string()));
        }
        Ok(LocalBlob::in_place(path))
    }

    async fn read(&self, sha256: &str, offset: u64, len: u64) -> Result<ByteStream, BlobError> {
        if !is_sha256_hex(sha256) {
            return Err(BlobError::Missing(sha256.to_string()));
        }
        let path = self.path_of(sha256);
        let file = match read::open(path, true).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::Missing(sha256.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        Ok(read::stream_file(&self.shelf, file, offset, len, true).await?)
    }

    async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        if !is_sha256_hex(sha256) {
            return Ok(());
        }
        // Deleting, like creating, is mostly the kernel's work: it yields to reads too.
        let path = self.path_of(sha256);
        match low_priority::run(move || std::fs::remove_file(path))
            .await
            .map_err(io::Error::other)?
        {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::read::READ_CHUNK;
    use super::*;
    use futures_util::StreamExt;

    async fn collect(mut s: ByteStream) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(chunk) = s.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn put_read_range_dedupe_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let data = b"hello, blob store".to_vec();
        let info = store.put(&mut data.as_slice(), 1 << 20).await.unwrap();
        assert_eq!(info.size, data.len() as u64);
        let again = store.put(&mut data.as_slice(), 1 << 20).await.unwrap();
        assert_eq!(again, info);
        assert_eq!(
            collect(store.read(&info.sha256, 0, info.size).await.unwrap()).await,
            data
        );
        assert_eq!(
            collect(store.read(&info.sha256, 7, 4).await.unwrap()).await,
            b"blob"
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        store.delete(&info.sha256).await.unwrap();
        assert!(matches!(
            store.read(&info.sha256, 0, 1).await,
            Err(BlobError::Missing(_))
        ));
        store.delete(&info.sha256).await.unwrap();
    }

    #[tokio::test]
    async fn reads_cross_chunks_and_a_short_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let data: Vec<u8> = (0..(2 * READ_CHUNK + 12_345))
            .map(|i| (i % 251) as u8)
            .collect();
        let info = store.put(&mut data.as_slice(), 1 << 30).await.unwrap();
        let mut whole = store.read(&info.sha256, 0, info.size).await.unwrap();
        let mut sizes = Vec::new();
        let mut got = Vec::new();
        while let Some(chunk) = whole.next().await {
            let chunk = chunk.unwrap();
            sizes.push(chunk.len() as u64);
            got.extend_from_slice(&chunk);
        }
        assert_eq!(got, data);
        assert_eq!(sizes, [READ_CHUNK, READ_CHUNK, 12_345]);
        let (from, len) = (READ_CHUNK - 7, READ_CHUNK + 20);
        assert_eq!(
            collect(store.read(&info.sha256, from, len).await.unwrap()).await,
            data[from as usize..(from + len) as usize]
        );

        // A blob cut short under the store (a damaged disk, a hand edit): the stream fails rather than
        // ending early as if the file were whole.
        let path = store.path_of(&info.sha256);
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(READ_CHUNK + 10)
            .unwrap();
        let mut cut = store.read(&info.sha256, 0, info.size).await.unwrap();
        assert_eq!(cut.next().await.unwrap().unwrap().len() as u64, READ_CHUNK);
        let failed = cut.next().await.unwrap().unwrap_err();
        assert_eq!(failed.kind(), io::ErrorKind::UnexpectedEof);
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            store.read(&info.sha256, 0, 1).await,
            Err(BlobError::Missing(_))
        ));
    }

    #[tokio::test]
    async fn listing_by_prefix_and_leftover_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tmp")).unwrap();
        std::fs::write(dir.path().join("tmp").join("left-by-a-crash"), b"half").unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0,
            "opening the store empties tmp/"
        );
        let info = store.put(&mut b"listed".as_slice(), 1 << 20).await.unwrap();
        let prefix = &info.sha256[..2];
        // A stranger's file beside it is never listed (so never deleted).
        let stranger = store.path_of(&info.sha256).with_file_name("notes.txt");
        std::fs::write(&stranger, b"x").unwrap();
        // Nor is a blob-named file in the wrong place.
        let misplaced = dir.path().join("blobs").join(prefix).join("zz");
        std::fs::create_dir_all(&misplaced).unwrap();
        std::fs::write(misplaced.join(&info.sha256), b"listed").unwrap();
        let listed = store.list(prefix).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].sha256.as_str(), listed[0].size),
            (info.sha256.as_str(), 6)
        );
        let other = if prefix == "00" { "01" } else { "00" };
        assert!(store.list(other).await.unwrap().is_empty());
        assert!(store.list("../").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_upload_dropped_half_way_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        // A reader that yields some bytes and then never finishes, like a stalled client.
        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(b"some bytes").await.unwrap();
        let upload = store.put(&mut server, 1 << 20);
        let timed_out = tokio::time::timeout(std::time::Duration::from_millis(100), upload).await;
        assert!(timed_out.is_err());
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        drop(client);
    }

    #[test]
    fn a_small_write_that_cannot_be_placed_removes_its_temporary_file() {
        // The upload's guard cannot be relied on here: its future may be gone by the time this runs.
        let dir = tempfile::tempdir().unwrap();
        // The blob's directory cannot be made: its name is taken by a link to nowhere.
        std::os::unix::fs::symlink(dir.path().join("nowhere"), dir.path().join("ab")).unwrap();
        let temp = dir.path().join("temp");
        let target = dir.path().join("ab").join("blob");
        assert!(write_small(b"bytes", &temp, &target).is_err());
        assert!(!temp.exists());
    }

    #[tokio::test]
    async fn oversize_uploads_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let data = vec![7u8; 1000];
        assert!(matches!(
            store.put(&mut data.as_slice(), 999).await,
            Err(BlobError::TooLarge(999))
        ));
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }
}
