//! Plain JS objects in and out: a field by name, an object built field by
//! field, and the core's plain-data view of a value.

#[allow(unused_imports)]
use crate::prelude::*;
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::core::value::Value;

/// `target[name]`, or undefined when `target` has no properties. Checked
/// first: Reflect.get throws on a primitive, and a caught throw costs ~20 µs
/// and a leaked slot in wasm-bindgen's table of JS values.
pub fn get(target: &JsValue, name: &str) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// A plain object built field by field.
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

/// What the core needs to see of a JS value. Depth is bounded so a cyclic
/// object cannot recurse forever.
pub fn to_value(v: &JsValue, depth: u32) -> Value {
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
    } else if let Some(bytes) = v.dyn_ref::<js_sys::Uint8Array>() {
        Value::Bytes(bytes.to_vec())
    } else if depth == 0 {
        Value::Other
    } else if Array::is_array(v) {
        Value::List(Array::from(v).iter().map(|item| to_value(&item, depth - 1)).collect())
    } else if v.is_object() {
        Value::Object(entries(v, depth - 1))
    } else {
        Value::Other
    }
}

/// Own enumerable properties of an object, converted.
pub fn entries(v: &JsValue, depth: u32) -> Vec<(String, Value)> {
    let Some(obj) = v.dyn_ref::<Object>() else {
        return Vec::new();
    };
    Object::keys(obj)
        .iter()
        .filter_map(|k| {
            let name = k.as_string()?;
            Some((name, to_value(&Reflect::get(obj, &k).unwrap_or(JsValue::UNDEFINED), depth)))
        })
        .collect()
}

/// A store adapter may be a class instance: its methods live on the
/// prototype, which `Object.keys` does not list.
pub fn adapter_entries(v: &JsValue) -> Value {
    let methods = ["get", "put", "delete", "list"];
    Value::Object(methods.iter().map(|m| (m.to_string(), to_value(&get(v, m), 0))).collect())
}

/// `[name, value]` pairs of a Headers object (or anything iterable of pairs).
pub fn header_pairs(headers: &JsValue) -> Vec<(String, String)> {
    let Ok(Some(iter)) = js_sys::try_iter(headers) else {
        return Vec::new();
    };
    iter.filter_map(|entry| {
        let pair = Array::from(&entry.ok()?);
        Some((pair.get(0).as_string()?, pair.get(1).as_string()?))
    })
    .collect()
}
