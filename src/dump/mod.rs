//! Where dumps come from: the file-name rules, and finding the newest complete dump in a data
//! directory. `checksum` verifies files against the dump's CHECKSUM file.

pub mod checksum;
pub mod download;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::record::Kind;

/// Why no dump could be used.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error("cannot read data directory {dir}: {source}")]
    ReadDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no complete dump in {dir}: expected discogs_YYYYMMDD_{{artists,labels,masters,releases}}.xml.gz{found}"
    )]
    NoCompleteDump { dir: PathBuf, found: String },
}

/// One file of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DumpFile {
    pub kind: Kind,
    pub path: PathBuf,
}

impl DumpFile {
    pub fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// A complete monthly dump: four files, and its CHECKSUM file when present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    /// `YYYYMMDD`.
    pub version: String,
    /// In [`Kind::ALL`] order, which is also the ingest order.
    pub files: Vec<DumpFile>,
    pub checksum: Option<PathBuf>,
}

/// Splits `discogs_20260301_releases.xml.gz` into its version and kind. Plain `.xml` files are
/// accepted too (the extractor reads both).
pub fn parse_file_name(name: &str) -> Option<(String, Kind)> {
    let rest = name.strip_prefix("discogs_")?;
    let (version, rest) = rest.split_once('_')?;
    if version.len() != 8 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let kind = rest
        .strip_suffix(".xml.gz")
        .or_else(|| rest.strip_suffix(".xml"))?;
    Some((version.to_owned(), kind.parse().ok()?))
}

/// The newest version in `dir` whose four files are all present.
///
/// # Errors
///
/// The directory cannot be read, or holds no complete dump (the message lists what it found).
pub fn find_newest(dir: &Path) -> Result<Dump, DumpError> {
    let entries = std::fs::read_dir(dir).map_err(|source| DumpError::ReadDir {
        dir: dir.to_owned(),
        source,
    })?;
    let mut versions: BTreeMap<String, BTreeMap<Kind, PathBuf>> = BTreeMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((version, kind)) = parse_file_name(&name) {
            // Prefer the .gz when both a plain and a gzip'd copy are present.
            let slot = versions
                .entry(version)
                .or_default()
                .entry(kind)
                .or_insert_with(|| entry.path());
            if name.ends_with(".gz") {
                *slot = entry.path();
            }
        }
    }
    let complete = versions
        .iter()
        .rev()
        .find(|(_, files)| files.len() == Kind::ALL.len());
    let Some((version, files)) = complete else {
        let found = if versions.is_empty() {
            String::new()
        } else {
            let listed: Vec<String> = versions
                .iter()
                .map(|(version, files)| {
                    format!(
                        "{version} has {}",
                        files
                            .keys()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect();
            format!("; found {}", listed.join("; "))
        };
        return Err(DumpError::NoCompleteDump {
            dir: dir.to_owned(),
            found,
        });
    };
    let checksum = dir.join(format!("discogs_{version}_CHECKSUM.txt"));
    Ok(Dump {
        version: version.clone(),
        files: files
            .iter()
            .map(|(&kind, path)| DumpFile {
                kind,
                path: path.clone(),
            })
            .collect(),
        checksum: checksum.exists().then_some(checksum),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_follow_the_discogs_pattern() {
        assert_eq!(
            parse_file_name("discogs_20260301_releases.xml.gz"),
            Some(("20260301".into(), Kind::Releases))
        );
        assert_eq!(
            parse_file_name("discogs_20200806_artists.xml"),
            Some(("20200806".into(), Kind::Artists))
        );
        assert_eq!(parse_file_name("discogs_2026031_releases.xml.gz"), None);
        assert_eq!(parse_file_name("discogs_20260301_CHECKSUM.txt"), None);
        assert_eq!(parse_file_name("discogs_20260301_tracks.xml.gz"), None);
    }

    #[test]
    fn newest_complete_version_wins() {
        let dir = std::env::temp_dir().join(format!("discogs-dump-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for kind in Kind::ALL {
            std::fs::write(dir.join(format!("discogs_20260101_{kind}.xml.gz")), "").unwrap();
        }
        // A newer month with only two files is not complete.
        std::fs::write(dir.join("discogs_20260201_artists.xml.gz"), "").unwrap();
        std::fs::write(dir.join("discogs_20260201_labels.xml.gz"), "").unwrap();
        std::fs::write(dir.join("discogs_20260101_CHECKSUM.txt"), "").unwrap();
        let dump = find_newest(&dir).unwrap();
        assert_eq!(dump.version, "20260101");
        assert_eq!(
            dump.files.iter().map(|f| f.kind).collect::<Vec<_>>(),
            Kind::ALL
        );
        assert_eq!(
            dump.checksum,
            Some(dir.join("discogs_20260101_CHECKSUM.txt"))
        );

        for kind in Kind::ALL {
            std::fs::remove_file(dir.join(format!("discogs_20260101_{kind}.xml.gz"))).unwrap();
        }
        let message = find_newest(&dir).unwrap_err().to_string();
        assert!(
            message.ends_with("; found 20260201 has artists, labels"),
            "{message}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
