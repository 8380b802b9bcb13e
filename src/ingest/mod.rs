//! The ingest: a dump's four files into PostgreSQL and Neo4j, writing only what changed.
//!
//! [`run`] (in `run.rs`) takes a dump through its steps: verify the files against the CHECKSUM
//! file, pair the graph with PostgreSQL (or build it from scratch), load the files in the order
//! that minimises stubs (artists, labels, masters, releases; releases reference all the others),
//! each through the pipeline of [`pipeline`], and finish: the graph's aggregates, its pairing and
//! the generation the API's cache keys on. [`Settings`] holds everything it is told, resolved once
//! from the configuration.
//!
//! | module | shape |
//! |---|---|
//! | `source` | dump file → `Parsed` chunks (canonical JSON, hash and graph facts per record) |
//! | `dedup` | `Parsed` → `Vec<Work>`: only records that need writing, each with its `Action` |
//! | `postgres_writer` | `Vec<Work>` → PostgreSQL, then `Vec<GraphWork>` (the graph facts) |
//! | `graph_writer` | `Vec<GraphWork>` → the [`GraphSink`] it owns, handed back when the file is done |
//! | `deletions` | ids absent from the file → deleted from both stores, guarded |
//! | `graph_sink` | Bolt or bulk import: writes, deletions, and the finish step |
//!
//! Semantics (SPEC §8): idempotent (a second ingest of the same dump writes nothing), incremental
//! (changed records replace their old versions, absent ones are deleted, within a guard), and
//! crash-safe (an interrupted run is resumed by the next; see `dedup` and
//! [`crate::store::bookkeeping`]).

mod batch;
mod dedup;
mod deletions;
mod error;
mod graph_sink;
mod graph_writer;
pub mod pipeline;
mod postgres_writer;
mod progress;
mod raw_hashes;
mod run;
mod settings;
mod source;

pub use crate::store::bookkeeping::Counts;
pub use error::IngestError;
pub use graph_sink::GraphSink;
pub use pipeline::FileOutcome;
pub use run::{Summary, run};
pub use settings::{BatchSettings, Settings};
