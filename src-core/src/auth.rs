//! Accounts, roles and sessions on the wire.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who a user is to the support system. **Wire promise.**
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Agent,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Self::Customer, Self::Agent, Self::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(Role::Customer),
            "agent" => Some(Role::Agent),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Agents and admins work the support side.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }
}

/// Shortest password accepted at registration.
pub const MIN_PASSWORD_LEN: usize = 10;
/// Longest password accepted, in characters.
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Longest display name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Letters and digits in a one-time code mailed to prove an address or
/// reset a password (the engine checks a typed code's shape with it).
pub const EMAIL_CODE_LEN: usize = 10;

#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// BCP 47 language tag, e.g. `es`; defaults to `en`.
    #[serde(default)]
    pub language: Option<String>,
    /// A name for this device's session, e.g. "Ana's phone".
    #[serde(default)]
    pub device_name: Option<String>,
}

#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub device_name: Option<String>,
}

/// `POST /api/v1/auth/identity`: a shop-signed identity (a JWT, HS256)
/// exchanged for a session, answered like a login (`AuthResponse`).
/// Claims: `email` (required), `name`, `sub` (the shop's customer id),
/// `exp` (required, at most [`MAX_IDENTITY_TTL_SECS`] ahead), `iat`,
/// `jti` (required, accepted once). Its `Debug` never shows the token.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityRequest {
    pub identity: String,
    /// A name for this device's session, e.g. "Web (shop)".
    #[serde(default)]
    pub device_name: Option<String>,
}

impl fmt::Debug for IdentityRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityRequest")
            .field("identity", &"***")
            .field("device_name", &self.device_name)
            .finish()
    }
}

/// Furthest ahead a shop-signed identity's `exp` may be, in seconds (24 h).
pub const MAX_IDENTITY_TTL_SECS: i64 = 24 * 3600;

/// A bearer token. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Token(pub String);

impl Token {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

macro_rules! redacted_debug {
    ($ty:ident { $($field:ident),* }) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), &self.$field))*
                    .finish_non_exhaustive()
            }
        }
    };
}
redacted_debug!(RegisterRequest {
    email,
    display_name,
    language,
    device_name
});
redacted_debug!(LoginRequest { email, device_name });

/// The signed-in user as they see themselves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub language: String,
    pub created_at: Timestamp,
    /// Has the address been proved with the code sent to it? Until then
    /// orders the shop sent for it are not shown (`POST /auth/verify-email`).
    #[serde(default)]
    pub email_verified: bool,
}

/// `POST /api/v1/auth/verify-email`: the code mailed to the address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyEmailRequest {
    pub code: String,
}

/// `PUT /api/v1/me/password`: the current password proves it is the owner.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /api/v1/auth/password-reset`: mail a reset code to this address.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordResetRequest {
    pub email: String,
}

/// `POST /api/v1/auth/password-reset/confirm`: the mailed code and the new
/// password.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordResetConfirm {
    pub email: String,
    pub code: String,
    pub new_password: String,
}
redacted_debug!(ChangePasswordRequest {});
redacted_debug!(PasswordResetConfirm { email });

/// Answer to register and login: the token is shown exactly once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthResponse {
    pub token: Token,
    pub session_id: Uuid,
    pub expires_at: Timestamp,
    pub user: Me,
}

/// One signed-in device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: Uuid,
    pub device_name: Option<String>,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
    /// The session making this request.
    pub current: bool,
}

/// Admin: create an agent or admin account.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateStaffRequest {
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// `agent` (default) or `admin`.
    #[serde(default)]
    pub role: Option<Role>,
}
redacted_debug!(CreateStaffRequest {
    email,
    display_name,
    role
});

/// A staff account as admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMember {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
}

/// Normalises an email for lookup; `None` when it is not plausibly one.
pub fn normalize_email(email: &str) -> Option<String> {
    let e = email.trim().to_lowercase();
    let (local, domain) = e.split_once('@')?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control());
    ok.then_some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug() {
        let r = LoginRequest {
            email: "a@b.co".into(),
            password: "hunter2-hunter2".into(),
            device_name: None,
        };
        assert!(!format!("{r:?}").contains("hunter2"));
        assert_eq!(format!("{:?}", Token("s3cr3t".into())), "Token(***)");
    }

    #[test]
    fn emails_are_normalised_or_refused() {
        assert_eq!(
            normalize_email("  Ana@Example.COM "),
            Some("ana@example.com".into())
        );
        assert_eq!(normalize_email("no-at-sign"), None);
        assert_eq!(normalize_email("a@nodot"), None);
        assert_eq!(normalize_email("a b@x.io"), None);
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Customer, Role::Agent, Role::Admin] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert!(Role::Agent.is_staff() && !Role::Customer.is_staff());
    }
}
