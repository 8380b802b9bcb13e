//! What the graph aggregates, the profiles and the insights count, kept in PostgreSQL beside the
//! records: per release its year, main artists, labels, genres, styles, country and formats, and
//! the title a person's credits are ordered by (`release_facts`), per master its genres, styles
//! and year (`master_facts`), and each release under each of its genres and styles, main artists
//! and labels by year (`release_tags`, `release_artists`, `release_labels`: what the API pages a
//! genre's, style's, artist's or label's releases from), written in the transaction that writes
//! or deletes the records, so they always agree with them. An update journals the old and new
//! facts of what it changed in the same transactions (`facts_journal`), which the aggregates then
//! move by (`store::deltas`); the artists and labels whose releases it changed, before and after,
//! are listed in `aggregate_touched`, so that only their counts are written to the graph, even
//! after a crash between the records and the aggregates. [`tally`] recounts everything from these
//! narrow tables, for aggregates whose definitions changed.

use std::collections::HashMap;

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
/// what was there). An updated release's kept rows are taken out and written again only where
/// they differ from what is stored: a release edited outside what they keep (its tracks, its
/// notes, its credits) leaves them as they are. With `touched`, the artists and labels of the
/// old and new versions of the releases whose counted facts differ (and of the new ones) are
/// listed as touched, and those old and new facts journaled for the aggregates to move by.
pub(super) async fn write(
    tx: &Transaction<'_>,
    kind: Kind,
    inserts: &[&Canonical],
    updates: &[&Canonical],
    touched: bool,
) -> Result<()> {
    match kind {
        Kind::Releases => write_releases(tx, inserts, updates, touched).await,
        Kind::Masters => write_masters(tx, inserts, updates, touched).await,
        Kind::Artists | Kind::Labels => Ok(()),
    }
}

async fn write_releases(
    tx: &Transaction<'_>,
    inserts: &[&Canonical],
    updates: &[&Canonical],
    touched: bool,
) -> Result<()> {
    let (inserted, updated) = (releases_of(inserts), releases_of(updates));
    let stored = if updated.is_empty() {
        HashMap::new()
    } else {
        let ids: Vec<i64> = updated.iter().map(|release| release.id).collect();
        stored_releases(tx, &ids).await?
    };
    let updated: Vec<(&ReleaseFacts, Changed)> = updated
        .into_iter()
        .map(|release| (release, Changed::between(stored.get(&release.id), release)))
        .collect();
    // The updated releases whose kept rows of one kind changed.
    let changed = |pick: fn(&Changed) -> bool| {
        let updated = updated.iter().filter(move |(_, changed)| pick(changed));
        updated.map(|&(release, _)| release)
    };
    let ids = |pick| -> Vec<i64> { changed(pick).map(|release| release.id).collect() };
    let replaced = ids(|changed| changed.facts);
    if !replaced.is_empty() {
        let counted = ids(|changed| changed.counted);
        if touched && !counted.is_empty() {
            journal(tx, Kind::Releases, &counted, -1).await?;
            touch_stored(tx, &counted).await?;
        }
        untag_stored(
            tx,
            &[],
            &ids(|changed| changed.artists),
            &ids(|changed| changed.labels),
        )
        .await?;
        tx.execute("DELETE FROM release_facts WHERE id = ANY($1)", &[&replaced])
            .await?;
    }
    // What is written: every new release, and of the updated ones what changed.
    let written =
        |pick| -> Vec<&ReleaseFacts> { inserted.iter().copied().chain(changed(pick)).collect() };
    let counted = written(|changed| changed.counted);
    if touched {
        let (mut artists, mut labels) = (Vec::new(), Vec::new());
        for release in &counted {
            artists.extend(&release.shared.by);
            labels.extend(release.labels.iter().map(|(label, _)| *label));
        }
        touch(tx, artists, labels).await?;
    }
    copy_releases(tx, &written(|changed| changed.facts)).await?;
    // An updated release's tags change by a row or two (a style more, say), unless its year
    // changed: only the rows that differ go and come, each through the index of a big table.
    let (mut gone, mut tags) = (Vec::new(), Vec::new());
    for release in &inserted {
        tags.extend(release_tag_rows(release));
    }
    for release in changed(|changed| changed.tags) {
        let new = release_tag_rows(release);
        let old = stored.get(&release.id).map_or_else(Vec::new, |old| {
            tag_rows(release.id, old.year, &old.genres, &old.styles)
        });
        gone.extend(old.iter().filter(|row| !new.contains(row)).cloned());
        tags.extend(new.into_iter().filter(|row| !old.contains(row)));
    }
    untag(tx, &gone).await?;
    copy_tags(tx, &tags).await?;
    copy_pages(
        tx,
        "release_artists",
        "artist_id",
        &written(|changed| changed.artists),
        |r| r.shared.by.clone(),
    )
    .await?;
    copy_pages(
        tx,
        "release_labels",
        "label_id",
        &written(|changed| changed.labels),
        ReleaseFacts::label_ids,
    )
    .await?;
    if touched {
        let ids: Vec<i64> = counted.iter().map(|release| release.id).collect();
        journal(tx, Kind::Releases, &ids, 1).await?;
    }
    Ok(())
}

async fn write_masters(
    tx: &Transaction<'_>,
    inserts: &[&Canonical],
    updates: &[&Canonical],
    touched: bool,
) -> Result<()> {
    if !updates.is_empty() {
        let ids: Vec<i64> = updates.iter().map(|record| record.id).collect();
        if touched {
            journal(tx, Kind::Masters, &ids, -1).await?;
        }
        tx.execute("DELETE FROM master_facts WHERE id = ANY($1)", &[&ids])
            .await?;
    }
    let records = || inserts.iter().chain(updates).copied();
    copy_masters(tx, records()).await?;
    if touched {
        let ids: Vec<i64> = records().map(|record| record.id).collect();
        journal(tx, Kind::Masters, &ids, 1).await?;
    }
    Ok(())
}

/// What `release_facts` keeps of a release.
struct StoredRelease {
    title: Option<String>,
    year: Option<i64>,
    artists: Vec<i64>,
    labels: Vec<i64>,
    genres: Vec<String>,
    styles: Vec<String>,
    country: Option<String>,
    formats: Vec<String>,
}

/// The kept facts of those of releases `ids` that have them.
async fn stored_releases(tx: &Transaction<'_>, ids: &[i64]) -> Result<HashMap<i64, StoredRelease>> {
    let rows = tx
        .query(
            "SELECT id, year, artists, labels, genres, styles, country, formats, title
             FROM release_facts WHERE id = ANY($1)",
            &[&ids],
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let stored = StoredRelease::new(
                row.get(1),
                (row.get(2), row.get(3)),
                (row.get(4), row.get(5)),
                (row.get(6), row.get(7)),
                row.get(8),
            );
            (row.get(0), stored)
        })
        .collect())
}

impl StoredRelease {
    /// A stored row's facts as sets, as the new facts are: rows backfilled from JSON may be
    /// unsorted or repeat themselves.
    fn new(
        year: Option<i64>,
        (artists, labels): (Vec<i64>, Vec<i64>),
        (genres, styles): (Vec<String>, Vec<String>),
        (country, formats): (Option<String>, Vec<String>),
        title: Option<String>,
    ) -> StoredRelease {
        StoredRelease {
            title,
            year,
            artists: set(artists),
            labels: set(labels),
            genres: set(genres),
            styles: set(styles),
            country,
            formats: set(formats),
        }
    }
}

/// Which of a release's kept rows a new version changes: its `release_facts` row, what of it the
/// aggregates count (so its journal entries and touched owners: all but the country and the
/// title), its `release_tags`, `release_artists` and `release_labels` rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Changed {
    facts: bool,
    counted: bool,
    tags: bool,
    artists: bool,
    labels: bool,
}

impl Changed {
    fn between(stored: Option<&StoredRelease>, new: &ReleaseFacts) -> Changed {
        let Some(old) = stored else {
            return Changed {
                facts: true,
                counted: true,
                tags: true,
                artists: true,
                labels: true,
            };
        };
        // Every page row carries the year.
        let year = old.year != new.year;
        let tags = year || old.genres != new.shared.genres || old.styles != new.shared.styles;
        let artists = year || old.artists != new.shared.by;
        let labels = year || old.labels != new.label_ids();
        let counted = tags || artists || labels || old.formats != new.formats;
        Changed {
            facts: counted || old.country != new.country || old.title != new.title,
            counted,
            tags,
            artists,
            labels,
        }
    }
}

/// Removes the facts of deleted records of `kind`, listing the artists and labels of deleted
/// releases as touched.
pub(super) async fn delete(tx: &Transaction<'_>, kind: Kind, ids: &[i64]) -> Result<()> {
    match kind {
        Kind::Releases => {
            journal(tx, kind, ids, -1).await?;
            touch_stored(tx, ids).await?;
            untag_stored(tx, ids, ids, ids).await?;
            tx.execute("DELETE FROM release_facts WHERE id = ANY($1)", &[&ids])
                .await?;
        }
        Kind::Masters => {
            journal(tx, kind, ids, -1).await?;
            tx.execute("DELETE FROM master_facts WHERE id = ANY($1)", &[&ids])
                .await?;
        }
        Kind::Artists | Kind::Labels => {}
    }
    Ok(())
}

/// The release facts of `records`.
pub(super) fn releases_of<'a>(records: &[&'a Canonical]) -> Vec<&'a ReleaseFacts> {
    records
        .iter()
        .filter_map(|record| match &record.graph {
            GraphFacts::Release(release) => Some(release),
            _ => None,
        })
        .collect()
}

/// Journals the stored facts of records `ids` of `kind` with `sign`: -1 for a version about to be
/// replaced or deleted, 1 for one just written.
async fn journal(tx: &Transaction<'_>, kind: Kind, ids: &[i64], sign: i16) -> Result<()> {
    let statement = match kind {
        Kind::Releases => {
            "INSERT INTO facts_journal (sign, master, year, artists, labels, genres, styles, formats)
             SELECT $2, false, year, artists, labels, genres, styles, formats
             FROM release_facts WHERE id = ANY($1)"
        }
        Kind::Masters => {
            "INSERT INTO facts_journal (sign, master, year, artists, labels, genres, styles, formats)
             SELECT $2, true, NULL, '{}', '{}', genres, styles, '{}'
             FROM master_facts WHERE id = ANY($1)"
        }
        Kind::Artists | Kind::Labels => return Ok(()),
    };
    tx.execute(statement, &[&ids, &sign]).await?;
    Ok(())
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

/// Takes the stored releases `tags` out of `release_tags`, `artists` out of `release_artists`
/// and `labels` out of `release_labels`, through the facts they were written from (so, before
/// those are replaced or deleted), each row found through its table's index.
async fn untag_stored(
    tx: &Transaction<'_>,
    tags: &[i64],
    artists: &[i64],
    labels: &[i64],
) -> Result<()> {
    if !tags.is_empty() {
        tx.execute(
            "DELETE FROM release_tags t
             USING (SELECT false AS style, unnest(genres) AS tag,
                           coalesce(year, 0)::integer AS year, id
                    FROM release_facts WHERE id = ANY($1)
                    UNION ALL
                    SELECT true, unnest(styles), coalesce(year, 0)::integer, id
                    FROM release_facts WHERE id = ANY($1)) stored
             WHERE t.style = stored.style AND t.tag = stored.tag AND t.year = stored.year
               AND t.release_id = stored.id",
            &[&tags],
        )
        .await?;
    }
    for (table, column, facts, ids) in [
        ("release_artists", "artist_id", "artists", artists),
        ("release_labels", "label_id", "labels", labels),
    ] {
        if ids.is_empty() {
            continue;
        }
        let statement = format!(
            "DELETE FROM {table} t
             USING (SELECT unnest({facts}) AS owner, coalesce(year, 0)::integer AS year, id
                    FROM release_facts WHERE id = ANY($1)) stored
             WHERE t.{column} = stored.owner AND t.year = stored.year AND t.release_id = stored.id"
        );
        tx.execute(&statement, &[&ids]).await?;
    }
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

async fn copy_releases(tx: &Transaction<'_>, releases: &[&ReleaseFacts]) -> Result<()> {
    let sink = tx
        .copy_in(
            "COPY release_facts (id, year, artists, labels, genres, styles, country, formats, title)
             FROM STDIN BINARY",
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
        Type::TEXT,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for release in releases {
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
                &release.title,
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

/// A release's year as the page tables keep it: 0 for none. Release years are four-digit
/// (`record::release`); one that did not fit is no year.
fn page_year(year: Option<i64>) -> i32 {
    year.and_then(|year| i32::try_from(year).ok()).unwrap_or(0)
}

/// A `release_tags` row: whether the tag is a style, the tag, the release's year, its id.
type TagRow<'a> = (bool, &'a str, i32, i64);

/// The `release_tags` rows of release `id` of `year` with `genres` and `styles`.
fn tag_rows<'a>(
    id: i64,
    year: Option<i64>,
    genres: &'a [String],
    styles: &'a [String],
) -> Vec<TagRow<'a>> {
    let year = page_year(year);
    let genres = genres.iter().map(|tag| (false, tag.as_str(), year, id));
    genres
        .chain(styles.iter().map(|tag| (true, tag.as_str(), year, id)))
        .collect()
}

/// The `release_tags` rows of `release` as it is now.
fn release_tag_rows(release: &ReleaseFacts) -> Vec<TagRow<'_>> {
    let shared = &release.shared;
    tag_rows(release.id, release.year, &shared.genres, &shared.styles)
}

/// Takes `rows` out of `release_tags`.
async fn untag(tx: &Transaction<'_>, rows: &[TagRow<'_>]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let styles: Vec<bool> = rows.iter().map(|row| row.0).collect();
    let tags: Vec<&str> = rows.iter().map(|row| row.1).collect();
    let years: Vec<i32> = rows.iter().map(|row| row.2).collect();
    let ids: Vec<i64> = rows.iter().map(|row| row.3).collect();
    tx.execute(
        "DELETE FROM release_tags t
         USING unnest($1::boolean[], $2::text[], $3::integer[], $4::bigint[])
             AS g(style, tag, year, release_id)
         WHERE t.style = g.style AND t.tag = g.tag AND t.year = g.year
           AND t.release_id = g.release_id",
        &[&styles, &tags, &years, &ids],
    )
    .await?;
    Ok(())
}

/// Writes `rows` into `release_tags`.
async fn copy_tags(tx: &Transaction<'_>, rows: &[TagRow<'_>]) -> Result<()> {
    let sink = tx
        .copy_in("COPY release_tags (style, tag, year, release_id) FROM STDIN BINARY")
        .await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::BOOL, Type::TEXT, Type::INT4, Type::INT8]);
    pin_mut!(writer);
    for (style, tag, year, id) in rows {
        writer.as_mut().write(&[style, tag, year, id]).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Each release under each of the ids `owners` gives (its main artists, or its labels), with its
/// year, into `table`, whose `owner` column holds those ids.
async fn copy_pages(
    tx: &Transaction<'_>,
    table: &str,
    owner: &str,
    releases: &[&ReleaseFacts],
    owners: impl Fn(&ReleaseFacts) -> Vec<i64>,
) -> Result<()> {
    let statement = format!("COPY {table} ({owner}, year, release_id) FROM STDIN BINARY");
    let sink = tx.copy_in(&statement).await?;
    let writer = BinaryCopyInWriter::new(sink, &[Type::INT8, Type::INT4, Type::INT8]);
    pin_mut!(writer);
    for release in releases {
        let year = page_year(release.year);
        for owner in owners(release) {
            writer.as_mut().write(&[&owner, &year, &release.id]).await?;
        }
    }
    writer.finish().await?;
    Ok(())
}

/// A table the API pages releases from, with its index as migrations 0015 and 0017 define it.
struct PageTable {
    table: &'static str,
    index: &'static str,
    columns: &'static str,
    /// What the releases are indexed by, for the log.
    by: &'static str,
}

const PAGE_TABLES: [PageTable; 3] = [
    PageTable {
        table: "release_tags",
        index: "release_tags_page",
        columns: "style, tag, year DESC, release_id",
        by: "genre, style",
    },
    PageTable {
        table: "release_artists",
        index: "release_artists_page",
        columns: "artist_id, year DESC, release_id",
        by: "artist",
    },
    PageTable {
        table: "release_labels",
        index: "release_labels_page",
        columns: "label_id, year DESC, release_id",
        by: "label",
    },
];

/// The indexes [`prepare`] dropped before a first load, built once the releases are in (or
/// again, after a first load that was cut short).
///
/// # Errors
///
/// A statement failed.
pub async fn create_indexes(pool: &Pool) -> Result<()> {
    let client = pool.get().await?;
    for page in &PAGE_TABLES {
        page.create_index(&**client).await?;
    }
    Ok(())
}

impl PageTable {
    /// Builds the table's index if it is missing.
    async fn create_index(&self, client: &impl GenericClient) -> Result<()> {
        let missing = client
            .query_opt(
                "SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname = $2",
                &[&self.table, &self.index],
            )
            .await?
            .is_none();
        if missing {
            tracing::info!("indexing the releases by {} and year", self.by);
            let started = std::time::Instant::now();
            let statement = format!(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                self.index, self.table, self.columns
            );
            client.batch_execute(&statement).await?;
            tracing::info!(
                seconds = started.elapsed().as_secs_f64(),
                "releases indexed by {} and year",
                self.by
            );
        }
        Ok(())
    }
}

/// Before the records are written: a first load (no release in the page tables yet) fills them
/// without their indexes, which [`create_indexes`] builds once at the end, faster than keeping
/// them up row by row; tables with rows get back the indexes an interrupted first load left
/// dropped.
///
/// # Errors
///
/// A statement failed.
pub async fn prepare(pool: &Pool) -> Result<()> {
    let client = pool.get().await?;
    for page in &PAGE_TABLES {
        let statement = format!("SELECT 1 FROM {} LIMIT 1", page.table);
        if client.query_opt(&statement, &[]).await?.is_none() {
            let statement = format!("DROP INDEX IF EXISTS {}", page.index);
            client.batch_execute(&statement).await?;
        } else {
            page.create_index(&**client).await?;
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::graph::{ReferenceNames, SharedFacts};

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|&item| item.to_owned()).collect()
    }

    fn release(year: Option<i64>, labels: &[(i64, &str)], styles: &[&str]) -> ReleaseFacts {
        ReleaseFacts {
            id: 1,
            title: Some("Title".to_owned()),
            year,
            country: Some("UK".to_owned()),
            formats: strings(&["Vinyl"]),
            credits: Vec::new(),
            labels: labels
                .iter()
                .map(|&(label, catno)| (label, catno.to_owned()))
                .collect(),
            master: None,
            shared: SharedFacts {
                by: vec![7, 8],
                genres: strings(&["Rock"]),
                styles: strings(styles),
            },
            names: ReferenceNames::default(),
            people: Vec::new(),
        }
    }

    /// What `release_facts` holds for `release`, unsorted and repeated as a backfill may leave it.
    fn stored(release: &ReleaseFacts) -> StoredRelease {
        let shuffled = |mut items: Vec<i64>| {
            items.reverse();
            items.extend(items.clone());
            items
        };
        let mut styles = release.shared.styles.clone();
        styles.reverse();
        StoredRelease::new(
            release.year,
            (
                shuffled(release.shared.by.clone()),
                shuffled(release.label_ids()),
            ),
            (release.shared.genres.clone(), styles),
            (release.country.clone(), release.formats.clone()),
            release.title.clone(),
        )
    }

    fn changed(counted: bool, tags: bool, artists: bool, labels: bool) -> Changed {
        Changed {
            facts: true,
            counted,
            tags,
            artists,
            labels,
        }
    }

    #[test]
    fn an_update_rewrites_only_the_kept_rows_that_differ() {
        let old = release(Some(1990), &[(3, "A-1"), (4, "B-1")], &["Punk", "Ska"]);
        let unchanged = Changed {
            facts: false,
            counted: false,
            tags: false,
            artists: false,
            labels: false,
        };
        let edit = |change: fn(&mut ReleaseFacts)| {
            let mut new = old.clone();
            change(&mut new);
            new
        };
        let cases = [
            (
                "another title",
                edit(|r| r.title = None),
                changed(false, false, false, false),
            ),
            (
                "another catalogue number",
                edit(|r| r.labels.push((4, "B-2".to_owned()))),
                unchanged,
            ),
            (
                "credits only",
                edit(|r| r.credits.push((9, "Producer".to_owned()))),
                unchanged,
            ),
            (
                "a style more",
                edit(|r| r.shared.styles.push("Surf".to_owned())),
                changed(true, true, false, false),
            ),
            (
                "another genre",
                edit(|r| r.shared.genres = strings(&["Pop"])),
                changed(true, true, false, false),
            ),
            (
                "another year",
                edit(|r| r.year = Some(1991)),
                changed(true, true, true, true),
            ),
            (
                "no year",
                edit(|r| r.year = None),
                changed(true, true, true, true),
            ),
            (
                "a label less",
                edit(|r| r.labels.truncate(1)),
                changed(true, false, false, true),
            ),
            (
                "an artist less",
                edit(|r| r.shared.by.truncate(1)),
                changed(true, false, true, false),
            ),
            (
                "another format",
                edit(|r| r.formats = strings(&["CD"])),
                changed(true, false, false, false),
            ),
            (
                "another country",
                edit(|r| r.country = Some("US".to_owned())),
                changed(false, false, false, false),
            ),
        ];
        for (case, new, expected) in cases {
            assert_eq!(
                Changed::between(Some(&stored(&old)), &new),
                expected,
                "{case}"
            );
        }
        assert_eq!(
            Changed::between(None, &old),
            changed(true, true, true, true),
            "nothing stored"
        );
    }
}
