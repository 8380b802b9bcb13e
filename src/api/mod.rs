//! The HTTP API: [`router`] builds it, [`serve`] runs it until shutdown.
//!
//! Each resource module exposes a `router()`: `ops` (health, readiness, metrics, cache clearing),
//! `records` (the canonical record by id, from PostgreSQL), `search` (autocomplete and full-text
//! search, PostgreSQL), `explore` (explore, expand), `node` (node, trends, collaborators), `path`
//! and `overview` (year range, genre emergence, genre tree, graph stats) from Neo4j, `credits`
//! (people's credits, PostgreSQL), `insights` (catalogue insights the ingest computes), `labels`
//! (label DNA and similar labels) and `network` (collaborators, centrality, clusters, similar
//! artists), both from the profiles the ingest counts, `nlq` (natural-language questions,
//! switched off), `openapi`, and `explorer` (the web explorer at `/`, files compiled in). This
//! file merges them over one [`AppState`] and adds the layers every route shares (request
//! metrics, a time limit, JSON for the framework's own errors). Shared pieces: `params` (validated query parameters), `cache`
//! (the generation-keyed response cache), `entity` (node types, lookups by name and id), `error`.

mod cache;
mod credits;
mod entity;
mod error;
mod explore;
mod explorer;
mod insights;
mod labels;
mod network;
mod nlq;
mod node;
mod openapi;
mod ops;
mod overview;
mod params;
mod path;
mod records;
mod search;
mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Instant;

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tokio::net::TcpListener;

pub use cache::ResponseCache;
pub use error::ApiError;
pub use state::AppState;

use crate::store::explain::Recorder;
use crate::telemetry;

/// The whole API over one state.
pub fn router(state: AppState) -> Router {
    let time_limit = middleware::from_fn_with_state(state.clone(), error::time_limit);
    Router::new()
        .merge(ops::router())
        .merge(records::router())
        .merge(search::router())
        .merge(explore::router())
        .merge(node::router())
        .merge(path::router())
        .merge(overview::router())
        .merge(credits::router())
        .merge(insights::router())
        .merge(labels::router())
        .merge(network::router())
        .merge(nlq::router())
        .merge(openapi::router())
        .merge(explorer::router())
        .layer(time_limit)
        .layer(middleware::from_fn(error::json_errors))
        .layer(middleware::from_fn(explain))
        .layer(middleware::from_fn(record_request))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` resolves, then drains open requests.
///
/// # Errors
///
/// The listener failed.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "API listening");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Counts each request and times it, labelled by its route pattern (not the raw path, whose ids
/// would make the label set unbounded).
async fn record_request(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(telemetry::HTTP_REQUESTS, "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(telemetry::HTTP_REQUEST_SECONDS, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The request header that asks for the statements behind an answer instead of the answer.
pub const EXPLAIN_HEADER: &str = "x-discogs-explain";

/// For a request with [`EXPLAIN_HEADER`] from this machine (`discogs perftest --explain`): runs
/// it with a statement recorder in scope and the cache bypassed, and answers
/// `{"status", "statements": [{store, text, parameters, plan}]}` instead of the answer.
async fn explain(request: Request, next: Next) -> Response {
    let from_this_machine = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().to_canonical().is_loopback());
    if !from_this_machine || !request.headers().contains_key(EXPLAIN_HEADER) {
        return next.run(request).await;
    }
    let recorder = Recorder::default();
    let response = Recorder::scope(Some(recorder.clone()), next.run(request)).await;
    Json(json!({"status": response.status().as_u16(), "statements": recorder.take()}))
        .into_response()
}
