//! The label and artist profiles in PostgreSQL (migration 0011): `label_profiles`,
//! `label_styles`, `artist_profiles` and `artist_collaborations`, what label DNA, similarity and
//! the collaboration network read. They are counted with the graph aggregates
//! ([`Profiles`]) and written when those are: whole after a graph is built or recounted, and
//! after an update only for the artists and labels it touched, whose rows are replaced (a pair's
//! shared releases change only with a release of both, so both of its rows are replaced).

use std::pin::Pin;
use std::time::Instant;

use deadpool_postgres::Pool;
use futures_util::pin_mut;
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use super::graph::profiles::{ArtistProfile, Histogram, LabelProfile, Profiles};
use super::postgres::Result;

/// Which profiles [`write`] writes.
#[derive(Debug, Clone, Copy)]
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
         ON artist_collaborations (artist_id, releases DESC, other_id)";

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
                "TRUNCATE label_profiles, label_styles, artist_profiles, artist_collaborations;
                 DROP INDEX label_styles_top, artist_collaborations_top",
            )
            .await?;
            copy_labels(&tx, profiles.labels()).await?;
            copy_artists(&tx, profiles.artists()).await?;
            copy_collaborations(&tx, profiles.collaborations()).await?;
            tx.batch_execute(INDEXES).await?;
        }
        Scope::Touched { artists, labels } => {
            for (table, column, ids) in [
                ("label_profiles", "label_id", labels),
                ("label_styles", "label_id", labels),
                ("artist_profiles", "artist_id", artists),
                ("artist_collaborations", "artist_id", artists),
            ] {
                let sql = format!("DELETE FROM {table} WHERE {column} = ANY($1)");
                tx.execute(&sql, &[&ids]).await?;
            }
            copy_labels(&tx, labels.iter().filter_map(|&id| profiles.label(id))).await?;
            copy_artists(&tx, artists.iter().filter_map(|&id| profiles.artist(id))).await?;
            let collaborations = artists
                .iter()
                .flat_map(|&id| profiles.collaborations_of(id));
            copy_collaborations(&tx, collaborations).await?;
        }
    }
    tx.commit().await?;
    if matches!(scope, Scope::All) {
        client
            .batch_execute(
                "ANALYZE label_profiles, label_styles, artist_profiles, artist_collaborations",
            )
            .await?;
    }
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        ?scope,
        "label and artist profiles written"
    );
    Ok(())
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

async fn copy_labels<'a>(
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
                .map(|(style, count)| (style, label.id, count)),
        );
    }
    profiles.finish().await?;
    // The style rows after, since one COPY runs at a time on a connection.
    let rows = copy_in(
        tx,
        "COPY label_styles (style, label_id, releases) FROM STDIN BINARY",
        &[Type::TEXT, Type::INT8, Type::INT8],
    )
    .await?;
    pin_mut!(rows);
    for (style, label, count) in &styles {
        write_row(rows.as_mut(), &[style, label, count]).await?;
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

async fn copy_collaborations(
    tx: &Transaction<'_>,
    collaborations: impl Iterator<Item = (i64, i64, i64)>,
) -> Result<()> {
    let writer = copy_in(
        tx,
        "COPY artist_collaborations (artist_id, other_id, releases) FROM STDIN BINARY",
        &[Type::INT8, Type::INT8, Type::INT8],
    )
    .await?;
    pin_mut!(writer);
    for (artist, other, releases) in collaborations {
        write_row(writer.as_mut(), &[&artist, &other, &releases]).await?;
    }
    writer.finish().await?;
    Ok(())
}
