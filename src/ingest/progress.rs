//! Progress of one file: a bar (bytes of the compressed file, records/s, ETA) when stderr is a
//! terminal, otherwise a log line every [`LOG_EVERY`].

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often a non-terminal run logs its progress.
const LOG_EVERY: Duration = Duration::from_secs(10);

pub struct Progress {
    file: String,
    /// Compressed bytes of the file read so far, counted by the reader.
    read: Arc<AtomicU64>,
    total: u64,
    bar: Option<ProgressBar>,
    started: Instant,
    last_log: Instant,
}

impl Progress {
    pub fn new(file: String, total: u64, read: Arc<AtomicU64>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            let style = ProgressStyle::with_template(
                "{msg:32} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}  {prefix}",
            )
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar.set_message(file.clone());
            bar
        });
        let now = Instant::now();
        Progress {
            file,
            read,
            total,
            bar,
            started: now,
            last_log: now,
        }
    }

    /// Reports that `records` records have been read so far.
    pub fn update(&mut self, records: u64) {
        let read = self.read.load(Ordering::Relaxed);
        let per_second = records as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        match &self.bar {
            Some(bar) => {
                bar.set_position(read);
                bar.set_prefix(format!("{records} records, {per_second:.0}/s"));
            }
            None if self.last_log.elapsed() >= LOG_EVERY => {
                self.last_log = Instant::now();
                let percent = if self.total > 0 {
                    100.0 * read as f64 / self.total as f64
                } else {
                    0.0
                };
                tracing::info!(file = %self.file, records, records_per_second = per_second.round(), percent = format!("{percent:.1}"), "ingest progress");
            }
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
