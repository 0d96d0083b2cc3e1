//! What a remote go repository accepts from its upstream GOPROXY before keeping it, and what a virtual
//! one reads from its members' documents. Every refusal is worded here, never copied from the upstream
//! (its answer names a module's files, which go to no client).

use serde_json::Value;

use super::go::{check_go_mod, check_version, check_zip, CheckedZip, MAX_GO_MOD};
use rawzip::ReaderAt;

/// An `@v/list` of this many bytes holds some 200,000 versions: more is no module's list.
pub const MAX_LIST_BYTES: u64 = 4 << 20;
/// `.info` and `@latest` are one small JSON object (`Version`, `Time`, maybe `Origin`).
pub const MAX_INFO_BYTES: u64 = 64 << 10;

/// The versions an `@v/list` names, in its order: canonical versions only, each once (the go command
/// skips other lines too).
pub fn listed_versions(list: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(list);
    let mut seen = std::collections::HashSet::new();
    text.lines()
        .map(str::trim)
        .filter(|v| check_version(v).is_ok())
        .filter(|v| seen.insert(v.to_string()))
        .map(str::to_string)
        .collect()
}

/// The `Version` of an `.info` or `@latest` document, when it is a canonical version.
pub fn info_version(info: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(info).ok()?;
    let version = doc.get("Version")?.as_str()?;
    check_version(version).ok()?;
    Some(version.to_string())
}

/// The `Time` of an `.info` or `@latest` document, as written.
pub fn info_time(info: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(info).ok()?;
    let time = doc.get("Time")?.as_str()?;
    (time.len() <= 64).then(|| time.to_string())
}

/// An upstream `@v/list`: bounded, text.
pub fn check_list(len: u64, list: &[u8]) -> Result<(), String> {
    if len > MAX_LIST_BYTES {
        return Err(format!("a version list over {} MiB", MAX_LIST_BYTES >> 20));
    }
    std::str::from_utf8(list)
        .map(|_| ())
        .map_err(|_| "a version list that is not UTF-8 text".into())
}

/// An upstream `@latest`: a small JSON object naming a canonical version.
pub fn check_latest(len: u64, doc: &[u8]) -> Result<(), String> {
    if len > MAX_INFO_BYTES || info_version(doc).is_none() {
        return Err("an @latest that is not a JSON object with a version".into());
    }
    Ok(())
}

/// An upstream `.info` of `version`: a small JSON object naming exactly that version.
pub fn check_info(len: u64, doc: &[u8], version: &str) -> Result<(), String> {
    if len > MAX_INFO_BYTES || info_version(doc).as_deref() != Some(version) {
        return Err(format!(
            "a .info of {version} that is not a JSON object with that version"
        ));
    }
    Ok(())
}

/// An upstream `.mod` of `module`: at most 16 MiB, declaring that module (as the go command demands).
pub fn check_mod(len: u64, go_mod: &[u8], module: &str, version: &str) -> Result<(), String> {
    if len > MAX_GO_MOD {
        return Err(format!("a .mod of {version} over 16 MiB"));
    }
    check_go_mod(go_mod, module).map_err(|_| {
        format!("a .mod of {version} that does not declare the module it is served as")
    })
}

/// An upstream `.zip` by the module zip rules publishing checks (`go::check_zip`), and a go.mod only
/// when the version is not `+incompatible`.
pub fn check_module_zip<R: ReaderAt>(
    reader: R,
    len: u64,
    module: &str,
    version: &str,
) -> Result<CheckedZip, String> {
    let refused =
        |why: String| format!("a zip of {version} that breaks the module zip rules ({why})");
    let incompatible = check_version(version).map_err(refused)?.incompatible;
    let checked =
        check_zip(reader, len, module, version).map_err(|e| refused(kind_of(&e).into()))?;
    if incompatible && checked.go_mod.is_some() {
        return Err(refused("a go.mod in a +incompatible version".into()));
    }
    Ok(checked)
}

/// What is wrong with a zip, without the names it holds (those are the upstream's words).
fn kind_of(e: &super::go::ZipError) -> &'static str {
    use super::go::ZipError::*;
    match e {
        NotZip => "not a zip",
        WrongPrefix(..) => "a file outside module@version/",
        UncleanPath(_) => "a file name that is not a clean relative path",
        BadCharacter(_) => "a file name with a character module files may not have",
        CaseCollision(..) => "two file names that differ only in case",
        Duplicate(_) => "a file twice",
        MisplacedGoMod(_) => "a go.mod below the module root",
        TooLarge => "over 500 MiB uncompressed",
        FileTooLarge(_) => "a go.mod or LICENSE over 16 MiB",
        ModuleMismatch(..) | NoModuleLine => "a go.mod that does not declare the module",
        Unreadable => "an unreadable go.mod",
        IncompatibleWithGoMod => "a go.mod in a +incompatible version",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_keep_canonical_versions_once_in_order() {
        let list = b"v1.1.0\nv1.0.0\n\nnot-a-version\nv1.0.0\r\nv2.0.0+incompatible\n";
        assert_eq!(
            listed_versions(list),
            ["v1.1.0", "v1.0.0", "v2.0.0+incompatible"]
        );
        assert!(check_list(10, b"v1.0.0\n").is_ok());
        assert!(check_list(MAX_LIST_BYTES + 1, b"").is_err());
        assert!(check_list(2, b"\xff\xfe").is_err());
    }

    #[test]
    fn info_documents_must_name_their_version() {
        let info = br#"{"Version":"v1.2.0","Time":"2024-01-01T00:00:00Z"}"#;
        assert_eq!(info_version(info).as_deref(), Some("v1.2.0"));
        assert_eq!(info_time(info).as_deref(), Some("2024-01-01T00:00:00Z"));
        assert!(check_info(info.len() as u64, info, "v1.2.0").is_ok());
        let wrong = check_info(info.len() as u64, info, "v1.3.0").unwrap_err();
        assert!(wrong.contains("v1.3.0"), "{wrong}");
        assert!(check_latest(info.len() as u64, info).is_ok());
        assert!(check_latest(5, b"[1,2]").is_err());
        assert!(check_latest(30, br#"{"Version":"master"}"#).is_err());
        assert!(check_info(MAX_INFO_BYTES + 1, info, "v1.2.0").is_err());
    }

    #[test]
    fn mod_files_must_declare_the_module() {
        let m = "example.com/a";
        assert!(check_mod(20, b"module example.com/a\n", m, "v1.0.0").is_ok());
        let other = check_mod(20, b"module example.com/evil\n", m, "v1.0.0").unwrap_err();
        assert!(
            !other.contains("evil"),
            "the upstream's words are not repeated: {other}"
        );
        assert!(check_mod(MAX_GO_MOD + 1, b"", m, "v1.0.0").is_err());
    }

    #[test]
    fn zip_refusals_name_the_rule_not_the_file() {
        let m = "example.com/a";
        let refused = check_module_zip(b"not a zip".to_vec(), 9, m, "v1.0.0").unwrap_err();
        assert!(
            refused.contains("not a zip") && refused.contains("v1.0.0"),
            "{refused}"
        );
    }
}
