//! Command-line options.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Largest request body accepted when `--max-body-bytes` is not given (8 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 << 20;

/// The usage text printed by `--help` and after a bad option.
pub const USAGE: &str = "\
petrichain-server: reference sync backend for petrichain ledgers

USAGE:
    petrichain-server [OPTIONS]

OPTIONS:
    --addr ADDR             address to listen on [default: 127.0.0.1:8787]
                            (port 0 picks a free port; the real one is printed)
    --db DATABASE           sqlite:PATH (or a bare PATH): SQLite file, created
                            with its directory on first run;
                            postgres://USER:PASSWORD@HOST:PORT/DBNAME:
                            PostgreSQL (or CockroachDB) database, shareable
                            by several server processes; the schema is
                            created on start [default: data/petrichain.sqlite]
    --db-connections N      PostgreSQL connections per process [default: 16]
    --static DIR            serve the built app from DIR (index.html for /)
    --cors-origin ORIGIN    allow cross-origin requests from ORIGIN (repeatable;
                            * allows any origin) [default: same origin only]
    --max-body-bytes N      largest request body, larger ones get 413
                            [default: 8388608]
    --synchronous MODE      SQLite only. full: an acknowledged append survives a power cut
                            (one fsync per append); normal: it survives a crash
                            of the server, not of the machine [default: full]
    -h, --help              print this help
    -V, --version           print the version
";

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
        }
    }
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the server.
    Run(Config),
    /// Print the help.
    Help,
    /// Print the version.
    Version,
}

/// Parses the arguments (without the program name). Accepts `--opt value`
/// and `--opt=value`. The error says which option is wrong and why.
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut config = Config::default();
    let mut origins: Vec<String> = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "--addr" => {
                let v = value("--addr")?;
                config.addr = v
                    .parse()
                    .map_err(|_| format!("--addr {v}: expected IP:PORT, e.g. 127.0.0.1:8787"))?;
            }
            "--db" => {
                config.db = Database::parse(&value("--db")?)?;
            }
            "--db-connections" => {
                let v = value("--db-connections")?;
                config.db_connections = match v.parse::<usize>() {
                    Ok(n) if (1..=1000).contains(&n) => n,
                    _ => return Err(format!("--db-connections {v}: expected 1 to 1000")),
                };
            }
            "--static" => config.static_dir = Some(PathBuf::from(value("--static")?)),
            "--cors-origin" => {
                let v = value("--cors-origin")?;
                if v.is_empty() {
                    return Err("--cors-origin needs an origin or *".into());
                }
                origins.push(v);
            }
            "--max-body-bytes" => {
                let v = value("--max-body-bytes")?;
                config.max_body_bytes = match v.parse::<usize>() {
                    Ok(n) if n > 0 => n,
                    _ => return Err(format!("--max-body-bytes {v}: expected a positive integer")),
                };
            }
            "--synchronous" => {
                config.synchronous = match value("--synchronous")?.as_str() {
                    "full" | "FULL" => Synchronous::Full,
                    "normal" | "NORMAL" => Synchronous::Normal,
                    v => return Err(format!("--synchronous {v}: expected full or normal")),
                }
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    config.cors = if origins.is_empty() {
        Cors::SameOrigin
    } else if origins.iter().any(|o| o == "*") {
        Cors::Any
    } else {
        Cors::Origins(origins)
    };
    Ok(Command::Run(config))
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
        assert_eq!(c, Config::default());
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
