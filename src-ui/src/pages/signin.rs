//! Sign in and create an account. What can be checked here (a name, an
//! email's shape, the password's length) is checked before sending, and
//! every refusal is said next to its field in the user's language. When
//! another account left unsent writes on this device (its session ended
//! before they went out), the engine refuses until the user has seen what
//! would be lost and chosen to discard it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::app::{UnsentKind, UnsentWrites};
use mostrador_core::auth::{MAX_NAME_CHARS, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};

use crate::app::{ctx, LanguagePicker, Notice};
use crate::i18n::{self, fill, Lang, K};
use crate::ipc;

/// The fields of the form, as the server names them.
const FIELDS: [&str; 3] = ["display_name", "email", "password"];

/// What is wrong with the form before it is sent: (field, sentence).
fn check(
    lang: Lang,
    creating: bool,
    name: &str,
    email: &str,
    password: &str,
) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let mut say = |field: &'static str, problem: &str| {
        if let Some(text) = i18n::field_text(lang, field, problem) {
            out.push((field, text));
        }
    };
    if creating {
        if name.trim().is_empty() {
            say("display_name", "required");
        } else if name.trim().chars().count() > MAX_NAME_CHARS {
            say("display_name", "too_long");
        }
    }
    let email = email.trim();
    if email.is_empty() {
        say("email", "required");
    } else if !email
        .split_once('@')
        .is_some_and(|(user, host)| !user.is_empty() && host.contains('.') && !host.ends_with('.'))
    {
        say("email", "invalid");
    }
    let n = password.chars().count();
    if n == 0 {
        say("password", "required");
    } else if creating && n < MIN_PASSWORD_LEN {
        say("password", "too_short");
    } else if n > MAX_PASSWORD_LEN {
        say("password", "too_long");
    }
    out
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let ctx = ctx();
    let creating = RwSignal::new(false);
    let show_privacy = RwSignal::new(false);
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // Per field (display_name, email, password): the reason beside it.
    let field_errors = RwSignal::new(Vec::<(&'static str, String)>::new());
    let busy = RwSignal::new(false);
    // "Forgot your password?": the reset flow instead of the form.
    let resetting = RwSignal::new(false);
    let field_error = move |field: &'static str| {
        field_errors.with(|v| v.iter().find(|(f, _)| *f == field).map(|(_, t)| t.clone()))
    };

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
                Err(err) => match err.field_problem().map(|(f, _)| f) {
                    // A refused field: its reason goes beside it.
                    Some(f) if FIELDS.contains(&f) => {
                        let field = FIELDS.into_iter().find(|x| *x == f).unwrap_or("email");
                        field_errors.set(vec![(field, ctx.error(&err))]);
                    }
                    _ => error.set(Some(ctx.error(&err))),
                },
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
        let problems = check(
            ctx.lang(),
            creating.get_untracked(),
            &name.get_untracked(),
            &email.get_untracked(),
            &password.get_untracked(),
        );
        let refused = !problems.is_empty();
        field_errors.set(problems);
        if !refused {
            send(false);
        }
    };
    let reason = move |field: &'static str, id: &'static str| {
        move || {
            field_error(field).map(|t| {
                view! {
                    <small class="field-error" role="alert" id=id data-testid=id>{t}</small>
                }
            })
        }
    };

    view! {
        <main class="signin">
            <div class="signin-top">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"M"</span>
                    <span class="brand-name">{ctx.t(K::AppName)}</span>
                </div>
                <LanguagePicker/>
                <crate::embed::CloseButton lang=ctx.lang/>
            </div>
            <Notice/>
            <Show when=move || resetting.get()>
                <super::account::ResetPassword email=email
                    on_done=Callback::new(move |address: String| {
                        email.set(address);
                        password.set(String::new());
                        resetting.set(false);
                        ctx.notice.set(Some(ctx.t(K::ResetDone).to_owned()));
                        super::account::focus_soon("[data-testid=signin-password]");
                    })
                    on_back=Callback::new(move |_| {
                        resetting.set(false);
                        super::account::focus_soon("[data-testid=signin-email]");
                    })/>
            </Show>
            <form class="card signin-card" class:hidden=move || resetting.get() on:submit=submit data-testid="signin-form">
                <h1>{move || if creating.get() { ctx.t(K::SignUpTitle) } else { ctx.t(K::SignInTitle) }}</h1>
                <p class="lead">{ctx.t(K::SignInLead)}</p>
                <Show when=move || creating.get()>
                    <label class="field">
                        <span>{ctx.t(K::YourName)}</span>
                        <input type="text" autocomplete="name" required data-testid="signup-name"
                            maxlength=MAX_NAME_CHARS.to_string()
                            aria-invalid=move || field_error("display_name").is_some().to_string()
                            aria-describedby=move || field_error("display_name").map(|_| "signup-name-error")
                            prop:value=move || name.get()
                            on:input=move |ev| name.set(event_target_value(&ev))/>
                        {reason("display_name", "signup-name-error")}
                    </label>
                </Show>
                <label class="field">
                    <span>{ctx.t(K::Email)}</span>
                    <input type="email" autocomplete="email" required data-testid="signin-email"
                        aria-invalid=move || field_error("email").is_some().to_string()
                        aria-describedby=move || field_error("email").map(|_| "signin-email-error")
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))/>
                    {reason("email", "signin-email-error")}
                </label>
                <label class="field">
                    <span>{ctx.t(K::Password)}</span>
                    <input type="password" required data-testid="signin-password"
                        autocomplete=move || if creating.get() { "new-password" } else { "current-password" }
                        aria-invalid=move || field_error("password").is_some().to_string()
                        aria-describedby=move || super::chat::described_by(&[
                            ("signin-password-hint", creating.get()),
                            ("signin-password-error", field_error("password").is_some()),
                        ])
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                    <Show when=move || creating.get()>
                        <small class="hint" id="signin-password-hint">
                            {fill(ctx.t(K::PasswordHint), &[("n", &MIN_PASSWORD_LEN.to_string())])}
                        </small>
                    </Show>
                    {reason("password", "signin-password-error")}
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
                <Show when=move || !creating.get()>
                    <button type="button" class="link" data-testid="signin-forgot"
                        on:click=move |_| { error.set(None); field_errors.set(Vec::new()); resetting.set(true); }>
                        {ctx.t(K::ForgotPassword)}
                    </button>
                </Show>
                <button type="button" class="link" data-testid="signin-toggle"
                    on:click=move |_| { creating.update(|c| *c = !*c); error.set(None); field_errors.set(Vec::new()); }>
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
