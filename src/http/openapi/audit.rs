//! The CodeArts Artifact audit log.

use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(paths(show_audit))]
pub struct Doc;

#[utoipa::path(get, path = "/cloudartifact/v5/{tenant_id}/{project_id}/{module}/{repo}/audit", operation_id = "ShowAudit", tag = "audit",
    summary = "Recorded changes",
    params(("tenant_id" = String, Path, description = "account (domain) id"),
        ("project_id" = String, Path, description = "CodeArts project id, or `all`"),
        ("module" = String, Path, description = "repository format, or `all`"),
        ("repo" = String, Path, description = "repository name, or `all`"),
        ("user_id" = Option<String>, Query, description = "operator id"),
        ("instance_id" = Option<String>, Query, description = "artifact id"),
        ("page_num" = Option<i64>, Query, description = "page number, from 1"),
        ("page_size" = Option<i64>, Query, description = "page size, 1 to 100")),
    responses((status = 200, description = "success", body = ShowAuditAnswer)))]
fn show_audit() {}

// ---- answers, as the handlers build them ----

envelope!(ShowAuditAnswer, ShowAuditResult);

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowAuditAuditInfoList {
    data: String,
    id: String,
    info: String,
    #[serde(rename = "ipSource")]
    ip_source: String,
    module: String,
    operation: String,
    operator: String,
    #[serde(rename = "operatorNickName")]
    operator_nick_name: String,
    #[serde(rename = "operatorTenantName")]
    operator_tenant_name: String,
    reason: String,
    time: String,
    #[serde(rename = "userAgent")]
    user_agent: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShowAuditResult {
    #[serde(rename = "auditInfoList")]
    audit_info_list: Vec<ShowAuditAuditInfoList>,
    total: i64,
}
