//! What the record types share: the canonical JSON and its SHA-256, id parsing, and the
//! reference and credit shapes that several types use.
//!
//! Canonical JSON is serde_json's compact output of the record structs: keys in struct field
//! order (fixed in the source), absent and empty fields skipped, text as decoded from the dump.
//! The same record therefore has the same bytes, and the same hash, on every run and machine.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::graph::GraphFacts;
use crate::xml::tree::Node;

/// SHA-256 of a record's canonical JSON.
pub type Hash = [u8; 32];

/// Why one record could not be mapped. The caller adds the file, ordinal and offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record has no id")]
    MissingId,
    #[error("{field} is not an integer: {value:?}")]
    NotAnInteger { field: &'static str, value: String },
    #[error("cannot serialise record: {0}")]
    Serialize(String),
}

/// A record ready to store: id, canonical JSON and hash, and what it asserts in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    pub id: i64,
    pub json: Vec<u8>,
    pub hash: Hash,
    pub graph: GraphFacts,
    /// [`GraphFacts::digests`] of `graph`, stored beside the record.
    pub graph_digests: Vec<u8>,
    /// A hash of the XML the record was read from, byte for byte (0 until the extractor sets
    /// it): a record whose XML did not change since the last ingest need not be parsed again.
    pub raw_hash: u64,
}

/// The record structs' common face: their own id and their graph facts.
pub trait Record: Serialize {
    fn id(&self) -> i64;
    fn graph_facts(&self) -> GraphFacts;
}

impl Canonical {
    /// Serialises `record`, hashes the bytes, and takes its graph facts.
    ///
    /// # Errors
    ///
    /// Never in practice: the structs hold only strings, integers and booleans.
    pub fn of(record: &impl Record) -> Result<Canonical, RecordError> {
        let mut json =
            serde_json::to_vec(record).map_err(|e| RecordError::Serialize(e.to_string()))?;
        // The buffer grew by doubling; tens of thousands of records wait in the pipeline's
        // queues, and the slack would be a third of what they hold.
        json.shrink_to_fit();
        let hash = Sha256::digest(&json).into();
        let graph = record.graph_facts();
        Ok(Canonical {
            id: record.id(),
            json,
            hash,
            graph_digests: graph.digests(),
            graph,
            raw_hash: 0,
        })
    }
}

/// `Some(text)` unless it is absent or empty: the canonical form omits empty elements.
pub fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.is_empty())
}

/// An optional integer field: absent or empty is `None`, anything else must parse.
pub fn integer(field: &'static str, text: Option<&str>) -> Result<Option<i64>, RecordError> {
    match non_empty(text) {
        None => Ok(None),
        Some(value) => value
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| RecordError::NotAnInteger {
                field,
                value: value.to_owned(),
            }),
    }
}

/// The record's own id, which must be present and an integer.
pub fn record_id(text: Option<&str>) -> Result<i64, RecordError> {
    integer("id", text)?.ok_or(RecordError::MissingId)
}

/// The texts of `<list><item>…</item>…</list>`, empty ones dropped.
pub fn texts<'t>(element: Node<'t>, list: &str, item: &'t str) -> Vec<&'t str> {
    element
        .list(list, item)
        .map(|node| node.text())
        .filter(|text| !text.is_empty())
        .collect()
}

/// A reference to another entity by id and name, as `<name id="33">Blue Six</name>`.
#[derive(Debug, Serialize)]
pub struct Reference<'t> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'t str>,
}

impl<'t> Reference<'t> {
    /// From an element whose `id` attribute is the reference and whose text is the name.
    pub fn from_element(
        element: Node<'t>,
        field: &'static str,
    ) -> Result<Reference<'t>, RecordError> {
        Ok(Reference {
            id: integer(field, element.attr("id"))?,
            name: non_empty(Some(element.text())),
        })
    }

    /// All `<list><item id="…">name</item></list>` references; entries with neither id nor name
    /// carry nothing and are dropped.
    pub fn list(
        element: Node<'t>,
        list: &str,
        item: &'t str,
        field: &'static str,
    ) -> Result<Vec<Reference<'t>>, RecordError> {
        element
            .list(list, item)
            .map(|node| Reference::from_element(node, field))
            .filter(|reference| {
                !matches!(
                    reference,
                    Ok(Reference {
                        id: None,
                        name: None
                    })
                )
            })
            .collect()
    }
}

/// An artist credit on a master, release or track: `<artist><id/><name/><anv/><join/><role/><tracks/></artist>`.
/// Extra-artist credits have no `join` (SPEC §5).
#[derive(Debug, Serialize)]
pub struct Credit<'t> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anv: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracks: Option<&'t str>,
}

/// Which credit list is read: main artists keep `join`, extra artists do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditKind {
    Main,
    Extra,
}

impl<'t> Credit<'t> {
    /// The credits in `<list><artist>…</artist></list>`.
    pub fn list(
        element: Node<'t>,
        list: &str,
        kind: CreditKind,
    ) -> Result<Vec<Credit<'t>>, RecordError> {
        element
            .list(list, "artist")
            .map(|artist| {
                Ok(Credit {
                    id: integer("artist id", artist.child_text("id"))?,
                    name: non_empty(artist.child_text("name")),
                    anv: non_empty(artist.child_text("anv")),
                    join: match kind {
                        CreditKind::Main => non_empty(artist.child_text("join")),
                        CreditKind::Extra => None,
                    },
                    role: non_empty(artist.child_text("role")),
                    tracks: non_empty(artist.child_text("tracks")),
                })
            })
            .collect()
    }
}

/// A video: `<video src="…" duration="356" embed="true"><title/><description/></video>`.
#[derive(Debug, Serialize)]
pub struct Video<'t> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub src: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'t str>,
}

impl<'t> Video<'t> {
    /// The videos in `<videos><video>…</video></videos>`.
    pub fn list(element: Node<'t>) -> Result<Vec<Video<'t>>, RecordError> {
        element
            .list("videos", "video")
            .map(|video| {
                Ok(Video {
                    src: non_empty(video.attr("src")),
                    duration: integer("video duration", video.attr("duration"))?,
                    embed: non_empty(video.attr("embed")).map(|embed| embed == "true"),
                    title: non_empty(video.child_text("title")),
                    description: non_empty(video.child_text("description")),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_accept_absent_and_empty_and_reject_junk() {
        assert_eq!(integer("f", None), Ok(None));
        assert_eq!(integer("f", Some("")), Ok(None));
        assert_eq!(integer("f", Some("42")), Ok(Some(42)));
        assert_eq!(
            integer("f", Some("4x")),
            Err(RecordError::NotAnInteger {
                field: "f",
                value: "4x".into()
            })
        );
        assert_eq!(record_id(Some("")), Err(RecordError::MissingId));
    }
}
