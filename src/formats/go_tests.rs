use std::io::Write;

use rawzip::path::EntryPath;

use super::*;

/// A zip of `(name, data)` entries, deflated, names written verbatim (so hostile ones stay hostile).
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut output = Vec::new();
    let mut archive = rawzip::ZipArchiveWriter::new(&mut output);
    for (name, data) in entries {
        let (mut entry, config) = archive
            .new_file(EntryPath::verbatim(name.as_bytes()))
            .compression_method(CompressionMethod::DEFLATE)
            .start()
            .unwrap();
        let encoder =
            flate2::write::DeflateEncoder::new(&mut entry, flate2::Compression::default());
        let mut writer = config.wrap(encoder);
        writer.write_all(data).unwrap();
        let (encoder, descriptor) = writer.finish().unwrap();
        encoder.finish().unwrap();
        entry.finish(descriptor).unwrap();
    }
    archive.finish().unwrap();
    output
}

const M: &str = "example.com/Hello/greet";
const V: &str = "v1.2.3";

fn check(bytes: Vec<u8>) -> Result<CheckedZip, ZipError> {
    let len = bytes.len() as u64;
    check_zip(bytes, len, M, V)
}

fn name(rest: &str) -> String {
    format!("{M}@{V}/{rest}")
}

#[test]
fn case_encoding_round_trips_and_refuses_what_cannot_be_encoded() {
    assert_eq!(escape(M).unwrap(), "example.com/!hello/greet");
    assert_eq!(escape("v1.0.0-RC1").unwrap(), "v1.0.0-!r!c1");
    assert_eq!(unescape("example.com/!hello/greet").unwrap(), M);
    assert_eq!(
        unescape("github.com/!azure/!a!b").unwrap(),
        "github.com/Azure/AB"
    );
    assert_eq!(escape("a!b"), None);
    assert_eq!(
        unescape("example.com/Hello"),
        None,
        "upper case is never escaped form"
    );
    assert_eq!(unescape("example.com/!"), None);
    assert_eq!(unescape("example.com/!1"), None);
    for text in [
        "golang.org/x/mod",
        "example.com/ÀB/c",
        "v2.0.0+incompatible",
    ] {
        assert_eq!(unescape(&escape(text).unwrap()).unwrap(), text);
    }
}

#[test]
fn module_paths_follow_check_path() {
    for ok in [
        M,
        "golang.org/x/mod",
        "example.com/a/v2",
        "gopkg.in/yaml.v3",
        "x.io/a-b_c~d.e",
    ] {
        assert_eq!(check_module_path(ok), Ok(()), "{ok}");
    }
    for bad in [
        "",
        "example",
        "Example.com/a",
        "example.com/",
        "/example.com",
        "example.com//a",
        "example.com/../a",
        "example.com/.hidden",
        "example.com/a b",
        "example.com/a\\b",
        "example.com/a/v1",
        "example.com/a/v0",
        "example.com/a/v02",
        "-x.com/a",
    ] {
        assert!(check_module_path(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn versions_are_canonical_semver() {
    let v = check_version("v1.2.3").unwrap();
    assert_eq!((v.major, v.prerelease, v.incompatible), (1, false, false));
    assert!(
        check_version("v0.0.0-20240101120000-abcdef123456")
            .unwrap()
            .prerelease
    );
    assert!(check_version("v2.0.0+incompatible").unwrap().incompatible);
    assert!(check_version("v1.0.0-rc.1").is_ok());
    for bad in [
        "1.2.3",
        "v1.2",
        "v1",
        "v1.2.3.4",
        "v01.2.3",
        "v1.02.3",
        "v1.2.3-",
        "v1.2.3-01",
        "v1.2.3-a..b",
        "v1.2.3+build",
        "v1.2.3-a_b",
        "V1.2.3",
        "v1.2.3 ",
        "latest",
        "",
    ] {
        assert!(check_version(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_major_version_suffix_must_fit() {
    let fits = |p: &str, v: &str| check_path_major(p, v, &check_version(v).unwrap()).is_ok();
    assert!(fits("example.com/a", "v1.5.0"));
    assert!(fits("example.com/a", "v0.1.0"));
    assert!(fits("example.com/a", "v3.0.0+incompatible"));
    assert!(!fits("example.com/a", "v2.0.0"));
    assert!(!fits("example.com/a", "v1.0.0+incompatible"));
    assert!(fits("example.com/a/v2", "v2.1.0"));
    assert!(!fits("example.com/a/v2", "v3.0.0"));
    assert!(!fits("example.com/a/v2", "v1.0.0"));
    assert!(!fits("example.com/a/v2", "v2.0.0+incompatible"));
    assert!(fits("gopkg.in/yaml.v2", "v2.4.0"));
    assert!(!fits("gopkg.in/yaml.v2", "v3.0.0"));
}

#[test]
fn module_directive_is_read_as_go_does() {
    assert_eq!(
        module_directive(b"module example.com/a\n\ngo 1.21\n").as_deref(),
        Some("example.com/a")
    );
    assert_eq!(
        module_directive(b"// c\nmodule \"example.com/a\" // x\n").as_deref(),
        Some("example.com/a")
    );
    assert_eq!(module_directive(b"go 1.21\n"), None);
    assert_eq!(module_directive(b"modulex example.com/a\n"), None);
    assert_eq!(module_directive(&[0xff, 0xfe]), None);
}

#[test]
fn a_proper_module_zip_passes_with_its_go_mod() {
    let go_mod = format!("module {M}\n\ngo 1.21\n");
    let ok = zip(&[
        (&name("go.mod"), go_mod.as_bytes()),
        (&name("greet.go"), b"package greet\n"),
        (&name("sub/x.go"), b"package sub\n"),
        (&name("sub/"), b""),
        (&name("sub/deeper/y.go"), b"package deeper\n"),
        (&name("sub/z.go"), b"package sub\n"),
    ]);
    assert_eq!(
        check(ok).unwrap().go_mod.as_deref(),
        Some(go_mod.as_bytes())
    );
    let without = zip(&[(&name("greet.go"), b"package greet\n")]);
    assert_eq!(check(without).unwrap().go_mod, None);
}

/// Whether a refusal is the one a case expects.
type Expected = fn(&ZipError) -> bool;

#[test]
fn hostile_zips_are_refused_naming_the_problem() {
    let cases: Vec<(Vec<u8>, Expected)> = vec![
        (b"not a zip".to_vec(), |e| *e == ZipError::NotZip),
        (zip(&[(&name("../evil.go"), b"x")]), |e| {
            matches!(e, ZipError::UncleanPath(_))
        }),
        (zip(&[(&name("a/../../evil.go"), b"x")]), |e| {
            matches!(e, ZipError::UncleanPath(_))
        }),
        (zip(&[("/etc/passwd", b"x")]), |e| {
            matches!(e, ZipError::WrongPrefix(..))
        }),
        (zip(&[(&name("/abs.go"), b"x")]), |e| {
            matches!(e, ZipError::UncleanPath(_))
        }),
        (zip(&[(&name("a\\b.go"), b"x")]), |e| {
            matches!(e, ZipError::UncleanPath(_))
        }),
        (zip(&[("example.com/other@v1.2.3/a.go", b"x")]), |e| {
            matches!(e, ZipError::WrongPrefix(..))
        }),
        (zip(&[(&format!("{M}@v1.2.4/a.go"), b"x")]), |e| {
            matches!(e, ZipError::WrongPrefix(..))
        }),
        (zip(&[(&name("A.go"), b"x"), (&name("a.go"), b"y")]), |e| {
            matches!(e, ZipError::CaseCollision(..))
        }),
        (
            zip(&[(&name("Sub/x.go"), b"x"), (&name("sub/y.go"), b"y")]),
            |e| matches!(e, ZipError::CaseCollision(..)),
        ),
        (zip(&[(&name("a.go"), b"x"), (&name("a.go"), b"y")]), |e| {
            matches!(e, ZipError::Duplicate(_))
        }),
        (zip(&[(&name("x"), b"x"), (&name("x/y.go"), b"y")]), |e| {
            matches!(e, ZipError::Duplicate(_))
        }),
        (
            zip(&[(&name("go.mod"), b"module example.com/other\n")]),
            |e| matches!(e, ZipError::ModuleMismatch(..)),
        ),
        (zip(&[(&name("go.mod"), b"go 1.21\n")]), |e| {
            *e == ZipError::NoModuleLine
        }),
        (zip(&[(&name("sub/go.mod"), b"module x.com/a\n")]), |e| {
            matches!(e, ZipError::MisplacedGoMod(_))
        }),
        (zip(&[(&name("GO.MOD"), b"module x.com/a\n")]), |e| {
            matches!(e, ZipError::MisplacedGoMod(_))
        }),
        (zip(&[(&name("a:b.go"), b"x")]), |e| {
            matches!(e, ZipError::BadCharacter(_))
        }),
    ];
    for (i, (bytes, expected)) in cases.into_iter().enumerate() {
        let error = check(bytes).expect_err(&format!("case {i} must be refused"));
        assert!(expected(&error), "case {i}: {error}");
    }
}

#[test]
fn too_large_contents_are_refused_by_declared_and_real_size() {
    // The limits scaled down 1024 times (500 KiB, 16 KiB): the same code paths, without 500 MiB.
    let limits = Limits {
        total: MAX_ZIP_UNCOMPRESSED >> 10,
        one_file: MAX_GO_MOD >> 10,
    };
    let within = |bytes: Vec<u8>| {
        let len = bytes.len() as u64;
        check_zip_within(bytes, len, M, V, limits)
    };
    let chunk = vec![0u8; 100 << 10];
    let names: Vec<String> = (0..6).map(|i| name(&format!("f{i}"))).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &chunk[..])).collect();
    assert_eq!(within(zip(&entries[..4])).map(|z| z.go_mod), Ok(None));
    assert_eq!(within(zip(&entries)), Err(ZipError::TooLarge));
    let mut big_mod = format!("module {M}\n").into_bytes();
    big_mod.resize((16 << 10) + 10, b'\n');
    assert!(matches!(
        within(zip(&[(&name("go.mod"), &big_mod)])),
        Err(ZipError::FileTooLarge(_))
    ));
    assert!(matches!(
        within(zip(&[(&name("LICENSE"), &big_mod)])),
        Err(ZipError::FileTooLarge(_))
    ));
}

#[test]
fn latest_prefers_releases() {
    assert_eq!(
        latest(["v1.0.0", "v1.10.0", "v1.9.0", "v2.0.0-rc.1+incompatible"]),
        Some("v1.10.0")
    );
    assert_eq!(latest(["v0.1.0-alpha", "v0.1.0-beta"]), Some("v0.1.0-beta"));
    assert_eq!(latest([]), None);
}
