//! Keystone tokens: `POST /v3/auth/tokens` (password method), `GET /v3/auth/tokens` (validate) and
//! `GET /v3/auth/domains` (the caller's domain, which `GlobalCredentials` looks up).

use crate::store::Conn;
use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{actions, keystone_time, link_self, links};
use crate::auth::secrets::{hash_password, verify_password};
use crate::auth::{token, Principal};
use crate::http::app::AppState;
use crate::http::auth_limit::ClientAddr;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::store::identity::{self, Domain, IamProject, User};
use crate::store::now_ms;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    auth: Option<Auth>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = TokenAuth)]
struct Auth {
    identity: Option<Identity>,
    scope: Option<Scope>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = TokenIdentity)]
struct Identity {
    methods: Option<Vec<String>>,
    password: Option<PasswordMethod>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = TokenPasswordMethod)]
struct PasswordMethod {
    user: Option<PasswordUser>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = TokenPasswordUser)]
struct PasswordUser {
    id: Option<String>,
    name: Option<String>,
    password: Option<String>,
    domain: Option<NameOrId>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[schema(as = TokenNameOrId)]
struct NameOrId {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[schema(as = TokenScope)]
struct Scope {
    project: Option<NameOrId>,
    domain: Option<NameOrId>,
}

/// Who asks for a token, once the body's shape is checked.
#[derive(Debug, PartialEq, Eq)]
enum Login {
    ById {
        user_id: String,
        password: String,
    },
    ByName {
        name: String,
        domain: DomainRef,
        password: String,
    },
}

#[derive(Debug, PartialEq, Eq)]
enum DomainRef {
    Id(String),
    Name(String),
}

impl Login {
    /// The user a login names, as failed logins are counted against it.
    fn claimed_user(&self) -> String {
        match self {
            Login::ById { user_id, .. } => user_id.clone(),
            Login::ByName {
                name,
                domain: DomainRef::Id(domain) | DomainRef::Name(domain),
                ..
            } => format!("{name}@{domain}"),
        }
    }
}

/// What the token is scoped to. No scope is a domain-scoped token (decision: as Huawei IAM answers).
#[derive(Debug, PartialEq, Eq)]
enum ScopeRef {
    Domain(Option<DomainRef>),
    ProjectId(String),
    ProjectName(String),
}

fn non_empty(name: &str, value: Option<String>, max: usize) -> ApiResult<String> {
    match value {
        None => Err(ApiError::invalid(name, "is required")),
        Some(v) if v.is_empty() || v.chars().count() > max => Err(ApiError::invalid(
            name,
            format!("must be 1 to {max} characters"),
        )),
        Some(v) => Ok(v),
    }
}

fn name_or_id(prefix: &str, value: NameOrId) -> ApiResult<Option<DomainRef>> {
    match (value.id, value.name) {
        (Some(id), _) => Ok(Some(DomainRef::Id(non_empty(
            &format!("{prefix}.id"),
            Some(id),
            64,
        )?))),
        (None, Some(name)) => Ok(Some(DomainRef::Name(non_empty(
            &format!("{prefix}.name"),
            Some(name),
            128,
        )?))),
        (None, None) => Ok(None),
    }
}

/// Checks the Keystone body's shape; every failure names the offending field.
fn parse_body(body: TokenBody) -> ApiResult<(Login, ScopeRef)> {
    let auth = body
        .auth
        .ok_or_else(|| ApiError::invalid("auth", "is required"))?;
    let identity = auth
        .identity
        .ok_or_else(|| ApiError::invalid("auth.identity", "is required"))?;
    let methods = identity.methods.unwrap_or_default();
    if methods.len() != 1 || methods[0] != "password" {
        return Err(ApiError::invalid(
            "auth.identity.methods",
            "must be [\"password\"]; arca issues tokens for the password method only",
        ));
    }
    let user = identity
        .password
        .and_then(|p| p.user)
        .ok_or_else(|| ApiError::invalid("auth.identity.password.user", "is required"))?;
    let password = non_empty("auth.identity.password.user.password", user.password, 128)?;
    let login = match (user.id, user.name) {
        (Some(id), _) => Login::ById {
            user_id: non_empty("auth.identity.password.user.id", Some(id), 64)?,
            password,
        },
        (None, Some(name)) => {
            let domain = name_or_id(
                "auth.identity.password.user.domain",
                user.domain.unwrap_or_default(),
            )?
            .ok_or_else(|| {
                ApiError::invalid(
                    "auth.identity.password.user.domain",
                    "is required with the user's name (give its name or id)",
                )
            })?;
            Login::ByName {
                name: non_empty("auth.identity.password.user.name", Some(name), 128)?,
                domain,
                password,
            }
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "auth.identity.password.user.name",
                "is required (or the user's id)",
            ))
        }
    };
    let scope = match auth.scope {
        None => ScopeRef::Domain(None),
        Some(Scope {
            project: Some(project),
            domain: None,
        }) => match (project.id, project.name) {
            (Some(id), _) => ScopeRef::ProjectId(non_empty("auth.scope.project.id", Some(id), 64)?),
            (None, Some(name)) => {
                ScopeRef::ProjectName(non_empty("auth.scope.project.name", Some(name), 64)?)
            }
            (None, None) => {
                return Err(ApiError::invalid(
                    "auth.scope.project",
                    "must give the project's id or name",
                ))
            }
        },
        Some(Scope {
            project: None,
            domain: Some(domain),
        }) => ScopeRef::Domain(Some(name_or_id("auth.scope.domain", domain)?.ok_or_else(
            || ApiError::invalid("auth.scope.domain", "must give the domain's id or name"),
        )?)),
        Some(Scope {
            project: None,
            domain: None,
        }) => ScopeRef::Domain(None),
        Some(_) => {
            return Err(ApiError::invalid(
                "auth.scope",
                "must name either a project or a domain, not both",
            ))
        }
    };
    Ok((login, scope))
}

/// A hash that no password matches quickly, so unknown users cost as much as wrong passwords.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("arca-timing-equaliser"))
}

struct Issued {
    user: User,
    domain: Domain,
    project: Option<IamProject>,
}

/// The one answer to every failed login (SPEC §2: never say which part was wrong).
const LOGIN_FAILED: ApiError = ApiError::Unauthenticated("password login failed");

fn authenticate(
    conn: &Conn,
    login: &Login,
    scope: &ScopeRef,
) -> Result<Result<Issued, ApiError>, crate::store::StoreError> {
    let (user, password) = match login {
        Login::ById { user_id, password } => (identity::get_user(conn, user_id)?, password),
        Login::ByName {
            name,
            domain,
            password,
        } => {
            let domain = match domain {
                DomainRef::Id(id) => identity::get_domain(conn, id)?,
                DomainRef::Name(n) => identity::find_domain_by_name(conn, n)?,
            };
            let user = match domain {
                Some(d) => identity::find_user_by_name(conn, &d.id, name)?,
                None => None,
            };
            (user, password)
        }
    };
    let hash = user
        .as_ref()
        .and_then(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_string());
    let password_ok = verify_password(password, &hash);
    let Some(user) = user.filter(|u| password_ok && u.enabled && u.password_hash.is_some()) else {
        return Ok(Err(LOGIN_FAILED));
    };
    let Some(domain) = identity::get_domain(conn, &user.domain_id)? else {
        return Ok(Err(LOGIN_FAILED));
    };
    let project = match scope {
        ScopeRef::Domain(None) => None,
        ScopeRef::Domain(Some(DomainRef::Id(id))) if *id == domain.id => None,
        ScopeRef::Domain(Some(DomainRef::Name(n))) if *n == domain.name => None,
        ScopeRef::Domain(Some(_)) => return Ok(Err(LOGIN_FAILED)),
        ScopeRef::ProjectId(id) => match identity::get_iam_project(conn, id)? {
            Some(p) if p.domain_id == domain.id => Some(p),
            _ => return Ok(Err(LOGIN_FAILED)),
        },
        ScopeRef::ProjectName(name) => {
            match identity::list_iam_projects(conn, &domain.id, Some(name))?
                .into_iter()
                .next()
            {
                Some(p) => Some(p),
                None => return Ok(Err(LOGIN_FAILED)),
            }
        }
    };
    Ok(Ok(Issued {
        user,
        domain,
        project,
    }))
}

/// The console's sign-in form: the same check as a domain-scoped password token, counted by the same
/// failure limiter and refused by the account's IP allow-list alike. Answers the user signed in.
pub(crate) async fn password_login(
    state: &AppState,
    client: Option<std::net::IpAddr>,
    domain_name: String,
    user_name: String,
    password: String,
) -> ApiResult<User> {
    let login = Login::ByName {
        name: user_name,
        domain: DomainRef::Name(domain_name),
        password,
    };
    let attempt = state
        .auth_limiter
        .attempt(client, Some(login.claimed_user()));
    let issued = attempt
        .run(async {
            state
                .db
                .call(move |conn| authenticate(conn, &login, &ScopeRef::Domain(None)))
                .await?
        })
        .await?;
    crate::http::ip_allow::check_client(state, &issued.domain.id, client).await?;
    let user_id = issued.user.id.clone();
    state
        .db
        .call(move |conn| identity::record_login(conn, &user_id, None, now_ms()))
        .await?;
    Ok(issued.user)
}

/// The `token` object of Keystone's answers.
fn token_json(
    user: &User,
    domain: &Domain,
    project: Option<&IamProject>,
    issued_at: i64,
    expires_at: i64,
) -> Value {
    let mut token = json!({
        "methods": ["password"],
        "issued_at": keystone_time(issued_at),
        "expires_at": keystone_time(expires_at),
        "user": {
            "id": user.id,
            "name": user.name,
            "password_expires_at": "",
            "domain": {"id": domain.id, "name": domain.name},
        },
        "catalog": [],
        "roles": [],
    });
    match project {
        Some(p) => {
            token["project"] = json!({
                "id": p.id,
                "name": p.name,
                "domain": {"id": domain.id, "name": domain.name},
            })
        }
        None => token["domain"] = json!({"id": domain.id, "name": domain.name}),
    }
    json!({ "token": token })
}

fn with_subject_token(status: StatusCode, token: &str, body: Value) -> ApiResult<Response> {
    let value = HeaderValue::from_str(token)
        .map_err(|_| ApiError::Internal("token is not a header value".into()))?;
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert("x-subject-token", value);
    Ok(response)
}

/// `POST /v3/auth/tokens` (keystone_create_user_token_by_password): 201, the token in `X-Subject-Token`.
pub async fn create(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    query: QueryParams,
    JsonBody(body): JsonBody<TokenBody>,
) -> ApiResult<Response> {
    query.string("nocatalog", 16)?;
    let (login, scope) = parse_body(body)?;
    let attempt = state
        .auth_limiter
        .attempt(client, Some(login.claimed_user()));
    let issued = attempt
        .run(async {
            state
                .db
                .call(move |conn| authenticate(conn, &login, &scope))
                .await?
        })
        .await?;
    // A password is no way around the account's allow-list.
    crate::http::ip_allow::check_client(&state, &issued.domain.id, client).await?;

    let presented = token::new_token();
    let hash = token::token_hash(&presented);
    let issued_at = now_ms();
    let lifetime_ms = i64::try_from(state.config.token_lifetime_secs)
        .unwrap_or(i64::MAX / 1000)
        .saturating_mul(1000);
    let expires_at = issued_at.saturating_add(lifetime_ms);
    let user_id = issued.user.id.clone();
    let project_id = issued.project.as_ref().map(|p| p.id.clone());
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            identity::insert_token(
                &tx,
                &hash,
                &user_id,
                project_id.as_deref(),
                issued_at,
                expires_at,
            )?;
            identity::record_login(&tx, &user_id, project_id.as_deref(), issued_at)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    let body = token_json(
        &issued.user,
        &issued.domain,
        issued.project.as_ref(),
        issued_at,
        expires_at,
    );
    with_subject_token(StatusCode::CREATED, &presented, body)
}

/// `GET /v3/auth/tokens` (keystone_validate_token): the token in `X-Subject-Token`, if still valid. A user
/// may validate their own tokens; others' need `iam:tokens:validate`.
pub async fn validate(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Response> {
    query.string("nocatalog", 16)?;
    let subject = headers
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| ApiError::invalid("X-Subject-Token", "is required"))?;
    if !token::is_plausible(&subject) {
        return Err(ApiError::invalid(
            "X-Subject-Token",
            "is not a well-formed token",
        ));
    }
    let hash = token::token_hash(&subject);
    let found = state
        .db
        .call(move |conn| {
            let Some(record) = identity::find_token(conn, &hash, now_ms())? else {
                return Ok(None);
            };
            let Some(user) = identity::get_user(conn, &record.user_id)? else {
                return Ok(None);
            };
            let Some(domain) = identity::get_domain(conn, &user.domain_id)? else {
                return Ok(None);
            };
            let project = match &record.project_id {
                Some(id) => identity::get_iam_project(conn, id)?,
                None => None,
            };
            Ok(Some((record, user, domain, project)))
        })
        .await?;
    let not_found = || ApiError::not_found("The subject token is unknown or expired");
    let (record, user, domain, project) = found.ok_or_else(not_found)?;
    if user.domain_id != principal.domain_id {
        return Err(not_found());
    }
    if user.id != principal.user_id {
        state.require(&principal, actions::VALIDATE_TOKEN).await?;
    }
    let body = token_json(
        &user,
        &domain,
        project.as_ref(),
        record.issued_at,
        record.expires_at,
    );
    with_subject_token(StatusCode::OK, &subject, body)
}

/// `GET /v3/auth/domains` (keystone_list_auth_domains): the caller's domain.
pub async fn list_auth_domains(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let domain_id = principal.domain_id.clone();
    let domain = state
        .db
        .call(move |conn| identity::get_domain(conn, &domain_id))
        .await?
        .ok_or_else(|| ApiError::Internal("the caller's domain is missing".into()))?;
    Ok(Json(json!({
        "domains": [{
            "id": domain.id,
            "name": domain.name,
            "enabled": true,
            "description": "",
            "links": link_self(&headers, &format!("/v3/domains/{}", domain.id)),
        }],
        "links": links(&headers, "/v3/auth/domains"),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: Value) -> ApiResult<(Login, ScopeRef)> {
        parse_body(serde_json::from_value(v).unwrap())
    }

    fn err_names(v: Value, name: &str) {
        let e = parse(v).unwrap_err().to_string();
        assert!(e.contains(&format!("'{name}'")), "{e}");
    }

    #[test]
    fn keystone_bodies_parse() {
        let (login, scope) = parse(json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "alice", "password": "pw", "domain": {"name": "acme"}}}},
            "scope": {"project": {"name": "local-1"}}}}))
        .unwrap();
        assert_eq!(
            login,
            Login::ByName {
                name: "alice".into(),
                domain: DomainRef::Name("acme".into()),
                password: "pw".into()
            }
        );
        assert_eq!(scope, ScopeRef::ProjectName("local-1".into()));

        let (login, scope) = parse(json!({"auth": {
            "identity": {"methods": ["password"], "password": {"user": {"id": "u1", "password": "pw"}}},
            "scope": {"domain": {"id": "d1"}}}}))
        .unwrap();
        assert!(matches!(login, Login::ById { .. }));
        assert_eq!(scope, ScopeRef::Domain(Some(DomainRef::Id("d1".into()))));

        let (_, scope) = parse(json!({"auth": {"identity": {"methods": ["password"],
            "password": {"user": {"name": "a", "password": "p", "domain": {"id": "d"}}}}}}))
        .unwrap();
        assert_eq!(scope, ScopeRef::Domain(None));
    }

    #[test]
    fn bad_keystone_bodies_name_the_field() {
        err_names(json!({}), "auth");
        err_names(
            json!({"auth": {"identity": {"methods": ["token"]}}}),
            "auth.identity.methods",
        );
        err_names(
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a", "password": "p"}}}}}),
            "auth.identity.password.user.domain",
        );
        err_names(
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a", "domain": {"name": "d"}}}}}}),
            "auth.identity.password.user.password",
        );
        err_names(
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "a", "password": "p", "domain": {"name": "d"}}}},
                "scope": {"project": {"id": "x"}, "domain": {"id": "y"}}}}),
            "auth.scope",
        );
        err_names(
            json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "", "password": "p", "domain": {"name": "d"}}}}}}),
            "auth.identity.password.user.name",
        );
    }

    #[test]
    fn token_json_has_the_scope_it_was_issued_for() {
        let user = User {
            id: "u".into(),
            domain_id: "d".into(),
            name: "alice".into(),
            password_hash: None,
            is_root: false,
            enabled: true,
            email: None,
            phone: None,
            description: None,
            created_at: 0,
            modified_at: 0,
            created_by: "u".into(),
            modified_by: "u".into(),
        };
        let domain = Domain {
            id: "d".into(),
            name: "acme".into(),
        };
        let project = IamProject {
            id: "p".into(),
            domain_id: "d".into(),
            name: "local-1".into(),
            description: String::new(),
        };
        let t = token_json(&user, &domain, Some(&project), 0, 86_400_000);
        assert_eq!(t["token"]["project"]["name"], "local-1");
        assert!(t["token"].get("domain").is_none());
        assert_eq!(t["token"]["expires_at"], "1970-01-02T00:00:00.000000Z");
        let t = token_json(&user, &domain, None, 0, 1);
        assert_eq!(t["token"]["domain"]["name"], "acme");
        assert_eq!(t["token"]["user"]["domain"]["id"], "d");
    }
}
