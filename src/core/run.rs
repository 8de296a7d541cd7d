//! A workflow run's journal, and a settled response kept for a later page,
//! as the store holds them beside the outbox's records.
//!
//! The journal records what the engine needs to resume a run after a reload
//! (which steps completed, in which order, under which names) and nothing
//! of the application's values: its input, the steps' results and the
//! run's outcome ride in the same stored object (the JS layer merges them,
//! as structured clones), opaque to the core. Like records, both are
//! checked field by field on the way back; an unreadable one is
//! quarantined, never trusted.

#[allow(unused_imports)]
use crate::prelude::*;

use super::key::is_valid_key;
use super::record::{number, string, DecodeError};
use super::value::Value;

/// The store key of run `id`: a space cannot occur in an operation's key
/// (visible ASCII only), so the two never collide.
pub fn run_key(id: &str) -> String {
    ["run ", id].concat()
}

/// A run id: what `idempotencyKey` accepts, shorter (the keys of its steps
/// are derived from the run's nonce, not from it).
pub fn is_valid_run_id(id: &str) -> bool {
    id.len() <= 200 && is_valid_key(id)
}

/// A step name: 1 to 100 visible ASCII characters.
pub fn is_valid_step_name(name: &str) -> bool {
    name.len() <= 100 && is_valid_key(name)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Running,
    Done,
    Failed,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Done => "completed",
            RunState::Failed => "failed",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    /// Its result is journaled: it never runs again.
    Done,
    /// Compensated after the run failed.
    Undone,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            StepState::Done => "done",
            StepState::Undone => "undone",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct StepMeta {
    pub name: String,
    pub state: StepState,
    /// It declared `undo`: compensated if the run fails.
    pub undo: bool,
}

/// Why a run failed, journaled so a later page reports the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunFailure {
    /// A step (or the workflow's own code) threw or was refused.
    Failed,
    /// The code reached steps in another order than its journal.
    Mismatch,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RunMeta {
    pub id: String,
    pub name: String,
    /// Every key a step sends is `nonce:step:call`: unique to this run.
    pub nonce: String,
    /// The input's fingerprint: the same id with another input is refused.
    pub fingerprint: String,
    pub created_at: f64,
    pub state: RunState,
    pub failure: Option<RunFailure>,
    pub steps: Vec<StepMeta>,
}

/// A resumed operation's answer, kept for `client.result(key)` (nobody
/// else received it) until read once or past the TTL.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptResult {
    pub key: String,
    pub status: u16,
    pub settled_at: f64,
}

/// What kind of stored value this is: a run's journal, a kept result, or
/// (anything else) an operation's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Operation,
    Run,
    Result,
}

pub fn kind_of(v: &Value) -> Kind {
    match v.field("kind") {
        Value::Str(s) if s == "run" => Kind::Run,
        Value::Str(s) if s == "result" => Kind::Result,
        _ => Kind::Operation,
    }
}

impl RunMeta {
    pub fn decode(v: &Value) -> Result<RunMeta, DecodeError> {
        match *v.field("v") {
            Value::Number(1.0) => {}
            _ => return Err(DecodeError::UnknownSchema),
        }
        let id = string(v, "id")?;
        if !is_valid_run_id(&id) || string(v, "key")? != run_key(&id) {
            return Err(DecodeError::Field("id"));
        }
        let name = string(v, "name")?;
        let nonce = string(v, "nonce")?;
        if !is_valid_key(&nonce) {
            return Err(DecodeError::Field("nonce"));
        }
        let state = match string(v, "state")?.as_str() {
            "running" => RunState::Running,
            "completed" => RunState::Done,
            "failed" => RunState::Failed,
            _ => return Err(DecodeError::Field("state")),
        };
        let failure = match v.field("failure") {
            Value::Str(s) if s == "failed" => Some(RunFailure::Failed),
            Value::Str(s) if s == "mismatch" => Some(RunFailure::Mismatch),
            Value::Null | Value::Undefined => None,
            _ => return Err(DecodeError::Field("failure")),
        };
        let Value::List(items) = v.field("steps") else {
            return Err(DecodeError::Field("steps"));
        };
        let mut steps = Vec::with_capacity(items.len());
        for item in items {
            let name = string(item, "name").map_err(|_| DecodeError::Field("steps"))?;
            let state = match item.field("state") {
                Value::Str(s) if s == "done" => StepState::Done,
                Value::Str(s) if s == "undone" => StepState::Undone,
                _ => return Err(DecodeError::Field("steps")),
            };
            let undo = matches!(item.field("undo"), Value::Bool(true));
            steps.push(StepMeta { name, state, undo });
        }
        Ok(RunMeta {
            id,
            name,
            nonce,
            fingerprint: string(v, "fingerprint")?,
            created_at: number(v, "createdAt")?,
            state,
            failure,
            steps,
        })
    }

    /// The base of the keys step `index` sends (`base:call`); compensations
    /// have their own.
    pub fn step_key(&self, index: usize, undo: bool) -> String {
        let index = index.to_string();
        [self.nonce.as_str(), if undo { ":u" } else { ":s" }, index.as_str()].concat()
    }
}

impl KeptResult {
    pub fn decode(v: &Value) -> Result<KeptResult, DecodeError> {
        let key = string(v, "key")?;
        if !is_valid_key(&key) {
            return Err(DecodeError::Field("key"));
        }
        let status = number(v, "status")?;
        if !(100.0..=599.0).contains(&status) || !super::num::is_whole(status) {
            return Err(DecodeError::Field("status"));
        }
        Ok(KeptResult { key, status: status as u16, settled_at: number(v, "settledAt")? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> Value {
        let s = |v: &str| Value::Str(v.into());
        Value::Object(vec![
            ("v".into(), Value::Number(1.0)),
            ("kind".into(), s("run")),
            ("key".into(), s("run order-42")),
            ("id".into(), s("order-42")),
            ("name".into(), s("checkout")),
            ("nonce".into(), s("6f1c")),
            ("fingerprint".into(), s("abc")),
            ("createdAt".into(), Value::Number(5.0)),
            ("state".into(), s("running")),
            ("steps".into(), Value::List(vec![Value::Object(vec![("name".into(), s("charge")), ("state".into(), s("done")), ("undo".into(), Value::Bool(true))])])),
            ("results".into(), Value::List(vec![Value::Other])),
        ])
    }

    #[test]
    fn a_journal_reads_back_and_derives_its_keys() {
        let meta = RunMeta::decode(&journal()).unwrap();
        assert_eq!((meta.id.as_str(), meta.state, meta.steps.len()), ("order-42", RunState::Running, 1));
        assert_eq!(meta.steps[0], StepMeta { name: "charge".into(), state: StepState::Done, undo: true });
        assert_eq!(meta.step_key(1, false), "6f1c:s1");
        assert_eq!(meta.step_key(0, true), "6f1c:u0");
        assert_eq!(kind_of(&journal()), Kind::Run);
        assert_eq!(run_key("order-42"), "run order-42");
    }

    #[test]
    fn a_damaged_journal_is_refused_by_field() {
        let Value::Object(mut fields) = journal() else { unreachable!() };
        fields.retain(|(k, _)| k != "steps");
        assert_eq!(RunMeta::decode(&Value::Object(fields)), Err(DecodeError::Field("steps")));
        assert!(!is_valid_run_id("has space") && !is_valid_step_name(""));
    }
}
