//! Package pages (`/ui/packages/{repository}/{package}`), the package lists of repository pages, and the
//! mapping from a file's path to the package it belongs to (for Browse and search results).
//!
//! URL forms of a package, one per format (repository names are unique, so the name alone finds it):
//! - npm:   `/ui/packages/{repo}/left-pad`, scoped `/ui/packages/{repo}/@scope/name` (the `/` kept);
//! - PyPI:  `/ui/packages/{repo}/{project}` (any spelling; the normalised name is looked up);
//! - Cargo: `/ui/packages/{repo}/{crate}`;
//! - Maven: `/ui/packages/{repo}/{groupId}:{artifactId}`;
//!
//! each with `?version=` to show another version than the latest. Reading a package page needs what
//! downloading the package needs: the same `authorize` the package protocols call, on the path they ask
//! it about, so a caller who could not download gets the console's 403 or 404 page and none of the data.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::package_data::{self, Package};
use super::session::Session;
use super::views::{self, Chrome};
use crate::auth::Principal;
use crate::domain::artifact_path::ArtifactPath;
use crate::domain::operation::Operation;
use crate::formats::{cargo, maven, npm, pypi};
use crate::http::app::AppState;
use crate::http::artifact::access::CallerAccess;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::http::protocols::access::authorize;
use crate::http::urls::public_base_url;
use crate::service::repo_kinds;
use crate::store::repos::{self, Repository, STATUS_ACTIVE};

/// Formats whose repositories have package pages.
pub const PACKAGE_FORMATS: [&str; 4] = ["npm", "pypi", "cargo", "maven2"];
/// The most packages a repository page lists.
const LIST_LIMIT: i64 = 500;

/// Characters a package segment keeps in a URL: `@` of npm scopes and `:` of Maven coordinates read better
/// as they are, and are safe in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@')
    .remove(b':');

/// The console URL of package `name` (npm scope, if any, as its own segment) in repository `repo`.
pub fn href(repo: &str, name: &str) -> String {
    let segments: Vec<String> = name
        .split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    format!(
        "/ui/packages/{}/{}",
        utf8_percent_encode(repo, SEGMENT),
        segments.join("/")
    )
}

/// The package a file of a `format` repository belongs to, as its page names it, if it is recognisably
/// one: an npm tarball, a PyPI distribution, a `.crate`, a file of a Maven version directory.
pub fn package_of(format: &str, path: &str) -> Option<String> {
    match format {
        "npm" => path
            .split_once("/-/")
            .map(|(name, _)| name.to_string())
            .filter(|n| npm::is_valid_name(n)),
        "pypi" => match path.split('/').collect::<Vec<_>>().as_slice() {
            ["packages", project, _, _, ..] => Some(project.to_string()),
            _ => None,
        },
        "cargo" => match path.split('/').collect::<Vec<_>>().as_slice() {
            ["crates", name, file] if file.ends_with(".crate") => Some(name.to_string()),
            _ => None,
        },
        "maven2" => maven::version_file(path)
            .map(|v| format!("{}:{}", v.group_path.replace('/', "."), v.artifact_id)),
        _ => None,
    }
}

/// A package named in a URL, checked, with the path in its repository that reading it is authorised on
/// (the path the package protocol authorises a read of its index entry on).
enum Key {
    Npm(String),
    Pypi(String),
    Cargo(String),
    Maven { group: String, artifact: String },
}

impl Key {
    fn parse(format: &str, name: &str) -> ApiResult<Key> {
        let bad = |why: &str| ApiError::invalid("package", why.to_string());
        match format {
            "npm" if npm::is_valid_name(name) => Ok(Key::Npm(name.to_string())),
            "npm" => Err(bad("is not an npm package name")),
            "pypi" if pypi::is_valid_name(name) => Ok(Key::Pypi(pypi::normalize(name))),
            "pypi" => Err(bad("is not a PyPI project name")),
            "cargo" if cargo::is_valid_name(name) => Ok(Key::Cargo(name.to_string())),
            "cargo" => Err(bad("is not a crate name")),
            "maven2" => {
                let (group, artifact) = name
                    .split_once(':')
                    .ok_or_else(|| bad("must be groupId:artifactId"))?;
                let path = format!("{}/{artifact}", group.replace('.', "/"));
                let plain = ArtifactPath::parse_plain(&path).is_ok_and(|p| p.as_str() == path);
                if group.is_empty()
                    || artifact.is_empty()
                    || artifact.contains(['/', ':'])
                    || !plain
                {
                    return Err(bad("must be groupId:artifactId"));
                }
                Ok(Key::Maven {
                    group: group.to_string(),
                    artifact: artifact.to_string(),
                })
            }
            _ => Err(ApiError::not_found(
                "Package pages are shown for npm, PyPI, Cargo and Maven repositories",
            )),
        }
    }

    fn path(&self) -> String {
        match self {
            Key::Npm(name) => name.clone(),
            Key::Pypi(project) => format!("packages/{project}"),
            Key::Cargo(name) => format!("crates/{}", name.to_ascii_lowercase()),
            Key::Maven { group, artifact } => format!("{}/{artifact}", group.replace('.', "/")),
        }
    }
}

/// The active repository `name` of the caller's account; any other answers as one that does not exist.
async fn account_repo(
    state: &AppState,
    principal: &Principal,
    name: &str,
) -> ApiResult<Repository> {
    let key = name.to_string();
    state
        .db
        .call(move |conn| repos::get_repo_by_name(conn, &key))
        .await?
        .filter(|r| r.status == STATUS_ACTIVE && r.domain_id == principal.domain_id)
        .ok_or_else(|| ApiError::not_found(format!("No repository named {name}")))
}

#[derive(Template)]
#[template(path = "console/package.html")]
pub struct PackagePage {
    pub chrome: Chrome,
    pub repo: String,
    pub project_id: String,
    pub format: String,
    /// The package's URL on the console, for version links.
    pub href: String,
    pub pkg: Package,
}

/// `GET /ui/packages/{repo}/{*package}?version=`.
pub async fn show(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path((repo, name)): Path<(String, String)>,
    query: QueryParams,
) -> Response {
    views::respond(page(&state, &session, &headers, &repo, &name, &query).await)
}

async fn page(
    state: &AppState,
    session: &Session,
    headers: &HeaderMap,
    repo_name: &str,
    name: &str,
    query: &QueryParams,
) -> ApiResult<PackagePage> {
    let wanted = query.filter("version", 256)?;
    let principal = &session.principal;
    let repo = account_repo(state, principal, repo_name).await?;
    let key = Key::parse(&repo.format, name.trim_end_matches('/'))?;
    authorize(
        state,
        Some(principal),
        &repo,
        Operation::Download,
        &key.path(),
    )
    .await?;
    if repo.repo_type != repo_kinds::HOSTED {
        return Err(ApiError::not_found(format!(
            "{} is a {} repository: package pages show what was published to hosted repositories",
            repo.name, repo.repo_type
        )));
    }
    let base = public_base_url(&state.config, headers);
    let wanted = wanted.as_deref();
    let pkg = match &key {
        Key::Npm(n) => package_data::npm_package(state, &repo, n, &base, wanted).await?,
        Key::Pypi(p) => package_data::pypi_package(state, &repo, p, &base, wanted).await?,
        Key::Cargo(c) => package_data::cargo_package(state, &repo, c, &base, wanted).await?,
        Key::Maven { group, artifact } => {
            package_data::maven_package(state, &repo, group, artifact, &base, wanted).await?
        }
    };
    Ok(PackagePage {
        chrome: super::pages::chrome(session),
        href: href(&repo.name, name.trim_end_matches('/')),
        repo: repo.name,
        project_id: repo.project_id,
        format: repo.format,
        pkg,
    })
}

/// A package in a repository page's list.
pub struct Listed {
    pub name: String,
    pub href: String,
}

/// The packages of a hosted npm, PyPI, Cargo or Maven repository the caller may download (at most
/// `LIST_LIMIT`), for the repository's page; empty for other repositories.
pub async fn listing(
    state: &AppState,
    principal: &Principal,
    repo_name: &str,
) -> ApiResult<Vec<Listed>> {
    let repo = account_repo(state, principal, repo_name).await?;
    if repo.repo_type != repo_kinds::HOSTED || !PACKAGE_FORMATS.contains(&repo.format.as_str()) {
        return Ok(Vec::new());
    }
    let principal = principal.clone();
    let names = state
        .db
        .call(move |conn| {
            let names: Vec<String> = match repo.format.as_str() {
                "npm" => crate::store::npm::live_package_names(conn, &repo.id, LIST_LIMIT)?,
                "pypi" => crate::store::pypi::live_projects(conn, &repo.id)?,
                "cargo" => crate::store::cargo::search(conn, &repo.id, "", LIST_LIMIT)?
                    .into_iter()
                    .map(|(name, _)| name)
                    .collect(),
                _ => {
                    let mut found: Vec<String> = Vec::new();
                    for f in repos::live_files_under(conn, &repo.id, "")? {
                        if let Some(p) = package_of("maven2", &f.path) {
                            if !found.contains(&p) {
                                found.push(p);
                            }
                        }
                    }
                    found
                }
            };
            // The list shows only what the caller could open: grants may cover some packages only.
            let access = CallerAccess::load(conn, &principal, [repo.project_id.as_str()])?;
            Ok(names
                .into_iter()
                .take(LIST_LIMIT as usize)
                .filter(|n| {
                    Key::parse(&repo.format, n)
                        .is_ok_and(|k| access.allows(&repo, Operation::Download, &k.path()))
                })
                .map(|n| Listed {
                    href: href(&repo.name, &n),
                    name: n,
                })
                .collect())
        })
        .await?;
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_map_to_their_packages() {
        let cases = [
            ("npm", "@acme/util/-/util-1.0.0.tgz", Some("@acme/util")),
            ("npm", "left-pad/-/left-pad-1.0.0.tgz", Some("left-pad")),
            ("npm", "notes.txt", None),
            (
                "pypi",
                "packages/demo-pkg/1.0/demo_pkg-1.0-py3-none-any.whl",
                Some("demo-pkg"),
            ),
            (
                "pypi",
                "packages/demo/1.0/demo-1.0.tar.gz.metadata",
                Some("demo"),
            ),
            ("pypi", "other/file", None),
            ("cargo", "crates/serde/serde-1.0.0.crate", Some("serde")),
            ("cargo", "crates/serde", None),
            (
                "maven2",
                "com/acme/lib/1.0/lib-1.0.jar",
                Some("com.acme:lib"),
            ),
            ("maven2", "com/acme/lib/maven-metadata.xml", None),
            ("generic", "com/acme/lib/1.0/lib-1.0.jar", None),
        ];
        for (format, path, expected) in cases {
            assert_eq!(
                package_of(format, path).as_deref(),
                expected,
                "{format} {path}"
            );
        }
    }

    #[test]
    fn urls_keep_scopes_and_coordinates_readable() {
        assert_eq!(href("npm-1", "@acme/util"), "/ui/packages/npm-1/@acme/util");
        assert_eq!(href("m", "com.acme:lib"), "/ui/packages/m/com.acme:lib");
        assert_eq!(href("r", "a b/<c>"), "/ui/packages/r/a%20b/%3Cc%3E");
    }

    #[test]
    fn names_are_checked_per_format() {
        assert!(Key::parse("npm", "@acme/util").is_ok());
        assert!(Key::parse("npm", "../x").is_err());
        assert_eq!(
            Key::parse("pypi", "Demo_Pkg").unwrap().path(),
            "packages/demo-pkg"
        );
        assert_eq!(Key::parse("cargo", "Serde").unwrap().path(), "crates/serde");
        assert_eq!(
            Key::parse("maven2", "com.acme:lib").unwrap().path(),
            "com/acme/lib"
        );
        for bad in [
            "com.acme",
            ":lib",
            "com.acme:",
            "com..acme:lib",
            "a:b/c",
            "../..:x",
        ] {
            assert!(Key::parse("maven2", bad).is_err(), "{bad}");
        }
        assert!(matches!(
            Key::parse("generic", "x"),
            Err(ApiError::NotFound(_))
        ));
    }
}
