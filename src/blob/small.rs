//! Small stored files kept in memory by their SHA-256, so that a busy small artifact is answered without
//! opening a file (or asking S3) per request. Content-addressed: a blob's bytes never change under its
//! name, so nothing is ever stale; a file deleted from a repository is no longer found by its path, so its
//! bytes are no longer asked for and age out.

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, OptionsBuilder, Weighter};

/// Larger files stream from the store: memory is for the many small ones.
pub const LARGEST_KEPT: u64 = 64 * 1024;

#[derive(Clone)]
struct ByLength;

impl Weighter<String, Bytes> for ByLength {
    fn weight(&self, sha256: &String, bytes: &Bytes) -> u64 {
        (sha256.len() + bytes.len()) as u64
    }
}

/// The node's kept small files, bounded in bytes (`file_cache_mib`; 0 keeps none).
pub struct SmallFiles {
    cache: Option<Cache<String, Bytes, ByLength>>,
}

impl SmallFiles {
    pub fn new(budget_mib: u64) -> SmallFiles {
        let cache = (budget_mib > 0)
            .then(|| {
                OptionsBuilder::new()
                    .estimated_items_capacity(1024)
                    .weight_capacity(budget_mib.saturating_mul(1024 * 1024))
                    .build()
                    .ok()
            })
            .flatten()
            .map(|options| {
                Cache::with_options(
                    options,
                    ByLength,
                    DefaultHashBuilder::default(),
                    Default::default(),
                )
            });
        SmallFiles { cache }
    }

    /// Whether a file of `size` bytes is one to keep.
    pub fn keeps(&self, size: u64) -> bool {
        self.cache.is_some() && size <= LARGEST_KEPT
    }

    pub fn get(&self, sha256: &str) -> Option<Bytes> {
        self.cache.as_ref()?.get(sha256)
    }

    pub fn insert(&self, sha256: &str, bytes: Bytes) {
        if let Some(cache) = &self.cache {
            cache.insert(sha256.to_string(), bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_small_files_within_the_budget_and_none_without_one() {
        let files = SmallFiles::new(1);
        assert!(files.keeps(LARGEST_KEPT) && !files.keeps(LARGEST_KEPT + 1));
        files.insert("a", Bytes::from_static(b"bytes"));
        assert_eq!(files.get("a").as_deref(), Some(&b"bytes"[..]));
        for i in 0..40 {
            files.insert(&format!("{i}"), Bytes::from(vec![0u8; 60 * 1024]));
        }
        let kept = (0..40)
            .filter(|i| files.get(&format!("{i}")).is_some())
            .count();
        assert!(kept < 20, "{kept} files of 60 KiB kept in 1 MiB");

        let none = SmallFiles::new(0);
        assert!(!none.keeps(1));
        none.insert("a", Bytes::from_static(b"bytes"));
        assert!(none.get("a").is_none());
    }
}
