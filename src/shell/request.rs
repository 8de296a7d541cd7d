//! Turns `fetch(input, init)` arguments into a request that can be sent any
//! number of times, and sends one attempt of it.
//!
//! The body is read into bytes once, before the first attempt: every resend
//! carries exactly the same bytes, whatever the caller passed (string, Blob,
//! FormData, URLSearchParams, a Request). A ReadableStream can be read only
//! once, so it is refused up front instead of being resent empty.

use js_sys::{Array, Function, Promise, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, Request, Response};

use super::errors::failure;
use super::js::{clear_timeout, get, now_ms, set_timeout, Fields};
use crate::core::key::{fingerprint, is_safe_method, is_valid_key};
use crate::core::outcome::Outcome;
use crate::core::retry_after::parse_retry_after;

#[wasm_bindgen]
extern "C" {
    type NewRequest;
    #[wasm_bindgen(constructor, js_class = "Request", catch)]
    fn new(input: &JsValue, init: &JsValue) -> Result<NewRequest, JsValue>;
}

/// `new Request(input, init)`, or what it threw.
pub fn new_request(input: &JsValue, init: &JsValue) -> Result<Request, JsValue> {
    NewRequest::new(input, init).map(JsCast::unchecked_into)
}

pub struct Prepared {
    /// The caller's request, normalised (absolute URL, upper-case method).
    /// Its own body is never read: each attempt passes `body` instead.
    pub base: Request,
    pub method: String,
    pub url: String,
    pub body: Option<Uint8Array>,
    pub fingerprint: String,
    /// The caller's headers plus the idempotency key.
    pub headers: Headers,
    /// The caller's signal, when there is one (in `init` or on a Request).
    pub signal: Option<AbortSignal>,
    pub key: Option<String>,
    pub durable: Option<bool>,
}

fn invalid(option: &str, expected: &str, value: &JsValue) -> JsValue {
    failure("invalid-option").set("option", option).set("expected", expected).set("value", value).build()
}

pub async fn prepare(input: &JsValue, init: &JsValue, header_name: &str) -> Result<Prepared, JsValue> {
    let init_given = !init.is_undefined() && !init.is_null();
    if init_given && !init.is_object() {
        return Err(invalid("init", "an object, as for fetch", init));
    }
    let explicit = get(init, "idempotencyKey");
    let explicit = if explicit.is_undefined() {
        None
    } else {
        match explicit.as_string() {
            Some(k) if is_valid_key(&k) => Some(k),
            _ => return Err(invalid("idempotencyKey", "1 to 255 visible ASCII characters", &explicit)),
        }
    };
    let durable = get(init, "durable");
    let durable = match (durable.is_undefined(), durable.as_bool()) {
        (true, _) => None,
        (false, Some(b)) => Some(b),
        (false, None) => return Err(invalid("durable", "a boolean", &durable)),
    };
    let init_body = get(init, "body");
    if get(&init_body, "getReader").is_function() {
        return Err(failure("not-replayable").build());
    }

    let base = new_request(input, init).map_err(|cause| failure("invalid-request").set("cause", cause).build())?;
    let method = base.method();
    let url = base.url();
    let has_body = !get(&base, "body").is_null() && !get(&base, "body").is_undefined();
    // The common bodies are read directly; the rest (Blob, FormData,
    // URLSearchParams, a Request's stream) through the Request, which also
    // gives FormData its boundary in content-type.
    let body = if !has_body {
        None
    } else if let Some(bytes) = direct_bytes(&init_body) {
        Some(bytes)
    } else {
        let bytes = base
            .clone()
            .and_then(|copy| copy.array_buffer())
            .map(JsFuture::from)
            .map_err(|cause| failure("invalid-request").set("cause", cause).build())?
            .await
            .map_err(|cause| failure("invalid-request").set("cause", cause).build())?;
        Some(Uint8Array::new(&bytes))
    };
    let headers = Headers::new_with_headers(&base.headers())
        .map_err(|cause| failure("invalid-request").set("cause", cause).build())?;

    // The caller may set the key as a header too; an explicit option wins.
    let from_header = headers.get(header_name).ok().flatten().filter(|k| is_valid_key(k));
    let key = match explicit.or(from_header) {
        Some(k) => Some(k),
        None if !is_safe_method(&method) => Some(new_key()?),
        None => None,
    };
    if let Some(k) = &key {
        let _ = headers.set(header_name, k);
    }
    let fingerprint = fingerprint(&method, &url, &body.as_ref().map(|b| b.to_vec()).unwrap_or_default());
    let signal = Some(get(init, "signal"))
        .filter(|s| !s.is_undefined() && !s.is_null())
        .or_else(|| input.dyn_ref::<Request>().map(|r| r.signal().into()))
        .map(JsCast::unchecked_into::<AbortSignal>);
    Ok(Prepared { base, method, url, body, fingerprint, headers, signal, key, durable })
}

/// A copy of a string, typed-array or ArrayBuffer body (the caller may reuse
/// its array before we resend); `None` for other kinds.
fn direct_bytes(body: &JsValue) -> Option<Uint8Array> {
    if let Some(text) = body.as_string() {
        return Some(Uint8Array::from(text.as_bytes()));
    }
    if let Some(bytes) = body.dyn_ref::<Uint8Array>() {
        return Some(bytes.slice(0, bytes.length()));
    }
    body.dyn_ref::<js_sys::ArrayBuffer>().map(|b| Uint8Array::new(b).slice(0, b.byte_length()))
}

/// `N` bytes from the platform CSPRNG (crypto.getRandomValues).
pub fn random_bytes<const N: usize>() -> Result<[u8; N], JsValue> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|_| failure("unsupported-runtime").set("missing", "crypto.getRandomValues").build())?;
    Ok(bytes)
}

/// A UUID v4 from the platform CSPRNG: `crypto.randomUUID` where it exists
/// (secure contexts; 10x cheaper), else 16 bytes from `getRandomValues`.
pub fn new_key() -> Result<String, JsValue> {
    let crypto = get(&js_sys::global(), "crypto");
    if let Ok(random_uuid) = get(&crypto, "randomUUID").dyn_into::<Function>() {
        if let Some(key) = random_uuid.call0(&crypto).ok().and_then(|k| k.as_string()) {
            return Ok(key);
        }
    }
    let uuid = uuid::Builder::from_random_bytes(random_bytes()?).into_uuid();
    Ok(uuid.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()).to_string())
}

pub enum Attempt {
    Answered { outcome: Outcome, response: Response },
    Failed { outcome: Outcome, cause: JsValue },
    Aborted,
}

/// Tells the attempt's signal to follow the caller's: `AbortSignal.any`
/// where the runtime has it, else a listener. Without a caller's signal the
/// attempt's own is enough (and `any` costs ~6 µs in Node).
fn follow(caller: Option<&AbortSignal>, controller: &AbortController, abort: &Function) -> AbortSignal {
    let Some(caller) = caller else {
        return controller.signal();
    };
    let any = get(&get(&js_sys::global(), "AbortSignal"), "any");
    if let Some(any) = any.dyn_ref::<Function>() {
        let both = Array::of2(caller, &controller.signal());
        if let Ok(signal) = any.call1(&JsValue::NULL, &both) {
            return signal.unchecked_into();
        }
    }
    let _ = caller.add_event_listener_with_callback("abort", abort);
    controller.signal()
}

pub async fn send(fetch: Option<&Function>, p: &Prepared, timeout_ms: u64) -> Attempt {
    let Ok(controller) = AbortController::new() else {
        return Attempt::Failed { outcome: Outcome::Network, cause: JsValue::from_str("AbortController is missing") };
    };
    let abort: Function = match get(&controller, "abort").dyn_into::<Function>() {
        Ok(f) => f.bind0(&controller),
        Err(cause) => return Attempt::Failed { outcome: Outcome::Network, cause },
    };
    let signal = follow(p.signal.as_ref(), &controller, &abort);
    let init = Fields::new()
        .set("headers", &p.headers)
        .set("signal", &signal)
        .set_opt("body", p.body.as_ref())
        .build();
    let timer = set_timeout(&abort, timeout_ms);
    let global = js_sys::global();
    let started = match fetch {
        Some(f) => f.call2(&global, &p.base, &init),
        None => get(&global, "fetch")
            .dyn_into::<Function>()
            .and_then(|f| f.call2(&global, &p.base, &init)),
    };
    let result = match started.and_then(|p| p.dyn_into::<Promise>()) {
        Ok(promise) => JsFuture::from(promise).await,
        Err(e) => Err(e),
    };
    clear_timeout(&timer);
    match result {
        _ if p.signal.as_ref().is_some_and(|s| s.aborted()) => Attempt::Aborted,
        Ok(value) => match value.dyn_into::<Response>() {
            Ok(response) => {
                let retry_after = response.headers().get("retry-after").ok().flatten();
                let retry_after_ms = retry_after.and_then(|v| parse_retry_after(&v, now_ms()));
                let outcome = Outcome::Response { status: response.status(), retry_after_ms };
                Attempt::Answered { outcome, response }
            }
            Err(other) => Attempt::Failed { outcome: Outcome::Network, cause: other },
        },
        Err(cause) if controller.signal().aborted() => Attempt::Failed { outcome: Outcome::Timeout, cause },
        Err(cause) => Attempt::Failed { outcome: Outcome::Network, cause },
    }
}

/// Frees the connection of a response we will not hand to anyone.
pub fn discard(response: &Response) {
    let body = get(response, "body");
    if let Ok(cancel) = get(&body, "cancel").dyn_into::<Function>() {
        // Cancelling a fetch body resolves; nothing to await.
        let _ = cancel.call0(&body);
    }
}
