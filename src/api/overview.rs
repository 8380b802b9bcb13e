//! Whole-catalogue summaries, each a few index seeks or reads of what the ingest precomputes:
//! `GET /api/explore/year-range` (two seeks on the `Release.year` index),
//! `/api/explore/genre-emergence` and `/api/genre-tree` (aggregates on genre and style nodes), and
//! `/api/graph/stats` (Neo4j's count store).

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use neo4rs::query;
use serde::{Deserialize, Serialize};

use super::params::Params;
use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/explore/year-range", get(year_range))
        .route("/api/explore/genre-emergence", get(genre_emergence))
        .route("/api/genre-tree", get(genre_tree))
        .route("/api/graph/stats", get(graph_stats))
}

#[derive(Serialize, Deserialize)]
struct YearRange {
    min_year: Option<i64>,
    max_year: Option<i64>,
}

/// The earliest and latest release year, each one seek on the `Release.year` index.
async fn year_range(State(state): State<AppState>) -> Result<Response, ApiError> {
    let neo4j = state.neo4j.clone();
    let compute = async move {
        let range = neo4j
            .row::<YearRange>(query(
                "CALL () { MATCH (r:Release) WHERE r.year > 0
                           RETURN r.year AS min_year ORDER BY r.year ASC LIMIT 1 }
                 CALL () { MATCH (r:Release) WHERE r.year > 0
                           RETURN r.year AS max_year ORDER BY r.year DESC LIMIT 1 }
                 RETURN min_year, max_year",
            ))
            .await?;
        Ok(range.unwrap_or(YearRange {
            min_year: None,
            max_year: None,
        }))
    };
    state
        .cache
        .get_or_compute("year-range", String::new(), compute)
        .await
}

#[derive(Serialize, Deserialize)]
struct Emergence {
    genres: Vec<FirstYear>,
    styles: Vec<FirstYear>,
}

#[derive(Serialize, Deserialize)]
struct FirstYear {
    name: String,
    first_year: i64,
}

/// The genres and styles that had appeared by `before_year`, earliest first.
async fn genre_emergence(
    State(state): State<AppState>,
    params: Params,
) -> Result<Response, ApiError> {
    let before_year =
        params
            .int("before_year", 1..=9999)?
            .ok_or_else(|| ApiError::BadParameter {
                parameter: "before_year",
                reason: "is required".to_owned(),
            })?;
    let neo4j = state.neo4j.clone();
    let compute = async move {
        let emergence = neo4j
            .row::<Emergence>(
                query(
                    "RETURN COLLECT { MATCH (g:Genre) WHERE g.first_year <= $before
                                      RETURN {name: g.name, first_year: g.first_year} AS e
                                      ORDER BY e.first_year, e.name } AS genres,
                            COLLECT { MATCH (s:Style) WHERE s.first_year <= $before
                                      RETURN {name: s.name, first_year: s.first_year} AS e
                                      ORDER BY e.first_year, e.name } AS styles",
                )
                .param("before", before_year),
            )
            .await?;
        Ok(emergence.unwrap_or(Emergence {
            genres: Vec::new(),
            styles: Vec::new(),
        }))
    };
    state
        .cache
        .get_or_compute("genre-emergence", before_year.to_string(), compute)
        .await
}

#[derive(Serialize, Deserialize)]
struct GenreTree {
    genres: Vec<GenreBranch>,
}

#[derive(Serialize, Deserialize)]
struct GenreBranch {
    name: String,
    release_count: i64,
    styles: Vec<StyleLeaf>,
}

#[derive(Serialize, Deserialize)]
struct StyleLeaf {
    name: String,
    /// Releases that have both this style and the genre.
    release_count: i64,
}

/// Genres by release count, each with the styles that belong to it (`PART_OF`), by the releases
/// they share.
async fn genre_tree(State(state): State<AppState>) -> Result<Response, ApiError> {
    let neo4j = state.neo4j.clone();
    let compute = async move {
        let genres = neo4j
            .rows::<GenreBranch>(query(
                "MATCH (g:Genre)
                 RETURN g.name AS name, coalesce(g.release_count, 0) AS release_count,
                        COLLECT { MATCH (g)<-[p:PART_OF]-(s:Style)
                                  RETURN {name: s.name, release_count: coalesce(p.release_count, 0)} AS s
                                  ORDER BY s.release_count DESC, s.name } AS styles
                 ORDER BY release_count DESC, name",
            ))
            .await?;
        Ok(GenreTree { genres })
    };
    state
        .cache
        .get_or_compute("genre-tree", String::new(), compute)
        .await
}

#[derive(Serialize)]
struct GraphStats {
    total_entities: i64,
    counts: Counts,
}

#[derive(Serialize, Deserialize)]
struct Counts {
    artists: i64,
    labels: i64,
    masters: i64,
    releases: i64,
    genres: i64,
    styles: i64,
}

/// Nodes per type, from Neo4j's count store (stubs included: they are entities the dump names).
async fn graph_stats(State(state): State<AppState>) -> Result<Response, ApiError> {
    let neo4j = state.neo4j.clone();
    let compute = async move {
        let counts = neo4j
            .row::<Counts>(query(
                "RETURN COUNT { (:Artist) } AS artists, COUNT { (:Label) } AS labels,
                        COUNT { (:Master) } AS masters, COUNT { (:Release) } AS releases,
                        COUNT { (:Genre) } AS genres, COUNT { (:Style) } AS styles",
            ))
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("graph counts returned no row")))?;
        Ok(GraphStats {
            total_entities: counts.artists
                + counts.labels
                + counts.masters
                + counts.releases
                + counts.genres
                + counts.styles,
            counts,
        })
    };
    state
        .cache
        .get_or_compute("graph-stats", String::new(), compute)
        .await
}
