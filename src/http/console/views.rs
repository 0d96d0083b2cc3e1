//! The console's templates (`templates/console/`) and the rows they show. Askama escapes every value
//! it writes into HTML, so names and paths from users are shown, never interpreted.

use askama::Template;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::http::error::ApiError;

/// Who is signed in, for the layout's header.
pub struct Chrome {
    pub user_name: String,
    pub csrf: String,
    /// Show the Administration link.
    pub admin: bool,
}

#[derive(Template)]
#[template(path = "console/sign_in.html")]
pub struct SignIn {
    pub error: Option<String>,
    pub domain: String,
    pub user: String,
}

#[derive(Template)]
#[template(path = "console/error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub message: String,
}

pub struct ProjectOption {
    pub id: String,
    pub name: String,
    pub selected: bool,
}

pub struct RepoRow {
    pub id: String,
    pub name: String,
    pub format: String,
    pub kind: String,
    pub project_id: String,
    pub project_name: String,
    pub size: String,
    pub files: i64,
    pub modified: String,
    pub can_delete: bool,
    pub can_restore: bool,
    pub can_edit: bool,
}

#[derive(Template)]
#[template(path = "console/repositories.html")]
pub struct Repositories {
    pub chrome: Chrome,
    pub bin: bool,
    pub projects: Vec<ProjectOption>,
    pub formats: Vec<(&'static str, bool)>,
    /// Projects in which the caller may create repositories (the create form shows only these).
    pub creatable: Vec<ProjectOption>,
    pub create_formats: Vec<&'static str>,
    pub rows: Vec<RepoRow>,
    pub notice: Option<String>,
    /// In the bin view: the deleted files of live repositories.
    pub trashed_files: Vec<super::bin_files::TrashedFile>,
}

pub struct Crumb {
    pub name: String,
    pub path: String,
}

pub struct TreeEntry {
    pub name: String,
    pub path: String,
    pub folder: bool,
    pub modified: String,
    pub modified_by: String,
}

pub struct FileFacts {
    pub size: i64,
    pub mime_type: String,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub sha512: String,
    pub created: String,
    pub created_by: String,
    pub modified: String,
    pub modified_by: String,
    pub download_url: String,
}

#[derive(Template)]
#[template(path = "console/browse.html")]
pub struct Browse {
    pub chrome: Chrome,
    pub project_id: String,
    pub repo: String,
    pub crumbs: Vec<Crumb>,
    pub path: String,
    pub entries: Vec<TreeEntry>,
    pub file: Option<FileFacts>,
    /// At the repository's root: its packages (npm, PyPI, Cargo, Maven), linking to their pages.
    pub packages: Vec<super::packages::Listed>,
    /// For a file of a package: the package's name and page.
    pub package: Option<(String, String)>,
    /// Follow and delete, for a file, as far as the caller may use them.
    pub file_actions: Option<super::follow::FileActions>,
}

pub struct TicketRow {
    pub project_id: String,
    pub project_name: String,
    pub ticket: String,
    pub scope: String,
    pub expires: String,
    pub uses_left: i64,
}

#[derive(Template)]
#[template(path = "console/me.html")]
pub struct Me {
    pub chrome: Chrome,
    pub repo_user: String,
    /// The account's IAM projects (id, name), which tickets belong to.
    pub projects: Vec<(String, String)>,
    pub tickets: Vec<TicketRow>,
    pub new_password: Option<String>,
    pub new_ticket: Option<String>,
    /// The caller's access keys, a new one's (access key, secret) shown once, and its project roles.
    pub keys: Vec<super::keys::KeyRow>,
    pub new_key: Option<(String, String)>,
    pub memberships: Vec<super::keys::Membership>,
    pub notice: Option<String>,
}

pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => error_page(ApiError::Internal(format!("console template: {e}"))),
    }
}

/// A page, or its error as a page.
pub fn respond(result: crate::http::error::ApiResult<impl Template>) -> Response {
    match result {
        Ok(page) => render(&page),
        Err(e) => error_page(e),
    }
}

/// An API error as a page: its status, its message (which never echoes a credential), a way back.
pub fn error_page(error: ApiError) -> Response {
    let status = error.status();
    let page = ErrorPage {
        status: status.as_u16(),
        message: if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %error, "console page failed");
            "The server could not answer; try again later.".to_string()
        } else {
            error.to_string()
        },
    };
    let mut response = match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, [(header::CONTENT_TYPE, "text/plain")], page.message).into_response(),
    };
    error.add_headers(&mut response);
    response
}
