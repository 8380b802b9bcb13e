//! End-to-end ingest benchmark against the PostgreSQL and Neo4j of `scripts/services.sh up`:
//! a first load of a generated dump (100,000 releases and the catalogue's proportions of artists,
//! labels and masters by default; `BENCH_RELEASES=N` changes it), a re-ingest of the same dump,
//! and a next month (1% of records changed, 0.5% added, 0.1% removed). Reports records/s per file and overall, where the time
//! went (each stage's busy seconds), and peak RSS per phase.
//!
//! It drops and recreates the PostgreSQL database `discogs_bench` and **empties the Neo4j
//! database** (Community edition has only one), so it runs only when asked:
//!
//! `cargo bench --bench ingest -- --wipe`
//!
//! The first load goes through `neo4j-admin database import` when `NEO4J_IMPORT_COMMAND` is set
//! (`NEO4J_IMPORT_COMMAND="$PWD/scripts/services.sh neo4j-import"`), through Bolt otherwise.

#[path = "support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Instant;

use discogs::cli::GlobalArgs;
use discogs::config::Config;
use discogs::generate::{Spec, generate};
use discogs::ingest::{self, Settings, Summary};
use discogs::shutdown::Shutdown;
use discogs::store::neo4j::Neo4j;
use discogs::store::{migrate, postgres};

fn main() {
    // As the binary does, before the runtime's threads start.
    discogs::allocator::set_malloc_options();
    tokio::runtime::Runtime::new()
        .expect("a Tokio runtime")
        .block_on(bench());
}

async fn bench() {
    if !std::env::args().any(|arg| arg == "--wipe") {
        eprintln!(
            "ingest bench: skipped; it empties the Neo4j database, so run it as `cargo bench --bench ingest -- --wipe`"
        );
        return;
    }
    // The ingest's own log (each file, the import, the aggregates' steps) goes to stderr.
    discogs::telemetry::init_logging();
    let releases: u64 = std::env::var("BENCH_RELEASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let base =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-data/ingest-{releases}"));
    let first = dump(
        &base.join("v1"),
        Spec {
            releases,
            version: "20990101".into(),
            seed: 5,
            level: 6,
            ..Default::default()
        },
    );
    let changed = dump(
        &base.join("v2"),
        Spec {
            releases,
            version: "20990201".into(),
            seed: 5,
            level: 6,
            revision: 1,
            changed: 0.01,
            added: 0.005,
            removed: 0.001,
        },
    );

    let config = bench_config().await;
    let pool = postgres::connect(&config.postgres)
        .await
        .expect("PostgreSQL (scripts/services.sh up)");
    let neo4j = Neo4j::connect(&config.neo4j)
        .await
        .expect("Neo4j (scripts/services.sh up)");
    // Minutes for a 4.75M graph: emptying the store with the services down is quicker.
    eprintln!("ingest bench: emptying the graph an earlier run left");
    let (relationships, nodes) = discogs::store::graph::clear(&neo4j.graph)
        .await
        .expect("empty the graph");
    eprintln!("ingest bench: {relationships} relationships and {nodes} nodes removed");
    migrate::postgres(&pool).await.expect("migrate");
    migrate::neo4j(&neo4j.graph).await.expect("migrate");
    // A first load starts from an empty, quiet server, whichever way it writes: restarted, so
    // that flushing the emptying is not left for the load to pay.
    let restarted = std::process::Command::new(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/services.sh"),
    )
    .args(["restart", "neo4j"])
    .status()
    .expect("scripts/services.sh restart neo4j");
    assert!(restarted.success(), "scripts/services.sh restart neo4j");
    let neo4j = Neo4j::connect(&config.neo4j)
        .await
        .expect("Neo4j after its restart");

    // The months side by side in one data directory, as `discogs download` leaves them, so that
    // what an ingest keeps there (the raw hashes of what it stored) is found by the next: the
    // generated files are hard-linked in, the first month's before the first load and the next
    // month's once its turn comes.
    let months = base.join("months");
    let _ = std::fs::remove_dir_all(&months);
    link_files(&first, &months);
    for (phase, month) in [
        ("first load", None),
        ("re-ingest, unchanged", None),
        ("1% changed", Some(&changed)),
    ] {
        if let Some(month) = month {
            link_files(month, &months);
        }
        let dir = &months;
        support::reset_peak_rss();
        let started = Instant::now();
        let (_trigger, shutdown) = Shutdown::new();
        let settings = Settings {
            data_dir: dir.clone(),
            ..Settings::from_config(&config)
        };
        let summary = ingest::run(&pool, &neo4j.graph, &settings, shutdown)
            .await
            .expect("ingest");
        report(
            phase,
            &summary,
            started.elapsed().as_secs_f64(),
            support::peak_rss_mib(),
        );
    }
}

/// Hard-links the dump files of `from` into `to`.
fn link_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("the months directory");
    for entry in std::fs::read_dir(from).expect("a generated dump") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().expect("a file name");
        // Only the dump's own files: an ingest pointed at the directory leaves its state there.
        if path.is_file() && name.to_string_lossy().starts_with("discogs_") {
            std::fs::hard_link(&path, to.join(name)).expect("link a dump file");
        }
    }
}

/// A generated dump in `dir`, written once and reused by later runs.
fn dump(dir: &Path, spec: Spec) -> PathBuf {
    if !dir
        .join(format!("discogs_{}_CHECKSUM.txt", spec.version))
        .exists()
    {
        eprintln!("generating {} ...", dir.display());
        generate(&spec, dir).expect("generate dump");
    }
    dir.to_owned()
}

/// The configuration from the environment and defaults, pointed at a fresh `discogs_bench` database.
async fn bench_config() -> Config {
    let env = |key: &str| std::env::var(key).ok();
    let base = Config::resolve(&GlobalArgs::default(), &env).expect("configuration");
    let mut admin = base.postgres.connection.clone();
    admin.dbname("postgres");
    let (client, connection) = admin
        .connect(tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL (scripts/services.sh up)");
    tokio::spawn(connection);
    // Two statements: DROP DATABASE may not share a (multi-statement) transaction.
    for statement in [
        "DROP DATABASE IF EXISTS discogs_bench WITH (FORCE)",
        "CREATE DATABASE discogs_bench",
    ] {
        client
            .batch_execute(statement)
            .await
            .expect("recreate discogs_bench");
    }
    let mut config = base;
    config.postgres.connection.dbname("discogs_bench");
    config
}

fn report(phase: &str, summary: &Summary, seconds: f64, peak_rss: f64) {
    println!(
        "\n== {phase}: dump {}, {seconds:.1} s, peak RSS {peak_rss:.0} MiB",
        summary.version
    );
    println!(
        "{:<9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>10} {:>8} {:>8} {:>8} {:>10}",
        "file",
        "records",
        "written",
        "deleted",
        "seconds",
        "rec/s",
        "parse s",
        "pg s",
        "neo4j s",
        "delete s",
        "graph txns"
    );
    let mut records = 0;
    for (kind, outcome) in &summary.files {
        let c = &outcome.counts;
        records += c.records;
        println!(
            "{:<9} {:>9} {:>9} {:>9} {:>9.2} {:>8.0} {:>10.2} {:>8.2} {:>8.2} {:>8.2} {:>10}",
            kind.as_str(),
            c.records,
            c.inserted + c.updated + c.graph_only,
            c.deleted,
            outcome.seconds,
            c.records as f64 / outcome.seconds,
            outcome.parse_seconds,
            outcome.postgres_seconds,
            outcome.neo4j_seconds,
            outcome.delete_seconds,
            outcome.neo4j_batches,
        );
    }
    println!(
        "graph import {:.2} s; aggregates {:.2} s; profiles {:.2} s; credit counts {:.2} s; insights {:.2} s; overall {records} records in {seconds:.1} s = {:.0} records/s",
        summary.import_seconds,
        summary.aggregate_seconds,
        summary.profile_seconds,
        summary.credits_seconds,
        summary.insight_seconds,
        records as f64 / seconds
    );
}
