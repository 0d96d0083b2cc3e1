//! Release repositories' permissions (list_project_role_permissions, show_multi_roles_user_permissions),
//! per-project retention (show_auto_delete_job_settings and arca's PUT, the job's records) and the
//! account's capacity notices (list_capacity_message_setting and arca's PUT, the recorded notices).

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{check_project_id, display_time, page, project_access, total_pages};
use crate::auth::Principal;
use crate::authz::roles::{self, BUILTIN_ROLES};
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::artifact::access::operations_on;
use crate::http::artifact::privileges::entries_for_role;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::service::release::{self as rules, permission_flags, ReleaseAccess};
use crate::store::now_ms;
use crate::store::projects::Project;
use crate::store::release;
use crate::store::release_settings::{self, Capacity, Retention};

/// The IAM action that changes an account's capacity notices (the root user may).
pub const MANAGE_CAPACITY: &str = "codeartsartifact:releaseRepo:manageCapacity";

fn projectman_id(role: &roles::BuiltinRole) -> i64 {
    (3..=12)
        .find(|n| roles::from_projectman_role(*n).is_some_and(|r| r.id == role.id))
        .unwrap_or(0)
}

fn required_project(query: &QueryParams) -> ApiResult<String> {
    let project_id = query
        .filter("project_id", 64)?
        .ok_or_else(|| ApiError::invalid("project_id", "is required"))?;
    check_project_id("project_id", &project_id)?;
    Ok(project_id)
}

async fn with_access(
    state: &AppState,
    principal: &Principal,
    project_id: String,
) -> ApiResult<(Project, ReleaseAccess)> {
    let principal = principal.clone();
    state
        .db
        .call(move |conn| project_access(conn, &principal, &project_id))
        .await?
}

fn refuse(op: Operation) -> ApiError {
    ApiError::forbidden(format!("{op} is not allowed on {}", rules::object_path("")))
}

/// `GET /devreposerver/v5/project-role/permissions?project_id=` (list_project_role_permissions): each
/// built-in role's permissions in the project's release repository, from its grants there (or its
/// defaults). Members who may read the repository, and root, may ask.
pub async fn role_permissions(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let project_id = required_project(&query)?;
    let (project, access) = with_access(&state, &principal, project_id).await?;
    if !access.may_somewhere(Operation::Download) {
        return Err(refuse(Operation::Download));
    }
    let region = state.config.region.clone();
    let rows = state
        .db
        .call(move |conn| {
            let mut rows = Vec::new();
            for role in &BUILTIN_ROLES {
                let entries = entries_for_role(conn, &project.id, role)?;
                let mut row = permission_flags(operations_on(&entries, &rules::object_path("")));
                let extra = json!({
                    "id": format!("{}{}", &project.id[..16], &role.id[..16]),
                    "role_id": projectman_id(role),
                    "devuc_role_id": role.id,
                    "project_id": project.id,
                    "create_time": project.created_at,
                    "update_time": project.updated_at,
                    "migrated_630": 0,
                    "region": region,
                    "user_id": "",
                    "roles": role.name,
                });
                merge(&mut row, extra);
                rows.push(row);
            }
            Ok(rows)
        })
        .await?;
    Ok(success(rows))
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}

/// `GET /devreposerver/v5/user/permissions?project_id=` (show_multi_roles_user_permissions): what the
/// caller may do in the project's release repository, merged over their roles' grants.
pub async fn user_permissions(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let project_id = required_project(&query)?;
    let (project, access) = with_access(&state, &principal, project_id).await?;
    let ops = if access
        .scope
        .root_in(rules::OBJECT_NAME, rules::OBJECT_NAME)
        .is_some()
    {
        operations_on(&access.entries, &rules::object_path(""))
    } else {
        Default::default()
    };
    let mut role_names: Vec<&str> = Vec::new();
    for e in &access.entries {
        if !role_names.contains(&e.role_name.as_str()) {
            role_names.push(&e.role_name);
        }
    }
    let role = access
        .entries
        .first()
        .and_then(|e| roles::builtin_by_id(&e.role_id));
    let mut row = permission_flags(ops);
    merge(
        &mut row,
        json!({
            "id": "",
            "role_id": role.map(projectman_id).unwrap_or(0),
            "devuc_role_id": role.map(|r| r.id).unwrap_or_default(),
            "project_id": project.id,
            "create_time": project.created_at,
            "update_time": project.updated_at,
            "migrated_630": 0,
            "region": state.config.region,
            "user_id": principal.user_id,
            "roles": role_names.join(","),
        }),
    );
    Ok(success(row))
}

/// The settings of a project that has none: nothing expires.
fn default_retention(project: &Project) -> Retention {
    Retention {
        project_id: project.id.clone(),
        domain_id: project.domain_id.clone(),
        to_trash: false,
        file_expire_days: 0,
        to_delete: false,
        trash_expire_days: 0,
        skip_category: String::new(),
        skip_paths: "[]".into(),
    }
}

fn retention_view(r: &Retention) -> Value {
    let paths: Vec<String> = serde_json::from_str(&r.skip_paths).unwrap_or_default();
    json!({
        "is_schedule_to_trash": r.to_trash,
        "is_schedule_to_delete": r.to_delete,
        "file_expire_time": r.file_expire_days,
        "trash_file_expire_time": r.trash_expire_days,
        "project_id": r.project_id,
        "cleanRule": {"skipAutoTrash": {"packageCategory": r.skip_category, "paths": paths}},
    })
}

/// `GET /devreposerver/v5/release/{project_id}/auto-deletion/settings` (show_auto_delete_job_settings).
pub async fn show_retention(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
) -> ApiResult<Json<Value>> {
    check_project_id("project_id", &project_id)?;
    let (project, access) = with_access(&state, &principal, project_id).await?;
    if !access.may_somewhere(Operation::Download) {
        return Err(refuse(Operation::Download));
    }
    let id = project.id.clone();
    let stored = state
        .db
        .call(move |conn| release_settings::get_retention(conn, &id))
        .await?;
    Ok(success(retention_view(
        &stored.unwrap_or_else(|| default_retention(&project)),
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionBody {
    is_schedule_to_trash: bool,
    file_expire_time: i64,
    is_schedule_to_delete: bool,
    trash_file_expire_time: i64,
    project_id: Option<String>,
    #[serde(rename = "cleanRule")]
    clean_rule: Option<CleanRule>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CleanRule {
    #[serde(rename = "skipAutoTrash")]
    skip_auto_trash: Option<SkipAutoTrash>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipAutoTrash {
    #[serde(rename = "packageCategory")]
    package_category: Option<String>,
    paths: Option<Vec<String>>,
}

/// Longest retention, in days.
const MAX_DAYS: i64 = 3650;

/// `PUT /devreposerver/v5/release/{project_id}/auto-deletion/settings` (arca's): the body of
/// show_auto_delete_job_settings' answer. Days count from upload (`file_expire_time`, then to the bin)
/// and from deletion (`trash_file_expire_time`, then for good); an enabled rule needs 1..3650 days.
/// Needs `editRepository` on the release repository.
pub async fn update_retention(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    JsonBody(body): JsonBody<RetentionBody>,
) -> ApiResult<Json<Value>> {
    check_project_id("project_id", &project_id)?;
    if body.project_id.as_ref().is_some_and(|p| *p != project_id) {
        return Err(ApiError::invalid("project_id", "must match the path"));
    }
    let days = |name: &str, enabled: bool, value: i64| -> ApiResult<i64> {
        let low = i64::from(enabled);
        if (low..=MAX_DAYS).contains(&value) {
            Ok(value)
        } else {
            Err(ApiError::invalid(
                name,
                format!("must be an integer from {low} to {MAX_DAYS}"),
            ))
        }
    };
    let file_days = days(
        "file_expire_time",
        body.is_schedule_to_trash,
        body.file_expire_time,
    )?;
    let bin_days = days(
        "trash_file_expire_time",
        body.is_schedule_to_delete,
        body.trash_file_expire_time,
    )?;
    let skip = body.clean_rule.and_then(|r| r.skip_auto_trash);
    let (category, paths) = match skip {
        Some(s) => (
            s.package_category.unwrap_or_default(),
            s.paths.unwrap_or_default(),
        ),
        None => (String::new(), Vec::new()),
    };
    if !category.is_empty() && !rules::CATEGORIES.contains(&category.as_str()) {
        return Err(ApiError::invalid(
            "cleanRule.skipAutoTrash.packageCategory",
            "must be empty, test or prod",
        ));
    }
    if paths.len() > 100 {
        return Err(ApiError::invalid(
            "cleanRule.skipAutoTrash.paths",
            "must hold at most 100 folders",
        ));
    }
    for (i, p) in paths.iter().enumerate() {
        let name = format!("cleanRule.skipAutoTrash.paths[{i}]");
        crate::domain::artifact_path::ArtifactPath::parse_plain(p)
            .map_err(|e| ApiError::invalid(&name, e.to_string()))?;
    }
    let (project, access) = with_access(&state, &principal, project_id).await?;
    if !access.allows(Operation::EditRepository, "") {
        return Err(refuse(Operation::EditRepository));
    }
    let settings = Retention {
        project_id: project.id.clone(),
        domain_id: project.domain_id.clone(),
        to_trash: body.is_schedule_to_trash,
        file_expire_days: file_days,
        to_delete: body.is_schedule_to_delete,
        trash_expire_days: bin_days,
        skip_category: category,
        skip_paths: serde_json::to_string(&paths).unwrap_or_else(|_| "[]".into()),
    };
    let (stored, user_id) = (settings.clone(), principal.user_id.clone());
    state
        .db
        .call(move |conn| release_settings::put_retention(conn, &stored, &user_id, now_ms()))
        .await?;
    tracing::info!(project_id = %settings.project_id, "release retention settings changed");
    Ok(success(retention_view(&settings)))
}

/// `GET /devreposerver/v5/release/{project_id}/auto-deletion/records` (arca's): what the retention job
/// moved to the bin (`trash`) or deleted for good (`delete`), newest first; `page_no`/`page_size`.
pub async fn retention_records(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    check_project_id("project_id", &project_id)?;
    let page_no = query.int("page_no", 1..=1_000_000, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let (project, access) = with_access(&state, &principal, project_id).await?;
    if !access.may_somewhere(Operation::Download) {
        return Err(refuse(Operation::Download));
    }
    let (skip, take) = page(page_no, page_size);
    let (domain_id, offset) = (
        principal.domain_id.clone(),
        state.config.display_offset_minutes,
    );
    let (total, rows) = state
        .db
        .call(move |conn| {
            release::removals(conn, &domain_id, &project.id, skip as i64, take as i64)
        })
        .await?;
    let data: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "version_id": r.version_id,
                "path": format!("/{}", r.path),
                "version": r.version,
                "size": r.size,
                "action": r.action,
                "time": display_time(r.at, offset),
                "timestamp": r.at,
            })
        })
        .collect();
    Ok(success(json!({
        "total_records": total,
        "total_pages": total_pages(total as usize, page_size as usize),
        "data": data,
    })))
}

fn capacity_view(c: &Capacity) -> Value {
    json!({
        "capacity_threshold": c.threshold_percent,
        "message_type": c.message_type,
        "is_mail_enabled": i64::from(c.mail),
        "is_sms_enabled": i64::from(c.sms),
        "total_capacity_size": c.total_bytes,
        "is_over_threshold": c.above,
    })
}

/// `GET /devreposerver/v5/capacity-notice/settings` (list_capacity_message_setting): `CapacitySettingVO`
/// plus the capacity it is measured against and whether the account is over it now.
pub async fn show_capacity(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    let domain_id = principal.domain_id.clone();
    let stored = state
        .db
        .call(move |conn| release_settings::get_capacity(conn, &domain_id))
        .await?;
    Ok(success(capacity_view(
        &stored.unwrap_or_else(super::capacity::defaults),
    )))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapacityBody {
    capacity_threshold: i64,
    message_type: Option<i64>,
    is_mail_enabled: Option<i64>,
    is_sms_enabled: Option<i64>,
    total_capacity_size: Option<i64>,
}

/// `PUT /devreposerver/v5/capacity-notice/settings` (arca's): `capacity_threshold` 1..100 (percent),
/// `message_type` 0..9, `is_mail_enabled`/`is_sms_enabled` 0 or 1 (kept and answered; arca sends no mail
/// or SMS), `total_capacity_size` the bytes the threshold is a share of (default 500 GiB). Needs the
/// IAM action `codeartsartifact:releaseRepo:manageCapacity` (root may). Usage is checked at once.
pub async fn update_capacity(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<CapacityBody>,
) -> ApiResult<Json<Value>> {
    if !(1..=100).contains(&body.capacity_threshold) {
        return Err(ApiError::invalid(
            "capacity_threshold",
            "must be an integer from 1 to 100",
        ));
    }
    let flag = |name: &str, v: Option<i64>| -> ApiResult<bool> {
        match v.unwrap_or(0) {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(ApiError::invalid(name, "must be 0 or 1")),
        }
    };
    let message_type = body.message_type.unwrap_or(0);
    if !(0..=9).contains(&message_type) {
        return Err(ApiError::invalid(
            "message_type",
            "must be an integer from 0 to 9",
        ));
    }
    let total = body
        .total_capacity_size
        .unwrap_or(super::capacity::DEFAULT_TOTAL_BYTES);
    if total < 1 {
        return Err(ApiError::invalid(
            "total_capacity_size",
            "must be a positive number of bytes",
        ));
    }
    let settings = Capacity {
        threshold_percent: body.capacity_threshold,
        message_type,
        mail: flag("is_mail_enabled", body.is_mail_enabled)?,
        sms: flag("is_sms_enabled", body.is_sms_enabled)?,
        total_bytes: total,
        above: false,
    };
    state.require(&principal, MANAGE_CAPACITY).await?;
    let domain_id = principal.domain_id.clone();
    let stored = settings.clone();
    state
        .db
        .call(move |conn| release_settings::put_capacity(conn, &domain_id, &stored, now_ms()))
        .await?;
    super::capacity::check(&state, &principal.domain_id).await;
    let domain_id = principal.domain_id.clone();
    let now = state
        .db
        .call(move |conn| release_settings::get_capacity(conn, &domain_id))
        .await?
        .unwrap_or(settings);
    Ok(success(capacity_view(&now)))
}

/// `GET /devreposerver/v5/capacity-notice/records` (arca's): the notices recorded, newest first.
pub async fn capacity_notices(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let page_no = query.int("page_no", 1..=1_000_000, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let (skip, take) = page(page_no, page_size);
    let (domain_id, offset) = (
        principal.domain_id.clone(),
        state.config.display_offset_minutes,
    );
    let (total, rows) = state
        .db
        .call(move |conn| release_settings::notices(conn, &domain_id, skip as i64, take as i64))
        .await?;
    let data: Vec<Value> = rows
        .into_iter()
        .map(|n| {
            json!({
                "id": n.id,
                "used_capacity_size": n.used_bytes,
                "total_capacity_size": n.total_bytes,
                "capacity_threshold": n.threshold,
                "time": display_time(n.at, offset),
                "timestamp": n.at,
            })
        })
        .collect();
    Ok(success(json!({
        "total_records": total,
        "total_pages": total_pages(total as usize, page_size as usize),
        "data": data,
    })))
}
