//! The PyPI JSON API (warehouse's `/pypi/{project}/json` and `/pypi/{project}/{version}/json`) of a
//! hosted repository, from what arca keeps of each distribution file. `info` describes the release the
//! document is about (the newest upload's version for the project document); arca keeps no summary,
//! author or classifiers (twine sends them, the simple API never needed them), so those fields are null
//! rather than invented.

use serde_json::{json, Map, Value};

/// One distribution file of a project, as the JSON API lists it.
#[derive(Debug, Clone)]
pub struct ReleaseFile {
    pub version: String,
    pub filename: String,
    /// Absolute download URL.
    pub url: String,
    pub md5: String,
    pub sha256: String,
    pub size: i64,
    pub packagetype: String,
    pub requires_python: String,
    pub yanked: bool,
    pub yanked_reason: String,
    /// ISO 8601 with microseconds, UTC.
    pub upload_time: String,
}

/// What a document is about and where its links point.
pub struct Subject<'a> {
    /// The project's name as it was uploaded.
    pub display_name: &'a str,
    /// The normalised name, in URLs.
    pub project: &'a str,
    /// `{base}/artifactory/api/pypi/{repo}`.
    pub repo_url: &'a str,
    /// A serial that changes whenever the repository's packages change (the metadata generation).
    pub last_serial: i64,
}

fn file_json(f: &ReleaseFile) -> Value {
    json!({
        "filename": f.filename,
        "url": f.url,
        "digests": {"md5": f.md5, "sha256": f.sha256},
        "md5_digest": f.md5,
        "size": f.size,
        "packagetype": f.packagetype,
        "python_version": if f.packagetype == "sdist" { "source" } else { "" },
        "requires_python": if f.requires_python.is_empty() { Value::Null } else { json!(f.requires_python) },
        "has_sig": false,
        "comment_text": "",
        "yanked": f.yanked,
        "yanked_reason": if f.yanked && !f.yanked_reason.is_empty() { json!(f.yanked_reason) } else { Value::Null },
        "upload_time": f.upload_time.get(..19).unwrap_or(&f.upload_time),
        "upload_time_iso_8601": f.upload_time,
    })
}

/// The document of `version` (None: the project's, about its newest upload's version, with every
/// release). `files` are the project's, oldest upload first. None when the project, or that version of
/// it, has no file.
pub fn document(
    subject: &Subject<'_>,
    files: &[ReleaseFile],
    version: Option<&str>,
) -> Option<Value> {
    let about = match version {
        Some(v) => files.iter().rev().find(|f| f.version == v)?.version.clone(),
        None => files.last()?.version.clone(),
    };
    let of_version: Vec<&ReleaseFile> = files.iter().filter(|f| f.version == about).collect();
    // A release is yanked when all its files are (PEP 592 yanks a version's files together).
    let yanked = of_version.iter().all(|f| f.yanked);
    let yanked_reason = of_version
        .iter()
        .find(|f| f.yanked && !f.yanked_reason.is_empty())
        .map(|f| json!(f.yanked_reason))
        .filter(|_| yanked)
        .unwrap_or(Value::Null);
    let requires_python = of_version
        .iter()
        .rev()
        .map(|f| f.requires_python.as_str())
        .find(|r| !r.is_empty())
        .map_or(Value::Null, |r| json!(r));
    let project_url = format!("{}/pypi/{}/", subject.repo_url, subject.project);
    let info = json!({
        "name": subject.display_name,
        "version": about,
        "requires_python": requires_python,
        "yanked": yanked,
        "yanked_reason": yanked_reason,
        "summary": Value::Null,
        "description": Value::Null,
        "description_content_type": Value::Null,
        "author": Value::Null,
        "author_email": Value::Null,
        "license": Value::Null,
        "keywords": Value::Null,
        "classifiers": [],
        "requires_dist": Value::Null,
        "home_page": Value::Null,
        "project_urls": Value::Null,
        "package_url": project_url,
        "project_url": project_url,
        "release_url": format!("{project_url}{about}/"),
        "bugtrack_url": Value::Null,
        "docs_url": Value::Null,
        "download_url": Value::Null,
        "platform": Value::Null,
        "dynamic": Value::Null,
        "provides_extra": Value::Null,
    });
    let urls: Vec<Value> = of_version.iter().map(|f| file_json(f)).collect();
    let mut document = json!({
        "info": info,
        "last_serial": subject.last_serial,
        "urls": urls,
        "vulnerabilities": [],
    });
    if version.is_none() {
        let mut releases = Map::new();
        for f in files {
            let entry = releases
                .entry(f.version.clone())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = entry {
                list.push(file_json(f));
            }
        }
        document["releases"] = Value::Object(releases);
    }
    Some(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(version: &str, name: &str, yanked: bool) -> ReleaseFile {
        ReleaseFile {
            version: version.into(),
            filename: name.into(),
            url: format!("http://h/packages/{name}"),
            md5: "m".into(),
            sha256: "s".into(),
            size: 3,
            packagetype: if name.ends_with(".whl") {
                "bdist_wheel"
            } else {
                "sdist"
            }
            .into(),
            requires_python: if version == "2.0" {
                ">=3.9".into()
            } else {
                String::new()
            },
            yanked,
            yanked_reason: if yanked {
                "broken".into()
            } else {
                String::new()
            },
            upload_time: "2026-01-02T03:04:05.000006Z".into(),
        }
    }

    fn subject() -> Subject<'static> {
        Subject {
            display_name: "Demo_Pkg",
            project: "demo-pkg",
            repo_url: "http://h/artifactory/api/pypi/r",
            last_serial: 7,
        }
    }

    #[test]
    fn the_project_document_lists_every_release_and_describes_the_newest() {
        let files = [
            file("1.0", "demo_pkg-1.0.tar.gz", true),
            file("2.0", "demo_pkg-2.0.tar.gz", false),
            file("2.0", "demo_pkg-2.0-py3-none-any.whl", false),
        ];
        let doc = document(&subject(), &files, None).unwrap();
        assert_eq!(doc["info"]["version"], "2.0");
        assert_eq!(doc["info"]["name"], "Demo_Pkg");
        assert_eq!(doc["info"]["requires_python"], ">=3.9");
        assert_eq!(
            doc["info"]["release_url"],
            "http://h/artifactory/api/pypi/r/pypi/demo-pkg/2.0/"
        );
        assert_eq!(doc["urls"].as_array().unwrap().len(), 2);
        assert_eq!(doc["releases"]["1.0"][0]["yanked"], true);
        assert_eq!(doc["releases"]["1.0"][0]["yanked_reason"], "broken");
        assert_eq!(doc["releases"]["2.0"][1]["packagetype"], "bdist_wheel");
        assert_eq!(
            doc["releases"]["2.0"][0]["digests"],
            json!({"md5": "m", "sha256": "s"})
        );
        assert_eq!(doc["last_serial"], 7);
    }

    #[test]
    fn a_version_document_has_no_releases_and_unknown_versions_none() {
        let files = [
            file("1.0", "demo_pkg-1.0.tar.gz", true),
            file("2.0", "demo_pkg-2.0.tar.gz", false),
        ];
        let doc = document(&subject(), &files, Some("1.0")).unwrap();
        assert_eq!(doc["info"]["version"], "1.0");
        assert_eq!(doc["info"]["yanked"], true);
        assert_eq!(doc["info"]["yanked_reason"], "broken");
        assert!(doc.get("releases").is_none());
        assert!(document(&subject(), &files, Some("3.0")).is_none());
        assert!(document(&subject(), &[], None).is_none());
    }
}
