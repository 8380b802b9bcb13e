//! Database access. These modules know SQL and Cypher, not channels or pipeline stages.

pub mod bookkeeping;
pub mod credits;
pub mod deltas;
pub mod explain;
pub mod facts;
pub mod graph;
pub mod insights;
pub mod migrate;
pub mod neo4j;
pub mod postgres;
pub mod profiles;
pub mod records;

use std::fmt::Display;

/// A failure of an operation that reads or writes both stores.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Neo4j(#[from] neo4j::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
}

impl From<neo4rs::Error> for Error {
    fn from(error: neo4rs::Error) -> Error {
        Error::Neo4j(error.into())
    }
}

impl From<neo4rs::DeError> for Error {
    fn from(error: neo4rs::DeError) -> Error {
        Error::Neo4j(error.into())
    }
}

impl From<tokio_postgres::Error> for Error {
    fn from(error: tokio_postgres::Error) -> Error {
        Error::Postgres(error.into())
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(error: deadpool_postgres::PoolError) -> Error {
        Error::Postgres(error.into())
    }
}

use backon::{ExponentialBuilder, Retryable};

/// Runs `attempt` until it succeeds, fails with an error `transient` says retrying cannot help, or
/// a transient failure outlasts `policy`, logging each retry: the loop behind each store's
/// `retry`, which brings its own policy and rule. `what` names the operation in the log.
async fn retry<T, E: Display, Attempt>(
    policy: ExponentialBuilder,
    transient: fn(&E) -> bool,
    what: &str,
    attempt: impl FnMut() -> Attempt,
) -> Result<T, E>
where
    Attempt: Future<Output = Result<T, E>>,
{
    attempt
        .retry(policy)
        .when(transient)
        .notify(|error, delay| tracing::warn!(%error, retry_in = ?delay, "{what} failed; retrying"))
        .await
}
