//! Delivery with no page open: Background Sync.
//!
//! Where the platform has the Background Sync API (Chromium) and the origin a
//! service worker, an operation left stored here asks the browser for a
//! `'durafetch'` sync event (the host registers the tag on the worker's
//! registration): the browser fires it in the service worker once the
//! network is back, every page closed or not, and again later while the
//! worker says operations remain (pass.rs). Where it has none (Safari,
//! Firefox) or none is registered, a page becoming visible resends what is
//! stored at once, like 'online', so a tab shown catches up without
//! waiting for a backoff timer a hidden tab had throttled.

#[allow(unused_imports)]
use crate::prelude::*;

use super::{Action, Engine, Now};

#[derive(Default)]
pub(crate) struct BackgroundSync {
    /// The platform has the API (`SyncManager`), as the host found it.
    pub api: bool,
    /// A registration the host is making now: it covers what is stored by then.
    asking: bool,
    /// The last registration succeeded: the browser will fire the event.
    registered: bool,
}

impl BackgroundSync {
    pub fn new(api: bool) -> BackgroundSync {
        BackgroundSync { api, ..BackgroundSync::default() }
    }
}

impl Engine {
    /// An operation stays stored here (queued, or its resend failed): ask
    /// for a sync event, unless a registration under way covers it.
    pub(crate) fn want_sync(&mut self) {
        if !self.options.background_sync || !self.sync.api || self.sync.asking || self.closed {
            return;
        }
        self.sync.asking = true;
        self.push(Action::RegisterSync);
    }

    /// The host registered the tag (`ok`), or could not (no service worker
    /// registration, no permission).
    pub fn sync_registered(&mut self, _now: Now, ok: bool) {
        self.sync.asking = false;
        self.sync.registered = ok;
    }

    /// The page became visible. Without a sync event to count on, stored
    /// operations go now, our backoff skipped; with one, those due go.
    pub fn visible(&mut self, now: Now) {
        if self.sync.registered {
            self.kick();
        } else {
            self.force_drain(now);
        }
        self.settle_idle();
    }
}
