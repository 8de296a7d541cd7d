//! A plain-data view of a JS value: what options parsing and record decoding
//! need to see, and nothing a hostile or corrupted input could use to make a
//! core panic. Each shell builds it from a `JsValue`, depth-bounded.

use alloc::string::String;
use alloc::vec::Vec;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
    Function,
    /// Anything else (symbol, bigint, a value nested too deep to read).
    Other,
}

impl Value {
    /// A field of an object; `Undefined` when absent or not an object.
    #[inline]
    pub fn field(&self, name: &str) -> &Value {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == name).map_or(&Value::Undefined, |(_, v)| v),
            _ => &Value::Undefined,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn fields() {
        let v = Value::Object(vec![("a".into(), Value::Number(1.0))]);
        assert_eq!(v.field("a"), &Value::Number(1.0));
        assert_eq!(v.field("b"), &Value::Undefined);
        assert_eq!(Value::Str("a".into()).field("a"), &Value::Undefined);
    }
}
