//! Stage 3b: write the graph facts of record batches through the [`GraphSink`], which this
//! stage owns while its file runs and hands back in its summary.

use std::time::Instant;

use tokio::sync::mpsc;

use super::batch::Batcher;
use super::graph_sink::{self, GraphSink};
use super::pipeline::GraphWork;
use super::settings::BatchSettings;
use crate::store::bookkeeping::FileRun;
use crate::telemetry;

/// What the graph writer did, and the sink, for the file's deletions and the next file.
pub struct GraphSummary {
    pub sink: GraphSink,
    /// Batches written, and the records in the largest: through Bolt, each is one transaction.
    pub batches: u64,
    pub largest_batch: u64,
    /// Seconds spent writing, not waiting.
    pub busy_seconds: f64,
}

/// Writes every batch of `input`, at most `settings.size` records per batch.
///
/// # Errors
///
/// A graph write failed for good, or its checkpoint could not be stored.
pub async fn run(
    sink: GraphSink,
    run: FileRun,
    input: mpsc::Receiver<Vec<GraphWork>>,
    settings: BatchSettings,
) -> Result<GraphSummary, graph_sink::Error> {
    let kind = run.kind.as_str();
    let mut summary = GraphSummary {
        sink,
        batches: 0,
        largest_batch: 0,
        busy_seconds: 0.0,
    };
    let mut batcher = Batcher::new(input, settings);
    while let Some(batch) = batcher.next().await {
        let count = batch.len() as u64;
        let started = Instant::now();
        summary.sink = summary.sink.write(&run, batch).await?;
        let seconds = started.elapsed().as_secs_f64();
        summary.busy_seconds += seconds;
        metrics::histogram!(telemetry::NEO4J_BATCH_SECONDS, "kind" => kind).record(seconds);
        metrics::counter!(telemetry::INGEST_RECORDS, "kind" => kind, "outcome" => "neo4j_written")
            .increment(count);
        summary.batches += 1;
        summary.largest_batch = summary.largest_batch.max(count);
    }
    Ok(summary)
}
