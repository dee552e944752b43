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

impl MessageState {
    pub const ALL: [MessageState; 3] = [Self::Sent, Self::Delivered, Self::Read];

    /// The stored word (`messages.state`), the same as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Sent => "sent",
            MessageState::Delivered => "delivered",
            MessageState::Read => "read",
        }
    }

    /// The state a stored word names; `None` for a word this build does not
    /// know.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == word)
    }
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

impl MessageKind {
    pub const ALL: [MessageKind; 2] = [Self::Text, Self::Note];

    /// The stored word (`messages.kind`), the same as on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::Note => "note",
        }
    }

    /// The kind a stored word names; `None` for a word this build does not
    /// know.
    pub fn parse(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == word)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rating {
    /// 1 to 5 ([`Rating::SCORES`]).
    pub score: i64,
    #[serde(default)]
    pub comment: Option<String>,
}

impl Rating {
    /// The scores a rating may give: one to five stars.
    pub const SCORES: std::ops::RangeInclusive<i64> = 1..=5;

    /// The rating as it may be stored, or the field that is wrong: the
    /// score within [`Rating::SCORES`] (`score` / `out_of_range`), the
    /// comment trimmed with a blank one dropped, at most
    /// [`MAX_COMMENT_CHARS`] (`comment` / `too_long`) and clean text
    /// (`comment` / `invalid_characters`). The server checks every rating
    /// with it (REST and push), the engine before queueing one.
    pub fn check(self) -> Result<Rating, crate::ApiError> {
        if !Self::SCORES.contains(&self.score) {
            return Err(crate::ApiError::invalid_field("score", "out_of_range"));
        }
        let comment = self
            .comment
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        if let Some(c) = comment {
            if c.chars().count() > MAX_COMMENT_CHARS {
                return Err(crate::ApiError::invalid_field("comment", "too_long"));
            }
            check_clean("comment", c)?;
        }
        Ok(Rating {
            score: self.score,
            comment: comment.map(str::to_owned),
        })
    }
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

/// Whether `m` is from the other side of its conversation for `me`, who
/// takes part as staff (`staff`) or as its customer: staff read and
/// acknowledge customers' messages, a customer staff's. A colleague's
/// reply is never "unread" for staff (the server raises only the other
/// side's messages on a mark, so counting it would ask for marks forever).
pub fn from_other_side(m: &Message, me: Uuid, staff: bool) -> bool {
    m.author_id != me && (m.author_role == Role::Customer) == staff
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

/// A message body as it may be stored (trimmed), or the problem with it:
/// `body` / `required` when blank and nothing is attached, `too_long` over
/// [`MAX_MESSAGE_CHARS`], `invalid_characters` for a refused character
/// ([`crate::text::is_clean`]). One check for the server (REST and push)
/// and the engine (before queueing), so the app never queues a message the
/// server will refuse.
pub fn check_body(body: &str, with_attachments: bool) -> Result<&str, crate::ApiError> {
    let body = body.trim();
    if body.is_empty() && !with_attachments {
        return Err(crate::ApiError::invalid_field("body", "required"));
    }
    if body.chars().count() > MAX_MESSAGE_CHARS {
        return Err(crate::ApiError::invalid_field("body", "too_long"));
    }
    check_clean("body", body)?;
    Ok(body)
}

/// `field` / `invalid_characters` unless `text` is clean user text.
fn check_clean(field: &str, text: &str) -> Result<(), crate::ApiError> {
    if crate::text::is_clean(text) {
        Ok(())
    } else {
        Err(crate::ApiError::invalid_field(
            field,
            crate::text::INVALID_CHARACTERS,
        ))
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
    fn the_other_side_is_the_customer_for_staff_and_staff_for_the_customer() {
        let (ana, luis, marta) = (Uuid::from_u128(1), Uuid::from_u128(2), Uuid::from_u128(3));
        let from = |id, role| Message {
            id: Uuid::from_u128(9),
            conversation_id: Uuid::from_u128(10),
            author_id: id,
            author_role: role,
            author_name: String::new(),
            kind: MessageKind::Text,
            body: "hi".into(),
            state: MessageState::Sent,
            created_at: Timestamp::UNIX_EPOCH,
            attachments: vec![],
        };
        let customers = from(ana, Role::Customer);
        let colleagues = from(marta, Role::Agent);
        assert!(from_other_side(&customers, luis, true));
        assert!(!from_other_side(&colleagues, luis, true));
        assert!(!from_other_side(&from(luis, Role::Agent), luis, true));
        assert!(from_other_side(&colleagues, ana, false));
        assert!(!from_other_side(&customers, ana, false));
    }

    #[test]
    fn message_words_round_trip_and_match_the_wire() {
        for st in MessageState::ALL {
            assert_eq!(MessageState::parse(st.as_str()), Some(st));
            assert_eq!(serde_json::to_value(st).unwrap(), st.as_str());
        }
        for k in MessageKind::ALL {
            assert_eq!(MessageKind::parse(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert_eq!(MessageState::parse("seen"), None);
        assert_eq!(MessageKind::parse("Note"), None);
    }

    fn problem(e: crate::ApiError) -> (String, String) {
        let (f, p) = e.field_problem().unwrap();
        (f.to_owned(), p.to_owned())
    }

    #[test]
    fn ratings_are_one_to_five_stars_with_a_short_clean_comment() {
        let rating = |score, comment: Option<&str>| Rating {
            score,
            comment: comment.map(str::to_owned),
        };
        for score in Rating::SCORES {
            assert_eq!(rating(score, None).check().unwrap().score, score);
        }
        for score in [0, 6, -1, i64::MAX] {
            let e = rating(score, None).check().unwrap_err();
            assert_eq!(problem(e), ("score".into(), "out_of_range".into()));
        }
        assert_eq!(
            rating(4, Some("  great \n"))
                .check()
                .unwrap()
                .comment
                .as_deref(),
            Some("great")
        );
        assert_eq!(rating(4, Some("   ")).check().unwrap().comment, None);
        let long = "é".repeat(MAX_COMMENT_CHARS + 1);
        let e = rating(4, Some(&long)).check().unwrap_err();
        assert_eq!(problem(e), ("comment".into(), "too_long".into()));
        let e = rating(4, Some("a\u{0}b")).check().unwrap_err();
        assert_eq!(problem(e), ("comment".into(), "invalid_characters".into()));
    }

    #[test]
    fn message_bodies_are_trimmed_bounded_and_clean() {
        assert_eq!(check_body("  hi \n", false).unwrap(), "hi");
        let e = check_body(" \n ", false).unwrap_err();
        assert_eq!(problem(e), ("body".into(), "required".into()));
        assert_eq!(check_body(" ", true).unwrap(), "");
        let at_limit = "я".repeat(MAX_MESSAGE_CHARS);
        assert!(check_body(&at_limit, false).is_ok());
        let e = check_body(&format!("{at_limit}я"), true).unwrap_err();
        assert_eq!(problem(e), ("body".into(), "too_long".into()));
        let e = check_body("bell\u{7}", false).unwrap_err();
        assert_eq!(problem(e), ("body".into(), "invalid_characters".into()));
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
