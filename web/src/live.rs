//! The browser's wake-ups of continuous sync: the `online` event and, with
//! the `live` option, the server's live updates (one `EventSource` per
//! stream in scope, `GET /v2/streams/{id}/live`).

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Reflect};
use petrichain::sync::Kind;
use wasm_bindgen::prelude::*;

use crate::browser::{call_all, global_fn, global_get};
use crate::error::{bad_argument, to_js_error};
use crate::sync_options::{AnyTransport, Sched};

/// The browser listeners of one sync handle, while it runs.
#[derive(Default)]
pub(crate) struct Wakeups {
    online: RefCell<Option<Closure<dyn FnMut()>>>,
    /// Open `EventSource`s and their listener.
    sources: RefCell<Vec<JsValue>>,
    on_live: RefCell<Option<Closure<dyn FnMut()>>>,
}

impl Wakeups {
    /// Wakes the loop of `sched` on `online`.
    pub fn listen_online(&self, sched: &Rc<Sched>) {
        let weak = Rc::downgrade(sched);
        let online = Closure::<dyn FnMut()>::new(move || {
            if let Some(s) = weak.upgrade() {
                s.wake();
            }
        });
        if let Some(add) = global_fn(&["addEventListener"]) {
            let _ = add.call2(&js_sys::global(), &"online".into(), online.as_ref());
        }
        *self.online.borrow_mut() = Some(online);
    }

    /// Removes every listener and closes the `EventSource`s.
    pub fn close(&self) {
        if let Some(online) = self.online.borrow_mut().take() {
            if let Some(remove) = global_fn(&["removeEventListener"]) {
                let _ = remove.call2(&js_sys::global(), &"online".into(), online.as_ref());
            }
        }
        for source in self.sources.borrow_mut().drain(..) {
            if let Some(close) = Reflect::get(&source, &"close".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
            {
                let _ = close.call0(&source);
            }
        }
        self.on_live.borrow_mut().take();
    }
}

/// Opens one `EventSource` per stream in scope (the `streams` option, else
/// the local streams and `follow`); every `append` event syncs at once (or again, after
/// the sync in progress).
pub(crate) async fn open_live(sched: Rc<Sched>, wakeups: Rc<Wakeups>, generation: u32) {
    let AnyTransport::Http(http) = sched.transport() else {
        return;
    };
    let ids = match sched.scope().await {
        Ok(ids) => ids,
        Err(e) => {
            call_all(&sched.listeners(Kind::Error), &to_js_error(&e));
            return;
        }
    };
    if !sched.is_current(generation) {
        return;
    }
    let Some(class) = global_get(&["EventSource"]).and_then(|c| c.dyn_into::<Function>().ok())
    else {
        call_all(
            &sched.listeners(Kind::Error),
            &bad_argument("live updates need EventSource, which this environment lacks"),
        );
        return;
    };
    let weak = Rc::downgrade(&sched);
    let listener = Closure::<dyn FnMut()>::new(move || {
        if let Some(s) = weak.upgrade() {
            s.poke();
        }
    });
    for id in ids {
        let args = js_sys::Array::of1(&http.live_url(&id).into());
        let Ok(source) = Reflect::construct(&class, &args) else {
            continue;
        };
        if let Some(add) = Reflect::get(&source, &"addEventListener".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
        {
            let _ = add.call2(&source, &"append".into(), listener.as_ref());
        }
        wakeups.sources.borrow_mut().push(source);
    }
    *wakeups.on_live.borrow_mut() = Some(listener);
}
