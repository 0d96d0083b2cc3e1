//! The filesystem blob store: `<root>/blobs/ab/cd/<sha256>`, temporary files in `<root>/tmp`.

use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::fs::{self, File};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{is_sha256_hex, BlobError, BlobInfo, BlobStore, ByteStream, LocalBlob, MultiHasher};

const CHUNK: usize = 256 * 1024;

pub struct FsBlobStore {
    blobs: PathBuf,
    tmp: PathBuf,
    read_only: bool,
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
        })
    }

    /// Opens the store under a root that cannot be written: reads only, nothing created or cleared.
    pub fn open_read_only(root: &Path) -> Self {
        FsBlobStore {
            blobs: root.join("blobs"),
            tmp: root.join("tmp"),
            read_only: true,
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
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        temp: &Path,
    ) -> Result<BlobInfo, BlobError> {
        let mut file = File::create(temp).await?;
        let mut hasher = MultiHasher::default();
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = reader.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            if hasher.size > limit {
                return Err(BlobError::TooLarge(limit));
            }
            file.write_all(&buf[..n]).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(hasher.finish())
    }

    async fn write_and_place(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
        temp: &Path,
    ) -> Result<BlobInfo, BlobError> {
        let info = self.write_temp(reader, limit, temp).await?;
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
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn put(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        limit: u64,
    ) -> Result<BlobInfo, BlobError> {
        if self.read_only {
            return Err(BlobError::ReadOnly);
        }
        let temp = self.tmp.join(crate::domain::new_hex_id());
        let stored = self.write_and_place(reader, limit, &temp).await;
        if stored.is_err() {
            // Whatever step failed (a full disk fails creating a directory as readily as writing), no
            // temporary file outlives the upload.
            let _ = fs::remove_file(&temp).await;
        }
        stored
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
        let mut file = match File::open(self.path_of(sha256)).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(BlobError::Missing(sha256.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        if offset > 0 {
            file.seek(io::SeekFrom::Start(offset)).await?;
        }
        Ok(Box::pin(ReaderStream::with_capacity(file.take(len), CHUNK)))
    }

    async fn delete(&self, sha256: &str) -> Result<(), BlobError> {
        if !is_sha256_hex(sha256) {
            return Ok(());
        }
        match fs::remove_file(self.path_of(sha256)).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
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
