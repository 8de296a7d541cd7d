//! The decision after the store's atomic claim: run the handler, or answer
//! without running it.

use super::problem::Problem;
use super::stored::{decode, StoredResponse};

/// What the store said (or failed to say) about a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// The caller now owns the key (new, or an expired lease taken over).
    Claimed,
    /// Someone else's record, still live.
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

pub fn decide<'a>(reply: Reply<'a>, fingerprint: &str) -> Verdict<'a> {
    match reply {
        Reply::Claimed => Verdict::Run,
        // Fail closed: running the handler unclaimed is how a store outage
        // turns into double charges.
        Reply::Unreachable => Verdict::Answer(Problem::StoreUnavailable),
        // A key reused for another request is refused whether or not the
        // first one has finished: replaying its answer would be a lie.
        Reply::Existing { fingerprint: theirs, .. } if theirs != fingerprint => Verdict::Answer(Problem::Mismatch),
        Reply::Existing { response: None, .. } => Verdict::Answer(Problem::InFlight),
        Reply::Existing { response: Some(bytes), .. } => match decode(bytes) {
            Ok(stored) => Verdict::Replay(stored),
            Err(_) => Verdict::Answer(Problem::StoredAnswerUnreadable),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stored::encode;

    #[test]
    fn decisions() {
        assert_eq!(decide(Reply::Claimed, "fp"), Verdict::Run);
        assert_eq!(decide(Reply::Unreachable, "fp"), Verdict::Answer(Problem::StoreUnavailable));
        let in_flight = Reply::Existing { fingerprint: "fp", response: None };
        assert_eq!(decide(in_flight, "fp"), Verdict::Answer(Problem::InFlight));
        assert_eq!(decide(in_flight, "other"), Verdict::Answer(Problem::Mismatch));

        let answer = encode(201, &[("location".into(), "/orders/1")], Some(b"{}"));
        let done = Reply::Existing { fingerprint: "fp", response: Some(&answer) };
        match decide(done, "fp") {
            Verdict::Replay(r) => assert_eq!((r.status, &answer[r.body_offset..]), (201, &b"{}"[..])),
            other => panic!("{other:?}"),
        }
        assert_eq!(decide(done, "other"), Verdict::Answer(Problem::Mismatch));
        let garbage = Reply::Existing { fingerprint: "fp", response: Some(b"not an answer") };
        assert_eq!(decide(garbage, "fp"), Verdict::Answer(Problem::StoredAnswerUnreadable));
    }
}
