//! The users of self-hosted repositories (seed 003, SPEC §6).

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::{FixedOffset, TimeZone};
use serde::Serialize;
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::authz::policy::actions;
use crate::domain::paging::page_window;
use crate::http::app::AppState;
use crate::http::artifact::access::{scope_of, CallerAccess};
use crate::http::envelope::success;
use crate::http::error::ApiResult;
use crate::http::extract::QueryParams;
use crate::store::identity::{self, User};
use crate::store::repos::{self, Repository, STATUS_ACTIVE as STATUS_ACTIVE_REPO};

/// `status` numbers of SPEC §6: active, delete, disabled, view, trash.
const STATUS_ACTIVE: u8 = 0;
const STATUS_DISABLED: u8 = 2;

/// A user as list_maven_user lists them; /openapi.json describes it from this type.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoUserRow {
    status: u8,
    domain_id: String,
    region: String,
    created_time: String,
    modified_time: String,
    created_user_id: String,
    created_user_name: String,
    modified_user_id: String,
    modified_user_name: String,
    user_id: String,
    user_name: String,
    user_type: &'static str,
    enabled: String,
    repo_user_name: String,
    repo_number: i64,
    inner_repo_user_name: String,
}

/// `GET /cloudartifact/v5/repositories/users`.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let user_name = query.filter("user_name", 100)?;
    let page_no = query.int("page_no", 1..=2_147_483_647, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    state.require(&principal, actions::LIST_REPO_USERS).await?;

    let domain_id = principal.domain_id.clone();
    // A scoped ticket counts only the repositories in its scope.
    let scope = scope_of(&principal);
    let window = page_window(0, page_no as u64, page_size as u64);
    let (limit, offset) = (
        window.take as i64,
        window.skip.min(i64::MAX as usize) as i64,
    );
    let fences = if user_name.is_none() && offset >= identity::USER_FENCE {
        state.hot.user_fences(&state.db, &domain_id).await?
    } else {
        Default::default()
    };
    let (total, users, names, readable) = state
        .db
        .call(move |conn| {
            // The page is read from the database (a million users are never loaded for ten).
            let (total, users) = identity::page_users(
                conn,
                &domain_id,
                user_name.as_deref(),
                limit,
                offset,
                &fences,
            )?;
            // Only the page's users are counted: each count walks the account's repositories.
            let repos: Vec<Repository> = if users.is_empty() {
                Vec::new()
            } else {
                repos::domain_repos(conn, &domain_id)?
                    .into_iter()
                    .filter(|r| r.status == STATUS_ACTIVE_REPO)
                    .filter(|r| scope.root_in(&r.name, &r.id).is_some())
                    .collect()
            };
            let mut readable = HashMap::new();
            let mut names: HashMap<String, String> = HashMap::new();
            let who: Vec<(&str, bool)> = users.iter().map(|u| (u.id.as_str(), u.is_root)).collect();
            let access = CallerAccess::load_for_users(
                conn,
                &who,
                repos.iter().map(|r| r.project_id.as_str()),
            )?;
            for u in &users {
                let count = access.get(&u.id).map_or(0, |access| {
                    repos.iter().filter(|r| access.can_read(r)).count()
                });
                readable.insert(u.id.clone(), count as i64);
                names.insert(u.id.clone(), u.name.clone());
            }
            for u in &users {
                for id in [&u.created_by, &u.modified_by] {
                    if !names.contains_key(id) {
                        let name = identity::get_user(conn, id)?
                            .map(|c| c.name)
                            .unwrap_or_default();
                        names.insert(id.clone(), name);
                    }
                }
            }
            Ok((total, users, names, readable))
        })
        .await?;
    let names: HashMap<&str, &str> = names
        .iter()
        .map(|(id, name)| (id.as_str(), name.as_str()))
        .collect();
    let window = page_window(total.max(0) as u64, page_no as u64, page_size as u64);
    let offset = state.config.display_offset_minutes;
    let region = &state.config.region;
    let data: Vec<RepoUserRow> = users
        .iter()
        .map(|u| {
            row(
                u,
                &names,
                region,
                offset,
                readable.get(&u.id).copied().unwrap_or(0),
            )
        })
        .collect();
    Ok(success(json!({
        "total_records": total,
        "total_pages": window.total_pages,
        "data": data,
    })))
}

fn row(
    u: &User,
    names: &HashMap<&str, &str>,
    region: &str,
    offset_minutes: i32,
    repo_number: i64,
) -> RepoUserRow {
    let name_of = |id: &str| names.get(id).copied().unwrap_or_default().to_string();
    RepoUserRow {
        status: if u.enabled {
            STATUS_ACTIVE
        } else {
            STATUS_DISABLED
        },
        domain_id: u.domain_id.clone(),
        region: region.to_string(),
        created_time: local_time(u.created_at, offset_minutes),
        modified_time: local_time(u.modified_at, offset_minutes),
        created_user_id: u.created_by.clone(),
        created_user_name: name_of(&u.created_by),
        modified_user_id: u.modified_by.clone(),
        modified_user_name: name_of(&u.modified_by),
        user_id: u.id.clone(),
        user_name: u.name.clone(),
        user_type: "personal",
        enabled: u.enabled.to_string(),
        repo_user_name: format!("{}_{}", u.domain_id, u.id),
        repo_number,
        inner_repo_user_name: format!("{region}_{}_{}", u.domain_id, u.id),
    }
}

/// `yyyy-MM-dd HH:mm:ss` in the configured display offset.
pub fn local_time(ms: i64, offset_minutes: i32) -> String {
    let offset = FixedOffset::east_opt(offset_minutes * 60).expect("offset validated by config");
    offset
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}
