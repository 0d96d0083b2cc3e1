//! Starting and stopping the server: open the data directory, bootstrap, serve until SIGTERM/Ctrl-C.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::connect_info::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::auth::secrets::SecretBox;
use crate::blob::fs::FsBlobStore;
use crate::blob::s3::{S3BlobStore, S3Settings};
use crate::blob::BlobStore;
use crate::bootstrap;
use crate::config::BlobBackend;
use crate::config::Config;
use crate::http::app::{router, AppState};
use crate::http::auth_limit::AuthLimiter;
use crate::http::limits::IdleTimeoutBody;
use crate::storage_fault::{self, StorageFault};
use crate::store::{blob_leases, DatabaseUrl, Db};

/// Opens (creating if needed) the data directory and builds the application state. A data directory that
/// cannot be written is opened read-only: arca then serves reads and answers every change 503.
pub fn open(config: Config) -> anyhow::Result<AppState> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let read_only = storage_fault::probe(data_dir) == Some(StorageFault::ReadOnly);
    let node_id = node_id(data_dir, read_only)?;
    let database = DatabaseUrl::parse(&config.database_url).map_err(anyhow::Error::msg)?;
    let secrets = if config.secret_key_file.as_os_str().is_empty() {
        if matches!(database, DatabaseUrl::Postgres(_)) {
            tracing::warn!(
                "secret_key_file is not set: this node encrypts secrets with its own data directory's key, which other nodes on the same database do not have"
            );
        }
        SecretBox::load_or_create(&data_dir.join("secret.key"))?
    } else {
        SecretBox::load(&config.secret_key_file).context("cannot use secret_key_file")?
    };
    let db_path = match &database {
        DatabaseUrl::Sqlite(Some(path)) => path.clone(),
        _ => data_dir.join("arca.db"),
    };
    // The message names the setting, never the URL: it may carry a password.
    let postgres = |url: &str| {
        Db::connect_postgres(url)
            .context("cannot open the PostgreSQL database that database_url names")
    };
    let (db, blobs) = if read_only {
        tracing::warn!(
            data_dir = %data_dir.display(),
            "the data directory is read-only (or not writable by arca): serving reads and refusing every change until it is writable and arca restarted"
        );
        let db = match &database {
            DatabaseUrl::Postgres(url) => postgres(url)?,
            DatabaseUrl::Sqlite(_) => {
                Db::open_read_only(&db_path).context("cannot open the database read-only")?
            }
        };
        bootstrap::check_read_only(&db, &config.region)?;
        bootstrap::check_secret_key(&db, &secrets)?;
        let blobs = open_blob_store(&config, true)?;
        (db, blobs)
    } else {
        let db = match &database {
            DatabaseUrl::Postgres(url) => postgres(url)?,
            DatabaseUrl::Sqlite(_) => Db::open(&db_path)?,
        };
        bootstrap::ensure(&db, &secrets, data_dir, &config.region)?;
        bootstrap::check_secret_key(&db, &secrets)?;
        if db.is_shared() {
            // What this node was uploading when it last stopped (a crash) is over: its leases go, so
            // the start-up sweep can reclaim what those uploads left.
            let ended = db.blocking(|conn| blob_leases::end_all_of(conn, &node_id))?;
            if ended > 0 {
                tracing::info!(
                    leases = ended,
                    "ended the blob leases this node held before its restart"
                );
            }
        }
        crate::service::remote_fetch::reset_spool(data_dir)
            .context("cannot prepare the spool directory for upstream fetches")?;
        let blobs = open_blob_store(&config, false)?;
        (db, blobs)
    };
    Ok(AppState::from(crate::http::app::Node {
        documents: crate::service::documents::Documents::new(config.metadata_cache_mib),
        hot: Arc::default(),
        small_files: Arc::new(crate::blob::small::SmallFiles::new(config.file_cache_mib)),
        ticket_uses: Arc::new(crate::service::ticket_uses::TicketUses::new(db.clone())),
        auth_limiter: Arc::new(AuthLimiter::new(&config)),
        metrics: Arc::new(crate::http::metrics::registry(&db)),
        config: Arc::new(config),
        db,
        secrets,
        blobs,
        blob_gc: Arc::default(),
        upstreams: Default::default(),
        in_flight: Default::default(),
        registry_tokens: Default::default(),
        allow_lists: Default::default(),
        node_id: Arc::from(node_id),
    }))
}

/// The node's lasting name, kept in `node.id` in the data directory (made on first start); a read-only
/// directory gets a name for this run only (such a node uploads nothing).
fn node_id(data_dir: &std::path::Path, read_only: bool) -> anyhow::Result<String> {
    let path = data_dir.join("node.id");
    match std::fs::read_to_string(&path) {
        Ok(id) if crate::domain::is_hex32(id.trim()) => return Ok(id.trim().to_string()),
        _ if read_only => return Ok(crate::domain::new_hex_id()),
        _ => {}
    }
    let id = crate::domain::new_hex_id();
    std::fs::write(&path, &id).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(id)
}

/// The configured blob store (its directories made unless `read_only`).
pub fn open_blob_store(config: &Config, read_only: bool) -> anyhow::Result<Arc<dyn BlobStore>> {
    Ok(match (config.blob_store, read_only) {
        (BlobBackend::Fs, true) => Arc::new(FsBlobStore::open_read_only(&config.data_dir)),
        (BlobBackend::Fs, false) => Arc::new(FsBlobStore::open(&config.data_dir)?),
        (BlobBackend::S3, _) => Arc::new(open_s3(config, read_only)?),
    })
}

/// The S3 blob store. Its local spool (`tmp/` in the data directory) holds only `local_copy`'s files.
/// Whether the bucket answers is not checked here: a store that is down at start makes `GET /health`
/// answer 503 until it is back, rather than keeping arca from starting.
fn open_s3(config: &Config, read_only: bool) -> anyhow::Result<S3BlobStore> {
    let settings = S3Settings::of(config);
    tracing::info!(bucket = %settings.bucket, prefix = %settings.prefix, endpoint = %settings.endpoint, "blobs are stored in S3");
    S3BlobStore::open(&settings, config.data_dir.join("tmp"), read_only)
        .context("cannot set up the S3 blob store")
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    raise_open_file_limit();
    let listen = config.listen;
    // Opening is synchronous work (SQLite, or PostgreSQL's blocking client, which refuses to run on a
    // runtime thread), so it runs on the blocking pool like every other database call.
    let state = tokio::task::spawn_blocking(move || open(config)).await??;
    let listener = TcpListener::bind(listen).await?;
    tracing::info!(address = %listener.local_addr()?, "arca listening");
    serve_on(listener, state, shutdown_signal()).await
}

/// Every connection holds a descriptor: with a login shell's soft limit (often 1024), that many idle
/// clients would lock every other client out. The hard limit is what the administrator allows.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return;
    }
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => {
            tracing::info!(from = ?limit.current, to = ?limit.maximum, "raised the open-file limit")
        }
        Err(e) => {
            tracing::warn!(error = %e, limit = ?limit.current, "could not raise the open-file limit")
        }
    }
}

/// Serves HTTP/1.1 until `shutdown` completes, then lets the requests in flight finish. hyper's own
/// connection loop is used rather than `axum::serve` for what that does not set: a timer, so that a
/// client that sends its request head slowly (or a kept-alive connection that sends nothing) is dropped
/// after `header_read_timeout_secs`. Every body is read through an `IdleTimeoutBody`, so a body that
/// stalls for `request_body_timeout_secs` fails (408).
pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let body_timeout = Duration::from_secs(state.config.request_body_timeout_secs);
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(state.config.header_read_timeout_secs));
    // Stopping drops a sweep half-way safely: rows are deleted before their bytes, so what is left is
    // bytes without a row, which the next sweep reclaims.
    tokio::spawn(crate::http::blob_sweep::run(state.clone()));
    tokio::spawn(crate::http::oci_gc::run(state.clone()));
    tokio::spawn(crate::http::release::retention::run(state.clone()));
    tokio::spawn(crate::http::audit::prune::run(state.clone()));
    tokio::spawn(crate::http::sec_guard::run(state.clone()));
    let ticket_uses = state.ticket_uses.clone();
    let app = router(state);
    let connections = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Polled once before the first accept so the signal handlers exist before anyone can have been
    // answered: `select!` may otherwise pick a ready accept first, and a SIGTERM sent right after that
    // first answer (a supervisor's health check) would kill the process instead of draining it.
    let stopped_early = futures_util::FutureExt::now_or_never(&mut shutdown).is_some();
    loop {
        if stopped_early {
            break;
        }
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers go out as a header write and a body write; without TCP_NODELAY, Nagle's algorithm
        // holds the second until the client's delayed ACK (~40 ms per request).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let service = app.clone().map_request(move |request: Request<Incoming>| {
            let mut request = request.map(|body| IdleTimeoutBody::new(body, body_timeout));
            // The peer address is what failed authentications are counted against (http::auth_limit).
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection =
            http.serve_connection(TokioIo::new(tcp), TowerToHyperService::new(service));
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutdown signal received; draining connections");
    connections.shutdown().await;
    if let Err(e) = ticket_uses.give_back().await {
        tracing::warn!(error = %e, "ticket uses taken ahead could not be given back");
    }
    tracing::info!("arca stopped");
    Ok(())
}

/// Per-connection failures (a client that reset before being accepted) are nobody's concern; running
/// out of descriptors is, and retrying at once would spin, so the loop pauses.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        e.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
