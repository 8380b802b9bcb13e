//! `GET /api/nlq/status`, `GET /api/nlq/suggestions`, `POST /api/nlq/query`: natural-language
//! questions, which we do not answer. The routes exist so that clients of the service we replace,
//! which probe them, see the feature switched off and hide it.

use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/nlq/status", get(status))
        .route("/api/nlq/suggestions", get(suggestions))
        .route("/api/nlq/query", post(ask))
}

async fn status() -> Json<Value> {
    Json(json!({"enabled": false}))
}

async fn suggestions() -> Json<Value> {
    Json(json!({"suggestions": []}))
}

async fn ask() -> ApiError {
    ApiError::Unavailable("NLQ is not available".to_owned())
}
