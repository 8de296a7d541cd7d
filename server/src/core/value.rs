//! A plain-data view of a JS value: what options parsing needs to see, and
//! nothing a hostile input could use to make the core panic.

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
    Function,
    /// Anything else (symbol, bigint, bytes, a value nested too deep).
    Other,
}

impl Value {
    /// A field of an object; `Undefined` when absent or not an object.
    pub fn field(&self, name: &str) -> &Value {
        match self {
            Value::Object(entries) => entries.iter().find(|(k, _)| k == name).map_or(&Value::Undefined, |(_, v)| v),
            _ => &Value::Undefined,
        }
    }
}
