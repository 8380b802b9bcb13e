//! Logging and metrics setup, and the name of every metric in one place.
//!
//! Logs go to stderr through `tracing` (level from `RUST_LOG`, default `info` with the drivers at `warn`). Metrics are recorded
//! with the `metrics` crate into a Prometheus recorder that `/metrics` renders. Names follow
//! `discogs_<name>_<unit>_total` and are updated once per batch, not per record.

use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

/// HTTP requests served, labelled by route and status.
pub const HTTP_REQUESTS: &str = "discogs_http_requests_total";
/// HTTP request latency in seconds, labelled by route.
pub const HTTP_REQUEST_SECONDS: &str = "discogs_http_request_duration_seconds";

/// API answers served from the response cache (`outcome="hit"`) or computed (`"miss"`), by route.
pub const API_CACHE: &str = "discogs_api_cache_requests_total";
/// Records through the ingest, labelled by kind and outcome (parsed, postgres_written, neo4j_written).
pub const INGEST_RECORDS: &str = "discogs_ingest_records_total";
/// Seconds per PostgreSQL write batch, labelled by kind.
pub const POSTGRES_BATCH_SECONDS: &str = "discogs_postgres_batch_duration_seconds";
/// Seconds per Neo4j write batch, labelled by kind.
pub const NEO4J_BATCH_SECONDS: &str = "discogs_neo4j_batch_duration_seconds";
/// Records deleted because a newer dump no longer has them, labelled by kind.
pub const INGEST_DELETED: &str = "discogs_ingest_deleted_total";

/// Starts logging to stderr. Call once, from `main`.
pub fn init_logging() {
    // The drivers log every pooled connection and server NOTICE at info; that is noise here.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,neo4rs=warn,tokio_postgres=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

/// `error` and its chain of causes as one `: `-separated line, each cause said once.
///
/// Our error messages are complete on their own (they name their cause) and still return the
/// cause from `source()`; so do the drivers' (tokio-postgres says `db error: ERROR: …` and returns
/// the `ERROR: …`). Printing the whole chain would repeat those, so a cause whose text the line
/// already holds is left out.
pub fn one_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut line = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let text = error.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        cause = error.source();
    }
    line
}

/// The process-wide Prometheus recorder, installed on first use.
///
/// Installing twice is an error in the `metrics` crate, and tests build many apps in one process,
/// so the handle lives in a `OnceLock`.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder was installed first, in which case ours just renders
            // nothing; not worth stopping the program over.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[derive(Debug, thiserror::Error)]
    enum Inner {
        #[error("file is truncated")]
        Truncated,
    }

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("x.xml.gz: {0}")]
        Repeats(#[source] Inner),
        #[error("x.xml.gz")]
        Leaves(#[source] Inner),
    }

    #[test]
    fn each_cause_is_said_once() {
        let error = anyhow::Error::new(Outer::Repeats(Inner::Truncated)).context("ingest failed");
        assert_eq!(
            one_line(error.as_ref()),
            "ingest failed: x.xml.gz: file is truncated"
        );
        let error = Outer::Leaves(Inner::Truncated);
        assert_eq!(one_line(&error), "x.xml.gz: file is truncated");
    }
}
