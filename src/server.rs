//! Starting and stopping the server: open the data directory, bootstrap, serve until SIGTERM/Ctrl-C.

use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;

use crate::auth::secrets::SecretBox;
use crate::blob::fs::FsBlobStore;
use crate::bootstrap;
use crate::config::Config;
use crate::http::app::{router, AppState};
use crate::store::Db;

/// Opens (creating if needed) the data directory and builds the application state.
pub fn open(config: Config) -> anyhow::Result<AppState> {
    std::fs::create_dir_all(&config.data_dir)?;
    let secrets = SecretBox::load_or_create(&config.data_dir.join("secret.key"))?;
    let db = Db::open(&config.data_dir.join("arca.db"))?;
    bootstrap::ensure(&db, &secrets, &config.data_dir, &config.region)?;
    let blobs = Arc::new(FsBlobStore::open(&config.data_dir)?);
    Ok(AppState {
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
    axum::serve(listener, router(state))
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
