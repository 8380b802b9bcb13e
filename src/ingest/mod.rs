//! The ingest: a dump's four files into PostgreSQL and Neo4j, writing only what changed.
//!
//! [`run`] finds the newest complete dump in the data directory, verifies it against its CHECKSUM
//! file, applies the migrations, and ingests the files in the order that minimises stubs
//! (artists, labels, masters, releases; releases reference all the others). Each file goes through
//! the pipeline of [`pipeline`]; afterwards the graph's aggregate properties are recomputed and the
//! generation is bumped so the API drops its cached answers.
//!
//! Semantics (SPEC §8): idempotent (a second ingest of the same dump writes nothing), incremental
//! (changed records replace their old versions, absent ones are deleted, within a guard), and
//! crash-safe (an interrupted run is resumed by the next; see `dedup` and `state`).

mod batch;
mod dedup;
mod deletions;
mod neo4j_writer;
pub mod pipeline;
mod postgres_writer;
mod progress;
mod source;
pub mod state;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use neo4rs::Graph;

use crate::config::Config;
use crate::dump::{self, DumpError, checksum};
use crate::record::{Canonical, Kind};
use crate::shutdown::Shutdown;
use crate::store::graph::{self, bulk};
use crate::store::migrate;
use neo4j_writer::GraphSink;

pub use state::Counts;

/// What to do with a record that dedup let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Not in PostgreSQL: insert it, and write it to the graph.
    Insert,
    /// In PostgreSQL with another hash: replace it in both stores.
    Update,
    /// Current in PostgreSQL, but an interrupted run may not have written it to the graph.
    GraphOnly,
}

/// A record on its way to the writers, with its position in the file.
#[derive(Debug)]
pub struct Work {
    pub seq: u64,
    pub record: Canonical,
    pub action: Action,
}

/// A writer's batch size and flush interval.
#[derive(Debug, Clone, Copy)]
pub struct BatchSettings {
    pub size: usize,
    pub flush_interval: Duration,
}

/// Choices of one ingest.
#[derive(Debug, Clone)]
pub struct Options {
    pub data_dir: PathBuf,
    /// Delete absent records even when they are an implausibly large share of a table.
    pub allow_mass_delete: bool,
    /// Skip checking the files against the dump's CHECKSUM file.
    pub skip_checksum: bool,
    /// Extractor threads per file.
    pub parser_threads: usize,
}

/// Why an ingest failed. Each message says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Dump(#[from] DumpError),
    #[error(transparent)]
    Checksum(#[from] checksum::ChecksumError),
    #[error(transparent)]
    Download(#[from] dump::download::DownloadError),
    #[error(transparent)]
    Extract(#[from] crate::extract::ExtractError),
    #[error(transparent)]
    Postgres(#[from] crate::store::postgres::Error),
    #[error(transparent)]
    Neo4j(#[from] crate::store::neo4j::Error),
    #[error("graph writer: {0}")]
    GraphWriter(#[from] neo4j_writer::Error),
    #[error(transparent)]
    GraphExport(#[from] bulk::ExportError),
    #[error(transparent)]
    GraphImport(#[from] bulk::ImportError),
    #[error(
        "refusing to delete {count} of {total} {kind} ({:.1}%): the new dump looks incomplete; if it is right, run again with --allow-mass-delete",
        share * 100.0
    )]
    MassDelete {
        kind: Kind,
        count: usize,
        total: usize,
        share: f64,
    },
    #[error("ingest task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A fresh pairing token: the SHA-256 of the clock and the process id, unique enough to tell one
/// database's graph from another's.
fn new_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seed = format!("{}:{}", now.as_nanos(), std::process::id());
    hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(seed.as_bytes())[..16])
}

/// Where a bulk import's files are written, under the data directory.
const EXPORT_DIR: &str = ".graph-import";

/// Loads the exported graph with the import command, then puts back what the import replaced:
/// the schema (constraints and indexes, online before anything queries them), and removes the
/// CSV files.
async fn import_graph(
    graph: &Graph,
    command: &str,
    token: &str,
    export: Arc<Mutex<bulk::Export>>,
    dir: &Path,
) -> Result<(), IngestError> {
    let args_file = tokio::task::spawn_blocking(move || {
        // The pipeline's stages are done, so this is the last reference.
        let export = Arc::into_inner(export).ok_or(neo4j_writer::Error::ExportInUse)?;
        let export = export
            .into_inner()
            .map_err(|_| neo4j_writer::Error::ExportPoisoned)?;
        Ok::<_, IngestError>(export.finish()?)
    })
    .await??;
    bulk::import(graph, command, &args_file, token).await?;
    migrate::neo4j(graph).await?;
    graph
        .run(neo4rs::query("CALL db.awaitIndexes(3600)"))
        .await
        .map_err(crate::store::neo4j::Error::from)?;
    // The CSV files are as big as the graph; the tool's log and report stay for reading.
    bulk::remove_files(dir);
    Ok(())
}

/// What an ingest did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub version: String,
    pub files: Vec<(Kind, pipeline::FileOutcome)>,
    /// Seconds spent recomputing the graph aggregates (0 when nothing changed).
    pub aggregate_seconds: f64,
    /// Seconds spent loading the graph with `neo4j-admin database import` (0 when it went
    /// through Bolt).
    pub import_seconds: f64,
    /// Every file was read completely (no shutdown cut it short).
    pub complete: bool,
    pub generation: i64,
    pub seconds: f64,
}

/// Ingests the newest complete dump in `options.data_dir`.
///
/// # Errors
///
/// No usable dump, a checksum mismatch, an unreadable file, a store failure, or a refused mass
/// deletion. Whatever was written stays consistent, and running again resumes.
pub async fn run(
    pool: &Pool,
    graph: &Graph,
    config: &Config,
    options: Options,
    shutdown: Shutdown,
) -> Result<Summary, IngestError> {
    let started = Instant::now();
    let dump = dump::find_newest(&options.data_dir)?;
    tracing::info!(version = %dump.version, dir = %options.data_dir.display(), "ingesting dump");
    match (&dump.checksum, options.skip_checksum) {
        (Some(path), false) => {
            let checksums = checksum::Checksums::read(path)?;
            let files: Vec<&std::path::Path> =
                dump.files.iter().map(|f| f.path.as_path()).collect();
            dump::download::verify_files(&checksums, &options.data_dir, &files)?;
            tracing::info!(checksum_file = %path.display(), "checksums verified");
        }
        (None, false) => {
            tracing::warn!(version = %dump.version, "no CHECKSUM file beside the dump; files not verified")
        }
        (_, true) => tracing::warn!("checksum verification skipped (--skip-checksum)"),
    }

    let previously_done = state::begin_version(pool, &dump.version).await?;
    // A graph that does not carry this database's pairing token cannot be trusted to hold the
    // records PostgreSQL calls unchanged (it was emptied, or built from another database): rebuild
    // it. The token goes into Neo4j only once the rebuild is complete, so an interrupted rebuild
    // starts over.
    let pg_token = state::graph_token(pool).await?;
    let rebuild_token = match (&pg_token, graph::pairing_token(graph).await?) {
        (Some(expected), Some(found)) if *expected == found => None,
        _ => {
            let token = new_token();
            if pg_token.is_some() {
                tracing::warn!(
                    "the graph does not hold this database's data (emptied, or built from another database): rebuilding it"
                );
            }
            state::set_graph_token(pool, &token).await?;
            // A bulk import replaces the whole database, so only the Bolt path empties it.
            if config.neo4j.import_command.is_none() {
                graph::clear(graph).await?;
            }
            Some(token)
        }
    };
    // A graph to build from scratch, and a way to run Neo4j's import tool: write CSV files
    // instead. The graph Neo4j holds meanwhile stays as it was (and unpaired, so an interrupted
    // run exports again) until the import replaces it. Absolute: the import command may run
    // elsewhere than our working directory.
    let export_dir = std::path::absolute(options.data_dir.join(EXPORT_DIR)).map_err(|source| {
        bulk::ExportError::Io {
            path: options.data_dir.join(EXPORT_DIR),
            source,
        }
    })?;
    let bulk_import = match (&rebuild_token, &config.neo4j.import_command) {
        (Some(token), Some(command)) => {
            let export = bulk::Export::create(&export_dir, token)?;
            tracing::info!(dir = %export_dir.display(), "building the graph from scratch: writing it as files for neo4j-admin database import");
            Some((
                command.as_str(),
                token.as_str(),
                Arc::new(Mutex::new(export)),
            ))
        }
        _ => {
            // What an interrupted export left, if the bulk import is no longer used.
            bulk::remove_files(&export_dir);
            None
        }
    };
    let graph_sink = match &bulk_import {
        Some((_, _, export)) => GraphSink::Bulk(Arc::clone(export)),
        None => GraphSink::Transactional(graph.clone()),
    };
    let context = pipeline::Context {
        pool: pool.clone(),
        graph: graph.clone(),
        graph_sink,
        postgres_batch: BatchSettings {
            size: config.postgres.batch_size,
            flush_interval: config.postgres.batch_flush_interval,
        },
        neo4j_batch: BatchSettings {
            size: config.neo4j.batch_size,
            flush_interval: config.neo4j.batch_flush_interval,
        },
        options,
        rebuild_graph: rebuild_token.is_some(),
    };
    let mut files = Vec::new();
    let mut complete = true;
    for file in &dump.files {
        if shutdown.is_fired() {
            complete = false;
            break;
        }
        let outcome =
            pipeline::ingest_file(&context, &dump.version, file, shutdown.clone()).await?;
        files.push((file.kind, outcome));
        if !outcome.complete {
            complete = false;
            break;
        }
    }
    let changed = files
        .iter()
        .any(|(_, outcome)| outcome.counts.changed_anything());
    let mut generation = state::generation(pool).await?;
    let mut aggregate_seconds = 0.0;
    let mut import_seconds = 0.0;
    if complete {
        if let Some((command, token, export)) = bulk_import {
            drop(context);
            let started = Instant::now();
            import_graph(graph, command, token, export, &export_dir).await?;
            import_seconds = started.elapsed().as_secs_f64();
        }
        // Aggregates defined by an older release are recomputed too, changed data or not.
        let stale_aggregates = state::aggregates_version(pool).await? != graph::AGGREGATES_VERSION;
        let recompute = changed || !previously_done || stale_aggregates;
        if recompute {
            let aggregates = Instant::now();
            graph::aggregate(graph).await?;
            state::set_aggregates_version(pool, graph::AGGREGATES_VERSION).await?;
            aggregate_seconds = aggregates.elapsed().as_secs_f64();
            tracing::info!(seconds = aggregate_seconds, "graph aggregates recomputed");
        }
        generation = state::finish_version(pool, &dump.version, recompute).await?;
        if let Some(token) = &rebuild_token {
            graph::set_pairing_token(graph, token).await?;
        }
    }
    Ok(Summary {
        version: dump.version,
        files,
        aggregate_seconds,
        import_seconds,
        complete,
        generation,
        seconds: started.elapsed().as_secs_f64(),
    })
}
