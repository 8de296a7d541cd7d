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

/// src/shell/record_js.rs `encode_run` (the journal a run is stored as;
/// its values are the JS layer's, none here).
#[allow(dead_code)]
pub fn encode_run(m: &durafetch::core::run::RunMeta) -> Value {
    use durafetch::core::run::{run_key, RunFailure};
    let s = |v: &str| Value::Str(v.to_string());
    let steps = m
        .steps
        .iter()
        .map(|st| {
            Value::Object(vec![
                ("name".into(), s(&st.name)),
                ("state".into(), s(st.state.as_str())),
                ("undo".into(), Value::Bool(st.undo)),
            ])
        })
        .collect();
    let failure = match m.failure {
        Some(RunFailure::Failed) => s("failed"),
        Some(RunFailure::Mismatch) => s("mismatch"),
        None => Value::Null,
    };
    Value::Object(vec![
        ("v".into(), Value::Number(1.0)),
        ("kind".into(), s("run")),
        ("key".into(), s(&run_key(&m.id))),
        ("id".into(), s(&m.id)),
        ("name".into(), s(&m.name)),
        ("nonce".into(), s(&m.nonce)),
        ("fingerprint".into(), s(&m.fingerprint)),
        ("createdAt".into(), Value::Number(m.created_at)),
        ("state".into(), s(m.state.as_str())),
        ("failure".into(), failure),
        ("steps".into(), Value::List(steps)),
    ])
}

/// io/kept.js `keptMeta(keptForm(…))`: a settled answer kept for `result(key)`.
#[allow(dead_code)]
pub fn encode_kept(key: &str, status: u16, settled_at: f64) -> Value {
    Value::Object(vec![
        ("v".into(), Value::Number(1.0)),
        ("kind".into(), Value::Str("result".into())),
        ("key".into(), Value::Str(key.into())),
        ("status".into(), Value::Number(status as f64)),
        ("settledAt".into(), Value::Number(settled_at)),
    ])
}
