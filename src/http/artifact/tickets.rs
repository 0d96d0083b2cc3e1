//! Tickets: issue (seed 000), list (seed 001), create with a scope, revoke (SPEC §4).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::{FixedOffset, TimeZone};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{ticket, Principal};
use crate::authz::policy::actions;
use crate::domain::is_hex32;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity::{self, IamProject};
use crate::store::now_ms;
use crate::store::tickets::{self, NewTicket, SortKey, TicketFilter, TicketPage, TicketView};

const MAX_EXPIRE_SECONDS: i64 = 365 * 24 * 3600;
const MAX_LEFT_NUM: i64 = 1_000_000;

/// `GET /cloudartifact/v5/ticket`: a new ticket for the caller, in the caller's IAM project.
pub async fn issue_own(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<impl IntoResponse> {
    let requested_project = headers
        .get("x-project-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let project = caller_project(&state, &principal, requested_project).await?;
    let issued = store_new_ticket(
        &state,
        &principal.user_id,
        &project.id,
        String::new(),
        state.config.ticket_lifetime_secs as i64,
        i64::from(state.config.ticket_uses),
    )
    .await?;
    Ok(success(issued.0))
}

/// The IAM project a ticket issued to the caller belongs to: the one the SDK named in `X-Project-Id`
/// when it is the caller's, else the caller's project of the configured region.
pub(crate) async fn caller_project(
    state: &AppState,
    principal: &Principal,
    requested: Option<String>,
) -> ApiResult<IamProject> {
    let domain_id = principal.domain_id.clone();
    let region = state.config.region.clone();
    let project = state
        .db
        .call(move |conn| {
            if let Some(id) = requested {
                if let Some(p) = identity::get_iam_project(conn, &id)? {
                    if p.domain_id == domain_id {
                        return Ok(Some(p));
                    }
                }
            }
            Ok(
                identity::list_iam_projects(conn, &domain_id, Some(&region))?
                    .into_iter()
                    .next(),
            )
        })
        .await?;
    project.ok_or_else(|| ApiError::not_found("The caller's account has no project in this region"))
}

/// Stores a freshly issued ticket; answers `(value, public id)`.
pub(crate) async fn store_new_ticket(
    state: &AppState,
    user_id: &str,
    iam_project_id: &str,
    embed_id: String,
    lifetime_secs: i64,
    left_num: i64,
) -> ApiResult<(String, String)> {
    let now = now_ms();
    let issued = ticket::issue(now, user_id);
    let record = NewTicket {
        id: issued.public_id.clone(),
        user_id: user_id.to_string(),
        iam_project_id: iam_project_id.to_string(),
        embed_id,
        issued_at: now,
        expires_at: now + lifetime_secs * 1000,
        left_num,
    };
    state
        .db
        .call(move |conn| tickets::insert(conn, &record))
        .await?;
    Ok((issued.value, issued.public_id))
}

/// A ticket as `GET /v1/{project_id}/tickets` lists it; /openapi.json describes it from this type.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketRow {
    /// SHA-256 (hex) of the ticket: the ticket itself is never shown again.
    ticket: String,
    embed_id: String,
    expire_time: String,
    left_num: i64,
    user_id: String,
    user_name: String,
    user_type: String,
    group_ids: Vec<String>,
}

fn display_time(ms: i64, offset_minutes: i32) -> String {
    let offset = FixedOffset::east_opt(offset_minutes * 60).expect("offset validated by config");
    let time = offset
        .timestamp_millis_opt(ms)
        .single()
        .expect("stored times are valid");
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let abs = offset_minutes.unsigned_abs();
    format!(
        "{} (GMT{sign}{:02}:{:02})",
        time.format("%Y-%m-%d %H:%M:%S"),
        abs / 60,
        abs % 60
    )
}

fn row(view: TicketView, offset_minutes: i32) -> TicketRow {
    TicketRow {
        ticket: view.id,
        embed_id: view.embed_id,
        expire_time: display_time(view.expires_at, offset_minutes),
        left_num: view.left_num,
        user_id: view.user_id,
        user_name: view.user_name,
        user_type: view.user_type,
        group_ids: view.group_ids,
    }
}

/// Checks the `{project_id}` path parameter and that it is a project of the caller's account.
async fn project_of_caller(
    state: &AppState,
    principal: &Principal,
    project_id: String,
) -> ApiResult<IamProject> {
    if project_id.is_empty() || project_id.len() > 128 {
        return Err(ApiError::invalid(
            "project_id",
            "must be 1 to 128 characters",
        ));
    }
    let project = state
        .db
        .call(move |conn| identity::get_iam_project(conn, &project_id))
        .await?;
    match project {
        Some(p) if p.domain_id == principal.domain_id => Ok(p),
        _ => Err(ApiError::not_found(
            "No such project in the caller's account",
        )),
    }
}

/// `GET /v1/{project_id}/tickets` (seed 001).
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    query: Result<QueryParams, ApiError>,
) -> ApiResult<Json<serde_json::Value>> {
    list_inner(state, principal, project_id, query)
        .await
        .map_err(ApiError::insight)
}

async fn list_inner(
    state: AppState,
    principal: Principal,
    project_id: String,
    query: Result<QueryParams, ApiError>,
) -> ApiResult<Json<serde_json::Value>> {
    let query = query?;
    let mut filter = TicketFilter {
        user_id: query.filter("user_id", 100)?,
        user_name: query.filter("user_name", 100)?,
        user_type: query.filter("user_type", 100)?,
        embed_id: query.filter("embed_id", 100)?,
        only_user: None,
    };
    let limit = query.int("limit", 0..=1000, 10)?;
    let offset = query.int("offset", 0..=1000, 0)?;
    let sort_key = match query.filter("sort_key", 128)? {
        None => SortKey::ExpireTime,
        Some(k) => SortKey::parse(&k).ok_or_else(|| {
            ApiError::invalid(
                "sort_key",
                "must be one of expire_time, left_num, user_name, user_id, embed_id",
            )
        })?,
    };
    let descending = match query.filter("sort_dir", 128)?.as_deref() {
        None => true,
        Some(d) if d.eq_ignore_ascii_case("desc") => true,
        Some(d) if d.eq_ignore_ascii_case("asc") => false,
        Some(_) => return Err(ApiError::invalid("sort_dir", "must be asc or desc")),
    };
    let project = project_of_caller(&state, &principal, project_id).await?;
    if !state.is_allowed(&principal, actions::LIST_TICKETS).await? {
        filter.only_user = Some(principal.user_id.clone());
    }
    let page = TicketPage {
        sort: sort_key,
        descending,
        limit,
        offset,
    };
    let (count, page) = state
        .db
        .call(move |conn| tickets::list_valid(conn, &project.id, &filter, now_ms(), &page))
        .await?;
    let offset_minutes = state.config.display_offset_minutes;
    let rows: Vec<TicketRow> = page
        .into_iter()
        .map(|mut view| {
            // Uses this node took ahead are still the ticket's (`service::ticket_uses`).
            view.left_num += state.ticket_uses.held(&view.id);
            row(view, offset_minutes)
        })
        .collect();
    Ok(Json(json!({"count": count, "page_data": rows})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTicket {
    embed_id: Option<String>,
    expire_seconds: Option<i64>,
    left_num: Option<i64>,
    user_id: Option<String>,
}

/// `POST /v1/{project_id}/tickets`: a ticket with an optional scope, lifetime, use count and (for
/// administrators) owner. Answers the list's row shape plus `value`, the ticket itself.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(project_id): Path<String>,
    body: Result<JsonBody<CreateTicket>, ApiError>,
) -> ApiResult<impl IntoResponse> {
    create_inner(state, principal, project_id, body)
        .await
        .map_err(ApiError::insight)
}

async fn create_inner(
    state: AppState,
    principal: Principal,
    project_id: String,
    body: Result<JsonBody<CreateTicket>, ApiError>,
) -> ApiResult<impl IntoResponse> {
    let JsonBody(body) = body?;
    let embed_id = body.embed_id.unwrap_or_default();
    if embed_id.chars().count() > 100 {
        return Err(ApiError::invalid(
            "embed_id",
            "must be at most 100 characters",
        ));
    }
    let lifetime = body
        .expire_seconds
        .unwrap_or(state.config.ticket_lifetime_secs as i64);
    if !(1..=MAX_EXPIRE_SECONDS).contains(&lifetime) {
        return Err(ApiError::invalid(
            "expire_seconds",
            format!("must be from 1 to {MAX_EXPIRE_SECONDS}"),
        ));
    }
    let left_num = body.left_num.unwrap_or(i64::from(state.config.ticket_uses));
    if !(1..=MAX_LEFT_NUM).contains(&left_num) {
        return Err(ApiError::invalid(
            "left_num",
            format!("must be from 1 to {MAX_LEFT_NUM}"),
        ));
    }
    let project = project_of_caller(&state, &principal, project_id).await?;
    let owner = match body.user_id {
        None => principal.user_id.clone(),
        Some(id) if id == principal.user_id => id,
        Some(id) => {
            if !is_hex32(&id) {
                return Err(ApiError::invalid(
                    "user_id",
                    "must be 32 lower-case hex characters",
                ));
            }
            state.require(&principal, actions::CREATE_TICKETS).await?;
            let domain_id = principal.domain_id.clone();
            let lookup = id.clone();
            let user = state
                .db
                .call(move |conn| identity::get_user(conn, &lookup))
                .await?;
            match user {
                Some(u) if u.domain_id == domain_id => id,
                _ => return Err(ApiError::not_found("No such user in the caller's account")),
            }
        }
    };
    let (value, public_id) =
        store_new_ticket(&state, &owner, &project.id, embed_id, lifetime, left_num).await?;
    let view = state
        .db
        .call(move |conn| tickets::get_valid(conn, &public_id, now_ms()))
        .await?
        .ok_or_else(|| ApiError::Internal("a ticket vanished right after it was stored".into()))?;
    let mut answer = serde_json::to_value(row(view, state.config.display_offset_minutes))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    answer["value"] = json!(value);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// `DELETE /v1/{project_id}/tickets/{ticket}`: revoke by public id. Holders revoke their own tickets;
/// the root user and holders of `codeartsartifact:ticket:create` may revoke anyone's.
pub async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path((project_id, ticket_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    revoke_inner(state, principal, project_id, ticket_id)
        .await
        .map_err(ApiError::insight)
}

async fn revoke_inner(
    state: AppState,
    principal: Principal,
    project_id: String,
    ticket_id: String,
) -> ApiResult<StatusCode> {
    let is_sha256_hex = ticket_id.len() == 64
        && ticket_id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !is_sha256_hex {
        return Err(ApiError::invalid(
            "ticket",
            "must be the 64-hex-character ticket id of the list",
        ));
    }
    let project = project_of_caller(&state, &principal, project_id).await?;
    let lookup = ticket_id.clone();
    let view = state
        .db
        .call(move |conn| tickets::get_valid(conn, &lookup, now_ms()))
        .await?
        .filter(|v| v.iam_project_id == project.id)
        .ok_or_else(|| ApiError::not_found("No valid ticket with this id in the project"))?;
    if view.user_id != principal.user_id {
        state.require(&principal, actions::CREATE_TICKETS).await?;
    }
    state
        .db
        .call(move |conn| tickets::revoke(conn, &ticket_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::display_time;

    #[test]
    fn expire_time_is_written_in_the_display_offset() {
        // 2024-08-26 12:48:52 UTC
        let ms = 1_724_676_532_000;
        assert_eq!(display_time(ms, 480), "2024-08-26 20:48:52 (GMT+08:00)");
        assert_eq!(display_time(ms, 0), "2024-08-26 12:48:52 (GMT+00:00)");
        assert_eq!(display_time(ms, -330), "2024-08-26 07:18:52 (GMT-05:30)");
    }
}
