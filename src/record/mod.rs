//! Canonical records: what one dump element becomes (SPEC §5).
//!
//! Each type has one file holding its struct and its mapping from the XML element tree
//! ([`crate::xml::tree`]); [`canonical`] holds the parts they share, the rules for ids and the
//! serialisation and hash. The structs borrow their text from the tree, so mapping a record
//! allocates little more than its JSON.

mod artist;
pub mod canonical;
pub mod graph;
mod label;
mod master;
mod release;
pub mod role;

use std::fmt;
use std::str::FromStr;

pub use canonical::{Canonical, Hash, RecordError};
pub use graph::GraphFacts;

use crate::xml::tree::Node;

/// The version of the canonical form: raised whenever the same XML would give another canonical
/// JSON (a field mapped differently, a rule like the year range changed), because an ingest skips
/// records whose XML is unchanged since the last one only while this version is the same (see
/// `ingest::raw_hashes`). A test over the samples' canonical JSON fails until it is raised.
pub const CANONICAL_VERSION: u32 = 1;

/// How many unparseable records a file may hold before we stop trusting it.
pub const DEFAULT_MAX_ERRORS: u64 = 1_000;

/// The four record types, in the order an ingest loads them (fewest stubs: releases reference all
/// the others, masters reference artists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
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

    /// One record's type name, as in `discogs parse` output: `artist`, `label`, …
    pub fn singular(self) -> &'static str {
        match self {
            Kind::Artists => "artist",
            Kind::Labels => "label",
            Kind::Masters => "master",
            Kind::Releases => "release",
        }
    }

    /// The XML element of one record: `<artist>`, `<label>`, …
    pub fn element(self) -> &'static [u8] {
        self.singular().as_bytes()
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

/// Maps a record element to its canonical JSON and hash.
///
/// # Errors
///
/// The element lacks a valid id, or a numeric field does not parse.
pub fn canonicalize(kind: Kind, element: Node<'_>) -> Result<Canonical, RecordError> {
    match kind {
        Kind::Artists => Canonical::of(&artist::Artist::from_element(element)?),
        Kind::Labels => Canonical::of(&label::Label::from_element(element)?),
        Kind::Masters => Canonical::of(&master::Master::from_element(element)?),
        Kind::Releases => Canonical::of(&release::Release::from_element(element)?),
    }
}
