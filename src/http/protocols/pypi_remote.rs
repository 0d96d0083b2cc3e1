//! PyPI through remote repositories: a project's simple page is the upstream's (`{remote_url}/simple/
//! {project}/`, PEP 691 JSON asked for first, PEP 503 HTML taken too), kept as a file of the repository
//! and revalidated after `metadata_max_age_secs`, and served in the format the client asks for with every
//! link rewritten to the repository. A file is fetched from the link the page gives for its name,
//! verified against the page's hash, and kept for good. Paths: `formats::pypi_upstream`.

use axum::http::HeaderMap;
use axum::response::Response;
use futures_util::StreamExt;

use super::download::{serve_bytes, serve_file};
use super::pypi::{wants, with_vary};
use super::remote::{mark_stale, respond, settings_of, taker};
use crate::auth::Principal;
use crate::formats::pypi::{self, IndexFile};
use crate::formats::pypi_upstream::{self, Page, ACCEPT, MAX_PAGE_BYTES};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::service::remote_fetch::{self, Expected, Fetched, Freshness, Source};
use crate::store::remote::RemoteSettings;
use crate::store::repos::{self, FileEntry, Repository};

/// `simple/` of a remote repository: the projects whose pages it has cached (decision: the upstream's
/// root index is not proxied — pypi.org's lists every project, hundreds of thousands — and no
/// installer reads it).
pub async fn root_index(
    state: &AppState,
    repo: &Repository,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let media = wants(headers)?;
    let (projects, modified) = cached_projects(state, repo).await?;
    let body = if media == pypi::JSON_V1 {
        pypi::root_json(&projects).to_string()
    } else {
        pypi::root_html(&projects)
    };
    Ok(with_vary(serve_bytes(
        body.into_bytes(),
        media,
        modified,
        headers,
        head,
    )))
}

/// The projects whose pages remote `repo` has cached, sorted, and when the newest page was kept.
pub(super) async fn cached_projects(
    state: &AppState,
    repo: &Repository,
) -> Result<(Vec<String>, i64), ApiError> {
    let repo_id = repo.id.clone();
    let pages = state
        .db
        .call(move |conn| repos::live_files_under(conn, &repo_id, "simple/"))
        .await?;
    let mut projects: Vec<String> = pages
        .iter()
        .filter_map(|f| pypi_upstream::project_of_page_path(&f.path).map(str::to_string))
        .collect();
    projects.sort();
    let modified = pages
        .iter()
        .map(|f| f.modified_at)
        .max()
        .unwrap_or(repo.modified_at);
    Ok((projects, modified))
}

/// `simple/{project}/` (normalised) through a remote repository.
pub async fn project_index(
    state: &AppState,
    repo: &Repository,
    project: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let media = wants(headers)?;
    let listed = project_files(state, repo, project, caller)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No project {project}")))?;
    let body = if media == pypi::JSON_V1 {
        pypi::project_json(project, &listed.files).to_string()
    } else {
        pypi::project_html(project, &listed.files)
    };
    let mut response = with_vary(serve_bytes(
        body.into_bytes(),
        media,
        listed.modified,
        headers,
        head,
    ));
    mark_stale(&mut response, listed.stale);
    Ok(response)
}

/// A remote repository's files of a project, as its page lists them (links under the repository).
pub(super) struct Listing {
    pub files: Vec<IndexFile>,
    /// When the kept page last changed.
    pub modified: i64,
    /// The page was served from the cache because the upstream could not be asked.
    pub stale: bool,
}

/// The files the upstream's page of `project` (normalised) lists, through the cache. None when the
/// upstream has no such project.
pub(super) async fn project_files(
    state: &AppState,
    repo: &Repository,
    project: &str,
    caller: Option<&Principal>,
) -> Result<Option<Listing>, ApiError> {
    let settings = settings_of(state, repo).await?;
    let Some(loaded) = load_page(state, repo, &settings, project, caller).await? else {
        return Ok(None);
    };
    Ok(Some(Listing {
        files: pypi_upstream::rewrite(project, &loaded.page),
        modified: loaded.file.modified_at,
        stale: loaded.stale,
    }))
}

/// Whether remote `repo` has distribution `filename` (not its `.metadata`) at `packages/{project}/
/// {version}/`: kept already, or listed there by the upstream's page.
pub(super) async fn has_file(
    state: &AppState,
    repo: &Repository,
    project: &str,
    version: &str,
    filename: &str,
    caller: Option<&Principal>,
) -> Result<bool, ApiError> {
    let rel = format!("packages/{project}/{version}/{filename}");
    let repo_id = repo.id.clone();
    if state
        .db
        .call(move |conn| repos::get_live_file(conn, &repo_id, &rel))
        .await?
        .is_some()
    {
        return Ok(true);
    }
    let settings = settings_of(state, repo).await?;
    let Some(loaded) = load_page(state, repo, &settings, project, caller).await? else {
        return Ok(false);
    };
    Ok(loaded
        .page
        .find(filename)
        .is_some_and(|l| l.version().as_deref() == Some(version)))
}

/// `packages/{project}/{version}/{filename}` through a remote repository: the cached copy, or the file
/// the project's page links under that name (its PEP 658 metadata for `{filename}.metadata`), fetched
/// and checked against the page's hash. A name the page does not list is a 404.
#[allow(clippy::too_many_arguments)]
pub async fn file(
    state: &AppState,
    repo: &Repository,
    project: &str,
    version: &str,
    filename: &str,
    headers: &HeaderMap,
    head: bool,
    caller: Option<&Principal>,
) -> Result<Response, ApiError> {
    let rel = format!("packages/{project}/{version}/{filename}");
    let (repo_id, lookup) = (repo.id.clone(), rel.clone());
    let cached = state
        .db
        .call(move |conn| repos::get_live_file(conn, &repo_id, &lookup))
        .await?;
    if let Some(file) = cached {
        // Distribution files never change once published: a copy was verified when it was kept.
        return serve_file(state, &file, headers, head).await;
    }
    let unlisted = || ApiError::not_found(format!("No file {filename} for {project} {version}"));
    if !pypi::is_valid_name(project) || pypi::normalize(project) != project {
        return Err(unlisted());
    }
    let settings = settings_of(state, repo).await?;
    let Some(loaded) = load_page(state, repo, &settings, project, caller).await? else {
        return Err(unlisted());
    };
    let (dist, metadata) = match filename.strip_suffix(".metadata") {
        Some(dist) if loaded.page.find(dist).is_some() => (dist, true),
        _ => (filename, false),
    };
    let listed = loaded
        .page
        .find(dist)
        .filter(|l| l.version().as_deref() == Some(version))
        .ok_or_else(unlisted)?;
    let (url, expected) = if metadata {
        // Only metadata whose hash the page gives is offered (and so fetched): it is checked like a file.
        let sha256 = listed.metadata_sha256.clone().ok_or_else(unlisted)?;
        let expected = Expected {
            sha256: Some(sha256),
            ..Expected::default()
        };
        (listed.metadata_url(), expected)
    } else {
        let expected = Expected {
            sha1: None,
            sha256: listed.sha256.clone(),
            sha512: listed.sha512.clone(),
        };
        (listed.url.clone(), expected)
    };
    let source = Source {
        repo,
        settings: &settings,
        path: &rel,
        url,
        freshness: Freshness::Immutable,
        expected,
        checksum_file: None,
        whole: false,
        accept: None,
        user_id: taker(caller),
        registry_scope: None,
    };
    let fetched = remote_fetch::fetch(state, source).await?;
    respond(state, fetched, headers, head, unlisted).await
}

/// The upstream's page of a project, as kept.
struct Loaded {
    page: Page,
    file: Box<FileEntry>,
    /// Served from the cache because the upstream could not be asked.
    stale: bool,
}

/// The project's page through the cache: fetched whole (it is rewritten before anyone sees it),
/// revalidated when older than `metadata_max_age_secs`. None when the upstream has no such project.
async fn load_page(
    state: &AppState,
    repo: &Repository,
    settings: &RemoteSettings,
    project: &str,
    caller: Option<&Principal>,
) -> Result<Option<Loaded>, ApiError> {
    let url = pypi_upstream::page_url(&settings.remote_url, project)
        .map_err(|_| ApiError::invalid("project", "does not make a valid upstream URL"))?;
    let host = url.host_str().unwrap_or("").to_string();
    let path = pypi_upstream::page_path(project);
    let source = Source {
        repo,
        settings,
        path: &path,
        url: url.clone(),
        freshness: Freshness::Mutable,
        expected: Expected::default(),
        checksum_file: None,
        whole: true,
        accept: Some(ACCEPT),
        user_id: taker(caller),
        registry_scope: None,
    };
    let (file, stale) = match remote_fetch::fetch(state, source).await? {
        Fetched::Missing => return Ok(None),
        Fetched::Cached { file, stale } => (file, stale),
        Fetched::Streaming { .. } => {
            return Err(ApiError::Internal(
                "a simple page was answered before it was stored".into(),
            ))
        }
    };
    let unreadable = |why: String| ApiError::Upstream {
        timeout: false,
        message: format!("upstream {host} answered a simple page arca cannot read: {why}"),
    };
    if file.size as u64 > MAX_PAGE_BYTES {
        return Err(unreadable(format!(
            "larger than {} MiB",
            MAX_PAGE_BYTES / 1024 / 1024
        )));
    }
    let mut body = Vec::with_capacity(file.size as usize);
    let mut stream = state.blobs.read(&file.sha256, 0, file.size as u64).await?;
    while let Some(chunk) = stream.next().await {
        body.extend_from_slice(&chunk.map_err(|e| ApiError::from(crate::blob::BlobError::Io(e)))?);
    }
    let content_type = file.content_type.clone();
    // A large page takes a while to tokenize: off the async workers.
    let page =
        tokio::task::spawn_blocking(move || pypi_upstream::parse(&body, &content_type, &url))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| unreadable(e.to_string()))?;
    Ok(Some(Loaded { page, file, stale }))
}
