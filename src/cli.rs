//! The command line as the user typed it (clap derive). Values here are not yet resolved against
//! the environment or the config file; [`crate::config::Config::resolve`] does that.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

use crate::record::Kind;

/// Turns the monthly Discogs data dumps into a Neo4j graph and PostgreSQL tables, keeps both
/// current by writing only what changed, and serves an HTTP query API.
///
/// Settings resolve as: command-line flag > environment variable > config.toml > default.
#[derive(Debug, Parser)]
#[command(
    name = "discogs",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the main job: ingest the newest dump and/or serve the API (give --ingest, --serve or both)
    Run(RunArgs),
    /// Ingest the newest complete dump in the data directory (same as `run --ingest`)
    Ingest(IngestArgs),
    /// Serve the HTTP API (same as `run --serve`)
    Serve,
    /// Find the newest complete dump on the Discogs data site and download it into the data directory
    Download(DownloadArgs),
    /// Apply Postgres migrations and Neo4j constraints and indexes (idempotent)
    Migrate,
    /// Show what has been ingested: dump versions, per-file state and counts
    Status,
    /// Stream one dump file to stdout as NDJSON canonical records with their SHA-256; no database needed
    Parse(ParseArgs),
    /// Measure a running API: p50/p95/p99 per configured request, cold, warm and under load
    Perftest(PerftestArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Ingest the newest complete dump in the data directory (DISCOGS_DATA_DIR)
    #[arg(long)]
    pub ingest: bool,

    /// Serve the HTTP API on DISCOGS_LISTEN until SIGINT/SIGTERM
    #[arg(long)]
    pub serve: bool,

    #[command(flatten)]
    pub ingest_args: IngestArgs,
}

#[derive(Debug, Clone, Args)]
pub struct IngestArgs {
    /// Delete records absent from the new dump even when they are more than 10% of a table
    #[arg(long)]
    pub allow_mass_delete: bool,

    /// Do not check the dump files against their CHECKSUM file
    #[arg(long)]
    pub skip_checksum: bool,

    /// Parser threads per file (default: all cores)
    #[arg(long, value_name = "N")]
    pub parser_threads: Option<usize>,

    /// Check the Discogs data site for a newer complete dump and download it first (done anyway
    /// when the data directory holds no complete dump)
    #[arg(long)]
    pub download: bool,
}

#[derive(Debug, Args)]
pub struct DownloadArgs {
    /// Do not check the files against the dump's CHECKSUM file (on by default)
    #[arg(long)]
    pub no_verify: bool,
}

#[derive(Debug, Args)]
pub struct ParseArgs {
    /// A dump file: discogs_YYYYMMDD_{artists,labels,masters,releases}.xml[.gz], gzip or plain XML
    pub file: PathBuf,

    /// Record type, when the file name does not tell it
    #[arg(long = "type", value_parser = kind_parser())]
    pub kind: Option<Kind>,

    /// Stop after this many records
    #[arg(long)]
    pub limit: Option<u64>,

    /// Give up on the file after this many unparseable records
    #[arg(long, default_value_t = crate::record::DEFAULT_MAX_ERRORS)]
    pub max_errors: u64,

    /// Parser threads (default: all cores)
    #[arg(long)]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct PerftestArgs {
    /// Base URL of the API to test [config: perftest.url] [default: http://<api.listen>]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// Concurrent clients in the load phase [config: perftest.concurrency] [default: 32]
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Seconds of the load phase [config: perftest.duration] [default: 30]
    #[arg(long, value_name = "SECS")]
    pub duration: Option<f64>,

    /// Cold calls per request, each after clearing the cache [config: perftest.cold_runs] [default: 10]
    #[arg(long, value_name = "N")]
    pub cold_runs: Option<usize>,

    /// Warm calls per request [config: perftest.warm_runs] [default: 200]
    #[arg(long, value_name = "N")]
    pub warm_runs: Option<usize>,

    /// Also write the report as JSON to this file
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Record the statements behind each request, with PostgreSQL's EXPLAIN ANALYZE plans, in
    /// the JSON report (printed when there is no --json)
    #[arg(long)]
    pub explain: bool,
}

/// Settings every subcommand shares. Each overrides its environment variable and config key.
#[derive(Debug, Default, Args)]
pub struct GlobalArgs {
    /// Config file [env: DISCOGS_CONFIG] [default: ./config.toml if present]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Neo4j URI, bolt:// for one server or neo4j:// to route through a cluster [env: NEO4J_URI]
    /// [default: bolt://127.0.0.1:7687]
    #[arg(long, global = true, value_name = "URI")]
    pub neo4j_uri: Option<String>,

    /// Neo4j user [env: NEO4J_USER] [default: neo4j]; the password comes only from NEO4J_PASSWORD
    /// or the config file, never a flag, so it stays out of process listings
    #[arg(long, global = true, value_name = "USER")]
    pub neo4j_user: Option<String>,

    /// PostgreSQL URL [env: POSTGRES_URL] [default: postgres://postgres@127.0.0.1:5432/discogs]
    #[arg(long, global = true, value_name = "URL")]
    pub postgres_url: Option<String>,

    /// A read-only PostgreSQL replica for the API's reads [env: POSTGRES_READ_URL] [default: none]
    #[arg(long, global = true, value_name = "URL")]
    pub postgres_read_url: Option<String>,

    /// Directory of dump files [env: DISCOGS_DATA_DIR] [default: ./data]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Discogs data site for `download` [env: DISCOGS_BASE_URL] [default: https://data.discogs.com/]
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// API listen address [env: DISCOGS_LISTEN] [default: 127.0.0.1:8000]
    #[arg(long, global = true, value_name = "ADDR")]
    pub listen: Option<String>,

    /// Seconds an API request may take before it answers 503 [env: DISCOGS_REQUEST_TIMEOUT]
    /// [default: 30]
    #[arg(long, global = true, value_name = "SECS")]
    pub request_timeout: Option<f64>,

    /// Records per Neo4j write [env: NEO4J_BATCH_SIZE]
    #[arg(long, global = true, value_name = "N")]
    pub neo4j_batch_size: Option<usize>,

    /// Seconds a partial Neo4j batch may wait [env: NEO4J_BATCH_FLUSH_INTERVAL]
    #[arg(long, global = true, value_name = "SECS")]
    pub neo4j_batch_flush_interval: Option<f64>,

    /// Shell command for first loads through `neo4j-admin database import`: run with the path of
    /// the tool's argument file appended, it must stop Neo4j, run `neo4j-admin database import
    /// full @<file>` and start Neo4j again [env: NEO4J_IMPORT_COMMAND] [default: none: first
    /// loads go through Bolt]
    #[arg(long, global = true, value_name = "COMMAND")]
    pub neo4j_import_command: Option<String>,

    /// Records per Postgres write [env: POSTGRES_BATCH_SIZE]
    #[arg(long, global = true, value_name = "N")]
    pub postgres_batch_size: Option<usize>,

    /// Seconds a partial Postgres batch may wait [env: POSTGRES_BATCH_FLUSH_INTERVAL]
    #[arg(long, global = true, value_name = "SECS")]
    pub postgres_batch_flush_interval: Option<f64>,
}

/// `--type`: one of the record kinds' names, listed in `--help`. The record layer stays free of
/// command-line concerns, so this parser lives here rather than as a derive on [`Kind`].
fn kind_parser() -> impl TypedValueParser<Value = Kind> {
    PossibleValuesParser::new(Kind::ALL.map(Kind::as_str)).try_map(|name| name.parse::<Kind>())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_work_after_the_subcommand() {
        let cli = Cli::try_parse_from(["discogs", "migrate", "--neo4j-uri", "bolt://x:1"]).unwrap();
        assert_eq!(cli.global.neo4j_uri.as_deref(), Some("bolt://x:1"));
        assert!(matches!(cli.command, Command::Migrate));
    }
}
