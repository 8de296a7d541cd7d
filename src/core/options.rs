//! Client options: one flat object, validated in one place.
//!
//! The shell turns the caller's JS object into a [`Value`] tree (no serde:
//! it would cost the .wasm more than this file) and this module checks every
//! name, type and range. A mistake is reported by option name with the range
//! it accepts, before anything is sent; nothing here can panic, whatever the
//! input, because a panic would kill the wasm instance.

#[allow(unused_imports)]
use crate::prelude::*;
use super::breaker::BreakerConfig;
use super::budget::BudgetConfig;
use super::key::is_header_name;
use super::outcome::StatusSet;
use super::schedule::RetryPolicy;
use super::value::Value;

/// A refused option: its path and what it accepts (the host words it).
pub type OptionError = durafetch_wire::options::OptionError<Expect>;
pub use durafetch_wire::options::MAX_TIMER_MS;
use durafetch_wire::options::{error, integer, MAX_SAFE_INTEGER};

crate::core::contract::names! {
    /// What an option (or a call's argument) accepts, for 'invalid-option'
    /// errors. The words are written here for the contract test, which puts
    /// them in pkg-template/contract.js; the .wasm carries only the number.
    Expect {
        Object = "an object",
        Attempts = "an integer from 1 to 1000",
        Delay = "an integer number of milliseconds from 0 to 2147483647",
        PositiveDelay = "an integer number of milliseconds from 1 to 2147483647",
        Statuses = "an array of HTTP statuses, integers from 100 to 599",
        HeaderName = "a header name such as 'Idempotency-Key'",
        Breaker = "false, or an object { failureThreshold, cooldownMs }",
        BreakerField = "one of: failureThreshold, cooldownMs",
        Store = "'auto', 'memory', 'indexeddb', or an object with get, put, delete and list functions",
        Ttl = "an integer number of milliseconds from 1 to 9007199254740991",
        HeaderNames = "an array of header names",
        Seed = "an integer from 0 to 9007199254740991",
        Workflows = "an object of workflow functions: { name: async (step, input) => … }",
        Workflow = "a function, under a name of 1 to 100 visible ASCII characters, no '\"'",
        WorkflowsEntry = "no workflows here: import { createClient } from 'durafetch/workflows' for a client that runs them",
        Function = "a function",
        KnownOption = "a known option: maxAttempts, baseDelayMs, maxDelayMs, deadlineMs, attemptTimeoutMs, retryOn, idempotencyHeader, breaker, retryBudget, store, ttlMs, redactHeaders, seed, fetch, beforeReplay, backgroundSync, tracer, traceContext, workflows",
        Key = "1 to 255 visible ASCII characters, no '\"'",
        Boolean = "a boolean",
        RunId = "1 to 200 visible ASCII characters, no '\"'",
        StepName = "1 to 100 visible ASCII characters, no '\"'",
        WorkflowName = "the name of a workflow given to createClient",
        RetryBudget = "false, or an object { capacity, retryCost, timeoutCost, refillPerSecond }",
        RetryBudgetField = "one of: capacity, retryCost, timeoutCost, refillPerSecond",
        Tokens = "an integer from 1 to 1000000",
        Cost = "an integer from 1 to the budget's capacity",
        Tracer = "an OpenTelemetry Tracer (an object with a startSpan method), e.g. trace.getTracer('app')",
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreChoice {
    Auto,
    Memory,
    IndexedDb,
    /// A `{ get, put, delete, list }` object; the shell keeps it.
    Adapter,
}

/// Header names never written to storage, whatever the caller adds.
pub const ALWAYS_REDACTED: [&str; 3] = ["authorization", "cookie", "proxy-authorization"];


#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub policy: RetryPolicy,
    pub idempotency_header: String,
    pub breaker: Option<BreakerConfig>,
    /// One retry budget per origin (budget.rs), or none.
    pub retry_budget: Option<BudgetConfig>,
    pub store: StoreChoice,
    pub ttl_ms: u64,
    /// Lower-case, defaults included.
    pub redact_headers: Vec<String>,
    pub seed: Option<u64>,
    /// Ask the browser for a sync event when an operation stays stored
    /// (engine/background.rs).
    pub background_sync: bool,
    /// The names of the workflows this client runs (their functions stay in JS).
    #[cfg(feature = "workflows")]
    pub workflows: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: RetryPolicy::default(),
            idempotency_header: "Idempotency-Key".into(),
            breaker: Some(BreakerConfig::default()),
            retry_budget: Some(BudgetConfig::default()),
            store: StoreChoice::Auto,
            // Stripe keeps keys for 24 h: after that a resend may apply twice.
            ttl_ms: 24 * 60 * 60 * 1000,
            redact_headers: ALWAYS_REDACTED.iter().map(|h| h.to_string()).collect(),
            seed: None,
            background_sync: true,
            #[cfg(feature = "workflows")]
            workflows: Vec::new(),
        }
    }
}

/// The client refusing an argument outside option parsing (a call's key, a run's id).
pub fn refused(option: &str, expected: Expect) -> OptionError {
    error(option, expected)
}

fn delay(name: &str, v: &Value) -> Result<u64, OptionError> {
    integer(name, v, 0, MAX_TIMER_MS, Expect::Delay)
}

fn positive_delay(name: &str, v: &Value) -> Result<u64, OptionError> {
    integer(name, v, 1, MAX_TIMER_MS, Expect::PositiveDelay)
}

fn parse_breaker(v: &Value) -> Result<Option<BreakerConfig>, OptionError> {
    let entries = match v {
        Value::Bool(false) | Value::Null => return Ok(None),
        Value::Bool(true) => return Ok(Some(BreakerConfig::default())),
        Value::Object(entries) => entries,
        _ => return Err(error("breaker", Expect::Breaker)),
    };
    let mut config = BreakerConfig::default();
    for (name, value) in entries {
        match (name.as_str(), value) {
            (_, Value::Undefined) => {}
            ("failureThreshold", v) => {
                config.failure_threshold = integer("breaker.failureThreshold", v, 1, 1000, Expect::Attempts)? as u32;
            }
            ("cooldownMs", v) => config.cooldown_ms = delay("breaker.cooldownMs", v)?,
            (other, _) => {
                return Err(error(&["breaker.", other].concat(), Expect::BreakerField));
            }
        }
    }
    Ok(Some(config))
}

fn parse_budget(v: &Value) -> Result<Option<BudgetConfig>, OptionError> {
    let entries = match v {
        Value::Bool(false) | Value::Null => return Ok(None),
        Value::Bool(true) => return Ok(Some(BudgetConfig::default())),
        Value::Object(entries) => entries,
        _ => return Err(error("retryBudget", Expect::RetryBudget)),
    };
    const FIELDS: [&str; 4] = ["capacity", "retryCost", "timeoutCost", "refillPerSecond"];
    let d = BudgetConfig::default();
    let mut n = [d.capacity, d.retry_cost, d.timeout_cost, d.refill_per_sec];
    for (name, value) in entries.iter().filter(|(_, v)| !matches!(v, Value::Undefined)) {
        let path = ["retryBudget.", name].concat();
        let Some(i) = FIELDS.iter().position(|f| f == name) else {
            return Err(error(&path, Expect::RetryBudgetField));
        };
        n[i] = integer(&path, value, 1, 1_000_000, Expect::Tokens)? as u32;
    }
    // A cost the bucket cannot hold would never be paid: the retry would wait forever.
    if let Some(i) = (1..3).find(|&i| n[i] > n[0]) {
        return Err(error(&["retryBudget.", FIELDS[i]].concat(), Expect::Cost));
    }
    Ok(Some(BudgetConfig { capacity: n[0], retry_cost: n[1], timeout_cost: n[2], refill_per_sec: n[3] }))
}

fn parse_store(v: &Value) -> Result<StoreChoice, OptionError> {
    let expected = Expect::Store;
    match v {
        Value::Str(s) => match s.as_str() {
            "auto" => Ok(StoreChoice::Auto),
            "memory" => Ok(StoreChoice::Memory),
            "indexeddb" => Ok(StoreChoice::IndexedDb),
            _ => Err(error("store", expected)),
        },
        Value::Object(entries) => {
            let has = |m: &str| entries.iter().any(|(k, v)| k == m && matches!(v, Value::Function));
            if ["get", "put", "delete", "list"].iter().all(|m| has(m)) {
                Ok(StoreChoice::Adapter)
            } else {
                Err(error("store", expected))
            }
        }
        _ => Err(error("store", expected)),
    }
}

impl Options {
    /// Validates the caller's options. `undefined` means "the default".
    pub fn parse(entries: &[(String, Value)]) -> Result<Options, OptionError> {
        let mut o = Options::default();
        for (name, value) in entries {
            if matches!(value, Value::Undefined) {
                continue;
            }
            let name = name.as_str();
            match name {
                "maxAttempts" => {
                    o.policy.max_attempts = integer(name, value, 1, 1000, Expect::Attempts)? as u32;
                }
                "baseDelayMs" => o.policy.backoff.base_ms = delay(name, value)?,
                "maxDelayMs" => o.policy.backoff.cap_ms = delay(name, value)?,
                "deadlineMs" => o.policy.deadline_ms = positive_delay(name, value)?,
                "attemptTimeoutMs" => o.policy.attempt_timeout_ms = positive_delay(name, value)?,
                "retryOn" => {
                    let expected = Expect::Statuses;
                    let Value::List(items) = value else {
                        return Err(error(name, expected));
                    };
                    let mut set = StatusSet::empty();
                    for item in items {
                        set.insert(integer(name, item, 100, 599, expected)? as u16);
                    }
                    o.policy.retry_on = set;
                }
                "idempotencyHeader" => match value {
                    Value::Str(s) if is_header_name(s) => o.idempotency_header = s.clone(),
                    _ => return Err(error(name, Expect::HeaderName)),
                },
                "breaker" => o.breaker = parse_breaker(value)?,
                "retryBudget" => o.retry_budget = parse_budget(value)?,
                // Its spans are the host's (io/tracing.js): only its shape is checked here.
                "tracer" => match value {
                    Value::Object(methods) if methods.iter().any(|(m, v)| m == "startSpan" && matches!(v, Value::Function)) => {}
                    _ => return Err(error(name, Expect::Tracer)),
                },
                "store" => o.store = parse_store(value)?,
                "ttlMs" => {
                    let expected = Expect::Ttl;
                    o.ttl_ms = integer(name, value, 1, MAX_SAFE_INTEGER, expected)?;
                }
                "redactHeaders" => {
                    let expected = Expect::HeaderNames;
                    let Value::List(items) = value else {
                        return Err(error(name, expected));
                    };
                    for item in items {
                        match item {
                            Value::Str(h) if is_header_name(h) => {
                                let h = h.to_ascii_lowercase();
                                if !o.redact_headers.contains(&h) {
                                    o.redact_headers.push(h);
                                }
                            }
                            _ => return Err(error(name, expected)),
                        }
                    }
                }
                "seed" => {
                    let expected = Expect::Seed;
                    o.seed = Some(integer(name, value, 0, MAX_SAFE_INTEGER, expected)?);
                }
                #[cfg(feature = "workflows")]
                "workflows" => {
                    let Value::Object(fns) = value else {
                        return Err(error(name, Expect::Workflows));
                    };
                    for (workflow, f) in fns {
                        if !matches!(f, Value::Function) || !crate::core::journal::is_valid_step_name(workflow) {
                            return Err(error(&["workflows.", workflow].concat(), Expect::Workflow));
                        }
                        o.workflows.push(workflow.clone());
                    }
                }
                // This build has no workflow engine (the lean module).
                #[cfg(not(feature = "workflows"))]
                "workflows" => return Err(error(name, Expect::WorkflowsEntry)),
                "backgroundSync" => match value {
                    Value::Bool(on) => o.background_sync = *on,
                    _ => return Err(error(name, Expect::Boolean)),
                },
                "fetch" | "beforeReplay" | "traceContext" => {
                    if !matches!(value, Value::Function) {
                        return Err(error(name, Expect::Function));
                    }
                }
                _ => return Err(error(name, Expect::KnownOption)),
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entries: &[(&str, Value)]) -> Result<Options, OptionError> {
        let owned: Vec<(String, Value)> = entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
        Options::parse(&owned)
    }

    fn rejects(name: &str, value: Value) -> String {
        parse(&[(name, value)]).expect_err(name).option
    }

    #[test]
    fn defaults() {
        let o = parse(&[]).unwrap();
        assert_eq!(o, Options::default());
        assert_eq!(o.policy.max_attempts, 5);
        assert_eq!(o.policy.deadline_ms, 30_000);
        assert_eq!(o.breaker, Some(BreakerConfig { failure_threshold: 5, cooldown_ms: 30_000 }));
        assert_eq!(o.retry_budget, Some(BudgetConfig { capacity: 500, retry_cost: 5, timeout_cost: 10, refill_per_sec: 1 }));
    }

    #[test]
    fn undefined_means_default() {
        assert_eq!(parse(&[("maxAttempts", Value::Undefined)]).unwrap(), Options::default());
    }

    #[test]
    fn accepts_every_option() {
        let o = parse(&[
            ("maxAttempts", Value::Number(3.0)),
            ("baseDelayMs", Value::Number(0.0)),
            ("maxDelayMs", Value::Number(50.0)),
            ("deadlineMs", Value::Number(1000.0)),
            ("attemptTimeoutMs", Value::Number(200.0)),
            ("retryOn", Value::List(vec![Value::Number(599.0)])),
            ("idempotencyHeader", Value::Str("X-Request-Id".into())),
            ("breaker", Value::Object(vec![("cooldownMs".into(), Value::Number(5.0))])),
            ("store", Value::Str("memory".into())),
            ("ttlMs", Value::Number(60_000.0)),
            ("redactHeaders", Value::List(vec![Value::Str("X-Api-Key".into())])),
            ("seed", Value::Number(42.0)),
            ("fetch", Value::Function),
            ("backgroundSync", Value::Bool(false)),
        ])
        .unwrap();
        assert!(!o.background_sync && Options::default().background_sync);
        assert_eq!(o.policy.max_attempts, 3);
        assert!(o.policy.retry_on.contains(599) && !o.policy.retry_on.contains(503));
        assert_eq!(o.breaker.unwrap().failure_threshold, 5);
        assert_eq!(o.redact_headers, ["authorization", "cookie", "proxy-authorization", "x-api-key"]);
        assert_eq!(o.seed, Some(42));
        assert_eq!(parse(&[("breaker", Value::Bool(false))]).unwrap().breaker, None);
        assert_eq!(parse(&[("retryBudget", Value::Bool(false))]).unwrap().retry_budget, None);
        let budget = parse(&[("retryBudget", Value::Object(vec![("capacity".into(), Value::Number(50.0)), ("refillPerSecond".into(), Value::Number(2.0))]))]);
        assert_eq!(budget.unwrap().retry_budget, Some(BudgetConfig { capacity: 50, refill_per_sec: 2, ..BudgetConfig::default() }));
        let tracer = Value::Object(vec![("startSpan".into(), Value::Function)]);
        assert!(parse(&[("tracer", tracer), ("traceContext", Value::Function)]).is_ok());
    }

    #[test]
    fn rejects_bad_values_by_name() {
        assert_eq!(rejects("maxAttempts", Value::Number(0.0)), "maxAttempts");
        assert_eq!(rejects("maxAttempts", Value::Number(2.5)), "maxAttempts");
        assert_eq!(rejects("maxAttempts", Value::Str("3".into())), "maxAttempts");
        assert_eq!(rejects("baseDelayMs", Value::Number(-1.0)), "baseDelayMs");
        assert_eq!(rejects("baseDelayMs", Value::Number(f64::NAN)), "baseDelayMs");
        assert_eq!(rejects("maxDelayMs", Value::Number(f64::INFINITY)), "maxDelayMs");
        assert_eq!(rejects("deadlineMs", Value::Number(0.0)), "deadlineMs");
        assert_eq!(rejects("retryOn", Value::List(vec![Value::Number(99.0)])), "retryOn");
        assert_eq!(rejects("retryOn", Value::Number(503.0)), "retryOn");
        assert_eq!(rejects("idempotencyHeader", Value::Str("bad header".into())), "idempotencyHeader");
        assert_eq!(rejects("breaker", Value::Number(1.0)), "breaker");
        assert_eq!(
            rejects("breaker", Value::Object(vec![("cooldown".into(), Value::Number(1.0))])),
            "breaker.cooldown"
        );
        assert_eq!(rejects("store", Value::Str("redis".into())), "store");
        assert_eq!(rejects("store", Value::Object(vec![("get".into(), Value::Function)])), "store");
        assert_eq!(rejects("seed", Value::Number(-3.0)), "seed");
        assert_eq!(rejects("fetch", Value::Str("x".into())), "fetch");
        assert_eq!(rejects("backgroundSync", Value::Str("no".into())), "backgroundSync");
        assert_eq!(rejects("maxAtempts", Value::Number(3.0)), "maxAtempts");
        assert_eq!(rejects("retryBudget", Value::Number(1.0)), "retryBudget");
        let budget = |name: &str, n: f64| Value::Object(vec![(name.into(), Value::Number(n))]);
        assert_eq!(rejects("retryBudget", budget("capacity", 0.0)), "retryBudget.capacity");
        assert_eq!(rejects("retryBudget", budget("refillPerSecond", 0.5)), "retryBudget.refillPerSecond");
        assert_eq!(rejects("retryBudget", budget("retryCost", 501.0)), "retryBudget.retryCost");
        assert_eq!(rejects("retryBudget", budget("tokens", 1.0)), "retryBudget.tokens");
        assert_eq!(rejects("tracer", Value::Object(vec![])), "tracer");
        assert_eq!(rejects("traceContext", Value::Str("x".into())), "traceContext");
    }
}
