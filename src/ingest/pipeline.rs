//! The whole ingest wiring, in one place.
//!
//! ```text
//!                      Parsed             Vec<Work>                     Vec<Work>
//!  source ─────────────────► dedup ──────────────────► postgres_writer ──────────► neo4j_writer
//!  (blocking thread:          (hash lookup in          (binary COPY / upsert,       (UNWIND per batch,
//!   extractor, gunzip +        PostgreSQL; drops        one transaction per          then the graph
//!   parallel parse)            unchanged records)       batch)                       checkpoint; or CSV
//!                                                                                    files for a bulk
//!                                                                                    import, see
//!                                                                                    `GraphSink`)
//! ```
//!
//! Every stage is a task joined by a bounded channel, so a slow writer slows everything upstream
//! (backpressure) and memory stays flat whatever the dump size. Only the source watches the
//! shutdown signal: it stops reading and drops its sender; each later stage sees its input close,
//! flushes its partial batch and returns; this file awaits every handle.
//!
//! The writers form a chain rather than a fan-out: PostgreSQL commits a batch before the graph
//! sees it. Both still run at once, on different batches, so throughput is the slower store's, as
//! with a fan-out; in exchange the graph never holds a record PostgreSQL lacks, which is what makes
//! a resumed ingest exact (see `dedup`).

use std::path::Path;
use std::time::Instant;

use deadpool_postgres::Pool;
use neo4rs::Graph;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::neo4j_writer::GraphSink;
use super::progress::Progress;
use super::state::{self, Counts, FileRun};
use super::{
    BatchSettings, IngestError, Options, dedup, deletions, neo4j_writer, postgres_writer, source,
};
use crate::dump::DumpFile;
use crate::extract::{self, Extractor};
use crate::shutdown::Shutdown;

/// Parsed chunks (about 1 MiB of XML each) waiting for dedup: enough to keep the parser busy
/// while a lookup runs.
const PARSED_CAPACITY: usize = 4;
/// Chunks of work waiting for the PostgreSQL writer: about two batches' worth.
const POSTGRES_CAPACITY: usize = 32;
/// Batches waiting for the graph writer, which is the slowest stage on a first load. Each item is
/// a whole PostgreSQL batch (`POSTGRES_BATCH_SIZE` records, ~35 MB of releases), so two are enough
/// to keep the graph writer fed while bounding how far PostgreSQL runs ahead.
const NEO4J_CAPACITY: usize = 2;

/// The stores and settings every file's ingest uses.
pub struct Context {
    pub pool: Pool,
    /// For deletions, when the sink is transactional; records go to `graph_sink`.
    pub graph: Graph,
    pub graph_sink: GraphSink,
    pub postgres_batch: BatchSettings,
    pub neo4j_batch: BatchSettings,
    pub options: Options,
    /// The graph is being rebuilt from scratch (see `ingest::run`).
    pub rebuild_graph: bool,
}

/// How one file went.
#[derive(Debug, Clone, Copy)]
pub struct FileOutcome {
    pub counts: Counts,
    /// The file was read to its end (not cut short by a shutdown).
    pub complete: bool,
    pub seconds: f64,
    /// Where the time went: each stage's busy time (they overlap, so these add up to more than
    /// `seconds` when the pipeline keeps every stage busy).
    pub parse_seconds: f64,
    pub postgres_seconds: f64,
    pub neo4j_seconds: f64,
    pub delete_seconds: f64,
}

/// Ingests one dump file through the whole pipeline, then applies its deletions.
///
/// # Errors
///
/// Any stage failed; the run stays resumable and the next ingest continues it.
pub async fn ingest_file(
    context: &Context,
    version: &str,
    file: &DumpFile,
    shutdown: Shutdown,
) -> Result<FileOutcome, IngestError> {
    let started = Instant::now();
    let run = state::begin_file(
        &context.pool,
        version,
        file.kind,
        &file.file_name(),
        context.rebuild_graph,
    )
    .await?;
    if run.resumed {
        tracing::info!(file = %file.file_name(), graph_ordinal = run.graph_ordinal, "resuming an interrupted ingest of this file");
    }
    let result = run_stages(context, &run, &file.path, shutdown).await;
    match result {
        Ok(mut outcome) => {
            outcome.seconds = started.elapsed().as_secs_f64();
            if outcome.complete {
                state::finish_file(
                    &context.pool,
                    &run,
                    &outcome.counts,
                    started.elapsed().as_secs_f64(),
                )
                .await?;
            }
            Ok(outcome)
        }
        Err(error) => {
            // Best effort: the failure itself is what the user needs to hear about.
            if let Err(record_error) =
                state::fail_file(&context.pool, &run, &error.to_string()).await
            {
                tracing::warn!(error = %record_error, "could not record the failure in ingest_files");
            }
            Err(error)
        }
    }
}

async fn run_stages(
    context: &Context,
    run: &FileRun,
    path: &Path,
    shutdown: Shutdown,
) -> Result<FileOutcome, IngestError> {
    let (extractor, read) = Extractor::open_counted(
        path,
        &extract::Options {
            kind: Some(run.kind),
            threads: context.options.parser_threads,
            ..extract::Options::default()
        },
    )?;
    let total = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let progress = Progress::new(file_name.clone(), total, read);

    let (parsed_tx, parsed_rx) = mpsc::channel(PARSED_CAPACITY);
    let (postgres_tx, postgres_rx) = mpsc::channel(POSTGRES_CAPACITY);
    let (neo4j_tx, neo4j_rx) = mpsc::channel(NEO4J_CAPACITY);

    let source: JoinHandle<_> =
        tokio::task::spawn_blocking(move || source::run(extractor, progress, parsed_tx, shutdown));
    let dedup = tokio::spawn(dedup::run(
        context.pool.clone(),
        run.clone(),
        parsed_rx,
        postgres_tx,
    ));
    let postgres = tokio::spawn(postgres_writer::run(
        context.pool.clone(),
        run.kind,
        run.run_id,
        postgres_rx,
        neo4j_tx,
        context.postgres_batch,
    ));
    let neo4j = tokio::spawn(neo4j_writer::run(
        context.graph_sink.clone(),
        context.pool.clone(),
        run.kind,
        run.run_id,
        neo4j_rx,
        context.neo4j_batch,
    ));

    // Await every stage before judging any: the first failure closes channels and the others then
    // end on their own, so none is left running against the stores.
    let (source, dedup, postgres, neo4j) = tokio::join!(source, dedup, postgres, neo4j);
    let source = source??;
    let dedup = dedup??;
    let (_, postgres_seconds) = postgres??;
    let (_, neo4j_seconds) = neo4j??;

    let mut counts = dedup.counts;
    let complete = source.complete;
    let deleting = Instant::now();
    if complete {
        if dedup.unknown_skipped {
            tracing::warn!(file = %file_name, "some records were skipped without a readable id: not deleting absent records this time");
        } else {
            let graph = match context.graph_sink {
                GraphSink::Transactional(_) => Some(&context.graph),
                GraphSink::Bulk(_) => None,
            };
            counts.deleted = deletions::run(
                &context.pool,
                graph,
                run.kind,
                &dedup.seen,
                context.options.allow_mass_delete,
            )
            .await?;
        }
    }
    let delete_seconds = deleting.elapsed().as_secs_f64();
    tracing::info!(
        file = %file_name,
        records = counts.records,
        inserted = counts.inserted,
        updated = counts.updated,
        unchanged = counts.unchanged,
        graph_only = counts.graph_only,
        deleted = counts.deleted,
        skipped = counts.skipped,
        complete,
        parse_seconds = format!("{:.2}", source.busy_seconds),
        postgres_seconds = format!("{postgres_seconds:.2}"),
        neo4j_seconds = format!("{neo4j_seconds:.2}"),
        "file ingested"
    );
    Ok(FileOutcome {
        counts,
        complete,
        seconds: 0.0,
        parse_seconds: source.busy_seconds,
        postgres_seconds,
        neo4j_seconds,
        delete_seconds,
    })
}
