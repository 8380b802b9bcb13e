//! `<master id="…">`: id, main_release, title, year, artists, genres, styles, data_quality, notes,
//! videos.

use serde::Serialize;

use super::canonical::{
    Credit, CreditKind, Record, RecordError, Video, integer, non_empty, record_id, texts,
};
use super::graph::GraphFacts;
use crate::xml::tree::Node;

#[derive(Debug, Serialize)]
pub struct Master<'t> {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub main_release: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'t str>,
    /// The dump writes 0 for "unknown"; that is omitted like any absent value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artists: Vec<Credit<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub genres: Vec<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub styles: Vec<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_quality: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub videos: Vec<Video<'t>>,
}

impl<'t> Master<'t> {
    pub fn from_element(master: Node<'t>) -> Result<Master<'t>, RecordError> {
        Ok(Master {
            id: record_id(master.attr("id"))?,
            main_release: integer("main_release", master.child_text("main_release"))?,
            title: non_empty(master.child_text("title")),
            year: integer("year", master.child_text("year"))?.filter(|&year| year != 0),
            artists: Credit::list(master, "artists", CreditKind::Main)?,
            genres: texts(master, "genres", "genre"),
            styles: texts(master, "styles", "style"),
            data_quality: non_empty(master.child_text("data_quality")),
            notes: non_empty(master.child_text("notes")),
            videos: Video::list(master)?,
        })
    }
}

impl Record for Master<'_> {
    fn id(&self) -> i64 {
        self.id
    }

    fn graph_facts(&self) -> GraphFacts {
        GraphFacts::from(self)
    }
}
