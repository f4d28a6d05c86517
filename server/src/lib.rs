//! # petrichain-server
//!
//! The reference backend of the petrichain sync protocol
//! (docs/sync-protocol.md): an axum server that validates every pushed event
//! with the same engine the browser runs (fields, chain link, hash, the net
//! allows it, the changed counts and the marking commitment match, the
//! device's Ed25519 signature verifies) and keeps chains of format v2 in
//! SQLite or PostgreSQL. It also serves
//! the built single-page app, so one process is a whole local deployment.
//!
//! Modules, one concern each: [`config`] (command-line options),
//! [`error`] (the one error type, rendered as the protocol's JSON errors),
//! [`storage`] (the [`Storage`](storage::Storage) trait, its SQLite and
//! PostgreSQL backends), [`append`] (the conditional, idempotent append, backend
//! independent), [`routes`] (HTTP handlers), [`live`] (server-sent events),
//! [`static_files`] (the app).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = petrichain_server::config::Config::default();
//! let server = petrichain_server::bind(&config).await?;
//! println!("listening on http://{}", server.local_addr());
//! server.serve(std::future::pending()).await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod append;
pub mod config;
pub mod error;
pub mod live;
pub mod routes;
pub mod static_files;
pub mod storage;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

pub use config::Config;
pub use error::ApiError;
pub use routes::AppState;

/// A server bound to its address, not yet serving.
pub struct Bound {
    listener: TcpListener,
    addr: SocketAddr,
    router: axum::Router,
    state: Arc<AppState>,
}

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    /// The database could not be opened or migrated.
    Storage(String),
    /// The address could not be bound.
    Bind(std::io::Error),
    /// An option is unusable (e.g. a missing static directory).
    Config(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Storage(m) => write!(f, "cannot open the database: {m}"),
            StartError::Bind(e) => write!(f, "cannot listen: {e}"),
            StartError::Config(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Opens the database named by `config` (creating it and its directory on
/// first run), builds the routes and binds the address. `127.0.0.1:0` picks
/// a free port: read it back with [`Bound::local_addr`].
pub async fn bind(config: &Config) -> Result<Bound, StartError> {
    if let Some(dir) = &config.static_dir {
        if !dir.is_dir() {
            return Err(StartError::Config(format!(
                "--static {}: not a directory",
                dir.display()
            )));
        }
    }
    let storage = storage::open(config)
        .await
        .map_err(|e| StartError::Storage(e.to_string()))?;
    let state = Arc::new(AppState::new(storage));
    let router = routes::router(state.clone(), config);
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(StartError::Bind)?;
    let addr = listener.local_addr().map_err(StartError::Bind)?;
    Ok(Bound {
        listener,
        addr,
        router,
        state,
    })
}

impl Bound {
    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then stops accepting, ends the
    /// live (SSE) streams and waits for requests in flight to finish.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let state = self.state;
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down");
            state.live.shut_down();
        };
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(signal)
            .await
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, only SIGTERM stops the server.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
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
