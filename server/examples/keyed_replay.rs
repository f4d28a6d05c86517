//! What an append to a keyed stream pays for the head's keys
//! (docs/server.md, "Keyed places"): the replay of a cache miss (after a
//! start, or for a stream evicted) against the cached state, on a fresh
//! SQLite file holding one Bank stream (www/examples/bank.json) of
//! `--events` events (`--accounts` accounts opened, then transfers).
//!
//! cargo run --release -p petrichain-server --example keyed_replay -- --events 10000 --accounts 1000

use std::sync::Arc;
use std::time::Instant;

use petrichain::chain::verify_events;
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Commit, Ledger, StreamRecord};
use petrichain_server::keyed_state::KeyedStates;
use petrichain_server::storage::sqlite::SqliteStorage;
use petrichain_server::storage::Storage;

fn main() -> Result<(), String> {
    let (mut events_n, mut accounts) = (10_000usize, 1_000usize);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> Result<usize, String> {
            args.next()
                .and_then(|v| v.parse().ok())
                .filter(|&n| n > 0)
                .ok_or(format!("{name} needs a positive number"))
        };
        match a.as_str() {
            "--events" => events_n = num("--events")?,
            "--accounts" => accounts = num("--accounts")?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    accounts = accounts.clamp(2, events_n);
    let (model, _) =
        import_json(include_str!("../../www/examples/bank.json")).map_err(|e| e.to_string())?;
    let stream = "bank";
    let events = block_on(async {
        let ledger = Ledger::memory();
        let id = ledger.put_model(&model).await.map_err(|e| e.to_string())?;
        ledger
            .create_stream(stream, &id)
            .await
            .map_err(|e| e.to_string())?;
        for i in 0..events_n {
            let action = if i < accounts {
                Action::new("open").arg("user", format!("u{i}"))
            } else {
                let from = i % accounts;
                Action::new("transfer")
                    .arg("from", format!("u{from}"))
                    .arg("to", format!("u{}", (from + 1) % accounts))
            };
            ledger
                .fire(stream, &action, 1_700_000_000_000 + i as u64)
                .await
                .map_err(|e| e.to_string())?;
        }
        ledger.all_events(stream).await.map_err(|e| e.to_string())
    })?;
    let verified = verify_events(&model, stream, &events).map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("petrichain-keyed-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Arc::new(SqliteStorage::open(&dir.join("db.sqlite")).map_err(|e| e.to_string())?);
    let commit = Commit {
        record: StreamRecord {
            id: stream.into(),
            model: model.id().into(),
            seq: verified.events,
            hash: verified.head.clone(),
            state: verified.marking.clone(),
            policy: None,
        },
        events,
    };
    block_on(async {
        Storage::put_model(db.as_ref(), model.id(), &model.canonical_json()).await?;
        Storage::append(db.as_ref(), stream, &mut |_| Ok(Some(commit.clone()))).await
    })
    .map_err(|e| e.to_string())?;

    let states = KeyedStates::default();
    let time = |label: &str| -> Result<(), String> {
        let start = Instant::now();
        let found = block_on(states.at_head(db.as_ref(), &model, stream))
            .map_err(|e| e.to_string())?
            .map_err(|problem| format!("the stream does not verify: {problem}"))?
            .ok_or("the stream is missing")?;
        let ms = start.elapsed().as_secs_f64() * 1e3;
        println!(
            "{label}: {ms:.2} ms for the keyed state at seq {} ({events_n} events, {accounts} accounts)",
            found.1.seq
        );
        Ok(())
    };
    time("cache miss (replay, verified)")?;
    time("cache hit (one page read past the head)")?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
