//! The whole lifecycle of every operation, as a state machine that does no
//! I/O and reads no clock.
//!
//! Like quinn-proto's `Connection`, the engine is driven from outside: the
//! host tells it what happened (a call arrived, an attempt was answered, a
//! store write committed, a lock was granted, the timer fired, the device
//! went offline) with the wall-clock time, and takes the resulting
//! [`Action`]s with [`Engine::poll_action`] and the next wake-up with
//! [`Engine::poll_timeout`]. Every decision is here: persist before send,
//! the attempts of a live call, when it ends 'queued', the background
//! resends (one per origin, oldest first), expiry, at-least-once 'settled',
//! lock hand-off, offline, close. The wasm shell performs the actions with
//! fetch, IndexedDB, Web Locks and timers; the simulation (tests/sim)
//! performs them against a simulated network, store and clock, and crashes
//! its host between any two of them. Both run this code.
//!
//! Three kinds of task live here: a caller's [`call`], and the drainer's
//! background [`resend`]s and expiries ([`expire`]), run in rounds by
//! [`drain`], forced passes of which answer `drain()` ([`pass`]); and
//! [`background`] asks the browser to deliver with no page open.

#[allow(unused_imports)]
use crate::prelude::*;
mod action;
mod attempt;
mod background;
mod call;
mod drain;
mod expire;
mod fleet;
mod kept;
mod lock;
mod notes;
mod origins;
mod pass;
mod resend;
#[cfg(feature = "workflows")]
mod run;

pub use action::{Action, CallId, Cause, CauseText, Event, Failure, Io, LockName, PendingOp, Source, Step};
pub use pass::DrainFor;
pub use crate::core::clock::{Mono, Now, Wall};
#[cfg(feature = "workflows")]
pub use action::{RunInfo, RunOutcome, StepGo};
#[cfg(feature = "workflows")]
pub use run::RunInput;

use alloc::collections::VecDeque;

use crate::core::contract::{ErrorKind, EventKind, StoreAction};
#[cfg(feature = "workflows")]
use crate::core::journal::RunMeta;
use crate::core::kept::KeptResult;
use crate::core::options::Options;
use crate::core::outcome::Outcome;
use crate::core::record::{kind_of, DecodeError, Kind, Record};
use crate::core::retry_after::parse_retry_after;
use crate::core::rng::SplitMix64;
use crate::core::codec::Writer;
use background::BackgroundSync;
use origins::Origins;
use call::Call;
use drain::Drainer;
use expire::Expire;
use resend::Resend;
#[cfg(feature = "workflows")]
use run::Run;

/// A deliberately broken protocol, compiled in only for the simulation's
/// mutation checks (feature `sim-mutants`): each must make it fail.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    None,
    /// Send first; write the record only after a transient outcome.
    SendBeforePersist,
    /// A fresh idempotency key on every attempt.
    KeyPerAttempt,
    /// Resend the record as listed, without re-reading it under its lock.
    NoRereadUnderLock,
    /// Delete the record when the live bounds end, instead of queueing it.
    ForgetWhenQueued,
    /// Delete the record after a definitive answer, then report 'settled'.
    DeleteBeforeSettled,
    /// Do not look again when a send that others wait behind ends (the stall).
    NoWakeAfterBusy,
    /// A workflow step's keys drawn afresh each time it runs.
    FreshStepKeys,
    /// A resumed run runs its completed steps again instead of replaying them.
    NoReplay,
    /// A resend goes whoever holds its key's lock, even a live call of it in
    /// this client (as with no locks at all).
    ResendBesideLiveCall,
    /// A cancelled attempt's key is free at once, its fetch maybe still on the wire.
    NoLinger,
    /// A workflow step fails only on a 5xx: a 4xx step goes on as done.
    StepFailsOnlyOn5xx,
    /// A key's lock given back while a cancelled attempt of it is on the wire.
    UnlockWhileLingering,
    /// Retry-After read only on an error status (the old host's rule), so a
    /// retried 2xx goes early.
    RetryAfterOnlyOnErrors,
    /// A fetch that failed while the platform says offline is judged as if
    /// online until the 'offline' event comes: it counts toward maxAttempts.
    OfflineFactIgnored,
    /// A drain counts what it resent as done, whatever the answer (a 5xx
    /// included): it says nothing remains while operations wait to retry.
    ResentCountsAsDone,
    /// Retries never pay the retry budget.
    NoBudget,
    /// Tabs neither announce nor hear breaker and budget news.
    UnsharedOrigins,
    /// A shared breaker's probe goes without the origin's probe lock.
    ProbeWithoutLock,
    /// `result(key)` is answered with a kept answer before its delete is
    /// done: a read asked meanwhile, in any tab, gets it again.
    AnswerReadBeforeDelete,
    /// A step that throws is not failed: the run waits for it forever.
    StepThrowIgnored,
}

pub struct EngineConfig {
    pub options: Options,
    /// The store survives a reload or a crash: keyed calls are durable by default.
    pub persistent: bool,
    /// Seeds the jitter.
    pub seed: u64,
    /// What the platform says now (`navigator.onLine`, true where unknown).
    pub online: bool,
    /// The platform has the Background Sync API (`SyncManager`).
    pub sync_api: bool,
    /// The tabs and workers of the origin hear each other (a BroadcastChannel
    /// beside a shared outbox): one breaker and one budget per origin (fleet.rs).
    pub shared: bool,
}

/// An argument as the caller passed it: absent, of the right type, or not
/// (the engine refuses the call, naming it).
#[derive(Clone, Debug, PartialEq)]
pub enum Arg<T> {
    Absent,
    Given(T),
    WrongType,
}

/// A caller's `fetch`, as the host read it: facts only. Which key it
/// carries, whether it is durable, and what is refused are decided here.
pub struct CallRequest {
    pub call: CallId,
    pub method: String,
    pub url: String,
    /// `init.idempotencyKey`.
    pub key: Arg<String>,
    /// The value of the idempotency header the caller set, if any.
    pub header_key: Option<String>,
    /// 16 bytes from the platform's CSPRNG: a fresh key is made of them
    /// when the call needs one.
    pub random: [u8; 16],
    pub body: Option<Vec<u8>>,
    /// Stored with a durable call (the redacted ones left out).
    pub headers: Vec<(String, String)>,
    /// `init.durable`.
    pub durable: Arg<bool>,
    /// The caller's signal was aborted already: nothing is stored or sent.
    pub aborted: bool,
    /// A workflow step's (or its undo's) request: the key the engine gave
    /// the step (`StepGo::Run`, `Action::Undo`) and how many requests that
    /// run of the step made before it. Its key is made of them, so a resumed
    /// step resends each request under its key; if it ends 'queued', the step
    /// waits for its answer instead of failing.
    pub from_step: Option<(String, u32)>,
}

/// How an attempt ended without an answer, as the host saw it. Timeouts are
/// the engine's own: it cancels the attempt and needs no report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailure {
    /// fetch rejected (connection refused, reset, DNS, CORS, offline).
    /// `offline`: the platform said it was offline when it did
    /// (`navigator.onLine === false`), maybe before its 'offline' event.
    Network { offline: bool },
    /// `beforeReplay` threw or rejected; nothing was sent.
    BeforeReplay,
}

/// A value read back from the store.
#[derive(Clone, Debug, PartialEq)]
pub enum Stored {
    Record(Record),
    /// A workflow run's journal.
    #[cfg(feature = "workflows")]
    Run(RunMeta),
    /// A resumed operation's answer, kept for `client.result(key)`.
    Result(KeptResult),
    /// A value of a feature this build lacks (a workflow run's journal,
    /// read by the lean module): left as it is.
    Other,
    /// Not a record this version can read; `key` names it in reports.
    Unreadable {
        key: Option<String>,
        error: DecodeError,
    },
}

impl Stored {
    /// A value read back from the store: its bytes (`None` when the stored
    /// value holds none) and its key, as the host found them.
    pub fn decode(data: Option<&[u8]>, key: Option<String>) -> Stored {
        let data = data.unwrap_or_default();
        let read = kind_of(data).and_then(|kind| match kind {
            Kind::Operation => Record::decode(data).map(Stored::Record),
            #[cfg(feature = "workflows")]
            Kind::Run => RunMeta::decode(data).map(Stored::Run),
            #[cfg(not(feature = "workflows"))]
            Kind::Run => Ok(Stored::Other),
            Kind::Result => KeptResult::decode(data).map(Stored::Result),
        });
        read.unwrap_or_else(|error| Stored::Unreadable { key, error })
    }
}

/// What an attempt ended with, inside the engine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum AttemptEnd {
    /// An answer or a failure; `held`: the host keeps a payload under the io.
    Outcome {
        outcome: Outcome,
        held: bool,
    },
    BeforeReplay,
    /// Cancelled by the engine (close, abort): nothing held, no verdict.
    Cancelled,
}

pub(crate) enum Task {
    Call(Call),
    Resend(Resend),
    Expire(Expire),
    #[cfg(feature = "workflows")]
    Run(Run),
}

/// A caller's question that needs the store read.
pub(crate) enum Query {
    Pending,
    #[cfg(feature = "workflows")]
    Runs,
    #[cfg(feature = "workflows")]
    Scan,
    /// `result(key)`'s read; `woken`: the operation settled while it was
    /// in flight (what it reads may predate that).
    Result { waiter: kept::Waiter, woken: bool },
}

/// A store or lock completion, routed to whoever waits for it.
pub(crate) enum Done {
    Got(Result<Option<Stored>, ()>),
    Wrote(Result<(), ()>),
    Locked(bool),
    Listed(Result<Vec<Stored>, ()>),
    Quarantined(Result<bool, ()>),
}

impl Done {
    /// The host holds a payload under its io (a failure's cause, a listing).
    pub(crate) fn holds_payload(&self) -> bool {
        matches!(
            self,
            Done::Got(Err(_) | Ok(Some(Stored::Result(_)))) | Done::Wrote(Err(_)) | Done::Listed(_) | Done::Quarantined(Err(_))
        )
    }
}

pub struct Engine {
    pub(crate) options: Options,
    pub(crate) persistent: bool,
    pub(crate) rng: SplitMix64,
    pub(crate) online: bool,
    pub(crate) closed: bool,
    listening: u32,
    next_io: u32,
    /// Orders records created in the same millisecond.
    seq: f64,
    pub(crate) tasks: Vec<Task>,
    pub(crate) origins: Origins,
    /// Breaker and budget news for the other tabs (fleet.rs).
    pub(crate) shared: bool,
    notes: Writer,
    pub(crate) drain: Drainer,
    /// Callers' questions waiting for their read.
    queries: Vec<(CallId, Io, Query)>,
    /// Cancelled attempts whose fetch may still be on the wire, and their
    /// key: none of those keys is sent again until it ends (attempt.rs).
    pub(crate) lingering: Vec<(Io, String)>,
    /// Key locks whose task ended while an attempt of the key lingers.
    pub(crate) linger_locks: Vec<String>,
    /// `result(key)` calls waiting for the operation to settle.
    pub(crate) result_waiters: Vec<kept::Waiter>,
    /// When the waiting `result(key)` calls read the store again.
    pub(crate) result_watch_at: Option<Mono>,
    /// When the started client announces its store and resends what is stored.
    pub(crate) ready_at: Option<Mono>,
    pub(crate) sync: BackgroundSync,
    /// Runs this client has read or run (`client.run(id)` answers from it).
    #[cfg(feature = "workflows")]
    pub(crate) runs_seen: Vec<RunInfo>,
    /// Deletes nobody waits for (a kept result read, an ended run past its
    /// TTL): the store closes after them.
    pub(crate) forgetting: Vec<(Io, String)>,
    /// `result(key)` callers answered once their kept answer's delete
    /// (in `forgetting`, by io) is done, with what the host holds under
    /// the read that found it.
    pub(crate) kept_readers: Vec<(Io, CallId, Io)>,
    /// Answers being kept (by the write's io): once written, the other tabs hear.
    pub(crate) keeping: Vec<(Io, String, u16, u32)>,
    actions: VecDeque<Action>,
    store_closed: bool,
    #[cfg(feature = "sim-mutants")]
    pub mutant: Mutant,
}

impl Engine {
    pub fn new(config: EngineConfig) -> Engine {
        Engine {
            origins: Origins::new(config.options.breaker, config.options.retry_budget),
            shared: config.shared,
            notes: Writer::new(),
            options: config.options,
            persistent: config.persistent,
            rng: SplitMix64::new(config.seed),
            online: config.online,
            closed: false,
            listening: 0,
            next_io: 0,
            seq: 0.0,
            tasks: Vec::new(),
            drain: Drainer::default(),
            queries: Vec::new(),
            lingering: Vec::new(),
            linger_locks: Vec::new(),
            result_waiters: Vec::new(),
            result_watch_at: None,
            ready_at: None,
            sync: BackgroundSync::new(config.sync_api),
            #[cfg(feature = "workflows")]
            runs_seen: Vec::new(),
            forgetting: Vec::new(),
            kept_readers: Vec::new(),
            keeping: Vec::new(),
            actions: VecDeque::new(),
            store_closed: false,
            #[cfg(feature = "sim-mutants")]
            mutant: Mutant::None,
        }
    }

    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Whether a keyed call asking `durable` goes through the store (the
    /// host reads its headers only then).
    pub fn is_durable(&self, durable: Option<bool>) -> bool {
        durable.unwrap_or(self.persistent)
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }

    pub fn is_online(&self) -> bool {
        self.online
    }

    /// createClient: answered (`Started`) once the client may be used (with
    /// workflows and a persistent store, after reading it once for the runs
    /// an earlier page left). Then, on a later task (the engine's timer, so
    /// the caller can attach listeners first), the store is announced and
    /// everything stored is resent once, as after `resume()`.
    pub fn start(&mut self, now: Now, call: CallId) {
        self.hello();
        #[cfg(feature = "workflows")]
        if self.persistent && !self.options.workflows.is_empty() {
            return self.scan(call);
        }
        self.started(now, call);
    }

    pub(crate) fn started(&mut self, now: Now, call: CallId) {
        self.push(Action::Started { call });
        self.ready_at = Some(now.mono);
    }

    /// Which event types have listeners (bit `EventKind as u32`): the
    /// engine builds no payload for the others.
    pub fn set_listening(&mut self, mask: u32) {
        self.listening = mask;
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        if self.actions.is_empty() {
            self.flush_notes();
        }
        self.actions.pop_front()
    }

    /// When to call [`Engine::handle_timeout`] next (monotonic ms).
    pub fn poll_timeout(&self) -> Option<Mono> {
        let tasks = self.tasks.iter().filter_map(|t| match t {
            Task::Call(c) => c.wake_at(&self.options.policy),
            Task::Resend(r) => r.wake_at(),
            Task::Expire(_) => None,
            #[cfg(feature = "workflows")]
            Task::Run(r) => r.wake_at(),
        });
        let lists = tasks.chain(self.drain.wake_at()).chain(self.result_watch_at).chain(self.ready_at);
        lists.chain(self.origins.wake_at()).reduce(Mono::min)
    }

    /// The platform's `online` event (and `resume()`'s effect): breakers
    /// closed, waits for the network ended, everything pending resent now.
    pub fn online(&mut self, now: Now) {
        let was_offline = !self.online;
        self.online = true;
        for origin in self.origins.close_all() {
            self.emit(EventKind::Breaker, || Event::Breaker {
                origin,
                state: crate::core::breaker::Transition::Closed,
            });
        }
        self.release_probes(None);
        if was_offline {
            self.each_call(now, call::Wake::Online);
        }
        self.resume(now);
    }

    pub fn offline(&mut self, _now: Now) {
        self.online = false;
    }

    /// Ends every wait the engine chose (never one a server asked for) and
    /// resends every stored operation now. Returns how many waits ended.
    pub fn resume(&mut self, now: Now) -> u32 {
        let woken = self.each_call(now, call::Wake::Resume);
        self.force_drain(now);
        self.settle_idle();
        woken
    }

    /// No new calls; waiting calls end ('closed', or 'queued' for durable
    /// ones); background resends are cancelled; an attempt already sent
    /// may still settle its call. The store is closed once nothing uses it.
    pub fn close(&mut self, now: Now) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.push(Action::Flush);
        self.release_probes(None);
        self.drain.stop();
        self.close_passes();
        self.each_call(now, call::Wake::Close);
        self.cancel_resends(now);
        self.close_results(now);
        #[cfg(feature = "workflows")]
        self.close_runs(now);
        self.settle_idle();
    }

    pub fn handle_timeout(&mut self, now: Now) {
        let mut i = 0;
        while i < self.tasks.len() {
            let due = match &self.tasks[i] {
                Task::Call(c) => c.wake_at(&self.options.policy).is_some_and(|at| at <= now.mono),
                Task::Resend(r) => r.wake_at().is_some_and(|at| at <= now.mono),
                Task::Expire(_) => false,
                #[cfg(feature = "workflows")]
                Task::Run(r) => r.wake_at().is_some_and(|at| at <= now.mono),
            };
            if due {
                self.with_task(i, now, |engine, task, now| match task {
                    Task::Call(c) => engine.call_timer(now, c),
                    Task::Resend(r) => engine.resend_timer(now, r),
                    Task::Expire(_) => true,
                    #[cfg(feature = "workflows")]
                    Task::Run(r) => engine.run_timer(now, r),
                });
            }
            i += 1;
        }
        if self.drain.wake_at().is_some_and(|at| at <= now.mono) {
            self.drain_wake(now);
        }
        if self.result_watch_at.is_some_and(|at| at <= now.mono) {
            self.watch_results(now);
        }
        if self.ready_at.is_some_and(|at| at <= now.mono) {
            self.ready_at = None;
            self.emit(EventKind::Store, || Event::StoreSelected);
            self.resume(now);
        }
        self.release_probes(Some(now.mono));
        self.settle_idle();
    }

    /// An attempt got an answer. `retry_after`: its `Retry-After` header.
    pub fn answered(&mut self, now: Now, io: Io, status: u16, retry_after: Option<&str>) {
        let retry_after = retry_after.filter(|_| status >= 400 || !self.is(Mutant::RetryAfterOnlyOnErrors));
        let retry_after_ms = retry_after.and_then(|v| parse_retry_after(v, now.wall));
        self.attempt_ended(
            now,
            io,
            AttemptEnd::Outcome { outcome: Outcome::Response { status, retry_after_ms }, held: true },
        );
    }

    pub fn failed(&mut self, now: Now, io: Io, failure: AttemptFailure) {
        let end = match failure {
            AttemptFailure::Network { offline } => {
                // The platform knows before its 'offline' event arrives.
                if offline && !self.is(Mutant::OfflineFactIgnored) {
                    self.offline(now);
                }
                AttemptEnd::Outcome { outcome: Outcome::Network, held: true }
            }
            AttemptFailure::BeforeReplay => AttemptEnd::BeforeReplay,
        };
        self.attempt_ended(now, io, end);
    }

    /// The caller's AbortSignal fired.
    pub fn abort(&mut self, now: Now, caller: CallId) {
        if let Some(i) = self.tasks.iter().position(|t| matches!(t, Task::Call(c) if c.callers.contains(&caller))) {
            self.with_task(i, now, |engine, task, now| match task {
                Task::Call(c) => engine.call_abort(now, c, caller),
                _ => true,
            });
        }
        self.settle_idle();
    }

    pub fn got(&mut self, now: Now, io: Io, result: Result<Option<Stored>, ()>) {
        self.io_done(now, io, Done::Got(result));
    }

    /// A put or a delete committed (or failed).
    pub fn wrote(&mut self, now: Now, io: Io, result: Result<(), ()>) {
        self.io_done(now, io, Done::Wrote(result));
    }

    pub fn locked(&mut self, now: Now, io: Io, granted: bool) {
        self.io_done(now, io, Done::Locked(granted));
    }

    pub fn listed(&mut self, now: Now, io: Io, result: Result<Vec<Stored>, ()>) {
        self.io_done(now, io, Done::Listed(result));
    }

    /// `moved`: the value left the outbox (false: the store keeps it in place).
    pub fn quarantined(&mut self, now: Now, io: Io, result: Result<bool, ()>) {
        self.io_done(now, io, Done::Quarantined(result));
    }

    /// `pending()`: stored operations and keyed calls still running here.
    pub fn pending(&mut self, _now: Now, caller: CallId) {
        let io = self.io();
        self.queries.push((caller, io, Query::Pending));
        self.push(Action::List { io, step: Step::PendingList });
    }

    // ---- inside --------------------------------------------------------

    pub(crate) fn io(&mut self) -> Io {
        self.next_io = self.next_io.wrapping_add(1);
        Io(self.next_io)
    }

    pub(crate) fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    pub(crate) fn emit(&mut self, kind: EventKind, event: impl FnOnce() -> Event) {
        if self.listening & kind.bit() != 0 {
            self.push(Action::Emit(event()));
        }
    }

    pub(crate) fn listens(&self, kind: EventKind) -> bool {
        self.listening & kind.bit() != 0
    }

    /// A store call failed: tell the listeners. A write that did not
    /// happen leaves a record behind (a settled one not deleted, a queued
    /// one with older progress), a read that failed left one unexamined:
    /// the drainer looks again soon.
    pub(crate) fn store_error(&mut self, now: Now, action: StoreAction, io: Io) {
        self.drain_soon(now);
        let _ = action;
        if self.listens(EventKind::Store) {
            self.push(Action::Emit(Event::StoreError(Failure::storage(action, Cause::Io(io)))));
        } else {
            self.push(Action::Release { io });
        }
    }

    /// Deletes what is no longer needed (a kept result read, an ended run
    /// past its TTL); its failure is only reported.
    pub(crate) fn forget(&mut self, io: Io, key: String) {
        self.forgetting.push((io, key.clone()));
        self.push(Action::Delete { io, key, step: Step::ResultDelete });
    }

    /// A read found a kept answer its task has no use for: the host drops
    /// what it holds of it.
    pub(crate) fn drop_kept(&mut self, io: Io, stored: &Option<Stored>) {
        if matches!(stored, Some(Stored::Result(_))) {
            self.push(Action::Release { io });
        }
    }

    /// A completion nobody can use (late, or for another phase): drop what
    /// the host holds for it.
    pub(crate) fn drop_late(&mut self, io: Io, done: &Done) {
        if done.holds_payload() {
            self.push(Action::Release { io });
        }
    }

    pub(crate) fn next_seq(&mut self) -> f64 {
        let seq = self.seq;
        self.seq += 1.0;
        seq
    }

    pub(crate) fn is(&self, _mutant: Mutant) -> bool {
        #[cfg(feature = "sim-mutants")]
        return self.mutant == _mutant;
        #[cfg(not(feature = "sim-mutants"))]
        false
    }

    /// Takes task `i` out, runs `f` on it, and puts it back if `f` says to
    /// keep it. Tasks never move while out, so `i` stays valid.
    pub(crate) fn with_task(&mut self, i: usize, now: Now, f: impl FnOnce(&mut Engine, &mut Task, Now) -> bool) {
        let mut task = self.tasks.remove(i);
        let keep = f(self, &mut task, now);
        if keep {
            self.tasks.insert(i.min(self.tasks.len()), task);
        } else {
            self.task_ended(now, task);
        }
    }

    /// A task ended: the drainer hears of its round's tasks, and of a send
    /// that stored records were waiting behind.
    fn task_ended(&mut self, now: Now, task: Task) {
        match task {
            Task::Call(_) => self.busy_ended(now),
            // A round's own resends block nothing: the plan saw only calls busy.
            Task::Resend(r) => self.round_resend_done(now, &r.key, r.did),
            Task::Expire(e) => self.round_task_done(now, e.did),
            #[cfg(feature = "workflows")]
            Task::Run(_) => {}
        }
    }

    /// Runs `f` on every task `pick` selects (through `with_task`: `f` says
    /// whether the task stays).
    pub(crate) fn each_task(
        &mut self,
        now: Now,
        pick: impl Fn(&Task) -> bool,
        mut f: impl FnMut(&mut Engine, &mut Task, Now) -> bool,
    ) {
        let mut i = 0;
        while i < self.tasks.len() {
            let before = self.tasks.len();
            if pick(&self.tasks[i]) {
                self.with_task(i, now, &mut f);
            }
            // A task that ended left its place to the next one.
            if self.tasks.len() >= before {
                i += 1;
            }
        }
    }

    /// Runs `wake` on every call; returns how many it woke.
    fn each_call(&mut self, now: Now, wake: call::Wake) -> u32 {
        let mut woken = 0;
        self.each_task(now, |t| matches!(t, Task::Call(_)), |engine, task, now| match task {
            Task::Call(c) => {
                let (keep, did) = engine.call_wake(now, c, wake);
                woken += did as u32;
                keep
            }
            _ => true,
        });
        woken
    }

    fn attempt_ended(&mut self, now: Now, io: Io, end: AttemptEnd) {
        let found = self.tasks.iter().position(|t| match t {
            Task::Call(c) => c.sending() == Some(io),
            Task::Resend(r) => r.sending() == Some(io),
            _ => false,
        });
        match found {
            Some(i) => self.with_task(i, now, |engine, task, now| match task {
                Task::Call(c) => engine.call_attempt_ended(now, c, io, end),
                Task::Resend(r) => engine.resend_attempt_ended(now, r, io, end),
                _ => true,
            }),
            // Cancelled (its key lingered until now) or unknown: drop
            // whatever the host holds for it.
            None => {
                self.linger_ended(now, io);
                if matches!(end, AttemptEnd::Outcome { held: true, .. } | AttemptEnd::BeforeReplay) {
                    self.push(Action::Release { io })
                }
            }
        }
        self.settle_idle();
    }

    fn io_done(&mut self, now: Now, io: Io, done: Done) {
        if let Some(i) = self.keeping.iter().position(|(x, ..)| *x == io) {
            let (_, key, status, attempts) = self.keeping.swap_remove(i);
            if matches!(done, Done::Wrote(Ok(()))) {
                self.note_kept(&key, status, attempts);
            }
        }
        if let Some(i) = self.tasks.iter().position(|t| match t {
            Task::Call(c) => c.awaits(io),
            Task::Resend(r) => r.awaits(io),
            Task::Expire(e) => e.awaits(io),
            #[cfg(feature = "workflows")]
            Task::Run(r) => r.awaits(io),
        }) {
            self.with_task(i, now, |engine, task, now| match task {
                Task::Call(c) => engine.call_io(now, c, io, done),
                Task::Resend(r) => engine.resend_io(now, r, io, done),
                Task::Expire(e) => engine.expire_io(now, e, io, done),
                #[cfg(feature = "workflows")]
                Task::Run(r) => engine.run_io(now, r, io, done),
            });
        } else if self.drain.awaits(io) {
            self.drain_io(now, io, done);
        } else if let Some(q) = self.queries.iter().position(|(_, q, _)| *q == io) {
            let (caller, _, query) = self.queries.remove(q);
            match query {
                Query::Result { waiter, woken } => self.answer_result(now, waiter, woken, io, done),
                query => self.answer_listing(now, caller, io, done, query),
            }
        } else if let Some(f) = self.forgetting.iter().position(|(x, _)| *x == io) {
            self.forgetting.swap_remove(f);
            if matches!(done, Done::Wrote(Err(_))) {
                self.store_error(now, StoreAction::Delete, io);
            }
            if let Some(r) = self.kept_readers.iter().position(|(x, ..)| *x == io) {
                let (_, call, held) = self.kept_readers.swap_remove(r);
                self.push(Action::Kept { call, held: Some(held), last: true });
            }
        } else {
            self.drop_late(io, &done);
        }
        self.settle_idle();
    }

    #[allow(unused_variables)]
    fn answer_listing(&mut self, now: Now, caller: CallId, io: Io, done: Done, query: Query) {
        let Done::Listed(result) = done else {
            return self.push(Action::Reject { call: caller, failure: Failure::new(ErrorKind::Storage) });
        };
        let stored = match result {
            Ok(stored) => stored,
            // createClient goes on: the drainer reads the store again.
            #[cfg(feature = "workflows")]
            Err(()) if matches!(query, Query::Scan) => {
                self.store_error(now, StoreAction::List, io);
                return self.started(now, caller);
            }
            Err(()) => {
                let failure = Failure::storage(StoreAction::List, Cause::Io(io));
                return self.push(Action::Reject { call: caller, failure });
            }
        };
        self.push(Action::Release { io });
        match query {
            #[cfg(feature = "workflows")]
            Query::Scan => {
                // Resumed from here too: createClient answers once they are known.
                for s in &stored {
                    if let Stored::Run(meta) = s {
                        self.found_run(now, meta.clone());
                    }
                }
                return self.started(now, caller);
            }
            #[cfg(feature = "workflows")]
            Query::Runs => {
                for s in &stored {
                    if let Stored::Run(meta) = s {
                        self.note_run(meta);
                    }
                }
                let runs = stored
                    .iter()
                    .filter_map(|s| match s {
                        Stored::Run(meta) if meta.state == crate::core::journal::RunState::Running => Some(run::info(meta)),
                        _ => None,
                    })
                    .collect();
                return self.push(Action::Runs { call: caller, runs });
            }
            _ => {}
        }
        let mut ops: Vec<PendingOp> = stored
            .into_iter()
            .filter_map(|s| match s {
                Stored::Record(r) => Some(PendingOp {
                    key: r.key,
                    method: r.method,
                    url: r.url,
                    attempts: r.attempts,
                    created_at: r.created_at,
                    next_attempt_at: Some(r.next_attempt_at),
                    durable: true,
                }),
                _ => None,
            })
            .collect();
        // Settled (its callers answered) and only being deleted: not pending.
        let settled: Vec<&str> = self
            .tasks
            .iter()
            .filter_map(|t| match t {
                Task::Call(c) if c.settled() => c.key.as_deref(),
                Task::Resend(r) if r.settled() => Some(r.key.as_str()),
                _ => None,
            })
            .collect();
        ops.retain(|o| !settled.contains(&o.key.as_str()));
        for task in &self.tasks {
            if let Task::Call(c) = task {
                match &c.key {
                    Some(key) if !c.settled() && !ops.iter().any(|o| &o.key == key) => ops.push(c.pending(key)),
                    _ => {}
                }
            }
        }
        self.push(Action::Pending { call: caller, ops });
    }

    /// Once closed and idle, the store may be closed.
    fn settle_idle(&mut self) {
        if self.closed
            && !self.store_closed
            && self.tasks.is_empty()
            && self.drain.is_idle()
            && self.queries.is_empty()
            && self.forgetting.is_empty()
        {
            self.store_closed = true;
            self.push(Action::CloseStore);
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod fleet_tests;
#[cfg(test)]
mod pass_tests;
#[cfg(all(test, feature = "workflows"))]
mod run_tests;
