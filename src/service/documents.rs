//! Generated metadata documents (npm packuments, PyPI simple pages, Cargo index files, maven-metadata.xml)
//! kept once built, with their gzip and brotli forms made once, beside the plain one.
//!
//! A document is keyed by its repository's metadata generation (`repo_meta_gens`), which triggers
//! bump in every transaction that changes a row documents are built from (migration 0013). A read asks the
//! database for the generation first (on SQLite from memory while `repositories` is unchanged: `store::cache`) and builds, if it must, from what it reads after: a document kept
//! under generation N was built from a state at least as new as N, so once a change is acknowledged no
//! reader can be handed a document from before it, on this node or any other sharing the database.
//! Documents of older generations are never asked for again and age out of the cache.
//!
//! The generation is per repository, not per package: a publish makes every document of its repository
//! rebuild once. Publishes are rare next to reads, and the rule has no way to miss a dependency.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, OptionsBuilder, Weighter};
use sha2::{Digest, Sha256};

use crate::store::cache::{RowCache, Tables};
use crate::store::{repos, Db, StoreError};

/// Smaller documents are sent as they are: compression would save less than its headers cost.
const COMPRESS_FROM_BYTES: usize = 512;
/// Brotli's quality: 5 compresses a large packument in milliseconds, to about gzip -9's size or better.
const BROTLI_QUALITY: u32 = 5;

/// One built document: its bytes in every stored coding and what the answer's headers need.
#[derive(Debug)]
pub struct Document {
    pub content_type: &'static str,
    /// When what the document describes last changed (epoch ms): its `Last-Modified`.
    pub modified_at: i64,
    pub identity: Bytes,
    pub gzip: Option<Bytes>,
    pub brotli: Option<Bytes>,
    /// Hex SHA-256 of `identity`; each coding's entity tag derives from it.
    pub digest: String,
}

impl Document {
    /// Hashes and compresses `body` on a blocking thread (a 2,000-version packument takes milliseconds).
    pub async fn build(body: Vec<u8>, content_type: &'static str, modified_at: i64) -> Document {
        let work = move || Document::build_now(body, content_type, modified_at);
        match tokio::task::spawn_blocking(work).await {
            Ok(document) => document,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    pub fn build_now(body: Vec<u8>, content_type: &'static str, modified_at: i64) -> Document {
        let digest = hex::encode(Sha256::digest(&body));
        let (gzip, brotli) = if body.len() >= COMPRESS_FROM_BYTES {
            (
                gzip(&body).filter(|z| z.len() < body.len()),
                brotli(&body).filter(|z| z.len() < body.len()),
            )
        } else {
            (None, None)
        };
        Document {
            content_type,
            modified_at,
            identity: Bytes::from(body),
            gzip: gzip.map(Bytes::from),
            brotli: brotli.map(Bytes::from),
            digest,
        }
    }

    fn weight(&self) -> u64 {
        let coded = |b: &Option<Bytes>| b.as_ref().map_or(0, |b| b.len());
        (self.identity.len() + coded(&self.gzip) + coded(&self.brotli) + self.digest.len() + 64)
            as u64
    }
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

fn brotli(body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(body.len() / 4);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY as i32,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).ok()?;
    Some(out)
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    repo_id: Arc<str>,
    generation: i64,
    /// What the document is within its repository, including every request fact it depends on (the
    /// form asked for, the base URL links are made with).
    name: String,
}

#[derive(Clone)]
struct ByBytes;

impl Weighter<Key, Arc<Document>> for ByBytes {
    fn weight(&self, key: &Key, document: &Arc<Document>) -> u64 {
        document.weight() + (key.repo_id.len() + key.name.len()) as u64
    }
}

/// The node's kept documents, bounded in bytes (`metadata_cache_mib`).
#[derive(Clone)]
pub struct Documents {
    cache: Option<Arc<Cache<Key, Arc<Document>, ByBytes>>>,
    /// Repositories' metadata generations, asked of the database again only after `repositories` or the
    /// repository's own generation row changed (`store::cache`, counted per row).
    generations: Arc<RowCache<String, Option<repos::MetaGen>>>,
}

impl Documents {
    pub fn new(budget_mib: u64) -> Documents {
        let generations = Arc::new(RowCache::by_row(
            &[Tables::Repositories],
            Tables::MetaGens,
            |generation: &Option<repos::MetaGen>| generation.and_then(|g| g.row),
            4096,
        ));
        if budget_mib == 0 {
            return Documents {
                cache: None,
                generations,
            };
        }
        let bytes = budget_mib.saturating_mul(1024 * 1024);
        // Few shards, so that one shard (a 1/4 of the budget) still holds the largest packuments.
        let options = OptionsBuilder::new()
            .shards(4)
            .estimated_items_capacity(4096)
            .weight_capacity(bytes)
            .build();
        let cache = options.ok().map(|options| {
            Arc::new(Cache::with_options(
                options,
                ByBytes,
                DefaultHashBuilder::default(),
                Default::default(),
            ))
        });
        Documents { cache, generations }
    }

    /// The document `name` of repository `repo_id` as of now: kept, or made by `build` (None: there is no
    /// such document, and nothing is kept). Concurrent readers of a missing document wait for one build.
    pub async fn get_or_build<E, F, Fut>(
        &self,
        db: &Db,
        repo_id: &str,
        name: String,
        build: F,
    ) -> Result<Option<Arc<Document>>, E>
    where
        E: From<StoreError>,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Document>, E>>,
    {
        let Some(cache) = &self.cache else {
            return Ok(build().await?.map(Arc::new));
        };
        let generation = self
            .generations
            .get_or_load(db, repo_id.to_string(), |id| {
                let id = id.clone();
                move |conn| repos::metadata_generation_row(conn, &id)
            })
            .await?;
        let Some(repos::MetaGen { generation, .. }) = generation else {
            return Ok(build().await?.map(Arc::new));
        };
        let key = Key {
            repo_id: Arc::from(repo_id),
            generation,
            name,
        };
        match cache.get_value_or_guard_async(&key).await {
            Ok(document) => Ok(Some(document)),
            Err(guard) => {
                // On an error or None the guard drops unfilled and each waiter builds for itself.
                let Some(document) = build().await? else {
                    return Ok(None);
                };
                let document = Arc::new(document);
                let _ = guard.insert(document.clone());
                Ok(Some(document))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_documents_are_kept_compressed_small_ones_plain() {
        let body = br#"{"name":"left-pad","versions":{}}"#.repeat(100);
        let document = Document::build_now(body.clone(), "application/json", 7);
        let gz = document.gzip.as_ref().expect("gzip form");
        let mut plain = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain).unwrap();
        assert_eq!(plain, body);
        let br = document.brotli.as_ref().expect("brotli form");
        let mut plain = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut plain).unwrap();
        assert_eq!(plain, body);
        assert_eq!(document.digest, hex::encode(Sha256::digest(&body)));

        let small = Document::build_now(b"{}".to_vec(), "application/json", 7);
        assert!(small.gzip.is_none() && small.brotli.is_none());
    }
}
