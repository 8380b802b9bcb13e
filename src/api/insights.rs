//! Catalogue insights: `GET /api/insights/…`, the most connected artists, a genre's releases per
//! decade, the longest-lived labels, this year's milestone anniversaries of masters, how complete
//! the records are, and when each was computed.
//!
//! The ingest computes them before it publishes its generation (`store::insights`), so every
//! answer here is a read of a few stored rows, never staler than the latest completed ingest.
//! Genre trends are read from the year counts the graph aggregates keep on each genre.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use neo4rs::query;
use serde::{Deserialize, Serialize};

use super::params::Params;
use super::{ApiError, AppState};
use crate::store::{insights, postgres};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/insights/top-artists", get(top_artists))
        .route("/api/insights/genre-trends", get(genre_trends))
        .route("/api/insights/label-longevity", get(label_longevity))
        .route("/api/insights/this-month", get(this_month))
        .route("/api/insights/data-completeness", get(data_completeness))
        .route("/api/insights/status", get(status))
}

/// The insights `status` lists, in its order: what the ingest computes, then the two the service
/// we replace also lists, which nothing here computes.
const STATUS_ORDER: [&str; 7] = [
    insights::ARTIST_CENTRALITY,
    insights::GENRE_TRENDS,
    insights::LABEL_LONGEVITY,
    insights::ANNIVERSARIES_INSIGHT,
    insights::DATA_COMPLETENESS,
    "community_enrichment",
    "release_rarity",
];

#[derive(Serialize)]
struct TopArtists {
    metric: &'static str,
    items: Vec<TopArtist>,
    count: usize,
}

#[derive(Serialize)]
struct TopArtist {
    rank: i32,
    artist_id: String,
    artist_name: String,
    edge_count: i64,
}

/// The artists with the most relationships of any kind.
async fn top_artists(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let limit = params.limit(100, insights::TOP_ARTISTS)?;
    let pool = state.postgres.clone();
    let compute = async move {
        let items: Vec<TopArtist> = postgres::query_pooled(
            &pool,
            "SELECT rank, artist_id::text, artist_name, edge_count FROM insight_top_artists
             ORDER BY rank LIMIT $1",
            &[&limit],
        )
        .await?
        .iter()
        .map(|row| TopArtist {
            rank: row.get(0),
            artist_id: row.get(1),
            artist_name: row.get(2),
            edge_count: row.get(3),
        })
        .collect();
        Ok(TopArtists {
            metric: "centrality",
            count: items.len(),
            items,
        })
    };
    state
        .cache
        .get_or_compute("insights_top_artists", limit.to_string(), compute)
        .await
}

#[derive(Serialize)]
struct GenreTrends {
    genre: String,
    trends: Vec<DecadeCount>,
    peak_decade: Option<i64>,
}

#[derive(Serialize)]
struct DecadeCount {
    decade: i64,
    release_count: i64,
}

#[derive(Deserialize)]
struct YearCounts {
    years: Option<Vec<i64>>,
    counts: Option<Vec<i64>>,
}

/// A genre's dated releases per decade, oldest first, and the decade with the most (the earliest
/// of equals). A genre no release has answers an empty list.
async fn genre_trends(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let genre = params.required_text("genre")?;
    let neo4j = state.neo4j.clone();
    let key = genre.clone();
    let compute = async move {
        let counts = neo4j
            .row::<YearCounts>(
                query(
                    "MATCH (g:Genre {name: $genre})
                     RETURN g.trend_years AS years, g.trend_counts AS counts",
                )
                .param("genre", genre.as_str()),
            )
            .await?;
        let mut trends: Vec<DecadeCount> = Vec::new();
        if let Some(YearCounts {
            years: Some(years),
            counts: Some(counts),
        }) = counts
        {
            // Years come sorted, so each decade's years are adjacent.
            for (year, count) in years.into_iter().zip(counts) {
                let decade = year.div_euclid(10) * 10;
                match trends.last_mut() {
                    Some(last) if last.decade == decade => last.release_count += count,
                    _ => trends.push(DecadeCount {
                        decade,
                        release_count: count,
                    }),
                }
            }
        }
        let peak_decade = trends
            .iter()
            .rev()
            .max_by_key(|decade| decade.release_count)
            .map(|decade| decade.decade);
        Ok(GenreTrends {
            genre,
            trends,
            peak_decade,
        })
    };
    state
        .cache
        .get_or_compute("insights_genre_trends", key, compute)
        .await
}

#[derive(Serialize)]
struct Longevity {
    items: Vec<LongLivedLabel>,
    count: usize,
}

#[derive(Serialize)]
struct LongLivedLabel {
    rank: i32,
    label_id: String,
    label_name: String,
    first_year: i32,
    last_year: i32,
    years_active: i32,
    total_releases: i64,
    peak_decade: i32,
    still_active: bool,
}

/// The labels whose dated releases span the most years.
async fn label_longevity(
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let limit = params.limit(50, insights::LONGEST_LIVED_LABELS)?;
    let pool = state.postgres.clone();
    let compute = async move {
        let items: Vec<LongLivedLabel> = postgres::query_pooled(
            &pool,
            "SELECT rank, label_id::text, label_name, first_year, last_year, total_releases,
                    peak_decade, still_active
             FROM insight_label_longevity ORDER BY rank LIMIT $1",
            &[&limit],
        )
        .await?
        .iter()
        .map(|row| {
            let (first_year, last_year): (i32, i32) = (row.get(3), row.get(4));
            LongLivedLabel {
                rank: row.get(0),
                label_id: row.get(1),
                label_name: row.get(2),
                first_year,
                last_year,
                years_active: last_year - first_year + 1,
                total_releases: row.get(5),
                peak_decade: row.get(6),
                still_active: row.get(7),
            }
        })
        .collect();
        Ok(Longevity {
            count: items.len(),
            items,
        })
    };
    state
        .cache
        .get_or_compute("insights_label_longevity", limit.to_string(), compute)
        .await
}

#[derive(Serialize)]
struct ThisMonth {
    month: Option<i32>,
    year: Option<i32>,
    items: Vec<Anniversary>,
    count: usize,
}

#[derive(Serialize)]
struct Anniversary {
    master_id: String,
    title: String,
    artist_name: Option<String>,
    release_year: i32,
    anniversary: i32,
}

/// Masters that turn a milestone age (25, 30, 40, 50, 75 or 100 years) in the year of the latest
/// ingest: the oldest milestone first, then the masters with the most releases. `month` and
/// `year` say when the ingest computed them.
async fn this_month(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let limit = params.limit(50, insights::ANNIVERSARIES)?;
    let pool = state.postgres.clone();
    let compute = async move {
        let found = postgres::query_pooled(
            &pool,
            "SELECT master_id::text, title, artist_name, release_year, anniversary, month, year
             FROM insight_anniversaries ORDER BY rank LIMIT $1",
            &[&limit],
        )
        .await?;
        let items: Vec<Anniversary> = found
            .iter()
            .map(|row| Anniversary {
                master_id: row.get(0),
                title: row.get(1),
                artist_name: row.get(2),
                release_year: row.get(3),
                anniversary: row.get(4),
            })
            .collect();
        Ok(ThisMonth {
            month: found.first().map(|row| row.get(5)),
            year: found.first().map(|row| row.get(6)),
            count: items.len(),
            items,
        })
    };
    state
        .cache
        .get_or_compute("insights_this_month", limit.to_string(), compute)
        .await
}

#[derive(Serialize)]
struct Completeness {
    items: Vec<EntityCompleteness>,
    count: usize,
}

#[derive(Serialize)]
struct EntityCompleteness {
    entity_type: String,
    total_count: i64,
    with_image: Option<i64>,
    with_year: Option<i64>,
    with_country: Option<i64>,
    with_genre: Option<i64>,
    /// The mean share of the checked fields, in percent; null when none is checked.
    completeness_pct: Option<f64>,
}

/// Per record type, how many records have each checked field (null for fields not checked).
async fn data_completeness(State(state): State<AppState>) -> Result<Response, ApiError> {
    let pool = state.postgres.clone();
    let compute = async move {
        let items: Vec<EntityCompleteness> = postgres::query_pooled(
            &pool,
            "SELECT entity_type, total_count, with_image, with_year, with_country, with_genre
             FROM insight_completeness ORDER BY entity_type",
            &[],
        )
        .await?
        .iter()
        .map(|row| {
            let total_count: i64 = row.get(1);
            let fields: [Option<i64>; 4] = [row.get(2), row.get(3), row.get(4), row.get(5)];
            let shares: Vec<f64> = fields
                .iter()
                .flatten()
                .map(|&with| 100.0 * with as f64 / total_count.max(1) as f64)
                .collect();
            let completeness_pct = (!shares.is_empty()).then(|| {
                (shares.iter().sum::<f64>() / shares.len() as f64 * 100.0).round() / 100.0
            });
            EntityCompleteness {
                entity_type: row.get(0),
                total_count,
                with_image: fields[0],
                with_year: fields[1],
                with_country: fields[2],
                with_genre: fields[3],
                completeness_pct,
            }
        })
        .collect();
        Ok(Completeness {
            count: items.len(),
            items,
        })
    };
    state
        .cache
        .get_or_compute("insights_completeness", String::new(), compute)
        .await
}

#[derive(Serialize)]
struct Statuses {
    statuses: Vec<InsightStatus>,
}

#[derive(Serialize)]
struct InsightStatus {
    insight_type: &'static str,
    last_computed: Option<String>,
    status: String,
    duration_ms: Option<i64>,
    /// The ingest generation that published this computation (null until it is published).
    generation: Option<i64>,
}

/// When each insight was last computed, how long it took and whether it failed. Not cached: a
/// client polls it to learn that a new computation is out.
async fn status(State(state): State<AppState>) -> Result<Response, ApiError> {
    let logged = postgres::query_pooled(
        &state.postgres,
        "SELECT insight_type, status,
                to_char(last_computed AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
                duration_ms, generation
         FROM insight_log",
        &[],
    )
    .await?;
    let statuses = STATUS_ORDER
        .into_iter()
        .map(|insight_type| {
            match logged
                .iter()
                .find(|row| row.get::<_, &str>(0) == insight_type)
            {
                Some(row) => InsightStatus {
                    insight_type,
                    status: row.get(1),
                    last_computed: row.get(2),
                    duration_ms: row.get(3),
                    generation: row.get(4),
                },
                None => InsightStatus {
                    insight_type,
                    status: "never_run".to_owned(),
                    last_computed: None,
                    duration_ms: None,
                    generation: None,
                },
            }
        })
        .collect();
    Ok(Json(Statuses { statuses }).into_response())
}
