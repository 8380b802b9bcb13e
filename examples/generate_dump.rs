//! Writes a deterministic synthetic dump (four files and a CHECKSUM) for benchmarks and tests.
//!
//! `cargo run --release --example generate_dump -- --releases 100000 --out data/bench`

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
}

fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let spec = Spec {
        releases: args.releases,
        version: args.version,
        seed: args.seed,
        level: args.level,
        ..Default::default()
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
