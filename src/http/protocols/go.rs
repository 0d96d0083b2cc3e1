//! Go module proxies at `/artifactory/api/go/{repo}/` (the GOPROXY protocol, `go help goproxy`): `@v/list`,
//! `@v/<version>.info`, `.mod`, `.zip` and `@latest`, module paths and versions case-encoded (`!x` = `X`).
//! Publishing is a `PUT` of the `.zip` (checked by the module zip rules), optionally with the `.mod`
//! before or after it. Errors are plain text, which the go command prints. Remote repositories read
//! through `go_remote`, virtual ones through `go_virtual`; a version deleted from a hosted repository
//! answers 410 Gone (the go command takes 404 and 410 alike as "not found"; 410 tells a person why).

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::access::{authorize, identify, load_repo, refuse_change_unless_hosted};
use super::download::{read_whole, serve_bytes, serve_file};
use super::{go_remote, go_virtual, members};
use crate::domain::operation::Operation;
use crate::formats::go::{self as format, ZipError};
use crate::http::app::AppState;
use crate::http::error::ApiError;
use crate::http::extract::read_body;
use crate::service::repo_kinds;
use crate::store::go as store;
use crate::store::repos::{self, Repository};

const FORMAT: &str = "go";
const PREFIX: &str = "/artifactory/api/go/";
pub(super) const ZIP_TYPE: &str = "application/zip";
pub(super) const MOD_TYPE: &str = "text/plain; charset=utf-8";

pub async fn handle(State(state): State<AppState>, request: Request) -> Response {
    match dispatch(&state, request).await {
        Ok(r) => r,
        Err(e) => go_error(e),
    }
}

/// The go command shows an error answer's body to its user, so it is one plain line.
fn go_error(e: ApiError) -> Response {
    let status = e.status();
    let message = match &e {
        ApiError::Internal(detail) => {
            tracing::error!(detail, "internal error");
            "internal error".to_string()
        }
        other => other.to_string(),
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response();
    e.add_headers_and_basic_challenge(&mut response);
    response
}

/// What a request names below the repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Resource {
    List,
    Latest,
    Info(String),
    Mod(String),
    Zip(String),
}

/// A module and what of it a path asks for, both decoded and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub module: String,
    pub resource: Resource,
}

impl Target {
    /// The path a read of this target is authorized on (and where a remote repository keeps it).
    pub(super) fn path(&self) -> String {
        match &self.resource {
            Resource::List => format!("{}/list", module_dir(&self.module)),
            Resource::Latest => format!(
                "{}/@latest",
                format::escape(&self.module).unwrap_or_default()
            ),
            Resource::Info(v) => file_path(&self.module, v, "info"),
            Resource::Mod(v) => file_path(&self.module, v, "mod"),
            Resource::Zip(v) => file_path(&self.module, v, "zip"),
        }
    }
}

/// Parses `<escaped module>/@v/list`, `/@v/<escaped version>.{info,mod,zip}` or `/@latest`.
fn parse_target(tail: &str) -> Result<Option<Target>, ApiError> {
    let (escaped_module, what) = if let Some(m) = tail.strip_suffix("/@latest") {
        (m, None)
    } else if let Some((m, file)) = tail.rsplit_once("/@v/") {
        (m, Some(file))
    } else {
        return Ok(None);
    };
    let module = format::unescape(escaped_module)
        .ok_or_else(|| ApiError::invalid("module", "is not a case-encoded module path"))?;
    format::check_module_path(&module).map_err(|e| ApiError::invalid("module", e))?;
    let resource = match what {
        None => Resource::Latest,
        Some("list") => Resource::List,
        Some(file) => {
            let Some((escaped_version, ext)) = file.rsplit_once('.') else {
                return Ok(None);
            };
            let version = format::unescape(escaped_version)
                .ok_or_else(|| ApiError::invalid("version", "is not a case-encoded version"))?;
            format::check_version(&version).map_err(|e| ApiError::invalid("version", e))?;
            match ext {
                "info" => Resource::Info(version),
                "mod" => Resource::Mod(version),
                "zip" => Resource::Zip(version),
                _ => return Ok(None),
            }
        }
    };
    Ok(Some(Target { module, resource }))
}

/// Where a version's file lives in the repository: the proxy's own URL layout, case-encoded, so that
/// modules differing only in case never share a path.
pub(super) fn file_path(module: &str, version: &str, ext: &str) -> String {
    let m = format::escape(module).unwrap_or_default();
    let v = format::escape(version).unwrap_or_default();
    format!("{m}/@v/{v}.{ext}")
}

fn module_dir(module: &str) -> String {
    format!("{}/@v", format::escape(module).unwrap_or_default())
}

async fn dispatch(state: &AppState, request: Request) -> Result<Response, ApiError> {
    let path = request.uri().path().to_string();
    let rest = path
        .strip_prefix(PREFIX)
        .ok_or_else(|| ApiError::not_found("not a Go module path"))?;
    let (repo_key, raw_tail) = rest.split_once('/').unwrap_or((rest, ""));
    // The go command percent-encodes the `!` of case-encoding; what decodes to anything a module path
    // or version cannot hold is refused when they are checked.
    let tail = percent_encoding::percent_decode_str(raw_tail)
        .decode_utf8()
        .map_err(|_| ApiError::invalid("path", "is not percent-encoded UTF-8"))?;
    let tail = tail.as_ref();
    let (parts, body) = request.into_parts();
    let (caller, body) = identify(state, &parts, body).await?;
    let repo = load_repo(state, &parts, caller.as_ref(), repo_key, Some(FORMAT)).await?;
    let read = matches!(parts.method, Method::GET | Method::HEAD);
    // Publishing through a virtual repository goes to its default deploy repository, as in every format.
    let repo = if repo.repo_type == repo_kinds::VIRTUAL && !read {
        members::deploy_target(state, &repo).await?
    } else {
        repo
    };
    refuse_change_unless_hosted(&repo, &parts.method)?;
    let Some(target) = parse_target(tail)? else {
        return Err(ApiError::not_found(format!(
            "No Go module resource {tail} in {}",
            repo.name
        )));
    };
    let method = &parts.method;
    let head = method == Method::HEAD;
    if read {
        let auth_path = match &target.resource {
            Resource::List | Resource::Latest => module_dir(&target.module),
            _ => target.path(),
        };
        authorize(
            state,
            caller.as_ref(),
            &repo,
            Operation::Download,
            &auth_path,
        )
        .await?;
        let (headers, caller) = (&parts.headers, caller.as_ref());
        return match repo.repo_type.as_str() {
            repo_kinds::REMOTE => {
                go_remote::read(state, &repo, &target, headers, head, caller).await
            }
            repo_kinds::VIRTUAL => {
                go_virtual::read(state, &repo, &target, &auth_path, headers, head, caller).await
            }
            _ => read_hosted(state, &repo, target, headers, head).await,
        };
    }
    if method != Method::PUT {
        return Err(ApiError::MethodNotAllowed);
    }
    let principal = caller.ok_or(ApiError::Unauthenticated("credentials required"))?;
    let (ext, version) = match &target.resource {
        Resource::Zip(v) => ("zip", v.clone()),
        Resource::Mod(v) => ("mod", v.clone()),
        Resource::Info(v) => ("info", v.clone()),
        _ => return Err(ApiError::MethodNotAllowed),
    };
    let module = target.module;
    crate::http::audit::note_detail(&module, Some(&version));
    let rel = file_path(&module, &version, ext);
    authorize(state, Some(&principal), &repo, Operation::Upload, &rel).await?;
    let checked = format::check_version(&version).map_err(|e| ApiError::invalid("version", e))?;
    format::check_path_major(&module, &version, &checked)
        .map_err(|e| ApiError::invalid("version", e))?;
    match ext {
        "zip" => {
            let incompatible = checked.incompatible;
            super::go_publish::publish_zip(
                state,
                &repo,
                &principal,
                &module,
                &version,
                incompatible,
                body,
            )
            .await
        }
        "mod" => {
            super::go_publish::put_mod(state, &repo, &principal, &module, &version, body).await
        }
        _ => put_info(state, &repo, &module, &version, body).await,
    }
}

/// The `.info` the proxy serves for a version.
pub(super) fn info_json(version: &str, published_at: i64) -> Value {
    let time = DateTime::<Utc>::from_timestamp_millis(published_at)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true);
    json!({"Version": version, "Time": time})
}

pub(super) fn unknown_version(module: &str, version: &str) -> ApiError {
    ApiError::not_found(format!("unknown revision {version} of module {module}"))
}

/// A version that was published here and deleted since: 410, which the go command treats as 404.
fn gone(module: &str, version: &str) -> Response {
    (
        StatusCode::GONE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{module}@{version} was deleted from this repository\n"),
    )
        .into_response()
}

/// The live versions of a module in a hosted repository, with their publishing times.
pub(super) async fn hosted_versions(
    state: &AppState,
    repo: &Repository,
    module: &str,
) -> Result<Vec<(String, i64)>, ApiError> {
    let (repo_id, m) = (repo.id.clone(), module.to_string());
    Ok(state
        .db
        .call(move |conn| store::live_versions(conn, &repo_id, &m))
        .await?)
}

pub(super) async fn read_hosted(
    state: &AppState,
    repo: &Repository,
    target: Target,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let module = target.module;
    match target.resource {
        Resource::List | Resource::Latest => {
            let versions = hosted_versions(state, repo, &module).await?;
            if versions.is_empty() {
                return Err(ApiError::not_found(format!("unknown module {module}")));
            }
            let modified = versions.iter().map(|v| v.1).max().unwrap_or(0);
            if target.resource == Resource::List {
                let mut body = String::new();
                for (v, _) in &versions {
                    body.push_str(v);
                    body.push('\n');
                }
                return Ok(serve_bytes(
                    body.into_bytes(),
                    MOD_TYPE,
                    modified,
                    headers,
                    head,
                ));
            }
            let latest = format::latest(versions.iter().map(|v| v.0.as_str()))
                .ok_or_else(|| ApiError::not_found(format!("unknown module {module}")))?;
            let published = versions.iter().find(|v| v.0 == latest).map_or(0, |v| v.1);
            let body = info_json(latest, published).to_string().into_bytes();
            Ok(serve_bytes(
                body,
                "application/json",
                modified,
                headers,
                head,
            ))
        }
        Resource::Info(v) => read_version(state, repo, &module, &v, "info", headers, head).await,
        Resource::Mod(v) => read_version(state, repo, &module, &v, "mod", headers, head).await,
        Resource::Zip(v) => read_version(state, repo, &module, &v, "zip", headers, head).await,
    }
}

/// A version's `.info`, `.mod` or `.zip`, while its zip is live.
async fn read_version(
    state: &AppState,
    repo: &Repository,
    module: &str,
    version: &str,
    ext: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<Response, ApiError> {
    let (repo_id, m, v) = (repo.id.clone(), module.to_string(), version.to_string());
    let row = state
        .db
        .call(move |conn| store::version(conn, &repo_id, &m, &v))
        .await?
        .ok_or_else(|| unknown_version(module, version))?;
    if !row.live {
        return Ok(gone(module, version));
    }
    if ext == "info" {
        let body = info_json(&row.version, row.published_at)
            .to_string()
            .into_bytes();
        return Ok(serve_bytes(
            body,
            "application/json",
            row.published_at,
            headers,
            head,
        ));
    }
    let path = if ext == "mod" {
        row.mod_path
    } else {
        file_path(module, version, "zip")
    };
    let file = state
        .hot
        .live_file(&state.db, &repo.id, &path)
        .await?
        .ok_or_else(|| unknown_version(module, version))?;
    serve_file(state, &file, headers, head).await
}

/// `PUT …/@v/<version>.info`: the proxy generates `.info` from the upload time, so a client that sends
/// one (as some publishing tools do) is answered with what will be served, once its `Version` agrees.
async fn put_info(
    state: &AppState,
    repo: &Repository,
    module: &str,
    version: &str,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = read_body(body, 64 * 1024).await?;
    let sent: Value = serde_json::from_slice(&bytes)
        .map_err(|_| ApiError::invalid("info", "is not a JSON object"))?;
    if sent.get("Version").and_then(Value::as_str) != Some(version) {
        return Err(ApiError::invalid(
            "info",
            format!("must have \"Version\": \"{version}\", the version of its URL"),
        ));
    }
    let (repo_id, m, v) = (repo.id.clone(), module.to_string(), version.to_string());
    let row = state
        .db
        .call(move |conn| store::version(conn, &repo_id, &m, &v))
        .await?;
    let answer = match row {
        Some(row) => info_json(version, row.published_at),
        None => json!({"Version": version}),
    };
    Ok(axum::Json(answer).into_response())
}

/// The bytes of a stored file (a go.mod: at most 16 MiB).
pub(super) async fn file_bytes(
    state: &AppState,
    file: &repos::FileEntry,
) -> Result<Vec<u8>, ApiError> {
    read_whole(state, &file.sha256, file.size).await
}

/// A zip refused by the module zip rules, as a 400 naming the zip.
pub(super) fn zip_refused(e: ZipError) -> ApiError {
    ApiError::invalid("zip", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_decoded_and_checked() {
        let t = parse_target("example.com/!hello/@v/v1.0.0-!r!c1.zip")
            .unwrap()
            .unwrap();
        assert_eq!(t.module, "example.com/Hello");
        assert_eq!(t.resource, Resource::Zip("v1.0.0-RC1".into()));
        let t = parse_target("example.com/a/@v/list").unwrap().unwrap();
        assert_eq!(t.resource, Resource::List);
        let t = parse_target("example.com/a/@latest").unwrap().unwrap();
        assert_eq!(t.resource, Resource::Latest);
        assert_eq!(parse_target("example.com/a/@v/v1.0.0.tar").unwrap(), None);
        assert_eq!(parse_target("example.com/a").unwrap(), None);
        for bad in [
            "example.com/Hello/@v/list",
            "example.com/../x/@v/list",
            "example.com/a/@v/1.0.0.info",
            "example.com/a/@v/v1.0.0-RC1.info",
            "nodot/@latest",
        ] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn files_live_at_the_case_encoded_proxy_layout() {
        assert_eq!(
            file_path("example.com/Hello", "v1.0.0-RC1", "zip"),
            "example.com/!hello/@v/v1.0.0-!r!c1.zip"
        );
        assert_eq!(
            info_json("v1.0.0", 0)["Time"],
            json!("1970-01-01T00:00:00Z")
        );
    }
}
