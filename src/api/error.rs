//! The API's one error type; every variant is a JSON response with a fitting status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

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
            ApiError::Unavailable(what) => ApiError::Unavailable(what.clone()),
            ApiError::Internal(error) => ApiError::Internal(anyhow::anyhow!("{error:#}")),
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
