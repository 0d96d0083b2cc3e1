//! Core metadata (a wheel's METADATA, RFC 822 style) and the PyPI names and file names checked against it.
//!
//! Input: METADATA text. Properties: the identity read is trimmed and single-line, taken from the header
//! block only; a METADATA is accepted for the project and version it names (PEP 503-normalised) and for
//! no other; normalisation is idempotent; a wheel or sdist file name built from a valid name and
//! version parses back to them; content negotiation answers one of the offered types or none.
#![no_main]

use arca::formats::pypi::{
    core_metadata_identity, is_valid_name, is_valid_version, negotiate, normalize, parse_filename,
    DistKind, HTML_V1, JSON_V1,
};
use arca::http::protocols::pypi::metadata_matches;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let header_block = text.split("\n\n").next().unwrap_or("");
    let (name, version) = core_metadata_identity(text);
    for value in [&name, &version].into_iter().flatten() {
        assert_eq!(value.trim(), value);
        assert!(!value.contains('\n'));
        assert!(header_block.contains(value.as_str()));
    }
    if let (Some(name), Some(version)) = (&name, &version) {
        let project = normalize(name);
        assert!(metadata_matches(data, &project, version).is_ok());
        assert!(metadata_matches(data, &format!("{project}-other"), version).is_err());
        assert!(metadata_matches(data, &project, &format!("{version}.1")).is_err());
    }
    for line in text.lines().take(4) {
        let n = normalize(line);
        assert_eq!(normalize(&n), n);
        if let Some((name, version)) = line.split_once(' ') {
            if is_valid_name(name) && is_valid_version(version) && !version.contains('-') {
                let project = normalize(name);
                if !name.contains('-') {
                    let wheel = parse_filename(&format!("{name}-{version}-py3-none-any.whl"))
                        .expect("a wheel name parses");
                    assert_eq!(
                        (wheel.kind, wheel.project.as_str(), wheel.version.as_str()),
                        (DistKind::Wheel, project.as_str(), version)
                    );
                }
                let sdist = parse_filename(&format!("{name}-{version}.tar.gz"))
                    .expect("an sdist name parses");
                assert_eq!(
                    (sdist.kind, sdist.project.as_str(), sdist.version.as_str()),
                    (DistKind::Sdist, project.as_str(), version)
                );
            }
        }
        if let Some(chosen) = negotiate(Some(line)) {
            assert!([JSON_V1, HTML_V1, "text/html"].contains(&chosen));
        }
    }
});
