//! A workflow run's journal, as the store holds it beside the outbox's
//! records (built with the `workflows` feature only).
//!
//! The journal records what the engine needs to resume a run after a reload
//! (which steps completed, in which order, under which names) and nothing
//! of the application's values: its input, the steps' results and the
//! run's outcome ride in the same stored object (the JS layer keeps them
//! beside the journal's bytes, as structured clones), opaque to the core.
//! Like records, a journal is checked field by field on the way back; an
//! unreadable one is quarantined, never trusted.

#[allow(unused_imports)]
use crate::prelude::*;

use super::clock::Wall;
use super::key::is_valid_key;
use super::record::{body_of, field, key_field, kind_of, writer_for, DecodeError, Field, Kind};

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

/// Whether a step that returned a Response with `status` fails: a 4xx or
/// 5xx is the server refusing (or not doing) what the step asked, and the
/// run must not go on as if it had; 1xx to 3xx are answers.
pub fn step_refuses(status: u16) -> bool {
    status >= 400
}

/// `step_refuses` with the simulation's mutant (the old threshold of one host).
pub(crate) fn step_refuses_in(engine: &crate::core::engine::Engine, status: u16) -> bool {
    if engine.is(crate::core::engine::Mutant::StepFailsOnlyOn5xx) {
        return status >= 500;
    }
    step_refuses(status)
}

/// A step name: 1 to 100 visible ASCII characters.
pub fn is_valid_step_name(name: &str) -> bool {
    name.len() <= 100 && is_valid_key(name)
}

crate::core::contract::names! {
    /// A run's state, as `run.state` and `client.runs()` report it.
    RunState {
        Running = "running",
        Done = "completed",
        Failed = "failed",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepState {
    /// Its result is journaled: it never runs again.
    Done,
    /// Compensated after the run failed.
    Undone,
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
    pub created_at: Wall,
    pub state: RunState,
    pub failure: Option<RunFailure>,
    pub steps: Vec<StepMeta>,
}

impl RunMeta {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = writer_for(Kind::Run);
        w.str(&self.id).str(&self.name).str(&self.nonce).str(&self.fingerprint).f64(self.created_at.0);
        let failure = match self.failure {
            None => 0,
            Some(RunFailure::Failed) => 1,
            Some(RunFailure::Mismatch) => 2,
        };
        w.u8(self.state as u8).u8(failure).u32(self.steps.len() as u32);
        for step in &self.steps {
            w.str(&step.name).bool(step.state == StepState::Undone).bool(step.undo);
        }
        w.bytes
    }

    pub fn decode(data: &[u8]) -> Result<RunMeta, DecodeError> {
        if kind_of(data)? != Kind::Run {
            return Err(DecodeError::NotARecord);
        }
        let r = &mut body_of(data);
        let id = key_field(r, Field::Id)?;
        if !is_valid_run_id(&id) {
            return Err(DecodeError::Field(Field::Id));
        }
        let name = field(r.string(), Field::Name)?;
        let nonce = key_field(r, Field::Nonce)?;
        let fingerprint = field(r.string(), Field::Fingerprint)?;
        let created_at = Wall(field(r.finite(), Field::Times)?);
        let state = match field(r.u8(), Field::State)? {
            0 => RunState::Running,
            1 => RunState::Done,
            2 => RunState::Failed,
            _ => return Err(DecodeError::Field(Field::State)),
        };
        let failure = match field(r.u8(), Field::State)? {
            0 => None,
            1 => Some(RunFailure::Failed),
            2 => Some(RunFailure::Mismatch),
            _ => return Err(DecodeError::Field(Field::State)),
        };
        let count = field(r.u32(), Field::Steps)?;
        let mut steps = Vec::new();
        for _ in 0..count {
            let (name, undone, undo) = (r.string(), r.bool(), r.bool());
            let (Ok(name), Ok(undone), Ok(undo)) = (name, undone, undo) else {
                return Err(DecodeError::Field(Field::Steps));
            };
            steps.push(StepMeta { name, state: if undone { StepState::Undone } else { StepState::Done }, undo });
        }
        if !r.is_empty() {
            return Err(DecodeError::Field(Field::Steps));
        }
        Ok(RunMeta { id, name, nonce, fingerprint, created_at, state, failure, steps })
    }

    /// The base of the keys step `index` sends (`base:call`); compensations
    /// have their own.
    pub fn step_key(&self, index: usize, undo: bool) -> String {
        let index = index.to_string();
        [self.nonce.as_str(), if undo { ":u" } else { ":s" }, index.as_str()].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> RunMeta {
        RunMeta {
            id: "order-42".into(),
            name: "checkout".into(),
            nonce: "6f1c".into(),
            fingerprint: "abc".into(),
            created_at: Wall(5.0),
            state: RunState::Running,
            failure: None,
            steps: vec![StepMeta { name: "charge".into(), state: StepState::Done, undo: true }],
        }
    }

    #[test]
    fn a_journal_reads_back_and_derives_its_keys() {
        let meta = RunMeta::decode(&journal().encode()).unwrap();
        assert_eq!(meta, journal());
        assert_eq!(meta.step_key(1, false), "6f1c:s1");
        assert_eq!(meta.step_key(0, true), "6f1c:u0");
        assert_eq!(kind_of(&journal().encode()), Ok(Kind::Run));
        assert_eq!(run_key("order-42"), "run order-42");
    }

    #[test]
    fn a_damaged_journal_is_refused_by_field() {
        let bytes = journal().encode();
        assert_eq!(RunMeta::decode(&bytes[..bytes.len() - 1]), Err(DecodeError::Field(Field::Steps)));
        let bad_id = RunMeta { id: "has space".into(), ..journal() };
        assert_eq!(RunMeta::decode(&bad_id.encode()), Err(DecodeError::Field(Field::Id)));
        assert!(!is_valid_run_id("has space") && !is_valid_step_name(""));
    }
}
