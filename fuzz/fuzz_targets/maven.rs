//! Maven layout and `maven-metadata.xml`. arca parses no client metadata (uploads of it are ignored);
//! it reads coordinates out of deployed paths and writes the metadata, so that is what is fuzzed.
//!
//! Input: one wire path a line, the deploy history of a repository. Properties: every path the layout
//! recognises (checksum side-file, version file, timestamped SNAPSHOT build) is put back together from
//! its parts; the version order is a total order; the artifact and SNAPSHOT metadata are well-formed XML
//! that names back the coordinates and versions they were made from; pruning keeps the newest builds.
#![no_main]

use std::cmp::Ordering;
use std::collections::BTreeMap;

use arca::domain::artifact_path::ArtifactPath;
use arca::formats::maven::{
    artifact_metadata, builds_to_prune, checksum_target, compare_versions, is_snapshot_version,
    parse_snapshot_build, snapshot_metadata, version_file, DeployedVersion, SnapshotFile,
};
use libfuzzer_sys::fuzz_target;

fn texts<'a>(doc: &'a roxmltree::Document<'_>, tag: &str) -> Vec<&'a str> {
    doc.descendants()
        .filter(|n| n.has_tag_name(tag))
        .map(|n| n.text().unwrap_or(""))
        .collect()
}

fn parse_xml(xml: &str) -> roxmltree::Document<'_> {
    match roxmltree::Document::parse(xml) {
        Ok(doc) => doc,
        Err(e) => panic!("generated metadata is not well-formed XML ({e}):\n{xml}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let paths: Vec<String> = text
        .lines()
        .take(64)
        .filter_map(|l| ArtifactPath::parse_wire(l).ok())
        .filter(|p| !p.is_root())
        .map(|p| p.as_str().to_string())
        .collect();

    // Per artifact (group path, artifactId): version → last modification, as the hosted handler builds it.
    let mut artifacts: BTreeMap<(String, String), Vec<DeployedVersion>> = BTreeMap::new();
    // Per SNAPSHOT version directory: its direct files.
    let mut snapshot_dirs: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
    for (i, path) in paths.iter().enumerate() {
        let modified = i as i64 * 1000 + 1_700_000_000_000;
        if let Some((base, algorithm)) = checksum_target(path) {
            assert_eq!(format!("{base}.{algorithm}"), *path);
        }
        let Some(v) = version_file(path) else {
            continue;
        };
        assert_eq!(
            format!(
                "{}/{}/{}/{}",
                v.group_path, v.artifact_id, v.version, v.file_name
            ),
            *path
        );
        assert!(v.file_name.starts_with(&format!("{}-", v.artifact_id)));
        if let Some(b) = parse_snapshot_build(v.artifact_id, v.version, v.file_name) {
            assert!(is_snapshot_version(v.version));
            let classifier = if b.classifier.is_empty() {
                String::new()
            } else {
                format!("-{}", b.classifier)
            };
            assert_eq!(
                format!(
                    "{}-{}{classifier}.{}",
                    v.artifact_id,
                    b.value(v.version),
                    b.extension
                ),
                v.file_name
            );
        }
        let versions = artifacts
            .entry((v.group_path.to_string(), v.artifact_id.to_string()))
            .or_default();
        match versions.iter_mut().find(|d| d.version == v.version) {
            Some(d) => d.modified_at = d.modified_at.max(modified),
            None => versions.push(DeployedVersion {
                version: v.version.to_string(),
                modified_at: modified,
            }),
        }
        if is_snapshot_version(v.version) {
            snapshot_dirs
                .entry(format!("{}/{}/{}", v.group_path, v.artifact_id, v.version))
                .or_default()
                .push((v.file_name.to_string(), modified));
        }
    }

    for ((group_path, artifact_id), versions) in &artifacts {
        let group_id = group_path.replace('/', ".");
        let xml = artifact_metadata(&group_id, artifact_id, versions);
        let doc = parse_xml(&xml);
        assert_eq!(texts(&doc, "groupId"), [group_id.as_str()]);
        assert_eq!(texts(&doc, "artifactId"), [artifact_id.as_str()]);
        let listed = texts(&doc, "version");
        let mut sorted: Vec<&str> = versions.iter().map(|v| v.version.as_str()).collect();
        sorted.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(listed, sorted);
        let latest = versions.iter().max_by_key(|v| v.modified_at).unwrap();
        assert_eq!(texts(&doc, "latest"), [latest.version.as_str()]);
        let releases = versions.iter().filter(|v| !is_snapshot_version(&v.version));
        let release: Vec<&str> = releases
            .max_by_key(|v| v.modified_at)
            .map(|v| v.version.as_str())
            .into_iter()
            .collect();
        assert_eq!(texts(&doc, "release"), release);
    }

    for (dir, files) in &snapshot_dirs {
        let mut parts = dir.rsplitn(3, '/');
        let (version, artifact_id, group_path) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let group_id = group_path.replace('/', ".");
        let files: Vec<SnapshotFile<'_>> = files
            .iter()
            .map(|(name, modified)| SnapshotFile {
                file_name: name,
                modified_at: *modified,
            })
            .collect();
        let builds: Vec<u32> = files
            .iter()
            .filter_map(|f| parse_snapshot_build(artifact_id, version, f.file_name))
            .map(|b| b.build_number)
            .collect();
        if let Some(xml) = snapshot_metadata(&group_id, artifact_id, version, &files) {
            let doc = parse_xml(&xml);
            assert_eq!(texts(&doc, "groupId"), [group_id.as_str()]);
            assert_eq!(texts(&doc, "artifactId"), [artifact_id]);
            assert_eq!(texts(&doc, "version"), [version]);
            let newest = texts(&doc, "buildNumber");
            assert_eq!(newest.len(), 1);
            assert!(builds.iter().any(|b| b.to_string() == newest[0]));
        }
        let mut distinct = builds.clone();
        distinct.sort_unstable();
        distinct.dedup();
        for keep in [0usize, 1, 3] {
            let doomed = builds_to_prune(&builds, keep);
            assert!(doomed.iter().all(|d| builds.contains(d)));
            let kept: Vec<u32> = distinct
                .iter()
                .copied()
                .filter(|b| !doomed.contains(b))
                .collect();
            assert!(doomed.iter().all(|d| kept.iter().all(|k| d < k)));
            let expected = if keep == 0 {
                distinct.len()
            } else {
                keep.min(distinct.len())
            };
            assert_eq!(kept.len(), expected);
        }
    }

    // The version order is total: reflexive, antisymmetric, transitive (triples of the first few only:
    // the check is cubic).
    let mut versions: Vec<&str> = artifacts
        .values()
        .flatten()
        .map(|v| v.version.as_str())
        .collect();
    versions.extend(text.lines().next().unwrap_or("").split('/').take(6));
    versions.truncate(10);
    for a in &versions {
        assert_eq!(compare_versions(a, a), Ordering::Equal);
        for b in &versions {
            assert_eq!(
                compare_versions(a, b),
                compare_versions(b, a).reverse(),
                "{a:?} {b:?}"
            );
        }
    }
    let few = &versions[..versions.len().min(5)];
    for a in few {
        for b in few {
            for c in few {
                if compare_versions(a, b) != Ordering::Greater
                    && compare_versions(b, c) != Ordering::Greater
                {
                    assert_ne!(
                        compare_versions(a, c),
                        Ordering::Greater,
                        "{a:?} {b:?} {c:?}"
                    );
                }
            }
        }
    }
});
