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
    --db PATH               SQLite file, created with its directory on first run
                            [default: data/petrichain.sqlite]
    --static DIR            serve the built app from DIR (index.html for /)
    --cors-origin ORIGIN    allow cross-origin requests from ORIGIN (repeatable;
                            * allows any origin) [default: same origin only]
    --max-body-bytes N      largest request body, larger ones get 413
                            [default: 8388608]
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

/// Everything the server needs to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// SQLite database file.
    pub db: PathBuf,
    /// Directory of the built app to serve, if any.
    pub static_dir: Option<PathBuf>,
    /// Cross-origin policy.
    pub cors: Cors,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 8787)),
            db: PathBuf::from("data/petrichain.sqlite"),
            static_dir: None,
            cors: Cors::SameOrigin,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
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
                let v = value("--db")?;
                if v.is_empty() {
                    return Err("--db needs a file path".into());
                }
                config.db = PathBuf::from(v);
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
        ])
        .unwrap() else {
            panic!("expected run")
        };
        assert_eq!(c.addr.port(), 0);
        assert_eq!(c.db, PathBuf::from("x/y.sqlite"));
        assert_eq!(c.static_dir, Some(PathBuf::from("www/dist")));
        assert_eq!(
            c.cors,
            Cors::Origins(vec!["https://a.example".into(), "https://b.example".into()])
        );
        assert_eq!(c.max_body_bytes, 1024);
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
        assert!(parse(&["--frobnicate"])
            .unwrap_err()
            .contains("unknown option"));
        assert_eq!(parse(&["-h"]).unwrap(), Command::Help);
    }
}
