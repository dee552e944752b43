//! The few line icons the UI uses (24×24 SVG paths, stroked).

use leptos::prelude::*;

pub const HOME: &str = "M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1z";
pub const BOX: &str = "M3 7l9-4 9 4v10l-9 4-9-4zM3 7l9 4 9-4M12 11v10";
pub const CHAT: &str = "M4 5h16v11H9l-5 4z";
pub const PHONE: &str =
    "M5 4h4l2 5-3 2a11 11 0 0 0 5 5l2-3 5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2z";
pub const USER: &str = "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21a8 8 0 0 1 16 0";
pub const CHART: &str = "M4 20V10M10 20V4M16 20v-7M22 20H2";
pub const CLOSE: &str = "M6 6l12 12M18 6L6 18";
pub const CLIP: &str =
    "M21 11l-8.5 8.5a5 5 0 0 1-7-7L14 4a3.5 3.5 0 0 1 5 5l-8.5 8.5a2 2 0 0 1-3-3L15 7";

#[component]
pub fn Icon(path: &'static str) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"
            fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">
            <path d=path></path>
        </svg>
    }
}
