//! What a package page shows, per format, read through the code the package protocols serve from: the
//! npm packument (`hosted_packument`), the PyPI project's files (`hosted_files`) and their core metadata,
//! the Cargo index lines (`store::cargo::live_versions`), and the Maven version directories that
//! `maven-metadata.xml` is generated from. Nothing here decides access: the caller has checked it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::markdown;
use crate::formats::{maven, pypi};
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::protocols::{download, npm, pypi as pypi_protocol};
use crate::store::repos::{self, Repository};

/// A package as the page template shows it, whatever its format.
#[derive(Default)]
pub struct Package {
    pub display_name: String,
    /// The version whose details (dependencies, files, snippets) are shown.
    pub selected: String,
    pub summary: String,
    /// Sanitised HTML (markdown::render), written into the page unescaped.
    pub readme_html: Option<String>,
    /// Text that is not Markdown, shown as it is (escaped) in a `<pre>`.
    pub readme_text: Option<String>,
    pub versions: Vec<VersionRow>,
    pub tags: Vec<(String, String)>,
    pub facts: Vec<(String, String)>,
    pub dependencies: Vec<Dependency>,
    pub features: Vec<(String, String)>,
    pub files: Vec<FileRow>,
    pub snippets: Vec<Snippet>,
}

pub struct VersionRow {
    pub version: String,
    pub published: String,
    /// "yanked", "deprecated: …", "SNAPSHOT", or empty.
    pub note: String,
}

pub struct Dependency {
    pub name: String,
    pub requirement: String,
    pub kind: String,
}

pub struct FileRow {
    pub name: String,
    /// The file's path in the repository, for a link into Browse.
    pub path: String,
    pub size: i64,
    pub sha256: String,
    pub note: String,
}

pub struct Snippet {
    pub id: String,
    pub title: String,
    pub text: String,
}

fn snippet(id: &str, title: &str, text: String) -> Snippet {
    Snippet {
        id: format!("snippet-{id}"),
        title: title.to_string(),
        text,
    }
}

fn time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

/// An ISO time as the packument and PyPI pages give it, cut to the minute for people.
fn short_iso(iso: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(iso) {
        Ok(t) => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        Err(_) => iso.to_string(),
    }
}

/// The row of one stored file (an npm tarball, a `.crate`), with its size and digest as stored.
async fn stored_file(state: &AppState, repo: &Repository, path: String) -> ApiResult<Vec<FileRow>> {
    let repo_id = repo.id.clone();
    let found = state
        .db
        .call(move |conn| repos::get_live_file(conn, &repo_id, &path))
        .await?;
    Ok(found
        .into_iter()
        .map(|f| FileRow {
            name: f.path.rsplit('/').next().unwrap_or_default().to_string(),
            size: f.size,
            sha256: f.sha256,
            path: f.path,
            note: String::new(),
        })
        .collect())
}

fn not_found(name: &str, repo: &Repository) -> ApiError {
    ApiError::not_found(format!("No package {name} in {}", repo.name))
}

fn pick(
    wanted: Option<&str>,
    versions: &[VersionRow],
    default: Option<String>,
) -> ApiResult<String> {
    match wanted {
        Some(v) if versions.iter().any(|r| r.version == v) => Ok(v.to_string()),
        Some(_) => Err(ApiError::invalid(
            "version",
            "is not a live version of this package",
        )),
        None => Ok(default
            .or_else(|| versions.last().map(|r| r.version.clone()))
            .unwrap_or_default()),
    }
}

/// npm: the full packument, its dist-tags, the selected version's dependencies and README.
pub async fn npm_package(
    state: &AppState,
    repo: &Repository,
    name: &str,
    base: &str,
    wanted: Option<&str>,
) -> ApiResult<Package> {
    let registry = format!("{base}/artifactory/api/npm/{}/", repo.name);
    let tarballs = format!("{base}/artifactory/api/npm/{}", repo.name);
    let (doc, _) = npm::hosted_packument(state, repo, name, &tarballs, false)
        .await?
        .ok_or_else(|| not_found(name, repo))?;
    let empty = serde_json::Map::new();
    let versions_doc = doc["versions"].as_object().unwrap_or(&empty);
    let versions: Vec<VersionRow> = versions_doc
        .iter()
        .map(|(v, manifest)| VersionRow {
            version: v.clone(),
            published: short_iso(doc["time"][v].as_str().unwrap_or_default()),
            note: manifest["deprecated"]
                .as_str()
                .map(|m| format!("deprecated: {m}"))
                .unwrap_or_default(),
        })
        .collect();
    let tags: Vec<(String, String)> = doc["dist-tags"]
        .as_object()
        .unwrap_or(&empty)
        .iter()
        .map(|(t, v)| (t.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let latest = doc["dist-tags"]["latest"].as_str().map(str::to_string);
    let selected = pick(wanted, &versions, latest)?;
    let manifest = &versions_doc[&selected];
    let mut dependencies = Vec::new();
    for (field, kind) in [
        ("dependencies", "runtime"),
        ("peerDependencies", "peer"),
        ("optionalDependencies", "optional"),
        ("devDependencies", "dev"),
    ] {
        for (dep, req) in manifest[field].as_object().unwrap_or(&empty) {
            dependencies.push(Dependency {
                name: dep.clone(),
                requirement: req.as_str().unwrap_or_default().to_string(),
                kind: kind.to_string(),
            });
        }
    }
    let mut facts = Vec::new();
    for key in ["license", "homepage"] {
        if let Some(v) = manifest[key].as_str().filter(|v| !v.is_empty()) {
            facts.push((key.to_string(), v.to_string()));
        }
    }
    let readme = manifest["readme"].as_str().unwrap_or_default();
    let files = stored_file(
        state,
        repo,
        crate::formats::npm::tarball_path(name, &selected),
    )
    .await?;
    Ok(Package {
        display_name: name.to_string(),
        summary: manifest["description"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        readme_html: (!readme.trim().is_empty()).then(|| markdown::render(readme)),
        readme_text: None,
        versions,
        tags,
        facts,
        dependencies,
        features: Vec::new(),
        files,
        snippets: vec![
            snippet(
                "install",
                "Install",
                format!("npm install {name}@{selected}"),
            ),
            snippet(
                "npmrc",
                ".npmrc",
                match name.split_once('/') {
                    Some((scope, _)) => format!("{scope}:registry={registry}"),
                    None => format!("registry={registry}"),
                },
            ),
        ],
        selected,
    })
}

/// PyPI: the project's files as its simple page lists them, and the long description of the selected
/// version's wheel metadata (PEP 658 file).
pub async fn pypi_package(
    state: &AppState,
    repo: &Repository,
    project: &str,
    base: &str,
    wanted: Option<&str>,
) -> ApiResult<Package> {
    let (display, files, _) = pypi_protocol::hosted_files(state, repo, project)
        .await?
        .ok_or_else(|| not_found(project, repo))?;
    let mut versions: Vec<VersionRow> = Vec::new();
    for f in &files {
        if !versions.iter().any(|v| v.version == f.version) {
            versions.push(VersionRow {
                version: f.version.clone(),
                published: short_iso(f.upload_time.as_deref().unwrap_or_default()),
                note: String::new(),
            });
        }
    }
    // A version is yanked when all its files are (PEP 592 marks files; yank marks a version's files).
    for v in &mut versions {
        let mine: Vec<_> = files.iter().filter(|f| f.version == v.version).collect();
        if mine.iter().all(|f| f.yanked.is_some()) {
            let reason = mine[0].yanked.clone().unwrap_or_default();
            v.note = if reason.is_empty() {
                "yanked".into()
            } else {
                format!("yanked: {reason}")
            };
        }
    }
    let newest_unyanked = versions
        .iter()
        .rev()
        .find(|v| v.note.is_empty())
        .map(|v| v.version.clone());
    let selected = pick(wanted, &versions, newest_unyanked)?;
    let chosen: Vec<_> = files.iter().filter(|f| f.version == selected).collect();
    // Where the upload stored the file (the simple page's href is the same path, percent-encoded).
    let path_of = |f: &pypi::IndexFile| format!("packages/{project}/{}/{}", f.version, f.filename);
    let mut facts = Vec::new();
    if let Some(rp) = chosen
        .iter()
        .map(|f| &f.requires_python)
        .find(|r| !r.is_empty())
    {
        facts.push(("requires-python".to_string(), rp.clone()));
    }
    let (mut readme_html, mut readme_text) = (None, None);
    if let Some(wheel) = chosen.iter().find(|f| f.metadata_sha256.is_some()) {
        let meta_path = format!("{}.metadata", path_of(wheel));
        let repo_id = repo.id.clone();
        let file = state
            .db
            .call(move |conn| repos::get_live_file(conn, &repo_id, &meta_path))
            .await?;
        if let Some(file) = file {
            let bytes = download::read_whole(state, &file.sha256, file.size).await?;
            let text = String::from_utf8_lossy(&bytes);
            let (content_type, description) = pypi::core_metadata_description(&text);
            if !description.trim().is_empty() {
                if content_type
                    .to_ascii_lowercase()
                    .starts_with("text/markdown")
                {
                    readme_html = Some(markdown::render(&description));
                } else {
                    readme_text = Some(description);
                }
            }
        }
    }
    let index = format!("{base}/artifactory/api/pypi/{}/simple/", repo.name);
    Ok(Package {
        summary: String::new(),
        readme_html,
        readme_text,
        tags: Vec::new(),
        facts,
        dependencies: Vec::new(),
        features: Vec::new(),
        files: chosen
            .iter()
            .map(|f| FileRow {
                name: f.filename.clone(),
                path: path_of(f),
                size: f.size.unwrap_or(0),
                sha256: f.sha256.clone(),
                note: match &f.yanked {
                    Some(r) if r.is_empty() => "yanked".into(),
                    Some(r) => format!("yanked: {r}"),
                    None => String::new(),
                },
            })
            .collect(),
        snippets: vec![snippet(
            "pip",
            "pip install",
            format!("pip install --index-url {index} {display}=={selected}"),
        )],
        display_name: display,
        versions,
        selected,
    })
}

/// Cargo: the index lines of the crate's live versions (yank flags as set now) with their features and
/// dependencies.
pub async fn cargo_package(
    state: &AppState,
    repo: &Repository,
    name: &str,
    base: &str,
    wanted: Option<&str>,
) -> ApiResult<Package> {
    let (repo_id, key) = (repo.id.clone(), name.to_string());
    let lines = state
        .db
        .call(move |conn| crate::store::cargo::live_versions(conn, &repo_id, &key))
        .await?;
    if lines.is_empty() {
        return Err(not_found(name, repo));
    }
    let mut entries = Vec::new();
    for (line, yanked, published) in &lines {
        let entry: Value = serde_json::from_str(line)
            .map_err(|e| ApiError::Internal(format!("stored index line: {e}")))?;
        entries.push((entry, *yanked, *published));
    }
    let versions: Vec<VersionRow> = entries
        .iter()
        .map(|(e, yanked, published)| VersionRow {
            version: e["vers"].as_str().unwrap_or_default().to_string(),
            published: time(*published),
            note: if *yanked {
                "yanked".into()
            } else {
                String::new()
            },
        })
        .collect();
    let newest = versions
        .iter()
        .rev()
        .find(|v| v.note.is_empty())
        .map(|v| v.version.clone());
    let selected = pick(wanted, &versions, newest)?;
    let (entry, _, _) = entries
        .iter()
        .find(|(e, _, _)| e["vers"] == selected.as_str())
        .ok_or_else(|| not_found(name, repo))?;
    let display = entry["name"].as_str().unwrap_or(name).to_string();
    let empty = Vec::new();
    let dependencies = entry["deps"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .map(|d| {
            let mut kind = d["kind"].as_str().unwrap_or("normal").to_string();
            if d["optional"].as_bool() == Some(true) {
                kind.push_str(", optional");
            }
            if let Some(target) = d["target"].as_str() {
                kind.push_str(&format!(", {target}"));
            }
            Dependency {
                name: d["package"]
                    .as_str()
                    .or(d["name"].as_str())
                    .unwrap_or_default()
                    .to_string(),
                requirement: d["req"].as_str().unwrap_or_default().to_string(),
                kind,
            }
        })
        .collect();
    let mut features: BTreeMap<String, String> = BTreeMap::new();
    for key in ["features", "features2"] {
        for (f, enables) in entry[key].as_object().into_iter().flatten() {
            let list: Vec<&str> = enables
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            features.insert(f.clone(), list.join(", "));
        }
    }
    let index = format!("sparse+{base}/artifactory/api/cargo/{}/index/", repo.name);
    let path = crate::http::protocols::cargo::crate_path(&display, &selected);
    let files = stored_file(state, repo, path).await?;
    Ok(Package {
        summary: String::new(),
        readme_html: None,
        readme_text: None,
        tags: Vec::new(),
        facts: Vec::new(),
        dependencies,
        features: features.into_iter().collect(),
        files,
        snippets: vec![
            snippet(
                "cargo-toml",
                "Cargo.toml",
                format!(
                    "[dependencies]\n{display} = {{ version = \"{selected}\", registry = \"{}\" }}",
                    repo.name
                ),
            ),
            snippet(
                "cargo-config",
                ".cargo/config.toml",
                format!("[registries.{}]\nindex = \"{index}\"", repo.name),
            ),
        ],
        display_name: display,
        versions,
        selected,
    })
}

/// Maven: the version directories of `group:artifact`, as its `maven-metadata.xml` is generated from
/// them, and the selected version's files; a SNAPSHOT version's timestamped builds are marked.
pub async fn maven_package(
    state: &AppState,
    repo: &Repository,
    group: &str,
    artifact: &str,
    base: &str,
    wanted: Option<&str>,
) -> ApiResult<Package> {
    let group_path = group.replace('.', "/");
    let prefix = format!("{group_path}/{artifact}/");
    let repo_id = repo.id.clone();
    let files = state
        .db
        .call(move |conn| repos::live_files_under(conn, &repo_id, &prefix))
        .await?;
    let mut by_version: BTreeMap<String, Vec<&repos::FileEntry>> = BTreeMap::new();
    for f in &files {
        let Some(v) = maven::version_file(&f.path) else {
            continue;
        };
        if v.group_path == group_path && v.artifact_id == artifact {
            by_version.entry(v.version.to_string()).or_default().push(f);
        }
    }
    let coordinate = format!("{group}:{artifact}");
    if by_version.is_empty() {
        return Err(not_found(&coordinate, repo));
    }
    let mut ordered: Vec<&String> = by_version.keys().collect();
    ordered.sort_by(|a, b| maven::compare_versions(a, b));
    let versions: Vec<VersionRow> = ordered
        .iter()
        .map(|v| VersionRow {
            version: (*v).clone(),
            published: time(
                by_version[*v]
                    .iter()
                    .map(|f| f.modified_at)
                    .max()
                    .unwrap_or(0),
            ),
            note: if maven::is_snapshot_version(v) {
                "SNAPSHOT".into()
            } else {
                String::new()
            },
        })
        .collect();
    let newest_release = versions
        .iter()
        .rev()
        .find(|v| v.note.is_empty())
        .map(|v| v.version.clone());
    let selected = pick(wanted, &versions, newest_release)?;
    let rows = by_version[&selected]
        .iter()
        .filter(|f| !maven::CHECKSUM_SUFFIXES.iter().any(|s| f.path.ends_with(s)))
        .map(|f| {
            let name = f.path.rsplit('/').next().unwrap_or_default().to_string();
            let note = maven::parse_snapshot_build(artifact, &selected, &name)
                .map(|b| format!("build {} · {}", b.build_number, b.timestamp))
                .unwrap_or_default();
            FileRow {
                name,
                path: f.path.clone(),
                size: f.size,
                sha256: f.sha256.clone(),
                note,
            }
        })
        .collect();
    let url = format!("{base}/artifactory/{}/", repo.name);
    Ok(Package {
        display_name: coordinate,
        summary: String::new(),
        readme_html: None,
        readme_text: None,
        tags: Vec::new(),
        facts: vec![("repository".to_string(), url.clone())],
        dependencies: Vec::new(),
        features: Vec::new(),
        files: rows,
        snippets: vec![
            snippet(
                "maven",
                "Maven <dependency>",
                format!(
                    "<dependency>\n  <groupId>{group}</groupId>\n  <artifactId>{artifact}</artifactId>\n  <version>{selected}</version>\n</dependency>"
                ),
            ),
            snippet(
                "gradle",
                "Gradle (Kotlin DSL)",
                format!(
                    "repositories {{\n    maven {{ url = uri(\"{url}\") }}\n}}\ndependencies {{\n    implementation(\"{group}:{artifact}:{selected}\")\n}}"
                ),
            ),
        ],
        versions,
        selected,
    })
}
