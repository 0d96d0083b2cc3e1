//! Container images: manifests, what they reference, tags and subjects (`oci_*` tables), upload
//! sessions and their chunks, and the registry token key. A manifest or blob exists while its file
//! (`<image>/manifests/<digest>`, `<image>/blobs/<digest>`) is live.

use crate::params;
use crate::store::Conn;

use super::StoreResult;

pub fn blob_path(image: &str, digest: &str) -> String {
    format!("{image}/blobs/{digest}")
}

pub fn manifest_path(image: &str, digest: &str) -> String {
    format!("{image}/manifests/{digest}")
}

/// A stored manifest, as the referrers API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRow {
    pub digest: String,
    pub media_type: String,
    pub size: i64,
    pub artifact_type: Option<String>,
    pub annotations: Option<String>,
}

pub struct NewManifest<'a> {
    pub digest: &'a str,
    pub media_type: &'a str,
    pub size: i64,
    pub artifact_type: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub annotations: Option<&'a str>,
    pub targets: &'a [String],
    pub now: i64,
}

/// Records a manifest and what it references (the same digest twice is the same document).
pub fn put_manifest(tx: &Conn, repo_id: &str, image: &str, m: &NewManifest<'_>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO oci_manifests (repo_id, image, digest, media_type, size, artifact_type, subject, annotations, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT DO NOTHING",
        params![repo_id, image, m.digest, m.media_type, m.size, m.artifact_type, m.subject, m.annotations, m.now],
    )?;
    for target in m.targets {
        tx.execute(
            "INSERT INTO oci_manifest_refs (repo_id, image, manifest, target) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            params![repo_id, image, m.digest, target],
        )?;
    }
    Ok(())
}

pub fn set_tag(
    tx: &Conn,
    repo_id: &str,
    image: &str,
    tag: &str,
    digest: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO oci_tags (repo_id, image, tag, digest, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (repo_id, image, tag) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
        params![repo_id, image, tag, digest, now],
    )?;
    Ok(())
}

/// The digest a tag points at, while that manifest is live.
pub fn tag_digest(
    conn: &Conn,
    repo_id: &str,
    image: &str,
    tag: &str,
) -> StoreResult<Option<String>> {
    conn.query_opt(
        "SELECT t.digest FROM oci_tags t JOIN files f ON f.repo_id = t.repo_id \
         AND f.path = t.image || '/manifests/' || t.digest AND f.deleted_at IS NULL \
         WHERE t.repo_id = ?1 AND t.image = ?2 AND t.tag = ?3",
        params![repo_id, image, tag],
        |r| r.get(0),
    )
}

pub fn delete_tag(conn: &Conn, repo_id: &str, image: &str, tag: &str) -> StoreResult<bool> {
    Ok(conn.execute(
        "DELETE FROM oci_tags WHERE repo_id = ?1 AND image = ?2 AND tag = ?3",
        params![repo_id, image, tag],
    )? > 0)
}

/// Forgets a manifest deleted for good: its tags, its row and what it referenced.
pub fn forget_manifest(conn: &Conn, repo_id: &str, image: &str, digest: &str) -> StoreResult<()> {
    for table in ["oci_tags", "oci_manifests"] {
        conn.execute(
            &format!("DELETE FROM {table} WHERE repo_id = ?1 AND image = ?2 AND digest = ?3"),
            params![repo_id, image, digest],
        )?;
    }
    conn.execute(
        "DELETE FROM oci_manifest_refs WHERE repo_id = ?1 AND image = ?2 AND manifest = ?3",
        params![repo_id, image, digest],
    )?;
    Ok(())
}

/// The tags of an image whose manifests are live.
pub fn tags(conn: &Conn, repo_id: &str, image: &str) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT t.tag FROM oci_tags t JOIN files f ON f.repo_id = t.repo_id \
         AND f.path = t.image || '/manifests/' || t.digest AND f.deleted_at IS NULL \
         WHERE t.repo_id = ?1 AND t.image = ?2",
        params![repo_id, image],
        |r| r.get(0),
    )
}

/// Whether an image has anything live (a manifest or a blob), i.e. whether its name is known.
pub fn image_exists(conn: &Conn, repo_id: &str, image: &str) -> StoreResult<bool> {
    let prefix = format!("{image}/");
    let upper = format!("{prefix}\u{10FFFF}");
    Ok(conn
        .query_opt(
            "SELECT 1 FROM files WHERE repo_id = ?1 AND path >= ?2 AND path < ?3 AND deleted_at IS NULL LIMIT 1",
            params![repo_id, prefix.as_str(), upper.as_str()],
            |_| Ok(()),
        )?
        .is_some())
}

/// Live manifests of an image whose `subject` is `digest`.
pub fn referrers(
    conn: &Conn,
    repo_id: &str,
    image: &str,
    digest: &str,
) -> StoreResult<Vec<ManifestRow>> {
    conn.query_map(
        "SELECT m.digest, m.media_type, m.size, m.artifact_type, m.annotations FROM oci_manifests m \
         JOIN files f ON f.repo_id = m.repo_id AND f.path = m.image || '/manifests/' || m.digest AND f.deleted_at IS NULL \
         WHERE m.repo_id = ?1 AND m.image = ?2 AND m.subject = ?3 ORDER BY m.digest",
        params![repo_id, image, digest],
        |r| {
            Ok(ManifestRow {
                digest: r.get(0)?,
                media_type: r.get(1)?,
                size: r.get(2)?,
                artifact_type: r.get(3)?,
                annotations: r.get(4)?,
            })
        },
    )
}

// ---- upload sessions -------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: String,
    pub repo_id: String,
    pub image: String,
    pub size: i64,
    pub created_by: String,
}

pub fn create_upload(conn: &Conn, u: &Upload, now: i64) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO oci_uploads (id, repo_id, image, size, created_by, created_at, updated_at) VALUES (?1, ?2, ?3, 0, ?4, ?5, ?5)",
        params![u.id, u.repo_id, u.image, u.created_by, now],
    )?;
    Ok(())
}

pub fn upload(conn: &Conn, id: &str) -> StoreResult<Option<Upload>> {
    conn.query_opt(
        "SELECT id, repo_id, image, size, created_by FROM oci_uploads WHERE id = ?1",
        params![id],
        |r| {
            Ok(Upload {
                id: r.get(0)?,
                repo_id: r.get(1)?,
                image: r.get(2)?,
                size: r.get(3)?,
                created_by: r.get(4)?,
            })
        },
    )
}

/// Appends a chunk stored as blob `sha256` if the session is still at `offset` (the chunk's start):
/// answers false when another request moved it meanwhile, or the session is gone.
pub fn append_chunk(
    tx: &Conn,
    id: &str,
    offset: i64,
    sha256: &str,
    size: i64,
    now: i64,
) -> StoreResult<bool> {
    let moved = tx.execute(
        "UPDATE oci_uploads SET size = size + ?3, updated_at = ?4 WHERE id = ?1 AND size = ?2",
        params![id, offset, size, now],
    )?;
    if moved == 0 {
        return Ok(false);
    }
    let seq: i64 = tx.query_row(
        "SELECT count(*) FROM oci_upload_chunks WHERE upload_id = ?1",
        params![id],
        |r| r.get(0),
    )?;
    tx.execute(
        "INSERT INTO oci_upload_chunks (upload_id, seq, sha256, size) VALUES (?1, ?2, ?3, ?4)",
        params![id, seq, sha256, size],
    )?;
    Ok(true)
}

/// A session's chunks in order: `(sha256, size)`.
pub fn chunks(conn: &Conn, id: &str) -> StoreResult<Vec<(String, i64)>> {
    conn.query_map(
        "SELECT sha256, size FROM oci_upload_chunks WHERE upload_id = ?1 ORDER BY seq",
        params![id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Ends a session; answers its chunks' blobs, which may now be garbage.
pub fn delete_upload(conn: &Conn, id: &str) -> StoreResult<Vec<String>> {
    let shas = conn.query_map(
        "SELECT sha256 FROM oci_upload_chunks WHERE upload_id = ?1",
        params![id],
        |r| r.get(0),
    )?;
    conn.execute(
        "DELETE FROM oci_upload_chunks WHERE upload_id = ?1",
        params![id],
    )?;
    conn.execute("DELETE FROM oci_uploads WHERE id = ?1", params![id])?;
    Ok(shas)
}

/// Sessions untouched since `before`.
pub fn stale_uploads(conn: &Conn, before: i64) -> StoreResult<Vec<String>> {
    conn.query_map(
        "SELECT id FROM oci_uploads WHERE updated_at < ?1",
        params![before],
        |r| r.get(0),
    )
}

// ---- collection ------------------------------------------------------------------------------

/// Drops manifest rows (and their tags and references) whose file is gone for good (purged from the
/// recycle bin, or by a deletion through the management API).
pub fn forget_purged_manifests(conn: &Conn) -> StoreResult<usize> {
    let gone: Vec<(String, String, String)> = conn.query_map(
        "SELECT m.repo_id, m.image, m.digest FROM oci_manifests m WHERE NOT EXISTS \
         (SELECT 1 FROM files f WHERE f.repo_id = m.repo_id AND f.path = m.image || '/manifests/' || m.digest)",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    for (repo_id, image, digest) in &gone {
        forget_manifest(conn, repo_id, image, digest)?;
    }
    Ok(gone.len())
}

/// Live blob files of hosted `docker2` repositories last written before `before` that no manifest of
/// their image references (a manifest in the recycle bin still does): `(file id, repo id, path)`. A
/// remote repository's blobs are copies kept for good, whatever manifests it happens to hold.
pub fn unreferenced_blob_files(
    conn: &Conn,
    before: i64,
) -> StoreResult<Vec<(i64, String, String)>> {
    let candidates: Vec<(i64, String, String)> = conn.query_map(
        "SELECT f.id, f.repo_id, f.path FROM files f JOIN repositories r ON r.id = f.repo_id \
         WHERE r.format = 'docker2' AND r.repo_type = 'hosted' AND f.deleted_at IS NULL AND f.modified_at < ?1 \
         AND f.path LIKE '%/blobs/sha%'",
        params![before],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut garbage = Vec::new();
    for (id, repo_id, path) in candidates {
        let Some((image, digest)) = path.rsplit_once("/blobs/") else {
            continue;
        };
        let referenced = conn
            .query_opt(
                "SELECT 1 FROM oci_manifest_refs x JOIN files f ON f.repo_id = x.repo_id \
                 AND f.path = x.image || '/manifests/' || x.manifest \
                 WHERE x.repo_id = ?1 AND x.image = ?2 AND x.target = ?3 LIMIT 1",
                params![repo_id.as_str(), image, digest],
                |_| Ok(()),
            )?
            .is_some();
        if !referenced {
            garbage.push((id, repo_id, path));
        }
    }
    Ok(garbage)
}

/// The registry token key (hex), made once by whichever node asks first.
pub fn token_key(conn: &Conn, fresh: &str, now: i64) -> StoreResult<String> {
    conn.execute(
        "INSERT INTO oci_token_keys (id, key_hex, created_at) VALUES (1, ?1, ?2) ON CONFLICT DO NOTHING",
        params![fresh, now],
    )?;
    conn.query_row(
        "SELECT key_hex FROM oci_token_keys WHERE id = 1",
        params![],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blob::BlobInfo;
    use crate::store::identity::{insert_domain, Domain};
    use crate::store::{repos, test_backends};

    /// Tags, referrers and the collection's choice of blob files, on every backend.
    #[test]
    fn tags_referrers_and_unreferenced_blobs() {
        for (_guard, db) in test_backends() {
            db.blocking(|c| {
                let domain = Domain {
                    id: "d".into(),
                    name: "dom".into(),
                };
                insert_domain(c, &domain, 0)?;
                let repo = repos::Repository {
                    format: "docker2".into(),
                    ..repos::tests_support::repo_fixture()
                };
                repos::insert_repo(c, &repo)?;
                let r = repo.id.as_str();
                // A remote repository's copy of a blob, which no manifest row references: kept.
                let remote = repos::Repository {
                    id: "remote-repo".into(),
                    name: "remote-repo".into(),
                    repo_type: "remote".into(),
                    ..repo.clone()
                };
                repos::insert_repo(c, &remote)?;
                let copy = BlobInfo::of(b"copy");
                let d_copy = format!("sha256:{}", copy.sha256);
                repos::put_file(
                    c,
                    "remote-repo",
                    &blob_path("img", &d_copy),
                    &copy,
                    "x",
                    "u",
                    1,
                )?;
                let (layer, loose) = (BlobInfo::of(b"layer"), BlobInfo::of(b"loose"));
                let (m1, m2) = (BlobInfo::of(b"m1"), BlobInfo::of(b"m2"));
                let (d_layer, d_loose) = (
                    format!("sha256:{}", layer.sha256),
                    format!("sha256:{}", loose.sha256),
                );
                let (d1, d2) = (
                    format!("sha256:{}", m1.sha256),
                    format!("sha256:{}", m2.sha256),
                );
                repos::put_file(c, r, &blob_path("img", &d_layer), &layer, "x", "u", 1)?;
                repos::put_file(c, r, &blob_path("img", &d_loose), &loose, "x", "u", 1)?;
                repos::put_file(c, r, &manifest_path("img", &d1), &m1, "m", "u", 1)?;
                repos::put_file(c, r, &manifest_path("img", &d2), &m2, "m", "u", 1)?;
                let first_targets = [d_layer.clone()];
                let mut manifest = NewManifest {
                    digest: &d1,
                    media_type: "m",
                    size: 2,
                    artifact_type: Some("a/b"),
                    subject: None,
                    annotations: None,
                    targets: &first_targets,
                    now: 1,
                };
                put_manifest(c, r, "img", &manifest)?;
                manifest.digest = &d2;
                manifest.subject = Some(&d1);
                manifest.targets = &[];
                put_manifest(c, r, "img", &manifest)?;
                for tag in ["b", "a"] {
                    set_tag(c, r, "img", tag, &d1, 1)?;
                }
                let mut tags = tags(c, r, "img")?;
                tags.sort();
                assert_eq!(tags, ["a", "b"]);
                assert_eq!(tag_digest(c, r, "img", "a")?, Some(d1.clone()));
                let refs = referrers(c, r, "img", &d1)?;
                assert_eq!(refs.len(), 1);
                assert_eq!(refs[0].digest, d2);
                // Only the blob no manifest references, and only once it is old enough.
                let garbage = unreferenced_blob_files(c, 2)?;
                assert_eq!(garbage.len(), 1);
                assert_eq!(garbage[0].2, blob_path("img", &d_loose));
                assert!(unreferenced_blob_files(c, 1)?.is_empty());
                // A trashed manifest still holds its layer; a purged one does not, and is forgotten.
                repos::trash_file(c, r, &manifest_path("img", &d1), "u", 5)?;
                assert_eq!(unreferenced_blob_files(c, 2)?.len(), 1);
                assert_eq!(
                    tag_digest(c, r, "img", "a")?,
                    None,
                    "a tag of a trashed manifest"
                );
                c.execute(
                    "DELETE FROM files WHERE path = ?1",
                    crate::params![manifest_path("img", &d1)],
                )?;
                assert_eq!(forget_purged_manifests(c)?, 1);
                assert_eq!(unreferenced_blob_files(c, 2)?.len(), 2);
                assert!(tags_of_nothing(c, r)?);
                Ok(())
            })
            .unwrap();
        }
    }

    fn tags_of_nothing(c: &Conn, r: &str) -> crate::store::StoreResult<bool> {
        Ok(c.query_row(
            "SELECT count(*) FROM oci_tags WHERE repo_id = ?1",
            crate::params![r],
            |row| row.get::<i64>(0),
        )? == 0)
    }

    #[test]
    fn upload_chunks_append_only_where_the_session_stands() {
        for (_guard, db) in test_backends() {
            db.blocking(|c| {
                let domain = Domain {
                    id: "d".into(),
                    name: "dom".into(),
                };
                insert_domain(c, &domain, 0)?;
                let repo = repos::tests_support::repo_fixture();
                repos::insert_repo(c, &repo)?;
                let u = Upload {
                    id: "0123456789abcdef0123456789abcdef".into(),
                    repo_id: repo.id.clone(),
                    image: "img".into(),
                    size: 0,
                    created_by: "u".into(),
                };
                create_upload(c, &u, 1)?;
                let chunk = BlobInfo::of(b"chunk");
                repos::insert_blob(c, &chunk, 1)?;
                assert!(append_chunk(c, &u.id, 0, &chunk.sha256, 5, 2)?);
                assert!(
                    !append_chunk(c, &u.id, 0, &chunk.sha256, 5, 2)?,
                    "stale offset"
                );
                assert!(append_chunk(c, &u.id, 5, &chunk.sha256, 5, 3)?);
                assert_eq!(upload(c, &u.id)?.unwrap().size, 10);
                assert_eq!(chunks(c, &u.id)?.len(), 2);
                // A chunk's blob is referenced while its session lives.
                assert!(repos::unreferenced_blobs(c)?.is_empty());
                assert!(stale_uploads(c, 3)?.is_empty());
                assert_eq!(stale_uploads(c, 4)?, vec![u.id.clone()]);
                assert_eq!(delete_upload(c, &u.id)?.len(), 2);
                assert_eq!(repos::unreferenced_blobs(c)?, vec![chunk.sha256.clone()]);
                Ok(())
            })
            .unwrap();
        }
    }
}
