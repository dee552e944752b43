//! First screen: is the support backend reachable, and which version is it?

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::{ApiError, BackendStatus};

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
    pub fn from_check(check: Option<&Result<BackendStatus, ApiError>>) -> Self {
        match check {
            None => StatusView {
                state: "checking",
                headline: "Checking the support server…".into(),
                detail: String::new(),
            },
            Some(Ok(BackendStatus::Online {
                version,
                server_url,
                ..
            })) => StatusView {
                state: "online",
                headline: format!("Online · server {version}"),
                detail: format!("Connected to {server_url}"),
            },
            Some(Ok(BackendStatus::Offline { server_url, .. })) => StatusView {
                state: "offline",
                headline: "Offline".into(),
                detail: format!(
                    "Can't reach the support server at {server_url}. We'll keep trying."
                ),
            },
            Some(Err(_)) => StatusView {
                state: "offline",
                headline: "Offline".into(),
                detail: "The app could not check the connection. We'll keep trying.".into(),
            },
        }
    }
}

#[component]
pub fn StatusPage() -> impl IntoView {
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
    let view_of = move || StatusView::from_check(check.read().as_ref());

    view! {
        <section class="card" aria-labelledby="welcome-title">
            <h1 id="welcome-title">"Welcome to Mostrador"</h1>
            <p>"Track your orders, chat with support and book a call back — even offline."</p>
            <div class="status-row">
                <span
                    class="pill"
                    role="status"
                    aria-live="polite"
                    data-testid="backend-status"
                    data-state=move || view_of().state
                >
                    <span class="dot" aria-hidden="true"></span>
                    {move || view_of().headline}
                </span>
                <button
                    type="button"
                    data-testid="check-now"
                    aria-label="Check the connection now"
                    on:click=move |_| refresh()
                >
                    "Check now"
                </button>
            </div>
            <p class="detail" data-testid="backend-detail" style="margin-top: 12px">
                {move || view_of().detail}
            </p>
        </section>
    }
}
