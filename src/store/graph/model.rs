//! What each canonical record asserts in the graph of SPEC §7: its node's properties and the
//! relationships it owns, deduplicated, whichever way they are then written (Bolt transactions in
//! the parent module, CSV files for `neo4j-admin database import` in `bulk`).

use std::collections::BTreeSet;

use serde::Deserialize;

use super::GraphRecord;

#[derive(Debug, thiserror::Error)]
#[error("record {id} is not canonical JSON: {reason}")]
pub struct MalformedRecord {
    id: i64,
    reason: String,
}

fn parse<'a, T: Deserialize<'a>>(record: &'a GraphRecord) -> Result<T, MalformedRecord> {
    serde_json::from_slice(&record.json).map_err(|e| MalformedRecord {
        id: record.id,
        reason: e.to_string(),
    })
}

#[derive(Deserialize)]
struct Reference {
    id: Option<i64>,
}

/// The ids present among `ids`, once each.
fn ids(ids: impl IntoIterator<Item = Option<i64>>) -> BTreeSet<i64> {
    ids.into_iter().flatten().collect()
}

#[derive(Deserialize)]
struct Credit {
    id: Option<i64>,
    role: Option<String>,
}

/// An artist: `ALIAS_OF` its aliases; `MEMBER_OF` towards its groups and from its members.
#[derive(Debug)]
pub struct Artist {
    pub id: i64,
    pub name: Option<String>,
    pub aliases: BTreeSet<i64>,
    pub groups: BTreeSet<i64>,
    pub members: BTreeSet<i64>,
}

impl Artist {
    pub fn from_record(record: &GraphRecord) -> Result<Self, MalformedRecord> {
        #[derive(Deserialize)]
        struct Doc {
            id: i64,
            name: Option<String>,
            #[serde(default)]
            aliases: Vec<Reference>,
            #[serde(default)]
            groups: Vec<Reference>,
            #[serde(default)]
            members: Vec<Reference>,
        }
        let doc: Doc = parse(record)?;
        Ok(Self {
            id: doc.id,
            name: doc.name,
            aliases: ids(doc.aliases.iter().map(|r| r.id)),
            groups: ids(doc.groups.iter().map(|r| r.id)),
            members: ids(doc.members.iter().map(|r| r.id)),
        })
    }
}

/// A label: `SUBLABEL_OF` towards its parent and from its sublabels.
#[derive(Debug)]
pub struct Label {
    pub id: i64,
    pub name: Option<String>,
    pub parents: BTreeSet<i64>,
    pub sublabels: BTreeSet<i64>,
}

impl Label {
    pub fn from_record(record: &GraphRecord) -> Result<Self, MalformedRecord> {
        #[derive(Deserialize)]
        struct Doc {
            id: i64,
            name: Option<String>,
            parent_label: Option<Reference>,
            #[serde(default)]
            sublabels: Vec<Reference>,
        }
        let doc: Doc = parse(record)?;
        Ok(Self {
            id: doc.id,
            name: doc.name,
            parents: ids([doc.parent_label.and_then(|p| p.id)]),
            sublabels: ids(doc.sublabels.iter().map(|r| r.id)),
        })
    }
}

/// What masters and releases both assert: main artists (`BY`), genres and styles (`IS`).
#[derive(Debug)]
pub struct Shared {
    pub by: BTreeSet<i64>,
    pub genres: BTreeSet<String>,
    pub styles: BTreeSet<String>,
}

impl Shared {
    fn new(artists: &[Credit], genres: Vec<String>, styles: Vec<String>) -> Self {
        Self {
            by: ids(artists.iter().map(|a| a.id)),
            genres: genres.into_iter().collect(),
            styles: styles.into_iter().collect(),
        }
    }
}

#[derive(Debug)]
pub struct Master {
    pub id: i64,
    pub title: Option<String>,
    pub year: Option<i64>,
    pub shared: Shared,
}

impl Master {
    pub fn from_record(record: &GraphRecord) -> Result<Self, MalformedRecord> {
        #[derive(Deserialize)]
        struct Doc {
            id: i64,
            title: Option<String>,
            year: Option<i64>,
            #[serde(default)]
            artists: Vec<Credit>,
            #[serde(default)]
            genres: Vec<String>,
            #[serde(default)]
            styles: Vec<String>,
        }
        let doc: Doc = parse(record)?;
        Ok(Self {
            id: doc.id,
            title: doc.title,
            year: doc.year,
            shared: Shared::new(&doc.artists, doc.genres, doc.styles),
        })
    }
}

/// A release: besides [`Shared`], `CREDITED_ON` from each (artist, role) credited on it or on any
/// of its tracks, `ON` each (label, catalogue number), `DERIVED_FROM` its master.
#[derive(Debug)]
pub struct Release {
    pub id: i64,
    pub title: Option<String>,
    pub year: Option<i64>,
    pub country: Option<String>,
    pub formats: BTreeSet<String>,
    pub credits: BTreeSet<(i64, String)>,
    pub labels: BTreeSet<(i64, String)>,
    /// The master's id and whether this is its main release.
    pub master: Option<(i64, bool)>,
    pub shared: Shared,
}

impl Release {
    pub fn from_record(record: &GraphRecord) -> Result<Self, MalformedRecord> {
        #[derive(Deserialize)]
        struct LabelEntry {
            id: Option<i64>,
            catno: Option<String>,
        }
        #[derive(Deserialize)]
        struct Format {
            name: Option<String>,
        }
        #[derive(Deserialize)]
        struct Track {
            #[serde(default)]
            extraartists: Vec<Credit>,
            #[serde(default)]
            sub_tracks: Vec<Track>,
        }
        #[derive(Deserialize)]
        struct Doc {
            id: i64,
            title: Option<String>,
            year: Option<i64>,
            country: Option<String>,
            #[serde(default)]
            artists: Vec<Credit>,
            #[serde(default)]
            extraartists: Vec<Credit>,
            #[serde(default)]
            labels: Vec<LabelEntry>,
            #[serde(default)]
            formats: Vec<Format>,
            #[serde(default)]
            genres: Vec<String>,
            #[serde(default)]
            styles: Vec<String>,
            master_id: Option<i64>,
            is_main_release: Option<bool>,
            #[serde(default)]
            tracklist: Vec<Track>,
        }
        let doc: Doc = parse(record)?;
        let mut credits = BTreeSet::new();
        let mut tracks: Vec<Track> = doc.tracklist;
        let mut extra = doc.extraartists;
        while let Some(track) = tracks.pop() {
            extra.extend(track.extraartists);
            tracks.extend(track.sub_tracks);
        }
        for credit in extra {
            if let Some(artist) = credit.id {
                credits.insert((artist, credit.role.unwrap_or_default()));
            }
        }
        Ok(Self {
            id: doc.id,
            title: doc.title,
            year: doc.year,
            country: doc.country,
            formats: doc.formats.into_iter().filter_map(|f| f.name).collect(),
            credits,
            labels: doc
                .labels
                .into_iter()
                .filter_map(|l| Some((l.id?, l.catno.unwrap_or_default())))
                .collect(),
            master: doc
                .master_id
                .map(|master| (master, doc.is_main_release.unwrap_or(false))),
            shared: Shared::new(&doc.artists, doc.genres, doc.styles),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(json: &str) -> GraphRecord {
        GraphRecord {
            id: 7,
            json: json.as_bytes().to_vec(),
            replace: false,
        }
    }

    #[test]
    fn a_release_credits_each_artist_and_role_once_from_any_track_depth() {
        let release = Release::from_record(&record(
            r#"{"id":7,"title":"T","artists":[{"id":1},{"id":1},{"name":"no id"}],
                "extraartists":[{"id":2,"role":"Mixed By"}],
                "tracklist":[{"extraartists":[{"id":2,"role":"Mixed By"},{"id":3}],
                              "sub_tracks":[{"extraartists":[{"id":4,"role":"Vocals"}]}]}],
                "labels":[{"id":9,"catno":"A1"},{"id":9,"catno":"A1"},{"id":9},{"name":"no id"}],
                "formats":[{"name":"Vinyl"},{"name":"Vinyl"},{}],
                "genres":["Rock","Rock"],"styles":["Punk"],"master_id":5,"is_main_release":true}"#,
        ))
        .expect("valid record");
        assert_eq!(release.shared.by, BTreeSet::from([1]));
        let credits: Vec<(i64, &str)> = release
            .credits
            .iter()
            .map(|(a, r)| (*a, r.as_str()))
            .collect();
        assert_eq!(credits, [(2, "Mixed By"), (3, ""), (4, "Vocals")]);
        let labels: Vec<(i64, &str)> = release
            .labels
            .iter()
            .map(|(l, c)| (*l, c.as_str()))
            .collect();
        assert_eq!(labels, [(9, ""), (9, "A1")]);
        assert_eq!(release.formats, BTreeSet::from(["Vinyl".to_string()]));
        assert_eq!(release.shared.genres.len(), 1);
        assert_eq!(release.master, Some((5, true)));
    }

    #[test]
    fn malformed_json_names_the_record() {
        let error = Artist::from_record(&record("{\"id\":\"x\"}")).expect_err("not an artist");
        assert!(
            error
                .to_string()
                .starts_with("record 7 is not canonical JSON"),
            "{error}"
        );
    }
}
