//! The account's credentials on screen: the "confirm your email" banner
//! (home and orders: a new account sees no orders until its address is
//! proved, and must be told why), the change-password form (profile) and
//! the forgotten-password flow (sign-in).
//!
//! The engine checks and decides; every refusal comes back naming its
//! field (`details.fields`) and is said beside that field in the user's
//! language, linked with `aria-describedby`, and focus moves there. Focus
//! also moves to the first field when a flow opens and to the result when
//! it succeeds, so a keyboard or screen-reader user is never left behind.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::auth::{EMAIL_CODE_LEN, MAX_PASSWORD_LEN, MIN_PASSWORD_LEN};
use mostrador_core::{ApiError, ErrorCode};

use crate::app::{ctx, Ctx};
use crate::i18n::{fill, K};
use crate::ipc;

/// Moves focus to the element `css` selects once it is drawn; an element
/// that cannot take focus by itself (a message) is made focusable first.
pub fn focus_soon(css: impl Into<String>) {
    let css: String = css.into();
    set_timeout(
        move || {
            use wasm_bindgen::JsCast;
            let Some(el) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.query_selector(&css).ok().flatten())
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            else {
                return;
            };
            let native = matches!(
                el.tag_name().as_str(),
                "INPUT" | "BUTTON" | "SELECT" | "TEXTAREA" | "A"
            );
            if !native && !el.has_attribute("tabindex") {
                let _ = el.set_attribute("tabindex", "-1");
            }
            let _ = el.focus();
        },
        std::time::Duration::from_millis(0),
    );
}

/// A form's refusal: beside one of its fields, or for the whole form.
#[derive(Debug, Clone, Default)]
struct Refusal {
    field: Option<(&'static str, String)>,
    form: Option<String>,
}

/// Where a form says what went wrong. `fields` pairs the server's field
/// names with the inputs' ids (also their `data-testid`s); a refusal of
/// another field, or of none, goes above the buttons in `error_id`.
#[derive(Clone, Copy)]
struct Form {
    fields: &'static [(&'static str, &'static str)],
    error_id: &'static str,
    refusal: RwSignal<Refusal>,
    /// A request is on its way (the submit button waits).
    busy: RwSignal<bool>,
    /// Taken when the form is made: the context cannot be looked up from
    /// the task that reads an answer.
    ctx: Ctx,
}

impl Form {
    fn new(fields: &'static [(&'static str, &'static str)], error_id: &'static str) -> Self {
        Self {
            fields,
            error_id,
            refusal: RwSignal::new(Refusal::default()),
            busy: RwSignal::new(false),
            ctx: ctx(),
        }
    }

    /// Sends the form, one request at a time: the last refusal goes, then
    /// `request`'s refusal is said or its answer handed to `ok`.
    fn send<T: 'static>(
        &self,
        request: impl std::future::Future<Output = Result<T, ApiError>> + 'static,
        ok: impl FnOnce(T) + 'static,
    ) {
        if self.busy.get_untracked() {
            return;
        }
        self.clear();
        self.busy.set(true);
        let form = *self;
        spawn_local(async move {
            let result = request.await;
            form.busy.set(false);
            match result {
                Ok(answer) => ok(answer),
                Err(e) => form.refuse(&e),
            }
        });
    }

    fn clear(&self) {
        self.refusal.set(Refusal::default());
    }

    /// Says `err` beside its field (focused) or for the form.
    fn refuse(&self, err: &ApiError) {
        let text = self.ctx.error(err);
        let field = err
            .field_problem()
            .and_then(|(f, _)| self.fields.iter().find(|(name, _)| *name == f));
        match field {
            Some(&(name, id)) => {
                self.refusal.set(Refusal {
                    field: Some((name, text)),
                    form: None,
                });
                focus_soon(format!("#{id}"));
            }
            None => self.say(text),
        }
    }

    /// A sentence for the whole form (focused, so it is read out).
    fn say(&self, text: String) {
        self.refusal.set(Refusal {
            field: None,
            form: Some(text),
        });
        focus_soon(format!("#{}", self.error_id));
    }

    fn field_error(&self, field: &str) -> Option<String> {
        self.refusal.with(|r| {
            r.field
                .as_ref()
                .filter(|(f, _)| *f == field)
                .map(|(_, t)| t.clone())
        })
    }

    /// The form-wide sentence, if any.
    fn error(&self) -> impl IntoView {
        let (refusal, id) = (self.refusal, self.error_id);
        move || {
            refusal.with(|r| r.form.clone()).map(|e| {
                view! { <p class="error" role="alert" id=id data-testid=id>{e}</p> }
            })
        }
    }
}

/// One labelled input of a [`Form`], with its hint and its refusal linked
/// by `aria-describedby`.
#[component]
fn Field(
    form: Form,
    /// The server's name for the field.
    field: &'static str,
    /// The input's id and `data-testid`.
    id: &'static str,
    label: K,
    kind: &'static str,
    autocomplete: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] hint: Option<String>,
    #[prop(optional)] maxlength: Option<usize>,
) -> impl IntoView {
    let ctx = ctx();
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let has_hint = hint.is_some();
    let error = move || form.field_error(field);
    let described = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <label class="field">
            <span>{ctx.t(label)}</span>
            <input type=kind id=id data-testid=id autocomplete=autocomplete required
                maxlength=maxlength.map(|n| n.to_string())
                aria-invalid=move || error().is_some().to_string()
                aria-describedby=described
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))/>
            {hint.map(|h| view! { <small class="hint" id=hint_id>{h}</small> })}
            {move || error().map(|t| view! {
                <small class="field-error" role="alert" id=error_id.clone() data-testid=error_id.clone()>{t}</small>
            })}
        </label>
    }
}

fn code_hint() -> String {
    fill(
        ctx().t(K::VerifyCodeHint),
        &[(
            "n",
            &crate::fmt::number(ctx().lang(), EMAIL_CODE_LEN as i64),
        )],
    )
}

fn password_hint() -> String {
    fill(
        ctx().t(K::PasswordHint),
        &[("n", &MIN_PASSWORD_LEN.to_string())],
    )
}

/// "Confirm your email to see your orders": shown to a shopper whose
/// address is not proved yet, with the code field, Verify and Resend.
#[component]
pub fn VerifyBanner() -> impl IntoView {
    let ctx = ctx();
    let pending = move || {
        ctx.session
            .get()
            .flatten()
            .filter(|me| !me.email_verified && !me.role.is_staff())
            .map(|me| me.email)
    };
    move || pending().map(|email| view! { <VerifyCard email=email/> })
}

#[component]
fn VerifyCard(email: String) -> impl IntoView {
    let ctx = ctx();
    let code = RwSignal::new(String::new());
    let form = Form::new(&[("code", "verify-code")], "verify-error");
    let sent = RwSignal::new(None::<String>);
    let verify = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        sent.set(None);
        form.send(ipc::verify_email(code.get_untracked()), move |me| {
            // The banner goes, and the frame redraws for the confirmed
            // user: its pages load again, the orders (already on the
            // device) with them.
            ctx.notice.set(Some(ctx.t(K::VerifiedNotice).to_owned()));
            ctx.session.set(Some(Some(me)));
            focus_soon("[data-testid=notice]");
        });
    };
    let resend = {
        let email = email.clone();
        move |_| {
            form.clear();
            sent.set(None);
            let email = email.clone();
            spawn_local(async move {
                match ipc::resend_verification().await {
                    Ok(()) => {
                        sent.set(Some(fill(ctx.t(K::ResendDone), &[("email", &email)])));
                        focus_soon("#verify-sent");
                    }
                    Err(e) if e.code == ErrorCode::RateLimited => {
                        form.say(ctx.t(K::ErrCodeRecentlySent).to_owned())
                    }
                    Err(e) => form.refuse(&e),
                }
            });
        }
    };
    view! {
        <section class="card verify" aria-labelledby="verify-title" data-testid="verify-banner">
            <h2 id="verify-title">{ctx.t(K::VerifyBannerTitle)}</h2>
            <p data-testid="verify-sent-to">{fill(ctx.t(K::VerifyBannerBody), &[("email", &email)])}</p>
            <form on:submit=verify data-testid="verify-form" novalidate>
                <Field form=form field="code" id="verify-code" label=K::VerifyCode kind="text"
                    autocomplete="one-time-code" value=code hint=code_hint() maxlength=2 * EMAIL_CODE_LEN/>
                {form.error()}
                {move || sent.get().map(|s| view! {
                    <p class="hint" role="status" id="verify-sent" data-testid="verify-sent">{s}</p>
                })}
                <div class="actions">
                    <button type="submit" class="primary" data-testid="verify-submit" disabled=move || form.busy.get()>
                        {ctx.t(K::VerifyAction)}
                    </button>
                    <button type="button" data-testid="verify-resend" on:click=resend>
                        {ctx.t(K::ResendAction)}
                    </button>
                </div>
            </form>
        </section>
    }
}

/// Profile: change the password (current, new, repeated). This device
/// stays signed in; the result is said and focused.
#[component]
pub fn ChangePasswordForm() -> impl IntoView {
    let ctx = ctx();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let form = Form::new(
        &[
            ("current_password", "password-current"),
            ("new_password", "password-new"),
            ("confirm_password", "password-confirm"),
        ],
        "password-error",
    );
    let done = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let request = ipc::change_password(
            current.get_untracked(),
            new.get_untracked(),
            confirm.get_untracked(),
        );
        form.send(request, move |()| {
            for s in [current, new, confirm] {
                s.set(String::new());
            }
            done.set(true);
            focus_soon("#password-changed");
        });
    };
    view! {
        <form class="card" on:submit=submit data-testid="password-form" aria-labelledby="password-title" novalidate>
            <h2 id="password-title">{ctx.t(K::ChangePasswordTitle)}</h2>
            <Field form=form field="current_password" id="password-current" label=K::CurrentPassword
                kind="password" autocomplete="current-password" value=current maxlength=MAX_PASSWORD_LEN/>
            <Field form=form field="new_password" id="password-new" label=K::NewPassword
                kind="password" autocomplete="new-password" value=new hint=password_hint() maxlength=MAX_PASSWORD_LEN/>
            <Field form=form field="confirm_password" id="password-confirm" label=K::ConfirmPassword
                kind="password" autocomplete="new-password" value=confirm maxlength=MAX_PASSWORD_LEN/>
            {form.error()}
            <Show when=move || done.get()>
                <p class="hint" role="status" id="password-changed" data-testid="password-changed">
                    {ctx.t(K::PasswordChanged)}
                </p>
            </Show>
            <button type="submit" class="primary" data-testid="password-submit" disabled=move || form.busy.get()>
                {ctx.t(K::ChangePasswordAction)}
            </button>
        </form>
    }
}

/// Sign-in: "Forgot your password?" First the email (a code is mailed),
/// then the code with the new password. `on_done` gets the address, so
/// the sign-in form can be filled in; `on_back` returns to it.
#[component]
pub fn ResetPassword(
    email: RwSignal<String>,
    on_done: Callback<String>,
    on_back: Callback<()>,
) -> impl IntoView {
    let ctx = ctx();
    let code = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let form = Form::new(
        &[
            ("email", "reset-email"),
            ("code", "reset-code"),
            ("new_password", "reset-new"),
            ("confirm_password", "reset-confirm"),
        ],
        "reset-error",
    );
    // Set once a code was asked for: the address it went to.
    let sent_to = RwSignal::new(None::<String>);
    focus_soon("#reset-email");

    let ask = move || {
        let address = email.get_untracked().trim().to_owned();
        let request = ipc::request_password_reset(address.clone());
        form.send(request, move |()| {
            sent_to.set(Some(address));
            focus_soon("#reset-code");
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if sent_to.get_untracked().is_none() {
            ask();
            return;
        }
        let address = email.get_untracked().trim().to_owned();
        let request = ipc::confirm_password_reset(
            address.clone(),
            code.get_untracked(),
            new.get_untracked(),
            confirm.get_untracked(),
        );
        form.send(request, move |()| on_done.run(address));
    };
    let second_step = move || sent_to.get().is_some();
    view! {
        <form class="card signin-card" on:submit=submit data-testid="reset-form" aria-labelledby="reset-title" novalidate>
            <h1 id="reset-title">{ctx.t(K::ResetTitle)}</h1>
            <p class="lead">{ctx.t(K::ResetLead)}</p>
            <Field form=form field="email" id="reset-email" label=K::Email kind="email"
                autocomplete="email" value=email/>
            <Show when=second_step>
                <p class="hint" role="status" data-testid="reset-sent">
                    {move || fill(ctx.t(K::ResetCodeSent), &[("email", &sent_to.get().unwrap_or_default())])}
                </p>
                <Field form=form field="code" id="reset-code" label=K::VerifyCode kind="text"
                    autocomplete="one-time-code" value=code hint=code_hint() maxlength=2 * EMAIL_CODE_LEN/>
                <Field form=form field="new_password" id="reset-new" label=K::NewPassword
                    kind="password" autocomplete="new-password" value=new hint=password_hint() maxlength=MAX_PASSWORD_LEN/>
                <Field form=form field="confirm_password" id="reset-confirm" label=K::ConfirmPassword
                    kind="password" autocomplete="new-password" value=confirm maxlength=MAX_PASSWORD_LEN/>
            </Show>
            {form.error()}
            <button type="submit" class="primary wide" data-testid="reset-submit" disabled=move || form.busy.get()>
                {move || if second_step() { ctx.t(K::ResetAction) } else { ctx.t(K::ResetSendCode) }}
            </button>
            <Show when=second_step>
                <button type="button" class="link" data-testid="reset-resend" on:click=move |_| ask()>
                    {ctx.t(K::ResendAction)}
                </button>
            </Show>
            <button type="button" class="link" data-testid="reset-back" on:click=move |_| on_back.run(())>
                {ctx.t(K::BackToSignIn)}
            </button>
        </form>
    }
}
