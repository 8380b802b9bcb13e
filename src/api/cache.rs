//! The response cache: serialized JSON answers of the expensive routes, in a moka cache keyed by
//! the ingest generation and the request.
//!
//! The generation is read from PostgreSQL on every lookup (one indexed single-row read), so an
//! answer computed before the latest completed ingest is never served, whichever process ran that
//! ingest. It is read from the primary: when the API reads from a replica, a miss first waits
//! (briefly) for the replica to have replayed that generation, so that no answer computed from
//! older data is cached under a newer generation. With the generation comes the graph's bookmark
//! as that ingest left it, which graph reads through a routing URI carry from then on, so no
//! Neo4j cluster member behind those writes answers them either. Concurrent misses on one key wait for a single
//! computation (moka's entry API coalesces them; they count as hits), and the computation runs in its own task so that a
//! client hanging up cannot cancel a database query half-way (if the first caller goes, a waiting
//! one computes again). At most [`CONCURRENT_COMPUTATIONS`] answers are computed at once, so
//! a burst of distinct cold requests queues here instead of exhausting the database pools.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use deadpool_postgres::Pool;
use moka::future::Cache;
use serde::Serialize;
use tokio::sync::Semaphore;

use super::ApiError;
use crate::store::bookkeeping;
use crate::store::explain::Recorder;
use crate::store::neo4j::Neo4j;
use crate::telemetry;

/// Bytes of JSON the cache may hold.
const CAPACITY_BYTES: u64 = 256 * 1024 * 1024;

/// Answers computed at once: half of each store's connection pool, leaving the rest to cache
/// lookups and record reads.
pub const CONCURRENT_COMPUTATIONS: usize = 8;

/// How long a miss waits for a lagging replica before it is answered 503, and how often it looks.
const REPLICA_WAIT: Duration = Duration::from_secs(5);
const REPLICA_POLL: Duration = Duration::from_millis(50);

/// One cached answer's key: the generation it was computed in, the route, and the request's
/// validated parameters in a fixed form.
type Key = (i64, &'static str, String);

#[derive(Clone)]
pub struct ResponseCache {
    entries: Cache<Key, Bytes>,
    /// The newest generation seen, so the entries of older ones can be dropped at once.
    generation: Arc<AtomicI64>,
    computing: Arc<Semaphore>,
    /// Where the generation is read: the database the ingest writes.
    primary: Pool,
    /// The read-only replica the API reads from, if it reads from one.
    replica: Option<Pool>,
    /// The graph the answers read, told each new generation's bookmark.
    neo4j: Neo4j,
}

impl ResponseCache {
    /// An empty cache whose generations come from `primary`; `replica` is where the answers are
    /// computed from, when not from `primary`, and `neo4j` the graph they read.
    pub fn new(primary: Pool, replica: Option<Pool>, neo4j: Neo4j) -> ResponseCache {
        ResponseCache {
            entries: Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|key: &Key, value: &Bytes| {
                    u32::try_from(key.2.len() + value.len()).unwrap_or(u32::MAX)
                })
                .build(),
            generation: Arc::new(AtomicI64::new(-1)),
            computing: Arc::new(Semaphore::new(CONCURRENT_COMPUTATIONS)),
            primary,
            replica,
            neo4j,
        }
    }
}

impl ResponseCache {
    /// The cached answer for `(route, request)` in the current generation, or `compute`'s,
    /// which is then cached. Errors are not cached.
    ///
    /// # Errors
    ///
    /// PostgreSQL cannot tell the generation, the replica lags behind it for longer than
    /// [`REPLICA_WAIT`], or `compute` failed.
    pub async fn get_or_compute<T, F>(
        &self,
        route: &'static str,
        request: String,
        compute: F,
    ) -> Result<Response, ApiError>
    where
        T: Serialize,
        F: Future<Output = Result<T, ApiError>> + Send + 'static,
        T: Send + 'static,
    {
        if let Some(recorder) = Recorder::current() {
            // An explained request runs its statements, whatever the cache holds.
            let answer = tokio::spawn(Recorder::scope(Some(recorder), compute))
                .await
                .map_err(|e| ApiError::Internal(e.into()))??;
            let body = serde_json::to_vec(&answer).map_err(|e| ApiError::Internal(e.into()))?;
            return Ok(json_response(body));
        }
        let generation = self.current_generation().await?;
        let computing = self.computing.clone();
        let replica = self.replica.clone();
        let entry = self
            .entries
            .entry((generation, route, request))
            .or_try_insert_with(async move {
                if let Some(replica) = &replica {
                    await_replay(replica, generation).await?;
                }
                let answer = tokio::spawn(async move {
                    let _permit = computing.acquire_owned().await;
                    compute.await
                })
                .await
                .map_err(|e| ApiError::Internal(e.into()))??;
                serde_json::to_vec(&answer)
                    .map(Bytes::from)
                    .map_err(|e| ApiError::Internal(e.into()))
            })
            .await
            .map_err(|shared| shared.as_ref().duplicate())?;
        let outcome = if entry.is_fresh() { "miss" } else { "hit" };
        metrics::counter!(telemetry::API_CACHE, "route" => route, "outcome" => outcome)
            .increment(1);
        Ok(json_response(entry.into_value()))
    }

    /// Drops every cached answer (the perftest's cold runs start from here).
    pub fn clear(&self) {
        self.entries.invalidate_all();
    }

    async fn current_generation(&self) -> Result<i64, ApiError> {
        let published = bookkeeping::published(&self.primary).await?;
        let generation = published.generation;
        if self.generation.fetch_max(generation, Ordering::Relaxed) < generation {
            // Before anything of this generation is computed: every read from here on sees
            // its graph (a newer generation's bookmark, should one overtake it, covers it too).
            self.neo4j.read_after(published.graph_bookmark);
            self.entries.invalidate_all();
        }
        Ok(generation)
    }
}

/// Waits until `replica` has replayed `generation` (the primary's), for up to [`REPLICA_WAIT`].
///
/// # Errors
///
/// The replica cannot tell its generation, or is still behind ([`ApiError::Unavailable`]).
async fn await_replay(replica: &Pool, generation: i64) -> Result<(), ApiError> {
    let deadline = tokio::time::Instant::now() + REPLICA_WAIT;
    loop {
        let replayed = bookkeeping::generation(replica).await?;
        if replayed >= generation {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(ApiError::Unavailable(format!(
                "the PostgreSQL replica has replayed generation {replayed}, the primary is at {generation}: \
                 answers wait until it catches up"
            )));
        }
        tokio::time::sleep(REPLICA_POLL).await;
    }
}

/// Serialized JSON as a response.
pub fn json_response(body: impl Into<Bytes>) -> Response {
    ([(CONTENT_TYPE, "application/json")], body.into()).into_response()
}
