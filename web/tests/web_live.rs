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
        let _ = web_sys::window()
            .unwrap()
            .remove_event_listener_with_callback("error", self.listener.as_ref().unchecked_ref());
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
    assert_eq!(
        *heard.borrow(),
        1,
        "the channel delivers between connections"
    );
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

/// Polls until `ready()` or 2 s passed.
async fn eventually(ready: impl Fn() -> bool) -> bool {
    for _ in 0..200 {
        if ready() {
            return true;
        }
        sleep(10).await;
    }
    ready()
}
fn seq_of(s: &JsStream) -> f64 {
    get(&s.head().unwrap(), "seq").as_f64().unwrap()
}
fn stock_of(s: &JsStream) -> f64 {
    get(&s.marking().unwrap(), "stock").as_f64().unwrap()
}

#[wasm_bindgen_test]
async fn head_and_marking_follow_another_tabs_commits() {
    let name = unique("live");
    let tab_a = open(&name).await;
    let tab_b = open(&name).await;
    let in_a = shop(&tab_a, "s").await;
    let in_b = stream_of(ok(tab_b.stream("s".into())).await);
    ok(in_b.fire("sell".into(), None)).await;
    ok(in_b.fire("sell".into(), None)).await;
    assert!(
        eventually(|| seq_of(&in_a) == 2.0).await,
        "tab A's handle still says seq {}",
        seq_of(&in_a)
    );
    assert_eq!(stock_of(&in_a), 1.0);
    assert_eq!(
        get(&in_a.head().unwrap(), "hash"),
        get(&in_b.head().unwrap(), "hash")
    );
    assert_eq!(in_a.enabled(None).unwrap(), vec!["sell".to_string()]);
    // And back: A appends on the head it followed, B follows.
    ok(in_a.fire("sell".into(), None)).await;
    assert!(eventually(|| seq_of(&in_b) == 3.0).await);
    assert_eq!(stock_of(&in_b), 0.0);
    assert!(in_b.enabled(None).unwrap().is_empty());
    tab_a.close();
    tab_b.close();
}

#[wasm_bindgen_test]
async fn two_handles_of_one_ledger_follow_each_other() {
    let ledger = JsLedger::in_memory().await.unwrap();
    let one = shop(&ledger, "s").await;
    let two = stream_of(ok(ledger.stream("s".into())).await);
    ok(one.fire("sell".into(), None)).await;
    assert_eq!(seq_of(&one), 1.0, "its own append at once");
    assert!(eventually(|| seq_of(&two) == 1.0).await);
    assert_eq!(stock_of(&two), 2.0);
    // A handle that was behind appends: its cache lands on the real head.
    ok(two.fire("sell".into(), None)).await;
    assert!(eventually(|| seq_of(&one) == 2.0 && seq_of(&two) == 2.0).await);
    assert_eq!((stock_of(&one), stock_of(&two)), (1.0, 1.0));
    // A dropped handle unsubscribes (no panic on later changes).
    drop(two);
    ok(one.fire("sell".into(), None)).await;
    assert_eq!(seq_of(&one), 3.0);
}
