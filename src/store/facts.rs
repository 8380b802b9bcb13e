//! What the graph aggregates, the profiles and the insights count, kept in PostgreSQL beside the
//! records: per release its year, main artists, labels, genres, styles, country and formats
//! (`release_facts`), per master its genres, styles and year (`master_facts`), and each release
//! under each of its genres and styles by year (`release_tags`, what the API pages a genre's or
//! style's releases from), written in the transaction that writes or deletes the records, so
//! they always agree with them. An update recounts the aggregates from these narrow tables
//! ([`tally`]) rather than from the graph; the artists and labels whose releases it changed,
//! before and after, are listed in `aggregate_touched` in the same transactions, so that only
//! their counts are written to the graph, even after a crash between the records and the
//! aggregates.

use deadpool_postgres::Pool;
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{GenericClient, Transaction};

use super::graph::aggregates::{CountedRelease, Tally};
use super::postgres::Result;
use crate::record::graph::{GraphFacts, ReleaseFacts, set};
use crate::record::{Canonical, Kind};

/// Records the facts of `inserts` (new records of `kind`) and `updates` (changed ones, replacing
/// what was there). With `touched`, the artists and labels of the releases' old and new versions
/// are listed as touched.
pub(super) async fn write(
    tx: &Transaction<'_>,
    kind: Kind,
    inserts: &[&Canonical],
    updates: &[&Canonical],
    touched: bool,
) -> Result<()> {
    let table = match kind {
        Kind::Releases => "release_facts",
        Kind::Masters => "master_facts",
        Kind::Artists | Kind::Labels => return Ok(()),
    };
    let records = || inserts.iter().chain(updates).copied();
    if !updates.is_empty() {
        let ids: Vec<i64> = updates.iter().map(|record| record.id).collect();
        if kind == Kind::Releases {
            if touched {
                touch_stored(tx, &ids).await?;
            }
            untag_stored(tx, &ids).await?;
        }
        let sql = format!("DELETE FROM {table} WHERE id = ANY($1)");
        tx.execute(&sql, &[&ids]).await?;
    }
    if kind == Kind::Masters {
        return copy_masters(tx, records()).await;
    }
    if touched {
        let (mut artists, mut labels) = (Vec::new(), Vec::new());
        for release in records().filter_map(|r| release_facts(&r.graph)) {
            artists.extend(&release.shared.by);
            labels.extend(release.labels.iter().map(|(label, _)| *label));
        }
        touch(tx, artists, labels).await?;
    }
    copy_releases(tx, records()).await?;
    copy_tags(tx, records()).await
}

/// Removes the facts of deleted records of `kind`, listing the artists and labels of deleted
/// releases as touched.
pub(super) async fn delete(tx: &Transaction<'_>, kind: Kind, ids: &[i64]) -> Result<()> {
    match kind {
        Kind::Releases => {
            touch_stored(tx, ids).await?;
            untag_stored(tx, ids).await?;
            tx.execute("DELETE FROM release_facts WHERE id = ANY($1)", &[&ids])
                .await?;
        }
        Kind::Masters => {
            tx.execute("DELETE FROM master_facts WHERE id = ANY($1)", &[&ids])
                .await?;
        }
        Kind::Artists | Kind::Labels => {}
    }
    Ok(())
}

fn release_facts(facts: &GraphFacts) -> Option<&ReleaseFacts> {
    match facts {
        GraphFacts::Release(release) => Some(release),
        _ => None,
    }
}

/// Lists as touched the artists and labels of the stored versions of releases `ids`.
async fn touch_stored(tx: &Transaction<'_>, ids: &[i64]) -> Result<()> {
    tx.execute(
        "INSERT INTO aggregate_touched (kind, id)
         SELECT 'artist', unnest(artists) FROM release_facts WHERE id = ANY($1)
         UNION SELECT 'label', unnest(labels) FROM release_facts WHERE id = ANY($1)
         ON CONFLICT DO NOTHING",
        &[&ids],
    )
    .await?;
    Ok(())
}

/// Takes the stored releases `ids` out of `release_tags`, through the facts they were written
/// from (so, before those are replaced or deleted).
async fn untag_stored(tx: &Transaction<'_>, ids: &[i64]) -> Result<()> {
    tx.execute(
        "DELETE FROM release_tags t
         USING (SELECT false AS style, unnest(genres) AS tag, coalesce(year, 0)::integer AS year, id
                FROM release_facts WHERE id = ANY($1)
                UNION ALL
                SELECT true, unnest(styles), coalesce(year, 0)::integer, id
                FROM release_facts WHERE id = ANY($1)) stored
         WHERE t.style = stored.style AND t.tag = stored.tag AND t.year = stored.year
           AND t.release_id = stored.id",
        &[&ids],
    )
    .await?;
    Ok(())
}

async fn touch(tx: &Transaction<'_>, mut artists: Vec<i64>, mut labels: Vec<i64>) -> Result<()> {
    for ids in [&mut artists, &mut labels] {
        ids.sort_unstable();
        ids.dedup();
    }
    tx.execute(
        "INSERT INTO aggregate_touched (kind, id)
         SELECT 'artist', unnest($1::bigint[]) UNION ALL SELECT 'label', unnest($2::bigint[])
         ON CONFLICT DO NOTHING",
        &[&artists, &labels],
    )
    .await?;
    Ok(())
}

async fn copy_releases<'a>(
    tx: &Transaction<'_>,
    records: impl Iterator<Item = &'a Canonical>,
) -> Result<()> {
    let sink = tx
        .copy_in(
            "COPY release_facts (id, year, artists, labels, genres, styles, country, formats) FROM STDIN BINARY",
        )
        .await?;
    let types = [
        Type::INT8,
        Type::INT8,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
        Type::TEXT_ARRAY,
        Type::TEXT_ARRAY,
        Type::TEXT,
        Type::TEXT_ARRAY,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for release in records.filter_map(|r| release_facts(&r.graph)) {
        let labels = release.label_ids();
        writer
            .as_mut()
            .write(&[
                &release.id,
                &release.year,
                &release.shared.by,
                &labels,
                &release.shared.genres,
                &release.shared.styles,
                &release.country,
                &release.formats,
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Each release under each of its genres and styles, with its year (0 for none).
async fn copy_tags<'a>(
    tx: &Transaction<'_>,
    records: impl Iterator<Item = &'a Canonical>,
) -> Result<()> {
    let sink = tx
        .copy_in("COPY release_tags (style, tag, year, release_id) FROM STDIN BINARY")
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::BOOL, Type::TEXT, Type::INT4, Type::INT8]);
    pin_mut!(writer);
    for release in records.filter_map(|r| release_facts(&r.graph)) {
        // Release years are four-digit (`record::release`); one that did not fit is no year.
        let year = release
            .year
            .and_then(|year| i32::try_from(year).ok())
            .unwrap_or(0);
        let tags = release.shared.genres.iter().map(|tag| (false, tag));
        let tags = tags.chain(release.shared.styles.iter().map(|tag| (true, tag)));
        for (style, tag) in tags {
            writer
                .as_mut()
                .write(&[&style, tag, &year, &release.id])
                .await?;
        }
    }
    writer.finish().await?;
    Ok(())
}

/// The index [`prepare`] dropped before a first load, built once the releases are in (or
/// again, after a first load that was cut short).
///
/// # Errors
///
/// The statement failed.
pub async fn create_indexes(pool: &Pool) -> Result<()> {
    let client = pool.get().await?;
    let missing = client
        .query_opt(
            "SELECT 1 FROM pg_indexes WHERE tablename = 'release_tags' AND indexname = 'release_tags_page'",
            &[],
        )
        .await?
        .is_none();
    if missing {
        tracing::info!("indexing the releases by genre, style and year");
        let started = std::time::Instant::now();
        client.batch_execute(TAG_INDEX).await?;
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            "releases indexed by genre, style and year"
        );
    }
    Ok(())
}

/// `release_tags`' index, as migration 0015 defines it.
const TAG_INDEX: &str = "CREATE INDEX IF NOT EXISTS release_tags_page ON release_tags (style, tag, year DESC, release_id)";

/// Before the records are written: a first load (no release tagged yet) fills `release_tags`
/// without its index, which [`create_indexes`] builds once at the end, faster than keeping it
/// up row by row; a table with rows gets back an index an interrupted first load left dropped.
///
/// # Errors
///
/// A statement failed.
pub async fn prepare(pool: &Pool) -> Result<()> {
    let client = pool.get().await?;
    let empty = client
        .query_opt("SELECT 1 FROM release_tags LIMIT 1", &[])
        .await?
        .is_none();
    if empty {
        client
            .batch_execute("DROP INDEX IF EXISTS release_tags_page")
            .await?;
        Ok(())
    } else {
        drop(client);
        create_indexes(pool).await
    }
}

async fn copy_masters<'a>(
    tx: &Transaction<'_>,
    records: impl Iterator<Item = &'a Canonical>,
) -> Result<()> {
    let sink = tx
        .copy_in("COPY master_facts (id, genres, styles, year) FROM STDIN BINARY")
        .await?;
    let types = [Type::INT8, Type::TEXT_ARRAY, Type::TEXT_ARRAY, Type::INT8];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for record in records {
        if let GraphFacts::Master(master) = &record.graph {
            writer
                .as_mut()
                .write(&[
                    &master.id,
                    &master.shared.genres,
                    &master.shared.styles,
                    &master.year,
                ])
                .await?;
        }
    }
    writer.finish().await?;
    Ok(())
}

/// The aggregates' counts over every stored release and master, streamed so that memory holds
/// the counts, not the rows.
///
/// # Errors
///
/// A query failed.
pub async fn tally(client: &impl GenericClient) -> Result<Tally> {
    let mut tally = Tally::default();
    let masters = client
        .query_raw(
            "SELECT genres, styles FROM master_facts",
            std::iter::empty::<i64>(),
        )
        .await?;
    pin_mut!(masters);
    while let Some(row) = masters.try_next().await? {
        let (genres, styles): (Vec<String>, Vec<String>) = (row.get(0), row.get(1));
        // Rows backfilled from JSON or written by hand may be unsorted or repeat themselves.
        tally.add_master(&set(genres), &set(styles));
    }
    let releases = client
        .query_raw(
            "SELECT year, artists, labels, genres, styles, formats FROM release_facts",
            std::iter::empty::<i64>(),
        )
        .await?;
    pin_mut!(releases);
    while let Some(row) = releases.try_next().await? {
        let (artists, labels): (Vec<i64>, Vec<i64>) = (row.get(1), row.get(2));
        let (genres, styles): (Vec<String>, Vec<String>) = (row.get(3), row.get(4));
        let formats: Vec<String> = row.get(5);
        tally.add_release(&CountedRelease {
            year: row.get(0),
            artists: &set(artists),
            labels: &set(labels),
            genres: &set(genres),
            styles: &set(styles),
            formats: &set(formats),
        });
    }
    Ok(tally)
}

/// The artists and labels listed as touched since the aggregates were last written.
///
/// # Errors
///
/// The query failed.
pub async fn touched(client: &impl GenericClient) -> Result<(Vec<i64>, Vec<i64>)> {
    let rows = client
        .query(
            "SELECT kind, id FROM aggregate_touched ORDER BY kind, id",
            &[],
        )
        .await?;
    let (mut artists, mut labels) = (Vec::new(), Vec::new());
    for row in rows {
        match row.get::<_, &str>(0) {
            "artist" => artists.push(row.get(1)),
            _ => labels.push(row.get(1)),
        }
    }
    Ok((artists, labels))
}

/// Empties the touched list, once the aggregates are written.
///
/// # Errors
///
/// The statement failed.
pub async fn clear_touched(client: &impl GenericClient) -> Result<()> {
    client.execute("DELETE FROM aggregate_touched", &[]).await?;
    Ok(())
}
