//! `discogs download` against a fake Discogs data site served on 127.0.0.1 by the test.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use discogs::dump::checksum::sha256_file;
use discogs::dump::download::{DownloadError, Options, download};
use discogs::record::Kind;

use crate::util::{fixture, temp_dir};

/// File name → bytes, for one year of the listing.
type YearFiles = HashMap<String, Vec<u8>>;
/// A requested file name and the Range header it came with.
type Request = (String, Option<String>);

/// The fake site's content and misbehaviour, shared with its handler.
#[derive(Clone, Default)]
struct Site {
    /// year → file name → bytes.
    years: Arc<Mutex<HashMap<String, YearFiles>>>,
    /// Files that answer 429 (Retry-After: 1) once.
    busy_once: Arc<Mutex<HashSet<String>>>,
    /// Files whose first transfer is cut off halfway.
    drop_once: Arc<Mutex<HashSet<String>>>,
    /// Whether Range requests are honoured.
    ranges: Arc<Mutex<bool>>,
    /// File downloads requested, with the Range header if any.
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Site {
    /// A month of the real sample dump (tests/fixtures/tgmz), with a CHECKSUM file; `except`
    /// leaves files out.
    fn add_month(&self, version: &str, except: &[&str]) {
        let year = version[..4].to_owned();
        let mut years = self.years.lock().unwrap();
        let files = years.entry(year).or_default();
        let mut sums = String::new();
        for kind in Kind::ALL {
            let bytes = std::fs::read(fixture(&format!("tgmz/discogs_{kind}.xml.gz"))).unwrap();
            let name = format!("discogs_{version}_{kind}.xml.gz");
            sums.push_str(&format!(
                "{} {name}\n",
                hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
            ));
            if !except.contains(&kind.as_str()) {
                files.insert(name, bytes);
            }
        }
        if !except.contains(&"CHECKSUM") {
            files.insert(format!("discogs_{version}_CHECKSUM.txt"), sums.into_bytes());
        }
    }

    async fn serve(self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/", listener.local_addr().unwrap());
        let app = Router::new()
            .route("/", axum::routing::get(page))
            .with_state(self);
        tokio::spawn(async move { axum::serve(listener, app).await });
        base
    }

    fn file_requests(&self, name: &str) -> Vec<Option<String>> {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, range)| range.clone())
            .collect()
    }
}

async fn page(
    State(site): State<Site>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(path) = query.get("download") {
        return file(&site, path, &headers);
    }
    let years = site.years.lock().unwrap();
    let links: Vec<String> = match query.get("prefix") {
        Some(prefix) => {
            let year = prefix.trim_start_matches("data/").trim_end_matches('/');
            years
                .get(year)
                .map(|files| {
                    files
                        .keys()
                        .map(|name| format!("?download=data%2F{year}%2F{name}"))
                        .collect()
                })
                .unwrap_or_default()
        }
        None => years
            .keys()
            .map(|year| format!("?prefix=data%2F{year}%2F"))
            .collect(),
    };
    let html: String = links
        .iter()
        .map(|href| format!("<a href=\"{href}\">{href}</a>\n"))
        .collect();
    ([(header::CONTENT_TYPE, "text/html")], html).into_response()
}

fn file(site: &Site, path: &str, headers: &HeaderMap) -> Response {
    let name = path.rsplit('/').next().unwrap_or_default().to_owned();
    let year = &path["data/".len()..path.len() - name.len() - 1];
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    site.requests
        .lock()
        .unwrap()
        .push((name.clone(), range.clone()));
    if site.busy_once.lock().unwrap().remove(&name) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            "slow down",
        )
            .into_response();
    }
    let Some(bytes) = site
        .years
        .lock()
        .unwrap()
        .get(year)
        .and_then(|files| files.get(&name))
        .cloned()
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let from = range
        .filter(|_| *site.ranges.lock().unwrap())
        .and_then(|r| {
            r.strip_prefix("bytes=")
                .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
        });
    let (status, body) = match from {
        Some(from) => (StatusCode::PARTIAL_CONTENT, bytes[from..].to_vec()),
        None => (StatusCode::OK, bytes),
    };
    let length = body.len();
    if site.drop_once.lock().unwrap().remove(&name) {
        // Promise the whole body, send half, then fail: the connection is cut mid-file.
        let half = Bytes::from(body[..length / 2].to_vec());
        // The pause lets the first half reach the client before the connection is cut.
        let cut = futures_util::stream::once(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Err(std::io::Error::other("connection dropped"))
        });
        let stream = futures_util::StreamExt::chain(futures_util::stream::iter([Ok(half)]), cut);
        return Response::builder()
            .status(status)
            .header(header::CONTENT_LENGTH, length)
            .body(Body::from_stream(stream))
            .unwrap();
    }
    Response::builder()
        .status(status)
        .header(header::CONTENT_LENGTH, length)
        .body(Body::from(body))
        .unwrap()
}

async fn run_download(base: &str, dir: &Path) -> Result<discogs::dump::Dump, DownloadError> {
    let options = Options {
        base_url: base.to_owned(),
        data_dir: dir.to_owned(),
        verify: true,
    };
    tokio::task::spawn_blocking(move || download(&options))
        .await
        .unwrap()
}

fn assert_same_as_fixture(dir: &Path, version: &str) {
    for kind in Kind::ALL {
        let got = sha256_file(&dir.join(format!("discogs_{version}_{kind}.xml.gz"))).unwrap();
        assert_eq!(
            got,
            sha256_file(&fixture(&format!("tgmz/discogs_{kind}.xml.gz"))).unwrap(),
            "{kind}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect();
    assert_eq!(leftovers, Vec::<String>::new());
}

#[tokio::test]
async fn downloads_the_newest_complete_month_once() {
    let site = Site::default();
    site.add_month("20251201", &[]);
    site.add_month("20260101", &[]);
    // February is still being published: no releases file yet.
    site.add_month("20260201", &["releases"]);
    let base = site.clone().serve().await;
    let dir = temp_dir("download-happy");

    let dump = run_download(&base, &dir).await.unwrap();
    assert_eq!(
        dump.version, "20260101",
        "the incomplete newest month is skipped"
    );
    assert_eq!(dump.files.len(), 4);
    assert!(dump.checksum.is_some());
    assert_same_as_fixture(&dir, "20260101");
    assert_eq!(
        site.file_requests("discogs_20260101_artists.xml.gz").len(),
        1
    );

    // A second run finds everything present and verified: no file is fetched again.
    run_download(&base, &dir).await.unwrap();
    assert_eq!(
        site.file_requests("discogs_20260101_artists.xml.gz").len(),
        1
    );
    assert_eq!(
        site.file_requests("discogs_20260101_releases.xml.gz").len(),
        1
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_checksum_mismatch_removes_the_file_and_fails() {
    let site = Site::default();
    site.add_month("20260101", &[]);
    // The server's artists file differs from what the CHECKSUM file promises.
    site.years.lock().unwrap().get_mut("2026").unwrap().insert(
        "discogs_20260101_artists.xml.gz".into(),
        b"not the real file".to_vec(),
    );
    let base = site.serve().await;
    let dir = temp_dir("download-mismatch");
    let error = run_download(&base, &dir).await.unwrap_err().to_string();
    assert!(
        error.starts_with("discogs_20260101_artists.xml.gz: downloaded SHA-256 is "),
        "{error}"
    );
    assert!(
        error.ends_with("the partial file was removed, run the download again"),
        "{error}"
    );
    assert!(!dir.join("discogs_20260101_artists.xml.gz").exists());
    assert!(!dir.join("discogs_20260101_artists.xml.gz.part").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_429_with_retry_after_is_waited_out() {
    let site = Site::default();
    site.add_month("20260101", &[]);
    site.busy_once
        .lock()
        .unwrap()
        .insert("discogs_20260101_labels.xml.gz".into());
    let base = site.clone().serve().await;
    let dir = temp_dir("download-429");
    let started = Instant::now();
    run_download(&base, &dir).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited the Retry-After second"
    );
    assert_eq!(
        site.file_requests("discogs_20260101_labels.xml.gz").len(),
        2
    );
    assert_same_as_fixture(&dir, "20260101");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_dropped_connection_resumes_with_range_or_restarts_without() {
    for ranges in [true, false] {
        let site = Site::default();
        site.add_month("20260101", &[]);
        *site.ranges.lock().unwrap() = ranges;
        site.drop_once
            .lock()
            .unwrap()
            .insert("discogs_20260101_releases.xml.gz".into());
        let base = site.clone().serve().await;
        let dir = temp_dir(&format!("download-drop-{ranges}"));
        run_download(&base, &dir).await.unwrap();
        assert_same_as_fixture(&dir, "20260101");
        let requests = site.file_requests("discogs_20260101_releases.xml.gz");
        assert_eq!(requests.len(), 2, "ranges={ranges}");
        let half = std::fs::metadata(fixture("tgmz/discogs_releases.xml.gz"))
            .unwrap()
            .len()
            / 2;
        assert_eq!(
            requests[1],
            Some(format!("bytes={half}-")),
            "the second request resumes where the first stopped"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn clear_errors_for_no_dump_unreachable_and_unwritable() {
    let site = Site::default();
    site.add_month("20260101", &["CHECKSUM"]);
    let base = site.serve().await;
    let dir = temp_dir("download-errors");
    let error = run_download(&base, &dir).await.unwrap_err().to_string();
    assert_eq!(
        error,
        format!(
            "no complete monthly dump is listed at {base} (each month needs artists, labels, masters, releases and CHECKSUM)"
        )
    );

    let error = run_download("http://127.0.0.1:1/", &dir)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("cannot reach http://127.0.0.1:1/: "),
        "{error}"
    );

    let site = Site::default();
    site.add_month("20260101", &[]);
    let base = site.serve().await;
    let not_a_dir = dir.join("a-file");
    std::fs::write(&not_a_dir, "").unwrap();
    let error = run_download(&base, &not_a_dir.join("data"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!(
            "cannot write {}",
            not_a_dir.join("data").display()
        )),
        "{error}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
