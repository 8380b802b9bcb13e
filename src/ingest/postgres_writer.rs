//! Stage 3a: write record batches to PostgreSQL, then hand their graph facts to the graph writer.
//!
//! PostgreSQL goes first so that the graph never holds a record PostgreSQL lacks: a resumed
//! ingest then knows from PostgreSQL alone what the graph may be missing (see `dedup`).

use std::time::Instant;

use deadpool_postgres::Pool;
use tokio::sync::mpsc;

use super::batch::Batcher;
use super::pipeline::{Action, GraphWork, Work};
use super::settings::BatchSettings;
use crate::record::Canonical;
use crate::store::bookkeeping::FileRun;
use crate::store::postgres;
use crate::store::records::{self, Update};
use crate::telemetry;

/// What the PostgreSQL writer did.
#[derive(Debug, Default)]
pub struct PostgresSummary {
    /// Seconds spent writing, not waiting.
    pub busy_seconds: f64,
}

/// Writes every batch of `input` (retrying a lost connection) and forwards it to `output`.
///
/// # Errors
///
/// A write failed for a reason other than a lost connection, or the server stayed away.
pub async fn run(
    pool: Pool,
    run: FileRun,
    input: mpsc::Receiver<Vec<Work>>,
    output: mpsc::Sender<Vec<GraphWork>>,
    settings: BatchSettings,
) -> postgres::Result<PostgresSummary> {
    let kind = run.kind;
    let mut summary = PostgresSummary::default();
    let mut batcher = Batcher::new(input, settings);
    while let Some(batch) = batcher.next().await {
        let with_action = |action| batch.iter().filter(move |w| w.action == action);
        let inserts: Vec<&Canonical> = with_action(Action::Insert).map(|w| &w.record).collect();
        let updates: Vec<Update<'_>> = with_action(Action::Update)
            .map(|w| Update {
                record: &w.record,
                changed: w.changed,
            })
            .collect();
        let count = (inserts.len() + updates.len()) as u64;
        if count > 0 {
            let started = Instant::now();
            postgres::retry("postgres write", || async {
                let mut client = pool.get().await?;
                // A graph built from scratch gets all its aggregates, and the credits are then
                // counted in full: nothing to list as touched, no deltas to record.
                let touched = !run.rebuild_graph;
                records::write(&mut client, kind, run.run_id, &inserts, &updates, touched).await
            })
            .await?;
            let seconds = started.elapsed().as_secs_f64();
            summary.busy_seconds += seconds;
            metrics::histogram!(telemetry::POSTGRES_BATCH_SECONDS, "kind" => kind.as_str())
                .record(seconds);
            metrics::counter!(telemetry::INGEST_RECORDS, "kind" => kind.as_str(), "outcome" => "postgres_written")
                .increment(count);
        }
        let graph_work = batch.into_iter().map(GraphWork::from).collect();
        if output.send(graph_work).await.is_err() {
            break;
        }
    }
    Ok(summary)
}
