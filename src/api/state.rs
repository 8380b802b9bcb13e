//! The state every handler shares; cheap to clone.

use std::time::Duration;

use deadpool_postgres::Pool;
use metrics_exporter_prometheus::PrometheusHandle;

use super::ResponseCache;
use crate::config::Config;
use crate::store::{neo4j::Neo4j, postgres};
use crate::telemetry;

#[derive(Clone)]
pub struct AppState {
    /// Where the API reads: the replica of `postgres.read_url` if one is set, else the primary.
    pub postgres: Pool,
    /// The primary, when `postgres` is a replica; the generation is read from it.
    pub postgres_primary: Option<Pool>,
    pub neo4j: Neo4j,
    pub metrics: PrometheusHandle,
    pub cache: ResponseCache,
    pub request_timeout: Duration,
    /// Matches of each type a search reads at most (see `search::run_search`).
    pub search_exact_matches: i64,
}

impl AppState {
    /// Pools for both stores (connecting lazily; a second one for PostgreSQL's replica when the
    /// API reads from one), the metrics recorder and an empty cache.
    ///
    /// # Errors
    ///
    /// A pool cannot be built from the settings.
    pub fn new(config: &Config) -> anyhow::Result<AppState> {
        let primary = postgres::api_pool(&config.postgres)?;
        let replica = postgres::api_replica_pool(&config.postgres)?;
        let neo4j = Neo4j::new(&config.neo4j)?;
        Ok(AppState {
            cache: ResponseCache::new(primary.clone(), replica.clone(), neo4j.clone()),
            postgres: replica.clone().unwrap_or_else(|| primary.clone()),
            postgres_primary: replica.map(|_| primary),
            neo4j,
            metrics: telemetry::metrics(),
            request_timeout: config.request_timeout,
            search_exact_matches: config.search_exact_matches,
        })
    }
}
