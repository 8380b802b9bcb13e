//! One entry point per subcommand. `main` resolves the configuration and calls exactly one of
//! these; each returns an error with context for `main` to print on one line.

use std::io::{self, Write};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::cli::{DownloadArgs, IngestArgs, ParseArgs, PerftestArgs, RunArgs};
use crate::config::Config;
use crate::extract::{self, Extractor};
use crate::ingest;
use crate::shutdown::{self, Shutdown};
use crate::store::bookkeeping;
use crate::store::{migrate, neo4j::Neo4j, postgres};

/// `discogs migrate`: both stores' schemas, idempotently.
///
/// # Errors
///
/// A database is unreachable or a migration fails.
pub async fn migrate(config: &Config) -> Result<()> {
    let (pool, neo4j) = connect(config).await?;
    migrate_stores(&pool, &neo4j).await
}

/// Applies both stores' migrations; every command that writes runs this first.
async fn migrate_stores(pool: &deadpool_postgres::Pool, neo4j: &Neo4j) -> Result<()> {
    let applied = migrate::postgres(pool)
        .await
        .context("migrating PostgreSQL")?;
    migrate::neo4j(&neo4j.graph)
        .await
        .context("migrating Neo4j")?;
    tracing::info!(applied = ?applied, "migrations complete");
    Ok(())
}

/// `discogs run`: ingest and/or serve, until done or until SIGINT/SIGTERM.
///
/// With both, the API serves during the ingest and goes on after it; an ingest failure is logged
/// at once and returned when the server stops.
///
/// # Errors
///
/// Neither part was asked for, a database is unreachable, the ingest failed, or the listener
/// cannot bind.
pub async fn run(config: &Config, args: &RunArgs) -> Result<()> {
    let shutdown = shutdown_on_signal();
    match (args.ingest, args.serve) {
        (false, false) => bail!("nothing to do: give --ingest, --serve or both"),
        (true, false) => ingest_with(config, &args.ingest_args, shutdown).await,
        (false, true) => serve_with(config, shutdown).await,
        (true, true) => {
            // Schema first, so the API never meets tables the ingest has yet to create.
            {
                let (pool, neo4j) = connect(config).await?;
                migrate_stores(&pool, &neo4j).await?;
            }
            let serving = serve_with(config, shutdown.clone());
            let ingesting = async {
                let result = ingest_with(config, &args.ingest_args, shutdown.clone()).await;
                if let Err(error) = &result {
                    tracing::error!(
                        error = crate::telemetry::one_line(error.as_ref()),
                        "ingest failed; the API keeps serving"
                    );
                }
                result
            };
            let (served, ingested) = tokio::join!(serving, ingesting);
            served.and(ingested)
        }
    }
}

/// `discogs ingest`.
///
/// # Errors
///
/// See [`ingest::run`].
pub async fn ingest(config: &Config, args: &IngestArgs) -> Result<()> {
    ingest_with(config, args, shutdown_on_signal()).await
}

async fn ingest_with(config: &Config, args: &IngestArgs, shutdown: Shutdown) -> Result<()> {
    let (pool, neo4j) = connect(config).await?;
    if args.download || crate::dump::find_newest(&config.data_dir).is_err() {
        download_with(config, true)
            .await
            .context("no complete dump in the data directory, and downloading one failed")?;
    }
    migrate_stores(&pool, &neo4j).await?;
    let mut settings = ingest::Settings::from_config(config);
    settings.allow_mass_delete = args.allow_mass_delete;
    settings.skip_checksum = args.skip_checksum;
    if let Some(threads) = args.parser_threads {
        settings.parser_threads = threads;
    }
    let summary = ingest::run(&pool, &neo4j.graph, &settings, shutdown)
        .await
        .context("ingest failed")?;
    let records: u64 = summary
        .files
        .iter()
        .map(|(_, outcome)| outcome.counts.records)
        .sum();
    tracing::info!(
        version = %summary.version,
        records,
        seconds = format!("{:.1}", summary.seconds),
        records_per_second = (records as f64 / summary.seconds.max(1e-3)).round(),
        generation = summary.generation,
        complete = summary.complete,
        "ingest finished"
    );
    if !summary.complete {
        tracing::warn!("ingest stopped before the end; run it again to resume");
    }
    Ok(())
}

/// `discogs serve`: the API until SIGINT/SIGTERM.
///
/// The databases need not be up yet: `/ready` reports them until they are, as a service started
/// beside its databases (docker compose, systemd) expects.
///
/// # Errors
///
/// The listener cannot bind.
pub async fn serve(config: &Config) -> Result<()> {
    serve_with(config, shutdown_on_signal()).await
}

async fn serve_with(config: &Config, shutdown: Shutdown) -> Result<()> {
    let state = AppState::new(config)?;
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (set DISCOGS_LISTEN or --listen)",
            config.listen
        )
    })?;
    api::serve(listener, state, shutdown.fired())
        .await
        .context("API server failed")
}

/// `discogs download`: the newest complete dump into the data directory, verified.
///
/// # Errors
///
/// See [`crate::dump::download::download`].
pub async fn download(config: &Config, args: &DownloadArgs) -> Result<()> {
    download_with(config, !args.no_verify).await
}

async fn download_with(config: &Config, verify: bool) -> Result<()> {
    let options = crate::dump::download::Options {
        base_url: config.base_url.clone(),
        data_dir: config.data_dir.clone(),
        verify,
    };
    let dump =
        tokio::task::spawn_blocking(move || crate::dump::download::download(&options)).await??;
    tracing::info!(version = %dump.version, dir = %config.data_dir.display(), "dump ready");
    Ok(())
}

/// `discogs perftest`: the latency suite of the config's `[perftest]` section against a running
/// API; prints the table (and writes JSON when asked), and fails if any request failed.
///
/// # Errors
///
/// See [`crate::perftest::run`]; also when requests failed or the JSON cannot be written.
pub async fn perftest(config: &Config, args: &PerftestArgs) -> Result<()> {
    let settings = &config.perftest;
    let duration = args.duration.or(settings.duration).unwrap_or(30.0);
    let options = crate::perftest::Options {
        base_url: args
            .url
            .clone()
            .or_else(|| settings.url.clone())
            .unwrap_or_else(|| format!("http://{}", config.listen)),
        lookups: settings.lookups.clone(),
        requests: settings.requests.clone(),
        distinct: settings.distinct.clone(),
        cold_runs: args.cold_runs.or(settings.cold_runs).unwrap_or(10),
        warm_runs: args.warm_runs.or(settings.warm_runs).unwrap_or(200),
        concurrency: args.concurrency.or(settings.concurrency).unwrap_or(32),
        duration: std::time::Duration::try_from_secs_f64(duration)
            .with_context(|| format!("--duration {duration} is not a number of seconds"))?,
        explain: args.explain,
    };
    let report = tokio::task::spawn_blocking(move || crate::perftest::run(&options)).await??;
    print!("{}", report.table());
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_vec_pretty(&report)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    } else if args.explain {
        for endpoint in &report.endpoints {
            println!("\n== {} {}", endpoint.name, endpoint.path);
            println!("{:#}", endpoint.explain.clone().unwrap_or_default());
        }
    }
    match report.errors() {
        0 => Ok(()),
        errors => bail!("{errors} requests failed (first errors are listed above)"),
    }
}

/// `discogs status`: one line per ingested file, newest dump first.
///
/// # Errors
///
/// PostgreSQL is unreachable or not migrated.
pub async fn status(config: &Config) -> Result<()> {
    let pool = postgres::connect(&config.postgres).await?;
    let generation = bookkeeping::generation(&pool)
        .await
        .context("reading ingest state (run `discogs migrate` first?)")?;
    let files = bookkeeping::file_statuses(&pool).await?;
    let mut out = io::stdout().lock();
    writeln!(out, "generation {generation}")?;
    if files.is_empty() {
        writeln!(out, "nothing ingested yet")?;
    }
    writeln!(
        out,
        "{:<10} {:<9} {:<11} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8}",
        "version",
        "file",
        "status",
        "records",
        "inserted",
        "updated",
        "unchanged",
        "deleted",
        "skipped",
        "seconds"
    )?;
    for file in files {
        writeln!(
            out,
            "{:<10} {:<9} {:<11} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8} {:>8}",
            file.version,
            file.kind,
            file.status,
            file.records,
            file.inserted,
            file.updated,
            file.unchanged,
            file.deleted,
            file.skipped,
            file.seconds
                .map_or_else(|| "-".to_owned(), |s| format!("{s:.1}")),
        )?;
        if let Some(error) = file.error {
            writeln!(out, "  error: {error}")?;
        }
    }
    Ok(())
}

/// A shutdown signal fired by SIGINT/SIGTERM.
fn shutdown_on_signal() -> Shutdown {
    let (trigger, shutdown) = Shutdown::new();
    tokio::spawn(async move {
        shutdown::signal().await;
        let _ = trigger.send(true);
    });
    shutdown
}

/// Connects to both stores, failing with one clear message per unreachable one.
async fn connect(config: &Config) -> Result<(deadpool_postgres::Pool, Neo4j)> {
    let (pool, neo4j) = tokio::join!(
        postgres::connect(&config.postgres),
        Neo4j::connect(&config.neo4j)
    );
    Ok((pool?, neo4j?))
}

/// `discogs parse FILE`: NDJSON records to stdout, a summary to stderr. Needs no database.
///
/// # Errors
///
/// The file cannot be read as a dump, too many records are unparseable, or stdout fails (a
/// closed pipe, as in `| head`, ends the output quietly instead).
pub fn parse(args: &ParseArgs) -> Result<()> {
    let started = Instant::now();
    let options = extract::Options {
        threads: args.threads.unwrap_or(extract::Options::default().threads),
        max_errors: args.max_errors,
        kind: args.kind,
        unchanged: None,
    };
    let mut extractor = Extractor::open(&args.file, &options)?;
    let kind = extractor.kind();
    let limit = args.limit.unwrap_or(u64::MAX);
    let mut out = io::BufWriter::with_capacity(1 << 20, io::stdout().lock());
    let (mut records, mut skipped, mut xml_bytes) = (0u64, 0u64, 0u64);
    let written = (|| -> Result<()> {
        while records < limit {
            let Some(batch) = extractor.next_batch()? else {
                break;
            };
            skipped += batch.skipped.len() as u64;
            xml_bytes += batch.xml_bytes;
            for record in batch.records.iter().take((limit - records) as usize) {
                write!(
                    out,
                    "{{\"type\":\"{}\",\"id\":{},\"sha256\":\"{}\",\"record\":",
                    kind.singular(),
                    record.id,
                    hex::encode(record.hash)
                )?;
                out.write_all(&record.json)?;
                out.write_all(b"}\n")?;
                records += 1;
            }
        }
        out.flush()?;
        Ok(())
    })();
    if let Err(error) = written {
        let closed_pipe = error
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe);
        if !closed_pipe {
            return Err(error);
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "{}: {records} records of {kind}, {skipped} skipped, {xml_bytes} bytes of XML, {seconds:.2} s ({:.0} records/s)",
        args.file.display(),
        records as f64 / seconds.max(1e-9),
    );
    Ok(())
}
