//! A completed answer as the store keeps it: one byte string, so every store
//! holds it as an opaque value (a Redis string, a bytea, a Uint8Array).
//!
//! ```text
//! DF1 201 B\n              version, status, B = body stored / O = body omitted
//! content-type:application/json\n
//! location:/orders/42\n
//! \n
//! {"id":42}                the body's bytes, as the handler sent them
//! ```
//!
//! Headers are stored less what belongs to one connection or one caller:
//! hop-by-hop headers (RFC 9110 §7.6.1, and any the `Connection` header
//! names), `Set-Cookie` (a session cookie must not be handed to whoever
//! replays the key) and `Content-Length` (recomputed when replayed).

const MAGIC: &[u8] = b"DF1 ";

const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

const NEVER_STORED: [&str; 4] = ["set-cookie", "set-cookie2", "content-length", "idempotent-replayed"];

/// Headers that describe a body: dropped from a replay whose body was not
/// stored, so that an empty body is not announced as JSON or gzip.
fn describes_body(name: &str) -> bool {
    (name.starts_with("content-") && name != "content-location")
        || matches!(name, "etag" | "digest" | "repr-digest")
}

use std::borrow::Cow;

use durafetch_wire::token::is_token;

/// Headers as the shells hand them over: `name:value` lines (the form they
/// are stored in), one JS string instead of an array of pairs. Names are
/// tokens, so the first `:` ends the name; a line without one is skipped.
pub fn header_lines(text: &str) -> Vec<(&str, &str)> {
    text.split('\n').filter_map(|line| line.split_once(':')).collect()
}

/// The headers worth replaying, names lower-cased (borrowed when they are
/// already, as Headers and Node give them), in their order.
pub fn storable_headers<'a>(headers: &[(&'a str, &'a str)], body_stored: bool) -> Vec<(Cow<'a, str>, &'a str)> {
    let mut named_by_connection: Vec<String> = Vec::new();
    for (name, value) in headers {
        if name.eq_ignore_ascii_case("connection") {
            named_by_connection.extend(value.split(',').map(|t| t.trim().to_ascii_lowercase()));
        }
    }
    headers
        .iter()
        .filter_map(|&(name, value)| {
            let name: Cow<'a, str> =
                if name.bytes().any(|b| b.is_ascii_uppercase()) { Cow::Owned(name.to_ascii_lowercase()) } else { Cow::Borrowed(name) };
            let keep = is_token(&name)
                && !value.bytes().any(|b| b == b'\n' || b == b'\r' || b == 0)
                && !HOP_BY_HOP.contains(&name.as_ref())
                && !NEVER_STORED.contains(&name.as_ref())
                && !named_by_connection.iter().any(|n| *n == name)
                && (body_stored || !describes_body(&name));
            keep.then_some((name, value))
        })
        .collect()
}

/// Encodes an answer; `body: None` records that its body was too large to keep.
pub fn encode(status: u16, headers: &[(Cow<'_, str>, &str)], body: Option<&[u8]>) -> Vec<u8> {
    let head_len: usize = headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
    let mut out = Vec::with_capacity(MAGIC.len() + 6 + head_len + 1 + body.map_or(0, <[u8]>::len));
    out.extend_from_slice(MAGIC);
    push_status(&mut out, status);
    out.extend_from_slice(if body.is_some() { b" B\n" } else { b" O\n" });
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        out.extend_from_slice(value.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    if let Some(body) = body {
        out.extend_from_slice(body);
    }
    out
}

fn push_status(out: &mut Vec<u8>, status: u16) {
    let s = status.clamp(100, 999);
    out.extend_from_slice(&[b'0' + (s / 100) as u8, b'0' + (s / 10 % 10) as u8, b'0' + (s % 10) as u8]);
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredResponse<'a> {
    pub status: u16,
    pub headers: Vec<(&'a str, &'a str)>,
    /// Where the body starts in the encoded bytes.
    pub body_offset: usize,
    /// The body was over the limit when stored: replayed empty.
    pub body_omitted: bool,
}

/// The record's bytes are not an answer this version wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unreadable;

pub fn decode(bytes: &[u8]) -> Result<StoredResponse<'_>, Unreadable> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(Unreadable)?;
    let (status, rest) = match rest {
        [a @ b'2'..=b'4', b @ b'0'..=b'9', c @ b'0'..=b'9', b' ', flag @ (b'B' | b'O'), b'\n', rest @ ..] => {
            let status = (a - b'0') as u16 * 100 + (b - b'0') as u16 * 10 + (c - b'0') as u16;
            ((status, *flag == b'O'), rest)
        }
        _ => return Err(Unreadable),
    };
    let mut headers = Vec::new();
    let mut offset = bytes.len() - rest.len();
    loop {
        let line_end = bytes.get(offset..).and_then(|tail| tail.iter().position(|&b| b == b'\n')).ok_or(Unreadable)?;
        let line = bytes.get(offset..offset + line_end).ok_or(Unreadable)?;
        offset += line_end + 1;
        if line.is_empty() {
            break;
        }
        let text = core::str::from_utf8(line).map_err(|_| Unreadable)?;
        let (name, value) = text.split_once(':').ok_or(Unreadable)?;
        if !is_token(name) {
            return Err(Unreadable);
        }
        headers.push((name, value));
    }
    if status.1 && offset != bytes.len() {
        return Err(Unreadable);
    }
    Ok(StoredResponse { status: status.0, headers, body_offset: offset, body_omitted: status.1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lines_split_at_the_first_colon() {
        assert_eq!(header_lines("a:1\nb:x:y\n\nno-colon\nc:"), [("a", "1"), ("b", "x:y"), ("c", "")]);
        assert_eq!(header_lines(""), []);
    }

    #[test]
    fn round_trip() {
        let h = [("Content-Type", "application/json"), ("Location", "/orders/42"), ("X-Empty", "")];
        let kept = storable_headers(&h, true);
        let bytes = encode(201, &kept, Some(b"{\"id\":42}\n\0binary"));
        let r = decode(&bytes).unwrap();
        assert_eq!(r.status, 201);
        assert!(!r.body_omitted);
        assert_eq!(r.headers, [("content-type", "application/json"), ("location", "/orders/42"), ("x-empty", "")]);
        assert_eq!(&bytes[r.body_offset..], b"{\"id\":42}\n\0binary");
    }

    #[test]
    fn drops_hop_by_hop_cookies_and_length() {
        let h = [
            ("Connection", "keep-alive, X-Trace-Hop"),
            ("Keep-Alive", "timeout=5"),
            ("Transfer-Encoding", "chunked"),
            ("X-Trace-Hop", "1"),
            ("Set-Cookie", "session=secret"),
            ("set-cookie", "other=secret"),
            ("Content-Length", "9"),
            ("Idempotent-Replayed", "true"),
            ("Upgrade", "h2c"),
            ("Cache-Control", "no-store"),
            ("bad name", "x"),
            ("X-Split", "a\r\nInjected: 1"),
        ];
        let kept: Vec<String> = storable_headers(&h, true).into_iter().map(|(n, _)| n.into_owned()).collect();
        assert_eq!(kept, ["cache-control"]);
    }

    #[test]
    fn an_omitted_body_drops_what_describes_it() {
        let h = [("Content-Type", "application/json"), ("Content-Location", "/a"), ("ETag", "\"1\""), ("X-Id", "7")];
        let kept = storable_headers(&h, false);
        let bytes = encode(200, &kept, None);
        let r = decode(&bytes).unwrap();
        assert!(r.body_omitted);
        assert_eq!(r.headers, [("content-location", "/a"), ("x-id", "7")]);
        assert_eq!(r.body_offset, bytes.len());
    }

    #[test]
    fn refuses_what_it_did_not_write() {
        let good = encode(201, &[("a".into(), "b")], Some(b"x"));
        for bad in [
            &b""[..],
            b"DF1 ",
            b"DF2 201 B\n\n",
            b"DF1 201 X\n\n",
            b"DF1 20 B\n\n",
            b"DF1 601 B\n\n",
            b"DF1 101 B\n\n",
            b"DF1 201 B\na:b",        // header block never ends
            b"DF1 201 B\nno-colon\n\n",
            b"DF1 201 B\nbad name:x\n\n",
            b"DF1 201 O\n\nbody after omitted",
            b"DF1 201 B\n\xff:x\n\n",
        ] {
            assert_eq!(decode(bad), Err(Unreadable), "{:?}", String::from_utf8_lossy(bad));
        }
        for cut in 0..good.len() - 1 {
            // Truncated inside the head: refused; inside the body: a shorter body.
            let _ = decode(&good[..cut]);
        }
    }
}
