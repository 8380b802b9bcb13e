//! The whole ingest wiring of one dump file, in one place.
//!
//! ```text
//!            Parsed               Vec<Work>                   Vec<GraphWork>
//!  source ───────────► dedup ─────────────► postgres_writer ───────────────► graph_writer
//!  (blocking thread:    (hash lookup in      (binary COPY / upsert, one       (owns the GraphSink:
//!   extractor: gunzip,   PostgreSQL; drops    transaction per batch of at      Bolt UNWINDs of at most
//!   parallel parse to    unchanged records;   most POSTGRES_BATCH_SIZE;        NEO4J_BATCH_SIZE records
//!   JSON + graph facts,  writes the next      forwards the graph facts)        then a checkpoint, or
//!   skipping records     raw hashes)                                           CSV files for a bulk
//!   whose XML the last                                                         import)
//!   ingest stored)
//! ```
//!
//! Every stage is a task joined by a bounded channel, so a slow writer slows everything upstream
//! (backpressure) and memory stays flat whatever the dump size. Only the source watches the
//! shutdown signal: it stops reading and drops its sender; each later stage sees its input close,
//! flushes its partial batch and returns; this file awaits every handle. The graph writer hands the
//! sink back when the file is done, and the file's deletions go through it.
//!
//! The writers form a chain rather than a fan-out: PostgreSQL commits a batch before the graph
//! sees it. Both still run at once, on different batches, so throughput is the slower store's, as
//! with a fan-out; in exchange the graph never holds a record PostgreSQL lacks, which is what makes
//! a resumed ingest exact (see `dedup`). The JSON goes no further than PostgreSQL: the graph
//! writer gets each record's typed graph facts, built on the parser threads.

use std::path::Path;
use std::time::Instant;

use deadpool_postgres::Pool;
use tokio::sync::mpsc;

use super::graph_sink::GraphSink;
use super::progress::Progress;
use super::settings::Settings;
use super::{IngestError, dedup, deletions, graph_writer, postgres_writer, raw_hashes, source};
use crate::dump::DumpFile;
use crate::extract::{self, Extractor};
use crate::record::Canonical;
use crate::record::graph::digest::Changed;
use crate::shutdown::Shutdown;
use crate::store::bookkeeping::{self, Counts, FileRun};
use crate::store::graph::{GraphRecord, Prior};

/// Parsed chunks (about 1 MiB of XML each) waiting for dedup: enough to keep the parser busy
/// while a lookup runs.
const PARSED_CAPACITY: usize = 4;
/// Chunks of work waiting for the PostgreSQL writer: about half a batch (a chunk holds some 350
/// releases), so that the writer's next batch is well under way when it is done with one, and no
/// more: what waits is held in memory (16 chunks: 1M first load 204 MiB peak, 8: 185 MiB, in the
/// same time).
const POSTGRES_CAPACITY: usize = 8;
/// Written PostgreSQL batches waiting for the graph writer, which is the slowest stage on a first
/// load: two keep it fed while bounding how far PostgreSQL runs ahead.
pub const GRAPH_CAPACITY: usize = 2;

/// What to do with a record that dedup let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Not in PostgreSQL: insert it, and write it to the graph.
    Insert,
    /// In PostgreSQL with another hash: replace it in both stores.
    Update,
    /// Current in PostgreSQL, but the graph may lack it (an interrupted run, or a rebuild).
    GraphOnly,
}

/// A record on its way to the writers, with its position in the file.
#[derive(Debug)]
pub struct Work {
    pub seq: u64,
    pub record: Canonical,
    pub action: Action,
    /// For an update, the groups of its graph facts (and of its credits) that differ from what
    /// the stores hold ([`Changed::ALL`] otherwise).
    pub changed: Changed,
}

/// A record's graph facts on their way to the graph writer, with its position in the file.
#[derive(Debug)]
pub struct GraphWork {
    pub seq: u64,
    pub record: GraphRecord,
}

impl From<Work> for GraphWork {
    fn from(work: Work) -> GraphWork {
        GraphWork {
            seq: work.seq,
            record: GraphRecord {
                facts: work.record.graph,
                prior: match work.action {
                    Action::Insert => Prior::Nothing,
                    Action::Update => Prior::Version(work.changed.in_graph()),
                    Action::GraphOnly => Prior::Version(Changed::ALL),
                },
            },
        }
    }
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
    /// Records not parsed at all, their XML unchanged since the last ingest.
    pub unparsed: u64,
    /// Graph transactions (or bulk export batches) written, and the records in the largest.
    pub neo4j_batches: u64,
    pub largest_neo4j_batch: u64,
}

/// Ingests one dump file through the whole pipeline into `pool` and `sink`, then applies its
/// deletions; gives the sink back for the next file.
///
/// # Errors
///
/// Any stage failed; the run stays resumable and the next ingest continues it.
pub async fn ingest_file(
    pool: &Pool,
    settings: &Settings,
    sink: GraphSink,
    version: &str,
    file: &DumpFile,
    shutdown: Shutdown,
) -> Result<(GraphSink, FileOutcome), IngestError> {
    let started = Instant::now();
    // A graph being rebuilt needs every record; otherwise records whose XML the stores already
    // hold need no parsing.
    let token = bookkeeping::graph_token(pool).await?.unwrap_or_default();
    let settled = if sink.rebuilds() {
        None
    } else {
        bookkeeping::settled_run(pool, file.kind)
            .await?
            .map(|run_id| raw_hashes::Origin {
                token: token.clone(),
                run_id,
            })
    };
    let run = bookkeeping::begin_file(pool, version, file.kind, &file.file_name(), sink.rebuilds())
        .await?;
    let origin = raw_hashes::Origin {
        token,
        run_id: run.run_id,
    };
    let hashes =
        raw_hashes::ForFile::open(&settings.data_dir, file.kind, settled.as_ref(), &origin);
    if run.resumed {
        tracing::info!(file = %file.file_name(), graph_ordinal = run.graph_ordinal, "resuming an interrupted ingest of this file");
    }
    match run_stages(pool, settings, sink, &run, &file.path, hashes, shutdown).await {
        Ok((sink, mut outcome, hashes)) => {
            outcome.seconds = started.elapsed().as_secs_f64();
            if outcome.complete {
                bookkeeping::finish_file(pool, &run, &outcome.counts, outcome.seconds).await?;
                if let Some(hashes) = hashes {
                    hashes.finish(&settings.data_dir, file.kind);
                }
            }
            Ok((sink, outcome))
        }
        Err(error) => {
            // Best effort: the failure itself is what the user needs to hear about.
            if let Err(record_error) = bookkeeping::fail_file(pool, &run, &error.to_string()).await
            {
                tracing::warn!(error = %record_error, "could not record the failure in ingest_files");
            }
            Err(error)
        }
    }
}

async fn run_stages(
    pool: &Pool,
    settings: &Settings,
    sink: GraphSink,
    run: &FileRun,
    path: &Path,
    hashes: raw_hashes::ForFile,
    shutdown: Shutdown,
) -> Result<(GraphSink, FileOutcome, Option<raw_hashes::Writer>), IngestError> {
    let raw_hashes::ForFile {
        known: unchanged,
        held,
        writer: hashes,
    } = hashes;
    if let Some(known) = &unchanged {
        tracing::info!(kind = %run.kind, records = known.len(), "records whose XML is unchanged since the last ingest will not be parsed");
    }
    let (extractor, read) = Extractor::open_counted(
        path,
        &extract::Options {
            kind: Some(run.kind),
            threads: settings.parser_threads,
            unchanged,
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
    let (graph_tx, graph_rx) = mpsc::channel(GRAPH_CAPACITY);

    let source =
        tokio::task::spawn_blocking(move || source::run(extractor, progress, parsed_tx, shutdown));
    let dedup = tokio::spawn(dedup::run(
        pool.clone(),
        run.clone(),
        parsed_rx,
        postgres_tx,
        hashes,
    ));
    let postgres = tokio::spawn(postgres_writer::run(
        pool.clone(),
        run.clone(),
        postgres_rx,
        graph_tx,
        settings.postgres_batch,
    ));
    let graph = tokio::spawn(graph_writer::run(
        sink,
        run.clone(),
        graph_rx,
        settings.neo4j_batch,
    ));

    // Await every stage before judging any: the first failure closes channels and the others then
    // end on their own, so none is left running against the stores.
    let (source, dedup, postgres, graph) = tokio::join!(source, dedup, postgres, graph);
    let source = source??;
    let dedup = dedup??;
    let postgres = postgres??;
    let graph = graph??;
    let sink = graph.sink;

    let mut counts = dedup.counts;
    let complete = source.complete;
    let deleting = Instant::now();
    let mut raw_hashes = Some(dedup.raw_hashes);
    if complete {
        if dedup.unknown_skipped {
            tracing::warn!(file = %file_name, "some records were skipped without a readable id: not deleting absent records this time");
            // The stores may then hold ids the file does not list: the next ingest reads them.
            raw_hashes = None;
        } else {
            counts.deleted = deletions::run(
                pool,
                &sink,
                run.kind,
                &dedup.seen,
                held.as_deref(),
                settings.allow_mass_delete,
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
        unparsed = dedup.unparsed,
        complete,
        parse_seconds = format!("{:.2}", source.busy_seconds),
        postgres_seconds = format!("{:.2}", postgres.busy_seconds),
        neo4j_seconds = format!("{:.2}", graph.busy_seconds),
        "file ingested"
    );
    let outcome = FileOutcome {
        counts,
        complete,
        seconds: 0.0,
        parse_seconds: source.busy_seconds,
        postgres_seconds: postgres.busy_seconds,
        neo4j_seconds: graph.busy_seconds,
        delete_seconds,
        unparsed: dedup.unparsed,
        neo4j_batches: graph.batches,
        largest_neo4j_batch: graph.largest_batch,
    };
    Ok((sink, outcome, raw_hashes))
}
