//! Input generators for tests/fuzz_inputs.rs: hostile JS-like values, the
//! option names and records a caller or a store could hand the core, and a
//! reading of the documented option rules to compare `Options::parse` with.

use durafetch::core::breaker::BreakerConfig;
use durafetch::core::budget::BudgetConfig;
use durafetch::core::clock::Wall;
use durafetch::core::key::fingerprint;
use durafetch::core::options::{Options, StoreChoice};
use durafetch::core::outcome::StatusSet;
use durafetch::core::record::Record;
use durafetch::core::value::Value;
use proptest::prelude::*;

pub const OPTION_NAMES: [&str; 18] = [
    "maxAttempts",
    "baseDelayMs",
    "maxDelayMs",
    "deadlineMs",
    "attemptTimeoutMs",
    "retryOn",
    "idempotencyHeader",
    "breaker",
    "store",
    "ttlMs",
    "redactHeaders",
    "seed",
    "fetch",
    "beforeReplay",
    "retryBudget",
    "tracer",
    "traceContext",
    "backgroundSync",
];

const TIMER_MAX: f64 = 2_147_483_647.0;
const SAFE_MAX: f64 = 9_007_199_254_740_991.0;
const TCHARS: &str = "[A-Za-z0-9!#$%&'*+.^_`|~-]";

/// Numbers as JS has them: edges, non-finite values, negative zero, fractions.
pub fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        2 => (0u64..2_000).prop_map(|n| n as f64),
        1 => any::<f64>(),
        4 => prop::sample::select(vec![
            f64::NAN, -0.0, 0.0, 1.0, f64::INFINITY, f64::NEG_INFINITY, f64::MAX, f64::MIN_POSITIVE, -1.0, 0.5, 99.0,
            100.0, 599.0, 600.0, 1_000.0, 1_001.0, TIMER_MAX, TIMER_MAX + 1.0, SAFE_MAX, SAFE_MAX + 1.0, 1e300,
        ]),
        1 => (-5i64..5).prop_map(|n| n as f64 + 0.5),
    ]
}

/// Names: the real ones mostly, and anything else (unicode included).
pub fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(OPTION_NAMES.to_vec()).prop_map(String::from),
        2 => prop::sample::select(vec!["failureThreshold", "cooldownMs", "get", "put", "delete", "list", "v", "key", "capacity", "retryCost", "timeoutCost", "refillPerSecond", "startSpan"])
            .prop_map(String::from),
        1 => "\\PC{0,12}",
        1 => any::<String>(),
    ]
}

/// Any tree the shell's JS-to-Value conversion could produce, and more.
pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Undefined),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number().prop_map(Value::Number),
        name().prop_map(Value::Str),
        prop::collection::vec(any::<u8>(), 0..16).prop_map(Value::Bytes),
        Just(Value::Function),
        Just(Value::Other),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            prop::collection::vec((name(), inner), 0..6).prop_map(Value::Object),
        ]
    })
}

/// Values at and just past the documented limits of option `name`.
fn limits(name: &str) -> Vec<Value> {
    let around = |lo: f64, hi: f64| vec![lo - 1.0, lo, lo + 0.5, hi, hi + 1.0, -0.0, f64::NAN, f64::INFINITY];
    let numbers = |lo, hi| around(lo, hi).into_iter().map(Value::Number).collect::<Vec<_>>();
    let field = |k: &str, v: Value| Value::Object(vec![(k.to_string(), v)]);
    let text = |s: &[&str]| s.iter().map(|s| Value::Str(s.to_string())).collect::<Vec<_>>();
    let headers = ["", "X-Key", "a b", "caf\u{e9}", "x\n"];
    let adapter = |methods: &[&str]| Value::Object(methods.iter().map(|m| (m.to_string(), Value::Function)).collect());
    match name {
        "maxAttempts" => numbers(1.0, 1000.0),
        "baseDelayMs" | "maxDelayMs" => numbers(0.0, TIMER_MAX),
        "deadlineMs" | "attemptTimeoutMs" => numbers(1.0, TIMER_MAX),
        "retryOn" => numbers(100.0, 599.0).into_iter().map(|n| Value::List(vec![n])).collect(),
        "breaker" => {
            let threshold = numbers(1.0, 1000.0).into_iter().map(|n| field("failureThreshold", n));
            threshold.chain(numbers(0.0, TIMER_MAX).into_iter().map(|n| field("cooldownMs", n))).collect()
        }
        "ttlMs" => numbers(1.0, SAFE_MAX),
        "seed" => numbers(0.0, SAFE_MAX),
        "idempotencyHeader" => text(&headers),
        "redactHeaders" => text(&headers).into_iter().map(|h| Value::List(vec![h])).collect(),
        "store" => {
            let mut v = text(&["auto", "AUTO", "indexedDB", "memory", ""]);
            v.extend([adapter(&["get", "put", "delete", "list"]), adapter(&["get", "put", "delete"])]);
            v
        }
        "retryBudget" => ["capacity", "retryCost", "timeoutCost", "refillPerSecond"]
            .iter()
            .flat_map(|k| numbers(1.0, 1_000_000.0).into_iter().map(move |n| field(k, n)))
            .chain([Value::Bool(true), Value::Bool(false), Value::Number(1.0)])
            .collect(),
        "tracer" => vec![adapter(&["startSpan"]), adapter(&[]), Value::Function, Value::Null],
        "backgroundSync" => vec![Value::Bool(false), Value::Bool(true), Value::Null, Value::Number(0.0)],
        _ => vec![Value::Function, Value::Null, Value::Str("fetch".into())],
    }
}

/// An option entry: anything, or a real name with a value at its limits.
pub fn option_entry() -> impl Strategy<Value = (String, Value)> {
    let at_limits = prop::sample::select(OPTION_NAMES.to_vec())
        .prop_flat_map(|name| prop::sample::select(limits(name)).prop_map(move |v| (name.to_string(), v)));
    prop_oneof![(name(), value()), at_limits]
}

pub fn token() -> impl Strategy<Value = String> {
    prop::string::string_regex(&format!("{TCHARS}{{1,16}}")).unwrap()
}

fn num(n: u64) -> Value {
    Value::Number(n as f64)
}

/// A valid value for each option, by the documented rules.
pub fn valid_entry() -> impl Strategy<Value = (String, Value)> {
    let safe = SAFE_MAX as u64;
    let timer = TIMER_MAX as u64;
    let entry = |n: &'static str| move |v: Value| (n.to_string(), v);
    let breaker = prop_oneof![
        Just(Value::Bool(false)),
        Just(Value::Bool(true)),
        Just(Value::Null),
        (prop::option::of(1u64..=1000), prop::option::of(0..=timer)).prop_map(|(t, c)| {
            let mut fields = vec![("failureThreshold".to_string(), t.map_or(Value::Undefined, num))];
            fields.extend(c.map(|c| ("cooldownMs".to_string(), num(c))));
            Value::Object(fields)
        }),
    ];
    // Costs within the capacity: a valid budget.
    let budget = prop_oneof![
        Just(Value::Bool(false)),
        Just(Value::Bool(true)),
        (1u64..=1_000_000, 1u64..=1_000_000, prop::option::of(1u64..=1_000_000)).prop_map(|(capacity, refill, cost)| {
            let mut fields = vec![("capacity".to_string(), num(capacity)), ("refillPerSecond".to_string(), num(refill))];
            fields.push(("timeoutCost".to_string(), num(cost.unwrap_or(10).min(capacity))));
            fields.push(("retryCost".to_string(), num(capacity.min(5))));
            Value::Object(fields)
        }),
    ];
    let adapter = ["get", "put", "delete", "list", "extra"].map(|m| (m.to_string(), Value::Function)).to_vec();
    let store = prop_oneof![
        prop::sample::select(vec!["auto", "memory", "indexeddb"]).prop_map(|s| Value::Str(s.into())),
        Just(Value::Object(adapter)),
    ];
    prop_oneof![
        (1u64..=1000).prop_map(num).prop_map(entry("maxAttempts")),
        (0..=timer).prop_map(num).prop_map(entry("baseDelayMs")),
        (0..=timer).prop_map(num).prop_map(entry("maxDelayMs")),
        (1..=timer).prop_map(num).prop_map(entry("deadlineMs")),
        (1..=timer).prop_map(num).prop_map(entry("attemptTimeoutMs")),
        prop::collection::vec((100u64..=599).prop_map(num), 0..6).prop_map(Value::List).prop_map(entry("retryOn")),
        token().prop_map(Value::Str).prop_map(entry("idempotencyHeader")),
        breaker.prop_map(entry("breaker")),
        store.prop_map(entry("store")),
        (1..=safe).prop_map(num).prop_map(entry("ttlMs")),
        prop::collection::vec(token().prop_map(Value::Str), 0..4).prop_map(Value::List).prop_map(entry("redactHeaders")),
        (0..=safe).prop_map(num).prop_map(entry("seed")),
        Just(Value::Function).prop_map(entry("fetch")),
        Just(Value::Function).prop_map(entry("beforeReplay")),
        any::<bool>().prop_map(Value::Bool).prop_map(entry("backgroundSync")),
        Just(Value::Undefined).prop_map(entry("maxAttempts")),
        budget.prop_map(entry("retryBudget")),
        Just(Value::Object(vec![("startSpan".into(), Value::Function)])).prop_map(entry("tracer")),
        Just(Value::Function).prop_map(entry("traceContext")),
    ]
}

fn integer_in(v: &Value, lo: f64, hi: f64) -> bool {
    matches!(*v, Value::Number(n) if n.is_finite() && n.trunc() == n && lo <= n && n <= hi)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c))
}

/// The documented rule for one option: `Err(path)` names what is wrong.
pub fn check_option(name: &str, v: &Value) -> Result<(), String> {
    let ok = |valid: bool| if valid { Ok(()) } else { Err(name.to_string()) };
    let list_of = |v: &Value, each: &dyn Fn(&Value) -> bool| matches!(v, Value::List(items) if items.iter().all(each));
    match name {
        "maxAttempts" => ok(integer_in(v, 1.0, 1000.0)),
        "baseDelayMs" | "maxDelayMs" => ok(integer_in(v, 0.0, TIMER_MAX)),
        "deadlineMs" | "attemptTimeoutMs" => ok(integer_in(v, 1.0, TIMER_MAX)),
        "retryOn" => ok(list_of(v, &|i| integer_in(i, 100.0, 599.0))),
        "idempotencyHeader" => ok(matches!(v, Value::Str(s) if is_token(s))),
        "breaker" => match v {
            Value::Bool(_) | Value::Null => Ok(()),
            Value::Object(fields) => fields.iter().filter(|(_, x)| *x != Value::Undefined).try_for_each(|(k, x)| {
                match k.as_str() {
                    "failureThreshold" if integer_in(x, 1.0, 1000.0) => Ok(()),
                    "cooldownMs" if integer_in(x, 0.0, TIMER_MAX) => Ok(()),
                    _ => Err(format!("breaker.{k}")),
                }
            }),
            _ => Err(name.into()),
        },
        "store" => ok(match v {
            Value::Str(s) => ["auto", "memory", "indexeddb"].contains(&s.as_str()),
            Value::Object(f) => ["get", "put", "delete", "list"].iter().all(|m| f.iter().any(|(k, x)| k == m && *x == Value::Function)),
            _ => false,
        }),
        "ttlMs" => ok(integer_in(v, 1.0, SAFE_MAX)),
        "redactHeaders" => ok(list_of(v, &|i| matches!(i, Value::Str(h) if is_token(h)))),
        "seed" => ok(integer_in(v, 0.0, SAFE_MAX)),
        "fetch" | "beforeReplay" | "traceContext" => ok(*v == Value::Function),
        "tracer" => ok(matches!(v, Value::Object(f) if f.iter().any(|(k, x)| k == "startSpan" && *x == Value::Function))),
        "retryBudget" => match v {
            Value::Bool(_) | Value::Null => Ok(()),
            Value::Object(fields) => {
                let mut config = BudgetConfig::default();
                for (k, x) in fields.iter().filter(|(_, x)| *x != Value::Undefined) {
                    let slot = match k.as_str() {
                        "capacity" => &mut config.capacity,
                        "retryCost" => &mut config.retry_cost,
                        "timeoutCost" => &mut config.timeout_cost,
                        "refillPerSecond" => &mut config.refill_per_sec,
                        _ => return Err(format!("retryBudget.{k}")),
                    };
                    match *x {
                        Value::Number(n) if integer_in(x, 1.0, 1_000_000.0) => *slot = n as u32,
                        _ => return Err(format!("retryBudget.{k}")),
                    }
                }
                match (config.retry_cost > config.capacity, config.timeout_cost > config.capacity) {
                    (true, _) => Err("retryBudget.retryCost".into()),
                    (_, true) => Err("retryBudget.timeoutCost".into()),
                    _ => Ok(()),
                }
            }
            _ => Err(name.into()),
        },
        "backgroundSync" => ok(matches!(v, Value::Bool(_))),
        _ => Err(name.into()),
    }
}

/// What the documented rules say `parse` makes of valid entries.
pub fn expected_options(entries: &[(String, Value)]) -> Options {
    let mut o = Options::default();
    let n = |v: &Value| match *v {
        Value::Number(n) => n as u64,
        _ => unreachable!("valid entries only"),
    };
    for (name, v) in entries.iter().filter(|(_, v)| *v != Value::Undefined) {
        match (name.as_str(), v) {
            ("maxAttempts", v) => o.policy.max_attempts = n(v) as u32,
            ("baseDelayMs", v) => o.policy.backoff.base_ms = n(v),
            ("maxDelayMs", v) => o.policy.backoff.cap_ms = n(v),
            ("deadlineMs", v) => o.policy.deadline_ms = n(v),
            ("attemptTimeoutMs", v) => o.policy.attempt_timeout_ms = n(v),
            ("retryOn", Value::List(items)) => o.policy.retry_on = StatusSet::of(&items.iter().map(|i| n(i) as u16).collect::<Vec<_>>()),
            ("idempotencyHeader", Value::Str(s)) => o.idempotency_header = s.clone(),
            ("breaker", Value::Object(fields)) => {
                let mut config = BreakerConfig::default();
                for (k, v) in fields.iter().filter(|(_, v)| *v != Value::Undefined) {
                    match k.as_str() {
                        "failureThreshold" => config.failure_threshold = n(v) as u32,
                        _ => config.cooldown_ms = n(v),
                    }
                }
                o.breaker = Some(config);
            }
            ("breaker", v) => o.breaker = (*v == Value::Bool(true)).then(BreakerConfig::default),
            ("store", Value::Str(s)) => {
                o.store = match s.as_str() {
                    "auto" => StoreChoice::Auto,
                    "memory" => StoreChoice::Memory,
                    _ => StoreChoice::IndexedDb,
                }
            }
            ("store", _) => o.store = StoreChoice::Adapter,
            ("ttlMs", v) => o.ttl_ms = n(v),
            ("redactHeaders", Value::List(items)) => {
                for item in items {
                    let Value::Str(h) = item else { unreachable!() };
                    let h = h.to_ascii_lowercase();
                    if !o.redact_headers.contains(&h) {
                        o.redact_headers.push(h);
                    }
                }
            }
            ("seed", v) => o.seed = Some(n(v)),
            ("retryBudget", Value::Object(fields)) => {
                let mut config = BudgetConfig::default();
                for (k, v) in fields.iter().filter(|(_, v)| *v != Value::Undefined) {
                    match k.as_str() {
                        "capacity" => config.capacity = n(v) as u32,
                        "retryCost" => config.retry_cost = n(v) as u32,
                        "timeoutCost" => config.timeout_cost = n(v) as u32,
                        _ => config.refill_per_sec = n(v) as u32,
                    }
                }
                o.retry_budget = Some(config);
            }
            ("retryBudget", v) => o.retry_budget = (*v == Value::Bool(true)).then(BudgetConfig::default),
            ("backgroundSync", Value::Bool(on)) => o.background_sync = *on,
            _ => {}
        }
    }
    o
}

fn finite() -> impl Strategy<Value = f64> {
    prop_oneof![-1e15..1e15f64, Just(0.0), Just(-0.0), Just(f64::MAX), Just(f64::MIN)]
}

/// A record any version-1 writer could have stored.
pub fn record() -> impl Strategy<Value = Record> {
    let key = "[!#-~]{1,64}"; // the key grammar (durafetch-wire): no '"'
    let url = "https?://[a-z0-9.:\\[\\]-]{1,24}([/?#]\\PC{0,24})?";
    let headers = prop::collection::vec((token(), any::<String>()), 0..4);
    let body = prop::option::of(prop::collection::vec(any::<u8>(), 0..48));
    let times = (finite(), finite(), finite(), finite(), prop_oneof![Just(0.0), finite()]);
    (key, token(), url, headers, body, any::<u32>(), times).prop_map(|(key, method, url, headers, body, attempts, t)| {
        Record {
            fingerprint: fingerprint(&method, &url, body.as_deref().unwrap_or_default()),
            key,
            method,
            url,
            headers,
            body,
            attempts,
            created_at: Wall(t.0),
            seq: t.1,
            next_attempt_at: Wall(t.2),
            not_before: Wall(t.3),
            expired_at: (t.4 != 0.0).then_some(Wall(t.4)),
            no_answer: attempts % 2 == 1,
            trace: (attempts % 3 == 0).then(|| format!("00-{:032x}-{:016x}-01", attempts, attempts)),
        }
    })
}
