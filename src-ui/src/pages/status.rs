//! Is the support backend reachable, and which version is it?

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::{ApiError, BackendStatus};

use crate::i18n::{fill, Lang, K};
use crate::ipc;

/// How often the status is re-checked while the page is open.
const POLL: Duration = Duration::from_secs(2);

/// What the page shows, derived from the last check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusView {
    /// `checking`, `online` or `offline` (also the CSS state).
    pub state: &'static str,
    pub headline: String,
    pub detail: String,
}

impl StatusView {
    pub fn from_check(check: Option<&Result<BackendStatus, ApiError>>, lang: Lang) -> Self {
        match check {
            None => StatusView {
                state: "checking",
                headline: K::ServerChecking.text(lang).into(),
                detail: String::new(),
            },
            Some(Ok(BackendStatus::Online {
                version,
                server_url,
                ..
            })) => StatusView {
                state: "online",
                headline: fill(K::ServerOnline.text(lang), &[("version", version)]),
                detail: fill(K::ServerConnected.text(lang), &[("url", server_url)]),
            },
            Some(Ok(BackendStatus::Offline { server_url, .. })) => StatusView {
                state: "offline",
                headline: K::Offline.text(lang).into(),
                detail: fill(K::ServerUnreachable.text(lang), &[("url", server_url)]),
            },
            Some(Err(_)) => StatusView {
                state: "offline",
                headline: K::Offline.text(lang).into(),
                detail: fill(K::ServerUnreachable.text(lang), &[("url", "")]),
            },
        }
    }
}

/// The connection to the support server, checked every few seconds: shown
/// on the sign-in screen (signing in needs it).
#[component]
pub fn BackendPill() -> impl IntoView {
    let (check, set_check) = signal(None::<Result<BackendStatus, ApiError>>);
    let refresh = move || {
        spawn_local(async move {
            set_check.set(Some(ipc::backend_status().await));
        })
    };
    refresh();
    if let Ok(handle) = set_interval_with_handle(refresh, POLL) {
        on_cleanup(move || handle.clear());
    }
    let view_of = move || StatusView::from_check(check.read().as_ref(), crate::app::ctx().lang());
    view! {
        <div class="status-row">
            <span class="pill" role="status" aria-live="polite" data-testid="backend-status"
                data-state=move || view_of().state>
                <span class="dot" aria-hidden="true"></span>
                {move || view_of().headline}
            </span>
            <button type="button" class="link check-now" data-testid="check-now"
                aria-label=move || crate::app::ctx().t(K::CheckNow) title=move || crate::app::ctx().t(K::CheckNow)
                on:click=move |_| refresh()>
                <span aria-hidden="true">"↻"</span>
            </button>
        </div>
        <p class="detail" data-testid="backend-detail">{move || view_of().detail}</p>
    }
}
