//! The figures behind the guarantees that were once known bugs (see
//! simulation.rs): how often each guarded situation arose, so a clean run
//! shows it was exercised, and the attempts in flight, to check expiry.

use std::cell::RefCell;
use std::rc::Rc;

#[derive(Clone, Debug, Default)]
pub struct Checks {
    /// Drain rounds that resent nothing: every ready key was locked elsewhere.
    pub idle_rounds: u64,
    /// The most of them back to back (no virtual time between), and the
    /// runs longer than drain::MAX_IDLE_STREAK (violations: a spin).
    pub longest_idle_streak: u64,
    pub long_idle_streaks: u64,
    /// Server-asked live waits in progress when resume()/'online' woke waits.
    pub asked_waits_at_wake: u64,
    /// Live attempts sent before the server's Retry-After had passed (violations).
    pub retry_after_cut_short: u64,
    /// Records found past their TTL by a round of the client sending them.
    pub in_flight_past_ttl: u64,
    /// Expiries left alone: another context held the key's lock.
    pub expiries_left_to_holder: u64,
    /// 'expired' reported again for the same operation (a crash between
    /// the report and the delete: at-least-once, accepted).
    pub repeated_expired: u64,
    /// Operations reported both expired and settled (violations), and the
    /// excused ones: the caller resubmitted the operation (a second life),
    /// or no Web Locks (processes sharing a store must serialise themselves).
    pub expired_and_settled: u64,
    pub expired_and_settled_resubmitted: u64,
    pub expired_and_settled_without_locks: u64,
    /// Expiries reported while an attempt of the record was in flight (violations).
    pub expired_under_sender: u64,
    /// 'settled' reported again for the same operation, same status (the
    /// server replayed): in all (a resubmission, processes without Web
    /// Locks both sending), and after a crash between the report and the
    /// delete left the record.
    pub repeated_settled: u64,
    pub repeated_settled_after_crash: u64,
    /// Known bug 6: operations reported 'expired' after 'settled' (a crash
    /// between the settled report and its delete left the record, which
    /// then outlived its TTL; see simulation.rs). Counted apart from
    /// `expired_and_settled`.
    pub expired_after_settled: u64,
    pub expired_after_settled_example: Option<String>,
    /// Records a drain round found marked expired while the wall clock said
    /// they were not (it went back): expired all the same, never resent.
    pub marked_expired_before_ttl: u64,
    /// 'quarantined' events for unreadable values.
    pub quarantined_reports: u64,
    /// `drain()` calls answered, the operations they saw settle, those
    /// that said some remained; pages shown; sync registrations asked.
    pub drains_answered: u64,
    pub drains_settled: u64,
    pub drains_left_some: u64,
    pub pages_shown: u64,
    pub sync_registrations: u64,
    /// Live calls that ran out of attempts (each after exactly maxAttempts
    /// that counted); failed attempts the host reported while the device
    /// was offline, some before the engine's 'offline' event.
    pub exhausted_checked: u64,
    pub offline_failures: u64,
    /// `result(key)` reads (app.rs): answered with a kept status, with
    /// null; asked after another read got the answer, and of those, answered
    /// again (each after the answer was kept again or its delete failed).
    pub results_read: u64,
    pub results_null: u64,
    pub results_after_a_read: u64,
    pub results_read_again: u64,
    /// Timer wake-ups with nothing due (the host kept an earlier timer, as io/host.js does).
    pub early_wakeups: u64,
}

impl Checks {
    pub fn add(&mut self, o: &Checks) {
        self.idle_rounds += o.idle_rounds;
        self.longest_idle_streak = self.longest_idle_streak.max(o.longest_idle_streak);
        self.long_idle_streaks += o.long_idle_streaks;
        self.asked_waits_at_wake += o.asked_waits_at_wake;
        self.retry_after_cut_short += o.retry_after_cut_short;
        self.in_flight_past_ttl += o.in_flight_past_ttl;
        self.expiries_left_to_holder += o.expiries_left_to_holder;
        self.repeated_expired += o.repeated_expired;
        self.expired_and_settled += o.expired_and_settled;
        self.expired_and_settled_resubmitted += o.expired_and_settled_resubmitted;
        self.expired_and_settled_without_locks += o.expired_and_settled_without_locks;
        self.expired_under_sender += o.expired_under_sender;
        self.repeated_settled += o.repeated_settled;
        self.repeated_settled_after_crash += o.repeated_settled_after_crash;
        self.expired_after_settled += o.expired_after_settled;
        self.marked_expired_before_ttl += o.marked_expired_before_ttl;
        self.quarantined_reports += o.quarantined_reports;
        self.drains_answered += o.drains_answered;
        self.drains_settled += o.drains_settled;
        self.drains_left_some += o.drains_left_some;
        self.pages_shown += o.pages_shown;
        self.sync_registrations += o.sync_registrations;
        self.exhausted_checked += o.exhausted_checked;
        self.offline_failures += o.offline_failures;
        self.results_read += o.results_read;
        self.results_null += o.results_null;
        self.results_after_a_read += o.results_after_a_read;
        self.results_read_again += o.results_read_again;
        self.early_wakeups += o.early_wakeups;
    }
}

/// Attempts on the wire, by key and client instance. An entry lives as
/// long as its sending task: a crash drops it with the task.
#[derive(Clone, Default)]
pub struct InFlight(Rc<RefCell<Vec<(String, u64)>>>);

pub struct Sending {
    registry: InFlight,
    entry: (String, u64),
}

impl InFlight {
    pub fn start(&self, key: &str, instance: u64) -> Sending {
        let entry = (key.to_string(), instance);
        self.0.borrow_mut().push(entry.clone());
        Sending { registry: self.clone(), entry }
    }

    /// Instances with an attempt of `key` in flight.
    pub fn senders(&self, key: &str) -> Vec<u64> {
        self.0.borrow().iter().filter(|(k, _)| k == key).map(|(_, i)| *i).collect()
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        let mut entries = self.registry.0.borrow_mut();
        if let Some(i) = entries.iter().position(|e| *e == self.entry) {
            entries.swap_remove(i);
        }
    }
}
