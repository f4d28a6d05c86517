//! Live updates: `GET /v2/streams/{id}/live` as server-sent events, one
//! `append` event per stored batch with `data` = `{"stream", "head"}`.
//!
//! Appends publish on one broadcast channel; each live connection keeps the
//! events of its stream. A connection that falls behind the channel gets the
//! stream's current head instead of the missed ones (a client only needs the
//! latest head to know it must pull). Shutdown ends every live stream so the
//! graceful shutdown does not wait for them.
//!
//! Listeners are capped per stream and in total (`--max-live-per-stream`,
//! `--max-live`): one more gets `503 OVERLOADED` naming the cap. A slot is
//! held for as long as the response stream lives, so a client that goes
//! away frees it.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use petrichain::sync::protocol::{Head, LiveAppend};
use tokio::sync::{broadcast, watch};

use crate::error::ApiError;
use crate::storage::{head_of, Storage};

/// Updates buffered per live connection before it counts as behind.
const CHANNEL_CAPACITY: usize = 1024;

/// Listeners allowed at once when not configured: in total.
pub const DEFAULT_MAX_LIVE: usize = 256;
/// ... and on one stream.
pub const DEFAULT_MAX_LIVE_PER_STREAM: usize = 32;

/// The hub appends publish to.
pub struct Live {
    tx: broadcast::Sender<LiveAppend>,
    shutdown: watch::Sender<bool>,
    slots: Arc<Mutex<Slots>>,
}

/// Open listeners, in total and by stream, and their caps.
#[derive(Debug, Default)]
struct Slots {
    total: usize,
    by_stream: HashMap<String, usize>,
    max_total: usize,
    max_per_stream: usize,
}

/// One listener's place; given back when dropped.
struct Slot {
    slots: Arc<Mutex<Slots>>,
    stream: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        s.total = s.total.saturating_sub(1);
        if let Some(n) = s.by_stream.get_mut(&self.stream) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                s.by_stream.remove(&self.stream);
            }
        }
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    /// A hub with no listener and the default caps.
    pub fn new() -> Live {
        Live::with_caps(DEFAULT_MAX_LIVE, DEFAULT_MAX_LIVE_PER_STREAM)
    }

    /// A hub allowing `max_total` listeners, `max_per_stream` on one stream.
    pub fn with_caps(max_total: usize, max_per_stream: usize) -> Live {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        let (shutdown, _) = watch::channel(false);
        let slots = Slots {
            max_total,
            max_per_stream,
            ..Slots::default()
        };
        Live {
            tx,
            shutdown,
            slots: Arc::new(Mutex::new(slots)),
        }
    }

    /// Listeners open now: in total, and on `stream`.
    pub fn listeners(&self, stream: &str) -> (usize, usize) {
        let s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        (s.total, s.by_stream.get(stream).copied().unwrap_or(0))
    }

    fn take_slot(&self, stream: &str) -> Result<Slot, ApiError> {
        let mut s = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        let on_stream = s.by_stream.get(stream).copied().unwrap_or(0);
        if on_stream >= s.max_per_stream {
            return Err(ApiError::Overloaded(format!(
                "stream '{stream}' already has {on_stream} live listeners, the most this \
                 server allows (--max-live-per-stream); pull instead, or retry later"
            )));
        }
        if s.total >= s.max_total {
            return Err(ApiError::Overloaded(format!(
                "this server already has {} live listeners, the most it allows (--max-live); \
                 pull instead, or retry later",
                s.total
            )));
        }
        s.total += 1;
        *s.by_stream.entry(stream.to_string()).or_insert(0) += 1;
        Ok(Slot {
            slots: self.slots.clone(),
            stream: stream.to_string(),
        })
    }

    /// Tells the listeners of `stream` its new head.
    pub fn publish(&self, stream: &str, head: Head) {
        // No receiver is not an error: nobody is listening.
        let _ = self.tx.send(LiveAppend {
            stream: stream.to_string(),
            head,
        });
    }

    /// Ends every live stream (on shutdown).
    pub fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// The SSE response for one stream, or `503 OVERLOADED` when a cap
    /// on listeners is reached.
    pub fn subscribe(
        &self,
        stream: String,
        storage: Arc<dyn Storage>,
    ) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
        let slot = self.take_slot(&stream)?;
        let rx = self.tx.subscribe();
        let stop = self.shutdown.subscribe();
        let updates = stream::unfold(
            (rx, stop, stream, storage, slot),
            |(mut rx, mut stop, stream, storage, slot)| async move {
                loop {
                    if *stop.borrow() {
                        return None;
                    }
                    let next = tokio::select! {
                        r = rx.recv() => r,
                        _ = stop.changed() => return None,
                    };
                    let update = match next {
                        Ok(u) if u.stream == stream => u,
                        Ok(_) => continue,
                        Err(broadcast::error::RecvError::Closed) => return None,
                        Err(broadcast::error::RecvError::Lagged(_)) => {
                            let head = storage.head(&stream).await.ok().flatten();
                            match head {
                                Some(h) => LiveAppend {
                                    stream: stream.clone(),
                                    head: head_of(&h),
                                },
                                None => continue,
                            }
                        }
                    };
                    let data = serde_json::to_string(&update).unwrap_or_default();
                    let event = SseEvent::default().event("append").data(data);
                    return Some((Ok(event), (rx, stop, stream, storage, slot)));
                }
            },
        );
        Ok(Sse::new(updates).keep_alive(KeepAlive::default()))
    }
}
