//! Removing a stored operation past its TTL: the server may have forgotten
//! its key, and a resend could apply it twice.
//!
//! Under the key's lock (a call in another tab may be sending it) and after
//! reading it again (someone may have settled it). The decision is written
//! into the record first (`expiredAt`), then reported, then the record
//! deleted: a crash anywhere in between reports it again later, and neither
//! a crash nor a clock set back can revive it.

#[allow(unused_imports)]
use crate::prelude::*;
use super::drain::Handled;
use super::lock::Held;
use super::{Action, Done, Now, Engine, Event, Io, LockName, Step, Stored, Task};
use crate::core::contract::{EventKind, GiveUpReason, StoreAction};

pub(crate) struct Expire {
    key: String,
    lock: Held,
    /// What it did, for its round.
    pub did: Handled,
    phase: Phase,
}

enum Phase {
    Locking(Io),
    Reading(Io),
    Marking { io: Io, attempts: u32 },
    Deleting(Io),
}

impl Expire {
    pub fn awaits(&self, io: Io) -> bool {
        match self.phase {
            Phase::Locking(x) | Phase::Reading(x) | Phase::Deleting(x) => x == io,
            Phase::Marking { io: x, .. } => x == io,
        }
    }
}

impl Engine {
    pub(crate) fn spawn_expire(&mut self, key: String) {
        let io = self.io();
        self.push(Action::Lock { io, name: LockName::Key(key.to_string()), wait: false, step: Step::ExpireLock });
        self.tasks.push(Task::Expire(Expire { key, lock: Held::default(), did: Handled::Looked, phase: Phase::Locking(io) }));
    }

    pub(crate) fn expire_io(&mut self, now: Now, e: &mut Expire, io: Io, done: Done) -> bool {
        match (&e.phase, done) {
            (Phase::Locking(_), Done::Locked(granted)) => {
                e.lock = Held::new(LockName::Key(e.key.clone()), granted);
                if !granted {
                    e.did = Handled::LeftToHolder;
                    return false;
                }
                let io = self.io();
                self.push(Action::Get { io, key: e.key.clone(), step: Step::ExpireReread });
                e.phase = Phase::Reading(io);
                true
            }
            (Phase::Reading(_), Done::Got(result)) => {
                let ttl = self.options.ttl_ms as f64;
                match result {
                    Ok(Some(Stored::Record(mut r))) if r.expired_at.is_some() || r.created_at + ttl <= now.wall => {
                        if r.expired_at.is_some() {
                            return self.report_expired(e, r.attempts);
                        }
                        r.expired_at = Some(now.wall);
                        let (io, attempts) = (self.io(), r.attempts);
                        self.push(Action::Put { io, record: Box::new(r), step: Step::ExpireMark });
                        e.phase = Phase::Marking { io, attempts };
                        true
                    }
                    Ok(other) => {
                        self.drop_kept(io, &other);
                        self.expire_done(e)
                    }
                    Err(()) => {
                        self.store_error(now, StoreAction::Get, io);
                        self.expire_done(e)
                    }
                }
            }
            (&Phase::Marking { attempts, .. }, Done::Wrote(result)) => match result {
                Ok(()) => self.report_expired(e, attempts),
                Err(()) => {
                    self.store_error(now, StoreAction::Put, io);
                    self.expire_done(e)
                }
            },
            (Phase::Deleting(_), Done::Wrote(result)) => {
                if result.is_ok() {
                    e.did = Handled::Removed;
                } else {
                    self.store_error(now, StoreAction::Delete, io);
                }
                // `result(key)` callers learn there will be no answer.
                let key = e.key.clone();
                self.wake_results(now, &key);
                self.expire_done(e)
            }
            (_, done) => {
                self.drop_late(io, &done);
                true
            }
        }
    }

    fn report_expired(&mut self, e: &mut Expire, attempts: u32) -> bool {
        let key = Some(e.key.clone());
        self.emit(EventKind::GiveUp, || Event::GiveUp { key, reason: GiveUpReason::Expired, attempts, status: None });
        let io = self.io();
        self.push(Action::Delete { io, key: e.key.clone(), step: Step::ExpireDelete });
        e.phase = Phase::Deleting(io);
        true
    }

    fn expire_done(&mut self, e: &mut Expire) -> bool {
        self.release(&mut e.lock);
        false
    }
}
