//! What each record asserts in the graph of SPEC §7: its node's properties and the relationships
//! it owns, each once, with the keys of the nodes they point at.
//!
//! Built from the typed record structs on the parser threads, next to the canonical JSON, so the
//! compiler ties the graph to the record: a renamed field fails to build here instead of silently
//! dropping relationships. Both graph writers (Bolt transactions and the bulk import's CSV files)
//! take these facts and nothing else.
//!
//! Every list is sorted and holds each element once (a set), kept in a `Vec`: the facts of every
//! record are built on the parser threads and travel through the pipeline's channels, so they
//! should cost one allocation per list, not a tree.

use super::artist::Artist;
use super::canonical::Credit;
use super::label::Label;
use super::master::Master;
use super::release::{Release, Track};

/// The graph side of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphFacts {
    Artist(ArtistFacts),
    Label(LabelFacts),
    Master(MasterFacts),
    Release(ReleaseFacts),
}

/// An artist: `ALIAS_OF` its aliases; `MEMBER_OF` towards its groups and from its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtistFacts {
    pub id: i64,
    pub name: Option<String>,
    pub aliases: Vec<i64>,
    pub groups: Vec<i64>,
    pub members: Vec<i64>,
}

/// A label: `SUBLABEL_OF` towards its parent and from its sublabels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelFacts {
    pub id: i64,
    pub name: Option<String>,
    pub parents: Vec<i64>,
    pub sublabels: Vec<i64>,
}

/// What masters and releases both assert: main artists (`BY`), genres and styles (`IS`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedFacts {
    pub by: Vec<i64>,
    pub genres: Vec<String>,
    pub styles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterFacts {
    pub id: i64,
    pub title: Option<String>,
    pub year: Option<i64>,
    pub shared: SharedFacts,
}

/// A release: besides [`SharedFacts`], `CREDITED_ON` from each (artist, role) credited on it or
/// on any of its tracks, `ON` each (label, catalogue number), `DERIVED_FROM` its master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseFacts {
    pub id: i64,
    pub title: Option<String>,
    pub year: Option<i64>,
    pub country: Option<String>,
    pub formats: Vec<String>,
    pub credits: Vec<(i64, String)>,
    pub labels: Vec<(i64, String)>,
    /// The master's id and whether this is its main release.
    pub master: Option<(i64, bool)>,
    pub shared: SharedFacts,
}

fn owned(text: Option<&str>) -> Option<String> {
    text.map(str::to_owned)
}

/// `items` sorted, each once.
pub(crate) fn set<T: Ord>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut items: Vec<T> = items.into_iter().collect();
    items.sort_unstable();
    items.dedup();
    items
}

fn names(texts: &[&str]) -> Vec<String> {
    set(texts.iter().map(|&text| text.to_owned()))
}

impl ReleaseFacts {
    /// The labels it is `ON`, each once (a label listed with two catalogue numbers is one label).
    pub fn label_ids(&self) -> Vec<i64> {
        // Sorted by label, so a label's entries are adjacent.
        let mut labels: Vec<i64> = self.labels.iter().map(|(label, _)| *label).collect();
        labels.dedup();
        labels
    }
}

impl SharedFacts {
    fn new(artists: &[Credit<'_>], genres: &[&str], styles: &[&str]) -> SharedFacts {
        SharedFacts {
            by: set(artists.iter().filter_map(|artist| artist.id)),
            genres: names(genres),
            styles: names(styles),
        }
    }
}

impl From<&Artist<'_>> for GraphFacts {
    fn from(artist: &Artist<'_>) -> GraphFacts {
        let ids = |references: &[super::canonical::Reference<'_>]| {
            set(references.iter().filter_map(|r| r.id))
        };
        GraphFacts::Artist(ArtistFacts {
            id: artist.id,
            name: owned(artist.name),
            aliases: ids(&artist.aliases),
            groups: ids(&artist.groups),
            members: ids(&artist.members),
        })
    }
}

impl From<&Label<'_>> for GraphFacts {
    fn from(label: &Label<'_>) -> GraphFacts {
        GraphFacts::Label(LabelFacts {
            id: label.id,
            name: owned(label.name),
            parents: set(label.parent_label.iter().filter_map(|p| p.id)),
            sublabels: set(label.sublabels.iter().filter_map(|s| s.id)),
        })
    }
}

impl From<&Master<'_>> for GraphFacts {
    fn from(master: &Master<'_>) -> GraphFacts {
        GraphFacts::Master(MasterFacts {
            id: master.id,
            title: owned(master.title),
            year: master.year,
            shared: SharedFacts::new(&master.artists, &master.genres, &master.styles),
        })
    }
}

impl From<&Release<'_>> for GraphFacts {
    fn from(release: &Release<'_>) -> GraphFacts {
        let mut credits = Vec::new();
        let mut add_credits = |list: &[Credit<'_>]| {
            for credit in list {
                if let Some(artist) = credit.id {
                    credits.push((artist, credit.role.unwrap_or_default().to_owned()));
                }
            }
        };
        add_credits(&release.extraartists);
        let mut tracks: Vec<&Track<'_>> = release.tracklist.iter().collect();
        while let Some(track) = tracks.pop() {
            add_credits(&track.extraartists);
            tracks.extend(&track.sub_tracks);
        }
        GraphFacts::Release(ReleaseFacts {
            id: release.id,
            title: owned(release.title),
            year: release.year,
            country: owned(release.country),
            formats: set(release
                .formats
                .iter()
                .filter_map(|format| owned(format.name))),
            credits: set(credits),
            labels: set(release
                .labels
                .iter()
                .filter_map(|entry| Some((entry.id?, entry.catno.unwrap_or_default().to_owned())))),
            master: release
                .master_id
                .map(|master| (master, release.is_main_release.unwrap_or(false))),
            shared: SharedFacts::new(&release.artists, &release.genres, &release.styles),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Kind, canonicalize};
    use crate::xml::tree::tests::tree_of;

    fn facts(kind: Kind, xml: &str) -> GraphFacts {
        let tree = tree_of(xml).expect("well-formed XML");
        canonicalize(kind, tree.root())
            .expect("a valid record")
            .graph
    }

    #[test]
    fn a_release_credits_each_artist_and_role_once_from_any_track_depth() {
        let GraphFacts::Release(release) = facts(
            Kind::Releases,
            r#"<release id="7" status="Accepted"><title>T</title>
                <artists><artist><id>1</id></artist><artist><id>1</id></artist><artist><name>no id</name></artist></artists>
                <extraartists><artist><id>2</id><role>Mixed By</role></artist></extraartists>
                <labels><label id="9" catno="A1"/><label id="9" catno="A1"/><label id="9"/><label name="no id"/></labels>
                <formats><format name="Vinyl"/><format name="Vinyl"/><format qty="1"/></formats>
                <genres><genre>Rock</genre><genre>Rock</genre></genres><styles><style>Punk</style></styles>
                <released>1999-02-00</released>
                <master_id is_main_release="true">5</master_id>
                <tracklist><track><title>A</title>
                  <extraartists><artist><id>2</id><role>Mixed By</role></artist><artist><id>3</id></artist></extraartists>
                  <sub_tracks><track><title>A.1</title>
                    <extraartists><artist><id>4</id><role>Vocals</role></artist></extraartists>
                  </track></sub_tracks>
                </track></tracklist></release>"#,
        ) else {
            panic!("a release's facts");
        };
        assert_eq!(release.id, 7);
        assert_eq!(release.title.as_deref(), Some("T"));
        assert_eq!(release.year, Some(1999));
        assert_eq!(release.shared.by, vec![1]);
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
        assert_eq!(release.formats, vec!["Vinyl".to_string()]);
        assert_eq!(release.shared.genres, vec!["Rock".to_string()]);
        assert_eq!(release.shared.styles, vec!["Punk".to_string()]);
        assert_eq!(release.master, Some((5, true)));
    }

    #[test]
    fn artists_and_labels_assert_their_references_by_id() {
        let artist = facts(
            Kind::Artists,
            r#"<artist><id>1</id><name>Solo</name>
                <aliases><name id="9">Alias</name><name>no id</name></aliases>
                <groups><name id="2">Group</name><name id="2">Group</name></groups>
                <members><name id="3">Member</name></members></artist>"#,
        );
        assert_eq!(
            artist,
            GraphFacts::Artist(ArtistFacts {
                id: 1,
                name: Some("Solo".into()),
                aliases: vec![9],
                groups: vec![2],
                members: vec![3],
            })
        );
        let label = facts(
            Kind::Labels,
            r#"<label><id>5</id><name>Child</name><parentLabel id="4">Parent</parentLabel>
                <sublabels><label id="6">Sub</label></sublabels></label>"#,
        );
        assert_eq!(
            label,
            GraphFacts::Label(LabelFacts {
                id: 5,
                name: Some("Child".into()),
                parents: vec![4],
                sublabels: vec![6],
            })
        );
    }
}
