//! Accounts: register, login, logout, sessions, and staff administration.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mostrador_core::auth::{
    normalize_email, AuthResponse, CreateStaffRequest, LoginRequest, Me, RegisterRequest, Role,
    SessionInfo, StaffMember,
};
use mostrador_core::profile::LANGUAGES;
use mostrador_core::ErrorCode;
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::credentials;
use super::users::{audit, load_me, validate_password_field};
use crate::auth::{self, Actor};
use crate::db::{now_ms, ts, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::{check_name, invalid, Json, Path};
use crate::feed::{self, Change, Entity};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(create_staff, list_staff))
        .routes(routes!(disable_staff))
        .merge(super::credentials::router())
}

pub(crate) fn validate_password(password: &str) -> AppResult<()> {
    validate_password_field("password", password)
}

fn validate_name(name: &str) -> AppResult<String> {
    validate_name_field("display_name", name)
}

/// A person's name, trimmed: required, at most `MAX_NAME_CHARS`, clean
/// (`check_name`); refused as a 422 naming `field`.
pub(crate) fn validate_name_field(field: &str, name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(invalid(field, "required"));
    }
    if name.chars().count() > mostrador_core::auth::MAX_NAME_CHARS {
        return Err(invalid(field, "too_long"));
    }
    check_name(field, name)?;
    Ok(name.to_owned())
}

/// Creates a user row (inside `tx`); 409 when the email is taken.
pub async fn insert_user(
    tx: &mut Tx,
    email: &str,
    password_hash: &str,
    display_name: &str,
    role: Role,
    language: &str,
) -> AppResult<Uuid> {
    let id = Uuid::now_v7();
    insert_user_with_id(tx, id, email, password_hash, display_name, role, language).await?;
    Ok(id)
}

/// [`insert_user`] with a chosen id.
pub async fn insert_user_with_id(
    tx: &mut Tx,
    id: Uuid,
    email: &str,
    password_hash: &str,
    display_name: &str,
    role: Role,
    language: &str,
) -> AppResult<()> {
    let taken: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_optional(&mut **tx)
        .await?;
    if taken.is_some() {
        return Err(AppError::Api(
            mostrador_core::ApiError::new(
                ErrorCode::Conflict,
                "an account with this email already exists",
            )
            .with_details(serde_json::json!({"fields": {"email": "taken"}})),
        ));
    }
    let now = now_ms();
    sqlx::query(
        "INSERT INTO users (id, email, password_hash, display_name, role, language, phone, time_zone,
            contact_email, contact_sms, contact_push, disabled, deleted_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, 1, 0, 1, 0, NULL, $7, $7)",
    )
    .bind(id.to_string())
    .bind(email)
    .bind(password_hash)
    .bind(display_name)
    .bind(role.as_str())
    .bind(language)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn create_session(
    tx: &mut Tx,
    state: &AppState,
    user_id: Uuid,
    device_name: Option<String>,
) -> AppResult<(mostrador_core::auth::Token, Uuid, i64)> {
    let (token, hash) = auth::new_token();
    let id = Uuid::now_v7();
    let now = now_ms();
    let expires = now + i64::try_from(state.config.token_ttl.as_millis()).unwrap_or(i64::MAX / 2);
    // A label the app chose, not typed text: control characters are dropped.
    let device = device_name.map(|d| {
        d.chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
            .trim()
            .chars()
            .take(100)
            .collect::<String>()
    });
    sqlx::query(
        "INSERT INTO sessions (id, user_id, token_hash, device_name, created_at, last_seen_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6, NULL)",
    )
    .bind(id.to_string())
    .bind(user_id.to_string())
    .bind(hash)
    .bind(device)
    .bind(now)
    .bind(expires)
    .execute(&mut **tx)
    .await?;
    Ok((token, id, expires))
}

/// Creates a customer account and signs it in on this device; it may chat
/// at once. The address is not proved yet: a code is mailed to it, and
/// orders the shop sent for it become visible only once the code comes back
/// (`POST /api/v1/auth/verify-email`). The answer is the same whether or
/// not the address already has an account (then its owner is told by
/// email instead, and the new account can never take the address).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = AuthResponse), (status = 409, body = mostrador_core::ApiError), (status = 422, body = mostrador_core::ApiError),
              (status = 429, description = "Too many registrations from this client address", body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn register(
    State(state): State<AppState>,
    auth::ClientAddr(address): auth::ClientAddr,
    Json(req): Json<RegisterRequest>,
) -> AppResult<Response> {
    let email = normalize_email(&req.email).ok_or_else(|| invalid("email", "invalid"))?;
    validate_password(&req.password)?;
    let name = validate_name(&req.display_name)?;
    let language = req
        .language
        .as_deref()
        .filter(|l| LANGUAGES.contains(l))
        .unwrap_or("en")
        .to_owned();
    auth::check_registration(&state, &address)?;
    let hash = auth::hash_password(req.password).await?;

    let mut tx = state.db.begin_write().await?;
    let user_id = Uuid::now_v7();
    let placeholder = credentials::unverified_placeholder(user_id);
    insert_user_with_id(
        &mut tx,
        user_id,
        &placeholder,
        &hash,
        &name,
        Role::Customer,
        &language,
    )
    .await?;
    sqlx::query("UPDATE users SET pending_email = $1 WHERE id = $2")
        .bind(&email)
        .bind(user_id.to_string())
        .execute(&mut *tx)
        .await?;
    let code = match credentials::verified_owner(&mut tx, &email).await? {
        Some(_) => None,
        None => Some(
            credentials::new_code(&mut tx, user_id, credentials::Purpose::VerifyEmail, &email)
                .await?,
        ),
    };
    feed::record(
        &mut tx,
        Change::upsert(Entity::Profile, user_id, Some(user_id)),
    )
    .await?;
    let (token, session_id, expires) =
        create_session(&mut tx, &state, user_id, req.device_name).await?;
    let user = load_me(&mut tx, user_id).await?;
    feed::commit(&state, tx).await?;
    credentials::mail_verification(&state, &email, code.as_deref()).await;
    tracing::info!(user.id = %user_id, "account registered");
    Ok((
        StatusCode::CREATED,
        Json(AuthResponse {
            token,
            session_id,
            expires_at: ts(expires),
            user,
        }),
    )
        .into_response())
}

/// Signs in. Failed attempts are throttled per account and per address
/// (429 with `Retry-After`).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = AuthResponse), (status = 401, body = mostrador_core::ApiError), (status = 429, body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    auth::ClientAddr(address): auth::ClientAddr,
    Json(req): Json<LoginRequest>,
) -> AppResult<Response> {
    let email = normalize_email(&req.email).unwrap_or_default();
    // Counted before the slow verify, so parallel guesses cannot pass.
    if let Err(wait) = state.throttle.begin(&email, &address) {
        tracing::warn!(%address, "login throttled");
        return Err(auth::retry_later(
            ErrorCode::RateLimited,
            "too many failed sign-in attempts; try again later",
            wait.as_secs(),
        ));
    }
    // The verified holder of the address, else the newest unverified claim.
    let row = sqlx::query("SELECT id, password_hash FROM users WHERE (email = $1 OR pending_email = $1) AND disabled = 0 AND deleted_at IS NULL
         ORDER BY CASE WHEN pending_email IS NULL THEN 0 ELSE 1 END, created_at DESC LIMIT 1")
        .bind(&email)
        .fetch_optional(state.db.pool())
        .await?;
    let (user_id, stored) = match row {
        Some(r) => (
            Some(r.try_get::<String, _>("id")?),
            Some(r.try_get::<String, _>("password_hash")?),
        ),
        None => (None, None),
    };
    let ok = match auth::verify_password(req.password, stored).await {
        Ok(ok) => ok,
        Err(e) => {
            state.throttle.abandoned(&email, &address);
            return Err(e);
        }
    };
    let Some(user_id) = user_id.filter(|_| ok) else {
        tracing::info!("failed sign-in");
        return Err(AppError::new(
            ErrorCode::Unauthorized,
            "wrong email or password",
        ));
    };
    state.throttle.succeeded(&email, &address);
    let user_id = uuid(&user_id)?;
    let mut tx = state.db.begin_write().await?;
    let (token, session_id, expires) =
        create_session(&mut tx, &state, user_id, req.device_name).await?;
    let user = load_me(&mut tx, user_id).await?;
    tx.commit().await?;
    tracing::info!(user.id = %user_id, "signed in");
    Ok(Json(AuthResponse {
        token,
        session_id,
        expires_at: ts(expires),
        user,
    })
    .into_response())
}

/// Ends this device's session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn logout(State(state): State<AppState>, actor: Actor) -> AppResult<StatusCode> {
    revoke(&state, actor.user_id, actor.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn revoke(state: &AppState, user_id: Uuid, session_id: Uuid) -> AppResult<bool> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(session_id.to_string())
    .bind(user_id.to_string())
    .execute(state.db.pool())
    .await?;
    // No request is let in on it any longer; its live sockets end with it.
    state.session_ended(session_id, mostrador_core::live::CLOSE_SESSION_ENDED);
    Ok(done.rows_affected() == 1)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = mostrador_core::ApiError)))]
pub async fn me(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Me>> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(Json(load_me(&mut conn, actor.user_id).await?))
}

/// The caller's live sessions (signed-in devices).
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = mostrador_core::ApiError)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<Vec<SessionInfo>>> {
    let rows = sqlx::query(
        "SELECT id, device_name, created_at, last_seen_at, expires_at FROM sessions
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY created_at",
    )
    .bind(actor.user_id.to_string())
    .bind(now_ms())
    .fetch_all(state.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = uuid(&r.try_get::<String, _>("id")?)?;
        out.push(SessionInfo {
            id,
            device_name: r.try_get("device_name")?,
            created_at: ts(r.try_get("created_at")?),
            last_seen_at: ts(r.try_get("last_seen_at")?),
            expires_at: ts(r.try_get("expires_at")?),
            current: id == actor.session_id,
        });
    }
    Ok(Json(out))
}

/// Signs one of the caller's devices out.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = mostrador_core::ApiError)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    if revoke(&state, actor.user_id, id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::not_found("session"))
    }
}

fn staff_from_row(r: &sqlx::any::AnyRow) -> AppResult<StaffMember> {
    Ok(StaffMember {
        id: uuid(&r.try_get::<String, _>("id")?)?,
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        role: Role::parse(&r.try_get::<String, _>("role")?).unwrap_or(Role::Agent),
        disabled: r.try_get::<i64, _>("disabled")? != 0,
    })
}

/// Admin: creates an agent (or admin) account.
#[utoipa::path(post, path = "/api/v1/admin/staff", tag = "admin", security(("bearer" = [])), request_body = CreateStaffRequest,
    responses((status = 201, body = StaffMember), (status = 403, body = mostrador_core::ApiError), (status = 409, body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn create_staff(
    State(state): State<AppState>,
    actor: Actor,
    Json(req): Json<CreateStaffRequest>,
) -> AppResult<(StatusCode, Json<StaffMember>)> {
    actor.require_admin()?;
    let email = normalize_email(&req.email).ok_or_else(|| invalid("email", "invalid"))?;
    validate_password(&req.password)?;
    let name = validate_name(&req.display_name)?;
    let role = match req.role.unwrap_or(Role::Agent) {
        Role::Customer => return Err(invalid("role", "must_be_staff")),
        r => r,
    };
    let hash = auth::hash_password(req.password).await?;
    let mut tx = state.db.begin_write().await?;
    let id = insert_user(&mut tx, &email, &hash, &name, role, "en").await?;
    audit(&mut tx, Some(actor.user_id), "staff.create", Some(id)).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffMember {
            id,
            email,
            display_name: name,
            role,
            disabled: false,
        }),
    ))
}

/// Admin: lists agents and admins.
#[utoipa::path(get, path = "/api/v1/admin/staff", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<StaffMember>), (status = 403, body = mostrador_core::ApiError)))]
pub async fn list_staff(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<Vec<StaffMember>>> {
    actor.require_admin()?;
    let rows = sqlx::query(
        "SELECT id, email, display_name, role, disabled FROM users WHERE role IN ('agent', 'admin') ORDER BY display_name",
    )
    .fetch_all(state.db.pool())
    .await?;
    Ok(Json(
        rows.iter().map(staff_from_row).collect::<AppResult<_>>()?,
    ))
}

/// Admin: disables a staff account and signs it out everywhere.
#[utoipa::path(post, path = "/api/v1/admin/staff/{id}/disable", tag = "admin", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = StaffMember), (status = 403, body = mostrador_core::ApiError), (status = 404, body = mostrador_core::ApiError),
              (status = 409, description = "An administrator cannot disable their own account", body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn disable_staff(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<StaffMember>> {
    actor.require_admin()?;
    if id == actor.user_id {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "you cannot disable your own account",
        ));
    }
    let mut tx = state.db.begin_write().await?;
    let row = sqlx::query(
        "UPDATE users SET disabled = 1, updated_at = $1 WHERE id = $2 AND role IN ('agent', 'admin')
         RETURNING id, email, display_name, role, disabled",
    )
    .bind(now_ms())
    .bind(id.to_string())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| AppError::not_found("staff member"))?;
    let member = staff_from_row(&row)?;
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    audit(&mut tx, Some(actor.user_id), "staff.disable", Some(id)).await?;
    tx.commit().await?;
    state.user_sessions_ended(id, mostrador_core::live::CLOSE_SESSION_ENDED, None);
    Ok(Json(member))
}
