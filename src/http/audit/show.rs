//! `GET /cloudartifact/v5/{tenant_id}/{project_id}/{module}/{repo}/audit` (show_audit): the account's
//! audit entries, newest first (`AuditResult` of `AuditDO`).

use axum::extract::{Path, State};
use axum::Json;
use chrono::{FixedOffset, TimeZone};
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::http::app::AppState;
use crate::http::artifact::repositories::require_tenant;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::QueryParams;
use crate::store::audit::{self, AuditEntry, AuditFilter};
use crate::store::projects;

/// Reading the audit log: the account's root user, or a user whose policies allow this.
pub const LIST_AUDIT: &str = "codeartsartifact:audit:list";

/// The path value that matches every project, module or repository.
const ALL: &str = "all";

fn is_token(value: &str, max: usize) -> bool {
    !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A path or query filter: `None` for `all` (or absent), else the value once it has a plausible shape.
fn filter(name: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value {
        None | Some(ALL) => Ok(None),
        Some(v) if is_token(v, max) => Ok(Some(v.to_string())),
        Some(_) => Err(ApiError::invalid(
            name,
            format!("must be `all` or 1..{max} of A-Z a-z 0-9 - _ ."),
        )),
    }
}

fn view(e: &AuditEntry, offset: &FixedOffset) -> Value {
    let time = offset
        .timestamp_millis_opt(e.at_ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default();
    json!({
        "id": e.id,
        "module": e.module,
        "operation": e.operation,
        "time": time,
        "info": e.info,
        "data": e.data,
        "reason": e.reason,
        "userAgent": e.user_agent,
        "operator": e.operator_name,
        "operatorNickName": e.operator_name,
        "operatorTenantName": e.tenant_name,
        "ipSource": e.ip,
    })
}

pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path((tenant_id, project, module, repo)): Path<(String, String, String, String)>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    require_tenant(&principal, &tenant_id)?;
    let project_id = filter("project_id", Some(&project), 64)?;
    let module = filter("module", Some(&module), 32)?;
    let repo = filter("repo", Some(&repo), 64)?;
    let operator_id = filter("user_id", query.string("user_id", 64)?.as_deref(), 64)?;
    let id = filter(
        "instance_id",
        query.string("instance_id", 64)?.as_deref(),
        64,
    )?;
    let page_num = query.int("page_num", 1..=2_147_483_647, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    state.require(&principal, LIST_AUDIT).await?;

    let filter = AuditFilter {
        domain_id: principal.domain_id.clone(),
        project_id,
        module,
        repo,
        operator_id,
        id,
    };
    let skip = usize::try_from((page_num - 1).saturating_mul(page_size)).unwrap_or(usize::MAX);
    let take = page_size as usize;
    let found = state
        .db
        .call(move |conn| {
            if let Some(project_id) = &filter.project_id {
                if projects::get_project(conn, &filter.domain_id, project_id)?.is_none() {
                    return Ok(None);
                }
            }
            audit::list(conn, &filter, skip, take).map(Some)
        })
        .await?;
    let (rows, total) = found.ok_or_else(|| {
        ApiError::not_found("project_id is not a project of the caller's account")
    })?;
    let offset = FixedOffset::east_opt(state.config.display_offset_minutes * 60)
        .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    let list: Vec<Value> = rows.iter().map(|e| view(e, &offset)).collect();
    Ok(success(json!({
        "auditInfoList": list,
        "total": total,
    })))
}
