//! An in-memory backend with the protocol's semantics (conditional append,
//! idempotency by hash, 409 with the current head, every pushed event
//! verified by replay), used as a [`Transport`] directly. For tests, demos and
//! apps that sync two ledgers in one process; the reference HTTP server is in
//! `server/`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::client::{PushOutcome, Transport};
use super::error::SyncError;
use super::protocol::{AppendOk, AppendRequest, EventPage, Head, ModelDoc, StreamInfo, StreamList};
use crate::chain::{Event, Verifier};
use crate::formats::json::import_json;
use crate::model::Model;

#[derive(Default)]
struct Data {
    models: BTreeMap<String, Rc<Model>>,
    streams: BTreeMap<String, (String, Vec<Event>)>,
}

/// A sync backend kept in memory. Clones share the same data.
#[derive(Clone)]
pub struct MemoryBackend {
    name: String,
    page_cap: u64,
    data: Rc<RefCell<Data>>,
}

impl MemoryBackend {
    /// A new, empty backend called `name` (sync state is kept per name).
    pub fn new(name: &str) -> Self {
        MemoryBackend {
            name: name.to_string(),
            page_cap: 1000,
            data: Rc::default(),
        }
    }

    /// Sends at most `cap` events per page, whatever the client asks.
    pub fn page_cap(mut self, cap: u64) -> Self {
        self.page_cap = cap.max(1);
        self
    }

    /// Every event of a stream (empty if unknown).
    pub fn events(&self, stream: &str) -> Vec<Event> {
        self.data
            .borrow()
            .streams
            .get(stream)
            .map(|(_, e)| e.clone())
            .unwrap_or_default()
    }

    /// A stream's head (zero if unknown).
    pub fn head(&self, stream: &str) -> Head {
        head_of(
            self.data
                .borrow()
                .streams
                .get(stream)
                .map_or(&[][..], |(_, e)| e),
        )
    }

    fn rejected(&self, stream: &str, code: &str, message: String, seq: Option<u64>) -> SyncError {
        SyncError::PushRejected {
            backend: self.name.clone(),
            stream: stream.into(),
            remote_code: code.into(),
            message,
            seq,
        }
    }

    fn not_found(&self, code: &str, message: String) -> SyncError {
        SyncError::RemoteError {
            backend: self.name.clone(),
            status: 404,
            remote_code: code.into(),
            message,
        }
    }
}

fn head_of(events: &[Event]) -> Head {
    events.last().map_or_else(Head::zero, |e| Head {
        seq: e.seq,
        hash: e.hash.clone(),
    })
}

impl Transport for MemoryBackend {
    fn backend(&self) -> &str {
        &self.name
    }

    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        let data = self.data.borrow();
        Ok(Some(StreamList {
            streams: data
                .streams
                .iter()
                .map(|(id, (model, events))| StreamInfo {
                    id: id.clone(),
                    model: model.clone(),
                    head: head_of(events),
                })
                .collect(),
            next: None,
        }))
    }

    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        Ok(self.data.borrow().models.get(id).map(|m| ModelDoc {
            id: m.id().to_string(),
            json: m.canonical_json(),
        }))
    }

    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        let invalid = |message: String| SyncError::RemoteError {
            backend: self.name.clone(),
            status: 400,
            remote_code: "MODEL_ID_MISMATCH".into(),
            message,
        };
        let (model, _) = import_json(&doc.json).map_err(|e| invalid(e.to_string()))?;
        if model.id() != doc.id {
            return Err(invalid(format!("json hashes to {}", model.id())));
        }
        self.data
            .borrow_mut()
            .models
            .insert(doc.id.clone(), Rc::new(model));
        Ok(())
    }

    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError> {
        let data = self.data.borrow();
        let Some((model, events)) = data.streams.get(stream) else {
            return Ok(None);
        };
        let limit = limit.clamp(1, self.page_cap) as usize;
        let start = usize::try_from(after)
            .unwrap_or(usize::MAX)
            .min(events.len());
        let end = start.saturating_add(limit).min(events.len());
        Ok(Some(EventPage {
            stream: stream.into(),
            model: model.clone(),
            head: head_of(events),
            events: events[start..end].to_vec(),
            more: end < events.len(),
        }))
    }

    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError> {
        let mut data = self.data.borrow_mut();
        let model = data
            .models
            .get(&request.model)
            .cloned()
            .ok_or_else(|| self.not_found("MODEL_NOT_FOUND", request.model.clone()))?;
        let (stream_model, stored) = match data.streams.get(stream) {
            Some((m, e)) => (m.clone(), e.clone()),
            None => (request.model.clone(), Vec::new()),
        };
        if stream_model != request.model {
            return Err(self.rejected(
                stream,
                "INVALID_EVENT",
                format!("stream '{stream}' has model {stream_model}"),
                None,
            ));
        }
        let head = head_of(&stored);
        // Idempotency: skip the events already stored (same seq, same hash).
        let mut duplicates = 0u64;
        let mut rest = &request.events[..];
        while let Some(e) = rest.first() {
            let have = usize::try_from(e.seq)
                .ok()
                .and_then(|s| s.checked_sub(1))
                .and_then(|i| stored.get(i));
            match have {
                Some(h) if h.hash == e.hash => {
                    duplicates += 1;
                    rest = &rest[1..];
                }
                Some(_) => return Ok(PushOutcome::Conflict(head)),
                None => break,
            }
        }
        if rest.is_empty() {
            // An append with no events on the zero head creates an empty
            // stream (docs/sync-protocol.md).
            if request.events.is_empty() && stored.is_empty() && request.expected == head {
                data.streams
                    .entry(stream.to_string())
                    .or_insert_with(|| (request.model.clone(), Vec::new()));
            }
            return Ok(PushOutcome::Appended(AppendOk {
                head,
                stored: 0,
                duplicates,
            }));
        }
        if (duplicates == 0 && request.expected != head) || rest[0].prev != head.hash {
            return Ok(PushOutcome::Conflict(head));
        }
        let mut marking = model.initial_marking();
        let mut keyed = crate::engine::KeyedMarking::empty(model.places().len());
        let mut policy = crate::chain::Policy::default();
        for e in &stored {
            crate::store::apply_delta(&model, &mut marking, e);
            crate::store::apply_keys(&model, &mut keyed, e);
            policy
                .follow(&model, e)
                .map_err(|err| self.rejected(stream, err.code(), err.to_string(), err.seq()))?;
        }
        let state = crate::chain::TipState::with_keys(&model, marking, keyed).with_policy(policy);
        let mut verifier = Verifier::resume_state(&model, stream, head.seq, &head.hash, state)
            .map_err(|e| self.rejected(stream, e.code(), e.to_string(), None))?;
        for e in rest {
            verifier.push(e).map_err(|err| {
                self.rejected(stream, "INVALID_EVENT", err.to_string(), err.seq())
            })?;
        }
        verifier
            .flush()
            .map_err(|err| self.rejected(stream, "INVALID_EVENT", err.to_string(), err.seq()))?;
        let entry = data
            .streams
            .entry(stream.to_string())
            .or_insert_with(|| (request.model.clone(), Vec::new()));
        entry.1.extend(rest.iter().cloned());
        Ok(PushOutcome::Appended(AppendOk {
            head: head_of(&entry.1),
            stored: rest.len() as u64,
            duplicates,
        }))
    }
}
