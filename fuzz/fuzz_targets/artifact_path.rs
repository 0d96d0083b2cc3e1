//! Artifact paths (`ArtifactPath::parse_wire` for URLs, `parse_plain` for query and JSON values).
//!
//! Properties of every accepted path: relative, no empty, `.` or `..` segment, no backslash, NUL,
//! control character or noncharacter, within the length limits; the plain parser accepts it unchanged;
//! its segments percent-encoded again parse to the same path; `parent` and `file_name` put it back
//! together.
#![no_main]

use arca::domain::artifact_path::{
    is_valid_repo_name, ArtifactPath, MAX_PATH_BYTES, MAX_SEGMENT_BYTES,
};
use libfuzzer_sys::fuzz_target;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

fn check(p: &ArtifactPath) {
    let s = p.as_str();
    assert!(s.len() <= MAX_PATH_BYTES);
    assert!(!s.starts_with('/') && !s.ends_with('/'));
    assert!(!s.contains(['\\', '\0']), "{s:?}");
    // Every character may stand in XML (maven-metadata.xml) and is text: no control characters, no
    // noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF).
    assert!(
        s.chars().all(|c| {
            let n = u32::from(c);
            !c.is_control() && !(0xFDD0..=0xFDEF).contains(&n) && n & 0xFFFE != 0xFFFE
        }),
        "{s:?}"
    );
    assert_eq!(p.is_root(), s.is_empty());
    if !s.is_empty() {
        for segment in s.split('/') {
            assert!(!matches!(segment, "" | "." | ".."), "{s:?}");
            assert!(segment.len() <= MAX_SEGMENT_BYTES);
        }
        let joined = match p.parent() {
            "" => p.file_name().to_string(),
            parent => format!("{parent}/{}", p.file_name()),
        };
        assert_eq!(joined, s);
        assert_eq!(p.dir_prefix(), format!("{s}/"));
    }
    let plain = ArtifactPath::parse_plain(s).expect("a parsed path parses as plain");
    assert_eq!(plain.as_str(), s);
    let encoded = s
        .split('/')
        .map(|seg| utf8_percent_encode(seg, NON_ALPHANUMERIC).to_string())
        .collect::<Vec<_>>()
        .join("/");
    if encoded.len() <= MAX_PATH_BYTES * 3 {
        let wire = ArtifactPath::parse_wire(&encoded).expect("re-encoded path parses");
        assert_eq!(wire.as_str(), s);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(p) = ArtifactPath::parse_wire(raw) {
        check(&p);
        assert_eq!(p.is_dir, raw.is_empty() || raw.ends_with('/'));
    }
    if let Ok(p) = ArtifactPath::parse_plain(raw) {
        check(&p);
    }
    if is_valid_repo_name(raw) {
        assert!(!raw.contains(['/', '\\', '%']) && !raw.starts_with('.'));
    }
});
