//! The aggregate properties of SPEC §7, and the genre and style year counts and top lists the API
//! reads, two ways that give the same graph:
//!
//! - [`Tally`]: counted from the records' facts, never from the graph. While a graph is built from
//!   scratch (every record passes), in the stream, then written with the nodes: columns of the
//!   bulk import's CSV files, or one Bolt pass over the nodes a rebuild created ([`write`]); its
//!   counts also go to PostgreSQL (`store::profiles`). After an update, those counts are moved by
//!   what it changed (`store::deltas`) and written only where it touched ([`refresh`]).
//! - [`RECOMPUTE`]: Cypher over the whole graph, the reference the tests compare with, and what
//!   an ingest runs when the definitions changed since the graph was aggregated.
//!
//! What each property counts (both ways): an artist's `release_count` is the releases `BY` it; a
//! label's `release_count`, `artist_count` and `genre_count` are its releases and the distinct
//! artists (`BY`) and genres of those; a genre's or style's `release_count`, `artist_count` and
//! `label_count` likewise, with releases per year (`trend_years`, `trend_counts`, years > 0),
//! `first_year`, and its first [`TOP_LIST_LENGTH`] artists and labels by releases (ties by id).
//! A style is `PART_OF` each genre that is the only genre of a release or master naming the style;
//! the relationship's `release_count` is the releases naming both (absent when none), and a
//! genre's `style_count` and a style's `genre_count` count those relationships. Every artist and
//! label has its counts (0 included); an empty list is no property.
//!
//! The tally also counts the label and artist profiles the analytics routes read
//! ([`super::profiles`]), which go to PostgreSQL rather than the graph.

use std::collections::{BTreeMap, HashMap, HashSet};

use neo4rs::{BoltType, Graph, query};

use super::neo4j::{self, Result};
use super::profiles::{Counted, ProfileTally, ProfiledRelease, Profiles};
use super::{row, run_in_transaction};
use crate::record::graph::GraphFacts;

/// The version of the aggregates' definitions: raised whenever they add or change a property, so
/// that the next ingest recomputes them on a graph aggregated by an older release. (4: stubs carry
/// the names their referrers give them, see [`super::stubs`]; 5: the label and artist profiles
/// are counted with them, see [`super::profiles`].)
pub const AGGREGATES_VERSION: i32 = 5;

/// Entries in the top lists a genre or style keeps: pages of `expand` within it are read from the
/// node, deeper ones counted live.
pub const TOP_LIST_LENGTH: i64 = 1_000;

/// Nodes per transaction when a rebuild's aggregates are written through Bolt.
const WRITE_BATCH: usize = 10_000;

/// The recomputation, statement by statement, run in order after an ingest changed the graph.
/// Per-node counts go in batched transactions so memory stays bounded on millions of nodes.
pub const RECOMPUTE: &[(&str, &str)] = &[
    // Stubs nothing points at any more (their last referring record changed or went), and
    // genres or styles no record uses: a fresh load of the same dump would not have them.
    (
        "orphan cleanup",
        concat!(
            "MATCH (n) WHERE (n:Artist OR n:Label OR n:Master) AND ",
            super::is_stub!("n"),
            " AND NOT (n)--() CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ),
    ),
    ("style PART_OF genre", "MATCH (:Style)-[p:PART_OF]->(:Genre) DELETE p"),
    ("orphan cleanup", "MATCH (n) WHERE (n:Genre OR n:Style) AND NOT (n)--() DELETE n"),
    (
        "style PART_OF genre",
        "MATCH (r)-[:IS]->(g:Genre) WHERE r:Release OR r:Master
         WITH r, collect(g) AS genres WHERE size(genres) = 1
         MATCH (r)-[:IS]->(s:Style)
         WITH DISTINCT s, genres[0] AS g
         MERGE (s)-[:PART_OF]->(g)",
    ),
    // What the API's genre tree ranks a genre's styles by: the releases they share (a release
    // has one IS per genre or style, so rows are releases). One pass over all releases, whose
    // grouping state is one counter per (genre, style) pair.
    (
        "style PART_OF genre release_count",
        "MATCH (g:Genre)<-[:IS]-(r:Release)-[:IS]->(s:Style)
         WITH g, s, count(*) AS shared
         MATCH (s)-[p:PART_OF]->(g)
         SET p.release_count = shared",
    ),
    (
        "artist release_count",
        "MATCH (a:Artist)
         CALL (a) { SET a.release_count = COUNT { MATCH (a)<-[:BY]-(r:Release) RETURN DISTINCT r } } IN TRANSACTIONS OF 10000 ROWS",
    ),
    (
        "label counts",
        "MATCH (l:Label)
         CALL (l) {
           SET l.release_count = COUNT { MATCH (l)<-[:ON]-(r:Release) RETURN DISTINCT r },
               l.artist_count = COUNT { MATCH (l)<-[:ON]-(:Release)-[:BY]->(a:Artist) RETURN DISTINCT a },
               l.genre_count = COUNT { MATCH (l)<-[:ON]-(:Release)-[:IS]->(g:Genre) RETURN DISTINCT g }
         } IN TRANSACTIONS OF 5000 ROWS",
    ),
    // A list with nothing in it is set to null, which is no property (as in the import's CSV).
    (
        "genre and style counts",
        "MATCH (n) WHERE n:Genre OR n:Style
         CALL (n) {
           SET n.release_count = COUNT { (n)<-[:IS]-(:Release) }
           WITH n
           CALL (n) {
             MATCH (n)<-[:IS]-(r:Release) WHERE r.year > 0
             WITH r.year AS year, count(*) AS releases ORDER BY year
             RETURN collect(year) AS years, collect(releases) AS counts
           }
           SET n.trend_years = CASE WHEN size(years) > 0 THEN years END,
               n.trend_counts = CASE WHEN size(counts) > 0 THEN counts END,
               n.first_year = years[0]
           WITH n
           CALL (n) {
             MATCH (n)<-[:IS]-(:Release)-[:BY]->(a:Artist)
             WITH a, count(*) AS releases ORDER BY releases DESC, a.id
             RETURN count(a) AS artists, collect(a.id)[0..1000] AS ids, collect(releases)[0..1000] AS counts
           }
           SET n.artist_count = artists,
               n.top_artist_ids = CASE WHEN size(ids) > 0 THEN ids END,
               n.top_artist_counts = CASE WHEN size(counts) > 0 THEN counts END
           WITH n
           CALL (n) {
             MATCH (n)<-[:IS]-(r:Release)-[:ON]->(l:Label)
             WITH l, count(DISTINCT r) AS releases ORDER BY releases DESC, l.id
             RETURN count(l) AS labels, collect(l.id)[0..1000] AS ids, collect(releases)[0..1000] AS counts
           }
           SET n.label_count = labels,
               n.top_label_ids = CASE WHEN size(ids) > 0 THEN ids END,
               n.top_label_counts = CASE WHEN size(counts) > 0 THEN counts END
         } IN TRANSACTIONS OF 1 ROW",
    ),
    ("genre style_count", "MATCH (g:Genre) SET g.style_count = COUNT { (g)<-[:PART_OF]-(:Style) }"),
    ("style genre_count", "MATCH (s:Style) SET s.genre_count = COUNT { (s)-[:PART_OF]->(:Genre) }"),
];

/// Recomputes every aggregate over the whole graph ([`RECOMPUTE`]).
///
/// # Errors
///
/// A statement failed.
pub async fn recompute(graph: &Graph) -> Result<()> {
    for (name, statement) in RECOMPUTE {
        let started = std::time::Instant::now();
        graph.run(query(statement)).await?;
        tracing::info!(
            aggregate = name,
            seconds = started.elapsed().as_secs_f64(),
            "graph aggregate computed"
        );
    }
    Ok(())
}

/// A label's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelCounts {
    pub releases: i64,
    pub artists: i64,
    pub genres: i64,
}

/// A genre's or style's aggregates. `related` is a genre's `style_count` or a style's
/// `genre_count`; the two lists of each pair are as long as each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagAggregates {
    pub name: String,
    /// Releases and masters naming it (kept in PostgreSQL, not on the node: while there are
    /// some, the tag exists).
    pub records: i64,
    pub release_count: i64,
    pub artist_count: i64,
    pub label_count: i64,
    pub related: i64,
    pub first_year: Option<i64>,
    pub trend_years: Vec<i64>,
    pub trend_counts: Vec<i64>,
    pub top_artist_ids: Vec<i64>,
    pub top_artist_counts: Vec<i64>,
    pub top_label_ids: Vec<i64>,
    pub top_label_counts: Vec<i64>,
}

/// A style's `PART_OF` a genre.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartOf {
    pub style: String,
    pub genre: String,
    /// Releases naming both; `None` when there are none (only masters, or only releases with
    /// other genres, tie them).
    pub release_count: Option<i64>,
}

/// What a genre and a style share: the releases naming both, and the records (releases or
/// masters) whose only genre is the genre and that name the style (the style is `PART_OF` the
/// genre while there are some).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenreStyle {
    pub genre: String,
    pub style: String,
    pub releases: i64,
    pub sole_records: i64,
}

/// Release counts by id, in 8 bytes an entry for the ids that fit in 32 bits (all of Discogs'
/// today): the tally of a whole catalogue holds tens of millions of them.
#[derive(Debug, Default)]
pub struct CountsById {
    small: HashMap<u32, u32>,
    large: HashMap<i64, u32>,
}

impl CountsById {
    /// Adds one to `id`'s count.
    fn increment(&mut self, id: i64) {
        let count = match u32::try_from(id) {
            Ok(id) => self.small.entry(id).or_default(),
            Err(_) => self.large.entry(id).or_default(),
        };
        *count = count.saturating_add(1);
    }

    /// Sets `id`'s count (an update's counts, read back from PostgreSQL).
    pub fn insert(&mut self, id: i64, releases: i64) {
        let releases = u32::try_from(releases).unwrap_or(u32::MAX);
        match u32::try_from(id) {
            Ok(id) => self.small.insert(id, releases),
            Err(_) => self.large.insert(id, releases),
        };
    }

    pub fn get(&self, id: i64) -> i64 {
        let count = match u32::try_from(id) {
            Ok(id) => self.small.get(&id),
            Err(_) => self.large.get(&id),
        };
        count.map_or(0, |&count| i64::from(count))
    }

    pub fn iter(&self) -> impl Iterator<Item = (i64, i64)> + '_ {
        let small = self
            .small
            .iter()
            .map(|(&id, &n)| (i64::from(id), i64::from(n)));
        let large = self.large.iter().map(|(&id, &n)| (id, i64::from(n)));
        small.chain(large)
    }
}

/// Every aggregate of a graph, as [`Tally::finish`] computed them.
#[derive(Debug, Default)]
pub struct Aggregates {
    /// Release counts of the artists that have releases; every other artist's is 0.
    pub artists: CountsById,
    /// Counts of the labels that have releases; every other label's are 0.
    pub labels: HashMap<i64, LabelCounts>,
    /// Every genre and style some record names, by name.
    pub genres: Vec<TagAggregates>,
    pub styles: Vec<TagAggregates>,
    pub part_of: Vec<PartOf>,
    /// Every (genre, style) pair that shares a release or a sole-genre record, by genre then
    /// style.
    pub genre_styles: Vec<GenreStyle>,
    pub profiles: Profiles,
}

impl Aggregates {
    pub fn artist_release_count(&self, id: i64) -> i64 {
        self.artists.get(id)
    }

    pub fn label_counts(&self, id: i64) -> LabelCounts {
        self.labels.get(&id).copied().unwrap_or_default()
    }
}

/// What one genre or style gathers from the records naming it; its artists and labels are
/// counted with the profiles (each artist's and label's releases per genre and style).
#[derive(Default)]
struct TagTally {
    records: i64,
    releases: i64,
    years: BTreeMap<i64, i64>,
}

/// The genres (or the styles) seen so far, each with a small index that pairs of them are kept by.
#[derive(Default)]
struct Tags {
    index: HashMap<String, usize>,
    tallies: Vec<(String, TagTally)>,
}

impl Tags {
    fn index(&mut self, name: &str) -> usize {
        if let Some(&index) = self.index.get(name) {
            return index;
        }
        let index = self.tallies.len();
        self.index.insert(name.to_owned(), index);
        self.tallies.push((name.to_owned(), TagTally::default()));
        index
    }

    fn indices(&mut self, names: &[String]) -> Vec<usize> {
        names.iter().map(|name| self.index(name)).collect()
    }
}

/// The aggregates of a graph being built from scratch, counted as its records pass (each record
/// exactly once; the pipeline's dedup stage sees to that).
#[derive(Default)]
pub struct Tally {
    /// Releases by artist and by label; a label's distinct artists and genres are counted with
    /// the profiles.
    artists: CountsById,
    labels: CountsById,
    genres: Tags,
    styles: Tags,
    /// Sole-genre records per (style, genre) pair (those are `PART_OF`), and releases per
    /// (genre, style) pair.
    part_of: HashMap<(usize, usize), i64>,
    shared: HashMap<(usize, usize), i64>,
    profiles: ProfileTally,
}

/// What the aggregates count of one release. `artists` (its main artists) and `labels` hold each
/// id once.
#[derive(Debug, Clone, Copy)]
pub struct CountedRelease<'a> {
    pub year: Option<i64>,
    pub artists: &'a [i64],
    pub labels: &'a [i64],
    pub genres: &'a [String],
    pub styles: &'a [String],
    pub formats: &'a [String],
}

impl Tally {
    /// Counts one record in. Artists and labels add nothing: every count is of releases, and a
    /// node's name is not an aggregate.
    pub fn add(&mut self, facts: &GraphFacts) {
        match facts {
            GraphFacts::Artist(_) | GraphFacts::Label(_) => {}
            GraphFacts::Master(master) => {
                self.add_master(&master.shared.genres, &master.shared.styles);
            }
            GraphFacts::Release(release) => {
                let labels = release.label_ids();
                self.add_release(&CountedRelease {
                    year: release.year,
                    artists: &release.shared.by,
                    labels: &labels,
                    genres: &release.shared.genres,
                    styles: &release.shared.styles,
                    formats: &release.formats,
                });
            }
        }
    }

    /// Counts a master in: its genres and styles exist, and may make a style `PART_OF` a genre.
    pub fn add_master(&mut self, genres: &[String], styles: &[String]) {
        self.tags(genres, styles);
    }

    /// Interns a record's genres and styles and records the `PART_OF` they imply; returns their
    /// indices.
    fn tags(&mut self, genres: &[String], styles: &[String]) -> (Vec<usize>, Vec<usize>) {
        let genres = self.genres.indices(genres);
        let styles = self.styles.indices(styles);
        for (tags, indices) in [(&mut self.genres, &genres), (&mut self.styles, &styles)] {
            for &index in indices {
                tags.tallies[index].1.records += 1;
            }
        }
        if let [genre] = genres[..] {
            for &style in &styles {
                *self.part_of.entry((style, genre)).or_default() += 1;
            }
        }
        (genres, styles)
    }

    pub fn add_release(&mut self, release: &CountedRelease<'_>) {
        let (genres, styles) = self.tags(release.genres, release.styles);
        let (by, labels) = (release.artists, release.labels);
        for &artist in by {
            self.artists.increment(artist);
        }
        for &label in labels {
            self.labels.increment(label);
        }
        let year = release.year.filter(|&year| year > 0);
        for (tags, indices) in [(&mut self.genres, &genres), (&mut self.styles, &styles)] {
            for &index in indices {
                let tally = &mut tags.tallies[index].1;
                tally.releases += 1;
                if let Some(year) = year {
                    *tally.years.entry(year).or_default() += 1;
                }
            }
        }
        for &genre in &genres {
            for &style in &styles {
                *self.shared.entry((genre, style)).or_default() += 1;
            }
        }
        self.profiles.add(&ProfiledRelease {
            year: release.year,
            artists: by,
            labels,
            genres: &genres,
            styles: &styles,
            formats: release.formats,
        });
    }

    /// The aggregates of everything counted in, genres and styles by name.
    pub fn finish(self) -> Aggregates {
        let mut style_counts = vec![0; self.genres.tallies.len()];
        let mut genre_counts = vec![0; self.styles.tallies.len()];
        let mut part_of = Vec::with_capacity(self.part_of.len());
        for &(style, genre) in self.part_of.keys() {
            style_counts[genre] += 1;
            genre_counts[style] += 1;
            part_of.push(PartOf {
                style: self.styles.tallies[style].0.clone(),
                genre: self.genres.tallies[genre].0.clone(),
                release_count: self.shared.get(&(genre, style)).copied(),
            });
        }
        part_of.sort_by(|a, b| (&a.style, &a.genre).cmp(&(&b.style, &b.genre)));
        let pairs: HashSet<(usize, usize)> = self
            .shared
            .keys()
            .copied()
            .chain(self.part_of.keys().map(|&(style, genre)| (genre, style)))
            .collect();
        let mut genre_styles: Vec<GenreStyle> = pairs
            .into_iter()
            .map(|(genre, style)| GenreStyle {
                genre: self.genres.tallies[genre].0.clone(),
                style: self.styles.tallies[style].0.clone(),
                releases: self.shared.get(&(genre, style)).copied().unwrap_or(0),
                sole_records: self.part_of.get(&(style, genre)).copied().unwrap_or(0),
            })
            .collect();
        genre_styles.sort_by(|a, b| (&a.genre, &a.style).cmp(&(&b.genre, &b.style)));
        let names = |tags: &Tags| tags.tallies.iter().map(|(name, _)| name.clone()).collect();
        let profiles = self.profiles.finish(Counted {
            genres: names(&self.genres),
            styles: names(&self.styles),
            labels: self.labels.iter().collect(),
            artists: self.artists.iter().collect(),
        });
        let mut labels: HashMap<i64, LabelCounts> = profiles
            .label_counts()
            .iter()
            .map(|&(id, releases, artists)| {
                let counts = LabelCounts {
                    releases,
                    artists,
                    genres: 0,
                };
                (id, counts)
            })
            .collect();
        let mut genre_owners = vec![Owners::default(); self.genres.tallies.len()];
        let mut style_owners = vec![Owners::default(); self.styles.tallies.len()];
        for count in profiles.label_tag_counts() {
            if !count.style
                && let Some(label) = labels.get_mut(&count.owner)
            {
                label.genres += 1;
            }
            let owners = if count.style {
                &mut style_owners
            } else {
                &mut genre_owners
            };
            owners[count.tag].labels.add(count.owner, count.releases);
        }
        for count in profiles.artist_tag_counts() {
            let owners = if count.style {
                &mut style_owners
            } else {
                &mut genre_owners
            };
            owners[count.tag].artists.add(count.owner, count.releases);
        }
        Aggregates {
            artists: self.artists,
            labels,
            genres: tag_aggregates(self.genres, genre_owners, &style_counts),
            styles: tag_aggregates(self.styles, style_owners, &genre_counts),
            part_of,
            genre_styles,
            profiles,
        }
    }
}

/// One genre's or style's artists, or labels, as their counts come: how many, and the
/// [`TOP_LIST_LENGTH`] with the most releases (ties by id), kept to at most twice that.
#[derive(Debug, Clone, Default)]
struct Ranking {
    count: i64,
    leaders: Vec<(i64, i64)>,
}

impl Ranking {
    fn add(&mut self, id: i64, releases: i64) {
        self.count += 1;
        self.leaders.push((id, releases));
        if self.leaders.len() >= 2 * top_list_length() {
            self.cut();
        }
    }

    fn cut(&mut self) {
        let length = top_list_length();
        if self.leaders.len() > length {
            self.leaders
                .select_nth_unstable_by(length, most_releases_first);
            self.leaders.truncate(length);
        }
    }

    /// The count, and the leaders' ids and releases, first first.
    fn finish(mut self) -> (i64, Vec<i64>, Vec<i64>) {
        self.cut();
        self.leaders.sort_unstable_by(most_releases_first);
        let (ids, releases) = self.leaders.into_iter().unzip();
        (self.count, ids, releases)
    }
}

fn top_list_length() -> usize {
    usize::try_from(TOP_LIST_LENGTH).unwrap_or(usize::MAX)
}

fn most_releases_first(a: &(i64, i64), b: &(i64, i64)) -> std::cmp::Ordering {
    b.1.cmp(&a.1).then(a.0.cmp(&b.0))
}

/// A genre's or style's artists and labels.
#[derive(Debug, Clone, Default)]
struct Owners {
    artists: Ranking,
    labels: Ranking,
}

/// Each tag's aggregates, sorted by name; `owners[i]` are tag `i`'s artists and labels and
/// `related[i]` its `PART_OF` count.
fn tag_aggregates(tags: Tags, owners: Vec<Owners>, related: &[i64]) -> Vec<TagAggregates> {
    let mut aggregates: Vec<TagAggregates> = tags
        .tallies
        .into_iter()
        .zip(owners)
        .zip(related)
        .map(|(((name, tally), owners), &related)| {
            let (artist_count, top_artist_ids, top_artist_counts) = owners.artists.finish();
            let (label_count, top_label_ids, top_label_counts) = owners.labels.finish();
            TagAggregates {
                name,
                records: tally.records,
                release_count: tally.releases,
                artist_count,
                label_count,
                related,
                first_year: tally.years.keys().next().copied(),
                trend_years: tally.years.keys().copied().collect(),
                trend_counts: tally.years.values().copied().collect(),
                top_artist_ids,
                top_artist_counts,
                top_label_ids,
                top_label_counts,
            }
        })
        .collect();
    aggregates.sort_by(|a, b| a.name.cmp(&b.name));
    aggregates
}

/// A list property: the list, or null (no property) when empty.
fn list_property(items: &[i64]) -> BoltType {
    if items.is_empty() {
        BoltType::Null(neo4rs::BoltNull)
    } else {
        items.iter().copied().collect()
    }
}

/// The row of one artist's count.
fn artist_row(id: i64, releases: i64) -> BoltType {
    row([("id", id.into()), ("releases", releases.into())])
}

/// The row of one label's counts.
fn label_row(id: i64, counts: LabelCounts) -> BoltType {
    row([
        ("id", id.into()),
        ("releases", counts.releases.into()),
        ("artists", counts.artists.into()),
        ("genres", counts.genres.into()),
    ])
}

/// Writes a rebuild's aggregates onto the nodes its records created through Bolt (which were
/// created with zero counts: only the artists and labels with releases are written), and creates
/// `PART_OF`.
///
/// # Errors
///
/// A write failed for good.
pub async fn write(graph: &Graph, aggregates: &Aggregates) -> Result<()> {
    let artists = aggregates
        .artists
        .iter()
        .map(|(id, releases)| artist_row(id, releases))
        .collect();
    let labels = aggregates
        .labels
        .iter()
        .map(|(&id, &counts)| label_row(id, counts))
        .collect();
    write_rows(graph, aggregates, artists, labels).await
}

/// Writes an update's aggregates: the counts of the artists and labels whose releases it
/// changed (`artists`, `labels`; the others' counts are as they were), every genre's and style's,
/// and `PART_OF` as it now is; genres and styles no record names any more go.
///
/// # Errors
///
/// A write failed for good.
pub async fn refresh(
    graph: &Graph,
    aggregates: &Aggregates,
    artists: &[i64],
    labels: &[i64],
) -> Result<()> {
    let artist_rows = artists
        .iter()
        .map(|&id| artist_row(id, aggregates.artist_release_count(id)))
        .collect();
    let label_rows = labels
        .iter()
        .map(|&id| label_row(id, aggregates.label_counts(id)))
        .collect();
    write_rows(graph, aggregates, artist_rows, label_rows).await?;
    let pairs: BoltType = aggregates
        .part_of
        .iter()
        .map(|p| BoltType::from(vec![p.style.as_str(), p.genre.as_str()]))
        .collect();
    graph
        .run(
            query(
                "MATCH (s:Style)-[p:PART_OF]->(g:Genre) WHERE NOT [s.name, g.name] IN $pairs DELETE p",
            )
            .param("pairs", pairs),
        )
        .await?;
    graph
        .run(query(
            "MATCH (n) WHERE (n:Genre OR n:Style) AND NOT (n)--() DELETE n",
        ))
        .await?;
    Ok(())
}

/// Sets the counts of `artists` and `labels` (rows of [`artist_row`] and [`label_row`]), every
/// genre's and style's aggregates and each `PART_OF` (merged), in transactions of
/// [`WRITE_BATCH`] rows. Each statement sets what it sets whatever was there, so a retry or a
/// re-run writes the same.
async fn write_rows(
    graph: &Graph,
    aggregates: &Aggregates,
    artists: Vec<BoltType>,
    labels: Vec<BoltType>,
) -> Result<()> {
    let tag_rows = |tags: &[TagAggregates], related: &'static str| -> Vec<BoltType> {
        tags.iter()
            .map(|tag| {
                let first_year = tag
                    .first_year
                    .map_or(BoltType::Null(neo4rs::BoltNull), Into::into);
                BoltType::Map(
                    [
                        ("name", tag.name.as_str().into()),
                        ("release_count", tag.release_count.into()),
                        ("artist_count", tag.artist_count.into()),
                        ("label_count", tag.label_count.into()),
                        (related, tag.related.into()),
                        ("first_year", first_year),
                        ("trend_years", list_property(&tag.trend_years)),
                        ("trend_counts", list_property(&tag.trend_counts)),
                        ("top_artist_ids", list_property(&tag.top_artist_ids)),
                        ("top_artist_counts", list_property(&tag.top_artist_counts)),
                        ("top_label_ids", list_property(&tag.top_label_ids)),
                        ("top_label_counts", list_property(&tag.top_label_counts)),
                    ]
                    .into_iter()
                    .map(|(key, value)| (key.into(), value))
                    .collect(),
                )
            })
            .collect()
    };
    let part_of: Vec<BoltType> = aggregates
        .part_of
        .iter()
        .map(|p| {
            let releases = p
                .release_count
                .map_or(BoltType::Null(neo4rs::BoltNull), Into::into);
            row([
                ("style", p.style.as_str().into()),
                ("genre", p.genre.as_str().into()),
                ("releases", releases),
            ])
        })
        .collect();
    let batches = [
        (
            "UNWIND $rows AS row MATCH (a:Artist {id: row.id}) SET a.release_count = row.releases",
            artists,
        ),
        (
            "UNWIND $rows AS row MATCH (l:Label {id: row.id})
             SET l.release_count = row.releases, l.artist_count = row.artists, l.genre_count = row.genres",
            labels,
        ),
        (
            "UNWIND $rows AS row MATCH (g:Genre {name: row.name}) SET g += row",
            tag_rows(&aggregates.genres, "style_count"),
        ),
        (
            "UNWIND $rows AS row MATCH (s:Style {name: row.name}) SET s += row",
            tag_rows(&aggregates.styles, "genre_count"),
        ),
        (
            "UNWIND $rows AS row MATCH (s:Style {name: row.style}), (g:Genre {name: row.genre})
             MERGE (s)-[p:PART_OF]->(g) SET p.release_count = row.releases",
            part_of,
        ),
    ];
    for (statement, rows) in batches {
        for chunk in rows.chunks(WRITE_BATCH) {
            let rows: BoltType = chunk.to_vec().into();
            neo4j::retry("aggregate write", || {
                run_in_transaction(graph, vec![query(statement).param("rows", rows.clone())])
            })
            .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::graph::{MasterFacts, ReferenceNames, ReleaseFacts, SharedFacts};

    #[test]
    fn top_lists_are_cut_at_their_documented_length() {
        let (_, statement) = RECOMPUTE
            .iter()
            .find(|(name, _)| *name == "genre and style counts")
            .expect("the genre and style aggregate");
        let cut = format!("[0..{TOP_LIST_LENGTH}]");
        assert_eq!(statement.matches(&cut).count(), 4, "{statement}");
        let mut counts = CountsById::default();
        for id in 0..2_500 {
            for _ in 0..id % 7 {
                counts.increment(id);
            }
        }
        counts.increment(-5);
        counts.increment(1 << 40);
        assert_eq!(
            (counts.get(-5), counts.get(1 << 40), counts.get(13)),
            (1, 1, 6)
        );
        let mut ranking = Ranking::default();
        for (id, releases) in counts.iter() {
            ranking.add(id, releases);
        }
        let (count, ids, counts) = ranking.finish();
        assert_eq!(
            count, 2_144,
            "every id with releases: not the 358 multiples of 7"
        );
        assert_eq!(ids.len(), 1_000);
        assert_eq!(counts.len(), 1_000);
        assert_eq!(
            (ids[0], counts[0]),
            (6, 6),
            "most releases first, ties by id"
        );
        assert_eq!((ids[1], counts[1]), (13, 6));
        assert_eq!(counts[999], 4, "357 of each of 6 and 5 precede");
    }

    fn shared(by: &[i64], genres: &[&str], styles: &[&str]) -> SharedFacts {
        SharedFacts {
            by: by.to_vec(),
            genres: genres.iter().map(|&g| g.to_owned()).collect(),
            styles: styles.iter().map(|&s| s.to_owned()).collect(),
        }
    }

    fn release(
        id: i64,
        year: Option<i64>,
        labels: &[(i64, &str)],
        shared: SharedFacts,
    ) -> GraphFacts {
        GraphFacts::Release(ReleaseFacts {
            id,
            title: None,
            year,
            country: None,
            formats: Vec::new(),
            credits: Vec::new(),
            labels: labels.iter().map(|&(l, c)| (l, c.to_owned())).collect(),
            master: None,
            shared,
            names: ReferenceNames::default(),
            people: Vec::new(),
        })
    }

    #[test]
    fn a_tally_counts_releases_distinct_artists_labels_and_genres() {
        let mut tally = Tally::default();
        let records = [
            release(
                1,
                Some(1990),
                &[(10, "A"), (10, "B")],
                shared(&[1, 2], &["Rock"], &["Punk"]),
            ),
            release(
                2,
                Some(1992),
                &[(10, "C"), (11, "")],
                shared(&[1], &["Rock", "Pop"], &["Punk", "Synth-pop"]),
            ),
            release(3, Some(0), &[], shared(&[3], &["Pop"], &[])),
            GraphFacts::Master(MasterFacts {
                id: 50,
                title: None,
                year: None,
                shared: shared(&[4], &["Jazz"], &["Bop"]),
                names: ReferenceNames::default(),
            }),
        ];
        for record in &records {
            tally.add(record);
        }
        let aggregates = tally.finish();
        assert_eq!(aggregates.artist_release_count(1), 2);
        assert_eq!(aggregates.artist_release_count(3), 1);
        assert_eq!(aggregates.artist_release_count(4), 0, "a master's artist");
        assert_eq!(
            aggregates.label_counts(10),
            LabelCounts {
                releases: 2,
                artists: 2,
                genres: 2
            },
            "release 1 once although listed twice"
        );
        assert_eq!(
            aggregates.label_counts(11),
            LabelCounts {
                releases: 1,
                artists: 1,
                genres: 2
            }
        );

        let names =
            |tags: &[TagAggregates]| tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&aggregates.genres), ["Jazz", "Pop", "Rock"]);
        assert_eq!(names(&aggregates.styles), ["Bop", "Punk", "Synth-pop"]);
        let rock = &aggregates.genres[2];
        assert_eq!(
            (rock.release_count, rock.artist_count, rock.label_count),
            (2, 2, 2)
        );
        assert_eq!(
            (rock.trend_years.as_slice(), rock.trend_counts.as_slice()),
            (&[1990, 1992][..], &[1, 1][..])
        );
        assert_eq!(rock.first_year, Some(1990));
        assert_eq!(
            (
                rock.top_artist_ids.as_slice(),
                rock.top_artist_counts.as_slice()
            ),
            (&[1, 2][..], &[2, 1][..])
        );
        assert_eq!(
            (
                rock.top_label_ids.as_slice(),
                rock.top_label_counts.as_slice()
            ),
            (&[10, 11][..], &[2, 1][..])
        );
        let pop = &aggregates.genres[1];
        assert_eq!(
            (pop.release_count, pop.trend_years.as_slice()),
            (2, &[1992][..]),
            "year 0 is no year"
        );
        let jazz = &aggregates.genres[0];
        assert_eq!(
            (jazz.release_count, jazz.first_year, jazz.related),
            (0, None, 1),
            "named by a master only"
        );

        let part_of: Vec<(&str, &str, Option<i64>)> = aggregates
            .part_of
            .iter()
            .map(|p| (p.style.as_str(), p.genre.as_str(), p.release_count))
            .collect();
        // Release 2 has two genres, so implies no PART_OF; it still counts in Punk–Rock's releases.
        assert_eq!(part_of, [("Bop", "Jazz", None), ("Punk", "Rock", Some(2))]);
        assert_eq!(rock.related, 1, "Rock's style_count");
        assert_eq!(aggregates.styles[2].related, 0, "Synth-pop's genre_count");
    }
}
