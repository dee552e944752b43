//! Sign in and create an account. When another account left unsent writes
//! on this device (its session ended before they went out), the engine
//! refuses until the user has seen what would be lost and chosen to
//! discard it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::app::{UnsentKind, UnsentWrites};

use crate::app::{ctx, LanguagePicker, Notice};
use crate::i18n::{self, fill, K};
use crate::ipc;

#[component]
pub fn SignInPage() -> impl IntoView {
    let ctx = ctx();
    let creating = RwSignal::new(false);
    let show_privacy = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    // Another account's unsent writes are on this device: what would be
    // lost, until the user discards them or cancels.
    let unsent = RwSignal::new(None::<UnsentWrites>);

    let send = move |discard: bool| {
        let (e, p, n) = (
            email.get_untracked(),
            password.get_untracked(),
            name.get_untracked(),
        );
        let create = creating.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let result = if create {
                ipc::sign_up_with(e, p, n, ctx.lang().code().to_owned(), discard).await
            } else {
                ipc::sign_in_with(e, p, discard).await
            };
            busy.set(false);
            if let Some(u) = result.as_ref().err().and_then(UnsentWrites::from_error) {
                unsent.set(Some(u));
                return;
            }
            match result {
                Ok(me) => {
                    ctx.notice.set(None);
                    crate::app::landing(&ctx, &me);
                    ctx.session.set(Some(Some(me)));
                }
                Err(err) => error.set(Some(ctx.error(&err))),
            }
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        unsent.set(None);
        send(false);
    };

    view! {
        <main class="signin">
            <div class="signin-top">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"M"</span>
                    <span class="brand-name">{ctx.t(K::AppName)}</span>
                </div>
                <LanguagePicker/>
            </div>
            <Notice/>
            <form class="card signin-card" on:submit=submit data-testid="signin-form">
                <h1>{move || if creating.get() { ctx.t(K::SignUpTitle) } else { ctx.t(K::SignInTitle) }}</h1>
                <p class="lead">{ctx.t(K::SignInLead)}</p>
                <Show when=move || creating.get()>
                    <label class="field">
                        <span>{ctx.t(K::YourName)}</span>
                        <input type="text" autocomplete="name" required data-testid="signup-name"
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <label class="field">
                    <span>{ctx.t(K::Email)}</span>
                    <input type="email" autocomplete="email" required data-testid="signin-email"
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{ctx.t(K::Password)}</span>
                    <input type="password" required data-testid="signin-password"
                        autocomplete=move || if creating.get() { "new-password" } else { "current-password" }
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                    <Show when=move || creating.get()>
                        <small class="hint">{ctx.t(K::PasswordHint)}</small>
                    </Show>
                </label>
                {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
                {move || unsent.get().map(|u| view! {
                    <UnsentQuestion unsent=u
                        on_discard=Callback::new(move |_| { unsent.set(None); send(true); })
                        on_keep=Callback::new(move |_| unsent.set(None))/>
                })}
                <button type="submit" class="primary wide" data-testid="signin-submit" disabled=move || busy.get()>
                    {move || if creating.get() { ctx.t(K::SignUpAction) } else { ctx.t(K::SignInAction) }}
                </button>
                <button type="button" class="link" data-testid="signin-toggle"
                    on:click=move |_| { creating.update(|c| *c = !*c); error.set(None); }>
                    {move || if creating.get() { ctx.t(K::HaveAccount) } else { ctx.t(K::NoAccount) }}
                </button>
                <button type="button" class="link" data-testid="privacy-link"
                    on:click=move |_| show_privacy.update(|s| *s = !*s)>
                    {ctx.t(K::PrivacyLink)}
                </button>
            </form>
            <section class="card server">
                <super::status::BackendPill/>
            </section>
            <Show when=move || show_privacy.get()>
                <section class="card">
                    <super::profile::PrivacyText/>
                </section>
            </Show>
        </main>
    }
}

fn unsent_kind(kind: UnsentKind) -> K {
    match kind {
        UnsentKind::Question => K::UnsentQuestion,
        UnsentKind::Message => K::UnsentMessage,
        UnsentKind::Note => K::UnsentNote,
        UnsentKind::Receipt => K::UnsentReceipt,
        UnsentKind::Rating => K::UnsentRating,
        UnsentKind::CallbackRequest => K::UnsentCallbackRequest,
        UnsentKind::CallbackCancel => K::UnsentCallbackCancel,
        UnsentKind::CallbackChange => K::UnsentCallbackChange,
        UnsentKind::Profile => K::UnsentProfile,
        UnsentKind::Address => K::UnsentAddress,
        UnsentKind::AddressRemoval => K::UnsentAddressRemoval,
        UnsentKind::AccountDeletion => K::UnsentAccountDeletion,
        UnsentKind::ConversationUpdate => K::UnsentConversationUpdate,
        UnsentKind::CallbackOutcome => K::UnsentCallbackOutcome,
        UnsentKind::Other => K::UnsentOther,
    }
}

/// Another account's unsent writes: how many, what each is and when it
/// was made, and the choice (discard them and sign in, or cancel).
#[component]
fn UnsentQuestion(
    unsent: UnsentWrites,
    on_discard: Callback<()>,
    on_keep: Callback<()>,
) -> impl IntoView {
    let ctx = ctx();
    let lang = ctx.lang();
    let lead = fill(
        &i18n::count(lang, i18n::N::UnsentOfOther, unsent.writes.len() as i64),
        &[("name", &unsent.name)],
    );
    let items = unsent
        .writes
        .iter()
        .map(|w| {
            let files = (w.files > 0).then(|| format!(" · {}", ctx.t(K::UnsentWithFiles)));
            view! {
                <li>
                    {unsent_kind(w.kind).text(lang)}
                    {files}
                    " · "
                    <time>{crate::fmt::date_time(lang, w.at, None)}</time>
                </li>
            }
        })
        .collect_view();
    let hint = fill(ctx.t(K::UnsentKeepHint), &[("name", &unsent.name)]);
    view! {
        <div class="unsent-question" role="alert" data-testid="unsent-question">
            <p>{lead}</p>
            <ul data-testid="unsent-list">{items}</ul>
            <p class="hint">{hint}</p>
            <div class="actions">
                <button type="button" class="danger" data-testid="unsent-discard"
                    on:click=move |_| on_discard.run(())>
                    {ctx.t(K::UnsentDiscard)}
                </button>
                <button type="button" data-testid="unsent-keep"
                    on:click=move |_| on_keep.run(())>
                    {ctx.t(K::UnsentKeep)}
                </button>
            </div>
        </div>
    }
}
