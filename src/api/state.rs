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
    pub postgres: Pool,
    pub neo4j: Neo4j,
    pub metrics: PrometheusHandle,
    pub cache: ResponseCache,
    pub request_timeout: Duration,
}

impl AppState {
    /// Pools for both stores (connecting lazily), the metrics recorder and an empty cache.
    ///
    /// # Errors
    ///
    /// A pool cannot be built from the settings.
    pub fn new(config: &Config) -> anyhow::Result<AppState> {
        Ok(AppState {
            postgres: postgres::api_pool(&config.postgres)?,
            neo4j: Neo4j::new(&config.neo4j)?,
            metrics: telemetry::metrics(),
            cache: ResponseCache::default(),
            request_timeout: config.request_timeout,
        })
    }
}
