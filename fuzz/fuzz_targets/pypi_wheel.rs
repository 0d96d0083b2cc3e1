//! A wheel's `.dist-info/METADATA`, found by walking the zip's central directory a record at a time
//! (`formats::wheel::metadata`, which the upload handler runs on the stored file).
//!
//! Input: the wheel (zip) bytes. Properties: no panic; at the handler's limit and at a small one (the
//! input's length modulo 1024), what is answered is never longer than the limit; the limit decides
//! nothing but whether a METADATA read whole is kept (the same bytes below it, `None` above); a wheel
//! whose METADATA names a valid project and version is accepted for exactly that project and version.
#![no_main]

use arca::formats::pypi::{core_metadata_identity, is_valid_name, normalize};
use arca::formats::wheel::metadata;
use arca::http::protocols::pypi::{metadata_matches, MAX_METADATA_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let len = data.len() as u64;
    let read = |max: u64| metadata(data.to_vec(), len, max);
    let at_limit = read(MAX_METADATA_BYTES);
    let small = len % 1024;
    let below = read(small);
    if let Ok(Some(m)) = &below {
        assert!(m.len() as u64 <= small);
    }
    let Ok(Some(found)) = at_limit else {
        return;
    };
    assert!(found.len() as u64 <= MAX_METADATA_BYTES);
    if found.len() as u64 <= small {
        assert_eq!(below, Ok(Some(found.clone())));
    } else {
        assert_eq!(below, Ok(None));
    }

    let (name, version) = core_metadata_identity(&String::from_utf8_lossy(&found));
    if let (Some(name), Some(version)) = (name, version) {
        if is_valid_name(&name) {
            assert!(metadata_matches(&found, &normalize(&name), &version).is_ok());
            assert!(metadata_matches(&found, &normalize(&format!("{name}x")), &version).is_err());
        }
    }
});
