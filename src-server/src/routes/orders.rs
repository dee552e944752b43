//! Orders and tracking: reading them, and the shop's signed ingest webhook.

use axum::extract::State;
use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use mostrador_core::auth::normalize_email;
use mostrador_core::orders::{
    IngestEvent, IngestKind, IngestResult, Order, OrderItem, PostalAddress, SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
};
use mostrador_core::{ApiError, ErrorCode};
use serde::Deserialize;
use sha2::Sha256;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Actor;
use crate::authz;
use crate::db::{now_ms, opt_uuid, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::{check_text, invalid, Json, Path, Query, RawBody};
use crate::feed::{self, Change, Entity};
use crate::state::AppState;

pub mod data;

use data::{order_from_row, ORDER_COLUMNS};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_orders))
        .routes(routes!(get_order))
        .routes(routes!(ingest))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct OrderQuery {
    /// Staff only: one customer's orders.
    pub customer_id: Option<Uuid>,
    pub limit: Option<i64>,
}

/// The caller's orders, newest first (staff: every customer's, or one's).
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", security(("bearer" = [])), params(OrderQuery),
    responses((status = 200, body = Vec<Order>), (status = 401, body = ApiError)))]
pub async fn list_orders(
    State(state): State<AppState>,
    actor: Actor,
    Query(q): Query<OrderQuery>,
) -> AppResult<Json<Vec<Order>>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 500);
    let customer = if actor.is_staff() {
        q.customer_id
    } else {
        Some(actor.user_id)
    };
    let mut conn = state.db.pool().acquire().await?;
    let rows = match customer {
        Some(c) => {
            sqlx::query(&format!(
                "SELECT {ORDER_COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC LIMIT $2"
            ))
            .bind(c.to_string())
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?
        }
        None => {
            sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders ORDER BY placed_at DESC LIMIT $1"))
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(order_from_row(&mut conn, r).await?);
    }
    Ok(Json(out))
}

/// One order with its items, shipment and tracking timeline.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", security(("bearer" = [])), params(("id" = Uuid, Path)),
    responses((status = 200, body = Order), (status = 404, body = ApiError)))]
pub async fn get_order(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<Json<Order>> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(Json(authz::visible_order(&mut conn, &actor, id).await?))
}

/// HMAC-SHA256(secret, `<timestamp>.<body>`): the signed time is part of
/// the signed text, so it cannot be changed without the secret.
fn mac(secret: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Checks `sha256=<hex>` of [`mac`] in constant time.
pub fn verify_signature(secret: &str, timestamp: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(hex_sig) = header.and_then(|h| h.trim().strip_prefix("sha256=")) else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    mac(secret, timestamp, body).verify_slice(&sig).is_ok()
}

/// Signs a body sent at `timestamp` (Unix seconds, the value of the
/// `X-Mostrador-Timestamp` header) the way the shop must (for the shop's
/// integrators and tests).
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let bytes = mac(secret, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("sha256={}", hex::encode(bytes))
}

/// Refuses a (correctly signed) timestamp further than `skew` from `now`
/// (Unix seconds) either way: a captured request replayed later, or a shop
/// whose clock is wrong. `occurred_at` is not used: shops legitimately send
/// old events.
fn check_signed_time(timestamp: &str, now: i64, skew: std::time::Duration) -> AppResult<()> {
    let skew = i64::try_from(skew.as_secs()).unwrap_or(i64::MAX);
    let refuse = |reason: &str, message: String| {
        AppError::Api(
            ApiError::new(ErrorCode::Unauthorized, message)
                .with_details(serde_json::json!({ "reason": reason })),
        )
    };
    let Ok(at) = timestamp.parse::<i64>() else {
        return Err(refuse(
            "bad_timestamp",
            "the X-Mostrador-Timestamp header must be Unix seconds".into(),
        ));
    };
    if at < now.saturating_sub(skew) {
        return Err(refuse(
            "stale_timestamp",
            format!("the webhook was signed more than {skew} s ago; sign it again"),
        ));
    }
    if at > now.saturating_add(skew) {
        return Err(refuse(
            "future_timestamp",
            format!(
                "the webhook is signed more than {skew} s in the future; check the shop's clock"
            ),
        ));
    }
    Ok(())
}

/// Order and shipment events from the shop. Signed with HMAC-SHA256 over
/// `<timestamp>.<raw body>` (headers `X-Mostrador-Timestamp: <Unix seconds>`
/// and `X-Mostrador-Signature: sha256=<hex>`); a timestamp further than
/// `--webhook-skew-seconds` from now is refused; idempotent by `event_id`;
/// applied by `occurred_at`, so an older event never overwrites newer state.
/// A bad signature or time gets 401 and changes nothing.
#[utoipa::path(post, path = "/api/v1/integrations/orders", tag = "integrations", request_body = IngestEvent,
    params(("X-Mostrador-Signature" = String, Header, description = "sha256=<hex HMAC-SHA256 of `<timestamp>.<raw body>`>"),
           ("X-Mostrador-Timestamp" = i64, Header, description = "when the event was signed, Unix seconds (within the server's allowed skew)")),
    responses((status = 200, body = IngestResult), (status = 401, body = ApiError), (status = 422, body = ApiError), (status = 503, body = ApiError)))]
#[tracing::instrument(skip_all)]
pub async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> AppResult<Json<IngestResult>> {
    let Some(secret) = state.config.webhook_secret.as_deref() else {
        return Err(AppError::new(
            ErrorCode::Unavailable,
            "order ingest is not configured on this server",
        ));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let timestamp = header(TIMESTAMP_HEADER).unwrap_or_default().trim();
    if !verify_signature(secret, timestamp, &body, header(SIGNATURE_HEADER)) {
        tracing::warn!("ingest: bad or missing signature");
        return Err(AppError::new(
            ErrorCode::Unauthorized,
            "bad or missing webhook signature (HMAC-SHA256 of `<X-Mostrador-Timestamp>.<body>`)",
        ));
    }
    check_signed_time(timestamp, now_ms() / 1000, state.config.webhook_skew).inspect_err(|_| {
        tracing::warn!("ingest: signed time outside the allowed window");
    })?;
    let event: IngestEvent = serde_json::from_slice(&body).map_err(|e| {
        let code = if e.is_data() {
            ErrorCode::ValidationFailed
        } else {
            ErrorCode::BadRequest
        };
        AppError::Api(ApiError::new(code, format!("invalid event: {e}")))
    })?;
    let mut tx = state.db.begin_write().await?;
    let result = apply_ingest(&mut tx, &event).await?;
    feed::commit(&state, tx).await?;
    tracing::info!(event_id = %event.event_id, applied = result.applied, "ingest");
    Ok(Json(result))
}

/// Applies one shop event inside `tx` (also used by the demo seeder).
pub async fn apply_ingest(tx: &mut Tx, event: &IngestEvent) -> AppResult<IngestResult> {
    if event.event_id.trim().is_empty() || event.event_id.len() > 200 {
        return Err(invalid("event_id", "invalid"));
    }
    if event.order_number.trim().is_empty() || event.order_number.len() > 100 {
        return Err(invalid("order_number", "invalid"));
    }
    check_ingest_text(event)?;
    let seen: Option<String> =
        sqlx::query_scalar("SELECT order_id FROM ingest_events WHERE event_id = $1")
            .bind(&event.event_id)
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(order_id) = seen {
        return Ok(IngestResult {
            order_id: uuid(&order_id)?,
            applied: false,
        });
    }
    let at = event.occurred_at.as_millisecond();
    let now = now_ms();
    let existing: Option<String> = sqlx::query_scalar("SELECT id FROM orders WHERE number = $1")
        .bind(&event.order_number)
        .fetch_optional(&mut **tx)
        .await?;
    let order_id = match existing {
        Some(id) => uuid(&id)?,
        None => {
            let id = Uuid::now_v7();
            sqlx::query(
                "INSERT INTO orders (id, number, customer_email, customer_id, placed_at, total_minor, currency,
                    items_json, shipping_address_json, snapshot_at, carrier, tracking_number, eta, shipment_at,
                    status, status_at, status_event_id, updated_at)
                 VALUES ($1, $2, '', NULL, $3, 0, '', '[]', NULL, 0, NULL, NULL, NULL, 0, 'placed', 0, '', $4)",
            )
            .bind(id.to_string())
            .bind(&event.order_number)
            .bind(at)
            .bind(now)
            .execute(&mut **tx)
            .await?;
            id
        }
    };
    match &event.kind {
        IngestKind::OrderUpserted {
            customer_email,
            placed_at,
            total_minor,
            currency,
            items,
            shipping_address,
        } => {
            let email = normalize_email(customer_email)
                .ok_or_else(|| invalid("customer_email", "invalid"))?;
            validate_order(*total_minor, currency, items, shipping_address.as_ref())?;
            let customer: Option<String> =
                sqlx::query_scalar("SELECT id FROM users WHERE email = $1 AND role = 'customer' AND deleted_at IS NULL")
                    .bind(&email)
                    .fetch_optional(&mut **tx)
                    .await?;
            sqlx::query(
                "UPDATE orders SET customer_email = $1, customer_id = $2, placed_at = $3, total_minor = $4,
                    currency = $5, items_json = $6, shipping_address_json = $7, snapshot_at = $8, updated_at = $9
                 WHERE id = $10 AND snapshot_at < $8",
            )
            .bind(&email)
            .bind(customer)
            .bind(placed_at.as_millisecond())
            .bind(total_minor)
            .bind(currency.to_uppercase())
            .bind(serde_json::to_string(items).map_err(anyhow::Error::from)?)
            .bind(shipping_address.as_ref().map(serde_json::to_string).transpose().map_err(anyhow::Error::from)?)
            .bind(at)
            .bind(now)
            .bind(order_id.to_string())
            .execute(&mut **tx)
            .await?;
        }
        IngestKind::Tracking {
            status,
            place,
            description,
            shipment,
        } => {
            sqlx::query("INSERT INTO tracking_events (id, order_id, status, at, place, description) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(&event.event_id)
                .bind(order_id.to_string())
                .bind(status.as_str())
                .bind(at)
                .bind(place.as_deref().map(|p| truncate(p, 200)))
                .bind(description.as_deref().map(|d| truncate(d, 1000)))
                .execute(&mut **tx)
                .await?;
            // Newest event wins, by event time then event id: arrival order
            // does not matter.
            sqlx::query(
                "UPDATE orders SET status = $1, status_at = $2, status_event_id = $3, updated_at = $4
                 WHERE id = $5 AND (status_at < $2 OR (status_at = $2 AND status_event_id < $3))",
            )
            .bind(status.as_str())
            .bind(at)
            .bind(&event.event_id)
            .bind(now)
            .bind(order_id.to_string())
            .execute(&mut **tx)
            .await?;
            if let Some(s) = shipment {
                sqlx::query(
                    "UPDATE orders SET carrier = $1, tracking_number = $2, eta = $3, shipment_at = $4, updated_at = $5
                     WHERE id = $6 AND shipment_at <= $4",
                )
                .bind(truncate(&s.carrier, 100))
                .bind(truncate(&s.tracking_number, 100))
                .bind(s.eta.map(|e| e.as_millisecond()))
                .bind(at)
                .bind(now)
                .bind(order_id.to_string())
                .execute(&mut **tx)
                .await?;
            }
        }
    }
    sqlx::query("INSERT INTO ingest_events (event_id, order_id, received_at) VALUES ($1, $2, $3)")
        .bind(&event.event_id)
        .bind(order_id.to_string())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let customer: Option<String> =
        sqlx::query_scalar("SELECT customer_id FROM orders WHERE id = $1")
            .bind(order_id.to_string())
            .fetch_one(&mut **tx)
            .await?;
    feed::record(
        tx,
        Change::upsert(Entity::Order, order_id, opt_uuid(customer)?),
    )
    .await?;
    Ok(IngestResult {
        order_id,
        applied: true,
    })
}

fn validate_order(
    total: i64,
    currency: &str,
    items: &[OrderItem],
    addr: Option<&PostalAddress>,
) -> AppResult<()> {
    if total < 0 {
        return Err(invalid("total_minor", "negative"));
    }
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(invalid("currency", "not_iso_4217"));
    }
    if items.len() > 500
        || items
            .iter()
            .any(|i| i.quantity <= 0 || i.unit_price_minor < 0)
    {
        return Err(invalid("items", "invalid"));
    }
    if let Some(a) = addr {
        if a.country.len() != 2 {
            return Err(invalid("shipping_address.country", "not_iso_3166"));
        }
    }
    Ok(())
}

/// The shop's text fields that are stored as text columns hold no control
/// characters (PostgreSQL cannot store NUL); the rest travel as JSON.
fn check_ingest_text(event: &IngestEvent) -> AppResult<()> {
    check_text("event_id", &event.event_id)?;
    check_text("order_number", &event.order_number)?;
    if let IngestKind::Tracking {
        place,
        description,
        shipment,
        ..
    } = &event.kind
    {
        check_text("place", place.as_deref().unwrap_or_default())?;
        check_text("description", description.as_deref().unwrap_or_default())?;
        if let Some(s) = shipment {
            check_text("shipment.carrier", &s.carrier)?;
            check_text("shipment.tracking_number", &s.tracking_number)?;
        }
    }
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_only_with_the_right_secret_body_and_time() {
        let sig = sign("s3cret", 1_700_000_000, b"{\"a\":1}");
        assert!(verify_signature(
            "s3cret",
            "1700000000",
            b"{\"a\":1}",
            Some(&sig)
        ));
        assert!(!verify_signature(
            "other",
            "1700000000",
            b"{\"a\":1}",
            Some(&sig)
        ));
        assert!(!verify_signature(
            "s3cret",
            "1700000000",
            b"{\"a\":2}",
            Some(&sig)
        ));
        assert!(!verify_signature(
            "s3cret",
            "1700000001",
            b"{\"a\":1}",
            Some(&sig)
        ));
        assert!(!verify_signature("s3cret", "", b"{\"a\":1}", Some(&sig)));
        assert!(!verify_signature(
            "s3cret",
            "1700000000",
            b"{\"a\":1}",
            None
        ));
        assert!(!verify_signature(
            "s3cret",
            "1700000000",
            b"{\"a\":1}",
            Some("sha256=zz")
        ));
    }

    #[test]
    fn the_signed_time_must_be_near_now() {
        let skew = std::time::Duration::from_secs(300);
        let now = 1_700_000_000;
        for ok in [now, now - 300, now + 300] {
            assert!(
                check_signed_time(&ok.to_string(), now, skew).is_ok(),
                "{ok}"
            );
        }
        for bad in [now - 301, now + 301, 0, i64::MAX] {
            assert!(
                check_signed_time(&bad.to_string(), now, skew).is_err(),
                "{bad}"
            );
        }
        assert!(check_signed_time("soon", now, skew).is_err());
    }
}
