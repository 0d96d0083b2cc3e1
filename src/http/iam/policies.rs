//! Custom identity policies (`/v3.0/OS-ROLE/roles`, Huawei's "cloud service custom policies") and their
//! attachment to groups for the whole domain (`/v3/domains/{domain_id}/groups/{group_id}/roles/...`).
//!
//! Decisions: arca evaluates `Effect` and `Action` only, so a statement with a `Condition`, or with a
//! `Resource` narrower than "every resource", is refused rather than silently widened. Display names are
//! unique per domain. A policy attached to a group cannot be deleted (409): detach it first.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::groups::group_of_domain;
use super::{actions, hex_id, link_self, links, text};
use crate::auth::Principal;
use crate::authz::policy::{validate_document, PolicyDocument};
use crate::domain::{is_hex32, is_plain_name, new_hex_id};
use crate::http::app::AppState;
use crate::http::error::{json_problem, ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity::{self, Policy};
use crate::store::now_ms;

const POLICY_TYPES: [&str; 2] = ["AX", "XA"];

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RoleBody {
    role: Option<RoleFields>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
struct RoleFields {
    display_name: Option<String>,
    #[serde(rename = "type")]
    policy_type: Option<String>,
    description: Option<String>,
    description_cn: Option<String>,
    policy: Option<Value>,
}

/// A `Resource` entry arca can honour: every resource of the service (`*`, or `svc:*:*:*:*`).
fn is_all_resources(resource: &str) -> bool {
    let parts: Vec<&str> = resource.split(':').collect();
    resource == "*" || (parts.len() == 5 && parts[1..].iter().all(|p| *p == "*"))
}

/// Checks a policy document; answers it as the JSON text to store. Every failure names its field.
pub fn check_policy(policy: &Value) -> ApiResult<String> {
    let object = policy
        .as_object()
        .ok_or_else(|| ApiError::invalid("role.policy", "must be a JSON object"))?;
    if object.get("Version").and_then(Value::as_str) != Some("1.1") {
        return Err(ApiError::invalid("role.policy.Version", "must be \"1.1\""));
    }
    let statements = object
        .get("Statement")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::invalid("role.policy.Statement", "must be an array"))?;
    for (i, st) in statements.iter().enumerate() {
        if st.get("Condition").is_some() {
            return Err(ApiError::invalid(
                &format!("role.policy.Statement[{i}].Condition"),
                "is not supported: arca does not evaluate conditions",
            ));
        }
        match st.get("Resource") {
            None => {}
            Some(Value::Array(list))
                if list
                    .iter()
                    .all(|r| r.as_str().is_some_and(is_all_resources)) => {}
            Some(_) => {
                return Err(ApiError::invalid(
                    &format!("role.policy.Statement[{i}].Resource"),
                    "is not supported beyond [\"<service>:*:*:*:*\"]: arca does not scope actions to resources",
                ))
            }
        }
    }
    let document: PolicyDocument = serde_json::from_value(policy.clone()).map_err(|e| {
        ApiError::invalid(
            "role.policy.Statement",
            format!(
                "is not a list of {{Effect: Allow|Deny, Action: [...]}}: {}",
                json_problem(&e)
            ),
        )
    })?;
    validate_document(&document)
        .map_err(|reason| ApiError::invalid("role.policy.Statement", reason))?;
    Ok(policy.to_string())
}

fn check_fields(f: &RoleFields) -> ApiResult<()> {
    if let Some(name) = &f.display_name {
        if !is_plain_name(name, 128) {
            return Err(ApiError::invalid(
                "role.display_name",
                "must be 1 to 128 characters without control characters",
            ));
        }
    }
    if let Some(t) = &f.policy_type {
        if !POLICY_TYPES.contains(&t.as_str()) {
            return Err(ApiError::invalid(
                "role.type",
                "must be AX (shown at domain level) or XA (shown at project level)",
            ));
        }
    }
    text("role.description", f.description.as_deref(), 256)?;
    text("role.description_cn", f.description_cn.as_deref(), 256)?;
    Ok(())
}

/// `custom_<domain_id>_<n>`, Huawei's naming of custom policies, with `n` one past the highest in use.
fn next_policy_name(domain_id: &str, existing: &[Policy]) -> String {
    let prefix = format!("custom_{domain_id}_");
    let highest = existing
        .iter()
        .filter_map(|p| p.name.strip_prefix(&prefix)?.parse::<u64>().ok())
        .max()
        .unwrap_or(0);
    format!("{prefix}{}", highest + 1)
}

/// A policy in the OS-ROLE shape (`ServicePolicyRoleResult` and its siblings).
fn policy_json(p: &Policy, description_cn: &str, headers: &HeaderMap) -> Value {
    let document: Value = serde_json::from_str(&p.document).unwrap_or(Value::Null);
    json!({
        "id": p.id,
        "name": p.name,
        "display_name": p.display_name,
        "type": p.policy_type,
        "description": p.description,
        "description_cn": description_cn,
        "catalog": "CUSTOMED",
        "domain_id": p.domain_id,
        "policy": document,
        "created_time": p.created_at.to_string(),
        "updated_time": p.updated_at.to_string(),
        "links": link_self(headers, &format!("/v3/roles/{}", p.id)),
    })
}

async fn policy_of_domain(
    state: &AppState,
    principal: &Principal,
    role_id: &str,
) -> ApiResult<Policy> {
    let (domain, id) = (principal.domain_id.clone(), role_id.to_string());
    state
        .db
        .call(move |conn| identity::get_policy(conn, &domain, &id))
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No custom policy {role_id} in the caller's account"
            ))
        })
}

/// `POST /v3.0/OS-ROLE/roles` (create_cloud_service_custom_policy): 201.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RoleBody>,
) -> ApiResult<impl IntoResponse> {
    let f = body
        .role
        .ok_or_else(|| ApiError::invalid("role", "is required"))?;
    check_fields(&f)?;
    let display_name = f
        .display_name
        .ok_or_else(|| ApiError::invalid("role.display_name", "is required"))?;
    let policy_type = f
        .policy_type
        .ok_or_else(|| ApiError::invalid("role.type", "is required"))?;
    let document = check_policy(
        f.policy
            .as_ref()
            .ok_or_else(|| ApiError::invalid("role.policy", "is required"))?,
    )?;
    state.require(&principal, actions::CREATE_ROLE).await?;

    let now = now_ms();
    let description_cn = f.description_cn.unwrap_or_default();
    let mut policy = Policy {
        id: new_hex_id(),
        domain_id: principal.domain_id.clone(),
        name: String::new(),
        display_name,
        policy_type,
        description: f.description.unwrap_or_default(),
        document,
        created_at: now,
        updated_at: now,
    };
    let cn = description_cn.clone();
    let policy = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if identity::find_policy_by_display_name(&tx, &policy.domain_id, &policy.display_name)?
                .is_some()
            {
                return Ok(None);
            }
            policy.name = next_policy_name(
                &policy.domain_id,
                &identity::list_policies(&tx, &policy.domain_id)?,
            );
            identity::insert_policy(&tx, &policy)?;
            identity::set_policy_description_cn(&tx, &policy.id, &cn)?;
            tx.commit()?;
            Ok(Some(policy))
        })
        .await?
        .ok_or_else(|| {
            ApiError::Conflict("A custom policy with this display_name already exists".into())
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "role": policy_json(&policy, &description_cn, &headers) })),
    ))
}

/// `GET /v3.0/OS-ROLE/roles` (list_custom_policies): `page` ≥ 1 and `per_page` 1..=300, given together.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let page = query.int("page", 1..=i64::from(i32::MAX), 1)?;
    let per_page = query.int("per_page", 1..=300, 300)?;
    match (query.get("page"), query.get("per_page")) {
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "per_page",
                "is required together with page",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::invalid(
                "page",
                "is required together with per_page",
            ))
        }
        _ => {}
    }
    let paged = query.get("page").is_some();
    state.require(&principal, actions::LIST_ROLES).await?;
    let domain = principal.domain_id.clone();
    let rows = state
        .db
        .call(move |conn| {
            identity::list_policies(conn, &domain)?
                .into_iter()
                .map(|p| {
                    let cn = identity::policy_description_cn(conn, &p.id)?;
                    Ok((p, cn))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let total = rows.len();
    let (skip, take) = if paged {
        (((page - 1) * per_page) as usize, per_page as usize)
    } else {
        (0, total)
    };
    let roles: Vec<Value> = rows
        .iter()
        .skip(skip)
        .take(take)
        .map(|(p, cn)| policy_json(p, cn, &headers))
        .collect();
    Ok(Json(json!({
        "roles": roles,
        "total_number": total,
        "links": links(&headers, "/v3.0/OS-ROLE/roles"),
    })))
}

/// `GET /v3.0/OS-ROLE/roles/{role_id}` (show_custom_policy), with `references`: the groups it is attached to.
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(role_id): Path<String>,
) -> ApiResult<Json<Value>> {
    hex_id("role_id", &role_id)?;
    state.require(&principal, actions::GET_ROLE).await?;
    let policy = policy_of_domain(&state, &principal, &role_id).await?;
    let id = policy.id.clone();
    let (cn, references) = state
        .db
        .call(move |conn| {
            Ok((
                identity::policy_description_cn(conn, &id)?,
                identity::policy_references(conn, &id)?,
            ))
        })
        .await?;
    let mut role = policy_json(&policy, &cn, &headers);
    role["references"] = json!(references);
    Ok(Json(json!({ "role": role })))
}

/// `PATCH /v3.0/OS-ROLE/roles/{role_id}` (update_cloud_service_custom_policy): any of the fields.
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(role_id): Path<String>,
    JsonBody(body): JsonBody<RoleBody>,
) -> ApiResult<Json<Value>> {
    hex_id("role_id", &role_id)?;
    let f = body
        .role
        .ok_or_else(|| ApiError::invalid("role", "is required"))?;
    check_fields(&f)?;
    let document = f.policy.as_ref().map(check_policy).transpose()?;
    if f.display_name.is_none()
        && f.policy_type.is_none()
        && f.description.is_none()
        && f.description_cn.is_none()
        && document.is_none()
    {
        return Err(ApiError::invalid(
            "role",
            "must give at least one field to change",
        ));
    }
    state.require(&principal, actions::UPDATE_ROLE).await?;
    let mut policy = policy_of_domain(&state, &principal, &role_id).await?;
    if let Some(v) = f.display_name {
        policy.display_name = v;
    }
    if let Some(v) = f.policy_type {
        policy.policy_type = v;
    }
    if let Some(v) = f.description {
        policy.description = v;
    }
    if let Some(v) = document {
        policy.document = v;
    }
    policy.updated_at = now_ms();
    let new_cn = f.description_cn;
    let stored = policy.clone();
    let cn = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if identity::find_policy_by_display_name(&tx, &stored.domain_id, &stored.display_name)?
                .is_some_and(|other| other.id != stored.id)
            {
                return Ok(None);
            }
            identity::update_policy(&tx, &stored)?;
            if let Some(cn) = &new_cn {
                identity::set_policy_description_cn(&tx, &stored.id, cn)?;
            }
            let cn = identity::policy_description_cn(&tx, &stored.id)?;
            tx.commit()?;
            Ok(Some(cn))
        })
        .await?
        .ok_or_else(|| {
            ApiError::Conflict("A custom policy with this display_name already exists".into())
        })?;
    Ok(Json(json!({ "role": policy_json(&policy, &cn, &headers) })))
}

/// `DELETE /v3.0/OS-ROLE/roles/{role_id}` (delete_custom_policy): 200 with a message; 409 while attached.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(role_id): Path<String>,
) -> ApiResult<Json<Value>> {
    hex_id("role_id", &role_id)?;
    state.require(&principal, actions::DELETE_ROLE).await?;
    let policy = policy_of_domain(&state, &principal, &role_id).await?;
    let deleted = state
        .db
        .call(move |conn| identity::delete_unattached_policy(conn, &policy.id))
        .await?;
    if !deleted {
        return Err(ApiError::Conflict(
            "The custom policy is attached to user groups; detach it before deleting it".into(),
        ));
    }
    Ok(Json(
        json!({ "message": format!("Custom policy {role_id} deleted") }),
    ))
}

/// Checks the `{domain_id}` path parameter: it must be the caller's domain.
fn path_domain(principal: &Principal, domain_id: &str) -> ApiResult<()> {
    if !is_hex32(domain_id) {
        return Err(ApiError::invalid(
            "domain_id",
            "must be 32 lower-case hexadecimal characters",
        ));
    }
    if domain_id != principal.domain_id {
        return Err(ApiError::forbidden(
            "The domain_id is not the caller's account; arca manages only the caller's own account",
        ));
    }
    Ok(())
}

/// Validates the ids, checks `action`, loads group and policy: `(group id, policy id)`.
async fn assignment(
    state: &AppState,
    principal: &Principal,
    (domain_id, group_id, role_id): (String, String, String),
    action: &'static str,
) -> ApiResult<(String, String)> {
    path_domain(principal, &domain_id)?;
    hex_id("group_id", &group_id)?;
    hex_id("role_id", &role_id)?;
    state.require(principal, action).await?;
    let group = group_of_domain(state, principal, &group_id).await?;
    let policy = policy_of_domain(state, principal, &role_id).await?;
    Ok((group.id, policy.id))
}

/// `PUT /v3/domains/{domain_id}/groups/{group_id}/roles/{role_id}`
/// (keystone_associate_group_with_domain_permission): 204, idempotent.
pub async fn attach(
    State(state): State<AppState>,
    principal: Principal,
    Path(ids): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (g, p) = assignment(&state, &principal, ids, actions::GRANT_ROLE_TO_GROUP).await?;
    state
        .db
        .call(move |conn| identity::attach_group_policy(conn, &g, &p))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `HEAD .../roles/{role_id}` (keystone_check_domain_permission_for_group): 204 if attached, else 404.
pub async fn check(
    State(state): State<AppState>,
    principal: Principal,
    Path(ids): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (g, p) = assignment(&state, &principal, ids, actions::CHECK_ROLE_FOR_GROUP).await?;
    if state
        .db
        .call(move |conn| identity::is_policy_attached(conn, &g, &p))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "The policy is not attached to the group",
        ))
    }
}

/// `DELETE .../roles/{role_id}` (keystone_remove_domain_permission_from_group): 204, or 404 if it was not
/// attached.
pub async fn detach(
    State(state): State<AppState>,
    principal: Principal,
    Path(ids): Path<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let (g, p) = assignment(&state, &principal, ids, actions::REVOKE_ROLE_FROM_GROUP).await?;
    if state
        .db
        .call(move |conn| identity::detach_group_policy(conn, &g, &p))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(
            "The policy is not attached to the group",
        ))
    }
}

/// `GET /v3/domains/{domain_id}/groups/{group_id}/roles` (keystone_list_domain_permissions_for_group).
pub async fn list_for_group(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((domain_id, group_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    path_domain(&principal, &domain_id)?;
    hex_id("group_id", &group_id)?;
    state
        .require(&principal, actions::LIST_ROLES_FOR_GROUP)
        .await?;
    let group = group_of_domain(&state, &principal, &group_id).await?;
    let rows = state
        .db
        .call(move |conn| {
            identity::policies_of_group(conn, &group.id)?
                .into_iter()
                .map(|p| {
                    let cn = identity::policy_description_cn(conn, &p.id)?;
                    Ok((p, cn))
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let roles: Vec<Value> = rows
        .iter()
        .map(|(p, cn)| policy_json(p, cn, &headers))
        .collect();
    Ok(Json(json!({
        "roles": roles,
        "links": links(&headers, &format!("/v3/domains/{domain_id}/groups/{group_id}/roles")),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(v: Value) -> String {
        check_policy(&v).unwrap_err().to_string()
    }

    #[test]
    fn policies_are_checked_field_by_field() {
        let ok = json!({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["iam:users:*"],
            "Resource": ["iam:*:*:*:*"]}]});
        assert!(check_policy(&ok).is_ok());
        assert!(err(json!({"Version": "1.0", "Statement": []})).contains("'role.policy.Version'"));
        assert!(err(json!({"Version": "1.1"})).contains("'role.policy.Statement'"));
        assert!(err(
            json!({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["a:b:c"],
            "Condition": {"StringEquals": {"g:x": ["y"]}}}]})
        )
        .contains("'role.policy.Statement[0].Condition'"));
        assert!(err(
            json!({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["a:b:c"]},
            {"Effect": "Allow", "Action": ["a:b:c"], "Resource": ["obs:*:*:bucket:mine"]}]})
        )
        .contains("'role.policy.Statement[1].Resource'"));
        assert!(err(
            json!({"Version": "1.1", "Statement": [{"Effect": "Perhaps", "Action": ["a:b:c"]}]})
        )
        .contains("'role.policy.Statement'"));
        assert!(err(
            json!({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ab"]}]})
        )
        .contains("'role.policy.Statement'"));
        assert!(err(json!([1])).contains("'role.policy'"));
    }

    #[test]
    fn policy_names_count_up_per_domain() {
        let policy = |name: &str| Policy {
            id: "i".into(),
            domain_id: "d".into(),
            name: name.into(),
            display_name: "x".into(),
            policy_type: "AX".into(),
            description: String::new(),
            document: "{}".into(),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(next_policy_name("d", &[]), "custom_d_1");
        assert_eq!(
            next_policy_name(
                "d",
                &[policy("custom_d_1"), policy("custom_d_7"), policy("other")]
            ),
            "custom_d_8"
        );
    }
}
