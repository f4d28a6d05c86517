//! Command-line options, parsed with clap (derive); `--help` is
//! documented in docs/server.md.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};

/// Largest request body accepted when `--max-body-bytes` is not given (8 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 << 20;

/// `--header-timeout` when not given, in seconds.
pub const DEFAULT_HEADER_TIMEOUT_SECS: u64 = 10;
/// `--body-timeout` when not given, in seconds.
pub const DEFAULT_BODY_TIMEOUT_SECS: u64 = 30;
/// `--max-connections` when not given.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// `--shutdown-timeout` when not given, in seconds.
pub const DEFAULT_SHUTDOWN_TIMEOUT_SECS: u64 = 10;

/// Which origins may call the API from a browser.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cors {
    /// No CORS headers: only pages served by this server may call it.
    #[default]
    SameOrigin,
    /// Any origin (`--cors-origin '*'`).
    Any,
    /// These exact origins.
    Origins(Vec<String>),
}

/// Which `Host` names requests may carry (DNS rebinding: a page of
/// another site whose name resolves to this server must not reach it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hosts {
    /// Any (`--allowed-host '*'`, e.g. behind a proxy that checks it).
    Any,
    /// These names, lowercase, without port; IPv6 addresses in brackets.
    Names(Vec<String>),
}

impl Hosts {
    /// The default: the loopback names and the IP listened on (unless it is
    /// the unspecified address, `0.0.0.0` or `[::]`).
    pub fn default_for(addr: SocketAddr) -> Hosts {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let ip = match addr.ip() {
            std::net::IpAddr::V4(ip) => ip.to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        };
        if !addr.ip().is_unspecified() && !names.contains(&ip) {
            names.push(ip);
        }
        Hosts::Names(names)
    }

    /// Whether a `Host` header value (`name[:port]`) is allowed.
    pub fn allows(&self, host: &str) -> bool {
        let names = match self {
            Hosts::Any => return true,
            Hosts::Names(names) => names,
        };
        let name = if host.starts_with('[') {
            // [v6]:port
            host.split_inclusive(']').next().unwrap_or(host)
        } else {
            host.rsplit_once(':').map_or(host, |(n, _)| n)
        };
        names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }
}

/// How hard SQLite makes each commit durable (`PRAGMA synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// fsync at every commit: acknowledged appends survive a power cut.
    #[default]
    Full,
    /// fsync at checkpoints only: survives a server crash, not a power cut.
    Normal,
}

impl Synchronous {
    /// The pragma value.
    pub fn as_str(self) -> &'static str {
        match self {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        }
    }
}

/// Where the server keeps its data (`--db`).
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (`sqlite:PATH` or a bare path).
    Sqlite(PathBuf),
    /// A PostgreSQL / CockroachDB connection URL (`postgres://...`).
    Postgres(String),
}

impl Database {
    /// Parses a `--db` value: `postgres://` / `postgresql://` URLs are
    /// PostgreSQL, `sqlite:PATH` and anything else a SQLite file path.
    pub fn parse(v: &str) -> Result<Database, String> {
        if v.starts_with("postgres://") || v.starts_with("postgresql://") {
            crate::storage::postgres::parse_url(v).map_err(|e| format!("--db {e}"))?;
            return Ok(Database::Postgres(v.to_string()));
        }
        let path = v.strip_prefix("sqlite:").unwrap_or(v);
        if path.is_empty() {
            return Err("--db needs a file path or a postgres:// URL".into());
        }
        Ok(Database::Sqlite(PathBuf::from(path)))
    }
}

/// Shown in logs: the URL's password is masked.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            Database::Postgres(url) => f.write_str(&crate::storage::postgres::redact(url)),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({self})")
    }
}

impl From<PathBuf> for Database {
    fn from(p: PathBuf) -> Self {
        Database::Sqlite(p)
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// The database.
    pub db: Database,
    /// PostgreSQL connections per process.
    pub db_connections: usize,
    /// Directory of the built app to serve, if any.
    pub static_dir: Option<PathBuf>,
    /// Cross-origin policy.
    pub cors: Cors,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// SQLite durability.
    pub synchronous: Synchronous,
    /// Longest wait for a request's head (and on an idle keep-alive
    /// connection).
    pub header_timeout: Duration,
    /// Longest wait for a request's whole body.
    pub body_timeout: Duration,
    /// Connections open at once.
    pub max_connections: usize,
    /// Longest wait for connections to finish on shutdown.
    pub shutdown_timeout: Duration,
    /// Live (SSE) listeners open at once, in total.
    pub max_live: usize,
    /// Live (SSE) listeners open at once on one stream.
    pub max_live_per_stream: usize,
    /// `Host` names served.
    pub hosts: Hosts,
    /// Bytes of parsed models kept in memory.
    pub model_cache_bytes: usize,
    /// Whether new models may be uploaded.
    pub model_uploads: bool,
    /// What is checked of storage before the server serves.
    pub check_storage: crate::verify::StartCheck,
    /// The operator credentials file (`--auth-file`); without it, the
    /// [`crate::auth::operators::CREDENTIALS_ENV`] variable.
    pub auth_file: Option<PathBuf>,
    /// Authentication on even with no operator credential (device keys only).
    pub require_auth: bool,
    /// Anyone may read and list (auth on).
    pub public_read: bool,
    /// Serve a non-loopback address with authentication off.
    pub insecure: bool,
    /// How long a device's bearer token is valid.
    pub token_ttl: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            db: Database::Sqlite(PathBuf::from("data/petrichain.sqlite")),
            db_connections: crate::storage::postgres::DEFAULT_MAX_CONNECTIONS,
            static_dir: None,
            cors: Cors::SameOrigin,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            synchronous: Synchronous::Full,
            header_timeout: Duration::from_secs(DEFAULT_HEADER_TIMEOUT_SECS),
            body_timeout: Duration::from_secs(DEFAULT_BODY_TIMEOUT_SECS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_timeout: Duration::from_secs(DEFAULT_SHUTDOWN_TIMEOUT_SECS),
            max_live: crate::live::DEFAULT_MAX_LIVE,
            max_live_per_stream: crate::live::DEFAULT_MAX_LIVE_PER_STREAM,
            hosts: Hosts::default_for(SocketAddr::from(([127, 0, 0, 1], 8787))),
            model_cache_bytes: crate::model_cache::DEFAULT_CAPACITY,
            model_uploads: true,
            check_storage: crate::verify::StartCheck::Heads,
            auth_file: None,
            require_auth: false,
            public_read: false,
            insecure: false,
            token_ttl: crate::auth::sessions::DEFAULT_TOKEN_TTL,
        }
    }
}

/// The command line, parsed by clap; [`parse_args`] turns it into a
/// [`Config`].
#[derive(Parser, Debug)]
#[command(
    name = "petrichain-server",
    version,
    about = "petrichain-server: reference sync backend for petrichain ledgers",
    // The last of a repeated option wins, as with most servers' flags.
    args_override_self = true,
    // The same 80 columns on every terminal (and in docs/server.md).
    term_width = 80,
    override_usage = "petrichain-server [OPTIONS]\n       petrichain-server verify [OPTIONS]",
    after_help = "petrichain-server verify: replay every chain stored in --db with the \
                  engine's verifier and check each stored head against it; prints a report, \
                  exit code 0 when storage matches the chains, 1 when a stream was altered, \
                  3 when the database cannot be read."
)]
struct Args {
    #[arg(
        long,
        value_name = "IP:PORT",
        default_value = "127.0.0.1:8787",
        value_parser = parse_addr,
        help = "address to listen on (port 0 picks a free port; the real one is printed)"
    )]
    addr: SocketAddr,

    #[arg(
        long,
        value_name = "DATABASE",
        default_value = "data/petrichain.sqlite",
        value_parser = Database::parse,
        help = "sqlite:PATH (or a bare PATH): SQLite file, created with its directory on \
                first run; postgres://USER:PASSWORD@HOST:PORT/DBNAME: PostgreSQL (or \
                CockroachDB) database, shareable by several server processes; the schema is \
                created on start"
    )]
    db: Database,

    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::storage::postgres::DEFAULT_MAX_CONNECTIONS,
        value_parser = parse_db_connections,
        help = "PostgreSQL connections per process (1 to 1000)"
    )]
    db_connections: usize,

    #[arg(
        long = "static",
        value_name = "DIR",
        help = "serve the built app from DIR (index.html for /)"
    )]
    static_dir: Option<PathBuf>,

    #[arg(
        long = "cors-origin",
        value_name = "ORIGIN",
        value_parser = parse_origin,
        help = "allow cross-origin requests from ORIGIN (repeatable; * allows any origin) \
                [default: same origin only]"
    )]
    cors_origin: Vec<String>,

    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_BODY_BYTES,
        value_parser = parse_max_body_bytes,
        help = "largest request body, larger ones get 413"
    )]
    max_body_bytes: usize,

    #[arg(
        long,
        value_name = "MODE",
        default_value = "full",
        value_parser = parse_synchronous,
        help = "SQLite only. full: an acknowledged append survives a power cut (one fsync per \
                append); normal: it survives a crash of the server, not of the machine"
    )]
    synchronous: Synchronous,

    #[arg(
        long,
        value_name = "SECS",
        default_value_t = DEFAULT_HEADER_TIMEOUT_SECS,
        value_parser = parse_secs("--header-timeout"),
        help = "close a connection whose request head takes longer, or that stays idle \
                that long between requests"
    )]
    header_timeout: u64,

    #[arg(
        long,
        value_name = "SECS",
        default_value_t = DEFAULT_BODY_TIMEOUT_SECS,
        value_parser = parse_secs("--body-timeout"),
        help = "a request body not complete within SECS gets 408"
    )]
    body_timeout: u64,

    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_MAX_CONNECTIONS,
        value_parser = parse_max_connections,
        help = "connections open at once (more get 503)"
    )]
    max_connections: usize,

    #[arg(
        long,
        value_name = "SECS",
        default_value_t = DEFAULT_SHUTDOWN_TIMEOUT_SECS,
        value_parser = parse_secs("--shutdown-timeout"),
        help = "on SIGTERM/SIGINT, wait at most SECS for requests in flight, then drop \
                their connections"
    )]
    shutdown_timeout: u64,

    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::live::DEFAULT_MAX_LIVE,
        value_parser = parse_count("--max-live"),
        help = "live (SSE) listeners open at once (more get 503)"
    )]
    max_live: usize,

    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::live::DEFAULT_MAX_LIVE_PER_STREAM,
        value_parser = parse_count("--max-live-per-stream"),
        help = "live (SSE) listeners open at once on one stream (more get 503)"
    )]
    max_live_per_stream: usize,

    #[arg(
        long = "allowed-host",
        value_name = "NAME",
        value_parser = parse_host,
        help = "serve requests whose Host header names NAME (repeatable; * allows any) \
                [default: localhost, 127.0.0.1, [::1] and the --addr IP]"
    )]
    allowed_host: Vec<String>,

    #[arg(
        long,
        value_name = "N",
        default_value_t = crate::model_cache::DEFAULT_CAPACITY,
        value_parser = parse_max_body_bytes_as("--model-cache-bytes"),
        help = "parsed models kept, in bytes (LRU)"
    )]
    model_cache_bytes: usize,

    #[arg(
        long,
        help = "refuse new models (PUT of a model not stored yet gets 403); stored ones \
                still load"
    )]
    no_model_uploads: bool,

    #[arg(
        long,
        value_name = "MODE",
        default_value = "heads",
        value_parser = parse_check_storage,
        help = "check stored streams before serving: heads (each head against its last \
                event), full (replay every chain) or off; an altered stream is not served"
    )]
    check_storage: crate::verify::StartCheck,

    #[arg(
        long,
        value_name = "FILE",
        help = "operator credentials, one `token NAME sha256:HEX` or `user NAME sha256:HEX` a \
                line (hashes only; see docs/server.md); turns authentication on [default: \
                the PETRICHAIN_SERVER_CREDENTIALS variable, if set]"
    )]
    auth_file: Option<PathBuf>,

    #[arg(
        long,
        help = "turn authentication on even without operator credentials (devices sign in \
                with their key)"
    )]
    require_auth: bool,

    #[arg(
        long,
        help = "with authentication on, let anyone read and list streams (writes still \
                need a credential)"
    )]
    public_read: bool,

    #[arg(
        long,
        help = "allow a non-loopback --addr with authentication off (anyone who can reach \
                the port may read and write everything)"
    )]
    insecure: bool,

    #[arg(
        long,
        value_name = "SECS",
        default_value_t = crate::auth::sessions::DEFAULT_TOKEN_TTL.as_secs(),
        value_parser = parse_secs("--token-ttl"),
        help = "how long the bearer token a device gets by signing a challenge is valid"
    )]
    token_ttl: u64,
}

fn parse_check_storage(v: &str) -> Result<crate::verify::StartCheck, String> {
    use crate::verify::StartCheck;
    match v {
        "heads" => Ok(StartCheck::Heads),
        "full" => Ok(StartCheck::Full),
        "off" => Ok(StartCheck::Off),
        v => Err(format!("--check-storage {v}: expected heads, full or off")),
    }
}

/// A parser of positive byte counts for the option `name`.
fn parse_max_body_bytes_as(name: &'static str) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |v: &str| match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{name} {v}: expected a positive integer")),
    }
}

fn parse_host(v: &str) -> Result<String, String> {
    let ok = v == "*"
        || (!v.is_empty()
            && v.len() <= 255
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.[]:".contains(&b)));
    if ok {
        Ok(v.to_ascii_lowercase())
    } else {
        Err(format!(
            "--allowed-host {v}: expected a host name or IP without port, or *"
        ))
    }
}

/// A parser of whole seconds, 1 to one day, for the option `name`.
fn parse_secs(name: &'static str) -> impl Fn(&str) -> Result<u64, String> + Clone {
    move |v: &str| match v.parse::<u64>() {
        Ok(n) if (1..=86_400).contains(&n) => Ok(n),
        _ => Err(format!("{name} {v}: expected whole seconds, 1 to 86400")),
    }
}

fn parse_max_connections(v: &str) -> Result<usize, String> {
    parse_count("--max-connections")(v)
}

/// A parser of counts, 1 to a million, for the option `name`.
fn parse_count(name: &'static str) -> impl Fn(&str) -> Result<usize, String> + Clone {
    move |v: &str| match v.parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!("{name} {v}: expected 1 to 1000000")),
    }
}

fn parse_addr(v: &str) -> Result<SocketAddr, String> {
    v.parse()
        .map_err(|_| format!("--addr {v}: expected IP:PORT, e.g. 127.0.0.1:8787"))
}

fn parse_db_connections(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err(format!("--db-connections {v}: expected 1 to 1000")),
    }
}

fn parse_origin(v: &str) -> Result<String, String> {
    if v.is_empty() {
        return Err("--cors-origin needs an origin or *".into());
    }
    Ok(v.to_string())
}

fn parse_max_body_bytes(v: &str) -> Result<usize, String> {
    match v.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("--max-body-bytes {v}: expected a positive integer")),
    }
}

fn parse_synchronous(v: &str) -> Result<Synchronous, String> {
    match v {
        "full" | "FULL" => Ok(Synchronous::Full),
        "normal" | "NORMAL" => Ok(Synchronous::Normal),
        v => Err(format!("--synchronous {v}: expected full or normal")),
    }
}

impl Args {
    fn into_config(self) -> Config {
        let origins = self.cors_origin;
        let cors = if origins.is_empty() {
            Cors::SameOrigin
        } else if origins.iter().any(|o| o == "*") {
            Cors::Any
        } else {
            Cors::Origins(origins)
        };
        Config {
            addr: self.addr,
            db: self.db,
            db_connections: self.db_connections,
            static_dir: self.static_dir,
            cors,
            max_body_bytes: self.max_body_bytes,
            synchronous: self.synchronous,
            header_timeout: Duration::from_secs(self.header_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
            max_connections: self.max_connections,
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout),
            max_live: self.max_live,
            max_live_per_stream: self.max_live_per_stream,
            model_cache_bytes: self.model_cache_bytes,
            model_uploads: !self.no_model_uploads,
            check_storage: self.check_storage,
            auth_file: self.auth_file,
            require_auth: self.require_auth,
            public_read: self.public_read,
            insecure: self.insecure,
            token_ttl: Duration::from_secs(self.token_ttl),
            hosts: if self.allowed_host.is_empty() {
                Hosts::default_for(self.addr)
            } else if self.allowed_host.iter().any(|h| h == "*") {
                Hosts::Any
            } else {
                Hosts::Names(self.allowed_host)
            },
        }
    }
}

/// The text `--help` prints (and a bad option, after its message).
pub fn help() -> String {
    Args::command().render_help().to_string()
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the server (boxed: a `Config` is much larger than the others).
    Run(Box<Config>),
    /// `verify`: replay every stored chain ([`crate::verify`]).
    Verify(Box<Config>),
    /// Print the help.
    Help,
    /// Print the version.
    Version,
}

/// Parses the arguments (without the program name). Accepts `--opt value`
/// and `--opt=value`. The error says which option is wrong and why.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut args = args.into_iter().peekable();
    let verify = args.peek().is_some_and(|a| a == "verify");
    if verify {
        args.next();
    }
    let argv = std::iter::once("petrichain-server".to_string()).chain(args);
    match Args::try_parse_from(argv) {
        Ok(args) if verify => Ok(Command::Verify(Box::new(args.into_config()))),
        Ok(args) => Ok(Command::Run(Box::new(args.into_config()))),
        Err(e) => match e.kind() {
            ErrorKind::DisplayHelp => Ok(Command::Help),
            ErrorKind::DisplayVersion => Ok(Command::Version),
            _ => Err(error_message(&e)),
        },
    }
}

/// One line saying what is wrong: the option's own message for a bad
/// value, `unknown option X`, `--X needs a value`; clap's text otherwise.
fn error_message(e: &clap::Error) -> String {
    let context = |kind: ContextKind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    // "--db <DATABASE>": the option's name.
    let option = context(ContextKind::InvalidArg)
        .map(|a| a.split_whitespace().next().unwrap_or_default().to_string());
    match (e.kind(), option) {
        (ErrorKind::ValueValidation, _) => match std::error::Error::source(e) {
            Some(reason) => reason.to_string(),
            None => clap_text(e),
        },
        (ErrorKind::UnknownArgument, Some(arg)) => format!("unknown option {arg}"),
        (ErrorKind::InvalidValue, Some(option))
            if context(ContextKind::InvalidValue).is_none_or(|v| v.is_empty()) =>
        {
            format!("{option} needs a value")
        }
        _ => clap_text(e),
    }
}

fn clap_text(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_listen_on_loopback() {
        let Command::Run(c) = parse(&[]).unwrap() else {
            panic!("expected run")
        };
        assert_eq!(*c, Config::default());
        assert!(c.addr.ip().is_loopback());
    }

    #[test]
    fn every_option_in_both_forms() {
        let Command::Run(c) = parse(&[
            "--addr=127.0.0.1:0",
            "--db",
            "x/y.sqlite",
            "--static",
            "www/dist",
            "--cors-origin",
            "https://a.example",
            "--cors-origin=https://b.example",
            "--max-body-bytes",
            "1024",
            "--synchronous",
            "normal",
            "--header-timeout",
            "3",
            "--body-timeout=4",
            "--max-connections",
            "7",
            "--shutdown-timeout",
            "5",
            "--max-live=9",
            "--model-cache-bytes",
            "4096",
            "--no-model-uploads",
            "--max-live-per-stream",
            "2",
        ])
        .unwrap() else {
            panic!("expected run")
        };
        assert_eq!(c.addr.port(), 0);
        assert_eq!(c.db, Database::Sqlite(PathBuf::from("x/y.sqlite")));
        assert_eq!(c.static_dir, Some(PathBuf::from("www/dist")));
        assert_eq!(
            c.cors,
            Cors::Origins(vec!["https://a.example".into(), "https://b.example".into()])
        );
        assert_eq!(c.max_body_bytes, 1024);
        assert_eq!(c.synchronous, Synchronous::Normal);
        assert_eq!(c.header_timeout, Duration::from_secs(3));
        assert_eq!(c.body_timeout, Duration::from_secs(4));
        assert_eq!(c.max_connections, 7);
        assert_eq!(c.shutdown_timeout, Duration::from_secs(5));
        assert_eq!((c.max_live, c.max_live_per_stream), (9, 2));
        assert_eq!((c.model_cache_bytes, c.model_uploads), (4096, false));
        let Command::Run(c) = parse(&["--cors-origin", "*"]).unwrap() else {
            panic!("expected run")
        };
        assert_eq!(c.cors, Cors::Any);
    }

    #[test]
    fn bad_options_say_what_is_wrong() {
        assert!(parse(&["--addr", "nowhere"])
            .unwrap_err()
            .contains("--addr"));
        assert!(parse(&["--max-body-bytes", "0"])
            .unwrap_err()
            .contains("positive"));
        assert!(parse(&["--db"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["--synchronous", "off"])
            .unwrap_err()
            .contains("full or normal"));
        for (option, value) in [
            ("--header-timeout", "0"),
            ("--body-timeout", "86401"),
            ("--shutdown-timeout", "x"),
        ] {
            assert_eq!(
                parse(&[option, value]).unwrap_err(),
                format!("{option} {value}: expected whole seconds, 1 to 86400")
            );
        }
        for option in ["--max-connections", "--max-live", "--max-live-per-stream"] {
            assert_eq!(
                parse(&[option, "0"]).unwrap_err(),
                format!("{option} 0: expected 1 to 1000000")
            );
        }
        assert!(parse(&["--frobnicate"])
            .unwrap_err()
            .contains("unknown option"));
        assert!(parse(&["--db", "postgres://u:hunter2@h:99999999/db"])
            .map(|_| ())
            .unwrap_err()
            .contains("not a PostgreSQL connection URL"));
        assert!(!parse(&["--db", "postgres://u:hunter2@h:99999999/db"])
            .map(|_| ())
            .unwrap_err()
            .contains("hunter2"));
        assert!(parse(&["--db", "sqlite:"]).unwrap_err().contains("--db"));
        assert!(parse(&["--db-connections", "0"])
            .unwrap_err()
            .contains("1 to 1000"));
        assert_eq!(parse(&["-h"]).unwrap(), Command::Help);
    }

    #[test]
    fn clap_errors_keep_their_one_line_messages() {
        assert_eq!(
            parse(&["--addr", "nowhere"]).unwrap_err(),
            "--addr nowhere: expected IP:PORT, e.g. 127.0.0.1:8787"
        );
        assert_eq!(parse(&["--static"]).unwrap_err(), "--static needs a value");
        assert_eq!(
            parse(&["--max-body-bytes=abc"]).unwrap_err(),
            "--max-body-bytes abc: expected a positive integer"
        );
        assert_eq!(
            parse(&["--cors-origin="]).unwrap_err(),
            "--cors-origin needs an origin or *"
        );
        assert_eq!(parse(&["stray"]).unwrap_err(), "unknown option stray");
        assert_eq!(parse(&["-V"]).unwrap(), Command::Version);
        assert_eq!(parse(&["--version"]).unwrap(), Command::Version);
        assert_eq!(parse(&["--help"]).unwrap(), Command::Help);
        // Repeated: the last one wins; the uppercase pragma name is fine.
        let Command::Run(c) = parse(&["--addr", "127.0.0.1:1", "--addr", "127.0.0.1:2"]).unwrap()
        else {
            panic!("expected run")
        };
        assert_eq!(c.addr.port(), 2);
        let Command::Run(c) = parse(&["--synchronous=NORMAL"]).unwrap() else {
            panic!("expected run")
        };
        assert_eq!(c.synchronous, Synchronous::Normal);
    }

    #[test]
    fn help_lists_every_option_with_its_default() {
        let text = help();
        for needle in [
            "--addr <IP:PORT>",
            "[default: 127.0.0.1:8787]",
            "--db <DATABASE>",
            "[default: data/petrichain.sqlite]",
            "--db-connections <N>",
            "[default: 16]",
            "--static <DIR>",
            "--cors-origin <ORIGIN>",
            "--max-body-bytes <N>",
            "[default: 8388608]",
            "--synchronous <MODE>",
            "[default: full]",
            "--header-timeout <SECS>",
            "[default: 10]",
            "--body-timeout <SECS>",
            "[default: 30]",
            "--max-connections <N>",
            "[default: 1024]",
            "--shutdown-timeout <SECS>",
            "--max-live <N>",
            "[default: 256]",
            "--max-live-per-stream <N>",
            "[default: 32]",
            "--model-cache-bytes <N>",
            "[default: 67108864]",
            "--no-model-uploads",
            "--check-storage <MODE>",
            "[default: heads]",
            "-h, --help",
            "-V, --version",
        ] {
            assert!(text.contains(needle), "{needle} missing from:\n{text}");
        }
    }

    #[test]
    fn docs_show_the_help_as_it_is() {
        let docs = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/server.md"));
        let block = format!("```text\n{}```", help());
        assert!(
            docs.contains(&block),
            "docs/server.md must show `petrichain-server --help` exactly:\n{block}"
        );
    }

    #[test]
    fn verify_is_a_command_with_the_same_options() {
        let Command::Verify(c) = parse(&["verify", "--db", "x.sqlite"]).unwrap() else {
            panic!("expected verify")
        };
        assert_eq!(c.db, Database::Sqlite(PathBuf::from("x.sqlite")));
        assert!(matches!(parse(&["verify"]).unwrap(), Command::Verify(_)));
        assert_eq!(
            parse(&["--db", "x", "verify"]).unwrap_err(),
            "unknown option verify"
        );
        assert!(help().contains("petrichain-server verify [OPTIONS]"));
    }

    #[test]
    fn hosts_default_to_loopback_and_the_bind_address() {
        let hosts = |args: &[&str]| {
            let Command::Run(c) = parse(args).unwrap() else {
                panic!("expected run")
            };
            c.hosts
        };
        let h = hosts(&[]);
        for ok in [
            "localhost",
            "localhost:8787",
            "127.0.0.1:8787",
            "[::1]:80",
            "LOCALHOST",
        ] {
            assert!(h.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:8787",
            "localhost.evil.example",
            "",
            "[::2]",
        ] {
            assert!(!h.allows(bad), "{bad}");
        }
        let h = hosts(&["--addr", "192.168.1.5:80"]);
        assert!(h.allows("192.168.1.5") && h.allows("localhost:80"));
        assert!(!hosts(&["--addr", "0.0.0.0:80"]).allows("0.0.0.0"));
        assert!(hosts(&["--addr", "[::]:80"]).allows("[::1]:80"));
        let h = hosts(&[
            "--allowed-host",
            "Ledger.Example",
            "--allowed-host=10.0.0.2",
        ]);
        assert!(h.allows("ledger.example:443") && h.allows("10.0.0.2"));
        assert!(!h.allows("localhost"), "the list replaces the default");
        assert_eq!(hosts(&["--allowed-host", "*"]), Hosts::Any);
        assert!(parse(&["--allowed-host", "a b"])
            .unwrap_err()
            .contains("--allowed-host"));
    }

    #[test]
    fn db_selects_the_backend_by_url() {
        let db = |v: &str| {
            let Command::Run(c) = parse(&["--db", v]).unwrap() else {
                panic!("expected run")
            };
            c.db
        };
        assert_eq!(db("a/b.sqlite"), Database::Sqlite("a/b.sqlite".into()));
        assert_eq!(
            db("sqlite:a/b.sqlite"),
            Database::Sqlite("a/b.sqlite".into())
        );
        assert_eq!(db("sqlite:/abs/x"), Database::Sqlite("/abs/x".into()));
        let url = "postgres://app:pw@127.0.0.1:5432/chains";
        assert_eq!(db(url), Database::Postgres(url.into()));
        assert_eq!(
            db("postgresql://h/db"),
            Database::Postgres("postgresql://h/db".into())
        );
        // Logs never show the password.
        assert_eq!(
            db(url).to_string(),
            "postgres://app:***@127.0.0.1:5432/chains"
        );
        let Command::Run(c) = parse(&["--db-connections=4"]).unwrap() else {
            panic!("expected run")
        };
        assert_eq!(c.db_connections, 4);
    }
}
