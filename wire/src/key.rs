//! The idempotency key: one grammar for both halves, its header form, and
//! the parse of a header value back into a key.
//!
//! **A key** is 1 to 255 characters, each visible ASCII (`!` to `~`) other
//! than `"`. 255 is Stripe's limit; visible ASCII is what survives every
//! proxy and storage layer unchanged.
//!
//! **On the wire** the client sends the key bare (`Idempotency-Key: 8e03…`),
//! the form Stripe and nearly every server accepts. The server accepts that
//! and the form draft-ietf-httpapi-idempotency-key-header asks for, an RFC
//! 8941 sf-string (`Idempotency-Key: "8e03…"`); both spell the same key.
//! Leaving `"` out of the grammar is what makes this unambiguous: a value
//! that starts with `"` is always the quoted form, so `x` and `"x"` are one
//! key, and no key the client can make is refused or renamed by the server.

use alloc::string::String;

/// The longest key, in characters (all ASCII, so also in bytes).
pub const MAX_KEY_LEN: usize = 255;

/// The grammar in words, for error messages on both sides.
pub const KEY_RULE: &str = "1 to 255 visible ASCII characters, no '\"'";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The header is present with nothing in it (or `""`).
    Empty,
    /// More than 255 characters once unquoted.
    TooLong,
    /// A character outside the grammar, or a quoted form that is not one
    /// sf-string.
    Malformed,
}

fn is_key_byte(b: u8) -> bool {
    (0x21..=0x7E).contains(&b) && b != b'"'
}

/// Whether `key` is a key: what the client accepts as `idempotencyKey` and
/// what the server's parse can return.
#[inline]
pub fn is_valid_key(key: &str) -> bool {
    (1..=MAX_KEY_LEN).contains(&key.len()) && key.bytes().all(is_key_byte)
}

fn check(key: &str) -> Result<(), KeyError> {
    match key.len() {
        0 => Err(KeyError::Empty),
        n if n > MAX_KEY_LEN => Err(KeyError::TooLong),
        _ if key.bytes().all(is_key_byte) => Ok(()),
        _ => Err(KeyError::Malformed),
    }
}

/// What the client puts in the header for `key`: the key itself, bare.
pub fn header_value(key: &str) -> &str {
    key
}

/// The draft's spelling of `key`: an RFC 8941 sf-string. Other clients send
/// it; the server reads it as the same key as the bare form.
pub fn sf_string(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 2);
    out.push('"');
    for c in key.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// The key a header value names: bare, or one sf-string (RFC 8941 §4.2.5:
/// `\"` and `\\` the only escapes, nothing after the closing quote, no
/// parameters: a lenient parser would let two spellings of one key differ).
/// Surrounding spaces and tabs are not part of the value (RFC 9110 §5.5).
pub fn parse_key_header(raw: &str) -> Result<String, KeyError> {
    let value = raw.trim_matches(|c| c == ' ' || c == '\t');
    let key = match value.strip_prefix('"') {
        Some(quoted) => unquote(quoted)?,
        None => String::from(value),
    };
    check(&key).map(|()| key)
}

fn unquote(rest: &str) -> Result<String, KeyError> {
    let mut key = String::new();
    let mut bytes = rest.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(e @ (b'"' | b'\\')) => key.push(e as char),
                _ => return Err(KeyError::Malformed),
            },
            b'"' => return if bytes.next().is_none() { Ok(key) } else { Err(KeyError::Malformed) },
            0x20..=0x7E => key.push(b as char),
            _ => return Err(KeyError::Malformed),
        }
    }
    Err(KeyError::Malformed) // no closing quote
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use alloc::format;
    use alloc::string::ToString;

    #[test]
    fn the_grammar() {
        assert!(is_valid_key("8e03978e-40d5-43e8-bc93-6894a57f9324"));
        assert!(is_valid_key("order-42/a\\b{c}'~!"));
        assert!(is_valid_key(&"k".repeat(255)));
        for bad in ["", "has space", "tab\t", "caf\u{e9}", "a\"b", "\"x\"", &"k".repeat(256)] {
            assert!(!is_valid_key(bad), "{bad:?}");
        }
    }

    #[test]
    fn bare_and_quoted_name_the_same_key() {
        let uuid = "8e03978e-40d5-43e8-bc93-6894a57f9324";
        assert_eq!(parse_key_header(header_value(uuid)).unwrap(), uuid);
        assert_eq!(parse_key_header(&sf_string(uuid)).unwrap(), uuid);
        assert_eq!(parse_key_header(&format!("  \"{uuid}\"\t")).unwrap(), uuid);
        assert_eq!(parse_key_header(" order-42 ").unwrap(), "order-42");
        assert_eq!(sf_string("a\\b"), "\"a\\\\b\"");
        assert_eq!(parse_key_header("\"a\\\\b\"").unwrap(), "a\\b");
        assert_eq!(parse_key_header("a\\b").unwrap(), "a\\b");
    }

    #[test]
    fn empty_keys() {
        for raw in ["", "   ", "\"\"", " \"\" "] {
            assert_eq!(parse_key_header(raw), Err(KeyError::Empty), "{raw:?}");
        }
    }

    #[test]
    fn length_counts_the_unquoted_key() {
        let max = "k".repeat(255);
        assert_eq!(parse_key_header(&max).unwrap(), max);
        assert_eq!(parse_key_header(&sf_string(&max)).unwrap(), max);
        assert_eq!(parse_key_header(&"k".repeat(256)), Err(KeyError::TooLong));
        assert_eq!(parse_key_header(&sf_string(&"k".repeat(256))), Err(KeyError::TooLong));
        // 254 characters and one escaped backslash: 255 unescaped, a key.
        let k = "k".repeat(254) + "\\";
        assert_eq!(parse_key_header(&sf_string(&k)).unwrap(), k);
    }

    #[test]
    fn outside_the_grammar() {
        for raw in [
            "a b",              // a space in a bare key
            "a, b",             // two header lines joined by a proxy
            "caf\u{e9}",        // not ASCII
            "tab\there",        // a control character
            "ab\"c",            // a quote in a bare key
            "\"open",           // no closing quote
            "\"a\"b",           // text after the string
            "\"a\";p=1",        // parameters
            "\"a\\n\"",         // an escape other than \" and \\
            "\"\u{e9}\"",       // not ASCII, quoted
            "\"a\"\"b\"",       // two strings
            "\"with space\"",   // an sf-string, but not a key
            "\"a\\\"b\"",       // an sf-string naming a"b: not a key
        ] {
            assert_eq!(parse_key_header(raw), Err(KeyError::Malformed), "{raw:?}");
        }
    }

    #[test]
    fn the_rule_says_what_the_grammar_does() {
        assert!(KEY_RULE.contains("255") && KEY_RULE.contains('"'));
        assert_eq!(MAX_KEY_LEN.to_string(), "255");
    }
}
