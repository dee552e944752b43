//! Voice and video callbacks booked into slots. **Wire promise.**

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallbackChannel {
    /// A phone call to the customer's E.164 number.
    Voice,
    /// A video call in the app.
    Video,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CallbackStatus {
    /// Received but not placed in a slot (not produced by this server, which
    /// books on request; kept for stores that queue requests).
    Requested,
    Scheduled,
    InProgress,
    Completed,
    Missed,
    Cancelled,
}

impl CallbackStatus {
    pub const ALL: [CallbackStatus; 6] = [
        CallbackStatus::Requested,
        CallbackStatus::Scheduled,
        CallbackStatus::InProgress,
        CallbackStatus::Completed,
        CallbackStatus::Missed,
        CallbackStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CallbackStatus::Requested => "requested",
            CallbackStatus::Scheduled => "scheduled",
            CallbackStatus::InProgress => "in_progress",
            CallbackStatus::Completed => "completed",
            CallbackStatus::Missed => "missed",
            CallbackStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Still ahead of the customer (can be cancelled or rescheduled).
    pub fn is_pending(self) -> bool {
        matches!(self, CallbackStatus::Requested | CallbackStatus::Scheduled)
    }
}

/// A span of time the customer is available, as absolute instants (the UI
/// converts from the customer's local time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeWindow {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// A bookable slot with how many places are left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
    pub free: i64,
}

/// `POST /api/v1/callbacks`: the first free slot inside the first window
/// that has one is booked; if none has, the answer is 409 with
/// `details.nearest_slots`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RequestCallback {
    pub id: Uuid,
    pub channel: CallbackChannel,
    /// Required for voice: E.164, e.g. `+34911234567`.
    #[serde(default)]
    pub phone: Option<String>,
    pub topic: String,
    #[serde(default)]
    pub order_id: Option<Uuid>,
    /// The customer's IANA time zone, e.g. `Europe/Madrid` (for display).
    pub time_zone: String,
    pub windows: Vec<TimeWindow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RescheduleCallback {
    pub windows: Vec<TimeWindow>,
}

/// Staff record what happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CallbackOutcome {
    /// `in_progress`, `completed` or `missed`.
    pub status: CallbackStatus,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Callback {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub channel: CallbackChannel,
    pub phone: Option<String>,
    pub topic: String,
    pub order_id: Option<Uuid>,
    pub time_zone: String,
    pub slot_start: Option<Timestamp>,
    pub slot_end: Option<Timestamp>,
    pub status: CallbackStatus,
    /// Set by staff with the outcome.
    pub outcome_note: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Most windows one request may carry.
pub const MAX_WINDOWS: usize = 10;
/// Longest topic of a callback, in characters.
pub const MAX_TOPIC_CHARS: usize = 500;
/// Longest note with a call's outcome, in characters.
pub const MAX_OUTCOME_NOTE_CHARS: usize = 2000;
