//! Stage 2: compare each record's hash with what PostgreSQL holds and pass on only the records
//! that need writing, marked with what to write. Also remembers every id seen, for deletions, and
//! the raw hash of every record the stores will hold, for the next ingest (`raw_hashes`).

use deadpool_postgres::Pool;
use tokio::sync::mpsc;

use super::pipeline::{Action, Work};
use super::raw_hashes;
use super::source::Parsed;
use crate::id_set::IdSet;
use crate::record::graph::digest::Changed;
use crate::record::{Canonical, Hash};
use crate::store::bookkeeping::{Counts, FileRun};
use crate::store::records::Stored;
use crate::store::{postgres, records};

/// What dedup saw.
pub struct DedupSummary {
    pub counts: Counts,
    pub seen: IdSet,
    /// A record was skipped without a readable id, so absence from the file proves nothing.
    pub unknown_skipped: bool,
    /// Records the extractor left unparsed, unchanged since the last ingest (also `unchanged`).
    pub unparsed: u64,
    pub raw_hashes: raw_hashes::Writer,
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
    raw_hashes: raw_hashes::Writer,
) -> postgres::Result<DedupSummary> {
    let mut summary = DedupSummary {
        counts: Counts::default(),
        seen: IdSet::default(),
        unknown_skipped: false,
        unparsed: 0,
        raw_hashes,
    };
    while let Some(parsed) = input.recv().await {
        for &(id, hash) in &parsed.unchanged {
            summary.counts.records += 1;
            summary.unparsed += 1;
            if summary.seen.insert(id) {
                summary.counts.unchanged += 1;
                summary.raw_hashes.push(id, hash);
            } else {
                tracing::warn!(kind = %run.kind, id, "duplicate id in file; keeping the first record");
            }
        }
        for skipped in &parsed.skipped {
            summary.counts.skipped += 1;
            match skipped.id {
                Some(id) => {
                    if summary.seen.insert(id) {
                        // Its older version, if any, stays stored.
                        summary.raw_hashes.push(id, raw_hashes::UNREAD);
                    }
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
            summary.raw_hashes.push(record.id, record.raw_hash);
            let action = decide(&run, stored.get(&record.id), &record.hash, seq);
            match action {
                Some(Action::Insert) => summary.counts.inserted += 1,
                Some(Action::Update) => summary.counts.updated += 1,
                Some(Action::GraphOnly) => summary.counts.graph_only += 1,
                None => summary.counts.unchanged += 1,
            }
            if let Some(action) = action {
                let changed = match action {
                    Action::Update => graph_changes(&run, stored.get(&record.id), &record),
                    Action::Insert | Action::GraphOnly => Changed::ALL,
                };
                work.push(Work {
                    seq,
                    record,
                    action,
                    changed,
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

/// What a record at position `seq` of `run`'s file needs, given what PostgreSQL holds for its id:
/// `None` when both stores already have it.
fn decide(run: &FileRun, stored: Option<&Stored>, hash: &Hash, seq: u64) -> Option<Action> {
    let seq = i64::try_from(seq).unwrap_or(i64::MAX);
    match stored {
        None => Some(Action::Insert),
        Some(row) if row.hash != *hash => Some(Action::Update),
        // Written by this very run (resumed), past the graph's checkpoint.
        Some(row) if row.run_id == run.run_id && seq > run.graph_ordinal => Some(Action::GraphOnly),
        // Written by an unfinished run of another version, whose graph side may be missing.
        Some(row) if run.suspect_runs.contains(&row.run_id) => Some(Action::GraphOnly),
        Some(_) if run.rebuild_graph => Some(Action::GraphOnly),
        Some(_) => None,
    }
}

/// Which groups of the updated `record`'s graph facts differ from what the graph holds of the
/// version `stored`: found by their digests when a finished run wrote that version (the graph
/// then has it too) and the graph is not being rebuilt; all of them otherwise.
fn graph_changes(run: &FileRun, stored: Option<&Stored>, record: &Canonical) -> Changed {
    let settled = |row: &&Stored| {
        !run.rebuild_graph && row.run_id != run.run_id && !run.suspect_runs.contains(&row.run_id)
    };
    stored
        .filter(settled)
        .and_then(|row| row.graph_digests.as_deref())
        .and_then(|digests| Changed::between(run.kind, &record.graph_digests, digests))
        .unwrap_or(Changed::ALL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;

    /// A resumed run 10 of the releases, past position 500, with run 7 unfinished.
    fn resumed_run() -> FileRun {
        FileRun {
            kind: Kind::Releases,
            run_id: 10,
            graph_ordinal: 500,
            suspect_runs: vec![7],
            resumed: true,
            rebuild_graph: false,
        }
    }

    #[test]
    fn the_dedup_decision_for_each_case() {
        let run = resumed_run();
        let rebuild = FileRun {
            rebuild_graph: true,
            ..run.clone()
        };
        // (case, run, the stored row's run id or not stored, same hash, position, decision)
        type Case<'a> = (&'a str, &'a FileRun, Option<i64>, bool, u64, Option<Action>);
        let cases: [Case; 9] = [
            ("new", &run, None, true, 1, Some(Action::Insert)),
            ("changed", &run, Some(3), false, 1, Some(Action::Update)),
            ("unchanged", &run, Some(3), true, 1, None),
            (
                "resumed, past the checkpoint",
                &run,
                Some(10),
                true,
                501,
                Some(Action::GraphOnly),
            ),
            (
                "resumed, at the checkpoint",
                &run,
                Some(10),
                true,
                500,
                None,
            ),
            (
                "written by an unfinished run",
                &run,
                Some(7),
                true,
                1,
                Some(Action::GraphOnly),
            ),
            (
                "graph being rebuilt",
                &rebuild,
                Some(3),
                true,
                1,
                Some(Action::GraphOnly),
            ),
            (
                "changed while rebuilding",
                &rebuild,
                Some(3),
                false,
                1,
                Some(Action::Update),
            ),
            (
                "new while rebuilding",
                &rebuild,
                None,
                true,
                1,
                Some(Action::Insert),
            ),
        ];
        let hash = [1; 32];
        for (case, run, stored_run, same_hash, seq, expected) in cases {
            let stored = stored_run.map(|run_id| Stored {
                hash,
                run_id,
                graph_digests: None,
            });
            let record_hash = if same_hash { hash } else { [2; 32] };
            assert_eq!(
                decide(run, stored.as_ref(), &record_hash, seq),
                expected,
                "{case}"
            );
        }
    }

    #[test]
    fn an_update_writes_the_groups_whose_digests_changed_once_a_finished_run_stored_them() {
        use crate::record::canonicalize;
        use crate::record::graph::digest::Group;
        use crate::xml::tree::tests::tree_of;
        let release = |style: &str| {
            let xml = format!(
                r#"<release id="7"><title>T</title><styles><style>{style}</style></styles></release>"#
            );
            let tree = tree_of(&xml).expect("well-formed XML");
            canonicalize(Kind::Releases, tree.root()).expect("a valid record")
        };
        let (old, new) = (release("Punk"), release("Ska"));
        let run = resumed_run();
        let stored = |run_id, graph_digests: Option<&Vec<u8>>| Stored {
            hash: old.hash,
            run_id,
            graph_digests: graph_digests.cloned(),
        };
        let changed = graph_changes(&run, Some(&stored(3, Some(&old.graph_digests))), &new);
        assert!(changed.has(Group::Is) && !changed.has(Group::By) && !changed.has(Group::Names));
        let rebuild = FileRun {
            rebuild_graph: true,
            ..run.clone()
        };
        // (case, run, the stored row: its run and digests)
        let unknown = [
            ("written before digests were kept", &run, stored(3, None)),
            (
                "written by an unfinished run",
                &run,
                stored(7, Some(&old.graph_digests)),
            ),
            (
                "written by this run",
                &run,
                stored(10, Some(&old.graph_digests)),
            ),
            (
                "graph being rebuilt",
                &rebuild,
                stored(3, Some(&old.graph_digests)),
            ),
            (
                "digests of another kind",
                &run,
                stored(3, Some(&vec![0; 8])),
            ),
        ];
        for (case, run, stored) in unknown {
            assert_eq!(
                graph_changes(run, Some(&stored), &new),
                Changed::ALL,
                "{case}"
            );
        }
    }
}
