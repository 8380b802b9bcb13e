//! Cuts a dump's XML stream into chunks of whole records, so that records can be parsed on
//! several threads while one thread decompresses.
//!
//! Every record element of a Discogs dump starts at the beginning of a line, so a chunk ends just
//! before the last `\n<release` (or `<artist`, …) that the buffer holds. Files re-serialised onto
//! fewer lines are still cut correctly, only more coarsely; a chunk that finds no line-start cut
//! within [`MAX_CHUNK`] falls back to cutting between `>` and `<release`.
//!
//! The chunker also checks what kind of file this is (the root element) and, at the end, that the
//! root element was closed, so a truncated plain-XML file is an error rather than a short read.

use std::io::{self, Read};

use memchr::memmem;

use crate::record::Kind;

/// Bytes per chunk aimed for: big enough to amortise the hand-off between threads, small enough
/// that a few per worker keep memory flat (~1 MiB each).
pub const TARGET_CHUNK: usize = 1 << 20;
/// A chunk larger than this without a record boundary means the file is not a dump we can cut.
pub const MAX_CHUNK: usize = 256 << 20;

/// Why the stream cannot be read as a dump.
#[derive(Debug, thiserror::Error)]
pub enum ChunkError {
    #[error("read failed at XML byte {offset}: {source}")]
    Io { offset: u64, source: io::Error },
    #[error("not a Discogs dump: {0}")]
    NotADump(String),
    #[error("file is truncated: it ends at XML byte {offset} without </{root}>")]
    Truncated { offset: u64, root: &'static str },
    #[error("no record boundary within {MAX_CHUNK} bytes from XML byte {offset}")]
    NoBoundary { offset: u64 },
}

/// Whole records (possibly none), plus the file's prologue or epilogue at the ends.
#[derive(Debug)]
pub struct Chunk {
    pub data: Vec<u8>,
    /// Offset of `data[0]` in the decompressed XML.
    pub offset: u64,
}

/// Reads chunks from a decompressed XML stream.
pub struct Chunker<R> {
    reader: R,
    kind: Kind,
    /// The root element: `releases` for a dump, `release` for a file holding one record.
    root: &'static str,
    /// Bytes read but not yet handed out: the start of the next chunk.
    pending: Vec<u8>,
    /// XML offset of `pending[0]`.
    offset: u64,
    finished: bool,
    /// `\n<release` and friends: a record starting at a line start.
    line_start: memmem::FinderRev<'static>,
    /// `><release`: a record starting right after another tag.
    after_tag: memmem::FinderRev<'static>,
}

impl<R: Read> Chunker<R> {
    /// Reads the start of the stream to learn its kind from the root element.
    ///
    /// # Errors
    ///
    /// [`ChunkError::NotADump`] when the root element is not `<artists>`, `<labels>`, `<masters>`
    /// or `<releases>`; [`ChunkError::Io`] when reading fails (a corrupt gzip header, say).
    pub fn new(mut reader: R) -> Result<Chunker<R>, ChunkError> {
        let mut pending = Vec::with_capacity(TARGET_CHUNK * 2);
        let mut finished = false;
        let (kind, root) = loop {
            if let Some(found) = root_element(&pending) {
                break found?;
            }
            if finished || pending.len() > 64 * 1024 {
                let start = String::from_utf8_lossy(&pending[..pending.len().min(40)]).into_owned();
                return Err(ChunkError::NotADump(format!(
                    "no root element at the start ({start:?})"
                )));
            }
            finished = fill(&mut reader, &mut pending, 8 * 1024, 0)?;
        };
        let element = std::str::from_utf8(kind.element()).unwrap_or_default();
        Ok(Chunker {
            reader,
            kind,
            root,
            pending,
            offset: 0,
            finished,
            line_start: memmem::FinderRev::new(format!("\n<{element}").as_bytes()).into_owned(),
            after_tag: memmem::FinderRev::new(format!("><{element}").as_bytes()).into_owned(),
        })
    }

    /// The record type, from the root element.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The next chunk, or `None` after the last.
    ///
    /// # Errors
    ///
    /// A read error (for a gzip file: corrupt or truncated data), a file that ends without its
    /// closing root tag, or no record boundary within [`MAX_CHUNK`].
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, ChunkError> {
        loop {
            if self.pending.is_empty() && self.finished {
                return Ok(None);
            }
            if !self.finished && self.pending.len() < TARGET_CHUNK {
                self.finished = fill(
                    &mut self.reader,
                    &mut self.pending,
                    TARGET_CHUNK,
                    self.offset,
                )?;
                continue;
            }
            if self.finished {
                self.check_closed()?;
                return Ok(Some(self.take(self.pending.len())));
            }
            if let Some(cut) = self.find_cut() {
                return Ok(Some(self.take(cut)));
            }
            if self.pending.len() >= MAX_CHUNK {
                return Err(ChunkError::NoBoundary {
                    offset: self.offset,
                });
            }
            let want = self.pending.len() * 2;
            self.finished = fill(&mut self.reader, &mut self.pending, want, self.offset)?;
        }
    }

    /// Where to cut `pending`: just after the last newline (or `>`) that precedes a record's
    /// start tag, or `None` if the buffer holds no such point past its first byte.
    fn find_cut(&self) -> Option<usize> {
        let is_record_tag =
            |name_end: usize| matches!(self.pending.get(name_end), Some(b' ' | b'>' | b'/'));
        let tag_len = self.kind.element().len() + 2;
        let search = |finder: &memmem::FinderRev<'_>| {
            let mut end = self.pending.len();
            while let Some(at) = finder.rfind(&self.pending[..end]) {
                if at > 0 && is_record_tag(at + tag_len) {
                    return Some(at + 1);
                }
                end = at;
            }
            None
        };
        search(&self.line_start).or_else(|| {
            if self.pending.len() >= MAX_CHUNK / 4 {
                search(&self.after_tag)
            } else {
                None
            }
        })
    }

    fn take(&mut self, len: usize) -> Chunk {
        let rest = self.pending.split_off(len);
        let data = std::mem::replace(&mut self.pending, rest);
        let chunk = Chunk {
            data,
            offset: self.offset,
        };
        self.offset += len as u64;
        // `split_off` left `pending` with exactly the tail's capacity; give it room to refill.
        self.pending.reserve(TARGET_CHUNK * 2);
        chunk
    }

    /// At the end of the stream, the last bytes must close the root element.
    fn check_closed(&self) -> Result<(), ChunkError> {
        let root = self.root;
        let trimmed = self.pending.trim_ascii_end();
        let closing = format!("</{root}>");
        if trimmed.ends_with(closing.as_bytes()) {
            Ok(())
        } else {
            Err(ChunkError::Truncated {
                offset: self.offset + self.pending.len() as u64,
                root,
            })
        }
    }
}

/// Reads until `buffer` holds at least `want` bytes or the stream ends; returns whether it ended.
fn fill(
    reader: &mut impl Read,
    buffer: &mut Vec<u8>,
    want: usize,
    offset: u64,
) -> Result<bool, ChunkError> {
    while buffer.len() < want {
        let start = buffer.len();
        buffer.resize(want.max(start + 64 * 1024), 0);
        match reader.read(&mut buffer[start..]) {
            Ok(0) => {
                buffer.truncate(start);
                return Ok(true);
            }
            Ok(n) => buffer.truncate(start + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buffer.truncate(start),
            Err(source) => {
                buffer.truncate(start);
                return Err(ChunkError::Io {
                    offset: offset + start as u64,
                    source,
                });
            }
        }
    }
    Ok(false)
}

/// The kind and root element name, once `head` holds the root's start tag; `None` while more
/// bytes are needed. A dump's root is plural (`<releases>`); a file of one record (as record
/// excerpts are shared) has the record itself as root (`<release>`).
fn root_element(head: &[u8]) -> Option<Result<(Kind, &'static str), ChunkError>> {
    let mut rest = head;
    loop {
        let lt = memchr::memchr(b'<', rest)?;
        rest = &rest[lt..];
        // Skip the XML declaration, processing instructions, comments and a DOCTYPE.
        if rest.starts_with(b"<?") || rest.starts_with(b"<!") {
            let gt = memchr::memchr(b'>', rest)?;
            rest = &rest[gt + 1..];
            continue;
        }
        let name_end = rest[1..]
            .iter()
            .position(|b| matches!(b, b'>' | b' ' | b'\t' | b'\r' | b'\n' | b'/'))?
            + 1;
        let name = &rest[1..name_end];
        let found = Kind::ALL.into_iter().find_map(|kind| {
            if name == kind.as_str().as_bytes() {
                Some((kind, kind.as_str()))
            } else if name == kind.element() {
                Some((kind, kind.singular()))
            } else {
                None
            }
        });
        return Some(found.ok_or_else(|| {
            let name = String::from_utf8_lossy(name);
            ChunkError::NotADump(format!(
                "root element is <{name}>, not <artists>, <labels>, <masters> or <releases>"
            ))
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks_of(xml: &[u8]) -> Result<(Kind, Vec<Chunk>), ChunkError> {
        let mut chunker = Chunker::new(xml)?;
        let mut chunks = Vec::new();
        while let Some(chunk) = chunker.next_chunk()? {
            chunks.push(chunk);
        }
        Ok((chunker.kind(), chunks))
    }

    fn releases(count: usize, per_line: usize) -> Vec<u8> {
        let mut xml = b"<?xml version=\"1.0\"?>\n<releases>\n".to_vec();
        for i in 0..count {
            xml.extend_from_slice(
                format!(
                    "<release id=\"{i}\"><title>{}</title></release>",
                    "x".repeat(3000)
                )
                .as_bytes(),
            );
            if (i + 1) % per_line == 0 {
                xml.push(b'\n');
            }
        }
        xml.extend_from_slice(b"</releases>\n");
        xml
    }

    #[test]
    fn chunks_cover_the_stream_and_cut_at_record_starts() {
        let xml = releases(2_000, 1);
        let (kind, chunks) = chunks_of(&xml).unwrap();
        assert_eq!(kind, Kind::Releases);
        assert!(chunks.len() > 3, "{} chunks", chunks.len());
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.data.iter().copied()).collect();
        assert_eq!(joined, xml);
        let mut offset = 0;
        for chunk in &chunks {
            assert_eq!(chunk.offset, offset);
            offset += chunk.data.len() as u64;
            if chunk.offset > 0 {
                assert!(
                    chunk.data.starts_with(b"<release id="),
                    "cut at a record start"
                );
            }
        }
    }

    #[test]
    fn single_line_files_still_cut_between_tags() {
        // 2,000 records on one line: no line-start cut, but the whole stream is still covered.
        let xml = releases(2_000, usize::MAX);
        let (_, chunks) = chunks_of(&xml).unwrap();
        let joined: Vec<u8> = chunks.iter().flat_map(|c| c.data.iter().copied()).collect();
        assert_eq!(joined, xml);
    }

    #[test]
    fn root_element_decides_the_kind() {
        assert_eq!(
            chunks_of(b"<artists>\n</artists>").unwrap().0,
            Kind::Artists
        );
        assert_eq!(
            chunks_of(b"<master id=\"1\"></master>").unwrap().0,
            Kind::Masters
        );
        let err = chunks_of(b"<?xml version=\"1.0\"?><html><body/></html>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a Discogs dump: root element is <html>, not <artists>, <labels>, <masters> or <releases>"
        );
        assert!(matches!(
            chunks_of(b"just text"),
            Err(ChunkError::NotADump(_))
        ));
    }

    #[test]
    fn a_missing_closing_root_is_truncation() {
        let err = chunks_of(b"<labels>\n<label><id>1</id></label>\n<label><id>2</id>").unwrap_err();
        assert_eq!(
            err.to_string(),
            "file is truncated: it ends at XML byte 52 without </labels>"
        );
    }
}
