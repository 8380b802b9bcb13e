//! Stage 1: read a dump file with the extractor and send its records downstream in file order.
//! The only stage that watches the shutdown signal: it stops reading, drops its sender, and the
//! later stages drain and finish.

use tokio::sync::mpsc;

use super::progress::Progress;
use crate::extract::{ExtractError, Extractor, Skipped};
use crate::record::Canonical;
use crate::shutdown::Shutdown;

/// A chunk of parsed records. `first_seq` numbers the first record among the file's parsed
/// records (1-based), so every record has a stable position for checkpoints. Records left unparsed
/// take no number: only a fresh run skips any (a resumed one parses all, see `raw_hashes`), and
/// numbering every record on the resume can only raise a record's number, so the resume re-sends
/// at worst a record the graph already has.
#[derive(Debug)]
pub struct Parsed {
    pub first_seq: u64,
    pub records: Vec<Canonical>,
    pub skipped: Vec<Skipped>,
    /// Records not parsed, their XML unchanged since the last ingest: id and raw hash.
    pub unchanged: Vec<(i64, u64)>,
}

/// What the source read.
#[derive(Debug, Default)]
pub struct SourceSummary {
    pub records: u64,
    pub skipped: u64,
    /// Records not parsed, their XML unchanged since the last ingest.
    pub unchanged: u64,
    /// The whole file was read (not cut short by a shutdown or a closed downstream).
    pub complete: bool,
    /// Time spent reading and parsing, not waiting for downstream.
    pub busy_seconds: f64,
}

/// Reads `extractor` to the end (blocking; run it on a blocking thread).
///
/// # Errors
///
/// The file turned out unreadable.
pub fn run(
    mut extractor: Extractor,
    mut progress: Progress,
    output: mpsc::Sender<Parsed>,
    shutdown: Shutdown,
) -> Result<SourceSummary, ExtractError> {
    let mut summary = SourceSummary::default();
    loop {
        if shutdown.is_fired() {
            tracing::info!("shutdown: stopped reading");
            break;
        }
        let started = std::time::Instant::now();
        let next = extractor.next_batch()?;
        summary.busy_seconds += started.elapsed().as_secs_f64();
        let Some(batch) = next else {
            summary.complete = true;
            break;
        };
        let parsed = Parsed {
            first_seq: summary.records + 1,
            records: batch.records,
            skipped: batch.skipped,
            unchanged: batch.unchanged,
        };
        summary.records += parsed.records.len() as u64;
        summary.skipped += parsed.skipped.len() as u64;
        summary.unchanged += parsed.unchanged.len() as u64;
        progress.update(summary.records + summary.unchanged);
        // Backpressure: this blocks while the writers are behind.
        if output.blocking_send(parsed).is_err() {
            break;
        }
    }
    progress.finish();
    Ok(summary)
}
