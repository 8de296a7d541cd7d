//! The numbers of what crosses between the core and its JS host: the first
//! byte of every input (JS → core) and of every action (core → JS). The
//! contract test writes them into pkg-template/contract.js as constants
//! (`IN_CALL`, `OUT_SEND`, …), so both sides share one list.

#[allow(unused_imports)]
use crate::prelude::*;

crate::core::contract::names! {
    /// What the host reports: an event for the engine.
    In {
        Start = "start",
        Call = "call",
        Answered = "answered",
        Failed = "failed",
        Got = "got",
        Wrote = "wrote",
        Locked = "locked",
        Listed = "listed",
        Quarantined = "quarantined",
        Timer = "timer",
        Abort = "abort",
        Pending = "pending",
        Online = "online",
        Offline = "offline",
        Resume = "resume",
        Close = "close",
        Listen = "listen",
        Result = "result",
        StartRun = "start_run",
        RunEvent = "run_event",
        RunResult = "run_result",
        Runs = "runs",
        RunInfo = "run_info",
        Drain = "drain",
        Visible = "visible",
        SyncRegistered = "sync_registered",
        Heard = "heard",
        Traced = "traced",
    }
}

crate::core::contract::names! {
    /// What the core asks the host to do.
    Out {
        Send = "send",
        Cancel = "cancel",
        Resolve = "resolve",
        Reject = "reject",
        Release = "release",
        Emit = "emit",
        Get = "get",
        Put = "put",
        Delete = "delete",
        List = "list",
        Quarantine = "quarantine",
        Lock = "lock",
        Unlock = "unlock",
        Pending = "pending",
        CloseStore = "close_store",
        Started = "started",
        Flush = "flush",
        StopRuns = "stop_runs",
        Keep = "keep",
        Kept = "kept",
        Timer = "timer",
        Resumed = "resumed",
        PutRun = "put_run",
        Execute = "execute",
        StepGo = "step_go",
        StepCommitted = "step_committed",
        StepFailed = "step_failed",
        Undo = "undo",
        RunStarted = "run_started",
        RunEnded = "run_ended",
        Runs = "runs",
        Info = "info",
        Drained = "drained",
        RegisterSync = "register_sync",
        Announce = "announce",
    }
}

crate::core::contract::names! {
    /// What a workflow's code did (`In::RunEvent`).
    RunEventKind {
        StepReached = "step_reached",
        StepDone = "step_done",
        StepThrew = "step_threw",
        Failed = "failed",
        UndoDone = "undo_done",
        Returned = "returned",
    }
}
