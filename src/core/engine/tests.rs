//! Exact sequences of the engine's actions for the lifecycles that matter,
//! driven by hand on a virtual clock. (The simulation in tests/sim drives
//! the same engine through thousands of hostile seeds.)

use super::*;
use crate::core::contract::{ErrorKind, QueueReason};
use crate::core::schedule::RetryPolicy;

pub(super) const T0: f64 = 1_700_000_000_000.0;
const URL: &str = "http://127.0.0.1:9/orders";

pub(super) struct Harness {
    pub engine: Engine,
    pub now: f64,
    pub next_call: u32,
}

pub(super) fn harness(persistent: bool, policy: RetryPolicy) -> Harness {
    let options = Options { policy, ..Options::default() };
    let mut engine = Engine::new(EngineConfig { options, persistent, seed: 7, online: true, sync_api: false, shared: false });
    engine.set_listening(u32::MAX);
    Harness { engine, now: T0, next_call: 0 }
}

pub(super) fn quick() -> RetryPolicy {
    RetryPolicy { max_attempts: 2, ..RetryPolicy::default() }
}

impl Harness {
    /// The wall clock is `now`; the monotonic clock started at T0.
    pub fn t(&self) -> Now {
        self.at(self.now)
    }

    /// Wall-clock time `wall` on both clocks.
    pub fn at(&self, wall: f64) -> Now {
        Now { wall: Wall(wall), mono: Mono(wall - T0) }
    }

    pub fn actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.engine.poll_action()).collect()
    }

    pub(super) fn post(&mut self, key: &str, body: &str) -> CallId {
        self.next_call += 1;
        let call = CallId(self.next_call);
        self.engine.call(
            self.t(),
            CallRequest {
                call,
                method: "POST".into(),
                url: URL.into(),
                key: Arg::Given(key.into()),
                header_key: None,
                random: [0; 16],
                body: Some(body.as_bytes().to_vec()),
                headers: vec![("content-type".into(), "application/json".into())],
                durable: Arg::Absent,
                aborted: false,
                from_step: None,
            },
        ).expect("accepted");
        call
    }

    /// Runs a durable call's lock, read and persist; returns its first attempt.
    pub(super) fn durable_post(&mut self, key: &str, stored: &mut Vec<Record>) -> (CallId, Io) {
        let call = self.post(key, key);
        let lock = only(self.actions(), |a| matches!(a, Action::Lock { .. }));
        self.engine.locked(self.t(), io_of(&lock), true);
        let get = only(self.actions(), |a| matches!(a, Action::Get { .. }));
        self.engine.got(self.t(), io_of(&get), Ok(None));
        let put = only(self.actions(), |a| matches!(a, Action::Put { .. }));
        if let Action::Put { record, .. } = &put {
            stored.push((**record).clone());
        }
        self.engine.wrote(self.t(), io_of(&put), Ok(()));
        let send = only(self.actions(), |a| matches!(a, Action::Send { .. }));
        (call, io_of(&send))
    }

    pub fn advance_to_timeout(&mut self) {
        self.now = T0 + self.engine.poll_timeout().expect("a timer is set").0;
        self.engine.handle_timeout(self.t());
    }
}

pub(super) fn io_of(action: &Action) -> Io {
    match action {
        Action::Send { io, .. }
        | Action::Get { io, .. }
        | Action::Put { io, .. }
        | Action::Delete { io, .. }
        | Action::List { io, .. }
        | Action::Lock { io, .. }
        | Action::Quarantine { io, .. }
        | Action::Keep { io, .. } => *io,
        #[cfg(feature = "workflows")]
        Action::PutRun { io, .. } => *io,
        other => panic!("no io in {other:?}"),
    }
}

/// The one action matching `pick` (events aside), asserting there is exactly one.
pub(super) fn only(actions: Vec<Action>, pick: impl Fn(&Action) -> bool) -> Action {
    let mut found: Vec<Action> = actions.into_iter().filter(|a| pick(a)).collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

pub(super) fn kinds(actions: &[Action]) -> Vec<&'static str> {
    actions
        .iter()
        .map(|a| match a {
            Action::Send { .. } => "send",
            Action::Cancel { .. } => "cancel",
            Action::Resolve { .. } => "resolve",
            Action::Reject { .. } => "reject",
            Action::Release { .. } => "release",
            Action::Emit(Event::Retry { .. }) => "retry",
            Action::Emit(Event::GiveUp { .. }) => "giveup",
            Action::Emit(Event::Breaker { .. }) => "breaker",
            Action::Emit(Event::Settled { .. }) => "settled",
            Action::Emit(Event::Queued { .. }) => "queued",
            Action::Emit(Event::StoreError(_) | Event::Quarantined { .. } | Event::StoreSelected) => "store-event",
            Action::Get { .. } => "get",
            Action::Put { .. } => "put",
            Action::Delete { .. } => "delete",
            Action::List { .. } => "list",
            Action::Quarantine { .. } => "quarantine",
            Action::Lock { .. } => "lock",
            Action::Unlock { .. } => "unlock",
            Action::Pending { .. } => "pending",
            Action::CloseStore => "close-store",
            Action::Announce { .. } => "announce",
            #[cfg(feature = "workflows")]
            Action::Emit(Event::Workflow { .. }) => "workflow",
            #[cfg(feature = "workflows")]
            Action::PutRun { .. } => "put-run",
            #[cfg(feature = "workflows")]
            Action::Execute { .. } => "execute",
            #[cfg(feature = "workflows")]
            Action::StepGo { go: StepGo::Replay, .. } => "replay",
            #[cfg(feature = "workflows")]
            Action::StepGo { go: StepGo::Run { .. }, .. } => "run",
            #[cfg(feature = "workflows")]
            Action::StepGo { go: StepGo::Mismatch, .. } => "mismatch",
            #[cfg(feature = "workflows")]
            Action::StepCommitted { .. } => "committed",
            #[cfg(feature = "workflows")]
            Action::StepFailed { .. } => "step-failed",
            #[cfg(feature = "workflows")]
            Action::Undo { .. } => "undo",
            #[cfg(feature = "workflows")]
            Action::RunStarted { .. } => "started",
            #[cfg(feature = "workflows")]
            Action::RunEnded { .. } => "ended",
            #[cfg(feature = "workflows")]
            Action::Runs { .. } => "runs",
            Action::Started { .. } => "started",
            Action::Flush => "flush",
            #[cfg(feature = "workflows")]
            Action::StopRuns => "stop-runs",
            Action::Keep { .. } => "keep",
            Action::Kept { .. } => "kept",
            Action::Drained { .. } => "drained",
            Action::RegisterSync => "register-sync",
        })
        .collect()
}

#[test]
fn a_get_is_sent_and_resolved_with_its_answer() {
    let mut h = harness(true, RetryPolicy::default());
    h.engine.call(
        h.t(),
        CallRequest {
            call: CallId(1),
            method: "GET".into(),
            url: URL.into(),
            key: Arg::Absent,
            header_key: None,
            random: [0; 16],
            body: None,
            headers: vec![],
            durable: Arg::Absent,
            aborted: false,
            from_step: None,
        },
    ).expect("accepted");
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["send"]);
    let io = io_of(&actions[0]);
    h.engine.answered(h.at(h.now + 5.0), io, 200, None);
    assert_eq!(
        h.actions(),
        [
            Action::Emit(Event::Settled { key: None, status: 200, attempts: 1, resumed: false, response: None }),
            Action::Resolve { call: CallId(1), response: io, last: true },
        ]
    );
    assert_eq!(h.engine.poll_timeout(), None);
}

#[test]
fn a_durable_call_is_locked_read_and_persisted_before_it_is_sent_and_reported_before_it_is_deleted() {
    let mut h = harness(true, RetryPolicy::default());
    h.post("k1", "{}");
    let lock = h.actions();
    assert_eq!(kinds(&lock), ["lock"], "the caller's key: read under its lock");
    h.engine.locked(h.t(), io_of(&lock[0]), true);
    let get = h.actions();
    assert_eq!(kinds(&get), ["get"]);
    h.engine.got(h.t(), io_of(&get[0]), Ok(None));
    let put = h.actions();
    assert_eq!(kinds(&put), ["put"]);
    h.engine.wrote(h.t(), io_of(&put[0]), Ok(()));
    let send = h.actions();
    assert_eq!(kinds(&send), ["send"]);
    h.engine.answered(h.t(), io_of(&send[0]), 201, None);
    let end = h.actions();
    assert_eq!(kinds(&end), ["settled", "resolve", "delete"]);
    h.engine.wrote(h.t(), io_of(&end[2]), Ok(()));
    assert_eq!(kinds(&h.actions()), ["unlock"]);
}

#[test]
fn a_fresh_key_is_persisted_and_locked_together_and_never_read() {
    let mut h = harness(true, RetryPolicy::default());
    h.engine.call(
        h.t(),
        CallRequest {
            call: CallId(1),
            method: "POST".into(),
            url: URL.into(),
            key: Arg::Absent,
            header_key: None,
            random: [0xAB; 16],
            body: Some(b"{}".to_vec()),
            headers: vec![],
            durable: Arg::Absent,
            aborted: false,
            from_step: None,
        },
    ).expect("accepted");
    let start = h.actions();
    assert_eq!(kinds(&start), ["put", "lock"]);
    h.engine.locked(h.t(), io_of(&start[1]), true);
    assert_eq!(h.actions(), [], "not sent before the record is committed");
    h.engine.wrote(h.t(), io_of(&start[0]), Ok(()));
    assert_eq!(kinds(&h.actions()), ["send"]);
}

#[test]
fn a_transient_failure_is_written_then_resent_with_the_same_key_after_its_backoff() {
    let mut h = harness(true, RetryPolicy::default());
    let mut stored = vec![];
    let (_, io) = h.durable_post("k1", &mut stored);
    h.engine.answered(h.t(), io, 503, None);
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["retry", "put"]);
    let Action::Put { record, .. } = &actions[1] else { unreachable!() };
    assert_eq!((record.attempts, record.not_before), (1, Wall::EPOCH));
    h.engine.wrote(h.t(), io_of(&actions[1]), Ok(()));
    assert_eq!(h.engine.poll_timeout(), Some(Mono(record.next_attempt_at.0 - T0)));
    h.advance_to_timeout();
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["send", "release"]);
    let Action::Send { key, .. } = &actions[0] else { unreachable!() };
    assert_eq!(key.as_deref(), Some("k1"));
}

#[test]
fn exhausted_live_bounds_leave_the_record_queued() {
    let mut h = harness(true, quick());
    let mut stored = vec![];
    let (call, io) = h.durable_post("k1", &mut stored);
    h.engine.failed(h.t(), io, AttemptFailure::Network { offline: false });
    let put = h.actions();
    h.engine.wrote(h.t(), io_of(&put[1]), Ok(()));
    h.advance_to_timeout();
    let send = only(h.actions(), |a| matches!(a, Action::Send { .. }));
    h.engine.failed(h.t(), io_of(&send), AttemptFailure::Network { offline: false });
    let put = only(h.actions(), |a| matches!(a, Action::Put { .. }));
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    let end = h.actions();
    assert_eq!(kinds(&end), ["queued", "reject", "unlock"], "queued; no round before the record is due");
    let due = h.engine.poll_timeout().expect("the drainer wakes when the record is due");
    let Action::Put { record, .. } = &put else { unreachable!() };
    assert_eq!(due, Mono(record.next_attempt_at.0 - T0), "at the record's next attempt");
    let Action::Reject { call: rejected, failure } = &end[1] else { unreachable!() };
    assert_eq!(
        (*rejected, failure.kind, failure.reason, failure.attempts),
        (call, ErrorKind::Queued, Some(QueueReason::Exhausted), 2)
    );
    assert_eq!(failure.cause, Some(Cause::Io(io_of(&send))), "the last failure is the cause");
}

/// The stall of issue 10: C queues while B (same origin, older) is in
/// flight; the drainer waits behind B, and B's end must wake it.
#[test]
fn a_record_queued_behind_a_live_call_is_resent_when_that_call_ends() {
    let mut h = harness(true, RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    let mut stored = vec![];
    let (_, b_send) = h.durable_post("b", &mut stored);
    h.now += 1.0;
    let (_, c_send) = h.durable_post("c", &mut stored);
    h.engine.failed(h.t(), c_send, AttemptFailure::Network { offline: false });
    let put = only(h.actions(), |a| matches!(a, Action::Put { .. }));
    if let Action::Put { record, .. } = &put {
        stored[1] = (**record).clone();
    }
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    assert_eq!(kinds(&h.actions()), ["queued", "reject", "unlock"]);
    // c's round comes when c is due.
    h.now = stored[1].next_attempt_at.0;
    h.engine.handle_timeout(h.t());
    let drain_lock = only(h.actions(), |a| matches!(a, Action::Lock { name: LockName::Drain, .. }));
    h.engine.locked(h.t(), io_of(&drain_lock), true);
    let list = only(h.actions(), |a| matches!(a, Action::List { .. }));
    let listing = stored.iter().cloned().map(Stored::Record).collect();
    h.engine.listed(h.t(), io_of(&list), Ok(listing));
    assert_eq!(kinds(&h.actions()), ["release", "unlock"], "nothing ready: c waits behind b");
    assert_eq!(h.engine.poll_timeout(), Some(Mono(10_000.0)), "only b's attempt timeout: no wake-up of the drainer's own");
    h.now += 50.0;
    h.engine.answered(h.t(), b_send, 201, None);
    let end = only(h.actions(), |a| matches!(a, Action::Delete { .. }));
    h.engine.wrote(h.t(), io_of(&end), Ok(()));
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["unlock", "lock"], "b's end starts a round");
    stored.remove(0);
    h.engine.locked(h.t(), io_of(&actions[1]), true);
    let list = only(h.actions(), |a| matches!(a, Action::List { .. }));
    h.engine.listed(h.t(), io_of(&list), Ok(stored.iter().cloned().map(Stored::Record).collect()));
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["release", "lock"], "c's key is locked for its resend");
    assert!(matches!(&actions[1], Action::Lock { name: LockName::Key(name), .. } if name == "c"));
}

#[test]
fn a_record_skipped_while_its_key_was_busy_is_looked_at_again_when_the_store_failed_its_call() {
    // A record of key "a" is stored and due (an earlier page's).
    let mut stored = vec![];
    harness(true, quick()).durable_post("a", &mut stored);
    let mut h = harness(true, quick());
    // A call of "a" (a resubmission, or a resumed workflow step) holds the key...
    h.post("a", "a");
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    h.engine.locked(h.t(), io_of(&lock), true);
    let get = only(h.actions(), |a| matches!(a, Action::Get { .. }));
    // ...while a round plans: the key is busy here, the round skips it.
    h.engine.resume(h.t());
    let drain_lock = only(h.actions(), |a| matches!(a, Action::Lock { name: LockName::Drain, .. }));
    h.engine.locked(h.t(), io_of(&drain_lock), true);
    let list = only(h.actions(), |a| matches!(a, Action::List { .. }));
    h.engine.listed(h.t(), io_of(&list), Ok(stored.iter().cloned().map(Stored::Record).collect()));
    assert_eq!(kinds(&h.actions()), ["release", "unlock"]);
    // The store fails the call's read: the record stays as it was.
    h.engine.got(h.t(), io_of(&get), Err(()));
    assert_eq!(kinds(&h.actions()), ["reject", "unlock"]);
    assert_eq!(h.engine.poll_timeout(), Some(Mono(super::drain::STORE_RETRY_MS)), "a round looks again");
    h.advance_to_timeout();
    let drain_lock = only(h.actions(), |a| matches!(a, Action::Lock { name: LockName::Drain, .. }));
    h.engine.locked(h.t(), io_of(&drain_lock), true);
    let list = only(h.actions(), |a| matches!(a, Action::List { .. }));
    h.engine.listed(h.t(), io_of(&list), Ok(stored.iter().cloned().map(Stored::Record).collect()));
    let actions = h.actions();
    assert!(actions.iter().any(|a| matches!(a, Action::Lock { name: LockName::Key(k), .. } if k == "a")), "{actions:?}");
}

#[test]
fn offline_a_durable_call_is_stored_and_queued_without_an_attempt() {
    let mut h = harness(true, RetryPolicy::default());
    h.engine.offline(h.t());
    let call = h.post("k1", "{}");
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    h.engine.locked(h.t(), io_of(&lock), true);
    let get = only(h.actions(), |a| matches!(a, Action::Get { .. }));
    h.engine.got(h.t(), io_of(&get), Ok(None));
    let put = only(h.actions(), |a| matches!(a, Action::Put { .. }));
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["queued", "reject", "unlock"]);
    let Action::Reject { failure, .. } = &actions[1] else { unreachable!() };
    assert_eq!((call, failure.reason, failure.attempts), (CallId(1), Some(QueueReason::Offline), 0));
    h.engine.online(h.at(h.now + 1_000.0));
    assert_eq!(kinds(&h.actions()), ["lock"], "online forces a drain round");
}

#[test]
fn offline_a_call_that_cannot_be_stored_waits_for_the_network_within_its_deadline() {
    let mut h = harness(false, RetryPolicy::default());
    h.engine.offline(h.t());
    h.post("k1", "{}");
    assert_eq!(h.actions(), [], "no attempt while offline");
    assert_eq!(h.engine.poll_timeout(), Some(Mono(30_000.0)));
    h.engine.online(h.at(h.now + 2_000.0));
    assert_eq!(kinds(&h.actions()), ["send", "lock"], "and a forced drain round");

    let mut h = harness(false, RetryPolicy::default());
    h.engine.offline(h.t());
    h.post("k2", "{}");
    h.advance_to_timeout();
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["giveup", "reject"]);
    let Action::Reject { failure, .. } = &actions[1] else { unreachable!() };
    assert_eq!((failure.kind, failure.attempts), (ErrorKind::Deadline, 0));
}

#[test]
fn an_attempt_that_fails_while_offline_does_not_count() {
    let mut h = harness(false, RetryPolicy { max_attempts: 1, ..RetryPolicy::default() });
    h.post("k1", "{}");
    let send = only(h.actions(), |a| matches!(a, Action::Send { .. }));
    h.engine.offline(h.t());
    h.engine.failed(h.t(), io_of(&send), AttemptFailure::Network { offline: false });
    assert_eq!(kinds(&h.actions()), ["release"], "not exhausted: waiting for the network");
    h.engine.online(h.at(h.now + 10.0));
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["send", "lock"]);
    assert!(matches!(actions[0], Action::Send { attempt: 1, resumed: false, .. }), "still its first attempt");
}

#[test]
fn resume_never_cuts_a_wait_the_server_asked_for() {
    let mut h = harness(false, RetryPolicy::default());
    h.post("k1", "{}");
    let send = only(h.actions(), |a| matches!(a, Action::Send { .. }));
    h.engine.answered(h.t(), io_of(&send), 429, Some("3"));
    h.actions();
    assert_eq!(h.engine.resume(h.at(h.now + 10.0)), 0);
    assert!(!h.actions().iter().any(|a| matches!(a, Action::Send { .. })));
    assert_eq!(h.engine.poll_timeout(), Some(Mono(3_000.0)));
}

#[test]
fn a_call_with_a_running_key_joins_it_and_a_different_body_is_refused() {
    let mut h = harness(false, RetryPolicy::default());
    let first = h.post("k1", "a");
    let send = only(h.actions(), |a| matches!(a, Action::Send { .. }));
    let joined = h.post("k1", "a");
    let other = h.post("k1", "b");
    let actions = h.actions();
    assert!(
        matches!(&actions[..], [Action::Reject { call, failure }] if *call == other && failure.kind == ErrorKind::KeyReuse)
    );
    h.engine.answered(h.t(), io_of(&send), 200, None);
    let resolves: Vec<Action> = h.actions().into_iter().filter(|a| matches!(a, Action::Resolve { .. })).collect();
    let io = io_of(&send);
    assert_eq!(
        resolves,
        [
            Action::Resolve { call: first, response: io, last: false },
            Action::Resolve { call: joined, response: io, last: true },
        ]
    );
}

#[test]
fn an_attempt_past_its_timeout_is_cancelled_and_retried() {
    let mut h = harness(false, RetryPolicy { attempt_timeout_ms: 100, ..RetryPolicy::default() });
    h.post("k1", "{}");
    let send = only(h.actions(), |a| matches!(a, Action::Send { .. }));
    h.advance_to_timeout();
    assert_eq!(h.now, T0 + 100.0);
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["cancel", "retry"]);
    assert_eq!(actions[0], Action::Cancel { io: io_of(&send) });
    h.engine.answered(h.t(), io_of(&send), 200, None);
    assert_eq!(h.actions(), [Action::Release { io: io_of(&send) }], "a cancelled attempt's late answer is dropped");
}

#[test]
fn close_ends_waits_and_closes_the_store_once_idle() {
    let mut h = harness(false, RetryPolicy::default());
    let call = h.post("k1", "{}");
    let send = only(h.actions(), |a| matches!(a, Action::Send { .. }));
    h.engine.answered(h.t(), io_of(&send), 503, None);
    h.actions();
    h.engine.close(h.t());
    let actions: Vec<Action> = h.actions().into_iter().filter(|a| kinds(&[a.clone()]) != ["stop-runs"]).collect();
    assert_eq!(kinds(&actions), ["flush", "release", "giveup", "reject", "close-store"]);
    assert!(
        matches!(&actions[3], Action::Reject { call: c, failure } if *c == call && failure.kind == ErrorKind::Closed)
    );
    h.post("k2", "{}");
    assert!(matches!(&h.actions()[..], [Action::Reject { failure, .. }] if failure.kind == ErrorKind::Closed));
}
