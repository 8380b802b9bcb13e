//! After a file is read completely: records the stores hold but the file no longer has are
//! deleted from both, graph first (so that an interruption leaves PostgreSQL still listing what
//! the graph may hold, and the next run redoes it), guarded against implausible mass deletion.

use deadpool_postgres::Pool;

use super::IngestError;
use super::graph_sink::GraphSink;
use crate::extract::RawHashes;
use crate::id_set::IdSet;
use crate::record::Kind;
use crate::store::{postgres, records};
use crate::telemetry;

/// Ids per delete statement and graph transaction.
const DELETE_BATCH: usize = 10_000;
/// Deleting more than this many rows *and* more than [`MAX_DELETE_SHARE`] of a table is refused
/// unless the user says otherwise: a truncated or mislabelled file looks exactly like that.
const MASS_DELETE_ROWS: usize = 1_000;
const MAX_DELETE_SHARE: f64 = 0.10;

/// Deletes from both stores every record of `kind` not in `seen`; returns how many. The stored
/// ids are those `held` lists when the last ingest left the whole list (every id the stores may
/// hold), else read from the table (at 4.75M releases 7-10 s, against a few milliseconds).
///
/// # Errors
///
/// The deletion looks like a mistake (and `allow_mass_delete` is off), or a store failed.
pub async fn run(
    pool: &Pool,
    graph: &GraphSink,
    kind: Kind,
    seen: &IdSet,
    held: Option<&RawHashes>,
    allow_mass_delete: bool,
) -> Result<u64, IngestError> {
    tracing::info!(%kind, listed = held.is_some(), "looking for records the new dump no longer has");
    let started = std::time::Instant::now();
    let mut absent = Vec::new();
    let mut total = 0usize;
    let compare = |id| {
        total += 1;
        if !seen.contains(id) {
            absent.push(id);
        }
    };
    match held {
        Some(held) => held.ids().for_each(compare),
        None => {
            let client = pool
                .get()
                .await
                .map_err(crate::store::postgres::Error::from)?;
            records::for_each_id(&**client, kind, compare).await?;
        }
    }
    tracing::info!(
        %kind,
        stored = total,
        absent = absent.len(),
        seconds = started.elapsed().as_secs_f64(),
        "compared the stored ids with the new dump"
    );
    if absent.is_empty() {
        return Ok(0);
    }
    let share = absent.len() as f64 / total as f64;
    if absent.len() > MASS_DELETE_ROWS && share > MAX_DELETE_SHARE && !allow_mass_delete {
        return Err(IngestError::MassDelete {
            kind,
            count: absent.len(),
            total,
            share,
        });
    }
    absent.sort_unstable();
    for ids in absent.chunks(DELETE_BATCH) {
        graph.delete(kind, ids).await?;
        postgres::retry("postgres deletion", || async {
            let mut client = pool.get().await?;
            records::delete(&mut client, kind, ids).await
        })
        .await?;
    }
    metrics::counter!(telemetry::INGEST_DELETED, "kind" => kind.as_str())
        .increment(absent.len() as u64);
    tracing::info!(
        %kind,
        deleted = absent.len(),
        seconds = started.elapsed().as_secs_f64(),
        "deleted records absent from the new dump"
    );
    Ok(absent.len() as u64)
}
