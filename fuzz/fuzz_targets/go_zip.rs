//! A Go module zip by the module zip rules (`formats::go::check_zip`, which publishing runs on every
//! uploaded zip and a remote repository on every zip its upstream sends, through
//! `formats::go_upstream::check_module_zip`).
//!
//! Input: an optional first line `<module> <version>` (else `example.com/m v1.0.0`), then the zip bytes.
//! Properties: no panic; the verdict is deterministic; limits only ever refuse more (accepted within
//! small limits ⇒ accepted within the go command's, with the same go.mod); an accepted zip's go.mod is
//! within its limit and declares the module; a zip accepted for two modules (so holding no
//! entry) is accepted for any; the remote repository's check agrees with publishing's.
#![no_main]

use arca::formats::go::{check_go_mod, check_version, check_zip, check_zip_within, Limits, MAX_GO_MOD};
use arca::formats::go_upstream::check_module_zip;
use libfuzzer_sys::fuzz_target;

fn header(data: &[u8]) -> Option<(String, String, &[u8])> {
    let end = data.iter().take(200).position(|b| *b == b'\n')?;
    let line = std::str::from_utf8(&data[..end]).ok()?;
    let (module, version) = line.split_once(' ')?;
    Some((module.to_string(), version.to_string(), &data[end + 1..]))
}

fuzz_target!(|data: &[u8]| {
    let (module, version, zip) = header(data).unwrap_or_else(|| {
        ("example.com/m".to_string(), "v1.0.0".to_string(), data)
    });
    let len = zip.len() as u64;
    let full = check_zip(zip, len, &module, &version);
    assert_eq!(full, check_zip(zip.to_vec(), len, &module, &version), "deterministic");

    let small = Limits {
        total: len % 4096,
        one_file: len % 512,
    };
    if let Ok(within) = check_zip_within(zip, len, &module, &version, small) {
        assert_eq!(full.as_ref(), Ok(&within), "a smaller limit accepted what the go limits refuse");
    }
    let default = check_zip_within(zip, len, &module, &version, Limits::GO);
    assert_eq!(default, full);

    let upstream = check_module_zip(zip, len, &module, &version);
    let incompatible = check_version(&version).is_ok_and(|v| v.incompatible);
    if !incompatible && check_version(&version).is_ok() {
        assert_eq!(upstream.is_ok(), full.is_ok(), "remote and publishing checks agree");
    }
    if let Err(why) = &upstream {
        assert!(why.contains("module zip rules"), "{why}");
    }

    let Ok(checked) = full else {
        return;
    };
    if let Some(go_mod) = &checked.go_mod {
        assert!(go_mod.len() as u64 <= MAX_GO_MOD);
        assert!(check_go_mod(go_mod, &module).is_ok());
    }
    // Every entry is under `module@version/`, so one accepted for another module too holds no entry at
    // all, and then any module takes it.
    let other = format!("{module}x");
    if check_zip(zip, len, &other, &version).is_ok() {
        assert_eq!(checked.go_mod, None);
        assert!(check_zip(zip, len, "example.org/third", &version).is_ok());
    }
});
