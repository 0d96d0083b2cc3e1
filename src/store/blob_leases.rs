//! Fences between uploads and blob collection on nodes that share one blob store (a bucket), where the
//! in-process collection lock cannot see the other nodes' uploads. Every step is one short transaction,
//! and transactions are serialised (SQLite's immediate transactions, PostgreSQL's advisory lock), so each
//! check sees the others' decisions:
//! - an upload takes a lease on its digest once the digest is known and before its bytes are placed (or
//!   found already there), and ends it once its row committed;
//! - collection skips leased digests, and marks the digests it is about to delete in the same transaction
//!   that found them unreferenced; the marks go once the bytes are gone;
//! - an upload that finds its digest marked waits until the mark goes, so it places its bytes after the
//!   deletion and not before it.
//!
//! Leases and marks expire, so a node killed mid-way blocks nothing for long; a node that restarts ends its
//! own old leases at once (they carry its `node.id`).

use crate::params;

use super::{Conn, StoreResult};

/// Takes a lease on `sha256` unless a deletion of it is under way; `false` means "wait and retry".
pub fn take(
    conn: &mut Conn,
    lease_id: &str,
    holder: &str,
    sha256: &str,
    now: i64,
    ttl_ms: i64,
) -> StoreResult<bool> {
    let tx = conn.transaction()?;
    let deleting = tx.query_opt(
        "SELECT 1 FROM blob_deletions WHERE sha256 = ?1 AND expires_at > ?2",
        params![sha256, now],
        |_| Ok(()),
    )?;
    if deleting.is_some() {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO blob_leases (id, holder, sha256, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![lease_id, holder, sha256, now + ttl_ms],
    )?;
    tx.commit()?;
    Ok(true)
}

/// Ends a lease (its upload committed or gave up).
pub fn end(conn: &Conn, lease_id: &str) -> StoreResult<()> {
    conn.execute("DELETE FROM blob_leases WHERE id = ?1", params![lease_id])?;
    Ok(())
}

/// Ends every lease `holder` took: called by a node as it starts, when whatever it was uploading before
/// (a crash) is over. Answers how many there were.
pub fn end_all_of(conn: &Conn, holder: &str) -> StoreResult<usize> {
    conn.execute("DELETE FROM blob_leases WHERE holder = ?1", params![holder])
}

/// Whether a live lease holds `sha256`.
pub fn is_leased(conn: &Conn, sha256: &str, now: i64) -> StoreResult<bool> {
    Ok(conn
        .query_opt(
            "SELECT 1 FROM blob_leases WHERE sha256 = ?1 AND expires_at > ?2 LIMIT 1",
            params![sha256, now],
            |_| Ok(()),
        )?
        .is_some())
}

/// Marks `sha256` as being deleted (inside the collecting transaction).
pub fn mark_deleting(conn: &Conn, sha256: &str, now: i64, ttl_ms: i64) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO blob_deletions (sha256, expires_at) VALUES (?1, ?2) \
         ON CONFLICT (sha256) DO UPDATE SET expires_at = excluded.expires_at",
        params![sha256, now + ttl_ms],
    )?;
    Ok(())
}

/// What `claim_for_deletion` found deletable, each digest now marked.
#[derive(Debug, Default)]
pub struct Claimed {
    /// Digests with no row (bytes an upload stored but never recorded).
    pub unrecorded: Vec<String>,
    /// Rows no file referenced, deleted here, with their sizes.
    pub freed: Vec<(String, i64)>,
}

/// In one transaction: of `candidates`, those no live lease holds and no file references lose their row
/// (if they have one) and are marked as being deleted; the caller deletes their bytes, then unmarks.
pub fn claim_for_deletion(
    conn: &mut Conn,
    candidates: &[String],
    now: i64,
    mark_ttl_ms: i64,
) -> StoreResult<Claimed> {
    let tx = conn.transaction()?;
    let mut claimed = Claimed::default();
    for sha in candidates {
        if is_leased(&tx, sha, now)? {
            continue;
        }
        let recorded = tx.query_opt(
            "SELECT 1 FROM blobs WHERE sha256 = ?1",
            params![sha],
            |_| Ok(()),
        )?;
        if recorded.is_none() {
            claimed.unrecorded.push(sha.clone());
        } else {
            let gone: Option<i64> =
                tx.query_opt(super::repos::DELETE_UNREFERENCED_BLOB, params![sha], |r| {
                    r.get(0)
                })?;
            match gone {
                Some(size) => claimed.freed.push((sha.clone(), size)),
                None => continue,
            }
        }
        mark_deleting(&tx, sha, now, mark_ttl_ms)?;
    }
    tx.commit()?;
    Ok(claimed)
}

/// Clears the marks of deletions that finished.
pub fn unmark_deleting(conn: &mut Conn, sha256s: &[String]) -> StoreResult<()> {
    let tx = conn.transaction()?;
    for sha in sha256s {
        tx.execute("DELETE FROM blob_deletions WHERE sha256 = ?1", params![sha])?;
    }
    tx.commit()
}

/// Forgets leases and marks that expired (their nodes died mid-way); answers how many.
pub fn purge_expired(conn: &Conn, now: i64) -> StoreResult<usize> {
    let leases = conn.execute(
        "DELETE FROM blob_leases WHERE expires_at <= ?1",
        params![now],
    )?;
    let marks = conn.execute(
        "DELETE FROM blob_deletions WHERE expires_at <= ?1",
        params![now],
    )?;
    Ok(leases + marks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_backends;

    #[test]
    fn a_marked_digest_cannot_be_leased_until_the_mark_goes_or_expires() {
        for (_guard, db) in test_backends() {
            db.blocking(|c| {
                let tx = c.transaction()?;
                mark_deleting(&tx, "aa", 1_000, 500)?;
                tx.commit()?;
                assert!(!take(c, "l1", "n", "aa", 1_200, 60_000)?);
                assert!(
                    take(c, "l1", "n", "bb", 1_200, 60_000)?,
                    "other digests are free"
                );
                assert!(
                    take(c, "l2", "n", "aa", 1_600, 60_000)?,
                    "an expired mark blocks nothing"
                );
                unmark_deleting(c, &["aa".to_string()])?;
                assert!(take(c, "l3", "n", "aa", 1_200, 60_000)?);
                Ok(())
            })
            .unwrap();
        }
    }

    #[test]
    fn collection_skips_leased_and_referenced_digests_and_marks_the_rest() {
        use crate::blob::BlobInfo;
        use crate::store::identity::{insert_domain, Domain};
        use crate::store::repos;
        for (_guard, db) in test_backends() {
            db.blocking(|c| {
                insert_domain(
                    c,
                    &Domain {
                        id: "d".into(),
                        name: "dom".into(),
                    },
                    0,
                )?;
                let repo = repos::tests_support::repo_fixture();
                repos::insert_repo(c, &repo)?;
                let used = BlobInfo::of(b"used");
                let idle = BlobInfo::of(b"idle");
                let leased = BlobInfo::of(b"leased");
                repos::put_file(c, &repo.id, "a/used", &used, "x", "u", 1)?;
                repos::put_file(c, &repo.id, "a/idle", &idle, "x", "u", 1)?;
                repos::put_file(c, &repo.id, "a/leased", &leased, "x", "u", 1)?;
                c.execute("DELETE FROM files WHERE path <> 'a/used'", params![])?;
                assert!(take(c, "l", "n", &leased.sha256, 0, 1_000)?);
                let all = [&used, &idle, &leased]
                    .iter()
                    .map(|b| b.sha256.clone())
                    .chain(["f".repeat(64)])
                    .collect::<Vec<_>>();
                let claimed = claim_for_deletion(c, &all, 10, 1_000)?;
                assert_eq!(claimed.freed, vec![(idle.sha256.clone(), 4)]);
                assert_eq!(claimed.unrecorded, vec!["f".repeat(64)]);
                assert!(
                    !take(c, "l2", "n", &idle.sha256, 20, 1_000)?,
                    "marked while deleted"
                );
                assert!(take(c, "l3", "n", &used.sha256, 20, 1_000)?, "never marked");
                Ok(())
            })
            .unwrap();
        }
    }

    #[test]
    fn leases_hold_until_ended_or_expired() {
        for (_guard, db) in test_backends() {
            db.blocking(|c| {
                assert!(take(c, "l1", "n", "aa", 0, 1_000)?);
                assert!(take(c, "l2", "n", "aa", 0, 5_000)?);
                assert!(is_leased(c, "aa", 500)?);
                end(c, "l2")?;
                assert!(is_leased(c, "aa", 500)?, "l1 still holds it");
                assert!(!is_leased(c, "aa", 1_000)?, "l1 expired");
                assert!(!is_leased(c, "bb", 0)?);
                assert_eq!(purge_expired(c, 1_000)?, 1);
                Ok(())
            })
            .unwrap();
        }
    }
}
