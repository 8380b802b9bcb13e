//! Neo4j: the Bolt connection pool and its typed error.
//!
//! neo4rs retries transient failures for up to a minute by itself, and dropping one of its futures
//! mid-query can leave a pooled connection out of step. So nothing here wraps a driver call in a
//! timeout: checks that must answer quickly run the query in a spawned task and stop *waiting* for
//! it, letting the task finish on its own.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use backon::ExponentialBuilder;
use neo4rs::{ConfigBuilder, Graph, Operation, Query, Row, query};
use serde::de::DeserializeOwned;
use tokio::net::TcpStream;

use super::explain::{Recorder, Statement};
use crate::config::Neo4jConfig;

/// Bolt connections in the pool: the writer runs a few transactions at once; the API the rest.
pub const POOL_SIZE: usize = 16;
/// Rows per Bolt PULL; large because graph answers are read whole.
const FETCH_SIZE: usize = 2_000;
/// The driver's connect *and read* timeout. Aggregates and bulk deletions on a full catalogue run
/// for minutes as single statements, so reads must be allowed to wait that long; an unreachable
/// server is still noticed at once by the TCP probe in [`Neo4j::ping`].
const READ_TIMEOUT: Duration = Duration::from_secs(3600);
/// How long a connect attempt or a readiness probe may take before we call the server unreachable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// A Neo4j failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to Neo4j at {uri}: {reason}")]
    Connect { uri: String, reason: String },
    #[error("Neo4j query failed: {0}")]
    Query(#[from] neo4rs::Error),
    #[error("Neo4j at {uri} did not answer within {after:?}")]
    Timeout { uri: String, after: Duration },
    #[error("unexpected Neo4j row: {0}")]
    Row(#[from] neo4rs::DeError),
    #[error("Neo4j query task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether retrying may succeed (see [`is_transient`]).
    pub fn is_transient(&self) -> bool {
        matches!(self, Error::Query(error) if is_transient(error))
    }
}

/// Whether retrying may succeed: Neo4j's transient errors (deadlocks, lock timeouts) and
/// connection-level failures (a restarting server).
pub fn is_transient(error: &neo4rs::Error) -> bool {
    match error {
        neo4rs::Error::Neo4j(e) => e.code().starts_with("Neo.TransientError"),
        neo4rs::Error::IOError { .. }
        | neo4rs::Error::ConnectionError
        | neo4rs::Error::IncompleteBoltExchange
        | neo4rs::Error::UnexpectedMessage(_) => true,
        _ => false,
    }
}

/// How graph writes are retried on a transient failure: doubling waits from 200 ms up to 10 s,
/// 15 retries, about two minutes in all: enough to ride through a Neo4j restart.
const RETRY: ExponentialBuilder = ExponentialBuilder::new()
    .with_min_delay(Duration::from_millis(200))
    .with_max_delay(Duration::from_secs(10))
    .with_max_times(15);

/// Runs `attempt` until it succeeds, fails for good, or a transient failure outlasts [`RETRY`]:
/// the one retry policy for writes to the graph. `what` names the operation in the log. A retry
/// may follow a commit whose acknowledgement was lost, so an attempt must be safe to apply twice.
///
/// # Errors
///
/// A permanent error, or the last transient one.
pub async fn retry<T, Attempt>(what: &str, attempt: impl FnMut() -> Attempt) -> Result<T>
where
    Attempt: Future<Output = Result<T, neo4rs::Error>>,
{
    super::retry(RETRY, is_transient, what, attempt)
        .await
        .map_err(Error::Query)
}

/// The graph database: a Bolt pool plus the address it points at, for quick reachability probes.
#[derive(Clone)]
pub struct Neo4j {
    pub graph: Graph,
    uri: String,
    address: String,
    /// Whether the URI routes (`neo4j://`): reads may then go to a member other than the one
    /// that took the writes.
    routing: bool,
    /// The bookmark reads must see the writes of, set by [`Neo4j::read_after`].
    read_after: Arc<RwLock<Option<String>>>,
}

impl Neo4j {
    /// Builds the pool without connecting; connections open on first use.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] if the settings are unusable.
    pub fn new(config: &Neo4jConfig) -> Result<Neo4j> {
        let connect_error = |e: neo4rs::Error| Error::Connect {
            uri: config.uri.clone(),
            reason: e.to_string(),
        };
        let graph = Graph::connect(
            ConfigBuilder::default()
                .uri(&config.uri)
                .user(&config.user)
                .password(config.password.expose())
                .max_connections(POOL_SIZE)
                .fetch_size(FETCH_SIZE)
                .connection_timeout(READ_TIMEOUT)
                .build()
                .map_err(connect_error)?,
        )
        .map_err(connect_error)?;
        Ok(Neo4j {
            graph,
            uri: config.uri.clone(),
            address: host_port(&config.uri),
            routing: config.uri.starts_with("neo4j"),
            read_after: Arc::default(),
        })
    }

    /// Makes every later read of [`Neo4j::rows`] (from this handle and its clones) see at least
    /// the writes `bookmark` covers: through a routing URI the reads then carry it, so a cluster
    /// member still behind it waits until it has caught up before it answers. A direct `bolt://`
    /// connection reads from the server that took the writes, which has them already.
    pub fn read_after(&self, bookmark: Option<String>) {
        *self
            .read_after
            .write()
            .unwrap_or_else(PoisonError::into_inner) = bookmark;
    }

    /// Stops reads carrying `bookmark` (one the server refused), unless a newer one replaced it.
    fn forget_bookmark(&self, bookmark: &str) {
        let mut current = self
            .read_after
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if current.as_deref() == Some(bookmark) {
            *current = None;
        }
    }

    /// The bookmark reads carry, if any (see [`Neo4j::read_after`]).
    fn read_bookmark(&self) -> Option<String> {
        if !self.routing {
            return None;
        }
        self.read_after
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Builds the pool and proves the server answers `RETURN 1`.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] naming the URI and the reason.
    pub async fn connect(config: &Neo4jConfig) -> Result<Neo4j> {
        let neo4j = Neo4j::new(config)?;
        neo4j.ping().await?;
        Ok(neo4j)
    }

    /// Runs a read query and deserializes every row into `T`, whose fields are named like the
    /// query's columns. It is sent as a read: through a `neo4j://` URI it may go to any member
    /// of a cluster, where writes go to the leader, and it carries the bookmark of
    /// [`Neo4j::read_after`]. A bookmark the server refuses (one from a graph since wiped and
    /// loaded by hand) is logged once and dropped, and the read runs without it: it was only
    /// there to wait.
    ///
    /// The query runs in its own task: a caller that goes away (an HTTP client disconnecting)
    /// stops waiting but does not cut the Bolt exchange short (see the module docs).
    ///
    /// # Errors
    ///
    /// The query failed, or a row does not fit `T`.
    pub async fn rows<T>(&self, query: Query) -> Result<Vec<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        if let Some(recorder) = Recorder::current() {
            recorder.record(Statement {
                store: "neo4j",
                text: query.query().to_owned(),
                parameters: format!("{:?}", query.get_params()),
                plan: None,
            });
        }
        let bookmark = self.read_bookmark();
        let neo4j = self.clone();
        tokio::spawn(async move {
            let graph = &neo4j.graph;
            let rows = match bookmark {
                None => read(graph, query).await?,
                Some(bookmark) => match read_after(graph, query.clone(), &bookmark).await {
                    Err(neo4rs::Error::Neo4j(error)) if error.code().contains("Bookmark") => {
                        tracing::warn!(
                            %bookmark,
                            code = error.code(),
                            message = error.message(),
                            "Neo4j refuses the bookmark the latest ingest published; reading without it"
                        );
                        neo4j.forget_bookmark(&bookmark);
                        read(graph, query).await?
                    }
                    rows => rows?,
                },
            };
            rows.iter()
                .map(|row| row.to::<T>().map_err(Error::from))
                .collect()
        })
        .await?
    }

    /// [`Neo4j::rows`] for a query that returns at most one row.
    ///
    /// # Errors
    ///
    /// As [`Neo4j::rows`].
    pub async fn row<T>(&self, query: Query) -> Result<Option<T>>
    where
        T: DeserializeOwned + Send + 'static,
    {
        Ok(self.rows(query).await?.into_iter().next())
    }

    /// Proves the server answers `RETURN 1`, within about [`PROBE_TIMEOUT`].
    ///
    /// A plain TCP connect comes first, so an unreachable server is reported at once instead of
    /// after the driver's minute of retries; the query itself runs in a spawned task (see the
    /// module docs) and is only waited for.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] when the server cannot be reached, [`Error::Timeout`] when it is slow.
    pub async fn ping(&self) -> Result<()> {
        let connect_error = |reason: String| Error::Connect {
            uri: self.uri.clone(),
            reason,
        };
        match tokio::time::timeout(PROBE_TIMEOUT, TcpStream::connect(&self.address)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(connect_error(e.to_string())),
            Err(_) => {
                return Err(Error::Timeout {
                    uri: self.uri.clone(),
                    after: PROBE_TIMEOUT,
                });
            }
        }
        let graph = self.graph.clone();
        let probe = tokio::spawn(async move { read(&graph, query("RETURN 1 AS one")).await });
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(result)) => result.map(drop).map_err(|e| connect_error(e.to_string())),
            Ok(Err(join_error)) => Err(connect_error(join_error.to_string())),
            Err(_) => Err(Error::Timeout {
                uri: self.uri.clone(),
                after: PROBE_TIMEOUT,
            }),
        }
    }
}

/// Every row of a read sent on its own (neo4rs retries it on transient failures).
async fn read(graph: &Graph, query: Query) -> Result<Vec<Row>, neo4rs::Error> {
    let mut stream = graph.execute_read(query).await?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next().await? {
        rows.push(row);
    }
    Ok(rows)
}

/// Every row of a read in a transaction that begins once the server has applied the writes
/// `bookmark` covers. Only a transaction's BEGIN carries bookmarks in neo4rs, so this costs a
/// BEGIN and a COMMIT more than [`read`], and has no retries of its own.
async fn read_after(
    graph: &Graph,
    query: Query,
    bookmark: &str,
) -> Result<Vec<Row>, neo4rs::Error> {
    let mut txn = graph
        .start_txn_as(Operation::Read, Some(vec![bookmark.to_owned()]))
        .await?;
    let mut stream = txn.execute(query).await?;
    let mut rows = Vec::new();
    while let Some(row) = stream.next(txn.handle()).await? {
        rows.push(row);
    }
    txn.commit().await?;
    Ok(rows)
}

/// `host:port` of a `bolt://host:port` URI, with Bolt's default port when none is given.
fn host_port(uri: &str) -> String {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let authority = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if authority
        .rsplit_once(':')
        .is_some_and(|(_, port)| port.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:7687")
    }
}

#[cfg(test)]
mod tests {
    use super::host_port;

    #[test]
    fn host_port_adds_the_default_bolt_port() {
        assert_eq!(host_port("bolt://127.0.0.1:7687"), "127.0.0.1:7687");
        assert_eq!(host_port("neo4j://db"), "db:7687");
        assert_eq!(host_port("bolt://u@db:1/x?y"), "db:1");
    }
}
