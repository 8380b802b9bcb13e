//! The raw hashes ([`crate::record::Canonical::raw_hash`]) of the records a file's last ingest
//! stored, kept in the data directory so that the next ingest of that kind does not parse the
//! records whose XML has not changed (most of a month's dump): the extractor passes on only
//! their ids (see [`crate::extract::Options::unchanged`]).
//!
//! `<data dir>/.raw-hashes/<kind>.bin`: a header (magic, [`CANONICAL_VERSION`], the stores'
//! pairing token and the id of the run that wrote it), then `(id, raw hash)` pairs and a last
//! pair `(END, count of pairs)`, little-endian. A record skipped as unreadable is listed with
//! [`UNREAD`], so that the whole list holds every id the stores may hold: the deletions then
//! compare the next file's ids with it instead of reading every id of the table (a file without
//! its last pair, written by an older binary, is still good for skipping). Skipping a record is
//! right only if the stores hold what that very XML gives, so the file is trusted only when:
//! - it was written under this binary's [`CANONICAL_VERSION`];
//! - for these stores (their pairing token: another database pointed at the same directory has
//!   its own), by the last done run of its kind, and no run of that kind is unfinished (then the
//!   stores hold exactly that run's records: a run is done once both stores have every record
//!   and the absent ones are deleted);
//! - the graph is not being rebuilt (then every record must reach it).
//!
//! While a file is ingested, the hashes of every record stored are written beside the old file;
//! the new file replaces the old one once the run is done. Any trouble with these files costs
//! only the skipping: it is logged, and the records are parsed.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::extract::RawHashes;
use crate::record::{CANONICAL_VERSION, Kind};

/// Under the data directory.
const DIR: &str = ".raw-hashes";
const MAGIC: &[u8; 4] = b"DRH1";
/// The id of the last pair, which counts the others (no record has a negative id).
const END: i64 = i64::MIN;
/// The raw hash listed for a record skipped as unreadable: no XML's, so it is parsed next time.
pub const UNREAD: u64 = 0;

fn path(data_dir: &Path, kind: Kind) -> PathBuf {
    data_dir.join(DIR).join(format!("{kind}.bin"))
}

/// Which stores, and which run of them, a file of raw hashes is of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The stores' pairing token.
    pub token: String,
    pub run_id: i64,
}

impl Origin {
    fn header(&self) -> Vec<u8> {
        let token = self.token.as_bytes();
        let mut header = Vec::with_capacity(24 + token.len());
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&CANONICAL_VERSION.to_le_bytes());
        header.extend_from_slice(&self.run_id.to_le_bytes());
        header.extend_from_slice(&(token.len() as u64).to_le_bytes());
        header.extend_from_slice(token);
        header
    }
}

/// The raw hashes of `kind` written for `trusted`, if the file is its and this binary's, and
/// whether the list is whole; `None` otherwise (or with `trusted` `None`).
fn load(data_dir: &Path, kind: Kind, trusted: Option<&Origin>) -> Option<(RawHashes, bool)> {
    let trusted = trusted?;
    let path = path(data_dir, kind);
    let file = File::open(&path).ok()?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let expected = trusted.header();
    let mut header = vec![0; expected.len()];
    reader.read_exact(&mut header).ok()?;
    if header != expected {
        tracing::info!(%kind, file = %path.display(), "raw hashes are from another run or canonical form: every record is parsed");
        return None;
    }
    let length = reader.get_ref().metadata().map_or(0, |meta| meta.len()) as usize;
    let mut entries = Vec::with_capacity(length.saturating_sub(header.len()) / 16);
    let mut pair = [0; 16];
    let mut whole = false;
    loop {
        match reader.read_exact(&mut pair) {
            Ok(()) => {
                let id = i64::from_le_bytes(pair[..8].try_into().ok()?);
                let hash = u64::from_le_bytes(pair[8..].try_into().ok()?);
                // Whole only if the count comes last and agrees.
                whole = id == END && hash == entries.len() as u64;
                if id != END {
                    entries.push((id, hash));
                }
            }
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(error) => {
                tracing::warn!(file = %path.display(), %error, "cannot read the raw hashes: every record is parsed");
                return None;
            }
        }
    }
    Some((RawHashes::new(entries), whole))
}

/// What one file's ingest reads and writes: the raw hashes to skip by, if trusted, and the
/// writer of the new ones.
pub struct ForFile {
    pub known: Option<Arc<RawHashes>>,
    /// `known` when its list is whole: every id the stores may hold.
    pub held: Option<Arc<RawHashes>>,
    pub writer: Writer,
}

impl ForFile {
    /// The raw hashes of `kind` in `data_dir` if written for `trusted`, and a writer for `origin`.
    pub fn open(data_dir: &Path, kind: Kind, trusted: Option<&Origin>, origin: &Origin) -> ForFile {
        let (known, whole) = match load(data_dir, kind, trusted) {
            Some((hashes, whole)) => (Some(Arc::new(hashes)), whole),
            None => (None, false),
        };
        ForFile {
            held: known.clone().filter(|_| whole),
            known,
            writer: Writer::create(data_dir, kind, origin),
        }
    }
}

/// The raw hashes of one run's stored records, on their way to replacing the kind's file. Dropped
/// without [`Writer::finish`] (the run did not complete), it removes what it wrote.
pub struct Writer {
    partial: PathBuf,
    /// `None` once a write failed: the run then leaves no file, and the next one parses all.
    writer: Option<BufWriter<File>>,
    pairs: u64,
}

impl Writer {
    /// Starts the file of `kind` for `origin`.
    fn create(data_dir: &Path, kind: Kind, origin: &Origin) -> Writer {
        let partial = path(data_dir, kind).with_extension(format!("{}.partial", origin.run_id));
        let created = (|| {
            std::fs::create_dir_all(data_dir.join(DIR))?;
            let mut writer = BufWriter::with_capacity(1 << 16, File::create(&partial)?);
            writer.write_all(&origin.header())?;
            Ok(writer)
        })();
        let mut writer = Writer {
            partial,
            writer: None,
            pairs: 0,
        };
        match created {
            Ok(file) => writer.writer = Some(file),
            Err(error) => writer.fail(&error),
        }
        writer
    }

    /// Records that the stores hold record `id`, read from XML with raw hash `hash` (or
    /// [`UNREAD`]: that they may hold it).
    pub fn push(&mut self, id: i64, hash: u64) {
        self.pairs += 1;
        self.write_pair(id, hash);
    }

    fn write_pair(&mut self, id: i64, value: u64) {
        if let Some(writer) = &mut self.writer
            && let Err(error) = writer
                .write_all(&id.to_le_bytes())
                .and_then(|()| writer.write_all(&value.to_le_bytes()))
        {
            self.fail(&error);
        }
    }

    /// Makes the file the kind's, once its run is done.
    pub fn finish(mut self, data_dir: &Path, kind: Kind) {
        self.write_pair(END, self.pairs);
        let Some(writer) = self.writer.take() else {
            return;
        };
        let done = writer
            .into_inner()
            .map_err(io::IntoInnerError::into_error)
            .and_then(|file| file.sync_all())
            .and_then(|()| std::fs::rename(&self.partial, path(data_dir, kind)));
        if let Err(error) = done {
            self.fail(&error);
        }
    }

    fn fail(&mut self, error: &io::Error) {
        tracing::warn!(file = %self.partial.display(), %error, "cannot write the raw hashes: the next ingest parses every record");
        self.writer = None;
        let _ = std::fs::remove_file(&self.partial);
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> Origin {
        Origin {
            token: "stores".into(),
            run_id: 7,
        }
    }

    fn written(dir: &Path, pairs: &[(i64, u64)]) {
        let ForFile { mut writer, .. } = ForFile::open(dir, Kind::Labels, None, &origin());
        for &(id, hash) in pairs {
            writer.push(id, hash);
        }
        writer.finish(dir, Kind::Labels);
    }

    #[test]
    fn a_finished_list_is_whole_and_one_cut_short_only_skips() {
        let dir = std::env::temp_dir().join(format!("discogs-raw-hashes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        written(&dir, &[(3, 30), (1, 10), (2, UNREAD)]);
        let read = ForFile::open(&dir, Kind::Labels, Some(&origin()), &origin());
        let held = read.held.expect("a whole list");
        assert_eq!(held.ids().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(held.get(2), Some(UNREAD));
        drop(read.writer);

        // Without its last pair (an older binary's file, or one cut short): still good for
        // skipping, not for telling what the stores hold.
        let file = path(&dir, Kind::Labels);
        let length = std::fs::metadata(&file).unwrap().len();
        let cut = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
        cut.set_len(length - 16).unwrap();
        let read = ForFile::open(&dir, Kind::Labels, Some(&origin()), &origin());
        assert_eq!(read.known.map(|known| known.len()), Some(3));
        assert!(read.held.is_none());

        let other = Origin {
            run_id: 8,
            ..origin()
        };
        let read = ForFile::open(&dir, Kind::Labels, Some(&other), &origin());
        assert!(read.known.is_none() && read.held.is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
