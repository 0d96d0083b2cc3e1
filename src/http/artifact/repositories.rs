//! Repositories through the CodeArts Artifact API: create (Maven pairs and the other formats), list, show,
//! modify and delete to the recycle bin. The SDK's models give the paths and field names; their JSON
//! spellings (`repository_name` in bodies, `repositoryName` in answers) are kept exactly.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::access::{repo_with_access, require, CallerAccess};
use super::users::local_time;
use crate::auth::Principal;
use crate::config::Config;
use crate::domain::artifact_path::is_valid_repo_name;
use crate::domain::is_alnum32;
use crate::domain::new_hex_id;
use crate::domain::operation::Operation;
use crate::domain::paging::page_window;
use crate::http::app::AppState;
use crate::http::envelope::success;
use crate::http::error::{ApiError, ApiResult};
use crate::http::extract::{JsonBody, QueryParams};
use crate::http::urls::public_base_url;
use crate::service::repo_kinds::{self, KindInput};
use crate::store::remote::{self, RemoteSettings, VirtualSettings};
use crate::store::repos::{self, Repository, STATUS_ACTIVE, STATUS_TRASH};
use crate::store::{identity, now_ms, projects, Conn, StoreResult};

pub const MAVEN_FORMAT: &str = "maven2";
/// Formats `create_artifactory` accepts: the ones arca serves to their clients (SPEC §7).
pub const OTHER_FORMATS: [&str; 6] = ["generic", "npm", "pypi", "cargo", "go", "docker2"];
pub const ALLOW_REDEPLOY: &str = "allow_redeploy";
pub const DISABLE_REDEPLOY: &str = "disable_redeploy";
const DEFAULT_SHARE_RIGHT: &str = "private";

/// Where a repository's clients point (the URL layout of SPEC §7).
pub fn repo_url(base: &str, repo: &Repository) -> String {
    match repo.format.as_str() {
        "npm" => format!("{base}/artifactory/api/npm/{}/", repo.name),
        "pypi" => format!("{base}/artifactory/api/pypi/{}/simple/", repo.name),
        "cargo" => format!("{base}/artifactory/api/cargo/{}/index/", repo.name),
        // GOPROXY takes the base without a trailing slash.
        "go" => format!("{base}/artifactory/api/go/{}", repo.name),
        // Images are `<host>/<repository>/<image>:<tag>`: the registry is the host, the repository the
        // first component of each image name.
        "docker2" => format!("{base}/v2/{}/", repo.name),
        _ => format!("{base}/artifactory/{}/", repo.name),
    }
}

/// What answers need besides the repositories themselves: user names, the region, the time offset,
/// remote and virtual repositories' settings and the names their members are shown by.
pub struct ViewContext {
    domain_id: String,
    names: HashMap<String, String>,
    pub remotes: HashMap<String, RemoteSettings>,
    pub virtuals: HashMap<String, VirtualSettings>,
    pub repo_names: HashMap<String, String>,
    pub region: String,
    pub offset_minutes: i32,
    pub base: String,
}

impl ViewContext {
    pub fn load(
        conn: &Conn,
        config: &Config,
        domain_id: &str,
        headers: &HeaderMap,
    ) -> StoreResult<Self> {
        // Only the repositories' and proxies' authors: an account may have a million users. Views of
        // files add their authors with `learn_names`.
        let names = identity::repository_author_names(conn, domain_id)?
            .into_iter()
            .collect();
        let remotes = remote::domain_remotes(conn, domain_id)?
            .into_iter()
            .map(|r| (r.repo_id.clone(), r))
            .collect();
        let virtuals: HashMap<String, VirtualSettings> = remote::domain_virtuals(conn, domain_id)?
            .into_iter()
            .map(|v| (v.repo_id.clone(), v))
            .collect();
        let repo_names = if virtuals.is_empty() {
            HashMap::new()
        } else {
            repos::domain_repos(conn, domain_id)?
                .into_iter()
                .map(|r| (r.id, r.name))
                .collect()
        };
        Ok(ViewContext {
            domain_id: domain_id.to_string(),
            names,
            remotes,
            virtuals,
            repo_names,
            region: config.region.clone(),
            offset_minutes: config.display_offset_minutes,
            base: public_base_url(config, headers),
        })
    }

    /// Loads the context in a database call of its own.
    pub async fn fetch(state: &AppState, domain_id: &str, headers: HeaderMap) -> ApiResult<Self> {
        let (config, domain_id) = (state.config.clone(), domain_id.to_string());
        Ok(state
            .db
            .call(move |conn| ViewContext::load(conn, &config, &domain_id, &headers))
            .await?)
    }

    /// Adds the names of the account's users among `ids` that are not known yet (one indexed lookup
    /// each), for views of rows other than repositories: files and their authors.
    pub fn learn_names<'a>(
        &mut self,
        conn: &Conn,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> StoreResult<()> {
        for id in ids {
            if !self.names.contains_key(id) {
                let name = identity::user_name_in(conn, &self.domain_id, id)?.unwrap_or_default();
                self.names.insert(id.to_string(), name);
            }
        }
        Ok(())
    }

    pub fn name_of(&self, user_id: &str) -> String {
        self.names.get(user_id).cloned().unwrap_or_default()
    }

    pub fn time(&self, ms: i64) -> String {
        local_time(ms, self.offset_minutes)
    }

    fn repo_name(&self, id: &str) -> String {
        self.repo_names.get(id).cloned().unwrap_or_default()
    }

    /// The fields only remote and virtual repositories fill: their upstream (never its password: whether
    /// one is set) and their members in order.
    fn kind_fields(&self, repo: &Repository) -> Value {
        let remote = self.remotes.get(&repo.id);
        let members = self.virtuals.get(&repo.id);
        let member_ids: Vec<&String> = members
            .map(|v| v.members.iter().collect())
            .unwrap_or_default();
        json!({
            "remoteUrl": remote.map(|r| r.remote_url.as_str()).unwrap_or(""),
            "userName": remote.map(|r| r.user_name.as_str()).unwrap_or(""),
            "password": "",
            "passwordSet": remote.is_some_and(|r| r.password_sealed.is_some()),
            "metadataMaxAgeSecs": remote.map(|r| r.metadata_max_age_secs),
            "notFoundCacheSecs": remote.map(|r| r.not_found_cache_secs),
            "repositoryIds": member_ids,
            "repositories": member_ids.iter().map(|id| self.repo_name(id)).collect::<Vec<_>>(),
            "defaultDeployRepository": members
                .and_then(|v| v.default_deploy_repo_id.as_deref())
                .map(|id| self.repo_name(id))
                .unwrap_or_default(),
            "hostedNamesHideRemote": members.is_some_and(|v| v.hosted_names_hide_remote),
        })
    }
}

/// The fields `RepositoryDO` and `RepositoryBasicDO` share.
fn common_fields(repo: &Repository, ctx: &ViewContext) -> Map<String, Value> {
    let common = json!({
        "id": repo.id,
        "status": repo.status,
        "domainId": repo.domain_id,
        "region": ctx.region,
        "createdTime": ctx.time(repo.created_at),
        "modifiedTime": ctx.time(repo.modified_at),
        "createdUserId": repo.created_by,
        "createdUserName": ctx.name_of(&repo.created_by),
        "modifiedUserId": repo.modified_by,
        "modifiedUserName": ctx.name_of(&repo.modified_by),
        "name": repo.name,
        "disable": repo.status != STATUS_ACTIVE,
        "format": repo.format,
        "policy": repo.policy,
        "tabId": repo.tab_id,
        "repositoryName": repo.name,
        "displayName": repo.display_name,
        "description": repo.description,
        "projectId": repo.project_id,
        "includesPattern": repo.includes_pattern,
        "deploymentPolicy": repo.deployment_policy,
        "shareRight": repo.share_right,
        "url": repo_url(&ctx.base, repo),
        "packageType": repo.format,
    });
    match (common, ctx.kind_fields(repo)) {
        (Value::Object(mut map), Value::Object(kind)) => {
            map.extend(kind);
            map
        }
        _ => unreachable!("json! of object literals"),
    }
}

fn with_fields(mut map: Map<String, Value>, extra: Value) -> Value {
    if let Value::Object(extra) = extra {
        map.extend(extra);
    }
    Value::Object(map)
}

/// The SDK's `RepositoryDO` (show_repository_info, create_artifactory, show_maven_info).
pub fn repository_do(repo: &Repository, ctx: &ViewContext) -> Value {
    let (release, snapshot) = match repo.policy.as_str() {
        "release" => (repo.id.clone(), String::new()),
        "snapshot" => (String::new(), repo.id.clone()),
        _ => (String::new(), String::new()),
    };
    with_fields(
        common_fields(repo, ctx),
        json!({
            "type": repo.repo_type,
            "snapshot": snapshot,
            "release": release,
            "npm": "",
            "snapshotStatus": if repo.policy == "snapshot" { repo.status.as_str() } else { "" },
            "releaseStatus": if repo.policy == "release" { repo.status.as_str() } else { "" },
            "uri": format!("/{}", repo.name),
            "parentRepoName": "",
            "remoteType": "",
            "proxy": "",
            "allowAnonymous": repo.allow_anonymous,
            "autoCleanSnapshot": false,
            "snapshotAliveDays": "",
            "maxUniqueSnapshots": repo.max_unique_snapshots.to_string(),
            "nexuRepo": false,
        }),
    )
}

/// The SDK's `RepositoryDOV5` (list_child_proxy_repositories_list): `RepositoryDO`'s fields with
/// snake_case names, and the few only V5 has.
pub fn repository_dov5(repo: &Repository, ctx: &ViewContext) -> Value {
    let Value::Object(camel) = repository_do(repo, ctx) else {
        unreachable!("repository_do answers an object")
    };
    let mut snake: Map<String, Value> = camel
        .into_iter()
        .map(|(key, value)| (snake_case(&key), value))
        .collect();
    let remote = ctx.remotes.get(&repo.id);
    snake.insert("excludes_pattern".into(), json!(""));
    snake.insert("scope".into(), json!(0));
    snake.insert(
        "remote_auth".into(),
        json!(if remote.is_some_and(|r| r.password_sealed.is_some()) {
            "basic"
        } else {
            ""
        }),
    );
    snake.insert("pypi_registry_url".into(), json!(""));
    snake.insert("migrate_flag".into(), json!(0));
    Value::Object(snake)
}

fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Decimal units, two decimals: what the console shows for used space.
pub fn human_bytes(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes.max(0) as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// The SDK's `RepositoryBasicDO` (list_all_repositories, show_repository), with the live usage.
pub fn repository_basic_do(repo: &Repository, ctx: &ViewContext, usage: (i64, i64)) -> Value {
    with_fields(
        common_fields(repo, ctx),
        json!({
            "repoType": repo.repo_type,
            "storageSummaryInfo": {"filesCount": usage.0, "usedSpace": human_bytes(usage.1)},
        }),
    )
}

// ---- validation -------------------------------------------------------------------------------

fn text(name: &str, value: Option<String>, max_chars: usize) -> ApiResult<String> {
    let value = value.unwrap_or_default();
    if value.chars().count() > max_chars || value.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            name,
            format!("must be at most {max_chars} characters, without control characters"),
        ));
    }
    Ok(value)
}

fn repo_name(name: &str, value: &str) -> ApiResult<String> {
    if is_valid_repo_name(value) {
        Ok(value.to_string())
    } else {
        Err(ApiError::invalid(
            name,
            "must be 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'",
        ))
    }
}

fn project_id(value: Option<String>) -> ApiResult<String> {
    match value {
        Some(v) if is_alnum32(&v) => Ok(v),
        _ => Err(ApiError::invalid(
            "project_id",
            "must be 32 letters or digits",
        )),
    }
}

fn hosted_type(value: Option<String>) -> ApiResult<String> {
    match value.as_deref() {
        None | Some("") | Some(repo_kinds::HOSTED) => Ok(repo_kinds::HOSTED.to_string()),
        Some(_) => Err(ApiError::invalid(
            "type",
            "must be hosted here (remote and virtual Maven repositories are made with create_artifactory)",
        )),
    }
}

fn share_right(value: Option<String>) -> ApiResult<String> {
    let value = text("share_right", value, 32)?;
    if value.is_empty() {
        Ok(DEFAULT_SHARE_RIGHT.to_string())
    } else if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        Ok(value)
    } else {
        Err(ApiError::invalid(
            "share_right",
            "must be letters, digits or '_'",
        ))
    }
}

/// Checks the project exists in the caller's domain and the caller may create `names` there.
pub(super) async fn require_create(
    state: &AppState,
    principal: &Principal,
    project_id: &str,
    names: Vec<String>,
) -> ApiResult<()> {
    let (domain_id, project, principal_copy) = (
        principal.domain_id.clone(),
        project_id.to_string(),
        principal.clone(),
    );
    let outcome = state
        .db
        .call(move |conn| {
            if projects::get_project(conn, &domain_id, &project)?.is_none() {
                return Ok(Err(ApiError::not_found(format!(
                    "No project {project} in the caller's account"
                ))));
            }
            let access = CallerAccess::load(conn, &principal_copy, [project.as_str()])?;
            for name in &names {
                if !access.allows_in_project(&project, Operation::CreateRepository, name) {
                    return Ok(Err(ApiError::forbidden(format!(
                        "createRepository is not allowed in project {project}"
                    ))));
                }
            }
            Ok(Ok(()))
        })
        .await?;
    outcome
}

pub(super) fn new_repo(
    principal: &Principal,
    project_id: &str,
    name: String,
    display_name: String,
    format: &str,
    policy: &str,
    tab_id: &str,
) -> Repository {
    let now = now_ms();
    Repository {
        id: new_hex_id(),
        domain_id: principal.domain_id.clone(),
        project_id: project_id.to_string(),
        name,
        display_name,
        description: String::new(),
        format: format.to_string(),
        repo_type: repo_kinds::HOSTED.to_string(),
        policy: policy.to_string(),
        tab_id: tab_id.to_string(),
        includes_pattern: String::new(),
        // Decision: a release repository refuses to overwrite a deployed version; others allow it.
        deployment_policy: if policy == "release" {
            DISABLE_REDEPLOY
        } else {
            ALLOW_REDEPLOY
        }
        .to_string(),
        allow_anonymous: false,
        max_unique_snapshots: 0,
        share_right: DEFAULT_SHARE_RIGHT.to_string(),
        status: STATUS_ACTIVE.to_string(),
        deleted_at: None,
        created_at: now,
        created_by: principal.user_id.clone(),
        modified_at: now,
        modified_by: principal.user_id.clone(),
    }
}

// ---- create ------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MavenRepoBody {
    repository_name: Option<String>,
    format: Option<String>,
    description: Option<String>,
    release: Option<String>,
    snapshot: Option<String>,
    includes_pattern: Option<String>,
    share_right: Option<String>,
    project_id: Option<String>,
    #[serde(rename = "type")]
    repo_type: Option<String>,
}

/// `POST /cloudartifact/v5/maven/repositories` (create_maven_repo): a release and a snapshot repository
/// sharing one tab. `release`/`snapshot` name them; by default `<repository_name>-release`/`-snapshot`.
pub async fn create_maven(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<MavenRepoBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    let display = text("repository_name", body.repository_name, 50)?;
    if display.trim().is_empty() {
        return Err(ApiError::invalid(
            "repository_name",
            "must be 1 to 50 characters",
        ));
    }
    match body.format.as_deref() {
        None | Some("") | Some(MAVEN_FORMAT) => {}
        Some(_) => return Err(ApiError::invalid("format", "must be maven2")),
    }
    hosted_type(body.repo_type)?;
    let description = text("description", body.description, 200)?;
    let includes_pattern = text("includes_pattern", body.includes_pattern, 512)?;
    let share = share_right(body.share_right)?;
    let project_id = project_id(body.project_id)?;
    let pick = |field: &str, given: Option<String>, suffix: &str| -> ApiResult<String> {
        match given.filter(|v| !v.is_empty()) {
            Some(v) => repo_name(field, &v),
            None => repo_name("repository_name", &format!("{}-{suffix}", display.trim())).map_err(
                |_| {
                    ApiError::invalid(
                        field,
                        "is required when repository_name is not itself a valid repository name",
                    )
                },
            ),
        }
    };
    let release_name = pick("release", body.release, "release")?;
    let snapshot_name = pick("snapshot", body.snapshot, "snapshot")?;
    if release_name == snapshot_name {
        return Err(ApiError::invalid(
            "snapshot",
            "must differ from the release repository's name",
        ));
    }
    require_create(
        &state,
        &principal,
        &project_id,
        vec![release_name.clone(), snapshot_name.clone()],
    )
    .await?;
    let tab_id = new_hex_id();
    let make = |name: String, policy: &str| Repository {
        description: description.clone(),
        includes_pattern: includes_pattern.clone(),
        share_right: share.clone(),
        ..new_repo(
            &principal,
            &project_id,
            name,
            display.trim().to_string(),
            MAVEN_FORMAT,
            policy,
            &tab_id,
        )
    };
    let release = make(release_name, "release");
    let snapshot = make(snapshot_name, "snapshot");
    let ids = json!({"release": release.id, "snapshot": snapshot.id});
    crate::http::audit::note_repo(&release);
    crate::http::audit::note_repo(&snapshot);
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            repos::insert_repo(&tx, &release)?;
            repos::insert_repo(&tx, &snapshot)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(success(ids))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OtherRepoBody {
    format: Option<String>,
    #[serde(rename = "type")]
    repo_type: Option<String>,
    repository_name: Option<String>,
    description: Option<String>,
    includes_pattern: Option<String>,
    project_id: Option<String>,
    share_right: Option<String>,
    // Remote and virtual repositories (not in the SDK's model; README "Remote and virtual repositories").
    remote_url: Option<String>,
    user_name: Option<String>,
    password: Option<String>,
    metadata_max_age_secs: Option<i64>,
    not_found_cache_secs: Option<i64>,
    repository_ids: Option<Vec<String>>,
    default_deploy_repository: Option<String>,
    hosted_names_hide_remote: Option<bool>,
    // The SDK's model carries these for Maven pairs; a single repository has no use for them.
    release: Option<String>,
    snapshot: Option<String>,
}

/// The remote and virtual settings of a create or update body (both carry the same fields).
macro_rules! kind_input {
    ($body:expr) => {
        KindInput {
            remote_url: $body.remote_url,
            user_name: $body.user_name,
            password: $body.password,
            metadata_max_age_secs: $body.metadata_max_age_secs,
            not_found_cache_secs: $body.not_found_cache_secs,
            repository_ids: $body.repository_ids,
            default_deploy_repository: $body.default_deploy_repository,
            hosted_names_hide_remote: $body.hosted_names_hide_remote,
        }
    };
}

/// `format` of `create_artifactory`: hosted Maven repositories come in pairs from create_maven_repo, a
/// remote or virtual Maven repository is one repository and is made here.
fn other_format(value: Option<String>, kind: &str) -> ApiResult<String> {
    match value {
        Some(f) if OTHER_FORMATS.contains(&f.as_str()) => Ok(f),
        Some(f) if f == MAVEN_FORMAT && kind != repo_kinds::HOSTED => Ok(f),
        _ => Err(ApiError::invalid(
            "format",
            format!(
                "must be one of {} (hosted Maven repositories are created with create_maven_repo; remote \
                 and virtual ones here as {MAVEN_FORMAT})",
                OTHER_FORMATS.join(", ")
            ),
        )),
    }
}

/// `POST /cloudartifact/v5/artifact/` (create_artifactory): a hosted repository of a non-Maven format, or
/// a remote or virtual repository of any format.
pub async fn create_other(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<JsonBody<OtherRepoBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    let kind = repo_kinds::kind(body.repo_type.as_deref())?;
    let format = other_format(body.format, kind)?;
    for (field, value) in [("release", &body.release), ("snapshot", &body.snapshot)] {
        if value.as_deref().is_some_and(|v| !v.is_empty()) {
            return Err(ApiError::invalid(
                field,
                "applies to create_maven_repo's repository pairs only",
            ));
        }
    }
    let input = kind_input!(body);
    input.check_fits(kind)?;
    let name = repo_name(
        "repository_name",
        body.repository_name.as_deref().unwrap_or(""),
    )?;
    if format == super::docker_repos::DOCKER_FORMAT {
        super::docker_repos::docker_name("repository_name", Some(&name))?;
    }
    let description = text("description", body.description, 200)?;
    let includes_pattern = text("includes_pattern", body.includes_pattern, 512)?;
    let share = share_right(body.share_right)?;
    let project_id = project_id(body.project_id)?;
    require_create(&state, &principal, &project_id, vec![name.clone()]).await?;
    let repo = Repository {
        description,
        includes_pattern,
        share_right: share,
        repo_type: kind.to_string(),
        ..new_repo(
            &principal,
            &project_id,
            name.clone(),
            name,
            &format,
            "mixed",
            &new_hex_id(),
        )
    };
    let remote = (kind == repo_kinds::REMOTE)
        .then(|| repo_kinds::remote_settings(&repo, &input, None, &state.secrets))
        .transpose()?;
    let domain_id = principal.domain_id.clone();
    let config = state.config.clone();
    let principal = principal.clone();
    crate::http::audit::note_repo(&repo);
    let view = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            repos::insert_repo(&tx, &repo)?;
            if let Some(remote) = &remote {
                remote::put_remote(&tx, remote)?;
            }
            if kind == repo_kinds::VIRTUAL {
                if let Err(refusal) =
                    repo_kinds::save_virtual(&tx, &principal, &repo, &input, None)?
                {
                    return Ok(Err(refusal));
                }
            }
            tx.commit()?;
            let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            Ok(Ok(repository_do(&repo, &ctx)))
        })
        .await??;
    Ok(success(json!({ "artifactory": view })))
}

// ---- update and modify -------------------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepoBody {
    repo_name: Option<String>,
    remote_url: Option<String>,
    user_name: Option<String>,
    password: Option<String>,
    metadata_max_age_secs: Option<i64>,
    not_found_cache_secs: Option<i64>,
    default_deploy_repository: Option<String>,
    hosted_names_hide_remote: Option<bool>,
    format: Option<String>,
    description: Option<String>,
    repository_ids: Option<Vec<String>>,
    includes_pattern: Option<String>,
    deployment_policy: Option<String>,
    auto_clean_snapshot: Option<bool>,
    snapshot_alive_days: Option<String>,
    max_unique_snapshots: Option<String>,
    allow_anonymous: Option<bool>,
    project_id: Option<String>,
}

/// `PUT /cloudartifact/v5/artifact/` (update_artifactory): a repository's settings. Decision: it applies
/// to Maven repositories too, since it carries their snapshot policy (`max_unique_snapshots`).
pub async fn update_other(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<JsonBody<UpdateRepoBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    let key = body.repo_name.unwrap_or_default();
    if key.is_empty() || key.len() > 64 {
        return Err(ApiError::invalid(
            "repo_name",
            "must name a repository (its name or id)",
        ));
    }
    let input = kind_input!(body);
    if body.auto_clean_snapshot == Some(true) {
        return Err(ApiError::invalid(
            "auto_clean_snapshot",
            "is not supported; use max_unique_snapshots to bound kept snapshot builds",
        ));
    }
    if body.snapshot_alive_days.is_some_and(|d| !d.is_empty()) {
        return Err(ApiError::invalid(
            "snapshot_alive_days",
            "is not supported; use max_unique_snapshots to bound kept snapshot builds",
        ));
    }
    let description = body
        .description
        .map(|d| text("description", Some(d), 200))
        .transpose()?;
    let includes_pattern = body
        .includes_pattern
        .map(|p| text("includes_pattern", Some(p), 512))
        .transpose()?;
    let deployment_policy = match body.deployment_policy.as_deref() {
        None | Some("") => None,
        Some(p @ (ALLOW_REDEPLOY | DISABLE_REDEPLOY)) => Some(p.to_string()),
        Some(_) => {
            return Err(ApiError::invalid(
                "deployment_policy",
                "must be allow_redeploy or disable_redeploy",
            ))
        }
    };
    let max_unique_snapshots = match body.max_unique_snapshots.as_deref() {
        None | Some("") => None,
        Some(v) => match v.trim().parse::<i64>() {
            Ok(n) if (0..=10_000).contains(&n) => Some(n),
            _ => {
                return Err(ApiError::invalid(
                    "max_unique_snapshots",
                    "must be an integer from 0 (keep all) to 10000",
                ))
            }
        },
    };
    let (mut repo, access) = repo_with_access(&state, &principal, &key).await?;
    if body
        .project_id
        .as_deref()
        .is_some_and(|p| !p.is_empty() && p != repo.project_id)
    {
        return Err(ApiError::invalid(
            "project_id",
            "is not the repository's project",
        ));
    }
    if body
        .format
        .as_deref()
        .is_some_and(|f| !f.is_empty() && f != repo.format)
    {
        return Err(ApiError::invalid(
            "format",
            "is not the repository's format",
        ));
    }
    if repo.status != STATUS_ACTIVE {
        return Err(ApiError::Conflict(format!(
            "repository {} is in the recycle bin; restore it first",
            repo.name
        )));
    }
    require(&access, &repo, Operation::EditRepository, "")?;
    input.check_fits(&repo.repo_type)?;
    if let Some(d) = description {
        repo.description = d;
    }
    if let Some(p) = includes_pattern {
        repo.includes_pattern = p;
    }
    if let Some(p) = deployment_policy {
        repo.deployment_policy = p;
    }
    if let Some(n) = max_unique_snapshots {
        repo.max_unique_snapshots = n;
    }
    if let Some(a) = body.allow_anonymous {
        repo.allow_anonymous = a;
    }
    repo.modified_at = now_ms();
    repo.modified_by = principal.user_id.clone();
    let domain_id = principal.domain_id.clone();
    let config = state.config.clone();
    let secrets = state.secrets.clone();
    let view = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            repos::update_repo(&tx, &repo)?;
            let (remote_now, virtual_now) = repo_kinds::load_settings(&tx, &repo)?;
            if repo.repo_type == repo_kinds::REMOTE {
                match repo_kinds::remote_settings(&repo, &input, remote_now, &secrets) {
                    Ok(settings) => remote::put_remote(&tx, &settings)?,
                    Err(refusal) => return Ok(Err(refusal)),
                }
            }
            if repo.repo_type == repo_kinds::VIRTUAL {
                let saved = repo_kinds::save_virtual(&tx, &principal, &repo, &input, virtual_now)?;
                if let Err(refusal) = saved {
                    return Ok(Err(refusal));
                }
            }
            tx.commit()?;
            let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            Ok(Ok(repository_do(&repo, &ctx)))
        })
        .await??;
    Ok(success(view))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TabBody {
    repo_name: Option<String>,
    includes_pattern: Option<String>,
    project_id: Option<String>,
    description: Option<String>,
    snapshot: Option<String>,
    release: Option<String>,
}

/// `PUT /cloudartifact/v5/repositories/tab/{tab_id}` (modify_repository): the shared settings of a
/// Maven pair (display name, description, path rule). `release`/`snapshot`, when given, must name the
/// tab's repositories (by name or id).
pub async fn modify_tab(
    State(state): State<AppState>,
    principal: Principal,
    Path(tab_id): Path<String>,
    body: Result<JsonBody<TabBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    if tab_id.is_empty() || tab_id.len() > 64 || !tab_id.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return Err(ApiError::invalid(
            "tab_id",
            "must be up to 64 letters or digits",
        ));
    }
    let JsonBody(body) = body?;
    let display = body
        .repo_name
        .map(|n| text("repo_name", Some(n), 50))
        .transpose()?
        .filter(|n| !n.trim().is_empty());
    let description = body
        .description
        .map(|d| text("description", Some(d), 200))
        .transpose()?;
    let includes_pattern = body
        .includes_pattern
        .map(|p| text("includes_pattern", Some(p), 512))
        .transpose()?;
    let (tab, domain_id) = (tab_id.clone(), principal.domain_id.clone());
    let principal_copy = principal.clone();
    let (members, access) = state
        .db
        .call(move |conn| {
            let members: Vec<Repository> = repos::repos_of_tab(conn, &tab)?
                .into_iter()
                .filter(|r| r.domain_id == domain_id)
                .collect();
            let access = CallerAccess::load(
                conn,
                &principal_copy,
                members.iter().map(|r| r.project_id.as_str()),
            )?;
            Ok((members, access))
        })
        .await?;
    if members.is_empty() {
        return Err(ApiError::not_found(format!("No repository tab {tab_id}")));
    }
    members.iter().for_each(crate::http::audit::note_repo);
    if let Some(p) = body.project_id.as_deref().filter(|p| !p.is_empty()) {
        if members.iter().any(|r| r.project_id != p) {
            return Err(ApiError::invalid(
                "project_id",
                "is not the project of the tab's repositories",
            ));
        }
    }
    for (field, given) in [("release", &body.release), ("snapshot", &body.snapshot)] {
        if let Some(key) = given.as_deref().filter(|k| !k.is_empty()) {
            if !members.iter().any(|r| r.name == key || r.id == key) {
                return Err(ApiError::invalid(
                    field,
                    "does not name a repository of this tab",
                ));
            }
        }
    }
    for repo in &members {
        require(&access, repo, Operation::EditRepository, "")?;
    }
    let now = now_ms();
    let mut updated = members;
    for repo in &mut updated {
        if let Some(d) = &display {
            repo.display_name = d.trim().to_string();
        }
        if let Some(d) = &description {
            repo.description = d.clone();
        }
        if let Some(p) = &includes_pattern {
            repo.includes_pattern = p.clone();
        }
        repo.modified_at = now;
        repo.modified_by = principal.user_id.clone();
    }
    let pick = |policy: &str| {
        updated
            .iter()
            .find(|r| r.policy == policy)
            .map(|r| r.id.clone())
            .unwrap_or_default()
    };
    let answer = json!({"release": pick("release"), "snapshot": pick("snapshot")});
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            for repo in &updated {
                repos::update_repo(&tx, repo)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(success(answer))
}

// ---- read --------------------------------------------------------------------------------------

/// `GET /cloudartifact/v5/repositories/{repo_id}` (show_repository_info).
pub async fn show_info(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> ApiResult<Json<Value>> {
    let (repo, _) = readable_repo(&state, &principal, &key).await?;
    let ctx = ViewContext::fetch(&state, &principal.domain_id, headers).await?;
    Ok(success(repository_do(&repo, &ctx)))
}

/// A repository of the caller's account that the caller may read (some of).
async fn readable_repo(
    state: &AppState,
    principal: &Principal,
    key: &str,
) -> ApiResult<(Repository, CallerAccess)> {
    let (repo, access) = repo_with_access(state, principal, key).await?;
    if access.can_read(&repo) {
        Ok((repo, access))
    } else {
        Err(ApiError::forbidden(format!(
            "download is not allowed on /{}",
            repo.name
        )))
    }
}

/// The `{tenant_id}` of a path must be the caller's account (domain) id.
pub fn require_tenant(principal: &Principal, tenant_id: &str) -> ApiResult<()> {
    if tenant_id.len() > 64 {
        return Err(ApiError::invalid(
            "tenant_id",
            "must be at most 64 characters",
        ));
    }
    if tenant_id != principal.domain_id {
        return Err(ApiError::not_found(
            "tenant_id is not the caller's account (domain) id",
        ));
    }
    Ok(())
}

/// `GET /cloudartifact/v5/{tenant_id}/{project_id}/{repo_id}/repositories` (show_repository).
pub async fn show_basic(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((tenant_id, project, key)): Path<(String, String, String)>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    require_tenant(&principal, &tenant_id)?;
    let project = project_id(Some(project))?;
    query.string("region", 64)?;
    let (repo, access) = readable_repo(&state, &principal, &key).await?;
    if repo.project_id != project {
        return Err(ApiError::not_found(format!(
            "No repository {key} in project {project}"
        )));
    }
    let domain_id = principal.domain_id.clone();
    let repo_copy = repo.clone();
    let usage = state
        .db
        .call(move |conn| {
            let whole = repos::live_usage_by_repo(conn, &domain_id)?
                .get(&repo_copy.id)
                .copied()
                .unwrap_or((0, 0));
            access.usage(conn, &repo_copy, whole)
        })
        .await?;
    let ctx = ViewContext::fetch(&state, &principal.domain_id, headers).await?;
    Ok(success(repository_basic_do(&repo, &ctx, usage)))
}

const SORTS: [&str; 6] = [
    "name",
    "-name",
    "created_time",
    "-created_time",
    "modified_time",
    "-modified_time",
];

fn format_list(query: &QueryParams) -> ApiResult<Option<Vec<String>>> {
    let mut formats: Vec<String> = Vec::new();
    if let Some(f) = query.filter("format", 32)? {
        formats.push(f);
    }
    if let Some(list) = query.filter("format_list", 512)? {
        formats.extend(
            list.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_string),
        );
    }
    for f in &formats {
        if f != MAVEN_FORMAT && !OTHER_FORMATS.contains(&f.as_str()) {
            return Err(ApiError::invalid(
                "format_list",
                format!(
                    "holds {f}; formats are {MAVEN_FORMAT}, {}",
                    OTHER_FORMATS.join(", ")
                ),
            ));
        }
    }
    Ok((!formats.is_empty()).then_some(formats))
}

/// `GET /cloudartifact/v5/{tenant_id}/{project_id}/repositories` (list_all_repositories). Decisions:
/// `in_project` (default true) keeps the project's repositories, false lists the whole account's;
/// `qname` is a case-insensitive substring of the name or display name; `group_id` is a tab id; `sort`
/// is one of `SORTS` (default name); `is_need_paging=false` answers every match. Only repositories the
/// caller may read are listed.
pub async fn list_all(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path((tenant_id, project)): Path<(String, String)>,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    require_tenant(&principal, &tenant_id)?;
    let project = project_id(Some(project))?;
    let group_id = query.filter("group_id", 64)?;
    let page_no = query.int("page_no", 1..=2_147_483_647, 1)?;
    let page_size = query.int("page_size", 1..=100, 10)?;
    let sort = query.one_of("sort", &SORTS)?;
    let qname = query.filter("qname", 100)?.map(|q| q.to_lowercase());
    // `proxy` and `group` are the names Nexus users type for remote and virtual.
    let repo_type = query
        .one_of(
            "type",
            &[
                repo_kinds::HOSTED,
                repo_kinds::REMOTE,
                repo_kinds::VIRTUAL,
                "proxy",
                "group",
            ],
        )?
        .map(|t| match t.as_str() {
            "proxy" => repo_kinds::REMOTE.to_string(),
            "group" => repo_kinds::VIRTUAL.to_string(),
            _ => t,
        });
    let formats = format_list(&query)?;
    let recycle_bin = query.bool("is_recycle_bin", false)?;
    let paging = query.bool("is_need_paging", true)?;
    let in_project = query.bool("in_project", true)?;

    let domain_id = principal.domain_id.clone();
    let principal_copy = principal.clone();
    let config = state.config.clone();
    let (ctx, mut rows) = state
        .db
        .call(move |conn| {
            conn.reading(|conn| {
                let (all, access) = CallerAccess::with_account_repos(conn, &principal_copy)?;
                let usage = repos::live_usage_by_repo(conn, &domain_id)?;
                let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
                let wanted_status = if recycle_bin {
                    STATUS_TRASH
                } else {
                    STATUS_ACTIVE
                };
                let rows: Vec<(Repository, (i64, i64))> = all
                    .into_iter()
                    .filter(|r| r.status == wanted_status)
                    .filter(|r| !in_project || r.project_id == project)
                    .filter(|r| group_id.as_ref().is_none_or(|g| &r.tab_id == g))
                    .filter(|r| repo_type.as_ref().is_none_or(|t| &r.repo_type == t))
                    .filter(|r| formats.as_ref().is_none_or(|f| f.contains(&r.format)))
                    .filter(|r| {
                        qname.as_ref().is_none_or(|q| {
                            r.name.to_lowercase().contains(q)
                                || r.display_name.to_lowercase().contains(q)
                        })
                    })
                    .filter(|r| access.can_read(r))
                    .map(|r| {
                        let whole = usage.get(&r.id).copied().unwrap_or((0, 0));
                        let u = access.usage(conn, &r, whole)?;
                        Ok((r, u))
                    })
                    .collect::<StoreResult<_>>()?;
                Ok((ctx, rows))
            })
        })
        .await?;
    match sort.as_deref().unwrap_or("name") {
        "-name" => rows.sort_by(|a, b| b.0.name.cmp(&a.0.name)),
        "created_time" => rows.sort_by_key(|r| (r.0.created_at, r.0.name.clone())),
        "-created_time" => {
            rows.sort_by(|a, b| (b.0.created_at, &a.0.name).cmp(&(a.0.created_at, &b.0.name)))
        }
        "modified_time" => rows.sort_by_key(|r| (r.0.modified_at, r.0.name.clone())),
        "-modified_time" => {
            rows.sort_by(|a, b| (b.0.modified_at, &a.0.name).cmp(&(a.0.modified_at, &b.0.name)))
        }
        _ => rows.sort_by(|a, b| a.0.name.cmp(&b.0.name)),
    }
    let total = rows.len();
    let window = if paging {
        page_window(total as u64, page_no as u64, page_size as u64)
    } else {
        page_window(total as u64, 1, total.max(1) as u64)
    };
    let page: Vec<Value> = rows
        .iter()
        .skip(window.skip)
        .take(window.take)
        .map(|(r, u)| repository_basic_do(r, &ctx, *u))
        .collect();
    Ok(success(json!({"total": total, "repositories": page})))
}

/// `GET /cloudartifact/v5/maven/info` (show_maven_info): the Maven repositories a build can use, with the
/// caller's repo user name. `access=rw` keeps those the caller may upload to; `default` is accepted for
/// compatibility (arca has no account-wide default repositories).
pub async fn show_maven_info(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    query: QueryParams,
) -> ApiResult<Json<Value>> {
    let project = match query.filter("project_id", 32)? {
        Some(p) => Some(project_id(Some(p))?),
        None => None,
    };
    let policy = query.one_of("policy", &["release", "snapshot", "releases", "snapshots"])?;
    let access_mode = query.one_of("access", &["r", "rw"])?;
    query.bool("default", false)?;
    let ids: Option<Vec<String>> = query.filter("ids", 2048)?.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    });
    let domain_id = principal.domain_id.clone();
    let principal_copy = principal.clone();
    let repo_user = format!("{}_{}", principal.domain_id, principal.user_id);
    let config = state.config.clone();
    let views = state
        .db
        .call(move |conn| {
            let (all, access) = CallerAccess::with_account_repos(conn, &principal_copy)?;
            let ctx = ViewContext::load(conn, &config, &domain_id, &headers)?;
            let views: Vec<Value> = all
                .iter()
                .filter(|r| r.format == MAVEN_FORMAT && r.status == STATUS_ACTIVE)
                .filter(|r| project.as_ref().is_none_or(|p| &r.project_id == p))
                .filter(|r| {
                    policy
                        .as_deref()
                        .is_none_or(|p| p.trim_end_matches('s') == r.policy)
                })
                .filter(|r| {
                    ids.as_ref()
                        .is_none_or(|ids| ids.contains(&r.id) || ids.contains(&r.name))
                })
                .filter(|r| access.can_read(r))
                .filter(|r| {
                    access_mode.as_deref() != Some("rw") || access.allows(r, Operation::Upload, "")
                })
                .map(|r| {
                    let mut v = repository_do(r, &ctx);
                    v["username"] = json!(repo_user);
                    v
                })
                .collect();
            Ok(views)
        })
        .await?;
    Ok(success(views))
}

// ---- delete to the recycle bin -----------------------------------------------------------------

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteReposBody {
    repository_ids: Option<String>,
    format: Option<String>,
}

/// `DELETE /cloudartifact/v5/repositories` (delete_repository): moves repositories (comma-separated ids
/// or names) to the recycle bin, where their files stay until restored or deleted for good.
pub async fn delete_to_trash(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<JsonBody<DeleteReposBody>, ApiError>,
) -> ApiResult<Json<Value>> {
    let JsonBody(body) = body?;
    let keys: Vec<String> = body
        .repository_ids
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    if keys.is_empty() || keys.len() > 100 {
        return Err(ApiError::invalid(
            "repository_ids",
            "must list 1 to 100 repository ids, comma-separated",
        ));
    }
    let mut targets = Vec::new();
    for key in &keys {
        let (repo, access) = repo_with_access(&state, &principal, key).await?;
        if body
            .format
            .as_deref()
            .is_some_and(|f| !f.is_empty() && f != repo.format)
        {
            return Err(ApiError::invalid(
                "format",
                format!("is not the format of repository {key}"),
            ));
        }
        if repo.status != STATUS_ACTIVE {
            return Err(ApiError::not_found(format!(
                "Repository {key} is already in the recycle bin"
            )));
        }
        require(&access, &repo, Operation::Delete, "")?;
        targets.push(repo);
    }
    let now = now_ms();
    let user_id = principal.user_id.clone();
    let deleted: Vec<String> = targets.iter().map(|r| r.id.clone()).collect();
    state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            for mut repo in targets {
                repo.status = STATUS_TRASH.to_string();
                repo.deleted_at = Some(now);
                repo.modified_at = now;
                repo.modified_by = user_id.clone();
                repos::update_repo(&tx, &repo)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    Ok(success(json!({ "repository_ids": deleted })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_know_the_authors_they_show_and_only_the_accounts_users() {
        let (_dir, db) = crate::store::test_db();
        db.blocking(|conn| {
            crate::store::tickets::tests::seed(conn);
            let mut repo = repos::tests_support::repo_fixture();
            repo.created_by = "u1".into();
            repo.modified_by = "u1".into();
            repos::insert_repo(conn, &repo)?;
            let other = identity::Domain {
                id: "e".into(),
                name: "other".into(),
            };
            identity::insert_domain(conn, &other, 0)?;
            let mut stranger = identity::tests::user(1);
            stranger.domain_id = "e".into();
            identity::insert_user(conn, &stranger)?;

            let mut ctx = ViewContext::load(conn, &Config::default(), "d", &HeaderMap::new())?;
            assert_eq!(ctx.name_of("u1"), "alice", "a repository's author");
            assert_eq!(ctx.name_of("u2"), "", "not read before it is asked for");
            ctx.learn_names(conn, ["u2", stranger.id.as_str()])?;
            assert_eq!(ctx.name_of("u2"), "bob");
            assert_eq!(ctx.name_of(&stranger.id), "", "another account's user");
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn snake_names() {
        assert_eq!(
            snake_case("defaultDeployRepository"),
            "default_deploy_repository"
        );
        assert_eq!(snake_case("id"), "id");
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.50 KB");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5.00 MB");
    }
}
