//! Application state and the router that assembles every API group.

use crate::params;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::json;

use super::auth_limit::AuthLimiter;
use super::error::ApiError;
use super::extract::BodyLimit;
use super::{artifact, authn, console, iam, projectman, protocols, release, trace};
use crate::auth::secrets::SecretBox;
use crate::auth::Principal;
use crate::authz::policy::{self, PolicyDocument};
use crate::blob::{BlobError, BlobStore, Unavailable};
use crate::config::Config;
use crate::store::{identity, Db};

/// What every request reads: one node's configuration, database, blob store and caches. Cloned per
/// request and per layer (axum's `State`), so it is one `Arc`: a clone is one count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Node>);

impl std::ops::Deref for AppState {
    type Target = Node;
    fn deref(&self) -> &Node {
        &self.0
    }
}

impl From<Node> for AppState {
    fn from(node: Node) -> AppState {
        AppState(Arc::new(node))
    }
}

pub struct Node {
    pub config: Arc<Config>,
    pub db: Db,
    pub secrets: SecretBox,
    pub blobs: Arc<dyn BlobStore>,
    /// Held shared by uploads between writing a blob and committing the metadata that references it, and
    /// exclusively by garbage collection, so a blob is never reclaimed under an upload that reuses it.
    pub blob_gc: Arc<tokio::sync::RwLock<()>>,
    /// Counts failed authentications per client address and user; refuses them beyond the limit.
    pub auth_limiter: Arc<AuthLimiter>,
    /// Remote repositories' upstream clients, one per account.
    pub upstreams: crate::service::upstreams::Upstreams,
    /// Upstream fetches in flight, so concurrent reads of one path share one.
    pub in_flight: crate::service::remote_fetch::InFlight,
    /// Registry tokens remote `docker2` repositories were given by their upstreams.
    pub registry_tokens: crate::service::registry_auth::Tokens,
    /// Accounts' IP allow-lists as this node last read them.
    pub allow_lists: Arc<crate::http::ip_allow::AllowLists>,
    /// What `GET /metrics` encodes.
    pub metrics: Arc<prometheus_client::registry::Registry>,
    /// This node's lasting name (`node.id` in the data directory): what its blob leases carry.
    pub node_id: Arc<str>,
    /// Generated metadata documents kept once built, per repository metadata generation.
    pub documents: crate::service::documents::Documents,
    /// Repositories, files, repo logins and privilege entries read lately (`store::cache`).
    pub hot: Arc<crate::http::protocols::hot_reads::HotReads>,
    /// Small stored files kept by their SHA-256 (`file_cache_mib`).
    pub small_files: Arc<crate::blob::small::SmallFiles>,
    /// Ticket uses, taken in batches (`service::ticket_uses`).
    pub ticket_uses: Arc<crate::service::ticket_uses::TicketUses>,
}

impl AppState {
    /// A node on `db` and `blobs` with the default configuration, its key in `dir`.
    #[cfg(test)]
    pub fn for_tests(db: Db, blobs: Arc<dyn BlobStore>, dir: &std::path::Path) -> AppState {
        let config = Config::default();
        AppState::from(Node {
            auth_limiter: Arc::new(AuthLimiter::new(&config)),
            metrics: Arc::new(crate::http::metrics::registry(&db)),
            config: Arc::new(config),
            db: db.clone(),
            secrets: SecretBox::load_or_create(&dir.join("secret.key")).unwrap(),
            blobs,
            blob_gc: Arc::default(),
            upstreams: Default::default(),
            in_flight: Default::default(),
            registry_tokens: Default::default(),
            allow_lists: Default::default(),
            node_id: Arc::from(crate::domain::new_hex_id()),
            documents: crate::service::documents::Documents::new(32),
            hot: Arc::default(),
            small_files: Arc::new(crate::blob::small::SmallFiles::new(16)),
            ticket_uses: Arc::new(crate::service::ticket_uses::TicketUses::new(db.clone())),
        })
    }
}

impl AppState {
    /// Whether the principal's identity policies allow `action`; the root user may do anything.
    pub async fn is_allowed(
        &self,
        principal: &Principal,
        action: &'static str,
    ) -> Result<bool, ApiError> {
        if principal.is_root {
            return Ok(true);
        }
        let user_id = principal.user_id.clone();
        let documents = self
            .db
            .call(move |conn| identity::policy_documents_for_user(conn, &user_id))
            .await?;
        let parsed: Vec<PolicyDocument> = documents
            .iter()
            .filter_map(|d| serde_json::from_str(d).ok())
            .collect();
        Ok(policy::is_allowed(&parsed, action))
    }

    /// Fails with 403 unless `is_allowed`.
    pub async fn require(
        &self,
        principal: &Principal,
        action: &'static str,
    ) -> Result<(), ApiError> {
        if self.is_allowed(principal, action).await? {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "The caller is not allowed to perform {action}; ask the account administrator for a policy granting it"
            )))
        }
    }
}

pub fn router(state: AppState) -> Router {
    // Identities, projects and tickets are administered with a signature or a token only; a ticket (a
    // download credential, possibly scoped to one repository) is refused there before a use is taken.
    let administration = Router::new()
        .merge(iam::router())
        .merge(projectman::router())
        .merge(artifact::ticket_router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            authn::authenticate_without_tickets,
        ));
    let authenticated = Router::new()
        .merge(artifact::router())
        .merge(release::router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            authn::authenticate,
        ))
        .merge(administration);

    Router::new()
        .route("/health", get(health))
        .route("/metrics", get(super::metrics::serve))
        .route("/openapi.json", get(super::openapi::serve))
        .merge(iam::public_router())
        .merge(protocols::router())
        .merge(release::transfer_router())
        .merge(console::router())
        .merge(authenticated)
        .route_layer(middleware::from_fn(super::observe::note_route))
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(Extension(BodyLimit(state.config.max_body_bytes)))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            super::audit::record_changes,
        ))
        .layer(middleware::from_fn(trace::assign_trace_id))
        .layer(middleware::from_fn(super::observe::observe))
        .with_state(state)
}

/// For a load balancer: 200 while this node can serve, 503 when it cannot reach its database or its blob
/// store (SQLite and the filesystem store always can). Each check is one cheap request with a short
/// timeout, and both run at once.
async fn health(State(state): State<AppState>) -> Response {
    let database = async {
        let ping = state.db.call(|conn| {
            conn.query_row("SELECT CAST(1 AS BIGINT)", params![], |r| r.get::<i64>(0))
                .map(|_| ())
        });
        match tokio::time::timeout(HEALTH_TIMEOUT, ping).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "health check: the database is unavailable");
                Some("unreachable")
            }
            Err(_) => {
                tracing::warn!("health check: the database did not answer in time");
                Some("timeout")
            }
        }
    };
    let blobs = async {
        match state.blobs.check().await {
            Ok(()) => None,
            Err(e) => {
                tracing::warn!(error = %e, "health check: the blob store is unavailable");
                Some(match e {
                    BlobError::Unavailable(Unavailable::Refused, _) => "refused",
                    BlobError::Unavailable(Unavailable::NoBucket, _) => "no_bucket",
                    _ => "unreachable",
                })
            }
        }
    };
    let (database, blobs) = tokio::join!(database, blobs);
    if database.is_none() && blobs.is_none() {
        return Json(json!({"status": "ok"})).into_response();
    }
    let mut body = json!({"status": "unavailable"});
    if let Some(problem) = database {
        body["database"] = json!(problem);
    }
    if let Some(problem) = blobs {
        body["blob_store"] = json!(problem);
    }
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

const HEALTH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

async fn no_route(request: Request) -> ApiError {
    ApiError::NoRoute {
        method: request.method().to_string(),
        path: request.uri().path().to_string(),
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
