//! One ingest of a dump, step by step: verify its files, pair the graph with PostgreSQL (or decide
//! to build it from scratch), load the files through the pipeline, finish the graph and bump the
//! generation.

use std::path::Path;
use std::time::Instant;

use deadpool_postgres::Pool;
use neo4rs::Graph;

use super::IngestError;
use super::graph_sink::{self, Aggregation, GraphSink};
use super::pipeline::{self, FileOutcome};
use super::settings::Settings;
use crate::dump::{self, Dump, checksum};
use crate::record::Kind;
use crate::shutdown::Shutdown;
use crate::store::graph::{self, aggregates, bulk};
use crate::store::{bookkeeping, credits, facts, records};

/// Where a bulk import's files are written, under the data directory.
const EXPORT_DIR: &str = ".graph-import";

/// What an ingest did.
#[derive(Debug, Clone)]
pub struct Summary {
    pub version: String,
    pub files: Vec<(Kind, FileOutcome)>,
    /// Seconds spent recomputing the graph aggregates (0 when nothing changed).
    pub aggregate_seconds: f64,
    /// Seconds spent loading the graph with `neo4j-admin database import` (0 when it went
    /// through Bolt).
    pub import_seconds: f64,
    /// Seconds spent bringing the people's credit counts up to date (and refilling the credits
    /// after an upgrade); beside the import, for a bulk load.
    pub credits_seconds: f64,
    /// Seconds spent writing the label and artist profiles (0 when nothing changed).
    pub profile_seconds: f64,
    /// Seconds spent computing the insights (0 when nothing changed).
    pub insight_seconds: f64,
    /// Every file was read completely (no shutdown cut it short).
    pub complete: bool,
    pub generation: i64,
    pub seconds: f64,
}

/// Ingests the newest complete dump in `settings.data_dir` into `pool` and `graph`.
///
/// # Errors
///
/// No usable dump, a checksum mismatch, an unreadable file, a store failure, or a refused mass
/// deletion. Whatever was written stays consistent, and running again resumes.
pub async fn run(
    pool: &Pool,
    graph: &Graph,
    settings: &Settings,
    shutdown: Shutdown,
) -> Result<Summary, IngestError> {
    let started = Instant::now();
    // Held until this function returns; two ingests interleaving would break every guarantee.
    let _lock = bookkeeping::lock_ingest(pool)
        .await?
        .map_err(|holder| IngestError::AlreadyRunning { holder })?;
    let dump = dump::find_newest(&settings.data_dir)?;
    tracing::info!(version = %dump.version, dir = %settings.data_dir.display(), "ingesting dump");
    verify(&dump, settings)?;
    let previously_done = bookkeeping::begin_version(pool, &dump.version).await?;
    let sink = pair(pool, graph, settings).await?;
    credits::prepare(pool).await?;
    facts::prepare(pool).await?;
    let (sink, files, complete) = load_files(pool, settings, sink, &dump, shutdown).await?;
    // The files' records are freed by now: the finish step starts from what is still in use.
    crate::allocator::release_free_memory();
    let mut summary = Summary {
        version: dump.version,
        files,
        aggregate_seconds: 0.0,
        import_seconds: 0.0,
        credits_seconds: 0.0,
        profile_seconds: 0.0,
        insight_seconds: 0.0,
        complete,
        generation: 0,
        seconds: 0.0,
    };
    if complete {
        finish(pool, sink, &mut summary, previously_done).await?;
    } else {
        drop(sink);
        // Cut short: the generation stays what the last complete ingest made it.
        summary.generation = bookkeeping::generation(pool).await?;
    }
    // A first load's counts were many small allocations, all freed by now.
    crate::allocator::release_free_memory();
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// Step 1: the dump's files against its CHECKSUM file, unless told not to.
fn verify(dump: &Dump, settings: &Settings) -> Result<(), IngestError> {
    match (&dump.checksum, settings.skip_checksum) {
        (Some(path), false) => {
            let checksums = checksum::Checksums::read(path)?;
            let files: Vec<&Path> = dump.files.iter().map(|f| f.path.as_path()).collect();
            checksum::verify_files(&checksums, &settings.data_dir, &files)?;
            tracing::info!(checksum_file = %path.display(), "checksums verified");
        }
        (None, false) => {
            tracing::warn!(version = %dump.version, "no CHECKSUM file beside the dump; files not verified")
        }
        (_, true) => tracing::warn!("checksum verification skipped (--skip-checksum)"),
    }
    Ok(())
}

/// Step 2: the graph sink. A graph that does not carry this database's pairing token cannot be
/// trusted to hold the records PostgreSQL calls unchanged (it was emptied, or built from another
/// database): it is rebuilt, through the bulk import when one is configured (Neo4j keeps serving
/// its previous graph meanwhile), through Bolt after emptying it otherwise. The token goes into
/// Neo4j only once the rebuild is complete, so an interrupted rebuild starts over.
async fn pair(pool: &Pool, graph: &Graph, settings: &Settings) -> Result<GraphSink, IngestError> {
    // Absolute: the import command may run elsewhere than our working directory.
    let export_dir = std::path::absolute(settings.data_dir.join(EXPORT_DIR)).map_err(|source| {
        graph_sink::Error::from(bulk::ExportError::Io {
            path: settings.data_dir.join(EXPORT_DIR),
            source,
        })
    })?;
    let pg_token = bookkeeping::graph_token(pool).await?;
    let paired = pg_token.is_some() && pg_token == graph::pairing_token(graph).await?;
    if paired {
        // What an interrupted export left, if the bulk import is no longer used.
        bulk::remove_files(&export_dir);
        return Ok(GraphSink::bolt(graph.clone(), pool.clone(), None));
    }
    if pg_token.is_some() {
        tracing::warn!(
            "the graph does not hold this database's data (emptied, or built from another database): rebuilding it"
        );
    }
    let token = new_token();
    bookkeeping::set_graph_token(pool, &token).await?;
    match &settings.import_command {
        Some(command) => Ok(GraphSink::bulk(
            graph.clone(),
            pool.clone(),
            token,
            command.clone(),
            export_dir,
        )?),
        None => {
            bulk::remove_files(&export_dir);
            tracing::info!("emptying the graph before rebuilding it through Bolt");
            let started = Instant::now();
            let (relationships, nodes) = graph::clear(graph).await?;
            tracing::info!(
                relationships,
                nodes,
                seconds = started.elapsed().as_secs_f64(),
                "graph emptied"
            );
            Ok(GraphSink::bolt(graph.clone(), pool.clone(), Some(token)))
        }
    }
}

/// Step 3: every file through the pipeline, in load order, until the last or a shutdown. Returns
/// the sink, each file's outcome, and whether every file was read completely.
async fn load_files(
    pool: &Pool,
    settings: &Settings,
    mut sink: GraphSink,
    dump: &Dump,
    shutdown: Shutdown,
) -> Result<(GraphSink, Vec<(Kind, FileOutcome)>, bool), IngestError> {
    let mut files = Vec::new();
    for file in &dump.files {
        if shutdown.is_fired() {
            return Ok((sink, files, false));
        }
        let outcome;
        (sink, outcome) =
            pipeline::ingest_file(pool, settings, sink, &dump.version, file, shutdown.clone())
                .await?;
        files.push((file.kind, outcome));
        if !outcome.complete {
            return Ok((sink, files, false));
        }
    }
    Ok((sink, files, true))
}

/// Step 4, once every file is complete: the credit counts brought up to date (while the import
/// tool builds the graph, if it does), the graph finished (imported, aggregated if anything
/// changed), the version marked done and, if anything changed,
/// the generation bumped so the API drops its cached answers; then the graph paired (see
/// [`GraphSink::finish`]).
async fn finish(
    pool: &Pool,
    sink: GraphSink,
    summary: &mut Summary,
    previously_done: bool,
) -> Result<(), IngestError> {
    let changed = summary
        .files
        .iter()
        .any(|(_, outcome)| outcome.counts.changed_anything());
    // Aggregates defined by an older release are recomputed, changed data or not.
    let aggregation =
        if bookkeeping::aggregates_version(pool).await? != aggregates::AGGREGATES_VERSION {
            Aggregation::Recompute
        } else if changed || !previously_done {
            Aggregation::Update
        } else {
            Aggregation::Keep
        };
    // A graph built from scratch comes with a first load of the records, or with writes that
    // recorded no deltas: count everyone.
    let rebuilds = sink.rebuilds();
    let derived = async move {
        facts::create_indexes(pool).await?;
        if rebuilds {
            records::analyze(pool).await?;
        }
        credits::refresh(pool, rebuilds).await
    };
    let finished = sink.finish(&summary.version, aggregation, derived).await?;
    summary.credits_seconds = finished.postgres_seconds;
    summary.import_seconds = finished.import_seconds;
    summary.aggregate_seconds = finished.aggregate_seconds;
    summary.profile_seconds = finished.profile_seconds;
    summary.insight_seconds = finished.insight_seconds;
    summary.generation = finished.generation;
    Ok(())
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
