//! Hosted Maven and generic repositories at `/artifactory/{repo}/{path}` (SPEC §7): thin handlers over
//! `formats::maven`, `formats::listing`, the store and the blob store.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::access::{authorize, identify, load_repo, operation_of, refuse_change_unless_hosted};
use super::documents::document_response;
use super::download::{serve_bytes, serve_file};
use super::{remote, virtual_repo};
use crate::auth::Principal;
use crate::domain::artifact_path::{is_valid_repo_name, ArtifactPath};
use crate::domain::operation::Operation;
use crate::formats::listing::{self, FileFact};
use crate::formats::maven;
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::read_body;
use crate::http::storage::{reclaim, redeploy_refused, store_file, Existing, NewFile, Stored};
use crate::service::documents::Document;
use crate::service::repo_kinds;
use crate::store::now_ms;
use crate::store::repos::{self, FileEntry, Repository};

use crate::http::artifact::repositories::MAVEN_FORMAT as MAVEN;
const DISABLE_REDEPLOY: &str = "disable_redeploy";

/// Splits `/artifactory/{repo}/{rest}` of the raw (still encoded) URL path.
fn split_wire_path(raw: &str) -> Result<(String, ArtifactPath), ApiError> {
    let rest = raw
        .strip_prefix("/artifactory/")
        .ok_or_else(|| ApiError::not_found("not an artifact path"))?;
    let (repo_raw, path_raw) = rest.split_once('/').unwrap_or((rest, ""));
    let repo = percent_encoding::percent_decode_str(repo_raw)
        .decode_utf8()
        .map_err(|_| ApiError::invalid("repository", "is not valid UTF-8"))?;
    if !is_valid_repo_name(&repo) {
        return Err(ApiError::invalid(
            "repository",
            "is not a valid repository name",
        ));
    }
    let path =
        ArtifactPath::parse_wire(path_raw).map_err(|e| ApiError::invalid("path", e.to_string()))?;
    Ok((repo.into_owned(), path))
}

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    match dispatch(&state, request).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let (repo_name, path) = split_wire_path(parts.uri.path())?;
    let op = operation_of(&parts.method).ok_or(ApiError::MethodNotAllowed)?;
    let (caller, body) = identify(state, &parts, body).await?;
    let repo = load_repo(state, &parts, caller.as_ref(), &repo_name, None).await?;
    // A change sent to a virtual repository goes to its default deploy repository, and is authorized there.
    let repo = if repo.repo_type == repo_kinds::VIRTUAL && op != Operation::Download {
        super::members::deploy_target(state, &repo).await?
    } else {
        repo
    };
    refuse_change_unless_hosted(&repo, &parts.method)?;
    authorize(state, caller.as_ref(), &repo, op, path.as_str()).await?;
    let head = parts.method == Method::HEAD;
    match op {
        Operation::Download if repo.repo_type == repo_kinds::REMOTE => {
            let headers = &parts.headers;
            if path.is_dir || path.is_root() {
                return list_directory(state, &repo, &path, headers, head).await;
            }
            remote::get_file(state, &repo, &path, headers, head, caller.as_ref()).await
        }
        Operation::Download if repo.repo_type == repo_kinds::VIRTUAL => {
            virtual_repo::get(state, &repo, &path, &parts.headers, head, caller.as_ref()).await
        }
        Operation::Download => get(state, &repo, &path, &parts.headers, head).await,
        Operation::Upload => {
            let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
            put(state, &repo, &path, &parts.headers, body, &principal).await
        }
        Operation::Delete => {
            let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
            delete(state, &repo, &path, &principal).await
        }
        _ => Err(ApiError::MethodNotAllowed),
    }
}

async fn live_file(
    state: &AppState,
    repo: &Repository,
    path: &str,
) -> Result<Option<Arc<FileEntry>>, ApiError> {
    Ok(state.hot.live_file(&state.db, &repo.id, path).await?)
}

async fn files_under(
    state: &AppState,
    repo: &Repository,
    prefix: String,
) -> Result<Vec<FileEntry>, ApiError> {
    let repo_id = repo.id.clone();
    Ok(state
        .db
        .call(move |conn| repos::live_files_under(conn, &repo_id, &prefix))
        .await?)
}

pub(super) async fn get(
    state: &AppState,
    repo: &Repository,
    path: &ArtifactPath,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    if !path.is_dir && !path.is_root() {
        if let Some(found) = get_file(state, repo, path.as_str(), headers, head).await? {
            return Ok(found);
        }
    }
    list_directory(state, repo, path, headers, head).await
}

/// The file at `rel`: stored, or the generated Maven metadata and checksums; None when there is none.
pub(super) async fn get_file(
    state: &AppState,
    repo: &Repository,
    rel: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<Option<Response>, ApiError> {
    if let Some(file) = live_file(state, repo, rel).await? {
        return serve_file(state, &file, headers, head).await.map(Some);
    }
    if repo.format == MAVEN && maven::is_metadata(rel) {
        let parent = rel.rsplit_once('/').map_or("", |(dir, _)| dir);
        let document = kept_maven_metadata(state, repo, parent).await?;
        return Ok(Some(document_response(&document, headers, head, None)));
    }
    if let Some((base, algorithm)) = maven::checksum_target(rel) {
        if let Some((digest, modified)) = checksum_of(state, repo, base, algorithm).await? {
            return Ok(Some(serve_bytes(
                digest.into_bytes(),
                "text/plain",
                modified,
                headers,
                head,
            )));
        }
    }
    Ok(None)
}

/// The digest of a stored file, or of a generated `maven-metadata.xml`.
async fn checksum_of(
    state: &AppState,
    repo: &Repository,
    base: &str,
    algorithm: &str,
) -> Result<Option<(String, i64)>, ApiError> {
    if let Some(file) = live_file(state, repo, base).await? {
        let digest = file.digest(algorithm).unwrap_or_default().to_string();
        return Ok(Some((digest, file.modified_at)));
    }
    if repo.format == MAVEN && maven::is_metadata(base) {
        let dir = base.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        let document = match kept_maven_metadata(state, repo, dir).await {
            Ok(found) => found,
            Err(ApiError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let info = crate::blob::BlobInfo::of(&document.identity);
        let digest = info.digest(algorithm).unwrap_or_default().to_string();
        return Ok(Some((digest, document.modified_at)));
    }
    Ok(None)
}

/// The generated metadata of directory `dir`, kept between requests until the repository changes.
async fn kept_maven_metadata(
    state: &AppState,
    repo: &Repository,
    dir: &str,
) -> Result<Arc<Document>, ApiError> {
    let key = format!("maven\0{dir}");
    let built = state
        .documents
        .get_or_build(&state.db, &repo.id, key, || async {
            let (xml, modified) = maven_metadata(state, repo, dir).await?;
            let document = Document::build(xml.into_bytes(), "application/xml", modified).await;
            Ok::<_, ApiError>(Some(document))
        })
        .await?;
    built.ok_or_else(|| ApiError::not_found("No artifact at this path"))
}

/// Generates the metadata of directory `dir`: a SNAPSHOT version's, or an artifact's.
pub(super) async fn maven_metadata(
    state: &AppState,
    repo: &Repository,
    dir: &str,
) -> Result<(String, i64), ApiError> {
    let not_found = || ApiError::not_found("No artifact at this path");
    let (artifact_dir, last) = dir.rsplit_once('/').ok_or_else(not_found)?;
    let files = files_under(state, repo, format!("{dir}/")).await?;
    if maven::is_snapshot_version(last) {
        let (group_path, artifact_id) = artifact_dir.rsplit_once('/').ok_or_else(not_found)?;
        let direct: Vec<maven::SnapshotFile<'_>> = files
            .iter()
            .filter_map(|f| {
                let name = &f.path[dir.len() + 1..];
                (!name.contains('/')).then_some(maven::SnapshotFile {
                    file_name: name,
                    modified_at: f.modified_at,
                })
            })
            .collect();
        let modified = direct
            .iter()
            .map(|f| f.modified_at)
            .max()
            .unwrap_or_default();
        let xml =
            maven::snapshot_metadata(&group_path.replace('/', "."), artifact_id, last, &direct)
                .ok_or_else(not_found)?;
        return Ok((xml, modified));
    }
    // Artifact level: every version directory below that holds a file of this artifact.
    let artifact_id = last;
    let mut versions: Vec<maven::DeployedVersion> = Vec::new();
    for f in &files {
        let Some(v) = maven::version_file(&f.path) else {
            continue;
        };
        if v.artifact_id != artifact_id || v.group_path != artifact_dir {
            continue;
        }
        match versions.iter_mut().find(|d| d.version == v.version) {
            Some(d) => d.modified_at = d.modified_at.max(f.modified_at),
            None => versions.push(maven::DeployedVersion {
                version: v.version.to_string(),
                modified_at: f.modified_at,
            }),
        }
    }
    if versions.is_empty() {
        return Err(not_found());
    }
    let modified = versions
        .iter()
        .map(|v| v.modified_at)
        .max()
        .unwrap_or_default();
    Ok((
        maven::artifact_metadata(&artifact_dir.replace('/', "."), artifact_id, &versions),
        modified,
    ))
}

async fn list_directory(
    state: &AppState,
    repo: &Repository,
    path: &ArtifactPath,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    list_members(state, repo, std::slice::from_ref(repo), path, headers, head).await
}

/// The listing of directory `path` of `repo` as the union of what `sources` hold under it (a repository
/// itself, or a virtual repository's members: a path two members hold is the first one's). A remote
/// source lists the files it has cached.
pub(super) async fn list_members(
    state: &AppState,
    repo: &Repository,
    sources: &[Repository],
    path: &ArtifactPath,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let prefix = path.dir_prefix();
    let mut files = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for source in sources {
        for file in files_under(state, source, prefix.clone()).await? {
            if seen.insert(file.path.clone()) {
                files.push(file);
            }
        }
    }
    if files.is_empty() && !path.is_root() {
        return Err(ApiError::not_found(format!(
            "No file or directory {} in {}",
            path.as_str(),
            repo.name
        )));
    }
    let children = listing::children(files.iter().map(|f| FileFact {
        relative_path: &f.path[prefix.len()..],
        size: f.size,
        sha256: &f.sha256,
        modified_at: f.modified_at,
    }));
    let modified = files
        .iter()
        .map(|f| f.modified_at)
        .max()
        .unwrap_or(repo.modified_at);
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let body = serde_json::to_vec(&serde_json::json!({
            "repo": repo.name,
            "path": format!("/{}", path.as_str()),
            "children": children,
        }))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        return Ok(serve_bytes(
            body,
            "application/json",
            modified,
            headers,
            head,
        ));
    }
    let title = format!("/artifactory/{}/{}", repo.name, prefix);
    Ok(serve_bytes(
        listing::html(&title, &children).into_bytes(),
        "text/html; charset=utf-8",
        modified,
        headers,
        head,
    ))
}

fn content_type_for(path: &str, headers: &HeaderMap) -> String {
    if let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        if !ct.is_empty() && ct.len() <= 255 && ct != "application/x-www-form-urlencoded" {
            return ct.to_string();
        }
    }
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jar" | "war" | "ear" => "application/java-archive",
        "pom" | "xml" => "application/xml",
        "json" => "application/json",
        "txt" | "md5" | "sha1" | "sha256" | "sha512" | "asc" => "text/plain",
        "tgz" | "gz" => "application/gzip",
        "zip" => "application/zip",
        "html" | "htm" => "text/html",
        _ => "application/octet-stream",
    }
    .to_string()
}

async fn put(
    state: &AppState,
    repo: &Repository,
    path: &ArtifactPath,
    headers: &HeaderMap,
    body: Body,
    principal: &Principal,
) -> Result<Response, ApiError> {
    if path.is_root() || path.is_dir {
        return Err(ApiError::invalid(
            "path",
            "a file path is required to upload",
        ));
    }
    if is_published_by_client(&repo.format) {
        // Their metadata lives beside the files (an npm version's integrity, a wheel's digests, a crate's
        // checksum): a plain file upload would swap a published package's bytes behind it.
        return Err(ApiError::invalid(
            "path",
            format!(
                "{} is a {} repository: publish with its client through /artifactory/api/{}/{}/",
                repo.name, repo.format, repo.format, repo.name
            ),
        ));
    }
    let p = path.as_str();
    if repo.format == MAVEN {
        if let Some((base, algorithm)) = maven::checksum_target(p) {
            return verify_uploaded_checksum(state, repo, base, algorithm, body).await;
        }
        if maven::is_metadata(p) {
            // Clients deploy their own metadata; arca serves metadata generated from what it stores.
            read_body(body, 1024 * 1024).await?;
            return Ok(StatusCode::CREATED.into_response());
        }
        check_maven_policy(repo, p)?;
    }
    let existing = if repo.deployment_policy == DISABLE_REDEPLOY {
        Existing::Refuse
    } else {
        Existing::Replace
    };
    // Refused before the body is read when the path is taken already; store_file decides atomically
    // for uploads racing each other.
    if existing == Existing::Refuse && live_file(state, repo, p).await?.is_some() {
        return Err(redeploy_refused(repo, p));
    }
    let content_type = content_type_for(p, headers);
    let new_file = NewFile {
        path: p,
        content_type: &content_type,
        user_id: &principal.user_id,
        existing,
    };
    let Stored {
        file: stored,
        created,
    } = store_file(state, repo, new_file, body).await?;
    if repo.format == MAVEN && repo.max_unique_snapshots > 0 {
        prune_snapshots(state, repo, p).await?;
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(serde_json::json!({
            "repo": repo.name,
            "path": format!("/{p}"),
            "size": stored.size,
            "checksums": {"md5": stored.md5, "sha1": stored.sha1, "sha256": stored.sha256, "sha512": stored.sha512},
        })),
    )
        .into_response())
}

/// Formats whose files are written only through their client's protocol at `/artifactory/api/{format}/`.
fn is_published_by_client(format: &str) -> bool {
    matches!(format, "npm" | "pypi" | "cargo" | "go")
}

/// Release repositories take release versions, snapshot repositories SNAPSHOT versions.
fn check_maven_policy(repo: &Repository, path: &str) -> Result<(), ApiError> {
    let Some(v) = maven::version_file(path) else {
        return Ok(());
    };
    let snapshot = maven::is_snapshot_version(v.version);
    match repo.policy.as_str() {
        "release" if snapshot => Err(ApiError::invalid(
            "path",
            format!(
                "{} is a release repository; deploy SNAPSHOT versions to a snapshot repository",
                repo.name
            ),
        )),
        "snapshot" if !snapshot => Err(ApiError::invalid(
            "path",
            format!(
                "{} is a snapshot repository; deploy release versions to a release repository",
                repo.name
            ),
        )),
        _ => Ok(()),
    }
}

async fn verify_uploaded_checksum(
    state: &AppState,
    repo: &Repository,
    base: &str,
    algorithm: &str,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, 4096).await?;
    let sent = String::from_utf8_lossy(&bytes);
    let sent = sent
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if maven::is_metadata(base) {
        return Ok(StatusCode::CREATED.into_response());
    }
    let Some(file) = live_file(state, repo, base).await? else {
        return Err(ApiError::not_found(format!(
            "{base} does not exist; upload it before its checksum"
        )));
    };
    if Some(sent.as_str()) != file.digest(algorithm) {
        return Err(ApiError::invalid(
            "checksum",
            format!("the {algorithm} sent does not match the stored {base}"),
        ));
    }
    Ok(StatusCode::CREATED.into_response())
}

/// Keeps only the newest `max_unique_snapshots` timestamped builds of a SNAPSHOT version.
async fn prune_snapshots(state: &AppState, repo: &Repository, path: &str) -> Result<(), ApiError> {
    let Some(v) = maven::version_file(path) else {
        return Ok(());
    };
    if !maven::is_snapshot_version(v.version) {
        return Ok(());
    }
    let (artifact_id, version) = (v.artifact_id.to_string(), v.version.to_string());
    let dir = path
        .rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default();
    let files = files_under(state, repo, format!("{dir}/")).await?;
    let builds: Vec<(i64, u32)> = files
        .iter()
        .filter_map(|f| {
            let name = &f.path[dir.len() + 1..];
            maven::parse_snapshot_build(&artifact_id, &version, name)
                .map(|b| (f.id, b.build_number))
        })
        .collect();
    let numbers: Vec<u32> = builds.iter().map(|(_, n)| *n).collect();
    let doomed = maven::builds_to_prune(&numbers, repo.max_unique_snapshots as usize);
    if doomed.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = builds
        .iter()
        .filter(|(_, n)| doomed.contains(n))
        .map(|(id, _)| *id)
        .collect();
    let freed = state
        .db
        .call(move |conn| {
            let mut shas = Vec::new();
            for id in ids {
                shas.extend(repos::purge_file(conn, id)?);
            }
            Ok(shas)
        })
        .await?;
    reclaim(state, freed).await?;
    Ok(())
}

async fn delete(
    state: &AppState,
    repo: &Repository,
    path: &ArtifactPath,
    principal: &Principal,
) -> Result<Response, ApiError> {
    if path.is_root() {
        return Err(ApiError::invalid(
            "path",
            "a file path is required to delete",
        ));
    }
    let (repo_id, p, user) = (
        repo.id.clone(),
        path.as_str().to_string(),
        principal.user_id.clone(),
    );
    let trashed = state
        .db
        .call(move |conn| repos::trash_file(conn, &repo_id, &p, &user, now_ms()))
        .await?;
    if trashed {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found(format!(
            "No file {} in {}",
            path.as_str(),
            repo.name
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_paths_split_into_repo_and_path() {
        let (repo, path) = split_wire_path("/artifactory/libs/com/acme/a.jar").unwrap();
        assert_eq!((repo.as_str(), path.as_str()), ("libs", "com/acme/a.jar"));
        let (_, root) = split_wire_path("/artifactory/libs").unwrap();
        assert!(root.is_root());
        assert!(split_wire_path("/artifactory/..%2f/x").is_err());
        assert!(split_wire_path("/artifactory/libs/a/%2e%2e/b").is_err());
    }

    #[test]
    fn package_formats_take_no_plain_uploads() {
        assert!(is_published_by_client("npm"));
        assert!(is_published_by_client("pypi"));
        assert!(is_published_by_client("cargo"));
        assert!(is_published_by_client("go"));
        assert!(!is_published_by_client("generic"));
        assert!(!is_published_by_client(MAVEN));
    }

    #[test]
    fn maven_policies() {
        let release = Repository {
            policy: "release".into(),
            ..crate::store::repos::tests_support::repo_fixture()
        };
        let snapshot = Repository {
            policy: "snapshot".into(),
            ..release.clone()
        };
        assert!(check_maven_policy(&release, "com/acme/lib/1.0/lib-1.0.jar").is_ok());
        assert!(
            check_maven_policy(&release, "com/acme/lib/1.0-SNAPSHOT/lib-1.0-SNAPSHOT.jar").is_err()
        );
        assert!(check_maven_policy(&snapshot, "com/acme/lib/1.0/lib-1.0.jar").is_err());
        assert!(check_maven_policy(
            &snapshot,
            "com/acme/lib/1.0-SNAPSHOT/lib-1.0-20261124.120000-1.jar"
        )
        .is_ok());
        assert!(check_maven_policy(&release, "readme.txt").is_ok());
    }
}
