//! npm packuments read from an upstream registry (remote repositories): where the copy is kept, the URL
//! the upstream serves it at, the document as arca serves it (every `dist.tarball` pointing at arca, full
//! or abbreviated), and what a tarball's upstream URL and published digests are.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::npm::{abbreviated_version, is_valid_version, tarball_file, visible_tags};

/// JSON values an upstream packument may hold. npmjs's largest packuments hold a few hundred thousand;
/// parsed, a value costs 32 to 80 bytes, so this bounds one parse to a few hundred MiB.
pub const MAX_PACKUMENT_VALUES: usize = 4_000_000;

/// Where a remote repository keeps a package's upstream packument: beside the tarballs, under a name no
/// tarball can have (tarballs are `{name}-{version}.tgz`).
pub fn packument_path(name: &str) -> String {
    format!("{name}/-/packument.json")
}

/// The packument's path under the registry base, as npm asks for it: a scoped name's `/` encoded.
pub fn upstream_path(name: &str) -> String {
    name.replacen('/', "%2f", 1)
}

/// The versions arca serves of an upstream packument: keys that are SemVer (a version names a path in
/// the repository, so anything else is left out) with an object as manifest whose `dist.tarball` says
/// where to fetch it (a version listed without one could only ever answer 404, where npm, not seeing
/// it, picks another that satisfies the range; fuzzing found the two disagreeing).
fn servable(versions: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    versions.iter().filter(|(v, m)| {
        is_valid_version(v)
            && m.get("dist")
                .and_then(|d| d.get("tarball"))
                .is_some_and(Value::is_string)
    })
}

/// The packument as arca serves it: versions that are not SemVer dropped, each `dist.tarball` at
/// `{tarball_base}/{name}/-/{name}-{version}.tgz`, dist-tags limited to the versions kept, and
/// `_attachments` gone. The abbreviated form (`application/vnd.npm.install-v1+json`) is derived from
/// it; `modified` is the upstream's `time.modified`, else `fallback_modified`.
pub fn served(
    mut doc: Map<String, Value>,
    name: &str,
    tarball_base: &str,
    abbreviated: bool,
    fallback_modified: &str,
) -> Value {
    let upstream_versions = match doc.remove("versions") {
        Some(Value::Object(v)) => v,
        _ => Map::new(),
    };
    let mut versions = Map::new();
    for (version, manifest) in servable(&upstream_versions) {
        let mut manifest = manifest.clone();
        let object = manifest.as_object_mut().expect("servable keeps objects");
        let dist = object.entry("dist").or_insert_with(|| json!({}));
        if !dist.is_object() {
            *dist = json!({});
        }
        dist["tarball"] = json!(format!(
            "{tarball_base}/{name}/-/{}",
            tarball_file(name, version)
        ));
        versions.insert(version.clone(), manifest);
    }
    let live: Vec<&str> = versions.keys().map(String::as_str).collect();
    let stored_tags = match doc.get("dist-tags") {
        Some(Value::Object(t)) => t.clone(),
        _ => Map::new(),
    };
    let tags = visible_tags(&stored_tags, &live);
    if abbreviated {
        let modified = doc
            .get("time")
            .and_then(|t| t.get("modified"))
            .and_then(Value::as_str)
            .unwrap_or(fallback_modified)
            .to_string();
        let small: Map<String, Value> = versions
            .iter()
            .map(|(v, m)| (v.clone(), abbreviated_version(m)))
            .collect();
        return json!({"name": name, "modified": modified, "dist-tags": tags, "versions": small});
    }
    doc.remove("_attachments");
    doc.insert("dist-tags".into(), Value::Object(tags));
    doc.insert("versions".into(), Value::Object(versions));
    Value::Object(doc)
}

/// A version's tarball as the upstream packument lists it.
#[derive(Debug, PartialEq, Eq)]
pub struct UpstreamTarball {
    pub version: String,
    /// `dist.tarball` as the upstream wrote it (maybe on another host, maybe relative).
    pub url: String,
    /// From `dist.integrity` (lower-case hex), when it holds a SHA-512.
    pub sha512: Option<String>,
    /// From `dist.shasum`, used only when there is no SHA-512.
    pub sha1: Option<String>,
}

/// The tarball `file` (`{name}-{version}.tgz`, as `served` names it) of a version the packument lists,
/// or None when it lists no such version or no tarball for it.
pub fn tarball_of(doc: &Map<String, Value>, name: &str, file: &str) -> Option<UpstreamTarball> {
    let bare = super::npm::bare_name(name);
    let version = file
        .strip_prefix(bare)?
        .strip_prefix('-')?
        .strip_suffix(".tgz")?;
    let versions = doc.get("versions")?.as_object()?;
    let (version, manifest) = servable(versions).find(|(v, _)| v.as_str() == version)?;
    let dist = manifest.get("dist")?;
    let url = dist.get("tarball")?.as_str()?.to_string();
    let sha512 = dist
        .get("integrity")
        .and_then(Value::as_str)
        .and_then(sha512_of_integrity);
    let sha1 = match sha512 {
        Some(_) => None,
        None => dist
            .get("shasum")
            .and_then(Value::as_str)
            .filter(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase),
    };
    Some(UpstreamTarball {
        version: version.clone(),
        url,
        sha512,
        sha1,
    })
}

/// The SHA-512 of a subresource-integrity string (`sha512-<base64>`, maybe among other hashes, each
/// maybe with `?options`), in hex.
pub fn sha512_of_integrity(integrity: &str) -> Option<String> {
    integrity.split_whitespace().find_map(|entry| {
        let encoded = entry.strip_prefix("sha512-")?;
        let encoded = encoded.split('?').next().unwrap_or(encoded);
        let digest = STANDARD.decode(encoded).ok()?;
        (digest.len() == 64).then(|| hex::encode(digest))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha512};

    fn obj(v: Value) -> Map<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn upstream_doc() -> Map<String, Value> {
        obj(json!({
            "_id": "@acme/util", "name": "@acme/util",
            "dist-tags": {"latest": "1.1.0", "next": "../../evil", "beta": "2.0.0-rc.1"},
            "versions": {
                "1.0.0": {"name": "@acme/util", "version": "1.0.0", "scripts": {"x": "y"},
                          "dist": {"tarball": "https://registry.example/@acme/util/-/util-1.0.0.tgz",
                                   "shasum": "AB".repeat(20)}},
                "1.1.0": {"name": "@acme/util", "version": "1.1.0", "dependencies": {"a": "^1"},
                          "dist": {"tarball": "https://cdn.example/u.tgz",
                                   "integrity": format!("sha1-xyz sha512-{}?opt", STANDARD.encode([7u8; 64])),
                                   "shasum": "cd".repeat(20)}},
                "../../evil": {"dist": {"tarball": "https://x/evil.tgz"}},
                "2.0.0-rc.1": "not an object"
            },
            "time": {"modified": "2026-01-02T00:00:00.000Z"},
            "_attachments": {"x": 1}
        }))
    }

    #[test]
    fn paths_cannot_meet_tarballs() {
        assert_eq!(packument_path("left-pad"), "left-pad/-/packument.json");
        assert_eq!(upstream_path("@acme/util"), "@acme%2futil");
        assert_eq!(upstream_path("left-pad"), "left-pad");
        assert!(!packument_path("x").ends_with(".tgz"));
    }

    #[test]
    fn served_packuments_point_at_arca_only() {
        let base = "http://arca/artifactory/api/npm/r";
        let full = served(upstream_doc(), "@acme/util", base, false, "m");
        let versions = full["versions"].as_object().unwrap();
        assert_eq!(
            versions.keys().collect::<Vec<_>>(),
            ["1.0.0", "1.1.0"],
            "versions that are not SemVer or not objects are left out"
        );
        assert_eq!(
            full["versions"]["1.1.0"]["dist"]["tarball"],
            "http://arca/artifactory/api/npm/r/@acme/util/-/util-1.1.0.tgz"
        );
        assert_eq!(full["versions"]["1.0.0"]["scripts"]["x"], "y");
        assert_eq!(full["dist-tags"], json!({"latest": "1.1.0"}));
        assert!(full.get("_attachments").is_none());
        assert!(!full.to_string().contains("example"), "{full}");
        let small = served(upstream_doc(), "@acme/util", base, true, "m");
        assert_eq!(small["modified"], "2026-01-02T00:00:00.000Z");
        assert!(small["versions"]["1.0.0"].get("scripts").is_none());
        assert_eq!(small["versions"]["1.1.0"]["dependencies"]["a"], "^1");
        assert!(!small.to_string().contains("example"), "{small}");
        let bare = served(
            obj(
                json!({"versions": {"1.0.0": {"dist": {"tarball": "t"}}, "1.1.0": {"dist": 5},
                                    "1.2.0": {"dist": {}}, "1.3.0": {}}}),
            ),
            "x",
            base,
            true,
            "m",
        );
        assert_eq!(bare["modified"], "m");
        assert_eq!(
            bare["versions"]["1.0.0"]["dist"]["tarball"],
            "http://arca/artifactory/api/npm/r/x/-/x-1.0.0.tgz"
        );
        assert_eq!(
            bare["versions"].as_object().unwrap().len(),
            1,
            "versions without a tarball to fetch are left out"
        );
        assert_eq!(bare["dist-tags"]["latest"], "1.0.0");
    }

    #[test]
    fn tarballs_are_found_by_file_and_carry_their_digests() {
        let doc = upstream_doc();
        let t = tarball_of(&doc, "@acme/util", "util-1.1.0.tgz").unwrap();
        assert_eq!(t.url, "https://cdn.example/u.tgz");
        assert_eq!(t.sha512.as_deref(), Some("07".repeat(64).as_str()));
        assert_eq!(t.sha1, None, "integrity wins over shasum");
        let t = tarball_of(&doc, "@acme/util", "util-1.0.0.tgz").unwrap();
        assert_eq!((t.sha512, t.sha1), (None, Some("ab".repeat(20))));
        for missing in [
            "util-3.0.0.tgz",
            "util-1.0.0.tar",
            "other-1.0.0.tgz",
            "util-../../evil.tgz",
            "util-2.0.0-rc.1.tgz",
            "packument.json",
        ] {
            assert_eq!(tarball_of(&doc, "@acme/util", missing), None, "{missing}");
        }
    }

    #[test]
    fn integrity_strings() {
        let digest = Sha512::digest(b"abc");
        let sri = format!("sha512-{}", STANDARD.encode(digest));
        assert_eq!(sha512_of_integrity(&sri), Some(hex::encode(digest)));
        assert_eq!(sha512_of_integrity("sha1-AAAA"), None);
        assert_eq!(sha512_of_integrity("sha512-AAAA"), None, "too short");
        assert_eq!(sha512_of_integrity("sha512-***"), None);
    }
}
