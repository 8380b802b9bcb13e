//! `discogs`: the monthly Discogs data dumps as a Neo4j graph and PostgreSQL tables, kept current,
//! with an HTTP query API served from the same process.
//!
//! # Layout
//!
//! - [`cli`]: the command line as typed; [`config`]: settings resolved flag > env > file > default.
//! - [`record`]: the canonical record of each type (SPEC §5).
//! - [`store`]: PostgreSQL and Neo4j access, and the migrations of both.
//! - [`api`]: the axum HTTP API; [`telemetry`]: logging and metric names; [`shutdown`]: signals.
//! - [`app`]: one function per subcommand, called by `main`.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod extract;
pub mod generate;
pub mod record;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod xml;
