//! Exact sequences of a workflow run's lifecycle (src/core/engine/run.rs),
//! driven by hand: the host's side is played here step by step.

use super::tests::{harness, io_of, kinds, only, Harness};
use super::*;
use crate::core::journal::{RunState, StepState};
use crate::core::schedule::RetryPolicy;

fn runner() -> Harness {
    let mut h = harness(true, RetryPolicy::default());
    h.engine.options.workflows = vec!["checkout".into()];
    h
}

impl Harness {
    /// start() of a run nobody stored: lock, read, journal, started, execute.
    fn start(&mut self, id: &str) -> CallId {
        self.next_call += 1;
        let call = CallId(self.next_call);
        self.engine.start_new_run(self.t(), call, id.into(), "checkout".into(), "{}", "nonce".into());
        let lock = only(self.actions(), |a| matches!(a, Action::Lock { .. }));
        self.engine.locked(self.t(), io_of(&lock), true);
        let get = only(self.actions(), |a| matches!(a, Action::Get { .. }));
        self.engine.got(self.t(), io_of(&get), Ok(None));
        let put = only(self.actions(), |a| matches!(a, Action::PutRun { .. }));
        self.engine.wrote(self.t(), io_of(&put), Ok(()));
        assert_eq!(kinds(&self.actions()), ["started", "workflow", "execute"]);
        call
    }

    /// The code reaches step `index`: what the engine answers.
    fn reach(&mut self, id: &str, index: u32, name: &str, undo: bool) -> Vec<Action> {
        self.engine.run_input(self.t(), id, RunInput::Reached { index, name: name.into(), undo }).expect("a valid step");
        self.actions()
    }

    /// Step `index` returned: its journal write, committed.
    fn complete(&mut self, id: &str, index: u32, name: &str) -> RunMeta {
        self.engine.run_input(self.t(), id, RunInput::StepDone { index, name: name.into(), status: None }).expect("a valid step");
        let put = only(self.actions(), |a| matches!(a, Action::PutRun { .. }));
        let Action::PutRun { meta, .. } = &put else { unreachable!() };
        let meta = (**meta).clone();
        self.engine.wrote(self.t(), io_of(&put), Ok(()));
        assert_eq!(kinds(&self.actions()), ["workflow", "committed"]);
        meta
    }
}

#[test]
fn each_step_runs_under_keys_from_the_nonce_and_is_journaled_before_it_resolves() {
    let mut h = runner();
    h.start("o1");
    let go = h.reach("o1", 0, "charge", false);
    assert_eq!(kinds(&go), ["workflow", "run"]);
    assert!(go.contains(&Action::StepGo { id: "o1".into(), index: 0, go: StepGo::Run { key: "nonce:s0".into() } }));
    let meta = h.complete("o1", 0, "charge");
    assert_eq!(meta.steps.len(), 1);
    assert_eq!(kinds(&h.reach("o1", 1, "reserve", true)), ["workflow", "run"]);
    let meta = h.complete("o1", 1, "reserve");
    assert!(meta.steps[1].undo);
    let waiter = CallId(99);
    h.engine.run_result(h.t(), waiter, "o1".into());
    assert!(h.actions().is_empty(), "running: the result waits");
    h.engine.run_input(h.t(), "o1", RunInput::Returned).expect("a valid step");
    let put = only(h.actions(), |a| matches!(a, Action::PutRun { .. }));
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    let end = h.actions();
    assert!(end.contains(&Action::RunEnded { call: waiter, id: "o1".into(), outcome: RunOutcome::Done }), "{end:?}");
    assert!(end.contains(&Action::Unlock { name: LockName::Key("run o1".into()) }));
}

#[test]
fn a_failed_step_compensates_completed_steps_with_undo_in_reverse_order() {
    let mut h = runner();
    h.start("o2");
    for (i, (name, undo)) in [("charge", true), ("reserve", true), ("note", false)].iter().enumerate() {
        h.reach("o2", i as u32, name, *undo);
        h.complete("o2", i as u32, name);
    }
    h.reach("o2", 3, "ship", false);
    h.engine.run_input(h.t(), "o2", RunInput::Failed).expect("a valid step");
    let undo = h.actions();
    assert_eq!(undo, [Action::Undo { id: "o2".into(), index: 1, key: "nonce:u1".into() }]);
    h.engine.run_input(h.t(), "o2", RunInput::Undone { index: 1, ok: true }).expect("a valid step");
    let put = only(h.actions(), |a| matches!(a, Action::PutRun { .. }));
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    let next = h.actions();
    assert_eq!(kinds(&next), ["workflow", "undo"], "compensated 'reserve', then 'charge'");
    assert!(next.contains(&Action::Undo { id: "o2".into(), index: 0, key: "nonce:u0".into() }));
    // A compensation that throws leaves its step as it was.
    h.engine.run_input(h.t(), "o2", RunInput::Undone { index: 0, ok: false }).expect("a valid step");
    let put = only(h.actions(), |a| matches!(a, Action::PutRun { .. }));
    let Action::PutRun { meta, .. } = &put else { unreachable!() };
    assert_eq!((meta.state, meta.steps[0].state, meta.steps[1].state), (RunState::Failed, StepState::Done, StepState::Undone));
    let ended_meta = (**meta).clone();
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    h.actions();
    // Ended and gone from memory: read from the store.
    h.engine.run_result(h.t(), CallId(50), "o2".into());
    let get = only(h.actions(), |a| matches!(a, Action::Get { .. }));
    h.engine.got(h.t(), io_of(&get), Ok(Some(Stored::Run(ended_meta))));
    let ended = h.actions();
    assert!(ended.contains(&Action::RunEnded { call: CallId(50), id: "o2".into(), outcome: RunOutcome::Failed { compensated: vec!["reserve".into()] } }), "{ended:?}");
}

#[test]
fn a_resumed_run_replays_its_journal_and_stops_at_a_different_step() {
    let mut h = runner();
    h.start("o3");
    h.reach("o3", 0, "charge", false);
    let meta = h.complete("o3", 0, "charge");
    // A new page: the journal as stored.
    let mut page = runner();
    page.engine.resume_run(page.t(), meta.clone());
    let lock = only(page.actions(), |a| matches!(a, Action::Lock { .. }));
    page.engine.locked(page.t(), io_of(&lock), true);
    let get = only(page.actions(), |a| matches!(a, Action::Get { .. }));
    page.engine.got(page.t(), io_of(&get), Ok(Some(Stored::Run(meta.clone()))));
    assert_eq!(kinds(&page.actions()), ["execute"]);
    assert_eq!(kinds(&page.reach("o3", 0, "charge", false)), ["replay"]);
    assert_eq!(kinds(&page.reach("o3", 1, "charge", false)), ["mismatch", "workflow", "put-run"], "a name used twice");
}

#[test]
fn a_run_another_context_holds_is_watched_and_taken_over_when_its_lock_frees() {
    let mut h = runner();
    h.engine.run_result(h.t(), CallId(7), "o4".into());
    let get = only(h.actions(), |a| matches!(a, Action::Get { .. }));
    let meta = RunMeta {
        id: "o4".into(),
        name: "checkout".into(),
        nonce: "n".into(),
        fingerprint: "f".into(),
        created_at: Wall(h.now),
        state: RunState::Running,
        failure: None,
        steps: Vec::new(),
    };
    h.engine.got(h.t(), io_of(&get), Ok(Some(Stored::Run(meta.clone()))));
    assert!(h.actions().is_empty());
    h.advance_to_timeout();
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    h.engine.locked(h.t(), io_of(&lock), true);
    let get = only(h.actions(), |a| matches!(a, Action::Get { .. }));
    h.engine.got(h.t(), io_of(&get), Ok(Some(Stored::Run(meta))));
    assert_eq!(kinds(&h.actions()), ["execute"], "the runner died: this client resumes it");
}

#[test]
fn close_stops_runs_where_they_are_and_answers_waiters() {
    let mut h = runner();
    h.start("o5");
    h.reach("o5", 0, "charge", false);
    h.engine.run_result(h.t(), CallId(60), "o5".into());
    h.engine.close(h.t());
    let closed = h.actions();
    assert!(closed.iter().any(|a| matches!(a, Action::Reject { call: CallId(60), failure } if failure.kind == crate::core::contract::ErrorKind::Closed)));
    assert!(closed.contains(&Action::Unlock { name: LockName::Key("run o5".into()) }));
    assert!(closed.contains(&Action::CloseStore));
    assert!(!closed.iter().any(|a| matches!(a, Action::PutRun { .. })), "the journal says how far it got");
}

#[test]
fn a_start_without_an_id_gets_one_from_the_csprng_and_its_journal_holds_that_calls_input() {
    let mut h = runner();
    let mut random = [0u8; 32];
    random[16..].copy_from_slice(&[0xAB; 16]);
    h.engine.start_run(h.t(), CallId(7), Arg::Absent, "checkout".into(), "{}", random).expect("no id is fine");
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    h.engine.locked(h.t(), io_of(&lock), true);
    let get = only(h.actions(), |a| matches!(a, Action::Get { .. }));
    h.engine.got(h.t(), io_of(&get), Ok(None));
    let put = only(h.actions(), |a| matches!(a, Action::PutRun { .. }));
    let Action::PutRun { meta, input_of, .. } = &put else { unreachable!() };
    assert_eq!(meta.id, "ab".repeat(16));
    assert_eq!(*input_of, Some(CallId(7)));
    assert_eq!(
        h.engine.start_run(h.t(), CallId(8), Arg::WrongType, "checkout".into(), "{}", random).map_err(|e| e.option),
        Err("id".into())
    );
}
