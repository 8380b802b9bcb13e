//! `<label>`: id, name, contactinfo, profile, data_quality, urls, parent_label, sublabels.

use serde::Serialize;

use super::canonical::{Record, RecordError, Reference, non_empty, record_id, texts};
use super::graph::GraphFacts;
use crate::xml::tree::Node;

#[derive(Debug, Serialize)]
pub struct Label<'t> {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contactinfo: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_quality: Option<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_label: Option<Reference<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sublabels: Vec<Reference<'t>>,
}

impl<'t> Label<'t> {
    pub fn from_element(label: Node<'t>) -> Result<Label<'t>, RecordError> {
        let parent_label = label
            .child("parentLabel")
            .map(|parent| Reference::from_element(parent, "parent label id"))
            .transpose()?
            .filter(|parent| parent.id.is_some() || parent.name.is_some());
        Ok(Label {
            id: record_id(label.child_text("id"))?,
            name: non_empty(label.child_text("name")),
            contactinfo: non_empty(label.child_text("contactinfo")),
            profile: non_empty(label.child_text("profile")),
            data_quality: non_empty(label.child_text("data_quality")),
            urls: texts(label, "urls", "url"),
            parent_label,
            sublabels: Reference::list(label, "sublabels", "label", "sublabel id")?,
        })
    }
}

impl Record for Label<'_> {
    fn id(&self) -> i64 {
        self.id
    }

    fn graph_facts(&self) -> GraphFacts {
        GraphFacts::from(self)
    }
}
