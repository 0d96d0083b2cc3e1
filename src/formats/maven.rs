//! Maven repository layout: what a path means, `maven-metadata.xml` generation (per artifact and per
//! SNAPSHOT version), timestamped snapshot builds and version ordering.

use std::cmp::Ordering;

use chrono::{TimeZone, Utc};

pub const METADATA: &str = "maven-metadata.xml";
pub const CHECKSUM_SUFFIXES: [&str; 4] = [".md5", ".sha1", ".sha256", ".sha512"];

/// A checksum side-file of another file: `lib.jar.sha1` → (`lib.jar`, "sha1").
pub fn checksum_target(path: &str) -> Option<(&str, &'static str)> {
    CHECKSUM_SUFFIXES.iter().find_map(|suffix| {
        path.strip_suffix(suffix)
            .filter(|base| !base.is_empty() && !base.ends_with('/'))
            .map(|base| (base, &suffix[1..]))
    })
}

pub fn is_metadata(path: &str) -> bool {
    path == METADATA || path.ends_with(&format!("/{METADATA}"))
}

pub fn is_snapshot_version(version: &str) -> bool {
    version.ends_with("-SNAPSHOT")
}

/// A file inside a version directory: `group/path/artifactId/version/file`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionFile<'a> {
    pub group_path: &'a str,
    pub artifact_id: &'a str,
    pub version: &'a str,
    pub file_name: &'a str,
}

/// Recognises a version file: its name starts with `<artifactId>-`, the name of its grandparent directory.
pub fn version_file(path: &str) -> Option<VersionFile<'_>> {
    let (dir, file_name) = path.rsplit_once('/')?;
    let (artifact_dir, version) = dir.rsplit_once('/')?;
    let (group_path, artifact_id) = artifact_dir.rsplit_once('/')?;
    let prefix = format!("{artifact_id}-");
    if !file_name.starts_with(&prefix) || group_path.is_empty() {
        return None;
    }
    Some(VersionFile {
        group_path,
        artifact_id,
        version,
        file_name,
    })
}

/// A timestamped SNAPSHOT build file: `lib-1.0-20261124.120000-3-sources.jar`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotBuild {
    /// `20261124.120000`
    pub timestamp: String,
    pub build_number: u32,
    /// `sources`, or empty.
    pub classifier: String,
    /// `jar`, `pom`, `jar.asc`, …
    pub extension: String,
}

impl SnapshotBuild {
    /// `1.0-20261124.120000-3` for base version `1.0-SNAPSHOT`.
    pub fn value(&self, base_version: &str) -> String {
        format!(
            "{}-{}-{}",
            base_version.trim_end_matches("-SNAPSHOT"),
            self.timestamp,
            self.build_number
        )
    }
}

/// Parses a file name of a SNAPSHOT version directory as a timestamped build, if it is one.
pub fn parse_snapshot_build(
    artifact_id: &str,
    version: &str,
    file_name: &str,
) -> Option<SnapshotBuild> {
    let base = version.strip_suffix("-SNAPSHOT")?;
    let rest = file_name.strip_prefix(&format!("{artifact_id}-{base}-"))?;
    // rest: 20261124.120000-3[-classifier].ext
    let (timestamp, after) = rest.split_once('-')?;
    let (date, time) = timestamp.split_once('.')?;
    if date.len() != 8
        || time.len() != 6
        || !date.bytes().chain(time.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits_end = after.find(|c: char| !c.is_ascii_digit())?;
    let digits = &after[..digits_end];
    // Maven writes build numbers without leading zeros: `-02` would be taken for build 2, a file it is not.
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    let build_number: u32 = digits.parse().ok()?;
    let tail = &after[digits_end..];
    let (classifier, extension) = if let Some(t) = tail.strip_prefix('-') {
        let (c, e) = t.split_once('.')?;
        // `-3-.jar` has no classifier, and it is not `-3.jar` either.
        if c.is_empty() {
            return None;
        }
        (c.to_string(), e.to_string())
    } else {
        (String::new(), tail.strip_prefix('.')?.to_string())
    };
    if extension.is_empty() {
        return None;
    }
    Some(SnapshotBuild {
        timestamp: timestamp.to_string(),
        build_number,
        classifier,
        extension,
    })
}

/// Maven-like version order: numeric runs compare as numbers, qualifiers as text, a release after its
/// pre-releases (`1.0-rc1` < `1.0`). Good enough to order what was deployed.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    fn tokens(v: &str) -> Vec<(bool, String)> {
        let mut out = Vec::new();
        let mut current = String::new();
        let mut numeric = false;
        for c in v.chars() {
            if c == '.' || c == '-' || c == '_' {
                if !current.is_empty() {
                    out.push((numeric, std::mem::take(&mut current)));
                }
                continue;
            }
            let is_digit = c.is_ascii_digit();
            if !current.is_empty() && is_digit != numeric {
                out.push((numeric, std::mem::take(&mut current)));
            }
            numeric = is_digit;
            current.push(c.to_ascii_lowercase());
        }
        if !current.is_empty() {
            out.push((numeric, current));
        }
        out
    }
    let (ta, tb) = (tokens(a), tokens(b));
    for i in 0..ta.len().max(tb.len()) {
        let ord = match (ta.get(i), tb.get(i)) {
            (Some((true, x)), Some((true, y))) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (Some((true, _)), Some((false, _))) => Ordering::Greater,
            (Some((false, _)), Some((true, _))) => Ordering::Less,
            (Some((false, x)), Some((false, y))) => x.cmp(y),
            // A trailing qualifier marks a pre-release; a trailing number a later release.
            (Some((true, _)), None) => Ordering::Greater,
            (Some((false, _)), None) => Ordering::Less,
            (None, Some((true, _))) => Ordering::Less,
            (None, Some((false, _))) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}

fn stamp(ms: i64, format: &str) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format(format).to_string())
        .unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A deployed version of an artifact and when it last changed.
pub struct DeployedVersion {
    pub version: String,
    pub modified_at: i64,
}

/// `<groupId>/<artifactId>/maven-metadata.xml`: every version, `latest` the last deployed, `release` the
/// last deployed non-SNAPSHOT.
pub fn artifact_metadata(
    group_id: &str,
    artifact_id: &str,
    versions: &[DeployedVersion],
) -> String {
    let mut sorted: Vec<&DeployedVersion> = versions.iter().collect();
    sorted.sort_by(|a, b| compare_versions(&a.version, &b.version));
    let latest = versions.iter().max_by_key(|v| v.modified_at);
    let release = versions
        .iter()
        .filter(|v| !is_snapshot_version(&v.version))
        .max_by_key(|v| v.modified_at);
    let last_updated = latest.map(|v| v.modified_at).unwrap_or_default();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n  <groupId>{}</groupId>\n  <artifactId>{}</artifactId>\n  <versioning>\n",
        xml_escape(group_id),
        xml_escape(artifact_id)
    );
    if let Some(l) = latest {
        xml.push_str(&format!(
            "    <latest>{}</latest>\n",
            xml_escape(&l.version)
        ));
    }
    if let Some(r) = release {
        xml.push_str(&format!(
            "    <release>{}</release>\n",
            xml_escape(&r.version)
        ));
    }
    xml.push_str("    <versions>\n");
    for v in sorted {
        xml.push_str(&format!(
            "      <version>{}</version>\n",
            xml_escape(&v.version)
        ));
    }
    xml.push_str(&format!(
        "    </versions>\n    <lastUpdated>{}</lastUpdated>\n  </versioning>\n</metadata>\n",
        stamp(last_updated, "%Y%m%d%H%M%S")
    ));
    xml
}

/// A file of a SNAPSHOT version directory.
pub struct SnapshotFile<'a> {
    pub file_name: &'a str,
    pub modified_at: i64,
}

/// `<group>/<artifactId>/<version>-SNAPSHOT/maven-metadata.xml`: the newest build's timestamp and number,
/// and per (classifier, extension) the newest timestamped value.
pub fn snapshot_metadata(
    group_id: &str,
    artifact_id: &str,
    version: &str,
    files: &[SnapshotFile<'_>],
) -> Option<String> {
    let builds: Vec<(SnapshotBuild, i64)> = files
        .iter()
        .filter_map(|f| {
            parse_snapshot_build(artifact_id, version, f.file_name).map(|b| (b, f.modified_at))
        })
        .filter(|(b, _)| {
            !CHECKSUM_SUFFIXES
                .iter()
                .any(|s| b.extension.ends_with(&s[1..]))
        })
        .collect();
    let newest = builds
        .iter()
        .max_by_key(|(b, _)| (b.build_number, b.timestamp.clone()))?;
    let mut per_kind: Vec<(&SnapshotBuild, i64)> = Vec::new();
    for (b, modified) in &builds {
        match per_kind
            .iter_mut()
            .find(|(k, _)| k.classifier == b.classifier && k.extension == b.extension)
        {
            Some(slot) => {
                if b.build_number > slot.0.build_number {
                    *slot = (b, *modified);
                }
            }
            None => per_kind.push((b, *modified)),
        }
    }
    per_kind
        .sort_by(|a, b| (&a.0.extension, &a.0.classifier).cmp(&(&b.0.extension, &b.0.classifier)));
    let last_updated = builds.iter().map(|(_, m)| *m).max().unwrap_or_default();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata modelVersion=\"1.1.0\">\n  <groupId>{}</groupId>\n  <artifactId>{}</artifactId>\n  <version>{}</version>\n  <versioning>\n    <snapshot>\n      <timestamp>{}</timestamp>\n      <buildNumber>{}</buildNumber>\n    </snapshot>\n    <lastUpdated>{}</lastUpdated>\n    <snapshotVersions>\n",
        xml_escape(group_id),
        xml_escape(artifact_id),
        xml_escape(version),
        newest.0.timestamp,
        newest.0.build_number,
        stamp(last_updated, "%Y%m%d%H%M%S")
    );
    for (b, modified) in per_kind {
        xml.push_str("      <snapshotVersion>\n");
        if !b.classifier.is_empty() {
            xml.push_str(&format!(
                "        <classifier>{}</classifier>\n",
                xml_escape(&b.classifier)
            ));
        }
        xml.push_str(&format!(
            "        <extension>{}</extension>\n        <value>{}</value>\n        <updated>{}</updated>\n      </snapshotVersion>\n",
            xml_escape(&b.extension),
            xml_escape(&b.value(version)),
            stamp(modified, "%Y%m%d%H%M%S")
        ));
    }
    xml.push_str("    </snapshotVersions>\n  </versioning>\n</metadata>\n");
    Some(xml)
}

/// Which timestamped builds to drop so that only the newest `keep` build numbers remain (0 keeps all).
pub fn builds_to_prune(build_numbers: &[u32], keep: usize) -> Vec<u32> {
    if keep == 0 {
        return Vec::new();
    }
    let mut distinct: Vec<u32> = build_numbers.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let excess = distinct.len().saturating_sub(keep);
    distinct.into_iter().take(excess).collect()
}

/// What a virtual repository merges of an artifact-level `maven-metadata.xml`: its versions and its
/// `lastUpdated` stamp (`yyyyMMddHHmmss`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct MetadataVersions {
    pub versions: Vec<String>,
    pub last_updated: Option<String>,
}

/// Whether an upstream's version can be a version directory: one path segment arca could serve (no `/`,
/// control character or noncharacter; fuzzing found that a NUL read from an upstream made the merged
/// metadata not XML at all).
fn names_a_directory(version: &str) -> bool {
    !version.is_empty()
        && !version.contains('/')
        && crate::domain::artifact_path::ArtifactPath::parse_plain(version).is_ok()
}

/// Reads the versions of a `maven-metadata.xml` (ours or an upstream's); `None` when it is not XML.
/// Versions that cannot name a directory are left out.
pub fn read_metadata_versions(xml: &[u8]) -> Option<MetadataVersions> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut path: Vec<Vec<u8>> = Vec::new();
    let mut found = MetadataVersions::default();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) => path.push(e.name().as_ref().to_vec()),
            Event::End(_) => {
                path.pop();
            }
            Event::Text(t) => {
                let text = t.unescape().ok()?.trim().to_string();
                let at = |tail: &[&[u8]]| {
                    path.len() >= tail.len()
                        && path.ends_with(&tail.iter().map(|s| s.to_vec()).collect::<Vec<_>>())
                };
                if at(&[b"versioning", b"versions", b"version"]) && names_a_directory(&text) {
                    found.versions.push(text);
                } else if at(&[b"versioning", b"lastUpdated"]) && !text.is_empty() {
                    found.last_updated = Some(text);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Some(found)
}

/// The artifact-level metadata a virtual repository answers: the union of its members' versions, in
/// Maven's order, `latest` the highest and `release` the highest non-SNAPSHOT one, `lastUpdated` the
/// latest of the members'.
pub fn merged_metadata(
    group_id: &str,
    artifact_id: &str,
    members: &[MetadataVersions],
) -> Option<String> {
    let mut versions: Vec<&str> = members
        .iter()
        .flat_map(|m| m.versions.iter().map(String::as_str))
        .collect();
    versions.sort_by(|a, b| compare_versions(a, b));
    versions.dedup();
    let latest = versions.last()?;
    let release = versions.iter().rev().find(|v| !is_snapshot_version(v));
    let last_updated = members
        .iter()
        .filter_map(|m| m.last_updated.as_deref())
        .filter(|s| s.len() == 14 && s.bytes().all(|b| b.is_ascii_digit()))
        .max()
        .unwrap_or("19700101000000");
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<metadata>\n  <groupId>{}</groupId>\n  <artifactId>{}</artifactId>\n  <versioning>\n    <latest>{}</latest>\n",
        xml_escape(group_id),
        xml_escape(artifact_id),
        xml_escape(latest)
    );
    if let Some(r) = release {
        xml.push_str(&format!("    <release>{}</release>\n", xml_escape(r)));
    }
    xml.push_str("    <versions>\n");
    for v in &versions {
        xml.push_str(&format!("      <version>{}</version>\n", xml_escape(v)));
    }
    xml.push_str(&format!(
        "    </versions>\n    <lastUpdated>{last_updated}</lastUpdated>\n  </versioning>\n</metadata>\n"
    ));
    Some(xml)
}

#[cfg(test)]
mod tests {
    #[test]
    fn upstream_versions_that_cannot_be_directories_are_left_out() {
        let xml =
            "<metadata><versioning><versions><version>1.0</version><version>a\u{0}b</version>\
                   <version>../x</version><version>..</version><version>2.0-rc.1+b</version>\
                   </versions></versioning></metadata>";
        let read = super::read_metadata_versions(xml.as_bytes()).unwrap();
        assert_eq!(read.versions, ["1.0", "2.0-rc.1+b"]);
    }

    use super::*;

    #[test]
    fn paths_are_recognised() {
        assert_eq!(
            checksum_target("a/lib.jar.sha1"),
            Some(("a/lib.jar", "sha1"))
        );
        assert_eq!(
            checksum_target("a/maven-metadata.xml.sha512"),
            Some(("a/maven-metadata.xml", "sha512"))
        );
        assert_eq!(checksum_target("a/lib.jar"), None);
        assert!(is_metadata("com/acme/lib/maven-metadata.xml"));
        let v = version_file("com/acme/lib/1.0/lib-1.0.jar").unwrap();
        assert_eq!(
            (v.group_path, v.artifact_id, v.version),
            ("com/acme", "lib", "1.0")
        );
        assert!(version_file("com/acme/lib/maven-metadata.xml").is_none());
        assert!(
            version_file("lib/1.0/lib-1.0.jar").is_none(),
            "a group is required"
        );
    }

    #[test]
    fn snapshot_builds_parse() {
        let b = parse_snapshot_build(
            "lib",
            "1.0-SNAPSHOT",
            "lib-1.0-20261124.120000-3-sources.jar",
        )
        .unwrap();
        assert_eq!(
            (
                b.timestamp.as_str(),
                b.build_number,
                b.classifier.as_str(),
                b.extension.as_str()
            ),
            ("20261124.120000", 3, "sources", "jar")
        );
        assert_eq!(b.value("1.0-SNAPSHOT"), "1.0-20261124.120000-3");
        let pom =
            parse_snapshot_build("lib", "1.0-SNAPSHOT", "lib-1.0-20261124.120000-12.pom").unwrap();
        assert_eq!(
            (
                pom.build_number,
                pom.classifier.as_str(),
                pom.extension.as_str()
            ),
            (12, "", "pom")
        );
        assert!(parse_snapshot_build("lib", "1.0-SNAPSHOT", "lib-1.0-SNAPSHOT.jar").is_none());
        assert!(parse_snapshot_build("lib", "1.0", "lib-1.0-20261124.120000-3.jar").is_none());
    }

    /// Found by the `maven` fuzz target (minimised): a build number with a leading zero was read as
    /// another number, so the SNAPSHOT metadata named a file that does not exist (`-2` for `-02`) and
    /// pruning took `-02` and `-2` for one build. Every build must name its file back.
    #[test]
    fn fuzz_found_builds_name_their_file() {
        let path = "a/ter/1.1-SNAPSHOT/ter-1.1-20261202.023438-02.o";
        let v = version_file(path).unwrap();
        if let Some(b) = parse_snapshot_build(v.artifact_id, v.version, v.file_name) {
            assert_eq!(
                format!("{}-{}.{}", v.artifact_id, b.value(v.version), b.extension),
                v.file_name
            );
        }
        let build = |name| parse_snapshot_build("lib", "1.0-SNAPSHOT", name);
        assert!(build("lib-1.0-20261124.120000-02.jar").is_none());
        // Also found (minimised): an empty classifier (`-1-.jar`) was read as none, naming `-1.jar`.
        let path = "m/geer/.1-SNAPSHOT/geer-.1-20261202.023438-1-.2";
        let v = version_file(path).unwrap();
        assert!(parse_snapshot_build(v.artifact_id, v.version, v.file_name).is_none());
        assert!(build("lib-1.0-20261124.120000-3-.jar").is_none());
        assert_eq!(
            build("lib-1.0-20261124.120000-20.jar")
                .unwrap()
                .build_number,
            20
        );
        assert_eq!(
            build("lib-1.0-20261124.120000-0.jar").unwrap().build_number,
            0
        );
    }

    #[test]
    fn versions_order_like_maven() {
        let mut v = vec![
            "1.10",
            "1.2",
            "1.0-rc1",
            "1.0",
            "1.0.1",
            "2.0-SNAPSHOT",
            "1.9",
        ];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            v,
            [
                "1.0-rc1",
                "1.0",
                "1.0.1",
                "1.2",
                "1.9",
                "1.10",
                "2.0-SNAPSHOT"
            ]
        );
    }

    #[test]
    fn artifact_metadata_lists_versions() {
        let xml = artifact_metadata(
            "com.acme",
            "lib",
            &[
                DeployedVersion {
                    version: "1.0".into(),
                    modified_at: 1_000,
                },
                DeployedVersion {
                    version: "1.1-SNAPSHOT".into(),
                    modified_at: 3_000,
                },
                DeployedVersion {
                    version: "1.1".into(),
                    modified_at: 2_000,
                },
            ],
        );
        assert!(xml.contains("<latest>1.1-SNAPSHOT</latest>"));
        assert!(xml.contains("<release>1.1</release>"));
        // A SNAPSHOT sorts before its release, as in Maven.
        let order: Vec<usize> = ["<version>1.0<", "<version>1.1-SNAPSHOT<", "<version>1.1<"]
            .iter()
            .map(|s| xml.find(s).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]));
        assert!(xml.contains("<lastUpdated>19700101000003</lastUpdated>"));
    }

    #[test]
    fn snapshot_metadata_picks_the_newest_build() {
        let files = [
            SnapshotFile {
                file_name: "lib-1.0-20261124.120000-1.jar",
                modified_at: 1,
            },
            SnapshotFile {
                file_name: "lib-1.0-20261124.120000-1.pom",
                modified_at: 1,
            },
            SnapshotFile {
                file_name: "lib-1.0-20261124.130000-2.jar",
                modified_at: 2,
            },
            SnapshotFile {
                file_name: "lib-1.0-20261124.130000-2.jar.sha1",
                modified_at: 2,
            },
            SnapshotFile {
                file_name: "lib-1.0-20261124.130000-2.pom",
                modified_at: 2,
            },
        ];
        let xml = snapshot_metadata("com.acme", "lib", "1.0-SNAPSHOT", &files).unwrap();
        assert!(xml.contains("<timestamp>20261124.130000</timestamp>"));
        assert!(xml.contains("<buildNumber>2</buildNumber>"));
        assert!(xml.contains("<value>1.0-20261124.130000-2</value>"));
        assert!(!xml.contains("1.0-20261124.120000-1"));
        assert!(!xml.contains("jar.sha1"));
        assert!(snapshot_metadata("com.acme", "lib", "1.0-SNAPSHOT", &[]).is_none());
    }

    #[test]
    fn pruning_keeps_the_newest_builds() {
        assert_eq!(builds_to_prune(&[1, 1, 2, 3, 3, 4], 2), vec![1, 2]);
        assert!(builds_to_prune(&[1, 2], 2).is_empty());
        assert!(builds_to_prune(&[1, 2, 3], 0).is_empty());
    }

    #[test]
    fn metadata_of_members_merges() {
        let upstream = br#"<?xml version="1.0"?><metadata><groupId>g</groupId><artifactId>a</artifactId>
            <versioning><latest>1.10</latest><release>1.10</release><versions><version>1.2</version>
            <version>1.10</version></versions><lastUpdated>20240101000000</lastUpdated></versioning></metadata>"#;
        let ours = artifact_metadata(
            "g",
            "a",
            &[
                DeployedVersion {
                    version: "2.0-SNAPSHOT".into(),
                    modified_at: 1_800_000_000_000,
                },
                DeployedVersion {
                    version: "1.2".into(),
                    modified_at: 1_700_000_000_000,
                },
            ],
        );
        let members = [
            read_metadata_versions(upstream).unwrap(),
            read_metadata_versions(ours.as_bytes()).unwrap(),
        ];
        assert_eq!(members[0].versions, ["1.2", "1.10"]);
        let merged = merged_metadata("g", "a", &members).unwrap();
        let back = read_metadata_versions(merged.as_bytes()).unwrap();
        assert_eq!(back.versions, ["1.2", "1.10", "2.0-SNAPSHOT"]);
        assert!(merged.contains("<latest>2.0-SNAPSHOT</latest>"));
        assert!(merged.contains("<release>1.10</release>"));
        assert!(merged.contains("<lastUpdated>20270115080000</lastUpdated>"));
        assert!(merged_metadata("g", "a", &[MetadataVersions::default()]).is_none());
        assert!(read_metadata_versions(b"<a><b></a>").is_none());
    }
}
