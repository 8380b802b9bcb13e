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
//!
//! Each record's raw XML is hashed ([`Canonical::raw_hash`]). Given the hashes of a previous read
//! ([`Options::unchanged`]), a record whose XML is byte for byte the same is not parsed at all:
//! only its id and hash are passed on ([`Batch::unchanged`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread;

use memchr::memmem;
use quick_xml::Reader;
use quick_xml::errors::IllFormedError;
use quick_xml::events::Event;
use sha2::{Digest, Sha256};

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
    /// The id and raw hash of each record left unparsed because [`Options::unchanged`] holds
    /// that very hash for it.
    pub unchanged: Vec<(i64, u64)>,
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
    /// The raw hashes of the records as last read, by id: a record whose XML still has its hash
    /// is not parsed.
    pub unchanged: Option<Arc<RawHashes>>,
}

/// Records' ids and raw hashes ([`Canonical::raw_hash`]), sorted by id for lookups.
pub struct RawHashes(Vec<(i64, u64)>);

impl RawHashes {
    /// From `(id, raw hash)` pairs in any order; of repeated ids, one is kept.
    pub fn new(mut entries: Vec<(i64, u64)>) -> RawHashes {
        entries.sort_unstable_by_key(|(id, _)| *id);
        entries.dedup_by_key(|(id, _)| *id);
        RawHashes(entries)
    }

    /// The raw hash recorded for `id`.
    pub fn get(&self, id: i64) -> Option<u64> {
        self.0
            .binary_search_by_key(&id, |(known, _)| *known)
            .ok()
            .map(|index| self.0[index].1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The ids, ascending.
    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.0.iter().map(|&(id, _)| id)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for RawHashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RawHashes({} records)", self.0.len())
    }
}

/// The raw hash of a record's XML bytes: the first 8 bytes of their SHA-256.
fn raw_hash(xml: &[u8]) -> u64 {
    let digest = Sha256::digest(xml);
    let mut first = [0; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(first)
}

impl Default for Options {
    fn default() -> Options {
        Options {
            threads: thread::available_parallelism().map_or(2, |n| n.get()),
            max_errors: record::DEFAULT_MAX_ERRORS,
            kind: None,
            unchanged: None,
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
        unchanged: Option<Arc<RawHashes>>,
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
                unchanged: options.unchanged.clone(),
            }
        } else {
            Source::Parallel {
                results: spawn_threads(chunker, options, path)?,
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
            Source::Sequential {
                chunker,
                tree,
                unchanged,
            } => chunker.next_chunk().map(|chunk| {
                chunk.map(|chunk| parse_chunk(self.kind, &chunk, tree, unchanged.as_deref()))
            }),
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
    options: &Options,
    path: &Path,
) -> Result<Receiver<Receiver<ChunkResult>>, ExtractError> {
    let threads = options.threads;
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
        let unchanged = options.unchanged.clone();
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
                    let parsed = parse_chunk(kind, &chunk, &mut tree, unchanged.as_deref());
                    let _ = slot.send(Ok(parsed));
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
fn parse_chunk(
    kind: Kind,
    chunk: &Chunk,
    tree: &mut Tree,
    unchanged: Option<&RawHashes>,
) -> ParsedChunk {
    let element = kind.element();
    let next_record = memmem::Finder::new(&[b"\n<", element].concat()).into_owned();
    let end_tag = memmem::Finder::new(&[b"</", element, b">"].concat()).into_owned();
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
                    if let Some((id, hash, end)) = unchanged.and_then(|known| {
                        unchanged_record(kind, &chunk.data, record_start, &end_tag, known)
                    }) {
                        parsed.batch.unchanged.push((id, hash));
                        position = end;
                        continue 'resync;
                    }
                    match tree.read(&mut reader, &start) {
                        Ok(()) => match record::canonicalize(kind, tree.root()) {
                            Ok(mut canonical) => {
                                let end = position + reader.buffer_position() as usize;
                                canonical.raw_hash = raw_hash(&chunk.data[record_start..end]);
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

/// The record starting at `start` of `data` if its XML has the raw hash `known` holds for its id:
/// its id, hash and end. Only a record that holds no CDATA section, comment or processing
/// instruction is looked up: in one of those a `</release>` could hide, and elsewhere the first
/// end tag after the start is the record's own, which is where the parser ends it too.
fn unchanged_record(
    kind: Kind,
    data: &[u8],
    start: usize,
    end_tag: &memmem::Finder<'_>,
    known: &RawHashes,
) -> Option<(i64, u64, usize)> {
    let end = start + end_tag.find(&data[start..])? + end_tag.needle().len();
    let xml = &data[start..end];
    if memmem::find(xml, b"<!").is_some() || memmem::find(xml, b"<?").is_some() {
        return None;
    }
    let id = id_hint(kind, xml)?;
    // A new id has nothing to compare with: no need to hash it here.
    let expected = known.get(id)?;
    let hash = raw_hash(xml);
    (expected == hash).then_some((id, hash, end))
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
        // Its end is unknown: only its first bytes can be trusted to be its own.
        id: id_hint(
            kind,
            &chunk.data[record_start..chunk.data.len().min(record_start + 256)],
        ),
        reason,
    }
}

/// The id of a record read straight from its bytes, without parsing: the `id` attribute of
/// `<release>`/`<master>`, or the first `<id>` element of `<artist>`/`<label>` (their own comes
/// before any member's). `head` is as much of the record as may be searched.
fn id_hint(kind: Kind, head: &[u8]) -> Option<i64> {
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
