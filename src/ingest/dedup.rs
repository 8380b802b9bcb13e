//! Stage 2: compare each record's hash with what PostgreSQL holds and pass on only the records
//! that need writing, marked with what to write. Also remembers every id seen, for deletions.

use deadpool_postgres::Pool;
use tokio::sync::mpsc;

use super::source::Parsed;
use super::state::{Counts, FileRun};
use super::{Action, Work};
use crate::id_set::IdSet;
use crate::store::{postgres, records};

/// What dedup saw.
#[derive(Debug, Default)]
pub struct DedupSummary {
    pub counts: Counts,
    pub seen: IdSet,
    /// A record was skipped without a readable id, so absence from the file proves nothing.
    pub unknown_skipped: bool,
}

/// Classifies every record of `input` and sends those needing a write to `output`.
///
/// # Errors
///
/// A lookup query failed.
pub async fn run(
    pool: Pool,
    run: FileRun,
    mut input: mpsc::Receiver<Parsed>,
    output: mpsc::Sender<Vec<Work>>,
) -> postgres::Result<DedupSummary> {
    let mut summary = DedupSummary::default();
    while let Some(parsed) = input.recv().await {
        for skipped in &parsed.skipped {
            summary.counts.skipped += 1;
            match skipped.id {
                Some(id) => {
                    summary.seen.insert(id);
                }
                None => summary.unknown_skipped = true,
            }
        }
        let ids: Vec<i64> = parsed.records.iter().map(|r| r.id).collect();
        let stored = {
            let client = pool.get().await?;
            records::lookup(&**client, run.kind, &ids).await?
        };
        let mut work = Vec::new();
        for (seq, record) in (parsed.first_seq..).zip(parsed.records) {
            summary.counts.records += 1;
            if !summary.seen.insert(record.id) {
                // Dirty data: the same id twice in one file. The first one stands.
                tracing::warn!(kind = %run.kind, id = record.id, "duplicate id in file; keeping the first record");
                continue;
            }
            let action = match stored.get(&record.id) {
                None => Some(Action::Insert),
                Some(row) if row.hash != record.hash => Some(Action::Update),
                Some(row) if row.run_id == run.run_id && seq as i64 > run.graph_ordinal => {
                    Some(Action::GraphOnly)
                }
                Some(row) if run.suspect_runs.contains(&row.run_id) => Some(Action::GraphOnly),
                Some(_) if run.rebuild_graph => Some(Action::GraphOnly),
                Some(_) => None,
            };
            match action {
                Some(Action::Insert) => summary.counts.inserted += 1,
                Some(Action::Update) => summary.counts.updated += 1,
                Some(Action::GraphOnly) => summary.counts.graph_only += 1,
                None => summary.counts.unchanged += 1,
            }
            if let Some(action) = action {
                work.push(Work {
                    seq,
                    record,
                    action,
                });
            }
        }
        metrics::counter!(crate::telemetry::INGEST_RECORDS, "kind" => run.kind.as_str(), "outcome" => "parsed")
            .increment(ids.len() as u64);
        if !work.is_empty() && output.send(work).await.is_err() {
            // The writers stopped (they failed); their error is what gets reported.
            break;
        }
    }
    Ok(summary)
}
