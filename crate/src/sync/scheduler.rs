//! Continuous sync, platform free: the run loop, retry backoff with full
//! jitter, the status, the dirty flag and the listeners of a sync handle.
//!
//! The platform (the browser binding in `petrichain-web`, a test here) gives
//! a [`Platform`]: a clock that can sleep, an exclusive lock (Web Locks: one
//! tab syncs at a time), a random number for the jitter, whether it knows it
//! is offline, and how to deliver a [`Notice`] to its listeners. Spawning is
//! the platform's too: [`Scheduler::start`] hands back the loop's future.
//!
//! The loop: sync, then wait `interval` ms; after a retryable failure
//! (network trouble) wait a random delay in `[0, min(max, base * 2^n)]`
//! ("full jitter", so many tabs do not retry in lockstep); after any other
//! failure wait `interval`. [`Scheduler::wake`] (the `online` event, a live
//! update, a local change) ends a wait early; a change that arrives during
//! a sync marks the handle dirty and the loop syncs again at once.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::{Rc, Weak};
use std::task::{Poll, Waker};

use super::client::{self, SyncEvent, SyncOptions, SyncReport, Transport};
use super::error::SyncError;
use super::state::Backoff;
use crate::chain::ChainError;
use crate::store::{Conflict, Ledger, Subscription, SyncStore};

/// A task run under the platform's [`Platform::exclusive`] lock.
pub type Task = Pin<Box<dyn Future<Output = ()>>>;

/// What a scheduler needs from where it runs.
pub trait Platform {
    /// What a listener is on this platform (e.g. a JS function).
    type Listener: Clone;
    /// Milliseconds since the epoch (recorded on conflicts).
    fn now(&self) -> u64;
    /// Completes after `ms` milliseconds (the scheduler may drop it early).
    fn sleep(&self, ms: u32) -> impl Future<Output = ()>;
    /// Runs `task` to completion while holding the sync lock (other tabs,
    /// threads or processes wait); an error if the lock could not be had.
    fn exclusive(&self, task: Task) -> impl Future<Output = Result<(), SyncError>>;
    /// A uniformly random number in `[0, 1)` (the backoff's jitter).
    fn random(&self) -> f64;
    /// `Some(why)` when the platform knows there is no network now: the sync
    /// then fails at once as a retryable `NETWORK` error.
    fn offline(&self) -> Option<String>;
    /// Delivers `notice` to `listeners` (all registered for its kind). A
    /// failing listener must not break the sync.
    fn deliver(&self, listeners: &[Self::Listener], notice: &Notice<'_>);
}

/// The state of a sync handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not syncing; the last sync (if any) succeeded.
    Idle,
    /// A sync is running.
    Syncing,
    /// The last sync failed on network trouble; retrying with backoff.
    Offline,
    /// The last sync failed otherwise.
    Error,
}

impl Status {
    /// `"idle"`, `"syncing"`, `"offline"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Idle => "idle",
            Status::Syncing => "syncing",
            Status::Offline => "offline",
            Status::Error => "error",
        }
    }

    fn after(error: &SyncError) -> Status {
        if error.retryable() {
            Status::Offline
        } else {
            Status::Error
        }
    }
}

/// What listeners are told.
#[derive(Debug)]
pub enum Notice<'a> {
    /// A step of a sync (kind [`Kind::Progress`]).
    Progress(&'a SyncEvent),
    /// A recorded conflict (kind [`Kind::Conflict`]).
    Conflict(&'a Conflict),
    /// A failure (kind [`Kind::Error`]).
    Error(&'a SyncError),
    /// The new status (kind [`Kind::Status`]).
    Status(Status),
}

impl Notice<'_> {
    /// The kind of listener this goes to.
    pub fn kind(&self) -> Kind {
        match self {
            Notice::Progress(_) => Kind::Progress,
            Notice::Conflict(_) => Kind::Conflict,
            Notice::Error(_) => Kind::Error,
            Notice::Status(_) => Kind::Status,
        }
    }
}

/// The kinds of listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Every step ([`Notice::Progress`]).
    Progress,
    /// Recorded conflicts.
    Conflict,
    /// Failures.
    Error,
    /// Status changes.
    Status,
}

impl Kind {
    /// The kind named `"progress"`, `"conflict"`, `"error"` or `"status"`.
    pub fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "progress" => Kind::Progress,
            "conflict" => Kind::Conflict,
            "error" => Kind::Error,
            "status" => Kind::Status,
            _ => return None,
        })
    }
}

/// Identifies a listener for [`Scheduler::off`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerId(u32);

/// Knobs of continuous sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Streams to sync (`None`: every local stream, at each sync, and
    /// those of `follow`).
    pub streams: Option<Vec<String>>,
    /// With `streams: None`, remote streams to sync too (pulled even before
    /// this ledger has them). The backend's other streams are left alone.
    pub follow: Vec<String>,
    /// With `streams: None`: follow every stream the backend lists (the
    /// scope of [`client::sync`] with `None`), not only `follow`.
    pub follow_all: bool,
    /// Options of each sync (`now` is set from the clock at each sync).
    pub options: SyncOptions,
    /// Retry delays after network failures (full jitter under this curve).
    pub backoff: Backoff,
    /// Ms between syncs (and after a non-retryable failure).
    pub interval: u32,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            streams: None,
            follow: Vec::new(),
            follow_all: false,
            options: SyncOptions::default(),
            backoff: Backoff::default(),
            interval: 30_000,
        }
    }
}

/// A sync handle's state: one ledger, one transport, one platform.
pub struct Scheduler<S: SyncStore + 'static, T: Transport + 'static, P: Platform + 'static> {
    ledger: Rc<Ledger<S>>,
    transport: T,
    platform: P,
    schedule: Schedule,
    status: Cell<Status>,
    running: Cell<bool>,
    generation: Cell<u32>,
    /// Set when a change arrives during a sync: sync again at once.
    dirty: Cell<bool>,
    /// A wait is in progress ([`Scheduler::wake`] ends it).
    waiting: Cell<bool>,
    woken: Cell<bool>,
    waker: RefCell<Option<Waker>>,
    listeners: RefCell<Vec<(ListenerId, Kind, P::Listener)>>,
    next_listener: Cell<u32>,
    last_report: RefCell<Option<SyncReport>>,
    last_error: RefCell<Option<SyncError>>,
    subscription: Cell<Option<Subscription>>,
}

impl<S: SyncStore + 'static, T: Transport + 'static, P: Platform + 'static> Scheduler<S, T, P> {
    /// A stopped scheduler.
    pub fn new(ledger: Rc<Ledger<S>>, transport: T, platform: P, schedule: Schedule) -> Self {
        Scheduler {
            ledger,
            transport,
            platform,
            schedule,
            status: Cell::new(Status::Idle),
            running: Cell::new(false),
            generation: Cell::new(0),
            dirty: Cell::new(false),
            waiting: Cell::new(false),
            woken: Cell::new(false),
            waker: RefCell::new(None),
            listeners: RefCell::new(Vec::new()),
            next_listener: Cell::new(0),
            last_report: RefCell::new(None),
            last_error: RefCell::new(None),
            subscription: Cell::new(None),
        }
    }

    /// The ledger.
    pub fn ledger(&self) -> &Rc<Ledger<S>> {
        &self.ledger
    }
    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
    /// The platform.
    pub fn platform(&self) -> &P {
        &self.platform
    }
    /// The knobs.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }
    /// The current status.
    pub fn status(&self) -> Status {
        self.status.get()
    }
    /// Whether continuous sync is on.
    pub fn running(&self) -> bool {
        self.running.get()
    }
    /// The report of the last sync, if any.
    pub fn last_report(&self) -> Option<SyncReport> {
        self.last_report.borrow().clone()
    }
    /// The error of the last sync, if it failed.
    pub fn last_error(&self) -> Option<SyncError> {
        self.last_error.borrow().clone()
    }

    /// Adds a listener of `kind`.
    pub fn on(&self, kind: Kind, listener: P::Listener) -> ListenerId {
        let id = ListenerId(self.next_listener.get().wrapping_add(1));
        self.next_listener.set(id.0);
        self.listeners.borrow_mut().push((id, kind, listener));
        id
    }

    /// Removes a listener (nothing if it is gone already).
    pub fn off(&self, id: ListenerId) {
        self.listeners.borrow_mut().retain(|(i, _, _)| *i != id);
    }

    /// The listeners of `kind`, in the order they were added.
    pub fn listeners(&self, kind: Kind) -> Vec<P::Listener> {
        self.listeners
            .borrow()
            .iter()
            .filter(|(_, k, _)| *k == kind)
            .map(|(_, _, l)| l.clone())
            .collect()
    }

    fn emit(&self, notice: &Notice<'_>) {
        let targets = self.listeners(notice.kind());
        if !targets.is_empty() {
            self.platform.deliver(&targets, notice);
        }
    }

    fn set_status(&self, status: Status) {
        if self.status.replace(status) != status {
            self.emit(&Notice::Status(status));
        }
    }

    fn progress(&self, event: &SyncEvent) {
        self.emit(&Notice::Progress(event));
        match event {
            SyncEvent::Conflict { conflict } => self.emit(&Notice::Conflict(conflict)),
            SyncEvent::Error { error, .. } => self.emit(&Notice::Error(error)),
            _ => {}
        }
    }

    /// Something happened that is worth a sync (a live update, a local
    /// change): sync again at once, after the sync in progress if any.
    pub fn poke(&self) {
        if self.status.get() == Status::Syncing {
            self.dirty.set(true);
        } else {
            self.wake();
        }
    }

    /// Ends the loop's current wait, if it is waiting (the `online` event).
    pub fn wake(&self) {
        if self.waiting.get() {
            self.woken.set(true);
            if let Some(w) = self.waker.borrow_mut().take() {
                w.wake();
            }
        }
    }

    /// Sleeps `ms`, or until [`Scheduler::wake`].
    async fn pause(&self, ms: u32) {
        self.woken.set(false);
        self.waiting.set(true);
        let mut sleep = pin!(self.platform.sleep(ms));
        poll_fn(|cx| {
            if self.woken.get() || sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
        self.waiting.set(false);
        self.waker.borrow_mut().take();
    }

    /// One full sync of the streams in scope, under the platform's lock;
    /// updates the status, the last report and error, and tells listeners.
    pub async fn run_once(self: &Rc<Self>) -> Result<SyncReport, SyncError> {
        self.set_status(Status::Syncing);
        self.dirty.set(false);
        let result = match self.platform.offline() {
            Some(message) => Err(SyncError::Network {
                backend: self.transport.backend().to_string(),
                message,
            }),
            None => self.locked().await,
        };
        match &result {
            Ok(report) => {
                *self.last_report.borrow_mut() = Some(report.clone());
                match report.errors.first() {
                    None => {
                        *self.last_error.borrow_mut() = None;
                        self.set_status(Status::Idle);
                    }
                    Some(f) => {
                        *self.last_error.borrow_mut() = Some(f.error.clone());
                        self.set_status(Status::after(&f.error));
                    }
                }
            }
            Err(e) => {
                *self.last_error.borrow_mut() = Some(e.clone());
                self.emit(&Notice::Error(e));
                self.set_status(Status::after(e));
            }
        }
        result
    }

    async fn locked(self: &Rc<Self>) -> Result<SyncReport, SyncError> {
        let outcome: Rc<RefCell<Option<Result<SyncReport, SyncError>>>> = Rc::default();
        let (me, out) = (self.clone(), outcome.clone());
        let task: Task = Box::pin(async move {
            let result = me.sync_all().await;
            *out.borrow_mut() = Some(result);
        });
        self.platform.exclusive(task).await?;
        let result = outcome.borrow_mut().take();
        result.unwrap_or_else(|| {
            Err(SyncError::Local(ChainError::Storage {
                message: "the sync did not run under the lock".into(),
            }))
        })
    }

    async fn sync_all(&self) -> Result<SyncReport, SyncError> {
        let options = SyncOptions {
            now: self.platform.now(),
            ..self.schedule.options.clone()
        };
        match &self.schedule.streams {
            Some(list) => {
                client::sync(&self.ledger, &self.transport, Some(list), &options, &|e| {
                    self.progress(e)
                })
                .await
            }
            None if self.schedule.follow_all => {
                client::sync(&self.ledger, &self.transport, None, &options, &|e| {
                    self.progress(e)
                })
                .await
            }
            None => {
                client::sync_local_and(
                    &self.ledger,
                    &self.transport,
                    &self.schedule.follow,
                    &options,
                    &|e| self.progress(e),
                )
                .await
            }
        }
    }

    /// The streams a sync covers now: `streams`, or every local stream and
    /// those of `follow`, sorted, once each.
    pub async fn scope(&self) -> Result<Vec<String>, SyncError> {
        if let Some(list) = &self.schedule.streams {
            return Ok(list.clone());
        }
        let mut ids: Vec<String> = self
            .ledger
            .streams()
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        ids.extend(self.schedule.follow.iter().cloned());
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// The wait after a failure: full jitter under the backoff curve when
    /// `retryable`, else the interval. Counts the failure.
    fn delay_after_failure(&self, retryable: bool, failures: &mut u32) -> u32 {
        let delay = if retryable {
            self.schedule
                .backoff
                .jittered(*failures, self.platform.random())
        } else {
            u64::from(self.schedule.interval)
        };
        *failures = failures.saturating_add(1);
        u32::try_from(delay).unwrap_or(u32::MAX)
    }

    /// Turns continuous sync on: subscribes to the ledger's changes and
    /// returns the loop, for the platform to spawn, with its generation
    /// ([`Scheduler::is_current`]). `None` if already running.
    pub fn start(self: &Rc<Self>) -> Option<(u32, impl Future<Output = ()> + 'static)> {
        if self.running.replace(true) {
            return None;
        }
        let generation = self.generation.get().wrapping_add(1);
        self.generation.set(generation);
        let weak: Weak<Self> = Rc::downgrade(self);
        let sub = self.ledger.subscribe(None, move |change| {
            if let Some(s) = weak.upgrade() {
                if change.added > 0 && s.status.get() != Status::Syncing {
                    s.wake();
                } else {
                    s.dirty.set(true);
                }
            }
        });
        self.subscription.set(Some(sub));
        Some((generation, self.clone().run_loop(generation)))
    }

    /// Whether the loop of `generation` should go on (running, not restarted).
    pub fn is_current(&self, generation: u32) -> bool {
        self.running.get() && self.generation.get() == generation
    }

    /// Turns continuous sync off (a sync in progress finishes first).
    /// Returns false if it was not running.
    pub fn stop(&self) -> bool {
        if !self.running.replace(false) {
            return false;
        }
        if let Some(sub) = self.subscription.take() {
            self.ledger.unsubscribe(sub);
        }
        self.wake();
        true
    }

    async fn run_loop(self: Rc<Self>, generation: u32) {
        let mut failures: u32 = 0;
        while self.is_current(generation) {
            let delay = match self.run_once().await {
                Ok(report) if report.errors.is_empty() => {
                    failures = 0;
                    self.schedule.interval
                }
                Ok(report) => {
                    let retry = report.errors.iter().all(|f| f.error.retryable());
                    self.delay_after_failure(retry, &mut failures)
                }
                Err(e) => self.delay_after_failure(e.retryable(), &mut failures),
            };
            if !self.is_current(generation) {
                break;
            }
            if self.dirty.replace(false) && failures == 0 {
                continue;
            }
            self.pause(delay).await;
        }
    }
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
