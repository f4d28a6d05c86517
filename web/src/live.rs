//! The browser's wake-ups of continuous sync: the `online` event and, with
//! the `live` option, the server's live updates (one `EventSource` per
//! stream in scope, `GET /v2/streams/{id}/live`). With credentials
//! (`getAuth` or an `Authorization` header) a `fetch` stream reader
//! replaces `EventSource`, which cannot send headers (a token in the URL
//! would end up in logs): it sends the credentials, asks `getAuth` again
//! on a `401`, and reconnects with backoff when the stream ends.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

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
    /// The `AbortController`s of the fetch live readers.
    aborts: RefCell<Vec<JsValue>>,
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
        for controller in self.aborts.borrow_mut().drain(..) {
            if let Some(abort) = Reflect::get(&controller, &"abort".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
            {
                let _ = abort.call0(&controller);
            }
        }
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
    if http.has_auth() {
        for id in ids {
            let Some(controller) = global_get(&["AbortController"])
                .and_then(|c| c.dyn_into::<Function>().ok())
                .and_then(|c| Reflect::construct(&c, &js_sys::Array::new()).ok())
            else {
                call_all(
                    &sched.listeners(Kind::Error),
                    &bad_argument("live updates with credentials need AbortController and fetch"),
                );
                return;
            };
            wakeups.aborts.borrow_mut().push(controller.clone());
            wasm_bindgen_futures::spawn_local(follow(
                Rc::downgrade(&sched),
                http.live_url(&id),
                controller,
                generation,
            ));
        }
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

/// Longest wait between two reconnections of a fetch live reader, ms.
const MAX_RECONNECT_MS: u32 = 30_000;

/// Most bytes of one server-sent event kept while waiting for its end;
/// past it the partial event is dropped (the server's are a few hundred).
const MAX_EVENT_BYTES: usize = 64 << 10;

/// Follows the live updates at `url` through `fetch` with the transport's
/// credentials, poking the scheduler at every `append` event, until the
/// handle stops (its `controller` is aborted) or is dropped.
async fn follow(sched: Weak<Sched>, url: String, controller: JsValue, generation: u32) {
    let mut wait = 1_000u32;
    let mut refresh = false;
    let mut first = true;
    loop {
        if aborted(&controller) {
            return;
        }
        let opened = {
            let Some(s) = sched.upgrade() else { return };
            if !s.is_current(generation) {
                return;
            }
            let AnyTransport::Http(http) = s.transport() else {
                return;
            };
            let refreshed = if refresh {
                http.refresh_auth(crate::http::AuthReason::Unauthorized)
                    .await
                    .map(|_| ())
            } else {
                Ok(())
            };
            match refreshed.and(http.request_headers().await) {
                Ok(headers) => open_stream(&url, &headers, &controller).await,
                Err(e) => {
                    call_all(&s.listeners(Kind::Error), &to_js_error(&e));
                    Err(())
                }
            }
        };
        refresh = false;
        match opened {
            Ok(Opened::Reader(reader)) => {
                wait = 1_000;
                // Appends while it was not connected were missed: sync once.
                if !first {
                    if let Some(s) = sched.upgrade() {
                        s.poke();
                    }
                }
                first = false;
                read_events(&sched, reader).await;
            }
            Ok(Opened::Unauthorized) => refresh = true,
            Err(()) => {}
        }
        if aborted(&controller) {
            return;
        }
        sleep(wait).await;
        wait = wait.saturating_mul(2).min(MAX_RECONNECT_MS);
    }
}

/// What opening the stream gave.
enum Opened {
    /// The body's reader.
    Reader(JsValue),
    /// `401`: ask for credentials again.
    Unauthorized,
}

fn aborted(controller: &JsValue) -> bool {
    Reflect::get(controller, &"signal".into())
        .and_then(|s| Reflect::get(&s, &"aborted".into()))
        .ok()
        .and_then(|a| a.as_bool())
        .unwrap_or(true)
}

async fn open_stream(
    url: &str,
    headers: &[(String, String)],
    controller: &JsValue,
) -> Result<Opened, ()> {
    let init = js_sys::Object::new();
    let h = js_sys::Object::new();
    let _ = Reflect::set(&h, &"Accept".into(), &"text/event-stream".into());
    for (k, v) in headers {
        let _ = Reflect::set(&h, &k.into(), &v.into());
    }
    let _ = Reflect::set(&init, &"headers".into(), &h);
    let signal = Reflect::get(controller, &"signal".into()).map_err(|_| ())?;
    let _ = Reflect::set(&init, &"signal".into(), &signal);
    let fetch = global_fn(&["fetch"]).ok_or(())?;
    let promise: js_sys::Promise = fetch
        .call2(&js_sys::global(), &url.into(), &init)
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    let response = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| ())?;
    let status = Reflect::get(&response, &"status".into())
        .ok()
        .and_then(|s| s.as_f64())
        .unwrap_or(0.0);
    if status == 401.0 {
        return Ok(Opened::Unauthorized);
    }
    if status != 200.0 {
        return Err(());
    }
    let body = Reflect::get(&response, &"body".into()).map_err(|_| ())?;
    let get_reader: Function = Reflect::get(&body, &"getReader".into())
        .map_err(|_| ())?
        .dyn_into()
        .map_err(|_| ())?;
    get_reader.call0(&body).map(Opened::Reader).map_err(|_| ())
}

/// Reads server-sent events from `reader` until the stream ends or fails;
/// an `append` event pokes the scheduler.
async fn read_events(sched: &Weak<Sched>, reader: JsValue) {
    let Ok(read) = Reflect::get(&reader, &"read".into()).and_then(|f| f.dyn_into::<Function>())
    else {
        return;
    };
    let decoder = global_get(&["TextDecoder"])
        .and_then(|c| c.dyn_into::<Function>().ok())
        .and_then(|c| Reflect::construct(&c, &js_sys::Array::new()).ok());
    let Some(decoder) = decoder else { return };
    let Ok(decode) =
        Reflect::get(&decoder, &"decode".into()).and_then(|f| f.dyn_into::<Function>())
    else {
        return;
    };
    let stream_opt = js_sys::Object::new();
    let _ = Reflect::set(&stream_opt, &"stream".into(), &true.into());
    let mut buffer = String::new();
    loop {
        let Ok(p) = read
            .call0(&reader)
            .and_then(|p| p.dyn_into::<js_sys::Promise>())
        else {
            return;
        };
        let Ok(chunk) = wasm_bindgen_futures::JsFuture::from(p).await else {
            return;
        };
        if Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            != Some(false)
        {
            return;
        }
        let value = Reflect::get(&chunk, &"value".into()).unwrap_or(JsValue::UNDEFINED);
        let text = decode
            .call2(&decoder, &value, &stream_opt)
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        buffer.push_str(&text.replace("\r\n", "\n"));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.lines().any(|l| l.trim_end() == "event: append") {
                match sched.upgrade() {
                    Some(s) => s.poke(),
                    None => return,
                }
            }
        }
        if buffer.len() > MAX_EVENT_BYTES {
            buffer.clear();
        }
    }
}

fn sleep(ms: u32) -> impl std::future::Future<Output = ()> {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(set_timeout) = global_fn(&["setTimeout"]) {
            let _ = set_timeout.call2(&JsValue::NULL, &resolve, &JsValue::from(ms));
        }
    });
    async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
}
