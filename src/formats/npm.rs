//! npm: package names (scoped and not), tarball names, integrity strings, `latest` selection, and the
//! packument in its full and abbreviated (`application/vnd.npm.install-v1+json`) forms.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

pub const ABBREVIATED: &str = "application/vnd.npm.install-v1+json";

/// JSON values a package document (`npm publish`, `deprecate`, `unpublish`) may hold: ~20 MiB parsed at
/// worst. An edit sends every version's manifest back: 1,000 versions of 100 values each fit twice.
pub const MAX_DOCUMENT_VALUES: usize = 250_000;
/// JSON values of one version's manifest (a `package.json` holds a few hundred), which is stored and
/// parsed again for every packument served.
pub const MAX_MANIFEST_VALUES: usize = 10_000;

/// npm's rules for new package names: at most 214 characters, lowercase, URL-safe, not starting with `.`
/// or `_`; a scope is `@scope/`.
pub fn is_valid_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 214 {
        return false;
    }
    let part_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('.')
            && !p.starts_with('_')
            && p.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-._~".contains(&b))
    };
    match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, bare)) => part_ok(scope) && part_ok(bare),
            None => false,
        },
        None => part_ok(name),
    }
}

/// The name without its scope, as tarball file names use it.
pub fn bare_name(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

pub fn tarball_file(name: &str, version: &str) -> String {
    format!("{}-{version}.tgz", bare_name(name))
}

/// The tarball's path inside the repository.
pub fn tarball_path(name: &str, version: &str) -> String {
    format!("{name}/-/{}", tarball_file(name, version))
}

/// Subresource-integrity string of a SHA-512 given in hex.
pub fn integrity(sha512_hex: &str) -> String {
    let bytes = hex::decode(sha512_hex).unwrap_or_default();
    format!("sha512-{}", STANDARD.encode(bytes))
}

pub fn is_valid_version(version: &str) -> bool {
    version.len() <= 256 && semver::Version::parse(version).is_ok()
}

/// The highest release (non-prerelease) version, else the highest version.
pub fn latest_of<'a>(versions: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let parsed: Vec<semver::Version> = versions
        .into_iter()
        .filter_map(|v| semver::Version::parse(v).ok())
        .collect();
    parsed
        .iter()
        .filter(|v| v.pre.is_empty())
        .max()
        .or_else(|| parsed.iter().max())
        .map(|v| v.to_string())
}

/// The dist-tags clients see: stored tags that name a live version, and `latest` (the highest release)
/// when the stored one names none.
pub fn visible_tags(stored: &Map<String, Value>, live: &[&str]) -> Map<String, Value> {
    let mut tags = stored.clone();
    tags.retain(|_, v| v.as_str().is_some_and(|v| live.contains(&v)));
    if !tags.contains_key("latest") {
        if let Some(latest) = latest_of(live.iter().copied()) {
            tags.insert("latest".into(), json!(latest));
        }
    }
    tags
}

/// The packument's `_rev`: it changes whenever a version appears or disappears or the package document is
/// written, so a client editing an outdated document is told (409), as CouchDB would.
pub fn revision(live_versions: usize, modified_ms: i64) -> String {
    format!("{live_versions}-{modified_ms:x}")
}

/// npm refuses dist-tags that are SemVer ranges (`1`, `^1.2`, `*`): they would read as versions.
pub fn is_valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        && semver::VersionReq::parse(tag).is_err()
}

/// Longest deprecation message kept.
pub const MAX_DEPRECATION_CHARS: usize = 1024;

/// A live version as an edit of the package document sees it.
pub struct LiveFacts<'a> {
    pub version: &'a str,
    pub deprecated: Option<&'a str>,
}

/// What a PUT of the package document without attachments changes (`npm deprecate`, `npm unpublish
/// pkg@ver`, or a client editing dist-tags through the document).
#[derive(Debug, PartialEq)]
pub struct Edit {
    /// Live versions the document leaves out: unpublished.
    pub removed: Vec<String>,
    /// Versions whose deprecation message changes (`None`: no longer deprecated).
    pub deprecations: Vec<(String, Option<String>)>,
    /// The dist-tags to store, when the document carries them.
    pub tags: Option<Map<String, Value>>,
    /// Whether the edit changes more than unpublishing does (deprecations, tags of the remaining
    /// versions): that is an `upload`; removing versions alone is a `delete`.
    pub needs_upload: bool,
}

/// Compares a document with the package as served (`current_tags` are the tags clients see) and says
/// what it changes. An unpublish drops the tags of the removed versions and, when `latest` was one of
/// them, points `latest` elsewhere (npm's client picks it): both belong to the unpublish.
pub fn plan_edit(
    versions: Option<&Map<String, Value>>,
    tags: Option<&Map<String, Value>>,
    live: &[LiveFacts<'_>],
    current_tags: &Map<String, Value>,
) -> Edit {
    let removed: Vec<String> = match versions {
        Some(v) => live
            .iter()
            .filter(|l| !v.contains_key(l.version))
            .map(|l| l.version.to_string())
            .collect(),
        None => Vec::new(),
    };
    let deprecations: Vec<(String, Option<String>)> = versions
        .map(|v| {
            live.iter()
                .filter_map(|l| {
                    let message: Option<String> = v
                        .get(l.version)?
                        .get("deprecated")
                        .and_then(Value::as_str)
                        .filter(|m| !m.is_empty())
                        .map(|m| m.chars().take(MAX_DEPRECATION_CHARS).collect());
                    (message.as_deref() != l.deprecated).then(|| (l.version.to_string(), message))
                })
                .collect()
        })
        .unwrap_or_default();
    let tags: Option<Map<String, Value>> = tags.map(|t| {
        t.iter()
            .filter(|(k, v)| v.is_string() && is_valid_tag(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    let was_removed = |v: &Value| removed.iter().any(|r| v.as_str() == Some(r.as_str()));
    let latest_freed = current_tags.get("latest").is_some_and(was_removed);
    let tags_changed = tags.as_ref().is_some_and(|new| {
        let mut expected = current_tags.clone();
        expected.retain(|_, v| !was_removed(v));
        let mut new = new.clone();
        if latest_freed {
            new.remove("latest");
        }
        new != expected
    });
    let needs_upload = removed.is_empty() || !deprecations.is_empty() || tags_changed;
    Edit {
        removed,
        deprecations,
        tags,
        needs_upload,
    }
}

/// A version of the packument: the stored manifest with `dist` (and `deprecated`) as arca has them.
pub struct VersionDoc<'a> {
    pub manifest: Value,
    pub version: &'a str,
    pub tarball_url: String,
    pub sha1: &'a str,
    pub sha512: &'a str,
    pub deprecated: Option<&'a str>,
    pub published: String,
}

fn with_dist(doc: &VersionDoc<'_>) -> Value {
    let mut m = match &doc.manifest {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    m.insert(
        "dist".into(),
        json!({"tarball": doc.tarball_url, "shasum": doc.sha1, "integrity": integrity(doc.sha512)}),
    );
    match doc.deprecated {
        Some(msg) if !msg.is_empty() => {
            m.insert("deprecated".into(), json!(msg));
        }
        _ => {
            m.remove("deprecated");
        }
    }
    Value::Object(m)
}

/// Fields the abbreviated document keeps (npm's "corgi" format).
const ABBREVIATED_FIELDS: [&str; 16] = [
    "name",
    "version",
    "dependencies",
    "optionalDependencies",
    "devDependencies",
    "bundleDependencies",
    "peerDependencies",
    "peerDependenciesMeta",
    "bin",
    "directories",
    "dist",
    "engines",
    "_hasShrinkwrap",
    "hasInstallScript",
    "deprecated",
    "os",
];

/// A version's manifest cut down to the fields the abbreviated document keeps.
pub fn abbreviated_version(full: &Value) -> Value {
    let mut small = Map::new();
    for key in ABBREVIATED_FIELDS.iter().chain(["cpu"].iter()) {
        if let Some(value) = full.get(*key) {
            small.insert((*key).to_string(), value.clone());
        }
    }
    Value::Object(small)
}

/// The packument. `dist_tags` are already restricted to live versions.
pub fn packument(
    name: &str,
    rev: &str,
    dist_tags: &Map<String, Value>,
    versions: &[VersionDoc<'_>],
    created: &str,
    modified: &str,
    abbreviated: bool,
) -> Value {
    let mut docs = Map::new();
    let mut times = Map::new();
    times.insert("created".into(), json!(created));
    times.insert("modified".into(), json!(modified));
    for v in versions {
        let full = with_dist(v);
        let doc = if abbreviated {
            abbreviated_version(&full)
        } else {
            full
        };
        docs.insert(v.version.to_string(), doc);
        times.insert(v.version.to_string(), json!(v.published));
    }
    if abbreviated {
        return json!({"name": name, "modified": modified, "dist-tags": dist_tags, "versions": docs});
    }
    let latest_doc = dist_tags
        .get("latest")
        .and_then(Value::as_str)
        .and_then(|l| docs.get(l));
    let description = latest_doc
        .and_then(|d| d.get("description"))
        .cloned()
        .unwrap_or(json!(""));
    json!({
        "_id": name,
        "_rev": rev,
        "name": name,
        "description": description,
        "dist-tags": dist_tags,
        "versions": docs,
        "time": times,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["left-pad", "@acme/util", "a.b_c~d"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in [
            "",
            "Upper",
            ".hidden",
            "_x",
            "@acme",
            "@acme/",
            "a/b",
            "a b",
            &"x".repeat(215),
        ] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        assert_eq!(
            tarball_path("@acme/util", "1.0.0"),
            "@acme/util/-/util-1.0.0.tgz"
        );
        assert_eq!(tarball_file("left-pad", "1.2.3"), "left-pad-1.2.3.tgz");
    }

    #[test]
    fn latest_prefers_releases() {
        assert_eq!(
            latest_of(["1.0.0", "2.0.0-beta.1", "1.5.0"]).as_deref(),
            Some("1.5.0")
        );
        assert_eq!(latest_of(["2.0.0-beta.1"]).as_deref(), Some("2.0.0-beta.1"));
        assert_eq!(latest_of(["1.10.0", "1.9.0"]).as_deref(), Some("1.10.0"));
        assert_eq!(latest_of(Vec::<&str>::new()), None);
    }

    #[test]
    fn integrity_is_base64_of_the_digest() {
        use sha2::{Digest, Sha512};
        let hexed = hex::encode(Sha512::digest(b"abc"));
        assert_eq!(
            integrity(&hexed),
            "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
        );
    }

    #[test]
    fn visible_tags_follow_live_versions() {
        let stored = obj(json!({"latest": "2.0.0", "beta": "3.0.0-rc.1", "old": "0.9.0"}));
        let tags = visible_tags(&stored, &["1.0.0", "2.0.0", "3.0.0-rc.1"]);
        assert_eq!(tags, obj(json!({"latest": "2.0.0", "beta": "3.0.0-rc.1"})));
        let tags = visible_tags(&stored, &["1.0.0", "1.5.0", "3.0.0-rc.1"]);
        assert_eq!(tags, obj(json!({"latest": "1.5.0", "beta": "3.0.0-rc.1"})));
        assert!(visible_tags(&stored, &[]).is_empty());
        assert_ne!(revision(2, 1000), revision(1, 1000));
        assert_ne!(revision(2, 1000), revision(2, 1001));
    }

    #[test]
    fn tags() {
        for ok in ["latest", "beta", "next-2", "v1.x.y"] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in [
            "",
            "1",
            "1.2.3",
            "^1.2",
            "*",
            "x",
            "a b",
            "a/b",
            &"t".repeat(129),
        ] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }

    fn obj(v: Value) -> Map<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    const LIVE: [LiveFacts<'static>; 3] = [
        LiveFacts {
            version: "1.0.0",
            deprecated: Some("old"),
        },
        LiveFacts {
            version: "1.1.0",
            deprecated: None,
        },
        LiveFacts {
            version: "2.0.0",
            deprecated: None,
        },
    ];

    #[test]
    fn an_unpublish_is_a_delete_only() {
        // What `npm unpublish pkg@2.0.0` sends: the version gone, its tags gone, latest re-pointed.
        let tags = obj(json!({"latest": "2.0.0", "stable": "1.1.0", "next": "2.0.0"}));
        let versions = obj(json!({"1.0.0": {"deprecated": "old"}, "1.1.0": {}}));
        let sent = obj(json!({"latest": "1.1.0", "stable": "1.1.0"}));
        let edit = plan_edit(Some(&versions), Some(&sent), &LIVE, &tags);
        assert_eq!(edit.removed, ["2.0.0"]);
        assert!(edit.deprecations.is_empty());
        assert!(!edit.needs_upload);
        assert_eq!(edit.tags, Some(sent));
    }

    #[test]
    fn deprecations_and_tag_moves_are_uploads() {
        let tags = obj(json!({"latest": "2.0.0"}));
        let versions = obj(
            json!({"1.0.0": {"deprecated": ""}, "1.1.0": {"deprecated": "use 2"}, "2.0.0": {}}),
        );
        let edit = plan_edit(Some(&versions), None, &LIVE, &tags);
        assert!(edit.removed.is_empty() && edit.needs_upload);
        assert_eq!(
            edit.deprecations,
            [
                ("1.0.0".to_string(), None),
                ("1.1.0".to_string(), Some("use 2".to_string()))
            ]
        );
        // Unpublishing while re-pointing a tag of a remaining version needs both rights.
        let versions = obj(json!({"1.0.0": {"deprecated": "old"}, "1.1.0": {}}));
        let moved = obj(json!({"latest": "1.1.0", "stable": "1.0.0"}));
        let edit = plan_edit(Some(&versions), Some(&moved), &LIVE, &tags);
        assert_eq!(edit.removed, ["2.0.0"]);
        assert!(edit.needs_upload);
        // A document that changes nothing is not an unpublish either.
        let all = obj(json!({"1.0.0": {"deprecated": "old"}, "1.1.0": {}, "2.0.0": {}}));
        let edit = plan_edit(Some(&all), Some(&tags), &LIVE, &tags);
        assert!(edit.removed.is_empty() && edit.deprecations.is_empty() && edit.needs_upload);
    }

    #[test]
    fn long_deprecations_are_cut_and_bad_tags_dropped() {
        let long = "é".repeat(MAX_DEPRECATION_CHARS + 5);
        let versions = obj(
            json!({"1.0.0": {"deprecated": "old"}, "1.1.0": {"deprecated": long}, "2.0.0": {}}),
        );
        let sent = obj(json!({"latest": "2.0.0", "1.0": "1.0.0", "ok": 5}));
        let edit = plan_edit(
            Some(&versions),
            Some(&sent),
            &LIVE,
            &obj(json!({"latest": "2.0.0"})),
        );
        assert_eq!(
            edit.deprecations[0].1.as_ref().map(|m| m.chars().count()),
            Some(MAX_DEPRECATION_CHARS)
        );
        assert_eq!(edit.tags, Some(obj(json!({"latest": "2.0.0"}))));
    }

    #[test]
    fn packuments_full_and_abbreviated() {
        let tags: Map<String, Value> = serde_json::from_value(json!({"latest": "1.0.0"})).unwrap();
        let docs = vec![VersionDoc {
            manifest: json!({"name": "x", "version": "1.0.0", "description": "d", "scripts": {"test": "t"},
                             "dependencies": {"y": "^1"}, "dist": {"tarball": "elsewhere"}}),
            version: "1.0.0",
            tarball_url: "http://h/x/-/x-1.0.0.tgz".into(),
            sha1: "aa",
            sha512: "bb",
            deprecated: Some("use z"),
            published: "2026-01-01T00:00:00.000Z".into(),
        }];
        let full = packument("x", "1-a", &tags, &docs, "c", "m", false);
        assert_eq!(
            full["versions"]["1.0.0"]["dist"]["tarball"],
            "http://h/x/-/x-1.0.0.tgz"
        );
        assert_eq!(full["versions"]["1.0.0"]["deprecated"], "use z");
        assert_eq!(full["description"], "d");
        assert_eq!(full["time"]["1.0.0"], "2026-01-01T00:00:00.000Z");
        let small = packument("x", "1-a", &tags, &docs, "c", "m", true);
        assert!(small["versions"]["1.0.0"].get("scripts").is_none());
        assert_eq!(small["versions"]["1.0.0"]["dependencies"]["y"], "^1");
        assert_eq!(small["modified"], "m");
    }
}
