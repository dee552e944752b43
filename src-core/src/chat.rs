//! Conversations and messages.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Open,
    Pending,
    Resolved,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Resolved => "resolved",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Pending, Self::Resolved]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A message's delivery state as its author sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    Sent,
    Delivered,
    Read,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// Visible to the customer and the agents.
    Text,
    /// An internal note: agents only, never sent to a customer.
    Note,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rating {
    /// 1 to 5.
    pub score: i64,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Conversation {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub order_id: Option<Uuid>,
    pub subject: String,
    pub status: ConversationStatus,
    pub assigned_agent_id: Option<Uuid>,
    pub rating: Option<Rating>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_message_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Message {
    /// Chosen by the sending device (also its idempotency key).
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub author_id: Uuid,
    pub author_role: Role,
    pub author_name: String,
    pub kind: MessageKind,
    pub body: String,
    pub state: MessageState,
    pub created_at: Timestamp,
    /// Files sent with the message.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// An image or PDF uploaded into a conversation. The bytes are at
/// `GET /api/v1/attachments/{id}`, served only to those who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub filename: String,
    /// Detected from the bytes: `image/png`, `image/jpeg`, `image/gif`,
    /// `image/webp` or `application/pdf`.
    pub content_type: String,
    pub size: i64,
}

/// Largest attachment accepted.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;

/// The content type of an accepted attachment, judged by its first bytes
/// (never by the name or the declared type).
pub fn sniff_attachment(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// Longest message body accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// Longest conversation subject, in characters.
pub const MAX_SUBJECT_CHARS: usize = 200;
/// Longest comment with a rating, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// The server's length check of a message body, for the app to run before
/// queueing: `body` / `too_long` over [`MAX_MESSAGE_CHARS`].
pub fn check_message_length(body: &str) -> Result<(), crate::ApiError> {
    if body.chars().count() > MAX_MESSAGE_CHARS {
        Err(crate::ApiError::invalid_field("body", "too_long"))
    } else {
        Ok(())
    }
}

/// `POST /api/v1/conversations`: the first message comes with it, so a
/// question is never an empty conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenConversation {
    pub id: Uuid,
    #[serde(default)]
    pub order_id: Option<Uuid>,
    pub subject: String,
    pub message_id: Uuid,
    pub body: String,
}

/// `POST /api/v1/conversations/{id}/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendMessage {
    pub id: Uuid,
    pub body: String,
    /// `note` is for agents only.
    #[serde(default = "text_kind")]
    pub kind: MessageKind,
    /// Attachments uploaded beforehand into the same conversation.
    #[serde(default)]
    pub attachment_ids: Vec<Uuid>,
}

fn text_kind() -> MessageKind {
    MessageKind::Text
}

/// `PATCH /api/v1/conversations/{id}` (agents): status and assignment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateConversation {
    #[serde(default)]
    pub status: Option<ConversationStatus>,
    /// `Some(None)` (JSON `null`) unassigns.
    #[serde(default, with = "double_option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub assigned_agent_id: Option<Option<Uuid>>,
}

/// Marks the other side's messages up to and including one as delivered or
/// read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkMessages {
    pub up_to: Uuid,
    pub state: MessageState,
}

/// Distinguishes an absent field from an explicit `null`.
pub mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_and_null_assignment_differ() {
        let absent: UpdateConversation = serde_json::from_str(r#"{"status":"resolved"}"#).unwrap();
        assert_eq!(absent.assigned_agent_id, None);
        assert_eq!(absent.status, Some(ConversationStatus::Resolved));
        let null: UpdateConversation =
            serde_json::from_str(r#"{"assigned_agent_id":null}"#).unwrap();
        assert_eq!(null.assigned_agent_id, Some(None));
    }

    #[test]
    fn attachments_are_typed_by_content() {
        assert_eq!(
            sniff_attachment(b"\x89PNG\r\n\x1a\n...."),
            Some("image/png")
        );
        assert_eq!(
            sniff_attachment(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some("image/jpeg")
        );
        assert_eq!(
            sniff_attachment(b"RIFF\0\0\0\0WEBPVP8 "),
            Some("image/webp")
        );
        assert_eq!(sniff_attachment(b"%PDF-1.7\n"), Some("application/pdf"));
        assert_eq!(sniff_attachment(b"MZ\x90\0 not a picture"), None);
        assert_eq!(sniff_attachment(b"<svg onload=alert(1)>"), None);
        assert_eq!(sniff_attachment(b""), None);
    }

    #[test]
    fn message_states_are_ordered() {
        assert!(MessageState::Sent < MessageState::Delivered);
        assert!(MessageState::Delivered < MessageState::Read);
    }
}

/// A conversation with its messages, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConversationThread {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}
