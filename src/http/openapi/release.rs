//! CodeArts Artifact release repositories (`devreposerver`): uploads and downloads, listing, the recycle
//! bin, figures, permissions, retention and capacity notices.

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(paths(
    upload_release_file,
    upload_release_file_post,
    download_release_file,
    head_release_file,
    download_release_file_by_id,
    head_release_file_by_id,
    list_files,
    show_file_detail_by_full_name,
    list_file_build_archives,
    delete_completely_update_file_state,
    update_file_status,
    show_file_detail,
    list_latest_version_files,
    show_latest_version_files_count,
    show_project_storage_info,
    show_version_list,
    show_project_versions_count,
    show_project_release_files,
    show_release_project_files,
    show_package_info,
    show_package_data_detail,
    show_domain_release_repo_storage,
    list_project_role_permissions,
    show_multi_roles_user_permissions,
    show_auto_delete_job_settings,
    update_auto_delete_job_settings,
    list_auto_delete_records,
    list_capacity_message_setting,
    update_capacity_message_setting,
    list_capacity_notices
))]
pub struct Doc;

#[utoipa::path(put, path = "/devreposerver/v5/release/{project_id}/files/{path}", operation_id = "UploadReleaseFile", tag = "release",
    summary = "Upload a new version of a file",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("path" = String, Path, description = "the file path inside the project (slashes kept)"),
        ("category" = Option<String>, Query, description = "package category"),
        ("build_id" = Option<String>, Query, description = "build id"),
        ("build_no" = Option<String>, Query, description = "build number"),
        ("build_name" = Option<String>, Query, description = "build name"),
        ("build_url" = Option<String>, Query, description = "build URL"),
        ("repo_url" = Option<String>, Query, description = "source repository URL"),
        ("repo_branch" = Option<String>, Query, description = "source branch"),
        ("commit_id" = Option<String>, Query, description = "commit id"),
        ("release_version" = Option<String>, Query, description = "release version")),
    request_body(content = String, content_type = "application/octet-stream", description = "the file's bytes"),
    responses((status = 201, description = "success", body = UploadReleaseFileAnswer)))]
fn upload_release_file() {}

#[utoipa::path(post, path = "/devreposerver/v5/release/{project_id}/files/{path}", operation_id = "UploadReleaseFilePost", tag = "release",
    summary = "As UploadReleaseFile",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("path" = String, Path, description = "the file path inside the project (slashes kept)"),
        ("category" = Option<String>, Query, description = "package category"),
        ("build_id" = Option<String>, Query, description = "build id"),
        ("build_no" = Option<String>, Query, description = "build number"),
        ("build_name" = Option<String>, Query, description = "build name"),
        ("build_url" = Option<String>, Query, description = "build URL"),
        ("repo_url" = Option<String>, Query, description = "source repository URL"),
        ("repo_branch" = Option<String>, Query, description = "source branch"),
        ("commit_id" = Option<String>, Query, description = "commit id"),
        ("release_version" = Option<String>, Query, description = "release version")),
    request_body(content = String, content_type = "application/octet-stream", description = "the file's bytes"),
    responses((status = 201, description = "success", body = UploadReleaseFilePostAnswer)))]
fn upload_release_file_post() {}

#[utoipa::path(get, path = "/devreposerver/v5/release/{project_id}/files/{path}", operation_id = "DownloadReleaseFile", tag = "release",
    summary = "A file's newest (or a given) version",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("path" = String, Path, description = "the file path inside the project (slashes kept)"),
        ("version" = Option<i64>, Query, description = "version number"),
        ("Range" = Option<String>, Header, description = "one byte range, `bytes=first-last`"),
        ("If-None-Match" = Option<String>, Header, description = "an ETag this answered before")),
    responses((status = 200, description = "the bytes", content_type = "*/*", body = String),
        (status = 206, description = "the range asked for", content_type = "*/*", body = String),
        (status = 304, description = "not modified since the ETag given"),
        (status = 416, description = "the range is outside the file")))]
fn download_release_file() {}

#[utoipa::path(head, path = "/devreposerver/v5/release/{project_id}/files/{path}", operation_id = "HeadReleaseFile", tag = "release",
    summary = "As DownloadReleaseFile, without the body",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("path" = String, Path, description = "the file path inside the project (slashes kept)"),
        ("version" = Option<i64>, Query, description = "version number"),
        ("If-None-Match" = Option<String>, Header, description = "an ETag this answered before")),
    responses((status = 200, description = "the headers a GET would answer"),
        (status = 304, description = "not modified since the ETag given")))]
fn head_release_file() {}

#[utoipa::path(get, path = "/devreposerver/v5/files/{id}/download", operation_id = "DownloadReleaseFileById", tag = "release",
    summary = "A version by id",
    params(("id" = String, Path, description = "version id"),
        ("Range" = Option<String>, Header, description = "one byte range, `bytes=first-last`"),
        ("If-None-Match" = Option<String>, Header, description = "an ETag this answered before")),
    responses((status = 200, description = "the bytes", content_type = "*/*", body = String),
        (status = 206, description = "the range asked for", content_type = "*/*", body = String),
        (status = 304, description = "not modified since the ETag given"),
        (status = 416, description = "the range is outside the file")))]
fn download_release_file_by_id() {}

#[utoipa::path(head, path = "/devreposerver/v5/files/{id}/download", operation_id = "HeadReleaseFileById", tag = "release",
    summary = "As DownloadReleaseFileById, without the body",
    params(("id" = String, Path, description = "version id"),
        ("If-None-Match" = Option<String>, Header, description = "an ETag this answered before")),
    responses((status = 200, description = "the headers a GET would answer"),
        (status = 304, description = "not modified since the ETag given")))]
fn head_release_file_by_id() {}

#[utoipa::path(post, path = "/devreposerver/v5/files/list", operation_id = "ListFiles", tag = "release",
    summary = "Folders and files",
    request_body = crate::http::release::files::FileQuery,
    responses((status = 200, description = "success", body = ListFilesAnswer)))]
fn list_files() {}

#[utoipa::path(get, path = "/devreposerver/v5/files/info", operation_id = "ShowFileDetailByFullName", tag = "release",
    summary = "The newest version of a full name",
    params(("file_name" = String, Query, description = "`/{project_id}/{path}`")),
    responses((status = 200, description = "success", body = ShowFileDetailByFullNameAnswer)))]
fn show_file_detail_by_full_name() {}

#[utoipa::path(get, path = "/devreposerver/v5/files/archives", operation_id = "ListFileBuildArchives", tag = "release",
    summary = "Versions uploaded by builds",
    params(("parent_id" = Option<String>, Query, description = "project or folder id"),
        ("build_id" = Option<String>, Query, description = "build id"),
        ("build_no" = Option<String>, Query, description = "build number"),
        ("repo_branch" = Option<String>, Query, description = "branch"),
        ("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListFileBuildArchivesAnswer)))]
fn list_file_build_archives() {}

#[utoipa::path(delete, path = "/devreposerver/v5/files/compeletion", operation_id = "DeleteCompletelyUpdateFileState", tag = "release",
    summary = "Delete versions, folders or projects for good",
    request_body = Vec<String>,
    responses((status = 200, description = "success", body = DeleteCompletelyUpdateFileStateAnswer)))]
fn delete_completely_update_file_state() {}

#[utoipa::path(put, path = "/devreposerver/v5/files/status", operation_id = "UpdateFileStatus", tag = "release",
    summary = "Move to the recycle bin or back",
    request_body = crate::http::release::bin::StatusChange,
    responses((status = 200, description = "success", body = UpdateFileStatusAnswer)))]
fn update_file_status() {}

#[utoipa::path(get, path = "/devreposerver/v5/files/{id}/info", operation_id = "ShowFileDetail", tag = "release",
    summary = "A version by id",
    params(("id" = String, Path, description = "version id")),
    responses((status = 200, description = "success", body = ShowFileDetailAnswer)))]
fn show_file_detail() {}

#[utoipa::path(get, path = "/devreposerver/v5/{project_id}/files/version", operation_id = "ListLatestVersionFiles", tag = "release",
    summary = "The newest version of each file",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("name" = Option<String>, Query, description = "part of the file name"),
        ("sort_by" = Option<String>, Query, description = "`modified_time`"),
        ("sort_dir" = Option<String>, Query, description = "`asc` or `desc`"),
        ("offset" = Option<i64>, Query, description = "rows to skip"),
        ("limit" = Option<i64>, Query, description = "rows to answer")),
    responses((status = 200, description = "success", body = ListLatestVersionFilesAnswer)))]
fn list_latest_version_files() {}

#[utoipa::path(get, path = "/devreposerver/v5/{project_id}/files/version/count", operation_id = "ShowLatestVersionFilesCount", tag = "release",
    summary = "How many files",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("name" = Option<String>, Query, description = "part of the file name")),
    responses((status = 200, description = "success", body = ShowLatestVersionFilesCountAnswer)))]
fn show_latest_version_files_count() {}

#[utoipa::path(get, path = "/devreposerver/v5/{project_id}/storage", operation_id = "ShowProjectStorageInfo", tag = "release",
    summary = "Bytes and versions stored",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("parent_id" = Option<String>, Query, description = "folder id")),
    responses((status = 200, description = "success", body = ShowProjectStorageInfoAnswer)))]
fn show_project_storage_info() {}

#[utoipa::path(get, path = "/v5/{project_id}/versions", operation_id = "ShowVersionList", tag = "release",
    summary = "Release versions",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("build_version" = Option<String>, Query, description = "part of the version"),
        ("offset" = Option<i64>, Query, description = "rows to skip"),
        ("limit" = Option<i64>, Query, description = "rows to answer")),
    responses((status = 200, description = "success", body = ShowVersionListAnswer)))]
fn show_version_list() {}

#[utoipa::path(get, path = "/v5/{project_id}/versions/count", operation_id = "ShowProjectVersionsCount", tag = "release",
    summary = "How many release versions",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("build_version" = Option<String>, Query, description = "part of the version")),
    responses((status = 200, description = "success", body = ShowProjectVersionsCountAnswer)))]
fn show_project_versions_count() {}

#[utoipa::path(get, path = "/v2/{project_id}/release/files", operation_id = "ShowProjectReleaseFiles", tag = "release",
    summary = "Every live version",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("file_name" = Option<String>, Query, description = "part of the name"),
        ("offset" = Option<i64>, Query, description = "rows to skip"),
        ("limit" = Option<i64>, Query, description = "rows to answer")),
    responses((status = 200, description = "success", body = ShowProjectReleaseFilesAnswer)))]
fn show_project_release_files() {}

#[utoipa::path(get, path = "/devreposerver/v2/release/{project_id}/files", operation_id = "ShowReleaseProjectFiles", tag = "release",
    summary = "As ShowProjectReleaseFiles (older path)",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("file_name" = Option<String>, Query, description = "part of the name"),
        ("offset" = Option<i64>, Query, description = "rows to skip"),
        ("limit" = Option<i64>, Query, description = "rows to answer")),
    responses((status = 200, description = "success", body = ShowProjectReleaseFilesAnswer)))]
fn show_release_project_files() {}

#[utoipa::path(get, path = "/devreposerver/v5/data/package/info", operation_id = "ShowPackageInfo", tag = "release",
    summary = "The plan's state",
    params(("project_id" = Option<String>, Query, description = "CodeArts project id")),
    responses((status = 200, description = "success", body = ShowPackageInfoAnswer)))]
fn show_package_info() {}

#[utoipa::path(get, path = "/devreposerver/v5/data/package", operation_id = "ShowPackageDataDetail", tag = "release",
    summary = "The plan figures",
    params(("project_id" = Option<String>, Query, description = "CodeArts project id")),
    responses((status = 200, description = "success", body = ShowPackageDataDetailAnswer)))]
fn show_package_data_detail() {}

#[utoipa::path(get, path = "/devreposerver/v5/storage", operation_id = "ShowDomainReleaseRepoStorage", tag = "release",
    summary = "The account's release storage",
    responses((status = 200, description = "success", body = ShowDomainReleaseRepoStorageAnswer)))]
fn show_domain_release_repo_storage() {}

#[utoipa::path(get, path = "/devreposerver/v5/project-role/permissions", operation_id = "ListProjectRolePermissions", tag = "release",
    summary = "Each role's permissions",
    params(("project_id" = String, Query, description = "CodeArts project id")),
    responses((status = 200, description = "success", body = ListProjectRolePermissionsAnswer)))]
fn list_project_role_permissions() {}

#[utoipa::path(get, path = "/devreposerver/v5/user/permissions", operation_id = "ShowMultiRolesUserPermissions", tag = "release",
    summary = "The caller's permissions",
    params(("project_id" = String, Query, description = "CodeArts project id")),
    responses((status = 200, description = "success", body = ShowMultiRolesUserPermissionsAnswer)))]
fn show_multi_roles_user_permissions() {}

#[utoipa::path(get, path = "/devreposerver/v5/release/{project_id}/auto-deletion/settings", operation_id = "ShowAutoDeleteJobSettings", tag = "release",
    summary = "Retention settings",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    responses((status = 200, description = "success", body = ShowAutoDeleteJobSettingsAnswer)))]
fn show_auto_delete_job_settings() {}

#[utoipa::path(put, path = "/devreposerver/v5/release/{project_id}/auto-deletion/settings", operation_id = "UpdateAutoDeleteJobSettings", tag = "release",
    summary = "Change retention settings",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    request_body = crate::http::release::settings::RetentionBody,
    responses((status = 200, description = "success", body = UpdateAutoDeleteJobSettingsAnswer)))]
fn update_auto_delete_job_settings() {}

#[utoipa::path(get, path = "/devreposerver/v5/release/{project_id}/auto-deletion/records", operation_id = "ListAutoDeleteRecords", tag = "release",
    summary = "What retention moved or deleted",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListAutoDeleteRecordsAnswer)))]
fn list_auto_delete_records() {}

#[utoipa::path(get, path = "/devreposerver/v5/capacity-notice/settings", operation_id = "ListCapacityMessageSetting", tag = "release",
    summary = "Capacity notice settings",
    responses((status = 200, description = "success", body = ListCapacityMessageSettingAnswer)))]
fn list_capacity_message_setting() {}

#[utoipa::path(put, path = "/devreposerver/v5/capacity-notice/settings", operation_id = "UpdateCapacityMessageSetting", tag = "release",
    summary = "Change capacity notice settings",
    request_body = crate::http::release::settings::CapacityBody,
    responses((status = 200, description = "success", body = UpdateCapacityMessageSettingAnswer)))]
fn update_capacity_message_setting() {}

#[utoipa::path(get, path = "/devreposerver/v5/capacity-notice/records", operation_id = "ListCapacityNotices", tag = "release",
    summary = "Capacity notices recorded",
    params(("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListCapacityNoticesAnswer)))]
fn list_capacity_notices() {}

// ---- answers, as the handlers build them ----

envelope!(UploadReleaseFileAnswer, ReleaseFileVersion);
envelope!(UploadReleaseFilePostAnswer, ReleaseFileVersion);
envelope!(ListFilesAnswer, ListFilesResult);
envelope!(ShowFileDetailByFullNameAnswer, ReleaseFileVersion);
envelope!(ListFileBuildArchivesAnswer, ListFileBuildArchivesResult);
envelope!(
    DeleteCompletelyUpdateFileStateAnswer,
    DeleteCompletelyUpdateFileStateResult
);
envelope!(UpdateFileStatusAnswer, UpdateFileStatusResult);
envelope!(ShowFileDetailAnswer, ReleaseFileVersion);
envelope!(
    ListLatestVersionFilesAnswer,
    Vec<ListLatestVersionFilesResult>
);
envelope!(ShowLatestVersionFilesCountAnswer, Count);
envelope!(ShowProjectStorageInfoAnswer, ShowProjectStorageInfoResult);
envelope!(ShowVersionListAnswer, Vec<ShowVersionListResult>);
envelope!(ShowProjectVersionsCountAnswer, Count);
envelope!(ShowPackageInfoAnswer, ShowPackageInfoResult);
envelope!(ShowPackageDataDetailAnswer, ShowPackageDataDetailResult);
envelope!(
    ShowDomainReleaseRepoStorageAnswer,
    ShowDomainReleaseRepoStorageResult
);
envelope!(
    ListProjectRolePermissionsAnswer,
    Vec<ListProjectRolePermissionsResult>
);
envelope!(
    ShowMultiRolesUserPermissionsAnswer,
    ListProjectRolePermissionsResult
);
envelope!(
    ShowAutoDeleteJobSettingsAnswer,
    ShowAutoDeleteJobSettingsResult
);
envelope!(
    UpdateAutoDeleteJobSettingsAnswer,
    ShowAutoDeleteJobSettingsResult
);
envelope!(ListAutoDeleteRecordsAnswer, ListAutoDeleteRecordsResult);
envelope!(
    ListCapacityMessageSettingAnswer,
    ListCapacityMessageSettingResult
);
envelope!(
    UpdateCapacityMessageSettingAnswer,
    ListCapacityMessageSettingResult
);
envelope!(ListCapacityNoticesAnswer, ListCapacityNoticesResult);

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseFileVersion {
    category: String,
    created_by: String,
    created_time: String,
    download_url: String,
    download_url_with_id: String,
    extension: String,
    file_id: String,
    file_name: String,
    full_path: String,
    id: String,
    md5: String,
    migrated_state: i64,
    name: String,
    parent_id: String,
    path: String,
    project_name: String,
    release_version: String,
    repo_name: String,
    sha256: String,
    size: i64,
    status: String,
    #[serde(rename = "type")]
    type_: String,
    upload_id: String,
    version: i64,
    version_enable: bool,
    web_url: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFilesData {
    category: String,
    download_url: String,
    download_url_with_id: String,
    extension: String,
    file_id: String,
    file_name: String,
    full_path: String,
    id: String,
    md5: String,
    migrated_state: i64,
    name: String,
    parent_id: String,
    path: String,
    project_name: String,
    repo_name: String,
    sha256: String,
    size: i64,
    #[serde(rename = "type")]
    type_: String,
    upload_id: String,
    version_enable: bool,
    web_url: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFilesResult {
    data: Vec<ListFilesData>,
    total_pages: i64,
    total_records: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFileBuildArchivesData {
    #[serde(rename = "buildId")]
    build_id: String,
    #[serde(rename = "buildName")]
    build_name: String,
    #[serde(rename = "buildNo")]
    build_no: String,
    #[serde(rename = "buildUrl")]
    build_url: String,
    #[serde(rename = "buildVersion")]
    build_version: String,
    category: String,
    #[serde(rename = "commitId")]
    commit_id: String,
    #[serde(rename = "createdTime")]
    created_time: String,
    #[serde(rename = "createdUserId")]
    created_user_id: String,
    #[serde(rename = "createdUserName")]
    created_user_name: String,
    #[serde(rename = "domainId")]
    domain_id: String,
    #[serde(rename = "downloadUrl")]
    download_url: String,
    #[serde(rename = "downloadUrlWithId")]
    download_url_with_id: String,
    #[serde(rename = "fileId")]
    file_id: String,
    #[serde(rename = "fileName")]
    file_name: String,
    id: String,
    md5: String,
    path: String,
    #[serde(rename = "projectId")]
    project_id: String,
    #[serde(rename = "projectName")]
    project_name: String,
    region: String,
    #[serde(rename = "repoBranch")]
    repo_branch: String,
    #[serde(rename = "repoUrl")]
    repo_url: String,
    sha256: String,
    size: i64,
    version: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListFileBuildArchivesResult {
    data: Vec<ListFileBuildArchivesData>,
    total_pages: i64,
    total_records: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteCompletelyUpdateFileStateResult {
    deleted: i64,
    freed_bytes: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFileStatusResult {
    changed: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListLatestVersionFilesResult {
    file_id: String,
    id: String,
    name: String,
    path: String,
    project_id: String,
    version: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Count {
    count: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowProjectStorageInfoResult {
    files_count: i64,
    used_space: String,
    used_space_length: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowVersionListResult {
    build_version: String,
    category: String,
    files_count: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowProjectReleaseFilesData {
    download_url: String,
    path: String,
    version: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowProjectReleaseFilesResult {
    data: Vec<ShowProjectReleaseFilesData>,
    total_pages: i64,
    total_records: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowProjectReleaseFilesAnswer {
    result: ShowProjectReleaseFilesResult,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowPackageInfoResources {
    files: Option<i64>,
    #[serde(rename = "resourceType")]
    resource_type: String,
    total: i64,
    #[serde(rename = "totalDisplay")]
    total_display: String,
    used: i64,
    #[serde(rename = "usedDisplay")]
    used_display: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowPackageInfoResult {
    #[serde(rename = "packageStatus")]
    package_status: i64,
    #[serde(rename = "packageType")]
    package_type: i64,
    #[serde(rename = "remainingDays")]
    remaining_days: Option<i64>,
    resources: Vec<ShowPackageInfoResources>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowPackageDataDetailResult {
    #[serde(rename = "crossTenant")]
    cross_tenant: bool,
    #[serde(rename = "maxRepoNum")]
    max_repo_num: String,
    #[serde(rename = "monthUsedTraffic")]
    month_used_traffic: String,
    #[serde(rename = "needNotice")]
    need_notice: bool,
    #[serde(rename = "packageDetail")]
    package_detail: i64,
    #[serde(rename = "packageStatus")]
    package_status: i64,
    #[serde(rename = "packageType")]
    package_type: i64,
    #[serde(rename = "storagePercent")]
    storage_percent: f64,
    #[serde(rename = "totalDownloadTraffic")]
    total_download_traffic: String,
    #[serde(rename = "totalStorage")]
    total_storage: String,
    #[serde(rename = "trafficPercent")]
    traffic_percent: i64,
    #[serde(rename = "usedStorage")]
    used_storage: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowDomainReleaseRepoStorageResult {
    package_type: String,
    total_capacity: String,
    total_capacity_size: i64,
    total_count: i64,
    used_capacity: String,
    used_capacity_size: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectRolePermissionsResult {
    create_time: i64,
    devuc_role_id: String,
    id: String,
    is_change_pkg_status: bool,
    is_delete_restore_prod_pkg: bool,
    is_delete_restore_test_pkg: bool,
    is_download: bool,
    is_edit_test_pkg: bool,
    is_empty: bool,
    is_mkdir: bool,
    is_permission_config: bool,
    is_restore_all: bool,
    is_upload: bool,
    migrated_630: i64,
    project_id: String,
    region: String,
    role_id: i64,
    roles: String,
    update_time: i64,
    user_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowAutoDeleteJobSettingsSkipAutoTrash {
    #[serde(rename = "packageCategory")]
    package_category: String,
    paths: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowAutoDeleteJobSettingsCleanRule {
    #[serde(rename = "skipAutoTrash")]
    skip_auto_trash: ShowAutoDeleteJobSettingsSkipAutoTrash,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowAutoDeleteJobSettingsResult {
    #[serde(rename = "cleanRule")]
    clean_rule: ShowAutoDeleteJobSettingsCleanRule,
    file_expire_time: i64,
    is_schedule_to_delete: bool,
    is_schedule_to_trash: bool,
    project_id: String,
    trash_file_expire_time: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAutoDeleteRecordsResult {
    data: Vec<RetentionRecord>,
    total_pages: i64,
    total_records: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCapacityMessageSettingResult {
    capacity_threshold: i64,
    is_mail_enabled: i64,
    is_over_threshold: bool,
    is_sms_enabled: i64,
    message_type: i64,
    total_capacity_size: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCapacityNoticesData {
    capacity_threshold: i64,
    id: i64,
    time: String,
    timestamp: i64,
    total_capacity_size: i64,
    used_capacity_size: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCapacityNoticesResult {
    data: Vec<ListCapacityNoticesData>,
    total_pages: i64,
    total_records: i64,
}

/// What the retention job did to one version.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionRecord {
    version_id: String,
    path: String,
    version: i64,
    size: i64,
    /// `trash` (moved to the recycle bin) or `delete` (deleted for good).
    action: String,
    time: String,
    /// Milliseconds since the epoch.
    timestamp: i64,
}
