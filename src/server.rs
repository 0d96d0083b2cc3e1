//! Starting and stopping the server: open the data directory, bootstrap, serve until SIGTERM/Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::auth::secrets::SecretBox;
use crate::blob::fs::FsBlobStore;
use crate::bootstrap;
use crate::config::Config;
use crate::http::app::{router, AppState};
use crate::http::auth_limit::AuthLimiter;
use crate::storage_fault::{self, StorageFault};
use crate::store::Db;

/// Opens (creating if needed) the data directory and builds the application state. A data directory that
/// cannot be written is opened read-only: arca then serves reads and answers every change 503.
pub fn open(config: Config) -> anyhow::Result<AppState> {
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let read_only = storage_fault::probe(data_dir) == Some(StorageFault::ReadOnly);
    let secrets = SecretBox::load_or_create(&data_dir.join("secret.key"))?;
    let db_path = data_dir.join("arca.db");
    let (db, blobs) = if read_only {
        tracing::warn!(
            data_dir = %data_dir.display(),
            "the data directory is read-only (or not writable by arca): serving reads and refusing every change until it is writable and arca restarted"
        );
        let db = Db::open_read_only(&db_path).context("cannot open the database read-only")?;
        bootstrap::check_read_only(&db, &config.region)?;
        (db, Arc::new(FsBlobStore::open_read_only(data_dir)))
    } else {
        let db = Db::open(&db_path)?;
        bootstrap::ensure(&db, &secrets, data_dir, &config.region)?;
        (db, Arc::new(FsBlobStore::open(data_dir)?))
    };
    Ok(AppState {
        auth_limiter: Arc::new(AuthLimiter::new(&config)),
        config: Arc::new(config),
        db,
        secrets,
        blobs,
        blob_gc: Arc::default(),
    })
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listen = config.listen;
    let state = open(config)?;
    let listener = TcpListener::bind(listen).await?;
    tracing::info!(address = %listener.local_addr()?, "arca listening");
    serve_on(listener, state, shutdown_signal()).await
}

pub async fn serve_on(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Small answers go out as a header write and a body write; without TCP_NODELAY, Nagle's algorithm
    // holds the second until the client's delayed ACK (~40 ms per request).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    // Stopping drops a sweep half-way safely: rows are deleted before their bytes, so what is left is
    // bytes without a row, which the next sweep reclaims.
    tokio::spawn(crate::http::blob_sweep::run(state.clone()));
    // The peer address is what failed authentications are counted against (http::auth_limit).
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    tracing::info!("arca stopped");
    Ok(())
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
    tracing::info!("shutdown signal received; draining connections");
}
