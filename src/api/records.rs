//! `GET /api/{artists,labels,masters,releases}/{id}`: the canonical record, straight from
//! PostgreSQL's `data` column.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{ApiError, AppState};
use crate::record::Kind;

pub fn router() -> Router<AppState> {
    let mut router = Router::new();
    for kind in Kind::ALL {
        router = router.route(
            &format!("/api/{kind}/{{id}}"),
            get(move |state: State<AppState>, Path(id): Path<String>| record(kind, state, id)),
        );
    }
    router
}

/// The stored JSON text is sent as is: it is already the canonical compact form.
async fn record(
    kind: Kind,
    State(state): State<AppState>,
    id: String,
) -> Result<Response, ApiError> {
    let id: i64 = id
        .parse()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::BadParameter {
            parameter: "id",
            reason: format!("{id:?} is not a positive integer"),
        })?;
    let client = state
        .postgres
        .get()
        .await
        .map_err(|e| ApiError::Unavailable(format!("PostgreSQL: {e}")))?;
    let row = client
        .query_opt(
            &format!("SELECT data::text FROM {} WHERE id = $1", kind.as_str()),
            &[&id],
        )
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    match row {
        Some(row) => Ok((
            [(CONTENT_TYPE, "application/json")],
            row.get::<_, String>(0),
        )
            .into_response()),
        None => Err(ApiError::NotFound(format!("{} {id}", kind.singular()))),
    }
}
