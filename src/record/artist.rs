//! `<artist>`: id, name, realname, profile, data_quality, urls, namevariations, aliases, groups,
//! members.

use serde::Serialize;

use super::canonical::{Record, RecordError, Reference, non_empty, record_id, texts};
use super::graph::GraphFacts;
use crate::xml::tree::Node;

#[derive(Debug, Serialize)]
pub struct Artist<'t> {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realname: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_quality: Option<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namevariations: Vec<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Reference<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Reference<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<Reference<'t>>,
}

impl<'t> Artist<'t> {
    pub fn from_element(artist: Node<'t>) -> Result<Artist<'t>, RecordError> {
        Ok(Artist {
            id: record_id(artist.child_text("id"))?,
            name: non_empty(artist.child_text("name")),
            realname: non_empty(artist.child_text("realname")),
            profile: non_empty(artist.child_text("profile")),
            data_quality: non_empty(artist.child_text("data_quality")),
            urls: texts(artist, "urls", "url"),
            namevariations: texts(artist, "namevariations", "name"),
            aliases: Reference::list(artist, "aliases", "name", "alias id")?,
            groups: Reference::list(artist, "groups", "name", "group id")?,
            // Older dumps also list bare <id> elements beside each <name id="…">; the names
            // carry the same ids, so only they are read.
            members: Reference::list(artist, "members", "name", "member id")?,
        })
    }
}

impl Record for Artist<'_> {
    fn id(&self) -> i64 {
        self.id
    }

    fn graph_facts(&self) -> GraphFacts {
        GraphFacts::from(self)
    }
}
