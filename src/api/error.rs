//! The API's one error type; every variant is a JSON response with a fitting status. The
//! framework's own error answers are made JSON too ([`json_errors`]).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use crate::store::{neo4j, postgres};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a parameter is missing, malformed or out of range; names the parameter.
    #[error("invalid parameter {parameter}: {reason}")]
    BadParameter {
        parameter: &'static str,
        reason: String,
    },
    /// 403: the caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: the entity does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// 422: the entity exists but has too little data for the answer (a label or artist with
    /// too few releases to profile).
    #[error("{0}")]
    Unprocessable(String),
    /// 503: a database needed for the answer is unreachable.
    #[error("{0}")]
    Unavailable(String),
    /// 500: anything else; logged, and sent without detail.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A copy of an error shared between coalesced requests (the cache hands out `Arc`s).
    pub fn duplicate(&self) -> ApiError {
        match self {
            ApiError::BadParameter { parameter, reason } => ApiError::BadParameter {
                parameter,
                reason: reason.clone(),
            },
            ApiError::Forbidden(why) => ApiError::Forbidden(why.clone()),
            ApiError::NotFound(what) => ApiError::NotFound(what.clone()),
            ApiError::Unprocessable(why) => ApiError::Unprocessable(why.clone()),
            ApiError::Unavailable(what) => ApiError::Unavailable(what.clone()),
            ApiError::Internal(error) => {
                ApiError::Internal(anyhow::anyhow!(crate::telemetry::one_line(error.as_ref())))
            }
        }
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(error: deadpool_postgres::PoolError) -> ApiError {
        ApiError::Unavailable(format!("PostgreSQL: {}", postgres::root_cause(&error)))
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(error: tokio_postgres::Error) -> ApiError {
        use tokio_postgres::error::SqlState;
        let code = error.code();
        if postgres::is_transient(&error) {
            ApiError::Unavailable(format!("PostgreSQL: {}", postgres::root_cause(&error)))
        } else if code.is_some_and(|code| {
            [
                SqlState::UNDEFINED_TABLE,
                SqlState::UNDEFINED_COLUMN,
                SqlState::UNDEFINED_FUNCTION,
            ]
            .contains(code)
        }) {
            ApiError::Unavailable(
                "PostgreSQL is not migrated to this version yet (run `discogs migrate`, or wait for the ingest)"
                    .to_owned(),
            )
        } else {
            ApiError::Internal(error.into())
        }
    }
}

impl From<postgres::Error> for ApiError {
    fn from(error: postgres::Error) -> ApiError {
        match error {
            postgres::Error::Query(error) => error.into(),
            postgres::Error::Pool(error) => error.into(),
            postgres::Error::Connect { .. } => ApiError::Unavailable(error.to_string()),
        }
    }
}

impl From<neo4j::Error> for ApiError {
    fn from(error: neo4j::Error) -> ApiError {
        match &error {
            neo4j::Error::Connect { .. } | neo4j::Error::Timeout { .. } => {
                ApiError::Unavailable(error.to_string())
            }
            neo4j::Error::Query(driver) if error.is_transient() => {
                ApiError::Unavailable(format!("Neo4j: {driver}"))
            }
            _ => ApiError::Internal(error.into()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match &self {
            ApiError::BadParameter { parameter, .. } => (
                StatusCode::BAD_REQUEST,
                json!({"error": self.to_string(), "parameter": parameter}),
            ),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, json!({"error": self.to_string()})),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, json!({"error": self.to_string()})),
            ApiError::Unprocessable(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({"error": self.to_string()}),
            ),
            ApiError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({"error": self.to_string()}),
            ),
            ApiError::Internal(error) => {
                tracing::error!(
                    error = crate::telemetry::one_line(error.as_ref()),
                    "request failed"
                );
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal error"}),
                )
            }
        };
        (status, Json(body)).into_response()
    }
}

/// The most of a framework error body kept as the JSON error's text.
const FRAMEWORK_ERROR_BYTES: usize = 4096;

/// Gives every error answer that is not JSON yet the shape of [`ApiError`]'s: the framework's own
/// for a route that does not exist (404), a wrong method (405, its `Allow` header kept), or a path
/// segment or query string that cannot be read (400, e.g. not UTF-8).
pub async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|kind| kind.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, FRAMEWORK_ERROR_BYTES)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_owned())
        .unwrap_or_default();
    let error = match status {
        StatusCode::NOT_FOUND => format!("no route {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("{method} is not allowed on {path}"),
        _ if !text.is_empty() => text,
        _ => status.canonical_reason().unwrap_or("error").to_owned(),
    };
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.remove(CONTENT_LENGTH);
    let mut answer = Json(json!({ "error": error })).into_response();
    *answer.status_mut() = status;
    answer.headers_mut().extend(parts.headers);
    answer
}

/// Answers 503 for a request still unanswered after [`AppState::request_timeout`]: a client is
/// never held by a runaway question, and a shutdown waits for no request longer than that. Only
/// the waiting stops: Neo4j queries run in tasks of their own (see `store::neo4j`) and finish by
/// themselves, so no Bolt exchange is cut short; a PostgreSQL query's answer is drained by its
/// connection.
pub async fn time_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(state.request_timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable(format!(
            "no answer within {} s; try again, or ask a narrower question",
            state.request_timeout.as_secs_f64()
        ))
        .into_response(),
    }
}
