//! `cargo publish`'s request frame: u32 LE length + JSON metadata, u32 LE length of the `.crate`
//! (`read_publish_head`, as the handler reads it), and the index entry and paths made from the metadata.
//!
//! Input: the request body (and, read as text, a sparse index path). Properties: no panic; a refusal is a
//! 4xx, never a 500; a declared metadata length over the limit is refused before anything more is read;
//! the body read whole or arriving in pieces gives the same answer; an accepted head consumed exactly its
//! two length fields and the JSON; the crate name and version are valid and make a clean repository path
//! and an index path that names the crate back; the index entry is one line of JSON naming the same
//! crate, version, dependencies (with valid requirements) and checksum. An index path names a valid crate
//! whose path it is.
#![no_main]

use arca::domain::artifact_path::ArtifactPath;
use arca::formats::cargo::{canonical, index_entry, index_path, is_valid_name, name_of_index_path};
use arca::http::protocols::cargo::{crate_path, read_publish_head, MAX_METADATA_BYTES};
use arca_fuzz::{block_on, pieces};
use futures_util::stream;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tokio_util::io::StreamReader;

fuzz_target!(|data: &[u8]| {
    // The sparse index path of a GET, from the same bytes.
    let path = String::from_utf8_lossy(data);
    if let Some(name) = name_of_index_path(&path) {
        assert!(is_valid_name(&name));
        assert_eq!(index_path(&name), path.to_ascii_lowercase());
    }

    let mut reader = data;
    let whole = block_on(read_publish_head(&mut reader));
    let chunks = pieces(data).into_iter().map(Ok::<_, std::io::Error>);
    let mut arriving = StreamReader::new(stream::iter(chunks));
    let in_pieces = block_on(read_publish_head(&mut arriving));
    match (&whole, &in_pieces) {
        (Ok((a, la)), Ok((b, lb))) => {
            assert_eq!((&a.name, &a.vers, la), (&b.name, &b.vers, lb));
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!(
            "whole and in pieces differ: {:?} / {:?}",
            whole.is_ok(),
            in_pieces.is_ok()
        ),
    }
    let declared = data
        .get(..4)
        .map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    if declared.is_some_and(|len| len > MAX_METADATA_BYTES) {
        assert!(whole.is_err());
        assert_eq!(
            reader.len(),
            data.len() - 4,
            "read past an oversized length"
        );
    }
    let (meta, crate_len) = match whole {
        Ok(head) => head,
        Err(refused) => {
            assert!(refused.status().is_client_error(), "{refused}");
            return;
        }
    };
    let json_len = declared.unwrap() as usize;
    assert_eq!(reader.len(), data.len() - 8 - json_len);
    assert_eq!(
        crate_len,
        u64::from(u32::from_le_bytes(
            data[4 + json_len..8 + json_len].try_into().unwrap()
        ))
    );

    assert!(is_valid_name(&meta.name));
    assert!(semver::Version::parse(&meta.vers).is_ok());
    assert_eq!(canonical(&canonical(&meta.name)), canonical(&meta.name));
    let rel = crate_path(&meta.name, &meta.vers);
    let parsed = ArtifactPath::parse_plain(&rel).expect("a crate path is clean");
    assert_eq!(parsed.as_str(), rel);
    assert!(rel.ends_with(".crate"));
    let lower = meta.name.to_ascii_lowercase();
    assert_eq!(name_of_index_path(&index_path(&meta.name)), Some(lower));

    let cksum = "0".repeat(64);
    let line = index_entry(&meta, &cksum).to_string();
    let entry: Value = serde_json::from_str(&line).expect("the index line is JSON");
    assert!(!line.contains('\n'), "an index entry is one line");
    assert_eq!(entry["name"], meta.name.as_str());
    assert_eq!(entry["vers"], meta.vers.as_str());
    assert_eq!(entry["cksum"], cksum.as_str());
    let deps = entry["deps"].as_array().expect("deps");
    assert_eq!(deps.len(), meta.deps.len());
    for dep in deps {
        let req = dep["req"].as_str().expect("a requirement");
        assert!(semver::VersionReq::parse(req).is_ok());
        assert!(is_valid_name(dep["name"].as_str().expect("a name")));
    }
});
