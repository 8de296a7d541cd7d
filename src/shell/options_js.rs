//! The caller's options object, read into the core's plain-data view and
//! validated there (src/core/options.rs): a mistake names the option.

#[allow(unused_imports)]
use crate::prelude::*;
use js_sys::Array;
use wasm_bindgen::prelude::*;

use super::js::{adapter_entries, entries, get, Fields};
use crate::core::options::Options;
use crate::core::value::Value;

pub fn invalid(option: &str, expected: &str, value: &JsValue) -> JsValue {
    Fields::new()
        .set("durafetch", true)
        .set("kind", "invalid-option")
        .set("option", option)
        .set("expected", expected)
        .set("value", value)
        .build()
}

pub fn parse(options: &JsValue) -> Result<Options, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(Options::default());
    }
    if !options.is_object() || Array::is_array(options) {
        return Err(invalid("options", "an object", options));
    }
    let mut list = entries(options, 3);
    for (name, value) in list.iter_mut() {
        if name == "store" && matches!(value, Value::Object(_)) {
            *value = adapter_entries(&get(options, "store"));
        }
    }
    Options::parse(&list).map_err(|e| {
        let value = e.option.split('.').fold(options.clone(), |v, part| get(&v, part));
        invalid(&e.option, e.expected, &value)
    })
}
