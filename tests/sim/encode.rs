//! A record as the stores hold it (src/shell/record_js.rs `encode`), in
//! the core's plain-data view (shared by the simulation and the fuzzing).

use durafetch::core::record::{Record, RECORD_SCHEMA};
use durafetch::core::value::Value;

/// src/shell/record_js.rs `encode`, into the core's plain-data view.
pub fn encode(r: &Record) -> Value {
    let s = |v: &str| Value::Str(v.to_string());
    let headers = r.headers.iter().map(|(n, v)| Value::List(vec![s(n), s(v)])).collect();
    Value::Object(vec![
        ("v".into(), Value::Number(RECORD_SCHEMA as f64)),
        ("key".into(), s(&r.key)),
        ("method".into(), s(&r.method)),
        ("url".into(), s(&r.url)),
        ("headers".into(), Value::List(headers)),
        ("body".into(), r.body.clone().map_or(Value::Null, Value::Bytes)),
        ("fingerprint".into(), s(&r.fingerprint)),
        ("attempts".into(), Value::Number(r.attempts as f64)),
        ("createdAt".into(), Value::Number(r.created_at)),
        ("seq".into(), Value::Number(r.seq)),
        ("nextAttemptAt".into(), Value::Number(r.next_attempt_at)),
        ("notBefore".into(), Value::Number(r.not_before)),
        ("expiredAt".into(), Value::Number(r.expired_at)),
    ])
}
