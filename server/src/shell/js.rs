//! Reading and building plain JS values without throwing.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use durafetch_wire::value::Value;

/// `target[name]`, or undefined when `target` has no properties (Reflect.get
/// throws on a primitive, and a caught throw is slow and leaks a slot).
pub fn get(target: &JsValue, name: &str) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Epoch milliseconds from JS: NaN, negative or infinite become 0 rather
/// than a wrapped or saturated surprise.
pub fn millis(n: f64) -> u64 {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    if n.is_finite() && n > 0.0 {
        n.min(MAX_SAFE_INTEGER) as u64
    } else {
        0
    }
}

pub struct Fields(Object);

impl Fields {
    pub fn new() -> Self {
        Fields(Object::new())
    }

    pub fn set(self, name: &str, value: impl Into<JsValue>) -> Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(name), &value.into());
        self
    }

    pub fn set_opt(self, name: &str, value: Option<impl Into<JsValue>>) -> Self {
        match value {
            Some(v) => self.set(name, v),
            None => self,
        }
    }

    pub fn build(self) -> JsValue {
        self.0.into()
    }
}

/// What the options parser needs to see of a JS value; depth-bounded, so a
/// cyclic object cannot recurse forever.
fn to_value(v: &JsValue, depth: u32) -> Value {
    if v.is_undefined() {
        Value::Undefined
    } else if v.is_null() {
        Value::Null
    } else if let Some(b) = v.as_bool() {
        Value::Bool(b)
    } else if let Some(n) = v.as_f64() {
        Value::Number(n)
    } else if let Some(s) = v.as_string() {
        Value::Str(s)
    } else if v.is_function() {
        Value::Function
    } else if depth == 0 {
        Value::Other
    } else if Array::is_array(v) {
        Value::List(Array::from(v).iter().map(|item| to_value(&item, depth - 1)).collect())
    } else if v.is_object() {
        let Some(obj) = v.dyn_ref::<Object>() else { return Value::Other };
        let entries = Object::keys(obj)
            .iter()
            .filter_map(|k| Some((k.as_string()?, to_value(&get(v, &k.as_string()?), depth - 1))))
            .collect();
        Value::Object(entries)
    } else {
        Value::Other
    }
}

/// The options object's own properties. A store may be a class instance
/// whose methods live on its prototype, which `Object.keys` does not list:
/// its three methods are read by name.
pub fn option_entries(options: &JsValue) -> Vec<(String, Value)> {
    let Value::Object(mut entries) = to_value(options, 3) else {
        return Vec::new();
    };
    let store = get(options, "store");
    if let Some(slot) = entries.iter_mut().find(|(k, _)| k == "store") {
        if store.is_object() {
            slot.1 = Value::Object(
                ["claim", "complete", "release"].iter().map(|m| (m.to_string(), to_value(&get(&store, m), 0))).collect(),
            );
        }
    }
    entries
}
