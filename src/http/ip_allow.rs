//! An account's IP allow-list (CodeArts' `list_domain_ip_config`): when it has rules, every request for
//! the account — management API, IAM, ProjectMan and every package protocol — is accepted only from an
//! address a rule covers, and refused with 403 `ARCA.00000018` otherwise; an account without rules
//! accepts any address. The client address is the TCP peer, or `X-Forwarded-For` behind a configured
//! trusted proxy (as `auth_limit` reads it).
//!
//! Each node keeps an account's rules for `CACHE_SECS` after reading them; a change made on this node
//! applies at once, one made on another node within that time.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use axum::Json;
use ipnet::IpNet;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::domain::ip_rule;
use crate::domain::paging::page_window;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::ip_rules::{self, IpRule};
use crate::store::now_ms;

/// Changing an account's allow-list: its root user, or a user whose policies allow this.
pub const MANAGE_IP_RULES: &str = "codeartsartifact:ipConfig:manage";

/// How long a node believes the rules it read (README "IP allow-list").
pub const CACHE_SECS: u64 = 5;

/// The most rules an account may have.
const MAX_RULES: usize = 200;

/// An account's rules, and when they were read.
type Read = (Instant, Arc<Vec<IpNet>>);

/// The rules of the accounts asked about lately, by domain id.
#[derive(Default)]
pub struct AllowLists {
    read: RwLock<HashMap<String, Read>>,
}

impl AllowLists {
    fn cached(&self, domain_id: &str) -> Option<Arc<Vec<IpNet>>> {
        let read = self.read.read().unwrap_or_else(|e| e.into_inner());
        let (at, nets) = read.get(domain_id)?;
        (at.elapsed() < Duration::from_secs(CACHE_SECS)).then(|| nets.clone())
    }

    fn remember(&self, domain_id: &str, nets: Arc<Vec<IpNet>>) {
        let mut read = self.read.write().unwrap_or_else(|e| e.into_inner());
        // Accounts are few; forgetting the stale ones keeps the map from growing with every id asked about.
        read.retain(|_, (at, _)| at.elapsed() < Duration::from_secs(CACHE_SECS));
        read.insert(domain_id.to_string(), (Instant::now(), nets));
    }

    fn forget(&self, domain_id: &str) {
        let mut read = self.read.write().unwrap_or_else(|e| e.into_inner());
        read.remove(domain_id);
    }
}

async fn rules_of(state: &AppState, domain_id: &str) -> Result<Arc<Vec<IpNet>>, ApiError> {
    if let Some(nets) = state.allow_lists.cached(domain_id) {
        return Ok(nets);
    }
    let key = domain_id.to_string();
    let rules = state
        .db
        .call(move |conn| ip_rules::list(conn, &key))
        .await?;
    let nets: Arc<Vec<IpNet>> = Arc::new(
        rules
            .iter()
            .filter_map(|r| ip_rule::parse(&r.value))
            .collect(),
    );
    state.allow_lists.remember(domain_id, nets.clone());
    Ok(nets)
}

fn client_of(state: &AppState, headers: &HeaderMap, extensions: &Extensions) -> Option<IpAddr> {
    state.auth_limiter.client_addr(headers, extensions)
}

/// Refuses a request for account `domain_id` from an address its allow-list does not cover.
pub async fn check(
    state: &AppState,
    domain_id: &str,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> Result<(), ApiError> {
    check_client(state, domain_id, client_of(state, headers, extensions)).await
}

/// `check` for a client address already read (`None`: not known, which no rule covers).
pub async fn check_client(
    state: &AppState,
    domain_id: &str,
    client: Option<IpAddr>,
) -> Result<(), ApiError> {
    let rules = rules_of(state, domain_id).await?;
    if rules.is_empty() {
        return Ok(());
    }
    match client {
        Some(client) if ip_rule::admits(&rules, client) => Ok(()),
        _ => Err(ApiError::AddressRefused),
    }
}

/// `check` for a request's parts.
pub async fn check_parts(state: &AppState, domain_id: &str, parts: &Parts) -> Result<(), ApiError> {
    check(state, domain_id, &parts.headers, &parts.extensions).await
}

fn view(rule: &IpRule, region: &str) -> Value {
    let kind = ip_rule::parse(&rule.value).map_or("ip", |n| ip_rule::kind(&n));
    json!({
        "id": rule.id,
        "domain_id": rule.domain_id,
        "region": region,
        "type": kind,
        "value": rule.value,
        "created": rule.created_at,
        "updated": rule.modified_at,
    })
}

/// `GET /cloudartifact/v5/domain/ipconfig` (list_domain_ip_config): the account's rules, oldest first,
/// `page_no`/`page_size` paged (`DomainIPWhiteListModelPage`).
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let page_no = query.int("page_no", 1..=2_147_483_647, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let domain_id = principal.domain_id.clone();
    let rules = state
        .db
        .call(move |conn| ip_rules::list(conn, &domain_id))
        .await?;
    let window = page_window(rules.len() as u64, page_no as u64, page_size as u64);
    let region = &state.config.region;
    let data: Vec<Value> = rules
        .iter()
        .skip(window.skip)
        .take(window.take)
        .map(|r| view(r, region))
        .collect();
    Ok(success(json!({
        "total_records": rules.len(),
        "total_pages": window.total_pages,
        "data": data,
    })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleBody {
    value: Option<String>,
    /// Accepted as the list answers it; what a rule is follows from its value.
    #[serde(rename = "type")]
    _kind: Option<String>,
}

fn value_of(body: RuleBody) -> ApiResult<IpNet> {
    let value = body
        .value
        .ok_or_else(|| ApiError::invalid("value", "is required"))?;
    if value.len() > 64 {
        return Err(ApiError::invalid("value", "must be at most 64 characters"));
    }
    ip_rule::parse(&value).ok_or_else(|| {
        ApiError::invalid(
            "value",
            "must be an IPv4 or IPv6 address, or a network in CIDR form (10.0.0.0/8, 2001:db8::/32)",
        )
    })
}

/// Saves `rule` (new when its id is 0) unless the account's rules would then refuse the address this
/// request comes from: an administrator cannot lock themselves out by mistake.
async fn save(
    state: &AppState,
    principal: &Principal,
    parts: &Parts,
    rule: IpRule,
) -> ApiResult<Json<Value>> {
    let domain_id = principal.domain_id.clone();
    let client = client_of(state, &parts.headers, &parts.extensions);
    let saving = rule.clone();
    let saved = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let mut after: Vec<IpNet> = ip_rules::list(&tx, &domain_id)?
                .iter()
                .filter(|r| r.id != saving.id)
                .filter_map(|r| ip_rule::parse(&r.value))
                .collect();
            if saving.id == 0 && after.len() >= MAX_RULES {
                return Ok(Err(ApiError::invalid(
                    "value",
                    format!("the account has {MAX_RULES} rules, the most it may have"),
                )));
            }
            after.extend(ip_rule::parse(&saving.value));
            if !client.is_some_and(|c| ip_rule::admits(&after, c)) {
                return Ok(Err(ApiError::invalid(
                    "value",
                    "would leave out the address this request comes from: add a rule for it first",
                )));
            }
            let id = match ip_rules::save(&tx, &saving) {
                Err(e) if e.is_unique_violation() => {
                    return Ok(Err(ApiError::Conflict(
                        "The account already has this rule".into(),
                    )))
                }
                other => other?,
            };
            tx.commit()?;
            Ok(Ok(ip_rules::get(conn, &domain_id, id)?))
        })
        .await??
        .ok_or_else(|| ApiError::not_found("The rule was deleted meanwhile"))?;
    state.allow_lists.forget(&principal.domain_id);
    Ok(success(view(&saved, &state.config.region)))
}

/// `POST /cloudartifact/v5/domain/ipconfig` (arca's own path): a new rule, `{"value": "10.0.0.0/8"}`.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    parts: Parts,
    body: Result<JsonBody<RuleBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    state.require(&principal, MANAGE_IP_RULES).await?;
    let net = value_of(body)?;
    let now = now_ms();
    let rule = IpRule {
        id: 0,
        domain_id: principal.domain_id.clone(),
        value: ip_rule::normalised(&net),
        created_at: now,
        created_by: principal.user_id.clone(),
        modified_at: now,
        modified_by: principal.user_id.clone(),
    };
    save(&state, &principal, &parts, rule).await
}

async fn existing(state: &AppState, principal: &Principal, id: &str) -> ApiResult<IpRule> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::invalid("id", "must be a positive integer"))?;
    let domain_id = principal.domain_id.clone();
    state
        .db
        .call(move |conn| ip_rules::get(conn, &domain_id, id))
        .await?
        .ok_or_else(|| ApiError::not_found("No such rule in the caller's account"))
}

/// `PUT /cloudartifact/v5/domain/ipconfig/{id}` (arca's own path): changes a rule's value.
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    parts: Parts,
    body: Result<JsonBody<RuleBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    state.require(&principal, MANAGE_IP_RULES).await?;
    let net = value_of(body)?;
    let mut rule = existing(&state, &principal, &id).await?;
    rule.value = ip_rule::normalised(&net);
    rule.modified_at = now_ms();
    rule.modified_by = principal.user_id.clone();
    save(&state, &principal, &parts, rule).await
}

/// `DELETE /cloudartifact/v5/domain/ipconfig/{id}` (arca's own path). Deleting the last rule opens the
/// account to every address again; deleting the one that admits the caller while others remain is
/// refused like any other change that would lock them out.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    parts: Parts,
) -> ApiResult<Json<Value>> {
    state.require(&principal, MANAGE_IP_RULES).await?;
    let rule = existing(&state, &principal, &id).await?;
    let domain_id = principal.domain_id.clone();
    let client = client_of(&state, &parts.headers, &parts.extensions);
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let after: Vec<IpNet> = ip_rules::list(&tx, &domain_id)?
                .iter()
                .filter(|r| r.id != rule.id)
                .filter_map(|r| ip_rule::parse(&r.value))
                .collect();
            if !client.is_some_and(|c| ip_rule::admits(&after, c)) {
                return Ok(Err(ApiError::invalid(
                    "id",
                    "deleting this rule would leave out the address this request comes from",
                )));
            }
            ip_rules::delete(&tx, &domain_id, rule.id)?;
            tx.commit()?;
            Ok(Ok(()))
        })
        .await??;
    state.allow_lists.forget(&principal.domain_id);
    Ok(success(json!({ "id": rule.id })))
}
