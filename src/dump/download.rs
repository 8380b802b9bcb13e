//! Finding the newest complete dump on the Discogs data site and downloading it safely.
//!
//! The site lists years (`?prefix=data%2FYYYY%2F` links) and, per year, files
//! (`?download=data%2FYYYY%2F<name>` links). A month is complete when all five files are listed.
//! Each file is written to `<name>.part`, hashed while it is written, and renamed into place only
//! when its SHA-256 matches the dump's CHECKSUM file. An interrupted file resumes with a Range
//! request when the server honours it and starts over when it does not. Requests are spaced at
//! least [`MIN_INTERVAL`] apart, connection failures are retried with backoff, and 429/503 answers
//! are waited out as their `Retry-After` says (capped). Files already verified are not fetched or
//! hashed again while their size and modification time are unchanged.

use std::collections::BTreeMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use super::checksum::{self, Checksums, Verified};
use super::{Dump, find_newest, parse_file_name};

/// The public data site.
pub const DEFAULT_BASE_URL: &str = "https://data.discogs.com/";
/// Requests to the site are spaced at least this far apart, to be a polite client.
pub const MIN_INTERVAL: Duration = Duration::from_millis(500);
/// The longest `Retry-After` we wait out (the site may ask for about an hour).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(2 * 3600);
/// Attempts per request on connection failures, with doubling backoff from half a second.
const RETRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// Why a download failed; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error(
        "no complete monthly dump is listed at {base} (each month needs artists, labels, masters, releases and CHECKSUM)"
    )]
    NoCompleteDump { base: String },
    #[error(
        "{url} asks to wait {wait:?} (Retry-After), more than the {MAX_RETRY_AFTER:?} we wait; try again later"
    )]
    RetryTooLong { url: String, wait: Duration },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Checksum(#[from] checksum::ChecksumError),
    #[error(transparent)]
    Dump(#[from] super::DumpError),
    #[error(
        "{file}: downloaded SHA-256 is {actual}, but the CHECKSUM file says {expected}; the partial file was removed, run the download again"
    )]
    Mismatch {
        file: String,
        expected: String,
        actual: String,
    },
}

/// Download choices.
#[derive(Debug, Clone)]
pub struct Options {
    pub base_url: String,
    pub data_dir: PathBuf,
    /// Check each file's SHA-256 against the CHECKSUM file (on unless explicitly skipped).
    pub verify: bool,
}

/// A file the site lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFile {
    pub name: String,
    pub url: String,
}

/// Downloads the newest complete dump into `options.data_dir` and returns it.
///
/// # Errors
///
/// The site cannot be reached or lists no complete month, a file fails its checksum, or the data
/// directory cannot be written.
pub fn download(options: &Options) -> Result<Dump, DownloadError> {
    let mut client = Client::new();
    let (version, files) = newest_complete(&mut client, &options.base_url)?;
    tracing::info!(%version, base = %options.base_url, "newest complete dump");
    fs::create_dir_all(&options.data_dir).map_err(|source| DownloadError::Write {
        path: options.data_dir.clone(),
        source,
    })?;
    let checksum_name = format!("discogs_{version}_CHECKSUM.txt");
    let checksum_file =
        files
            .iter()
            .find(|f| f.name == checksum_name)
            .ok_or(DownloadError::NoCompleteDump {
                base: options.base_url.clone(),
            })?;
    let checksum_path = options.data_dir.join(&checksum_name);
    let text = client.text(&checksum_file.url)?;
    checksum::write_atomically(&checksum_path, text.as_bytes()).map_err(|source| {
        DownloadError::Write {
            path: checksum_path.clone(),
            source,
        }
    })?;
    let checksums = Checksums::read(&checksum_path)?;
    let mut verified = Verified::load(&options.data_dir);
    for file in files.iter().filter(|f| f.name != checksum_name) {
        let path = options.data_dir.join(&file.name);
        let expected = if options.verify {
            Some(checksums.expected(&file.name)?.to_owned())
        } else {
            None
        };
        if path.exists() {
            match &expected {
                None => continue,
                Some(expected) if verified.matches(&path, expected) => continue,
                Some(expected) if checksum::sha256_file(&path)? == *expected => {
                    verified.record(&path, expected);
                    continue;
                }
                Some(_) => {
                    tracing::warn!(file = %file.name, "present but its checksum does not match; downloading it again")
                }
            }
        }
        let part = path.with_file_name(format!("{}.part", file.name));
        let actual = client.fetch(&file.url, &part)?;
        if let Some(expected) = &expected
            && actual != *expected
        {
            let _ = fs::remove_file(&part);
            return Err(DownloadError::Mismatch {
                file: file.name.clone(),
                expected: expected.clone(),
                actual,
            });
        }
        // Only a verified file takes its final name.
        fs::rename(&part, &path).map_err(|source| DownloadError::Write {
            path: path.clone(),
            source,
        })?;
        tracing::info!(file = %path.display(), "downloaded");
        if let Some(expected) = &expected {
            verified.record(&path, expected);
        }
        verified.save(&options.data_dir)?;
    }
    verified.save(&options.data_dir)?;
    Ok(find_newest(&options.data_dir)?)
}

/// The newest month listed with all five files: its version and files.
fn newest_complete(
    client: &mut Client,
    base: &str,
) -> Result<(String, Vec<RemoteFile>), DownloadError> {
    let listing = client.text(base)?;
    let mut years: Vec<String> = links(&listing)
        .into_iter()
        .filter_map(|href| {
            let prefix = decode(href.split("prefix=").nth(1)?);
            let year = prefix.strip_prefix("data/")?.trim_end_matches('/');
            (year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit())).then(|| year.to_owned())
        })
        .collect();
    years.sort_unstable_by(|a, b| b.cmp(a));
    years.dedup();
    for year in years {
        let page = client.text(&resolve(base, &format!("?prefix=data%2F{year}%2F")))?;
        let mut months: BTreeMap<String, Vec<RemoteFile>> = BTreeMap::new();
        for href in links(&page) {
            let Some(target) = href.split("download=").nth(1) else {
                continue;
            };
            let path = decode(target);
            let Some(name) = path.rsplit('/').next() else {
                continue;
            };
            let version = match parse_file_name(name) {
                Some((version, _)) => version,
                None => match name
                    .strip_prefix("discogs_")
                    .and_then(|rest| rest.strip_suffix("_CHECKSUM.txt"))
                {
                    Some(version) => version.to_owned(),
                    None => continue,
                },
            };
            let file = RemoteFile {
                name: name.to_owned(),
                url: resolve(base, &href),
            };
            let files = months.entry(version).or_default();
            if !files.contains(&file) {
                files.push(file);
            }
        }
        if let Some((version, files)) = months.into_iter().rev().find(|(_, files)| files.len() == 5)
        {
            return Ok((version, files));
        }
    }
    Err(DownloadError::NoCompleteDump {
        base: base.to_owned(),
    })
}

/// The `href` values of a page, HTML-unescaped.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.replace("&amp;", "&"))
        .collect()
}

/// Percent-decodes a URL component (the site encodes `/` as `%2F`).
fn decode(text: &str) -> String {
    let text = text.split('&').next().unwrap_or(text);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()),
        ) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `href` resolved against the listing's URL.
fn resolve(base: &str, href: &str) -> String {
    if href.starts_with("http://") || href.starts_with("https://") {
        return href.to_owned();
    }
    let without_query = base.split('?').next().unwrap_or(base);
    if let Some(query) = href.strip_prefix('?') {
        return format!("{without_query}?{query}");
    }
    let origin_end = without_query.find("://").map_or(0, |i| i + 3);
    let origin = &without_query[..without_query[origin_end..]
        .find('/')
        .map_or(without_query.len(), |i| origin_end + i)];
    match href.strip_prefix('/') {
        Some(path) => format!("{origin}/{path}"),
        None => format!("{}/{href}", without_query.trim_end_matches('/')),
    }
}

/// An HTTP client that paces its requests and rides out transient failures.
struct Client {
    agent: ureq::Agent,
    last_request: Option<Instant>,
}

impl Client {
    fn new() -> Client {
        let config = ureq::Agent::config_builder()
            .user_agent(concat!("discogs/", env!("CARGO_PKG_VERSION")))
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(20)))
            .timeout_per_read(Some(Duration::from_secs(60)))
            .build();
        Client {
            agent: config.into(),
            last_request: None,
        }
    }

    /// GET `url` (from byte `from` on, if given), retrying connection failures and waiting out
    /// 429/503 `Retry-After`.
    fn get(
        &mut self,
        url: &str,
        from: Option<u64>,
    ) -> Result<ureq::http::Response<ureq::Body>, DownloadError> {
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 1;
        loop {
            if let Some(last) = self.last_request {
                std::thread::sleep(MIN_INTERVAL.saturating_sub(last.elapsed()));
            }
            self.last_request = Some(Instant::now());
            let mut request = self.agent.get(url);
            if let Some(from) = from {
                request = request.header("Range", &format!("bytes={from}-"));
            }
            match request.call() {
                Ok(response) if matches!(response.status().as_u16(), 429 | 503) => {
                    let wait = response
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map_or(backoff, Duration::from_secs);
                    if wait > MAX_RETRY_AFTER {
                        return Err(DownloadError::RetryTooLong {
                            url: url.to_owned(),
                            wait,
                        });
                    }
                    tracing::warn!(%url, status = response.status().as_u16(), wait_seconds = wait.as_secs(), "server asks us to wait (Retry-After); waiting");
                    std::thread::sleep(wait);
                }
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    return Err(DownloadError::Status {
                        url: url.to_owned(),
                        status: response.status().as_u16(),
                    });
                }
                Err(error) if attempt < RETRIES => {
                    tracing::warn!(%url, %error, attempt, retry_in = ?backoff, "request failed; retrying");
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    attempt += 1;
                }
                Err(error) => {
                    return Err(DownloadError::Unreachable {
                        url: url.to_owned(),
                        reason: error.to_string(),
                    });
                }
            }
        }
    }

    fn text(&mut self, url: &str) -> Result<String, DownloadError> {
        let mut response = self.get(url, None)?;
        response
            .body_mut()
            .read_to_string()
            .map_err(|e| DownloadError::Unreachable {
                url: url.to_owned(),
                reason: e.to_string(),
            })
    }

    /// Downloads `url` into `part`, resuming what an interrupted transfer left there; returns the
    /// file's SHA-256 (hex).
    fn fetch(&mut self, url: &str, part: &Path) -> Result<String, DownloadError> {
        let write_error = |source| DownloadError::Write {
            path: part.to_owned(),
            source,
        };
        let progress = progress_bar(part);
        let mut attempt = 1;
        loop {
            let have = fs::metadata(part).map_or(0, |m| m.len());
            let mut response = self.get(url, (have > 0).then_some(have))?;
            let resumed = response.status().as_u16() == 206;
            let mut file = OpenOptions::new()
                .create(true)
                .write(true)
                .read(true)
                .truncate(!resumed)
                .open(part)
                .map_err(write_error)?;
            let mut hasher = Sha256::new();
            let mut written = 0;
            if resumed {
                // The bytes already on disk count towards the hash.
                io::copy(&mut (&mut file).take(have), &mut HashWriter(&mut hasher))
                    .map_err(write_error)?;
                file.seek(io::SeekFrom::End(0)).map_err(write_error)?;
                written = have;
            }
            let total = response
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(|n| n + written);
            if let (Some(bar), Some(total)) = (&progress, total) {
                bar.set_length(total);
                bar.set_position(written);
            }
            let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
            let mut buffer = vec![0u8; 1 << 16];
            let outcome = loop {
                match reader.read(&mut buffer) {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        file.write_all(&buffer[..n]).map_err(write_error)?;
                        hasher.update(&buffer[..n]);
                        written += n as u64;
                        if let Some(bar) = &progress {
                            bar.set_position(written);
                        }
                    }
                    Err(error) => break Err(error),
                }
            };
            file.sync_all().map_err(write_error)?;
            match outcome {
                Ok(()) if total.is_none_or(|total| total == written) => {
                    if let Some(bar) = &progress {
                        bar.finish_and_clear();
                    }
                    return Ok(hex::encode(hasher.finalize()));
                }
                _ if attempt < RETRIES => {
                    tracing::warn!(%url, bytes = written, attempt, "transfer interrupted; resuming");
                    attempt += 1;
                }
                Ok(()) => {
                    return Err(DownloadError::Unreachable {
                        url: url.to_owned(),
                        reason: format!("the transfer ended early at {written} bytes"),
                    });
                }
                Err(error) => {
                    return Err(DownloadError::Unreachable {
                        url: url.to_owned(),
                        reason: error.to_string(),
                    });
                }
            }
        }
    }
}

struct HashWriter<'h>(&'h mut Sha256);

impl Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn progress_bar(path: &Path) -> Option<ProgressBar> {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:32} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        bar
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_decode_and_resolve() {
        let html = r#"<a href="?prefix=data%2F2026%2F">2026</a> <a href="?download=data%2F2026%2Fdiscogs_20260101_artists.xml.gz&amp;x=1">a</a>"#;
        let hrefs = links(html);
        assert_eq!(
            hrefs,
            [
                "?prefix=data%2F2026%2F",
                "?download=data%2F2026%2Fdiscogs_20260101_artists.xml.gz&x=1"
            ]
        );
        assert_eq!(
            decode("data%2F2026%2Fdiscogs_20260101_artists.xml.gz&x=1"),
            "data/2026/discogs_20260101_artists.xml.gz"
        );
        assert_eq!(
            resolve("https://data.discogs.com/", "?prefix=data%2F2026%2F"),
            "https://data.discogs.com/?prefix=data%2F2026%2F"
        );
        assert_eq!(
            resolve("http://127.0.0.1:9/listing?x", "/files/a.gz"),
            "http://127.0.0.1:9/files/a.gz"
        );
        assert_eq!(resolve("http://h/", "https://other/a"), "https://other/a");
    }
}
