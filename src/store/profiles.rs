//! The label and artist profiles in PostgreSQL (migrations 0011, 0016, 0018 and 0019):
//! `label_profiles`, `artist_profiles`, the pair counts `label_genres`, `label_styles`,
//! `artist_genres`, `artist_styles`, `artist_labels` and `artist_collaborations`, and
//! `collaboration_years`: what label DNA, similarity, the collaboration network, an artist's
//! labels or a label's artists and an artist's collaborators read; and per genre and style its
//! releases by year and distinct records, artists and labels (`tag_years`, `tag_records`), and
//! per genre and style pair what they share (`genre_styles`), which an update moves the graph's
//! aggregates by. All but `collaboration_years`, which PostgreSQL counts from the release pages,
//! are counted with the graph aggregates ([`Aggregates`]); all are written whole here after a
//! graph is built or recounted, and an update moves every one of them by what it changed
//! (`store::deltas`).

use std::collections::HashMap;
use std::hash::Hash;
use std::pin::Pin;
use std::time::Instant;

use deadpool_postgres::Pool;
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{FromSql, ToSql, Type};

use super::graph::aggregates::{Aggregates, TagAggregates};
use super::graph::profiles::{ArtistProfile, Histogram, LabelProfile};
use super::postgres::Result;

/// The secondary indexes, dropped while the tables are filled whole and built after.
const INDEXES: &str =
    "CREATE INDEX label_styles_top ON label_styles (style, releases DESC, label_id);
     CREATE INDEX label_genres_top ON label_genres (genre, releases DESC, label_id);
     CREATE INDEX artist_genres_top ON artist_genres (genre, releases DESC, artist_id);
     CREATE INDEX artist_styles_top ON artist_styles (style, releases DESC, artist_id);
     CREATE INDEX artist_collaborations_top
         ON artist_collaborations (artist_id, releases DESC, other_id);
     CREATE INDEX artist_labels_by_artist ON artist_labels (artist_id, releases DESC, label_id);
     CREATE INDEX artist_labels_by_label ON artist_labels (label_id, releases DESC, artist_id);
     CREATE INDEX collaboration_years_top
         ON collaboration_years (artist_id, releases DESC, other_id)";

/// Every table [`write`] fills whole.
const TABLES: &str = "label_profiles, label_styles, label_genres, artist_profiles, artist_genres,
     artist_styles, artist_collaborations, artist_labels, collaboration_years, tag_years,
     tag_records, genre_styles";

/// Fills `collaboration_years` with what migration 0018 counts from the release pages: each
/// ordered pair of main artists of a dated release, per year. Read from the releases with more
/// than one main artist alone, not from every artist's page joined to its release (4.75M
/// releases, 6.3M rows: 26.5 s against 33.5 s, the same rows).
const COLLABORATION_YEARS: &str = "INSERT INTO collaboration_years
         (artist_id, other_id, releases, first_year, last_year, years, counts)
     SELECT artist_id, other_id, sum(releases)::bigint, min(year), max(year),
            array_agg(year ORDER BY year), array_agg(releases ORDER BY year)
     FROM (SELECT artist AS artist_id, other AS other_id, f.year::integer AS year,
                  count(*) AS releases
           FROM release_facts f,
                LATERAL (SELECT DISTINCT unnest(f.artists)) AS a(artist),
                LATERAL (SELECT DISTINCT unnest(f.artists)) AS o(other)
           WHERE cardinality(f.artists) > 1 AND f.year BETWEEN 1 AND 2147483647
             AND other <> artist
           GROUP BY 1, 2, 3) shared
     GROUP BY 1, 2";

/// A table of (owner, key, releases) rows, one per pair: an artist's or label's releases per
/// genre or style, an artist's per label, or its releases shared with another artist.
#[derive(Clone, Copy)]
pub(super) struct PairTable {
    pub table: &'static str,
    pub owner: &'static str,
    pub key: &'static str,
    /// The key's PostgreSQL type, as `bigint` or `text`.
    key_type: &'static str,
}

impl PairTable {
    const fn ids(table: &'static str, owner: &'static str, key: &'static str) -> PairTable {
        PairTable {
            table,
            owner,
            key,
            key_type: "bigint",
        }
    }

    const fn names(table: &'static str, owner: &'static str, key: &'static str) -> PairTable {
        PairTable {
            table,
            owner,
            key,
            key_type: "text",
        }
    }
}

pub(super) const COLLABORATIONS: PairTable =
    PairTable::ids("artist_collaborations", "artist_id", "other_id");
pub(super) const ARTIST_LABELS: PairTable =
    PairTable::ids("artist_labels", "artist_id", "label_id");
pub(super) const ARTIST_GENRES: PairTable = PairTable::names("artist_genres", "artist_id", "genre");
pub(super) const ARTIST_STYLES: PairTable = PairTable::names("artist_styles", "artist_id", "style");
pub(super) const LABEL_GENRES: PairTable = PairTable::names("label_genres", "label_id", "genre");
pub(super) const LABEL_STYLES: PairTable = PairTable::names("label_styles", "label_id", "style");

/// Writes every profile and pair count of `aggregates` in one transaction, replacing the
/// tables' contents (and the journal of deltas, which they already count).
///
/// # Errors
///
/// A statement failed; nothing was written.
pub async fn write(pool: &Pool, aggregates: &Aggregates) -> Result<()> {
    let started = Instant::now();
    let profiles = &aggregates.profiles;
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.batch_execute(&format!(
        "TRUNCATE {TABLES}, facts_journal;
         DROP INDEX label_styles_top, label_genres_top, artist_genres_top, artist_styles_top,
             artist_collaborations_top, artist_labels_by_artist, artist_labels_by_label,
             collaboration_years_top"
    ))
    .await?;
    tx.execute(COLLABORATION_YEARS, &[]).await?;
    copy_labels(&tx, profiles.labels()).await?;
    copy_artists(&tx, profiles.artists()).await?;
    for (table, style) in [(LABEL_GENRES, false), (LABEL_STYLES, true)] {
        table.copy_tags(&tx, profiles.label_tags(), style).await?;
    }
    for (table, style) in [(ARTIST_GENRES, false), (ARTIST_STYLES, true)] {
        table.copy_tags(&tx, profiles.artist_tags(), style).await?;
    }
    COLLABORATIONS.copy(&tx, profiles.collaborations()).await?;
    ARTIST_LABELS.copy(&tx, profiles.artist_labels()).await?;
    let tags = aggregates
        .genres
        .iter()
        .map(|tag| (false, tag))
        .chain(aggregates.styles.iter().map(|tag| (true, tag)));
    copy_tag_counts(&tx, tags.clone().map(tag_counts)).await?;
    let pairs = aggregates.genre_styles.iter().map(|pair| {
        (
            pair.genre.as_str(),
            pair.style.as_str(),
            pair.releases,
            pair.sole_records,
        )
    });
    copy_genre_styles(&tx, pairs).await?;
    tx.batch_execute(INDEXES).await?;
    tx.commit().await?;
    // Vacuumed, not only analyzed: the new rows marked visible to all let the routes count a
    // hub's rows from the index alone (a label's 110,000 artists at 4.75M releases: 12 ms
    // against 112 ms through the heap); the tables take ~5 s there.
    client
        .batch_execute(&format!("VACUUM (ANALYZE) {TABLES}"))
        .await?;
    let (artists, labels) = profiles.sizes();
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        artists,
        labels,
        "label and artist profiles written"
    );
    Ok(())
}

/// What `tag_years` and `tag_records` keep of one genre or style.
pub(super) struct TagCounts<'a> {
    pub style: bool,
    pub name: &'a str,
    pub records: i64,
    pub artists: i64,
    pub labels: i64,
    /// Releases per year, 0 for those with none.
    pub years: Histogram<i64>,
}

fn tag_counts((style, tag): (bool, &TagAggregates)) -> TagCounts<'_> {
    let mut years: Histogram<i64> = tag
        .trend_years
        .iter()
        .copied()
        .zip(tag.trend_counts.iter().copied())
        .collect();
    let undated = tag.release_count - tag.trend_counts.iter().sum::<i64>();
    if undated > 0 {
        years.push((0, undated));
    }
    TagCounts {
        style,
        name: &tag.name,
        records: tag.records,
        artists: tag.artist_count,
        labels: tag.label_count,
        years,
    }
}

/// Rows of `tag_records` and `tag_years`.
pub(super) async fn copy_tag_counts<'a>(
    tx: &Transaction<'_>,
    tags: impl Iterator<Item = TagCounts<'a>> + Clone,
) -> Result<()> {
    let records = copy_in(
        tx,
        "COPY tag_records (style, tag, records, artists, labels) FROM STDIN BINARY",
        &[Type::BOOL, Type::TEXT, Type::INT8, Type::INT8, Type::INT8],
    )
    .await?;
    pin_mut!(records);
    for tag in tags.clone() {
        write_row(
            records.as_mut(),
            &[
                &tag.style,
                &tag.name,
                &tag.records,
                &tag.artists,
                &tag.labels,
            ],
        )
        .await?;
    }
    records.finish().await?;
    let years = copy_in(
        tx,
        "COPY tag_years (style, tag, year, releases) FROM STDIN BINARY",
        &[Type::BOOL, Type::TEXT, Type::INT8, Type::INT8],
    )
    .await?;
    pin_mut!(years);
    for tag in tags {
        for (year, releases) in &tag.years {
            write_row(years.as_mut(), &[&tag.style, &tag.name, year, releases]).await?;
        }
    }
    years.finish().await?;
    Ok(())
}

/// Rows of `collaboration_years`, as (artist, other, shared releases per year by year).
pub(super) async fn copy_collaboration_years(
    tx: &Transaction<'_>,
    rows: impl Iterator<Item = (i64, i64, Vec<(i32, i64)>)>,
) -> Result<()> {
    let writer = copy_in(
        tx,
        "COPY collaboration_years
             (artist_id, other_id, releases, first_year, last_year, years, counts)
         FROM STDIN BINARY",
        &[
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT4,
            Type::INT4,
            Type::INT4_ARRAY,
            Type::INT8_ARRAY,
        ],
    )
    .await?;
    pin_mut!(writer);
    for (artist, other, years) in rows {
        let (Some(&(first, _)), Some(&(last, _))) = (years.first(), years.last()) else {
            continue;
        };
        let (years, counts): (Vec<i32>, Vec<i64>) = years.into_iter().unzip();
        let releases: i64 = counts.iter().sum();
        write_row(
            writer.as_mut(),
            &[&artist, &other, &releases, &first, &last, &years, &counts],
        )
        .await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Rows of `genre_styles`, as (genre, style, releases, sole-genre records).
pub(super) async fn copy_genre_styles<'a>(
    tx: &Transaction<'_>,
    pairs: impl Iterator<Item = (&'a str, &'a str, i64, i64)>,
) -> Result<()> {
    let writer = copy_in(
        tx,
        "COPY genre_styles (genre, style, releases, sole_records) FROM STDIN BINARY",
        &[Type::TEXT, Type::TEXT, Type::INT8, Type::INT8],
    )
    .await?;
    pin_mut!(writer);
    for (genre, style, releases, sole) in pairs {
        write_row(writer.as_mut(), &[&genre, &style, &releases, &sole]).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// The rows a table holds for some ids, as (id, key, releases), keyed by (id, key).
async fn stored_rows<K>(
    tx: &Transaction<'_>,
    statement: &str,
    ids: &[i64],
) -> Result<HashMap<(i64, K), i64>>
where
    K: Hash + Eq + for<'a> FromSql<'a>,
{
    let rows = tx.query_raw(statement, [&ids]).await?;
    pin_mut!(rows);
    let mut stored = HashMap::new();
    while let Some(row) = rows.try_next().await? {
        stored.insert((row.get(0), row.get(1)), row.get(2));
    }
    Ok(stored)
}

/// What turns the stored (id, key, releases) rows of some ids into the wanted ones: rows to take
/// away (gone, or with another count) and rows to add (new, or with another count).
pub(super) struct Changes<K> {
    pub removed: Vec<(i64, K, i64)>,
    pub added: Vec<(i64, K, i64)>,
}

impl<K> Default for Changes<K> {
    fn default() -> Changes<K> {
        Changes {
            removed: Vec::new(),
            added: Vec::new(),
        }
    }
}

impl<K: Hash + Eq + Ord + Clone> Changes<K> {
    /// Puts the rows to take away and add each in (owner, key) order: a table's primary key and
    /// its pages are then visited in order, which on a cold table of millions of rows costs about
    /// 0.7 of the same writes in hash order.
    pub fn sort(&mut self) {
        self.removed.sort_unstable();
        self.added.sort_unstable();
    }

    /// The removed rows as three columns.
    fn removed_columns(&self) -> (Vec<i64>, Vec<K>, Vec<i64>) {
        let mut columns = (Vec::new(), Vec::new(), Vec::new());
        for (id, key, releases) in &self.removed {
            columns.0.push(*id);
            columns.1.push(key.clone());
            columns.2.push(*releases);
        }
        columns
    }
}

async fn copy_in(
    tx: &Transaction<'_>,
    statement: &str,
    types: &[Type],
) -> Result<BinaryCopyInWriter> {
    let sink = tx.copy_in(statement).await?;
    Ok(BinaryCopyInWriter::new(sink, types))
}

async fn write_row(
    writer: Pin<&mut BinaryCopyInWriter>,
    row: &[&(dyn ToSql + Sync)],
) -> Result<()> {
    writer.write(row).await?;
    Ok(())
}

/// A histogram as the two parallel arrays the tables keep.
fn columns<T: Copy>(histogram: &Histogram<T>) -> (Vec<T>, Vec<i64>) {
    histogram.iter().copied().unzip()
}

/// Writes the labels' profile rows (their genre and style rows are the pair tables').
pub(super) async fn copy_labels<'a>(
    tx: &Transaction<'_>,
    labels: impl Iterator<Item = LabelProfile<'a>>,
) -> Result<()> {
    let profiles = copy_in(
        tx,
        "COPY label_profiles (label_id, release_count, artist_count, genres, genre_counts,
             styles, style_counts, formats, format_counts, years, year_counts) FROM STDIN BINARY",
        &[
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::TEXT_ARRAY,
            Type::INT8_ARRAY,
            Type::TEXT_ARRAY,
            Type::INT8_ARRAY,
            Type::TEXT_ARRAY,
            Type::INT8_ARRAY,
            Type::INT8_ARRAY,
            Type::INT8_ARRAY,
        ],
    )
    .await?;
    pin_mut!(profiles);
    for label in labels {
        let (genres, genre_counts) = columns(&label.genres);
        let (style_names, style_counts) = columns(&label.styles);
        let (formats, format_counts) = columns(&label.formats);
        let (years, year_counts) = columns(&label.years);
        write_row(
            profiles.as_mut(),
            &[
                &label.id,
                &label.releases,
                &label.artists,
                &genres,
                &genre_counts,
                &style_names,
                &style_counts,
                &formats,
                &format_counts,
                &years,
                &year_counts,
            ],
        )
        .await?;
    }
    profiles.finish().await?;
    Ok(())
}

pub(super) async fn copy_artists<'a>(
    tx: &Transaction<'_>,
    artists: impl Iterator<Item = ArtistProfile<'a>>,
) -> Result<()> {
    let writer = copy_in(
        tx,
        "COPY artist_profiles (artist_id, release_count, collaborator_count,
             collaboration_releases, primary_genre, genres, genre_counts, styles, style_counts,
             labels, label_counts) FROM STDIN BINARY",
        &[
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::INT8,
            Type::TEXT,
            Type::TEXT_ARRAY,
            Type::INT8_ARRAY,
            Type::TEXT_ARRAY,
            Type::INT8_ARRAY,
            Type::INT8_ARRAY,
            Type::INT8_ARRAY,
        ],
    )
    .await?;
    pin_mut!(writer);
    for artist in artists {
        let lists = artist.lists.as_ref();
        let (genres, genre_counts) = lists.map(|lists| columns(&lists.genres)).unzip();
        let (styles, style_counts) = lists.map(|lists| columns(&lists.styles)).unzip();
        let (labels, label_counts) = lists.map(|lists| columns(&lists.labels)).unzip();
        write_row(
            writer.as_mut(),
            &[
                &artist.id,
                &artist.releases,
                &artist.collaborators,
                &artist.collaboration_releases,
                &artist.primary_genre,
                &genres,
                &genre_counts,
                &styles,
                &style_counts,
                &labels,
                &label_counts,
            ],
        )
        .await?;
    }
    writer.finish().await?;
    Ok(())
}

impl PairTable {
    pub(super) async fn copy<K: ToSql + Sync>(
        self,
        tx: &Transaction<'_>,
        rows: impl Iterator<Item = (i64, K, i64)>,
    ) -> Result<()> {
        let statement = format!(
            "COPY {} ({}, {}, releases) FROM STDIN BINARY",
            self.table, self.owner, self.key
        );
        let key_type = if self.key_type == "text" {
            Type::TEXT
        } else {
            Type::INT8
        };
        let writer = copy_in(tx, &statement, &[Type::INT8, key_type, Type::INT8]).await?;
        pin_mut!(writer);
        for (owner, key, releases) in rows {
            write_row(writer.as_mut(), &[&owner, &key, &releases]).await?;
        }
        writer.finish().await?;
        Ok(())
    }

    /// Copies the genre rows (or, with `style`, the style rows) of `tags`: (owner, is a style,
    /// name, releases).
    async fn copy_tags<'a>(
        self,
        tx: &Transaction<'_>,
        tags: impl Iterator<Item = (i64, bool, &'a str, i64)>,
        style: bool,
    ) -> Result<()> {
        let rows = tags.filter(|row| row.1 == style);
        self.copy(
            tx,
            rows.map(|(owner, _, name, releases)| (owner, name, releases)),
        )
        .await
    }

    /// The rows of `owners`, as (owner, key) → releases.
    pub(super) async fn stored<K>(
        self,
        tx: &Transaction<'_>,
        owners: &[i64],
    ) -> Result<HashMap<(i64, K), i64>>
    where
        K: Hash + Eq + for<'a> FromSql<'a>,
    {
        let (table, owner, key) = (self.table, self.owner, self.key);
        let statement =
            format!("SELECT {owner}, {key}, releases FROM {table} WHERE {owner} = ANY($1)");
        stored_rows(tx, &statement, owners).await
    }

    /// Takes away `changes.removed` and adds `changes.added`.
    pub(super) async fn apply<K: ToSql + Sync + Clone + Hash + Eq + Ord>(
        self,
        tx: &Transaction<'_>,
        changes: Changes<K>,
    ) -> Result<()> {
        let (table, owner, key, key_type) = (self.table, self.owner, self.key, self.key_type);
        let (owners, keys, releases) = changes.removed_columns();
        // The stored count too, so that tables indexed by (owner, releases DESC, key) are
        // searched by their whole index.
        let statement = format!(
            "DELETE FROM {table} p
             USING unnest($1::bigint[], $2::{key_type}[], $3::bigint[]) AS g(owner, key, releases)
             WHERE p.{owner} = g.owner AND p.{key} = g.key AND p.releases = g.releases"
        );
        tx.execute(&statement, &[&owners, &keys, &releases]).await?;
        self.copy(tx, changes.added.into_iter()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_go_in_key_order_and_as_columns() {
        let mut changes = Changes {
            removed: vec![(2, "House", 7), (1, "Techno", 2), (1, "Dub", 1)],
            added: vec![(1, "Techno", 3), (1, "Ambient", 1)],
        };
        changes.sort();
        assert_eq!(changes.added, [(1, "Ambient", 1), (1, "Techno", 3)]);
        assert_eq!(
            changes.removed_columns(),
            (vec![1, 1, 2], vec!["Dub", "Techno", "House"], vec![1, 2, 7])
        );
    }
}
