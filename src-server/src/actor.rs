//! Who is calling: the [`Actor`] a request's session resolves to (`auth`).

use mostrador_core::auth::Role;
use mostrador_core::ErrorCode;
use uuid::Uuid;

use crate::error::AppError;

/// Who is calling: resolved from the bearer token on every request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub role: Role,
    pub session_id: Uuid,
    pub display_name: String,
}

impl Actor {
    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    /// Refuses non-staff callers with 403.
    pub fn require_staff(&self) -> Result<(), AppError> {
        if self.is_staff() {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::Forbidden,
                "this action is for support staff",
            ))
        }
    }

    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(AppError::new(
                ErrorCode::Forbidden,
                "this action is for administrators",
            ))
        }
    }
}
