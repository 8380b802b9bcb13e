//! `discogs`: the monthly Discogs data dumps as a Neo4j graph and PostgreSQL tables, kept current,
//! with an HTTP query API served from the same process.
//!
//! # Layout
//!
//! - [`cli`]: the command line as typed; [`config`]: settings resolved flag > env > file > default.
//! - [`dump`]: dump file names, finding the newest complete dump, CHECKSUM verification.
//! - [`xml`], [`record`], [`extract`]: dump bytes → element trees → canonical records (SPEC §5),
//!   in parallel; [`generate`] writes synthetic dumps for benchmarks and tests.
//! - [`ingest`]: the pipeline into both stores (`ingest/pipeline.rs` shows the wiring).
//! - [`store`]: PostgreSQL and Neo4j access, and the migrations of both.
//! - [`api`]: the axum HTTP API; [`perftest`]: its latency suite; [`telemetry`]: logging and metric names; [`shutdown`]: signals.
//! - [`app`]: one function per subcommand, called by `main`; [`allocator`]: malloc settings.

pub mod allocator;
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod dump;
pub mod extract;
pub mod generate;
pub mod id_set;
pub mod ingest;
pub mod perftest;
pub mod record;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod xml;
