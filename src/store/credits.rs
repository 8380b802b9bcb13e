//! Who is credited with what (migration 0009): `credits`, one row per (release, person, role),
//! written in the transactions that write and delete the releases, and the per-person counts the
//! credits routes read (`people`, `person_categories`), brought up to date once an ingest's files
//! are in.
//!
//! After a first load the counts are counted in full, in one pass. Otherwise every transaction
//! that takes credits away or adds them records what that changes in each (person, category)'s
//! counts, as rows of `credits_delta`, and the end of the ingest adds them up and applies them:
//! the cost follows the credits that changed, not how many a changed person has, and an ingest
//! that crashes between the records and the counts applies them the next time.
//!
//! An update's rows go to `credits_pending` first (migration 0022), and the end of the ingest
//! puts them into `credits` in the order of its index by name ([`refresh`]); an ingest cut short
//! leaves them for the next one's [`prepare`]. Until then the routes do not see them.

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Instant;

use deadpool_postgres::Pool;
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{GenericClient, Transaction};

use super::postgres::Result;
use super::records::Update;
use super::{bookkeeping, facts};
use crate::record::graph::PersonCredit;
use crate::record::graph::digest::Group;
use crate::record::{Canonical, Kind};

/// The definition of the credits the tables hold: raised when the rule for what a credit is, or
/// its category, changes, so that the next ingest refills them from the stored releases.
pub const CREDITS_VERSION: i32 = 1;

/// Memory each sort of a full count may take before it spills to disk: far more than the credits
/// of the most credited person.
const COUNT_WORK_MEM: &str = "256MB";

/// Releases read between two progress lines of a refill.
const REFILL_PROGRESS_EVERY: u64 = 250_000;

/// Readies `credits` for an ingest: rows an interrupted ingest left pending go in; a table still
/// empty is about to be filled by a first load (or a refill), which goes faster without its
/// indexes, so they are dropped, to be built once it is full ([`refresh`]); a table with rows gets
/// back any index an interrupted first load left dropped, before updates look rows up by release.
///
/// # Errors
///
/// A statement failed.
pub async fn prepare(pool: &Pool) -> Result<()> {
    let mut client = pool.get().await?;
    insert_pending(&mut client).await?;
    let empty = client
        .query_opt("SELECT 1 FROM credits LIMIT 1", &[])
        .await?
        .is_none();
    if empty {
        client
            .batch_execute("DROP INDEX IF EXISTS credits_by_release, credits_by_name")
            .await?;
    } else {
        create_indexes(&**client).await?;
    }
    Ok(())
}

/// The key of `credits_by_name`, as migration 0013 defines it: also the order pending credits
/// go in ([`insert_pending`]).
const BY_NAME_KEY: &str = "name, year DESC NULLS LAST, category, artist_id, counts_release";

/// Builds the indexes of `credits` that are missing, as migrations 0009 and 0013 define them.
async fn create_indexes(client: &impl GenericClient) -> Result<()> {
    let missing: i64 = client
        .query_one(
            "SELECT 2 - count(*) FROM pg_indexes
             WHERE tablename = 'credits' AND indexname IN ('credits_by_release', 'credits_by_name')",
            &[],
        )
        .await?
        .get(0);
    if missing > 0 {
        tracing::info!("indexing the credits");
        let started = Instant::now();
        client
            .batch_execute(&format!(
                "CREATE INDEX IF NOT EXISTS credits_by_release ON credits (release_id);
                 CREATE INDEX IF NOT EXISTS credits_by_name ON credits ({BY_NAME_KEY})"
            ))
            .await?;
        tracing::info!(seconds = started.elapsed().as_secs_f64(), "credits indexed");
    }
    Ok(())
}

/// Records the credits of `inserts` (new releases) and `updates` (changed ones, replacing theirs
/// where they differ from what is stored: most edits leave a release's credits as they are, and
/// those whose digest says so are not even read).
/// With `deltas`, what that changes in the per-person counts is recorded for [`refresh`], and the
/// rows wait in `credits_pending` for it; a first load does without, writes into the table, which
/// has no indexes then, and counts everyone.
pub(super) async fn write(
    tx: &Transaction<'_>,
    inserts: &[&Canonical],
    updates: &[Update<'_>],
    deltas: bool,
) -> Result<()> {
    let mut releases = credited(inserts);
    let updates: Vec<&Canonical> = updates
        .iter()
        .filter(|update| update.changed.has(Group::People))
        .map(|update| update.record)
        .collect();
    if !updates.is_empty() {
        let updated = credited(&updates);
        let ids: Vec<i64> = updated.iter().map(|(id, _, _)| *id).collect();
        let stored = stored_credits(tx, &ids).await?;
        let (changed, ids): (Vec<_>, Vec<i64>) = updated
            .into_iter()
            .filter(|(id, year, people)| {
                let stored = stored.get(id).map_or(&[][..], Vec::as_slice);
                !same_credits(stored, *year, people)
            })
            .map(|release| (release, release.0))
            .unzip();
        if !ids.is_empty() {
            remove(tx, &ids, deltas).await?;
        }
        releases.extend(changed);
    }
    let writer = copy_in(tx, if deltas { PENDING } else { "credits" }).await?;
    pin_mut!(writer);
    for (id, year, people) in &releases {
        for person in *people {
            write_row(writer.as_mut(), *id, *year, person).await?;
        }
    }
    writer.finish().await?;
    if deltas {
        let mut added: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
        for person in releases.iter().flat_map(|(_, _, people)| people.iter()) {
            let counts = added
                .entry((person.name.as_str(), person.category.as_str()))
                .or_default();
            counts.0 += 1;
            counts.1 += i64::from(person.counts_release);
        }
        let (mut names, mut categories) = (Vec::new(), Vec::new());
        let (mut credits, mut counted) = (Vec::new(), Vec::new());
        for ((name, category), (rows, releases)) in added {
            names.push(name);
            categories.push(category);
            credits.push(rows);
            counted.push(releases);
        }
        tx.execute(
            "INSERT INTO credits_delta (name, category, credits, releases)
             SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])",
            &[&names, &categories, &credits, &counted],
        )
        .await?;
    }
    Ok(())
}

/// Each release's id, year and credits.
fn credited<'a>(records: &[&'a Canonical]) -> Vec<(i64, Option<i64>, &'a [PersonCredit])> {
    facts::releases_of(records)
        .into_iter()
        .map(|release| (release.id, release.year, release.people.as_slice()))
        .collect()
}

/// A stored credit: name, role, category, artist id, year, whether it counts the release.
type StoredCredit = (String, String, String, Option<i64>, Option<i64>, bool);

/// The stored credits of releases `ids`, each release's in (name, role) order.
async fn stored_credits(
    tx: &Transaction<'_>,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<StoredCredit>>> {
    let rows = tx
        .query(
            "SELECT release_id, name, role, category, artist_id, year, counts_release
             FROM credits WHERE release_id = ANY($1)",
            &[&ids],
        )
        .await?;
    Ok(by_release(rows.into_iter().map(|row| {
        let credit = (
            row.get(1),
            row.get(2),
            row.get(3),
            row.get(4),
            row.get(5),
            row.get(6),
        );
        (row.get(0), credit)
    })))
}

/// Stored credits grouped by release, each release's in (name, role) order, as [`same_credits`]
/// compares them.
fn by_release(rows: impl Iterator<Item = (i64, StoredCredit)>) -> HashMap<i64, Vec<StoredCredit>> {
    let mut stored: HashMap<i64, Vec<StoredCredit>> = HashMap::new();
    for (release, credit) in rows {
        stored.entry(release).or_default().push(credit);
    }
    for credits in stored.values_mut() {
        credits.sort_unstable();
    }
    stored
}

/// Whether `stored` holds exactly the credits `people` of a release of `year` (`people` is in
/// (name, role) order, each pair once).
fn same_credits(stored: &[StoredCredit], year: Option<i64>, people: &[PersonCredit]) -> bool {
    stored.len() == people.len()
        && stored.iter().zip(people).all(|(old, new)| {
            old.0 == new.name
                && old.1 == new.role
                && old.2 == new.category.as_str()
                && old.3 == new.artist
                && old.4 == year
                && old.5 == new.counts_release
        })
}

/// Removes the credits of deleted releases, recording what that takes from the counts.
pub(super) async fn delete(tx: &Transaction<'_>, kind: Kind, ids: &[i64]) -> Result<()> {
    if kind == Kind::Releases {
        remove(tx, ids, true).await?;
    }
    Ok(())
}

async fn remove(tx: &Transaction<'_>, ids: &[i64], deltas: bool) -> Result<()> {
    if deltas {
        tx.execute(
            "INSERT INTO credits_delta (name, category, credits, releases)
             SELECT name, category, -count(*), -count(*) FILTER (WHERE counts_release)
             FROM credits WHERE release_id = ANY($1) GROUP BY name, category",
            &[&ids],
        )
        .await?;
    }
    tx.execute("DELETE FROM credits WHERE release_id = ANY($1)", &[&ids])
        .await?;
    Ok(())
}

/// Where an update's credits wait for [`insert_pending`].
const PENDING: &str = "credits_pending";

/// The columns of `credits` (and of `credits_pending`) that the ingest writes.
const COLUMNS: &str = "release_id, name, role, category, artist_id, year, counts_release";

/// Puts the rows waiting in `credits_pending` into `credits`, in the order of its index by name,
/// in one transaction. A month's new releases come at the end of its file; COPYed with them, each
/// of their credits read a random page of that index (at 4.75M releases 190,000 reads, ~60 s of
/// the month); in index order the pages are read nearly in sequence.
async fn insert_pending(client: &mut deadpool_postgres::Object) -> Result<()> {
    let started = Instant::now();
    let tx = client.transaction().await?;
    tx.batch_execute(&format!("SET LOCAL work_mem = '{COUNT_WORK_MEM}'"))
        .await?;
    let rows = tx
        .execute(
            &format!(
                "INSERT INTO credits ({COLUMNS}) SELECT {COLUMNS} FROM {PENDING}
                 ORDER BY {BY_NAME_KEY}"
            ),
            &[],
        )
        .await?;
    if rows > 0 {
        tx.batch_execute(&format!("TRUNCATE {PENDING}")).await?;
    }
    tx.commit().await?;
    if rows > 0 {
        tracing::info!(
            rows,
            seconds = started.elapsed().as_secs_f64(),
            "pending credits put in"
        );
    }
    Ok(())
}

/// A binary COPY into `table` (`credits` or [`PENDING`]), for [`write_row`].
async fn copy_in(tx: &Transaction<'_>, table: &str) -> Result<BinaryCopyInWriter> {
    let sink = tx
        .copy_in(&format!("COPY {table} ({COLUMNS}) FROM STDIN BINARY"))
        .await?;
    let types = [
        Type::INT8,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::BOOL,
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
            &person.category.as_str(),
            &person.artist,
            &year,
            &person.counts_release,
        ])
        .await?;
    Ok(())
}

/// Brings the credits up to date after an ingest's files: refilled from the stored releases when
/// they follow an older definition (or none: a database older than the credits), indexed if
/// [`prepare`] dropped the indexes, and the per-person counts counted in full (from the index by
/// name) when `full` (after a first load) or after a refill, otherwise moved by the recorded
/// deltas. Returns whether anything was written.
///
/// # Errors
///
/// A statement failed; the deltas stay for the next ingest.
pub async fn refresh(pool: &Pool, full: bool) -> Result<bool> {
    let refill = bookkeeping::credits_version(pool).await? != CREDITS_VERSION;
    if refill {
        refill_from_records(pool).await?;
    }
    let full = full || refill;
    let mut client = pool.get().await?;
    insert_pending(&mut client).await?;
    create_indexes(&**client).await?;
    if full {
        // Filled in bulk since the last statistics: without fresh ones the planner would scan
        // the whole table for the next month's lookups by release. The vacuum marks the new
        // rows visible to all, which the count below and the routes' index-only scans need.
        tracing::info!("vacuuming the credits");
        client.batch_execute("VACUUM (ANALYZE) credits").await?;
    }
    let tx = client.transaction().await?;
    let started = Instant::now();
    let changed = if full {
        tracing::info!("counting every person's credits");
        // One pass over the index by name, which holds all that is counted, in name order: a
        // hash of every (person, category) spills to disk at a quarter of the catalogue. Within
        // a person the index is by year, so its few rows are sorted by category on the way. A
        // person's totals come from its category rows. The person tables' indexes, as migration
        // 0009 defines them, are built once the tables are full.
        tx.batch_execute(&format!(
            "SET LOCAL work_mem = '{COUNT_WORK_MEM}';
             SET LOCAL enable_hashagg = off;
             SET LOCAL enable_seqscan = off;
             TRUNCATE people, person_categories, credits_delta;
             ALTER TABLE person_categories DROP CONSTRAINT person_categories_pkey;
             DROP INDEX person_categories_top;
             ALTER TABLE people DROP CONSTRAINT people_pkey;
             DROP INDEX people_search;
             INSERT INTO person_categories (name, category, credits, releases)
                 SELECT name, category, count(*), count(*) FILTER (WHERE counts_release)
                 FROM credits GROUP BY name, category;
             INSERT INTO people (name, credits)
                 SELECT name, sum(credits) FROM person_categories GROUP BY name;
             ALTER TABLE person_categories
                 ADD CONSTRAINT person_categories_pkey PRIMARY KEY (name, category);
             CREATE INDEX person_categories_top
                 ON person_categories (category, releases DESC, name);
             ALTER TABLE people ADD CONSTRAINT people_pkey PRIMARY KEY (name);
             CREATE INDEX people_search ON people USING gin (search)"
        ))
        .await?;
        true
    } else {
        let deltas: i64 = tx
            .query_one("SELECT count(*) FROM credits_delta", &[])
            .await?
            .get(0);
        if deltas > 0 {
            // The upserts go in key order: on a cold table of millions of people that costs about
            // 0.7 of the same rows in hash order.
            tx.batch_execute(
                "CREATE TEMP TABLE moved ON COMMIT DROP AS
                     SELECT name, category, sum(credits)::bigint AS credits,
                            sum(releases)::bigint AS releases
                     FROM credits_delta GROUP BY name, category;
                 INSERT INTO person_categories AS p (name, category, credits, releases)
                     SELECT name, category, credits, releases FROM moved ORDER BY name, category
                     ON CONFLICT (name, category) DO UPDATE
                     SET credits = p.credits + EXCLUDED.credits,
                         releases = p.releases + EXCLUDED.releases;
                 DELETE FROM person_categories p USING moved m
                     WHERE p.name = m.name AND p.category = m.category AND p.credits = 0;
                 INSERT INTO people AS p (name, credits)
                     SELECT name, sum(credits) FROM moved GROUP BY name ORDER BY name
                     ON CONFLICT (name) DO UPDATE SET credits = p.credits + EXCLUDED.credits;
                 DELETE FROM people p USING moved m WHERE p.name = m.name AND p.credits = 0;
                 TRUNCATE credits_delta",
            )
            .await?;
        }
        deltas > 0
    };
    tx.commit().await?;
    if changed {
        tracing::info!(
            seconds = started.elapsed().as_secs_f64(),
            full,
            "credit counts written"
        );
    }
    if full {
        client
            .batch_execute("ANALYZE people, person_categories")
            .await?;
    }
    Ok(changed)
}

/// Refills `credits` from every stored release's JSON, in one transaction that also records the
/// definition it follows: an interrupted refill leaves the tables as they were and runs again.
async fn refill_from_records(pool: &Pool) -> Result<()> {
    tracing::info!("filling the credits from the stored releases (once, after an upgrade)");
    let started = Instant::now();
    let reader = pool.get().await?;
    let mut writer = pool.get().await?;
    let tx = writer.transaction().await?;
    tx.batch_execute(&format!("TRUNCATE credits, {PENDING}"))
        .await?;
    let rows = reader
        .query_raw(
            "SELECT id, year, data::text FROM releases",
            std::iter::empty::<i64>(),
        )
        .await?;
    pin_mut!(rows);
    let writer = copy_in(&tx, "credits").await?;
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

/// The people credited on the same releases as a person, as [`connections`] counts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connections {
    /// The person's releases the counts come from: the newest `releases` asked for (undated
    /// last, then by id, newest first), or all of them.
    pub releases_counted: i64,
    /// Whether those are all the person's releases.
    pub complete: bool,
    /// (name, distinct releases shared), most shared first, ties by name.
    pub people: Vec<(String, i64)>,
}

/// The `limit` people credited most often beside `name` on its newest `releases` releases: a
/// person with more is counted over those, so that a hub costs what `releases` others do (every
/// credit of every release of a hub of 100,000 releases takes seconds; 2,000 take tens of ms).
///
/// # Errors
///
/// A query failed.
pub async fn connections(
    client: &impl GenericClient,
    name: &str,
    limit: i64,
    releases: i64,
) -> Result<Connections> {
    let newest = newest_releases(client, name, releases).await?;
    let people = client
        .query(
            "SELECT name, count(DISTINCT release_id) AS shared FROM credits
             WHERE release_id = ANY($1) AND name <> $2
             GROUP BY name ORDER BY shared DESC, name LIMIT $3",
            &[&newest.ids, &name, &limit],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    Ok(Connections {
        releases_counted: i64::try_from(newest.ids.len()).unwrap_or(i64::MAX),
        complete: newest.complete,
        people,
    })
}

/// A person's newest releases, as [`newest_releases`] reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewestReleases {
    /// Release ids, newest first (by year, undated last, then by id, highest first).
    pub ids: Vec<i64>,
    /// Whether those are all the person's releases.
    pub complete: bool,
}

/// Whether `name` is surely credited on more than `releases` releases, from the counts the
/// ingest keeps: it is if it has more in one category. (A person with no more in any category
/// may still have more in all; then only reading its releases tells.)
///
/// # Errors
///
/// The query failed.
pub async fn surely_more_releases(
    client: &impl GenericClient,
    name: &str,
    releases: i64,
) -> Result<bool> {
    let most: Option<i64> = client
        .query_one(
            "SELECT max(releases) FROM person_categories WHERE name = $1",
            &[&name],
        )
        .await?
        .get(0);
    Ok(most.is_some_and(|most| most > releases))
}

/// The newest `releases` releases `name` is credited on: what a question about a hub's
/// releases is answered over, so that it costs what `releases` others do.
///
/// # Errors
///
/// A query failed.
pub async fn newest_releases(
    client: &impl GenericClient,
    name: &str,
    releases: i64,
) -> Result<NewestReleases> {
    // Distinct (year, release) in the index's order stop after the window: one more than asked
    // tells whether there are more.
    let mut ids: Vec<i64> = client
        .query(
            "SELECT DISTINCT year, release_id FROM credits WHERE name = $1
             ORDER BY year DESC NULLS LAST, release_id DESC LIMIT $2",
            &[&name, &releases.saturating_add(1)],
        )
        .await?
        .iter()
        .map(|row| row.get(1))
        .collect();
    let complete = i64::try_from(ids.len()).unwrap_or(i64::MAX) <= releases;
    ids.truncate(usize::try_from(releases).unwrap_or(usize::MAX));
    Ok(NewestReleases { ids, complete })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::role::Category;

    fn credit(name: &str, role: &str, artist: Option<i64>) -> PersonCredit {
        PersonCredit {
            name: name.to_owned(),
            role: role.to_owned(),
            category: Category::Production,
            artist,
            counts_release: true,
        }
    }

    fn stored(people: &[PersonCredit], year: Option<i64>) -> Vec<StoredCredit> {
        people
            .iter()
            .map(|person| {
                (
                    person.name.clone(),
                    person.role.clone(),
                    person.category.as_str().to_owned(),
                    person.artist,
                    year,
                    person.counts_release,
                )
            })
            .collect()
    }

    #[test]
    fn credits_are_rewritten_only_when_they_differ() {
        let people = [
            credit("A", "Producer", Some(1)),
            credit("A", "Remix", Some(1)),
            credit("B", "Mixed By", None),
        ];
        // Read back in another order than the release lists them.
        let mut rows = stored(&people, Some(1990));
        rows.reverse();
        let kept = by_release(rows.into_iter().map(|credit| (5, credit)));
        let kept = kept[&5].as_slice();
        assert!(same_credits(kept, Some(1990), &people));
        assert!(same_credits(&[], Some(1990), &[]), "none before or after");
        assert!(!same_credits(&[], Some(1990), &people), "none stored");
        assert!(!same_credits(kept, Some(1991), &people), "another year");
        assert!(!same_credits(kept, None, &people), "no year");
        assert!(!same_credits(kept, Some(1990), &people[..2]), "one less");
        let edited = |edit: fn(&mut [PersonCredit])| {
            let mut edited = people.clone();
            edit(&mut edited);
            !same_credits(kept, Some(1990), &edited)
        };
        assert!(edited(|p| p[2].artist = Some(2)), "another id");
        assert!(
            edited(|p| p[1].role = "Remixed By".to_owned()),
            "another role"
        );
        assert!(
            edited(|p| p[2].category = Category::Mastering),
            "another category"
        );
        assert!(edited(|p| p[2].counts_release = false), "counted");
    }
}
