//! npm package documents, as `npm publish`, `npm deprecate`, `npm dist-tag` and `npm unpublish` PUT them:
//! read by `Document::parse` (its JSON values counted first, `json_budget`), a publish planned by
//! `plan_publish`, an edit by `plan_edit`, as the handler does.
//!
//! Input: the JSON document. Properties: the value count (`json_budget`) is exact on the document's
//! own serialisation and never below the count of what it parses to, and the document is refused (413)
//! exactly when that count is over the limit; a refusal is a 4xx, never a 500. A publish (it carries
//! `_attachments`) that `plan_publish` accepts has a manifest within its value budget and names a clean
//! tarball path; its base64 decodes the same chunked (`Base64Reader`) as whole; the packument built from
//! it is valid JSON that, PUT back unchanged the way npm's client does, is an edit that changes nothing
//! (the packument round-trips). An edit (no attachments) only removes live versions it leaves out, only
//! deprecates versions it names, keeps only valid tags, and is a delete only when it removes.
#![no_main]

use arca::domain::artifact_path::ArtifactPath;
use arca::formats::json_budget;
use arca::formats::npm::{
    integrity, is_valid_name, is_valid_tag, is_valid_version, packument, plan_edit, revision,
    tarball_file, tarball_path, visible_tags, LiveFacts, VersionDoc, MAX_DEPRECATION_CHARS,
    MAX_DOCUMENT_VALUES, MAX_MANIFEST_VALUES,
};
use arca::http::protocols::npm::{plan_publish, Base64Reader, Document};
use arca_fuzz::block_on;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};
use sha1::Sha1;
use sha2::{Digest, Sha512};
use tokio::io::AsyncReadExt;

fn check_publish(name: &str, doc: &Document<'_>) {
    let Some(attachments) = doc.attachments.as_ref() else {
        return;
    };
    let plan = match plan_publish(name, doc, attachments) {
        Ok(plan) => plan,
        Err(refused) => {
            assert!(refused.status().is_client_error(), "{refused}");
            return;
        }
    };
    let version = plan.version;
    assert!(is_valid_version(version));
    let sent = &doc.versions.as_ref().expect("a publish has versions")[version];
    assert!(json_budget::count(sent) <= MAX_MANIFEST_VALUES);
    let rel = tarball_path(name, version);
    let parsed = ArtifactPath::parse_plain(&rel).expect("a published tarball path is clean");
    assert_eq!(parsed.as_str(), rel);
    assert_eq!(parsed.file_name(), tarball_file(name, version));
    let manifest = plan.manifest.as_object().cloned().unwrap_or_default();
    assert!(!manifest.contains_key("dist"));
    assert!(manifest
        .keys()
        .all(|k| !k.starts_with('_') || k == "_hasShrinkwrap"));

    let whole = STANDARD.decode(plan.attachment.data.as_bytes());
    let mut chunked = Vec::new();
    let mut reader = Base64Reader::new(&plan.attachment.data);
    let streamed = block_on(reader.read_to_end(&mut chunked)).map(|_| chunked);
    assert_eq!(whole.as_ref().ok(), streamed.as_ref().ok());
    let Ok(tarball) = whole else {
        return;
    };

    // The tags a publish stores (as the handler does), then what clients see.
    let mut stored: Map<String, Value> = doc
        .dist_tags
        .iter()
        .flatten()
        .filter(|(k, v)| v.is_string() && is_valid_tag(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    stored.entry("latest").or_insert_with(|| json!(version));
    let tags = visible_tags(&stored, &[version]);
    let (sha1, sha512) = (
        hex::encode(Sha1::digest(&tarball)),
        hex::encode(Sha512::digest(&tarball)),
    );
    let docs = [VersionDoc {
        manifest: plan.manifest.clone(),
        version,
        tarball_url: format!("http://127.0.0.1/{rel}"),
        sha1: &sha1,
        sha512: &sha512,
        deprecated: None,
        published: "2026-01-01T00:00:00.000Z".into(),
    }];
    let rev = revision(1, 1);
    let full = packument(name, &rev, &tags, &docs, "c", "m", false);
    let text = full.to_string();
    let served: Value = serde_json::from_str(&text).expect("the packument is JSON");
    let dist = &served["versions"][version]["dist"];
    assert_eq!(dist["shasum"], json!(sha1));
    assert_eq!(dist["integrity"], json!(integrity(&sha512)));
    assert_eq!(served["dist-tags"], Value::Object(tags.clone()));

    let back: Document<'_> = serde_json::from_str(&text).expect("a packument reads as a document");
    assert_eq!(back.rev.as_deref(), Some(rev.as_str()));
    let live = [LiveFacts {
        version,
        deprecated: None,
    }];
    let edit = plan_edit(
        back.versions.as_ref(),
        back.dist_tags.as_ref(),
        &live,
        &tags,
    );
    assert!(edit.removed.is_empty(), "{:?}", edit.removed);
    assert!(edit.deprecations.is_empty(), "{:?}", edit.deprecations);
    assert_eq!(edit.tags.as_ref(), Some(&tags));

    let small = packument(name, &rev, &tags, &docs, "c", "m", true);
    let small_doc = small["versions"][version].as_object().expect("a version");
    assert!(small_doc.contains_key("dist"));
    assert!(small_doc
        .keys()
        .all(|k| full["versions"][version].get(k) == Some(&small_doc[k])));
}

fn check_edit(doc: &Document<'_>) {
    let live = [
        LiveFacts {
            version: "1.0.0",
            deprecated: Some("old"),
        },
        LiveFacts {
            version: "1.1.0",
            deprecated: None,
        },
        LiveFacts {
            version: "2.0.0-beta.1",
            deprecated: None,
        },
    ];
    let names: Vec<&str> = live.iter().map(|l| l.version).collect();
    let stored = json!({"latest": "1.1.0", "beta": "2.0.0-beta.1", "gone": "0.1.0"});
    let current = visible_tags(stored.as_object().unwrap(), &names);
    let edit = plan_edit(
        doc.versions.as_ref(),
        doc.dist_tags.as_ref(),
        &live,
        &current,
    );
    let in_doc = |v: &str| doc.versions.as_ref().is_some_and(|m| m.contains_key(v));
    for removed in &edit.removed {
        assert!(names.contains(&removed.as_str()) && !in_doc(removed));
    }
    if doc.versions.is_none() {
        assert!(edit.removed.is_empty() && edit.deprecations.is_empty());
    }
    for (version, message) in &edit.deprecations {
        assert!(names.contains(&version.as_str()) && in_doc(version));
        let was = live
            .iter()
            .find(|l| l.version == version)
            .unwrap()
            .deprecated;
        assert_ne!(message.as_deref(), was);
        if let Some(m) = message {
            assert!(!m.is_empty() && m.chars().count() <= MAX_DEPRECATION_CHARS);
        }
    }
    for (tag, version) in edit.tags.iter().flatten() {
        assert!(is_valid_tag(tag) && version.is_string());
    }
    if !edit.needs_upload {
        assert!(!edit.removed.is_empty() && edit.deprecations.is_empty());
    }
}

/// The value count of a JSON text as `json_budget::within` sees it: the least budget it passes (a text
/// of `n` bytes holds at most `n` values).
fn counted(json: &[u8]) -> usize {
    let (mut lo, mut hi) = (0, json.len());
    assert!(json_budget::within(json, hi));
    while lo < hi {
        let mid = (lo + hi) / 2;
        if json_budget::within(json, mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

fuzz_target!(|data: &[u8]| {
    let parsed = Document::parse(data);
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let kept = json_budget::count(&value);
        // Duplicate keys are counted as read, though only the last is kept.
        let read = counted(data);
        assert!(read >= kept, "{read} < {kept}");
        assert_eq!(counted(value.to_string().as_bytes()), kept);
        let refused = matches!(&parsed, Err(refused) if refused.status() == 413);
        assert_eq!(refused, read > MAX_DOCUMENT_VALUES);
    }
    let doc = match parsed {
        Ok(doc) => doc,
        Err(refused) => {
            assert!(refused.status().is_client_error(), "{refused}");
            return;
        }
    };
    let name = doc
        .name
        .clone()
        .filter(|n| is_valid_name(n))
        .unwrap_or_else(|| "demo".to_string());
    if doc.attachments.as_ref().is_some_and(|a| !a.is_empty()) {
        check_publish(&name, &doc);
    } else {
        check_edit(&doc);
    }
});
