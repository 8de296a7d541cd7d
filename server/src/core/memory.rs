//! `memoryStore()`: the reference store's [`Slot`]s by id, the same code the
//! claim simulation drives, kept in the module's own memory. Its records are
//! not JS objects, so a day of stored answers adds nothing to what the JS
//! garbage collector traces on every collection (measured: with tens of
//! thousands of answers kept as JS objects, collection cost a third of what
//! the middleware added per request).
//!
//! A hash map, keyed with SipHash and 128 random bits drawn by the host:
//! keys come from clients, and a hash they could predict is one they could
//! make collide. (A `BTreeMap` was tried first: its walk from node to node
//! and from key to key bytes cost more cache misses per request, with other
//! requests' work in between, than hashing does.) Expired records are
//! dropped when the map has doubled since the last sweep: no timer, O(1)
//! amortised per claim. The clock is the caller's (`now_ms`): one process,
//! one clock.

use std::collections::HashMap;
use std::hash::BuildHasher;
#[allow(deprecated)]
use std::hash::SipHasher;

use super::record::{ClaimReply, Record, Slot};

const FIRST_SWEEP: usize = 1024;

/// SipHash-2-4 under the host's random keys.
#[derive(Clone, Copy, Debug)]
pub struct Keyed(u64, u64);

impl BuildHasher for Keyed {
    #[allow(deprecated)]
    type Hasher = SipHasher;

    #[allow(deprecated)]
    fn build_hasher(&self) -> SipHasher {
        SipHasher::new_with_keys(self.0, self.1)
    }
}

#[derive(Debug)]
pub struct Memory {
    slots: HashMap<String, Slot, Keyed>,
    sweep_at: usize,
}

impl Memory {
    /// `keys`: 128 random bits for the hash.
    pub fn new(keys: [u64; 2]) -> Self {
        Memory { slots: HashMap::with_hasher(Keyed(keys[0], keys[1])), sweep_at: FIRST_SWEEP }
    }

    pub fn claim(&mut self, id: &str, fingerprint: &str, owner: &str, now_ms: u64, lease_ms: u64) -> ClaimReply {
        // One hash of the id: nearly every claim is of a new key.
        let reply = self.slots.entry(String::from(id)).or_default().claim(fingerprint, owner, now_ms, lease_ms);
        if self.slots.len() >= self.sweep_at {
            self.sweep(now_ms);
        }
        reply
    }

    pub fn complete(&mut self, id: &str, owner: &str, response: Vec<u8>, now_ms: u64, ttl_ms: u64) -> bool {
        self.slots.get_mut(id).is_some_and(|slot| slot.complete(owner, response, now_ms, ttl_ms))
    }

    pub fn release(&mut self, id: &str, owner: &str) -> bool {
        let released = self.slots.get_mut(id).is_some_and(|slot| slot.release(owner));
        if released {
            self.slots.remove(id);
        }
        released
    }

    /// The record under `id`, as a store would answer it (expired or not).
    pub fn record(&self, id: &str) -> Option<&Record> {
        self.slots.get(id).and_then(Slot::record)
    }

    /// Records still live at `now_ms`.
    pub fn live(&self, now_ms: u64) -> usize {
        self.slots.values().filter(|slot| slot.record().is_some_and(|r| r.until_ms > now_ms)).count()
    }

    pub fn clear(&mut self) {
        self.slots.clear();
        self.slots.shrink_to_fit();
        self.sweep_at = FIRST_SWEEP;
    }

    fn sweep(&mut self, now_ms: u64) {
        self.slots.retain(|_, slot| {
            slot.forget_if_expired(now_ms);
            slot.record().is_some()
        });
        self.sweep_at = FIRST_SWEEP.max(self.slots.len() * 2);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_is_its_own_slot() {
        let mut m = Memory::new([1, 2]);
        assert_eq!(m.claim("a", "fp", "o1", 0, 100), ClaimReply::Claimed);
        assert_eq!(m.claim("b", "fp", "o2", 0, 100), ClaimReply::Claimed);
        assert!(matches!(m.claim("a", "fp", "o3", 50, 100), ClaimReply::Existing(r) if r.owner == "o1"));
        assert!(!m.complete("a", "o3", b"x".to_vec(), 60, 1_000));
        assert!(m.complete("a", "o1", b"x".to_vec(), 60, 1_000));
        assert!(m.release("b", "o2"));
        assert_eq!(m.record("b"), None);
        assert_eq!(m.live(61), 1);
        assert_eq!(m.claim("b", "fp", "o4", 61, 100), ClaimReply::Claimed, "released: free again");
    }

    #[test]
    fn expired_records_are_swept_as_the_map_grows() {
        let mut m = Memory::new([1, 2]);
        for i in 0..FIRST_SWEEP - 1 {
            m.claim(&format!("old-{i}"), "fp", "o", 0, 10);
        }
        assert_eq!(m.slots.len(), FIRST_SWEEP - 1);
        // The claim that reaches the threshold sweeps: every lease above ended at 10.
        m.claim("new", "fp", "o", 10, 10);
        assert_eq!(m.slots.len(), 1);
        assert_eq!(m.sweep_at, FIRST_SWEEP);
        assert!(m.record("new").is_some());
    }
}
