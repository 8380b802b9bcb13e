//! `discogs perftest`: a latency suite against a running API.
//!
//! Each configured request is called once untimed (so the databases have planned its statements),
//! then runs three ways: **cold** (the first call after the server's response cache is cleared,
//! several times), **warm** (many calls in a row, answered from the cache), and
//! under **load** (`concurrency` clients cycling through every request for `duration`). Latencies
//! are reported as p50/p95/p99 per request, as a table and as JSON; any failed request (an error
//! status or no answer) is counted, and makes the command fail.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// One request of the suite: a name for the report and a path (with query) on the API.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub name: String,
    pub path: String,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The API's base URL, e.g. `http://127.0.0.1:8000`.
    pub base_url: String,
    pub requests: Vec<Request>,
    /// Cold calls per request.
    pub cold_runs: usize,
    /// Warm calls per request.
    pub warm_runs: usize,
    /// Clients of the load phase.
    pub concurrency: usize,
    /// Length of the load phase.
    pub duration: Duration,
    /// Also ask the server for the statements (and PostgreSQL plans) behind each request.
    pub explain: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PerftestError {
    #[error(
        "no requests configured: add [[perftest.requests]] entries (name, path) to the config file"
    )]
    NoRequests,
    #[error(
        "cannot clear the API's cache at {url}: {reason} (is `discogs serve` running there, on this machine?)"
    )]
    ClearCache { url: String, reason: String },
}

/// Latency percentiles of one phase, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub samples: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    fn of(samples: &mut [Duration]) -> Latency {
        samples.sort_unstable();
        let ms = |d: Option<&Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        Latency {
            samples: samples.len(),
            p50_ms: ms(percentile(samples, 50.0)),
            p95_ms: ms(percentile(samples, 95.0)),
            p99_ms: ms(percentile(samples, 99.0)),
            max_ms: ms(samples.last()),
        }
    }
}

/// The nearest-rank percentile of sorted samples.
fn percentile<T>(sorted: &[T], p: f64) -> Option<&T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1)
}

#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    pub name: String,
    pub path: String,
    pub cold: Latency,
    pub warm: Latency,
    pub load: Latency,
    /// Failed calls over all three phases.
    pub errors: u64,
    /// Calls per second this request got during the load phase.
    pub load_throughput: f64,
    /// The first failure seen, for the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// With `explain`: the server's `{"status", "statements": [{store, text, parameters,
    /// plan}]}` for this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub base_url: String,
    pub concurrency: usize,
    pub duration_seconds: f64,
    pub endpoints: Vec<EndpointReport>,
    pub load_requests: u64,
    pub load_errors: u64,
    /// Requests per second over all clients during the load phase.
    pub load_throughput: f64,
}

/// Outcomes of one request in one phase.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, outcome: Result<Duration, String>) {
        match outcome {
            Ok(latency) => self.latencies.push(latency),
            Err(error) => {
                self.errors += 1;
                self.first_error.get_or_insert(error);
            }
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

fn new_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

/// The statements behind one request, as the server recorded them running it.
fn explain(agent: &ureq::Agent, url: &str) -> serde_json::Value {
    let answer = agent
        .get(url)
        .header(crate::api::EXPLAIN_HEADER, "1")
        .call()
        .map_err(|e| e.to_string())
        .and_then(|mut response| {
            response
                .body_mut()
                .with_config()
                .limit(256 * 1024 * 1024)
                .read_to_vec()
                .map_err(|e| e.to_string())
        })
        .and_then(|body| serde_json::from_slice(&body).map_err(|e| e.to_string()));
    answer.unwrap_or_else(|error| serde_json::json!({"error": error}))
}

/// One GET, read to the end; its latency, or why it failed.
fn call(agent: &ureq::Agent, url: &str) -> Result<Duration, String> {
    let started = Instant::now();
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    let body = response
        .body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    let latency = started.elapsed();
    let status = response.status();
    if status.is_success() {
        Ok(latency)
    } else {
        Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    }
}

fn clear_cache(agent: &ureq::Agent, base_url: &str) -> Result<(), PerftestError> {
    let url = format!("{base_url}/api/cache");
    let failed = |reason: String| PerftestError::ClearCache {
        url: url.clone(),
        reason,
    };
    let response = agent
        .delete(&url)
        .call()
        .map_err(|e| failed(e.to_string()))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(failed(response.status().to_string()))
    }
}

/// Runs the suite.
///
/// # Errors
///
/// No requests are configured, or the server's cache cannot be cleared (it is not running, or
/// not on this machine). Failed requests are counted in the report, not returned as errors.
pub fn run(options: &Options) -> Result<Report, PerftestError> {
    if options.requests.is_empty() {
        return Err(PerftestError::NoRequests);
    }
    let agent = new_agent();
    let base = options.base_url.trim_end_matches('/');
    let urls: Vec<String> = options
        .requests
        .iter()
        .map(|request| format!("{base}{}", request.path))
        .collect();

    let mut cold = Vec::new();
    let mut warm = Vec::new();
    for url in &urls {
        // One untimed call first: it plans the request's statements in Neo4j and PostgreSQL
        // and brings its pages into their caches, as on any server that has been up a while.
        // Cold then means what the API controls: its own response cache is empty.
        let _ = call(&agent, url);
        let mut tally = Tally::default();
        for _ in 0..options.cold_runs {
            clear_cache(&agent, base)?;
            tally.record(call(&agent, url));
        }
        cold.push(tally);
        let mut tally = Tally::default();
        for _ in 0..options.warm_runs {
            tally.record(call(&agent, url));
        }
        warm.push(tally);
    }
    tracing::info!(
        requests = urls.len(),
        clients = options.concurrency,
        seconds = options.duration.as_secs_f64(),
        "cold and warm runs done; load phase"
    );

    let started = Instant::now();
    let deadline = started + options.duration;
    let per_client: Vec<Vec<Tally>> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..options.concurrency.max(1))
            .map(|client| {
                let urls = &urls;
                scope.spawn(move || {
                    let agent = new_agent();
                    let mut tallies: Vec<Tally> = urls.iter().map(|_| Tally::default()).collect();
                    let mut next = client % urls.len();
                    while Instant::now() < deadline {
                        tallies[next].record(call(&agent, &urls[next]));
                        next = (next + 1) % urls.len();
                    }
                    tallies
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|client| client.join().unwrap_or_default())
            .collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut load: Vec<Tally> = urls.iter().map(|_| Tally::default()).collect();
    for tallies in per_client {
        for (total, tally) in load.iter_mut().zip(tallies) {
            total.merge(tally);
        }
    }

    let load_requests: u64 = load
        .iter()
        .map(|t| t.latencies.len() as u64 + t.errors)
        .sum();
    let load_errors: u64 = load.iter().map(|t| t.errors).sum();
    let endpoints = options
        .requests
        .iter()
        .zip(&urls)
        .zip(cold.into_iter().zip(warm).zip(load))
        .map(|((request, url), ((mut cold, mut warm), mut load))| {
            let load_calls = load.latencies.len() as u64 + load.errors;
            EndpointReport {
                name: request.name.clone(),
                path: request.path.clone(),
                cold: Latency::of(&mut cold.latencies),
                warm: Latency::of(&mut warm.latencies),
                load: Latency::of(&mut load.latencies),
                errors: cold.errors + warm.errors + load.errors,
                load_throughput: load_calls as f64 / elapsed,
                first_error: cold.first_error.or(warm.first_error).or(load.first_error),
                explain: options.explain.then(|| explain(&agent, url)),
            }
        })
        .collect();
    Ok(Report {
        base_url: base.to_owned(),
        concurrency: options.concurrency,
        duration_seconds: elapsed,
        endpoints,
        load_requests,
        load_errors,
        load_throughput: load_requests as f64 / elapsed,
    })
}

impl Report {
    /// Failed requests over the whole run.
    pub fn errors(&self) -> u64 {
        self.endpoints.iter().map(|e| e.errors).sum()
    }

    /// The report as a fixed-width table, one line per request.
    pub fn table(&self) -> String {
        let width = self
            .endpoints
            .iter()
            .map(|e| e.name.chars().count())
            .max()
            .unwrap_or(0)
            .max("request".len());
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:width$}  {:>26}  {:>26}  {:>26}  {:>8}  {:>6}",
            "request",
            "cold p50/p95/p99 ms",
            "warm p50/p95/p99 ms",
            "load p50/p95/p99 ms",
            "load r/s",
            "errors"
        );
        let triple = |l: &Latency| format!("{:.1}/{:.1}/{:.1}", l.p50_ms, l.p95_ms, l.p99_ms);
        for e in &self.endpoints {
            let _ = writeln!(
                out,
                "{:width$}  {:>26}  {:>26}  {:>26}  {:>8.0}  {:>6}",
                e.name,
                triple(&e.cold),
                triple(&e.warm),
                triple(&e.load),
                e.load_throughput,
                e.errors
            );
        }
        let _ = writeln!(
            out,
            "load: {} clients for {:.1} s, {} requests ({:.0}/s), {} errors",
            self.concurrency,
            self.duration_seconds,
            self.load_requests,
            self.load_throughput,
            self.load_errors
        );
        for e in self.endpoints.iter().filter(|e| e.first_error.is_some()) {
            let _ = writeln!(
                out,
                "first error of {}: {}",
                e.name,
                e.first_error.as_deref().unwrap_or_default()
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50.0), Some(&50));
        assert_eq!(percentile(&samples, 95.0), Some(&95));
        assert_eq!(percentile(&samples, 99.0), Some(&99));
        assert_eq!(percentile(&samples, 100.0), Some(&100));
        assert_eq!(percentile(&[7], 99.0), Some(&7));
        assert_eq!(percentile::<u32>(&[], 50.0), None);
    }

    #[test]
    fn latency_sorts_and_reports_milliseconds() {
        let mut samples: Vec<Duration> = [30, 10, 20].map(Duration::from_millis).to_vec();
        let latency = Latency::of(&mut samples);
        assert_eq!(latency.samples, 3);
        assert!((latency.p50_ms - 20.0).abs() < 1e-9);
        assert!((latency.max_ms - 30.0).abs() < 1e-9);
    }

    #[test]
    fn a_tally_keeps_the_first_error() {
        let mut tally = Tally::default();
        tally.record(Err("first".into()));
        tally.record(Ok(Duration::from_millis(1)));
        tally.record(Err("second".into()));
        assert_eq!(tally.errors, 2);
        assert_eq!(tally.first_error.as_deref(), Some("first"));
        assert_eq!(tally.latencies.len(), 1);
    }
}
