//! Why an ingest failed.

use super::graph_sink;
use crate::dump::{DumpError, checksum};
use crate::record::Kind;

/// Why an ingest failed. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error(transparent)]
    Checksum(#[from] checksum::ChecksumError),
    #[error(transparent)]
    Extract(#[from] crate::extract::ExtractError),
    #[error(transparent)]
    Postgres(#[from] crate::store::postgres::Error),
    #[error(transparent)]
    Neo4j(#[from] crate::store::neo4j::Error),
    #[error("graph: {0}")]
    Graph(#[from] graph_sink::Error),
    #[error(
        "refusing to delete {count} of {total} {kind} ({:.1}%): the new dump looks incomplete; if it is right, run again with --allow-mass-delete",
        share * 100.0
    )]
    MassDelete {
        kind: Kind,
        count: usize,
        total: usize,
        share: f64,
    },
    #[error(
        "another ingest is writing these databases: {holder}; wait until it ends, or stop it, then run again"
    )]
    AlreadyRunning { holder: String },
    #[error("ingest task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
