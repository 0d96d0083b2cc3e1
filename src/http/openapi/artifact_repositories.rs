//! The repository shapes several CodeArts Artifact operations answer: `RepositoryDo` (a repository's
//! settings), with the caller's repo user name (`RepositoryDoWithUser`), in snake case (`RepositoryDoV5`),
//! with storage figures (`RepositoryBasic`), and as a project's list has them (`ProjectRepository`).

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryDoWithUser {
    #[serde(rename = "allowAnonymous")]
    allow_anonymous: bool,
    #[serde(rename = "autoCleanSnapshot")]
    auto_clean_snapshot: bool,
    #[serde(rename = "createdTime")]
    created_time: String,
    #[serde(rename = "createdUserId")]
    created_user_id: String,
    #[serde(rename = "createdUserName")]
    created_user_name: String,
    #[serde(rename = "defaultDeployRepository")]
    default_deploy_repository: String,
    #[serde(rename = "deploymentPolicy")]
    deployment_policy: String,
    description: String,
    disable: bool,
    #[serde(rename = "displayName")]
    display_name: String,
    #[serde(rename = "domainId")]
    domain_id: String,
    format: String,
    #[serde(rename = "hostedNamesHideRemote")]
    hosted_names_hide_remote: bool,
    id: String,
    #[serde(rename = "includesPattern")]
    includes_pattern: String,
    #[serde(rename = "maxUniqueSnapshots")]
    max_unique_snapshots: String,
    #[serde(rename = "metadataMaxAgeSecs")]
    metadata_max_age_secs: Option<i64>,
    #[serde(rename = "modifiedTime")]
    modified_time: String,
    #[serde(rename = "modifiedUserId")]
    modified_user_id: String,
    #[serde(rename = "modifiedUserName")]
    modified_user_name: String,
    name: String,
    #[serde(rename = "nexuRepo")]
    nexu_repo: bool,
    #[serde(rename = "notFoundCacheSecs")]
    not_found_cache_secs: Option<i64>,
    npm: String,
    #[serde(rename = "packageType")]
    package_type: String,
    #[serde(rename = "parentRepoName")]
    parent_repo_name: String,
    password: String,
    #[serde(rename = "passwordSet")]
    password_set: bool,
    policy: String,
    #[serde(rename = "projectId")]
    project_id: String,
    proxy: String,
    region: String,
    release: String,
    #[serde(rename = "releaseStatus")]
    release_status: String,
    #[serde(rename = "remoteType")]
    remote_type: String,
    #[serde(rename = "remoteUrl")]
    remote_url: String,
    repositories: Vec<String>,
    #[serde(rename = "repositoryIds")]
    repository_ids: Vec<String>,
    #[serde(rename = "repositoryName")]
    repository_name: String,
    #[serde(rename = "shareRight")]
    share_right: String,
    snapshot: String,
    #[serde(rename = "snapshotAliveDays")]
    snapshot_alive_days: String,
    #[serde(rename = "snapshotStatus")]
    snapshot_status: String,
    status: String,
    #[serde(rename = "tabId")]
    tab_id: String,
    #[serde(rename = "type")]
    type_: String,
    uri: String,
    url: String,
    #[serde(rename = "userName")]
    user_name: String,
    username: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryDo {
    #[serde(rename = "allowAnonymous")]
    allow_anonymous: bool,
    #[serde(rename = "autoCleanSnapshot")]
    auto_clean_snapshot: bool,
    #[serde(rename = "createdTime")]
    created_time: String,
    #[serde(rename = "createdUserId")]
    created_user_id: String,
    #[serde(rename = "createdUserName")]
    created_user_name: String,
    #[serde(rename = "defaultDeployRepository")]
    default_deploy_repository: String,
    #[serde(rename = "deploymentPolicy")]
    deployment_policy: String,
    description: String,
    disable: bool,
    #[serde(rename = "displayName")]
    display_name: String,
    #[serde(rename = "domainId")]
    domain_id: String,
    format: String,
    #[serde(rename = "hostedNamesHideRemote")]
    hosted_names_hide_remote: bool,
    id: String,
    #[serde(rename = "includesPattern")]
    includes_pattern: String,
    #[serde(rename = "maxUniqueSnapshots")]
    max_unique_snapshots: String,
    #[serde(rename = "metadataMaxAgeSecs")]
    metadata_max_age_secs: Option<i64>,
    #[serde(rename = "modifiedTime")]
    modified_time: String,
    #[serde(rename = "modifiedUserId")]
    modified_user_id: String,
    #[serde(rename = "modifiedUserName")]
    modified_user_name: String,
    name: String,
    #[serde(rename = "nexuRepo")]
    nexu_repo: bool,
    #[serde(rename = "notFoundCacheSecs")]
    not_found_cache_secs: Option<i64>,
    npm: String,
    #[serde(rename = "packageType")]
    package_type: String,
    #[serde(rename = "parentRepoName")]
    parent_repo_name: String,
    password: String,
    #[serde(rename = "passwordSet")]
    password_set: bool,
    policy: String,
    #[serde(rename = "projectId")]
    project_id: String,
    proxy: String,
    region: String,
    release: String,
    #[serde(rename = "releaseStatus")]
    release_status: String,
    #[serde(rename = "remoteType")]
    remote_type: String,
    #[serde(rename = "remoteUrl")]
    remote_url: String,
    repositories: Vec<String>,
    #[serde(rename = "repositoryIds")]
    repository_ids: Vec<String>,
    #[serde(rename = "repositoryName")]
    repository_name: String,
    #[serde(rename = "shareRight")]
    share_right: String,
    snapshot: String,
    #[serde(rename = "snapshotAliveDays")]
    snapshot_alive_days: String,
    #[serde(rename = "snapshotStatus")]
    snapshot_status: String,
    status: String,
    #[serde(rename = "tabId")]
    tab_id: String,
    #[serde(rename = "type")]
    type_: String,
    uri: String,
    url: String,
    #[serde(rename = "userName")]
    user_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageSummaryInfo {
    #[serde(rename = "filesCount")]
    files_count: i64,
    #[serde(rename = "usedSpace")]
    used_space: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryBasic {
    #[serde(rename = "createdTime")]
    created_time: String,
    #[serde(rename = "createdUserId")]
    created_user_id: String,
    #[serde(rename = "createdUserName")]
    created_user_name: String,
    #[serde(rename = "defaultDeployRepository")]
    default_deploy_repository: String,
    #[serde(rename = "deploymentPolicy")]
    deployment_policy: String,
    description: String,
    disable: bool,
    #[serde(rename = "displayName")]
    display_name: String,
    #[serde(rename = "domainId")]
    domain_id: String,
    format: String,
    #[serde(rename = "hostedNamesHideRemote")]
    hosted_names_hide_remote: bool,
    id: String,
    #[serde(rename = "includesPattern")]
    includes_pattern: String,
    #[serde(rename = "metadataMaxAgeSecs")]
    metadata_max_age_secs: Option<i64>,
    #[serde(rename = "modifiedTime")]
    modified_time: String,
    #[serde(rename = "modifiedUserId")]
    modified_user_id: String,
    #[serde(rename = "modifiedUserName")]
    modified_user_name: String,
    name: String,
    #[serde(rename = "notFoundCacheSecs")]
    not_found_cache_secs: Option<i64>,
    #[serde(rename = "packageType")]
    package_type: String,
    password: String,
    #[serde(rename = "passwordSet")]
    password_set: bool,
    policy: String,
    #[serde(rename = "projectId")]
    project_id: String,
    region: String,
    #[serde(rename = "remoteUrl")]
    remote_url: String,
    #[serde(rename = "repoType")]
    repo_type: String,
    repositories: Vec<String>,
    #[serde(rename = "repositoryIds")]
    repository_ids: Vec<String>,
    #[serde(rename = "repositoryName")]
    repository_name: String,
    #[serde(rename = "shareRight")]
    share_right: String,
    status: String,
    #[serde(rename = "storageSummaryInfo")]
    storage_summary_info: StorageSummaryInfo,
    #[serde(rename = "tabId")]
    tab_id: String,
    url: String,
    #[serde(rename = "userName")]
    user_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryDoV5 {
    allow_anonymous: bool,
    auto_clean_snapshot: bool,
    created_time: String,
    created_user_id: String,
    created_user_name: String,
    default_deploy_repository: String,
    deployment_policy: String,
    description: String,
    disable: bool,
    display_name: String,
    domain_id: String,
    excludes_pattern: String,
    format: String,
    hosted_names_hide_remote: bool,
    id: String,
    includes_pattern: String,
    max_unique_snapshots: String,
    metadata_max_age_secs: Option<i64>,
    migrate_flag: i64,
    modified_time: String,
    modified_user_id: String,
    modified_user_name: String,
    name: String,
    nexu_repo: bool,
    not_found_cache_secs: Option<i64>,
    npm: String,
    package_type: String,
    parent_repo_name: String,
    password: String,
    password_set: bool,
    policy: String,
    project_id: String,
    proxy: String,
    pypi_registry_url: String,
    region: String,
    release: String,
    release_status: String,
    remote_auth: String,
    remote_type: String,
    remote_url: String,
    repositories: Vec<String>,
    repository_ids: Vec<String>,
    repository_name: String,
    scope: i64,
    share_right: String,
    snapshot: String,
    snapshot_alive_days: String,
    snapshot_status: String,
    status: String,
    tab_id: String,
    #[serde(rename = "type")]
    type_: String,
    uri: String,
    url: String,
    user_name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRepository {
    #[serde(rename = "allowAnonymous")]
    allow_anonymous: bool,
    #[serde(rename = "autoCleanSnapshot")]
    auto_clean_snapshot: bool,
    #[serde(rename = "createdTime")]
    created_time: String,
    #[serde(rename = "createdUserId")]
    created_user_id: String,
    #[serde(rename = "createdUserName")]
    created_user_name: String,
    #[serde(rename = "defaultDeployRepository")]
    default_deploy_repository: String,
    #[serde(rename = "deploymentPolicy")]
    deployment_policy: String,
    description: String,
    disable: bool,
    #[serde(rename = "displayName")]
    display_name: String,
    #[serde(rename = "domainId")]
    domain_id: String,
    #[serde(rename = "excludesPattern")]
    excludes_pattern: String,
    format: String,
    #[serde(rename = "hostedNamesHideRemote")]
    hosted_names_hide_remote: bool,
    id: String,
    #[serde(rename = "includesPattern")]
    includes_pattern: String,
    #[serde(rename = "maxUniqueSnapshots")]
    max_unique_snapshots: String,
    #[serde(rename = "metadataMaxAgeSecs")]
    metadata_max_age_secs: Option<i64>,
    #[serde(rename = "modifiedTime")]
    modified_time: String,
    #[serde(rename = "modifiedUserId")]
    modified_user_id: String,
    #[serde(rename = "modifiedUserName")]
    modified_user_name: String,
    name: String,
    #[serde(rename = "nexuRepo")]
    nexu_repo: bool,
    #[serde(rename = "notFoundCacheSecs")]
    not_found_cache_secs: Option<i64>,
    npm: String,
    #[serde(rename = "packageType")]
    package_type: String,
    #[serde(rename = "parentRepoName")]
    parent_repo_name: String,
    password: String,
    #[serde(rename = "passwordSet")]
    password_set: bool,
    policy: String,
    #[serde(rename = "projectId")]
    project_id: String,
    proxy: String,
    region: String,
    release: String,
    #[serde(rename = "releaseStatus")]
    release_status: String,
    #[serde(rename = "remoteType")]
    remote_type: String,
    #[serde(rename = "remoteUrl")]
    remote_url: String,
    #[serde(rename = "repoType")]
    repo_type: String,
    repositories: Vec<String>,
    #[serde(rename = "repositoryIds")]
    repository_ids: Vec<String>,
    #[serde(rename = "repositoryName")]
    repository_name: String,
    #[serde(rename = "shareRight")]
    share_right: String,
    shared: bool,
    snapshot: String,
    #[serde(rename = "snapshotAliveDays")]
    snapshot_alive_days: String,
    #[serde(rename = "snapshotStatus")]
    snapshot_status: String,
    status: String,
    #[serde(rename = "storageSummaryInfo")]
    storage_summary_info: String,
    #[serde(rename = "tabId")]
    tab_id: String,
    #[serde(rename = "type")]
    type_: String,
    uri: String,
    url: String,
    #[serde(rename = "userName")]
    user_name: String,
}
