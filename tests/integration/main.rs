//! The one integration-test binary. Database tests run against the PostgreSQL and Neo4j that
//! `scripts/services.sh up` starts (the README's test command does that); they fail, never skip,
//! when a database is missing.

mod util;

/// Records by id from PostgreSQL.
mod api;
/// The binary's command line: help texts, exit codes, one-line errors.
mod cli;
/// SIGKILL and database restarts mid-ingest, then a re-run: equal to a clean load.
mod crash;
/// The credits routes on the sample: values read by hand from its XML.
mod credits;
/// `discogs download` against a fake data site on 127.0.0.1: resume, Retry-After, checksums.
mod download;
/// The web explorer in headless Chromium: every view, deep links, markup shown as text.
mod explorer;
/// `run --ingest --serve`: answers during an ingest, new data right after.
mod freshness;
/// The catalogue routes over both stores: real answers, validation, hostile input, the cache.
mod graph_api;
/// The insights routes on the sample: against counts taken from the records and the graph.
mod insights;
/// `discogs migrate` against real PostgreSQL and Neo4j.
mod migrate;
/// `/health`, `/ready`, `/metrics` over a real socket.
mod ops;
/// The extractor over real dump excerpts and dirty input; no database.
mod parse;
/// The ingest pipeline into both stores: exact loads, idempotence, incremental updates.
mod pipeline;
/// Label DNA, similarity and the network on the sample: against the records and the graph.
mod profiles;
