//! Exact sequences for the retry budget and the tabs' shared breakers
//! (attempt.rs, fleet.rs), driven by hand on a virtual clock.

use super::tests::{io_of, kinds, T0};
use super::*;
use crate::core::breaker::{BreakerConfig, Transition};
use crate::core::budget::BudgetConfig;
use crate::core::contract::{ErrorKind, GiveUpReason, QueueReason};
use crate::core::schedule::RetryPolicy;

const URL: &str = "http://127.0.0.1:9/orders";
const ORIGIN: &str = "http://127.0.0.1:9";

/// A tab: its engine and its clock.
struct Tab {
    engine: Engine,
    mono: f64,
    next_call: u32,
}

/// Retries wait nothing (the budget is what stops them); a shared tab has said hello.
fn tab(persistent: bool, shared: bool, breaker: Option<BreakerConfig>, budget: Option<BudgetConfig>, max_attempts: u32) -> Tab {
    let backoff = crate::core::backoff::Backoff { base_ms: 0, cap_ms: 0 };
    let policy = RetryPolicy { max_attempts, backoff, ..RetryPolicy::default() };
    let options = Options { policy, breaker, retry_budget: budget, ..Options::default() };
    let mut engine = Engine::new(EngineConfig { options, persistent, seed: 7, online: true, sync_api: false, shared });
    engine.set_listening(u32::MAX);
    if shared {
        engine.hello();
    }
    Tab { engine, mono: 0.0, next_call: 0 }
}

impl Tab {
    fn t(&self) -> Now {
        Now { wall: Wall(T0 + self.mono), mono: Mono(self.mono) }
    }

    fn actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.engine.poll_action()).collect()
    }

    /// A POST that is not durable; returns its first action.
    fn post(&mut self, durable: bool) -> Vec<Action> {
        self.next_call += 1;
        let request = CallRequest {
            call: CallId(self.next_call),
            method: "POST".into(),
            url: URL.into(),
            key: Arg::Given(format!("k{}", self.next_call)),
            header_key: None,
            random: [0; 16],
            body: Some(b"{}".to_vec()),
            headers: vec![],
            durable: Arg::Given(durable),
            aborted: false,
            from_step: None,
        };
        self.engine.call(self.t(), request).expect("accepted");
        self.actions()
    }

    /// A durable POST through its lock, read and persist; returns its first send.
    fn durable_post(&mut self) -> Vec<Action> {
        let post = self.post(true);
        self.engine.locked(self.t(), io_of(&post[0]), true);
        let get = self.actions();
        self.engine.got(self.t(), io_of(&get[0]), Ok(None));
        let put = self.actions();
        self.engine.wrote(self.t(), io_of(&put[0]), Ok(()));
        self.actions()
    }

    /// `n` calls, each answered 503 (the breaker's failures); returns what
    /// followed, the notes for other tabs included.
    fn fail(&mut self, n: usize) -> Vec<Action> {
        let mut out = Vec::new();
        for _ in 0..n {
            let call = self.post(false);
            out.extend(self.answer_all(&call, 503));
        }
        out
    }

    /// Answers every send in `actions` with `status`; returns what follows.
    fn answer_all(&mut self, actions: &[Action], status: u16) -> Vec<Action> {
        let mut out = Vec::new();
        for a in actions {
            if let Action::Send { io, .. } = a {
                self.engine.answered(self.t(), *io, status, None);
                out.extend(self.actions());
            }
        }
        out
    }

    fn timer(&mut self) -> Vec<Action> {
        self.mono = self.engine.poll_timeout().expect("a timer").0;
        self.engine.handle_timeout(self.t());
        self.actions()
    }

    fn hear(&mut self, from: &[Action]) -> Vec<Action> {
        for a in from {
            if let Action::Announce { note } = a {
                self.engine.heard(self.t(), note);
            }
        }
        self.actions()
    }
}

fn sends(actions: &[Action]) -> usize {
    actions.iter().filter(|a| matches!(a, Action::Send { .. })).count()
}

const SMALL: BudgetConfig = BudgetConfig { capacity: 10, retry_cost: 5, timeout_cost: 10, refill_per_sec: 1 };

#[test]
fn a_live_call_retries_while_the_budget_pays_then_ends_with_its_last_answer() {
    let mut t = tab(false, false, None, Some(SMALL), 10);
    let mut actions = t.post(false);
    let mut sent = 0;
    while sends(&actions) == 1 {
        sent += 1;
        actions = t.answer_all(&actions, 503);
        if actions.iter().all(|a| !matches!(a, Action::Send { .. })) && t.engine.poll_timeout().is_some() {
            actions = t.timer();
        }
    }
    // The first attempt, then the two retries 10 tokens pay for.
    assert_eq!(sent, 3);
    assert!(actions.contains(&Action::Emit(Event::GiveUp { key: Some("k1".into()), reason: GiveUpReason::Budget, attempts: 3, status: Some(503) })));
    assert!(matches!(actions.last(), Some(Action::Resolve { .. })), "the last 503 is the caller's answer: {actions:?}");
    // A first attempt is never refused, with the bucket empty.
    assert_eq!(sends(&t.post(false)), 1);
}

#[test]
fn a_network_failure_costs_more_and_its_refusal_says_budget() {
    let mut t = tab(false, false, None, Some(SMALL), 10);
    let first = t.post(false);
    t.engine.failed(t.t(), io_of(&first[0]), AttemptFailure::Network { offline: false });
    let retry = t.timer();
    assert_eq!(sends(&retry), 1, "10 tokens pay one retry after no answer");
    let send = retry.iter().find(|a| matches!(a, Action::Send { .. })).unwrap();
    t.engine.failed(t.t(), io_of(send), AttemptFailure::Network { offline: false });
    let end = t.actions();
    let Some(Action::Reject { failure, .. }) = end.iter().find(|a| matches!(a, Action::Reject { .. })) else { panic!("{end:?}") };
    assert_eq!((failure.kind, failure.reason, failure.attempts), (ErrorKind::Exhausted, Some(QueueReason::Budget), 2));
}

#[test]
fn a_definitive_answer_pays_the_budget_back() {
    let mut t = tab(false, false, None, Some(SMALL), 10);
    // Two retries spend the bucket; each success of a retry pays its 5 back.
    for _ in 0..3 {
        let first = t.post(false);
        let retry = t.answer_all(&first, 503);
        let retry = if sends(&retry) == 0 { t.timer() } else { retry };
        assert_eq!(sends(&retry), 1);
        t.answer_all(&retry, 201);
    }
}

#[test]
fn a_durable_call_the_budget_cannot_pay_for_is_queued_until_it_can() {
    let mut t = tab(true, false, None, Some(SMALL), 10);
    let mut actions = t.durable_post();
    // Two retries spend the 10 tokens: each transient answer's progress is written, then the retry goes.
    for _ in 0..2 {
        actions = t.answer_all(&actions, 503);
        let put = actions.iter().find(|a| matches!(a, Action::Put { .. })).expect("progress");
        t.engine.wrote(t.t(), io_of(put), Ok(()));
        actions = t.actions();
        assert_eq!(sends(&actions), 1);
    }
    actions = t.answer_all(&actions, 503);
    let queued = actions.iter().find_map(|a| match a {
        Action::Put { record, step: Step::CallQueued, .. } => Some(record.clone()),
        _ => None,
    });
    let record = queued.unwrap_or_else(|| panic!("{:?}", kinds(&actions)));
    // Empty: 5 tokens at 1 a second.
    assert_eq!(record.next_attempt_at, t.t().wall + 5_000.0);
    t.engine.wrote(t.t(), io_of(actions.iter().find(|a| matches!(a, Action::Put { .. })).unwrap()), Ok(()));
    assert!(t.actions().contains(&Action::Emit(Event::Queued { key: "k1".into(), reason: QueueReason::Budget, attempts: 3, status: Some(503) })));
}

const BREAKER: BreakerConfig = BreakerConfig { failure_threshold: 2, cooldown_ms: 1_000 };

#[test]
fn tabs_open_on_their_failures_together_and_the_others_fail_fast() {
    let (mut a, mut b) = (tab(false, true, Some(BREAKER), None, 1), tab(false, true, Some(BREAKER), None, 1));
    let hello = a.actions();
    assert!(matches!(hello.as_slice(), [Action::Announce { .. }]), "a starting tab asks: {hello:?}");
    // One failure in each tab: two failures for the origin.
    let a1 = a.post(false);
    let told = a.answer_all(&a1, 503);
    b.hear(&told);
    let b1 = b.post(false);
    let b_told = b.answer_all(&b1, 503);
    assert!(b_told.contains(&Action::Emit(Event::Breaker { origin: ORIGIN.into(), state: Transition::Opened })));
    let heard = a.hear(&b_told);
    assert!(heard.contains(&Action::Emit(Event::Breaker { origin: ORIGIN.into(), state: Transition::Opened })));
    // Both fail fast now, neither sends.
    for t in [&mut a, &mut b] {
        let call = t.post(false);
        assert_eq!(sends(&call), 0);
        assert!(call.iter().any(|a| matches!(a, Action::Reject { failure, .. } if failure.kind == ErrorKind::CircuitOpen)));
    }
}

#[test]
fn one_tab_probes_under_the_lock_and_keeps_it_through_the_cooldown_it_opened() {
    let (mut a, mut b) = (tab(false, true, Some(BREAKER), None, 1), tab(false, true, Some(BREAKER), None, 1));
    let (ha, hb) = (a.actions(), b.actions());
    a.hear(&hb);
    b.hear(&ha);
    let told = a.fail(2);
    b.hear(&told);
    a.mono = 1_000.0;
    b.mono = 1_000.0;
    // A's cooldown is over: its probe asks for the lock first.
    let probe = a.post(false);
    let Some(Action::Lock { io, name: LockName::Probe(origin), wait: false, .. }) = probe.first() else { panic!("{probe:?}") };
    assert_eq!(origin, ORIGIN);
    // B asks too; the lock is A's, so B fails fast without sending.
    let b_probe = b.post(false);
    b.engine.locked(b.t(), io_of(&b_probe[0]), false);
    let refused = b.actions();
    assert_eq!(sends(&refused), 0);
    a.engine.locked(a.t(), *io, true);
    let sent = a.actions();
    assert_eq!(sends(&sent), 1);
    assert!(sent.contains(&Action::Emit(Event::Breaker { origin: ORIGIN.into(), state: Transition::HalfOpened })));
    // The probe fails: open again, and the lock stays A's until that cooldown ends.
    let failed = a.answer_all(&sent, 503);
    assert!(!failed.iter().any(|x| matches!(x, Action::Unlock { .. })), "{failed:?}");
    b.hear(&failed);
    let until = a.engine.poll_timeout().expect("the lock is given back at the cooldown's end").0;
    assert!((1_500.0..=2_000.0).contains(&until), "{until}");
    assert_eq!(a.timer(), [Action::Unlock { name: LockName::Probe(ORIGIN.into()) }]);
}

#[test]
fn a_tab_that_starts_later_learns_the_open_breaker_and_the_spent_budget() {
    let mut a = tab(false, true, Some(BREAKER), Some(SMALL), 1);
    a.actions();
    a.fail(2);
    a.engine.spend(a.t(), ORIGIN, 7);
    let mut late = tab(false, true, Some(BREAKER), Some(SMALL), 1);
    let hello = late.actions();
    let state = a.hear(&hello);
    assert!(matches!(state.as_slice(), [Action::Announce { .. }]), "{state:?}");
    let learned = late.hear(&state);
    assert!(learned.contains(&Action::Emit(Event::Breaker { origin: ORIGIN.into(), state: Transition::Opened })));
    assert_eq!(sends(&late.post(false)), 0, "open: fails fast");
    assert_eq!(late.engine.origins.get(ORIGIN).budget.level(&SMALL, Mono(0.0)), 3.0);
}

#[test]
fn without_a_channel_each_client_keeps_its_own() {
    let (mut a, mut b) = (tab(false, false, Some(BREAKER), None, 1), tab(false, false, Some(BREAKER), None, 1));
    assert_eq!(a.actions(), []);
    let told = a.fail(2);
    assert!(!told.iter().any(|x| matches!(x, Action::Announce { .. })));
    assert_eq!(b.hear(&told), []);
    assert_eq!(sends(&b.post(false)), 1);
}

#[test]
fn a_resend_carries_the_first_traced_attempt() {
    let mut t = tab(true, false, None, None, 10);
    let send = t.durable_post();
    let io = io_of(&send[0]);
    let first = crate::core::record::tests::TRACE;
    t.engine.traced(io, first);
    t.engine.traced(io, "not a trace context");
    t.engine.failed(t.t(), io, AttemptFailure::Network { offline: false });
    let progress = t.actions();
    let Some(Action::Put { record, .. }) = progress.iter().find(|a| matches!(a, Action::Put { .. })) else { panic!("{progress:?}") };
    assert_eq!((record.trace.as_deref(), record.no_answer), (Some(first), true));
}

#[test]
fn an_answer_kept_in_one_tab_is_told_to_the_others_once_written() {
    let (mut a, mut b) = (tab(true, true, None, None, 1), tab(true, true, None, None, 1));
    let (ha, hb) = (a.actions(), b.actions());
    a.hear(&hb);
    b.hear(&ha);
    let write = a.engine.keep_answer(a.t(), "k9".into(), 201, 2, Io(900));
    let keep = a.actions();
    assert!(!keep.iter().any(|x| matches!(x, Action::Announce { .. })), "not before the write commits: {keep:?}");
    a.engine.wrote(a.t(), write, Ok(()));
    let told = a.actions();
    let heard = b.hear(&told);
    let settled = Event::Settled { key: Some("k9".into()), status: 201, attempts: 2, resumed: true, response: None };
    assert!(heard.contains(&Action::Emit(settled)), "{heard:?}");
    // A failed write is not told.
    let write = a.engine.keep_answer(a.t(), "k10".into(), 201, 1, Io(901));
    a.actions();
    a.engine.wrote(a.t(), write, Err(()));
    assert!(!a.actions().iter().any(|x| matches!(x, Action::Announce { .. })));
}
