//! Extractor benchmark: gunzip alone, then parse + canonicalise + hash on one thread and on all
//! cores, over a generated releases file of about 550 MB of XML (160,000 releases by default;
//! `BENCH_RELEASES=N` changes it). Each figure is the median of `BENCH_RUNS` runs (default 3), so
//! that a noisy shared machine skews it less; peak RSS is measured per phase (VmHWM after a reset).
//!
//! `cargo bench --bench extract` (under `cargo test` it does a quick smoke run on 300 releases)

#[path = "support.rs"]
mod support;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use discogs::extract::{Extractor, Options};
use discogs::generate::{Spec, write_file};
use discogs::record::Kind;

struct Measurement {
    seconds: f64,
    records: u64,
    xml_bytes: u64,
    peak_rss_mib: f64,
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and then a small smoke run
    // keeps this file compiling and working without spending minutes on it.
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    let releases: u64 = if benchmarking {
        env_or("BENCH_RELEASES", 160_000)
    } else {
        300
    };
    let runs: usize = if benchmarking {
        env_or("BENCH_RUNS", 3)
    } else {
        1
    };
    let path = bench_file(releases);
    let compressed = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());

    let gunzip = median(runs, || gunzip_only(&path));
    let single = median(runs, || extract(&path, 0));
    let parallel = median(runs, || extract(&path, cores));

    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    println!(
        "file: {} ({:.0} MiB gzip, {:.0} MiB XML, {releases} releases), median of {runs} runs",
        path.display(),
        mib(compressed),
        mib(gunzip.xml_bytes)
    );
    println!(
        "{:<40} {:>12} {:>12} {:>14}",
        "phase", "records/s", "XML MiB/s", "peak RSS MiB"
    );
    for (name, m) in [
        ("gunzip only".to_owned(), &gunzip),
        ("parse+canonical+hash, 1 thread".to_owned(), &single),
        (format!("parse+canonical+hash, {cores} workers"), &parallel),
    ] {
        let rate = if m.records > 0 {
            format!("{:.0}", m.records as f64 / m.seconds)
        } else {
            "-".into()
        };
        println!(
            "{name:<40} {rate:>12} {:>12.1} {:>14.1}",
            mib(m.xml_bytes) / m.seconds,
            m.peak_rss_mib
        );
    }
    println!(
        "parallel extract / gunzip-only throughput: {:.2}; parallel / single: {:.2}",
        gunzip.seconds / parallel.seconds,
        single.seconds / parallel.seconds
    );
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The generated releases file, written once and reused by later runs.
fn bench_file(releases: u64) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).expect("create target/bench-data");
    let spec = Spec {
        releases,
        version: "20990101".into(),
        seed: 1,
        level: 6,
        ..Default::default()
    };
    let path = dir.join(format!("releases-{releases}.xml.gz"));
    if !path.exists() {
        eprintln!("generating {} ...", path.display());
        let partial = dir.join("partial.xml.gz");
        write_file(&spec, Kind::Releases, &partial).expect("generate releases");
        std::fs::rename(&partial, &path).expect("rename");
    }
    path
}

fn median(runs: usize, mut measure: impl FnMut() -> Measurement) -> Measurement {
    let mut all: Vec<Measurement> = (0..runs.max(1)).map(|_| measure()).collect();
    all.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    all.swap_remove(all.len() / 2)
}

fn gunzip_only(path: &Path) -> Measurement {
    support::reset_peak_rss();
    let started = Instant::now();
    let mut reader = discogs::xml::open(path).expect("open");
    let mut buffer = vec![0u8; 1 << 20];
    let mut xml_bytes = 0u64;
    loop {
        let n = reader.read(&mut buffer).expect("read");
        if n == 0 {
            break;
        }
        xml_bytes += n as u64;
    }
    Measurement {
        seconds: started.elapsed().as_secs_f64(),
        records: 0,
        xml_bytes,
        peak_rss_mib: support::peak_rss_mib(),
    }
}

fn extract(path: &Path, threads: usize) -> Measurement {
    support::reset_peak_rss();
    let started = Instant::now();
    let mut extractor = Extractor::open(
        path,
        &Options {
            threads,
            ..Options::default()
        },
    )
    .expect("open");
    let (mut records, mut xml_bytes) = (0u64, 0u64);
    while let Some(batch) = extractor.next_batch().expect("extract") {
        assert!(batch.skipped.is_empty(), "generated records all parse");
        records += batch.records.len() as u64;
        xml_bytes += batch.xml_bytes;
    }
    Measurement {
        seconds: started.elapsed().as_secs_f64(),
        records,
        xml_bytes,
        peak_rss_mib: support::peak_rss_mib(),
    }
}
