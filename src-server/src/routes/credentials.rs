//! Proving an email address and managing the password: verification codes,
//! password change, and password reset by email.
//!
//! A registration claims an address without proving it (see migration
//! 0005): orders the shop sent for the address are linked only when the
//! code mailed to it comes back ([`verify_email`]). Codes are random, sent
//! once, kept only as a hash, single use, expiring, and die after
//! [`MAX_ATTEMPTS`] wrong guesses. A password change or reset revokes
//! sessions (and closes their live sockets).

use axum::extract::State;
use axum::http::StatusCode;
use mostrador_core::auth::{
    normalize_email, ChangePasswordRequest, Me, PasswordResetConfirm, PasswordResetRequest,
    VerifyEmailRequest,
};
use mostrador_core::ErrorCode;
use rand::Rng;
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::{self, Actor, ClientAddr};
use crate::db::{now_ms, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::{invalid, Json};
use crate::feed::{self, Change, Entity};
use crate::routes::users::{audit, load_me, validate_password_field};
use crate::state::AppState;

/// Wrong guesses a code survives.
pub const MAX_ATTEMPTS: i64 = 5;
const VERIFY_TTL_MS: i64 = 24 * 3600 * 1000;
const RESET_TTL_MS: i64 = 30 * 60 * 1000;
/// A new code of the same kind is mailed at most this often.
const RESEND_GAP_MS: i64 = 60 * 1000;
/// Unambiguous letters and digits: 10 of them are 50 bits.
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = mostrador_core::auth::EMAIL_CODE_LEN;

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
        .routes(routes!(change_password))
        .routes(routes!(request_password_reset))
        .routes(routes!(confirm_password_reset))
}

/// The placeholder `email` of an account whose address is not proved yet.
pub fn unverified_placeholder(id: Uuid) -> String {
    format!("unverified-{}@unverified.invalid", id.simple())
}

fn code_hash(user_id: Uuid, code: &str) -> String {
    auth::hash_token(&format!("{user_id}:{}", code.trim().to_ascii_uppercase()))
}

/// A fresh code for `user_id` (older codes of the same kind die), stored
/// hashed; the clear code is returned once, for the email.
pub async fn new_code(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: Purpose,
    email: &str,
) -> AppResult<String> {
    let code: String = {
        let mut rng = rand::rngs::OsRng;
        (0..CODE_LEN)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect()
    };
    let now = now_ms();
    sqlx::query(
        "UPDATE email_codes SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(now)
    .bind(user_id.to_string())
    .bind(purpose.as_str())
    .execute(&mut **tx)
    .await?;
    let ttl = match purpose {
        Purpose::VerifyEmail => VERIFY_TTL_MS,
        Purpose::ResetPassword => RESET_TTL_MS,
    };
    sqlx::query(
        "INSERT INTO email_codes (id, user_id, purpose, email, code_hash, attempts, created_at, expires_at, used_at)
         VALUES ($1, $2, $3, $4, $5, 0, $6, $7, NULL)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(user_id.to_string())
    .bind(purpose.as_str())
    .bind(email)
    .bind(code_hash(user_id, &code))
    .bind(now)
    .bind(now + ttl)
    .execute(&mut **tx)
    .await?;
    Ok(code)
}

/// Uses up the live code of `purpose` if `code` matches it; a wrong guess
/// counts against the code. `Some(email it was sent to)` on success.
async fn redeem(
    tx: &mut Tx,
    user_id: Uuid,
    purpose: Purpose,
    code: &str,
) -> AppResult<Option<String>> {
    let now = now_ms();
    let row = sqlx::query(
        "SELECT id, code_hash, email FROM email_codes
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3 AND attempts < $4
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(user_id.to_string())
    .bind(purpose.as_str())
    .bind(now)
    .bind(MAX_ATTEMPTS)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id: String = row.try_get("id")?;
    let stored: String = row.try_get("code_hash")?;
    if stored == code_hash(user_id, code) {
        sqlx::query("UPDATE email_codes SET used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        Ok(Some(row.try_get("email")?))
    } else {
        sqlx::query("UPDATE email_codes SET attempts = attempts + 1 WHERE id = $1")
            .bind(&id)
            .execute(&mut **tx)
            .await?;
        Ok(None)
    }
}

/// The address an account claimed and has not proved yet.
async fn pending_email(conn: &mut sqlx::AnyConnection, user_id: Uuid) -> AppResult<Option<String>> {
    Ok(
        sqlx::query_scalar("SELECT pending_email FROM users WHERE id = $1")
            .bind(user_id.to_string())
            .fetch_optional(&mut *conn)
            .await?
            .flatten(),
    )
}

/// When the newest code of `purpose` was made for `user_id`.
async fn last_code_at(
    conn: &mut sqlx::AnyConnection,
    user_id: Uuid,
    purpose: Purpose,
) -> AppResult<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT MAX(created_at) FROM email_codes WHERE user_id = $1 AND purpose = $2",
    )
    .bind(user_id.to_string())
    .bind(purpose.as_str())
    .fetch_one(&mut *conn)
    .await?)
}

fn wrong_code() -> AppError {
    invalid("code", "invalid")
}

/// The verified account that holds `email`, if any.
pub async fn verified_owner(
    conn: &mut sqlx::AnyConnection,
    email: &str,
) -> AppResult<Option<Uuid>> {
    let id: Option<String> =
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1 AND deleted_at IS NULL")
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
    id.map(|i| uuid(&i)).transpose().map_err(Into::into)
}

/// Makes `email` the proved address of `user_id` and links what the shop
/// sent for it (orders so far; ingest links later ones by `users.email`).
async fn mark_verified(tx: &mut Tx, user_id: Uuid, email: &str) -> AppResult<()> {
    if verified_owner(tx, email)
        .await?
        .is_some_and(|o| o != user_id)
    {
        return Err(AppError::Api(
            mostrador_core::ApiError::new(
                ErrorCode::Conflict,
                "another account has already proved this email address",
            )
            .with_details(serde_json::json!({"fields": {"email": "taken"}})),
        ));
    }
    sqlx::query("UPDATE users SET email = $1, pending_email = NULL, updated_at = $2 WHERE id = $3")
        .bind(email)
        .bind(now_ms())
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?;
    link_orders(tx, user_id, email).await?;
    feed::record(tx, Change::upsert(Entity::Profile, user_id, Some(user_id))).await?;
    audit(tx, Some(user_id), "account.verify_email", Some(user_id)).await?;
    Ok(())
}

/// Gives `user_id` the orders the shop sent for `email` that no account
/// holds yet, each recorded in the feed. Call only once the address is
/// proved (a verification code, or a shop-signed identity).
pub(crate) async fn link_orders(tx: &mut Tx, user_id: Uuid, email: &str) -> AppResult<()> {
    let linked: Vec<String> = sqlx::query_scalar(
        "UPDATE orders SET customer_id = $1 WHERE customer_email = $2 AND customer_id IS NULL RETURNING id",
    )
    .bind(user_id.to_string())
    .bind(email)
    .fetch_all(&mut **tx)
    .await?;
    for order_id in linked {
        feed::record(
            tx,
            Change::upsert(Entity::Order, uuid(&order_id)?, Some(user_id)),
        )
        .await?;
    }
    Ok(())
}

/// Mails a fresh verification code, or, when a verified account already
/// holds the address, tells its owner that someone registered with it.
pub async fn mail_verification(state: &AppState, email: &str, code: Option<&str>) {
    let (subject, body) = match code {
        Some(code) => (
            "Your Mostrador verification code",
            format!(
                "Your verification code is {code}\n\n\
                 Enter it in the app to confirm this address; your orders then appear in it. \
                 The code is valid for 24 hours and works once.\n\n\
                 If you did not create an account, ignore this email: nothing is shown to anyone \
                 until this code is used."
            ),
        ),
        None => (
            "Someone registered with your email address",
            "Someone (perhaps you) just registered a new Mostrador account with this address. \
             You already have an account: sign in, or reset your password from the sign-in screen \
             if you forgot it. The new account cannot see your orders.\n"
                .to_owned(),
        ),
    };
    crate::mail::send_logged(&state.config, email, subject, &body).await;
}

/// Proves the address with the code mailed to it. Orders the shop sent for
/// it become visible; answers the updated user.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "accounts", security(("bearer" = [])),
    request_body = VerifyEmailRequest,
    responses((status = 200, body = Me),
              (status = 401, body = mostrador_core::ApiError),
              (status = 409, description = "Another account proved this address first", body = mostrador_core::ApiError),
              (status = 422, description = "Wrong, used or expired code (`code: invalid`)", body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn verify_email(
    State(state): State<AppState>,
    actor: Actor,
    Json(req): Json<VerifyEmailRequest>,
) -> AppResult<Json<Me>> {
    let mut tx = state.db.begin_write().await?;
    let pending = pending_email(&mut tx, actor.user_id).await?;
    let Some(pending) = pending else {
        // Already verified: nothing to do.
        let me = load_me(&mut tx, actor.user_id).await?;
        return Ok(Json(me));
    };
    let Some(sent_to) = redeem(&mut tx, actor.user_id, Purpose::VerifyEmail, &req.code).await?
    else {
        // The counted guess must stick.
        tx.commit().await?;
        return Err(wrong_code());
    };
    if sent_to != pending {
        tx.commit().await?;
        return Err(wrong_code());
    }
    mark_verified(&mut tx, actor.user_id, &pending).await?;
    let me = load_me(&mut tx, actor.user_id).await?;
    feed::commit(&state, tx).await?;
    tracing::info!("email verified");
    Ok(Json(me))
}

/// Mails a new verification code (the previous one stops working). At
/// most one a minute per account, and a few an hour per client address
/// (`--mail-per-address`, shared with password resets).
#[utoipa::path(post, path = "/api/v1/auth/verify-email/resend", tag = "accounts", security(("bearer" = [])),
    responses((status = 202, description = "A new code was mailed"),
              (status = 401, body = mostrador_core::ApiError),
              (status = 409, description = "The address is already verified", body = mostrador_core::ApiError),
              (status = 429, body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn resend_verification(
    State(state): State<AppState>,
    actor: Actor,
    ClientAddr(address): ClientAddr,
) -> AppResult<StatusCode> {
    auth::check_mail_request(&state, &address)?;
    let mut tx = state.db.begin_write().await?;
    let pending = pending_email(&mut tx, actor.user_id).await?;
    let Some(email) = pending else {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "this address is already verified",
        ));
    };
    let last = last_code_at(&mut tx, actor.user_id, Purpose::VerifyEmail).await?;
    if let Some(left) = last
        .map(|t| RESEND_GAP_MS - (now_ms() - t))
        .filter(|l| *l > 0)
    {
        return Err(auth::retry_later(
            ErrorCode::RateLimited,
            "a code was sent less than a minute ago; wait for it or try again shortly",
            u64::try_from((left + 999) / 1000).unwrap_or(1),
        ));
    }
    let owner = verified_owner(&mut tx, &email).await?;
    let code = match owner {
        Some(_) => None,
        None => Some(new_code(&mut tx, actor.user_id, Purpose::VerifyEmail, &email).await?),
    };
    tx.commit().await?;
    mail_verification(&state, &email, code.as_deref()).await;
    Ok(StatusCode::ACCEPTED)
}

/// Changes the password (the current one proves it is the owner) and signs
/// out every other device.
#[utoipa::path(put, path = "/api/v1/me/password", tag = "accounts", security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; other sessions revoked"),
              (status = 401, body = mostrador_core::ApiError),
              (status = 422, description = "`current_password: wrong`, or the new password's length", body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn change_password(
    State(state): State<AppState>,
    actor: Actor,
    Json(req): Json<ChangePasswordRequest>,
) -> AppResult<StatusCode> {
    validate_password_field("new_password", &req.new_password)?;
    let stored: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
            .bind(actor.user_id.to_string())
            .fetch_optional(state.db.pool())
            .await?;
    if !auth::verify_password(req.current_password, stored).await? {
        return Err(invalid("current_password", "wrong"));
    }
    let hash = auth::hash_password(req.new_password).await?;
    let mut tx = state.db.begin_write().await?;
    set_password(&mut tx, actor.user_id, &hash, Some(actor.session_id)).await?;
    audit(
        &mut tx,
        Some(actor.user_id),
        "account.change_password",
        Some(actor.user_id),
    )
    .await?;
    tx.commit().await?;
    state.user_sessions_ended(
        actor.user_id,
        mostrador_core::live::CLOSE_SESSION_ENDED,
        Some(actor.session_id),
    );
    tracing::info!("password changed");
    Ok(StatusCode::NO_CONTENT)
}

/// Stores a new password hash and revokes every session but `keep`.
async fn set_password(tx: &mut Tx, user_id: Uuid, hash: &str, keep: Option<Uuid>) -> AppResult<()> {
    let now = now_ms();
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(user_id.to_string())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3",
    )
    .bind(now)
    .bind(user_id.to_string())
    .bind(keep.unwrap_or_else(Uuid::nil).to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The account a reset for `email` acts on: the verified holder of the
/// address, else the newest account that claimed it (a reset proves the
/// address, so it verifies that account).
async fn reset_target(conn: &mut sqlx::AnyConnection, email: &str) -> AppResult<Option<Uuid>> {
    if let Some(id) = verified_owner(conn, email).await? {
        return Ok(Some(id));
    }
    let id: Option<String> = sqlx::query_scalar(
        "SELECT id FROM users WHERE pending_email = $1 AND deleted_at IS NULL AND disabled = 0
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(email)
    .fetch_optional(&mut *conn)
    .await?;
    id.map(|i| uuid(&i)).transpose().map_err(Into::into)
}

/// Mails a password-reset code to the address if an account uses it. The
/// answer is the same whether or not one does, including the per-address
/// limit (`--mail-per-address`, 429 with `Retry-After`), which counts every
/// request, known email or not.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "accounts",
    request_body = PasswordResetRequest,
    responses((status = 202, description = "If an account uses this address, a code was mailed to it (valid 30 minutes, single use)"),
              (status = 422, body = mostrador_core::ApiError),
              (status = 429, description = "Too many requests from this client address", body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    State(state): State<AppState>,
    ClientAddr(address): ClientAddr,
    Json(req): Json<PasswordResetRequest>,
) -> AppResult<StatusCode> {
    let email = normalize_email(&req.email).ok_or_else(|| invalid("email", "invalid"))?;
    auth::check_mail_request(&state, &address)?;
    let mut tx = state.db.begin_write().await?;
    let Some(user_id) = reset_target(&mut tx, &email).await? else {
        return Ok(StatusCode::ACCEPTED);
    };
    let last = last_code_at(&mut tx, user_id, Purpose::ResetPassword).await?;
    if last.is_some_and(|t| now_ms() - t < RESEND_GAP_MS) {
        // Quietly: the previous code is still on its way.
        return Ok(StatusCode::ACCEPTED);
    }
    let code = new_code(&mut tx, user_id, Purpose::ResetPassword, &email).await?;
    tx.commit().await?;
    let body = format!(
        "Your password reset code is {code}\n\n\
         Enter it in the app with your new password. It is valid for 30 minutes and works once; \
         using it signs out every device.\n\n\
         If you did not ask for this, ignore this email: your password stays as it is."
    );
    crate::mail::send_logged(
        &state.config,
        &email,
        "Reset your Mostrador password",
        &body,
    )
    .await;
    Ok(StatusCode::ACCEPTED)
}

/// Sets a new password with the mailed code, and signs out every device.
/// (The code proves the address: an unverified account becomes verified.)
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "accounts",
    request_body = PasswordResetConfirm,
    responses((status = 204, description = "Password set; every session revoked"),
              (status = 422, description = "Wrong, used or expired code (`code: invalid`), or the new password's length", body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn confirm_password_reset(
    State(state): State<AppState>,
    Json(req): Json<PasswordResetConfirm>,
) -> AppResult<StatusCode> {
    let email = normalize_email(&req.email).ok_or_else(wrong_code)?;
    validate_password_field("new_password", &req.new_password)?;
    let user_id = {
        let mut conn = state.db.pool().acquire().await?;
        reset_target(&mut conn, &email)
            .await?
            .ok_or_else(wrong_code)?
    };
    // Hash before taking the write lock; a wrong code wastes one hash.
    let hash = auth::hash_password(req.new_password).await?;
    let mut tx = state.db.begin_write().await?;
    let Some(sent_to) = redeem(&mut tx, user_id, Purpose::ResetPassword, &req.code).await? else {
        tx.commit().await?;
        return Err(wrong_code());
    };
    if sent_to != email {
        tx.commit().await?;
        return Err(wrong_code());
    }
    set_password(&mut tx, user_id, &hash, None).await?;
    let pending = pending_email(&mut tx, user_id).await?;
    if pending.as_deref() == Some(email.as_str()) {
        mark_verified(&mut tx, user_id, &email).await?;
    }
    audit(&mut tx, None, "account.reset_password", Some(user_id)).await?;
    feed::commit(&state, tx).await?;
    state.user_sessions_ended(user_id, mostrador_core::live::CLOSE_SESSION_ENDED, None);
    tracing::info!(user.id = %user_id, "password reset");
    Ok(StatusCode::NO_CONTENT)
}
