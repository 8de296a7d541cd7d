//! RFC 9110 §5.6.2 tokens: header names and method names, on both sides.

/// Whether `s` is a token: one or more of `A-Z a-z 0-9 !#$%&'*+-.^_`|~`.
#[inline]
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        for ok in ["Idempotency-Key", "x-op_key", "POST", "CHARGE", "a!#$%&'*+-.^_`|~9"] {
            assert!(is_token(ok), "{ok}");
        }
        for bad in ["", "Idempotency Key", "a:b", "a\"b", "caf\u{e9}", "a\tb", "(x)"] {
            assert!(!is_token(bad), "{bad}");
        }
    }
}
