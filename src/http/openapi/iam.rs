//! IAM: tokens, IAM projects, users, groups and memberships, access keys, custom policies and their
//! attachment to groups, at Keystone's and IAM 3.0's paths.

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(paths(
    keystone_create_user_token_by_password,
    keystone_validate_token,
    keystone_list_auth_domains,
    keystone_list_projects,
    keystone_create_project,
    keystone_list_users,
    keystone_create_user,
    keystone_show_user,
    keystone_update_user_by_admin,
    keystone_delete_user,
    keystone_list_groups_for_user,
    keystone_list_projects_for_user,
    create_user,
    show_user,
    update_user,
    keystone_list_groups,
    keystone_create_group,
    keystone_show_group,
    keystone_update_group,
    keystone_delete_group,
    keystone_list_users_for_group_by_admin,
    keystone_add_user_to_group,
    keystone_check_user_in_group,
    keystone_remove_user_from_group,
    list_permanent_access_keys,
    create_permanent_access_key,
    show_permanent_access_key,
    update_permanent_access_key,
    delete_permanent_access_key,
    list_custom_policies,
    create_cloud_service_custom_policy,
    show_custom_policy,
    update_cloud_service_custom_policy,
    delete_custom_policy,
    keystone_list_domain_permissions_for_group,
    keystone_associate_group_with_domain_permission,
    keystone_check_domain_permission_for_group,
    keystone_remove_domain_permission_from_group
))]
pub struct Doc;

#[utoipa::path(post, path = "/v3/auth/tokens", operation_id = "KeystoneCreateUserTokenByPassword", tag = "iam",
    summary = "A token (in `X-Subject-Token`) for a user name and password",
    params(("nocatalog" = Option<String>, Query, description = "accepted")),
    request_body = crate::http::iam::tokens::TokenBody,
    responses((status = 201, description = "the token's facts; the token itself is in `X-Subject-Token`",
        body = KeystoneCreateUserTokenByPasswordAnswer,
        headers(("X-Subject-Token" = String, description = "the token")))))]
fn keystone_create_user_token_by_password() {}

#[utoipa::path(get, path = "/v3/auth/tokens", operation_id = "KeystoneValidateToken", tag = "iam",
    summary = "Validate the token in `X-Subject-Token`",
    params(("X-Subject-Token" = String, Header, description = "the token to validate"),
        ("nocatalog" = Option<String>, Query, description = "accepted")),
    responses((status = 200, description = "the token's facts", body = KeystoneCreateUserTokenByPasswordAnswer,
        headers(("X-Subject-Token" = String, description = "the token validated")))))]
fn keystone_validate_token() {}

#[utoipa::path(get, path = "/v3/auth/domains", operation_id = "KeystoneListAuthDomains", tag = "iam",
    summary = "The caller's domain",
    responses((status = 200, description = "success", body = KeystoneListAuthDomainsAnswer)))]
fn keystone_list_auth_domains() {}

#[utoipa::path(get, path = "/v3/projects", operation_id = "KeystoneListProjects", tag = "iam",
    summary = "The domain's IAM projects",
    params(("name" = Option<String>, Query, description = "exact name"),
        ("domain_id" = Option<String>, Query, description = "domain id"),
        ("parent_id" = Option<String>, Query, description = "parent id"),
        ("enabled" = Option<bool>, Query, description = "enabled"),
        ("is_domain" = Option<bool>, Query, description = "is a domain"),
        ("page" = Option<i64>, Query, description = "page, from 1"),
        ("per_page" = Option<i64>, Query, description = "1 to 5000")),
    responses((status = 200, description = "success", body = KeystoneListProjectsAnswer)))]
fn keystone_list_projects() {}

#[utoipa::path(post, path = "/v3/projects", operation_id = "KeystoneCreateProject", tag = "iam",
    summary = "An IAM project",
    request_body = crate::http::iam::projects::CreateBody,
    responses((status = 201, description = "success", body = KeystoneCreateProjectAnswer)))]
fn keystone_create_project() {}

#[utoipa::path(get, path = "/v3/users", operation_id = "KeystoneListUsers", tag = "iam",
    summary = "The domain's users",
    params(("name" = Option<String>, Query, description = "exact name"),
        ("domain_id" = Option<String>, Query, description = "domain id"),
        ("enabled" = Option<bool>, Query, description = "enabled"),
        ("password_expires_at" = Option<String>, Query, description = "filter")),
    responses((status = 200, description = "success", body = KeystoneListUsersAnswer)))]
fn keystone_list_users() {}

#[utoipa::path(post, path = "/v3/users", operation_id = "KeystoneCreateUser", tag = "iam",
    summary = "A user",
    request_body = crate::http::iam::users::UserBody,
    responses((status = 201, description = "success", body = KeystoneCreateUserAnswer)))]
fn keystone_create_user() {}

#[utoipa::path(get, path = "/v3/users/{user_id}", operation_id = "KeystoneShowUser", tag = "iam",
    summary = "A user",
    params(("user_id" = String, Path, description = "IAM user id")),
    responses((status = 200, description = "success", body = KeystoneCreateUserAnswer)))]
fn keystone_show_user() {}

#[utoipa::path(patch, path = "/v3/users/{user_id}", operation_id = "KeystoneUpdateUserByAdmin", tag = "iam",
    summary = "Change a user",
    params(("user_id" = String, Path, description = "IAM user id")),
    request_body = crate::http::iam::users::UserBody,
    responses((status = 200, description = "success", body = KeystoneCreateUserAnswer)))]
fn keystone_update_user_by_admin() {}

#[utoipa::path(delete, path = "/v3/users/{user_id}", operation_id = "KeystoneDeleteUser", tag = "iam",
    summary = "Delete a user",
    params(("user_id" = String, Path, description = "IAM user id")),
    responses((status = 204, description = "success")))]
fn keystone_delete_user() {}

#[utoipa::path(get, path = "/v3/users/{user_id}/groups", operation_id = "KeystoneListGroupsForUser", tag = "iam",
    summary = "A user's groups",
    params(("user_id" = String, Path, description = "IAM user id")),
    responses((status = 200, description = "success", body = KeystoneListGroupsForUserAnswer)))]
fn keystone_list_groups_for_user() {}

#[utoipa::path(get, path = "/v3/users/{user_id}/projects", operation_id = "KeystoneListProjectsForUser", tag = "iam",
    summary = "A user's IAM projects",
    params(("user_id" = String, Path, description = "IAM user id")),
    responses((status = 200, description = "success", body = KeystoneListProjectsAnswer)))]
fn keystone_list_projects_for_user() {}

#[utoipa::path(post, path = "/v3.0/OS-USER/users", operation_id = "CreateUser", tag = "iam",
    summary = "A user (IAM 3.0)",
    request_body = crate::http::iam::users::UserBody,
    responses((status = 201, description = "success", body = CreateUserAnswer)))]
fn create_user() {}

#[utoipa::path(get, path = "/v3.0/OS-USER/users/{user_id}", operation_id = "ShowUser", tag = "iam",
    summary = "A user (IAM 3.0)",
    params(("user_id" = String, Path, description = "IAM user id")),
    responses((status = 200, description = "success", body = CreateUserAnswer)))]
fn show_user() {}

#[utoipa::path(put, path = "/v3.0/OS-USER/users/{user_id}", operation_id = "UpdateUser", tag = "iam",
    summary = "Change a user (IAM 3.0)",
    params(("user_id" = String, Path, description = "IAM user id")),
    request_body = crate::http::iam::users::UserBody,
    responses((status = 200, description = "success", body = CreateUserAnswer)))]
fn update_user() {}

#[utoipa::path(get, path = "/v3/groups", operation_id = "KeystoneListGroups", tag = "iam",
    summary = "The domain's groups",
    params(("name" = Option<String>, Query, description = "exact name"),
        ("domain_id" = Option<String>, Query, description = "domain id")),
    responses((status = 200, description = "success", body = KeystoneListGroupsForUserAnswer)))]
fn keystone_list_groups() {}

#[utoipa::path(post, path = "/v3/groups", operation_id = "KeystoneCreateGroup", tag = "iam",
    summary = "A group",
    request_body = crate::http::iam::groups::GroupBody,
    responses((status = 201, description = "success", body = KeystoneCreateGroupAnswer)))]
fn keystone_create_group() {}

#[utoipa::path(get, path = "/v3/groups/{group_id}", operation_id = "KeystoneShowGroup", tag = "iam",
    summary = "A group",
    params(("group_id" = String, Path, description = "IAM group id")),
    responses((status = 200, description = "success", body = KeystoneShowGroupAnswer)))]
fn keystone_show_group() {}

#[utoipa::path(patch, path = "/v3/groups/{group_id}", operation_id = "KeystoneUpdateGroup", tag = "iam",
    summary = "Change a group",
    params(("group_id" = String, Path, description = "IAM group id")),
    request_body = crate::http::iam::groups::GroupBody,
    responses((status = 200, description = "success", body = KeystoneCreateGroupAnswer)))]
fn keystone_update_group() {}

#[utoipa::path(delete, path = "/v3/groups/{group_id}", operation_id = "KeystoneDeleteGroup", tag = "iam",
    summary = "Delete a group",
    params(("group_id" = String, Path, description = "IAM group id")),
    responses((status = 204, description = "success")))]
fn keystone_delete_group() {}

#[utoipa::path(get, path = "/v3/groups/{group_id}/users", operation_id = "KeystoneListUsersForGroupByAdmin", tag = "iam",
    summary = "A group's users",
    params(("group_id" = String, Path, description = "IAM group id")),
    responses((status = 200, description = "success", body = KeystoneListUsersForGroupByAdminAnswer)))]
fn keystone_list_users_for_group_by_admin() {}

#[utoipa::path(put, path = "/v3/groups/{group_id}/users/{user_id}", operation_id = "KeystoneAddUserToGroup", tag = "iam",
    summary = "Add a user to a group",
    params(("group_id" = String, Path, description = "IAM group id"),
        ("user_id" = String, Path, description = "IAM user id")),
    responses((status = 204, description = "success")))]
fn keystone_add_user_to_group() {}

#[utoipa::path(head, path = "/v3/groups/{group_id}/users/{user_id}", operation_id = "KeystoneCheckUserInGroup", tag = "iam",
    summary = "204 if the user is a member",
    params(("group_id" = String, Path, description = "IAM group id"),
        ("user_id" = String, Path, description = "IAM user id")),
    responses((status = 204, description = "success")))]
fn keystone_check_user_in_group() {}

#[utoipa::path(delete, path = "/v3/groups/{group_id}/users/{user_id}", operation_id = "KeystoneRemoveUserFromGroup", tag = "iam",
    summary = "Remove a user from a group",
    params(("group_id" = String, Path, description = "IAM group id"),
        ("user_id" = String, Path, description = "IAM user id")),
    responses((status = 204, description = "success")))]
fn keystone_remove_user_from_group() {}

#[utoipa::path(get, path = "/v3.0/OS-CREDENTIAL/credentials", operation_id = "ListPermanentAccessKeys", tag = "iam",
    summary = "Access keys",
    params(("user_id" = Option<String>, Query, description = "IAM user id")),
    responses((status = 200, description = "success", body = ListPermanentAccessKeysAnswer)))]
fn list_permanent_access_keys() {}

#[utoipa::path(post, path = "/v3.0/OS-CREDENTIAL/credentials", operation_id = "CreatePermanentAccessKey", tag = "iam",
    summary = "An access key; the secret is shown once",
    request_body = crate::http::iam::credentials::CreateBody,
    responses((status = 201, description = "success", body = CreatePermanentAccessKeyAnswer)))]
fn create_permanent_access_key() {}

#[utoipa::path(get, path = "/v3.0/OS-CREDENTIAL/credentials/{access_key}", operation_id = "ShowPermanentAccessKey", tag = "iam",
    summary = "An access key",
    params(("access_key" = String, Path, description = "access key id")),
    responses((status = 200, description = "success", body = ShowPermanentAccessKeyAnswer)))]
fn show_permanent_access_key() {}

#[utoipa::path(put, path = "/v3.0/OS-CREDENTIAL/credentials/{access_key}", operation_id = "UpdatePermanentAccessKey", tag = "iam",
    summary = "Change an access key's status or description",
    params(("access_key" = String, Path, description = "access key id")),
    request_body = crate::http::iam::credentials::UpdateBody,
    responses((status = 200, description = "success", body = ShowPermanentAccessKeyAnswer)))]
fn update_permanent_access_key() {}

#[utoipa::path(delete, path = "/v3.0/OS-CREDENTIAL/credentials/{access_key}", operation_id = "DeletePermanentAccessKey", tag = "iam",
    summary = "Delete an access key",
    params(("access_key" = String, Path, description = "access key id")),
    responses((status = 204, description = "success")))]
fn delete_permanent_access_key() {}

#[utoipa::path(get, path = "/v3.0/OS-ROLE/roles", operation_id = "ListCustomPolicies", tag = "iam",
    summary = "Custom policies",
    params(("page" = Option<i64>, Query, description = "page, from 1 (with per_page)"),
        ("per_page" = Option<i64>, Query, description = "1 to 300 (with page)")),
    responses((status = 200, description = "success", body = ListCustomPoliciesAnswer)))]
fn list_custom_policies() {}

#[utoipa::path(post, path = "/v3.0/OS-ROLE/roles", operation_id = "CreateCloudServiceCustomPolicy", tag = "iam",
    summary = "A custom policy",
    request_body = crate::http::iam::policies::RoleBody,
    responses((status = 201, description = "success", body = CreateCloudServiceCustomPolicyAnswer)))]
fn create_cloud_service_custom_policy() {}

#[utoipa::path(get, path = "/v3.0/OS-ROLE/roles/{role_id}", operation_id = "ShowCustomPolicy", tag = "iam",
    summary = "A custom policy",
    params(("role_id" = String, Path, description = "role id")),
    responses((status = 200, description = "success", body = ShowCustomPolicyAnswer)))]
fn show_custom_policy() {}

#[utoipa::path(patch, path = "/v3.0/OS-ROLE/roles/{role_id}", operation_id = "UpdateCloudServiceCustomPolicy", tag = "iam",
    summary = "Change a custom policy",
    params(("role_id" = String, Path, description = "role id")),
    request_body = crate::http::iam::policies::RoleBody,
    responses((status = 200, description = "success", body = CreateCloudServiceCustomPolicyAnswer)))]
fn update_cloud_service_custom_policy() {}

#[utoipa::path(delete, path = "/v3.0/OS-ROLE/roles/{role_id}", operation_id = "DeleteCustomPolicy", tag = "iam",
    summary = "Delete a custom policy",
    params(("role_id" = String, Path, description = "role id")),
    responses((status = 200, description = "success", body = DeleteCustomPolicyAnswer)))]
fn delete_custom_policy() {}

#[utoipa::path(get, path = "/v3/domains/{domain_id}/groups/{group_id}/roles", operation_id = "KeystoneListDomainPermissionsForGroup", tag = "iam",
    summary = "A group's policies",
    params(("domain_id" = String, Path, description = "account (domain) id"),
        ("group_id" = String, Path, description = "IAM group id")),
    responses((status = 200, description = "success", body = KeystoneListDomainPermissionsForGroupAnswer)))]
fn keystone_list_domain_permissions_for_group() {}

#[utoipa::path(put, path = "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", operation_id = "KeystoneAssociateGroupWithDomainPermission", tag = "iam",
    summary = "Attach a policy to a group",
    params(("domain_id" = String, Path, description = "account (domain) id"),
        ("group_id" = String, Path, description = "IAM group id"),
        ("role_id" = String, Path, description = "role id")),
    responses((status = 204, description = "success")))]
fn keystone_associate_group_with_domain_permission() {}

#[utoipa::path(head, path = "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", operation_id = "KeystoneCheckDomainPermissionForGroup", tag = "iam",
    summary = "204 if the policy is attached",
    params(("domain_id" = String, Path, description = "account (domain) id"),
        ("group_id" = String, Path, description = "IAM group id"),
        ("role_id" = String, Path, description = "role id")),
    responses((status = 204, description = "success")))]
fn keystone_check_domain_permission_for_group() {}

#[utoipa::path(delete, path = "/v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}", operation_id = "KeystoneRemoveDomainPermissionFromGroup", tag = "iam",
    summary = "Detach a policy from a group",
    params(("domain_id" = String, Path, description = "account (domain) id"),
        ("group_id" = String, Path, description = "IAM group id"),
        ("role_id" = String, Path, description = "role id")),
    responses((status = 204, description = "success")))]
fn keystone_remove_domain_permission_from_group() {}

// ---- answers, as the handlers build them ----

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdName {
    id: String,
    name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateUserTokenByPasswordUser {
    domain: IdName,
    id: String,
    name: String,
    password_expires_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateUserTokenByPasswordToken {
    /// Always empty: arca has no service catalog.
    catalog: Vec<serde_json::Value>,
    /// A domain-scoped token's domain.
    domain: Option<IdName>,
    /// A project-scoped token's project.
    project: Option<TokenProject>,
    expires_at: String,
    issued_at: String,
    methods: Vec<String>,
    /// Always empty: what a user may do follows from their groups' policies.
    roles: Vec<serde_json::Value>,
    user: KeystoneCreateUserTokenByPasswordUser,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateUserTokenByPasswordAnswer {
    token: KeystoneCreateUserTokenByPasswordToken,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SelfLink {
    #[serde(rename = "self")]
    self_: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListAuthDomainsDomains {
    description: String,
    enabled: bool,
    id: String,
    links: SelfLink,
    name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionLinks {
    next: Option<String>,
    previous: Option<String>,
    #[serde(rename = "self")]
    self_: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListAuthDomainsAnswer {
    domains: Vec<KeystoneListAuthDomainsDomains>,
    links: CollectionLinks,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListProjectsProjects {
    description: String,
    domain_id: String,
    enabled: bool,
    id: String,
    is_domain: bool,
    links: CollectionLinks,
    name: String,
    parent_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListProjectsAnswer {
    links: CollectionLinks,
    projects: Vec<KeystoneListProjectsProjects>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateProjectProject {
    description: String,
    domain_id: String,
    enabled: bool,
    id: String,
    is_domain: bool,
    links: SelfLink,
    name: String,
    parent_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateProjectAnswer {
    project: KeystoneCreateProjectProject,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListUsersUsers {
    access_mode: String,
    description: String,
    domain_id: String,
    enabled: bool,
    id: String,
    last_project_id: Option<String>,
    links: CollectionLinks,
    name: String,
    password_expires_at: Option<String>,
    pwd_status: bool,
    pwd_strength: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListUsersAnswer {
    links: CollectionLinks,
    users: Vec<KeystoneListUsersUsers>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateUserUser {
    access_mode: String,
    description: String,
    domain_id: String,
    enabled: bool,
    id: String,
    last_project_id: Option<String>,
    links: CollectionLinks,
    name: String,
    password_expires_at: Option<String>,
    pwd_status: bool,
    pwd_strength: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateUserAnswer {
    user: KeystoneCreateUserUser,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListGroupsForUserGroups {
    create_time: i64,
    description: String,
    domain_id: String,
    id: String,
    links: CollectionLinks,
    name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListGroupsForUserAnswer {
    groups: Vec<KeystoneListGroupsForUserGroups>,
    links: CollectionLinks,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserUser {
    access_mode: String,
    areacode: String,
    create_time: String,
    description: String,
    domain_id: String,
    email: String,
    enabled: bool,
    id: String,
    is_domain_owner: bool,
    last_login_time: Option<String>,
    last_pwd_auth_time: Option<String>,
    links: SelfLink,
    modify_pwd_time: String,
    name: String,
    password_expires_at: Option<String>,
    phone: String,
    pwd_create_time: String,
    pwd_status: bool,
    pwd_strength: String,
    update_time: String,
    xuser_id: String,
    xuser_type: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserAnswer {
    user: CreateUserUser,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateGroupGroup {
    create_time: i64,
    description: String,
    domain_id: String,
    id: String,
    links: SelfLink,
    name: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneCreateGroupAnswer {
    group: KeystoneCreateGroupGroup,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneShowGroupAnswer {
    group: KeystoneListGroupsForUserGroups,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListUsersForGroupByAdminAnswer {
    links: CollectionLinks,
    users: Vec<KeystoneCreateUserUser>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPermanentAccessKeysCredentials {
    access: String,
    create_time: String,
    description: String,
    status: String,
    user_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPermanentAccessKeysAnswer {
    credentials: Vec<ListPermanentAccessKeysCredentials>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePermanentAccessKeyCredential {
    access: String,
    create_time: String,
    description: String,
    secret: String,
    status: String,
    user_id: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePermanentAccessKeyAnswer {
    credential: CreatePermanentAccessKeyCredential,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowPermanentAccessKeyAnswer {
    credential: ListPermanentAccessKeysCredentials,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCustomPoliciesStatement {
    #[serde(rename = "Action")]
    action: Vec<String>,
    #[serde(rename = "Effect")]
    effect: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCustomPoliciesPolicy {
    #[serde(rename = "Statement")]
    statement: Vec<ListCustomPoliciesStatement>,
    #[serde(rename = "Version")]
    version: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCustomPoliciesRoles {
    catalog: String,
    created_time: String,
    description: String,
    description_cn: String,
    display_name: String,
    domain_id: String,
    id: String,
    links: SelfLink,
    name: String,
    policy: ListCustomPoliciesPolicy,
    #[serde(rename = "type")]
    type_: String,
    updated_time: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCustomPoliciesAnswer {
    links: CollectionLinks,
    roles: Vec<ListCustomPoliciesRoles>,
    total_number: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCloudServiceCustomPolicyAnswer {
    role: ListCustomPoliciesRoles,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowCustomPolicyRole {
    catalog: String,
    created_time: String,
    description: String,
    description_cn: String,
    display_name: String,
    domain_id: String,
    id: String,
    links: SelfLink,
    name: String,
    policy: ListCustomPoliciesPolicy,
    references: i64,
    #[serde(rename = "type")]
    type_: String,
    updated_time: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowCustomPolicyAnswer {
    role: ShowCustomPolicyRole,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteCustomPolicyAnswer {
    message: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeystoneListDomainPermissionsForGroupAnswer {
    links: CollectionLinks,
    roles: Vec<ListCustomPoliciesRoles>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenProject {
    id: String,
    name: String,
    domain: IdName,
}
