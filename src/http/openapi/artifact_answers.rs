//! The answers of the CodeArts Artifact operations (artifact.rs), as the handlers build them.

use serde::Serialize;
use utoipa::ToSchema;

use super::artifact_repositories::*;
use super::Empty;

envelope!(ShowUserTicketAnswer, String);
envelope!(ShowUserPrivilegesAnswer, ShowUserPrivilegesResult, camel);
envelope!(ListUserPrivilegesAnswer, Privileges);
envelope!(
    UpdateRepoRolesPrivilegeAnswer,
    Vec<crate::http::artifact::privileges::PrivilegeView>
);
envelope!(
    ShowRepositoryRolesPrivilegeAnswer,
    Vec<ShowRepositoryRolesPrivilegeResult>
);
envelope!(ListProjectUsersAnswer, ListProjectUsersResult);
envelope!(CreateMavenRepoAnswer, MavenPairIds);
envelope!(ShowMavenInfoAnswer, Vec<RepositoryDoWithUser>);
envelope!(CreateArtifactoryAnswer, CreateArtifactoryResult);
envelope!(CreateArtifactoryNoSlashAnswer, CreateArtifactoryResult);
envelope!(UpdateArtifactoryAnswer, RepositoryDo);
envelope!(UpdateArtifactoryNoSlashAnswer, RepositoryDo);
envelope!(DeleteRepositoryAnswer, DeleteRepositoryResult);
envelope!(CreateDockerRepositoriesAnswer, RepositoryDo);
envelope!(ModifyRepositoryAnswer, MavenPairIds);
envelope!(ShowRepositoryInfoAnswer, RepositoryDo);
envelope!(ListAllRepositoriesAnswer, ListAllRepositoriesResult);
envelope!(ShowRepositoryAnswer, RepositoryBasic);
envelope!(
    ListArtifactoryStorageStatisticAnswer,
    Vec<ListArtifactoryStorageStatisticResult>
);
envelope!(ShowFileTreeAnswer, ShowFileTreeResult);
envelope!(
    ListArtifactoryComponentAnswer,
    ListArtifactoryComponentResult
);
envelope!(DeleteArtifactFileAnswer, DeleteArtifactFileResult);
envelope!(BatchRestoreRepoAnswer, TrashOutcome);
envelope!(BatchDeleteTrashesAnswer, TrashOutcome);
envelope!(SearchArtifactsAnswer, SearchArtifactsResult);
envelope!(SearchByChecksumAnswer, Vec<ArtifactHit>);
envelope!(
    ShowStorageAnswer,
    crate::http::artifact::stats::StorageTotals
);
envelope!(CreateAttentionAnswer, Empty);
envelope!(ListAttentionsAnswer, ListAttentionsResult);
envelope!(ListMavenUserAnswer, ListMavenUserResult);
envelope!(
    ShowRepoUserInfoAnswer,
    crate::http::artifact::repo_access::RepoUser
);
envelope!(
    ResetUserPasswordAnswer,
    crate::http::artifact::repo_access::RepoUser
);
envelope!(ListChildProxyRepositoriesListAnswer, Vec<RepositoryDoV5>);
envelope!(ShowOpenSourceEnabledAnswer, bool);
envelope!(ListNetProxyAnswer, Vec<NetProxy>);
envelope!(CreateNetProxyAnswer, NetProxy);
envelope!(UpdateNetProxyAnswer, NetProxy);
envelope!(DeleteNetProxyAnswer, DeletedId);
envelope!(ListDomainIpConfigAnswer, ListDomainIpConfigResult);
envelope!(CreateDomainIpConfigAnswer, IpRule);
envelope!(UpdateDomainIpConfigAnswer, IpRule);
envelope!(DeleteDomainIpConfigAnswer, DeletedId);
envelope!(
    CreateProjectRelatedRepositoryAnswer,
    CreateProjectRelatedRepositoryResult
);
envelope!(
    ShowProjectRelatedRepositoryAnswer,
    ShowProjectRelatedRepositoryResult
);
envelope!(ShowProjectListAnswer, Vec<ProjectRepository>);
envelope!(ListMavenListAnswer, Vec<RepositoryDoV5>);
envelope!(ListSecGuardListAnswer, ListSecGuardListResult);

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTicketsAnswer {
    count: i64,
    page_data: Vec<crate::http::artifact::tickets::TicketRow>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicketAnswer {
    embed_id: String,
    expire_time: String,
    group_ids: Vec<String>,
    left_num: i64,
    ticket: String,
    user_id: String,
    user_name: String,
    user_type: String,
    value: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowUserPrivilegesResult {
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

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Privileges {
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

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowRepositoryRolesPrivilegeResult {
    granted_object_paths: Vec<String>,
    operations: String,
    operations_index: Vec<i64>,
    project_id: String,
    repo_id: String,
    role_chinese_name: String,
    role_id: String,
    role_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectUsersList {
    domain_id: String,
    privilege: String,
    repo_id: String,
    role_id: String,
    role_name: String,
    user_id: String,
    user_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProjectUsersResult {
    list: Vec<ListProjectUsersList>,
    total: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MavenPairIds {
    release: String,
    snapshot: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateArtifactoryResult {
    artifactory: RepositoryDo,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRepositoryResult {
    repository_ids: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAllRepositoriesResult {
    repositories: Vec<RepositoryBasic>,
    total: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArtifactoryStorageStatisticResult {
    #[serde(rename = "filesCount")]
    files_count: i64,
    #[serde(rename = "foldersCount")]
    folders_count: i64,
    #[serde(rename = "itemsCount")]
    items_count: i64,
    #[serde(rename = "summaryDate")]
    summary_date: String,
    #[serde(rename = "usedSpace")]
    used_space: String,
    #[serde(rename = "usedSpaceLength")]
    used_space_length: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowFileTreeChildren {
    folder: bool,
    has_child: bool,
    modified: String,
    modified_by: String,
    name: String,
    path: String,
    uri: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowFileTreeResult {
    children: Vec<ShowFileTreeChildren>,
    created: String,
    total: String,
    #[serde(rename = "uploadAccess")]
    upload_access: String,
    uri: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArtifactoryComponentResult {
    created: Option<String>,
    #[serde(rename = "createdBy")]
    created_by: Option<String>,
    #[serde(rename = "createdUserName")]
    created_user_name: Option<String>,
    #[serde(rename = "downloadUrl")]
    download_url: Option<String>,
    #[serde(rename = "filesCount")]
    files_count: Option<i64>,
    folder: bool,
    format: String,
    id: Option<String>,
    md5: Option<String>,
    #[serde(rename = "mimeType")]
    mime_type: Option<String>,
    modified: String,
    #[serde(rename = "modifiedBy")]
    modified_by: Option<String>,
    #[serde(rename = "modifiedUserName")]
    modified_user_name: Option<String>,
    name: String,
    path: String,
    repo: String,
    #[serde(rename = "repoName")]
    repo_name: String,
    sha1: Option<String>,
    sha256: Option<String>,
    sha512: Option<String>,
    size: i64,
    uri: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteArtifactFileResult {
    deleted: i64,
    paths: Vec<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrashOutcome {
    #[serde(rename = "failedMessages")]
    failed_messages: Vec<String>,
    #[serde(rename = "failedNum")]
    failed_num: i64,
    #[serde(rename = "freedBytes")]
    freed_bytes: i64,
    #[serde(rename = "successNum")]
    success_num: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactHit {
    created: String,
    #[serde(rename = "createdBy")]
    created_by: String,
    #[serde(rename = "createdUserName")]
    created_user_name: String,
    #[serde(rename = "displayName")]
    display_name: String,
    id: String,
    modified: String,
    name: String,
    #[serde(rename = "oldRepoId")]
    old_repo_id: String,
    #[serde(rename = "relativePath")]
    relative_path: String,
    repo: String,
    #[serde(rename = "repoName")]
    repo_name: String,
    #[serde(rename = "repoType")]
    repo_type: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchArtifactsResult {
    artifacts: Vec<ArtifactHit>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAttentionsData {
    #[serde(rename = "artifactId")]
    artifact_id: String,
    #[serde(rename = "domainId")]
    domain_id: String,
    format: String,
    id: String,
    #[serde(rename = "modifiedTime")]
    modified_time: String,
    #[serde(rename = "modifiedUserId")]
    modified_user_id: String,
    #[serde(rename = "modifiedUserName")]
    modified_user_name: String,
    path: String,
    policy: String,
    region: String,
    #[serde(rename = "repositoryId")]
    repository_id: String,
    #[serde(rename = "repositoryName")]
    repository_name: String,
    #[serde(rename = "userId")]
    user_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListAttentionsResult {
    data: Vec<ListAttentionsData>,
    #[serde(rename = "totalPages")]
    total_pages: i64,
    #[serde(rename = "totalRecords")]
    total_records: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListMavenUserResult {
    data: Vec<crate::http::artifact::users::RepoUserRow>,
    total_pages: i64,
    total_records: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetProxy {
    created_time: String,
    created_user_id: String,
    created_user_name: String,
    domain_id: String,
    host: String,
    host_name: String,
    id: i64,
    is_default: i64,
    modified_time: String,
    modified_user_id: String,
    modified_user_name: String,
    password: String,
    password_set: bool,
    port: i64,
    region: String,
    remark: String,
    status: String,
    user_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletedId {
    id: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IpRule {
    created: i64,
    domain_id: String,
    id: i64,
    region: String,
    #[serde(rename = "type")]
    type_: String,
    updated: i64,
    value: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDomainIpConfigResult {
    data: Vec<IpRule>,
    total_pages: i64,
    total_records: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRelatedRepositoryResult {
    ids: Vec<String>,
    project_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowProjectRelatedRepositoryProjectInfo {
    associated: bool,
    created_time: String,
    domain_id: String,
    id: String,
    name: String,
    project_id: String,
    region: String,
    repository_id: String,
    repository_num: i64,
    status: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowProjectRelatedRepositoryResult {
    project_info: Vec<ShowProjectRelatedRepositoryProjectInfo>,
    total_records: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeverityCounts {
    high: i64,
    low: i64,
    medium: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilityCounts {
    critical: i64,
    high: i64,
    low: i64,
    medium: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListSecGuardListResult {
    artifact: i64,
    list: Vec<SecGuardTask>,
    malware: SeverityCounts,
    opensource: VulnerabilityCounts,
    task: i64,
    total: i64,
    virus: i64,
}

/// One scan of a file (`list_sec_guard_list`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecGuardTask {
    task_id: String,
    task_name: String,
    scan_path: String,
    file_name: String,
    display_name: String,
    path: String,
    created_time: String,
    opensource: VulnerabilityCounts,
    virus: i64,
    malware: SeverityCounts,
    /// `success`, or why the scan did not run.
    status: String,
    findings: Vec<SecGuardFinding>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecGuardFinding {
    /// `high`, `medium` or `low`.
    severity: String,
    kind: String,
    /// The archive entry or the file the finding is about.
    entry: String,
}
