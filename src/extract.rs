//! The extractor: one dump file in, canonical records out, in file order, on several threads.
//!
//! ```text
//!  reader thread                 worker threads (N)              caller
//!  gunzip ─► Chunker ─► chunk ──► tree ─► canonical JSON ─► hash ─┐
//!            │                                                    ├─► ordered results ─► Batch
//!            └─► one result slot per chunk, queued in file order ─┘
//! ```
//!
//! Decompression is one sequential stream, so it gets a thread of its own; records are cut into
//! chunks ([`crate::xml::chunk`]) and parsed by a pool of workers. Each chunk's result slot is
//! queued in file order as the chunk is handed out, so the caller receives batches in file order
//! whatever order the workers finish in. Every queue is bounded: memory stays at a few chunks per
//! worker whatever the file size, and a slow caller slows the reader.
//!
//! A record that cannot be parsed is skipped and reported with its ordinal and byte offset; a
//! file that cannot be read as a dump ends the extraction with an error.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

use memchr::memmem;
use quick_xml::Reader;
use quick_xml::errors::IllFormedError;
use quick_xml::events::Event;

use crate::record::{self, Canonical, Kind};
use crate::xml::chunk::{Chunk, ChunkError, Chunker};
use crate::xml::tree::Tree;

/// Chunks queued per worker: enough that a worker never waits for the reader between chunks.
const CHUNKS_PER_WORKER: usize = 2;

/// Why a file could not be extracted. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("{path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: ChunkError },
    #[error("{path}: holds {found} records but --type says {expected}")]
    WrongKind {
        path: PathBuf,
        expected: Kind,
        found: Kind,
    },
    #[error("{path}: giving up after {count} unparseable records (the last: {last})")]
    TooManyErrors {
        path: PathBuf,
        count: u64,
        last: Skipped,
    },
    #[error("{path}: extraction thread failed")]
    Thread { path: PathBuf },
}

/// A record that could not be parsed, and where it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record {ordinal} at XML byte {offset}: {reason}")]
pub struct Skipped {
    /// 1-based position of the record in the file.
    pub ordinal: u64,
    /// Offset of its start tag in the decompressed XML.
    pub offset: u64,
    /// The record's id, when it could still be read; an ingest keeps the stored version of a
    /// record it could not parse instead of deleting it as absent.
    pub id: Option<i64>,
    pub reason: String,
}

/// The records of one chunk, in file order.
#[derive(Debug, Default)]
pub struct Batch {
    pub records: Vec<Canonical>,
    pub skipped: Vec<Skipped>,
    /// Decompressed bytes this batch covers.
    pub xml_bytes: u64,
}

/// How to extract.
#[derive(Debug, Clone)]
pub struct Options {
    /// Parser threads; 0 parses on the caller's thread with no reader thread at all.
    pub threads: usize,
    /// Unparseable records tolerated before the file is abandoned.
    pub max_errors: u64,
    /// The type the caller expects; the file's root element must agree.
    pub kind: Option<Kind>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threads: thread::available_parallelism().map_or(2, |n| n.get()),
            max_errors: record::DEFAULT_MAX_ERRORS,
            kind: None,
        }
    }
}

type ChunkResult = Result<ParsedChunk, ChunkError>;

/// Parsed records of one chunk; ordinals in `skipped` count from the chunk's first record.
#[derive(Debug, Default)]
struct ParsedChunk {
    batch: Batch,
    /// Records seen, parsed or skipped.
    seen: u64,
}

enum Source {
    Sequential {
        chunker: Box<Chunker<Box<dyn std::io::Read + Send>>>,
        tree: Tree,
    },
    Parallel {
        results: Receiver<Receiver<ChunkResult>>,
    },
}

/// A dump file being extracted; [`Extractor::next_batch`] yields its records in order.
pub struct Extractor {
    path: PathBuf,
    kind: Kind,
    source: Source,
    max_errors: u64,
    /// Records seen so far, parsed or skipped.
    seen: u64,
    skipped: u64,
    done: bool,
}

impl Extractor {
    /// Opens `path` and starts extracting it.
    ///
    /// # Errors
    ///
    /// The file cannot be opened, is not a dump, or is not of the expected kind.
    pub fn open(path: &Path, options: &Options) -> Result<Extractor, ExtractError> {
        Extractor::open_counted(path, options).map(|(extractor, _)| extractor)
    }

    /// Like [`Extractor::open`], also returning a counter of the file's (compressed) bytes read so
    /// far, for progress reports.
    ///
    /// # Errors
    ///
    /// As [`Extractor::open`].
    pub fn open_counted(
        path: &Path,
        options: &Options,
    ) -> Result<(Extractor, Arc<AtomicU64>), ExtractError> {
        let (reader, read) =
            crate::xml::open_counted(path).map_err(|source| ExtractError::Open {
                path: path.to_owned(),
                source,
            })?;
        Ok((Extractor::from_reader(reader, path, options)?, read))
    }

    /// Extracts from decompressed XML; `path` only names the source in messages.
    ///
    /// # Errors
    ///
    /// The stream is not a dump, or not of the expected kind.
    pub fn from_reader(
        reader: Box<dyn std::io::Read + Send>,
        path: &Path,
        options: &Options,
    ) -> Result<Extractor, ExtractError> {
        let chunker = Chunker::new(reader).map_err(|source| ExtractError::Read {
            path: path.to_owned(),
            source,
        })?;
        let kind = chunker.kind();
        if let Some(expected) = options.kind.filter(|&expected| expected != kind) {
            return Err(ExtractError::WrongKind {
                path: path.to_owned(),
                expected,
                found: kind,
            });
        }
        let source = if options.threads == 0 {
            Source::Sequential {
                chunker: Box::new(chunker),
                tree: Tree::default(),
            }
        } else {
            Source::Parallel {
                results: spawn_threads(chunker, options.threads, path)?,
            }
        };
        Ok(Extractor {
            path: path.to_owned(),
            kind,
            source,
            max_errors: options.max_errors,
            seen: 0,
            skipped: 0,
            done: false,
        })
    }

    /// The record type, from the file's root element.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The next batch of records, or `None` at the end of the file. Blocks while workers parse.
    ///
    /// # Errors
    ///
    /// The file turned out unreadable (corrupt or truncated), or too many records were skipped.
    /// After an error the extractor is finished.
    pub fn next_batch(&mut self) -> Result<Option<Batch>, ExtractError> {
        if self.done {
            return Ok(None);
        }
        let next = match &mut self.source {
            Source::Sequential { chunker, tree } => chunker
                .next_chunk()
                .map(|chunk| chunk.map(|chunk| parse_chunk(self.kind, &chunk, tree))),
            Source::Parallel { results } => match results.recv() {
                Err(_) => Ok(None),
                Ok(slot) => match slot.recv() {
                    Ok(result) => result.map(Some),
                    Err(_) => {
                        self.done = true;
                        return Err(ExtractError::Thread {
                            path: self.path.clone(),
                        });
                    }
                },
            },
        };
        let parsed = match next {
            Ok(Some(parsed)) => parsed,
            Ok(None) => {
                self.done = true;
                return Ok(None);
            }
            Err(source) => {
                self.done = true;
                return Err(ExtractError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let mut batch = parsed.batch;
        for skipped in &mut batch.skipped {
            skipped.ordinal += self.seen;
            tracing::warn!(file = %self.path.display(), ordinal = skipped.ordinal, offset = skipped.offset, reason = %skipped.reason, "skipped unparseable record");
        }
        self.seen += parsed.seen;
        self.skipped += batch.skipped.len() as u64;
        if self.skipped > self.max_errors {
            self.done = true;
            let last = batch.skipped.last().cloned().unwrap_or_else(|| Skipped {
                ordinal: self.seen,
                offset: 0,
                id: None,
                reason: String::new(),
            });
            return Err(ExtractError::TooManyErrors {
                path: self.path.clone(),
                count: self.skipped,
                last,
            });
        }
        Ok(Some(batch))
    }
}

/// Starts the reader thread and `threads` workers; returns the queue of result slots in file order.
fn spawn_threads(
    mut chunker: Chunker<Box<dyn std::io::Read + Send>>,
    threads: usize,
    path: &Path,
) -> Result<Receiver<Receiver<ChunkResult>>, ExtractError> {
    let kind = chunker.kind();
    let (jobs, job_queue) =
        sync_channel::<(Chunk, SyncSender<ChunkResult>)>(threads * CHUNKS_PER_WORKER);
    let job_queue = Arc::new(Mutex::new(job_queue));
    let (slots, ordered) = sync_channel::<Receiver<ChunkResult>>(threads * CHUNKS_PER_WORKER);
    let thread_error = |_| ExtractError::Thread {
        path: path.to_owned(),
    };
    for n in 0..threads {
        let job_queue = Arc::clone(&job_queue);
        thread::Builder::new()
            .name(format!("parse-{n}"))
            .spawn(move || {
                let mut tree = Tree::default();
                loop {
                    // The lock is held only while taking a job, never while parsing.
                    let job = match job_queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok((chunk, slot)) = job else { return };
                    // The caller may have stopped listening (an early stop); that is not an error.
                    let _ = slot.send(Ok(parse_chunk(kind, &chunk, &mut tree)));
                }
            })
            .map_err(thread_error)?;
    }
    thread::Builder::new()
        .name("gunzip".into())
        .spawn(move || {
            loop {
                let (slot, result) = sync_channel(1);
                match chunker.next_chunk() {
                    Ok(Some(chunk)) => {
                        if slots.send(result).is_err() || jobs.send((chunk, slot)).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(error) => {
                        let _ = slot.send(Err(error));
                        let _ = slots.send(result);
                        return;
                    }
                }
            }
        })
        .map_err(thread_error)?;
    Ok(ordered)
}

/// Parses every record in `chunk`. A record that fails is reported and the parser picks up again
/// at the next record start, so one bad record costs only itself.
fn parse_chunk(kind: Kind, chunk: &Chunk, tree: &mut Tree) -> ParsedChunk {
    let element = kind.element();
    let next_record = memmem::Finder::new(&[b"\n<", element].concat()).into_owned();
    let mut parsed = ParsedChunk::default();
    parsed.batch.xml_bytes = chunk.data.len() as u64;
    let mut position = 0;
    'resync: while position < chunk.data.len() {
        let mut reader = Reader::from_reader(&chunk.data[position..]);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        // Chunks begin and end mid-document (the root's tags are in the first and last), so tag
        // matching is done per record by the tree instead.
        config.check_end_names = false;
        loop {
            let record_start = position + reader.buffer_position() as usize;
            let failure = match reader.read_event() {
                Ok(Event::Start(start)) if start.name().as_ref() == element => {
                    parsed.seen += 1;
                    match tree.read(&mut reader, &start) {
                        Ok(()) => match record::canonicalize(kind, tree.root()) {
                            Ok(canonical) => {
                                parsed.batch.records.push(canonical);
                                continue;
                            }
                            // The element was read whole, so the reader is still in step.
                            Err(error) => {
                                parsed.batch.skipped.push(skipped(
                                    kind,
                                    chunk,
                                    parsed.seen,
                                    record_start,
                                    error.to_string(),
                                ));
                                continue;
                            }
                        },
                        Err(error) => error.to_string(),
                    }
                }
                Ok(Event::Start(other)) if other.name().as_ref() == kind.as_str().as_bytes() => {
                    continue;
                }
                Ok(Event::Start(other)) => {
                    parsed.seen += 1;
                    format!(
                        "unexpected element <{}>",
                        String::from_utf8_lossy(other.name().as_ref())
                    )
                }
                Ok(Event::Eof) => break 'resync,
                Ok(_) => continue,
                // The root's closing tag, in the last chunk: the reader never saw it open.
                Err(quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(name)))
                    if name == kind.as_str() =>
                {
                    break 'resync;
                }
                Err(error) => {
                    parsed.seen += 1;
                    format!("malformed XML: {error}")
                }
            };
            parsed
                .batch
                .skipped
                .push(skipped(kind, chunk, parsed.seen, record_start, failure));
            // Resume at the next record that starts on a line of its own, if any.
            match next_record.find(&chunk.data[record_start + 1..]) {
                Some(at) => position = record_start + 1 + at + 1,
                None => break 'resync,
            }
            continue 'resync;
        }
    }
    parsed
}

fn skipped(
    kind: Kind,
    chunk: &Chunk,
    ordinal: u64,
    record_start: usize,
    reason: String,
) -> Skipped {
    Skipped {
        ordinal,
        offset: chunk.offset + record_start as u64,
        id: id_hint(kind, &chunk.data[record_start..]),
        reason,
    }
}

/// The id of a record that failed to parse, read straight from its first bytes: the `id`
/// attribute of `<release>`/`<master>`, or the leading `<id>` element of `<artist>`/`<label>`.
fn id_hint(kind: Kind, record: &[u8]) -> Option<i64> {
    let head = &record[..record.len().min(256)];
    let marker: &[u8] = match kind {
        Kind::Releases | Kind::Masters => b" id=\"",
        Kind::Artists | Kind::Labels => b"<id>",
    };
    let start = memmem::find(head, marker)? + marker.len();
    let digits = head[start..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    std::str::from_utf8(&head[start..start + digits])
        .ok()?
        .parse()
        .ok()
}
