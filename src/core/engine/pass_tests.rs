//! `drain()` passes and the Background Sync rules, action by action.

use super::tests::{harness, io_of, kinds, only, quick, Harness, T0};
use super::*;
use crate::core::schedule::RetryPolicy;

const URL: &str = "http://127.0.0.1:9/orders";

fn stored(key: &str, created_at: f64, next_attempt_at: f64, not_before: f64) -> Record {
    Record {
        key: key.into(),
        method: "POST".into(),
        url: URL.into(),
        headers: vec![],
        body: Some(b"{}".to_vec()),
        fingerprint: crate::core::key::fingerprint("POST", URL, b"{}"),
        attempts: 1,
        created_at: Wall(created_at),
        seq: 0.0,
        next_attempt_at: Wall(next_attempt_at),
        not_before: Wall(not_before),
        expired_at: None,
        no_answer: false,
        trace: None,
    }
}

impl Harness {
    /// Grants the drain lock and lists `records`; returns what follows.
    fn round(&mut self, lock: &Action, records: &[Record]) -> Vec<Action> {
        assert!(matches!(lock, Action::Lock { name: LockName::Drain, .. }), "{lock:?}");
        self.engine.locked(self.t(), io_of(lock), true);
        let list = only(self.actions(), |a| matches!(a, Action::List { .. }));
        self.engine.listed(self.t(), io_of(&list), Ok(records.iter().cloned().map(Stored::Record).collect()));
        self.actions()
    }

    /// Grants a resend's key lock and reads `record` back; returns its send.
    fn resend(&mut self, lock: &Action, record: &Record) -> Action {
        self.engine.locked(self.t(), io_of(lock), true);
        let get = only(self.actions(), |a| matches!(a, Action::Get { .. }));
        self.engine.got(self.t(), io_of(&get), Ok(Some(Stored::Record(record.clone()))));
        only(self.actions(), |a| matches!(a, Action::Send { .. }))
    }
}

fn drained(actions: &[Action]) -> Option<(u32, u32, bool)> {
    actions.iter().find_map(|a| match a {
        Action::Drained { settled, remaining, retry, .. } => Some((*settled, *remaining, *retry)),
        _ => None,
    })
}

#[test]
fn drain_resends_at_once_and_answers_once_each_operation_settled() {
    let mut h = harness(true, RetryPolicy::default());
    // Waiting out its backoff for another minute: drain() does not wait.
    let record = stored("k1", T0 - 1_000.0, T0 + 60_000.0, 0.0);
    h.engine.drain(h.t(), CallId(9), DrainFor::Call);
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    let actions = h.round(&lock, &[record.clone()]);
    assert_eq!(kinds(&actions), ["release", "lock"]);
    let send = h.resend(&actions[1], &record);
    h.engine.answered(h.t(), io_of(&send), 201, None);
    let keep = only(h.actions(), |a| matches!(a, Action::Keep { .. }));
    h.engine.wrote(h.t(), io_of(&keep), Ok(()));
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["unlock", "unlock", "lock"], "settled: the next round looks again at once");
    assert_eq!(drained(&h.round(&actions[2], &[])), Some((1, 0, false)));
}

#[test]
fn a_transient_answer_leaves_the_operation_stored_and_the_drain_says_it_remains() {
    for last_chance in [false, true] {
        let mut h = harness(true, RetryPolicy::default());
        let record = stored("k1", T0 - 1_000.0, T0 + 60_000.0, 0.0);
        h.engine.drain(h.t(), CallId(9), DrainFor::Sync { last_chance });
        let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
        let actions = h.round(&lock, &[record.clone()]);
        let send = h.resend(&actions[1], &record);
        h.engine.answered(h.t(), io_of(&send), 503, None);
        let actions = h.actions();
        assert_eq!(kinds(&actions), ["release", "put"], "never a delete without a definitive answer");
        let Action::Put { record: saved, .. } = &actions[1] else { unreachable!() };
        assert!(saved.next_attempt_at > Wall(h.now) && saved.attempts == 2);
        h.engine.wrote(h.t(), io_of(&actions[1]), Ok(()));
        let actions = h.actions();
        assert_eq!(kinds(&actions), ["retry", "unlock", "unlock", "lock"]);
        let actions = &actions[1..];
        // Resent in this pass, and waiting for its backoff: nothing more can go now.
        let last = h.round(&actions[2], &[(**saved).clone()]);
        assert_eq!(drained(&last), Some((0, 1, !last_chance)), "a sync event fails unless it is the last chance");
        assert!(!last.iter().any(|a| matches!(a, Action::Send { .. } | Action::Delete { .. })));
    }
}

#[test]
fn drain_never_sends_before_a_servers_retry_after() {
    let mut h = harness(true, RetryPolicy::default());
    let asked = stored("k1", T0 - 1_000.0, T0 + 30_000.0, T0 + 30_000.0);
    h.engine.drain(h.t(), CallId(9), DrainFor::Call);
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    let actions = h.round(&lock, &[asked]);
    assert_eq!(kinds(&actions), ["release", "drained", "unlock"]);
    assert_eq!(drained(&actions), Some((0, 1, true)));
    assert_eq!(h.engine.poll_timeout(), Some(Mono(30_000.0)), "the drainer wakes when the server said");
}

#[test]
fn drain_goes_through_the_breaker() {
    let policy = RetryPolicy { max_attempts: 1, ..RetryPolicy::default() };
    let mut h = harness(true, policy);
    h.engine.options.breaker = Some(crate::core::breaker::BreakerConfig { failure_threshold: 1, cooldown_ms: 10_000 });
    h.engine.origins = origins::Origins::new(h.engine.options.breaker, h.engine.options.retry_budget);
    let mut records = vec![];
    let (_, io) = h.durable_post("live", &mut records);
    h.engine.answered(h.t(), io, 503, None);
    let put = only(h.actions(), |a| matches!(a, Action::Put { .. }));
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    assert_eq!(h.actions().iter().filter(|a| matches!(a, Action::Lock { .. })).count(), 0, "queued: due later, no round now");
    let record = stored("k2", T0 - 1_000.0, T0 + 60_000.0, 0.0);
    h.engine.drain(h.t(), CallId(9), DrainFor::Call);
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { name: LockName::Drain, .. }));
    let actions = h.round(&lock, &[record.clone()]);
    let key_lock = only(actions, |a| matches!(a, Action::Lock { name: LockName::Key(_), .. }));
    h.engine.locked(h.t(), io_of(&key_lock), true);
    let get = only(h.actions(), |a| matches!(a, Action::Get { .. }));
    h.engine.got(h.t(), io_of(&get), Ok(Some(Stored::Record(record))));
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["put"], "the open breaker defers it: nothing sent");
    let Action::Put { record: deferred, .. } = &actions[0] else { unreachable!() };
    assert!(deferred.next_attempt_at > Wall(h.now));
}

#[test]
fn drain_right_after_start_joins_the_start_s_pass() {
    let mut h = harness(true, quick());
    h.engine.start(h.t(), CallId(1));
    assert_eq!(kinds(&h.actions()), ["started"]);
    h.engine.drain(h.t(), CallId(2), DrainFor::Call);
    assert_eq!(h.actions(), [], "the start's resend on the next task covers it");
    h.engine.handle_timeout(h.t());
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["store-event", "lock"]);
    let record = stored("k1", T0 - 1_000.0, T0 + 60_000.0, 0.0);
    let actions = h.round(&actions[1], &[record.clone()]);
    let send = h.resend(&actions[1], &record);
    h.engine.answered(h.t(), io_of(&send), 503, None);
    let put = only(h.actions(), |a| matches!(a, Action::Put { .. }));
    let Action::Put { record: saved, .. } = &put else { unreachable!() };
    let saved = (**saved).clone();
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { name: LockName::Drain, .. }));
    let actions = h.round(&lock, &[saved]);
    assert_eq!(drained(&actions), Some((0, 1, true)), "one pass: the record was sent once");
}

#[test]
fn drain_offline_sends_nothing_and_says_what_is_stored() {
    let mut h = harness(true, RetryPolicy::default());
    h.engine.offline(h.t());
    h.engine.drain(h.t(), CallId(9), DrainFor::Call);
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    let actions = h.round(&lock, &[stored("a", T0, T0, 0.0), stored("b", T0, T0, 0.0)]);
    assert_eq!(kinds(&actions), ["release", "drained", "unlock"]);
    assert_eq!(drained(&actions), Some((0, 2, true)));
}

#[test]
fn a_sync_event_means_the_network_is_back() {
    let mut h = harness(true, RetryPolicy::default());
    h.engine.offline(h.t());
    h.engine.drain(h.t(), CallId(9), DrainFor::Sync { last_chance: false });
    assert!(h.engine.is_online());
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    let record = stored("a", T0, T0 + 60_000.0, 0.0);
    assert_eq!(kinds(&h.round(&lock, &[record])), ["release", "lock"], "resent, forced");
}

#[test]
fn close_rejects_a_waiting_drain_and_a_failed_listing_rejects_it_with_the_cause() {
    let mut h = harness(true, RetryPolicy::default());
    h.engine.drain(h.t(), CallId(9), DrainFor::Call);
    h.actions();
    h.engine.close(h.t());
    let actions = h.actions();
    assert!(actions.iter().any(|a| matches!(a, Action::Reject { call: CallId(9), failure } if failure.kind == ErrorKind::Closed)));
    h.engine.drain(h.t(), CallId(10), DrainFor::Call);
    assert!(matches!(&h.actions()[..], [Action::Reject { call: CallId(10), failure }] if failure.kind == ErrorKind::Closed));

    let mut h = harness(true, RetryPolicy::default());
    h.engine.drain(h.t(), CallId(9), DrainFor::Call);
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    h.engine.locked(h.t(), io_of(&lock), true);
    let list = only(h.actions(), |a| matches!(a, Action::List { .. }));
    h.engine.listed(h.t(), io_of(&list), Err(()));
    let actions = h.actions();
    assert_eq!(kinds(&actions), ["reject", "unlock"], "the caller gets the failure, not the listeners");
    let Action::Reject { failure, .. } = &actions[0] else { unreachable!() };
    assert_eq!((failure.kind, failure.action, failure.cause.clone()), (ErrorKind::Storage, Some(StoreAction::List), Some(Cause::Io(io_of(&list)))));
}

fn synced(api: bool, background_sync: bool) -> Harness {
    let options = Options { policy: quick(), background_sync, breaker: None, ..Options::default() };
    let mut engine = Engine::new(EngineConfig { options, persistent: true, seed: 7, online: true, sync_api: api, shared: false });
    engine.set_listening(u32::MAX);
    Harness { engine, now: T0, next_call: 0 }
}

/// Runs a durable call to 'queued' (two network failures); returns what followed its last write.
fn queue_one(h: &mut Harness, key: &str) -> Vec<Action> {
    let mut records = vec![];
    let (_, io) = h.durable_post(key, &mut records);
    h.engine.failed(h.t(), io, AttemptFailure::Network { offline: false });
    let put = only(h.actions(), |a| matches!(a, Action::Put { .. }));
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    // The retry's timer; an earlier operation's drain round may wake first
    // (its drain lock is left unanswered: no round runs here).
    let send = (0..3)
        .find_map(|_| {
            h.advance_to_timeout();
            h.actions().into_iter().find(|a| matches!(a, Action::Send { .. }))
        })
        .expect("the retry is sent");
    h.engine.failed(h.t(), io_of(&send), AttemptFailure::Network { offline: false });
    let put = only(h.actions(), |a| matches!(a, Action::Put { .. }));
    h.engine.wrote(h.t(), io_of(&put), Ok(()));
    h.actions()
}

#[test]
fn a_queued_operation_asks_for_a_sync_event_once_while_one_is_being_registered() {
    let mut h = synced(true, true);
    let actions = queue_one(&mut h, "a");
    // No drain round yet: the drainer wakes when the operation is due.
    assert_eq!(kinds(&actions), ["queued", "register-sync", "reject", "unlock"]);
    h.now += 1.0;
    let actions = queue_one(&mut h, "b");
    assert!(!kinds(&actions).contains(&"register-sync"), "the registration under way covers it");
    h.engine.sync_registered(h.t(), true);
    h.now += 1.0;
    assert!(kinds(&queue_one(&mut h, "c")).contains(&"register-sync"), "registered: a later one asks again");

    for (api, option) in [(false, true), (true, false)] {
        let mut h = synced(api, option);
        assert!(!kinds(&queue_one(&mut h, "a")).contains(&"register-sync"), "api {api}, backgroundSync {option}");
    }
}

#[test]
fn a_page_shown_resends_at_once_unless_a_sync_event_will() {
    let mut h = synced(false, true);
    h.engine.visible(h.t());
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    // Waiting out our backoff: forced all the same.
    let record = stored("k1", T0 - 1_000.0, T0 + 60_000.0, 0.0);
    assert_eq!(kinds(&h.round(&lock, &[record.clone()])), ["release", "lock"]);

    let mut h = synced(true, true);
    h.engine.sync_registered(h.t(), true);
    h.engine.visible(h.t());
    let lock = only(h.actions(), |a| matches!(a, Action::Lock { .. }));
    assert_eq!(kinds(&h.round(&lock, &[record])), ["release", "unlock"], "only what is due goes: the sync event will");
}
