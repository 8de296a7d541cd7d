//! Which pending operations to resend, when, and in what order.
//!
//! The outbox resends the operations of one origin one at a time, oldest
//! first: a later operation (say "update order") never overtakes an earlier
//! one ("create order") on replay. Different origins do not wait for each
//! other. An operation older than the TTL is not resent at all: the server
//! may have forgotten its key, and a resend could apply it twice.
//!
//! A resend has no deadline (nobody is waiting on it); it keeps the live
//! call's backoff, growing with each attempt up to the cap, until the server
//! gives a definitive answer or the record expires.

#[allow(unused_imports)]
use crate::prelude::*;
use super::clock::Wall;
use super::key::origin_of;
use super::outcome::{Outcome, RetryReason};
use super::record::Record;
use super::rng::SplitMix64;
use super::schedule::RetryPolicy;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DrainPlan {
    /// Past the TTL: remove and report, do not send.
    pub expired: Vec<String>,
    /// Send one attempt of each now (at most one per origin).
    pub ready: Vec<String>,
    /// For each of `ready`, the records of its origin due after it, in
    /// order: each goes as soon as the one before it settles, without
    /// listing the store again (one listing per round, not per record).
    pub behind: Vec<Vec<String>>,
    /// When to look again if nothing else happens first.
    pub wake_at: Option<Wall>,
    /// A record waits behind one being sent here: look again when that
    /// send ends (no time can say when).
    pub waits_for_busy: bool,
}

/// Resend order: creation time, then creation sequence, then key.
///
/// `records` oldest first; the key breaks ties, so the order is total.
pub fn replay_order(records: &[Record]) -> Vec<&Record> {
    let order = crate::core::sort::sorted_order(records.len(), |a, b| match (records.get(a), records.get(b)) {
        (Some(a), Some(b)) => {
            a.created_at.0.total_cmp(&b.created_at.0).then(a.seq.total_cmp(&b.seq)).then_with(|| a.key.cmp(&b.key)).is_lt()
        }
        _ => false,
    });
    order.into_iter().filter_map(|i| records.get(i)).collect()
}

/// Plans one drain round. `busy(key)` is true for an operation being sent
/// right now (here or, through a lock, elsewhere): its origin waits for it.
/// `forced(key)` is true for a record that may skip our own backoff this
/// round (the caller knows the network may be back, and has not resent it
/// since); a wait the server asked for is never skipped.
pub fn plan(
    records: &[Record],
    now: Wall,
    ttl_ms: u64,
    forced: impl Fn(&str) -> bool,
    busy: impl Fn(&str) -> bool,
) -> DrainPlan {
    let sorted = replay_order(records);
    let mut out = DrainPlan::default();
    // Origins already taken this round, whether by a record being sent, and
    // (for an origin whose head is ready) where its queue is, while it grows.
    let mut blocked: Vec<(&str, bool, Option<usize>)> = Vec::new();
    let mut wake = |at: Wall| out.wake_at = Some(out.wake_at.map_or(at, |w| w.min(at)));
    for &r in &sorted {
        let origin = origin_of(&r.url);
        let holder = blocked.iter().find(|(o, ..)| *o == origin).map(|(_, busy, _)| *busy);
        if busy(&r.key) {
            // Being sent: it holds its origin, and is never expired under its sender.
            match blocked.iter_mut().find(|(o, ..)| *o == origin) {
                // Behind a ready head: its queue stops here.
                Some(entry) => entry.2 = None,
                None => blocked.push((origin, true, None)),
            }
            continue;
        }
        let expires_at = r.created_at + ttl_ms as f64;
        if now >= expires_at || r.expired_at.is_some() {
            out.expired.push(r.key.clone());
            continue;
        }
        let due_at = if forced(&r.key) { r.not_before } else { r.next_attempt_at.max(r.not_before) };
        if let Some(by_busy) = holder {
            out.waits_for_busy |= by_busy;
            // Due behind a ready head: it goes next, in order; the first
            // one not due ends the queue.
            let queue = blocked.iter_mut().find(|(o, ..)| *o == origin).and_then(|entry| {
                if due_at > now {
                    entry.2 = None;
                }
                entry.2
            });
            if let Some(i) = queue {
                out.behind[i].push(r.key.clone());
            }
            continue;
        }
        if due_at <= now {
            blocked.push((origin, false, Some(out.ready.len())));
            out.ready.push(r.key.clone());
            out.behind.push(Vec::new());
        } else {
            blocked.push((origin, false, None));
            wake(due_at.min(expires_at));
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resend {
    /// Definitive: delete the record and report it settled.
    Settle,
    /// Transient: persist `attempts`, `next_attempt_at` and `not_before`,
    /// try again then. `not_before` is the server's floor (`EPOCH`: none).
    RetryAt { next_attempt_at: Wall, not_before: Wall, delay_ms: u64, reason: RetryReason },
}

/// What follows one resend attempt. `attempts` counts it already.
pub fn after_resend(policy: &RetryPolicy, attempts: u32, outcome: &Outcome, now: Wall, rng: &mut SplitMix64) -> Resend {
    let Some(reason) = outcome.retry_reason(&policy.retry_on) else {
        return Resend::Settle;
    };
    let (delay_ms, server_asked) = match *outcome {
        Outcome::Response { retry_after_ms: Some(ms), .. } => (ms, true),
        _ => (policy.backoff.delay_ms(attempts.saturating_sub(1), rng), false),
    };
    let now = if now.0.is_finite() { now } else { Wall::EPOCH };
    let next_attempt_at = now + delay_ms as f64;
    let not_before = if server_asked { next_attempt_at } else { Wall::EPOCH };
    Resend::RetryAt { next_attempt_at, not_before, delay_ms, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::backoff::Backoff;

    fn rec(key: &str, url: &str, created_at: f64, seq: f64, next: f64) -> Record {
        Record {
            key: key.into(),
            method: "POST".into(),
            url: url.into(),
            headers: vec![],
            body: None,
            fingerprint: String::new(),
            attempts: 1,
            created_at: Wall(created_at),
            seq,
            next_attempt_at: Wall(next),
            not_before: Wall(0.0),
            expired_at: None,
            no_answer: false,
            trace: None,
        }
    }

    const DAY: u64 = 86_400_000;

    #[test]
    fn one_at_a_time_per_origin_oldest_first() {
        let records = [
            rec("b", "http://a.test/2", 20.0, 0.0, 0.0),
            rec("a", "http://a.test/1", 10.0, 0.0, 0.0),
            rec("c", "http://b.test/1", 30.0, 0.0, 0.0),
        ];
        let p = plan(&records, Wall(100.0), DAY, |_| false, |_| false);
        assert_eq!(p.ready, ["a", "c"]);
        assert_eq!(p.behind, [vec!["b".to_string()], vec![]], "b goes after a, without another listing");
        assert_eq!(p.wake_at, None);
    }

    #[test]
    fn a_queue_behind_a_ready_head_stops_at_the_first_record_not_due() {
        let records = [
            rec("a1", "http://a.test/", 1.0, 0.0, 0.0),
            rec("a2", "http://a.test/", 2.0, 0.0, 0.0),
            rec("a3", "http://a.test/", 3.0, 0.0, 900.0),
            rec("a4", "http://a.test/", 4.0, 0.0, 0.0),
        ];
        let p = plan(&records, Wall(100.0), DAY, |_| false, |_| false);
        assert_eq!((p.ready, p.behind), (vec!["a1".to_string()], vec![vec!["a2".to_string()]]));
        let p = plan(&records, Wall(100.0), DAY, |_| false, |k| k == "a2");
        assert_eq!(p.behind, [Vec::<String>::new()], "a busy record ends the queue too");
    }

    #[test]
    fn sorts_like_a_full_comparison_sort() {
        let mut rng = SplitMix64::new(3);
        for _ in 0..200 {
            let n = rng.up_to(12) as usize;
            let records: Vec<Record> = (0..n)
                .map(|i| rec(&format!("k{}", rng.up_to(5)) , "http://a.test/", rng.up_to(3) as f64, rng.up_to(2) as f64, i as f64))
                .collect();
            let mut expected = records.clone();
            expected.sort_by(|a, b| a.created_at.0.total_cmp(&b.created_at.0).then(a.seq.total_cmp(&b.seq)).then_with(|| a.key.cmp(&b.key)));
            let sorted = replay_order(&records);
            let keys = |v: Vec<&Record>| v.iter().map(|r| (r.created_at, r.seq, r.key.clone())).collect::<Vec<_>>();
            assert_eq!(keys(sorted), keys(expected.iter().collect()));
        }
    }

    #[test]
    fn sequence_breaks_ties_within_a_millisecond() {
        let records = [rec("z", "http://a.test/", 10.0, 1.0, 0.0), rec("y", "http://a.test/", 10.0, 2.0, 0.0)];
        assert_eq!(plan(&records, Wall(100.0), DAY, |_| false, |_| false).ready, ["z"]);
    }

    #[test]
    fn a_busy_or_waiting_head_blocks_its_origin_only() {
        let records = [
            rec("a", "http://a.test/", 10.0, 0.0, 500.0),
            rec("a2", "http://a.test/", 11.0, 0.0, 0.0),
            rec("b", "http://b.test/", 12.0, 0.0, 0.0),
            rec("b2", "http://b.test/", 13.0, 0.0, 0.0),
            rec("c", "http://c.test/", 14.0, 0.0, 0.0),
        ];
        let p = plan(&records, Wall(100.0), DAY, |_| false, |k| k == "b");
        assert_eq!(p.ready, ["c"]);
        assert_eq!(p.wake_at, Some(Wall(500.0)));
        assert!(p.waits_for_busy, "b2 waits for b, whose send ends at no known time");
        let p = plan(&records[..1], Wall(100.0), DAY, |_| false, |k| k == "a");
        assert!(!p.waits_for_busy, "nothing waits behind a");
    }

    #[test]
    fn a_forced_round_skips_our_backoff_but_not_the_servers() {
        let mut asked = rec("asked", "http://a.test/", 10.0, 0.0, 900.0);
        asked.not_before = Wall(900.0);
        let records = [rec("ours", "http://b.test/", 10.0, 0.0, 900.0), asked];
        assert_eq!(plan(&records, Wall(100.0), DAY, |_| false, |_| false).ready, Vec::<String>::new());
        let forced = plan(&records, Wall(100.0), DAY, |_| true, |_| false);
        assert_eq!(forced.ready, ["ours"]);
        assert_eq!(forced.wake_at, Some(Wall(900.0)));
    }

    #[test]
    fn a_record_marked_expired_stays_expired_when_the_clock_goes_back() {
        let mut r = rec("marked", "http://a.test/", 5_000.0, 0.0, 0.0);
        r.expired_at = Some(Wall(9_000.0));
        let p = plan(&[r], Wall(100.0), DAY, |_| true, |_| false);
        assert_eq!(p.expired, ["marked"]);
        assert!(p.ready.is_empty());
    }

    #[test]
    fn a_record_being_sent_is_never_expired_under_its_sender() {
        let records = [rec("live", "http://a.test/", 0.0, 0.0, 0.0), rec("next", "http://a.test/", 5.0, 0.0, 0.0)];
        let p = plan(&records, Wall(10_000.0), 1_000, |_| false, |k| k == "live");
        assert_eq!(p.expired, ["next"]);
        assert!(p.ready.is_empty());
    }

    #[test]
    fn expired_records_are_reported_not_sent_and_unblock_the_origin() {
        let records = [rec("old", "http://a.test/", 0.0, 0.0, 0.0), rec("new", "http://a.test/", 50.0, 0.0, 0.0)];
        let p = plan(&records, Wall(1_000.0), 1_000, |_| false, |_| false);
        assert_eq!(p.expired, ["old"]);
        assert_eq!(p.ready, ["new"]);
    }

    #[test]
    fn resend_backoff_grows_without_a_deadline_and_honours_retry_after() {
        let policy = RetryPolicy { backoff: Backoff { base_ms: 100, cap_ms: 1_000 }, ..RetryPolicy::default() };
        let mut rng = SplitMix64::new(5);
        for attempts in 1..50 {
            match after_resend(&policy, attempts, &Outcome::Network, Wall(0.0), &mut rng) {
                Resend::RetryAt { delay_ms, next_attempt_at, not_before, .. } => {
                    assert!(delay_ms <= policy.backoff.ceiling_ms(attempts - 1));
                    assert_eq!(next_attempt_at, Wall(delay_ms as f64));
                    assert_eq!(not_before, Wall(0.0));
                }
                Resend::Settle => panic!("a network error is never definitive"),
            }
        }
        let asked = Outcome::Response { status: 503, retry_after_ms: Some(90_000) };
        assert!(matches!(
            after_resend(&policy, 3, &asked, Wall(10.0), &mut rng),
            Resend::RetryAt { next_attempt_at, not_before, .. } if next_attempt_at == Wall(90_010.0) && not_before == next_attempt_at
        ));
        let done = Outcome::Response { status: 201, retry_after_ms: None };
        assert_eq!(after_resend(&policy, 3, &done, Wall(10.0), &mut rng), Resend::Settle);
        let refused = Outcome::Response { status: 422, retry_after_ms: None };
        assert_eq!(after_resend(&policy, 3, &refused, Wall(10.0), &mut rng), Resend::Settle);
    }
}
