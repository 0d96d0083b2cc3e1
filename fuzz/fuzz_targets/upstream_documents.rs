//! What remote repositories read from an upstream, which anyone running that upstream controls: PyPI
//! simple pages (PEP 503 HTML and PEP 691 JSON), npm packuments, and `maven-metadata.xml`; and what
//! virtual repositories make of several of them.
//!
//! Input: a selector byte, then the document. Properties: nothing panics; every file link arca writes
//! into a served PyPI page stays under the repository's `packages/`; every tarball link of a served or
//! merged packument is under arca's base; a merged packument lists each version of its members once;
//! merged Maven metadata is well-formed XML listing every version read.
#![no_main]

use arca::formats::maven::{merged_metadata, read_metadata_versions};
use arca::formats::{npm_merge, npm_upstream, pypi, pypi_upstream};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

const BASE: &str = "http://arca.test/artifactory/api/npm/v";

fn pypi_page(body: &[u8], json: bool) {
    let url = pypi_upstream::page_url("https://upstream.test/pypi", "demo").expect("a valid base");
    let content_type = if json {
        "application/vnd.pypi.simple.v1+json"
    } else {
        "text/html"
    };
    let Ok(page) = pypi_upstream::parse(body, content_type, &url) else {
        return;
    };
    for listed in &page.files {
        assert!(page.find(&listed.filename).is_some());
        let _ = listed.metadata_url();
    }
    let files = pypi_upstream::rewrite("demo", &page);
    for file in &files {
        assert!(file.href.starts_with("../../packages/demo/"), "{}", file.href);
        assert!(!file.href.contains("upstream.test"), "{}", file.href);
        assert_eq!(file.href.matches('/').count(), 5, "{}", file.href);
    }
    let html = pypi::project_html("demo", &files);
    assert!(!html.contains("upstream.test"));
    let json = pypi::project_json("demo", &files).to_string();
    assert!(!json.contains("upstream.test"));
}

fn tarball_links(doc: &Value) -> Vec<String> {
    doc.get("versions")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|v| v.values())
        .filter_map(|m| m.get("dist")?.get("tarball")?.as_str().map(str::to_string))
        .collect()
}

fn npm_packument(body: &[u8]) {
    let Ok(Value::Object(doc)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let name = "demo";
    let full = npm_upstream::served(doc.clone(), name, BASE, false, "m");
    for link in tarball_links(&full) {
        assert!(link.starts_with(&format!("{BASE}/demo/-/demo-")), "{link}");
    }
    let small = npm_upstream::served(doc.clone(), name, BASE, true, "m");
    assert_eq!(tarball_links(&small).len(), tarball_links(&full).len());
    if let Some(versions) = full.get("versions").and_then(Value::as_object) {
        for version in versions.keys() {
            let file = format!("demo-{version}.tgz");
            assert!(npm_upstream::tarball_of(&doc, name, &file).is_some() || !doc.contains_key("versions"));
        }
    }
    // Two members: the same document, and one with the first half of its versions.
    let Value::Object(first) = full.clone() else {
        return;
    };
    let mut second: Map<String, Value> = first.clone();
    if let Some(Value::Object(versions)) = second.get_mut("versions") {
        let keep: Vec<String> = versions.keys().take(versions.len() / 2).cloned().collect();
        versions.retain(|k, _| keep.contains(k));
    }
    let count = first
        .get("versions")
        .and_then(Value::as_object)
        .map_or(0, Map::len);
    match npm_merge::merge(name, vec![second, first], false) {
        Some(merged) => {
            assert_eq!(merged["versions"].as_object().map_or(0, Map::len), count);
            for link in tarball_links(&merged) {
                assert!(link.starts_with(BASE), "{link}");
            }
            let latest = merged["dist-tags"]["latest"].as_str().unwrap_or_default();
            assert!(merged["versions"].get(latest).is_some(), "{latest}");
        }
        None => assert_eq!(count, 0),
    }
}

fn maven_metadata(body: &[u8]) {
    let Some(read) = read_metadata_versions(body) else {
        return;
    };
    let Some(xml) = merged_metadata("org.demo", "lib", std::slice::from_ref(&read)) else {
        assert!(read.versions.is_empty());
        return;
    };
    let doc = match roxmltree::Document::parse(&xml) {
        Ok(doc) => doc,
        Err(e) => panic!("merged metadata is not well-formed XML ({e}):\n{xml}"),
    };
    let listed: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("version"))
        .map(|n| n.text().unwrap_or(""))
        .collect();
    for version in &read.versions {
        assert!(listed.contains(&version.as_str()), "{version:?} missing from\n{xml}");
    }
    let again = read_metadata_versions(xml.as_bytes()).expect("arca's own metadata reads back");
    let mut once = read.versions.clone();
    once.sort();
    once.dedup();
    let mut back = again.versions.clone();
    back.sort();
    assert_eq!(back, once);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    match selector % 4 {
        0 => pypi_page(body, false),
        1 => pypi_page(body, true),
        2 => npm_packument(body),
        _ => maven_metadata(body),
    }
});
