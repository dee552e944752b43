//! Support staff's side: canned responses, availability and metrics.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A saved reply; `{first_name}`, `{order_number}` and `{agent_name}` are
/// filled in when it is used ([`expand_canned`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CannedResponse {
    pub id: Uuid,
    pub title: String,
    pub body: String,
}

/// `PUT /api/v1/canned/{id}` (admins).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PutCanned {
    pub title: String,
    pub body: String,
}

/// What a canned response's placeholders are filled with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CannedContext {
    pub first_name: Option<String>,
    pub order_number: Option<String>,
    pub agent_name: Option<String>,
}

/// Fills the placeholders; one without a value becomes empty text, and the
/// spaces around it are tidied, so no `{…}` ever reaches a customer.
pub fn expand_canned(template: &str, ctx: &CannedContext) -> String {
    let mut out = template.to_owned();
    for (key, value) in [
        ("{first_name}", &ctx.first_name),
        ("{order_number}", &ctx.order_number),
        ("{agent_name}", &ctx.agent_name),
    ] {
        out = out.replace(key, value.as_deref().unwrap_or(""));
    }
    // "Hi , your order  is" → "Hi, your order is"
    let mut tidy = String::with_capacity(out.len());
    for word in out.split(' ').filter(|w| !w.is_empty()) {
        if !tidy.is_empty() && !word.starts_with([',', '.', '!', '?', ';', ':']) {
            tidy.push(' ');
        }
        tidy.push_str(word);
    }
    tidy
}

/// A member of the support team, for assigning conversations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgentInfo {
    pub id: Uuid,
    pub name: String,
    /// Connected and available now.
    pub available: bool,
}

/// `GET /api/v1/support/availability`: may the shopper expect an agent now?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Availability {
    /// Agents available with room for another conversation.
    pub agents_available: i64,
}

/// Medians over a period, in milliseconds (`None` without data).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Medians {
    pub first_response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    /// Conversations the medians are over.
    pub conversations: i64,
}

/// `GET /api/v1/metrics` (staff).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Metrics {
    /// Not resolved.
    pub open: i64,
    /// Open, and the customer spoke last.
    pub waiting: i64,
    /// Open and nobody's.
    pub unassigned: i64,
    /// Since midnight UTC.
    pub today: Medians,
    pub last_7_days: Medians,
    /// Average rating (1–5) of rated conversations.
    pub satisfaction_avg: Option<f64>,
    /// How many ratings of 1, 2, 3, 4 and 5.
    pub satisfaction: [i64; 5],
    pub callbacks_completed: i64,
    pub callbacks_missed: i64,
    /// Conversations opened per day, the last 7 days, oldest first.
    pub opened_per_day: Vec<i64>,
}

/// Longest title of a saved reply, in characters.
pub const MAX_CANNED_TITLE_CHARS: usize = 80;
/// Longest text of a saved reply, in characters.
pub const MAX_CANNED_BODY_CHARS: usize = 4000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_responses_fill_placeholders_and_never_leak_braces() {
        let ctx = CannedContext {
            first_name: Some("Ana".into()),
            order_number: Some("MS-10001".into()),
            agent_name: Some("Lucía".into()),
        };
        assert_eq!(
            expand_canned(
                "Hi {first_name}, order {order_number} is on its way. — {agent_name}",
                &ctx
            ),
            "Hi Ana, order MS-10001 is on its way. — Lucía"
        );
        let none = CannedContext::default();
        assert_eq!(
            expand_canned("Hi {first_name}, your order {order_number} is late.", &none),
            "Hi, your order is late."
        );
    }
}
