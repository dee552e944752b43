//! Profile and privacy: personal data, addresses, contact preferences,
//! what is kept and why, export, account deletion, sign-out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use mostrador_core::orders::PostalAddress;
use mostrador_core::profile::{Address, AddressKind, ContactPreferences, Profile, ProfileUpdate};
use uuid::Uuid;

use crate::app::{ctx, Route};
use crate::i18n::{self, fill, K};
use crate::{drafts, ipc};
use crate::logic::PhoneCheck;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let ctx = ctx();
    // Loaded once: live changes must not wipe what the user is typing.
    let data = LocalResource::new(ipc::profile);
    view! {
        <div class="page">
            <div class="page-head">
                <h1>{ctx.t(K::ProfileTitle)}</h1>
                <button type="button" class="link" data-testid="privacy-page" on:click=move |_| ctx.go(Route::Privacy)>
                    {ctx.t(K::PrivacyTitle)}
                </button>
            </div>
            {move || match data.get() {
                None => view! { <p class="muted">{ctx.t(K::Loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{ctx.error(&e)}</p> }.into_any(),
                Some(Ok(None)) => view! { <p class="muted">{ctx.t(K::OnlineOnly)}</p> }.into_any(),
                Some(Ok(Some(p))) => view! { <ProfileForms profile=p/> }.into_any(),
            }}
            <super::account::ChangePasswordForm/>
            <SignOutButton/>
        </div>
    }
}

#[component]
fn ProfileForms(profile: Profile) -> impl IntoView {
    let ctx = ctx();
    let name = RwSignal::new(profile.display_name.clone());
    let phone = RwSignal::new(profile.phone.clone().unwrap_or_default());
    let contact = RwSignal::new(profile.contact.clone());
    let saved = RwSignal::new(None::<String>);
    let check = Memo::new(move |_| PhoneCheck::of(&phone.get()));
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if name.get_untracked().trim().is_empty() {
            saved.set(i18n::field_text(ctx.lang(), "display_name", "required"));
            return;
        }
        if matches!(
            check.get_untracked(),
            PhoneCheck::Invalid(_) | PhoneCheck::Incomplete
        ) {
            saved.set(check.get_untracked().hint(ctx.lang()));
            return;
        }
        let update = ProfileUpdate {
            display_name: Some(name.get_untracked()),
            phone: Some(match check.get_untracked() {
                PhoneCheck::Valid(n) => n,
                _ => String::new(),
            }),
            language: Some(ctx.lang().code().to_owned()),
            time_zone: Some(crate::fmt::system_time_zone()),
            contact: Some(contact.get_untracked()),
        };
        spawn_local(async move {
            saved.set(Some(match ipc::update_profile(update).await {
                Ok(()) => ctx.t(K::Saved).to_owned(),
                Err(e) => ctx.error(&e),
            }));
        });
    };
    let toggle = move |f: fn(&mut ContactPreferences) -> &mut bool| {
        move |_| contact.update(|c| *f(c) = !*f(c))
    };
    let live = LocalResource::new(move || {
        ctx.watch(&[mostrador_core::sync::EntityKind::Profile]);
        ipc::profile()
    });
    let address_row = move |a: Address| {
        let id = a.id;
        let kind = match a.kind {
            AddressKind::Shipping => ctx.t(K::Shipping),
            AddressKind::Billing => ctx.t(K::Billing),
        };
        let p = a.postal;
        view! {
            <div class="row static" data-testid="address">
                <div class="row-main">
                    <strong>{kind}</strong>
                    <span class="muted">{format!("{}, {} {}, {}", p.line1, p.postal_code, p.city, crate::fmt::country(ctx.lang(), &p.country))}</span>
                </div>
                <button type="button" class="danger" data-testid="address-remove"
                    on:click=move |_| ctx.write(ipc::delete_address(id))>
                    {ctx.t(K::Remove)}
                </button>
            </div>
        }
    };
    let first_addresses = profile.addresses.clone();
    let addresses = move || {
        let list = match live.get() {
            Some(Ok(Some(p))) => p.addresses,
            _ => first_addresses.clone(),
        };
        list.into_iter().map(address_row).collect_view()
    };
    view! {
        <div class="cards two">
            <form class="card" on:submit=save data-testid="profile-form">
                <label class="field">
                    <span>{ctx.t(K::DisplayName)}</span>
                    <input type="text" data-testid="profile-name" prop:value=move || name.get()
                        maxlength=mostrador_core::auth::MAX_NAME_CHARS.to_string()
                        on:input=move |ev| name.set(event_target_value(&ev))/>
                </label>
                <label class="field">
                    <span>{ctx.t(K::Email)}</span>
                    <input type="email" disabled prop:value=profile.email.clone()/>
                </label>
                <label class="field">
                    <span>{ctx.t(K::Phone)}</span>
                    <input type="tel" data-testid="profile-phone" prop:value=move || phone.get()
                        on:input=move |ev| phone.set(event_target_value(&ev))/>
                    <small class="hint" class:bad=move || matches!(check.get(), PhoneCheck::Invalid(_))>
                        {move || check.get().hint(ctx.lang()).unwrap_or_else(|| ctx.t(K::PhoneHint).to_owned())}
                    </small>
                </label>
                <fieldset class="field">
                    <legend>{ctx.t(K::Contact)}</legend>
                    <label class="check"><input type="checkbox" data-testid="contact-email"
                        prop:checked=move || contact.get().email on:change=toggle(|c| &mut c.email)/>{ctx.t(K::ByEmail)}</label>
                    <label class="check"><input type="checkbox" data-testid="contact-sms"
                        prop:checked=move || contact.get().sms on:change=toggle(|c| &mut c.sms)/>{ctx.t(K::BySms)}</label>
                    <label class="check"><input type="checkbox" data-testid="contact-push"
                        prop:checked=move || contact.get().push on:change=toggle(|c| &mut c.push)/>{ctx.t(K::ByPush)}</label>
                </fieldset>
                {move || saved.get().map(|s| view! { <p class="hint" role="status" data-testid="profile-saved">{s}</p> })}
                <button type="submit" class="primary" data-testid="profile-save">{ctx.t(K::Save)}</button>
            </form>
            <section class="card">
                <h2>{ctx.t(K::Addresses)}</h2>
                <div class="rows">{addresses}</div>
                <AddressForm name=profile.display_name.clone()/>
            </section>
        </div>
    }
}

#[component]
fn AddressForm(name: String) -> impl IntoView {
    let ctx = ctx();
    let kind = RwSignal::new(AddressKind::Shipping);
    let line1 = RwSignal::new(String::new());
    let city = RwSignal::new(String::new());
    let postal = RwSignal::new(String::new());
    let country = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let fields = [line1, city, postal, country].map(|s| s.get_untracked().trim().to_owned());
        let names = ["line1", "city", "postal_code", "country"];
        if let Some(i) = fields.iter().position(String::is_empty) {
            error.set(i18n::field_text(ctx.lang(), names[i], "required"));
            return;
        }
        let [l1, c, pc, co] = fields;
        if co.chars().count() != 2 || !co.chars().all(|ch| ch.is_ascii_alphabetic()) {
            error.set(i18n::field_text(ctx.lang(), "country", "not_iso_3166"));
            return;
        }
        let address = Address {
            id: Uuid::nil(),
            kind: kind.get_untracked(),
            label: None,
            postal: PostalAddress {
                name: name.clone(),
                line1: l1,
                line2: None,
                city: c,
                region: None,
                postal_code: pc,
                country: co.to_uppercase(),
            },
            is_default: false,
        };
        spawn_local(async move {
            match ipc::put_address(address).await {
                Ok(()) => {
                    for s in [line1, city, postal, country] {
                        s.set(String::new());
                    }
                    error.set(None);
                }
                Err(e) => error.set(Some(ctx.error(&e))),
            }
        });
    };
    let input = move |sig: RwSignal<String>, k: K, testid: &'static str| {
        view! {
            <label class="field">
                <span>{ctx.t(k)}</span>
                <input type="text" data-testid=testid prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev))/>
            </label>
        }
    };
    view! {
        <form class="address-form" on:submit=submit>
            <h3>{ctx.t(K::AddAddress)}</h3>
            <div class="segmented">
                <label><input type="radio" name="kind" prop:checked=move || kind.get() == AddressKind::Shipping
                    on:change=move |_| kind.set(AddressKind::Shipping)/>{ctx.t(K::Shipping)}</label>
                <label><input type="radio" name="kind" prop:checked=move || kind.get() == AddressKind::Billing
                    on:change=move |_| kind.set(AddressKind::Billing)/>{ctx.t(K::Billing)}</label>
            </div>
            {input(line1, K::Street, "address-line1")}
            <div class="two-fields">
                {input(postal, K::PostalCode, "address-postal")}
                {input(city, K::City, "address-city")}
            </div>
            {input(country, K::Country, "address-country")}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <button type="submit" data-testid="address-add">{ctx.t(K::AddAddress)}</button>
        </form>
    }
}

#[component]
fn SignOutButton() -> impl IntoView {
    let ctx = ctx();
    let confirm = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let go = move || {
        spawn_local(async move {
            match ipc::sign_out().await {
                Ok(()) => {
                    drafts::clear_all();
                    ctx.route.set(Route::Home);
                    ctx.session.set(Some(None));
                }
                Err(e) => error.set(Some(ctx.error(&e))),
            }
        });
    };
    view! {
        <div class="signout">
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
            {move || {
                let pending = ctx.outbox.get().pending;
                if confirm.get() && pending > 0 {
                    view! {
                        <p class="error" role="alert">{crate::i18n::count(ctx.lang(), crate::i18n::N::UnsentChanges, pending as i64)}</p>
                        <button type="button" class="danger" data-testid="sign-out-confirm" on:click=move |_| go()>{ctx.t(K::SignOut)}</button>
                        <button type="button" on:click=move |_| confirm.set(false)>{ctx.t(K::Cancel)}</button>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" data-testid="sign-out" on:click=move |_| {
                            if ctx.outbox.get_untracked().pending > 0 { confirm.set(true) } else { go() }
                        }>{ctx.t(K::SignOut)}</button>
                    }.into_any()
                }
            }}
        </div>
    }
}

/// What is kept, why and for how long (also shown before sign-in).
#[component]
pub fn PrivacyText() -> impl IntoView {
    let ctx = ctx();
    view! {
        <div class="privacy" data-testid="privacy-text">
            <h2>{ctx.t(K::PrivacyTitle)}</h2>
            <p>{ctx.t(K::PrivacyIntro)}</p>
            <ul>
                <li>{ctx.t(K::PrivacyAccount)}</li>
                <li>{ctx.t(K::PrivacyOrders)}</li>
                <li>{ctx.t(K::PrivacyChats)}</li>
                // Where the session key lives differs by build.
                <li>{ctx.t(if cfg!(feature = "web") { K::PrivacyDeviceWeb } else { K::PrivacyDevice })}</li>
                <li>{ctx.t(K::PrivacyDelete)}</li>
            </ul>
        </div>
    }
}

#[component]
pub fn PrivacyPage() -> impl IntoView {
    let ctx = ctx();
    let exported = RwSignal::new(None::<String>);
    let deleting = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let queued = RwSignal::new(false);
    let delete_error = RwSignal::new(None::<String>);
    view! {
        <div class="page">
            <button type="button" class="link back" data-testid="back" on:click=move |_| ctx.go(Route::Profile)>
                "← " {ctx.t(K::Back)}
            </button>
            <section class="card"><PrivacyText/></section>
            <section class="card">
                <button type="button" data-testid="export-data" on:click=move |_| {
                    spawn_local(async move {
                        exported.set(Some(match ipc::export_data().await {
                            Ok(f) => fill(ctx.t(K::Exported), &[("path", &f.path)]),
                            Err(e) => ctx.error(&e),
                        }));
                    });
                }>{ctx.t(K::Export)}</button>
                {move || exported.get().map(|t| view! { <p class="hint" role="status" data-testid="export-result">{t}</p> })}
            </section>
            <section class="card danger-zone">
                {move || if queued.get() {
                    view! { <p role="status" data-testid="delete-queued">{ctx.t(K::DeleteQueued)}</p> }.into_any()
                } else if deleting.get() {
                    view! {
                        <p>{ctx.t(K::DeleteConfirm)}</p>
                        <input type="text" data-testid="delete-confirm" aria-label=ctx.t(K::DeleteAccount)
                            on:input=move |ev| typed.set(event_target_value(&ev))/>
                        <div class="actions">
                            <button type="button" class="danger" data-testid="delete-confirm-button"
                                disabled=move || typed.get().trim() != "DELETE"
                                on:click=move |_| spawn_local(async move {
                                    match ipc::delete_account().await {
                                        Ok(()) => queued.set(true),
                                        Err(e) => delete_error.set(Some(ctx.error(&e))),
                                    }
                                })>{ctx.t(K::DeleteAccount)}</button>
                            <button type="button" on:click=move |_| deleting.set(false)>{ctx.t(K::Cancel)}</button>
                        </div>
                        {move || delete_error.get().map(|e| view! { <p class="error" role="alert" data-testid="form-error">{e}</p> })}
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="danger" data-testid="delete-account"
                            on:click=move |_| deleting.set(true)>{ctx.t(K::DeleteAccount)}</button>
                    }.into_any()
                }}
            </section>
        </div>
    }
}
