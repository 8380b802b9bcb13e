//! Bytes to elements: opening a dump file (gzip or plain XML), cutting the XML stream into chunks
//! of whole records, and reading one record into an element [`tree::Tree`].

pub mod chunk;
pub mod tree;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

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
    let mut file = BufReader::with_capacity(FILE_BUFFER, File::open(path)?);
    let is_gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    // Dumps are one gzip member, but a concatenation of members is valid gzip too.
    Ok(if is_gzip {
        Box::new(MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
}
