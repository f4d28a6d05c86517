//! `petrichain-server`: command line entry point. See `--help` and docs/server.md.

use std::io::Write;
use std::process::ExitCode;

use petrichain_server::config::{help, parse_args, Command};

/// `petrichain-server verify`: the report on stdout; 0 when storage
/// matches the chains, 1 when a stream does not, 3 when it cannot be read.
fn verify(config: &petrichain_server::Config) -> ExitCode {
    use petrichain_server::config::Database;
    if let Database::Sqlite(path) = &config.db {
        // Verifying must not create an empty database.
        if !path.is_file() {
            eprintln!("error: --db {}: no such database file", path.display());
            return ExitCode::from(3);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    runtime.block_on(async {
        let storage = match petrichain_server::storage::open(config).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: cannot open the database {}: {e}", config.db);
                return ExitCode::from(3);
            }
        };
        match petrichain_server::verify::verify_all(storage.as_ref()).await {
            Ok(report) => {
                print!("{report}");
                if report.bad().next().is_some() {
                    ExitCode::from(1)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => {
                eprintln!("error: cannot list the streams of {}: {e}", config.db);
                ExitCode::from(3)
            }
        }
    })
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Command::Run(config)) => config,
        Ok(Command::Verify(config)) => return verify(&config),
        Ok(Command::Help) => {
            print!("{}", help());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("petrichain-server {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{}", help());
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let server = match petrichain_server::bind(&config).await {
            Ok(s) => s,
            Err(e @ petrichain_server::StartError::Insecure(_)) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Before the line below: a SIGTERM right after it is graceful too.
        let shutdown = petrichain_server::shutdown_signal();
        println!("listening on http://{}", server.local_addr());
        // Tests and scripts read that line: make sure it leaves now.
        let _ = std::io::stdout().flush();
        tracing::info!("database {}", config.db);
        match server.serve(shutdown).await {
            Ok(()) => {
                tracing::info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
