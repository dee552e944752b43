//! Profile, addresses, contact preferences, and privacy: export everything
//! held about the caller, or delete the account.

use axum::extract::State;
use axum::http::StatusCode;
use mostrador_core::phone::E164;
use mostrador_core::profile::{
    Address, AddressKind, ContactPreferences, Profile, ProfileUpdate, LANGUAGES, MAX_ADDRESSES,
};
use mostrador_core::ErrorCode;
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::{now_ms, ts, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::{check_name, invalid, Json, Path};
use crate::feed::{self, Change, Entity};
use crate::routes::users::audit;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_profile, update_profile))
        .routes(routes!(put_address, delete_address))
        .routes(routes!(export))
        .routes(routes!(delete_account))
}

pub async fn load_profile(
    conn: &mut sqlx::AnyConnection,
    user_id: Uuid,
) -> AppResult<Option<Profile>> {
    let Some(r) = sqlx::query(
        "SELECT id, COALESCE(pending_email, email) AS email, display_name, phone, language, time_zone, contact_email, contact_sms, contact_push, updated_at
         FROM users WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(user_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let rows = sqlx::query(
        "SELECT id, kind, label, name, line1, line2, city, region, postal_code, country, is_default
         FROM addresses WHERE user_id = $1 ORDER BY created_at",
    )
    .bind(user_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut addresses = Vec::with_capacity(rows.len());
    for a in rows {
        addresses.push(Address {
            id: uuid(&a.try_get::<String, _>("id")?)?,
            kind: if a.try_get::<String, _>("kind")? == "billing" {
                AddressKind::Billing
            } else {
                AddressKind::Shipping
            },
            label: a.try_get("label")?,
            postal: mostrador_core::orders::PostalAddress {
                name: a.try_get("name")?,
                line1: a.try_get("line1")?,
                line2: a.try_get("line2")?,
                city: a.try_get("city")?,
                region: a.try_get("region")?,
                postal_code: a.try_get("postal_code")?,
                country: a.try_get("country")?,
            },
            is_default: a.try_get::<i64, _>("is_default")? != 0,
        });
    }
    Ok(Some(Profile {
        user_id,
        email: r.try_get("email")?,
        display_name: r.try_get("display_name")?,
        phone: r.try_get("phone")?,
        language: r.try_get("language")?,
        time_zone: r.try_get("time_zone")?,
        contact: ContactPreferences {
            email: r.try_get::<i64, _>("contact_email")? != 0,
            sms: r.try_get::<i64, _>("contact_sms")? != 0,
            push: r.try_get::<i64, _>("contact_push")? != 0,
        },
        addresses,
        updated_at: ts(r.try_get("updated_at")?),
    }))
}

async fn own_profile(conn: &mut sqlx::AnyConnection, actor: &Actor) -> AppResult<Profile> {
    load_profile(conn, actor.user_id)
        .await?
        .ok_or_else(|| AppError::not_found("profile"))
}

/// Commits and answers with the caller's profile.
async fn respond(state: &AppState, mut tx: Tx, actor: &Actor) -> AppResult<Json<Profile>> {
    let profile = own_profile(&mut tx, actor).await?;
    feed::commit(state, tx).await?;
    Ok(Json(profile))
}

async fn touch_profile(tx: &mut Tx, actor: &Actor) -> AppResult<()> {
    sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(actor.user_id.to_string())
        .execute(&mut **tx)
        .await?;
    let owner = (!actor.is_staff()).then_some(actor.user_id);
    feed::record(tx, Change::upsert(Entity::Profile, actor.user_id, owner)).await?;
    Ok(())
}

/// Changes the given profile fields inside `tx` (shared with push).
pub async fn update(tx: &mut Tx, actor: &Actor, u: &ProfileUpdate) -> AppResult<Vec<Uuid>> {
    let current = own_profile(tx, actor).await?;
    let name = match u.display_name.as_deref().map(str::trim) {
        Some("") => return Err(invalid("display_name", "required")),
        Some(n) if n.chars().count() > mostrador_core::auth::MAX_NAME_CHARS => {
            return Err(invalid("display_name", "too_long"))
        }
        Some(n) => {
            check_name("display_name", n)?;
            n.to_owned()
        }
        None => current.display_name,
    };
    let phone = match u.phone.as_deref().map(str::trim) {
        Some("") => None,
        Some(p) => Some(
            E164::parse(p)
                .map_err(|_| invalid("phone", "not_e164"))?
                .to_string(),
        ),
        None => current.phone,
    };
    let language = match &u.language {
        Some(l) if LANGUAGES.contains(&l.as_str()) => l.clone(),
        Some(_) => return Err(invalid("language", "unsupported")),
        None => current.language,
    };
    let time_zone = match &u.time_zone {
        Some(tz) if tz.is_empty() => None,
        Some(tz) => {
            jiff::tz::TimeZone::get(tz).map_err(|_| invalid("time_zone", "unknown"))?;
            Some(tz.clone())
        }
        None => current.time_zone,
    };
    let contact = u.contact.unwrap_or(current.contact);
    sqlx::query(
        "UPDATE users SET display_name = $1, phone = $2, language = $3, time_zone = $4,
            contact_email = $5, contact_sms = $6, contact_push = $7 WHERE id = $8",
    )
    .bind(name)
    .bind(phone)
    .bind(language)
    .bind(time_zone)
    .bind(i64::from(contact.email))
    .bind(i64::from(contact.sms))
    .bind(i64::from(contact.push))
    .bind(actor.user_id.to_string())
    .execute(&mut **tx)
    .await?;
    touch_profile(tx, actor).await?;
    Ok(vec![actor.user_id])
}

/// Creates or replaces one of the caller's addresses inside `tx` (shared
/// with push). Making it the default clears the default of its kind.
pub async fn put_address_in(tx: &mut Tx, actor: &Actor, a: &Address) -> AppResult<Vec<Uuid>> {
    let p = &a.postal;
    for (field, value, max) in [
        ("name", &p.name, 100),
        ("line1", &p.line1, 200),
        ("city", &p.city, 100),
        ("postal_code", &p.postal_code, 20),
    ] {
        if value.trim().is_empty() {
            return Err(invalid(field, "required"));
        }
        if value.chars().count() > max {
            return Err(invalid(field, "too_long"));
        }
        check_name(field, value)?;
    }
    for (field, value, max) in [
        ("label", &a.label, 100),
        ("line2", &p.line2, 200),
        ("region", &p.region, 100),
    ] {
        let value = value.as_deref().unwrap_or_default();
        if value.trim().chars().count() > max {
            return Err(invalid(field, "too_long"));
        }
        check_name(field, value)?;
    }
    if p.country.len() != 2 || !p.country.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(invalid("country", "not_iso_3166"));
    }
    let kind = match a.kind {
        AddressKind::Shipping => "shipping",
        AddressKind::Billing => "billing",
    };
    let owner: Option<String> = sqlx::query_scalar("SELECT user_id FROM addresses WHERE id = $1")
        .bind(a.id.to_string())
        .fetch_optional(&mut **tx)
        .await?;
    if owner
        .as_deref()
        .is_some_and(|o| o != actor.user_id.to_string())
    {
        return Err(AppError::not_found("address"));
    }
    if owner.is_none() {
        check_address_count(tx, actor.user_id).await?;
    }
    if a.is_default {
        sqlx::query("UPDATE addresses SET is_default = 0 WHERE user_id = $1 AND kind = $2")
            .bind(actor.user_id.to_string())
            .bind(kind)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("DELETE FROM addresses WHERE id = $1")
        .bind(a.id.to_string())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO addresses (id, user_id, kind, label, name, line1, line2, city, region, postal_code, country, is_default, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(a.id.to_string())
    .bind(actor.user_id.to_string())
    .bind(kind)
    .bind(a.label.as_deref().map(str::trim))
    .bind(p.name.trim())
    .bind(p.line1.trim())
    .bind(p.line2.as_deref().map(str::trim))
    .bind(p.city.trim())
    .bind(p.region.as_deref().map(str::trim))
    .bind(p.postal_code.trim())
    .bind(p.country.to_uppercase())
    .bind(i64::from(a.is_default))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    touch_profile(tx, actor).await?;
    Ok(vec![a.id])
}

/// Refuses a new address once the customer has [`MAX_ADDRESSES`] (422,
/// `addresses: too_many`, with the `limit`). Writers are serialised by
/// `begin_write`, so two concurrent additions cannot both pass.
async fn check_address_count(tx: &mut Tx, user_id: Uuid) -> AppResult<()> {
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM addresses WHERE user_id = $1")
        .bind(user_id.to_string())
        .fetch_one(&mut **tx)
        .await?;
    if usize::try_from(count).unwrap_or(usize::MAX) < MAX_ADDRESSES {
        return Ok(());
    }
    Err(AppError::Api(
        mostrador_core::ApiError::new(
            ErrorCode::ValidationFailed,
            format!("addresses: too_many (at most {MAX_ADDRESSES}; remove one first)"),
        )
        .with_details(serde_json::json!({
            "fields": { "addresses": "too_many" },
            "limit": MAX_ADDRESSES,
        })),
    ))
}

/// Removes one of the caller's addresses inside `tx` (shared with push).
pub async fn remove_address(tx: &mut Tx, actor: &Actor, id: Uuid) -> AppResult<Vec<Uuid>> {
    let done = sqlx::query("DELETE FROM addresses WHERE id = $1 AND user_id = $2")
        .bind(id.to_string())
        .bind(actor.user_id.to_string())
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::not_found("address"));
    }
    touch_profile(tx, actor).await?;
    Ok(vec![id])
}

/// The caller's profile, addresses and contact preferences.
#[utoipa::path(get, path = "/api/v1/me/profile", tag = "profile", security(("bearer" = [])),
    responses((status = 200, body = Profile), (status = 401, body = mostrador_core::ApiError)))]
pub async fn get_profile(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Profile>> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(Json(own_profile(&mut conn, &actor).await?))
}

/// Changes the fields given; the others stay as they are.
#[utoipa::path(patch, path = "/api/v1/me/profile", tag = "profile", security(("bearer" = [])), request_body = ProfileUpdate,
    responses((status = 200, body = Profile), (status = 422, body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn update_profile(
    State(state): State<AppState>,
    actor: Actor,
    Json(u): Json<ProfileUpdate>,
) -> AppResult<Json<Profile>> {
    let mut tx = state.db.begin_write().await?;
    update(&mut tx, &actor, &u).await?;
    let answer = respond(&state, tx, &actor).await;
    // The actor's display name is remembered with the session.
    state.sessions.forget_all();
    answer
}

/// Creates or replaces one of the caller's addresses (id chosen by the
/// client). Making it the default clears the default of its kind. A
/// customer keeps at most 20 addresses: one more is refused with 422
/// `addresses: too_many`.
#[utoipa::path(put, path = "/api/v1/me/addresses/{id}", tag = "profile", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = Address,
    responses((status = 200, body = Profile), (status = 404, body = mostrador_core::ApiError), (status = 422, body = mostrador_core::ApiError)))]
pub async fn put_address(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(a): Json<Address>,
) -> AppResult<Json<Profile>> {
    if a.id != id {
        return Err(invalid("id", "does_not_match_path"));
    }
    let mut tx = state.db.begin_write().await?;
    put_address_in(&mut tx, &actor, &a).await?;
    respond(&state, tx, &actor).await
}

/// Removes one of the caller's addresses.
#[utoipa::path(delete, path = "/api/v1/me/addresses/{id}", tag = "profile", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Profile), (status = 404, body = mostrador_core::ApiError)))]
pub async fn delete_address(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Profile>> {
    let mut tx = state.db.begin_write().await?;
    remove_address(&mut tx, &actor, id).await?;
    respond(&state, tx, &actor).await
}

/// Everything held about the caller, as one JSON document: profile and
/// addresses, signed-in devices, orders with tracking, conversations with
/// their messages (internal staff notes are about the support work, not the
/// person, and are not included).
#[utoipa::path(get, path = "/api/v1/me/export", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, description = "The caller's data", body = serde_json::Value)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn export(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<serde_json::Value>> {
    let mut conn = state.db.pool().acquire().await?;
    let profile = own_profile(&mut conn, &actor).await?;
    let account = crate::routes::users::load_me(&mut conn, actor.user_id).await?;
    let order_ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM orders WHERE customer_id = $1 ORDER BY placed_at")
            .bind(actor.user_id.to_string())
            .fetch_all(&mut *conn)
            .await?;
    let mut orders = Vec::new();
    for id in order_ids {
        if let Some(o) = crate::routes::orders::data::load_order(&mut conn, uuid(&id)?).await? {
            orders.push(o);
        }
    }
    let conv_ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM conversations WHERE customer_id = $1 ORDER BY created_at",
    )
    .bind(actor.user_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let mut conversations = Vec::new();
    for id in conv_ids {
        let id = uuid(&id)?;
        let messages: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM messages WHERE conversation_id = $1 AND kind = 'text' ORDER BY created_at, id",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await?;
        let mut msgs = Vec::new();
        for m in messages {
            if let Some(m) = crate::routes::chat::load_message(&mut conn, uuid(&m)?).await? {
                msgs.push(m);
            }
        }
        if let Some(c) = crate::routes::chat::load_conversation(&mut conn, id).await? {
            conversations.push(serde_json::json!({ "conversation": c, "messages": msgs }));
        }
    }
    let sessions: Vec<(Option<String>, i64, i64)> = sqlx::query_as(
        "SELECT device_name, created_at, last_seen_at FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
    )
    .bind(actor.user_id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let sessions: Vec<_> = sessions
        .into_iter()
        .map(|(d, c, l)| serde_json::json!({"device_name": d, "created_at": ts(c), "last_seen_at": ts(l)}))
        .collect();
    tracing::info!("data export");
    Ok(Json(serde_json::json!({
        "format": "mostrador-export/1",
        "exported_at": jiff::Timestamp::now(),
        "account": account,
        "profile": profile,
        "sessions": sessions,
        "orders": orders,
        "conversations": conversations,
    })))
}

/// Deletes the caller's account: personal data erased (name, email, phone,
/// addresses, the text of their messages), orders unlinked, every session
/// revoked. An audit entry records that it happened, and nothing else.
#[utoipa::path(delete, path = "/api/v1/me", tag = "privacy", security(("bearer" = [])),
    responses((status = 204), (status = 409, body = mostrador_core::ApiError)))]
#[tracing::instrument(skip_all, fields(user.id = %actor.user_id))]
pub async fn delete_account(State(state): State<AppState>, actor: Actor) -> AppResult<StatusCode> {
    let mut tx = state.db.begin_write().await?;
    delete_in(&mut tx, &actor).await?;
    feed::commit(&state, tx).await?;
    state.user_sessions_ended(
        actor.user_id,
        mostrador_core::live::CLOSE_ACCOUNT_DELETED,
        None,
    );
    crate::routes::attachments::sweep_orphans(&state).await;
    tracing::info!("account deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the caller's account inside `tx` (shared with push). Uploaded
/// files lose their rows here; `attachments::sweep_orphans` removes the
/// files once this has committed.
pub async fn delete_in(tx: &mut Tx, actor: &Actor) -> AppResult<Vec<Uuid>> {
    if actor.role == mostrador_core::auth::Role::Admin {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "an administrator account is removed by another administrator",
        ));
    }
    let id = actor.user_id.to_string();
    let now = now_ms();
    sqlx::query(
        "UPDATE users SET email = $1, password_hash = '!', display_name = 'Deleted user', phone = NULL,
            time_zone = NULL, contact_email = 0, contact_sms = 0, contact_push = 0, deleted_at = $2, updated_at = $2
         WHERE id = $3",
    )
    .bind(format!("deleted-{id}@deleted.invalid"))
    .bind(now)
    .bind(&id)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM attachments WHERE uploader_id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM addresses WHERE user_id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    // The claimed address and any mailed codes go too.
    sqlx::query("UPDATE users SET pending_email = NULL WHERE id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM email_codes WHERE user_id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    let messages: Vec<(String, String)> = sqlx::query_as(
        "UPDATE messages SET body = '[deleted]' WHERE author_id = $1 RETURNING id, conversation_id",
    )
    .bind(&id)
    .fetch_all(&mut **tx)
    .await?;
    let convs: Vec<String> = sqlx::query_scalar(
        "UPDATE conversations SET subject = '[deleted]', rating_comment = NULL WHERE customer_id = $1 RETURNING id",
    )
    .bind(&id)
    .fetch_all(&mut **tx)
    .await?;
    let orders: Vec<String> = sqlx::query_scalar(
        "UPDATE orders SET customer_id = NULL, customer_email = '', shipping_address_json = NULL WHERE customer_id = $1 RETURNING id",
    )
    .bind(&id)
    .fetch_all(&mut **tx)
    .await?;
    // Staff views learn of the erasure through the feed.
    for (m, _) in &messages {
        feed::record(tx, Change::upsert(Entity::Message, uuid(m)?, None)).await?;
    }
    for c in &convs {
        feed::record(tx, Change::upsert(Entity::Conversation, uuid(c)?, None)).await?;
    }
    for o in &orders {
        feed::record(tx, Change::upsert(Entity::Order, uuid(o)?, None)).await?;
    }
    feed::record(
        tx,
        Change {
            removed: true,
            ..Change::upsert(Entity::Profile, actor.user_id, None)
        },
    )
    .await?;
    audit(
        tx,
        Some(actor.user_id),
        "account.delete",
        Some(actor.user_id),
    )
    .await?;
    Ok(vec![actor.user_id])
}
