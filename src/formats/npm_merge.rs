//! The packument of a virtual npm repository: its members' packuments merged (README "Remote and virtual
//! repositories"). A version comes from the first member in order that has it, with that member's
//! manifest and publish time; `dist-tags.latest` is the highest release version of the merge (a member's
//! own `latest` may lag behind another's); any other tag comes from the first member that sets it to a
//! version the merge kept. The package-level fields (`readme`, `homepage`, ...) are the first member's.

use serde_json::{json, Map, Value};

use super::npm::{abbreviated_version, latest_of};

/// `members`: each member's full packument, in member order, its tarball links already pointing at the
/// virtual repository. None when no member has a version.
pub fn merge(name: &str, members: Vec<Map<String, Value>>, abbreviated: bool) -> Option<Value> {
    let mut merged: Option<Map<String, Value>> = None;
    let mut versions = Map::new();
    let mut times = Map::new();
    let mut tags = Map::new();
    let (mut created, mut modified): (Option<String>, Option<String>) = (None, None);
    for mut doc in members {
        let Some(Value::Object(own)) = doc.remove("versions") else {
            continue;
        };
        let own_times = match doc.remove("time") {
            Some(Value::Object(t)) => t,
            _ => Map::new(),
        };
        for (key, earliest) in [("created", true), ("modified", false)] {
            if let Some(t) = own_times.get(key).and_then(Value::as_str) {
                let slot = if earliest {
                    &mut created
                } else {
                    &mut modified
                };
                // ISO-8601 in UTC compares as text.
                let better = slot
                    .as_deref()
                    .is_none_or(|s| if earliest { t < s } else { t > s });
                if better {
                    *slot = Some(t.to_string());
                }
            }
        }
        let mut won = Vec::new();
        for (version, manifest) in own {
            if !versions.contains_key(&version) {
                if let Some(t) = own_times.get(&version) {
                    times.insert(version.clone(), t.clone());
                }
                won.push(version.clone());
                versions.insert(version, manifest);
            }
        }
        if let Some(Value::Object(own_tags)) = doc.remove("dist-tags") {
            for (tag, target) in own_tags {
                let kept = target.as_str().is_some_and(|v| versions.contains_key(v));
                if kept && !tags.contains_key(&tag) {
                    tags.insert(tag, target);
                }
            }
        }
        if merged.is_none() && !won.is_empty() {
            merged = Some(doc);
        }
    }
    let mut doc = merged?;
    if let Some(latest) = latest_of(versions.keys().map(String::as_str)) {
        tags.insert("latest".into(), json!(latest));
    }
    let modified = modified.unwrap_or_default();
    if abbreviated {
        let small: Map<String, Value> = versions
            .iter()
            .map(|(v, m)| (v.clone(), abbreviated_version(m)))
            .collect();
        return Some(
            json!({"name": name, "modified": modified, "dist-tags": tags, "versions": small}),
        );
    }
    if let Some(description) = tags
        .get("latest")
        .and_then(Value::as_str)
        .and_then(|l| versions.get(l))
        .and_then(|m| m.get("description"))
    {
        doc.insert("description".into(), description.clone());
    }
    times.insert("created".into(), json!(created.unwrap_or_default()));
    times.insert("modified".into(), json!(modified));
    // A revision names one stored document; the merge is none, and a write goes to the deploy repository.
    doc.remove("_rev");
    doc.remove("_attachments");
    doc.insert("_id".into(), json!(name));
    doc.insert("name".into(), json!(name));
    doc.insert("dist-tags".into(), Value::Object(tags));
    doc.insert("versions".into(), Value::Object(versions));
    doc.insert("time".into(), Value::Object(times));
    Some(Value::Object(doc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(v: Value) -> Map<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn member(source: &str, versions: &[&str], tags: Value, modified: &str) -> Map<String, Value> {
        let mut vs = Map::new();
        let mut time = Map::new();
        for v in versions {
            vs.insert(
                v.to_string(),
                json!({"version": v, "description": source, "scripts": {"t": "x"},
                       "dist": {"tarball": format!("http://arca/v/p/-/p-{v}.tgz"), "shasum": source}}),
            );
            time.insert(v.to_string(), json!(format!("{source}-{v}")));
        }
        time.insert("created".into(), json!(modified));
        time.insert("modified".into(), json!(modified));
        doc(
            json!({"_id": "p", "_rev": "3-abc", "name": "p", "readme": source,
                   "dist-tags": tags, "versions": vs, "time": time}),
        )
    }

    #[test]
    fn the_first_member_wins_a_version_and_latest_is_the_highest_release() {
        let hosted = member(
            "hosted",
            &["1.0.0", "1.1.0"],
            json!({"latest": "1.0.0", "old": "1.0.0"}),
            "2026-01-01T00:00:00.000Z",
        );
        let remote = member(
            "remote",
            &["1.1.0", "2.0.0", "3.0.0-rc.1"],
            json!({"latest": "2.0.0", "next": "3.0.0-rc.1", "old": "2.0.0"}),
            "2026-02-01T00:00:00.000Z",
        );
        let merged = merge("p", vec![hosted, remote], false).unwrap();
        let versions = merged["versions"].as_object().unwrap();
        assert_eq!(versions.len(), 4);
        assert_eq!(merged["versions"]["1.1.0"]["dist"]["shasum"], "hosted");
        assert_eq!(merged["versions"]["2.0.0"]["dist"]["shasum"], "remote");
        assert_eq!(merged["time"]["1.1.0"], "hosted-1.1.0");
        assert_eq!(merged["time"]["2.0.0"], "remote-2.0.0");
        assert_eq!(merged["time"]["created"], "2026-01-01T00:00:00.000Z");
        assert_eq!(merged["time"]["modified"], "2026-02-01T00:00:00.000Z");
        assert_eq!(
            merged["dist-tags"],
            json!({"latest": "2.0.0", "old": "1.0.0", "next": "3.0.0-rc.1"})
        );
        assert_eq!(
            merged["readme"], "hosted",
            "package fields are the first member's"
        );
        assert_eq!(merged["description"], "remote", "the latest version's");
        assert!(merged.get("_rev").is_none());

        let small = merge("p", vec![member("a", &["1.0.0"], json!({}), "m1")], true).unwrap();
        assert_eq!(small["dist-tags"]["latest"], "1.0.0");
        assert_eq!(small["modified"], "m1");
        assert!(small["versions"]["1.0.0"].get("scripts").is_none());
        assert!(small["versions"]["1.0.0"]["dist"]["tarball"].is_string());
    }

    #[test]
    fn members_without_versions_count_for_nothing() {
        assert!(merge("p", vec![], false).is_none());
        let empty = doc(json!({"name": "p", "readme": "empty", "versions": {}}));
        let real = member("real", &["0.1.0"], json!({}), "m");
        let merged = merge("p", vec![empty, real], false).unwrap();
        assert_eq!(merged["readme"], "real");
        assert_eq!(merged["dist-tags"]["latest"], "0.1.0");
    }
}
