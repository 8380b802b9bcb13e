//! `discogs perftest`: a latency suite against a running API.
//!
//! First the **lookups** ask the API for the entities the requests name (the heaviest artist,
//! label, genre of whatever dump it serves, lists of names), so that one suite fits every dump.
//! Each configured request is then called once untimed (so the databases have planned its
//! statements), and runs three ways: **cold** (the first call after the server's response cache is
//! cleared, several times), **warm** (many calls in a row, answered from the cache), and under
//! **load** (`concurrency` clients cycling through every request for `duration`). Last, **cold
//! under load**: the same clients ask many distinct questions once each (every value of a lookup
//! list in a path), so that every answer is a miss. Latencies are reported as p50/p95/p99 per
//! request, as a table and as JSON; any failed request (an error status or no answer) is counted,
//! and makes the command fail.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One request of the suite: a name for the report and a path (with query) on the API, in which
/// `{lookup}` stands for the first value of that lookup (for the distinct questions: each value in
/// turn), percent-encoded.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub name: String,
    pub path: String,
}

/// Values looked up on the API before the runs: the answer to `path` (which may use earlier
/// lookups), at the JSON pointer `pointer`: one value, or an array of them (of objects: each
/// one's `field`). Strings and numbers count as values.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Lookup {
    pub name: String,
    pub path: String,
    pub pointer: String,
    #[serde(default)]
    pub field: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The API's base URL, e.g. `http://127.0.0.1:8000`.
    pub base_url: String,
    pub lookups: Vec<Lookup>,
    pub requests: Vec<Request>,
    /// Questions asked once each, under load, with the cache cold.
    pub distinct: Vec<Request>,
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
    #[error("lookup {name} ({url}): {reason}")]
    Lookup {
        name: String,
        url: String,
        reason: String,
    },
    #[error("request {request}: {path} names {{{lookup}}}, which no earlier lookup defines")]
    UnknownLookup {
        request: String,
        path: String,
        lookup: String,
    },
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

/// One distinct question template's calls in the cold-under-load phase.
#[derive(Debug, Clone, Serialize)]
pub struct DistinctReport {
    pub name: String,
    pub path: String,
    pub latency: Latency,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub base_url: String,
    pub concurrency: usize,
    pub duration_seconds: f64,
    /// What each lookup found (its first values).
    pub lookups: Vec<(String, Vec<String>)>,
    pub endpoints: Vec<EndpointReport>,
    pub load_requests: u64,
    pub load_errors: u64,
    /// Requests per second over all clients during the load phase.
    pub load_throughput: f64,
    pub distinct: Vec<DistinctReport>,
    /// Seconds the cold-under-load phase took (at most `duration`).
    pub distinct_seconds: f64,
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
    fetch(agent, url).map(|(latency, _)| latency)
}

/// One GET, read to the end; its latency and body, or why it failed.
fn fetch(agent: &ureq::Agent, url: &str) -> Result<(Duration, Vec<u8>), String> {
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
        Ok((latency, body))
    } else {
        Err(format!(
            "{status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    }
}

/// The names of the lookups `path` uses, as `{name}`.
fn placeholders(path: &str) -> Vec<&str> {
    split_placeholders(path)
        .0
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

/// `path` as (text before, `{name}`) pairs and the text after the last.
fn split_placeholders(path: &str) -> (Vec<(&str, &str)>, &str) {
    let mut pieces = Vec::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        pieces.push((&rest[..open], &rest[open + 1..open + close]));
        rest = &rest[open + close + 1..];
    }
    (pieces, rest)
}

/// How many distinct paths `request` makes from the values `found` (the fewest values of the
/// lookups it names; one when it names none).
fn value_count(
    request: &Request,
    found: &HashMap<String, Vec<String>>,
) -> Result<usize, PerftestError> {
    placeholders(&request.path)
        .into_iter()
        .map(|lookup| {
            found
                .get(lookup)
                .map(Vec::len)
                .ok_or_else(|| PerftestError::UnknownLookup {
                    request: request.name.clone(),
                    path: request.path.clone(),
                    lookup: lookup.to_owned(),
                })
        })
        .try_fold(usize::MAX, |fewest, count| Ok(fewest.min(count?)))
        .map(|fewest| if fewest == usize::MAX { 1 } else { fewest })
}

/// `request`'s path with each `{lookup}` replaced by that lookup's `index`th value,
/// percent-encoded (`index` below its [`value_count`]).
fn fill(request: &Request, found: &HashMap<String, Vec<String>>, index: usize) -> String {
    let (pieces, rest) = split_placeholders(&request.path);
    let mut filled = String::with_capacity(request.path.len() + 16);
    for (text, lookup) in pieces {
        let value = found
            .get(lookup)
            .and_then(|values| values.get(index))
            .map_or("", String::as_str);
        filled.push_str(text);
        filled.extend(utf8_percent_encode(value, NON_ALPHANUMERIC));
    }
    filled.push_str(rest);
    filled
}

/// The values at `at`: itself, or the items of an array (with `field`: each item's member).
fn values_at(at: &Value, field: Option<&str>) -> Vec<String> {
    let items: Vec<&Value> = match at {
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    items
        .into_iter()
        .filter_map(|item| match field {
            Some(field) => item.get(field),
            None => Some(item),
        })
        .filter_map(|value| match value {
            Value::String(text) => Some(text.clone()),
            Value::Number(number) => Some(number.to_string()),
            _ => None,
        })
        .collect()
}

/// Runs the lookups in order, each path filled from those before it.
fn look_up(
    agent: &ureq::Agent,
    base: &str,
    lookups: &[Lookup],
) -> Result<HashMap<String, Vec<String>>, PerftestError> {
    let mut found = HashMap::new();
    for lookup in lookups {
        let request = Request {
            name: lookup.name.clone(),
            path: lookup.path.clone(),
        };
        value_count(&request, &found)?;
        let url = format!("{base}{}", fill(&request, &found, 0));
        let failed = |reason: String| PerftestError::Lookup {
            name: lookup.name.clone(),
            url: url.clone(),
            reason,
        };
        let (_, body) = fetch(agent, &url).map_err(failed)?;
        let answer: Value = serde_json::from_slice(&body).map_err(|e| failed(e.to_string()))?;
        let at = answer
            .pointer(&lookup.pointer)
            .ok_or_else(|| failed(format!("the answer has no {}", lookup.pointer)))?;
        let values = values_at(at, lookup.field.as_deref());
        if values.is_empty() {
            return Err(failed(format!("no string or number at {}", lookup.pointer)));
        }
        found.insert(lookup.name.clone(), values);
    }
    Ok(found)
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
    let found = look_up(&agent, base, &options.lookups)?;
    let mut paths = Vec::with_capacity(options.requests.len());
    for request in &options.requests {
        value_count(request, &found)?;
        paths.push(fill(request, &found, 0));
    }
    let urls: Vec<String> = paths.iter().map(|path| format!("{base}{path}")).collect();
    // Every distinct question, the templates interleaved so that they run side by side.
    let counts = options
        .distinct
        .iter()
        .map(|request| value_count(request, &found))
        .collect::<Result<Vec<usize>, _>>()?;
    let mut seen = HashSet::new();
    let mut questions: Vec<(usize, String)> = Vec::new();
    for index in 0..counts.iter().copied().max().unwrap_or(0) {
        for (template, (request, &count)) in options.distinct.iter().zip(&counts).enumerate() {
            if index >= count {
                continue;
            }
            let url = format!("{base}{}", fill(request, &found, index));
            if seen.insert(url.clone()) {
                questions.push((template, url));
            }
        }
    }

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

    let (load, elapsed) = under_load(options, urls.len(), |client, call_number| {
        let next = (client + call_number) % urls.len();
        Some((next, urls[next].as_str()))
    });

    if !questions.is_empty() {
        clear_cache(&agent, base)?;
        tracing::info!(
            questions = questions.len(),
            "load phase done; distinct cold questions"
        );
    }
    let asked = AtomicUsize::new(0);
    let (distinct, distinct_seconds) = under_load(options, options.distinct.len(), |_, _| {
        let (template, url) = questions.get(asked.fetch_add(1, Ordering::Relaxed))?;
        Some((*template, url.as_str()))
    });
    let distinct = options
        .distinct
        .iter()
        .zip(distinct)
        .map(|(request, mut tally)| DistinctReport {
            name: request.name.clone(),
            path: request.path.clone(),
            latency: Latency::of(&mut tally.latencies),
            errors: tally.errors,
            first_error: tally.first_error,
        })
        .collect();

    let load_requests: u64 = load
        .iter()
        .map(|t| t.latencies.len() as u64 + t.errors)
        .sum();
    let load_errors: u64 = load.iter().map(|t| t.errors).sum();
    let endpoints = options
        .requests
        .iter()
        .zip(paths.into_iter().zip(&urls))
        .zip(cold.into_iter().zip(warm).zip(load))
        .map(
            |((request, (path, url)), ((mut cold, mut warm), mut load))| {
                let load_calls = load.latencies.len() as u64 + load.errors;
                EndpointReport {
                    name: request.name.clone(),
                    path,
                    cold: Latency::of(&mut cold.latencies),
                    warm: Latency::of(&mut warm.latencies),
                    load: Latency::of(&mut load.latencies),
                    errors: cold.errors + warm.errors + load.errors,
                    load_throughput: load_calls as f64 / elapsed,
                    first_error: cold.first_error.or(warm.first_error).or(load.first_error),
                    explain: options.explain.then(|| explain(&agent, url)),
                }
            },
        )
        .collect();
    let mut lookups: Vec<(String, Vec<String>)> = found
        .into_iter()
        .map(|(name, mut values)| {
            values.truncate(LISTED_VALUES);
            (name, values)
        })
        .collect();
    lookups.sort();
    Ok(Report {
        base_url: base.to_owned(),
        concurrency: options.concurrency,
        duration_seconds: elapsed,
        lookups,
        endpoints,
        load_requests,
        load_errors,
        load_throughput: load_requests as f64 / elapsed,
        distinct,
        distinct_seconds,
    })
}

/// The values of each lookup a report lists.
const LISTED_VALUES: usize = 5;

/// `concurrency` clients calling what `next(client, call number)` gives them (the index of the
/// tally to record in, below `slots`, and a URL) until it gives nothing or `duration` has passed;
/// the merged tallies and the seconds it took.
fn under_load<'a>(
    options: &Options,
    slots: usize,
    next: impl Fn(usize, usize) -> Option<(usize, &'a str)> + Sync,
) -> (Vec<Tally>, f64) {
    let started = Instant::now();
    let deadline = started + options.duration;
    let per_client: Vec<Vec<Tally>> = std::thread::scope(|scope| {
        let clients: Vec<_> = (0..options.concurrency.max(1))
            .map(|client| {
                let next = &next;
                scope.spawn(move || {
                    let agent = new_agent();
                    let mut tallies: Vec<Tally> = (0..slots).map(|_| Tally::default()).collect();
                    let mut calls = 0;
                    while Instant::now() < deadline {
                        let Some((slot, url)) = next(client, calls) else {
                            break;
                        };
                        tallies[slot].record(call(&agent, url));
                        calls += 1;
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
    let mut merged: Vec<Tally> = (0..slots).map(|_| Tally::default()).collect();
    for tallies in per_client {
        for (total, tally) in merged.iter_mut().zip(tallies) {
            total.merge(tally);
        }
    }
    (merged, elapsed)
}

impl Report {
    /// Failed requests over the whole run.
    pub fn errors(&self) -> u64 {
        let distinct: u64 = self.distinct.iter().map(|d| d.errors).sum();
        self.endpoints.iter().map(|e| e.errors).sum::<u64>() + distinct
    }

    /// The report as a fixed-width table, one line per request.
    pub fn table(&self) -> String {
        let width = self
            .endpoints
            .iter()
            .map(|e| &e.name)
            .chain(self.distinct.iter().map(|d| &d.name))
            .map(|name| name.chars().count())
            .max()
            .unwrap_or(0)
            .max("distinct cold questions".len());
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
        if !self.distinct.is_empty() {
            let questions: usize = self.distinct.iter().map(|d| d.latency.samples).sum();
            let _ = writeln!(
                out,
                "\n{:width$}  {:>26}  {:>9}  {:>6}",
                "distinct cold questions", "p50/p95/p99 ms", "questions", "errors"
            );
            for d in &self.distinct {
                let _ = writeln!(
                    out,
                    "{:width$}  {:>26}  {:>9}  {:>6}",
                    d.name,
                    triple(&d.latency),
                    d.latency.samples,
                    d.errors
                );
            }
            let _ = writeln!(
                out,
                "cold under load: {} clients, {questions} distinct questions in {:.1} s ({:.0}/s)",
                self.concurrency,
                self.distinct_seconds,
                questions as f64 / self.distinct_seconds.max(f64::EPSILON)
            );
        }
        let failed = self
            .endpoints
            .iter()
            .map(|e| (&e.name, &e.first_error))
            .chain(self.distinct.iter().map(|d| (&d.name, &d.first_error)));
        for (name, error) in failed {
            let Some(error) = error else { continue };
            let _ = writeln!(out, "first error of {name}: {error}");
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

    fn request(path: &str) -> Request {
        Request {
            name: "r".into(),
            path: path.into(),
        }
    }

    #[test]
    fn lookups_fill_paths_percent_encoded_one_value_at_a_time() {
        let found: HashMap<String, Vec<String>> = [
            (
                "artist".to_owned(),
                vec!["Nedor Ashroti".to_owned(), "A & B".to_owned()],
            ),
            (
                "id".to_owned(),
                vec!["1".to_owned(), "2".to_owned(), "3".to_owned()],
            ),
        ]
        .into();
        let both = request("/api/explore?name={artist}&type=artist&id={id}");
        assert_eq!(placeholders(&both.path), ["artist", "id"]);
        assert_eq!(value_count(&both, &found).unwrap(), 2);
        assert_eq!(
            fill(&both, &found, 0),
            "/api/explore?name=Nedor%20Ashroti&type=artist&id=1"
        );
        assert_eq!(
            fill(&both, &found, 1),
            "/api/explore?name=A%20%26%20B&type=artist&id=2"
        );
        let plain = request("/api/graph/stats");
        assert_eq!(value_count(&plain, &found).unwrap(), 1);
        assert_eq!(fill(&plain, &found, 0), "/api/graph/stats");
        assert!(matches!(
            value_count(&request("/api/node/{label}"), &found),
            Err(PerftestError::UnknownLookup { lookup, .. }) if lookup == "label"
        ));
    }

    #[test]
    fn values_are_one_scalar_or_an_arrays_items_or_their_fields() {
        let answer = serde_json::json!({
            "items": [{"artist_id": "7", "edge_count": 3}, {"artist_id": "9"}, {"other": 1}],
            "top": {"name": "Rock"},
            "count": 12,
        });
        let at = |pointer| answer.pointer(pointer).unwrap();
        assert_eq!(values_at(at("/items"), Some("artist_id")), ["7", "9"]);
        assert_eq!(values_at(at("/items/0/edge_count"), None), ["3"]);
        assert_eq!(values_at(at("/top/name"), None), ["Rock"]);
        assert_eq!(values_at(at("/count"), None), ["12"]);
        assert!(values_at(at("/top"), None).is_empty());
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
