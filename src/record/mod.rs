//! Canonical records: what one dump element becomes (SPEC §5).

use std::fmt;
use std::str::FromStr;

/// How many unparseable records a file may hold before we stop trusting it.
pub const DEFAULT_MAX_ERRORS: u64 = 1_000;

/// The four record types, in the order an ingest loads them (fewest stubs: releases reference all
/// the others, masters reference artists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Kind {
    Artists,
    Labels,
    Masters,
    Releases,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Artists, Kind::Labels, Kind::Masters, Kind::Releases];

    /// The plural name used in file names, table names and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Artists => "artists",
            Kind::Labels => "labels",
            Kind::Masters => "masters",
            Kind::Releases => "releases",
        }
    }

    /// The XML element of one record: `<artist>`, `<label>`, …
    pub fn element(self) -> &'static [u8] {
        match self {
            Kind::Artists => b"artist",
            Kind::Labels => b"label",
            Kind::Masters => b"master",
            Kind::Releases => b"release",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Kind, String> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown record type {s:?}"))
    }
}
