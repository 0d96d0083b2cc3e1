//! What the CodeArts API says about remote and virtual repositories beyond the repository itself: the
//! remote members a virtual repository reaches, whether the account proxies open-source registries at
//! all, and the outbound HTTP proxies upstream traffic goes through (`NetProxyModelV5`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::{repo_with_access, CallerAccess};
use super::repositories::{repository_dov5, ViewContext};
use crate::auth::Principal;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::service::repo_kinds;
use crate::store::remote::{self, NetProxy};
use crate::store::{now_ms, repos};

/// Managing an account's outbound proxies: its root user, or a user whose policies allow this.
pub const MANAGE_NET_PROXIES: &str = "codeartsartifact:netProxy:manage";

/// `GET /cloudartifact/v5/repositories/proxy?repo_id=&type=` (list_child_proxy_repositories_list): the
/// members of a virtual repository, in order, that are remote (`type` absent or `remote`), hosted
/// (`hosted`) or either (`all`), as far as the caller may read them. Other repositories have none.
pub async fn child_proxies(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let key = query
        .filter("repo_id", 128)?
        .ok_or_else(|| ApiError::invalid("repo_id", "is required"))?;
    let wanted = query
        .one_of("type", &[repo_kinds::REMOTE, repo_kinds::HOSTED, "all"])?
        .unwrap_or_else(|| repo_kinds::REMOTE.to_string());
    let (repo, access) = repo_with_access(&state, &principal, &key).await?;
    if !access.can_read(&repo) {
        return Err(ApiError::forbidden(format!(
            "download is not allowed on /{}",
            repo.name
        )));
    }
    let (config, domain_id) = (state.config.clone(), principal.domain_id.clone());
    let principal = principal.clone();
    let views = state
        .db
        .call(move |conn| {
            let Some(settings) = remote::get_virtual(conn, &repo.id)? else {
                return Ok(Vec::new());
            };
            let mut members = Vec::new();
            for id in &settings.members {
                if let Some(member) = repos::get_repo(conn, id)? {
                    members.push(member);
                }
            }
            let access = CallerAccess::load(
                conn,
                &principal,
                members.iter().map(|m| m.project_id.as_str()),
            )?;
            let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            Ok(members
                .iter()
                .filter(|m| wanted == "all" || m.repo_type == wanted)
                .filter(|m| access.can_read(m))
                .map(|m| repository_dov5(m, &ctx))
                .collect::<Vec<Value>>())
        })
        .await?;
    Ok(success(views))
}

/// `GET /cloudartifact/v5/opensource/enabled` (show_open_source_enabled): whether the account has a
/// remote repository, i.e. reaches open-source registries through arca.
pub async fn open_source_enabled(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Value>> {
    let domain_id = principal.domain_id.clone();
    let enabled = state
        .db
        .call(move |conn| remote::any_remote(conn, &domain_id))
        .await?;
    Ok(success(enabled))
}

fn proxy_view(proxy: &NetProxy, ctx: &ViewContext) -> Value {
    json!({
        "status": "active",
        "domain_id": proxy.domain_id,
        "region": ctx.region,
        "created_time": ctx.time(proxy.created_at),
        "modified_time": ctx.time(proxy.modified_at),
        "created_user_id": proxy.created_by,
        "created_user_name": ctx.name_of(&proxy.created_by),
        "modified_user_id": proxy.modified_by,
        "modified_user_name": ctx.name_of(&proxy.modified_by),
        "id": proxy.id,
        "host_name": proxy.host_name,
        "host": proxy.host,
        "port": proxy.port,
        "user_name": proxy.user_name,
        // Never the password: whether one is set.
        "password": "",
        "password_set": proxy.password_sealed.is_some(),
        "is_default": i32::from(proxy.is_default),
        "remark": proxy.remark,
    })
}

/// `GET /cloudartifact/v5/tree/net/proxy` (list_net_proxy): the account's outbound proxies.
pub async fn list_net_proxies(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (config, domain_id) = (state.config.clone(), principal.domain_id.clone());
    let views = state
        .db
        .call(move |conn| {
            let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            Ok(remote::list_net_proxies(conn, &domain_id)?
                .iter()
                .map(|p| proxy_view(p, &ctx))
                .collect::<Vec<Value>>())
        })
        .await?;
    Ok(success(views))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetProxyBody {
    host_name: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    user_name: Option<String>,
    password: Option<String>,
    is_default: Option<i32>,
    remark: Option<String>,
}

fn field(name: &str, value: &str, max: usize) -> ApiResult<()> {
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            name,
            format!("must be at most {max} characters, without control characters"),
        ));
    }
    Ok(())
}

/// A host name or an IP address, nothing that would change the proxy URL built from it.
fn proxy_host(value: &str) -> ApiResult<()> {
    let plausible = !value.is_empty()
        && value.len() <= 253
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    if plausible {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "host",
            "must be a host name or an IP address",
        ))
    }
}

/// Applies a create or update body over `proxy`; creation requires `host` and `port`.
fn apply(
    state: &AppState,
    mut proxy: NetProxy,
    body: NetProxyBody,
    creating: bool,
) -> ApiResult<NetProxy> {
    match body.host {
        Some(host) => {
            proxy_host(&host)?;
            proxy.host = host;
        }
        None if creating => return Err(ApiError::invalid("host", "is required")),
        None => {}
    }
    match body.port {
        Some(0) => return Err(ApiError::invalid("port", "must be 1 to 65535")),
        Some(port) => proxy.port = port,
        None if creating => return Err(ApiError::invalid("port", "is required")),
        None => {}
    }
    if let Some(name) = body.host_name {
        field("host_name", &name, 64)?;
        proxy.host_name = name;
    }
    if let Some(name) = body.user_name {
        field("user_name", &name, 128)?;
        proxy.user_name = name;
    }
    if let Some(password) = body.password {
        field("password", &password, 1024)?;
        proxy.password_sealed =
            (!password.is_empty()).then(|| state.secrets.seal(password.as_bytes()));
    }
    if let Some(remark) = body.remark {
        field("remark", &remark, 200)?;
        proxy.remark = remark;
    }
    match body.is_default {
        None => {}
        Some(0) => proxy.is_default = false,
        Some(1) => proxy.is_default = true,
        Some(_) => return Err(ApiError::invalid("is_default", "must be 0 or 1")),
    }
    if proxy.host_name.is_empty() {
        proxy.host_name = proxy.host.clone();
    }
    Ok(proxy)
}

async fn save(
    state: AppState,
    principal: Principal,
    headers: HeaderMap,
    proxy: NetProxy,
) -> ApiResult<Json<Value>> {
    let (config, domain_id) = (state.config.clone(), principal.domain_id.clone());
    let view = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let id = remote::save_net_proxy(&tx, &proxy)?;
            tx.commit()?;
            let saved = remote::get_net_proxy(conn, &domain_id, id)?;
            let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            Ok(saved.map(|p| proxy_view(&p, &ctx)))
        })
        .await?
        .ok_or_else(|| ApiError::not_found("The proxy was deleted meanwhile"))?;
    Ok(success(view))
}

/// `POST /cloudartifact/v5/tree/net/proxy` (arca's own path): a new outbound proxy; `is_default: 1`
/// makes it the one every upstream request goes through.
pub async fn create_net_proxy(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<JsonBody<NetProxyBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    state.require(&principal, MANAGE_NET_PROXIES).await?;
    let now = now_ms();
    let blank = NetProxy {
        id: 0,
        domain_id: principal.domain_id.clone(),
        host_name: String::new(),
        host: String::new(),
        port: 0,
        user_name: String::new(),
        password_sealed: None,
        is_default: false,
        remark: String::new(),
        created_at: now,
        created_by: principal.user_id.clone(),
        modified_at: now,
        modified_by: principal.user_id.clone(),
    };
    let proxy = apply(&state, blank, body, true)?;
    save(state, principal, headers, proxy).await
}

async fn existing_proxy(state: &AppState, principal: &Principal, id: &str) -> ApiResult<NetProxy> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::invalid("proxy_id", "must be a positive integer"))?;
    let domain_id = principal.domain_id.clone();
    state
        .db
        .call(move |conn| remote::get_net_proxy(conn, &domain_id, id))
        .await?
        .ok_or_else(|| ApiError::not_found("No such proxy in the caller's account"))
}

/// `PUT /cloudartifact/v5/tree/net/proxy/{proxy_id}` (arca's own path): changes a proxy; absent fields
/// stay, an empty `password` removes the stored one.
pub async fn update_net_proxy(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<JsonBody<NetProxyBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    state.require(&principal, MANAGE_NET_PROXIES).await?;
    let mut proxy = existing_proxy(&state, &principal, &id).await?;
    proxy.modified_at = now_ms();
    proxy.modified_by = principal.user_id.clone();
    let proxy = apply(&state, proxy, body, false)?;
    save(state, principal, headers, proxy).await
}

/// `DELETE /cloudartifact/v5/tree/net/proxy/{proxy_id}` (arca's own path).
pub async fn delete_net_proxy(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    state.require(&principal, MANAGE_NET_PROXIES).await?;
    let proxy = existing_proxy(&state, &principal, &id).await?;
    let domain_id = principal.domain_id.clone();
    state
        .db
        .call(move |conn| remote::delete_net_proxy(conn, &domain_id, proxy.id))
        .await?;
    Ok(success(json!({ "id": proxy.id })))
}
