//! PostgreSQL: the connection pool and its typed error.

use std::time::Duration;

use backon::ExponentialBuilder;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};

use super::explain::{Recorder, Statement};

use crate::config::PostgresConfig;

/// Connections in the pool: the two writers, the dedup lookups and the API share it.
pub const POOL_SIZE: usize = 16;

/// A PostgreSQL failure, with the redacted URL where a connection is concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to PostgreSQL at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("PostgreSQL query failed: {0}")]
    Query(#[from] tokio_postgres::Error),
    #[error("PostgreSQL pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether retrying may succeed: the pool had no connection to give (a server restarting or
    /// out of reach), or [`is_transient`]. A server that refuses us (a wrong password, no such
    /// database) is not worth a minute of retries.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Pool(deadpool_postgres::PoolError::Backend(error)) | Error::Query(error) => {
                is_transient(error)
            }
            Error::Pool(_) | Error::Connect { .. } => true,
        }
    }
}

/// Whether the failure was the connection or the server's state rather than the statement: the
/// connection closed or broke (no SQLSTATE), a connection exception (class 08), or the server
/// shutting down or starting (57P01–57P03).
pub fn is_transient(error: &tokio_postgres::Error) -> bool {
    match error.code() {
        Some(code) => code.code().starts_with("08") || code.code().starts_with("57P"),
        None => {
            error.is_closed()
                || std::error::Error::source(error)
                    .is_some_and(|source| source.is::<std::io::Error>())
        }
    }
}

/// How writes are retried on a transient failure: doubling waits from 250 ms up to 8 s, 11
/// retries, about a minute in all: enough for a restarting server.
const RETRY: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(250))
    .with_max_delay(Duration::from_secs(8))
    .with_max_times(11);

/// Runs `attempt` until it succeeds, fails for good, or a transient failure outlasts [`RETRY`]:
/// the one retry policy for writes to PostgreSQL. `what` names the operation in the log.
///
/// # Errors
///
/// A permanent error, or the last transient one.
pub async fn retry<T, Attempt>(what: &str, attempt: impl FnMut() -> Attempt) -> Result<T>
where
    Attempt: Future<Output = Result<T>>,
{
    super::retry(RETRY, Error::is_transient, what, attempt).await
}

/// Builds the pool without connecting; connections open on first use.
///
/// # Errors
///
/// Only if the pool cannot be built (no async runtime).
pub fn pool(config: &PostgresConfig) -> Result<Pool> {
    build_pool(config.connection.clone(), &config.url_redacted, None)
}

/// How long an API request waits for a pooled connection before it is answered 503.
const API_WAIT: Duration = Duration::from_secs(10);

/// [`pool`] for the API: a request that cannot get a connection within [`API_WAIT`] fails
/// (503) instead of queueing without end behind a burst of expensive ones. Its sessions run
/// without JIT compilation, which the server starts for any statement it estimates expensive
/// (one about a hub) and which costs the API's short statements more than it wins: 0.5 s of a
/// 4.7 s answer measured on one.
///
/// # Errors
///
/// As [`pool`].
pub fn api_pool(config: &PostgresConfig) -> Result<Pool> {
    build_api_pool(&config.connection, &config.url_redacted)
}

/// [`api_pool`] on the read-only replica of `postgres.read_url`, when one is configured.
///
/// # Errors
///
/// As [`pool`].
pub fn api_replica_pool(config: &PostgresConfig) -> Result<Option<Pool>> {
    config
        .replica
        .as_ref()
        .map(|replica| build_api_pool(&replica.connection, &replica.url_redacted))
        .transpose()
}

fn build_api_pool(connection: &tokio_postgres::Config, url_redacted: &str) -> Result<Pool> {
    let mut connection = connection.clone();
    let options = match connection.get_options() {
        Some(given) => format!("{given} -c jit=off"),
        None => "-c jit=off".to_owned(),
    };
    connection.options(&options);
    build_pool(connection, url_redacted, Some(API_WAIT))
}

fn build_pool(
    connection: tokio_postgres::Config,
    url_redacted: &str,
    wait: Option<Duration>,
) -> Result<Pool> {
    let manager = Manager::from_config(
        connection,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(POOL_SIZE)
        .runtime(Runtime::Tokio1)
        .wait_timeout(wait)
        .build()
        .map_err(|e| Error::Connect {
            url: url_redacted.to_owned(),
            reason: e.to_string(),
        })
}

/// Builds the pool and proves one connection works, so a wrong URL fails at start, clearly.
///
/// # Errors
///
/// [`Error::Connect`] naming the redacted URL and the driver's reason.
pub async fn connect(config: &PostgresConfig) -> Result<Pool> {
    let pool = pool(config)?;
    ping(&pool).await.map_err(|e| Error::Connect {
        url: config.url_redacted.clone(),
        reason: root_cause(&e),
    })?;
    Ok(pool)
}

/// `SELECT 1` on a pooled connection.
///
/// # Errors
///
/// The pool or the query failed.
pub async fn ping(pool: &Pool) -> Result<()> {
    pool.get().await?.simple_query("SELECT 1").await?;
    Ok(())
}

/// `client.query(sql, params)`, recorded (with its plan) when a [`Recorder`] is in scope.
///
/// # Errors
///
/// The statement (or its EXPLAIN) failed.
pub async fn query(
    client: &tokio_postgres::Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, tokio_postgres::Error> {
    if let Some(recorder) = Recorder::current() {
        let plan = client
            .query(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"), params)
            .await?
            .iter()
            .map(|row| row.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n");
        recorder.record(Statement {
            store: "postgres",
            text: sql.to_owned(),
            parameters: format!("{params:?}"),
            plan: Some(plan),
        });
    }
    client.query(sql, params).await
}

/// [`query`] on a connection taken from `pool` for the statement.
///
/// # Errors
///
/// No connection, or the statement failed.
pub async fn query_pooled(
    pool: &Pool,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let client = pool.get().await?;
    Ok(query(&client, sql, params).await?)
}

/// The innermost message of an error chain: tokio-postgres wraps an I/O error as "error connecting
/// to server", which says less than the "Connection refused" beneath it.
pub fn root_cause(error: &dyn std::error::Error) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
