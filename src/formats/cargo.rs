//! Cargo registries: crate names, the sparse index's file layout, the publish request's framing, and the
//! index entry built from the publish metadata (https://doc.rust-lang.org/cargo/reference/registry-index.html).

use serde::Deserialize;
use serde_json::{json, Map, Value};

/// Crate names: ASCII letters, digits, `-` and `_`, starting with a letter, at most 64 characters.
pub fn is_valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphabetic()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// Names that collide on crates.io's rules: case and `-`/`_` do not distinguish crates.
pub fn canonical(name: &str) -> String {
    name.to_ascii_lowercase().replace('-', "_")
}

/// The index file path of a crate (without the `index/` prefix), from its lowercased name.
pub fn index_path(name: &str) -> String {
    let n = name.to_ascii_lowercase();
    match n.len() {
        1 => format!("1/{n}"),
        2 => format!("2/{n}"),
        3 => format!("3/{}/{n}", &n[..1]),
        _ => format!("{}/{}/{n}", &n[..2], &n[2..4]),
    }
}

/// The crate name an index path names, if the path follows the layout.
pub fn name_of_index_path(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    let name = *parts.last()?;
    if !is_valid_name(name)
        || index_path(name) != path.to_ascii_lowercase()
        || name != name.to_ascii_lowercase()
    {
        return None;
    }
    Some(name.to_string())
}

/// A dependency as `cargo publish` describes it.
#[derive(Debug, Deserialize)]
pub struct PublishDep {
    pub name: String,
    pub version_req: String,
    #[serde(default)]
    pub features: Vec<String>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default = "yes")]
    pub default_features: bool,
    pub target: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    pub registry: Option<String>,
    pub explicit_name_in_toml: Option<String>,
}

fn yes() -> bool {
    true
}

/// The JSON part of a publish request (fields arca does not need are ignored).
#[derive(Debug, Deserialize)]
pub struct PublishMeta {
    pub name: String,
    pub vers: String,
    #[serde(default)]
    pub deps: Vec<PublishDep>,
    #[serde(default)]
    pub features: Map<String, Value>,
    pub links: Option<String>,
    pub rust_version: Option<String>,
    pub description: Option<String>,
}

/// The index entry for a published version; `yanked` is filled in when served.
pub fn index_entry(meta: &PublishMeta, cksum: &str) -> Value {
    let deps: Vec<Value> = meta
        .deps
        .iter()
        .map(|d| {
            // A renamed dependency is listed under its name in Cargo.toml, with `package` the real crate.
            let (name, package) = match &d.explicit_name_in_toml {
                Some(alias) => (alias.clone(), Some(d.name.clone())),
                None => (d.name.clone(), None),
            };
            json!({
                "name": name,
                "req": d.version_req,
                "features": d.features,
                "optional": d.optional,
                "default_features": d.default_features,
                "target": d.target,
                "kind": d.kind.clone().unwrap_or_else(|| "normal".to_string()),
                "registry": d.registry,
                "package": package,
            })
        })
        .collect();
    let mut entry = json!({
        "name": meta.name,
        "vers": meta.vers,
        "deps": deps,
        "cksum": cksum,
        "features": meta.features,
        "yanked": false,
        "links": meta.links,
        "v": 2,
    });
    if let Some(rv) = &meta.rust_version {
        entry["rust_version"] = json!(rv);
    }
    entry
}

/// Checks the publish metadata: a valid name and SemVer version, sane dependency names.
/// Messages name the field (and a dependency by its position), never the value sent: a secret pasted
/// into the wrong field must not come back in the answer or the log.
pub fn validate(meta: &PublishMeta) -> Result<(), String> {
    if !is_valid_name(&meta.name) {
        return Err(
            "invalid crate name: use letters, digits, `-` and `_`, starting with a letter, at most 64"
                .into(),
        );
    }
    if meta.vers.len() > 128 || semver::Version::parse(&meta.vers).is_err() {
        return Err("invalid `vers`: not a SemVer version of at most 128 characters".into());
    }
    if meta.deps.len() > 500 {
        return Err("too many dependencies (at most 500)".into());
    }
    for (position, d) in meta.deps.iter().enumerate() {
        if !is_valid_name(&d.name)
            || d.explicit_name_in_toml
                .as_deref()
                .is_some_and(|n| !is_valid_name(n))
        {
            return Err(format!("invalid name of dependency #{}", position + 1));
        }
        if semver::VersionReq::parse(&d.version_req).is_err() {
            return Err(format!(
                "invalid version requirement (`version_req`) of dependency #{}",
                position + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_layout() {
        assert_eq!(index_path("a"), "1/a");
        assert_eq!(index_path("ab"), "2/ab");
        assert_eq!(index_path("abc"), "3/a/abc");
        assert_eq!(index_path("Serde_Json"), "se/rd/serde_json");
        assert_eq!(
            name_of_index_path("se/rd/serde_json").as_deref(),
            Some("serde_json")
        );
        assert_eq!(name_of_index_path("3/a/abc").as_deref(), Some("abc"));
        assert_eq!(name_of_index_path("xx/rd/serde_json"), None);
        assert_eq!(name_of_index_path("se/rd/Serde_json"), None);
        assert_eq!(name_of_index_path("../x"), None);
    }

    #[test]
    fn names() {
        assert!(is_valid_name("my-crate_2"));
        assert!(!is_valid_name("2crate"));
        assert!(!is_valid_name("a/b"));
        assert_eq!(canonical("My-Crate"), canonical("my_crate"));
    }

    #[test]
    fn entries_rename_dependencies() {
        let meta: PublishMeta = serde_json::from_value(json!({
            "name": "demo", "vers": "1.0.0",
            "deps": [{"name": "real", "version_req": "^1", "explicit_name_in_toml": "alias"},
                     {"name": "dev", "version_req": "*", "kind": "dev", "default_features": false}],
            "features": {"fast": ["real/fast"]}, "links": null
        }))
        .unwrap();
        validate(&meta).unwrap();
        let e = index_entry(&meta, "abc");
        assert_eq!(e["deps"][0]["name"], "alias");
        assert_eq!(e["deps"][0]["package"], "real");
        assert_eq!(e["deps"][0]["kind"], "normal");
        assert_eq!(e["deps"][1]["kind"], "dev");
        assert_eq!(e["deps"][1]["default_features"], false);
        assert_eq!(e["cksum"], "abc");
        assert_eq!(e["features"]["fast"][0], "real/fast");
    }

    #[test]
    fn validation_names_the_problem() {
        let bad: PublishMeta =
            serde_json::from_value(json!({"name": "demo", "vers": "one", "deps": []})).unwrap();
        assert!(validate(&bad).unwrap_err().contains("SemVer"));
        let bad: PublishMeta = serde_json::from_value(json!({
            "name": "demo", "vers": "1.0.0",
            "deps": [{"name": "ok", "version_req": "^1"}, {"name": "ok2", "version_req": "secret!"}]
        }))
        .unwrap();
        let message = validate(&bad).unwrap_err();
        assert!(
            message.contains("#2") && !message.contains("secret"),
            "{message}"
        );
    }
}
