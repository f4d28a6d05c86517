//! The scheduler on a fake platform: virtual time (every sleep is recorded
//! and ends at once, or waits for `wake`), a counting lock and a scripted RNG.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::Poll;

use super::*;
use crate::formats::json::import_json;
use crate::store::{block_on, Action, MemoryStore};
use crate::sync::protocol::{AppendRequest, EventPage, ModelDoc, StreamList};
use crate::sync::{MemoryBackend, PushOutcome};

const NET: &str = r#"{"places":[{"id":"stock","initial":5},{"id":"sold"}],
  "transitions":[{"id":"sell"}],
  "arcs":[{"source":"stock","target":"sell"},{"source":"sell","target":"sold"}]}"#;

type Hook = RefCell<Option<Box<dyn Fn(usize)>>>;

#[derive(Default)]
struct Fake {
    sleeps: RefCell<Vec<u32>>,
    /// Sleeps never end by themselves (only `wake` ends them).
    forever: Cell<bool>,
    locks: Cell<usize>,
    lock_fails: Cell<bool>,
    random: RefCell<VecDeque<f64>>,
    offline: RefCell<Option<String>>,
    log: RefCell<Vec<String>>,
    /// Called with the number of sleeps so far, when a sleep starts.
    on_sleep: Hook,
    /// Called with the number of locks so far, inside the lock, before the sync.
    on_lock: Hook,
}

impl Platform for Fake {
    type Listener = &'static str;
    fn now(&self) -> u64 {
        42
    }
    fn sleep(&self, ms: u32) -> impl Future<Output = ()> {
        self.sleeps.borrow_mut().push(ms);
        let count = self.sleeps.borrow().len();
        if let Some(hook) = &*self.on_sleep.borrow() {
            hook(count);
        }
        let forever = self.forever.get();
        poll_fn(move |_| {
            if forever {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
    }
    async fn exclusive(&self, task: Task) -> Result<(), SyncError> {
        if self.lock_fails.get() {
            return Err(SyncError::Local(ChainError::Storage {
                message: "no lock".into(),
            }));
        }
        self.locks.set(self.locks.get() + 1);
        if let Some(hook) = &*self.on_lock.borrow() {
            hook(self.locks.get());
        }
        task.await;
        Ok(())
    }
    fn random(&self) -> f64 {
        self.random.borrow_mut().pop_front().unwrap_or(0.5)
    }
    fn offline(&self) -> Option<String> {
        self.offline.borrow().clone()
    }
    fn deliver(&self, listeners: &[&'static str], notice: &Notice<'_>) {
        let what = match notice {
            Notice::Status(s) => format!("status:{}", s.as_str()),
            Notice::Error(e) => format!("error:{}", e.code()),
            Notice::Progress(_) => "progress".to_string(),
            Notice::Conflict(c) => format!("conflict:{}", c.code),
        };
        for l in listeners {
            self.log.borrow_mut().push(format!("{l} {what}"));
        }
    }
}

/// A memory backend whose stream listing fails `fails` times with `error`.
struct Flaky {
    inner: MemoryBackend,
    fails: Cell<u32>,
    error: SyncError,
}

impl Transport for Flaky {
    fn backend(&self) -> &str {
        self.inner.backend()
    }
    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        if self.fails.get() > 0 {
            self.fails.set(self.fails.get() - 1);
            return Err(self.error.clone());
        }
        self.inner.list_streams().await
    }
    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        self.inner.get_model(id).await
    }
    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        self.inner.put_model(doc).await
    }
    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError> {
        self.inner.pull(stream, after, limit).await
    }
    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError> {
        self.inner.push(stream, request).await
    }
}

fn network() -> SyncError {
    SyncError::Network {
        backend: "mem".into(),
        message: "down".into(),
    }
}

fn bad_response() -> SyncError {
    SyncError::BadResponse {
        backend: "mem".into(),
        what: "list".into(),
        message: "garbage".into(),
    }
}

type Sched = Scheduler<MemoryStore, Flaky, Fake>;

fn scheduler(fails: u32, error: SyncError) -> Rc<Sched> {
    let ledger = Rc::new(Ledger::memory());
    block_on(async {
        let id = ledger
            .put_model(&import_json(NET).unwrap().0)
            .await
            .unwrap();
        ledger.create_stream("till", &id).await.unwrap();
        ledger.fire("till", &Action::new("sell"), 1).await.unwrap();
    });
    let transport = Flaky {
        inner: MemoryBackend::new("mem"),
        fails: Cell::new(fails),
        error,
    };
    let sched = Rc::new(Scheduler::new(
        ledger,
        transport,
        Fake::default(),
        Schedule::default(),
    ));
    sched.on(Kind::Status, "s");
    sched.on(Kind::Error, "e");
    sched
}

/// Stops `sched` when its `n`th sleep starts.
fn stop_at_sleep(sched: &Rc<Sched>, n: usize) {
    let weak = Rc::downgrade(sched);
    *sched.platform().on_sleep.borrow_mut() = Some(Box::new(move |count| {
        if count == n {
            if let Some(s) = weak.upgrade() {
                s.stop();
            }
        }
    }));
}

fn run(sched: &Rc<Sched>) {
    let (_, lp) = sched.start().expect("not running yet");
    block_on(lp);
}

fn log(sched: &Sched) -> Vec<String> {
    sched.platform().log.borrow().clone()
}

#[test]
fn network_failures_retry_with_full_jitter_then_the_interval() {
    let sched = scheduler(3, network());
    sched
        .platform()
        .random
        .borrow_mut()
        .extend([0.5, 0.25, 0.75]);
    stop_at_sleep(&sched, 4);
    run(&sched);
    // base 1000: draws under 1000, 2000, 4000; then success: interval 30000.
    assert_eq!(*sched.platform().sleeps.borrow(), [500, 500, 3_000, 30_000]);
    assert_eq!(sched.platform().locks.get(), 4);
    assert_eq!(sched.status(), Status::Idle);
    assert!(sched.last_error().is_none());
    assert_eq!(sched.last_report().unwrap().streams.len(), 1);
    let mut expected = Vec::new();
    for _ in 0..3 {
        expected.extend(["s status:syncing", "e error:NETWORK", "s status:offline"]);
    }
    expected.extend(["s status:syncing", "s status:idle"]);
    assert_eq!(log(&sched), expected);
    assert!(!sched.running());
}

#[test]
fn backoff_grows_with_consecutive_failures_and_resets_after_success() {
    let sched = scheduler(2, network());
    // Draws of 1.0 give the curve itself: 1000, 2000; then the interval.
    sched.platform().random.borrow_mut().extend([1.0, 1.0]);
    stop_at_sleep(&sched, 3);
    run(&sched);
    assert_eq!(*sched.platform().sleeps.borrow(), [1_000, 2_000, 30_000]);
    // A later failure starts again from the first delay.
    let (_, lp) = sched.start().unwrap();
    sched.transport().fails.set(1);
    sched.platform().random.borrow_mut().extend([1.0]);
    stop_at_sleep(&sched, 4);
    block_on(lp);
    assert_eq!(
        *sched.platform().sleeps.borrow(),
        [1_000, 2_000, 30_000, 1_000]
    );
}

#[test]
fn other_failures_wait_the_interval_with_status_error() {
    let sched = scheduler(1, bad_response());
    stop_at_sleep(&sched, 1);
    run(&sched);
    assert_eq!(*sched.platform().sleeps.borrow(), [30_000]);
    assert_eq!(sched.status(), Status::Error);
    assert_eq!(sched.last_error().unwrap().code(), "BAD_RESPONSE");
    assert_eq!(
        log(&sched),
        ["s status:syncing", "e error:BAD_RESPONSE", "s status:error"]
    );
}

#[test]
fn a_change_during_a_sync_runs_it_again_at_once() {
    let sched = scheduler(0, network());
    // A live update (poke) during the first sync, a local append during the
    // second: each marks the handle dirty, so three syncs before one sleep.
    let weak = Rc::downgrade(&sched);
    *sched.platform().on_lock.borrow_mut() = Some(Box::new(move |n| {
        let s = weak.upgrade().unwrap();
        assert_eq!(s.status(), Status::Syncing);
        match n {
            1 => s.poke(),
            2 => {
                block_on(s.ledger().fire("till", &Action::new("sell"), 2)).unwrap();
            }
            _ => {}
        }
    }));
    stop_at_sleep(&sched, 1);
    run(&sched);
    assert_eq!(sched.platform().locks.get(), 3);
    assert_eq!(*sched.platform().sleeps.borrow(), [30_000]);
    assert_eq!(sched.status(), Status::Idle);
}

#[test]
fn dirty_does_not_skip_the_backoff_after_a_failure() {
    let sched = scheduler(1, network());
    let weak = Rc::downgrade(&sched);
    *sched.platform().on_lock.borrow_mut() = Some(Box::new(move |n| {
        if n == 1 {
            weak.upgrade().unwrap().poke();
        }
    }));
    sched.platform().random.borrow_mut().extend([0.5]);
    stop_at_sleep(&sched, 1);
    run(&sched);
    assert_eq!(sched.platform().locks.get(), 1);
    assert_eq!(*sched.platform().sleeps.borrow(), [500]);
}

/// Runs the loop, calling `step` after each poll of it (one thread, like
/// the browser's event loop), until the loop ends.
fn drive(sched: &Rc<Sched>, step: impl Fn(&Sched)) {
    let (_, lp) = sched.start().unwrap();
    let mut lp = std::pin::pin!(lp);
    block_on(poll_fn(|cx| {
        if lp.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        step(sched);
        Poll::Pending
    }));
}

#[test]
fn wake_ends_a_wait_early_and_stop_ends_the_loop() {
    let sched = scheduler(0, network());
    sched.platform().forever.set(true);
    drive(&sched, |s| {
        let sleeps = s.platform().sleeps.borrow().len();
        if sleeps == 1 && s.platform().locks.get() == 1 {
            s.wake(); // the `online` event: sync again now
        } else if sleeps == 2 {
            assert!(s.stop());
        }
    });
    assert_eq!(sched.platform().locks.get(), 2);
    assert_eq!(*sched.platform().sleeps.borrow(), [30_000, 30_000]);
    assert!(!sched.running());
    assert!(!sched.stop(), "stopping twice is a no-op");
}

#[test]
fn a_local_change_while_waiting_wakes_the_loop_and_stop_unsubscribes() {
    let sched = scheduler(0, network());
    sched.platform().forever.set(true);
    let ledger = sched.ledger().clone();
    drive(&sched, |s| {
        let sleeps = s.platform().sleeps.borrow().len();
        if sleeps == 1 && s.platform().locks.get() == 1 {
            block_on(ledger.fire("till", &Action::new("sell"), 3)).unwrap();
        } else if sleeps == 2 {
            s.stop();
        }
    });
    assert_eq!(sched.platform().locks.get(), 2);
    // Stopped: a change no longer wakes anything, and a new start is a new
    // generation (the old loop's generation is no longer current).
    block_on(ledger.fire("till", &Action::new("sell"), 4)).unwrap();
    let (generation, _lp) = sched.start().unwrap();
    assert!(sched.is_current(generation));
    assert!(!sched.is_current(generation.wrapping_sub(1)));
    assert!(sched.start().is_none(), "already running");
    sched.stop();
    assert!(!sched.is_current(generation));
}

#[test]
fn an_offline_platform_fails_at_once_as_network() {
    let sched = scheduler(0, network());
    *sched.platform().offline.borrow_mut() = Some("the browser is offline".into());
    let err = block_on(sched.run_once()).unwrap_err();
    assert_eq!(err.code(), "NETWORK");
    assert!(err.to_string().contains("the browser is offline"), "{err}");
    assert_eq!(sched.platform().locks.get(), 0, "no lock, no request");
    assert_eq!(sched.status(), Status::Offline);
    assert_eq!(
        log(&sched),
        ["s status:syncing", "e error:NETWORK", "s status:offline"]
    );
}

#[test]
fn a_lock_failure_fails_the_sync() {
    let sched = scheduler(0, network());
    sched.platform().lock_fails.set(true);
    let err = block_on(sched.run_once()).unwrap_err();
    assert_eq!(err.code(), "STORAGE");
    assert_eq!(sched.status(), Status::Error);
}

#[test]
fn listeners_by_kind_in_order_and_off() {
    let sched = scheduler(0, network());
    let p = sched.on(Kind::Progress, "p");
    let s2 = sched.on(Kind::Status, "s2");
    assert_eq!(sched.listeners(Kind::Status), ["s", "s2"]);
    block_on(sched.run_once()).unwrap();
    let l = log(&sched);
    assert!(l.iter().any(|x| x == "p progress"), "{l:?}");
    assert_eq!(
        l.iter()
            .filter(|x| !x.starts_with("p "))
            .cloned()
            .collect::<Vec<_>>(),
        [
            "s status:syncing",
            "s2 status:syncing",
            "s status:idle",
            "s2 status:idle"
        ]
    );
    sched.off(p);
    sched.off(s2);
    sched.off(s2);
    assert!(sched.listeners(Kind::Progress).is_empty());
    assert_eq!(sched.listeners(Kind::Status), ["s"]);
    assert_eq!(Kind::parse("status"), Some(Kind::Status));
    assert_eq!(Kind::parse("nope"), None);
}
