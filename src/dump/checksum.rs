//! The dump's CHECKSUM file (`<sha256 hex> <file name>` per line, in any order) and verifying files
//! against it.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

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
