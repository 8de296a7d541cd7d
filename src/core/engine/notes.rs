//! What the tabs and workers of an origin tell each other, as bytes.
//!
//! Where tabs share an IndexedDB outbox (browsers), each engine writes its
//! news (`Action::Announce`, at most one per input); the host posts the
//! bytes to the others (a BroadcastChannel), whose engines apply them
//! (`heard`) and do not announce them again. The news: what each origin's
//! breaker and budget learned (fleet.rs); an answer kept for `result(key)`,
//! once its write committed (the others' 'settled' listeners and waiting
//! readers hear of it now, not at their next look); a run's journal,
//! written (a tab watching the run reads it now). A tab that starts asks
//! (`Hello`) and the others answer with what they know of the origins.
//! Where there is no channel (Node, Deno, workerd, a memory store) nothing
//! is told.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Engine, Mutant, Now};
use crate::core::codec::{Reader, Writer};
use crate::core::key::is_valid_key;

/// The first byte of an announcement: a tab of another version ignores it.
const VERSION: u8 = 1;

/// What a note says; each but Hello is followed by its subject (an origin,
/// a key, a run id) and, for some, a value.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Tag {
    /// A tab started: the others answer with what they know (Count, Opened, Level).
    Hello = 0,
    /// A failure the breaker counted.
    Failed = 1,
    /// The breaker's count of failures in a row (u32): 0 when a success ended them.
    Count = 2,
    /// The breaker opened: fail fast for (f64) ms more.
    Opened = 3,
    /// A probe succeeded.
    Closed = 4,
    /// (u32) tokens taken from the budget by a retry.
    Spent = 5,
    /// (u32) tokens paid back by a definitive answer.
    Refunded = 6,
    /// The budget's level (f64), for a tab that started.
    Level = 7,
    /// An operation's answer is kept for `result(key)`: its status (u32) and attempts (u32).
    Kept = 8,
    /// A run's journal was written.
    RunWritten = 9,
}

const TAGS: [Tag; 10] = [
    Tag::Hello,
    Tag::Failed,
    Tag::Count,
    Tag::Opened,
    Tag::Closed,
    Tag::Spent,
    Tag::Refunded,
    Tag::Level,
    Tag::Kept,
    Tag::RunWritten,
];

impl Engine {
    /// Starts a note of `tag` about `subject` (None when nothing is shared).
    pub(crate) fn note(&mut self, tag: Tag, subject: &str) -> Option<&mut Writer> {
        if !self.shared || self.is(Mutant::UnsharedOrigins) {
            return None;
        }
        if self.notes.bytes.is_empty() {
            self.notes.u8(VERSION);
        }
        self.notes.u8(tag as u8);
        if tag != Tag::Hello {
            self.notes.str(subject);
        }
        Some(&mut self.notes)
    }

    /// Hands what was noted to the host, now.
    pub(crate) fn flush_notes(&mut self) {
        if !self.notes.bytes.is_empty() {
            let note = ::core::mem::take(&mut self.notes.bytes);
            self.push(Action::Announce { note });
        }
    }

    /// A starting tab asks the others what they know.
    pub(crate) fn hello(&mut self) {
        self.note(Tag::Hello, "");
    }

    /// The answer of operation `key` is kept (its write committed).
    pub(crate) fn note_kept(&mut self, key: &str, status: u16, attempts: u32) {
        if let Some(w) = self.note(Tag::Kept, key) {
            w.u32(status as u32).u32(attempts);
        }
    }

    /// Run `id`'s journal is written.
    #[cfg(feature = "workflows")]
    pub(crate) fn note_run_written(&mut self, id: &str) {
        self.note(Tag::RunWritten, id);
    }

    /// Another tab's news (the bytes it announced). Malformed news, or news
    /// from another version, is ignored from where it stops making sense.
    pub fn heard(&mut self, now: Now, bytes: &[u8]) {
        if !self.shared || self.is(Mutant::UnsharedOrigins) {
            return;
        }
        let r = &mut Reader::new(bytes);
        if r.u8() != Ok(VERSION) {
            return;
        }
        while let Some(&tag) = r.u8().ok().and_then(|t| TAGS.get(t as usize)) {
            let applied = match tag {
                Tag::Hello => Some(self.answer_hello(now)),
                Tag::Kept => self.heard_kept(now, r),
                Tag::RunWritten => self.heard_run_written(now, r),
                fleet => self.apply(now, fleet, r),
            };
            if applied.is_none() {
                return;
            }
        }
        self.settle_idle();
    }

    fn heard_kept(&mut self, now: Now, r: &mut Reader) -> Option<()> {
        let key = r.string().ok().filter(|k| is_valid_key(k))?;
        let status = r.u32().ok().filter(|s| (100..=599).contains(s))? as u16;
        let attempts = r.u32().ok()?;
        self.remote_settled(now, &key, status, attempts);
        Some(())
    }

    #[allow(unused_variables)]
    fn heard_run_written(&mut self, now: Now, r: &mut Reader) -> Option<()> {
        let id = r.string().ok()?;
        #[cfg(feature = "workflows")]
        let _ = self.run_input(now, &id, super::RunInput::Changed);
        Some(())
    }
}
