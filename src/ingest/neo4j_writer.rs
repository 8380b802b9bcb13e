//! Stage 3b: write record batches to the graph (batched UNWIND, one transaction per batch), then
//! record the checkpoint in PostgreSQL.

use std::time::Instant;

use deadpool_postgres::Pool;
use neo4rs::Graph;
use tokio::sync::mpsc;

use super::batch::next_batch;
use super::state::GRAPH_CHECKPOINT;
use super::{Action, BatchSettings, Work};
use crate::record::Kind;
use crate::store::graph::{self, GraphRecord};
use crate::telemetry;

/// Why the graph writer stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Neo4j(#[from] crate::store::neo4j::Error),
    #[error(transparent)]
    Postgres(#[from] crate::store::postgres::Error),
}

/// Writes every batch of `input` to the graph. Returns the records written and the seconds spent
/// writing.
///
/// # Errors
///
/// A graph write failed for good, or the checkpoint could not be stored.
pub async fn run(
    graph: Graph,
    pool: Pool,
    kind: Kind,
    run_id: i64,
    mut input: mpsc::Receiver<Vec<Work>>,
    settings: BatchSettings,
) -> Result<(u64, f64), Error> {
    let (mut written, mut busy) = (0, 0.0);
    while let Some(batch) = next_batch(&mut input, settings.size, settings.flush_interval).await {
        let Some(last_seq) = batch.last().map(|w| w.seq as i64) else {
            continue;
        };
        let records: Vec<GraphRecord> = batch
            .into_iter()
            .map(|work| GraphRecord {
                id: work.record.id,
                json: work.record.json,
                replace: work.action != Action::Insert,
            })
            .collect();
        let started = Instant::now();
        graph::write(&graph, kind, &records).await?;
        let seconds = started.elapsed().as_secs_f64();
        busy += seconds;
        metrics::histogram!(telemetry::NEO4J_BATCH_SECONDS, "kind" => kind.as_str())
            .record(seconds);
        metrics::counter!(telemetry::INGEST_RECORDS, "kind" => kind.as_str(), "outcome" => "neo4j_written").increment(records.len() as u64);
        written += records.len() as u64;
        let client = pool
            .get()
            .await
            .map_err(crate::store::postgres::Error::from)?;
        client
            .execute(GRAPH_CHECKPOINT, &[&last_seq, &run_id])
            .await
            .map_err(crate::store::postgres::Error::from)?;
    }
    Ok((written, busy))
}
