//! Sign in and create an account.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::app::{ctx, LanguagePicker, Notice};
use crate::i18n::K;
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

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (e, p, n) = (
            email.get_untracked(),
            password.get_untracked(),
            name.get_untracked(),
        );
        let create = creating.get_untracked();
        spawn_local(async move {
            let result = if create {
                ipc::sign_up(e, p, n, ctx.lang().code().to_owned()).await
            } else {
                ipc::sign_in(e, p).await
            };
            busy.set(false);
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
