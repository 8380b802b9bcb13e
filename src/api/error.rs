//! The API's one error type; every variant is a JSON response with a fitting status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a parameter is missing, malformed or out of range; names the parameter.
    #[error("invalid parameter {parameter}: {reason}")]
    BadParameter {
        parameter: &'static str,
        reason: String,
    },
    /// 404: the entity does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// 503: a database needed for the answer is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else; logged, and sent without detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::BadParameter { parameter, .. } => (
                StatusCode::BAD_REQUEST,
                json!({"error": self.to_string(), "parameter": parameter}),
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, json!({"error": self.to_string()})),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": self.to_string()}),
            ),
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal error"}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}
