//! The JS-facing `Model` API, in headless Chromium (scripts/ci/wasm-browser.sh).
#![cfg(target_arch = "wasm32")]

use js_sys::{Array, Error, Object, Reflect, JSON};
use petrichain_web::JsModel;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TICTACTOE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/gopflow-tictactoe.jsonld"
));

fn js(text: &str) -> JsValue {
    JSON::parse(text).unwrap()
}

fn get(value: &JsValue, key: &str) -> JsValue {
    Reflect::get(value, &key.into()).unwrap()
}

fn fire_options(roles: &[&str], multiple: f64) -> JsValue {
    let options = Object::new();
    let list: Array = roles.iter().map(|r| JsValue::from_str(r)).collect();
    Reflect::set(&options, &"roles".into(), &list).unwrap();
    Reflect::set(&options, &"multiple".into(), &multiple.into()).unwrap();
    options.into()
}

/// The thrown value must be a real `Error` with the given code.
fn assert_error(err: JsValue, code: &str) -> JsValue {
    assert!(
        err.is_instance_of::<Error>(),
        "thrown value is not an Error: {err:?}"
    );
    assert_eq!(get(&err, "code").as_string().as_deref(), Some(code));
    assert_eq!(
        get(&err, "name").as_string().as_deref(),
        Some("PetrichainError")
    );
    get(&err, "details")
}

#[wasm_bindgen_test]
fn from_json_accepts_text_and_objects_with_the_same_id() {
    let text = r#"{"places":[{"id":"a","initial":2}],"transitions":[{"id":"t"}],"arcs":[{"source":"a","target":"t"}]}"#;
    let from_text = JsModel::from_json(text.into()).unwrap();
    let from_object = JsModel::from_json(js(text)).unwrap();
    assert_eq!(from_text.id(), from_object.id());
    assert_eq!(from_text.id().len(), 64);
    let places = from_text.places().unwrap();
    assert_eq!(Array::from(&places).length(), 1);
    assert_eq!(
        get(&Array::from(&places).get(0), "initial").as_f64(),
        Some(2.0)
    );
}

#[wasm_bindgen_test]
fn tictactoe_plays_and_refuses_through_js_values() {
    let model = JsModel::from_json(TICTACTOE.into()).unwrap();
    let start = model.initial_marking().unwrap();
    assert_eq!(get(&start, "P11").as_f64(), Some(1.0));

    let x_roles: JsValue = Array::of1(&"x".into()).into();
    assert_eq!(model.enabled(start.clone(), x_roles).unwrap().len(), 9);
    assert!(
        model
            .enabled(start.clone(), JsValue::UNDEFINED)
            .unwrap()
            .is_empty(),
        "no roles: no moves"
    );

    let after = model
        .fire(start.clone(), "X11", fire_options(&["x"], 1.0))
        .unwrap();
    assert_eq!(get(&after, "P11").as_f64(), Some(0.0));
    assert_eq!(get(&after, "Next").as_f64(), Some(1.0));
    assert_eq!(
        get(&start, "P11").as_f64(),
        Some(1.0),
        "the input marking is not changed"
    );

    let err = model
        .fire(after.clone(), "X00", fire_options(&["x"], 1.0))
        .unwrap_err();
    let details = assert_error(err, "CAPACITY_EXCEEDED");
    assert_eq!(get(&details, "place").as_string().as_deref(), Some("Next"));
    assert_eq!(get(&details, "wouldHave").as_f64(), Some(2.0));

    let err = model
        .fire(after, "O00", fire_options(&["x"], 1.0))
        .unwrap_err();
    let details = assert_error(err, "ROLE_DENIED");
    assert_eq!(
        Array::from(&get(&details, "required"))
            .get(0)
            .as_string()
            .as_deref(),
        Some("o")
    );
}

#[wasm_bindgen_test]
fn bad_arguments_are_typed_errors_not_panics() {
    let model =
        JsModel::from_json(r#"{"places":[{"id":"a"}],"transitions":[{"id":"t"}]}"#.into()).unwrap();
    let bad_markings = [
        js(r#"{"a":-1}"#),
        js(r#"{"a":1.5}"#),
        js(r#"{"a":"x"}"#),
        js("[1]"),
        JsValue::NULL,
    ];
    for marking in bad_markings {
        assert_error(
            model.fire(marking, "t", JsValue::UNDEFINED).unwrap_err(),
            "BAD_ARGUMENT",
        );
    }
    assert_error(
        model
            .fire(js(r#"{"zz":1}"#), "t", JsValue::UNDEFINED)
            .unwrap_err(),
        "UNKNOWN_PLACE",
    );
    assert_error(
        model
            .fire(js("{}"), "nope", JsValue::UNDEFINED)
            .unwrap_err(),
        "UNKNOWN_TRANSITION",
    );
    assert_error(
        model
            .fire(js("{}"), "t", fire_options(&[], 0.0))
            .unwrap_err(),
        "BAD_ARGUMENT",
    );
    assert_error(
        model
            .fire(js("{}"), "t", js(r#"{"roles":"x"}"#))
            .unwrap_err(),
        "BAD_ARGUMENT",
    );

    assert_error(JsModel::from_json("{".into()).err().unwrap(), "SYNTAX");
    let details = assert_error(
        JsModel::from_json(
            r#"{"places":[{"id":"p"}],"arcs":[{"source":"p","target":"q"}]}"#.into(),
        )
        .err()
        .unwrap(),
        "INVALID_MODEL",
    );
    let problem = Array::from(&get(&details, "problems")).get(0);
    assert_eq!(
        get(&problem, "kind").as_string().as_deref(),
        Some("missingNode")
    );
    assert_error(
        JsModel::from_json(JsValue::UNDEFINED).err().unwrap(),
        "BAD_ARGUMENT",
    );
}

#[wasm_bindgen_test]
fn render_svg_marks_enabled_transitions_for_the_roles_given() {
    let model = JsModel::from_json(TICTACTOE.into()).unwrap();
    let start = model.initial_marking().unwrap();
    let options = js(r#"{"roles":["x"],"highlight":"X11","scale":2}"#);
    let svg = model.render_svg(start.clone(), options).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
    assert_eq!(svg.matches("data-transition=").count(), 34);
    assert_eq!(
        svg.matches(r#"data-enabled="true""#).count(),
        9,
        "nine opening moves for x"
    );
    assert!(svg.contains("pc-highlight"));
    // For o nothing is enabled at the start.
    let svg = model
        .render_svg(start.clone(), js(r#"{"roles":["o"]}"#))
        .unwrap();
    assert_eq!(svg.matches(r#"data-enabled="true""#).count(), 0);
    // The browser parses it as SVG without errors.
    let parser = web_sys_free_parse(&svg);
    assert_eq!(parser, "svg");
    assert_error(
        model.render_svg(start, js(r#"{"scale":-1}"#)).unwrap_err(),
        "BAD_ARGUMENT",
    );
}

/// Parses `svg` with the browser's DOMParser (through js_sys, no web-sys
/// feature needed) and returns the root element's name, or the parser error.
fn web_sys_free_parse(svg: &str) -> String {
    let parse = js_sys::Function::new_with_args(
        "text",
        "const d = new DOMParser().parseFromString(text, 'image/svg+xml');
         const err = d.getElementsByTagName('parsererror')[0];
         return err ? err.textContent : d.documentElement.nodeName;",
    );
    parse
        .call1(&JsValue::NULL, &svg.into())
        .unwrap()
        .as_string()
        .unwrap()
}
