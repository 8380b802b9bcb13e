//! Stage 2: compare each record's hash with what PostgreSQL holds and pass on only the records
//! that need writing, marked with what to write. Also remembers every id seen, for deletions.

use std::collections::HashSet;

use deadpool_postgres::Pool;
use tokio::sync::mpsc;

use super::source::Parsed;
use super::state::{Counts, FileRun};
use super::{Action, Work};
use crate::store::{postgres, records};

/// The set of ids a file holds: a bitmap for the dense id range Discogs uses, a hash set for the
/// rare id outside it. 40 M ids take 5 MB.
#[derive(Debug, Default)]
pub struct IdSet {
    bits: Vec<u64>,
    other: HashSet<i64>,
}

/// Ids below this go in the bitmap (Discogs ids are below 40 M today).
const DENSE_LIMIT: i64 = 1 << 32;

impl IdSet {
    /// Adds `id`; returns whether it was new.
    pub fn insert(&mut self, id: i64) -> bool {
        if !(0..DENSE_LIMIT).contains(&id) {
            return self.other.insert(id);
        }
        let (word, bit) = ((id / 64) as usize, id % 64);
        if word >= self.bits.len() {
            self.bits.resize((word + 1).next_power_of_two(), 0);
        }
        let mask = 1u64 << bit;
        let new = self.bits[word] & mask == 0;
        self.bits[word] |= mask;
        new
    }

    pub fn contains(&self, id: i64) -> bool {
        if !(0..DENSE_LIMIT).contains(&id) {
            return self.other.contains(&id);
        }
        self.bits
            .get((id / 64) as usize)
            .is_some_and(|word| word & (1u64 << (id % 64)) != 0)
    }
}

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

#[cfg(test)]
mod tests {
    use super::IdSet;

    #[test]
    fn id_set_remembers_dense_and_outlying_ids() {
        let mut set = IdSet::default();
        assert!(set.insert(0));
        assert!(set.insert(35_000_000));
        assert!(!set.insert(35_000_000));
        assert!(set.insert(-5));
        assert!(set.insert(1 << 40));
        for id in [0, 35_000_000, -5, 1 << 40] {
            assert!(set.contains(id), "{id}");
        }
        for id in [1, 34_999_999, 64, -4, (1 << 40) + 1] {
            assert!(!set.contains(id), "{id}");
        }
    }
}
