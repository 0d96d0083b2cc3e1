//! ProjectMan v4: CodeArts projects and their members.

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::Empty;

#[derive(OpenApi)]
#[openapi(paths(
    create_project_v4,
    list_projects_v4,
    check_project_name_v4,
    list_domain_not_added_projects_v4,
    show_project_info_v4,
    update_project_v4,
    delete_project_v4,
    add_member_v4,
    list_project_members_v4,
    batch_add_members_v4,
    batch_delete_members_v4,
    update_membes_role_v4,
    show_cur_user_role
))]
pub struct Doc;

#[utoipa::path(post, path = "/v4/project", operation_id = "CreateProjectV4", tag = "projectman",
    summary = "A CodeArts project",
    request_body = crate::http::projectman::projects::CreateBody,
    responses((status = 200, description = "success", body = CreateProjectV4Answer)))]
fn create_project_v4() {}

#[utoipa::path(get, path = "/v4/projects", operation_id = "ListProjectsV4", tag = "projectman",
    summary = "The caller's projects",
    params(("offset" = Option<i64>, Query, description = "rows to skip"),
        ("limit" = Option<i64>, Query, description = "rows to answer"),
        ("search" = Option<String>, Query, description = "part of the name or description"),
        ("project_type" = Option<String>, Query, description = "type"),
        ("sort" = Option<String>, Query, description = "sort"),
        ("archive" = Option<String>, Query, description = "archived"),
        ("query_type" = Option<String>, Query, description = "`domain_projects` or `absent` for projects the caller is not in")),
    responses((status = 200, description = "success", body = ListProjectsV4Answer)))]
fn list_projects_v4() {}

#[utoipa::path(post, path = "/v4/projects/check-name", operation_id = "CheckProjectNameV4", tag = "projectman",
    summary = "Whether a project name is taken",
    request_body = crate::http::projectman::projects::CheckNameBody,
    responses((status = 200, description = "success", body = CheckProjectNameV4Answer)))]
fn check_project_name_v4() {}

#[utoipa::path(get, path = "/v4/projects/domain/not-added", operation_id = "ListDomainNotAddedProjectsV4", tag = "projectman",
    summary = "Projects the caller is not a member of",
    params(("offset" = Option<i64>, Query, description = "rows to skip"),
        ("limit" = Option<i64>, Query, description = "rows to answer")),
    responses((status = 200, description = "success", body = ListDomainNotAddedProjectsV4Answer)))]
fn list_domain_not_added_projects_v4() {}

#[utoipa::path(get, path = "/v4/projects/{project_id}", operation_id = "ShowProjectInfoV4", tag = "projectman",
    summary = "A project",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    responses((status = 200, description = "success", body = ShowProjectInfoV4Answer)))]
fn show_project_info_v4() {}

#[utoipa::path(put, path = "/v4/projects/{project_id}", operation_id = "UpdateProjectV4", tag = "projectman",
    summary = "Change a project",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    request_body = crate::http::projectman::projects::UpdateBody,
    responses((status = 200, description = "success", body = Empty)))]
fn update_project_v4() {}

#[utoipa::path(delete, path = "/v4/projects/{project_id}", operation_id = "DeleteProjectV4", tag = "projectman",
    summary = "Delete a project",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    responses((status = 200, description = "success", body = Empty)))]
fn delete_project_v4() {}

#[utoipa::path(post, path = "/v4/projects/{project_id}/member", operation_id = "AddMemberV4", tag = "projectman",
    summary = "Add a member",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    request_body = crate::http::projectman::members::AddBody,
    responses((status = 200, description = "success", body = Empty)))]
fn add_member_v4() {}

#[utoipa::path(get, path = "/v4/projects/{project_id}/members", operation_id = "ListProjectMembersV4", tag = "projectman",
    summary = "A project's members",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("offset" = Option<i64>, Query, description = "rows to skip"),
        ("limit" = Option<i64>, Query, description = "rows to answer"),
        ("role_id" = Option<i64>, Query, description = "only this role")),
    responses((status = 200, description = "success", body = ListProjectMembersV4Answer)))]
fn list_project_members_v4() {}

#[utoipa::path(post, path = "/v4/projects/{project_id}/members", operation_id = "BatchAddMembersV4", tag = "projectman",
    summary = "Add members",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    request_body = crate::http::projectman::members::BatchAddBody,
    responses((status = 200, description = "success", body = Empty)))]
fn batch_add_members_v4() {}

#[utoipa::path(delete, path = "/v4/projects/{project_id}/members", operation_id = "BatchDeleteMembersV4", tag = "projectman",
    summary = "Remove members",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    request_body = crate::http::projectman::members::BatchDeleteBody,
    responses((status = 200, description = "success", body = Empty)))]
fn batch_delete_members_v4() {}

#[utoipa::path(post, path = "/v4/projects/{project_id}/members/role", operation_id = "UpdateMembesRoleV4", tag = "projectman",
    summary = "Set members' role",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    request_body = crate::http::projectman::members::UpdateRoleBody,
    responses((status = 200, description = "success", body = Empty)))]
fn update_membes_role_v4() {}

#[utoipa::path(get, path = "/v4/projects/{project_id}/user-role", operation_id = "ShowCurUserRole", tag = "projectman",
    summary = "The caller's role",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    responses((status = 200, description = "success", body = ShowCurUserRoleAnswer)))]
fn show_cur_user_role() {}

// ---- answers, as the handlers build them ----

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectV4Answer {
    description: String,
    project_id: String,
    project_name: String,
    project_num_id: i64,
    project_type: String,
    user_num_id: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectV4Creator {
    domain_id: String,
    domain_name: String,
    nick_name: String,
    user_id: String,
    user_name: String,
    user_num_id: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectV4 {
    created_time: i64,
    creator: ProjectV4Creator,
    description: String,
    project_id: String,
    project_name: String,
    project_num_id: i64,
    project_type: String,
    updated_time: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectsV4Answer {
    projects: Vec<ProjectV4>,
    total: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckProjectNameV4Answer {
    exist: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDomainNotAddedProjectsV4Answer {
    projects: Vec<ProjectV4>,
    total: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowProjectInfoV4Project {
    archive: i64,
    created_on: i64,
    creator: ProjectV4Creator,
    description: String,
    enterprise_id: String,
    name: String,
    project_id: String,
    project_num_id: i64,
    project_type: String,
    updated_on: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowProjectInfoV4Answer {
    project: ShowProjectInfoV4Project,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectMembersV4Members {
    domain_id: String,
    domain_name: String,
    forbidden: i64,
    nick_name: String,
    role_id: i64,
    role_name: String,
    user_id: String,
    user_name: String,
    user_num_id: i64,
    user_type: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectMembersV4Answer {
    members: Vec<ListProjectMembersV4Members>,
    total: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowCurUserRoleAnswer {
    user_role: i64,
}
