//! The other tabs of the app over the same IndexedDB database: a
//! `BroadcastChannel` named after it, on which each engine posts what it
//! changed (the store is shared, but each tab's screens refresh only on
//! their own engine's events), and turns what the others post into its own
//! events, never posting those again (a channel does not deliver to the
//! object that posted, so nothing comes back either).

use std::fmt;
use std::rc::Rc;

use mostrador_core::app::Changes;
use serde::{Deserialize, Serialize};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::EngineEvent;

/// The events other tabs need too, as they travel (JSON text).
#[derive(Serialize, Deserialize)]
enum Signal {
    Changed(Changes),
    Outbox { pending: usize, wedged: usize },
    Resynced,
    SignedOut,
}

impl Signal {
    fn of(event: &EngineEvent) -> Option<Self> {
        Some(match event {
            EngineEvent::Changed(c) => Signal::Changed(c.clone()),
            EngineEvent::Outbox { pending, wedged } => Signal::Outbox {
                pending: *pending,
                wedged: *wedged,
            },
            EngineEvent::Resynced => Signal::Resynced,
            EngineEvent::SignedOut => Signal::SignedOut,
            _ => return None,
        })
    }

    fn event(self) -> EngineEvent {
        match self {
            Signal::Changed(c) => EngineEvent::Changed(c),
            Signal::Outbox { pending, wedged } => EngineEvent::Outbox { pending, wedged },
            Signal::Resynced => EngineEvent::Resynced,
            Signal::SignedOut => EngineEvent::SignedOut,
        }
    }
}

/// The channel to the other tabs over database `store` (shared by the
/// engine's clones; closed when the last goes). `None` where the browser
/// has no `BroadcastChannel`: each tab then sees only its own changes.
#[derive(Clone)]
pub(crate) struct Tabs(Option<Rc<Channel>>);

struct Channel {
    channel: BroadcastChannel,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
}

impl Drop for Channel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}

impl fmt::Debug for Tabs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tabs")
    }
}

impl Tabs {
    /// Joins the channel of database `store`; `on_event` gets what the
    /// other tabs post.
    pub(crate) fn open(store: &str, on_event: impl Fn(EngineEvent) + 'static) -> Self {
        let Ok(channel) = BroadcastChannel::new(&format!("mostrador-changes:{store}")) else {
            return Self(None);
        };
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |m: MessageEvent| {
            let signal = m
                .data()
                .as_string()
                .and_then(|t| serde_json::from_str(&t).ok());
            if let Some(signal) = signal.map(Signal::event) {
                on_event(signal);
            }
        });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        Self(Some(Rc::new(Channel {
            channel,
            _on_message: on_message,
        })))
    }

    /// Tells the other tabs about `event`, if it is one they need.
    pub(crate) fn post(&self, event: &EngineEvent) {
        let (Some(c), Some(signal)) = (&self.0, Signal::of(event)) else {
            return;
        };
        if let Ok(text) = serde_json::to_string(&signal) {
            // Fails only once closed.
            let _ = c.channel.post_message(&text.into());
        }
    }
}
