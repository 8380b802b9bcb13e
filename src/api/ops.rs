//! Operational routes: `/health` (process alive), `/ready` (both databases answer), `/metrics`,
//! and `DELETE /api/cache` (drop cached answers; from this machine only).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use axum::{Json, Router};
use deadpool_postgres::Pool;
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::store::{bookkeeping, postgres};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/api/cache", delete(clear_cache))
}

async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// 200 when both databases answer (and the PostgreSQL replica the API reads from, if it reads
/// from one); otherwise 503, naming the failing one(s) in `error`. A replica's entry also says
/// how many generations it trails the primary by: answers wait for it (see the cache), so a
/// lagging replica is slow for a moment, not wrong.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let primary = state.postgres_primary.as_ref().unwrap_or(&state.postgres);
    let replica = state.postgres_primary.as_ref().map(|_| &state.postgres);
    let (pg, graph, replicated) = tokio::join!(
        postgres::ping(primary),
        state.neo4j.ping(),
        generations_behind(primary, replica)
    );
    let mut checks = vec![
        (
            "postgres",
            pg.map_err(|e| postgres::root_cause(&e))
                .map(|()| json!({"status": "ok"})),
        ),
        (
            "neo4j",
            graph
                .map_err(|e| e.to_string())
                .map(|()| json!({"status": "ok"})),
        ),
    ];
    if let Some(replicated) = replicated {
        checks.push((
            "postgres_replica",
            replicated.map(|behind| json!({"status": "ok", "generations_behind": behind})),
        ));
    }
    let mut body = json!({"status": "ready"});
    let mut down = Vec::new();
    for (name, result) in checks {
        body[name] = result.unwrap_or_else(|error| {
            down.push(name);
            json!({"status": "unavailable", "error": error})
        });
    }
    if down.is_empty() {
        return (StatusCode::OK, Json(body));
    }
    body["status"] = json!("unavailable");
    body["error"] = json!(format!("unavailable: {}", down.join(", ")));
    (StatusCode::SERVICE_UNAVAILABLE, Json(body))
}

/// How many generations `replica` trails `primary` by (unknown while the primary fails, which is
/// its own entry's to say); `None` without a replica.
async fn generations_behind(
    primary: &Pool,
    replica: Option<&Pool>,
) -> Option<Result<Option<i64>, String>> {
    let replica = replica?;
    let (primary, replica) = tokio::join!(
        bookkeeping::generation(primary),
        bookkeeping::generation(replica)
    );
    Some(match (primary, replica) {
        (Ok(primary), Ok(replica)) => Ok(Some((primary - replica).max(0))),
        (Err(_), Ok(_)) => Ok(None),
        (_, Err(error)) => Err(postgres::root_cause(&error)),
    })
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

/// Empties the response cache, so the next answers are computed afresh (the perftest's cold
/// runs). Only a client on this machine may: a remote one could otherwise keep the API cold.
async fn clear_cache(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Result<Json<Value>, ApiError> {
    if !peer.ip().to_canonical().is_loopback() {
        return Err(ApiError::Forbidden(
            "the cache can only be cleared from the server's own machine".to_owned(),
        ));
    }
    state.cache.clear();
    Ok(Json(json!({"status": "cleared"})))
}
