//! What the engine asks its host to do, and what it reports.
//!
//! The host keeps everything the engine must not hold (JS requests,
//! responses, exceptions, promises) under the ids below. A payload (an
//! attempt's response or failure, a failed store call's exception, a
//! listing's raw values) lives under the `Io` that produced it until the
//! engine hands it on (`Resolve` with `last`, a `Cause::Io` in a rejection
//! or event) or drops it (`Release`): each exactly once.

#[allow(unused_imports)]
use crate::prelude::*;
use crate::core::breaker::Transition;
use crate::core::clock::Wall;
use crate::core::contract::{ErrorKind, GiveUpReason, QueueReason, StoreAction};
#[cfg(feature = "workflows")]
use crate::core::contract::WorkflowState;
#[cfg(feature = "workflows")]
use crate::core::journal::{RunMeta, RunState};
use crate::core::outcome::RetryReason;
use crate::core::record::{DecodeError, Record};

/// A caller's `fetch` or `pending` call. The host picks it (it must be
/// unique among calls not yet answered) and keeps the caller's promise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallId(pub u32);

/// One piece of I/O the engine asked for: an attempt, a store call, a lock
/// request. Its completion comes back with the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Io(pub u32);

/// What a request to send is built from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// The request the caller passed (its key header already set).
    Call(CallId),
    /// A stored operation: build it, run `beforeReplay` on it, then set the key.
    Record(Box<Record>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LockName {
    /// One operation (or a run, by its store key): held by whoever sends it.
    Key(String),
    /// One drain round at a time among the clients sharing a store.
    Drain,
    /// The half-open probe of an origin, when tabs share breakers: one
    /// probe per origin, not one per tab.
    Probe(String),
}

/// Why a store call or lock is made: for traces and the simulation's crash
/// points, never for the host's behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    CallRead,
    CallPersist,
    CallLock,
    CallProgress,
    CallQueued,
    CallSettled,
    CallAborted,
    DrainLock,
    DrainList,
    Quarantine,
    ResendLock,
    ResendReread,
    ResendDeferred,
    ResendProgress,
    ResendSettled,
    ProbeLock,
    ExpireLock,
    ExpireReread,
    ExpireMark,
    ExpireDelete,
    PendingList,
    #[cfg(feature = "workflows")]
    RunLock,
    #[cfg(feature = "workflows")]
    RunRead,
    #[cfg(feature = "workflows")]
    RunJournal,
    ResultRead,
    ResultKeep,
    ResultDelete,
    #[cfg(feature = "workflows")]
    Scan,
}

crate::core::contract::names! {
    /// Why something failed, in the engine's words (the host writes them out).
    CauseText {
        /// A stored record under the call's key cannot be read.
        Unreadable = "the stored record for this key is unreadable",
        RunNotStored = "the run could not be stored",
        RunUnreadable = "the stored run is unreadable",
        NoSuchRun = "no run with this id is stored: it never started, or ended longer than ttlMs ago",
    }
}

/// Why something failed, for the error a caller or listener gets.
#[derive(Clone, Debug, PartialEq)]
pub enum Cause {
    /// The payload the host holds under this id (a fetch TypeError, a
    /// store's DOMException, what `beforeReplay` threw). Last use.
    Io(Io),
    /// The reason of the caller's AbortSignal.
    Signal,
    /// Words from the engine; with what was unreadable, when that is why.
    Text(CauseText, Option<DecodeError>),
}

/// A rejection or a failure reported in an event: the fields of a
/// `DurafetchError` (the host writes the message, and adds the caller's
/// method and URL).
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub key: Option<String>,
    pub attempts: u32,
    pub reason: Option<QueueReason>,
    pub status: Option<u16>,
    pub cause: Option<Cause>,
    /// 'circuit-open': the origin and how long until its next probe.
    pub origin: Option<String>,
    pub retry_after_ms: Option<u64>,
    /// 'storage': which call failed, and whether the operation was sent.
    pub action: Option<StoreAction>,
    pub sent: Option<bool>,
}

impl Failure {
    pub fn new(kind: ErrorKind) -> Failure {
        Failure {
            kind,
            key: None,
            attempts: 0,
            reason: None,
            status: None,
            cause: None,
            origin: None,
            retry_after_ms: None,
            action: None,
            sent: None,
        }
    }

    pub fn storage(action: StoreAction, cause: Cause) -> Failure {
        Failure { action: Some(action), cause: Some(cause), ..Failure::new(ErrorKind::Storage) }
    }
}

/// An event for the application's listeners.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Retry { key: Option<String>, attempt: u32, delay_ms: u64, reason: RetryReason, status: Option<u16>, resumed: bool },
    GiveUp { key: Option<String>, reason: GiveUpReason, attempts: u32, status: Option<u16> },
    Breaker { origin: String, state: Transition },
    /// `response`: a background resend's answer (nobody else gets it), with
    /// whether this is its last use.
    Settled { key: Option<String>, status: u16, attempts: u32, resumed: bool, response: Option<(Io, bool)> },
    Queued { key: String, reason: QueueReason, attempts: u32, status: Option<u16> },
    StoreError(Failure),
    /// The client is ready: the host says which store it opened.
    StoreSelected,
    Quarantined { key: String, reason: DecodeError, moved: bool },
    #[cfg(feature = "workflows")]
    Workflow { id: String, name: String, state: WorkflowState, step: Option<String> },
}

/// What step `index` of a run does.
#[cfg(feature = "workflows")]
#[derive(Clone, Debug, PartialEq)]
pub enum StepGo {
    /// It completed before: its journaled result is the step's value.
    Replay,
    /// Run it; the keys of its requests are `key:0`, `key:1`, …
    Run { key: String },
    /// The code and the journal disagree: the run stops.
    Mismatch,
}

/// How a run ended, for `run.result()`.
#[cfg(feature = "workflows")]
#[derive(Clone, Debug, PartialEq)]
pub enum RunOutcome {
    /// Its value is the one the host holds.
    Done,
    /// A step or the code failed; these completed steps were compensated.
    Failed { compensated: Vec<String> },
    Mismatch,
}

/// A run, for `client.run(id)` and `client.runs()`.
#[cfg(feature = "workflows")]
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    pub id: String,
    pub name: String,
    pub state: RunState,
    pub steps: u32,
    pub created_at: Wall,
}

/// An operation not yet settled, for `pending()`.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingOp {
    pub key: String,
    pub method: String,
    pub url: String,
    pub attempts: u32,
    pub created_at: Wall,
    /// Stored operations only.
    pub next_attempt_at: Option<Wall>,
    pub durable: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Send attempt `attempt` (1 for the first; `resumed`: a stored
    /// operation resent in the background), under the key when there is
    /// one, and tell the 'attempt' listeners. Its end comes back as
    /// `answered` or `failed`, also after a `Cancel`.
    Send { io: Io, source: Source, key: Option<String>, timeout_ms: u64, attempt: u32, resumed: bool },
    /// Stop an attempt (its timeout passed, or the client closed): abort the
    /// fetch, forget it, report nothing more about it.
    Cancel { io: Io },
    /// Resolve the caller with the response held under `response`; the last
    /// use gets the original, earlier ones a clone.
    Resolve { call: CallId, response: Io, last: bool },
    Reject { call: CallId, failure: Failure },
    /// Drop the payload held under `io`.
    Release { io: Io },
    Emit(Event),
    Get { io: Io, key: String, step: Step },
    Put { io: Io, record: Box<Record>, step: Step },
    Delete { io: Io, key: String, step: Step },
    List { io: Io, step: Step },
    /// Move the unreadable value at `index` of listing `listing` out of the
    /// outbox (where the store can; else leave it and answer false).
    Quarantine { io: Io, listing: Io, index: u32, reason: DecodeError },
    /// Take a lock; `wait`: queue for it, else answer at once.
    Lock { io: Io, name: LockName, wait: bool, step: Step },
    Unlock { name: LockName },
    /// The answer to `pending()`.
    Pending { call: CallId, ops: Vec<PendingOp> },
    /// The client is closing: write what the store holds back, now.
    Flush,
    /// The client is closing: the workflows' code stops where it is (its
    /// waiting steps end 'closed'); the journals say how far it got.
    #[cfg(feature = "workflows")]
    StopRuns,
    /// The client is closed and idle: the store can be closed.
    CloseStore,
    /// Write run `meta`'s journal under `key` (the host adds the run's
    /// input, results and outcome).
    #[cfg(feature = "workflows")]
    /// Write run `meta.id`'s journal; a new run's holds the input of start() call `input_of`.
    PutRun { io: Io, key: String, meta: Box<RunMeta>, input_of: Option<CallId> },
    /// Run the workflow function of run `id` (from its first step: the
    /// journaled ones replay).
    #[cfg(feature = "workflows")]
    Execute { id: String },
    #[cfg(feature = "workflows")]
    StepGo { id: String, index: u32, go: StepGo },
    /// Step `index`'s result is journaled: the step resolves with it.
    #[cfg(feature = "workflows")]
    StepCommitted { id: String, index: u32 },
    /// Step `index` fails, and so does the run: it returned a Response with
    /// a refusing `status` (kind 'step-status'), or (None) its body threw
    /// (the step rejects with what it threw).
    #[cfg(feature = "workflows")]
    StepFailed { id: String, index: u32, status: Option<u16> },
    /// Compensate step `index`: run its undo, its requests keyed from `key`.
    #[cfg(feature = "workflows")]
    Undo { id: String, index: u32, key: String },
    /// `start()` is answered: the run exists.
    #[cfg(feature = "workflows")]
    RunStarted { call: CallId, id: String },
    /// `run.result()` is answered.
    #[cfg(feature = "workflows")]
    RunEnded { call: CallId, id: String, outcome: RunOutcome },
    #[cfg(feature = "workflows")]
    Runs { call: CallId, runs: Vec<RunInfo> },
    /// createClient is answered: the client may be used.
    Started { call: CallId },
    /// Keep a resumed operation's answer for `client.result(key)`: write it
    /// (`data`, with the response under `response`, its last use) over the
    /// operation's record, and tell the other contexts of the store it settled.
    Keep { io: Io, key: String, data: Vec<u8>, status: u16, attempts: u32, response: Io },
    /// `client.result(key)`, or a call resubmitted after its operation
    /// settled elsewhere, is answered: with the kept answer the host holds
    /// under `held` (the read that found it; `last`: its last use), or with
    /// nothing.
    Kept { call: CallId, held: Option<Io>, last: bool },
    /// `drain()` is answered: `settled` operations got their answer since
    /// it was called, `remaining` are still stored; `retry`: a sync event
    /// should fail, for the browser to fire it again.
    Drained { call: CallId, settled: u32, remaining: u32, retry: bool },
    /// Register the `'durafetch'` sync tag on the origin's service-worker
    /// registration; answer `sync_registered` (false where there is none).
    RegisterSync,
    /// Tell the other tabs and workers of the origin (fleet.rs): breaker and
    /// budget news, as bytes they hand their engine (`heard`).
    Announce { note: Vec<u8> },
}
