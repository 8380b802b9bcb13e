//! The label and artist profiles in PostgreSQL (migrations 0011, 0016 and 0018):
//! `label_profiles`, `label_styles`, `artist_profiles`, `artist_collaborations`, `artist_labels`
//! and `collaboration_years`, what label DNA, similarity, the collaboration network, an artist's
//! labels or a label's artists and an artist's collaborators read. They are counted with the
//! graph aggregates ([`Profiles`]), but for `collaboration_years`, which PostgreSQL counts from
//! the release pages, and written when those are: whole after a graph is built or recounted, and
//! after an update only for the artists and labels it touched: their profile and collaboration
//! year rows are replaced, and of their style, collaboration and label rows only those that
//! differ from what is stored (a pair's shared releases change only with a release of both, whose
//! artists are touched).

use std::collections::HashMap;
use std::hash::Hash;
use std::pin::Pin;
use std::time::Instant;

use deadpool_postgres::Pool;
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{FromSql, ToSql, Type};

use super::graph::profiles::{ArtistProfile, Histogram, LabelProfile, Profiles};
use super::postgres::Result;

/// Which profiles [`write`] writes.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    /// Every one, replacing the tables' contents.
    All,
    /// Those of these artists and labels, replacing their rows.
    Touched {
        artists: &'a [i64],
        labels: &'a [i64],
    },
}

/// The secondary indexes, dropped while the tables are filled whole and built after.
const INDEXES: &str =
    "CREATE INDEX label_styles_top ON label_styles (style, releases DESC, label_id);
     CREATE INDEX artist_collaborations_top
         ON artist_collaborations (artist_id, releases DESC, other_id);
     CREATE INDEX artist_labels_by_artist ON artist_labels (artist_id, releases DESC, label_id);
     CREATE INDEX artist_labels_by_label ON artist_labels (label_id, releases DESC, artist_id);
     CREATE INDEX collaboration_years_top
         ON collaboration_years (artist_id, releases DESC, other_id)";

/// Fills `collaboration_years` for the artists `filter` keeps (as migration 0018 does for all):
/// from each dated release page of an artist, the release's other main artists.
fn collaboration_years(filter: &str) -> String {
    format!(
        "INSERT INTO collaboration_years
             (artist_id, other_id, releases, first_year, last_year, years, counts)
         SELECT artist_id, other_id, sum(releases)::bigint, min(year), max(year),
                array_agg(year ORDER BY year), array_agg(releases ORDER BY year)
         FROM (SELECT a.artist_id, other AS other_id, a.year,
                      count(DISTINCT a.release_id) AS releases
               FROM release_artists a
               JOIN release_facts f ON f.id = a.release_id, unnest(f.artists) other
               WHERE a.year > 0 AND other <> a.artist_id {filter}
               GROUP BY 1, 2, 3) shared
         GROUP BY 1, 2"
    )
}

/// A table of (artist, other id, releases) rows: an artist's collaborations or its labels.
#[derive(Clone, Copy)]
struct ArtistPairs {
    table: &'static str,
    other: &'static str,
}

const COLLABORATIONS: ArtistPairs = ArtistPairs {
    table: "artist_collaborations",
    other: "other_id",
};

const ARTIST_LABELS: ArtistPairs = ArtistPairs {
    table: "artist_labels",
    other: "label_id",
};

/// Writes `profiles` (all, or those `scope` names) in one transaction.
///
/// # Errors
///
/// A statement failed; nothing was written.
pub async fn write(pool: &Pool, profiles: &Profiles, scope: Scope<'_>) -> Result<()> {
    let started = Instant::now();
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    match scope {
        Scope::All => {
            tx.batch_execute(
                "TRUNCATE label_profiles, label_styles, artist_profiles, artist_collaborations,
                     artist_labels, collaboration_years;
                 DROP INDEX label_styles_top, artist_collaborations_top, artist_labels_by_artist,
                     artist_labels_by_label, collaboration_years_top",
            )
            .await?;
            tx.execute(&collaboration_years(""), &[]).await?;
            let styles = copy_labels(&tx, profiles.labels()).await?;
            copy_label_styles(&tx, styles.into_iter()).await?;
            copy_artists(&tx, profiles.artists()).await?;
            COLLABORATIONS.copy(&tx, profiles.collaborations()).await?;
            ARTIST_LABELS.copy(&tx, profiles.artist_labels()).await?;
            tx.batch_execute(INDEXES).await?;
        }
        Scope::Touched { artists, labels } => {
            for (table, column, ids) in [
                ("label_profiles", "label_id", labels),
                ("artist_profiles", "artist_id", artists),
            ] {
                let sql = format!("DELETE FROM {table} WHERE {column} = ANY($1)");
                tx.execute(&sql, &[&ids]).await?;
            }
            let wanted =
                copy_labels(&tx, labels.iter().filter_map(|&id| profiles.label(id))).await?;
            copy_artists(&tx, artists.iter().filter_map(|&id| profiles.artist(id))).await?;
            // A touched label or artist keeps most of its style, collaboration and label rows as
            // they were (a month changes a few of a hub's releases): only the rows that differ
            // are rewritten.
            let stored = stored_rows(
                &tx,
                "SELECT label_id, style, releases FROM label_styles WHERE label_id = ANY($1)",
                labels,
            )
            .await?;
            let wanted = wanted
                .into_iter()
                .map(|(label, style, releases)| (label, style.to_owned(), releases));
            let styles = Changes::between(stored, wanted);
            let (ids, names, _) = styles.removed_columns();
            tx.execute(
                "DELETE FROM label_styles s USING unnest($1::bigint[], $2::text[]) AS g(label_id, style)
                 WHERE s.label_id = g.label_id AND s.style = g.style",
                &[&ids, &names],
            )
            .await?;
            copy_label_styles(&tx, styles.added.into_iter()).await?;

            let collaborations = artists
                .iter()
                .flat_map(|&id| profiles.collaborations_of(id));
            COLLABORATIONS.rewrite(&tx, artists, collaborations).await?;
            let labels = artists.iter().flat_map(|&id| profiles.artist_labels_of(id));
            ARTIST_LABELS.rewrite(&tx, artists, labels).await?;
            tx.execute(
                "DELETE FROM collaboration_years WHERE artist_id = ANY($1)",
                &[&artists],
            )
            .await?;
            tx.execute(
                &collaboration_years("AND a.artist_id = ANY($1)"),
                &[&artists],
            )
            .await?;
        }
    }
    tx.commit().await?;
    if matches!(scope, Scope::All) {
        // Vacuumed, not only analyzed: the new rows marked visible to all let the routes count
        // a hub's rows from the index alone (a label's 110,000 artists at 4.75M releases: 12 ms
        // against 112 ms through the heap); the six tables take ~5 s there.
        client
            .batch_execute(
                "VACUUM (ANALYZE) label_profiles, label_styles, artist_profiles,
                     artist_collaborations, artist_labels, collaboration_years",
            )
            .await?;
    }
    let (artists, labels) = match scope {
        Scope::All => profiles.sizes(),
        Scope::Touched { artists, labels } => (artists.len(), labels.len()),
    };
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        artists,
        labels,
        "label and artist profiles written"
    );
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
struct Changes<K> {
    removed: Vec<(i64, K, i64)>,
    added: Vec<(i64, K, i64)>,
}

impl<K: Hash + Eq + Clone> Changes<K> {
    fn between(
        mut stored: HashMap<(i64, K), i64>,
        wanted: impl Iterator<Item = (i64, K, i64)>,
    ) -> Changes<K> {
        let (mut removed, mut added) = (Vec::new(), Vec::new());
        for (id, key, releases) in wanted {
            match stored.remove(&(id, key.clone())) {
                Some(old) if old == releases => {}
                Some(old) => {
                    removed.push((id, key.clone(), old));
                    added.push((id, key, releases));
                }
                None => added.push((id, key, releases)),
            }
        }
        removed.extend(
            stored
                .into_iter()
                .map(|((id, key), releases)| (id, key, releases)),
        );
        Changes { removed, added }
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

/// Writes the labels' profile rows; returns their `label_styles` rows, as (label, style, releases).
async fn copy_labels<'a>(
    tx: &Transaction<'_>,
    labels: impl Iterator<Item = LabelProfile<'a>>,
) -> Result<Vec<(i64, &'a str, i64)>> {
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
    let mut styles = Vec::new();
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
        styles.extend(
            label
                .styles
                .into_iter()
                .map(|(style, releases)| (label.id, style, releases)),
        );
    }
    profiles.finish().await?;
    Ok(styles)
}

/// Rows of `label_styles`, as (label, style, releases); after the profiles, since one COPY runs at
/// a time on a connection.
async fn copy_label_styles<S: AsRef<str>>(
    tx: &Transaction<'_>,
    styles: impl Iterator<Item = (i64, S, i64)>,
) -> Result<()> {
    let rows = copy_in(
        tx,
        "COPY label_styles (label_id, style, releases) FROM STDIN BINARY",
        &[Type::INT8, Type::TEXT, Type::INT8],
    )
    .await?;
    pin_mut!(rows);
    for (label, style, releases) in styles {
        write_row(rows.as_mut(), &[&label, &style.as_ref(), &releases]).await?;
    }
    rows.finish().await?;
    Ok(())
}

async fn copy_artists<'a>(
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

impl ArtistPairs {
    async fn copy(
        self,
        tx: &Transaction<'_>,
        rows: impl Iterator<Item = (i64, i64, i64)>,
    ) -> Result<()> {
        let statement = format!(
            "COPY {} (artist_id, {}, releases) FROM STDIN BINARY",
            self.table, self.other
        );
        let writer = copy_in(tx, &statement, &[Type::INT8, Type::INT8, Type::INT8]).await?;
        pin_mut!(writer);
        for (artist, other, releases) in rows {
            write_row(writer.as_mut(), &[&artist, &other, &releases]).await?;
        }
        writer.finish().await?;
        Ok(())
    }

    /// Makes the rows of `artists` the `wanted` ones, rewriting only those that differ.
    async fn rewrite(
        self,
        tx: &Transaction<'_>,
        artists: &[i64],
        wanted: impl Iterator<Item = (i64, i64, i64)>,
    ) -> Result<()> {
        let (table, other) = (self.table, self.other);
        let statement =
            format!("SELECT artist_id, {other}, releases FROM {table} WHERE artist_id = ANY($1)");
        let stored = stored_rows(tx, &statement, artists).await?;
        let changes = Changes::between(stored, wanted);
        let (ids, others, counts) = changes.removed_columns();
        let statement = format!(
            "DELETE FROM {table} p
             USING unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS g(artist_id, other, releases)
             WHERE p.artist_id = g.artist_id AND p.releases = g.releases AND p.{other} = g.other"
        );
        tx.execute(&statement, &[&ids, &others, &counts]).await?;
        self.copy(tx, changes.added.into_iter()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rows_that_differ_are_taken_away_and_added() {
        let stored: HashMap<(i64, &str), i64> = [
            ((1, "House"), 4),
            ((1, "Techno"), 2),
            ((1, "Dub"), 1),
            ((2, "House"), 7),
        ]
        .into_iter()
        .collect();
        let wanted = [
            (1, "House", 4),
            (1, "Techno", 3),
            (1, "Ambient", 1),
            (2, "House", 7),
        ];
        let mut changes = Changes::between(stored, wanted.into_iter());
        changes.removed.sort_unstable();
        changes.added.sort_unstable();
        assert_eq!(changes.removed, [(1, "Dub", 1), (1, "Techno", 2)]);
        assert_eq!(changes.added, [(1, "Ambient", 1), (1, "Techno", 3)]);
        let (ids, keys, counts) = changes.removed_columns();
        assert_eq!(
            (ids, keys, counts),
            (vec![1, 1], vec!["Dub", "Techno"], vec![1, 2])
        );
    }
}
