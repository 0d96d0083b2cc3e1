//! Python packages: names (PEP 503), distribution file names (wheels and sdists), the simple index as HTML
//! (PEP 503, with PEP 592 yanking, PEP 658/714 metadata) and JSON (PEP 691), and content negotiation.

use serde_json::{json, Value};

/// PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_sep {
                out.push('-');
            }
            in_sep = true;
        } else {
            out.extend(c.to_lowercase());
            in_sep = false;
        }
    }
    out
}

/// A valid project name (PEP 508 / core metadata): ASCII letters and digits, with `-_.` inside.
pub fn is_valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(b))
}

/// A plausible version string (PEP 440's alphabet; the full grammar is the client's business).
pub fn is_valid_version(version: &str) -> bool {
    !version.is_empty()
        && version.len() <= 64
        && version
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && version
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.+!".contains(&b))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistKind {
    Wheel,
    Sdist,
}

impl DistKind {
    pub fn packagetype(self) -> &'static str {
        match self {
            DistKind::Wheel => "bdist_wheel",
            DistKind::Sdist => "sdist",
        }
    }
}

/// What a distribution's file name says: its kind, project name (normalised) and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistFile {
    pub kind: DistKind,
    pub project: String,
    pub version: String,
}

/// Parses `name-version(-build)?-py-abi-platform.whl` or `name-version.tar.gz` / `.zip`.
pub fn parse_filename(filename: &str) -> Option<DistFile> {
    if filename.len() > 255
        || filename.contains(['/', '\\'])
        || filename.starts_with('.')
        || filename.chars().any(char::is_control)
    {
        return None;
    }
    if let Some(stem) = filename.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        if !(parts.len() == 5 || parts.len() == 6) || parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        return Some(DistFile {
            kind: DistKind::Wheel,
            project: normalize(parts[0]),
            version: parts[1].to_string(),
        })
        .filter(|d| is_valid_name(parts[0]) && is_valid_version(&d.version));
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    // The version is what follows the last '-' (sdist names are normalised with '_' since PEP 625).
    let (name, version) = stem.rsplit_once('-')?;
    if !is_valid_name(name) || !is_valid_version(version) {
        return None;
    }
    Some(DistFile {
        kind: DistKind::Sdist,
        project: normalize(name),
        version: version.to_string(),
    })
}

/// One file of a project, as the index shows it.
#[derive(Debug, Clone)]
pub struct IndexFile {
    pub filename: String,
    /// Relative to the project page (`../../packages/...`).
    pub href: String,
    /// Empty when the file's index gave none (an upstream page may list files without a hash).
    pub sha256: String,
    pub requires_python: String,
    pub metadata_sha256: Option<String>,
    pub yanked: Option<String>,
    /// Unknown for a file an upstream's PEP 503 page lists: the JSON page then says API version 1.0.
    pub size: Option<i64>,
    pub upload_time: Option<String>,
    pub version: String,
}

/// Where a project page links a file: `../../packages/{project}/{version}/{file}`, relative to
/// `simple/{project}/`, so the link stays on whichever repository served the page.
pub fn file_href(project: &str, version: &str, filename: &str) -> String {
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    format!(
        "../../packages/{project}/{}/{}",
        encode(version),
        encode(filename)
    )
}

/// A virtual repository's page of `project`: the members' files (in member order) unioned by file
/// name, the first member listing a name winning it with everything its entry says (hash,
/// `requires-python`, yanking, metadata). Every link is made anew under the virtual repository, so no
/// member's or upstream's URL can pass through. Each file comes with the position of its member.
pub fn union_by_filename(project: &str, members: Vec<Vec<IndexFile>>) -> Vec<(IndexFile, usize)> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (position, files) in members.into_iter().enumerate() {
        for mut file in files {
            if seen.insert(file.filename.clone()) {
                file.href = file_href(project, &file.version, &file.filename);
                out.push((file, position));
            }
        }
    }
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The PEP 503 project page.
pub fn project_html(name: &str, files: &[IndexFile]) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\">\
         <title>Links for {0}</title></head><body><h1>Links for {0}</h1>\n",
        escape_html(name)
    );
    for f in files {
        let mut attrs = String::new();
        if !f.requires_python.is_empty() {
            attrs.push_str(&format!(
                " data-requires-python=\"{}\"",
                escape_html(&f.requires_python)
            ));
        }
        if let Some(sha) = &f.metadata_sha256 {
            // PEP 714 renamed the attribute; older pips read the PEP 658 spelling.
            attrs.push_str(&format!(
                " data-core-metadata=\"sha256={sha}\" data-dist-info-metadata=\"sha256={sha}\""
            ));
        }
        if let Some(reason) = &f.yanked {
            attrs.push_str(&format!(" data-yanked=\"{}\"", escape_html(reason)));
        }
        let hash = if f.sha256.is_empty() {
            String::new()
        } else {
            format!("#sha256={}", f.sha256)
        };
        page.push_str(&format!(
            "<a href=\"{}{hash}\"{attrs}>{}</a><br/>\n",
            escape_html(&f.href),
            escape_html(&f.filename)
        ));
    }
    page.push_str("</body></html>\n");
    page
}

/// The PEP 691 project page: API version 1.1 (PEP 700: `versions`, every file's `size`) when every
/// file's size is known, else 1.0.
pub fn project_json(name: &str, files: &[IndexFile]) -> Value {
    // Each version once, in the order the files give them (an upstream's page need not group them).
    let mut seen = std::collections::HashSet::new();
    let versions: Vec<&str> = files
        .iter()
        .map(|f| f.version.as_str())
        .filter(|v| seen.insert(*v))
        .collect();
    let sized = files.iter().all(|f| f.size.is_some());
    let files: Vec<Value> = files
        .iter()
        .map(|f| {
            let metadata = match &f.metadata_sha256 {
                Some(sha) => json!({"sha256": sha}),
                None => json!(false),
            };
            let yanked = match &f.yanked {
                Some(reason) if !reason.is_empty() => json!(reason),
                Some(_) => json!(true),
                None => json!(false),
            };
            let hashes = if f.sha256.is_empty() {
                json!({})
            } else {
                json!({"sha256": f.sha256})
            };
            let mut entry = json!({
                "filename": f.filename,
                "url": f.href,
                "hashes": hashes,
                "core-metadata": metadata,
                "dist-info-metadata": metadata,
                "yanked": yanked,
            });
            if let Some(size) = f.size {
                entry["size"] = json!(size);
            }
            if let Some(time) = &f.upload_time {
                entry["upload-time"] = json!(time);
            }
            if !f.requires_python.is_empty() {
                entry["requires-python"] = json!(f.requires_python);
            }
            entry
        })
        .collect();
    if sized {
        json!({
            "meta": {"api-version": "1.1"},
            "name": name,
            "versions": versions,
            "files": files,
        })
    } else {
        json!({
            "meta": {"api-version": "1.0"},
            "name": name,
            "files": files,
        })
    }
}

/// The PEP 503 root page.
pub fn root_html(projects: &[String]) -> String {
    let mut page = String::from(
        "<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.1\">\
         <title>Simple index</title></head><body>\n",
    );
    for p in projects {
        page.push_str(&format!("<a href=\"{0}/\">{0}</a><br/>\n", escape_html(p)));
    }
    page.push_str("</body></html>\n");
    page
}

pub fn root_json(projects: &[String]) -> Value {
    json!({
        "meta": {"api-version": "1.1"},
        "projects": projects.iter().map(|p| json!({"name": p})).collect::<Vec<_>>(),
    })
}

pub const JSON_V1: &str = "application/vnd.pypi.simple.v1+json";
pub const HTML_V1: &str = "application/vnd.pypi.simple.v1+html";

/// PEP 691 content negotiation: the acceptable type with the highest quality (ties go to the order arca
/// prefers: JSON, then HTML). `None` when nothing offered is acceptable.
pub fn negotiate(accept: Option<&str>) -> Option<&'static str> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some("text/html");
    };
    let mut best: Option<(f32, usize, &'static str)> = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|v| v.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let candidates: &[&'static str] = match media.as_str() {
            JSON_V1 => &[JSON_V1],
            HTML_V1 => &[HTML_V1],
            "text/html" => &["text/html"],
            "application/vnd.pypi.simple.latest+json" => &[JSON_V1],
            "application/vnd.pypi.simple.latest+html" => &[HTML_V1],
            // A wildcard (browsers, curl, plain HTTP libraries) gets the PEP 503 page every client reads.
            "*/*" | "text/*" => &["text/html"],
            "application/*" => &[JSON_V1],
            _ => &[],
        };
        for (rank, chosen) in candidates.iter().enumerate() {
            let preference = match *chosen {
                JSON_V1 => 0,
                HTML_V1 => 1,
                _ => 2,
            } + rank;
            let better = match best {
                None => true,
                Some((bq, bp, _)) => q > bq || (q == bq && preference < bp),
            };
            if better {
                best = Some((q, preference, chosen));
            }
        }
    }
    best.map(|(_, _, t)| t)
}

/// `Name` and `Version` of core metadata (RFC 822 style headers, up to the first blank line).
pub fn core_metadata_identity(metadata: &str) -> (Option<String>, Option<String>) {
    let (mut name, mut version) = (None, None);
    for line in metadata.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some((key, value)) = line.split_once(':') {
            match key.trim().to_ascii_lowercase().as_str() {
                "name" if name.is_none() => name = Some(value.trim().to_string()),
                "version" if version.is_none() => version = Some(value.trim().to_string()),
                _ => {}
            }
        }
    }
    (name, version)
}

/// The long description of core metadata and its `Description-Content-Type` (empty when not given): the
/// message body (metadata 2.1 and later), else the `Description` header with its continuation lines, whose
/// historical indent (eight spaces, or seven and a `|`) is taken off.
pub fn core_metadata_description(metadata: &str) -> (String, String) {
    let (mut content_type, mut header) = (String::new(), None::<String>);
    let mut in_description = false;
    let mut body_start = metadata.len();
    let mut offset = 0;
    for line in metadata.split_inclusive('\n') {
        offset += line.len();
        let bare = line.trim_end_matches(['\r', '\n']);
        if bare.trim().is_empty() {
            body_start = offset;
            break;
        }
        if bare.starts_with([' ', '\t']) {
            if in_description {
                let text = bare
                    .strip_prefix("       |")
                    .or_else(|| bare.strip_prefix("        "))
                    .unwrap_or(bare.trim_start());
                if let Some(h) = header.as_mut() {
                    h.push('\n');
                    h.push_str(text);
                }
            }
            continue;
        }
        in_description = false;
        if let Some((key, value)) = bare.split_once(':') {
            match key.trim().to_ascii_lowercase().as_str() {
                "description-content-type" => content_type = value.trim().to_string(),
                "description" if header.is_none() => {
                    in_description = true;
                    header = Some(value.trim().to_string());
                }
                _ => {}
            }
        }
    }
    let body = metadata[body_start.min(metadata.len())..].trim_end();
    let description = if body.trim().is_empty() {
        header.unwrap_or_default()
    } else {
        body.to_string()
    };
    (content_type, description)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(filename: &str, version: &str, sha: &str) -> IndexFile {
        IndexFile {
            filename: filename.into(),
            href: format!("https://elsewhere.example/{filename}"),
            sha256: sha.repeat(32),
            requires_python: String::new(),
            metadata_sha256: None,
            yanked: None,
            size: None,
            upload_time: None,
            version: version.into(),
        }
    }

    #[test]
    fn the_first_member_wins_a_file_name_and_links_stay_on_the_virtual_repository() {
        let mut hosted = listed("demo-1.0-py3-none-any.whl", "1.0", "aa");
        hosted.metadata_sha256 = Some("cc".repeat(32));
        hosted.requires_python = ">=3.9".into();
        let mut upstream_same = listed("demo-1.0-py3-none-any.whl", "1.0", "bb");
        upstream_same.yanked = Some("theirs".into());
        let upstream_only = listed("demo-2.0.tar.gz", "2.0", "dd");
        let merged = union_by_filename(
            "demo",
            vec![vec![hosted], vec![], vec![upstream_same, upstream_only]],
        );
        assert_eq!(merged.len(), 2);
        let (first, from) = &merged[0];
        assert_eq!(*from, 0);
        assert_eq!(first.sha256, "aa".repeat(32));
        assert_eq!(
            first.metadata_sha256.as_deref(),
            Some("cc".repeat(32).as_str())
        );
        assert_eq!(
            (first.requires_python.as_str(), first.yanked.as_ref()),
            (">=3.9", None),
            "nothing of the losing entry is mixed in"
        );
        let (second, from) = &merged[1];
        assert_eq!((*from, second.filename.as_str()), (2, "demo-2.0.tar.gz"));
        for (file, _) in &merged {
            assert!(
                file.href.starts_with("../../packages/demo/"),
                "{}",
                file.href
            );
        }
        assert_eq!(second.href, file_href("demo", "2.0", "demo-2.0.tar.gz"));
        // The other order: the upstream's entry (and its yank mark) wins.
        let again = union_by_filename(
            "demo",
            vec![
                vec![listed("demo-1.0-py3-none-any.whl", "1.0", "bb")],
                vec![listed("demo-1.0-py3-none-any.whl", "1.0", "aa")],
            ],
        );
        assert_eq!((again.len(), again[0].1), (1, 0));
        assert_eq!(again[0].0.sha256, "bb".repeat(32));
        assert!(union_by_filename("demo", vec![vec![], vec![]]).is_empty());
    }

    #[test]
    fn core_metadata_headers() {
        let m = "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0\n\nVersion: not this\n";
        assert_eq!(
            core_metadata_identity(m),
            (Some("Demo_Pkg".into()), Some("1.0".into()))
        );
        assert_eq!(core_metadata_identity(""), (None, None));
    }

    #[test]
    fn names_normalise() {
        assert_eq!(normalize("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize("FRIENDLY__bard"), "friendly-bard");
        assert_eq!(normalize("friendly.-_bard"), "friendly-bard");
        assert!(is_valid_name("a.b_c-1"));
        assert!(!is_valid_name("-a"));
        assert!(!is_valid_name("a/b"));
    }

    #[test]
    fn file_names_parse() {
        let w = parse_filename("Demo_Pkg-1.0.2-py3-none-any.whl").unwrap();
        assert_eq!(
            (w.kind, w.project.as_str(), w.version.as_str()),
            (DistKind::Wheel, "demo-pkg", "1.0.2")
        );
        let b = parse_filename("demo-1.0-1-cp311-cp311-linux_x86_64.whl").unwrap();
        assert_eq!(b.version, "1.0");
        let s = parse_filename("demo_pkg-2.0rc1.tar.gz").unwrap();
        assert_eq!(
            (s.kind, s.project.as_str(), s.version.as_str()),
            (DistKind::Sdist, "demo-pkg", "2.0rc1")
        );
        for bad in [
            "x.whl",
            "../a-1.0.tar.gz",
            "a-1.0-py3-none.whl",
            "a.tar.gz",
            "a-1.0.exe",
        ] {
            assert!(parse_filename(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn negotiation_follows_quality_then_preference() {
        let pip = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html; q=0.1, text/html; q=0.01";
        assert_eq!(negotiate(Some(pip)), Some(JSON_V1));
        assert_eq!(negotiate(Some("text/html")), Some("text/html"));
        assert_eq!(negotiate(None), Some("text/html"));
        assert_eq!(negotiate(Some("*/*")), Some("text/html"));
        assert_eq!(
            negotiate(Some("application/vnd.pypi.simple.v1+html, text/html;q=0.5")),
            Some(HTML_V1)
        );
        assert_eq!(negotiate(Some("image/png")), None);
    }

    #[test]
    fn pages_carry_hashes_and_flags() {
        let files = vec![IndexFile {
            filename: "demo-1.0-py3-none-any.whl".into(),
            href: "../../packages/demo/1.0/demo-1.0-py3-none-any.whl".into(),
            sha256: "ab".repeat(32),
            requires_python: ">=3.8".into(),
            metadata_sha256: Some("cd".repeat(32)),
            yanked: Some("broken".into()),
            size: Some(10),
            upload_time: Some("2026-01-01T00:00:00Z".into()),
            version: "1.0".into(),
        }];
        let html = project_html("demo", &files);
        assert!(html.contains("data-requires-python=\"&gt;=3.8\""));
        assert!(html.contains(&format!(
            "data-core-metadata=\"sha256={}\"",
            "cd".repeat(32)
        )));
        assert!(html.contains("data-yanked=\"broken\""));
        assert!(html.contains(&format!("#sha256={}", "ab".repeat(32))));
        let j = project_json("demo", &files);
        assert_eq!(j["files"][0]["yanked"], "broken");
        assert_eq!(j["files"][0]["requires-python"], ">=3.8");
        assert_eq!(j["versions"][0], "1.0");
    }

    #[test]
    fn descriptions_from_the_body_or_the_header() {
        let body = "Metadata-Version: 2.1\nName: demo\nDescription-Content-Type: text/markdown\n\n# Demo\n\n- a\n";
        assert_eq!(
            core_metadata_description(body),
            ("text/markdown".to_string(), "# Demo\n\n- a".to_string())
        );
        let header = "Metadata-Version: 1.2\r\nName: old\r\nDescription: first line\r\n        second\r\n       |  third\r\nKeywords: x\r\n\r\n";
        assert_eq!(
            core_metadata_description(header),
            (String::new(), "first line\nsecond\n  third".to_string())
        );
        assert_eq!(
            core_metadata_description("Name: bare\n"),
            (String::new(), String::new())
        );
    }
}
