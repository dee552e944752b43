//! Orders as stored: the columns and the row mapping (with the tracking
//! timeline), shared by the order routes, sync and authorization.

use std::collections::HashMap;

use mostrador_core::orders::{Order, Shipment, TrackingEvent, TrackingStatus};
use sqlx::Row;
use uuid::Uuid;

use crate::db::{fetch_in, opt_uuid, ts, uuid};
use crate::error::AppResult;

pub(crate) const ORDER_COLUMNS: &str =
    "id, number, customer_id, placed_at, total_minor, currency, items_json,
    shipping_address_json, carrier, tracking_number, eta, status, updated_at";

fn decode_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

pub(crate) async fn order_from_row(
    conn: &mut sqlx::AnyConnection,
    r: &sqlx::any::AnyRow,
) -> AppResult<Order> {
    let id = uuid(&r.try_get::<String, _>("id")?)?;
    let events = sqlx::query(&format!(
        "SELECT {EVENT_COLUMNS} FROM tracking_events WHERE order_id = $1 ORDER BY at, id"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let timeline = events
        .iter()
        .map(event_from_row)
        .collect::<AppResult<_>>()?;
    order_with_timeline(r, timeline)
}

const EVENT_COLUMNS: &str = "order_id, id, status, at, place, description";

fn event_from_row(e: &sqlx::any::AnyRow) -> AppResult<TrackingEvent> {
    let status: String = e.try_get("status")?;
    Ok(TrackingEvent {
        id: e.try_get("id")?,
        status: TrackingStatus::parse(&status).unwrap_or(TrackingStatus::Placed),
        at: ts(e.try_get("at")?),
        place: e.try_get("place")?,
        description: e.try_get("description")?,
    })
}

/// An order row with its timeline, read apart.
fn order_with_timeline(r: &sqlx::any::AnyRow, timeline: Vec<TrackingEvent>) -> AppResult<Order> {
    let id = uuid(&r.try_get::<String, _>("id")?)?;
    let carrier: Option<String> = r.try_get("carrier")?;
    let tracking_number: Option<String> = r.try_get("tracking_number")?;
    let shipment = match (carrier, tracking_number) {
        (Some(carrier), Some(tracking_number)) => Some(Shipment {
            carrier,
            tracking_number,
            eta: r.try_get::<Option<i64>, _>("eta")?.map(ts),
        }),
        _ => None,
    };
    let status: String = r.try_get("status")?;
    Ok(Order {
        id,
        number: r.try_get("number")?,
        customer_id: opt_uuid(r.try_get("customer_id")?)?,
        status: TrackingStatus::parse(&status).unwrap_or(TrackingStatus::Placed),
        placed_at: ts(r.try_get("placed_at")?),
        total_minor: r.try_get("total_minor")?,
        currency: r.try_get("currency")?,
        items: decode_json(&r.try_get::<String, _>("items_json")?)?,
        shipping_address: r
            .try_get::<Option<String>, _>("shipping_address_json")?
            .as_deref()
            .map(decode_json)
            .transpose()?,
        shipment,
        timeline,
        updated_at: ts(r.try_get("updated_at")?),
    })
}

/// Loads an order with its timeline.
pub async fn load_order(conn: &mut sqlx::AnyConnection, id: Uuid) -> AppResult<Option<Order>> {
    let row = sqlx::query(&format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id = $1"))
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => Ok(Some(order_from_row(conn, &r).await?)),
        None => Ok(None),
    }
}

/// [`load_order`] for many ids at once: one statement for the orders, one
/// for their timelines. Those that exist, by id.
pub async fn load_orders(
    conn: &mut sqlx::AnyConnection,
    ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Order>> {
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM tracking_events WHERE order_id IN ({{in}}) ORDER BY at, id"
    );
    let mut timelines: HashMap<String, Vec<TrackingEvent>> = HashMap::new();
    for e in fetch_in(conn, &sql, ids).await? {
        timelines
            .entry(e.try_get("order_id")?)
            .or_default()
            .push(event_from_row(&e)?);
    }
    let sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE id IN ({{in}})");
    let rows = fetch_in(conn, &sql, ids).await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let timeline = timelines.remove(&id).unwrap_or_default();
            order_with_timeline(r, timeline).map(|o| (o.id, o))
        })
        .collect()
}
