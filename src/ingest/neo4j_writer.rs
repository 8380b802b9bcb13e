//! Stage 3b: write record batches to the graph: through Bolt (batched UNWIND, one transaction per
//! batch, then the graph checkpoint in PostgreSQL), or, on a first load with a bulk import
//! configured, into the CSV files of [`Export`].

use std::sync::{Arc, Mutex};
use std::time::Instant;

use deadpool_postgres::Pool;
use neo4rs::Graph;
use tokio::sync::mpsc;

use super::batch::next_batch;
use super::state::GRAPH_CHECKPOINT;
use super::{Action, BatchSettings, Work};
use crate::record::Kind;
use crate::store::graph::bulk::{Export, ExportError};
use crate::store::graph::{self, GraphRecord};
use crate::telemetry;

/// Where the graph stage writes.
#[derive(Clone)]
pub enum GraphSink {
    /// Bolt transactions.
    Transactional(Graph),
    /// CSV files for `neo4j-admin database import`, shared by every file of the dump. No
    /// checkpoints: the graph gets nothing until all files are through, and an interrupted export
    /// is started again (the graph is still unpaired, so the next run rebuilds it).
    Bulk(Arc<Mutex<Export>>),
}

/// Why the graph writer stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Neo4j(#[from] crate::store::neo4j::Error),
    #[error(transparent)]
    Postgres(#[from] crate::store::postgres::Error),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("the graph export failed earlier in this run")]
    ExportPoisoned,
    #[error("the graph export is still held by a pipeline stage")]
    ExportInUse,
    #[error("graph export task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// Writes every batch of `input` to `sink`. Returns the records written and the seconds spent
/// writing.
///
/// # Errors
///
/// A graph write failed for good, or the checkpoint could not be stored.
pub async fn run(
    sink: GraphSink,
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
        let count = records.len() as u64;
        let started = Instant::now();
        match &sink {
            GraphSink::Transactional(graph) => {
                graph::write(graph, kind, &records).await?;
                let client = pool
                    .get()
                    .await
                    .map_err(crate::store::postgres::Error::from)?;
                client
                    .execute(GRAPH_CHECKPOINT, &[&last_seq, &run_id])
                    .await
                    .map_err(crate::store::postgres::Error::from)?;
            }
            GraphSink::Bulk(export) => {
                let export = Arc::clone(export);
                tokio::task::spawn_blocking(move || {
                    let mut export = export.lock().map_err(|_| Error::ExportPoisoned)?;
                    export.write(kind, &records).map_err(Error::from)
                })
                .await??;
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        busy += seconds;
        metrics::histogram!(telemetry::NEO4J_BATCH_SECONDS, "kind" => kind.as_str())
            .record(seconds);
        metrics::counter!(telemetry::INGEST_RECORDS, "kind" => kind.as_str(), "outcome" => "neo4j_written").increment(count);
        written += count;
    }
    Ok((written, busy))
}
