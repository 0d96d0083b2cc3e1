//! Permanent access keys (`/v3.0/OS-CREDENTIAL/credentials`). A user has at most two; the secret key is
//! shown once, in the answer that creates it, and is stored sealed under the data directory's key. As in
//! Huawei IAM, users manage their own keys; managing another user's keys needs the IAM action.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{actions, hex_id, keystone_time, require_self_or, text, user_of_domain};
use crate::auth::Principal;
use crate::domain::{new_access_key, random_alnum};
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity::{self, AccessKey};
use crate::store::now_ms;

/// Keys a user may hold at once (SPEC §1).
const MAX_KEYS_PER_USER: i64 = 2;

fn valid_access_key(ak: &str) -> bool {
    ak.len() == 20
        && ak
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn status(active: bool) -> &'static str {
    if active {
        "active"
    } else {
        "inactive"
    }
}

/// A key as every answer but the creating one shows it: never the secret.
fn key_json(k: &AccessKey) -> Value {
    json!({
        "access": k.access_key,
        "user_id": k.user_id,
        "status": status(k.active),
        "create_time": keystone_time(k.created_at),
        "description": k.description,
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = IamCreateCredentialBody)]
pub struct CreateBody {
    credential: Option<CreateFields>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = IamCreateCredentialFields)]
struct CreateFields {
    user_id: Option<String>,
    description: Option<String>,
}

/// `POST /v3.0/OS-CREDENTIAL/credentials` (create_permanent_access_key): 201 with the secret, once.
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<impl IntoResponse> {
    let f = body
        .credential
        .ok_or_else(|| ApiError::invalid("credential", "is required"))?;
    let user_id = f
        .user_id
        .ok_or_else(|| ApiError::invalid("credential.user_id", "is required"))?;
    hex_id("credential.user_id", &user_id)?;
    text("credential.description", f.description.as_deref(), 255)?;
    require_self_or(&state, &principal, &user_id, actions::CREATE_CREDENTIAL).await?;
    let user = user_of_domain(&state, &principal, &user_id).await?;
    if user.is_root && !principal.is_root {
        return Err(root_keys_forbidden());
    }

    let secret = random_alnum(40);
    let key = AccessKey {
        access_key: new_access_key(),
        user_id: user.id,
        secret_enc: state.secrets.seal(secret.as_bytes()),
        active: true,
        description: f.description.unwrap_or_default(),
        created_at: now_ms(),
    };
    let stored = key.clone();
    let created = state
        .db
        .call(move |conn| {
            // Immediate: the count and the insert see no concurrent creation in between.
            let tx = conn.transaction()?;
            if identity::count_access_keys(&tx, &stored.user_id)? >= MAX_KEYS_PER_USER {
                return Ok(false);
            }
            identity::insert_access_key(&tx, &stored)?;
            tx.commit()?;
            Ok(true)
        })
        .await?;
    if !created {
        return Err(ApiError::Conflict(format!(
            "The user already has {MAX_KEYS_PER_USER} access keys; delete one before creating another"
        )));
    }
    let mut credential = key_json(&key);
    credential["secret"] = json!(secret);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "credential": credential })),
    ))
}

/// `GET /v3.0/OS-CREDENTIAL/credentials` (list_permanent_access_keys). With `user_id`, that user's keys;
/// without, every key of the account for callers allowed `iam:credentials:listCredentials`, else the
/// caller's own.
pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let user_id = query.filter("user_id", 64)?;
    let keys = match user_id {
        Some(user_id) => {
            hex_id("user_id", &user_id)?;
            require_self_or(&state, &principal, &user_id, actions::LIST_CREDENTIALS).await?;
            let user = user_of_domain(&state, &principal, &user_id).await?;
            state
                .db
                .call(move |conn| identity::list_access_keys(conn, &user.id))
                .await?
        }
        None if state
            .is_allowed(&principal, actions::LIST_CREDENTIALS)
            .await? =>
        {
            let domain = principal.domain_id.clone();
            state
                .db
                .call(move |conn| identity::list_domain_access_keys(conn, &domain))
                .await?
        }
        None => {
            let own = principal.user_id.clone();
            state
                .db
                .call(move |conn| identity::list_access_keys(conn, &own))
                .await?
        }
    };
    let credentials: Vec<Value> = keys.iter().map(key_json).collect();
    Ok(Json(json!({ "credentials": credentials })))
}

/// Only the root user may create, change or delete the root user's keys: anyone else doing so could act
/// as the account owner.
fn root_keys_forbidden() -> ApiError {
    ApiError::forbidden("Only the account's root user may manage the root user's access keys")
}

/// Loads a key of the caller's domain; 404 for unknown keys and other domains' keys alike. Keys of other
/// users of the domain need `action`; with `changes`, the root user's keys are the root user's alone.
async fn key_of_domain(
    state: &AppState,
    principal: &Principal,
    access_key: &str,
    action: &'static str,
    changes: bool,
) -> ApiResult<AccessKey> {
    if !valid_access_key(access_key) {
        return Err(ApiError::invalid(
            "access_key",
            "must be 20 upper-case letters and digits",
        ));
    }
    let ak = access_key.to_string();
    let found = state
        .db
        .call(move |conn| {
            let Some(key) = identity::get_access_key(conn, &ak)? else {
                return Ok(None);
            };
            Ok(identity::get_user(conn, &key.user_id)?.map(|u| (key, u)))
        })
        .await?;
    match found {
        Some((key, owner)) if owner.domain_id == principal.domain_id => {
            require_self_or(state, principal, &key.user_id, action).await?;
            if changes && owner.is_root && !principal.is_root {
                return Err(root_keys_forbidden());
            }
            Ok(key)
        }
        _ => Err(ApiError::not_found(format!(
            "No access key {access_key} in the caller's account"
        ))),
    }
}

/// `GET /v3.0/OS-CREDENTIAL/credentials/{access_key}` (show_permanent_access_key).
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    Path(access_key): Path<String>,
) -> ApiResult<Json<Value>> {
    let key = key_of_domain(
        &state,
        &principal,
        &access_key,
        actions::GET_CREDENTIAL,
        false,
    )
    .await?;
    Ok(Json(json!({ "credential": key_json(&key) })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = IamUpdateCredentialBody)]
pub struct UpdateBody {
    credential: Option<UpdateFields>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = IamUpdateCredentialFields)]
struct UpdateFields {
    status: Option<String>,
    description: Option<String>,
}

/// `PUT /v3.0/OS-CREDENTIAL/credentials/{access_key}` (update_permanent_access_key): status and/or
/// description.
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(access_key): Path<String>,
    JsonBody(body): JsonBody<UpdateBody>,
) -> ApiResult<Json<Value>> {
    let f = body
        .credential
        .ok_or_else(|| ApiError::invalid("credential", "is required"))?;
    let active = match f.status.as_deref() {
        None => None,
        Some("active") => Some(true),
        Some("inactive") => Some(false),
        Some(_) => {
            return Err(ApiError::invalid(
                "credential.status",
                "must be active or inactive",
            ))
        }
    };
    text("credential.description", f.description.as_deref(), 255)?;
    if active.is_none() && f.description.is_none() {
        return Err(ApiError::invalid(
            "credential",
            "must give status or description",
        ));
    }
    let mut key = key_of_domain(
        &state,
        &principal,
        &access_key,
        actions::UPDATE_CREDENTIAL,
        true,
    )
    .await?;
    if let Some(a) = active {
        key.active = a;
    }
    if let Some(d) = f.description {
        key.description = d;
    }
    let stored = key.clone();
    state
        .db
        .call(move |conn| {
            identity::update_access_key(
                conn,
                &stored.access_key,
                stored.active,
                &stored.description,
            )
        })
        .await?;
    Ok(Json(json!({ "credential": key_json(&key) })))
}

/// `DELETE /v3.0/OS-CREDENTIAL/credentials/{access_key}` (delete_permanent_access_key): 204.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(access_key): Path<String>,
) -> ApiResult<StatusCode> {
    let key = key_of_domain(
        &state,
        &principal,
        &access_key,
        actions::DELETE_CREDENTIAL,
        true,
    )
    .await?;
    state
        .db
        .call(move |conn| identity::delete_access_key(conn, &key.access_key))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_key_shape() {
        assert!(valid_access_key(&new_access_key()));
        assert!(valid_access_key("ABCDEFGHIJ0123456789"));
        assert!(!valid_access_key("abcdefghij0123456789"));
        assert!(!valid_access_key("ABCDEFGHIJ012345678"));
        assert!(!valid_access_key("ABCDEFGHIJ012345678-"));
    }

    #[test]
    fn listed_keys_never_show_the_secret() {
        let k = AccessKey {
            access_key: "AK".into(),
            user_id: "u".into(),
            secret_enc: b"sealed".to_vec(),
            active: false,
            description: "ci".into(),
            created_at: 0,
        };
        let v = key_json(&k);
        assert_eq!(v["status"], "inactive");
        assert!(v.get("secret").is_none());
        assert!(!v.to_string().contains("sealed"));
    }
}
