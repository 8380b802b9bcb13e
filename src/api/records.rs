//! `GET /api/{artists,labels,masters,releases}/{id}`: the canonical record, straight from
//! PostgreSQL's `data` column.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;

use super::cache::json_response;
use super::{ApiError, AppState, params};
use crate::record::Kind;
use crate::store::postgres;

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
    let id = params::id("id", &id)?;
    let client = state.postgres.get().await?;
    let rows = postgres::query(
        &client,
        &format!("SELECT data::text FROM {} WHERE id = $1", kind.as_str()),
        &[&id],
    )
    .await?;
    match rows.first() {
        Some(row) => Ok(json_response(row.get::<_, String>(0))),
        None => Err(ApiError::NotFound(format!("{} {id}", kind.singular()))),
    }
}
