//! The state every handler shares; cheap to clone.

use deadpool_postgres::Pool;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::store::neo4j::Neo4j;

#[derive(Clone)]
pub struct AppState {
    pub postgres: Pool,
    pub neo4j: Neo4j,
    pub metrics: PrometheusHandle,
}
