//! `S3BlobStore` against a real S3 server: s3s-fs, started per test by scripts/s3-server.sh (built once
//! and cached). Its data directory is looked at directly to check what a failed or dropped upload leaves.

use std::collections::HashMap;
use std::process::Command;

use bytes::Bytes;

use super::*;

/// A running s3s-fs, killed when dropped.
pub(crate) struct S3Server {
    pub dir: tempfile::TempDir,
    pub endpoint: String,
    pub bucket: String,
    access_key: String,
    secret_key: String,
    pid: u32,
}

impl S3Server {
    pub fn start() -> S3Server {
        let dir = tempfile::tempdir().unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/s3-server.sh");
        let out = Command::new("bash")
            .arg(script)
            .arg("start")
            .arg(dir.path())
            .output()
            .expect("scripts/s3-server.sh runs");
        assert!(
            out.status.success(),
            "scripts/s3-server.sh start failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let vars: HashMap<String, String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| line.strip_prefix("export ")?.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        S3Server {
            dir,
            endpoint: vars["ARCA_TEST_S3_ENDPOINT"].clone(),
            bucket: vars["ARCA_TEST_S3_BUCKET"].clone(),
            access_key: vars["AWS_ACCESS_KEY_ID"].clone(),
            secret_key: vars["AWS_SECRET_ACCESS_KEY"].clone(),
            pid: vars["ARCA_TEST_S3_PID"].parse().unwrap(),
        }
    }

    pub fn settings(&self, prefix: &str) -> S3Settings {
        S3Settings {
            bucket: self.bucket.clone(),
            prefix: prefix.to_string(),
            endpoint: self.endpoint.clone(),
            region: "us-east-1".into(),
            path_style: true,
            access_key_id: self.access_key.clone(),
            secret_access_key: self.secret_key.clone(),
        }
    }

    pub fn store(&self, prefix: &str) -> S3BlobStore {
        S3BlobStore::open(&self.settings(prefix), self.dir.path().join("spool"), false).unwrap()
    }

    pub fn stop(&self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
        // Wait until the port is closed, so that what follows sees a store that is down.
        for _ in 0..100 {
            if !std::path::Path::new(&format!("/proc/{}", self.pid)).exists() {
                return;
            }
            let stat =
                std::fs::read_to_string(format!("/proc/{}/stat", self.pid)).unwrap_or_default();
            if stat.contains(") Z ") {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Files s3s-fs keeps for multipart uploads in progress (`.upload-<id>.json`, `.upload_id-…`).
    fn uploads_in_progress(&self) -> Vec<String> {
        std::fs::read_dir(self.dir.path().join("data"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|name| name.starts_with(".upload"))
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn collect(mut s: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

async fn temporary_objects(store: &S3BlobStore) -> Vec<Path> {
    store
        .store
        .list(Some(&store.temporary_area()))
        .map_ok(|o| o.location)
        .try_collect()
        .await
        .unwrap()
}

/// Background clean-up (an aborted upload) is awaited by polling, never assumed.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 5 s");
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

const PART: usize = 5 * 1024 * 1024;

#[tokio::test]
async fn put_read_ranges_dedup_and_delete() {
    let server = S3Server::start();
    let store = server.store("team/arca");
    let data = b"hello, blob store".to_vec();
    let info = store.put(&mut data.as_slice(), 1 << 20).await.unwrap();
    assert_eq!(info, BlobInfo::of(&data));
    let on_disk = server
        .dir
        .path()
        .join("data")
        .join(&server.bucket)
        .join("team/arca/blobs")
        .join(&info.sha256[0..2])
        .join(&info.sha256[2..4])
        .join(&info.sha256);
    assert_eq!(
        std::fs::read(&on_disk).unwrap(),
        data,
        "content-addressed key"
    );

    assert_eq!(
        collect(store.read(&info.sha256, 0, info.size).await.unwrap()).await,
        data
    );
    assert_eq!(
        collect(store.read(&info.sha256, 7, 4).await.unwrap()).await,
        b"blob"
    );
    assert!(collect(store.read(&info.sha256, 3, 0).await.unwrap())
        .await
        .is_empty());

    // An existing blob is not written again: bytes planted at its key survive a second upload.
    let key = store.blob_path(&info.sha256);
    store
        .store
        .put(&key, Bytes::from_static(b"planted").into())
        .await
        .unwrap();
    assert_eq!(
        store.put(&mut data.as_slice(), 1 << 20).await.unwrap(),
        info
    );
    assert_eq!(std::fs::read(&on_disk).unwrap(), b"planted");
    store
        .store
        .put(&key, Bytes::from(data.clone()).into())
        .await
        .unwrap();

    // The empty blob.
    let empty = store.put(&mut &b""[..], 1 << 20).await.unwrap();
    assert_eq!(empty.size, 0);
    assert!(collect(store.read(&empty.sha256, 0, 0).await.unwrap())
        .await
        .is_empty());

    store.delete(&info.sha256).await.unwrap();
    for (offset, len) in [(0, 1), (0, 0)] {
        assert!(matches!(
            store.read(&info.sha256, offset, len).await,
            Err(BlobError::Missing(_))
        ));
    }
    store.delete(&info.sha256).await.unwrap();
    assert!(matches!(
        store.read("not-a-digest", 0, 1).await,
        Err(BlobError::Missing(_))
    ));
}

#[tokio::test]
async fn listing_by_prefix_skips_keys_that_are_not_blobs() {
    let server = S3Server::start();
    let store = server.store("");
    let other_installation = server.store("elsewhere");
    let info = store.put(&mut &b"listed"[..], 1 << 20).await.unwrap();
    let theirs = other_installation
        .put(&mut &b"listed"[..], 1 << 20)
        .await
        .unwrap();
    assert_eq!(theirs, info);
    let prefix = &info.sha256[..2];
    let slice = format!("blobs/{prefix}/{}", &info.sha256[2..4]);
    for stranger in [
        format!("{slice}/notes.txt"),
        format!("blobs/{prefix}/zz/{}", info.sha256),
    ] {
        store
            .store
            .put(&Path::from(stranger), Bytes::from_static(b"x").into())
            .await
            .unwrap();
    }
    let listed = store.list(prefix).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(
        (listed[0].sha256.as_str(), listed[0].size),
        (info.sha256.as_str(), 6)
    );
    let age = SystemTime::now()
        .duration_since(listed[0].written)
        .unwrap_or_default();
    assert!(
        age < Duration::from_secs(600),
        "written-at is the upload's time"
    );
    let other = if prefix == "00" { "01" } else { "00" };
    assert!(store.list(other).await.unwrap().is_empty());
    assert!(store.list("../").await.unwrap().is_empty());
    // The prefix keeps installations apart: deleting one's blob leaves the other's.
    other_installation.delete(&info.sha256).await.unwrap();
    assert_eq!(store.list(prefix).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_sweep_lists_in_batches_of_a_page() {
    let server = S3Server::start();
    let store = server.store("b").with_page(3);
    let mut stored = Vec::new();
    for i in 0..7u8 {
        stored.push(store.put(&mut &[i][..], 1 << 20).await.unwrap().sha256);
    }
    // Keys that are not blobs take places in a page but are never listed as blobs.
    store
        .store
        .put(
            &Path::from("b/blobs/zz/notes.txt"),
            Bytes::from_static(b"x").into(),
        )
        .await
        .unwrap();
    let (mut listed, mut cursor, mut batches) = (Vec::new(), None, 0);
    loop {
        let (batch, next) = store.list_batch(cursor).await.unwrap();
        assert!(batch.len() <= 3);
        listed.extend(batch.into_iter().map(|b| b.sha256));
        batches += 1;
        match next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    stored.sort();
    assert_eq!(listed, stored, "every blob once, in key order");
    assert!(batches >= 3, "{batches}");
}

#[tokio::test]
async fn large_uploads_go_in_parts_and_are_copied_into_place() {
    let server = S3Server::start();
    // Copies above 6 MiB take the path of blobs beyond CopyObject's 5 GiB.
    let store = server.store("p").with_sizes(PART, 6 * 1024 * 1024);
    for (len, seed) in [(2 * PART + 12345, 1u8), (PART + 1, 2), (PART, 3)] {
        let data = pattern(len, seed);
        let info = store.put(&mut data.as_slice(), 1 << 30).await.unwrap();
        assert_eq!(info, BlobInfo::of(&data), "{len}");
        assert_eq!(
            collect(store.read(&info.sha256, 0, info.size).await.unwrap()).await,
            data
        );
        let (start, end) = (PART as u64 - 10, PART as u64 + 10);
        if info.size > end {
            assert_eq!(
                collect(store.read(&info.sha256, start, end - start).await.unwrap()).await,
                data[start as usize..end as usize],
                "a range across a part boundary"
            );
        }
        // The same content again: deduplicated, its temporary object gone too.
        assert_eq!(
            store.put(&mut data.as_slice(), 1 << 30).await.unwrap(),
            info
        );
        assert!(temporary_objects(&store).await.is_empty(), "{len}");
    }
    eventually("every multipart upload completed", || {
        server.uploads_in_progress().is_empty()
    })
    .await;
}

#[tokio::test]
async fn the_limit_is_enforced_while_streaming_and_leaves_nothing() {
    let server = S3Server::start();
    let store = server.store("").with_sizes(PART, COPY_LIMIT);
    for len in [1000, 3 * PART] {
        let data = pattern(len, 9);
        let limit = len as u64 - 1;
        assert!(matches!(
            store.put(&mut data.as_slice(), limit).await,
            Err(BlobError::TooLarge(l)) if l == limit
        ));
        assert!(temporary_objects(&store).await.is_empty());
        assert!(matches!(
            store.read(&BlobInfo::of(&data).sha256, 0, 1).await,
            Err(BlobError::Missing(_))
        ));
    }
    eventually("the refused multipart upload aborted", || {
        server.uploads_in_progress().is_empty()
    })
    .await;
}

#[tokio::test]
async fn an_upload_dropped_half_way_aborts_its_parts() {
    let server = S3Server::start();
    let store = server.store("").with_sizes(PART, COPY_LIMIT);
    // A client that sends two parts' worth and then stalls.
    let (mut client, mut body) = tokio::io::duplex(64 * 1024);
    let sender = tokio::spawn(async move {
        let chunk = pattern(64 * 1024, 4);
        for _ in 0..(2 * PART / chunk.len() + 1) {
            client.write_all(&chunk).await.unwrap();
        }
        client
    });
    let upload = store.put(&mut body, 1 << 30);
    assert!(tokio::time::timeout(Duration::from_secs(3), upload)
        .await
        .is_err());
    let _client = sender.await.unwrap();
    eventually("the dropped multipart upload aborted", || {
        server.uploads_in_progress().is_empty()
    })
    .await;
    assert!(temporary_objects(&store).await.is_empty());
}

#[tokio::test]
async fn local_copies_and_stale_temporary_objects_are_removed() {
    let server = S3Server::start();
    let store = server.store("");
    let data = pattern(300_000, 5);
    let info = store.put(&mut data.as_slice(), 1 << 20).await.unwrap();
    let copy = store.local_copy(&info.sha256).await.unwrap();
    assert_eq!(std::fs::read(copy.path()).unwrap(), data);
    let path = copy.path().to_path_buf();
    drop(copy);
    assert!(!path.exists(), "the local copy is removed when dropped");
    assert!(matches!(
        store.local_copy(&"0".repeat(64)).await,
        Err(BlobError::Missing(_))
    ));

    // What a crash left between a multipart upload and its copy.
    let left = store.temporary_area().join("left-by-a-crash");
    store
        .store
        .put(&left, Bytes::from_static(b"half").into())
        .await
        .unwrap();
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    assert_eq!(
        store.clear_temporary(an_hour_ago).await.unwrap(),
        0,
        "young: kept"
    );
    assert_eq!(temporary_objects(&store).await.len(), 1);
    let soon = SystemTime::now() + Duration::from_secs(5);
    assert_eq!(store.clear_temporary(soon).await.unwrap(), 1);
    assert!(temporary_objects(&store).await.is_empty());
    assert_eq!(
        store.list(&info.sha256[..2]).await.unwrap().len(),
        1,
        "blobs are not temporary"
    );
}

#[tokio::test]
async fn failures_are_named_for_the_operator() {
    let server = S3Server::start();
    let store = server.store("");
    store.check().await.unwrap();
    let info = store.put(&mut &b"kept"[..], 1 << 20).await.unwrap();

    let mut wrong_key = server.settings("");
    wrong_key.secret_access_key = "not-the-secret".into();
    let refused = S3BlobStore::open(&wrong_key, server.dir.path().join("s2"), false).unwrap();
    let answer = refused.check().await;
    assert!(
        matches!(answer, Err(BlobError::Unavailable(Unavailable::Refused, _))),
        "{answer:?}"
    );
    assert!(matches!(
        refused.put(&mut &b"x"[..], 1 << 20).await,
        Err(BlobError::Unavailable(Unavailable::Refused, _))
    ));

    let mut no_bucket = server.settings("");
    no_bucket.bucket = "no-such-bucket".into();
    let missing = S3BlobStore::open(&no_bucket, server.dir.path().join("s3"), false).unwrap();
    let answer = missing.check().await;
    assert!(
        matches!(
            answer,
            Err(BlobError::Unavailable(Unavailable::NoBucket, _))
        ),
        "{answer:?}"
    );

    server.stop();
    let started = std::time::Instant::now();
    assert!(matches!(
        store.check().await,
        Err(BlobError::Unavailable(Unavailable::Unreachable, _))
    ));
    assert!(matches!(
        store.put(&mut &b"new bytes"[..], 1 << 20).await,
        Err(BlobError::Unavailable(Unavailable::Unreachable, _))
    ));
    assert!(matches!(
        store.read(&info.sha256, 0, 4).await,
        Err(BlobError::Unavailable(Unavailable::Unreachable, _))
    ));
    assert!(matches!(
        store.delete(&info.sha256).await,
        Err(BlobError::Unavailable(Unavailable::Unreachable, _))
    ));
    // A bound, not a speed claim: the retries give up rather than hang a request for minutes.
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_read_the_store_cuts_short_is_a_store_failure_not_a_500() {
    let server = S3Server::start();
    let store = server.store("").with_sizes(PART, COPY_LIMIT);
    // Far more than the loopback socket buffers hold, so most of it is still to come when the store stops.
    let data = pattern(48 * 1024 * 1024, 7);
    let info = store.put(&mut data.as_slice(), 1 << 30).await.unwrap();
    let mut stream = store.read(&info.sha256, 0, info.size).await.unwrap();
    let mut received = stream.next().await.unwrap().unwrap().len();
    server.stop();
    let failure = loop {
        match stream.next().await {
            Some(Ok(chunk)) => received += chunk.len(),
            Some(Err(e)) => break e,
            None => panic!("the whole blob arrived ({received} bytes) although the store stopped"),
        }
    };
    assert!((received as u64) < info.size);
    let answer = crate::http::error::ApiError::from(BlobError::Io(failure));
    assert!(
        matches!(
            answer,
            crate::http::error::ApiError::BlobStoreUnavailable(Unavailable::Unreachable)
        ),
        "{answer:?}"
    );
}
