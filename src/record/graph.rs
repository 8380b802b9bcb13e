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
//!
//! Besides relationships, a record gives names to the artists and labels it references
//! ([`ReferenceNames`]): a node that has no record of its own (a stub) is called what its first
//! referrer ([`referrer_key`]) calls it.

use serde_json::Value;

use super::Kind;
use super::artist::Artist;
use super::canonical::{Credit, Reference};
use super::label::Label;
use super::master::Master;
use super::release::{Release, Track};
use super::role::Category;

pub mod digest;

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
    pub names: ReferenceNames,
}

/// A label: `SUBLABEL_OF` towards its parent and from its sublabels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelFacts {
    pub id: i64,
    pub name: Option<String>,
    pub parents: Vec<i64>,
    pub sublabels: Vec<i64>,
    pub names: ReferenceNames,
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
    pub names: ReferenceNames,
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
    pub names: ReferenceNames,
    /// Who is credited with what on it (PostgreSQL's `credits`, not the graph).
    pub people: Vec<PersonCredit>,
}

/// One person's credit on a release: an extra artist of the release or of any of its tracks that
/// has a name and a role, once per (name, role) (the role as the dump writes it, e.g. "Producer,
/// Mixed By"), with the artist's id where one of its entries carries it (the lowest).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonCredit {
    pub name: String,
    pub role: String,
    /// The role's category, worked out here on the parser threads rather than by the writer.
    pub category: Category,
    pub artist: Option<i64>,
    /// Whether this is the person's first credit in its category on the release (by role): the
    /// one that counts the release when releases per person and category are counted, which then
    /// needs no DISTINCT over millions of rows.
    pub counts_release: bool,
}

impl PersonCredit {
    /// The credits of a release from (name, role, artist id) entries, in any order and repeated.
    fn set<'t>(
        entries: impl IntoIterator<Item = (&'t str, &'t str, Option<i64>)>,
    ) -> Vec<PersonCredit> {
        let mut people: Vec<(&str, &str, bool, Option<i64>)> = entries
            .into_iter()
            .filter(|(name, role, _)| !name.is_empty() && !role.is_empty())
            .map(|(name, role, artist)| (name, role, artist.is_none(), artist))
            .collect();
        // An entry with an id sorts before one without, so it is the one kept.
        people.sort_unstable();
        people.dedup_by(|later, kept| later.0 == kept.0 && later.1 == kept.1);
        let mut credits: Vec<PersonCredit> = Vec::with_capacity(people.len());
        for (name, role, _, artist) in people {
            let category = Category::of(role);
            // Sorted by name, so the person's earlier credits are the last ones pushed.
            let counted = credits
                .iter()
                .rev()
                .take_while(|earlier| earlier.name == name)
                .any(|earlier| earlier.category == category);
            credits.push(PersonCredit {
                name: name.to_owned(),
                role: role.to_owned(),
                category,
                artist,
                counts_release: !counted,
            });
        }
        credits
    }

    /// The credits of a stored release, read from its canonical JSON: what its graph facts held
    /// when it was parsed (the tests check the two agree on every sample record).
    pub fn from_json(release: &Value) -> Vec<PersonCredit> {
        PersonCredit::set(
            extra_artist_lists(release)
                .into_iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(|credit| {
                    Some((
                        credit.get("name")?.as_str()?,
                        credit.get("role")?.as_str()?,
                        credit.get("id").and_then(Value::as_i64),
                    ))
                }),
        )
    }
}

/// The names a record gives the artists and labels it references, each list sorted by id with one
/// name per id: where a record names a node more than once differently, the alphabetically first
/// name. Only references that carry both an id and a name are here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferenceNames {
    pub artists: Vec<(i64, String)>,
    pub labels: Vec<(i64, String)>,
}

/// Referrers' keys are `kind rank × KIND_STRIDE + id`: kinds in load order, then ids.
const KIND_STRIDE: i64 = 1 << 56;

/// The key that orders the records referencing a node: artists before labels before masters
/// before releases, then by id. The lowest key among a stub's referrers that name it gives the
/// stub its name. (Ids beyond 2⁵⁶ share a key; Discogs ids are below 2³².)
pub fn referrer_key(kind: Kind, id: i64) -> i64 {
    let rank = match kind {
        Kind::Artists => 0,
        Kind::Labels => 1,
        Kind::Masters => 2,
        Kind::Releases => 3,
    };
    rank * KIND_STRIDE + id.clamp(0, KIND_STRIDE - 1)
}

/// The key of a node no referrer names: above every [`referrer_key`].
pub const UNNAMED: i64 = i64::MAX;

impl ReferenceNames {
    /// The list of the names given to the nodes of `kind`: labels, or artists.
    pub fn for_kind(&self, kind: Kind) -> &[(i64, String)] {
        if kind == Kind::Labels {
            &self.labels
        } else {
            &self.artists
        }
    }

    /// The name given to node `id` in `names` (one of this struct's lists).
    pub fn of(names: &[(i64, String)], id: i64) -> Option<&str> {
        names
            .binary_search_by_key(&id, |(named, _)| *named)
            .ok()
            .map(|index| names[index].1.as_str())
    }

    /// The names a stored record of `kind` gives, read from its canonical JSON: what its graph
    /// facts held when it was parsed (the tests check the two agree on every sample record).
    pub fn from_json(kind: Kind, record: &Value) -> ReferenceNames {
        let mut artists = Vec::new();
        let mut labels = Vec::new();
        match kind {
            Kind::Artists => {
                for list in ["aliases", "groups", "members"] {
                    add_named(&mut artists, record.get(list));
                }
            }
            Kind::Labels => {
                for list in ["parent_label", "sublabels"] {
                    add_named(&mut labels, record.get(list));
                }
            }
            Kind::Masters => add_named(&mut artists, record.get("artists")),
            Kind::Releases => {
                add_named(&mut artists, record.get("artists"));
                for list in extra_artist_lists(record) {
                    add_named(&mut artists, Some(list));
                }
                add_named(&mut labels, record.get("labels"));
            }
        }
        ReferenceNames {
            artists: first_names(artists),
            labels: first_names(labels),
        }
    }
}

/// The `extraartists` of a release's canonical JSON and of its tracks at any depth.
fn extra_artist_lists(release: &Value) -> Vec<&Value> {
    let mut lists: Vec<&Value> = release.get("extraartists").into_iter().collect();
    let mut tracks: Vec<&Value> = release
        .get("tracklist")
        .and_then(Value::as_array)
        .map(|tracks| tracks.iter().collect())
        .unwrap_or_default();
    while let Some(track) = tracks.pop() {
        lists.extend(track.get("extraartists"));
        tracks.extend(
            track
                .get("sub_tracks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        );
    }
    lists
}

/// Adds the `(id, name)` of each reference in `list` (an array of them, or one) that has both.
fn add_named(into: &mut Vec<(i64, String)>, list: Option<&Value>) {
    let items = match list {
        Some(Value::Array(items)) => items.as_slice(),
        Some(item @ Value::Object(_)) => std::slice::from_ref(item),
        _ => &[],
    };
    for item in items {
        if let (Some(id), Some(name)) = (item["id"].as_i64(), item["name"].as_str()) {
            into.push((id, name.to_owned()));
        }
    }
}

/// `(id, name)` pairs reduced to one per id, the alphabetically first, sorted by id.
fn first_names<T: Ord>(mut names: Vec<(i64, T)>) -> Vec<(i64, T)> {
    names.sort_unstable();
    names.dedup_by_key(|(id, _)| *id);
    names
}

/// [`first_names`] of the references that carry an id and a name; only the names kept are copied.
fn reference_names<'t>(
    references: impl IntoIterator<Item = (Option<i64>, Option<&'t str>)>,
) -> Vec<(i64, String)> {
    let borrowed = references
        .into_iter()
        .filter_map(|(id, name)| Some((id?, name?)))
        .collect();
    first_names(borrowed)
        .into_iter()
        .map(|(id, name)| (id, name.to_owned()))
        .collect()
}

fn credit_names<'a, 't: 'a>(
    credits: impl IntoIterator<Item = &'a Credit<'t>>,
) -> impl Iterator<Item = (Option<i64>, Option<&'t str>)> {
    credits.into_iter().map(|credit| (credit.id, credit.name))
}

fn referenced<'a, 't: 'a>(
    references: impl IntoIterator<Item = &'a Reference<'t>>,
) -> impl Iterator<Item = (Option<i64>, Option<&'t str>)> {
    references.into_iter().map(|r| (r.id, r.name))
}

impl GraphFacts {
    /// The kind of record these facts are of.
    pub fn kind(&self) -> Kind {
        match self {
            GraphFacts::Artist(_) => Kind::Artists,
            GraphFacts::Label(_) => Kind::Labels,
            GraphFacts::Master(_) => Kind::Masters,
            GraphFacts::Release(_) => Kind::Releases,
        }
    }

    /// The record's id.
    pub fn id(&self) -> i64 {
        match self {
            GraphFacts::Artist(facts) => facts.id,
            GraphFacts::Label(facts) => facts.id,
            GraphFacts::Master(facts) => facts.id,
            GraphFacts::Release(facts) => facts.id,
        }
    }

    /// The names the record gives the nodes it references.
    pub fn names(&self) -> &ReferenceNames {
        match self {
            GraphFacts::Artist(facts) => &facts.names,
            GraphFacts::Label(facts) => &facts.names,
            GraphFacts::Master(facts) => &facts.names,
            GraphFacts::Release(facts) => &facts.names,
        }
    }
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
            names: ReferenceNames {
                artists: reference_names(
                    referenced(&artist.aliases)
                        .chain(referenced(&artist.groups))
                        .chain(referenced(&artist.members)),
                ),
                labels: Vec::new(),
            },
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
            names: ReferenceNames {
                artists: Vec::new(),
                labels: reference_names(
                    referenced(&label.parent_label).chain(referenced(&label.sublabels)),
                ),
            },
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
            names: ReferenceNames {
                artists: reference_names(credit_names(&master.artists)),
                labels: Vec::new(),
            },
        })
    }
}

impl From<&Release<'_>> for GraphFacts {
    fn from(release: &Release<'_>) -> GraphFacts {
        let mut extra: Vec<&Credit<'_>> = release.extraartists.iter().collect();
        let mut tracks: Vec<&Track<'_>> = release.tracklist.iter().collect();
        while let Some(track) = tracks.pop() {
            extra.extend(&track.extraartists);
            tracks.extend(&track.sub_tracks);
        }
        let credits = extra
            .iter()
            .filter_map(|credit| Some((credit.id?, credit.role.unwrap_or_default().to_owned())));
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
            names: ReferenceNames {
                artists: reference_names(
                    credit_names(&release.artists).chain(credit_names(extra.iter().copied())),
                ),
                labels: reference_names(release.labels.iter().map(|entry| (entry.id, entry.name))),
            },
            people: PersonCredit::set(
                extra
                    .iter()
                    .filter_map(|credit| Some((credit.name?, credit.role?, credit.id))),
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Kind, canonicalize};
    use crate::xml::tree::tests::tree_of;

    /// The graph facts of record `xml` of `kind`.
    pub(super) fn facts(kind: Kind, xml: &str) -> GraphFacts {
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
    fn a_release_credits_each_named_person_and_role_once_with_an_id_if_any_entry_has_one() {
        let GraphFacts::Release(release) = facts(
            Kind::Releases,
            r#"<release id="8"><title>T</title>
                <extraartists>
                  <artist><name>Ann</name><role>Producer</role></artist>
                  <artist><id>12</id><name>Ann</name><role>Producer</role></artist>
                  <artist><id>13</id><name>Bob (2)</name><anv>Bob</anv><role>Mastered By</role></artist>
                  <artist><name>Ann</name><role>Engineer</role></artist>
                  <artist><id>14</id><name>No Role</name></artist>
                </extraartists>
                <tracklist><track><title>A</title>
                  <sub_tracks><track><title>A.1</title>
                    <extraartists><artist><name>Cy</name><role>Guitar [Electric]</role></artist>
                      <artist><id>12</id><name>Ann</name><role>Mixed By</role></artist></extraartists>
                  </track></sub_tracks>
                </track></tracklist></release>"#,
        ) else {
            panic!("a release's facts");
        };
        let people: Vec<(&str, &str, Option<i64>, Category, bool)> = release
            .people
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.role.as_str(),
                    p.artist,
                    p.category,
                    p.counts_release,
                )
            })
            .collect();
        assert_eq!(
            people,
            [
                ("Ann", "Engineer", None, Category::Engineering, true),
                ("Ann", "Mixed By", Some(12), Category::Engineering, false),
                ("Ann", "Producer", Some(12), Category::Production, true),
                (
                    "Bob (2)",
                    "Mastered By",
                    Some(13),
                    Category::Mastering,
                    true
                ),
                ("Cy", "Guitar [Electric]", None, Category::Session, true),
            ]
        );
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
                names: ReferenceNames {
                    artists: vec![
                        (2, "Group".into()),
                        (3, "Member".into()),
                        (9, "Alias".into())
                    ],
                    labels: Vec::new(),
                },
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
                names: ReferenceNames {
                    artists: Vec::new(),
                    labels: vec![(4, "Parent".into()), (6, "Sub".into())],
                },
            })
        );
    }
}
