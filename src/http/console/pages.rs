//! The console's handlers: each checks the session, calls the management API's handler that does the
//! work (so the same privilege checks decide), and renders the answer. No handler holds business logic.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Deserialize;
use serde_json::{json, Value};

use super::csrf::{same_origin, Signed};
use super::session::{self, Session};
use super::views::{self, *};
use crate::auth::Principal;
use crate::authz::privileges::PrivilegeEntry;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::artifact::access::CallerAccess;
use crate::http::artifact::privileges::entries_for_user;
use crate::http::artifact::{files, repositories, trash};
use crate::http::auth_limit::ClientAddr;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::{projects, repos};

/// What the filter offers; the API's own list of formats decides what it accepts.
const FORMATS: [&str; 9] = [
    "maven2", "npm", "pypi", "go", "generic", "cargo", "docker2", "conan", "rpm",
];
/// Formats the create form makes: hosted Maven as a release/snapshot pair (create_maven_repo), every other
/// repository with create_artifactory.
const CREATE_FORMATS: [&str; 7] = ["generic", "maven2", "npm", "pypi", "cargo", "go", "docker2"];

pub(super) fn chrome(session: &Session) -> Chrome {
    Chrome {
        user_name: session.principal.user_name.clone(),
        csrf: session.csrf.clone(),
        admin: session.admin,
    }
}

fn enc(value: &str) -> String {
    utf8_percent_encode(value, NON_ALPHANUMERIC).to_string()
}

fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// `GET /`: the repositories for a signed-in browser, the sign-in form for any other.
pub async fn home(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    match session::load(&state, &parts).await {
        Ok(Some(_)) => see_other("/ui/repositories"),
        Ok(None) => views::render(&SignIn {
            error: None,
            domain: String::new(),
            user: String::new(),
        }),
        Err(e) => views::error_page(e),
    }
}

#[derive(Deserialize)]
pub struct SignInForm {
    domain: String,
    user: String,
    password: String,
}

/// `POST /ui/sign-in`: the IAM password check; a session cookie on success.
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    form: Result<Form<SignInForm>, FormRejection>,
) -> Response {
    if let Err(e) = same_origin(&state, &headers) {
        return views::error_page(e);
    }
    let Ok(Form(form)) = form else {
        return views::error_page(ApiError::invalid(
            "body",
            "must be a form with domain, user and password",
        ));
    };
    let again = |status: StatusCode, message: &str, form: &SignInForm| {
        let mut page = views::render(&SignIn {
            error: Some(message.to_string()),
            domain: form.domain.clone(),
            user: form.user.clone(),
        });
        *page.status_mut() = status;
        page
    };
    let sizes_ok = [&form.domain, &form.user, &form.password]
        .iter()
        .all(|v| !v.is_empty() && v.chars().count() <= 128);
    if !sizes_ok {
        return again(
            StatusCode::BAD_REQUEST,
            "Fill in the account, the user name and the password (at most 128 characters each).",
            &form,
        );
    }
    let login = crate::http::iam::tokens::password_login(
        &state,
        client,
        form.domain.clone(),
        form.user.clone(),
        form.password.clone(),
    )
    .await;
    let user = match login {
        Ok(user) => user,
        Err(e @ (ApiError::TooManyAuthFailures { .. } | ApiError::AddressRefused)) => {
            let mut page = again(e.status(), &e.to_string(), &form);
            e.add_headers(&mut page);
            return page;
        }
        Err(ApiError::Unauthenticated(_)) => {
            return again(
                StatusCode::UNAUTHORIZED,
                "Sign-in failed: the account, the user name or the password is wrong.",
                &form,
            )
        }
        Err(e) => return views::error_page(e),
    };
    match session::start(&state, user.id).await {
        Ok((value, _)) => (
            StatusCode::SEE_OTHER,
            [
                (header::LOCATION, "/ui/repositories".to_string()),
                (header::SET_COOKIE, session::cookie(&state, Some(&value))),
            ],
        )
            .into_response(),
        Err(e) => views::error_page(e),
    }
}

#[derive(Deserialize)]
pub struct Nothing {}

/// `POST /ui/sign-out`: the session is deleted, so its cookie opens nothing any more.
pub async fn sign_out(State(state): State<AppState>, signed: Signed<Nothing>) -> Response {
    if let Err(e) = signed.session.revoke(&state).await {
        return views::error_page(e);
    }
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/".to_string()),
            (header::SET_COOKIE, session::cookie(&state, None)),
        ],
    )
        .into_response()
}

/// What the caller may do besides reading, per repository, and where it may create repositories: asked
/// of the privilege engine, so that buttons the server would refuse are not shown.
struct Abilities {
    projects: Vec<projects::Project>,
    delete: HashMap<String, bool>,
    restore: HashMap<String, bool>,
    edit: HashMap<String, bool>,
    creatable: Vec<String>,
}

async fn abilities(state: &AppState, principal: &Principal) -> ApiResult<Abilities> {
    let principal = principal.clone();
    Ok(state
        .db
        .call(move |conn| {
            let member = (!principal.is_root).then_some(principal.user_id.as_str());
            let (_, projects) =
                projects::list_projects(conn, &principal.domain_id, member, None, 0, 1000)?;
            let all = repos::domain_repos(conn, &principal.domain_id)?;
            let ids = all
                .iter()
                .map(|r| r.project_id.as_str())
                .chain(projects.iter().map(|p| p.id.as_str()));
            let access = CallerAccess::load(conn, &principal, ids)?;
            let mut creatable = Vec::new();
            for p in &projects {
                let entries: Vec<PrivilegeEntry> =
                    entries_for_user(conn, &p.id, &principal.user_id, principal.is_root)?;
                if entries
                    .iter()
                    .any(|e| e.operations.contains(Operation::CreateRepository))
                {
                    creatable.push(p.id.clone());
                }
            }
            Ok(Abilities {
                delete: all
                    .iter()
                    .map(|r| (r.id.clone(), access.allows(r, Operation::Delete, "")))
                    .collect(),
                restore: all
                    .iter()
                    .map(|r| (r.id.clone(), access.allows(r, Operation::Restore, "")))
                    .collect(),
                edit: all
                    .iter()
                    .map(|r| {
                        let edit = access.allows(r, Operation::EditRepository, "");
                        (r.id.clone(), edit)
                    })
                    .collect(),
                projects,
                creatable,
            })
        })
        .await?)
}

fn text(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `GET /ui/repositories?project=&format=&bin=`: the repositories the caller can read (or, with `bin`,
/// those in the recycle bin), through list_all_repositories.
pub async fn repositories(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    query: QueryParams,
) -> Response {
    views::respond(repositories_page(&state, &session, headers, &query).await)
}

async fn repositories_page(
    state: &AppState,
    session: &Session,
    headers: HeaderMap,
    query: &QueryParams,
) -> ApiResult<Repositories> {
    let project = query.filter("project", 32)?;
    let format = query.filter("format", 32)?;
    let bin = query.bool("bin", false)?;
    let notice = match query.filter("done", 16)?.as_deref() {
        Some("created") => Some("Repository created."),
        Some("deleted") => Some("Repository moved to the recycle bin."),
        Some("restored") => Some("Repository restored from the recycle bin."),
        Some("edited") => Some("Repository settings saved."),
        Some("file-deleted") => Some("File moved to the recycle bin."),
        Some("file-restored") => Some("File restored from the recycle bin."),
        _ => None,
    };
    let mut api_query = format!(
        "is_need_paging=false&in_project={}&is_recycle_bin={bin}",
        project.is_some()
    );
    if let Some(f) = &format {
        api_query.push_str(&format!("&format={}", enc(f)));
    }
    let principal = session.principal.clone();
    let trashed_files = if bin {
        let (p, f) = (project.as_deref(), format.as_deref());
        super::bin_files::trashed(state, &principal, &headers, p, f).await?
    } else {
        Vec::new()
    };
    // Without a project filter the whole account is listed and the path's project is not read.
    let path_project = project.clone().unwrap_or_else(|| "0".repeat(32));
    let Json(answer) = repositories::list_all(
        State(state.clone()),
        principal.clone(),
        headers,
        Path((principal.domain_id.clone(), path_project)),
        QueryParams::parse(&api_query)?,
    )
    .await?;
    let can = abilities(state, &principal).await?;
    let project_name = |id: &str| {
        can.projects
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let rows = answer["result"]["repositories"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let id = text(r, "id");
            RepoRow {
                name: text(r, "name"),
                format: text(r, "format"),
                kind: text(r, "repoType"),
                project_name: project_name(&text(r, "projectId")),
                project_id: text(r, "projectId"),
                size: text(&r["storageSummaryInfo"], "usedSpace"),
                files: r["storageSummaryInfo"]["filesCount"].as_i64().unwrap_or(0),
                modified: text(r, "modifiedTime"),
                can_delete: !bin && can.delete.get(&id).copied().unwrap_or(false),
                can_restore: bin && can.restore.get(&id).copied().unwrap_or(false),
                can_edit: !bin && can.edit.get(&id).copied().unwrap_or(false),
                id,
            }
        })
        .collect();
    let option = |p: &projects::Project| ProjectOption {
        id: p.id.clone(),
        name: p.name.clone(),
        selected: project.as_deref() == Some(p.id.as_str()),
    };
    Ok(Repositories {
        chrome: chrome(session),
        bin,
        projects: can.projects.iter().map(option).collect(),
        formats: FORMATS
            .iter()
            .map(|f| (*f, format.as_deref() == Some(*f)))
            .collect(),
        creatable: can
            .projects
            .iter()
            .filter(|p| can.creatable.contains(&p.id))
            .map(option)
            .collect(),
        create_formats: CREATE_FORMATS.to_vec(),
        rows,
        notice: notice.map(str::to_string),
        trashed_files,
    })
}

#[derive(Deserialize)]
pub struct CreateForm {
    project_id: String,
    format: String,
    name: String,
    #[serde(default)]
    description: String,
    /// hosted (the default), remote or virtual.
    #[serde(default)]
    kind: String,
    #[serde(default)]
    remote_url: String,
    /// A virtual repository's members: names or ids, comma-separated, in order.
    #[serde(default)]
    members: String,
}

/// `POST /ui/repositories`: create_maven_repo for hosted Maven, create_artifactory for the rest. Fields
/// filled in go to the API as they are, which refuses one that does not fit the kind by its name.
pub async fn create_repository(
    State(state): State<AppState>,
    headers: HeaderMap,
    signed: Signed<CreateForm>,
) -> Response {
    let Signed { session, form } = signed;
    let principal = session.principal;
    let kind = if form.kind.is_empty() {
        "hosted"
    } else {
        form.kind.as_str()
    };
    let mut body = json!({
        "format": form.format,
        "type": kind,
        "repository_name": form.name,
        "project_id": form.project_id,
        "description": form.description,
    });
    if !form.remote_url.trim().is_empty() {
        body["remote_url"] = json!(form.remote_url.trim());
    }
    let members: Vec<&str> = form
        .members
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .collect();
    if !members.is_empty() {
        body["repository_ids"] = json!(members);
    }
    let created = if form.format == "maven2" && kind == "hosted" {
        match serde_json::from_value(body) {
            Ok(b) => repositories::create_maven(State(state), principal, Ok(JsonBody(b)))
                .await
                .map(drop),
            Err(e) => Err(ApiError::invalid("body", e.to_string())),
        }
    } else {
        match serde_json::from_value(body) {
            Ok(b) => repositories::create_other(State(state), principal, headers, Ok(JsonBody(b)))
                .await
                .map(drop),
            Err(e) => Err(ApiError::invalid("body", e.to_string())),
        }
    };
    match created {
        Ok(()) => see_other(&format!(
            "/ui/repositories?project={}&done=created",
            enc(&form.project_id)
        )),
        Err(e) => views::error_page(e),
    }
}

#[derive(Deserialize)]
pub struct RepoForm {
    id: String,
}

/// `POST /ui/repositories/delete`: delete_repository (to the recycle bin).
pub async fn delete_repository(
    State(state): State<AppState>,
    signed: Signed<RepoForm>,
) -> Response {
    let Signed { session, form } = signed;
    let body = serde_json::from_value(json!({ "repository_ids": form.id }))
        .map_err(|e| ApiError::invalid("body", e.to_string()));
    let done = match body {
        Ok(b) => repositories::delete_to_trash(State(state), session.principal, Ok(JsonBody(b)))
            .await
            .map(drop),
        Err(e) => Err(e),
    };
    match done {
        Ok(()) => see_other("/ui/repositories?done=deleted"),
        Err(e) => views::error_page(e),
    }
}

/// `POST /ui/repositories/restore`: batch_restore_repo of one repository.
pub async fn restore_repository(
    State(state): State<AppState>,
    signed: Signed<RepoForm>,
) -> Response {
    let Signed { session, form } = signed;
    let body = serde_json::from_value(json!([{ "id": form.id }]))
        .map_err(|e| ApiError::invalid("body", e.to_string()));
    let done = match body {
        Ok(b) => trash::restore(State(state), session.principal, Ok(JsonBody(b))).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(Json(answer))
            if answer["result"]["failed"]
                .as_array()
                .is_none_or(Vec::is_empty) =>
        {
            see_other("/ui/repositories?done=restored")
        }
        Ok(_) => views::error_page(ApiError::Conflict(
            "The repository could not be restored".into(),
        )),
        Err(e) => views::error_page(e),
    }
}

/// `GET /ui/browse/{project}/{repo}?path=`: a directory's entries (show_file_tree) or a file's facts
/// (list_artifactory_component).
pub async fn browse(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Path((project, repo)): Path<(String, String)>,
    query: QueryParams,
) -> Response {
    views::respond(browse_page(&state, &session, headers, project, repo, &query).await)
}

async fn browse_page(
    state: &AppState,
    session: &Session,
    headers: HeaderMap,
    project: String,
    repo: String,
    query: &QueryParams,
) -> ApiResult<Browse> {
    let path = query
        .string("path", 2048)?
        .unwrap_or_default()
        .trim_matches('/')
        .to_string();
    let principal = session.principal.clone();
    let api_query = format!("path={}", enc(&path));
    let path_args = (principal.domain_id.clone(), project.clone(), repo.clone());
    let Json(detail) = files::file_detail(
        State(state.clone()),
        principal.clone(),
        Path(path_args.clone()),
        headers.clone(),
        QueryParams::parse(&api_query)?,
    )
    .await?;
    let detail = &detail["result"];
    let mut entries = Vec::new();
    let mut file = None;
    let mut file_actions = None;
    if detail["folder"].as_bool() == Some(false) {
        let id = text(detail, "id");
        let actions = super::follow::file_actions(state, &principal, &headers, &repo, &path, id);
        file_actions = Some(actions.await?);
        file = Some(FileFacts {
            size: detail["size"].as_i64().unwrap_or(0),
            mime_type: text(detail, "mimeType"),
            md5: text(detail, "md5"),
            sha1: text(detail, "sha1"),
            sha256: text(detail, "sha256"),
            sha512: text(detail, "sha512"),
            created: text(detail, "created"),
            created_by: text(detail, "createdUserName"),
            modified: text(detail, "modified"),
            modified_by: text(detail, "modifiedUserName"),
            download_url: text(detail, "downloadUrl"),
        });
    } else {
        let Json(tree) = files::file_tree(
            State(state.clone()),
            principal,
            Path(path_args),
            headers,
            QueryParams::parse(&api_query)?,
        )
        .await?;
        for child in tree["result"]["children"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            entries.push(TreeEntry {
                name: text(child, "name"),
                path: text(child, "path"),
                folder: child["folder"].as_bool().unwrap_or(false),
                modified: text(child, "modified"),
                modified_by: text(child, "modified_by"),
            });
        }
        // Folders first, as file managers show them.
        entries.sort_by(|a, b| b.folder.cmp(&a.folder).then(a.name.cmp(&b.name)));
    }
    let mut crumbs = Vec::new();
    let mut so_far = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        crumbs.push(Crumb {
            name: part.to_string(),
            path: so_far.clone(),
        });
    }
    let (packages, package) = if path.is_empty() {
        (
            super::packages::listing(state, &session.principal, &repo).await?,
            None,
        )
    } else {
        (
            Vec::new(),
            package_of_file(state, &repo, &path, file.is_some()).await?,
        )
    };
    Ok(Browse {
        chrome: chrome(session),
        project_id: project,
        repo,
        crumbs,
        path,
        entries,
        file,
        packages,
        package,
        file_actions,
    })
}

/// The package a browsed file belongs to, by its repository's format, with its page's URL.
async fn package_of_file(
    state: &AppState,
    repo: &str,
    path: &str,
    is_file: bool,
) -> ApiResult<Option<(String, String)>> {
    if !is_file {
        return Ok(None);
    }
    let key = repo.to_string();
    let format = state
        .db
        .call(move |conn| repos::get_repo_by_name(conn, &key))
        .await?
        .map(|r| r.format)
        .unwrap_or_default();
    Ok(super::packages::package_of(&format, path).map(|p| {
        let href = super::packages::href(repo, &p);
        (p, href)
    }))
}
