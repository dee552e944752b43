//! Profile, addresses, contact preferences, and the privacy export.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::orders::PostalAddress;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContactPreferences {
    pub email: bool,
    pub sms: bool,
    pub push: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AddressKind {
    Shipping,
    Billing,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    pub id: Uuid,
    pub kind: AddressKind,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(flatten)]
    pub postal: PostalAddress,
    #[serde(default)]
    pub is_default: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub language: String,
    pub time_zone: Option<String>,
    pub contact: ContactPreferences,
    pub addresses: Vec<Address>,
    pub updated_at: Timestamp,
}

/// `PATCH /api/v1/me/profile`: absent fields stay as they are.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProfileUpdate {
    #[serde(default)]
    pub display_name: Option<String>,
    /// E.164; an empty string removes the number.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub time_zone: Option<String>,
    #[serde(default)]
    pub contact: Option<ContactPreferences>,
}

/// The languages the app speaks.
pub const LANGUAGES: [&str; 3] = ["en", "es", "ru"];

/// Most addresses one customer may keep. One more is refused (422,
/// `details.fields.addresses` = `too_many`, `details.limit`); replacing an
/// existing one is always allowed. Bounds the profile every sync carries.
pub const MAX_ADDRESSES: usize = 20;
