//! The decision after the store's atomic claim: run the handler, or answer
//! without running it.

use super::claimant::{compare, Likeness};
use super::problem::Problem;
use super::stored::{decode, StoredResponse};

/// What the store said (or failed to say) about a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// The caller now owns the key (new, or an expired lease taken over).
    Claimed,
    /// Someone else's record, still live: its claimant ([`super::claimant`])
    /// and its answer, `None` while in flight.
    Existing { fingerprint: &'a str, response: Option<&'a [u8]> },
    /// The store threw, timed out, or answered something that is not a reply.
    Unreachable,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict<'a> {
    Run,
    Answer(Problem),
    Replay(StoredResponse<'a>),
}

/// `claimant`: this request's ([`super::claimant::claimant`]).
pub fn decide<'a>(reply: Reply<'a>, claimant: &str) -> Verdict<'a> {
    match reply {
        Reply::Claimed => Verdict::Run,
        // Fail closed: running the handler unclaimed is how a store outage
        // turns into double charges.
        Reply::Unreachable => Verdict::Answer(Problem::StoreUnavailable),
        Reply::Existing { fingerprint: theirs, response } => match compare(claimant, theirs) {
            // Another caller learns nothing: not the answer, not whether it
            // is still running.
            Likeness::OtherScope => Verdict::Answer(Problem::OtherScope),
            // A key reused for another request is refused whether or not the
            // first one has finished: replaying its answer would be a lie.
            Likeness::OtherRequest => Verdict::Answer(Problem::Mismatch),
            Likeness::Same => match response {
                None => Verdict::Answer(Problem::InFlight),
                Some(bytes) => match decode(bytes) {
                    Ok(stored) => Verdict::Replay(stored),
                    Err(_) => Verdict::Answer(Problem::StoredAnswerUnreadable),
                },
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::claimant::claimant;
    use crate::core::stored::encode;

    #[test]
    fn decisions() {
        let mine = claimant(Some("Bearer a"), "fp");
        assert_eq!(decide(Reply::Claimed, &mine), Verdict::Run);
        assert_eq!(decide(Reply::Unreachable, &mine), Verdict::Answer(Problem::StoreUnavailable));
        let in_flight = Reply::Existing { fingerprint: &mine, response: None };
        assert_eq!(decide(in_flight, &mine), Verdict::Answer(Problem::InFlight));
        assert_eq!(decide(in_flight, &claimant(Some("Bearer a"), "other")), Verdict::Answer(Problem::Mismatch));
        assert_eq!(decide(in_flight, &claimant(Some("Bearer b"), "fp")), Verdict::Answer(Problem::OtherScope));

        let answer = encode(201, &[("location".into(), "/orders/1")], Some(b"{}"));
        let done = Reply::Existing { fingerprint: &mine, response: Some(&answer) };
        match decide(done, &mine) {
            Verdict::Replay(r) => assert_eq!((r.status, &answer[r.body_offset..]), (201, &b"{}"[..])),
            other => panic!("{other:?}"),
        }
        assert_eq!(decide(done, &claimant(Some("Bearer a"), "other")), Verdict::Answer(Problem::Mismatch));
        // Another caller, even with the same request: no replay, no run.
        assert_eq!(decide(done, &claimant(None, "fp")), Verdict::Answer(Problem::OtherScope));
        assert_eq!(decide(done, &claimant(Some("Bearer b"), "other")), Verdict::Answer(Problem::OtherScope));
        let garbage = Reply::Existing { fingerprint: &mine, response: Some(b"not an answer") };
        assert_eq!(decide(garbage, &mine), Verdict::Answer(Problem::StoredAnswerUnreadable));
    }
}
