//! Bytes to elements: opening a dump file (gzip or plain XML), cutting the XML stream into chunks
//! of whole records, and reading one record into an element [`tree::Tree`].

pub mod chunk;
pub mod tree;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

/// Read buffer for the compressed file; large reads keep syscalls out of the profile.
const FILE_BUFFER: usize = 1 << 20;

/// Opens `path` for reading its XML, decompressing when it starts with the gzip magic bytes
/// (whatever its name says).
///
/// # Errors
///
/// The file cannot be opened or read.
pub fn open(path: &Path) -> io::Result<Box<dyn Read + Send>> {
    open_counted(path).map(|(reader, _)| reader)
}

/// Like [`open`], also counting the file's (compressed) bytes read so far, for progress reports.
///
/// # Errors
///
/// The file cannot be opened or read.
pub fn open_counted(path: &Path) -> io::Result<(Box<dyn Read + Send>, Arc<AtomicU64>)> {
    let read = Arc::new(AtomicU64::new(0));
    let counting = CountingReader {
        inner: File::open(path)?,
        read: Arc::clone(&read),
    };
    let mut file = BufReader::with_capacity(FILE_BUFFER, counting);
    let is_gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    // Dumps are one gzip member, but a concatenation of members is valid gzip too.
    let reader: Box<dyn Read + Send> = if is_gzip {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    Ok((reader, read))
}

/// Counts the bytes that pass through, so progress can be shown against the file size.
struct CountingReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
