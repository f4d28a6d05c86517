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
//! [`static_files`] (the app), [`conn`] (hyper's own error answers made
//! JSON), [`auth`] (who is asking, what they may read and append).
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
pub mod auth;
pub mod config;
pub mod conn;
pub mod error;
pub mod keyed_state;
pub mod live;
pub mod model_cache;
pub mod routes;
pub mod static_files;
pub mod storage;
pub mod verify;

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
    limits: ConnectionLimits,
}

/// How long a connection may take and how many may be open at once
/// (`--header-timeout`, `--max-connections`, `--shutdown-timeout`).
#[derive(Debug, Clone, Copy)]
struct ConnectionLimits {
    header_timeout: std::time::Duration,
    max_connections: usize,
    shutdown_timeout: std::time::Duration,
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
    /// A non-loopback address with authentication off, without
    /// `--insecure`.
    Insecure(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Storage(m) => write!(f, "cannot open the database: {m}"),
            StartError::Bind(e) => write!(f, "cannot listen: {e}"),
            StartError::Config(m) | StartError::Insecure(m) => write!(f, "{m}"),
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
    let auth = load_auth(config)?;
    let storage = storage::open(config)
        .await
        .map_err(|e| StartError::Storage(e.to_string()))?;
    let mut state = AppState::new(storage);
    state.models = model_cache::ModelCache::new(config.model_cache_bytes);
    state.model_uploads = config.model_uploads;
    state.live = live::Live::with_caps(config.max_live, config.max_live_per_stream);
    state.auth = auth;
    let state = Arc::new(state);
    check_storage(&state, config.check_storage).await?;
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
        limits: ConnectionLimits {
            header_timeout: config.header_timeout,
            max_connections: config.max_connections,
            shutdown_timeout: config.shutdown_timeout,
        },
    })
}

/// The authentication settings: operator credentials from `--auth-file`
/// or the credentials variable (read here, never from the command line);
/// refuses a non-loopback address with authentication off unless
/// `--insecure`. Says once, in the log, which it is.
fn load_auth(config: &Config) -> Result<auth::Auth, StartError> {
    use auth::operators::{Operators, CREDENTIALS_ENV};
    let text = match &config.auth_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| StartError::Config(format!("--auth-file {}: {e}", path.display())))?,
        ),
        None => std::env::var(CREDENTIALS_ENV).ok(),
    };
    let operators = match &text {
        Some(t) => Operators::parse(t).map_err(|e| {
            let source = match &config.auth_file {
                Some(p) => format!("--auth-file {}", p.display()),
                None => CREDENTIALS_ENV.to_string(),
            };
            StartError::Config(format!("{source}: {e}"))
        })?,
        None => Operators::default(),
    };
    let enabled = config.require_auth || !operators.is_empty();
    if text.is_some() && operators.is_empty() && !config.require_auth {
        return Err(StartError::Config(
            "the operator credentials hold no credential: add one, or give --require-auth \
             for device keys only"
                .into(),
        ));
    }
    if !enabled {
        if !config.addr.ip().is_loopback() && !config.insecure {
            return Err(StartError::Insecure(format!(
                "refusing to listen on {} with authentication off: anyone who reaches it could \
                 read and write every stream. Configure credentials (--auth-file, \
                 {CREDENTIALS_ENV}) or --require-auth, or give --insecure to do it anyway",
                config.addr
            )));
        }
        tracing::warn!(
            "authentication is off: anyone who can reach {} may read and write every stream",
            config.addr
        );
    } else {
        tracing::info!(
            "authentication on: {:?}, device keys by challenge{}",
            operators,
            if config.public_read {
                ", reads open to all (--public-read)"
            } else {
                ""
            }
        );
    }
    let mut auth = auth::Auth {
        enabled,
        public_read: config.public_read,
        operators,
        ..auth::Auth::default()
    };
    auth.sessions.token_ttl = config.token_ttl;
    Ok(auth)
}

/// `--check-storage`: checks the stored streams before anything is served
/// and logs one line per stream that will not be served, then a summary.
async fn check_storage(state: &AppState, mode: verify::StartCheck) -> Result<(), StartError> {
    if mode == verify::StartCheck::Off {
        return Ok(());
    }
    let started = std::time::Instant::now();
    let report = verify::check_on_start(state, mode)
        .await
        .map_err(|e| StartError::Storage(format!("checking the stored streams: {e}")))?;
    for s in report.bad() {
        tracing::error!(
            "storage check: stream {} is not served (500 STORAGE_ALTERED): {}",
            s.stream,
            s.problem.as_deref().unwrap_or_default()
        );
    }
    tracing::info!(
        "storage check ({}): {} streams, {} events replayed, {} altered, {:.0} ms",
        mode.as_str(),
        report.streams.len(),
        report.events(),
        report.bad().count(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

impl Bound {
    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` completes, then stops accepting, ends the
    /// live (SSE) streams, lets requests in flight finish and closes idle
    /// connections; connections still open after `--shutdown-timeout` are
    /// dropped, so a stalled client cannot hold the shutdown.
    ///
    /// Each connection is HTTP/1.1 (the protocol's only version) with the
    /// request head bounded by `--header-timeout`, which also closes a
    /// keep-alive connection idle that long. At most `--max-connections`
    /// are open at once: one more gets `503 OVERLOADED` and is closed.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use hyper_util::service::TowerToHyperService;

        let Bound {
            listener,
            router,
            state,
            limits,
            ..
        } = self;
        let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let mut connections = tokio::task::JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true);
        loop {
            let (stream, _peer) = tokio::select! {
                () = &mut shutdown => break,
                // Reap finished connection tasks as we go.
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
                accepted = listener.accept() => match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and the like: back off
                        // rather than spin.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                connections.spawn(refuse_overloaded(stream, limits.max_connections));
                continue;
            };
            let _ = stream.set_nodelay(true);
            let service = TowerToHyperService::new(router.clone());
            let io = TokioIo::new(conn::JsonErrors::new(stream));
            let conn = http.serve_connection(io, service);
            let mut stop = stop_rx.clone();
            connections.spawn(async move {
                let _slot = slot;
                let mut conn = std::pin::pin!(conn);
                tokio::select! {
                    result = conn.as_mut() => log_connection_end(result),
                    _ = async { let _ = stop.wait_for(|stop| *stop).await; } => {
                        conn.as_mut().graceful_shutdown();
                        log_connection_end(conn.await);
                    }
                }
            });
        }
        tracing::info!("shutting down");
        drop(listener);
        state.live.shut_down();
        let _ = stop_tx.send(true);
        let drained = tokio::time::timeout(limits.shutdown_timeout, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                "{} connection(s) still open after --shutdown-timeout {}s: dropped",
                connections.len(),
                limits.shutdown_timeout.as_secs()
            );
            connections.shutdown().await;
        }
        Ok(())
    }
}

fn log_connection_end(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        // Timeouts, resets and malformed requests: the client's doing.
        tracing::debug!("connection closed: {e}");
    }
}

/// Answers a connection over `--max-connections` with `503 OVERLOADED`
/// (JSON) and closes it, within a second whatever the client does.
async fn refuse_overloaded(mut stream: tokio::net::TcpStream, max: usize) {
    use tokio::io::AsyncWriteExt;
    let body = error::ApiError::Overloaded(format!(
        "this server already has {max} connections open (--max-connections); retry later"
    ))
    .json_text();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        let _ = stream.write_all(answer.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed
/// when this is called, not when the future is first polled: call it before
/// saying "listening", so that a signal sent right after that line (a
/// supervisor, a test) still shuts the server down gracefully instead of
/// killing it. Must be called inside the tokio runtime.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        // If a handler cannot be installed, only the other signal stops
        // the server.
        let terminate = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async fn received(signal: Option<Signal>) {
            match signal {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        async move {
            tokio::select! {
                () = received(terminate) => {},
                () = received(interrupt) => {},
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}
