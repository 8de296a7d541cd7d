//! A durable workflow run: several steps that survive a reload at the step
//! that was interrupted.
//!
//! The run's journal (src/core/run.rs) is written before anything runs, and
//! again after each step completes: a completed step never runs again (its
//! journaled result is replayed), the interrupted one runs again with the
//! same keys (derived from the run's nonce, the step's index and the call's
//! index: a server that deduplicates applies it once). One context runs a
//! run at a time (the run's lock); the others watch its journal. A resumed
//! run whose code reaches its steps in another order, or a name twice,
//! stops ('workflow-mismatch') instead of guessing. A step that fails fails
//! the run: the completed steps that declared `undo` are compensated, in
//! reverse order, each as a step of its own, journaled.
//!
//! The application's values (input, step results, outcome) are the host's:
//! the engine journals and decides over names and states only.

#[allow(unused_imports)]
use crate::prelude::*;

use super::action::{RunInfo, RunOutcome, StepGo};
use super::lock::Held;
use super::{Action, Arg, CallId, Cause, CauseText, Done, Engine, Event, Failure, Io, LockName, Mono, Now, Step, Stored, Task};
use crate::core::contract::{ErrorKind, EventKind, StoreAction, WorkflowState};
use crate::core::key::{fingerprint, random_run_id, uuid_v4};
use crate::core::options::{refused, Expect, OptionError};
use crate::core::journal::{is_valid_run_id, step_refuses_in, is_valid_step_name, run_key, RunFailure, RunMeta, RunState, StepMeta, StepState};

/// How often a run another context executes is read again to learn its end
/// (a BroadcastChannel note wakes it sooner).
pub(crate) const WATCH_MS: f64 = 1_000.0;

/// What the host reports of a run it executes, or hears of.
#[derive(Clone, Debug, PartialEq)]
pub enum RunInput {
    /// The workflow's code called `step(name, …)`, its `index`-th; `undo`:
    /// it declared a compensation.
    Reached { index: u32, name: String, undo: bool },
    /// Step `index` returned; the host holds its journaled result.
    /// `status`: the status of the Response it returned, if it did.
    StepDone { index: u32, name: String, status: Option<u16> },
    /// Step `index`'s body threw (the host holds what it threw).
    StepThrew { index: u32 },
    /// The workflow's own code threw: the run fails and its completed steps
    /// are compensated.
    Failed,
    /// A compensation ended; `ok` when its undo returned.
    Undone { index: u32, ok: bool },
    /// The workflow returned; the host holds its value.
    Returned,
    /// Another context wrote its journal (notes.rs): read it again now.
    Changed,
}

pub(crate) struct Run {
    pub id: String,
    /// A start() for a run that may not exist yet: its name, input
    /// fingerprint and a fresh nonce.
    new: Option<(String, String, String)>,
    meta: Option<RunMeta>,
    starters: Vec<CallId>,
    waiters: Vec<CallId>,
    lock: Held,
    /// Compensations left, the next last.
    undo: Vec<usize>,
    /// The step running now declared `undo`.
    step_undo: bool,
    /// The step running now (or the one the code mismatched at): a failure names it.
    step: Option<String>,
    phase: Phase,
}

enum Phase {
    Locking(Io),
    Reading(Io),
    Writing { io: Io, then: Then },
    /// The host runs the workflow function here.
    Running,
    Undoing(usize),
    /// Another context runs it (or nobody can yet): read again at `at`.
    Watching { at: Mono },
    Ended,
}

#[derive(Clone, Copy, PartialEq)]
enum Then {
    Created,
    Step(u32),
    Undone(usize),
    Ended,
}

impl Run {
    fn new(id: String) -> Run {
        Run {
            id,
            new: None,
            meta: None,
            starters: Vec::new(),
            waiters: Vec::new(),
            lock: Held::default(),
            undo: Vec::new(),
            step_undo: false,
            step: None,
            phase: Phase::Ended,
        }
    }

    pub fn awaits(&self, io: Io) -> bool {
        match self.phase {
            Phase::Locking(x) | Phase::Reading(x) => x == io,
            Phase::Writing { io: x, .. } => x == io,
            _ => false,
        }
    }

    pub fn wake_at(&self) -> Option<Mono> {
        match self.phase {
            Phase::Watching { at } => Some(at),
            _ => None,
        }
    }

    fn outcome(&self) -> Option<RunOutcome> {
        let meta = self.meta.as_ref()?;
        match (meta.state, meta.failure) {
            (RunState::Running, _) => None,
            (RunState::Done, _) => Some(RunOutcome::Done),
            (RunState::Failed, Some(RunFailure::Mismatch)) => Some(RunOutcome::Mismatch),
            (RunState::Failed, _) => {
                let compensated = meta.steps.iter().filter(|s| s.state == StepState::Undone).map(|s| s.name.clone()).collect();
                Some(RunOutcome::Failed { compensated })
            }
        }
    }
}

pub(crate) fn info(meta: &RunMeta) -> RunInfo {
    RunInfo {
        id: meta.id.clone(),
        name: meta.name.clone(),
        state: meta.state,
        steps: meta.steps.len() as u32,
        created_at: meta.created_at,
    }
}

impl Engine {
    fn run_index(&self, id: &str) -> Option<usize> {
        self.tasks.iter().position(|t| matches!(t, Task::Run(r) if r.id == id))
    }

    fn workflow_event(&mut self, r: &Run, state: WorkflowState, step: Option<String>) {
        if let Some(meta) = &r.meta {
            let (id, name) = (meta.id.clone(), meta.name.clone());
            self.emit(EventKind::Workflow, || Event::Workflow { id, name, state, step });
        }
    }

    /// `client.start(name, input, { id })`: the run is journaled before
    /// anything runs. The same id again joins it; with another name or
    /// input it is refused. `input` is the input as text (its fingerprint
    /// is kept), `nonce` a fresh key for the run's steps.
    pub fn start_run(
        &mut self,
        now: Now,
        call: CallId,
        id: Arg<String>,
        name: String,
        input: &str,
        random: [u8; 32],
    ) -> Result<(), OptionError> {
        let nonce: [u8; 16] = ::core::array::from_fn(|i| random[i]);
        let id = match id {
            Arg::Absent => random_run_id(::core::array::from_fn(|i| random[16 + i])),
            Arg::Given(id) if is_valid_run_id(&id) => id,
            _ => return Err(refused("id", Expect::RunId)),
        };
        if !self.options.workflows.contains(&name) {
            return Err(refused("start(name)", Expect::WorkflowName));
        }
        self.start_new_run(now, call, id, name, input, uuid_v4(nonce));
        Ok(())
    }

    pub(crate) fn start_new_run(&mut self, now: Now, call: CallId, id: String, name: String, input: &str, nonce: String) {
        let fp = fingerprint("RUN", &name, input.as_bytes());
        if self.closed {
            return self.push(Action::Reject { call, failure: Failure::new(ErrorKind::Closed) });
        }
        if let Some(i) = self.run_index(&id) {
            let refused = match &self.tasks[i] {
                Task::Run(r) => match (&r.meta, &r.new) {
                    (Some(m), _) => m.name != name || m.fingerprint != fp,
                    (None, Some((n, f, _))) => *n != name || *f != fp,
                    (None, None) => false,
                },
                _ => false,
            };
            if refused {
                let failure = Failure { key: Some(id), ..Failure::new(ErrorKind::KeyReuse) };
                return self.push(Action::Reject { call, failure });
            }
            let answered = matches!(&self.tasks[i], Task::Run(r) if r.meta.is_some());
            if answered {
                return self.push(Action::RunStarted { call, id });
            }
            if let Task::Run(r) = &mut self.tasks[i] {
                r.starters.push(call);
                r.new.get_or_insert((name, fp, nonce));
            }
            return;
        }
        let mut r = Run::new(id);
        r.new = Some((name, fp, nonce));
        r.starters.push(call);
        self.lock_run(now, &mut r);
        self.tasks.push(Task::Run(r));
    }

    /// A stored run found running with a workflow this client knows: resume
    /// it here if no other context does.
    pub(crate) fn resume_run(&mut self, now: Now, meta: RunMeta) {
        if self.run_index(&meta.id).is_some() {
            return;
        }
        let mut r = Run::new(meta.id.clone());
        r.meta = Some(meta);
        self.lock_run(now, &mut r);
        self.tasks.push(Task::Run(r));
    }

    /// `run.result()`: the run's outcome, once it has one.
    pub fn run_result(&mut self, now: Now, call: CallId, id: String) {
        if let Some(i) = self.run_index(&id) {
            if let Task::Run(r) = &mut self.tasks[i] {
                match r.outcome() {
                    Some(outcome) => self.push(Action::RunEnded { call, id, outcome }),
                    None => r.waiters.push(call),
                }
            }
            return;
        }
        // Not here: read its journal (and keep watching it).
        let mut r = Run::new(id);
        r.waiters.push(call);
        let io = self.io();
        self.push(Action::Get { io, key: run_key(&r.id), step: Step::RunRead });
        r.phase = Phase::Reading(io);
        let _ = now;
        self.tasks.push(Task::Run(r));
    }

    /// What the host's side of run `id` did (the workflow's code, a note
    /// from another context). One entry, one state machine step.
    pub fn run_input(&mut self, now: Now, id: &str, input: RunInput) -> Result<(), OptionError> {
        if let RunInput::Reached { name, .. } | RunInput::StepDone { name, .. } = &input {
            if !is_valid_step_name(name) {
                return Err(refused("step(name)", Expect::StepName));
            }
        }
        let Some(i) = self.run_index(id) else { return Ok(()) };
        self.with_task(i, now, |engine, task, now| match task {
            Task::Run(r) => engine.run_step(now, r, input),
            _ => true,
        });
        self.settle_idle();
        Ok(())
    }

    fn run_step(&mut self, now: Now, r: &mut Run, input: RunInput) -> bool {
        match (&r.phase, input) {
            (Phase::Watching { .. }, RunInput::Changed) => self.watch_again(now, r),
            (Phase::Running, RunInput::Reached { index, name, undo }) => self.decide_step(now, r, index, name, undo),
            // A Response the step returned with a refusing status fails it.
            (Phase::Running, RunInput::StepDone { index, status: Some(status), .. }) if step_refuses_in(self, status) => {
                self.push(Action::StepFailed { id: r.id.clone(), index, status: Some(status) });
                self.fail_run(now, r, RunFailure::Failed)
            }
            // A step that throws fails, and so does its run (whatever the
            // workflow's code does with the rejection).
            (Phase::Running, RunInput::StepThrew { index }) if r.step.is_some() && !self.is(super::Mutant::StepThrowIgnored) => {
                r.step = None;
                self.push(Action::StepFailed { id: r.id.clone(), index, status: None });
                self.fail_run(now, r, RunFailure::Failed)
            }
            (Phase::Running, RunInput::StepDone { index, name, .. }) => {
                let undo = r.step_undo;
                r.step = None;
                if let Some(meta) = &mut r.meta {
                    if meta.steps.len() == index as usize {
                        meta.steps.push(StepMeta { name, state: StepState::Done, undo });
                    }
                }
                self.write_run(r, Then::Step(index))
            }
            (Phase::Running, RunInput::Failed) => self.fail_run(now, r, RunFailure::Failed),
            (&Phase::Undoing(j), RunInput::Undone { index, ok }) if j == index as usize => {
                if !ok {
                    return self.next_undo(now, r);
                }
                if let Some(step) = r.meta.as_mut().and_then(|m| m.steps.get_mut(j)) {
                    step.state = StepState::Undone;
                }
                self.write_run(r, Then::Undone(j))
            }
            (Phase::Running, RunInput::Returned) => {
                if let Some(meta) = &mut r.meta {
                    meta.state = RunState::Done;
                }
                self.workflow_event(r, WorkflowState::Completed, None);
                self.write_run(r, Then::Ended)
            }
            // Late (the run stopped, or another phase): nothing to do.
            _ => true,
        }
    }

    fn lock_run(&mut self, _now: Now, r: &mut Run) {
        let io = self.io();
        let name = run_key(&r.id);
        self.push(Action::Lock { io, name: LockName::Key(name.to_string()), wait: false, step: Step::RunLock });
        r.phase = Phase::Locking(io);
    }

    fn watch_again(&mut self, now: Now, r: &mut Run) -> bool {
        // The runner may be gone: try its lock, then read its journal.
        self.lock_run(now, r);
        true
    }

    pub(crate) fn run_io(&mut self, now: Now, r: &mut Run, io: Io, done: Done) -> bool {
        if self.closed {
            // close() waited for this: a write that failed will be redone by
            // the next client that resumes the run.
            self.drop_late(io, &done);
            return self.end_run(now, r);
        }
        match (&r.phase, done) {
            (Phase::Locking(_), Done::Locked(granted)) => {
                r.lock = Held::new(LockName::Key(run_key(&r.id)), granted);
                let io = self.io();
                self.push(Action::Get { io, key: run_key(&r.id), step: Step::RunRead });
                r.phase = Phase::Reading(io);
                true
            }
            (Phase::Reading(_), Done::Got(result)) => self.run_read(now, r, io, result),
            (&Phase::Writing { then: Then::Created, .. }, Done::Wrote(Err(()))) => {
                // Not stored, so not started: nothing has run.
                let starters: Vec<CallId> = r.starters.drain(..).collect();
                let mut cause = Some(Cause::Io(io));
                for call in starters {
                    let why = cause.take().unwrap_or_else(|| Cause::Text(CauseText::RunNotStored, None));
                    let failure = Failure { key: Some(r.id.clone()), sent: Some(false), ..Failure::storage(StoreAction::Put, why) };
                    self.push(Action::Reject { call, failure });
                }
                if cause.is_some() {
                    self.push(Action::Release { io });
                }
                r.meta = None;
                self.runs_seen.retain(|seen| seen.id != r.id);
                self.end_run(now, r)
            }
            (&Phase::Writing { then, .. }, Done::Wrote(result)) => {
                if result.is_err() {
                    // The next journal write carries everything again; if
                    // none comes, the next client runs the steps it lacks
                    // again, under the same keys.
                    self.store_error(now, StoreAction::Put, io);
                } else {
                    self.note_run_written(&r.id);
                }
                self.run_written(now, r, then)
            }
            (_, done) => {
                self.drop_late(io, &done);
                true
            }
        }
    }

    fn run_read(&mut self, now: Now, r: &mut Run, io: Io, result: Result<Option<Stored>, ()>) -> bool {
        let stored = match result {
            Ok(stored) => stored,
            Err(()) => {
                self.store_error(now, StoreAction::Get, io);
                return self.watch(now, r);
            }
        };
        self.drop_kept(io, &stored);
        match stored {
            Some(Stored::Run(meta)) => {
                if let Some((name, fp, _)) = r.new.take() {
                    if meta.name != name || meta.fingerprint != fp {
                        let failure = Failure { key: Some(r.id.clone()), ..Failure::new(ErrorKind::KeyReuse) };
                        for call in r.starters.drain(..).collect::<Vec<_>>() {
                            self.push(Action::Reject { call, failure: failure.clone() });
                        }
                        self.note_run(&meta);
                        r.meta = Some(meta);
                        return self.end_run(now, r);
                    }
                }
                self.note_run(&meta);
                r.meta = Some(meta);
                self.answer_starters(r);
                match r.outcome() {
                    Some(_) => self.end_run(now, r),
                    None if r.lock.is_held() && self.knows_workflow(r) => self.execute(r),
                    None => self.watch(now, r),
                }
            }
            None => match (r.new.take(), r.lock.is_held()) {
                (Some((name, fingerprint, nonce)), true) => {
                    let meta = RunMeta {
                        id: r.id.clone(),
                        name,
                        nonce,
                        fingerprint,
                        created_at: now.wall,
                        state: RunState::Running,
                        failure: None,
                        steps: Vec::new(),
                    };
                    r.meta = Some(meta);
                    self.write_run(r, Then::Created)
                }
                // Another context is creating it: look again soon.
                (Some(new), false) => {
                    r.new = Some(new);
                    self.watch(now, r)
                }
                // Gone (ended longer than ttlMs ago) or never started.
                (None, _) => self.end_run(now, r),
            },
            Some(_) => {
                let mut failure = Failure::storage(StoreAction::Get, Cause::Text(CauseText::RunUnreadable, None));
                failure.key = Some(r.id.clone());
                for call in r.starters.drain(..).chain(r.waiters.drain(..)).collect::<Vec<_>>() {
                    self.push(Action::Reject { call, failure: failure.clone() });
                }
                self.end_run(now, r)
            }
        }
    }

    fn knows_workflow(&self, r: &Run) -> bool {
        r.meta.as_ref().is_some_and(|m| self.options.workflows.contains(&m.name))
    }

    fn answer_starters(&mut self, r: &mut Run) {
        for call in r.starters.drain(..).collect::<Vec<_>>() {
            self.push(Action::RunStarted { call, id: r.id.clone() });
        }
    }

    fn write_run(&mut self, r: &mut Run, then: Then) -> bool {
        let Some(meta) = &r.meta else {
            return false;
        };
        self.note_run(meta);
        let io = self.io();
        // A new run's journal holds the input of the start() that made it.
        let input_of = (then == Then::Created).then(|| r.starters.first().copied()).flatten();
        self.push(Action::PutRun { io, key: run_key(&meta.id), meta: Box::new(meta.clone()), input_of });
        r.phase = Phase::Writing { io, then };
        true
    }

    fn run_written(&mut self, now: Now, r: &mut Run, then: Then) -> bool {
        match then {
            Then::Created => {
                self.answer_starters(r);
                self.workflow_event(r, WorkflowState::Started, None);
                if self.knows_workflow(r) && !self.closed {
                    self.execute(r)
                } else {
                    self.watch(now, r)
                }
            }
            Then::Step(index) => {
                let step = r.meta.as_ref().and_then(|m| m.steps.get(index as usize)).map(|s| s.name.clone());
                self.workflow_event(r, WorkflowState::StepCompleted, step);
                self.push(Action::StepCommitted { id: r.id.clone(), index });
                r.phase = Phase::Running;
                true
            }
            Then::Undone(index) => {
                let step = r.meta.as_ref().and_then(|m| m.steps.get(index).map(|s| s.name.clone()));
                self.workflow_event(r, WorkflowState::Compensated, step);
                self.next_undo(now, r)
            }
            Then::Ended => self.end_run(now, r),
        }
    }

    fn execute(&mut self, r: &mut Run) -> bool {
        self.push(Action::Execute { id: r.id.clone() });
        r.phase = Phase::Running;
        true
    }

    fn watch(&mut self, now: Now, r: &mut Run) -> bool {
        self.release(&mut r.lock);
        let running = r.meta.as_ref().map_or(true, |m| m.state == RunState::Running);
        // A run this client could take over if its runner dies (its lock
        // frees) is watched too: no run waits for the next page.
        let standby = running && self.knows_workflow(r);
        if self.closed || (r.waiters.is_empty() && r.starters.is_empty() && r.new.is_none() && !standby) {
            return self.end_run(now, r);
        }
        r.phase = Phase::Watching { at: now.mono + WATCH_MS };
        true
    }

    pub(crate) fn run_timer(&mut self, now: Now, r: &mut Run) -> bool {
        match r.phase {
            Phase::Watching { at } if at <= now.mono => self.watch_again(now, r),
            _ => true,
        }
    }

    fn decide_step(&mut self, now: Now, r: &mut Run, index: u32, name: String, undo: bool) -> bool {
        let Some(meta) = &r.meta else { return true };
        let i = index as usize;
        let go = match meta.steps.get(i) {
            Some(step) if step.name == name && self.is(super::Mutant::NoReplay) => StepGo::Run { key: meta.step_key(i, false) },
            // Compensated or not, its journaled result is its value.
            Some(step) if step.name == name => StepGo::Replay,
            Some(_) => StepGo::Mismatch,
            None if i == meta.steps.len() && !meta.steps.iter().any(|s| s.name == name) => {
                StepGo::Run { key: meta.step_key(i, false) }
            }
            None => StepGo::Mismatch,
        };
        let (id, mismatch) = (r.id.clone(), go == StepGo::Mismatch);
        let go = match go {
            StepGo::Run { key } if self.is(super::Mutant::FreshStepKeys) => {
                StepGo::Run { key: [key.as_str(), ":", &self.rng.next_u64().to_string()].concat() }
            }
            go => go,
        };
        if let StepGo::Run { .. } = go {
            self.workflow_event(r, WorkflowState::StepStarted, Some(name.clone()));
            // Journaled with the step once it completes.
            r.step_undo = undo;
        }
        if go != StepGo::Replay {
            r.step = Some(name);
        }
        self.push(Action::StepGo { id, index, go });
        if mismatch {
            return self.fail_run(now, r, RunFailure::Mismatch);
        }
        true
    }

    fn fail_run(&mut self, now: Now, r: &mut Run, failure: RunFailure) -> bool {
        let Some(meta) = &mut r.meta else { return true };
        meta.failure = Some(failure);
        if failure == RunFailure::Failed {
            // Popped from the end: the last completed step is undone first.
            r.undo = (0..meta.steps.len()).filter(|&j| meta.steps[j].undo && meta.steps[j].state == StepState::Done).collect();
            return self.next_undo(now, r);
        }
        r.undo.clear();
        self.finish_failed(r)
    }

    fn next_undo(&mut self, _now: Now, r: &mut Run) -> bool {
        let Some(j) = r.undo.pop() else {
            return self.finish_failed(r);
        };
        let Some(meta) = &r.meta else { return true };
        let key = meta.step_key(j, true);
        self.push(Action::Undo { id: r.id.clone(), index: j as u32, key });
        r.phase = Phase::Undoing(j);
        true
    }

    fn finish_failed(&mut self, r: &mut Run) -> bool {
        if let Some(meta) = &mut r.meta {
            meta.state = RunState::Failed;
        }
        let step = r.step.clone();
        self.workflow_event(r, WorkflowState::Failed, step);
        self.write_run(r, Then::Ended)
    }

    fn end_run(&mut self, _now: Now, r: &mut Run) -> bool {
        let waiters: Vec<CallId> = r.waiters.drain(..).collect();
        match r.outcome() {
            Some(outcome) => {
                for call in waiters {
                    self.push(Action::RunEnded { call, id: r.id.clone(), outcome: outcome.clone() });
                }
            }
            None if r.meta.is_none() => {
                let cause = Cause::Text(CauseText::NoSuchRun, None);
                let failure = Failure { key: Some(r.id.clone()), cause: Some(cause), ..Failure::new(ErrorKind::WorkflowFailed) };
                for call in waiters {
                    self.push(Action::Reject { call, failure: failure.clone() });
                }
            }
            // Still running elsewhere: only close() ends a watch with waiters.
            None => {}
        }
        self.release(&mut r.lock);
        if let Some(meta) = &r.meta {
            self.note_run(meta);
        }
        r.phase = Phase::Ended;
        false
    }

    /// close(): waiting callers are answered 'closed'; a run stops where it
    /// is (its journal says how far it got: the next client resumes it).
    /// One waiting for a store call ends when it completes.
    pub(crate) fn close_runs(&mut self, now: Now) {
        self.push(Action::StopRuns);
        // The stopped runs' requests still in flight answer nobody here:
        // their answers are kept for the run's next runner (call.rs).
        for task in self.tasks.iter_mut() {
            if let Task::Call(c) = task {
                // Those not answered yet (an answered call keeps its list until it ends).
                for call in c.steps.drain(..) {
                    if let Some(i) = c.callers.iter().position(|x| *x == call) {
                        c.callers.remove(i);
                        self.actions.push_back(Action::Reject { call, failure: Failure::new(ErrorKind::Closed) });
                    }
                }
            }
        }
        self.each_task(now, |t| matches!(t, Task::Run(_)), |engine, task, now| match task {
            Task::Run(r) => {
                for call in r.starters.drain(..).chain(r.waiters.drain(..)).collect::<Vec<_>>() {
                    engine.push(Action::Reject { call, failure: Failure::new(ErrorKind::Closed) });
                }
                r.new = None;
                match r.phase {
                    Phase::Locking(_) | Phase::Reading(_) | Phase::Writing { .. } => true,
                    _ => engine.end_run(now, r),
                }
            }
            _ => true,
        });
    }

    /// What this client knows of a run (for `client.run(id)`).
    pub fn run_info(&self, id: &str) -> Option<RunInfo> {
        // Every journal read or written passes through note_run.
        self.runs_seen.iter().find(|r| r.id == id).cloned()
    }

    pub(crate) fn note_run(&mut self, meta: &RunMeta) {
        let seen = info(meta);
        match self.runs_seen.iter_mut().find(|r| r.id == seen.id) {
            Some(slot) => *slot = seen,
            None => self.runs_seen.push(seen),
        }
    }

    /// `client.runs()`: the runs not finished, as stored.
    pub fn runs(&mut self, _now: Now, call: CallId) {
        let io = self.io();
        self.queries.push((call, io, super::Query::Runs));
        self.push(Action::List { io, step: Step::Scan });
    }

    /// createClient with workflows: read the store once, so `client.run(id)`
    /// knows the runs an earlier page left (and resumes those it runs).
    pub(crate) fn scan(&mut self, call: CallId) {
        let io = self.io();
        self.queries.push((call, io, super::Query::Scan));
        self.push(Action::List { io, step: Step::Scan });
    }
}
