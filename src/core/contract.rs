//! The names durafetch shows JavaScript: error kinds, give-up and queue
//! reasons, event types, states. One enum each, so a name is a type in Rust;
//! the .wasm sends only its number. The words live here once: the contract
//! test (tests/contract.rs) writes them, in `ALL`'s order, into
//! pkg-template/contract.js, which the JS host reads numbers through, and
//! checks that index.d.ts lists the same strings.

#[allow(unused_imports)]
use crate::prelude::*;
macro_rules! names {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }
    };
}
pub(crate) use names;

names! {
    /// `DurafetchError.kind`: what a user can act on.
    ErrorKind {
        InvalidOption = "invalid-option",
        KeyReuse = "key-reuse",
        NotReplayable = "not-replayable",
        InvalidRequest = "invalid-request",
        Aborted = "aborted",
        CircuitOpen = "circuit-open",
        Exhausted = "exhausted",
        Deadline = "deadline",
        Closed = "closed",
        UnsupportedRuntime = "unsupported-runtime",
        /// Not sent to a definitive answer yet; stored, and will be resent.
        Queued = "queued",
        Storage = "storage",
        BeforeReplay = "before-replay",
        /// A workflow run failed (its completed steps compensated).
        WorkflowFailed = "workflow-failed",
        /// A resumed run's code reached its steps in another order than its journal.
        WorkflowMismatch = "workflow-mismatch",
        /// A workflow step's Response had a status of 400 or more.
        StepStatus = "step-status",
    }
}

names! {
    /// Why an operation ended without an answer ('giveup' events).
    GiveUpReason {
        Exhausted = "exhausted",
        Deadline = "deadline",
        Aborted = "aborted",
        Closed = "closed",
        CircuitOpen = "circuit-open",
        /// A stored operation outlived ttlMs and was not resent.
        Expired = "expired",
        /// The origin's retry budget could not pay for another retry.
        Budget = "budget",
    }
}

names! {
    /// Why a durable call ended 'queued' (its record stays and is resent).
    QueueReason {
        Exhausted = "exhausted",
        Deadline = "deadline",
        CircuitOpen = "circuit-open",
        Closed = "closed",
        /// Another tab or worker holds the key's lock: it is sending it.
        InFlightElsewhere = "in-flight-elsewhere",
        /// The device is offline: stored at once, sent when back online.
        Offline = "offline",
        /// The origin's retry budget could not pay for a retry: resent once it can.
        Budget = "budget",
    }
}

names! {
    /// Event types, in the order of the bits of the listening mask.
    EventKind {
        Attempt = "attempt",
        Retry = "retry",
        GiveUp = "giveup",
        Breaker = "breaker",
        Settled = "settled",
        Queued = "queued",
        Store = "store",
        Workflow = "workflow",
    }
}

names! {
    /// What a 'workflow' event reports.
    WorkflowState {
        Started = "started",
        StepStarted = "step-started",
        StepCompleted = "step-completed",
        Completed = "completed",
        Failed = "failed",
        Compensated = "compensated",
    }
}

names! {
    /// The storage call that failed, in 'storage' errors ('open': the
    /// host could not open the store it was asked for).
    StoreAction {
        Get = "get",
        Put = "put",
        Delete = "delete",
        List = "list",
        Quarantine = "quarantine",
        Open = "open",
    }
}

impl EventKind {
    pub fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl GiveUpReason {
    /// The same end, for a durable call whose record stays stored.
    pub fn queued(self) -> QueueReason {
        match self {
            GiveUpReason::Deadline => QueueReason::Deadline,
            GiveUpReason::CircuitOpen => QueueReason::CircuitOpen,
            GiveUpReason::Closed => QueueReason::Closed,
            GiveUpReason::Budget => QueueReason::Budget,
            _ => QueueReason::Exhausted,
        }
    }

    pub fn error_kind(self) -> ErrorKind {
        match self {
            GiveUpReason::Exhausted | GiveUpReason::Expired | GiveUpReason::Budget => ErrorKind::Exhausted,
            GiveUpReason::Deadline => ErrorKind::Deadline,
            GiveUpReason::Aborted => ErrorKind::Aborted,
            GiveUpReason::Closed => ErrorKind::Closed,
            GiveUpReason::CircuitOpen => ErrorKind::CircuitOpen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_and_bits_follow_the_order() {
        for all in [
            ErrorKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            GiveUpReason::ALL.iter().map(|k| k.as_str()).collect(),
            QueueReason::ALL.iter().map(|k| k.as_str()).collect(),
            EventKind::ALL.iter().map(|k| k.as_str()).collect(),
        ] {
            let mut sorted = all.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), all.len(), "{all:?}");
        }
        assert_eq!(EventKind::Attempt.bit(), 1);
        assert_eq!(EventKind::Store.bit(), 1 << 6);
        assert_eq!(EventKind::Workflow.bit(), 1 << 7);
    }
}
