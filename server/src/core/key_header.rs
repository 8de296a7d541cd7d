//! The `Idempotency-Key` header value.
//!
//! draft-ietf-httpapi-idempotency-key-header-07 makes it a Structured Field
//! String (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`); Stripe and most clients
//! send the key bare. Both are accepted and name the same key: `"abc"` and
//! `abc` are one key. A key is 1 to 255 characters (Stripe's limit).

pub const MAX_KEY_CHARS: usize = 255;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The header is present with nothing in it (or `""`).
    Empty,
    /// More than 255 characters once unquoted.
    TooLong,
    /// Neither a bare key (visible ASCII, no `"`) nor one sf-string.
    Malformed,
}

/// The key a header value names, unquoted and unescaped.
pub fn parse_key(raw: &str) -> Result<String, KeyError> {
    let value = raw.trim_matches(|c| c == ' ' || c == '\t');
    let key = match value.strip_prefix('"') {
        Some(quoted) => unquote(quoted)?,
        None => bare(value)?,
    };
    match key.len() {
        0 => Err(KeyError::Empty),
        n if n > MAX_KEY_CHARS => Err(KeyError::TooLong),
        _ => Ok(key),
    }
}

fn bare(value: &str) -> Result<String, KeyError> {
    if value.bytes().all(|b| (0x21..=0x7E).contains(&b) && b != b'"') {
        Ok(value.into())
    } else {
        Err(KeyError::Malformed)
    }
}

/// RFC 8941 §4.2.5: printable ASCII, with `\"` and `\\` the only escapes,
/// and nothing after the closing quote (parameters are not accepted: a key
/// is a plain string, and a lenient parser would let two spellings of one
/// key differ).
fn unquote(rest: &str) -> Result<String, KeyError> {
    let mut key = String::new();
    let mut bytes = rest.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'\\' => match bytes.next() {
                Some(e @ (b'"' | b'\\')) => key.push(e as char),
                _ => return Err(KeyError::Malformed),
            },
            b'"' => {
                return if bytes.next().is_none() { Ok(key) } else { Err(KeyError::Malformed) };
            }
            0x20..=0x7E => key.push(b as char),
            _ => return Err(KeyError::Malformed),
        }
    }
    Err(KeyError::Malformed) // no closing quote
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_and_quoted_name_the_same_key() {
        let uuid = "8e03978e-40d5-43e8-bc93-6894a57f9324";
        assert_eq!(parse_key(uuid).unwrap(), uuid);
        assert_eq!(parse_key(&format!("\"{uuid}\"")).unwrap(), uuid);
        assert_eq!(parse_key(&format!("  \"{uuid}\"\t")).unwrap(), uuid);
        assert_eq!(parse_key(" order-42 ").unwrap(), "order-42");
    }

    #[test]
    fn quoted_keys_unescape() {
        assert_eq!(parse_key(r#""a \"b\" \\c""#).unwrap(), r#"a "b" \c"#);
        assert_eq!(parse_key(r#""with space""#).unwrap(), "with space");
    }

    #[test]
    fn empty_keys() {
        for raw in ["", "   ", "\"\"", " \"\" "] {
            assert_eq!(parse_key(raw), Err(KeyError::Empty), "{raw:?}");
        }
    }

    #[test]
    fn length_limit_counts_the_unquoted_key() {
        let max = "k".repeat(255);
        assert_eq!(parse_key(&max).unwrap(), max);
        assert_eq!(parse_key(&format!("\"{max}\"")).unwrap(), max);
        assert_eq!(parse_key(&"k".repeat(256)), Err(KeyError::TooLong));
        assert_eq!(parse_key(&format!("\"{}\"", "k".repeat(256))), Err(KeyError::TooLong));
        // 254 characters plus two escapes: 256 bytes quoted, 256 unescaped.
        assert_eq!(parse_key(&format!("\"{}\\\\\\\\\"", "k".repeat(254))), Err(KeyError::TooLong));
    }

    #[test]
    fn malformed() {
        for raw in [
            "a b",            // a space in a bare key
            "a, b",           // two header lines joined by a proxy
            "caf\u{e9}",      // not ASCII
            "tab\there",      // a control character
            "\"open",         // no closing quote
            "\"a\"b",         // text after the string
            "\"a\";p=1",      // parameters
            "\"a\\n\"",       // an escape other than \" and \\
            "\"\u{e9}\"",     // not ASCII, quoted
            "ab\"c",          // a quote in a bare key
            "\"a\"\"b\"",     // two strings
        ] {
            assert_eq!(parse_key(raw), Err(KeyError::Malformed), "{raw:?}");
        }
    }
}
