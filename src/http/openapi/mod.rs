//! `GET /openapi.json`: an OpenAPI 3.1 document of the management API, built by `utoipa` from the answer
//! types below. The handlers build their answers with `json!`, so these types describe them rather than
//! produce them; tests/e2e/test_openapi.py validates live answers against the document, which is what keeps
//! the two together. Objects deny fields they do not list, so an answer that grows a field fails that test
//! until the document says so.
//!
//! First increment (issue 14): the operations listed in `ApiDoc`; the rest of the management API is not
//! described yet (README, "API coverage").

// The types exist for their schemas; nothing constructs or reads them.
#![allow(dead_code)]

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

/// Declares `$name`, the success envelope `{"status", "<trace>", "result": $result}` with the trace id
/// field spelt as the operation's SDK model spells it.
macro_rules! envelope {
    ($name:ident, $result:ty) => {
        #[derive(Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Always `success`.
            status: String,
            trace_id: String,
            result: $result,
        }
    };
    ($name:ident, $result:ty, camel) => {
        #[derive(Deserialize, ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// Always `success`.
            status: String,
            #[serde(rename = "traceId")]
            trace_id: String,
            result: $result,
        }
    };
}

envelope!(TicketAnswer, String);
envelope!(PrivilegesV3Answer, PrivilegesV3, camel);
envelope!(PrivilegesV5Answer, PrivilegesV5);
envelope!(StorageAnswer, Storage);
envelope!(RepoUserAnswer, RepoUser);
envelope!(RepositoriesAnswer, RepositoryPage);
envelope!(ChecksumAnswer, Vec<serde_json::Value>);
envelope!(OpenSourceAnswer, bool);
envelope!(IpConfigAnswer, IpConfigPage);
envelope!(NetProxiesAnswer, Vec<serde_json::Value>);
envelope!(RepositoryAnswer, RepositoryRow);
envelope!(FileTreeAnswer, FileTree);
envelope!(FileDetailAnswer, FileDetail);

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileTree {
    /// The count of children, as a string (the SDK model's type).
    total: String,
    uri: String,
    created: String,
    /// `true` or `false`, as a string.
    #[serde(rename = "uploadAccess")]
    upload_access: String,
    children: Vec<FileTreeChild>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileTreeChild {
    name: String,
    uri: String,
    path: String,
    modified: String,
    folder: bool,
    modified_by: String,
    has_child: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileDetail {
    id: String,
    name: String,
    path: String,
    uri: String,
    repo: String,
    repo_name: String,
    format: String,
    folder: bool,
    size: i64,
    mime_type: String,
    md5: String,
    sha1: String,
    sha256: String,
    sha512: String,
    created: String,
    created_by: String,
    created_user_name: String,
    modified: String,
    modified_by: String,
    modified_user_name: String,
    download_url: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketList {
    count: i64,
    page_data: Vec<TicketRow>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRow {
    /// SHA-256 (hex) of the ticket: the ticket itself is never shown again.
    ticket: String,
    embed_id: String,
    /// `yyyy-MM-dd HH:mm:ss (GMT+08:00)`.
    expire_time: String,
    left_num: i64,
    user_id: String,
    user_name: String,
    user_type: String,
    group_ids: Vec<String>,
}

/// Seed 002's shape: every string a comma-terminated list, one item per role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivilegesV3 {
    area_service_id: String,
    granted_object_path: String,
    granted_object_type_id: String,
    operations: String,
    #[serde(rename = "operationsIndex")]
    operations_index: Vec<i64>,
    project_id: String,
    role_chinese_name: String,
    role_id: String,
    role_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PrivilegesV5 {
    area_service_id: String,
    granted_object_path: String,
    granted_object_type_id: String,
    operations: String,
    operations_index: Vec<i64>,
    project_id: String,
    role_chinese_name: String,
    role_id: String,
    role_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    #[serde(rename = "totalCount")]
    total_count: i64,
    /// Human-readable, e.g. `2 B`.
    #[serde(rename = "totalStorage")]
    total_storage: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoUser {
    username: String,
    /// Always empty: the repo password is shown once, when reset.
    password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryPage {
    repositories: Vec<RepositoryRow>,
    total: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RepositoryRow {
    created_time: String,
    created_user_id: String,
    created_user_name: String,
    default_deploy_repository: String,
    deployment_policy: String,
    description: String,
    disable: bool,
    display_name: String,
    domain_id: String,
    format: String,
    hosted_names_hide_remote: bool,
    id: String,
    includes_pattern: String,
    metadata_max_age_secs: Option<i64>,
    modified_time: String,
    modified_user_id: String,
    modified_user_name: String,
    name: String,
    not_found_cache_secs: Option<i64>,
    package_type: String,
    password: String,
    password_set: bool,
    policy: String,
    project_id: String,
    region: String,
    remote_url: String,
    repo_type: String,
    /// A virtual repository's members, by name.
    repositories: Vec<String>,
    repository_ids: Vec<String>,
    repository_name: String,
    share_right: String,
    status: String,
    storage_summary_info: StorageSummary,
    tab_id: String,
    url: String,
    user_name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageSummary {
    files_count: i64,
    used_space: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IpConfigPage {
    data: Vec<serde_json::Value>,
    total_pages: i64,
    total_records: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Links {
    #[serde(rename = "self")]
    self_: String,
    next: Option<String>,
    previous: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IamUserList {
    links: Links,
    users: Vec<IamUser>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IamUser {
    access_mode: String,
    description: String,
    domain_id: String,
    enabled: bool,
    id: String,
    last_project_id: Option<String>,
    links: Links,
    name: String,
    password_expires_at: Option<String>,
    pwd_status: bool,
    pwd_strength: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IamGroupList {
    links: Links,
    groups: Vec<IamGroup>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IamGroup {
    create_time: i64,
    description: String,
    domain_id: String,
    id: String,
    links: Links,
    name: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IamProjectList {
    links: Links,
    projects: Vec<IamProject>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IamProject {
    description: String,
    domain_id: String,
    enabled: bool,
    id: String,
    is_domain: bool,
    links: Links,
    name: String,
    parent_id: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectList {
    projects: Vec<ProjectRow>,
    total: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRow {
    created_time: i64,
    creator: ProjectCreator,
    description: String,
    project_id: String,
    project_name: String,
    project_num_id: i64,
    project_type: String,
    updated_time: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectCreator {
    domain_id: String,
    domain_name: String,
    nick_name: String,
    user_id: String,
    user_name: String,
    user_num_id: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// `ok`, or `unavailable` (then 503).
    status: String,
}

/// Every error answer (README, "Error codes").
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorAnswer {
    /// Always `error`.
    status: String,
    trace_id: String,
    error_code: String,
    error_msg: String,
}

#[utoipa::path(get, path = "/cloudartifact/v5/ticket", operation_id = "show_user_ticket", tag = "CodeArts Artifact",
    responses((status = 200, body = TicketAnswer), (status = 401, body = ErrorAnswer)))]
fn show_user_ticket() {}

#[utoipa::path(get, path = "/v1/{project_id}/tickets", operation_id = "list_tickets", tag = "CodeArts Artifact",
    params(("project_id" = String, Path, description = "IAM project id")),
    responses((status = 200, body = TicketList), (status = 401, body = ErrorAnswer)))]
fn list_tickets() {}

#[utoipa::path(get, path = "/cloudartifact/v3/user/{project_id}/privileges", operation_id = "show_project_privileges_v3",
    tag = "CodeArts Artifact", params(("project_id" = String, Path, description = "CodeArts project id")),
    responses((status = 200, body = PrivilegesV3Answer), (status = 404, body = ErrorAnswer)))]
fn privileges_v3() {}

#[utoipa::path(get, path = "/v5/user/{project_id}/privileges", operation_id = "show_project_privileges",
    tag = "CodeArts Artifact", params(("project_id" = String, Path, description = "CodeArts project id")),
    responses((status = 200, body = PrivilegesV5Answer), (status = 404, body = ErrorAnswer)))]
fn privileges_v5() {}

#[utoipa::path(get, path = "/cloudartifact/v5/storage", operation_id = "show_storage", tag = "CodeArts Artifact",
    responses((status = 200, body = StorageAnswer)))]
fn show_storage() {}

#[utoipa::path(get, path = "/cloudartifact/v5/repositories/user/info", operation_id = "show_user_info",
    tag = "CodeArts Artifact", responses((status = 200, body = RepoUserAnswer)))]
fn show_user_info() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/repositories", operation_id = "list_all_repositories",
    tag = "CodeArts Artifact",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
           ("project_id" = String, Path, description = "CodeArts project id")),
    responses((status = 200, body = RepositoriesAnswer), (status = 404, body = ErrorAnswer)))]
fn list_all_repositories() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/{repository_name}/repositories",
    operation_id = "show_repository", tag = "CodeArts Artifact",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
           ("project_id" = String, Path, description = "CodeArts project id"),
           ("repository_name" = String, Path, description = "repository name")),
    responses((status = 200, body = RepositoryAnswer), (status = 404, body = ErrorAnswer)))]
fn show_repository() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/{repository_name}/file-tree",
    operation_id = "show_file_tree", tag = "CodeArts Artifact",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
           ("project_id" = String, Path, description = "CodeArts project id"),
           ("repository_name" = String, Path, description = "repository name"),
           ("path" = Option<String>, Query, description = "directory, `/` for the root"),
           ("is_recycle_bin" = Option<bool>, Query, description = "list the recycle bin instead")),
    responses((status = 200, body = FileTreeAnswer), (status = 400, body = ErrorAnswer), (status = 404, body = ErrorAnswer)))]
fn show_file_tree() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/{repository_name}/file-detail",
    operation_id = "show_file_detail", tag = "CodeArts Artifact",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
           ("project_id" = String, Path, description = "CodeArts project id"),
           ("repository_name" = String, Path, description = "repository name"),
           ("path" = String, Query, description = "the file's path")),
    responses((status = 200, body = FileDetailAnswer), (status = 400, body = ErrorAnswer), (status = 404, body = ErrorAnswer)))]
fn show_file_detail() {}

#[utoipa::path(get, path = "/cloudartifact/v5/search/checksum", operation_id = "search_by_checksum",
    tag = "CodeArts Artifact", params(("checksum" = String, Query, description = "MD5, SHA-1 or SHA-256, hex")),
    responses((status = 200, body = ChecksumAnswer), (status = 400, body = ErrorAnswer)))]
fn search_by_checksum() {}

#[utoipa::path(get, path = "/cloudartifact/v5/opensource/enabled", operation_id = "show_open_source_enabled",
    tag = "CodeArts Artifact", responses((status = 200, body = OpenSourceAnswer)))]
fn open_source_enabled() {}

#[utoipa::path(get, path = "/cloudartifact/v5/domain/ipconfig", operation_id = "list_domain_ip_config",
    tag = "CodeArts Artifact", responses((status = 200, body = IpConfigAnswer)))]
fn ip_config() {}

#[utoipa::path(get, path = "/cloudartifact/v5/tree/net/proxy", operation_id = "list_net_proxies",
    tag = "CodeArts Artifact", responses((status = 200, body = NetProxiesAnswer)))]
fn net_proxies() {}

#[utoipa::path(get, path = "/v3/users", operation_id = "keystone_list_users", tag = "IAM",
    responses((status = 200, body = IamUserList), (status = 401, body = ErrorAnswer)))]
fn iam_users() {}

#[utoipa::path(get, path = "/v3/groups", operation_id = "keystone_list_groups", tag = "IAM",
    responses((status = 200, body = IamGroupList), (status = 401, body = ErrorAnswer)))]
fn iam_groups() {}

#[utoipa::path(get, path = "/v3/projects", operation_id = "keystone_list_projects", tag = "IAM",
    responses((status = 200, body = IamProjectList), (status = 401, body = ErrorAnswer)))]
fn iam_projects() {}

#[utoipa::path(get, path = "/v4/projects", operation_id = "list_projects_v4", tag = "ProjectMan",
    responses((status = 200, body = ProjectList), (status = 401, body = ErrorAnswer)))]
fn projects_v4() {}

#[utoipa::path(get, path = "/health", operation_id = "health", tag = "Operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
fn health() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "arca management API",
        description = "CodeArts Artifact, IAM and ProjectMan subsets (first increment)"
    ),
    paths(
        show_user_ticket,
        list_tickets,
        privileges_v3,
        privileges_v5,
        show_storage,
        show_user_info,
        list_all_repositories,
        show_repository,
        show_file_tree,
        show_file_detail,
        search_by_checksum,
        open_source_enabled,
        ip_config,
        net_proxies,
        iam_users,
        iam_groups,
        iam_projects,
        projects_v4,
        health
    )
)]
struct ApiDoc;

static DOCUMENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    ApiDoc::openapi()
        .to_json()
        .expect("the OpenAPI document serialises")
});

pub async fn serve() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_document_builds_with_unique_operation_ids() {
        let doc: serde_json::Value = serde_json::from_str(&super::DOCUMENT).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        let ids: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|path| path.as_object().unwrap().values())
            .map(|op| op["operationId"].as_str().unwrap())
            .collect();
        let unique: std::collections::HashSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        assert!(ids.len() >= 19);
    }
}
