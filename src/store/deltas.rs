//! An update's aggregates and profiles, moved by what it changed instead of recounted from every
//! release. The records' transactions journal the facts each update takes away and puts in
//! (`facts_journal`, see `store::facts`); [`follow`] turns the journal into signed counts, adds
//! them to the pair counts, profiles and genre and style counts PostgreSQL keeps
//! (`store::profiles`), and empties the journal, all in one transaction, so an interruption
//! leaves either the old counts and the journal or the new counts and none. [`aggregates`] then
//! reads back what the graph gets: the counts of the artists and labels the update touched, and
//! every genre's and style's. Both cost what the change and the touched artists' and labels' own
//! rows hold, not what the catalogue does, and [`follow`] holds a few thousand artists' or
//! labels' rows at a time; the tests check that the result equals a recount.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hash;
use std::time::Instant;

use deadpool_postgres::Pool;
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::types::FromSql;
use tokio_postgres::{GenericClient, Transaction};

use super::graph::aggregates::{
    Aggregates, CountsById, GenreStyle, LabelCounts, PartOf, TOP_LIST_LENGTH, TagAggregates,
};
use super::graph::profiles::{ArtistCounts, ArtistProfile, Histogram, LabelProfile, profile_year};
use super::postgres::Result;
use super::profiles::{
    self, ARTIST_GENRES, ARTIST_LABELS, ARTIST_STYLES, COLLABORATIONS, Changes, LABEL_GENRES,
    LABEL_STYLES, PairTable, TagCounts,
};
use crate::record::graph::set;

/// Signed counts by key: what an update adds, or (negative) takes away.
type Counts<K> = HashMap<K, i64>;

fn bump<K: Hash + Eq>(counts: &mut Counts<K>, key: K, by: i64) {
    *counts.entry(key).or_default() += by;
}

/// Whether a moved count is kept: a count of 0 is no row. One below 0 means the kept counts
/// disagree with the facts (a table changed behind the ingest's back); it is dropped and said,
/// since only a recount mends it.
fn positive(releases: i64, table: &str) -> bool {
    if releases < 0 {
        tracing::warn!(
            table,
            releases,
            "a kept count went below zero; the counts disagree with the facts"
        );
    }
    releases > 0
}

/// Everything the journal moves, keyed as the tables are.
#[derive(Default)]
struct Delta {
    artist_releases: Counts<i64>,
    collaboration_releases: Counts<i64>,
    label_releases: Counts<i64>,
    artist_genres: Counts<(i64, String)>,
    artist_styles: Counts<(i64, String)>,
    artist_labels: Counts<(i64, i64)>,
    collaborations: Counts<(i64, i64)>,
    label_genres: Counts<(i64, String)>,
    label_styles: Counts<(i64, String)>,
    label_formats: Counts<(i64, String)>,
    label_years: Counts<(i64, i64)>,
    tag_years: Counts<(bool, String, i64)>,
    tag_records: Counts<(bool, String)>,
    shared_releases: Counts<(String, String)>,
    sole_records: Counts<(String, String)>,
    /// Shared releases per (artist, other main artist, year), for the years above 0 a release
    /// page keeps.
    collaboration_years: Counts<(i64, i64, i64)>,
}

/// One journaled version of a record; every list holds each value once.
struct Journaled {
    sign: i64,
    master: bool,
    year: Option<i64>,
    artists: Vec<i64>,
    labels: Vec<i64>,
    genres: Vec<String>,
    styles: Vec<String>,
    formats: Vec<String>,
}

impl Delta {
    /// Counts one journaled version in, as the aggregates' tally counts a record.
    fn add(&mut self, record: &Journaled) {
        let sign = record.sign;
        let tags = || {
            let genres = record.genres.iter().map(|tag| (false, tag));
            genres.chain(record.styles.iter().map(|tag| (true, tag)))
        };
        for (style, tag) in tags() {
            bump(&mut self.tag_records, (style, tag.clone()), sign);
        }
        if let [genre] = &record.genres[..] {
            for style in &record.styles {
                bump(&mut self.sole_records, (genre.clone(), style.clone()), sign);
            }
        }
        if record.master {
            return;
        }
        let year = record.year.filter(|&year| year > 0).unwrap_or(0);
        for (style, tag) in tags() {
            bump(&mut self.tag_years, (style, tag.clone(), year), sign);
        }
        for genre in &record.genres {
            for style in &record.styles {
                bump(
                    &mut self.shared_releases,
                    (genre.clone(), style.clone()),
                    sign,
                );
            }
        }
        let label_year = profile_year(record.year);
        for &label in &record.labels {
            bump(&mut self.label_releases, label, sign);
            for genre in &record.genres {
                bump(&mut self.label_genres, (label, genre.clone()), sign);
            }
            for style in &record.styles {
                bump(&mut self.label_styles, (label, style.clone()), sign);
            }
            for format in &record.formats {
                bump(&mut self.label_formats, (label, format.clone()), sign);
            }
            if let Some(year) = label_year {
                bump(&mut self.label_years, (label, i64::from(year)), sign);
            }
        }
        let collaboration = record.artists.len() > 1;
        let page_year = record
            .year
            .filter(|&year| year > 0 && i32::try_from(year).is_ok());
        for &artist in &record.artists {
            bump(&mut self.artist_releases, artist, sign);
            for genre in &record.genres {
                bump(&mut self.artist_genres, (artist, genre.clone()), sign);
            }
            for style in &record.styles {
                bump(&mut self.artist_styles, (artist, style.clone()), sign);
            }
            for &label in &record.labels {
                bump(&mut self.artist_labels, (artist, label), sign);
            }
            if collaboration {
                bump(&mut self.collaboration_releases, artist, sign);
                for &other in record.artists.iter().filter(|&&other| other != artist) {
                    bump(&mut self.collaborations, (artist, other), sign);
                    if let Some(year) = page_year {
                        bump(&mut self.collaboration_years, (artist, other, year), sign);
                    }
                }
            }
        }
    }

    /// Drops what cancelled out (a record changed in what the counts do not look at journals
    /// the same facts out and in); returns the artists and labels whose counts still move.
    fn settle(&mut self) -> (Vec<i64>, Vec<i64>) {
        let (mut artists, mut labels) = (HashSet::new(), HashSet::new());
        macro_rules! settle {
            ($($map:ident),*) => {$(self.$map.retain(|_, by| *by != 0);)*};
        }
        settle!(
            artist_releases,
            collaboration_releases,
            label_releases,
            artist_genres,
            artist_styles,
            artist_labels,
            collaborations,
            label_genres,
            label_styles,
            label_formats,
            label_years,
            tag_years,
            tag_records,
            shared_releases,
            sole_records,
            collaboration_years
        );
        artists.extend(self.artist_releases.keys());
        artists.extend(self.collaboration_releases.keys());
        artists.extend(self.artist_genres.keys().map(|(artist, _)| artist));
        artists.extend(self.artist_styles.keys().map(|(artist, _)| artist));
        artists.extend(self.collaborations.keys().map(|(artist, _)| artist));
        for &(artist, label) in self.artist_labels.keys() {
            artists.insert(artist);
            labels.insert(label);
        }
        labels.extend(self.label_releases.keys());
        labels.extend(self.label_genres.keys().map(|(label, _)| label));
        labels.extend(self.label_styles.keys().map(|(label, _)| label));
        labels.extend(self.label_formats.keys().map(|(label, _)| label));
        labels.extend(self.label_years.keys().map(|(label, _)| label));
        let sorted = |ids: HashSet<i64>| {
            let mut ids: Vec<i64> = ids.into_iter().collect();
            ids.sort_unstable();
            ids
        };
        (sorted(artists), sorted(labels))
    }
}

/// Empties the journal into a [`Delta`] (one statement, so that nothing journaled is taken out
/// uncounted); returns it and the number of versions read.
async fn read_journal(tx: &Transaction<'_>) -> Result<(Delta, u64)> {
    let rows = tx
        .query_raw(
            "DELETE FROM facts_journal
             RETURNING sign, master, year, artists, labels, genres, styles, formats",
            std::iter::empty::<i64>(),
        )
        .await?;
    pin_mut!(rows);
    let (mut delta, mut read) = (Delta::default(), 0);
    while let Some(row) = rows.try_next().await? {
        // Rows copied from facts backfilled from JSON may be unsorted or repeat themselves.
        delta.add(&Journaled {
            sign: i64::from(row.get::<_, i16>(0)),
            master: row.get(1),
            year: row.get(2),
            artists: set(row.get::<_, Vec<i64>>(3)),
            labels: set(row.get::<_, Vec<i64>>(4)),
            genres: set(row.get::<_, Vec<String>>(5)),
            styles: set(row.get::<_, Vec<String>>(6)),
            formats: set(row.get::<_, Vec<String>>(7)),
        });
        read += 1;
    }
    Ok((delta, read))
}

/// A pair count moved: its rows after, what to write, and which pairs appeared and which went.
struct Moved<K> {
    rows: HashMap<(i64, K), i64>,
    changes: Changes<K>,
    appeared: Vec<(i64, K)>,
    gone: Vec<(i64, K)>,
}

impl<K: Hash + Eq + Ord + Clone> Moved<K> {
    /// `stored` moved by `delta`: only the rows the delta names are compared, and `stored`
    /// becomes the rows after, so that a hub's thousands of rows are held once.
    fn new(
        stored: HashMap<(i64, K), i64>,
        delta: impl IntoIterator<Item = ((i64, K), i64)>,
        table: &str,
    ) -> Moved<K> {
        let mut rows = stored;
        let mut changes = Changes::default();
        let (mut appeared, mut gone) = (Vec::new(), Vec::new());
        for ((id, key), by) in delta {
            let old = rows.get(&(id, key.clone())).copied();
            let releases = old.unwrap_or(0) + by;
            if old == Some(releases) {
                continue;
            }
            if let Some(old) = old {
                changes.removed.push((id, key.clone(), old));
            }
            if positive(releases, table) {
                changes.added.push((id, key.clone(), releases));
                if old.is_none() {
                    appeared.push((id, key.clone()));
                }
                rows.insert((id, key), releases);
            } else if old.is_some() {
                rows.remove(&(id, key.clone()));
                gone.push((id, key));
            }
        }
        changes.sort();
        Moved {
            rows,
            changes,
            appeared,
            gone,
        }
    }

    /// Each owner's rows, as histograms.
    fn by_owner(&self) -> HashMap<i64, Histogram<&K>> {
        let mut owners: HashMap<i64, Histogram<&K>> = HashMap::new();
        for ((owner, key), &releases) in &self.rows {
            owners.entry(*owner).or_default().push((key, releases));
        }
        owners
    }

    /// Adds to `counts` how many pairs each key (the pair's second half) gained: appeared minus
    /// gone.
    fn count_transitions(&self, counts: &mut Counts<K>) {
        for (_, key) in &self.appeared {
            bump(counts, key.clone(), 1);
        }
        for (_, key) in &self.gone {
            bump(counts, key.clone(), -1);
        }
    }
}

/// Moves `table`'s rows of `owners` by `delta`, their entries.
async fn move_pairs<K>(
    tx: &Transaction<'_>,
    table: PairTable,
    owners: &[i64],
    delta: Vec<((i64, K), i64)>,
) -> Result<Moved<K>>
where
    K: Hash + Eq + Ord + Clone + for<'a> FromSql<'a>,
{
    let stored = table.stored(tx, owners).await?;
    Ok(Moved::new(stored, delta, table.table))
}

/// A histogram of names, borrowed.
fn names<'a>(histogram: Option<&Histogram<&'a String>>) -> Histogram<&'a str> {
    histogram.map_or_else(Vec::new, |entries| {
        entries
            .iter()
            .map(|&(name, releases)| (name.as_str(), releases))
            .collect()
    })
}

fn ids(histogram: Option<&Histogram<&i64>>) -> Histogram<i64> {
    histogram.map_or_else(Vec::new, |entries| {
        entries
            .iter()
            .map(|&(&id, releases)| (id, releases))
            .collect()
    })
}

/// What one update's journal moved.
#[derive(Debug, Default, Clone, Copy)]
pub struct Followed {
    /// Record versions journaled (old and new).
    pub versions: u64,
    pub artists: usize,
    pub labels: usize,
    pub seconds: f64,
}

/// Artists (or labels) whose stored rows are read, moved and written together. A step holds
/// their pair rows in memory, so the update's memory follows the step, not how many artists and
/// labels it touched (tens of thousands in a month of the full catalogue, with hubs among them).
const OWNERS_PER_STEP: usize = 2_048;

/// A pair table's delta in owner order, handed out one step's owners at a time.
struct ByOwner<K>(Vec<((i64, K), i64)>);

impl<K> ByOwner<K> {
    /// Kept in descending owner order, so that each step's entries split off the end.
    fn new(delta: Counts<(i64, K)>) -> ByOwner<K> {
        let mut entries: Vec<_> = delta.into_iter().collect();
        entries.sort_unstable_by_key(|((owner, _), _)| std::cmp::Reverse(*owner));
        ByOwner(entries)
    }

    /// The entries of the owners up to `last`; the steps go in ascending owner order.
    fn through(&mut self, last: i64) -> Vec<((i64, K), i64)> {
        let first_taken = self.0.partition_point(|((owner, _), _)| *owner > last);
        self.0.split_off(first_taken)
    }
}

/// The artists' pair deltas, taken from a [`Delta`].
struct ArtistPairs {
    genres: ByOwner<String>,
    styles: ByOwner<String>,
    labels: ByOwner<i64>,
    collaborations: ByOwner<i64>,
}

/// The labels' pair deltas (formats and years are arrays of their profile rows).
struct LabelPairs {
    genres: ByOwner<String>,
    styles: ByOwner<String>,
    formats: ByOwner<String>,
    years: ByOwner<i64>,
}

/// How many distinct artists and labels each genre, style and label gained over the steps: its
/// pairs that appeared minus those that went.
#[derive(Default)]
struct Transitions {
    genre_artists: Counts<String>,
    style_artists: Counts<String>,
    label_artists: Counts<i64>,
    genre_labels: Counts<String>,
    style_labels: Counts<String>,
}

/// Moves every kept count and the profiles of the artists and labels the journal names by what
/// it holds, and empties it, in one transaction.
///
/// # Errors
///
/// A statement failed; nothing was written.
pub async fn follow(pool: &Pool) -> Result<Followed> {
    let started = Instant::now();
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let (mut delta, versions) = read_journal(&tx).await?;
    if versions == 0 {
        return Ok(Followed::default());
    }
    let (artists, labels) = delta.settle();
    tracing::info!(
        versions,
        artists = artists.len(),
        labels = labels.len(),
        seconds = started.elapsed().as_secs_f64(),
        "update journal read; moving the journaled artists' and labels' counts"
    );

    let mut transitions = Transitions::default();
    // The artists first: a label's distinct artists move by the artists' (artist, label) pairs.
    let mut pairs = ArtistPairs {
        genres: ByOwner::new(std::mem::take(&mut delta.artist_genres)),
        styles: ByOwner::new(std::mem::take(&mut delta.artist_styles)),
        labels: ByOwner::new(std::mem::take(&mut delta.artist_labels)),
        collaborations: ByOwner::new(std::mem::take(&mut delta.collaborations)),
    };
    for step in artists.chunks(OWNERS_PER_STEP) {
        move_artists(&tx, step, &mut pairs, &delta, &mut transitions).await?;
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "their artists' pair counts and profiles moved"
    );
    let mut pairs = LabelPairs {
        genres: ByOwner::new(std::mem::take(&mut delta.label_genres)),
        styles: ByOwner::new(std::mem::take(&mut delta.label_styles)),
        formats: ByOwner::new(std::mem::take(&mut delta.label_formats)),
        years: ByOwner::new(std::mem::take(&mut delta.label_years)),
    };
    for step in labels.chunks(OWNERS_PER_STEP) {
        move_labels(&tx, step, &mut pairs, &delta, &mut transitions).await?;
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "their labels' pair counts and profiles moved"
    );
    move_tags(&tx, &mut delta, transitions).await?;

    move_collaboration_years(&tx, std::mem::take(&mut delta.collaboration_years)).await?;
    tx.commit().await?;
    let followed = Followed {
        versions,
        artists: artists.len(),
        labels: labels.len(),
        seconds: started.elapsed().as_secs_f64(),
    };
    tracing::info!(
        versions,
        artists = followed.artists,
        labels = followed.labels,
        seconds = followed.seconds,
        "profiles and pair counts moved by the update's journal"
    );
    Ok(followed)
}

/// Moves the pair counts and profiles of one step's artists, `owners` (ascending, after the
/// steps before).
async fn move_artists(
    tx: &Transaction<'_>,
    owners: &[i64],
    pairs: &mut ArtistPairs,
    delta: &Delta,
    transitions: &mut Transitions,
) -> Result<()> {
    let Some(&last) = owners.last() else {
        return Ok(());
    };
    let genres = move_pairs(tx, ARTIST_GENRES, owners, pairs.genres.through(last)).await?;
    let styles = move_pairs(tx, ARTIST_STYLES, owners, pairs.styles.through(last)).await?;
    let labels = move_pairs(tx, ARTIST_LABELS, owners, pairs.labels.through(last)).await?;
    let collaborations = move_pairs(
        tx,
        COLLABORATIONS,
        owners,
        pairs.collaborations.through(last),
    )
    .await?;
    let stored: HashMap<i64, (i64, i64)> = tx
        .query(
            "SELECT artist_id, release_count, collaboration_releases FROM artist_profiles
             WHERE artist_id = ANY($1)",
            &[&owners],
        )
        .await?
        .into_iter()
        .map(|row| (row.get(0), (row.get(1), row.get(2))))
        .collect();

    let (genre_rows, style_rows) = (genres.by_owner(), styles.by_owner());
    let (label_rows, collaborators) = (labels.by_owner(), collaborations.by_owner());
    let profiles: Vec<ArtistProfile<'_>> = owners
        .iter()
        .filter_map(|&id| {
            let (releases, collaboration_releases) = stored.get(&id).copied().unwrap_or_default();
            let releases = releases + delta.artist_releases.get(&id).copied().unwrap_or(0);
            let collaboration_releases = collaboration_releases
                + delta.collaboration_releases.get(&id).copied().unwrap_or(0);
            (releases > 0).then(|| {
                ArtistProfile::new(ArtistCounts {
                    id,
                    releases,
                    collaborators: collaborators
                        .get(&id)
                        .map_or(0, |rows| i64::try_from(rows.len()).unwrap_or(i64::MAX)),
                    collaboration_releases,
                    genres: names(genre_rows.get(&id)),
                    styles: names(style_rows.get(&id)),
                    labels: ids(label_rows.get(&id)),
                })
            })
        })
        .collect();
    tx.execute(
        "DELETE FROM artist_profiles WHERE artist_id = ANY($1)",
        &[&owners],
    )
    .await?;
    profiles::copy_artists(tx, profiles.into_iter()).await?;

    genres.count_transitions(&mut transitions.genre_artists);
    styles.count_transitions(&mut transitions.style_artists);
    labels.count_transitions(&mut transitions.label_artists);
    ARTIST_GENRES.apply(tx, genres.changes).await?;
    ARTIST_STYLES.apply(tx, styles.changes).await?;
    ARTIST_LABELS.apply(tx, labels.changes).await?;
    COLLABORATIONS.apply(tx, collaborations.changes).await
}

/// Moves the pair counts and profiles of one step's labels, `owners` (ascending, after the steps
/// before), once every artist step has counted the labels' artists.
async fn move_labels(
    tx: &Transaction<'_>,
    owners: &[i64],
    pairs: &mut LabelPairs,
    delta: &Delta,
    transitions: &mut Transitions,
) -> Result<()> {
    let Some(&last) = owners.last() else {
        return Ok(());
    };
    let genres = move_pairs(tx, LABEL_GENRES, owners, pairs.genres.through(last)).await?;
    let styles = move_pairs(tx, LABEL_STYLES, owners, pairs.styles.through(last)).await?;
    let mut stored: HashMap<i64, (i64, i64)> = HashMap::new();
    let (mut stored_formats, mut stored_years) = (HashMap::new(), HashMap::new());
    for row in tx
        .query(
            "SELECT label_id, release_count, artist_count, formats, format_counts, years,
                    year_counts
             FROM label_profiles WHERE label_id = ANY($1)",
            &[&owners],
        )
        .await?
    {
        let id: i64 = row.get(0);
        stored.insert(id, (row.get(1), row.get(2)));
        let (formats, format_counts): (Vec<String>, Vec<i64>) = (row.get(3), row.get(4));
        stored_formats.extend(formats.into_iter().map(|f| (id, f)).zip(format_counts));
        let (years, year_counts): (Vec<i64>, Vec<i64>) = (row.get(5), row.get(6));
        stored_years.extend(years.into_iter().map(|y| (id, y)).zip(year_counts));
    }
    let formats = Moved::new(
        stored_formats,
        pairs.formats.through(last),
        "label_profiles",
    );
    let years = Moved::new(stored_years, pairs.years.through(last), "label_profiles");

    let (genre_rows, style_rows) = (genres.by_owner(), styles.by_owner());
    let (format_rows, year_rows) = (formats.by_owner(), years.by_owner());
    let profiles: Vec<LabelProfile<'_>> = owners
        .iter()
        .filter_map(|&id| {
            let (releases, artists) = stored.get(&id).copied().unwrap_or_default();
            let releases = releases + delta.label_releases.get(&id).copied().unwrap_or(0);
            let artists = artists + transitions.label_artists.get(&id).copied().unwrap_or(0);
            (releases > 0).then(|| {
                LabelProfile::new(
                    (id, releases, artists),
                    names(genre_rows.get(&id)),
                    names(style_rows.get(&id)),
                    names(format_rows.get(&id)),
                    ids(year_rows.get(&id)),
                )
            })
        })
        .collect();
    tx.execute(
        "DELETE FROM label_profiles WHERE label_id = ANY($1)",
        &[&owners],
    )
    .await?;
    profiles::copy_labels(tx, profiles.into_iter()).await?;

    genres.count_transitions(&mut transitions.genre_labels);
    styles.count_transitions(&mut transitions.style_labels);
    LABEL_GENRES.apply(tx, genres.changes).await?;
    LABEL_STYLES.apply(tx, styles.changes).await
}

/// Moves the shared releases per year of the (artist, other) pairs in `delta`: their rows are
/// read (those of the pairs' artists), moved, and the ones that changed replaced.
async fn move_collaboration_years(
    tx: &Transaction<'_>,
    delta: Counts<(i64, i64, i64)>,
) -> Result<()> {
    // The rows are copied back in key order, as the pair tables' are (`Changes::sort`).
    let mut moved: BTreeMap<(i64, i64), BTreeMap<i64, i64>> = BTreeMap::new();
    for (&(artist, other, year), &by) in &delta {
        *moved
            .entry((artist, other))
            .or_default()
            .entry(year)
            .or_default() += by;
    }
    let mut artists: Vec<i64> = moved.keys().map(|&(artist, _)| artist).collect();
    artists.dedup();
    // Streamed: a hub's collaborators are many, and only the moved pairs' rows are kept.
    let rows = tx
        .query_raw(
            "SELECT artist_id, other_id, releases, years, counts FROM collaboration_years
             WHERE artist_id = ANY($1)",
            [&artists],
        )
        .await?;
    pin_mut!(rows);
    let mut stale = (Vec::new(), Vec::new(), Vec::new());
    while let Some(row) = rows.try_next().await? {
        let pair: (i64, i64) = (row.get(0), row.get(1));
        let Some(years) = moved.get_mut(&pair) else {
            continue;
        };
        stale.0.push(pair.0);
        stale.1.push(pair.1);
        stale.2.push(row.get::<_, i64>(2));
        let (stored_years, counts): (Vec<i32>, Vec<i64>) = (row.get(3), row.get(4));
        for (year, releases) in stored_years.into_iter().zip(counts) {
            *years.entry(i64::from(year)).or_default() += releases;
        }
    }
    tx.execute(
        "DELETE FROM collaboration_years c
         USING unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS g(artist_id, other_id, releases)
         WHERE c.artist_id = g.artist_id AND c.releases = g.releases AND c.other_id = g.other_id",
        &[&stale.0, &stale.1, &stale.2],
    )
    .await?;
    let rows = moved
        .into_iter()
        .filter_map(|((artist, other), mut years)| {
            years.retain(|_, &mut releases| positive(releases, "collaboration_years"));
            let years: Vec<(i32, i64)> = years
                .into_iter()
                .filter_map(|(year, releases)| Some((i32::try_from(year).ok()?, releases)))
                .collect();
            (!years.is_empty()).then_some((artist, other, years))
        });
    profiles::copy_collaboration_years(tx, rows).await
}

/// Moves the genre and style counts (a few rows per genre or style, read and written whole) by
/// `delta`, and each genre's and style's distinct artists and labels by how many of their pairs
/// appeared or went.
async fn move_tags(
    tx: &Transaction<'_>,
    delta: &mut Delta,
    transitions: Transitions,
) -> Result<()> {
    let mut records: BTreeMap<(bool, String), (i64, i64, i64)> = tx
        .query(
            "SELECT style, tag, records, artists, labels FROM tag_records",
            &[],
        )
        .await?
        .into_iter()
        .map(|row| {
            (
                (row.get(0), row.get(1)),
                (row.get(2), row.get(3), row.get(4)),
            )
        })
        .collect();
    for (key, by) in std::mem::take(&mut delta.tag_records) {
        records.entry(key).or_default().0 += by;
    }
    for (style, artists, labels) in [
        (false, transitions.genre_artists, transitions.genre_labels),
        (true, transitions.style_artists, transitions.style_labels),
    ] {
        for (tag, by) in artists {
            records.entry((style, tag)).or_default().1 += by;
        }
        for (tag, by) in labels {
            records.entry((style, tag)).or_default().2 += by;
        }
    }
    records.retain(|_, &mut (records, ..)| positive(records, "tag_records"));

    let mut years: BTreeMap<(bool, String, i64), i64> = tx
        .query("SELECT style, tag, year, releases FROM tag_years", &[])
        .await?
        .into_iter()
        .map(|row| ((row.get(0), row.get(1), row.get(2)), row.get(3)))
        .collect();
    for (key, by) in std::mem::take(&mut delta.tag_years) {
        *years.entry(key).or_default() += by;
    }
    years.retain(|_, &mut releases| positive(releases, "tag_years"));
    let mut tag_years: HashMap<(bool, &str), Histogram<i64>> = HashMap::new();
    for ((style, tag, year), &releases) in &years {
        tag_years
            .entry((*style, tag.as_str()))
            .or_default()
            .push((*year, releases));
    }
    let tags = records
        .iter()
        .map(|((style, tag), &(records, artists, labels))| TagCounts {
            style: *style,
            name: tag,
            records,
            artists,
            labels,
            years: tag_years
                .get(&(*style, tag.as_str()))
                .cloned()
                .unwrap_or_default(),
        });

    let mut pairs: BTreeMap<(String, String), (i64, i64)> = tx
        .query(
            "SELECT genre, style, releases, sole_records FROM genre_styles",
            &[],
        )
        .await?
        .into_iter()
        .map(|row| ((row.get(0), row.get(1)), (row.get(2), row.get(3))))
        .collect();
    for (key, by) in std::mem::take(&mut delta.shared_releases) {
        pairs.entry(key).or_default().0 += by;
    }
    for (key, by) in std::mem::take(&mut delta.sole_records) {
        pairs.entry(key).or_default().1 += by;
    }
    pairs.retain(|_, &mut (releases, sole)| {
        positive(releases, "genre_styles") | positive(sole, "genre_styles")
    });

    tx.batch_execute("DELETE FROM tag_records; DELETE FROM tag_years; DELETE FROM genre_styles")
        .await?;
    profiles::copy_tag_counts(tx, tags).await?;
    let pairs = pairs.iter().map(|((genre, style), &(releases, sole))| {
        (genre.as_str(), style.as_str(), releases, sole)
    });
    profiles::copy_genre_styles(tx, pairs).await
}

/// The aggregates the graph gets after an update: the counts of `artists` and `labels` (the
/// others' are as they were), and every genre's and style's, with `PART_OF`. Their profiles are
/// not read (`profiles` is empty): [`follow`] wrote them.
///
/// # Errors
///
/// A query failed.
pub async fn aggregates(
    client: &impl GenericClient,
    artists: &[i64],
    labels: &[i64],
) -> Result<Aggregates> {
    let mut aggregates = Aggregates::default();
    let rows = client
        .query(
            "SELECT artist_id, release_count FROM artist_profiles WHERE artist_id = ANY($1)",
            &[&artists],
        )
        .await?;
    let mut counts = CountsById::default();
    for row in rows {
        counts.insert(row.get(0), row.get(1));
    }
    aggregates.artists = counts;
    let rows = client
        .query(
            "SELECT label_id, release_count, artist_count, cardinality(genres)::bigint
             FROM label_profiles WHERE label_id = ANY($1)",
            &[&labels],
        )
        .await?;
    aggregates.labels = rows
        .into_iter()
        .map(|row| {
            let counts = LabelCounts {
                releases: row.get(1),
                artists: row.get(2),
                genres: row.get(3),
            };
            (row.get(0), counts)
        })
        .collect();

    aggregates.genre_styles = client
        .query(
            "SELECT genre, style, releases, sole_records FROM genre_styles ORDER BY genre, style",
            &[],
        )
        .await?
        .into_iter()
        .map(|row| GenreStyle {
            genre: row.get(0),
            style: row.get(1),
            releases: row.get(2),
            sole_records: row.get(3),
        })
        .collect();
    let mut related: HashMap<(bool, &str), i64> = HashMap::new();
    for pair in aggregates
        .genre_styles
        .iter()
        .filter(|p| p.sole_records > 0)
    {
        bump(&mut related, (false, pair.genre.as_str()), 1);
        bump(&mut related, (true, pair.style.as_str()), 1);
        aggregates.part_of.push(PartOf {
            style: pair.style.clone(),
            genre: pair.genre.clone(),
            release_count: (pair.releases > 0).then_some(pair.releases),
        });
    }
    aggregates
        .part_of
        .sort_by(|a, b| (&a.style, &a.genre).cmp(&(&b.style, &b.genre)));

    let mut tags: BTreeMap<(bool, String), TagAggregates> = BTreeMap::new();
    for row in client
        .query(
            "SELECT style, tag, records, artists, labels FROM tag_records",
            &[],
        )
        .await?
    {
        let (style, name): (bool, String) = (row.get(0), row.get(1));
        let tag = TagAggregates {
            name: name.clone(),
            records: row.get(2),
            artist_count: row.get(3),
            label_count: row.get(4),
            related: related.get(&(style, name.as_str())).copied().unwrap_or(0),
            ..TagAggregates::default()
        };
        tags.insert((style, name), tag);
    }
    for row in client
        .query(
            "SELECT style, tag, year, releases FROM tag_years ORDER BY style, tag, year",
            &[],
        )
        .await?
    {
        let (style, name, year, releases): (bool, String, i64, i64) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        if let Some(tag) = tags.get_mut(&(style, name)) {
            tag.release_count += releases;
            if year > 0 {
                tag.first_year.get_or_insert(year);
                tag.trend_years.push(year);
                tag.trend_counts.push(releases);
            }
        }
    }
    // (pair table, of styles, ranks artists rather than labels)
    for (table, style, artists) in [
        (ARTIST_GENRES, false, true),
        (ARTIST_STYLES, true, true),
        (LABEL_GENRES, false, false),
        (LABEL_STYLES, true, false),
    ] {
        let (owner, key, table_name) = (table.owner, table.key, table.table);
        let statement = format!(
            "SELECT t.tag, p.{owner}, p.releases FROM tag_records t
             CROSS JOIN LATERAL (SELECT {owner}, releases FROM {table_name}
                                 WHERE {key} = t.tag
                                 ORDER BY releases DESC, {owner} LIMIT $2) p
             WHERE t.style = $1
             ORDER BY t.tag, p.releases DESC, p.{owner}"
        );
        for row in client
            .query(&statement, &[&style, &TOP_LIST_LENGTH])
            .await?
        {
            let name: String = row.get(0);
            if let Some(tag) = tags.get_mut(&(style, name)) {
                let (ids, counts) = if artists {
                    (&mut tag.top_artist_ids, &mut tag.top_artist_counts)
                } else {
                    (&mut tag.top_label_ids, &mut tag.top_label_counts)
                };
                ids.push(row.get(1));
                counts.push(row.get(2));
            }
        }
    }
    for ((style, _), tag) in tags {
        if style {
            aggregates.styles.push(tag);
        } else {
            aggregates.genres.push(tag);
        }
    }
    Ok(aggregates)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(sign: i64, year: i64, artists: &[i64], genres: &[&str]) -> Journaled {
        Journaled {
            sign,
            master: false,
            year: Some(year),
            artists: artists.to_vec(),
            labels: vec![10],
            genres: genres.iter().map(|&g| g.to_owned()).collect(),
            styles: vec!["Dub".to_owned()],
            formats: vec!["Vinyl".to_owned()],
        }
    }

    #[test]
    fn a_version_journaled_out_and_in_unchanged_moves_nothing() {
        let mut delta = Delta::default();
        delta.add(&release(-1, 1990, &[1, 2], &["Reggae"]));
        delta.add(&release(1, 1990, &[1, 2], &["Reggae"]));
        assert_eq!(delta.settle(), (vec![], vec![]));
        assert!(delta.tag_records.is_empty() && delta.shared_releases.is_empty());
        assert!(delta.collaboration_years.is_empty());
    }

    #[test]
    fn a_moved_year_moves_the_years_and_the_label_only() {
        let mut delta = Delta::default();
        delta.add(&release(-1, 1990, &[1], &["Reggae"]));
        delta.add(&release(1, 1991, &[1], &["Reggae"]));
        assert_eq!(delta.settle(), (vec![], vec![10]));
        let reggae = |year| {
            delta
                .tag_years
                .get(&(false, "Reggae".to_owned(), year))
                .copied()
        };
        assert_eq!((reggae(1990), reggae(1991)), (Some(-1), Some(1)));
        assert_eq!(delta.label_years.get(&(10, 1991)), Some(&1));
        assert!(delta.collaboration_years.is_empty(), "one main artist");
    }

    #[test]
    fn a_new_genre_moves_its_pairs_and_drops_the_sole_genre_part_of() {
        let mut delta = Delta::default();
        delta.add(&release(-1, 1990, &[1], &["Reggae"]));
        delta.add(&release(1, 1990, &[1], &["Reggae", "Pop"]));
        assert_eq!(delta.settle(), (vec![1], vec![10]));
        assert_eq!(
            delta.artist_genres,
            Counts::from([((1, "Pop".to_owned()), 1)])
        );
        assert_eq!(
            delta.label_genres,
            Counts::from([((10, "Pop".to_owned()), 1)])
        );
        let pair = |genre: &str| (genre.to_owned(), "Dub".to_owned());
        assert_eq!(delta.shared_releases, Counts::from([(pair("Pop"), 1)]));
        assert_eq!(
            delta.sole_records,
            Counts::from([(pair("Reggae"), -1)]),
            "Reggae is no longer the release's only genre"
        );
        assert_eq!(
            delta.tag_records,
            Counts::from([((false, "Pop".to_owned()), 1)])
        );
    }

    #[test]
    fn a_collaboration_moved_to_another_year_moves_its_years_both_ways() {
        let mut delta = Delta::default();
        delta.add(&release(-1, 1990, &[1, 2], &["Reggae"]));
        delta.add(&release(1, 1991, &[1, 2], &["Reggae"]));
        assert_eq!(delta.settle(), (vec![], vec![10]));
        assert_eq!(
            delta.collaboration_years,
            Counts::from([
                ((1, 2, 1990), -1),
                ((1, 2, 1991), 1),
                ((2, 1, 1990), -1),
                ((2, 1, 1991), 1),
            ])
        );
    }

    #[test]
    fn only_the_rows_a_delta_moves_are_taken_away_and_added() {
        let stored: HashMap<(i64, &str), i64> = HashMap::from([
            ((1, "House"), 4),
            ((1, "Techno"), 2),
            ((1, "Dub"), 1),
            ((2, "House"), 7),
        ]);
        let delta = Counts::from([
            ((1, "Techno"), 1),
            ((1, "Ambient"), 1),
            ((1, "Dub"), -1),
            ((2, "House"), 0),
        ]);
        let moved = Moved::new(stored, delta, "artist_styles");
        assert_eq!(moved.changes.removed, [(1, "Dub", 1), (1, "Techno", 2)]);
        assert_eq!(moved.changes.added, [(1, "Ambient", 1), (1, "Techno", 3)]);
        assert_eq!(
            moved.rows,
            HashMap::from([
                ((1, "House"), 4),
                ((1, "Techno"), 3),
                ((1, "Ambient"), 1),
                ((2, "House"), 7)
            ])
        );
        assert_eq!(
            (moved.appeared, moved.gone),
            (vec![(1, "Ambient")], vec![(1, "Dub")])
        );
    }

    #[test]
    fn a_step_takes_the_deltas_of_its_owners_and_no_others() {
        let mut pairs = ByOwner::new(Counts::from([
            ((9, 7), 2),
            ((3, 7), -1),
            ((1, 7), 1),
            ((3, 8), 1),
        ]));
        let mut step = pairs.through(3);
        step.sort_unstable();
        assert_eq!(step, [((1, 7), 1), ((3, 7), -1), ((3, 8), 1)]);
        assert_eq!(pairs.through(5), [], "no entries of owners 4 and 5");
        assert_eq!(pairs.through(9), [((9, 7), 2)]);
        assert!(pairs.0.is_empty());
    }

    #[test]
    fn a_count_below_zero_is_dropped() {
        let stored = HashMap::from([((1, 7), 2), ((1, 8), 1)]);
        let delta = Counts::from([((1, 7), -1), ((1, 8), -2), ((1, 9), 1)]);
        let moved = Moved::new(stored, delta, "artist_labels");
        assert_eq!(moved.rows, HashMap::from([((1, 7), 1), ((1, 9), 1)]));
        assert_eq!((moved.appeared, moved.gone), (vec![(1, 9)], vec![(1, 8)]));
        assert_eq!(moved.changes.added, [(1, 7, 1), (1, 9, 1)], "in key order");
    }
}
