//! The catalogue insights of API-ANALYTICS.md §5, computed by the ingest once the graph is
//! finished and before the generation that publishes them: the most connected artists, the
//! longest-lived labels, this year's milestone anniversaries of masters, and how complete the
//! records are. Genre trends need nothing of their own: the routes read the year counts the graph
//! aggregates keep on each genre.
//!
//! Each insight reads what answers it cheapest (relationship counts from Neo4j's node degrees, a
//! label's years from its profile, the rest from PostgreSQL's narrow fact tables, never the
//! records' JSON) and replaces its table in one transaction; `insight_log` records each
//! computation, and a failed one leaves the previous answer in place.

use std::future::Future;
use std::time::Instant;

use deadpool_postgres::Pool;
use neo4rs::{Graph, query};
use tokio_postgres::types::ToSql;

use super::{Error, postgres};

/// Artists kept in the centrality ranking: the route's largest `limit`.
pub const TOP_ARTISTS: i64 = 500;
/// Labels kept in the longevity ranking: the route's largest `limit`.
pub const LONGEST_LIVED_LABELS: i64 = 200;
/// Anniversaries kept: the route's largest `limit`.
pub const ANNIVERSARIES: i64 = 500;
/// The anniversaries, in years, that count as milestones.
pub const MILESTONES: [i64; 6] = [25, 30, 40, 50, 75, 100];
/// A label is still active if its latest release is at most this many years old.
const STILL_ACTIVE_YEARS: i32 = 2;

/// The insights the ingest computes, as `insight_log` names them.
pub const ARTIST_CENTRALITY: &str = "artist_centrality";
pub const GENRE_TRENDS: &str = "genre_trends";
pub const LABEL_LONGEVITY: &str = "label_longevity";
pub const ANNIVERSARIES_INSIGHT: &str = "anniversaries";
pub const DATA_COMPLETENESS: &str = "data_completeness";

/// Whether some insight has never been computed (a database older than the insights).
///
/// # Errors
///
/// The query failed.
pub async fn missing(pool: &Pool) -> postgres::Result<bool> {
    let insights = [
        ARTIST_CENTRALITY,
        GENRE_TRENDS,
        LABEL_LONGEVITY,
        ANNIVERSARIES_INSIGHT,
        DATA_COMPLETENESS,
    ];
    let computed: i64 = pool
        .get()
        .await?
        .query_one(
            "SELECT count(*) FROM insight_log WHERE insight_type = ANY($1)",
            &[&insights.as_slice()],
        )
        .await?
        .get(0);
    Ok(computed < insights.len() as i64)
}

/// Computes every insight; `aggregate_seconds` is what the graph aggregates (and with them the
/// genre trends) took. An insight that fails is logged as failed and keeps its previous answer;
/// only a failure to log stops the ingest.
///
/// # Errors
///
/// The log could not be written.
pub async fn compute(pool: &Pool, graph: &Graph, aggregate_seconds: f64) -> postgres::Result<()> {
    tracing::info!("computing the insights");
    let started = Instant::now();
    log(pool, GENRE_TRENDS, true, aggregate_seconds).await?;
    // Side by side: each waits mostly on one store or the other, and none reads what another
    // writes.
    tokio::try_join!(
        Box::pin(timed(pool, ARTIST_CENTRALITY, top_artists(pool, graph))),
        Box::pin(timed(pool, LABEL_LONGEVITY, label_longevity(pool, graph))),
        Box::pin(timed(
            pool,
            ANNIVERSARIES_INSIGHT,
            anniversaries(pool, graph)
        )),
        Box::pin(timed(pool, DATA_COMPLETENESS, completeness(pool))),
    )?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "insights computed"
    );
    Ok(())
}

/// Marks the insights computed since the last call as published by `generation`.
///
/// # Errors
///
/// The statement failed.
pub async fn stamp(pool: &Pool, generation: i64) -> postgres::Result<()> {
    pool.get()
        .await?
        .execute(
            "UPDATE insight_log SET generation = $1 WHERE generation IS NULL",
            &[&generation],
        )
        .await?;
    Ok(())
}

async fn timed(
    pool: &Pool,
    insight: &str,
    computation: impl Future<Output = Result<(), Error>>,
) -> postgres::Result<()> {
    let started = Instant::now();
    let outcome = computation.await;
    let seconds = started.elapsed().as_secs_f64();
    match &outcome {
        Ok(()) => tracing::info!(insight, seconds, "insight computed"),
        Err(error) => tracing::warn!(insight, %error, "insight failed; its previous answer stays"),
    }
    log(pool, insight, outcome.is_ok(), seconds).await
}

async fn log(pool: &Pool, insight: &str, completed: bool, seconds: f64) -> postgres::Result<()> {
    let status = if completed { "completed" } else { "failed" };
    // Whole milliseconds: far below what any computation takes.
    let duration_ms = (seconds * 1000.0).round() as i64;
    pool.get()
        .await?
        .execute(
            "INSERT INTO insight_log (insight_type, status, last_computed, duration_ms, generation)
             VALUES ($1, $2, now(), $3, NULL)
             ON CONFLICT (insight_type) DO UPDATE
             SET status = EXCLUDED.status, last_computed = EXCLUDED.last_computed,
                 duration_ms = EXCLUDED.duration_ms, generation = NULL",
            &[&insight, &status, &duration_ms],
        )
        .await?;
    Ok(())
}

/// Replaces `table`'s rows with what `insert` (one statement over `params`) writes, in one
/// transaction.
async fn replace(
    pool: &Pool,
    table: &str,
    insert: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<(), Error> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
    tx.execute(insert, params).await?;
    tx.commit().await?;
    Ok(())
}

/// The artists with the most relationships of any type and direction (ties by id).
async fn top_artists(pool: &Pool, graph: &Graph) -> Result<(), Error> {
    let mut rows = graph
        .execute(
            query(
                "MATCH (a:Artist) WHERE a.name IS NOT NULL
                 WITH a, COUNT { (a)--() } AS edges
                 ORDER BY edges DESC, a.id LIMIT $limit
                 RETURN a.id AS id, a.name AS name, edges",
            )
            .param("limit", TOP_ARTISTS),
        )
        .await?;
    let (mut ids, mut names, mut edges) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(row) = rows.next().await? {
        ids.push(row.get::<i64>("id")?);
        names.push(row.get::<String>("name")?);
        edges.push(row.get::<i64>("edges")?);
    }
    replace(
        pool,
        "insight_top_artists",
        "INSERT INTO insight_top_artists (rank, artist_id, artist_name, edge_count)
         SELECT n::int, id, name, edges FROM unnest($1::bigint[], $2::text[], $3::bigint[])
             WITH ORDINALITY AS t(id, name, edges, n)",
        &[&ids, &names, &edges],
    )
    .await
}

/// The labels whose dated releases span the most years (then the most dated releases, then by
/// id), with the decade of most releases (the earliest of equals), read from the labels' year
/// histograms in `label_profiles` (years ascending), not from every release.
async fn label_longevity(pool: &Pool, graph: &Graph) -> Result<(), Error> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "WITH spans AS (
                 SELECT label_id AS label, years[1] AS first_year,
                        years[cardinality(years)] AS last_year,
                        (SELECT sum(n) FROM unnest(year_counts) AS n)::bigint AS total
                 FROM label_profiles WHERE cardinality(years) > 0
                 ORDER BY years[cardinality(years)] - years[1] DESC, 4 DESC, label_id LIMIT $1),
             decades AS (
                 SELECT DISTINCT ON (label) label, decade FROM (
                     SELECT s.label, y.year / 10 * 10 AS decade, sum(y.releases) AS releases
                     FROM spans s JOIN label_profiles p ON p.label_id = s.label,
                          unnest(p.years, p.year_counts) AS y(year, releases)
                     GROUP BY 1, 2) d
                 ORDER BY label, releases DESC, decade)
             SELECT s.label, s.first_year::int, s.last_year::int, s.total, d.decade::int
             FROM spans s JOIN decades d USING (label)
             ORDER BY s.last_year - s.first_year DESC, s.total DESC, s.label",
            &[&LONGEST_LIVED_LABELS],
        )
        .await?;
    drop(client);
    let ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
    let mut found = graph
        .execute(
            query("MATCH (l:Label) WHERE l.id IN $ids RETURN l.id AS id, l.name AS name")
                .param("ids", ids),
        )
        .await?;
    let mut named = std::collections::HashMap::new();
    while let Some(row) = found.next().await? {
        if let Ok(name) = row.get::<String>("name") {
            named.insert(row.get::<i64>("id")?, name);
        }
    }
    let labels: Vec<_> = rows
        .iter()
        .filter_map(|row| Some((row, named.get(&row.get::<_, i64>(0))?.clone())))
        .collect();
    let column =
        |index: usize| -> Vec<i32> { labels.iter().map(|(row, _)| row.get(index)).collect() };
    let (first, last, decade) = (column(1), column(2), column(4));
    let ids: Vec<i64> = labels.iter().map(|(row, _)| row.get(0)).collect();
    let totals: Vec<i64> = labels.iter().map(|(row, _)| row.get(3)).collect();
    let names: Vec<&str> = labels.iter().map(|(_, name)| name.as_str()).collect();
    replace(
        pool,
        "insight_label_longevity",
        &format!(
            "INSERT INTO insight_label_longevity
                 (rank, label_id, label_name, first_year, last_year, total_releases, peak_decade, still_active)
             SELECT n::int, id, name, first, last, total, decade,
                    last >= extract(year FROM now())::int - {STILL_ACTIVE_YEARS}
             FROM unnest($1::bigint[], $2::text[], $3::int[], $4::int[], $5::bigint[], $6::int[])
                 WITH ORDINALITY AS t(id, name, first, last, total, decade, n)"
        ),
        &[&ids, &names, &first, &last, &totals, &decade],
    )
    .await
}

/// Masters released a milestone number of years before this year: the oldest milestone first,
/// then the masters with the most releases, then by id.
async fn anniversaries(pool: &Pool, graph: &Graph) -> Result<(), Error> {
    let mut rows = graph
        .execute(
            query(
                "WITH date().year AS now
                 UNWIND $milestones AS anniversary
                 MATCH (m:Master) WHERE m.year = now - anniversary AND m.title IS NOT NULL
                 WITH m, anniversary, COUNT { (m)<-[:DERIVED_FROM]-(:Release) } AS releases
                 ORDER BY anniversary DESC, releases DESC, m.id LIMIT $limit
                 RETURN m.id AS id, m.title AS title, m.year AS year, anniversary, releases,
                        COLLECT { MATCH (m)-[:BY]->(a:Artist) WHERE a.name IS NOT NULL
                                  RETURN a.name ORDER BY a.id LIMIT 1 } AS artists",
            )
            .param("milestones", MILESTONES.to_vec())
            .param("limit", ANNIVERSARIES),
        )
        .await?;
    let (mut ids, mut titles, mut artists) = (Vec::new(), Vec::new(), Vec::new());
    let (mut years, mut milestones, mut releases) = (Vec::new(), Vec::new(), Vec::new());
    while let Some(row) = rows.next().await? {
        ids.push(row.get::<i64>("id")?);
        titles.push(row.get::<String>("title")?);
        artists.push(row.get::<Vec<String>>("artists")?.into_iter().next());
        years.push(row.get::<i64>("year")?);
        milestones.push(row.get::<i64>("anniversary")?);
        releases.push(row.get::<i64>("releases")?);
    }
    replace(
        pool,
        "insight_anniversaries",
        "INSERT INTO insight_anniversaries
             (rank, master_id, title, artist_name, release_year, anniversary, release_count, year, month)
         SELECT n::int, id, title, artist, release_year::int, anniversary::int, releases,
                extract(year FROM now() AT TIME ZONE 'UTC')::int,
                extract(month FROM now() AT TIME ZONE 'UTC')::int
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
             WITH ORDINALITY AS t(id, title, artist, release_year, anniversary, releases, n)",
        &[&ids, &titles, &artists, &years, &milestones, &releases],
    )
    .await
}

/// How many records of each type have each checked field. The records keep no images, so no type
/// checks them; artists and labels have no field checked at all.
async fn completeness(pool: &Pool) -> Result<(), Error> {
    replace(
        pool,
        "insight_completeness",
        "INSERT INTO insight_completeness
             (entity_type, total_count, with_image, with_year, with_country, with_genre)
         SELECT 'artists', (SELECT count(*) FROM artists),
                NULL::bigint, NULL::bigint, NULL::bigint, NULL::bigint
         UNION ALL SELECT 'labels', (SELECT count(*) FROM labels), NULL, NULL, NULL, NULL
         UNION ALL SELECT 'masters', count(*), NULL, count(year), NULL,
                          count(*) FILTER (WHERE genres <> '{}')
                   FROM master_facts
         UNION ALL SELECT 'releases', count(*), NULL, count(year), count(country),
                          count(*) FILTER (WHERE genres <> '{}')
                   FROM release_facts",
        &[],
    )
    .await
}
