//! The record a store keeps per (scope, key), and the three steps every store
//! performs on it, each atomically and in one round trip. This module is the
//! contract written as code: [`Slot`] is the reference implementation the
//! native tests drive (many processes, crashes, a virtual clock), and every
//! real store (memory, Redis Lua, PostgreSQL, Durable Object, Deno KV) is
//! checked against the same rules by the shared conformance suite.
//!
//! Time is the store's own: the caller hands over durations (the lease, the
//! ttl) and the store compares and computes every `until` with its clock
//! (Redis `TIME` in the script, PostgreSQL `clock_timestamp()` in the
//! statement), so processes whose clocks disagree by minutes still agree on
//! who holds a key. Stores without a clock of their own (memory, a Durable
//! Object, Deno KV) use the caller's `now`, which there is the same process
//! or the clock the processes share.
//!
//! - `claim`: no record, or its `until` has passed → write an in-flight record
//!   owned by the caller's fresh token, `until` = now + the lease (a takeover,
//!   when the old one was an expired lease) → `Claimed`. Otherwise → the
//!   record as it is.
//! - `complete`: only the owner of the in-flight record may store the answer;
//!   a takeover changed the owner, so a late completion is refused (fencing).
//!   Never two answers, never an overwrite.
//! - `release`: the owner gives the key back (the handler threw or answered
//!   5xx), so a resend runs the handler again.
//!
//! A store may forget a record once its `until` has passed (Redis does at
//! once; PostgreSQL and memory when swept).

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub fingerprint: String,
    /// The token of the request that claimed it.
    pub owner: String,
    /// In flight: the end of the lease. Completed: the end of its ttl.
    pub until_ms: u64,
    /// The encoded answer ([`super::stored`]); `None` while in flight.
    pub response: Option<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimReply {
    Claimed,
    Existing(Record),
}

/// One id's place in the reference store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Slot {
    record: Option<Record>,
}

impl Slot {
    pub fn record(&self) -> Option<&Record> {
        self.record.as_ref()
    }

    /// `now_ms`: the store's clock.
    pub fn claim(&mut self, fingerprint: &str, owner: &str, now_ms: u64, lease_ms: u64) -> ClaimReply {
        match &self.record {
            Some(r) if r.until_ms > now_ms => ClaimReply::Existing(r.clone()),
            _ => {
                self.record = Some(Record {
                    fingerprint: fingerprint.into(),
                    owner: owner.into(),
                    until_ms: now_ms.saturating_add(lease_ms),
                    response: None,
                });
                ClaimReply::Claimed
            }
        }
    }

    /// `now_ms`: the store's clock; the answer is kept `ttl_ms` from then.
    pub fn complete(&mut self, owner: &str, response: Vec<u8>, now_ms: u64, ttl_ms: u64) -> bool {
        match &mut self.record {
            Some(r) if r.owner == owner && r.response.is_none() => {
                r.response = Some(response);
                r.until_ms = now_ms.saturating_add(ttl_ms);
                true
            }
            _ => false,
        }
    }

    pub fn release(&mut self, owner: &str) -> bool {
        match &self.record {
            Some(r) if r.owner == owner && r.response.is_none() => {
                self.record = None;
                true
            }
            _ => false,
        }
    }

    /// What a store that forgets expired records may do at any time.
    pub fn forget_if_expired(&mut self, now_ms: u64) {
        if self.record.as_ref().is_some_and(|r| r.until_ms <= now_ms) {
            self.record = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn existing(reply: ClaimReply) -> Record {
        match reply {
            ClaimReply::Existing(r) => r,
            ClaimReply::Claimed => panic!("expected an existing record"),
        }
    }

    #[test]
    fn first_claim_wins_until_its_lease_ends() {
        let mut slot = Slot::default();
        assert_eq!(slot.claim("fp", "a", 1_000, 500), ClaimReply::Claimed);
        let held = existing(slot.claim("fp", "b", 1_499, 500));
        assert_eq!((held.owner.as_str(), held.until_ms, held.response), ("a", 1_500, None));
        // At the lease's end another request takes over with its own token.
        assert_eq!(slot.claim("fp", "b", 1_500, 500), ClaimReply::Claimed);
        assert_eq!(slot.record().unwrap().owner, "b");
    }

    #[test]
    fn completion_is_fenced_by_the_owner_token() {
        let mut slot = Slot::default();
        slot.claim("fp", "a", 0, 10);
        slot.claim("fp", "b", 10, 10); // a's lease expired: b took over
        assert!(!slot.complete("a", b"late".to_vec(), 20, 80), "the old owner is refused");
        assert!(slot.complete("b", b"answer".to_vec(), 20, 80));
        assert!(!slot.complete("b", b"again".to_vec(), 20, 80), "never overwritten");
        let r = existing(slot.claim("fp", "c", 50, 10));
        assert_eq!((r.response.as_deref(), r.until_ms), (Some(&b"answer"[..]), 100));
        assert!(!slot.release("b"), "a completed record is not released");
    }

    #[test]
    fn release_frees_the_key_for_its_owner_only() {
        let mut slot = Slot::default();
        slot.claim("fp", "a", 0, 10);
        assert!(!slot.release("b"));
        assert!(slot.release("a"));
        assert_eq!(slot.record(), None);
        assert_eq!(slot.claim("other", "c", 1, 10), ClaimReply::Claimed);
    }

    #[test]
    fn completed_answers_expire_after_their_ttl() {
        let mut slot = Slot::default();
        slot.claim("fp", "a", 0, 10);
        slot.complete("a", b"answer".to_vec(), 5, 995);
        assert!(existing(slot.claim("fp", "b", 999, 10)).response.is_some());
        slot.forget_if_expired(999);
        assert!(slot.record().is_some());
        assert_eq!(slot.claim("fp", "b", 1_000, 10), ClaimReply::Claimed);
    }
}
