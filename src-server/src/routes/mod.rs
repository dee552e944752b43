//! One module per resource, each exposing `router()` with its OpenAPI paths.

pub mod accounts;
pub mod agent;
pub mod attachments;
pub mod callbacks;
pub mod chat;
pub mod credentials;
pub mod health;
pub mod identity;
pub mod orders;
pub mod profile;
pub mod sync;
pub mod users;

use crate::auth::Actor;
use crate::state::AppState;

/// Rows of a customer-owned table as the caller may list them: their own
/// rows (all rows for staff), optionally of one `status`, then `order_limit`
/// (`ORDER BY … LIMIT …`, trusted text).
pub async fn list_scoped(
    state: &AppState,
    actor: &Actor,
    columns: &str,
    table: &str,
    status: Option<&str>,
    order_limit: &str,
) -> Result<Vec<sqlx::any::AnyRow>, sqlx::Error> {
    let mut sql = format!("SELECT {columns} FROM {table} WHERE 1 = 1");
    let mut binds = Vec::new();
    if !actor.is_staff() {
        binds.push(actor.user_id.to_string());
        sql.push_str(&format!(" AND customer_id = ${}", binds.len()));
    }
    if let Some(s) = status {
        binds.push(s.to_owned());
        sql.push_str(&format!(" AND status = ${}", binds.len()));
    }
    sql.push(' ');
    sql.push_str(order_limit);
    let mut query = sqlx::query(&sql);
    for b in binds {
        query = query.bind(b);
    }
    query.fetch_all(state.db.pool()).await
}
