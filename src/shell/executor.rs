//! Performs the engine's actions on the JS I/O layer, and keeps the host's
//! one timer set to the engine's next wake-up. Nothing is decided here.

#[allow(unused_imports)]
use crate::prelude::*;
use super::client::Core;
use super::host::Host;
use super::record_js::encode;
use super::report_js;
use crate::core::engine::{Action, Source};

impl Core {
    pub(super) fn drive(&self) {
        let Some(host) = self.host.get() else {
            return;
        };
        loop {
            // Taken one at a time, the borrow released before performing:
            // an event listener may call into the client.
            let action = self.engine.borrow_mut().as_mut().and_then(|e| e.poll_action());
            let Some(action) = action else {
                break;
            };
            perform(host, action);
        }
        let next = self.engine.borrow().as_ref().and_then(|e| e.poll_timeout()).unwrap_or(-1.0);
        if next != self.armed.get() {
            self.armed.set(next);
            host.timer(next);
        }
    }
}

fn lock_name(name: &str, drain: bool) -> String {
    if drain {
        "drain".into()
    } else {
        ["key:", name].concat()
    }
}

fn perform(host: &Host, action: Action) {
    match action {
        Action::Send { io, source: Source::Call(call), key, .. } => host.send(io.0, call.0, &wasm_bindgen::JsValue::NULL, key),
        Action::Send { io, source: Source::Record(record), key, .. } => host.send(io.0, 0, &encode(&record), key),
        Action::Cancel { io } => host.cancel(io.0),
        Action::Resolve { call, response, last } => host.resolve(call.0, response.0, last),
        Action::Reject { call, failure } => host.reject(call.0, report_js::failure(&failure)),
        Action::Release { io } => host.release(io.0),
        Action::Emit(event) => {
            let (kind, payload) = report_js::event(&event);
            host.emit(kind.as_str(), payload);
        }
        Action::Get { io, key, .. } => host.get(io.0, &key),
        Action::Put { io, record, .. } => host.put(io.0, encode(&record)),
        Action::Delete { io, key, .. } => host.delete(io.0, &key),
        Action::List { io, .. } => host.list(io.0),
        Action::Quarantine { io, listing, index, reason } => host.quarantine(io.0, listing.0, index, &reason),
        Action::Lock { io, name, drain, wait, .. } => host.lock(io.0, &lock_name(&name, drain), wait),
        Action::Unlock { name, drain } => host.unlock(&lock_name(&name, drain)),
        Action::Pending { call, ops } => host.pending(call.0, report_js::pending(&ops)),
        Action::CloseStore => host.close_store(),
    }
}
