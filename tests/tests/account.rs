//! The account end to end in the real app: a new shopper is told why no
//! orders show ("confirm your email"), reads the code the server mailed
//! (its mailbox folder), verifies, and the orders the shop sent for the
//! address appear; changes the password and signs in with the new one;
//! resets a forgotten password with a mailed code. The banner and the
//! reset screen are saved at phone width in Spanish.

use std::path::Path;
use std::time::Duration;

use mostrador_e2e::{AppSession, ServerProcess};

/// One app at a time: two WebKit processes on two cores make each other
/// time out.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
const WAIT: Duration = Duration::from_secs(30);

const EMAIL: &str = "nina@example.com";
const NUMBER: &str = "MS-90001";

/// The newest one-time code the server mailed to `email` (no SMTP set: the
/// server writes `.eml` files, named in time order, into its mailbox).
fn mailed_code(data_dir: &Path, email: &str) -> anyhow::Result<String> {
    let mut mails: Vec<_> = std::fs::read_dir(data_dir.join("mailbox"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    mails.sort();
    mails
        .iter()
        .rev()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|m| m.contains(&format!("To: {email}")))
        .find_map(|m| {
            let at = m.find("code is ")? + "code is ".len();
            Some(m[at..].chars().take(10).collect::<String>())
        })
        .ok_or_else(|| anyhow::anyhow!("no code mailed to {email}"))
}

/// The shop sends an order for `email` through the signed webhook.
async fn shop_sends_order(server: &ServerProcess, email: &str) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now().to_string();
    server
        .ingest(serde_json::json!({
            "event_id": "e2e-account-order", "occurred_at": now, "order_number": NUMBER,
            "type": "order_upserted", "customer_email": email, "placed_at": now,
            "total_minor": 3450, "currency": "EUR",
            "items": [{"sku": "MUG-1", "name": "Mug", "quantity": 1, "unit_price_minor": 3450}],
        }))
        .await
}

/// Whether `input`'s `aria-describedby` names `id`.
async fn described_by(app: &AppSession, input: &str, id: &str) -> anyhow::Result<bool> {
    Ok(app
        .attr(input, "aria-describedby")
        .await?
        .is_some_and(|ids| ids.split_whitespace().any(|i| i == id)))
}

async fn sign_out(app: &AppSession) -> anyhow::Result<()> {
    app.click("[data-testid=nav-profile]").await?;
    app.click("[data-testid=sign-out]").await?;
    app.wait_for("[data-testid=signin-form]").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_email_change_password_and_reset_it() -> anyhow::Result<()> {
    let _one = SERIAL.lock().await;
    let data = tempfile::tempdir()?;
    let server = ServerProcess::start_demo(data.path()).await?;
    shop_sends_order(&server, EMAIL).await?;
    let app = AppSession::launch(&server.url).await?;

    // Register: the banner says why no orders show, and where the code went.
    app.sign_up("Nina", EMAIL, "first password 1").await?;
    app.wait_for_text("[data-testid=verify-banner]", WAIT, |t| {
        t.contains("Confirm your email to see your orders") && t.contains(EMAIL)
    })
    .await?;
    app.wait_for("[data-testid=home-orders]").await?;
    assert!(
        !app.texts("[data-testid=home-orders]").await?[0].contains(NUMBER),
        "no orders before the address is proved"
    );
    // The orders screen says it too.
    app.click("[data-testid=nav-orders]").await?;
    app.wait_for("[data-testid=verify-banner]").await?;
    app.click("[data-testid=nav-home]").await?;

    // At phone width, in Spanish.
    app.set_viewport(390, 844).await?;
    app.set_language("es").await?;
    app.wait_for_text("[data-testid=verify-banner]", WAIT, |t| {
        t.contains("Confirma tu correo")
    })
    .await?;
    app.screenshot("account-verify-banner-es-phone").await?;
    app.set_language("en").await?;
    app.set_viewport(1280, 900).await?;

    // Resend at once: the server's 429 as a sentence, focused.
    app.click("[data-testid=verify-resend]").await?;
    app.wait_for_text("[data-testid=verify-error]", WAIT, |t| {
        t.contains("less than a minute ago")
    })
    .await?;
    assert!(
        app.focused("#verify-error").await?,
        "the refusal is focused"
    );

    // A wrong code: said beside the field, linked and focused.
    app.type_into("[data-testid=verify-code]", "ABCDE-FGH23")
        .await?;
    app.click("[data-testid=verify-submit]").await?;
    app.wait_for_text("[data-testid=verify-code-error]", WAIT, |t| {
        t.contains("isn't right")
    })
    .await?;
    assert!(described_by(&app, "#verify-code", "verify-code-error").await?);
    assert!(app.focused("#verify-code").await?);

    // The mailed code: the banner goes and the shop's order appears.
    let code = mailed_code(data.path(), EMAIL)?;
    app.type_into("[data-testid=verify-code]", &code).await?;
    app.click("[data-testid=verify-submit]").await?;
    app.wait_for_count("[data-testid=verify-banner]", |n| n == 0)
        .await?;
    app.wait_for_text("[data-testid=notice]", WAIT, |t| {
        t.contains("Email confirmed")
    })
    .await?;
    app.wait_for(&format!("[data-testid=home-orders] [data-number={NUMBER}]"))
        .await?;
    app.click("[data-testid=nav-orders]").await?;
    app.wait_for(&format!("[data-testid=order-row][data-number={NUMBER}]"))
        .await?;
    assert_eq!(app.texts("[data-testid=verify-banner]").await?.len(), 0);

    // Change the password: a mismatch is named, then it works and this
    // device stays signed in.
    app.click("[data-testid=nav-profile]").await?;
    app.type_into("[data-testid=password-current]", "first password 1")
        .await?;
    app.type_into("[data-testid=password-new]", "second password 2")
        .await?;
    app.type_into("[data-testid=password-confirm]", "second password 3")
        .await?;
    app.click("[data-testid=password-submit]").await?;
    app.wait_for_text("[data-testid=password-confirm-error]", WAIT, |t| {
        t.contains("don't match")
    })
    .await?;
    assert!(described_by(&app, "#password-confirm", "password-confirm-error").await?);
    app.type_into("[data-testid=password-confirm]", "second password 2")
        .await?;
    app.click("[data-testid=password-submit]").await?;
    app.wait_for_text("[data-testid=password-changed]", WAIT, |t| {
        t.contains("Password changed")
    })
    .await?;
    assert!(
        app.focused("#password-changed").await?,
        "the result is focused"
    );
    assert_eq!(
        app.texts("[data-testid=password-confirm-error]")
            .await?
            .len(),
        0
    );
    sign_out(&app).await?;
    app.sign_in((EMAIL, "second password 2")).await?;
    sign_out(&app).await?;

    // Forgot the password: email, then the mailed code and a new one
    // (at phone width, in Spanish: a language switch redraws the screens,
    // so it comes first).
    app.set_viewport(390, 844).await?;
    app.set_language("es").await?;
    app.click("[data-testid=signin-forgot]").await?;
    app.wait_for("[data-testid=reset-form]").await?;
    app.wait_for_js(
        "the email field is focused",
        "return document.activeElement && document.activeElement.id === 'reset-email';",
        WAIT,
    )
    .await?;
    app.type_into("[data-testid=reset-email]", EMAIL).await?;
    app.click("[data-testid=reset-submit]").await?;
    app.wait_for("[data-testid=reset-code]").await?;
    app.wait_for_text("[data-testid=reset-sent]", WAIT, |t| t.contains(EMAIL))
        .await?;
    app.screenshot("account-reset-es-phone").await?;
    let reset_code = mailed_code(data.path(), EMAIL)?;
    assert_ne!(reset_code, code);
    app.type_into("[data-testid=reset-code]", &reset_code)
        .await?;
    app.type_into("[data-testid=reset-new]", "third password 3")
        .await?;
    app.type_into("[data-testid=reset-confirm]", "third password 3")
        .await?;
    app.click("[data-testid=reset-submit]").await?;
    app.wait_for_text("[data-testid=notice]", WAIT, |t| {
        t.contains("Inicia sesión con la nueva")
    })
    .await?;
    app.wait_for("[data-testid=signin-form]:not(.hidden)")
        .await?;
    app.sign_in((EMAIL, "third password 3")).await?;
    app.wait_for(&format!("[data-testid=home-orders] [data-number={NUMBER}]"))
        .await?;
    app.close().await
}
