//! `<release id="…" status="…">`: the largest record, with labels, formats, a tracklist of
//! tracks and sub-tracks, identifiers, videos, companies and series.

use serde::Serialize;

use super::canonical::{
    Credit, CreditKind, Record, RecordError, Video, integer, non_empty, record_id, texts,
};
use super::graph::GraphFacts;
use crate::xml::tree::Node;

/// The years a release's `year` may take (earlier ones are typos: the first recordings date from
/// the 1860s). A fixed range, so that a record's canonical form, and its hash, never depends on
/// the date or the machine it is computed on.
const YEARS: std::ops::RangeInclusive<i64> = 1860..=2100;

#[derive(Debug, Serialize)]
pub struct Release<'t> {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artists: Vec<Credit<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extraartists: Vec<Credit<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<CatalogueEntry<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<Format<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub genres: Vec<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub styles: Vec<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released: Option<&'t str>,
    /// The first four digits of `released`, when they make a plausible year.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub year: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_quality: Option<&'t str>,
    /// Absent when the dump says 0 ("no master").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_main_release: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tracklist: Vec<Track<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<Identifier<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub videos: Vec<Video<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub companies: Vec<Company<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<CatalogueEntry<'t>>,
}

/// A label or series entry: `<label name="RCA" catno="07863 67612 2" id="895"/>`.
#[derive(Debug, Serialize)]
pub struct CatalogueEntry<'t> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catno: Option<&'t str>,
}

#[derive(Debug, Serialize)]
pub struct Format<'t> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qty: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub descriptions: Vec<&'t str>,
}

#[derive(Debug, Serialize)]
pub struct Track<'t> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<&'t str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub artists: Vec<Credit<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extraartists: Vec<Credit<'t>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sub_tracks: Vec<Track<'t>>,
}

#[derive(Debug, Serialize)]
pub struct Identifier<'t> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'t str>,
}

#[derive(Debug, Serialize)]
pub struct Company<'t> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catno: Option<&'t str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity_type_name: Option<&'t str>,
}

impl<'t> Release<'t> {
    /// Maps `<release>`.
    pub fn from_element(release: Node<'t>) -> Result<Release<'t>, RecordError> {
        let released = non_empty(release.child_text("released"));
        let master = release.child("master_id");
        let master_id = integer("master_id", master.map(|m| m.text()))?.filter(|&id| id != 0);
        Ok(Release {
            id: record_id(release.attr("id"))?,
            status: non_empty(release.attr("status")),
            title: non_empty(release.child_text("title")),
            artists: Credit::list(release, "artists", CreditKind::Main)?,
            extraartists: Credit::list(release, "extraartists", CreditKind::Extra)?,
            labels: CatalogueEntry::list(release, "labels", "label", "label id")?,
            formats: release
                .list("formats", "format")
                .map(|format| Format {
                    name: non_empty(format.attr("name")),
                    qty: non_empty(format.attr("qty")),
                    text: non_empty(format.attr("text")),
                    descriptions: texts(format, "descriptions", "description"),
                })
                .collect(),
            genres: texts(release, "genres", "genre"),
            styles: texts(release, "styles", "style"),
            country: non_empty(release.child_text("country")),
            released,
            year: released.and_then(year_of),
            notes: non_empty(release.child_text("notes")),
            data_quality: non_empty(release.child_text("data_quality")),
            master_id,
            is_main_release: master_id
                .and(master.and_then(|m| non_empty(m.attr("is_main_release"))))
                .map(|flag| flag == "true"),
            tracklist: Track::list(release, "tracklist")?,
            identifiers: release
                .list("identifiers", "identifier")
                .map(|identifier| Identifier {
                    kind: non_empty(identifier.attr("type")),
                    value: non_empty(identifier.attr("value")),
                    description: non_empty(identifier.attr("description")),
                })
                .collect(),
            videos: Video::list(release)?,
            companies: release
                .list("companies", "company")
                .map(|company| {
                    Ok(Company {
                        id: integer("company id", company.child_text("id"))?,
                        name: non_empty(company.child_text("name")),
                        catno: non_empty(company.child_text("catno")),
                        entity_type: integer(
                            "company entity_type",
                            company.child_text("entity_type"),
                        )?,
                        entity_type_name: non_empty(company.child_text("entity_type_name")),
                    })
                })
                .collect::<Result<_, RecordError>>()?,
            series: CatalogueEntry::list(release, "series", "series", "series id")?,
        })
    }
}

impl<'t> CatalogueEntry<'t> {
    fn list(
        release: Node<'t>,
        list: &str,
        item: &'t str,
        field: &'static str,
    ) -> Result<Vec<CatalogueEntry<'t>>, RecordError> {
        release
            .list(list, item)
            .map(|entry| {
                Ok(CatalogueEntry {
                    id: integer(field, entry.attr("id"))?,
                    name: non_empty(entry.attr("name")),
                    catno: non_empty(entry.attr("catno")),
                })
            })
            .collect()
    }
}

impl<'t> Track<'t> {
    /// The tracks of `<list><track>…</track></list>`, each with its own sub-tracks.
    fn list(parent: Node<'t>, list: &str) -> Result<Vec<Track<'t>>, RecordError> {
        parent
            .list(list, "track")
            .map(|track| {
                Ok(Track {
                    position: non_empty(track.child_text("position")),
                    title: non_empty(track.child_text("title")),
                    duration: non_empty(track.child_text("duration")),
                    artists: Credit::list(track, "artists", CreditKind::Main)?,
                    extraartists: Credit::list(track, "extraartists", CreditKind::Extra)?,
                    sub_tracks: Track::list(track, "sub_tracks")?,
                })
            })
            .collect()
    }
}

impl Record for Release<'_> {
    fn id(&self) -> i64 {
        self.id
    }

    fn graph_facts(&self) -> GraphFacts {
        GraphFacts::from(self)
    }
}

/// The year of a `released` date ("1998", "1998-05-00", "1998-05-12"), if it is between 1860
/// and 2100.
fn year_of(released: &str) -> Option<i64> {
    let digits = released
        .get(..4)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
    let year: i64 = digits.parse().ok()?;
    YEARS.contains(&year).then_some(year)
}

#[cfg(test)]
mod tests {
    use super::year_of;

    #[test]
    fn year_comes_from_the_first_four_digits_within_bounds() {
        assert_eq!(year_of("1998"), Some(1998));
        assert_eq!(year_of("1998-05-00"), Some(1998));
        assert_eq!(year_of("2027-01-01"), Some(2027));
        assert_eq!(year_of("2100-12-31"), Some(2100));
        assert_eq!(year_of("2101"), None);
        assert_eq!(year_of("1859"), None);
        assert_eq!(year_of("19"), None);
        assert_eq!(year_of("?1998"), None);
        assert_eq!(year_of("0000"), None);
        assert_eq!(year_of("ééé"), None);
    }
}
