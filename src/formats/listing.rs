//! Directory listings of hosted repositories, as JSON for tools and HTML for a browser.

use serde::Serialize;

/// One entry of a directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Child {
    pub name: String,
    pub folder: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(rename = "lastModified", skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<i64>,
}

/// A file below a directory: its path relative to the directory and facts about it.
pub struct FileFact<'a> {
    pub relative_path: &'a str,
    pub size: i64,
    pub sha256: &'a str,
    pub modified_at: i64,
}

/// The immediate children of a directory, given every file below it (in path order): files directly in
/// it, and one folder entry per first segment of deeper paths.
pub fn children<'a>(files: impl IntoIterator<Item = FileFact<'a>>) -> Vec<Child> {
    let mut out: Vec<Child> = Vec::new();
    for f in files {
        match f.relative_path.split_once('/') {
            Some((folder, _)) => {
                if !out.iter().any(|c| c.folder && c.name == folder) {
                    out.push(Child {
                        name: folder.to_string(),
                        folder: true,
                        size: None,
                        sha256: None,
                        last_modified: None,
                    });
                }
            }
            None => out.push(Child {
                name: f.relative_path.to_string(),
                folder: false,
                size: Some(f.size),
                sha256: Some(f.sha256.to_string()),
                last_modified: Some(f.modified_at),
            }),
        }
    }
    out.sort_by(|a, b| b.folder.cmp(&a.folder).then_with(|| a.name.cmp(&b.name)));
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Everything but RFC 3986's unreserved characters is encoded in links.
const HREF_ENCODE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn escape_href(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, HREF_ENCODE).to_string()
}

/// A plain HTML index page of `children` under `title` (e.g. `/artifactory/repo/dir/`).
pub fn html(title: &str, children: &[Child]) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {t}</title></head>\n<body><h1>Index of {t}</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n",
        t = escape_html(title)
    );
    for c in children {
        let slash = if c.folder { "/" } else { "" };
        page.push_str(&format!(
            "<li><a href=\"{}{slash}\">{}{slash}</a>{}</li>\n",
            escape_href(&c.name),
            escape_html(&c.name),
            c.size.map(|s| format!(" {s} bytes")).unwrap_or_default()
        ));
    }
    page.push_str("</ul>\n</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_fold_deeper_paths_into_folders() {
        let files = [
            FileFact {
                relative_path: "a/x.txt",
                size: 1,
                sha256: "s1",
                modified_at: 1,
            },
            FileFact {
                relative_path: "a/y/z.txt",
                size: 2,
                sha256: "s2",
                modified_at: 2,
            },
            FileFact {
                relative_path: "b.txt",
                size: 3,
                sha256: "s3",
                modified_at: 3,
            },
        ];
        let c = children(files);
        assert_eq!(
            c.iter()
                .map(|c| (c.name.as_str(), c.folder))
                .collect::<Vec<_>>(),
            [("a", true), ("b.txt", false)]
        );
        assert_eq!(c[1].size, Some(3));
    }

    #[test]
    fn html_escapes_names() {
        let c = vec![Child {
            name: "<script>.txt".into(),
            folder: false,
            size: Some(1),
            sha256: None,
            last_modified: None,
        }];
        let page = html("/artifactory/r/", &c);
        assert!(page.contains("&lt;script&gt;.txt"));
        assert!(!page.contains("<script>"));
    }
}
