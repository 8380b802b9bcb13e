//! Writes a deterministic synthetic dump (four files and a CHECKSUM) for benchmarks and tests.
//!
//! `cargo run --release --example generate_dump -- --releases 100000 --out data/bench`
//!
//! The ingest bench's next month of that dump (1% changed, 0.5% added, 0.1% removed):
//! `... -- --releases 100000 --seed 5 --version 20990201 --revision 1 --changed 0.01 --added 0.005 --removed 0.001 --out data/bench-month`

use std::path::PathBuf;

use clap::Parser;
use discogs::generate::{Spec, generate};

#[derive(Parser)]
struct Args {
    /// Releases to generate; artists, labels and masters follow in the catalogue's proportions
    #[arg(long, default_value_t = 100_000)]
    releases: u64,
    /// Directory to write into
    #[arg(long)]
    out: PathBuf,
    /// Dump version in the file names
    #[arg(long, default_value = "20990101")]
    version: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// gzip level (Discogs uses 9; lower is faster to generate)
    #[arg(long, default_value_t = 6)]
    level: u32,
    /// Revision of the catalogue; 0 is the base dump, others differ from it by the shares below
    #[arg(long, default_value_t = 0)]
    revision: u32,
    /// Share of records a revision other than 0 changes
    #[arg(long, default_value_t = 0.0)]
    changed: f64,
    /// Share of records a revision other than 0 adds
    #[arg(long, default_value_t = 0.0)]
    added: f64,
    /// Share of records a revision other than 0 removes
    #[arg(long, default_value_t = 0.0)]
    removed: f64,
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let spec = Spec {
        releases: args.releases,
        version: args.version,
        seed: args.seed,
        level: args.level,
        revision: args.revision,
        changed: args.changed,
        added: args.added,
        removed: args.removed,
    };
    generate(&spec, &args.out)?;
    eprintln!(
        "wrote {} releases, {} artists, {} labels, {} masters to {}",
        spec.releases,
        spec.artists(),
        spec.labels(),
        spec.masters(),
        args.out.display()
    );
    Ok(())
}
