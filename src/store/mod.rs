//! Database access. These modules know SQL and Cypher, not channels or pipeline stages.

pub mod bookkeeping;
pub mod credits;
pub mod explain;
pub mod facts;
pub mod graph;
pub mod insights;
pub mod migrate;
pub mod neo4j;
pub mod postgres;
pub mod records;

use std::fmt::Display;

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
