//! Stage 3a: write record batches to PostgreSQL, then hand them to the graph writer.
//!
//! PostgreSQL goes first so that the graph never holds a record PostgreSQL lacks: a resumed
//! ingest then knows from PostgreSQL alone what the graph may be missing (see `dedup`).

use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use tokio::sync::mpsc;

use super::batch::next_batch;
use super::{Action, BatchSettings, Work};
use crate::record::{Canonical, Kind};
use crate::store::{postgres, records};
use crate::telemetry;

/// Attempts per batch when the connection fails (a restarting server): about a minute in all.
const RETRIES: u32 = 12;

/// Writes every batch of `input` and forwards it to `output`. Returns the records written and the
/// seconds spent writing.
///
/// # Errors
///
/// A write failed for a reason other than a lost connection, or the server stayed away.
pub async fn run(
    pool: Pool,
    kind: Kind,
    run_id: i64,
    mut input: mpsc::Receiver<Vec<Work>>,
    output: mpsc::Sender<Vec<Work>>,
    settings: BatchSettings,
) -> postgres::Result<(u64, f64)> {
    let (mut written, mut busy) = (0, 0.0);
    while let Some(batch) = next_batch(&mut input, settings.size, settings.flush_interval).await {
        let inserts: Vec<&Canonical> = batch
            .iter()
            .filter(|w| w.action == Action::Insert)
            .map(|w| &w.record)
            .collect();
        let updates: Vec<&Canonical> = batch
            .iter()
            .filter(|w| w.action == Action::Update)
            .map(|w| &w.record)
            .collect();
        if !inserts.is_empty() || !updates.is_empty() {
            let started = Instant::now();
            write_with_retry(&pool, kind, run_id, &inserts, &updates).await?;
            let seconds = started.elapsed().as_secs_f64();
            busy += seconds;
            metrics::histogram!(telemetry::POSTGRES_BATCH_SECONDS, "kind" => kind.as_str())
                .record(seconds);
            metrics::counter!(telemetry::INGEST_RECORDS, "kind" => kind.as_str(), "outcome" => "postgres_written")
                .increment((inserts.len() + updates.len()) as u64);
            written += (inserts.len() + updates.len()) as u64;
        }
        if output.send(batch).await.is_err() {
            break;
        }
    }
    Ok((written, busy))
}

async fn write_with_retry(
    pool: &Pool,
    kind: Kind,
    run_id: i64,
    inserts: &[&Canonical],
    updates: &[&Canonical],
) -> postgres::Result<()> {
    let mut delay = Duration::from_millis(250);
    for attempt in 1.. {
        let result = async {
            let mut client = pool.get().await?;
            records::write(&mut client, kind, run_id, inserts, updates).await
        }
        .await;
        match result {
            Err(error) if attempt < RETRIES && is_connection_error(&error) => {
                tracing::warn!(%error, attempt, retry_in = ?delay, "postgres write failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
            }
            result => return result,
        }
    }
    unreachable!("the loop returns on the last attempt")
}

/// Whether the failure was the connection rather than the statement: worth retrying.
fn is_connection_error(error: &postgres::Error) -> bool {
    match error {
        postgres::Error::Pool(_) | postgres::Error::Connect { .. } => true,
        postgres::Error::Query(e) => {
            e.is_closed()
                || e.code().is_none_or(|code| {
                    code.code().starts_with("57P") || code.code().starts_with("08")
                })
        }
    }
}
