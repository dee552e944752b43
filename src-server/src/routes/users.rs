//! What account routes share: reading a user as [`Me`], the audit log,
//! and the password length rule. Both `accounts` (sign-up, sign-in,
//! staff) and `credentials` (email codes, password changes and resets)
//! use it, so neither imports the other's internals.

use mostrador_core::auth::{Me, Role, MIN_PASSWORD_LEN};
use sqlx::Row;
use uuid::Uuid;

use crate::db::{now_ms, ts, uuid, Tx};
use crate::error::{AppError, AppResult};
use crate::extract::invalid;

/// A password's length rules, refused as a 422 naming `field`.
pub(crate) fn validate_password_field(field: &str, password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(invalid(field, "too_short"));
    }
    if n > mostrador_core::auth::MAX_PASSWORD_LEN {
        return Err(invalid(field, "too_long"));
    }
    Ok(())
}

pub async fn load_me(conn: &mut sqlx::AnyConnection, user_id: Uuid) -> AppResult<Me> {
    let row = sqlx::query(
        "SELECT id, COALESCE(pending_email, email) AS email, display_name, role, language, created_at,
            CASE WHEN pending_email IS NULL THEN 1 ELSE 0 END AS verified
         FROM users WHERE id = $1",
    )
    .bind(user_id.to_string())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| AppError::not_found("user"))?;
    Ok(Me {
        id: uuid(&row.try_get::<String, _>("id")?)?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&row.try_get::<String, _>("role")?).unwrap_or(Role::Customer),
        language: row.try_get("language")?,
        created_at: ts(row.try_get("created_at")?),
        email_verified: row.try_get::<i64, _>("verified")? != 0,
    })
}

/// Appends to the audit log (kept when personal data is erased).
pub async fn audit(
    tx: &mut Tx,
    actor: Option<Uuid>,
    action: &str,
    subject: Option<Uuid>,
) -> AppResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, actor_id, action, subject_id, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind(actor.map(|a| a.to_string()))
    .bind(action)
    .bind(subject.map(|s| s.to_string()))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
