//! The full state (marking, the keys' counts and their tries, the
//! stream's policy: owner, grants, revocations) of a stream's head, which
//! an append to a net with keyed places, or of events that claim roles or
//! are policy entries, resumes its [`Verifier`] from: the stored head
//! holds only the marking.
//!
//! Why replay and not a table of keyed counts: the stored events already
//! say everything (the replay re-verifies them, so a stream altered in the
//! database is found, not built on), both backends stay as they are, and
//! the usual case costs nothing: the state is cached per stream in memory
//! and moved forward by this process's appends, so only the first append
//! after a start (or after another process appended) replays, and then
//! only the events after the cached head. A table would make every append
//! write one row per changed key and need its own migration and checks.
//! The cost of a miss is one verification of the events not cached
//! (docs/server.md "Keyed places").

use std::collections::HashMap;
use std::sync::Mutex;

use petrichain::chain::{TipState, Verifier};
use petrichain::model::Model;

use crate::error::ApiError;
use crate::routes::{MAX_PAGE, MAX_PAGE_BYTES};
use crate::storage::{Storage, StreamRecord};

/// Most streams whose keyed state is cached; past it the cache starts
/// over (the states are rebuilt on their next append). Each entry holds
/// one stream's keys, which its events created one by one.
pub const MAX_KEYED_STATES: usize = 256;

/// A stream's state at one head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedHead {
    /// Seq of the head.
    pub seq: u64,
    /// Hash of the head.
    pub hash: String,
    /// The state the chain reaches there.
    pub state: TipState,
}

/// Keyed states by stream, bounded by [`MAX_KEYED_STATES`].
#[derive(Default)]
pub struct KeyedStates {
    heads: Mutex<HashMap<String, KeyedHead>>,
}

impl KeyedStates {
    /// Remembers `head` as `stream`'s state (after an append this process
    /// wrote).
    pub fn remember(&self, stream: &str, head: KeyedHead) {
        let mut heads = self.heads.lock().unwrap_or_else(|e| e.into_inner());
        if heads.len() >= MAX_KEYED_STATES && !heads.contains_key(stream) {
            heads.clear();
        }
        heads.insert(stream.to_string(), head);
    }

    /// The state of `stream`'s stored head: the cached one moved forward
    /// by replaying (and verifying) the stored events after it, or all of
    /// them. `Ok(Err(problem))`: the stored events do not verify or do not
    /// end at the stored head (the storage was altered); `Ok(Ok(None))`:
    /// no such stream, or one of another model. A cached state that does not lead to the stored
    /// head is dropped and the chain replayed from its start: the cache
    /// only saves work, it never decides.
    pub async fn at_head(
        &self,
        storage: &dyn Storage,
        model: &Model,
        stream: &str,
    ) -> Result<Result<Option<(StreamRecord, KeyedHead)>, String>, ApiError> {
        let cached = {
            let heads = self.heads.lock().unwrap_or_else(|e| e.into_inner());
            heads.get(stream).cloned()
        };
        let mut found = replay(storage, model, stream, cached.as_ref()).await?;
        if found.is_err() && cached.is_some() {
            found = replay(storage, model, stream, None).await?;
        }
        match &found {
            Ok(Some((_, keyed))) => self.remember(stream, keyed.clone()),
            _ => self.forget(stream),
        }
        Ok(found)
    }

    fn forget(&self, stream: &str) {
        let mut heads = self.heads.lock().unwrap_or_else(|e| e.into_inner());
        heads.remove(stream);
    }
}

/// Replays the stored events of `stream` after `from` (from its start when
/// `None`), verifying them, up to the stored head.
async fn replay(
    storage: &dyn Storage,
    model: &Model,
    stream: &str,
    from: Option<&KeyedHead>,
) -> Result<Result<Option<(StreamRecord, KeyedHead)>, String>, ApiError> {
    let resumed = from
        .and_then(|c| Verifier::resume_state(model, stream, c.seq, &c.hash, c.state.clone()).ok());
    let mut verifier = resumed.unwrap_or_else(|| Verifier::new(model, stream));
    let mut after = verifier.seq();
    let head = loop {
        let Some(page) = storage
            .page(stream, after, MAX_PAGE, MAX_PAGE_BYTES)
            .await?
        else {
            return Ok(Ok(None));
        };
        if page.head.model != model.id() {
            // A request naming another model than the stream's: the append
            // refuses it with its own answer (400), nothing to rebuild.
            return Ok(Ok(None));
        }
        if page.head.seq < verifier.seq() {
            return Ok(Err(format!(
                "the stored head is seq {}, behind seq {} replayed",
                page.head.seq,
                verifier.seq()
            )));
        }
        for e in &page.events {
            if let Err(err) = verifier.push(e) {
                return Ok(Err(format!("event {}: {} ({err})", e.seq, err.code())));
            }
        }
        match page.events.last() {
            Some(last) if page.more => after = last.seq,
            _ => break page.head,
        }
    };
    if let Err(err) = verifier.flush() {
        return Ok(Err(format!("{} ({err})", err.code())));
    }
    if verifier.seq() != head.seq || verifier.head() != head.hash {
        return Ok(Err(format!(
            "the stored head is seq {} {}, the chain ends at seq {} {}",
            head.seq,
            head.hash,
            verifier.seq(),
            verifier.head()
        )));
    }
    if verifier.marking().0 != head.state {
        return Ok(Err(format!(
            "the stored head marking {:?} is not the marking the chain reaches {:?}",
            head.state,
            verifier.marking().0
        )));
    }
    let keyed = KeyedHead {
        seq: head.seq,
        hash: head.hash.clone(),
        state: verifier.state().clone(),
    };
    Ok(Ok(Some((head, keyed))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrichain::chain::verify_events;
    use petrichain::formats::json::import_json;
    use petrichain::store::{block_on, Action, Commit, Ledger};

    use crate::storage::sqlite::SqliteStorage;

    fn bank() -> Model {
        import_json(include_str!("../../www/examples/bank.json"))
            .unwrap()
            .0
    }

    /// The Bank stream "s" of `n` opens, then `transfers` (from, to) of 30.
    fn chain(model: &Model, n: usize, transfers: &[(&str, &str)]) -> Vec<petrichain::chain::Event> {
        block_on(async {
            let ledger = Ledger::memory();
            let id = ledger.put_model(model).await.unwrap();
            ledger.create_stream("s", &id).await.unwrap();
            for i in 0..n {
                let open = Action::new("open").arg("user", format!("u{i}"));
                ledger.fire("s", &open, i as u64).await.unwrap();
            }
            for (from, to) in transfers {
                let t = Action::new("transfer")
                    .arg("from", *from)
                    .arg("to", *to)
                    .multiple(30);
                ledger.fire("s", &t, 9).await.unwrap();
            }
            ledger.all_events("s").await.unwrap()
        })
    }

    /// A fresh SQLite file holding the Bank stream "s" of `n` opens.
    fn stored(name: &str, model: &Model, n: usize) -> (SqliteStorage, std::path::PathBuf) {
        store(name, model, chain(model, n, &[]))
    }

    /// A fresh SQLite file holding `events` as stream "s".
    fn store(
        name: &str,
        model: &Model,
        events: Vec<petrichain::chain::Event>,
    ) -> (SqliteStorage, std::path::PathBuf) {
        let v = verify_events(model, "s", &events).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "petrichain-keyed-unit-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let db = SqliteStorage::open(&dir.join("db.sqlite")).unwrap();
        db.put_model(model.id(), &model.canonical_json()).unwrap();
        let commit = Commit {
            record: StreamRecord {
                id: "s".into(),
                model: model.id().into(),
                seq: v.events,
                hash: v.head,
                state: v.marking,
                policy: None,
            },
            events,
        };
        db.append("s", &mut |_| Ok(Some(commit.clone()))).unwrap();
        (db, dir)
    }

    #[test]
    fn a_cached_state_off_the_stored_chain_is_replaced_by_a_full_replay() {
        let model = bank();
        let (db, dir) = stored("off_chain", &model, 3);
        let states = KeyedStates::default();
        let (head, right) = block_on(states.at_head(&db, &model, "s"))
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!((head.seq, right.seq), (3, 3));
        // A state this stream never had (seq 3, another hash, no keys).
        let wrong = KeyedHead {
            seq: 3,
            hash: "ab".repeat(32),
            state: TipState::new(&model, model.initial_marking()),
        };
        states.remember("s", wrong);
        let (_, again) = block_on(states.at_head(&db, &model, "s"))
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(again, right, "rebuilt from the chain, not from the cache");
        assert!(block_on(states.at_head(&db, &model, "none"))
            .unwrap()
            .unwrap()
            .is_none());
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A refused batch whose first event fired (on the verifier's copy of
    /// the cached state) leaves the cache as it was: equal to a fresh
    /// replay of the stored chain, and the next append builds on it.
    #[test]
    fn a_refused_batch_leaves_the_cached_state_equal_to_a_replay() {
        use crate::append::plan_append;
        use petrichain::sync::protocol::{AppendRequest, Head};
        let model = bank();
        // Three opens stored; two transfers that build on them, not yet.
        let mut events = chain(&model, 3, &[("u0", "u1"), ("u1", "u2")]);
        let next = events.split_off(3);
        let (db, dir) = store("refused", &model, events);
        let states = KeyedStates::default();
        let (head, cached) = block_on(states.at_head(&db, &model, "s"))
            .unwrap()
            .unwrap()
            .unwrap();
        let request = |events: Vec<petrichain::chain::Event>| AppendRequest {
            model: model.id().to_string(),
            expected: Head {
                seq: head.seq,
                hash: head.hash.clone(),
            },
            events,
        };
        // Event 5's signature is another event's: refused at the batch's
        // signature check, after both events fired.
        let mut forged = next.clone();
        forged[1].sig = forged[0].sig.clone();
        let refused = db.append("s", &mut |tx| {
            plan_append(&model, "s", &request(forged.clone()), Some(&cached), tx).map(|d| d.commit)
        });
        assert_eq!(refused.unwrap_err().code(), "INVALID_EVENT");
        let (_, after) = block_on(states.at_head(&db, &model, "s"))
            .unwrap()
            .unwrap()
            .unwrap();
        let (_, replayed) = block_on(KeyedStates::default().at_head(&db, &model, "s"))
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(after, replayed);
        assert_eq!(after, cached);
        // The cached state still takes the genuine batch.
        let mut decided = None;
        db.append("s", &mut |tx| {
            let d = plan_append(&model, "s", &request(next.clone()), Some(&after), tx)?;
            decided = d.state.clone();
            Ok(d.commit)
        })
        .unwrap();
        let (_, replayed) = block_on(KeyedStates::default().at_head(&db, &model, "s"))
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(decided.as_ref(), Some(&replayed.state));
        assert_eq!(replayed.seq, 5);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn the_cache_is_bounded() {
        let model = bank();
        let states = KeyedStates::default();
        let head = KeyedHead {
            seq: 0,
            hash: "00".repeat(32),
            state: TipState::new(&model, model.initial_marking()),
        };
        for i in 0..=MAX_KEYED_STATES {
            states.remember(&format!("s{i}"), head.clone());
        }
        let len = states.heads.lock().unwrap().len();
        assert!((1..=MAX_KEYED_STATES).contains(&len), "{len}");
    }
}
