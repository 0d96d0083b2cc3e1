//! Who is asking, and may they: authentication and authorization of every artifact request (SPEC §7).
//! Credentials: Basic with the repo user name and password, a ticket (Basic password or `Bearer`), an
//! `X-Auth-Token`, or an AK/SK signature. The operation a request maps to is checked against the
//! caller's privilege entries in the repository's project, on the path `/<repo>/<path>`.

use axum::body::{Body, HttpBody as _};
use axum::http::request::Parts;
use axum::http::{header, Method};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::auth::secrets::verify_generated_secret;
use crate::auth::signature::{self, Payload};
use crate::auth::{ticket, Credential, Principal};
use crate::authz::privileges::allows;
use crate::domain::operation::Operation;
use crate::http::app::AppState;
use crate::http::artifact::access::scope_of;
use crate::http::artifact::privileges::entries_for_user;
use crate::http::authn::{use_ticket, verify_signed_parts, verify_token, well_formed};
use crate::http::error::ApiError;
use crate::http::payload;
use crate::store::repos::Repository;

/// The longest `name:password` a Basic credential may decode to: a repo user name (65) and the longest
/// ticket (512 characters), with room to spare; anything longer is refused like any other bad credential.
const BASIC_DECODED_MAX: usize = 1024;

/// The operation an artifact request performs.
pub fn operation_of(method: &Method) -> Option<Operation> {
    match *method {
        Method::GET | Method::HEAD => Some(Operation::Download),
        Method::PUT | Method::POST => Some(Operation::Upload),
        Method::DELETE => Some(Operation::Delete),
        _ => None,
    }
}

/// Authenticates an artifact request, if it carries credentials, and answers the body to read: a signed
/// body comes back bound to the hash it was signed with (`payload::bind`). Takes a ticket use when a
/// ticket is presented.
pub async fn identify(
    state: &AppState,
    parts: &Parts,
    body: Body,
) -> Result<(Option<Principal>, Body), ApiError> {
    let attempt = state
        .auth_limiter
        .attempt_of(&parts.headers, &parts.extensions);
    let (caller, body) = attempt.run(identify_credential(state, parts, body)).await?;
    if let Some(principal) = &caller {
        crate::http::audit::note_principal(principal);
        crate::http::ip_allow::check_parts(state, &principal.domain_id, parts).await?;
    }
    Ok((caller, body))
}

async fn identify_credential(
    state: &AppState,
    parts: &Parts,
    body: Body,
) -> Result<(Option<Principal>, Body), ApiError> {
    let value = match parts.headers.get(header::AUTHORIZATION) {
        Some(v) if parts.headers.get("x-auth-token").is_none() => v
            .to_str()
            .map_err(|_| ApiError::Unauthenticated("Authorization is not ASCII"))?,
        _ => return Ok((identify_unsigned(state, parts).await?, body)),
    };
    if !value.starts_with(signature::ALGORITHM) {
        return Ok((identify_unsigned(state, parts).await?, body));
    }
    // The head alone cannot say how long an HTTP/2 or chunked body is; only a body known to be empty
    // is signed as one.
    let empty = body.size_hint().upper() == Some(0);
    let (principal, payload) =
        verify_signed_parts(state, parts, value, Payload::Streamed { empty }).await?;
    let body = match payload.must_hash_to {
        Some(expected) => payload::bind(body, expected),
        None => body,
    };
    Ok((Some(principal), body))
}

async fn identify_unsigned(state: &AppState, parts: &Parts) -> Result<Option<Principal>, ApiError> {
    if let Some(token) = parts.headers.get("x-auth-token") {
        let token = token
            .to_str()
            .map_err(|_| ApiError::Unauthenticated("token is not ASCII"))?;
        return verify_token(state, token).await.map(Some);
    }
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("Authorization is not ASCII"))?;
    if let Some(presented) = value.strip_prefix("Bearer ") {
        return use_ticket(state, well_formed(presented.trim())?, None)
            .await
            .map(Some);
    }
    // Cargo sends its registry token verbatim, without a scheme.
    if let Some(presented) = ticket::Presented::parse(value.trim()) {
        return use_ticket(state, presented, None).await.map(Some);
    }
    let unsupported = || ApiError::Unauthenticated("unsupported Authorization scheme");
    // Decoded on the stack: every Basic-authenticated download passes here.
    let mut decoded = [0u8; BASIC_DECODED_MAX];
    let raw = value
        .strip_prefix("Basic ")
        .and_then(|b| STANDARD.decode_slice(b.trim(), &mut decoded).ok())
        .map(|len| &decoded[..len])
        .ok_or_else(unsupported)?;
    let (name, password) = std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.split_once(':'))
        .ok_or_else(unsupported)?;
    if let Some(presented) = ticket::Presented::parse(password) {
        return use_ticket(state, presented, Some(name)).await.map(Some);
    }
    repo_user_login(state, name, password).await.map(Some)
}

/// Basic login of a repo user: name `<domain_id>_<user_id>`, password set by `reset_user_password`.
pub async fn repo_user_login(
    state: &AppState,
    name: &str,
    password: &str,
) -> Result<Principal, ApiError> {
    let (domain_id, user_id) = name
        .split_once('_')
        .filter(|(d, u)| crate::domain::is_hex32(d) && crate::domain::is_hex32(u))
        .ok_or(ApiError::Unauthenticated("unknown repo user"))?;
    let found = state.hot.repo_login(&state.db, user_id).await?;
    let found = found.ok_or(ApiError::Unauthenticated(
        "unknown repo user or no repo password",
    ))?;
    let (user, hash) = &*found;
    let ok = verify_generated_secret(password, hash);
    if !ok || user.domain_id != domain_id || !user.enabled {
        return Err(ApiError::Unauthenticated("wrong repo user password"));
    }
    Ok(Principal {
        user_id: user.id.clone(),
        user_name: user.name.clone(),
        domain_id: user.domain_id.clone(),
        is_root: user.is_root,
        credential: Credential::Signature {
            access_key: String::new(),
        },
    })
}

/// Decides whether `caller` may perform `op` on `/<repo>/<path>`: 401 without credentials, 403 without
/// the privilege or outside the ticket's scope, 404 when the repository is another account's.
pub async fn authorize(
    state: &AppState,
    caller: Option<&Principal>,
    repo: &Repository,
    op: Operation,
    path: &str,
) -> Result<(), ApiError> {
    let Some((principal, full_path)) = needs_privileges(caller, repo, op, path, true)? else {
        return Ok(());
    };
    let entries = state
        .hot
        .entries(
            &state.db,
            &repo.project_id,
            &principal.user_id,
            principal.is_root,
        )
        .await?;
    if allows(&entries, op, &full_path) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "{op} is not allowed on {full_path}"
        )))
    }
}

/// What `authorize` decides before reading privileges: Ok(None) when the operation is allowed outright
/// (an anonymous read of an open repository), else the caller and the full path their privileges must
/// cover. `check_scope`: whether a ticket's scope must cover the path.
fn needs_privileges<'c>(
    caller: Option<&'c Principal>,
    repo: &Repository,
    op: Operation,
    path: &str,
    check_scope: bool,
) -> Result<Option<(&'c Principal, String)>, ApiError> {
    if op == Operation::Download && repo.allow_anonymous {
        return Ok(None);
    }
    let Some(principal) = caller else {
        return Err(ApiError::Unauthenticated("credentials required"));
    };
    let full_path = if path.is_empty() {
        format!("/{}", repo.name)
    } else {
        format!("/{}/{}", repo.name, path)
    };
    if principal.domain_id != repo.domain_id {
        return Err(not_the_callers(repo));
    }
    if check_scope && !scope_of(principal).covers(&repo.name, &repo.id, &full_path) {
        crate::telemetry::record_ticket_refusal("out_of_scope");
        return Err(ApiError::forbidden(
            "The ticket is restricted to another repository or file",
        ));
    }
    Ok(Some((principal, full_path)))
}

/// The members of a virtual repository the caller may do `op` on at `path`, in order: as `authorize`,
/// except that a ticket's scope is not asked to cover them — it was checked on the virtual repository's
/// URL, which is what the ticket names; the members' privileges are still required. Each project's
/// privileges are read once, in one database call.
pub async fn permitted_members(
    state: &AppState,
    caller: Option<&Principal>,
    repos: Vec<Repository>,
    op: Operation,
    path: &str,
) -> Result<Vec<Repository>, ApiError> {
    let mut pending = Vec::with_capacity(repos.len());
    let mut projects: Vec<String> = Vec::new();
    let mut asker = None;
    for repo in repos {
        match needs_privileges(caller, &repo, op, path, false) {
            Ok(None) => pending.push((repo, None)),
            Ok(Some((principal, full_path))) => {
                asker = Some(principal);
                if !projects.contains(&repo.project_id) {
                    projects.push(repo.project_id.clone());
                }
                pending.push((repo, Some(full_path)));
            }
            Err(_) => {}
        }
    }
    let entries = match asker {
        None => Vec::new(),
        Some(principal) => {
            let (user_id, is_root) = (principal.user_id.clone(), principal.is_root);
            state
                .db
                .call(move |conn| {
                    projects
                        .into_iter()
                        .map(|p| Ok((entries_for_user(conn, &p, &user_id, is_root)?, p)))
                        .collect::<Result<Vec<_>, _>>()
                })
                .await?
        }
    };
    Ok(pending
        .into_iter()
        .filter(|(repo, full_path)| match full_path {
            None => true,
            Some(full_path) => entries
                .iter()
                .find(|(_, project)| *project == repo.project_id)
                .is_some_and(|(entries, _)| allows(entries, op, full_path)),
        })
        .map(|(repo, _)| repo)
        .collect())
}

/// Another account's repository that `load_repo` let through (it is open to anonymous reads) and that the
/// caller asked more of than reading: it is not the caller's to change.
fn not_the_callers(repo: &Repository) -> ApiError {
    ApiError::not_found(format!(
        "No repository {} in the caller's account",
        repo.name
    ))
}

/// Refuses a caller who may not upload anywhere in `repo`, before a large body is read; the exact path is
/// checked once the body has named it.
pub async fn may_upload_somewhere(
    state: &AppState,
    principal: &Principal,
    repo: &Repository,
) -> Result<(), ApiError> {
    may_do_somewhere(state, principal, repo, &[Operation::Upload]).await
}

/// Refuses a caller who may perform none of `ops` anywhere in `repo` (a request whose body decides which
/// operation it is, such as an npm document that publishes, deprecates or unpublishes).
pub async fn may_do_somewhere(
    state: &AppState,
    principal: &Principal,
    repo: &Repository,
    ops: &[Operation],
) -> Result<(), ApiError> {
    let refused = || {
        let names: Vec<String> = ops.iter().map(|op| op.to_string()).collect();
        ApiError::forbidden(format!(
            "{} is not allowed on /{}",
            names.join(" or "),
            repo.name
        ))
    };
    if principal.domain_id != repo.domain_id {
        return Err(not_the_callers(repo));
    }
    let (principal_copy, project_id) = (principal.clone(), repo.project_id.clone());
    let access = state
        .db
        .call(move |conn| {
            crate::http::artifact::access::CallerAccess::load(
                conn,
                &principal_copy,
                [project_id.as_str()],
            )
        })
        .await?;
    if ops.iter().any(|op| access.may_somewhere(repo, *op)) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The active repository `key` (a name or an id) of `format` (any format when `None`), as far as `caller`
/// may know it exists: a repository of the caller's account, or one open to anonymous reads. Any other is
/// answered exactly as one that does not exist. With credentials that is a 404 naming only what was typed.
/// Without, it is the 401 challenge a private repository answers: package clients send credentials only
/// after one, and a missing repository answers the same so that an anonymous caller cannot tell which
/// names exist.
/// The repository a package request names, as far as the caller may know of it; the repository's account
/// allow-list applies to the request's address (also for anonymous reads of an open repository).
pub async fn load_repo(
    state: &AppState,
    parts: &Parts,
    caller: Option<&Principal>,
    key: &str,
    format: Option<&str>,
) -> Result<Repository, ApiError> {
    let found = state
        .hot
        .repo(&state.db, key)
        .await?
        .filter(|r| r.status == crate::store::repos::STATUS_ACTIVE)
        .filter(|r| format.is_none_or(|f| r.format == f))
        .filter(|r| match caller {
            Some(principal) => r.domain_id == principal.domain_id || r.allow_anonymous,
            None => r.allow_anonymous,
        });
    match (found, caller) {
        (Some(repo), _) => {
            crate::http::audit::note_repo(&repo);
            crate::http::ip_allow::check_parts(state, &repo.domain_id, parts).await?;
            Ok(repo)
        }
        (None, None) => Err(ApiError::Unauthenticated("credentials required")),
        (None, Some(_)) => Err(ApiError::not_found(match format {
            Some(format) => format!("No {format} repository {key}"),
            None => format!("No repository named {key}"),
        })),
    }
}

/// Package clients change only hosted repositories: a remote one mirrors its upstream, and a virtual
/// one will pass changes to its default deploy repository.
pub fn refuse_change_unless_hosted(repo: &Repository, method: &Method) -> Result<(), ApiError> {
    if matches!(*method, Method::GET | Method::HEAD) {
        return Ok(());
    }
    match repo.repo_type.as_str() {
        crate::service::repo_kinds::REMOTE => Err(ApiError::NotWritable(format!(
            "/{} is a remote repository and read-only: publish to a hosted repository",
            repo.name
        ))),
        crate::service::repo_kinds::VIRTUAL => Err(ApiError::NotWritable(format!(
            "/{} is a virtual repository: publish to one of its hosted members",
            repo.name
        ))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_map_to_operations() {
        assert_eq!(operation_of(&Method::GET), Some(Operation::Download));
        assert_eq!(operation_of(&Method::HEAD), Some(Operation::Download));
        assert_eq!(operation_of(&Method::PUT), Some(Operation::Upload));
        assert_eq!(operation_of(&Method::DELETE), Some(Operation::Delete));
        assert_eq!(operation_of(&Method::PATCH), None);
    }
}
