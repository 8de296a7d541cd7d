//! `idempotent(handler, options)` / `expressIdempotency(options)`: one flat
//! options object, validated in one place. A mistake names the option and
//! the range it accepts; nothing here can panic, whatever the input.

use durafetch_wire::options::{error, function, integer, MAX_SAFE_INTEGER};
pub use durafetch_wire::options::{OptionError, MAX_TIMER_MS};
use durafetch_wire::token::is_token;
use durafetch_wire::value::Value;

/// The validated options the core decides with. Functions (`store`'s
/// methods, `scope`, `fingerprint`, `now`) stay in JS; only their presence
/// and shape are checked here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// The header that carries the key, lower-case.
    pub header: String,
    /// Methods whose requests are deduplicated, upper-case.
    pub methods: Vec<String>,
    /// A request with one of `methods` and no key: 400 when true, else it
    /// passes through to the handler unclaimed.
    pub required: bool,
    /// How long a completed answer is kept and replayed.
    pub ttl_ms: u64,
    /// The lease of a claim: after it, a process that died mid-handler no
    /// longer holds the key.
    pub lock_timeout_ms: u64,
    /// Largest response body stored for replay.
    pub max_body_bytes: u64,
    /// Largest request body read (for the fingerprint); past it, 413.
    pub max_request_bytes: u64,
    /// A store call slower than this counts as "store unreachable".
    pub store_timeout_ms: u64,
    /// Whether the caller gave `scope` / `fingerprint` functions.
    pub custom_scope: bool,
    pub custom_fingerprint: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            header: "idempotency-key".into(),
            methods: ["POST", "PATCH", "PUT", "DELETE"].iter().map(|m| m.to_string()).collect(),
            required: false,
            // The durafetch client's default ttlMs and Stripe's 24 h: a client
            // stops resending a key when the server forgets it.
            ttl_ms: 24 * 60 * 60 * 1000,
            lock_timeout_ms: 60_000,
            max_body_bytes: 1024 * 1024,
            // 1 MiB, as nginx (client_max_body_size 1m), Fastify (bodyLimit)
            // and Next.js API routes: one client cannot make every process
            // buffer gigabytes before a handler could refuse them.
            max_request_bytes: 1024 * 1024,
            store_timeout_ms: 5_000,
            custom_scope: false,
            custom_fingerprint: false,
        }
    }
}

pub const KNOWN_OPTIONS: &str = "a known option: store, header, methods, required, ttlMs, lockTimeoutMs, scope, \
                                 fingerprint, maxBodyBytes, maxRequestBytes, storeTimeoutMs, onStoreError, now";

/// A store is any object with `claim`, `complete` and `release` functions
/// (the shell lists them, prototype methods included).
fn store(v: &Value) -> Result<(), OptionError> {
    let ok = ["claim", "complete", "release"].iter().all(|m| *v.field(m) == Value::Function);
    if ok {
        Ok(())
    } else {
        Err(error("store", "a store: an object with claim, complete and release methods (memoryStore(), redisStore(client), …)"))
    }
}

fn methods(v: &Value) -> Result<Vec<String>, OptionError> {
    let expected = "a non-empty array of HTTP method names such as ['POST', 'PUT']";
    let Value::List(items) = v else {
        return Err(error("methods", expected));
    };
    let mut out: Vec<String> = Vec::new();
    for item in items {
        match item {
            Value::Str(m) if is_token(m) => {
                let m = m.to_ascii_uppercase();
                if !out.contains(&m) {
                    out.push(m);
                }
            }
            _ => return Err(error("methods", expected)),
        }
    }
    if out.is_empty() {
        return Err(error("methods", expected));
    }
    Ok(out)
}

impl Policy {
    /// Validates the caller's options. `undefined` means "the default".
    pub fn parse(entries: &[(String, Value)]) -> Result<Policy, OptionError> {
        let mut p = Policy::default();
        for (name, value) in entries {
            if *value == Value::Undefined {
                continue;
            }
            let name = name.as_str();
            match name {
                "store" => store(value)?,
                "header" => match value {
                    Value::Str(h) if is_token(h) => p.header = h.to_ascii_lowercase(),
                    _ => return Err(error(name, "a header name such as 'Idempotency-Key'")),
                },
                "methods" => p.methods = methods(value)?,
                "required" => match value {
                    Value::Bool(b) => p.required = *b,
                    _ => return Err(error(name, "true or false")),
                },
                "ttlMs" => {
                    let expected = "an integer number of milliseconds from 1 to 9007199254740991";
                    p.ttl_ms = integer(name, value, 1, MAX_SAFE_INTEGER, expected)?;
                }
                "lockTimeoutMs" => {
                    let expected = "an integer number of milliseconds from 1 to 9007199254740991";
                    p.lock_timeout_ms = integer(name, value, 1, MAX_SAFE_INTEGER, expected)?;
                }
                "maxBodyBytes" => {
                    let expected = "an integer number of bytes from 0 to 9007199254740991";
                    p.max_body_bytes = integer(name, value, 0, MAX_SAFE_INTEGER, expected)?;
                }
                "maxRequestBytes" => {
                    let expected = "an integer number of bytes from 0 to 9007199254740991";
                    p.max_request_bytes = integer(name, value, 0, MAX_SAFE_INTEGER, expected)?;
                }
                "storeTimeoutMs" => {
                    let expected = "an integer number of milliseconds from 1 to 2147483647";
                    p.store_timeout_ms = integer(name, value, 1, MAX_TIMER_MS, expected)?;
                }
                "scope" => {
                    function(name, value)?;
                    p.custom_scope = true;
                }
                "fingerprint" => {
                    function(name, value)?;
                    p.custom_fingerprint = true;
                }
                "now" | "onStoreError" => function(name, value)?,
                _ => return Err(OptionError { option: name.into(), expected: KNOWN_OPTIONS }),
            }
        }
        Ok(p)
    }

    /// The end of a lease claimed at `now_ms` (by the store's clock).
    pub fn lease_until(&self, now_ms: u64) -> u64 {
        now_ms.saturating_add(self.lock_timeout_ms)
    }

    /// The end of an answer stored at `now_ms`.
    pub fn answer_until(&self, now_ms: u64) -> u64 {
        now_ms.saturating_add(self.ttl_ms)
    }

    /// Whether requests with this method are deduplicated.
    pub fn covers(&self, method: &str) -> bool {
        self.methods.iter().any(|m| m.eq_ignore_ascii_case(method))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entries: &[(&str, Value)]) -> Result<Policy, OptionError> {
        let owned: Vec<(String, Value)> = entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        Policy::parse(&owned)
    }

    fn rejects(name: &str, value: Value) -> String {
        parse(&[(name, value)]).expect_err(name).option
    }

    fn store_with(methods: &[&str]) -> Value {
        Value::Object(methods.iter().map(|m| (m.to_string(), Value::Function)).collect())
    }

    #[test]
    fn defaults() {
        let p = parse(&[]).unwrap();
        assert_eq!(p, Policy::default());
        assert_eq!(p.header, "idempotency-key");
        assert_eq!(p.methods, ["POST", "PATCH", "PUT", "DELETE"]);
        assert!(!p.required);
        assert_eq!((p.ttl_ms, p.lock_timeout_ms), (86_400_000, 60_000));
        assert_eq!((p.max_body_bytes, p.max_request_bytes), (1_048_576, 1_048_576));
        assert!(p.covers("post") && p.covers("DELETE") && !p.covers("GET"));
    }

    #[test]
    fn accepts_every_option() {
        let p = parse(&[
            ("store", store_with(&["claim", "complete", "release", "migrate"])),
            ("header", Value::Str("X-Request-Key".into())),
            ("methods", Value::List(vec![Value::Str("post".into()), Value::Str("POST".into()), Value::Str("Charge".into())])),
            ("required", Value::Bool(true)),
            ("ttlMs", Value::Number(60_000.0)),
            ("lockTimeoutMs", Value::Number(500.0)),
            ("maxBodyBytes", Value::Number(0.0)),
            ("maxRequestBytes", Value::Number(10.0)),
            ("storeTimeoutMs", Value::Number(250.0)),
            ("scope", Value::Function),
            ("fingerprint", Value::Function),
            ("now", Value::Function),
            ("onStoreError", Value::Function),
            ("ttlMs", Value::Undefined),
        ])
        .unwrap();
        assert_eq!(p.header, "x-request-key");
        assert_eq!(p.methods, ["POST", "CHARGE"]);
        assert!(p.required && p.custom_scope && p.custom_fingerprint);
        assert_eq!((p.ttl_ms, p.lock_timeout_ms, p.max_body_bytes, p.store_timeout_ms), (60_000, 500, 0, 250));
        assert_eq!(p.max_request_bytes, 10);
    }

    #[test]
    fn rejects_bad_values_by_name() {
        assert_eq!(rejects("store", store_with(&["claim", "complete"])), "store");
        assert_eq!(rejects("store", Value::Str("redis".into())), "store");
        assert_eq!(rejects("header", Value::Str("Idempotency Key".into())), "header");
        assert_eq!(rejects("header", Value::Str("".into())), "header");
        assert_eq!(rejects("methods", Value::List(vec![])), "methods");
        assert_eq!(rejects("methods", Value::Str("POST".into())), "methods");
        assert_eq!(rejects("methods", Value::List(vec![Value::Str("PO ST".into())])), "methods");
        assert_eq!(rejects("required", Value::Str("yes".into())), "required");
        assert_eq!(rejects("ttlMs", Value::Number(0.0)), "ttlMs");
        assert_eq!(rejects("ttlMs", Value::Number(f64::NAN)), "ttlMs");
        assert_eq!(rejects("lockTimeoutMs", Value::Number(1.5)), "lockTimeoutMs");
        assert_eq!(rejects("lockTimeoutMs", Value::Number(-1.0)), "lockTimeoutMs");
        assert_eq!(rejects("maxBodyBytes", Value::Number(f64::INFINITY)), "maxBodyBytes");
        assert_eq!(rejects("maxRequestBytes", Value::Number(-1.0)), "maxRequestBytes");
        assert_eq!(rejects("storeTimeoutMs", Value::Number(3e9)), "storeTimeoutMs");
        assert_eq!(rejects("scope", Value::Str("tenant".into())), "scope");
        assert_eq!(rejects("fingerprint", Value::Null), "fingerprint");
        assert_eq!(rejects("now", Value::Number(1.0)), "now");
        assert_eq!(rejects("onStoreError", Value::Bool(true)), "onStoreError");
        let typo = parse(&[("lockTimeout", Value::Number(1.0))]).unwrap_err();
        assert_eq!((typo.option.as_str(), typo.expected), ("lockTimeout", KNOWN_OPTIONS));
    }
}
