//! Who is credited with what (migration 0009): `credits`, one row per (release, person, role),
//! written in the transactions that write and delete the releases, and the per-person counts the
//! credits routes read (`people`, `person_categories`), recounted once an ingest's files are in.
//!
//! The counts are recounted in full after a first load, and otherwise only for the names whose
//! credits changed: every transaction that takes credits away or adds them lists their names in
//! `credits_touched`, so an ingest that crashes between the records and the counts still recounts
//! them the next time.

use std::pin::Pin;
use std::time::Instant;

use deadpool_postgres::Pool;
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;

use super::bookkeeping;
use super::postgres::Result;
use crate::record::graph::{GraphFacts, PersonCredit};
use crate::record::role::Category;
use crate::record::{Canonical, Kind};

/// The definition of the credits the tables hold: raised when the rule for what a credit is, or
/// its category, changes, so that the next ingest refills them from the stored releases.
pub const CREDITS_VERSION: i32 = 1;

/// Releases read between two progress lines of a refill.
const REFILL_PROGRESS_EVERY: u64 = 250_000;

/// Records the credits of `inserts` (new releases) and `updates` (changed ones, replacing theirs).
/// With `touched`, the names that had or gain credits are listed for the recount; a first load
/// does without, and recounts everyone.
pub(super) async fn write(
    tx: &Transaction<'_>,
    inserts: &[&Canonical],
    updates: &[&Canonical],
    touched: bool,
) -> Result<()> {
    if !updates.is_empty() {
        let ids: Vec<i64> = updates.iter().map(|record| record.id).collect();
        remove(tx, &ids, touched).await?;
    }
    let releases: Vec<(i64, Option<i64>, &[PersonCredit])> = inserts
        .iter()
        .chain(updates)
        .filter_map(|record| match &record.graph {
            GraphFacts::Release(release) => {
                Some((release.id, release.year, release.people.as_slice()))
            }
            _ => None,
        })
        .collect();
    let writer = copy_in(tx).await?;
    pin_mut!(writer);
    for (id, year, people) in &releases {
        for person in *people {
            write_row(writer.as_mut(), *id, *year, person).await?;
        }
    }
    writer.finish().await?;
    if touched {
        let mut names: Vec<&str> = releases
            .iter()
            .flat_map(|(_, _, people)| people.iter().map(|person| person.name.as_str()))
            .collect();
        names.sort_unstable();
        names.dedup();
        tx.execute(
            "INSERT INTO credits_touched (name) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING",
            &[&names],
        )
        .await?;
    }
    Ok(())
}

/// Removes the credits of deleted releases, listing their names for the recount.
pub(super) async fn delete(tx: &Transaction<'_>, kind: Kind, ids: &[i64]) -> Result<()> {
    if kind == Kind::Releases {
        remove(tx, ids, true).await?;
    }
    Ok(())
}

async fn remove(tx: &Transaction<'_>, ids: &[i64], touched: bool) -> Result<()> {
    if touched {
        tx.execute(
            "INSERT INTO credits_touched (name)
             SELECT DISTINCT name FROM credits WHERE release_id = ANY($1)
             ON CONFLICT DO NOTHING",
            &[&ids],
        )
        .await?;
    }
    tx.execute("DELETE FROM credits WHERE release_id = ANY($1)", &[&ids])
        .await?;
    Ok(())
}

/// A binary COPY into `credits`, for [`write_row`].
async fn copy_in(tx: &Transaction<'_>) -> Result<BinaryCopyInWriter> {
    let sink = tx
        .copy_in(
            "COPY credits (release_id, name, role, category, artist_id, year) FROM STDIN BINARY",
        )
        .await?;
    let types = [
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
    ];
    Ok(BinaryCopyInWriter::new(sink, &types))
}

/// One credit of release `id` (of `year`) into a [`copy_in`].
async fn write_row(
    writer: Pin<&mut BinaryCopyInWriter>,
    id: i64,
    year: Option<i64>,
    person: &PersonCredit,
) -> Result<()> {
    writer
        .write(&[
            &id,
            &person.name,
            &person.role,
            &Category::of(&person.role).as_str(),
            &person.artist,
            &year,
        ])
        .await?;
    Ok(())
}

/// Brings the per-person counts up to date with `credits`: in full when `full` (after a first
/// load) or when the credits were refilled, otherwise for the names listed as touched. Refills the
/// credits first from the stored releases when they follow an older definition (or none: a
/// database older than the credits). Returns whether anything was written.
///
/// # Errors
///
/// A statement failed; the counts are then recounted by the next ingest.
pub async fn refresh(pool: &Pool, full: bool) -> Result<bool> {
    let refill = bookkeeping::credits_version(pool).await? != CREDITS_VERSION;
    if refill {
        refill_from_records(pool).await?;
    }
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let started = Instant::now();
    let recounted = if full || refill {
        tracing::info!("counting every person's credits");
        tx.batch_execute(
            "TRUNCATE people, person_categories, credits_touched;
             INSERT INTO person_categories (name, category, credits, releases)
                 SELECT name, category, count(*), count(DISTINCT release_id)
                 FROM credits GROUP BY name, category;
             INSERT INTO people (name, credits, releases, first_year, last_year, artist_id)
                 SELECT name, count(*), count(DISTINCT release_id), min(year), max(year), min(artist_id)
                 FROM credits GROUP BY name",
        )
        .await?;
        true
    } else {
        let touched = tx
            .execute(
                "DELETE FROM person_categories WHERE name IN (SELECT name FROM credits_touched)",
                &[],
            )
            .await?;
        tx.batch_execute(
            "INSERT INTO person_categories (name, category, credits, releases)
                 SELECT name, category, count(*), count(DISTINCT release_id)
                 FROM credits WHERE name IN (SELECT name FROM credits_touched)
                 GROUP BY name, category;
             DELETE FROM people WHERE name IN (SELECT name FROM credits_touched);
             INSERT INTO people (name, credits, releases, first_year, last_year, artist_id)
                 SELECT name, count(*), count(DISTINCT release_id), min(year), max(year), min(artist_id)
                 FROM credits WHERE name IN (SELECT name FROM credits_touched)
                 GROUP BY name;
             DELETE FROM credits_touched",
        )
        .await?;
        touched > 0
    };
    tx.commit().await?;
    if recounted {
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            full = full || refill,
            "credit counts written"
        );
    }
    Ok(recounted || refill)
}

/// Refills `credits` from every stored release's JSON, in one transaction that also records the
/// definition it follows: an interrupted refill leaves the tables as they were and runs again.
async fn refill_from_records(pool: &Pool) -> Result<()> {
    tracing::info!("filling the credits from the stored releases (once, after an upgrade)");
    let started = Instant::now();
    let reader = pool.get().await?;
    let mut writer = pool.get().await?;
    let tx = writer.transaction().await?;
    tx.batch_execute("TRUNCATE credits").await?;
    let rows = reader
        .query_raw(
            "SELECT id, year, data::text FROM releases",
            std::iter::empty::<i64>(),
        )
        .await?;
    pin_mut!(rows);
    let writer = copy_in(&tx).await?;
    pin_mut!(writer);
    let mut releases = 0u64;
    while let Some(row) = rows.try_next().await? {
        let (id, year): (i64, Option<i32>) = (row.get(0), row.get(1));
        // The column is JSONB, so its text is JSON.
        let data: serde_json::Value =
            serde_json::from_str(row.get(2)).unwrap_or(serde_json::Value::Null);
        for person in PersonCredit::from_json(&data) {
            write_row(writer.as_mut(), id, year.map(i64::from), &person).await?;
        }
        releases += 1;
        if releases % REFILL_PROGRESS_EVERY == 0 {
            tracing::info!(releases, "filling the credits");
        }
    }
    writer.finish().await?;
    tx.execute(
        "UPDATE ingest_generation SET credits_version = $1",
        &[&CREDITS_VERSION],
    )
    .await?;
    tx.commit().await?;
    tracing::info!(
        releases,
        seconds = started.elapsed().as_secs_f64(),
        "credits filled"
    );
    Ok(())
}
