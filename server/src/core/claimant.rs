//! Who claimed a key, as the store keeps it: the caller's scope and what the
//! request was, in one opaque string (`<scope>:<request>`), so every store
//! holds it as the record's `fingerprint` without knowing its parts.
//!
//! A key is claimed once per store, whatever the scope: the record lives
//! under the key alone. The scope decides who may see what the key did. A
//! resend from the scope that claimed it gets the answer (or 409 while it
//! runs); a request from any other scope is refused and never runs the
//! handler, so a key leaks no answer and causes no second effect. A token
//! refreshed between two sends of one operation is another scope under the
//! default (the `Authorization` header); `scope: (req) => accountId` keeps it
//! one.

use super::digest::scope_tag;

/// The stored form of (scope, request fingerprint).
pub fn claimant(scope: Option<&str>, request_fingerprint: &str) -> String {
    let mut out = scope_tag(scope);
    out.push(':');
    out.push_str(request_fingerprint);
    out
}

/// How a record's claimant relates to a new request's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Likeness {
    /// The same caller resending the same request.
    Same,
    /// The same caller, another request under the same key (422).
    OtherRequest,
    /// Another caller (403): it learns nothing of the key's answer.
    OtherScope,
}

/// Compares the stored claimant `theirs` with `mine`. A stored string
/// without a scope part (not written by this version) counts as another
/// scope: refused, never replayed.
pub fn compare(mine: &str, theirs: &str) -> Likeness {
    let (my_scope, my_request) = mine.split_once(':').unwrap_or((mine, ""));
    match theirs.split_once(':') {
        Some((scope, request)) if scope == my_scope => {
            if request == my_request {
                Likeness::Same
            } else {
                Likeness::OtherRequest
            }
        }
        _ => Likeness::OtherScope,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_then_request() {
        let alice = claimant(Some("Bearer alice"), "fp1");
        assert_eq!(alice.len(), 32 + 1 + 3);
        assert!(!alice.contains("alice"), "the scope is stored hashed");
        assert_eq!(compare(&alice, &claimant(Some("Bearer alice"), "fp1")), Likeness::Same);
        assert_eq!(compare(&alice, &claimant(Some("Bearer alice"), "fp2")), Likeness::OtherRequest);
        assert_eq!(compare(&alice, &claimant(Some("Bearer bob"), "fp1")), Likeness::OtherScope);
        assert_eq!(compare(&alice, &claimant(None, "fp1")), Likeness::OtherScope);
        assert_eq!(claimant(None, "fp1"), "-:fp1");
        assert_eq!(compare("-:fp1", "-:fp1"), Likeness::Same);
        assert_eq!(compare("-:fp1", "fp1"), Likeness::OtherScope, "a foreign record is never replayed");
        assert_eq!(compare("-:fp1", ""), Likeness::OtherScope);
    }
}
