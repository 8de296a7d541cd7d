//! The answers the middleware gives itself, as RFC 9457 problem details
//! (`application/problem+json`), as draft-ietf-httpapi-idempotency-key-header
//! asks. `type` is `about:blank`, so `title` is the status phrase and
//! `detail` says what happened and what to do.

use durafetch_wire::key::KeyError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// `required: true` and no key: 400.
    MissingKey,
    /// The key header is empty, too long or malformed: 400.
    InvalidKey(KeyError),
    /// The request body is longer than maxRequestBytes: 413, nothing
    /// claimed, the rest of the body not read.
    RequestTooLarge,
    /// The key was claimed by another caller (another scope): 403. The
    /// handler does not run and the key's answer is not shown.
    OtherScope,
    /// The first request with this key is still being processed: 409.
    InFlight,
    /// The key was used for a different request: 422.
    Mismatch,
    /// The store did not answer: 503, the handler is not run.
    StoreUnavailable,
    /// The stored answer cannot be read back: 500, the handler is not run.
    StoredAnswerUnreadable,
}

/// Seconds a client should wait before resending after 409 or 503. One
/// second: a handler usually finishes well within it, and the durafetch
/// client honours Retry-After exactly.
pub const RETRY_AFTER_SECONDS: u32 = 1;

impl Problem {
    pub fn status(self) -> u16 {
        match self {
            Problem::MissingKey | Problem::InvalidKey(_) => 400,
            Problem::OtherScope => 403,
            Problem::InFlight => 409,
            Problem::RequestTooLarge => 413,
            Problem::Mismatch => 422,
            Problem::StoreUnavailable => 503,
            Problem::StoredAnswerUnreadable => 500,
        }
    }

    fn title(self) -> &'static str {
        match self.status() {
            400 => "Bad Request",
            403 => "Forbidden",
            409 => "Conflict",
            413 => "Content Too Large",
            422 => "Unprocessable Content",
            503 => "Service Unavailable",
            _ => "Internal Server Error",
        }
    }

    pub fn retry_after(self) -> Option<u32> {
        matches!(self, Problem::InFlight | Problem::StoreUnavailable).then_some(RETRY_AFTER_SECONDS)
    }

    fn detail(self) -> &'static str {
        match self {
            Problem::MissingKey => "This request needs an idempotency key header: 1 to 255 characters, the same on every resend of one operation.",
            Problem::InvalidKey(KeyError::Empty) => "The idempotency key header is empty: send 1 to 255 characters.",
            Problem::InvalidKey(KeyError::TooLong) => "The idempotency key is longer than 255 characters.",
            Problem::InvalidKey(KeyError::Malformed) => {
                "The idempotency key header is malformed: a key is 1 to 255 visible ASCII characters other than the double quote, sent bare or as one quoted string (RFC 8941)."
            }
            Problem::RequestTooLarge => {
                "The request body is larger than this server accepts for an idempotent request (maxRequestBytes), so it was not read or processed."
            }
            Problem::OtherScope => {
                "This idempotency key was claimed by another caller (a different Authorization or scope), so this request was not processed and the key's answer is not shown. If your credentials were refreshed between two sends of one operation, the server should scope keys by account rather than by token."
            }
            Problem::InFlight => "A request with this idempotency key is still being processed. Resend it after Retry-After: you will get its answer.",
            Problem::Mismatch => {
                "This idempotency key was already used for a different request (method, path, query or body). Use a new key for a new operation."
            }
            Problem::StoreUnavailable => "The idempotency store did not answer, so the request was not processed. Resend it after Retry-After.",
            Problem::StoredAnswerUnreadable => "The stored answer for this idempotency key cannot be read, so the request was not processed again.",
        }
    }

    /// The JSON body. Every string in it is a constant without characters
    /// that need escaping, so it is assembled without a serializer.
    pub fn body(self) -> String {
        let status = self.status();
        let digits = [b'0' + (status / 100) as u8, b'0' + (status / 10 % 10) as u8, b'0' + (status % 10) as u8];
        let mut out = String::with_capacity(200);
        out.push_str("{\"type\":\"about:blank\",\"title\":\"");
        out.push_str(self.title());
        out.push_str("\",\"status\":");
        out.push_str(core::str::from_utf8(&digits).unwrap_or("500"));
        out.push_str(",\"detail\":\"");
        out.push_str(self.detail());
        out.push_str("\"}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Problem; 10] = [
        Problem::MissingKey,
        Problem::RequestTooLarge,
        Problem::OtherScope,
        Problem::InvalidKey(KeyError::Empty),
        Problem::InvalidKey(KeyError::TooLong),
        Problem::InvalidKey(KeyError::Malformed),
        Problem::InFlight,
        Problem::Mismatch,
        Problem::StoreUnavailable,
        Problem::StoredAnswerUnreadable,
    ];

    #[test]
    fn statuses_and_retry_after() {
        let statuses: Vec<u16> = ALL.iter().map(|p| p.status()).collect();
        assert_eq!(statuses, [400, 413, 403, 400, 400, 400, 409, 422, 503, 500]);
        assert_eq!(Problem::InFlight.retry_after(), Some(1));
        assert_eq!(Problem::StoreUnavailable.retry_after(), Some(1));
        assert_eq!(Problem::Mismatch.retry_after(), None);
        assert_eq!(Problem::OtherScope.retry_after(), None);
        assert_eq!(Problem::RequestTooLarge.retry_after(), None);
    }

    #[test]
    fn bodies_are_problem_json_without_escapes() {
        for p in ALL {
            let body = p.body();
            assert!(body.starts_with("{\"type\":\"about:blank\",\"title\":\""), "{body}");
            assert!(body.contains(&format!("\"status\":{}", p.status())), "{body}");
            assert!(p.detail().bytes().all(|b| (0x20..0x7F).contains(&b) && b != b'"' && b != b'\\'));
        }
        assert_eq!(
            Problem::InFlight.body(),
            "{\"type\":\"about:blank\",\"title\":\"Conflict\",\"status\":409,\"detail\":\"A request with this idempotency key \
             is still being processed. Resend it after Retry-After: you will get its answer.\"}"
        );
    }
}
