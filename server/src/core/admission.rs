//! The first decision, before anything is read or stored: is this request
//! deduplicated, and under which key?

use durafetch_wire::key::parse_key_header;
use super::options::Policy;
use super::problem::Problem;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Not a deduplicated method, or no key and none required: the handler
    /// runs as if the middleware were not there.
    PassThrough,
    /// Answered at once, nothing claimed.
    Reject(Problem),
    /// Claim this key (unquoted) before running the handler.
    Claim(String),
}

/// `header`: the key header's value, `None` when absent.
pub fn admit(policy: &Policy, method: &str, header: Option<&str>) -> Admission {
    if !policy.covers(method) {
        return Admission::PassThrough;
    }
    match header {
        None if policy.required => Admission::Reject(Problem::MissingKey),
        None => Admission::PassThrough,
        Some(raw) => match parse_key_header(raw) {
            Ok(key) => Admission::Claim(key),
            Err(e) => Admission::Reject(Problem::InvalidKey(e)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use durafetch_wire::key::KeyError;

    #[test]
    fn only_covered_methods_are_claimed() {
        let p = Policy::default();
        assert_eq!(admit(&p, "POST", Some("k")), Admission::Claim("k".into()));
        assert_eq!(admit(&p, "delete", Some("\"k\"")), Admission::Claim("k".into()));
        assert_eq!(admit(&p, "GET", Some("k")), Admission::PassThrough);
        assert_eq!(admit(&p, "GET", Some("")), Admission::PassThrough, "a GET is never refused for its key");
    }

    #[test]
    fn a_missing_key_passes_unless_required() {
        let mut p = Policy::default();
        assert_eq!(admit(&p, "POST", None), Admission::PassThrough);
        p.required = true;
        assert_eq!(admit(&p, "POST", None), Admission::Reject(Problem::MissingKey));
        assert_eq!(admit(&p, "GET", None), Admission::PassThrough);
    }

    #[test]
    fn bad_keys_are_400() {
        let p = Policy::default();
        assert_eq!(admit(&p, "POST", Some("")), Admission::Reject(Problem::InvalidKey(KeyError::Empty)));
        assert_eq!(admit(&p, "PUT", Some(&"k".repeat(256))), Admission::Reject(Problem::InvalidKey(KeyError::TooLong)));
        assert_eq!(admit(&p, "PATCH", Some("a b")), Admission::Reject(Problem::InvalidKey(KeyError::Malformed)));
    }
}
