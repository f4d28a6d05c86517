//! `ledger.sync(...)`, the `SyncHandle`, and `ledger.conflicts(...)`, for
//! JavaScript. Thin: the algorithm is [`petrichain::sync::client`], the run
//! loop, backoff, status and listeners are the core's
//! [`Scheduler`](petrichain::sync::Scheduler); this file hands it the
//! browser (`browser.rs`), the wake-ups (`live.rs`) and the options
//! (`sync_options.rs`), and turns its results into JS values.

use std::rc::Rc;

use js_sys::{Function, Promise};
use petrichain::store::SyncStore;
use petrichain::sync::{self as client, Kind, Transport};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use crate::error::{bad_argument, to_js_error};
use crate::js::{conflict_to_js, to_js};
use crate::ledger::JsLedger;
use crate::live::{open_live, Wakeups};
use crate::promise::promise;
use crate::sync_options::{parse_options, Sched};

#[wasm_bindgen(typescript_custom_section)]
const TS_SYNC_EVENTS: &'static str = r#"
/** What `SyncHandle.on(kind, callback)` gives `callback`, per kind. */
export interface SyncEvents {
  /** Every step of a sync. */
  progress: SyncProgress;
  /** A local action a rebase could not keep (also kept: `ledger.conflicts`). */
  conflict: Conflict;
  /** A failed sync (`NETWORK`, `REMOTE_ERROR`, ...). */
  error: PetrichainError;
  /** The new status. */
  status: SyncStatus;
}
export interface SyncHandle {
  /**
   * Calls `callback` on `"progress"` (every step), `"conflict"` (a recorded
   * conflict), `"error"` (a `PetrichainError`) or `"status"` (the new
   * status); an unknown kind throws `BAD_ARGUMENT`. Returns a function that
   * unsubscribes.
   */
  on<K extends keyof SyncEvents>(kind: K, callback: (value: SyncEvents[K]) => void): () => void;
}
"#;

/// Syncs a ledger with one backend. Made by `ledger.sync(options)`.
///
/// @example
/// ```ts
/// const sync = ledger.sync({ url: "https://api.example.com/ledger",
///                            headers: { Authorization: `Bearer ${token}` } });
/// sync.on("conflict", (c) => console.warn(`${c.event.action} by ${c.event.actor} was refused: ${c.message}`));
/// const report = await sync.now();   // one full sync; rejects with a PetrichainError
/// sync.start();                      // then keep syncing (every `interval`, on "online", after local changes)
/// sync.status;                       // "idle" | "syncing" | "offline" | "error"
/// await sync.pending();              // local events the backend does not have yet
/// ```
#[wasm_bindgen(js_name = SyncHandle)]
pub struct JsSyncHandle {
    sched: Rc<Sched>,
    live: bool,
    wakeups: Rc<Wakeups>,
}

#[wasm_bindgen(js_class = SyncHandle)]
impl JsSyncHandle {
    /// One full sync of every stream in scope: pull (verified before anything
    /// is stored), fast-forward or rebase, push. One tab at a time (Web
    /// Locks). Resolves with the report; rejects with a `PetrichainError`
    /// (`NETWORK`, `REMOTE_ERROR`, `BAD_RESPONSE`, `REMOTE_CHAIN_INVALID`,
    /// `REMOTE_FORKED`, `PUSH_REJECTED`, `SYNC_CONTENDED`, ...) if a stream
    /// failed; the other streams are still synced (see `lastReport`).
    #[wasm_bindgen(unchecked_return_type = "Promise<SyncReport>")]
    pub fn now(&self) -> Promise {
        let sched = self.sched.clone();
        promise(async move {
            let report = sched.run_once().await.map_err(|e| to_js_error(&e))?;
            if let Some(f) = report.errors.first() {
                return Err(to_js_error(&f.error));
            }
            to_js(&report)
        })
    }

    /// Keeps syncing: now, then every `interval` ms, at once when the browser
    /// comes back online or this ledger records a change, and after failures
    /// with exponential backoff. Does nothing if already started.
    pub fn start(&self) {
        let Some((generation, run_loop)) = self.sched.start() else {
            return;
        };
        self.wakeups.listen_online(&self.sched);
        if self.live {
            spawn_local(open_live(
                self.sched.clone(),
                self.wakeups.clone(),
                generation,
            ));
        }
        spawn_local(run_loop);
    }

    /// Stops continuous sync (a sync in progress finishes first).
    pub fn stop(&self) {
        if self.sched.stop() {
            self.wakeups.close();
        }
    }

    /// Whether continuous sync is on.
    #[wasm_bindgen(getter)]
    pub fn running(&self) -> bool {
        self.sched.running()
    }

    /// `"idle"`, `"syncing"`, `"offline"` (network trouble, retrying) or `"error"`.
    #[wasm_bindgen(getter, unchecked_return_type = "SyncStatus")]
    pub fn status(&self) -> String {
        self.sched.status().as_str().into()
    }

    /// The backend's name (its URL, or the transport's `name`).
    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.sched.transport().backend().into()
    }

    /// The report of the last sync, if any.
    #[wasm_bindgen(getter, js_name = lastReport, unchecked_return_type = "SyncReport | undefined")]
    pub fn last_report(&self) -> JsValue {
        self.sched
            .last_report()
            .and_then(|r| to_js(&r).ok())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// The error of the last sync, if it failed.
    #[wasm_bindgen(getter, js_name = lastError, unchecked_return_type = "PetrichainError | undefined")]
    pub fn last_error(&self) -> JsValue {
        self.sched
            .last_error()
            .map_or(JsValue::UNDEFINED, |e| to_js_error(&e))
    }

    /// Local events this backend does not have yet: of `streamId`, or of
    /// every stream in scope when omitted.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn pending(&self, stream_id: Option<String>) -> Promise {
        let sched = self.sched.clone();
        promise(async move {
            let ids = match stream_id {
                Some(id) => vec![id],
                None => sched.scope().await.map_err(|e| to_js_error(&e))?,
            };
            let mut total: u64 = 0;
            for id in ids {
                let n = client::pending(sched.ledger(), sched.transport().backend(), &id)
                    .await
                    .map_err(|e| to_js_error(&e))?;
                total = total.saturating_add(n);
            }
            Ok(JsValue::from_f64(total as f64))
        })
    }

    /// Calls `callback` on `"progress"` (every step), `"conflict"` (a
    /// recorded conflict), `"error"` (a `PetrichainError`) or `"status"` (the
    /// new status). Returns a function that unsubscribes. Typed in
    /// `TS_SYNC_EVENTS` (the value each kind gives, `SyncEvents`).
    #[wasm_bindgen(skip_typescript)]
    pub fn on(&self, kind: String, callback: Function) -> Result<JsValue, JsValue> {
        let Some(kind) = Kind::parse(&kind) else {
            return Err(bad_argument(format!(
                "unknown sync event '{kind}': use progress, conflict, error or status"
            )));
        };
        let id = self.sched.on(kind, callback);
        let weak = Rc::downgrade(&self.sched);
        Ok(Closure::once_into_js(move || {
            if let Some(s) = weak.upgrade() {
                s.off(id);
            }
        }))
    }
}

#[wasm_bindgen(js_class = Ledger)]
impl JsLedger {
    /// Syncs this ledger with a backend: `{url}` for a protocol v2 server
    /// (docs/sync-protocol.md) or `{transport}` for your own pull/push
    /// functions. Returns a `SyncHandle`; nothing happens until `now()` or
    /// `start()`.
    #[wasm_bindgen(unchecked_return_type = "SyncHandle")]
    pub fn sync(
        &self,
        #[wasm_bindgen(unchecked_param_type = "SyncOptions")] options: JsValue,
    ) -> Result<JsSyncHandle, JsValue> {
        let parsed = parse_options(&self.inner, &options)?;
        Ok(JsSyncHandle {
            sched: Rc::new(parsed.scheduler),
            live: parsed.live,
            wakeups: Rc::default(),
        })
    }

    /// The local actions of `streamId` that a sync could not keep (the net
    /// refused them after a rebase), oldest first, with the engine's reason.
    #[wasm_bindgen(unchecked_return_type = "Promise<Conflict[]>")]
    pub fn conflicts(&self, stream_id: String) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let list = client::conflicts(&inner, &stream_id)
                .await
                .map_err(|e| to_js_error(&e))?;
            let out = js_sys::Array::new();
            for c in &list {
                out.push(&conflict_to_js(c)?);
            }
            Ok(out.into())
        })
    }

    /// Forgets the recorded conflicts of `streamId` (after the app dealt with
    /// them); resolves with how many there were.
    #[wasm_bindgen(js_name = clearConflicts, unchecked_return_type = "Promise<number>")]
    pub fn clear_conflicts(&self, stream_id: String) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let n = inner
                .store()
                .clear_conflicts(&stream_id)
                .await
                .map_err(|e| to_js_error(&e))?;
            Ok(JsValue::from_f64(n as f64))
        })
    }

    /// Forgets one recorded conflict of `streamId`: the one whose local
    /// event had hash `eventHash` (`conflict.event.hash`); resolves with how
    /// many were removed (0 if none matched).
    #[wasm_bindgen(js_name = discardConflict, unchecked_return_type = "Promise<number>")]
    pub fn discard_conflict(
        &self,
        #[wasm_bindgen(js_name = "streamId")] stream_id: String,
        #[wasm_bindgen(js_name = "eventHash")] event_hash: String,
    ) -> Promise {
        let inner = self.inner.clone();
        promise(async move {
            let n = inner
                .store()
                .discard_conflict(&stream_id, &event_hash)
                .await
                .map_err(|e| to_js_error(&e))?;
            Ok(JsValue::from_f64(n as f64))
        })
    }
}
