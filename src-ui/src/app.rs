//! The application frame: header and the current page.

use leptos::prelude::*;

use crate::pages::status::StatusPage;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <header class="app-header">
            <div class="brand">
                <span class="brand-mark" aria-hidden="true">"M"</span>
                <span>"Mostrador"</span>
            </div>
            <span class="spacer"></span>
        </header>
        <main>
            <StatusPage/>
        </main>
    }
}
