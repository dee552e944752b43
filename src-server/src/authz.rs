//! Authorization: who may see what. One place for the rules, used by the
//! routes, the chat writes, sync, the live socket and the live hub alike
//! (the hub through [`routing`], which depends on nothing else in the
//! crate, so the hub stays a pure leaf).
//!
//! A customer sees their own support data; staff see everyone's. Something
//! a caller may not see is answered 404, as if it did not exist, so a
//! customer cannot learn that another's order or conversation exists.

use mostrador_core::chat::Conversation;
use mostrador_core::orders::Order;
use uuid::Uuid;

use crate::auth::Actor;
use crate::error::{AppError, AppResult};
use crate::routes::chat::data::load_conversation;
use crate::routes::orders::data::load_order;

pub mod routing;

pub use routing::may_receive;

impl Actor {
    /// May this actor see support data belonging to `customer_id`?
    pub fn can_see_customer(&self, customer_id: Uuid) -> bool {
        self.is_staff() || self.user_id == customer_id
    }
}

/// The conversation if `actor` may see it; 404 otherwise.
pub async fn visible_conversation(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Conversation> {
    match load_conversation(conn, id).await? {
        Some(c) if actor.can_see_customer(c.customer_id) => Ok(c),
        _ => Err(AppError::not_found("conversation")),
    }
}

/// The order (with its timeline) if `actor` may see it; 404 otherwise. An
/// order no customer claims yet is for staff only.
pub async fn visible_order(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    id: Uuid,
) -> AppResult<Order> {
    let visible = |o: &Order| match o.customer_id {
        Some(customer) => actor.can_see_customer(customer),
        None => actor.is_staff(),
    };
    match load_order(conn, id).await? {
        Some(o) if visible(&o) => Ok(o),
        _ => Err(AppError::not_found("order")),
    }
}
