//! What the graph aggregates count, kept in PostgreSQL beside the records: per release its year,
//! main artists, labels, genres and styles (`release_facts`), per master its genres and styles
//! (`master_facts`), written in the transaction that writes or deletes the records, so they always
//! agree with them. The same transactions keep the aggregate counts current ([`counts`]) and list
//! the artists and labels whose counts moved in `aggregate_touched`, so that an update writes
//! only their counts to the graph, even after a crash between the records and the aggregates.

use futures_util::pin_mut;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{GenericClient, Transaction};

use super::counts::{self, Changes, Moved};
use super::graph::aggregates::CountedRelease;
use super::postgres::Result;
use crate::record::graph::{GraphFacts, ReleaseFacts, set};
use crate::record::{Canonical, Kind};

/// Records the facts of `inserts` (new records of `kind`) and `updates` (changed ones, replacing
/// what was there). With `counted`, the aggregate counts take the old versions out and the new
/// ones in, and the artists and labels whose counts moved are listed as touched.
pub(super) async fn write(
    tx: &Transaction<'_>,
    kind: Kind,
    inserts: &[&Canonical],
    updates: &[&Canonical],
    counted: bool,
) -> Result<()> {
    let Some(table) = table(kind) else {
        return Ok(());
    };
    let records = || inserts.iter().chain(updates).copied();
    let mut changes = Changes::default();
    if !updates.is_empty() {
        let ids: Vec<i64> = updates.iter().map(|record| record.id).collect();
        let old = delete_returning(tx, kind, table, &ids).await?;
        if counted {
            changes = old;
        }
    }
    if kind == Kind::Masters {
        copy_masters(tx, records()).await?;
    } else {
        copy_releases(tx, records()).await?;
    }
    if counted {
        for record in records() {
            count_in(&mut changes, &record.graph);
        }
        let moved = counts::apply(tx, &changes).await?;
        touch(tx, moved).await?;
    }
    Ok(())
}

/// Removes the facts of deleted records of `kind`, taking them out of the aggregate counts and
/// listing the artists and labels whose counts moved as touched.
pub(super) async fn delete(tx: &Transaction<'_>, kind: Kind, ids: &[i64]) -> Result<()> {
    let Some(table) = table(kind) else {
        return Ok(());
    };
    let changes = delete_returning(tx, kind, table, ids).await?;
    let moved = counts::apply(tx, &changes).await?;
    touch(tx, moved).await
}

fn table(kind: Kind) -> Option<&'static str> {
    match kind {
        Kind::Releases => Some("release_facts"),
        Kind::Masters => Some("master_facts"),
        Kind::Artists | Kind::Labels => None,
    }
}

/// Deletes the facts of `ids`; returns them, counted out.
async fn delete_returning(
    tx: &Transaction<'_>,
    kind: Kind,
    table: &str,
    ids: &[i64],
) -> Result<Changes> {
    let columns = match kind {
        Kind::Releases => "genres, styles, year, artists, labels",
        _ => "genres, styles",
    };
    let sql = format!("DELETE FROM {table} WHERE id = ANY($1) RETURNING {columns}");
    let mut changes = Changes::default();
    for row in tx.query(&sql, &[&ids]).await? {
        // Rows backfilled from JSON or written by hand may be unsorted or repeat themselves.
        let (genres, styles) = (
            set(row.get::<_, Vec<String>>(0)),
            set(row.get::<_, Vec<String>>(1)),
        );
        if kind == Kind::Releases {
            let (artists, labels) = (
                set(row.get::<_, Vec<i64>>(3)),
                set(row.get::<_, Vec<i64>>(4)),
            );
            changes.release(
                -1,
                &CountedRelease {
                    year: row.get(2),
                    artists: &artists,
                    labels: &labels,
                    genres: &genres,
                    styles: &styles,
                },
            );
        } else {
            changes.master(-1, &genres, &styles);
        }
    }
    Ok(changes)
}

fn count_in(changes: &mut Changes, facts: &GraphFacts) {
    match facts {
        GraphFacts::Release(release) => {
            let labels = release.label_ids();
            changes.release(
                1,
                &CountedRelease {
                    year: release.year,
                    artists: &release.shared.by,
                    labels: &labels,
                    genres: &release.shared.genres,
                    styles: &release.shared.styles,
                },
            );
        }
        GraphFacts::Master(master) => {
            changes.master(1, &master.shared.genres, &master.shared.styles);
        }
        GraphFacts::Artist(_) | GraphFacts::Label(_) => {}
    }
}

fn release_facts(facts: &GraphFacts) -> Option<&ReleaseFacts> {
    match facts {
        GraphFacts::Release(release) => Some(release),
        _ => None,
    }
}

async fn touch(tx: &Transaction<'_>, moved: Moved) -> Result<()> {
    let Moved {
        mut artists,
        mut labels,
    } = moved;
    if artists.is_empty() && labels.is_empty() {
        return Ok(());
    }
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
        .copy_in("COPY release_facts (id, year, artists, labels, genres, styles) FROM STDIN BINARY")
        .await?;
    let types = [
        Type::INT8,
        Type::INT8,
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
        Type::TEXT_ARRAY,
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
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

async fn copy_masters<'a>(
    tx: &Transaction<'_>,
    records: impl Iterator<Item = &'a Canonical>,
) -> Result<()> {
    let sink = tx
        .copy_in("COPY master_facts (id, genres, styles) FROM STDIN BINARY")
        .await?;
    let types = [Type::INT8, Type::TEXT_ARRAY, Type::TEXT_ARRAY];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for record in records {
        if let GraphFacts::Master(master) = &record.graph {
            writer
                .as_mut()
                .write(&[&master.id, &master.shared.genres, &master.shared.styles])
                .await?;
        }
    }
    writer.finish().await?;
    Ok(())
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
