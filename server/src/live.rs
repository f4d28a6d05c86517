//! Live updates: `GET /v2/streams/{id}/live` as server-sent events, one
//! `append` event per stored batch with `data` = `{"stream", "head"}`.
//!
//! Appends publish on one broadcast channel; each live connection keeps the
//! events of its stream. A connection that falls behind the channel gets the
//! stream's current head instead of the missed ones (a client only needs the
//! latest head to know it must pull). Shutdown ends every live stream so the
//! graceful shutdown does not wait for them.

use std::convert::Infallible;
use std::sync::Arc;

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use petrichain::sync::protocol::{Head, LiveAppend};
use tokio::sync::{broadcast, watch};

use crate::storage::{head_of, Storage};

/// Updates buffered per live connection before it counts as behind.
const CHANNEL_CAPACITY: usize = 1024;

/// The hub appends publish to.
pub struct Live {
    tx: broadcast::Sender<LiveAppend>,
    shutdown: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    /// A hub with no listener.
    pub fn new() -> Live {
        let (tx, _) = broadcast::channel(CHANNEL_CAPACITY);
        let (shutdown, _) = watch::channel(false);
        Live { tx, shutdown }
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

    /// The SSE response for one stream.
    pub fn subscribe(
        &self,
        stream: String,
        storage: Arc<dyn Storage>,
    ) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
        let rx = self.tx.subscribe();
        let stop = self.shutdown.subscribe();
        let updates = stream::unfold(
            (rx, stop, stream, storage),
            |(mut rx, mut stop, stream, storage)| async move {
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
                    return Some((Ok(event), (rx, stop, stream, storage)));
                }
            },
        );
        Sse::new(updates).keep_alive(KeepAlive::default())
    }
}
