//! The rules of remote and virtual repositories' settings: which fields belong to which kind, what an
//! upstream URL may be, and which repositories a virtual one may group. The HTTP layer parses bodies
//! into `KindInput`; everything here runs inside one database transaction with the repository row.

use url::Url;

use crate::auth::secrets::SecretBox;
use crate::auth::Principal;
use crate::http::artifact::access::CallerAccess;
use crate::http::error::{ApiError, ApiResult};
use crate::store::remote::{self, RemoteSettings, VirtualSettings};
use crate::store::repos::{self, Repository, STATUS_ACTIVE};
use crate::store::{Conn, StoreResult};

pub const HOSTED: &str = "hosted";
pub const REMOTE: &str = "remote";
pub const VIRTUAL: &str = "virtual";
pub const KINDS: [&str; 3] = [HOSTED, REMOTE, VIRTUAL];

/// Mutable metadata (maven-metadata.xml, packuments, simple pages, index files) is refreshed after this
/// long, as Nexus does by default (1,440 minutes).
pub const DEFAULT_METADATA_MAX_AGE_SECS: i64 = 24 * 3600;
/// An upstream 404 is believed for this long. Decision: an hour, shorter than Nexus' day, so a package
/// published upstream after a failed build is found by the next one without an operator's help.
pub const DEFAULT_NOT_FOUND_CACHE_SECS: i64 = 3600;
const MAX_AGE_SECS: i64 = 366 * 24 * 3600;
const MAX_MEMBERS: usize = 50;

/// The kind-specific fields of `create_artifactory` and `update_artifactory` bodies; `None` leaves a
/// setting as it is (on create: its default).
#[derive(Debug, Default)]
pub struct KindInput {
    pub remote_url: Option<String>,
    pub user_name: Option<String>,
    pub password: Option<String>,
    pub metadata_max_age_secs: Option<i64>,
    pub not_found_cache_secs: Option<i64>,
    pub repository_ids: Option<Vec<String>>,
    pub default_deploy_repository: Option<String>,
    pub hosted_names_hide_remote: Option<bool>,
}

impl KindInput {
    fn remote_fields(&self) -> [(&'static str, bool); 5] {
        [
            ("remote_url", self.remote_url.is_some()),
            ("user_name", self.user_name.is_some()),
            ("password", self.password.is_some()),
            (
                "metadata_max_age_secs",
                self.metadata_max_age_secs.is_some(),
            ),
            ("not_found_cache_secs", self.not_found_cache_secs.is_some()),
        ]
    }

    fn virtual_fields(&self) -> [(&'static str, bool); 3] {
        [
            (
                "repository_ids",
                self.repository_ids
                    .as_ref()
                    .is_some_and(|ids| !ids.is_empty()),
            ),
            (
                "default_deploy_repository",
                self.default_deploy_repository
                    .as_ref()
                    .is_some_and(|d| !d.is_empty()),
            ),
            (
                "hosted_names_hide_remote",
                self.hosted_names_hide_remote.is_some(),
            ),
        ]
    }

    /// Refuses fields that do not belong to a repository of `kind`, naming the first one.
    pub fn check_fits(&self, kind: &str) -> ApiResult<()> {
        let stray = match kind {
            REMOTE => self.virtual_fields().into_iter().find(|f| f.1),
            VIRTUAL => self.remote_fields().into_iter().find(|f| f.1),
            _ => self
                .remote_fields()
                .into_iter()
                .chain(self.virtual_fields())
                .find(|f| f.1),
        };
        match stray {
            Some((name, _)) => Err(ApiError::invalid(
                name,
                format!("does not apply to a {kind} repository"),
            )),
            None => Ok(()),
        }
    }
}

/// `type` of a new repository: hosted when absent.
pub fn kind(value: Option<&str>) -> ApiResult<&'static str> {
    match value {
        None | Some("") => Ok(HOSTED),
        Some(v) => KINDS
            .into_iter()
            .find(|k| *k == v)
            .ok_or_else(|| ApiError::invalid("type", "must be hosted, remote or virtual")),
    }
}

/// An upstream base URL: http or https, a host, no user information (credentials have fields of their
/// own, kept sealed), no query or fragment. Answered without a trailing slash.
pub fn remote_url(value: &str) -> ApiResult<String> {
    let refuse = |why: &str| ApiError::invalid("remote_url", why.to_string());
    if value.len() > 2048 {
        return Err(refuse("must be at most 2048 characters"));
    }
    let url =
        Url::parse(value).map_err(|_| refuse("must be an absolute http:// or https:// URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(refuse("must be an absolute http:// or https:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse(
            "must not carry credentials; give them as user_name and password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(refuse("must not have a query or a fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn age(name: &str, value: Option<i64>, default: i64) -> ApiResult<i64> {
    match value {
        None => Ok(default),
        Some(v) if (0..=MAX_AGE_SECS).contains(&v) => Ok(v),
        Some(_) => Err(ApiError::invalid(
            name,
            format!("must be from 0 to {MAX_AGE_SECS} seconds"),
        )),
    }
}

fn bounded(name: &str, value: &str, max: usize) -> ApiResult<()> {
    if value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            name,
            format!("must be at most {max} characters, without control characters"),
        ));
    }
    Ok(())
}

/// A remote repository's settings after `input`, over `existing` (none when it is being created).
/// An empty password removes the stored one; an absent one keeps it.
pub fn remote_settings(
    repo: &Repository,
    input: &KindInput,
    existing: Option<RemoteSettings>,
    secrets: &SecretBox,
) -> ApiResult<RemoteSettings> {
    let url = match (&input.remote_url, &existing) {
        (Some(u), _) => remote_url(u)?,
        (None, Some(e)) => e.remote_url.clone(),
        (None, None) => {
            return Err(ApiError::invalid(
                "remote_url",
                "is required for a remote repository",
            ))
        }
    };
    if let Some(name) = &input.user_name {
        bounded("user_name", name, 128)?;
    }
    if let Some(password) = &input.password {
        bounded("password", password, 1024)?;
    }
    let base = existing.unwrap_or_else(|| RemoteSettings {
        repo_id: repo.id.clone(),
        remote_url: String::new(),
        user_name: String::new(),
        password_sealed: None,
        metadata_max_age_secs: DEFAULT_METADATA_MAX_AGE_SECS,
        not_found_cache_secs: DEFAULT_NOT_FOUND_CACHE_SECS,
    });
    Ok(RemoteSettings {
        remote_url: url,
        user_name: input.user_name.clone().unwrap_or(base.user_name),
        password_sealed: match &input.password {
            None => base.password_sealed,
            Some(p) if p.is_empty() => None,
            Some(p) => Some(secrets.seal(p.as_bytes())),
        },
        metadata_max_age_secs: age(
            "metadata_max_age_secs",
            input.metadata_max_age_secs,
            base.metadata_max_age_secs,
        )?,
        not_found_cache_secs: age(
            "not_found_cache_secs",
            input.not_found_cache_secs,
            base.not_found_cache_secs,
        )?,
        ..base
    })
}

/// A virtual repository's settings after `input`, over `existing`. Members are hosted or remote
/// repositories of the same format in the caller's account that the caller may read; each refusal names
/// the member by its position (`repository_ids[2]`). The deploy target must be a hosted member.
pub fn virtual_settings(
    conn: &Conn,
    access: &CallerAccess,
    repo: &Repository,
    input: &KindInput,
    existing: Option<VirtualSettings>,
) -> StoreResult<ApiResult<VirtualSettings>> {
    let mut settings = existing.unwrap_or_else(|| VirtualSettings {
        repo_id: repo.id.clone(),
        ..Default::default()
    });
    if let Some(keys) = &input.repository_ids {
        if keys.len() > MAX_MEMBERS {
            return Ok(Err(ApiError::invalid(
                "repository_ids",
                format!("must list at most {MAX_MEMBERS} repositories"),
            )));
        }
        let mut members: Vec<String> = Vec::with_capacity(keys.len());
        for (position, key) in keys.iter().enumerate() {
            let field = format!("repository_ids[{position}]");
            let member = match member(conn, access, repo, key)? {
                Ok(m) => m,
                Err(why) => return Ok(Err(ApiError::invalid(&field, why))),
            };
            if members.contains(&member.id) {
                return Ok(Err(ApiError::invalid(&field, "repeats an earlier member")));
            }
            members.push(member.id);
        }
        settings.members = members;
    }
    if let Some(flag) = input.hosted_names_hide_remote {
        settings.hosted_names_hide_remote = flag;
    }
    if let Some(key) = &input.default_deploy_repository {
        settings.default_deploy_repo_id = if key.is_empty() {
            None
        } else {
            match repos::get_repo_by_name_or_id(conn, key)? {
                Some(target)
                    if settings.members.contains(&target.id) && target.repo_type == HOSTED =>
                {
                    Some(target.id)
                }
                _ => {
                    return Ok(Err(ApiError::invalid(
                        "default_deploy_repository",
                        "must name a hosted member of the repository",
                    )))
                }
            }
        };
    }
    // A member taken out takes the deploy target with it.
    if settings
        .default_deploy_repo_id
        .as_ref()
        .is_some_and(|d| !settings.members.contains(d))
    {
        settings.default_deploy_repo_id = None;
    }
    Ok(Ok(settings))
}

/// Validates and stores a virtual repository's settings for `principal` (inside the caller's transaction).
pub fn save_virtual(
    conn: &Conn,
    principal: &Principal,
    repo: &Repository,
    input: &KindInput,
    existing: Option<VirtualSettings>,
) -> StoreResult<ApiResult<()>> {
    let all = repos::domain_repos(conn, &repo.domain_id)?;
    let access = CallerAccess::load(conn, principal, all.iter().map(|r| r.project_id.as_str()))?;
    Ok(
        match virtual_settings(conn, &access, repo, input, existing)? {
            Ok(settings) => Ok(remote::put_virtual(conn, &settings)?),
            Err(refusal) => Err(refusal),
        },
    )
}

fn member(
    conn: &Conn,
    access: &CallerAccess,
    virtual_repo: &Repository,
    key: &str,
) -> StoreResult<Result<Repository, &'static str>> {
    let found =
        repos::get_repo_by_name_or_id(conn, key)?.filter(|m| m.domain_id == virtual_repo.domain_id);
    let Some(member) = found else {
        return Ok(Err("is not a repository of the caller's account"));
    };
    Ok(if member.id == virtual_repo.id {
        Err("is the virtual repository itself")
    } else if member.repo_type == VIRTUAL {
        Err("is a virtual repository; members are hosted or remote repositories")
    } else if member.format != virtual_repo.format {
        Err("is of another format")
    } else if member.status != STATUS_ACTIVE {
        Err("is in the recycle bin")
    } else if !access.can_read(&member) {
        Err("is not readable by the caller")
    } else {
        Ok(member)
    })
}

/// Loads what a repository of its kind keeps besides its row.
pub fn load_settings(
    conn: &Conn,
    repo: &Repository,
) -> StoreResult<(Option<RemoteSettings>, Option<VirtualSettings>)> {
    Ok(match repo.repo_type.as_str() {
        REMOTE => (remote::get_remote(conn, &repo.id)?, None),
        VIRTUAL => (None, remote::get_virtual(conn, &repo.id)?),
        _ => (None, None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_urls() {
        assert_eq!(
            remote_url("https://repo1.maven.org/maven2/").unwrap(),
            "https://repo1.maven.org/maven2"
        );
        assert_eq!(
            remote_url("http://127.0.0.1:8081").unwrap(),
            "http://127.0.0.1:8081"
        );
        for bad in [
            "ftp://x/",
            "https://user:secret@host/",
            "https://host/?q=1",
            "https://host/#f",
            "not a url",
            "file:///etc/passwd",
            "",
        ] {
            let err = remote_url(bad).unwrap_err().to_string();
            assert!(
                err.contains("remote_url") && !err.contains("secret"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn fields_belong_to_their_kind() {
        let remote = KindInput {
            remote_url: Some("https://x".into()),
            ..Default::default()
        };
        assert!(remote.check_fits(REMOTE).is_ok());
        assert!(remote.check_fits(VIRTUAL).is_err());
        assert!(remote.check_fits(HOSTED).is_err());
        let members = KindInput {
            repository_ids: Some(vec!["a".into()]),
            ..Default::default()
        };
        assert!(members.check_fits(VIRTUAL).is_ok());
        assert!(members.check_fits(REMOTE).is_err());
        // The SDK sends an empty list for hosted repositories.
        let empty = KindInput {
            repository_ids: Some(vec![]),
            ..Default::default()
        };
        assert!(empty.check_fits(HOSTED).is_ok());
        assert!(kind(Some("proxy"))
            .unwrap_err()
            .to_string()
            .contains("type"));
    }
}
