//! Operational routes: `/health` (process alive), `/ready` (both databases answer), `/metrics`,
//! and `DELETE /api/cache` (drop cached answers; from this machine only).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};
use crate::store::postgres;

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

/// 200 when both databases answer; otherwise 503, naming the failing one(s) in `error`.
async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (pg, graph) = tokio::join!(postgres::ping(&state.postgres), state.neo4j.ping());
    let checks = [
        ("postgres", pg.map_err(|e| postgres::root_cause(&e))),
        ("neo4j", graph.map_err(|e| e.to_string())),
    ];
    let mut body = json!({"status": "ready"});
    let mut down = Vec::new();
    for (name, result) in checks {
        body[name] = match result {
            Ok(()) => json!({"status": "ok"}),
            Err(error) => {
                down.push(name);
                json!({"status": "unavailable", "error": error})
            }
        };
    }
    if down.is_empty() {
        return (StatusCode::OK, Json(body));
    }
    body["status"] = json!("unavailable");
    body["error"] = json!(format!("unavailable: {}", down.join(", ")));
    (StatusCode::SERVICE_UNAVAILABLE, Json(body))
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
