//! The CodeArts Artifact management API: tickets (seeds 000/001), privileges (seed 002), self-hosted
//! repository users (seed 003), and repositories with their files, recycle bin and storage figures.

pub(crate) mod access;
pub(crate) mod attention;
pub(crate) mod docker_repos;
pub(crate) mod files;
pub mod privileges;
pub(crate) mod remote_repos;
pub(crate) mod repo_access;
pub mod repositories;
pub(crate) mod sharing;
pub(crate) mod stats;
pub(crate) mod tickets;
pub(crate) mod trash;
pub(crate) mod users;

use axum::routing::{delete, get, post, put};
use axum::Router;

use super::app::AppState;

/// Ticket management: issuing, listing and revoking tickets, which tickets themselves may not do.
pub fn ticket_router() -> Router<AppState> {
    Router::new()
        .route("/cloudartifact/v5/ticket", get(tickets::issue_own))
        .route(
            "/v1/{project_id}/tickets",
            get(tickets::list).post(tickets::create),
        )
        .route("/v1/{project_id}/tickets/{ticket}", delete(tickets::revoke))
}

pub fn router() -> Router<AppState> {
    // matchit wants one parameter name per position, so paths sharing a prefix share their names
    // (`{a}`, `{b}`, `{c}`) and each handler reads them positionally.
    Router::new()
        .route(
            "/cloudartifact/v3/user/{project_id}/privileges",
            get(privileges::show_v3),
        )
        .route("/v5/user/{project_id}/privileges", get(privileges::show_v5))
        // Repositories.
        .route(
            "/cloudartifact/v5/maven/repositories",
            post(repositories::create_maven),
        )
        .route(
            "/cloudartifact/v5/maven/info",
            get(repositories::show_maven_info),
        )
        .route(
            "/cloudartifact/v5/artifact/",
            post(repositories::create_other).put(repositories::update_other),
        )
        .route(
            "/cloudartifact/v5/artifact",
            post(repositories::create_other).put(repositories::update_other),
        )
        .route(
            "/cloudartifact/v5/repositories",
            delete(repositories::delete_to_trash).post(docker_repos::create),
        )
        .route("/cloudartifact/v5/repositories/users", get(users::list))
        .route(
            "/cloudartifact/v5/repositories/proxy",
            get(remote_repos::child_proxies),
        )
        .route(
            "/cloudartifact/v5/opensource/enabled",
            get(remote_repos::open_source_enabled),
        )
        .route("/cloudartifact/v5/attention", post(attention::create))
        .route(
            "/cloudartifact/v5/attention/artifacts",
            get(attention::list),
        )
        .route(
            "/cloudartifact/v5/domain/ipconfig",
            get(crate::http::ip_allow::list).post(crate::http::ip_allow::create),
        )
        .route(
            "/cloudartifact/v5/domain/ipconfig/{id}",
            put(crate::http::ip_allow::update).delete(crate::http::ip_allow::delete),
        )
        .route(
            "/cloudartifact/v5/tree/net/proxy",
            get(remote_repos::list_net_proxies).post(remote_repos::create_net_proxy),
        )
        .route(
            "/cloudartifact/v5/tree/net/proxy/{proxy_id}",
            put(remote_repos::update_net_proxy).delete(remote_repos::delete_net_proxy),
        )
        .route(
            "/cloudartifact/v5/repositories/user/info",
            get(repo_access::show_user_info),
        )
        .route(
            "/cloudartifact/v5/repositories/tab/{a}",
            put(repositories::modify_tab),
        )
        .route(
            "/cloudartifact/v5/repositories/{a}",
            get(repositories::show_info),
        )
        .route(
            "/cloudartifact/v5/repositories/{a}/privileges",
            put(privileges::update_role_grants),
        )
        .route(
            "/cloudartifact/v5/repositories/{a}/{b}/privileges",
            get(repo_access::show_repo_roles),
        )
        .route(
            "/cloudartifact/v5/maven/users/me",
            post(repo_access::reset_password),
        )
        .route(
            "/cloudartifact/v5/projects/{a}/users",
            get(repo_access::list_project_users),
        )
        // Tenant-scoped paths.
        .route(
            "/cloudartifact/v5/{a}/{b}/repositories",
            get(repositories::list_all),
        )
        .route(
            "/cloudartifact/v5/{a}/{b}/storageinfo/statistic",
            get(stats::storage_statistic),
        )
        .route(
            "/cloudartifact/v5/{a}/{b}/{c}/repositories",
            get(repositories::show_basic),
        )
        .route(
            "/cloudartifact/v5/{a}/{b}/{c}/file-tree",
            get(files::file_tree),
        )
        .route(
            "/cloudartifact/v5/{a}/{b}/{c}/file-detail",
            get(files::file_detail),
        )
        // Files, the recycle bin, searches, storage.
        .route("/cloudartifact/v5/file", delete(trash::delete_file))
        .route(
            "/cloudartifact/v5/trashes",
            put(trash::restore).delete(trash::purge),
        )
        .route(
            "/cloudartifact/v5/tree/repos/artifacts",
            post(files::search_artifacts),
        )
        .route(
            "/cloudartifact/v5/search/checksum",
            get(files::search_by_checksum),
        )
        .route("/cloudartifact/v5/storage", get(stats::show_storage))
        // Repositories shared into other projects.
        .route(
            "/cloudartifact/v5/maven/project/repository",
            post(sharing::create_related),
        )
        .route("/v5/maven/project/repository", get(sharing::show_related))
        .route(
            "/cloudartifact/v5/maven/repository/list",
            get(sharing::project_list),
        )
        .route("/cloudartifact/v5/maven/list", get(sharing::maven_list))
        .route(
            "/cloudartifact/v5/sec-guard/task/list",
            get(crate::http::sec_guard::list),
        )
        .route(
            "/cloudartifact/v5/{a}/{b}/{c}/{d}/audit",
            get(crate::http::audit::show),
        )
}
