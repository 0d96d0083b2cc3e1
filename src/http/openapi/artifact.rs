//! CodeArts Artifact: tickets, privileges, repositories, files and the recycle bin, searches, storage
//! figures, follows, remote repositories' proxies, the IP allow-list, sharing and security scans. The
//! answers' shapes are in artifact_answers.rs.

use utoipa::OpenApi;

use super::artifact_answers::*;

#[derive(OpenApi)]
#[openapi(paths(
    show_user_ticket,
    list_tickets,
    create_ticket,
    revoke_ticket,
    show_user_privileges,
    list_user_privileges,
    update_repo_roles_privilege,
    show_repository_roles_privilege,
    list_project_users,
    create_maven_repo,
    show_maven_info,
    create_artifactory,
    create_artifactory_no_slash,
    update_artifactory,
    update_artifactory_no_slash,
    delete_repository,
    create_docker_repositories,
    modify_repository,
    show_repository_info,
    list_all_repositories,
    show_repository,
    list_artifactory_storage_statistic,
    show_file_tree,
    list_artifactory_component,
    delete_artifact_file,
    batch_restore_repo,
    batch_delete_trashes,
    search_artifacts,
    search_by_checksum,
    show_storage,
    create_attention,
    list_attentions,
    list_maven_user,
    show_repo_user_info,
    reset_user_password,
    list_child_proxy_repositories_list,
    show_open_source_enabled,
    list_net_proxy,
    create_net_proxy,
    update_net_proxy,
    delete_net_proxy,
    list_domain_ip_config,
    create_domain_ip_config,
    update_domain_ip_config,
    delete_domain_ip_config,
    create_project_related_repository,
    show_project_related_repository,
    show_project_list,
    list_maven_list,
    list_sec_guard_list
))]
pub struct Doc;

#[utoipa::path(get, path = "/cloudartifact/v5/ticket", operation_id = "ShowUserTicket", tag = "artifact",
    summary = "A new ticket for the caller",
    responses((status = 200, description = "success", body = ShowUserTicketAnswer)))]
fn show_user_ticket() {}

#[utoipa::path(get, path = "/v1/{project_id}/tickets", operation_id = "ListTickets", tag = "artifact",
    summary = "Tickets of the account",
    params(("project_id" = String, Path, description = "IAM project id"),
        ("user_id" = Option<String>, Query, description = "holder id"),
        ("user_name" = Option<String>, Query, description = "holder name"),
        ("user_type" = Option<String>, Query, description = "holder type"),
        ("embed_id" = Option<String>, Query, description = "scope"),
        ("limit" = Option<i64>, Query, description = "0 to 1000, default 10"),
        ("offset" = Option<i64>, Query, description = "0 to 1000"),
        ("sort_key" = Option<String>, Query, description = "sort field"),
        ("sort_dir" = Option<String>, Query, description = "`asc` or `desc`")),
    responses((status = 200, description = "success", body = ListTicketsAnswer)))]
fn list_tickets() {}

#[utoipa::path(post, path = "/v1/{project_id}/tickets", operation_id = "CreateTicket", tag = "artifact",
    summary = "A ticket with a scope, lifetime and use count",
    params(("project_id" = String, Path, description = "IAM project id")),
    request_body = crate::http::artifact::tickets::CreateTicket,
    responses((status = 201, description = "success", body = CreateTicketAnswer)))]
fn create_ticket() {}

#[utoipa::path(delete, path = "/v1/{project_id}/tickets/{ticket}", operation_id = "RevokeTicket", tag = "artifact",
    summary = "Revoke a ticket",
    params(("project_id" = String, Path, description = "IAM project id"),
        ("ticket" = String, Path, description = "the ticket's SHA-256 (as `GET /v1/{project_id}/tickets` lists it)")),
    responses((status = 204, description = "success")))]
fn revoke_ticket() {}

#[utoipa::path(get, path = "/cloudartifact/v3/user/{project_id}/privileges", operation_id = "ShowUserPrivileges", tag = "artifact",
    summary = "The caller's merged privileges in a project (seed 002 spelling)",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    responses((status = 200, description = "success", body = ShowUserPrivilegesAnswer)))]
fn show_user_privileges() {}

#[utoipa::path(get, path = "/v5/user/{project_id}/privileges", operation_id = "ListUserPrivileges", tag = "artifact",
    summary = "The caller's merged privileges in a project",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)")),
    responses((status = 200, description = "success", body = ListUserPrivilegesAnswer)))]
fn list_user_privileges() {}

#[utoipa::path(put, path = "/cloudartifact/v5/repositories/{role_id}/privileges", operation_id = "UpdateRepoRolesPrivilege", tag = "artifact",
    summary = "Replace a built-in role's grants",
    params(("role_id" = String, Path, description = "role id")),
    request_body = crate::http::artifact::privileges::RolePrivileges,
    responses((status = 200, description = "success", body = UpdateRepoRolesPrivilegeAnswer)))]
fn update_repo_roles_privilege() {}

#[utoipa::path(get, path = "/cloudartifact/v5/repositories/{project_id}/{repo_id}/privileges", operation_id = "ShowRepositoryRolesPrivilege", tag = "artifact",
    summary = "Each role's operations on a repository",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("repo_id" = String, Path, description = "repository id or name")),
    responses((status = 200, description = "success", body = ShowRepositoryRolesPrivilegeAnswer)))]
fn show_repository_roles_privilege() {}

#[utoipa::path(get, path = "/cloudartifact/v5/projects/{project_id}/users", operation_id = "ListProjectUsers", tag = "artifact",
    summary = "A project's members and their operations",
    params(("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("repo_id" = Option<String>, Query, description = "repository id or name"),
        ("scene" = Option<String>, Query, description = "accepted, no effect"),
        ("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListProjectUsersAnswer)))]
fn list_project_users() {}

#[utoipa::path(post, path = "/cloudartifact/v5/maven/repositories", operation_id = "CreateMavenRepo", tag = "artifact",
    summary = "A Maven release and snapshot pair",
    request_body = crate::http::artifact::repositories::MavenRepoBody,
    responses((status = 200, description = "success", body = CreateMavenRepoAnswer)))]
fn create_maven_repo() {}

#[utoipa::path(get, path = "/cloudartifact/v5/maven/info", operation_id = "ShowMavenInfo", tag = "artifact",
    summary = "Maven repositories a build can use",
    params(("project_id" = Option<String>, Query, description = "CodeArts project id"),
        ("policy" = Option<String>, Query, description = "`release(s)` or `snapshot(s)`"),
        ("access" = Option<String>, Query, description = "`r` or `rw`"),
        ("default" = Option<bool>, Query, description = "accepted, no effect"),
        ("ids" = Option<String>, Query, description = "repository ids or names, comma-separated")),
    responses((status = 200, description = "success", body = ShowMavenInfoAnswer)))]
fn show_maven_info() {}

#[utoipa::path(post, path = "/cloudartifact/v5/artifact/", operation_id = "CreateArtifactory", tag = "artifact",
    summary = "A repository of a non-Maven format, or a remote or virtual one",
    request_body = crate::http::artifact::repositories::OtherRepoBody,
    responses((status = 200, description = "success", body = CreateArtifactoryAnswer)))]
fn create_artifactory() {}

#[utoipa::path(post, path = "/cloudartifact/v5/artifact", operation_id = "CreateArtifactoryNoSlash", tag = "artifact",
    summary = "As CreateArtifactory, without the trailing slash",
    request_body = crate::http::artifact::repositories::OtherRepoBody,
    responses((status = 200, description = "success", body = CreateArtifactoryNoSlashAnswer)))]
fn create_artifactory_no_slash() {}

#[utoipa::path(put, path = "/cloudartifact/v5/artifact/", operation_id = "UpdateArtifactory", tag = "artifact",
    summary = "A repository's settings",
    request_body = crate::http::artifact::repositories::UpdateRepoBody,
    responses((status = 200, description = "success", body = UpdateArtifactoryAnswer)))]
fn update_artifactory() {}

#[utoipa::path(put, path = "/cloudartifact/v5/artifact", operation_id = "UpdateArtifactoryNoSlash", tag = "artifact",
    summary = "As UpdateArtifactory, without the trailing slash",
    request_body = crate::http::artifact::repositories::UpdateRepoBody,
    responses((status = 200, description = "success", body = UpdateArtifactoryNoSlashAnswer)))]
fn update_artifactory_no_slash() {}

#[utoipa::path(post, path = "/cloudartifact/v5/repositories", operation_id = "CreateDockerRepositories", tag = "artifact",
    summary = "A hosted container image repository (docker2); display_name is its name",
    request_body = crate::http::artifact::docker_repos::DockerRepoBody,
    responses((status = 200, description = "success", body = CreateDockerRepositoriesAnswer)))]
fn create_docker_repositories() {}

#[utoipa::path(delete, path = "/cloudartifact/v5/repositories", operation_id = "DeleteRepository", tag = "artifact",
    summary = "Move repositories to the recycle bin",
    request_body = crate::http::artifact::repositories::DeleteReposBody,
    responses((status = 200, description = "success", body = DeleteRepositoryAnswer)))]
fn delete_repository() {}

#[utoipa::path(put, path = "/cloudartifact/v5/repositories/tab/{tab_id}", operation_id = "ModifyRepository", tag = "artifact",
    summary = "A Maven pair's shared settings",
    params(("tab_id" = String, Path, description = "a Maven pair's tab id")),
    request_body = crate::http::artifact::repositories::TabBody,
    responses((status = 200, description = "success", body = ModifyRepositoryAnswer)))]
fn modify_repository() {}

#[utoipa::path(get, path = "/cloudartifact/v5/repositories/{repo_id}", operation_id = "ShowRepositoryInfo", tag = "artifact",
    summary = "A repository",
    params(("repo_id" = String, Path, description = "repository id or name")),
    responses((status = 200, description = "success", body = ShowRepositoryInfoAnswer)))]
fn show_repository_info() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/repositories", operation_id = "ListAllRepositories", tag = "artifact",
    summary = "The repositories the caller may read",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
        ("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("group_id" = Option<String>, Query, description = "tab id"),
        ("sort" = Option<String>, Query, description = "`name`, `created_time`, `modified_time`, `-` first for descending"),
        ("qname" = Option<String>, Query, description = "part of the name"),
        ("type" = Option<String>, Query, description = "`hosted`, `remote`, `virtual` (`proxy`, `group`)"),
        ("format" = Option<String>, Query, description = "one format"),
        ("format_list" = Option<String>, Query, description = "formats, comma-separated"),
        ("is_recycle_bin" = Option<bool>, Query, description = "list the recycle bin"),
        ("is_need_paging" = Option<bool>, Query, description = "`false` answers every match"),
        ("in_project" = Option<bool>, Query, description = "`false` lists the whole account"),
        ("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListAllRepositoriesAnswer)))]
fn list_all_repositories() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_id}/repositories", operation_id = "ShowRepository", tag = "artifact",
    summary = "A repository with its storage figures",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
        ("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("repo_id" = String, Path, description = "repository id or name"),
        ("region" = Option<String>, Query, description = "accepted, no effect")),
    responses((status = 200, description = "success", body = ShowRepositoryAnswer)))]
fn show_repository() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/storageinfo/statistic", operation_id = "ListArtifactoryStorageStatistic", tag = "artifact",
    summary = "A repository's files per day",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
        ("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("repo" = String, Query, description = "repository id or name"),
        ("instance_id" = Option<String>, Query, description = "accepted, no effect"),
        ("start_time" = Option<String>, Query, description = "first day, `yyyy-MM-dd`"),
        ("end_time" = Option<String>, Query, description = "last day, `yyyy-MM-dd`")),
    responses((status = 200, description = "success", body = ListArtifactoryStorageStatisticAnswer)))]
fn list_artifactory_storage_statistic() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-tree", operation_id = "ShowFileTree", tag = "artifact",
    summary = "A directory's children",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
        ("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("repo_name" = String, Path, description = "repository name or id"),
        ("path" = Option<String>, Query, description = "directory, `/` for the root"),
        ("instance_id" = Option<String>, Query, description = "accepted, no effect"),
        ("is_recycle_bin" = Option<bool>, Query, description = "list the recycle bin instead")),
    responses((status = 200, description = "success", body = ShowFileTreeAnswer)))]
fn show_file_tree() {}

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/{repo_name}/file-detail", operation_id = "ListArtifactoryComponent", tag = "artifact",
    summary = "A file's facts and digests, or a directory's totals",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
        ("project_id" = String, Path, description = "CodeArts project id (32 letters or digits)"),
        ("repo_name" = String, Path, description = "repository name or id"),
        ("path" = Option<String>, Query, description = "the file or directory"),
        ("instance_id" = Option<String>, Query, description = "accepted, no effect"),
        ("format" = Option<String>, Query, description = "accepted, no effect")),
    responses((status = 200, description = "success", body = ListArtifactoryComponentAnswer)))]
fn list_artifactory_component() {}

#[utoipa::path(delete, path = "/cloudartifact/v5/file", operation_id = "DeleteArtifactFile", tag = "artifact",
    summary = "Move a file or directory to the recycle bin",
    request_body = crate::http::artifact::trash::PathBody,
    responses((status = 200, description = "success", body = DeleteArtifactFileAnswer)))]
fn delete_artifact_file() {}

#[utoipa::path(put, path = "/cloudartifact/v5/trashes", operation_id = "BatchRestoreRepo", tag = "artifact",
    summary = "Bring repositories or files back from the recycle bin",
    request_body = Vec<crate::http::artifact::trash::TrashItem>,
    responses((status = 200, description = "success", body = BatchRestoreRepoAnswer)))]
fn batch_restore_repo() {}

#[utoipa::path(delete, path = "/cloudartifact/v5/trashes", operation_id = "BatchDeleteTrashes", tag = "artifact",
    summary = "Delete from the recycle bin for good",
    request_body = Vec<crate::http::artifact::trash::TrashItem>,
    responses((status = 200, description = "success", body = BatchDeleteTrashesAnswer)))]
fn batch_delete_trashes() {}

#[utoipa::path(post, path = "/cloudartifact/v5/tree/repos/artifacts", operation_id = "SearchArtifacts", tag = "artifact",
    summary = "Files whose name contains a text",
    request_body = crate::http::artifact::files::SearchBody,
    responses((status = 200, description = "success", body = SearchArtifactsAnswer)))]
fn search_artifacts() {}

#[utoipa::path(get, path = "/cloudartifact/v5/search/checksum", operation_id = "SearchByChecksum", tag = "artifact",
    summary = "Files with a digest",
    params(("checksum" = String, Query, description = "MD5, SHA-1, SHA-256 or SHA-512, hex"),
        ("format" = Option<String>, Query, description = "one format"),
        ("in_project" = Option<bool>, Query, description = "only `project_id`"),
        ("project_id" = Option<String>, Query, description = "CodeArts project id"),
        ("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = SearchByChecksumAnswer)))]
fn search_by_checksum() {}

#[utoipa::path(get, path = "/cloudartifact/v5/storage", operation_id = "ShowStorage", tag = "artifact",
    summary = "Files and bytes the caller may read",
    params(("format_list" = Option<String>, Query, description = "formats, comma-separated"),
        ("in_project" = Option<bool>, Query, description = "accepted, no effect")),
    responses((status = 200, description = "success", body = ShowStorageAnswer)))]
fn show_storage() {}

#[utoipa::path(post, path = "/cloudartifact/v5/attention", operation_id = "CreateAttention", tag = "artifact",
    summary = "Follow or unfollow artifacts",
    request_body = crate::http::artifact::attention::AttentionBody,
    responses((status = 200, description = "success", body = CreateAttentionAnswer)))]
fn create_attention() {}

#[utoipa::path(get, path = "/cloudartifact/v5/attention/artifacts", operation_id = "ListAttentions", tag = "artifact",
    summary = "What the caller follows",
    params(("project_id" = Option<String>, Query, description = "CodeArts project id"),
        ("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListAttentionsAnswer)))]
fn list_attentions() {}

#[utoipa::path(get, path = "/cloudartifact/v5/repositories/users", operation_id = "ListMavenUser", tag = "artifact",
    summary = "The account's users",
    params(("user_name" = Option<String>, Query, description = "part of the name"),
        ("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListMavenUserAnswer)))]
fn list_maven_user() {}

#[utoipa::path(get, path = "/cloudartifact/v5/repositories/user/info", operation_id = "ShowRepoUserInfo", tag = "artifact",
    summary = "The caller's repo user",
    responses((status = 200, description = "success", body = ShowRepoUserInfoAnswer)))]
fn show_repo_user_info() {}

#[utoipa::path(post, path = "/cloudartifact/v5/maven/users/me", operation_id = "ResetUserPassword", tag = "artifact",
    summary = "A new repo password, shown once",
    responses((status = 200, description = "success", body = ResetUserPasswordAnswer)))]
fn reset_user_password() {}

#[utoipa::path(get, path = "/cloudartifact/v5/repositories/proxy", operation_id = "ListChildProxyRepositoriesList", tag = "artifact",
    summary = "A virtual repository's members",
    params(("repo_id" = String, Query, description = "virtual repository id or name"),
        ("type" = Option<String>, Query, description = "`remote` (default), `hosted` or `all`")),
    responses((status = 200, description = "success", body = ListChildProxyRepositoriesListAnswer)))]
fn list_child_proxy_repositories_list() {}

#[utoipa::path(get, path = "/cloudartifact/v5/opensource/enabled", operation_id = "ShowOpenSourceEnabled", tag = "artifact",
    summary = "Whether the account has a remote repository",
    responses((status = 200, description = "success", body = ShowOpenSourceEnabledAnswer)))]
fn show_open_source_enabled() {}

#[utoipa::path(get, path = "/cloudartifact/v5/tree/net/proxy", operation_id = "ListNetProxy", tag = "artifact",
    summary = "The account's outbound proxies",
    responses((status = 200, description = "success", body = ListNetProxyAnswer)))]
fn list_net_proxy() {}

#[utoipa::path(post, path = "/cloudartifact/v5/tree/net/proxy", operation_id = "CreateNetProxy", tag = "artifact",
    summary = "A new outbound proxy",
    request_body = crate::http::artifact::remote_repos::NetProxyBody,
    responses((status = 200, description = "success", body = CreateNetProxyAnswer)))]
fn create_net_proxy() {}

#[utoipa::path(put, path = "/cloudartifact/v5/tree/net/proxy/{proxy_id}", operation_id = "UpdateNetProxy", tag = "artifact",
    summary = "Change a proxy",
    params(("proxy_id" = String, Path, description = "proxy id")),
    request_body = crate::http::artifact::remote_repos::NetProxyBody,
    responses((status = 200, description = "success", body = UpdateNetProxyAnswer)))]
fn update_net_proxy() {}

#[utoipa::path(delete, path = "/cloudartifact/v5/tree/net/proxy/{proxy_id}", operation_id = "DeleteNetProxy", tag = "artifact",
    summary = "Delete a proxy",
    params(("proxy_id" = String, Path, description = "proxy id")),
    responses((status = 200, description = "success", body = DeleteNetProxyAnswer)))]
fn delete_net_proxy() {}

#[utoipa::path(get, path = "/cloudartifact/v5/domain/ipconfig", operation_id = "ListDomainIpConfig", tag = "artifact",
    summary = "The account's IP allow-list",
    params(("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListDomainIpConfigAnswer)))]
fn list_domain_ip_config() {}

#[utoipa::path(post, path = "/cloudartifact/v5/domain/ipconfig", operation_id = "CreateDomainIpConfig", tag = "artifact",
    summary = "A new allow-list rule",
    request_body = crate::http::ip_allow::RuleBody,
    responses((status = 200, description = "success", body = CreateDomainIpConfigAnswer)))]
fn create_domain_ip_config() {}

#[utoipa::path(put, path = "/cloudartifact/v5/domain/ipconfig/{id}", operation_id = "UpdateDomainIpConfig", tag = "artifact",
    summary = "Change a rule's value",
    params(("id" = String, Path, description = "id")),
    request_body = crate::http::ip_allow::RuleBody,
    responses((status = 200, description = "success", body = UpdateDomainIpConfigAnswer)))]
fn update_domain_ip_config() {}

#[utoipa::path(delete, path = "/cloudartifact/v5/domain/ipconfig/{id}", operation_id = "DeleteDomainIpConfig", tag = "artifact",
    summary = "Delete a rule",
    params(("id" = String, Path, description = "id")),
    responses((status = 200, description = "success", body = DeleteDomainIpConfigAnswer)))]
fn delete_domain_ip_config() {}

#[utoipa::path(post, path = "/cloudartifact/v5/maven/project/repository", operation_id = "CreateProjectRelatedRepository", tag = "artifact",
    summary = "The repositories shared into a project",
    request_body = crate::http::artifact::sharing::RelatedBody,
    responses((status = 200, description = "success", body = CreateProjectRelatedRepositoryAnswer)))]
fn create_project_related_repository() {}

#[utoipa::path(get, path = "/v5/maven/project/repository", operation_id = "ShowProjectRelatedRepository", tag = "artifact",
    summary = "The caller's projects with their repository counts",
    params(("search_name" = Option<String>, Query, description = "part of the name"),
        ("repo_id" = Option<String>, Query, description = "repository id or name"),
        ("offset" = Option<i64>, Query, description = "rows to skip"),
        ("limit" = Option<i64>, Query, description = "rows to answer")),
    responses((status = 200, description = "success", body = ShowProjectRelatedRepositoryAnswer)))]
fn show_project_related_repository() {}

#[utoipa::path(get, path = "/cloudartifact/v5/maven/repository/list", operation_id = "ShowProjectList", tag = "artifact",
    summary = "A project's repositories, own and shared in",
    params(("project_id" = String, Query, description = "CodeArts project id")),
    responses((status = 200, description = "success", body = ShowProjectListAnswer)))]
fn show_project_list() {}

#[utoipa::path(get, path = "/cloudartifact/v5/maven/list", operation_id = "ListMavenList", tag = "artifact",
    summary = "A project's Maven repositories",
    params(("project_id" = String, Query, description = "CodeArts project id"),
        ("default" = Option<bool>, Query, description = "accepted, no effect"),
        ("policy" = Option<String>, Query, description = "`release(s)` or `snapshot`"),
        ("access" = Option<String>, Query, description = "`r` or `rw`"),
        ("repo_ids" = Option<String>, Query, description = "ids or names, comma-separated")),
    responses((status = 200, description = "success", body = ListMavenListAnswer)))]
fn list_maven_list() {}

#[utoipa::path(get, path = "/cloudartifact/v5/sec-guard/task/list", operation_id = "ListSecGuardList", tag = "artifact",
    summary = "Security scans",
    params(("date" = Option<i64>, Query, description = "the last 1 to 365 days"),
        ("page_no" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ListSecGuardListAnswer)))]
fn list_sec_guard_list() {}
