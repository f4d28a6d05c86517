//! `petrichain-server verify`: replays every stored chain with the engine's
//! [`Verifier`] (fields, links, hashes, the net allows each firing, deltas,
//! marking commitments, signatures) and checks that the stored head (seq,
//! hash, marking) is where the replay ends. Storage is read page by page
//! (bounded memory whatever it holds); a stream that fails does not stop
//! the others.

use petrichain::chain::Verifier;
use petrichain::formats::json::import_json;

use crate::error::ApiError;
use crate::routes::{AppState, MAX_PAGE, MAX_PAGE_BYTES, MAX_STREAM_PAGE};
use crate::storage::{Storage, StreamRecord};

/// What was found on one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCheck {
    /// The stream.
    pub stream: String,
    /// Events replayed.
    pub events: u64,
    /// `None`: the stored chain and head are what the replay gives.
    pub problem: Option<String>,
}

/// The whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Every stream, sorted by id.
    pub streams: Vec<StreamCheck>,
}

impl Report {
    /// Streams whose storage does not replay.
    pub fn bad(&self) -> impl Iterator<Item = &StreamCheck> {
        self.streams.iter().filter(|s| s.problem.is_some())
    }

    /// Events replayed in all.
    pub fn events(&self) -> u64 {
        self.streams
            .iter()
            .fold(0u64, |n, s| n.saturating_add(s.events))
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for s in self.bad() {
            writeln!(
                f,
                "MISMATCH {}: {}",
                s.stream,
                s.problem.as_deref().unwrap_or_default()
            )?;
        }
        let bad = self.bad().count();
        writeln!(
            f,
            "{} streams, {} events replayed: {}",
            self.streams.len(),
            self.events(),
            if bad == 0 {
                "storage matches the chains".to_string()
            } else {
                format!("{bad} stream(s) altered or unreadable")
            }
        )
    }
}

/// How much of storage the server checks before it serves
/// (`--check-storage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartCheck {
    /// Each stream's stored head against its last event: the same hash,
    /// the event's fields hashing to it, the head marking's Merkle root
    /// equal to the event's `root` (the initial marking for an empty
    /// stream). Two reads per stream.
    #[default]
    Heads,
    /// Every chain replayed as `petrichain-server verify` does.
    Full,
    /// Nothing (heads are still checked at each stream's first append).
    Off,
}

impl StartCheck {
    /// The option's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            StartCheck::Heads => "heads",
            StartCheck::Full => "full",
            StartCheck::Off => "off",
        }
    }
}

/// The check on start: every stored stream, as `mode` says; a stream that
/// fails is no longer served (`500 STORAGE_ALTERED` on its pulls, pushes
/// and live updates, [`AppState::mark_altered`]). Fails only when the list
/// of streams cannot be read; one stream that cannot be read counts as
/// altered.
pub async fn check_on_start(state: &AppState, mode: StartCheck) -> Result<Report, ApiError> {
    let mut report = Report::default();
    if mode == StartCheck::Off {
        return Ok(report);
    }
    let storage = state.storage.as_ref();
    let mut after = String::new();
    loop {
        let heads = storage.streams(&after, MAX_STREAM_PAGE).await?;
        let Some(last) = heads.last() else { break };
        after = last.id.clone();
        for head in heads {
            let check = match mode {
                StartCheck::Full => verify_stream(storage, head).await,
                _ => check_head(state, head).await,
            };
            if let Some(reason) = &check.problem {
                state.mark_altered(&check.stream, reason);
            }
            report.streams.push(check);
        }
    }
    Ok(report)
}

async fn check_head(state: &AppState, listed: StreamRecord) -> StreamCheck {
    let problem = match state.model(&listed.model).await {
        Err(e) => Some(format!("its model {} does not load: {e}", listed.model)),
        Ok(model) => match state.head_problem(&listed.id, &model).await {
            Ok(problem) => problem,
            Err(e) => Some(format!("cannot be read: {e}")),
        },
    };
    StreamCheck {
        stream: listed.id,
        events: 0,
        problem,
    }
}

/// Replays every stream of `storage`. Fails only when the list of streams
/// cannot be read.
pub async fn verify_all(storage: &dyn Storage) -> Result<Report, ApiError> {
    let mut report = Report::default();
    let mut after = String::new();
    loop {
        let heads = storage.streams(&after, MAX_STREAM_PAGE).await?;
        let Some(last) = heads.last() else { break };
        after = last.id.clone();
        for head in heads {
            report.streams.push(verify_stream(storage, head).await);
        }
    }
    Ok(report)
}

async fn verify_stream(storage: &dyn Storage, listed: StreamRecord) -> StreamCheck {
    let stream = listed.id.clone();
    let mut events = 0u64;
    let problem = replay(storage, &listed, &mut events).await.err();
    StreamCheck {
        stream,
        events,
        problem,
    }
}

async fn replay(
    storage: &dyn Storage,
    listed: &StreamRecord,
    events: &mut u64,
) -> Result<(), String> {
    let stream = &listed.id;
    let json = storage
        .model(&listed.model)
        .await
        .map_err(|e| format!("model {}: {e}", listed.model))?
        .ok_or_else(|| format!("its model {} is not stored", listed.model))?;
    let (model, _) =
        import_json(&json).map_err(|e| format!("model {} does not load: {e}", listed.model))?;
    if model.id() != listed.model {
        return Err(format!(
            "model {} loads with id {}: its stored JSON was altered",
            listed.model,
            model.id()
        ));
    }
    let mut verifier = Verifier::new(&model, stream);
    let mut after = 0u64;
    let head = loop {
        let page = storage
            .page(stream, after, MAX_PAGE, MAX_PAGE_BYTES)
            .await
            .map_err(|e| format!("reading events after seq {after}: {e}"))?
            .ok_or("the stream disappeared while it was verified")?;
        for e in &page.events {
            verifier
                .push(e)
                .map_err(|err| format!("event {}: {} ({err})", e.seq, err.code()))?;
            *events = e.seq;
        }
        match page.events.last() {
            Some(last) if page.more => after = last.seq,
            _ => break page.head,
        }
    };
    let verified = verifier
        .finish()
        .map_err(|err| format!("{} ({err})", err.code()))?;
    if verified.events != head.seq || verified.head != head.hash {
        return Err(format!(
            "the stored head is seq {} {}, the chain ends at seq {} {}",
            head.seq, head.hash, verified.events, verified.head
        ));
    }
    if verified.marking != head.state {
        return Err(format!(
            "the stored head marking {:?} is not the marking the chain reaches {:?}",
            head.state, verified.marking
        ));
    }
    Ok(())
}
