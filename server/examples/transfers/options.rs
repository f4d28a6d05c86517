//! The command line of the load tool, with its caps.

use petrichain_server::config::Synchronous;

/// Most concurrent clients (one thread and one connection each).
pub const MAX_CLIENTS: usize = 256;
/// Most transfers in one run.
pub const MAX_TRANSFERS: usize = 1_000_000;
/// Most registered users (each one `open` event, 100 tokens).
pub const MAX_USERS: usize = 100_000;
/// Longest run, registration and checks included (seconds).
pub const MAX_TIMEOUT_SECS: u64 = 7_200;
/// Largest transfer amount asked for (a transfer is `multiple` tokens).
pub const MAX_AMOUNT: u64 = 1_000_000;
/// Most transfers a client fires before it syncs them (one batch, one
/// conditional append; the sync client pushes up to 500 per request).
pub const MAX_PENDING: usize = 500;
/// The range of `--max-memory` (MB).
pub const MEMORY_RANGE_MB: (u64, u64) = (64, 65_536);

/// Which database the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
    Both,
}

/// One run's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Concurrent clients, each with its own device key.
    pub clients: usize,
    /// Transfers asked for in all (spread over the clients).
    pub transfers: usize,
    /// Users registered before the transfers.
    pub users: usize,
    /// Transfer amounts are drawn from 1..=max_amount.
    pub max_amount: u64,
    /// Seed of the random users and amounts (the same seed asks for the
    /// same transfers; which ones the net refuses depends on the race).
    pub seed: u64,
    pub db: Db,
    pub postgres_url: Option<String>,
    /// The whole run's wall-time bound (seconds).
    pub timeout_secs: u64,
    /// `full` (the server's default: SQLite flushes each commit, PostgreSQL
    /// `synchronous_commit = on`) or `normal` (SQLite NORMAL, PostgreSQL
    /// `synchronous_commit = off`: no flush wait per append).
    pub synchronous: Synchronous,
    /// Most transfers each client fires and holds unacknowledged: it
    /// fires that many, then syncs them as one batch.
    pub pending: usize,
    /// The tool's memory cap (MB), see memory.rs.
    pub max_memory_mb: u64,
}

pub const USAGE: &str = "usage: transfers [-c|--clients N] [-t|--transfers N] [-u|--users N] \
[--max-amount N] [--seed N] [--db sqlite|postgres|both] [--postgres-url URL] [--timeout SECS] \
[--synchronous full|normal] [--pending N] [--max-memory MB]";

impl Default for Options {
    fn default() -> Self {
        Options {
            clients: 100,
            transfers: 20_000,
            users: 10_000,
            max_amount: 100,
            seed: 1,
            db: Db::Sqlite,
            postgres_url: None,
            timeout_secs: 1_800,
            synchronous: Synchronous::Full,
            pending: 50,
            max_memory_mb: crate::memory::DEFAULT_MAX_MEMORY_MB,
        }
    }
}

fn number(name: &str, value: Option<String>, min: u64, max: u64) -> Result<u64, String> {
    let v = value.ok_or(format!("{name} needs a value"))?;
    match v.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{name}: expected a whole number in {min}..={max}, got '{v}'"
        )),
    }
}

/// Parses `args` (without the program name); `postgres_env` is
/// `$PETRICHAIN_TEST_POSTGRES_URL`, the default of `--postgres-url`.
pub fn parse(
    args: impl IntoIterator<Item = String>,
    postgres_env: Option<String>,
) -> Result<Options, String> {
    let mut o = Options {
        postgres_url: postgres_env.filter(|u| !u.is_empty()),
        ..Options::default()
    };
    let mut args = args.into_iter();
    let as_usize = |n: u64| usize::try_from(n).map_err(|_| "number too large".to_string());
    while let Some(a) = args.next() {
        match a.as_str() {
            "-c" | "--clients" => {
                o.clients = as_usize(number(&a, args.next(), 1, MAX_CLIENTS as u64)?)?
            }
            "-t" | "--transfers" => {
                o.transfers = as_usize(number(&a, args.next(), 1, MAX_TRANSFERS as u64)?)?
            }
            "-u" | "--users" => o.users = as_usize(number(&a, args.next(), 2, MAX_USERS as u64)?)?,
            "--max-amount" => o.max_amount = number(&a, args.next(), 1, MAX_AMOUNT)?,
            "--seed" => o.seed = number(&a, args.next(), 0, u64::MAX)?,
            "--pending" => o.pending = as_usize(number(&a, args.next(), 1, MAX_PENDING as u64)?)?,
            "--max-memory" => {
                let (min, max) = MEMORY_RANGE_MB;
                o.max_memory_mb = number(&a, args.next(), min, max)?
            }
            "--timeout" => o.timeout_secs = number(&a, args.next(), 1, MAX_TIMEOUT_SECS)?,
            "--db" => {
                o.db = match args.next().as_deref() {
                    Some("sqlite") => Db::Sqlite,
                    Some("postgres") => Db::Postgres,
                    Some("both") => Db::Both,
                    _ => return Err("--db needs sqlite, postgres or both".into()),
                }
            }
            "--synchronous" => {
                o.synchronous = match args.next().as_deref() {
                    Some("full") => Synchronous::Full,
                    Some("normal") => Synchronous::Normal,
                    _ => return Err("--synchronous needs full or normal".into()),
                }
            }
            "--postgres-url" => {
                o.postgres_url = Some(args.next().ok_or("--postgres-url needs a URL")?)
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    let estimate = crate::memory::estimate_bytes(o.clients, o.users, o.transfers);
    if estimate > o.max_memory_mb.saturating_mul(1024 * 1024) {
        return Err(format!(
            "{} clients x ({} users + {} transfers) would hold about {} MB (each client \
             keeps the whole chain), over --max-memory {} MB",
            o.clients,
            o.users,
            o.transfers,
            estimate >> 20,
            o.max_memory_mb
        ));
    }
    if o.db != Db::Sqlite && o.postgres_url.is_none() {
        return Err(
            "--db postgres/both needs --postgres-url URL or PETRICHAIN_TEST_POSTGRES_URL \
             (bash scripts/ci/postgres.sh COMMAND runs COMMAND with a throwaway PostgreSQL)"
                .into(),
        );
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn short_and_long_options_and_caps() {
        let o = parse(
            args("-c 8 -t 400 -u 50 --seed 7 --synchronous normal --pending 1"),
            None,
        )
        .unwrap();
        assert_eq!((o.clients, o.transfers, o.users, o.seed), (8, 400, 50, 7));
        assert_eq!(o.pending, 1);
        assert_eq!(o.synchronous, Synchronous::Normal);
        let o = parse(
            args("--clients 3 --transfers 9 --users 2 --db sqlite"),
            None,
        )
        .unwrap();
        assert_eq!((o.clients, o.transfers, o.users), (3, 9, 2));
        assert_eq!(parse(args(""), None).unwrap(), Options::default());
        for bad in [
            "-c 0",
            "-c 257",
            "-t 1000001",
            "-u 1",
            "-u 100001",
            "--timeout 0",
            "--timeout 7201",
            "--max-amount 0",
            "--pending 0",
            "--pending 501",
            "--max-memory 63",
            "-c 256 -u 100000 -t 1000000",
            "-c 100 -u 10000 -t 20000 --max-memory 4000",
            "-c",
            "-c x",
            "--db mysql",
            "--synchronous fast",
            "--bogus",
        ] {
            assert!(parse(args(bad), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn postgres_needs_a_url() {
        assert!(parse(args("--db postgres"), None).is_err());
        assert!(parse(args("--db both"), Some(String::new())).is_err());
        let o = parse(args("--db postgres"), Some("postgres://h/db".into())).unwrap();
        assert_eq!(o.postgres_url.as_deref(), Some("postgres://h/db"));
        let o = parse(args("--db both --postgres-url postgres://x/y"), None).unwrap();
        assert_eq!(
            (o.db, o.postgres_url.as_deref()),
            (Db::Both, Some("postgres://x/y"))
        );
    }
}
