//! Support staff's tools: canned responses (admins manage, staff read),
//! whether an agent is available (anyone signed in), and live metrics
//! (staff).

use axum::extract::State;
use axum::http::StatusCode;
use mostrador_core::agent::{AgentInfo, Availability, CannedResponse, Medians, Metrics, PutCanned};
use sqlx::Row;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::Actor;
use crate::db::{now_ms, uuid};
use crate::error::AppResult;
use crate::extract::{check_text, invalid, Json, Path};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_canned))
        .routes(routes!(put_canned, delete_canned))
        .routes(routes!(availability))
        .routes(routes!(metrics))
        .routes(routes!(agents))
}

/// Active support staff and whether each is available now (to assign).
#[utoipa::path(get, path = "/api/v1/agents", tag = "agent", security(("bearer" = [])),
    responses((status = 200, body = Vec<AgentInfo>), (status = 403, body = mostrador_core::ApiError)))]
pub async fn agents(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<Vec<AgentInfo>>> {
    actor.require_staff()?;
    let available = state.hub.available_staff();
    let rows = sqlx::query(
        "SELECT id, display_name FROM users WHERE role IN ('agent', 'admin') AND disabled = 0 ORDER BY display_name, id",
    )
    .fetch_all(state.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = uuid(&r.try_get::<String, _>("id")?)?;
        out.push(AgentInfo {
            id,
            name: r.try_get("display_name")?,
            available: available.contains(&id),
        });
    }
    Ok(Json(out))
}

const MAX_TITLE: usize = mostrador_core::agent::MAX_CANNED_TITLE_CHARS;
const MAX_BODY: usize = mostrador_core::agent::MAX_CANNED_BODY_CHARS;

/// Saved replies, by title.
#[utoipa::path(get, path = "/api/v1/canned", tag = "agent", security(("bearer" = [])),
    responses((status = 200, body = Vec<CannedResponse>), (status = 403, body = mostrador_core::ApiError)))]
pub async fn list_canned(
    State(state): State<AppState>,
    actor: Actor,
) -> AppResult<Json<Vec<CannedResponse>>> {
    actor.require_staff()?;
    let rows = sqlx::query("SELECT id, title, body FROM canned_responses ORDER BY title, id")
        .fetch_all(state.db.pool())
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(CannedResponse {
            id: uuid(&r.try_get::<String, _>("id")?)?,
            title: r.try_get("title")?,
            body: r.try_get("body")?,
        });
    }
    Ok(Json(out))
}

/// Creates or replaces a saved reply (admins).
#[utoipa::path(put, path = "/api/v1/canned/{id}", tag = "agent", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = PutCanned,
    responses((status = 200, body = CannedResponse), (status = 403, body = mostrador_core::ApiError), (status = 422, body = mostrador_core::ApiError)))]
pub async fn put_canned(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
    Json(req): Json<PutCanned>,
) -> AppResult<Json<CannedResponse>> {
    actor.require_admin()?;
    let title = req.title.trim();
    let body = req.body.trim();
    if title.is_empty() {
        return Err(invalid("title", "required"));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(invalid("title", "too_long"));
    }
    if body.is_empty() {
        return Err(invalid("body", "required"));
    }
    if body.chars().count() > MAX_BODY {
        return Err(invalid("body", "too_long"));
    }
    check_text("title", title)?;
    check_text("body", body)?;
    let mut tx = state.db.begin_write().await?;
    sqlx::query(
        "INSERT INTO canned_responses (id, title, body, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, updated_at = excluded.updated_at",
    )
    .bind(id.to_string())
    .bind(title)
    .bind(body)
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Json(CannedResponse {
        id,
        title: title.to_owned(),
        body: body.to_owned(),
    }))
}

/// Removes a saved reply (admins); removing one that is gone is fine.
#[utoipa::path(delete, path = "/api/v1/canned/{id}", tag = "agent", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = mostrador_core::ApiError)))]
pub async fn delete_canned(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<Uuid>,
) -> AppResult<StatusCode> {
    actor.require_admin()?;
    let mut tx = state.db.begin_write().await?;
    sqlx::query("DELETE FROM canned_responses WHERE id = $1")
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many agents could take a new conversation now (available, under
/// their limit). A shopper told "none" is offered a callback.
#[utoipa::path(get, path = "/api/v1/support/availability", tag = "agent", security(("bearer" = [])),
    responses((status = 200, body = Availability), (status = 401, body = mostrador_core::ApiError)))]
pub async fn availability(
    State(state): State<AppState>,
    _actor: Actor,
) -> AppResult<Json<Availability>> {
    let available = state.hub.available_staff();
    if available.is_empty() {
        return Ok(Json(Availability {
            agents_available: 0,
        }));
    }
    let rows = sqlx::query(
        "SELECT assigned_agent_id, COUNT(*) AS n FROM conversations
         WHERE status <> 'resolved' AND assigned_agent_id IS NOT NULL GROUP BY assigned_agent_id",
    )
    .fetch_all(state.db.pool())
    .await?;
    let mut busy = std::collections::HashMap::new();
    for r in rows {
        busy.insert(
            r.try_get::<String, _>("assigned_agent_id")?,
            r.try_get::<i64, _>("n")?,
        );
    }
    let n = available
        .iter()
        .filter(|a| busy.get(&a.to_string()).copied().unwrap_or(0) < state.config.agent_max_open)
        .count();
    Ok(Json(Availability {
        agents_available: n as i64,
    }))
}

const DAY_MS: i64 = 24 * 3600 * 1000;

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    })
}

/// Open and waiting conversations, median first response and resolution
/// times (today and the last 7 days), satisfaction, callbacks and
/// conversations opened per day, computed now.
#[utoipa::path(get, path = "/api/v1/metrics", tag = "agent", security(("bearer" = [])),
    responses((status = 200, body = Metrics), (status = 403, body = mostrador_core::ApiError)))]
pub async fn metrics(State(state): State<AppState>, actor: Actor) -> AppResult<Json<Metrics>> {
    actor.require_staff()?;
    Ok(Json(compute(&state, now_ms()).await?))
}

/// The metrics as of `now` (unix ms).
pub async fn compute(state: &AppState, now: i64) -> AppResult<Metrics> {
    let pool = state.db.pool();
    let open: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE status <> 'resolved'")
            .fetch_one(pool)
            .await?;
    let unassigned: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations WHERE status <> 'resolved' AND assigned_agent_id IS NULL",
    )
    .fetch_one(pool)
    .await?;
    let waiting: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations c WHERE c.status <> 'resolved' AND (
            SELECT m.author_role FROM messages m
            WHERE m.conversation_id = c.id AND m.kind = 'text'
            ORDER BY m.created_at DESC, m.id DESC LIMIT 1) = 'customer'",
    )
    .fetch_one(pool)
    .await?;

    // Per conversation of the last 7 days: created, first staff reply, resolved.
    let week_start = now - 7 * DAY_MS;
    let day_start = now - now.rem_euclid(DAY_MS);
    let rows = sqlx::query(
        "SELECT c.created_at, c.status, c.resolved_at, c.updated_at,
            (SELECT MIN(m.created_at) FROM messages m
             WHERE m.conversation_id = c.id AND m.kind = 'text' AND m.author_role <> 'customer') AS first_reply
         FROM conversations c WHERE c.created_at >= $1",
    )
    .bind(week_start)
    .fetch_all(pool)
    .await?;
    let mut per_day = vec![0i64; 7];
    let (mut fr_today, mut fr_week, mut res_today, mut res_week) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut n_today, mut n_week) = (0, 0);
    for r in rows {
        let created: i64 = r.try_get("created_at")?;
        let first_reply: Option<i64> = r.try_get("first_reply")?;
        let status: String = r.try_get("status")?;
        let resolved_at: Option<i64> = r.try_get("resolved_at")?;
        let updated_at: i64 = r.try_get("updated_at")?;
        let resolved = (status == "resolved").then(|| resolved_at.unwrap_or(updated_at));
        let today = created >= day_start;
        n_week += 1;
        if today {
            n_today += 1;
        }
        if let Some(f) = first_reply {
            fr_week.push(f - created);
            if today {
                fr_today.push(f - created);
            }
        }
        if let Some(r) = resolved {
            res_week.push(r - created);
            if today {
                res_today.push(r - created);
            }
        }
        let days_ago = ((day_start + DAY_MS - 1 - created) / DAY_MS).clamp(0, 6) as usize;
        per_day[6 - days_ago] += 1;
    }

    let mut satisfaction = [0i64; 5];
    let ratings = sqlx::query(
        "SELECT rating_score, COUNT(*) AS n FROM conversations WHERE rating_score IS NOT NULL GROUP BY rating_score",
    )
    .fetch_all(pool)
    .await?;
    let (mut sum, mut count) = (0i64, 0i64);
    for r in ratings {
        let score: i64 = r.try_get("rating_score")?;
        let n: i64 = r.try_get("n")?;
        if mostrador_core::chat::Rating::SCORES.contains(&score) {
            satisfaction[(score - 1) as usize] += n;
            sum += score * n;
            count += n;
        }
    }
    let callbacks = |status: &'static str| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM callbacks WHERE status = $1 AND updated_at >= $2",
        )
        .bind(status)
        .bind(week_start)
        .fetch_one(pool)
    };
    let callbacks_completed = callbacks("completed").await?;
    let callbacks_missed = callbacks("missed").await?;
    Ok(Metrics {
        open,
        waiting,
        unassigned,
        today: Medians {
            first_response_ms: median(fr_today),
            resolution_ms: median(res_today),
            conversations: n_today,
        },
        last_7_days: Medians {
            first_response_ms: median(fr_week),
            resolution_ms: median(res_week),
            conversations: n_week,
        },
        satisfaction_avg: (count > 0).then(|| sum as f64 / count as f64),
        satisfaction,
        callbacks_completed,
        callbacks_missed,
        opened_per_day: per_day,
    })
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians_of_odd_even_and_empty_sets() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 1, 3, 2]), Some(2));
    }
}
