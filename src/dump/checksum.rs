//! The dump's CHECKSUM file (`<sha256 hex> <file name>` per line, in any order) and verifying files
//! against it.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Writes `bytes` to `path` through a temporary file beside it, so that a reader sees the old
/// content or the new, never part of it.
///
/// # Errors
///
/// The temporary file could not be written or renamed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = path.with_extension("tmp");
    let mut file = fs::File::create(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&temp, path)
}

/// Where the data directory records the files already verified.
const VERIFIED_FILE: &str = ".discogs-verified.json";

#[derive(Debug, thiserror::Error)]
pub enum ChecksumError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} line {line}: not `<sha256> <file name>`")]
    Malformed { path: PathBuf, line: usize },
    #[error("{file} is not listed in {checksum_file}")]
    NotListed {
        file: String,
        checksum_file: PathBuf,
    },
    #[error(
        "{file}: SHA-256 is {actual}, but {checksum_file} says {expected}; the file is damaged or incomplete, download it again"
    )]
    Mismatch {
        file: String,
        expected: String,
        actual: String,
        checksum_file: PathBuf,
    },
}

/// File name → lowercase hex SHA-256.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checksums {
    pub source: PathBuf,
    pub entries: HashMap<String, String>,
}

impl Checksums {
    /// Parses a CHECKSUM file. Discogs writes one space between hash and name; two spaces and a
    /// `*` before the name (sha256sum's binary mark) are accepted too.
    ///
    /// # Errors
    ///
    /// The file cannot be read, or a non-empty line is not a hash and a name.
    pub fn read(path: &Path) -> Result<Checksums, ChecksumError> {
        let text = std::fs::read_to_string(path).map_err(|source| ChecksumError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut entries = HashMap::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let malformed = || ChecksumError::Malformed {
                path: path.to_owned(),
                line: index + 1,
            };
            let (hash, name) = line.split_once(' ').ok_or_else(malformed)?;
            let name = name.trim_start().trim_start_matches('*');
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) || name.is_empty() {
                return Err(malformed());
            }
            entries.insert(name.to_owned(), hash.to_ascii_lowercase());
        }
        Ok(Checksums {
            source: path.to_owned(),
            entries,
        })
    }

    /// Hashes `file` and compares it with its entry.
    ///
    /// # Errors
    ///
    /// The file is not listed, cannot be read, or its hash differs.
    pub fn verify(&self, file: &Path) -> Result<(), ChecksumError> {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let expected = self.expected(&name)?;
        let actual = sha256_file(file)?;
        if actual == expected {
            Ok(())
        } else {
            Err(ChecksumError::Mismatch {
                file: name,
                expected: expected.to_owned(),
                actual,
                checksum_file: self.source.clone(),
            })
        }
    }

    /// The hash listed for file `name`.
    ///
    /// # Errors
    ///
    /// [`ChecksumError::NotListed`] when the CHECKSUM file does not name it.
    pub fn expected(&self, name: &str) -> Result<&str, ChecksumError> {
        self.entries
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| ChecksumError::NotListed {
                file: name.to_owned(),
                checksum_file: self.source.clone(),
            })
    }
}

/// Lowercase hex SHA-256 of a file's bytes.
///
/// # Errors
///
/// The file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String, ChecksumError> {
    let io_error = |source| ChecksumError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io_error)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(io_error)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Verifies `files` against `checksums`, skipping files verified before whose size and
/// modification time are unchanged (recorded in the data directory when it is writable), so a
/// restart does not re-hash 11 GB.
///
/// # Errors
///
/// A file is not listed, cannot be read, or its hash differs.
pub fn verify_files(
    checksums: &Checksums,
    dir: &Path,
    files: &[&Path],
) -> Result<(), ChecksumError> {
    let mut verified = Verified::load(dir);
    for &file in files {
        let name = Verified::name(file);
        let expected = checksums.expected(&name)?;
        if !verified.matches(file, expected) {
            checksums.verify(file)?;
            verified.record(file, expected);
        }
    }
    // The record only saves work next time; a read-only data directory is no reason to fail.
    if let Err(error) = verified.save(dir) {
        tracing::warn!(%error, "could not record the verified checksums");
    }
    Ok(())
}

/// What was verified: file name → size, modification time and hash at the time.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Verified(HashMap<String, VerifiedFile>);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct VerifiedFile {
    size: u64,
    modified_nanos: u128,
    sha256: String,
}

impl Verified {
    /// What was recorded in `dir`; nothing if the record is missing or unreadable.
    pub fn load(dir: &Path) -> Verified {
        fs::read(dir.join(VERIFIED_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Writes the record to `dir`, atomically.
    ///
    /// # Errors
    ///
    /// The file could not be written.
    pub fn save(&self, dir: &Path) -> Result<(), ChecksumError> {
        let path = dir.join(VERIFIED_FILE);
        serde_json::to_vec_pretty(self)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_atomically(&path, &bytes))
            .map_err(|source| ChecksumError::Io { path, source })
    }

    fn stamp(path: &Path, sha256: &str) -> Option<VerifiedFile> {
        let metadata = fs::metadata(path).ok()?;
        let modified_nanos = metadata
            .modified()
            .ok()?
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_nanos();
        Some(VerifiedFile {
            size: metadata.len(),
            modified_nanos,
            sha256: sha256.to_owned(),
        })
    }

    pub fn name(path: &Path) -> String {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Whether `path` was verified with this hash and has not changed since.
    pub fn matches(&self, path: &Path, sha256: &str) -> bool {
        Verified::stamp(path, sha256)
            .is_some_and(|now| self.0.get(&Verified::name(path)) == Some(&now))
    }

    /// Records that `path` matched `sha256` as it is now.
    pub fn record(&mut self, path: &Path, sha256: &str) {
        if let Some(stamp) = Verified::stamp(path, sha256) {
            self.0.insert(Verified::name(path), stamp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_sample_checksums_verify() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tgmz");
        let checksums = Checksums::read(&dir.join("discogs_CHECKSUM.txt")).unwrap();
        assert_eq!(checksums.entries.len(), 4);
        for name in [
            "discogs_artists.xml.gz",
            "discogs_labels.xml.gz",
            "discogs_masters.xml.gz",
            "discogs_releases.xml.gz",
        ] {
            checksums.verify(&dir.join(name)).unwrap();
        }
        let unlisted = checksums
            .verify(&dir.join("discogs_20250101_releases.xml.gz"))
            .unwrap_err();
        assert!(matches!(unlisted, ChecksumError::NotListed { .. }));
    }

    #[test]
    fn formats_and_mismatches() {
        let dir = std::env::temp_dir().join(format!("discogs-checksum-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.gz"), "hello").unwrap();
        let hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        std::fs::write(
            dir.join("SUMS"),
            format!("{hello}  *a.gz\n\n{} b.gz\n", "0".repeat(64)),
        )
        .unwrap();
        let checksums = Checksums::read(&dir.join("SUMS")).unwrap();
        checksums.verify(&dir.join("a.gz")).unwrap();
        std::fs::write(dir.join("b.gz"), "other").unwrap();
        let message = checksums.verify(&dir.join("b.gz")).unwrap_err().to_string();
        assert!(message.starts_with("b.gz: SHA-256 is "), "{message}");
        std::fs::write(dir.join("BAD"), "xyz a.gz\n").unwrap();
        assert!(matches!(
            Checksums::read(&dir.join("BAD")),
            Err(ChecksumError::Malformed { line: 1, .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
