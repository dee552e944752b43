//! Orders, shipments and carrier tracking, and the shop's ingest events.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where an order or a parcel is. The timeline's vocabulary. **Wire promise.**
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrackingStatus {
    Placed,
    Paid,
    Packed,
    Shipped,
    InTransit,
    OutForDelivery,
    Delivered,
    /// A carrier exception: the parcel is late or held.
    Delayed,
    Returned,
}

impl TrackingStatus {
    pub const ALL: [TrackingStatus; 9] = [
        TrackingStatus::Placed,
        TrackingStatus::Paid,
        TrackingStatus::Packed,
        TrackingStatus::Shipped,
        TrackingStatus::InTransit,
        TrackingStatus::OutForDelivery,
        TrackingStatus::Delivered,
        TrackingStatus::Delayed,
        TrackingStatus::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrackingStatus::Placed => "placed",
            TrackingStatus::Paid => "paid",
            TrackingStatus::Packed => "packed",
            TrackingStatus::Shipped => "shipped",
            TrackingStatus::InTransit => "in_transit",
            TrackingStatus::OutForDelivery => "out_for_delivery",
            TrackingStatus::Delivered => "delivered",
            TrackingStatus::Delayed => "delayed",
            TrackingStatus::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Still on its way (what "active orders" means on the home screen).
    pub fn is_active(self) -> bool {
        !matches!(self, TrackingStatus::Delivered | TrackingStatus::Returned)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderItem {
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    /// Price of one unit in minor units of the order's currency.
    pub unit_price_minor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PostalAddress {
    pub name: String,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    #[serde(default)]
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, e.g. `ES`.
    pub country: String,
}

/// One step of the timeline, from the shop or the carrier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrackingEvent {
    /// The shop's event id (unique).
    pub id: String,
    pub status: TrackingStatus,
    pub at: Timestamp,
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Shipment {
    pub carrier: String,
    pub tracking_number: String,
    #[serde(default)]
    pub eta: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: Uuid,
    /// The shop's order number, e.g. `MS-10042`.
    pub number: String,
    pub customer_id: Option<Uuid>,
    /// The latest event's status (by event time, not arrival).
    pub status: TrackingStatus,
    pub placed_at: Timestamp,
    pub total_minor: i64,
    /// ISO 4217, e.g. `EUR`.
    pub currency: String,
    pub items: Vec<OrderItem>,
    pub shipping_address: Option<PostalAddress>,
    pub shipment: Option<Shipment>,
    /// Oldest first.
    pub timeline: Vec<TrackingEvent>,
    pub updated_at: Timestamp,
}

/// What the shop sends to `POST /api/v1/integrations/orders`, signed with
/// HMAC-SHA256 over `<timestamp>.<raw body>` in the `X-Mostrador-Signature`
/// header as `sha256=<hex>`, the timestamp (Unix seconds, when it was
/// signed) in `X-Mostrador-Timestamp`. Idempotent by `event_id`; applied by
/// `occurred_at`, so an older event never overwrites newer state. **Wire
/// promise.**
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestEvent {
    pub event_id: String,
    pub occurred_at: Timestamp,
    pub order_number: String,
    #[serde(flatten)]
    pub kind: IngestKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum IngestKind {
    /// The order as the shop knows it now (created or changed).
    OrderUpserted {
        customer_email: String,
        placed_at: Timestamp,
        total_minor: i64,
        currency: String,
        items: Vec<OrderItem>,
        #[serde(default)]
        shipping_address: Option<PostalAddress>,
    },
    /// A step on the timeline: order progress or a carrier scan.
    Tracking {
        status: TrackingStatus,
        #[serde(default)]
        place: Option<String>,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        shipment: Option<Shipment>,
    },
}

/// Answer to an ingest call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IngestResult {
    pub order_id: Uuid,
    /// `false` when this `event_id` had been received before.
    pub applied: bool,
}

/// The header carrying the ingest signature.
pub const SIGNATURE_HEADER: &str = "x-mostrador-signature";
/// The header carrying the time the shop signed an ingest event, in Unix
/// seconds; it is part of the signed text, so a captured request cannot be
/// replayed later with a fresh time.
pub const TIMESTAMP_HEADER: &str = "x-mostrador-timestamp";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_ingest_shape_is_flat() {
        for s in TrackingStatus::ALL {
            assert_eq!(TrackingStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        let ev: IngestEvent = serde_json::from_value(serde_json::json!({
            "event_id": "e1",
            "occurred_at": "2026-11-20T10:00:00Z",
            "order_number": "MS-1",
            "type": "tracking",
            "status": "in_transit",
            "place": "Zaragoza"
        }))
        .unwrap();
        assert!(matches!(
            ev.kind,
            IngestKind::Tracking {
                status: TrackingStatus::InTransit,
                ..
            }
        ));
        assert!(!TrackingStatus::Delivered.is_active());
    }
}
