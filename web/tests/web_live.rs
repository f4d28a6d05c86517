//! Two ledgers on one IndexedDB database in one page stand for two tabs:
//! a `BroadcastChannel` delivers to every other channel of the same name,
//! in this page too (scripts/ci/wasm-browser.sh).
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use petrichain_web::{JsLedger, JsModel, JsStream};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SHOP: &str = r#"{"places":[{"id":"stock","initial":3},{"id":"sold"}],
  "transitions":[{"id":"sell"}],
  "arcs":[{"source":"stock","target":"sell"},{"source":"sell","target":"sold"}]}"#;

async fn ok(p: Promise) -> JsValue {
    JsFuture::from(p).await.unwrap()
}
fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}
async fn sleep(ms: i32) {
    let promise = Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    JsFuture::from(promise).await.unwrap();
}
async fn open(name: &str) -> JsLedger {
    wasm_bindgen::convert::TryFromJsValue::try_from_js_value(ok(JsLedger::open(name.into())).await)
        .unwrap()
}
fn stream_of(v: JsValue) -> JsStream {
    wasm_bindgen::convert::TryFromJsValue::try_from_js_value(v).unwrap()
}
fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e12) as u64)
}
async fn shop(ledger: &JsLedger, id: &str) -> JsStream {
    let model = JsModel::from_json(SHOP.into()).unwrap();
    let model_id = ok(ledger.put_model(&model)).await.as_string().unwrap();
    stream_of(ok(ledger.create_stream(id.into(), model_id)).await)
}

/// Every uncaught error of the page (an exception thrown by an event
/// handler lands here), while the guard lives.
struct PageErrors {
    seen: Rc<RefCell<Vec<String>>>,
    listener: Closure<dyn FnMut(JsValue)>,
}
impl PageErrors {
    fn watch() -> PageErrors {
        let seen: Rc<RefCell<Vec<String>>> = Rc::default();
        let into = seen.clone();
        let listener = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            into.borrow_mut()
                .push(get(&e, "message").as_string().unwrap_or_default());
            // Handled: not reported as the test's own failure.
            if let Ok(f) = get(&e, "preventDefault").dyn_into::<Function>() {
                let _ = f.call0(&e);
            }
        });
        web_sys::window()
            .unwrap()
            .add_event_listener_with_callback("error", listener.as_ref().unchecked_ref())
            .unwrap();
        PageErrors { seen, listener }
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut self.seen.borrow_mut())
    }
}
impl Drop for PageErrors {
    fn drop(&mut self) {
        let _ = web_sys::window().unwrap().remove_event_listener_with_callback(
            "error",
            self.listener.as_ref().unchecked_ref(),
        );
    }
}

/// Counts the changes a ledger's subscribers hear.
fn count_changes(ledger: &JsLedger) -> (Rc<RefCell<u32>>, JsValue) {
    let n: Rc<RefCell<u32>> = Rc::default();
    let into = n.clone();
    let cb = Closure::<dyn FnMut(JsValue)>::new(move |_c: JsValue| *into.borrow_mut() += 1);
    let unsubscribe = ledger.subscribe(None, cb.into_js_value().unchecked_into::<Function>());
    (n, unsubscribe)
}

#[wasm_bindgen_test]
async fn a_ledger_freed_without_close_stops_listening_to_other_tabs() {
    let errors = PageErrors::watch();
    let name = unique("freed");
    let writer = open(&name).await;
    let stream = shop(&writer, "s").await;
    // A second "tab" that hears the writer's commits ...
    let other = open(&name).await;
    let (heard, _off) = count_changes(&other);
    ok(stream.fire("sell".into(), None)).await;
    for _ in 0..100 {
        if *heard.borrow() > 0 {
            break;
        }
        sleep(10).await;
    }
    assert_eq!(*heard.borrow(), 1, "the channel delivers between connections");
    // ... is freed (what `free()` and wasm-bindgen's finalizer do) without close().
    drop(other);
    // A third connection still hears; the freed one must not throw.
    let third = open(&name).await;
    let (third_heard, _off3) = count_changes(&third);
    ok(stream.fire("sell".into(), None)).await;
    ok(stream.fire("sell".into(), None)).await;
    for _ in 0..100 {
        if *third_heard.borrow() >= 2 {
            break;
        }
        sleep(10).await;
    }
    sleep(50).await;
    assert_eq!(*third_heard.borrow(), 2);
    assert_eq!(errors.take(), Vec::<String>::new(), "errors in the page");
    writer.close();
    third.close();
}
