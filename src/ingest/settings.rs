//! Everything an ingest is told, resolved once from the configuration.

use std::path::PathBuf;
use std::time::Duration;

use crate::config::Config;

/// A writer's batch size (records per statement) and how long a partial batch may wait.
#[derive(Debug, Clone, Copy)]
pub struct BatchSettings {
    pub size: usize,
    pub flush_interval: Duration,
}

/// The settings of one ingest.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the dump files are.
    pub data_dir: PathBuf,
    pub postgres_batch: BatchSettings,
    pub neo4j_batch: BatchSettings,
    /// How to run `neo4j-admin database import` for a graph built from scratch; `None` writes
    /// every load through Bolt.
    pub import_command: Option<String>,
    /// Extractor threads per file.
    pub parser_threads: usize,
    /// Delete absent records even when they are an implausibly large share of a table.
    pub allow_mass_delete: bool,
    /// Skip checking the files against the dump's CHECKSUM file.
    pub skip_checksum: bool,
}

impl Settings {
    /// The configuration's settings, with a parser thread per core, mass deletions refused and
    /// checksums verified; callers change the fields their flags set.
    pub fn from_config(config: &Config) -> Settings {
        Settings {
            data_dir: config.data_dir.clone(),
            postgres_batch: BatchSettings {
                size: config.postgres.batch_size,
                flush_interval: config.postgres.batch_flush_interval,
            },
            neo4j_batch: BatchSettings {
                size: config.neo4j.batch_size,
                flush_interval: config.neo4j.batch_flush_interval,
            },
            import_command: config.neo4j.import_command.clone(),
            parser_threads: crate::extract::Options::default().threads,
            allow_mass_delete: false,
            skip_checksum: false,
        }
    }
}
