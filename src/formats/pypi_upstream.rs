//! Simple pages read from an upstream index, for remote PyPI repositories: the files a PEP 691 JSON or
//! PEP 503 HTML page lists, with their links resolved against the page's URL, and the same files as
//! arca's own page lists them (links under the repository, never at the upstream).
//!
//! Where things live in a remote repository (decision): the upstream's page for a project is kept as
//! the file `simple/{project}/index` (in whichever format the upstream answered, its content type
//! recorded), and every file it lists as `packages/{project}/{version}/{filename}` like a hosted
//! repository's — PEP 658 metadata beside it with `.metadata` appended. Package paths all start with
//! `packages/`, so a page can never be taken for a package file or the reverse.

use serde::Deserialize;
use url::Url;

use super::pypi::{self, IndexFile};

/// What arca asks an upstream index for: PEP 691 JSON first, HTML as pip would take it.
pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, \
     application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Pages larger than this are refused rather than parsed (pypi.org's largest are a few tens of MiB).
pub const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;

/// Where the upstream's page of `project` (normalised) is kept in the repository.
pub fn page_path(project: &str) -> String {
    format!("simple/{project}/index")
}

/// The project whose page is kept at `path`, if `path` is one.
pub fn project_of_page_path(path: &str) -> Option<&str> {
    path.strip_prefix("simple/")?
        .strip_suffix("/index")
        .filter(|p| !p.contains('/'))
}

/// The upstream's page of `project` under an index base (`{remote_url}/simple/{project}/`).
pub fn page_url(remote_url: &str, project: &str) -> Result<Url, url::ParseError> {
    Url::parse(&format!(
        "{}/simple/{project}/",
        remote_url.trim_end_matches('/')
    ))
}

/// A file as the upstream's page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub filename: String,
    /// Absolute, without the fragment.
    pub url: Url,
    /// Lower-case hex digests the page gives (64 and 128 digits; others are dropped).
    pub sha256: Option<String>,
    pub sha512: Option<String>,
    pub requires_python: String,
    /// `Some(reason)` when yanked (PEP 592); the reason may be empty.
    pub yanked: Option<String>,
    /// The SHA-256 of the PEP 658 metadata file, when the page says it has one and gives its hash.
    pub metadata_sha256: Option<String>,
    pub size: Option<i64>,
    pub upload_time: Option<String>,
}

impl Listed {
    /// The version the file's name gives, which places it under `packages/{project}/{version}/`. None
    /// for names that are not a wheel or an sdist pip installs (`.egg`, `.exe` and the like): such files
    /// are left out of arca's page.
    pub fn version(&self) -> Option<String> {
        version_of(&self.filename)
    }

    /// Where the PEP 658 metadata of this file is upstream: the file's URL with `.metadata` appended.
    pub fn metadata_url(&self) -> Url {
        let mut url = self.url.clone();
        let path = format!("{}.metadata", url.path());
        url.set_path(&path);
        url
    }
}

/// The files an upstream page lists, each once (the first listing of a file name wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub files: Vec<Listed>,
}

impl Page {
    pub fn find(&self, filename: &str) -> Option<&Listed> {
        self.files.iter().find(|f| f.filename == filename)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PageError {
    #[error("the upstream's simple page is not PEP 691 JSON: {0}")]
    Json(String),
}

/// Parses an upstream's page: JSON when its content type says so, HTML otherwise.
pub fn parse(body: &[u8], content_type: &str, page_url: &Url) -> Result<Page, PageError> {
    if content_type.to_ascii_lowercase().contains("json") {
        parse_json(body, page_url)
    } else {
        Ok(parse_html(body, page_url))
    }
}

#[derive(Deserialize)]
struct JsonPage {
    #[serde(default)]
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::HashMap<String, String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Option<Flag>,
    /// A boolean or the metadata file's hashes.
    #[serde(rename = "core-metadata", default)]
    core_metadata: Option<serde_json::Value>,
    #[serde(rename = "dist-info-metadata", default)]
    dist_info_metadata: Option<serde_json::Value>,
    #[serde(default)]
    size: Option<i64>,
    #[serde(rename = "upload-time", default)]
    upload_time: Option<String>,
}

/// `yanked`: a boolean or the reason.
#[derive(Deserialize)]
#[serde(untagged)]
enum Flag {
    Bool(bool),
    Reason(String),
}

/// Typed, so unknown fields are skipped without being built: memory follows what is kept.
fn parse_json(body: &[u8], page_url: &Url) -> Result<Page, PageError> {
    // Where the page went wrong, without quoting it (the upstream's text is not echoed).
    let page: JsonPage = serde_json::from_slice(body).map_err(|e| {
        PageError::Json(format!(
            "invalid at line {} column {}",
            e.line(),
            e.column()
        ))
    })?;
    let mut out = Page::default();
    for f in page.files {
        let Some(url) = resolve(page_url, &f.url) else {
            continue;
        };
        let metadata = f.core_metadata.or(f.dist_info_metadata);
        let listed = Listed {
            filename: f.filename,
            url: without_fragment(url),
            sha256: hex_digest(f.hashes.get("sha256").map(String::as_str), 64),
            sha512: hex_digest(f.hashes.get("sha512").map(String::as_str), 128),
            requires_python: f.requires_python.unwrap_or_default(),
            yanked: match f.yanked {
                Some(Flag::Reason(r)) => Some(r),
                Some(Flag::Bool(true)) => Some(String::new()),
                Some(Flag::Bool(false)) | None => None,
            },
            metadata_sha256: hex_digest(
                metadata.as_ref().and_then(|m| m.get("sha256")?.as_str()),
                64,
            ),
            size: f.size.filter(|s| *s >= 0),
            upload_time: f.upload_time,
        };
        push(&mut out, listed);
    }
    Ok(out)
}

/// A PEP 503 page: every `<a href>` (honouring `<base href>`, as pip does), with the hash in the link's
/// fragment and the `data-*` attributes of PEP 503, 592 and 658/714. A tokenizer never fails: what is
/// not a link is ignored.
fn parse_html(body: &[u8], page_url: &Url) -> Page {
    use html5gum::{Token, Tokenizer};
    let mut base = page_url.clone();
    let mut seen_base = false;
    let mut out = Page::default();
    for Ok(token) in Tokenizer::new(body) {
        let Token::StartTag(tag) = token else {
            continue;
        };
        let attr = |name: &str| {
            tag.attributes
                .get(name.as_bytes())
                .map(|v| String::from_utf8_lossy(&v.value).into_owned())
        };
        match tag.name.as_slice() {
            b"base" if !seen_base => {
                if let Some(url) = attr("href").and_then(|h| resolve(page_url, &h)) {
                    base = url;
                    seen_base = true;
                }
            }
            b"a" => {
                let Some(href) = attr("href") else {
                    continue;
                };
                let Some(url) = resolve(&base, &href) else {
                    continue;
                };
                let Some(filename) = last_segment(&url) else {
                    continue;
                };
                let fragment = url.fragment().unwrap_or("").to_string();
                let hash = |name: &str| {
                    fragment
                        .split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.to_string())
                };
                let metadata =
                    attr("data-core-metadata").or_else(|| attr("data-dist-info-metadata"));
                let listed = Listed {
                    filename,
                    url: without_fragment(url.clone()),
                    sha256: hex_digest(hash("sha256").as_deref(), 64),
                    sha512: hex_digest(hash("sha512").as_deref(), 128),
                    requires_python: attr("data-requires-python").unwrap_or_default(),
                    yanked: attr("data-yanked"),
                    metadata_sha256: metadata
                        .and_then(|m| hex_digest(m.strip_prefix("sha256="), 64)),
                    size: None,
                    upload_time: None,
                };
                push(&mut out, listed);
            }
            _ => {}
        }
    }
    out
}

fn push(page: &mut Page, listed: Listed) {
    let plausible = !listed.filename.is_empty()
        && listed.filename.len() <= 255
        && !listed.filename.contains(['/', '\\'])
        && !listed.filename.starts_with('.')
        && !listed.filename.chars().any(char::is_control)
        && listed.requires_python.len() <= 256
        && listed.yanked.as_ref().is_none_or(|r| r.len() <= 512);
    if plausible && page.find(&listed.filename).is_none() {
        page.files.push(listed);
    }
}

/// A link resolved against `base`; only http(s) links are files arca can fetch.
fn resolve(base: &Url, href: &str) -> Option<Url> {
    base.join(href.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
}

fn without_fragment(mut url: Url) -> Url {
    url.set_fragment(None);
    url
}

/// The link's last path segment, percent-decoded: the file name, as pip reads it.
fn last_segment(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
        .filter(|s| !s.is_empty())
}

fn hex_digest(value: Option<&str>, len: usize) -> Option<String> {
    value
        .filter(|v| v.len() == len && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
}

/// Archive suffixes of sdists that pip still installs, besides `.tar.gz` and `.zip`.
const OLDER_SDISTS: [&str; 5] = [".tar.bz2", ".tar.xz", ".tgz", ".tbz", ".tar"];

/// The version a distribution's file name gives.
pub fn version_of(filename: &str) -> Option<String> {
    if let Some(d) = pypi::parse_filename(filename) {
        return Some(d.version);
    }
    let stem = OLDER_SDISTS
        .iter()
        .find_map(|suffix| filename.strip_suffix(suffix))?;
    let (name, version) = stem.rsplit_once('-')?;
    (pypi::is_valid_name(name) && pypi::is_valid_version(version)).then(|| version.to_string())
}

/// The page's files as arca lists them: each linked at `../../packages/{project}/{version}/{file}`
/// (relative to `simple/{project}/`), with the hash, `requires-python`, yanking and — when the upstream
/// gives its hash, so arca can fetch and verify it — the PEP 658 metadata file.
pub fn rewrite(project: &str, page: &Page) -> Vec<IndexFile> {
    page.files
        .iter()
        .filter_map(|f| {
            let version = f.version()?;
            Some(IndexFile {
                filename: f.filename.clone(),
                href: pypi::file_href(project, &version, &f.filename),
                sha256: f.sha256.clone().unwrap_or_default(),
                requires_python: f.requires_python.clone(),
                metadata_sha256: f.metadata_sha256.clone(),
                yanked: f.yanked.clone(),
                size: f.size,
                upload_time: f.upload_time.clone(),
                version,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo_page() -> Url {
        Url::parse("https://index.example/simple/demo/").unwrap()
    }

    #[test]
    fn html_links_resolve_against_the_page_and_keep_their_attributes() {
        let sha = "AB".repeat(32);
        let meta = "cd".repeat(32);
        let html = format!(
            "<!DOCTYPE html><html><body><h1>Links for demo</h1>\n\
             <a href=\"../../packages/demo-1.0-py3-none-any.whl#sha256={sha}\" \
                data-requires-python=\"&gt;=3.8\" data-core-metadata=\"sha256={meta}\">demo-1.0-py3-none-any.whl</a><br/>\n\
             <a href=\"https://files.example/x/demo-0.9.tar.gz#md5=00\" data-yanked=\"\">demo-0.9.tar.gz</a>\n\
             <a href=\"/abs/demo%2B-0.8.tar.bz2\" data-yanked=\"broken build\">x</a>\n\
             <a href=\"javascript:alert(1)\">nope</a><a>no href</a>\n\
             <a href=\"../../packages/demo-1.0-py3-none-any.whl\">duplicate</a>\n\
             </body></html>"
        );
        let page = parse(html.as_bytes(), "text/html; charset=utf-8", &demo_page()).unwrap();
        assert_eq!(page.files.len(), 3, "{page:?}");
        let wheel = &page.files[0];
        assert_eq!(wheel.filename, "demo-1.0-py3-none-any.whl");
        assert_eq!(
            wheel.url.as_str(),
            "https://index.example/packages/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(wheel.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(wheel.requires_python, ">=3.8");
        assert_eq!(wheel.metadata_sha256.as_deref(), Some(meta.as_str()));
        assert_eq!(
            wheel.metadata_url().as_str(),
            "https://index.example/packages/demo-1.0-py3-none-any.whl.metadata"
        );
        let sdist = &page.files[1];
        assert_eq!(
            sdist.url.as_str(),
            "https://files.example/x/demo-0.9.tar.gz"
        );
        assert_eq!(
            (sdist.sha256.as_deref(), sdist.yanked.as_deref()),
            (None, Some(""))
        );
        assert_eq!(page.files[2].filename, "demo+-0.8.tar.bz2");
        assert_eq!(page.files[2].yanked.as_deref(), Some("broken build"));
    }

    #[test]
    fn a_base_element_moves_relative_links() {
        let html = "<html><head><base href=\"https://mirror.example/files/\"></head>\
                    <body><a href=\"demo-1.0.tar.gz\">demo-1.0.tar.gz</a></body></html>";
        let page = parse(html.as_bytes(), "text/html", &demo_page()).unwrap();
        assert_eq!(
            page.files[0].url.as_str(),
            "https://mirror.example/files/demo-1.0.tar.gz"
        );
    }

    #[test]
    fn json_pages_give_hashes_flags_and_sizes() {
        let json = serde_json::json!({
            "meta": {"api-version": "1.1"},
            "name": "demo",
            "versions": ["1.0"],
            "files": [
                {"filename": "demo-1.0-py3-none-any.whl", "url": "../../f/demo-1.0-py3-none-any.whl",
                 "hashes": {"sha256": "ef".repeat(32)}, "requires-python": ">=3.9",
                 "core-metadata": {"sha256": "01".repeat(32)}, "yanked": "bad", "size": 12,
                 "upload-time": "2026-01-01T00:00:00Z", "unknown": {"deep": [1, 2, 3]}},
                {"filename": "demo-1.0.tar.gz", "url": "https://files.example/demo-1.0.tar.gz",
                 "hashes": {}, "dist-info-metadata": true, "yanked": false},
            ]
        });
        let page = parse(
            json.to_string().as_bytes(),
            "application/vnd.pypi.simple.v1+json",
            &demo_page(),
        )
        .unwrap();
        let wheel = &page.files[0];
        assert_eq!(
            wheel.url.as_str(),
            "https://index.example/f/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(wheel.sha256.as_deref(), Some("ef".repeat(32).as_str()));
        assert_eq!(
            wheel.metadata_sha256.as_deref(),
            Some("01".repeat(32).as_str())
        );
        assert_eq!(wheel.yanked.as_deref(), Some("bad"));
        assert_eq!(
            (wheel.size, wheel.requires_python.as_str()),
            (Some(12), ">=3.9")
        );
        let sdist = &page.files[1];
        assert_eq!(
            (sdist.metadata_sha256.as_ref(), sdist.yanked.as_ref()),
            (None, None)
        );
        assert!(parse(
            b"<html>",
            "application/vnd.pypi.simple.v1+json",
            &demo_page()
        )
        .is_err());
    }

    #[test]
    fn rewritten_links_point_under_the_repository() {
        let html = format!(
            "<a href=\"https://files.example/demo-1.0-py3-none-any.whl#sha256={}\">w</a>\
             <a href=\"https://files.example/demo-1.0-py2.4.egg\">egg</a>",
            "ab".repeat(32)
        );
        let page = parse(html.as_bytes(), "text/html", &demo_page()).unwrap();
        let files = rewrite("demo", &page);
        assert_eq!(files.len(), 1, "the egg has no place under packages/");
        assert_eq!(
            files[0].href,
            "../../packages/demo/1%2E0/demo%2D1%2E0%2Dpy3%2Dnone%2Dany%2Ewhl"
        );
        assert_eq!(files[0].version, "1.0");
        let html = pypi::project_html("demo", &files);
        assert!(!html.contains("files.example"), "{html}");
        let json = pypi::project_json("demo", &files);
        assert_eq!(json["meta"]["api-version"], "1.0");
        assert!(json["files"][0].get("size").is_none());
    }

    #[test]
    fn versions_and_page_paths() {
        assert_eq!(
            version_of("demo-1.0-py3-none-any.whl").as_deref(),
            Some("1.0")
        );
        assert_eq!(version_of("Demo-2.0b1.tar.bz2").as_deref(), Some("2.0b1"));
        assert_eq!(version_of("demo-1.0.win32.exe"), None);
        assert_eq!(page_path("demo"), "simple/demo/index");
        assert_eq!(project_of_page_path("simple/demo/index"), Some("demo"));
        assert_eq!(project_of_page_path("packages/demo/1.0/index"), None);
        assert_eq!(
            page_url("https://pypi.example/", "demo").unwrap().as_str(),
            "https://pypi.example/simple/demo/"
        );
    }
}
