//! The dispatcher: one task turns committed feed rows into routed pokes.
//!
//! It wakes on `AppState::feed_head` (moved after every commit), reads the
//! rows past the last one it saw (one query per wake-up, however many
//! connections are open) and hands them together to the [`Hub`](super::Hub),
//! which decides who hears of them: each connection one poke per wake-up,
//! with the highest sequence it may see.

use sqlx::Row;

use crate::db::opt_uuid;
use crate::state::AppState;

/// Starts the dispatcher for the server's lifetime.
pub fn spawn_dispatcher(state: AppState) {
    let mut head = state.feed_head.subscribe();
    tokio::spawn(async move {
        let mut last: i64 = *head.borrow();
        while head.changed().await.is_ok() {
            let rows = match sqlx::query(
                "SELECT seq, customer_id, staff_only FROM changes WHERE seq > $1 ORDER BY seq",
            )
            .bind(last)
            .fetch_all(state.db.pool())
            .await
            {
                Ok(rows) => rows,
                Err(err) => {
                    tracing::warn!(error = %err, "live dispatcher: reading the feed failed");
                    continue;
                }
            };
            // One poke per connection for everything this wake-up read
            // (one commit or more), not one per row.
            let mut changes = Vec::with_capacity(rows.len());
            for r in rows {
                let (Ok(seq), Ok(customer), Ok(staff_only)) = (
                    r.try_get::<i64, _>("seq"),
                    r.try_get::<Option<String>, _>("customer_id"),
                    r.try_get::<i64, _>("staff_only"),
                ) else {
                    continue;
                };
                last = last.max(seq);
                changes.push((seq, opt_uuid(customer).ok().flatten(), staff_only != 0));
            }
            state.hub.publish_changes(&changes);
            tracing::debug!(target: "hop", rows = changes.len(), "poked");
        }
    });
}
