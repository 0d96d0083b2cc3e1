//! IAM users, in both of Huawei IAM's shapes: Keystone's (`/v3/users`) and the OS-USER API
//! (`/v3.0/OS-USER/users`). Passwords are only ever stored hashed; the root user cannot be deleted,
//! renamed or disabled, and only the root user may change it.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use chrono::NaiveDateTime;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{
    actions, hex_id, huawei_time, link_self, links, own_domain, require_self_or, text,
    user_of_domain,
};
use crate::auth::secrets::{hash_password, verify_password};
use crate::auth::Principal;
use crate::domain::new_hex_id;
use crate::http::app::AppState;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity::{self, User, UserProfile};
use crate::store::now_ms;

const ACCESS_MODES: [&str; 3] = ["default", "programmatic", "console"];

/// IAM user names: 1 to 64 of ASCII letters, digits, space, `-`, `_` and `.`, not starting with a digit
/// (the SDK's documented rule).
pub fn valid_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" -_.".contains(&b))
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Huawei IAM's default password policy: 6 to 32 printable ASCII characters of at least two of the four
/// kinds (upper case, lower case, digits, special characters), containing neither the phone number nor
/// the e-mail address.
pub fn check_password(
    password: &str,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<(), &'static str> {
    if !(6..=32).contains(&password.len()) || !password.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("must be 6 to 32 printable ASCII characters without spaces");
    }
    if character_kinds(password) < 2 {
        return Err("must contain at least two of: upper-case letters, lower-case letters, digits, special characters");
    }
    let contains = |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && password.contains(s));
    if contains(email) || contains(phone) {
        return Err("must not contain the user's e-mail address or phone number");
    }
    Ok(())
}

fn character_kinds(password: &str) -> usize {
    let b = password.as_bytes();
    [
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_digit),
        b.iter().any(|c| c.is_ascii_punctuation()),
    ]
    .iter()
    .filter(|k| **k)
    .count()
}

/// `high`, `mid` or `low`, as the OS-USER API's `pwd_strength` reports it (decision: all four kinds and at
/// least 12 characters is high, three kinds is mid).
pub fn password_strength(password: &str) -> &'static str {
    match character_kinds(password) {
        4 if password.len() >= 12 => "high",
        3 | 4 => "mid",
        _ => "low",
    }
}

fn valid_email(email: &str) -> bool {
    let Some((local, host)) = email.split_once('@') else {
        return false;
    };
    email.len() <= 255
        && !local.is_empty()
        && host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && !host.contains('@')
        && email.bytes().all(|b| b.is_ascii_graphic())
}

/// The fields of a create or update request, whichever API shape it came in.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UserFields {
    name: Option<String>,
    domain_id: Option<String>,
    password: Option<String>,
    enabled: Option<bool>,
    description: Option<String>,
    email: Option<String>,
    areacode: Option<String>,
    phone: Option<String>,
    access_mode: Option<String>,
    pwd_status: Option<bool>,
    xuser_type: Option<String>,
    xuser_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct UserBody {
    user: Option<UserFields>,
}

impl UserBody {
    fn fields(self) -> ApiResult<UserFields> {
        self.user
            .ok_or_else(|| ApiError::invalid("user", "is required"))
    }
}

/// Checks each present field's shape; every failure names `user.<field>`.
fn check_fields(f: &UserFields) -> ApiResult<()> {
    if let Some(name) = &f.name {
        if !valid_user_name(name) {
            return Err(ApiError::invalid(
                "user.name",
                "must be 1 to 64 letters, digits, spaces, '-', '_' or '.', not starting with a digit",
            ));
        }
    }
    if let Some(email) = f.email.as_deref().filter(|e| !e.is_empty()) {
        if !valid_email(email) {
            return Err(ApiError::invalid(
                "user.email",
                "must be an e-mail address of at most 255 characters",
            ));
        }
    }
    if let Some(phone) = f.phone.as_deref().filter(|p| !p.is_empty()) {
        if phone.len() > 32 || !phone.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid("user.phone", "must be at most 32 digits"));
        }
    }
    if let Some(code) = f.areacode.as_deref().filter(|c| !c.is_empty()) {
        if code.len() > 8 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::invalid(
                "user.areacode",
                "must be at most 8 digits, such as 0086",
            ));
        }
    }
    if let Some(mode) = &f.access_mode {
        if !ACCESS_MODES.contains(&mode.as_str()) {
            return Err(ApiError::invalid(
                "user.access_mode",
                "must be default, programmatic or console",
            ));
        }
    }
    text("user.description", f.description.as_deref(), 255)?;
    text("user.xuser_type", f.xuser_type.as_deref(), 64)?;
    text("user.xuser_id", f.xuser_id.as_deref(), 128)?;
    if let Some(pw) = &f.password {
        check_password(pw, f.email.as_deref(), f.phone.as_deref())
            .map_err(|reason| ApiError::invalid("user.password", reason))?;
    }
    Ok(())
}

/// Fields that must come in pairs, checked on the record as it will be stored.
fn check_pairs(user: &User, profile: &UserProfile) -> ApiResult<()> {
    if user.phone.is_some() != profile.areacode.is_some() {
        let name = if user.phone.is_some() {
            "user.areacode"
        } else {
            "user.phone"
        };
        return Err(ApiError::invalid(
            name,
            "phone and areacode must be given together",
        ));
    }
    if profile.xuser_type.is_some() != profile.xuser_id.is_some() {
        let name = if profile.xuser_type.is_some() {
            "user.xuser_id"
        } else {
            "user.xuser_type"
        };
        return Err(ApiError::invalid(
            name,
            "xuser_type and xuser_id must be given together",
        ));
    }
    Ok(())
}

/// An empty string clears an optional field.
fn clearable(v: String) -> Option<String> {
    (!v.is_empty()).then_some(v)
}

async fn create_user(
    state: &AppState,
    principal: &Principal,
    f: UserFields,
) -> ApiResult<(User, UserProfile)> {
    check_fields(&f)?;
    own_domain(principal, "user.domain_id", f.domain_id.as_deref())?;
    let name = f
        .name
        .clone()
        .ok_or_else(|| ApiError::invalid("user.name", "is required"))?;
    state.require(principal, actions::CREATE_USER).await?;

    let now = now_ms();
    let mut user = User {
        id: new_hex_id(),
        domain_id: principal.domain_id.clone(),
        name,
        password_hash: None,
        is_root: false,
        enabled: f.enabled.unwrap_or(true),
        email: f.email.and_then(clearable),
        phone: f.phone.and_then(clearable),
        description: f.description,
        created_at: now,
        modified_at: now,
        created_by: principal.user_id.clone(),
        modified_by: principal.user_id.clone(),
    };
    let profile = UserProfile {
        access_mode: f.access_mode.unwrap_or_else(|| "default".into()),
        areacode: f.areacode.and_then(clearable),
        // Decision: arca never forces a password change, so the flag defaults to false.
        pwd_status: f.pwd_status.unwrap_or(false),
        pwd_strength: f.password.as_deref().map(|p| password_strength(p).into()),
        xuser_type: f.xuser_type.and_then(clearable),
        xuser_id: f.xuser_id.and_then(clearable),
        password_changed_at: f.password.is_some().then_some(now),
        ..UserProfile::default()
    };
    check_pairs(&user, &profile)?;
    let password = f.password;
    state
        .db
        .call(move |conn| {
            user.password_hash = password.as_deref().map(hash_password);
            let tx = conn.transaction()?;
            identity::insert_user(&tx, &user)?;
            identity::put_user_profile(&tx, &user.id, &profile)?;
            tx.commit()?;
            Ok((user, profile))
        })
        .await
        .map_err(ApiError::from)
}

/// Applies an update to `target`; only the root user may change the root user, and not its name or
/// enabled state.
async fn update_user(
    state: &AppState,
    principal: &Principal,
    user_id: &str,
    f: UserFields,
) -> ApiResult<(User, UserProfile)> {
    hex_id("user_id", user_id)?;
    check_fields(&f)?;
    own_domain(principal, "user.domain_id", f.domain_id.as_deref())?;
    let changes_something = f.name.is_some()
        || f.password.is_some()
        || f.enabled.is_some()
        || f.description.is_some()
        || f.email.is_some()
        || f.phone.is_some()
        || f.areacode.is_some()
        || f.access_mode.is_some()
        || f.pwd_status.is_some()
        || f.xuser_type.is_some()
        || f.xuser_id.is_some();
    if !changes_something {
        return Err(ApiError::invalid(
            "user",
            "must give at least one field to change",
        ));
    }
    state.require(principal, actions::UPDATE_USER).await?;
    let mut user = user_of_domain(state, principal, user_id).await?;
    if user.is_root {
        if principal.user_id != user.id {
            return Err(ApiError::forbidden(
                "Only the account's root user may change the root user",
            ));
        }
        if f.name.as_ref().is_some_and(|n| *n != user.name) || f.enabled == Some(false) {
            return Err(ApiError::forbidden(
                "The root user cannot be renamed or disabled",
            ));
        }
    }
    let now = now_ms();
    let old_hash = user.password_hash.clone();
    if let Some(name) = f.name {
        user.name = name;
    }
    if let Some(enabled) = f.enabled {
        user.enabled = enabled;
    }
    if let Some(d) = f.description {
        user.description = Some(d);
    }
    if let Some(e) = f.email {
        user.email = clearable(e);
    }
    if let Some(p) = f.phone {
        user.phone = clearable(p);
    }
    user.modified_at = now;
    user.modified_by = principal.user_id.clone();

    let uid = user.id.clone();
    let mut profile = state
        .db
        .call(move |conn| identity::get_user_profile(conn, &uid))
        .await?;
    if let Some(mode) = f.access_mode {
        profile.access_mode = mode;
    }
    if let Some(code) = f.areacode {
        profile.areacode = clearable(code);
    }
    if let Some(s) = f.pwd_status {
        profile.pwd_status = s;
    }
    if let Some(t) = f.xuser_type {
        profile.xuser_type = clearable(t);
    }
    if let Some(i) = f.xuser_id {
        profile.xuser_id = clearable(i);
    }
    check_pairs(&user, &profile)?;
    if let Some(pw) = &f.password {
        // The stored e-mail and phone count too, not only those of this request.
        check_password(pw, user.email.as_deref(), user.phone.as_deref())
            .map_err(|reason| ApiError::invalid("user.password", reason))?;
        profile.pwd_strength = Some(password_strength(pw).into());
        profile.password_changed_at = Some(now);
    }
    let password = f.password;
    state
        .db
        .call(move |conn| {
            if let Some(pw) = &password {
                if old_hash.as_deref().is_some_and(|h| verify_password(pw, h)) {
                    return Ok(Err(ApiError::invalid(
                        "user.password",
                        "must differ from the current password",
                    )));
                }
                user.password_hash = Some(hash_password(pw));
            }
            let tx = conn.transaction()?;
            identity::update_user(&tx, &user)?;
            identity::put_user_profile(&tx, &user.id, &profile)?;
            tx.commit()?;
            Ok(Ok((user, profile)))
        })
        .await?
}

async fn load(
    state: &AppState,
    principal: &Principal,
    user_id: &str,
) -> ApiResult<(User, UserProfile)> {
    hex_id("user_id", user_id)?;
    require_self_or(state, principal, user_id, actions::GET_USER).await?;
    let user = user_of_domain(state, principal, user_id).await?;
    let id = user.id.clone();
    let profile = state
        .db
        .call(move |conn| identity::get_user_profile(conn, &id))
        .await?;
    Ok((user, profile))
}

/// A user in Keystone's shape (`KeystoneShowUserResult` and its siblings).
pub(super) fn keystone_user_json(u: &User, p: &UserProfile, headers: &HeaderMap) -> Value {
    json!({
        "id": u.id,
        "name": u.name,
        "domain_id": u.domain_id,
        "enabled": u.enabled,
        "description": u.description.clone().unwrap_or_default(),
        "pwd_status": p.pwd_status,
        "pwd_strength": p.pwd_strength,
        "access_mode": p.access_mode,
        "last_project_id": p.last_project_id,
        "password_expires_at": null,
        "links": links(headers, &format!("/v3/users/{}", u.id)),
    })
}

/// A user in the OS-USER API's shape (`ShowUserResult`, `CreateUserResult`, `UpdateUserResult`).
fn os_user_json(u: &User, p: &UserProfile, headers: &HeaderMap) -> Value {
    let time = |ms: Option<i64>| ms.map(huawei_time);
    json!({
        "id": u.id,
        "name": u.name,
        "domain_id": u.domain_id,
        "enabled": u.enabled,
        "description": u.description.clone().unwrap_or_default(),
        "email": u.email.clone().unwrap_or_default(),
        "phone": u.phone.clone().unwrap_or_default(),
        "areacode": p.areacode.clone().unwrap_or_default(),
        "access_mode": p.access_mode,
        "pwd_status": p.pwd_status,
        "pwd_strength": p.pwd_strength,
        "xuser_type": p.xuser_type.clone().unwrap_or_default(),
        "xuser_id": p.xuser_id.clone().unwrap_or_default(),
        "is_domain_owner": u.is_root,
        "create_time": huawei_time(u.created_at),
        "update_time": huawei_time(u.modified_at),
        "last_login_time": time(p.last_login_at),
        "last_pwd_auth_time": time(p.last_login_at),
        "pwd_create_time": time(p.password_changed_at),
        "modify_pwd_time": time(p.password_changed_at),
        "password_expires_at": null,
        "links": link_self(headers, &format!("/v3.0/OS-USER/users/{}", u.id)),
    })
}

/// `POST /v3/users` (keystone_create_user).
pub async fn keystone_create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UserBody>,
) -> ApiResult<impl IntoResponse> {
    let (user, profile) = create_user(&state, &principal, body.fields()?).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": keystone_user_json(&user, &profile, &headers) })),
    ))
}

/// `POST /v3.0/OS-USER/users` (create_user).
pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UserBody>,
) -> ApiResult<impl IntoResponse> {
    let (user, profile) = create_user(&state, &principal, body.fields()?).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "user": os_user_json(&user, &profile, &headers) })),
    ))
}

/// `password_expires_at={op}:{YYYY-MM-DDTHH:mm:ssZ}`. arca's passwords never expire, so a user's expiry
/// counts as later than any timestamp: the filter matches everyone for `gt`, `gte` and `neq`, no one
/// otherwise.
fn expiry_filter_matches(raw: &str) -> Result<bool, &'static str> {
    const FORMAT: &str =
        "must be {operator}:{YYYY-MM-DDTHH:mm:ssZ} with operator lt, lte, gt, gte, eq or neq";
    let (op, ts) = raw.split_once(':').ok_or(FORMAT)?;
    NaiveDateTime::parse_from_str(ts, "%Y-%m-%dT%H:%M:%SZ").map_err(|_| FORMAT)?;
    match op {
        "gt" | "gte" | "neq" => Ok(true),
        "lt" | "lte" | "eq" => Ok(false),
        _ => Err(FORMAT),
    }
}

fn bool_param(query: &QueryParams, name: &str) -> ApiResult<Option<bool>> {
    match query.get(name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(ApiError::invalid(name, "must be true or false")),
    }
}

/// `GET /v3/users` (keystone_list_users): filters `name` (exact), `domain_id`, `enabled`,
/// `password_expires_at`.
pub async fn keystone_list(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let name = query.filter("name", 64)?;
    let domain_id = query.filter("domain_id", 64)?;
    let enabled = bool_param(&query, "enabled")?;
    let expiry_matches = match query.filter("password_expires_at", 64)? {
        None => true,
        Some(raw) => expiry_filter_matches(&raw)
            .map_err(|reason| ApiError::invalid("password_expires_at", reason))?,
    };
    state.require(&principal, actions::LIST_USERS).await?;
    let other_domain = domain_id.is_some_and(|d| d != principal.domain_id);
    let domain = principal.domain_id.clone();
    let rows = if other_domain || !expiry_matches {
        Vec::new()
    } else {
        state
            .db
            .call(move |conn| {
                let users = identity::list_users(conn, &domain, name.as_deref(), None)?;
                users
                    .into_iter()
                    .filter(|u| enabled.is_none_or(|e| u.enabled == e))
                    .map(|u| {
                        let p = identity::get_user_profile(conn, &u.id)?;
                        Ok((u, p))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?
    };
    let users: Vec<Value> = rows
        .iter()
        .map(|(u, p)| keystone_user_json(u, p, &headers))
        .collect();
    Ok(Json(
        json!({ "users": users, "links": links(&headers, "/v3/users") }),
    ))
}

/// `GET /v3/users/{user_id}` (keystone_show_user): a user may read themselves.
pub async fn keystone_show(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (user, profile) = load(&state, &principal, &user_id).await?;
    Ok(Json(
        json!({ "user": keystone_user_json(&user, &profile, &headers) }),
    ))
}

/// `GET /v3.0/OS-USER/users/{user_id}` (show_user): a user may read themselves.
pub async fn show(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (user, profile) = load(&state, &principal, &user_id).await?;
    Ok(Json(
        json!({ "user": os_user_json(&user, &profile, &headers) }),
    ))
}

/// `PATCH /v3/users/{user_id}` (keystone_update_user_by_admin).
pub async fn keystone_update(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    JsonBody(body): JsonBody<UserBody>,
) -> ApiResult<Json<Value>> {
    let (user, profile) = update_user(&state, &principal, &user_id, body.fields()?).await?;
    Ok(Json(
        json!({ "user": keystone_user_json(&user, &profile, &headers) }),
    ))
}

/// `PUT /v3.0/OS-USER/users/{user_id}` (update_user).
pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(user_id): Path<String>,
    JsonBody(body): JsonBody<UserBody>,
) -> ApiResult<Json<Value>> {
    let (user, profile) = update_user(&state, &principal, &user_id, body.fields()?).await?;
    Ok(Json(
        json!({ "user": os_user_json(&user, &profile, &headers) }),
    ))
}

/// `DELETE /v3/users/{user_id}` (keystone_delete_user): 204. The root user is never deleted.
pub async fn delete(
    State(state): State<AppState>,
    principal: Principal,
    Path(user_id): Path<String>,
) -> ApiResult<StatusCode> {
    hex_id("user_id", &user_id)?;
    state.require(&principal, actions::DELETE_USER).await?;
    let user = user_of_domain(&state, &principal, &user_id).await?;
    if user.is_root {
        return Err(ApiError::forbidden(
            "The account's root user cannot be deleted",
        ));
    }
    let deleted = state
        .db
        .call(move |conn| identity::delete_user(conn, &user.id))
        .await?;
    if deleted {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found(format!(
            "No user {user_id} in the caller's account"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_the_sdk_rule() {
        for ok in ["alice", "a", "Dev Ops-1_x.y", &"a".repeat(64)] {
            assert!(valid_user_name(ok), "{ok}");
        }
        for bad in [
            "",
            "1abc",
            &"a".repeat(65),
            "a/b",
            "bad\u{0}",
            "名字",
            "a@b",
        ] {
            assert!(!valid_user_name(bad), "{bad}");
        }
    }

    #[test]
    fn passwords_follow_the_default_policy() {
        assert!(check_password("abc123", None, None).is_ok());
        assert!(check_password("abcdef", None, None).is_err());
        assert!(check_password("ab1", None, None).is_err());
        assert!(check_password(&"aB".repeat(17), None, None).is_err());
        assert!(check_password("abc 123", None, None).is_err());
        assert!(check_password("x13800000000", None, Some("13800000000")).is_err());
        assert!(check_password("a@b.cc1", Some("a@b.cc"), None).is_err());
        assert!(check_password("Pass-word1", Some(""), None).is_ok());
        assert_eq!(password_strength("abc123"), "low");
        assert_eq!(password_strength("Abc123"), "mid");
        assert_eq!(password_strength("Abc123!"), "mid");
        assert_eq!(password_strength("Abc123!Abc123!"), "high");
    }

    #[test]
    fn emails_are_checked_loosely() {
        assert!(valid_email("a.b@example.com"));
        for bad in [
            "a",
            "@x.com",
            "a@x",
            "a@.x",
            "a@x.",
            "a b@x.com",
            "a@b@c.com",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn field_errors_name_the_field() {
        let f = UserFields {
            phone: Some("12ab".into()),
            ..Default::default()
        };
        assert!(check_fields(&f)
            .unwrap_err()
            .to_string()
            .contains("'user.phone'"));
        let f = UserFields {
            access_mode: Some("web".into()),
            ..Default::default()
        };
        assert!(check_fields(&f)
            .unwrap_err()
            .to_string()
            .contains("'user.access_mode'"));
        let f = UserFields {
            password: Some("short".into()),
            ..Default::default()
        };
        assert!(check_fields(&f)
            .unwrap_err()
            .to_string()
            .contains("'user.password'"));
    }

    #[test]
    fn expiry_filter() {
        assert_eq!(expiry_filter_matches("gt:2016-12-08T22:02:00Z"), Ok(true));
        assert_eq!(expiry_filter_matches("lt:2016-12-08T22:02:00Z"), Ok(false));
        assert!(expiry_filter_matches("xx:2016-12-08T22:02:00Z").is_err());
        assert!(expiry_filter_matches("lt:yesterday").is_err());
        assert!(expiry_filter_matches("lt").is_err());
    }
}
