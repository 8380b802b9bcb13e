//! Label DNA: `GET /api/label/{id}/dna`, a label's releases by genre, style, format and decade;
//! `/api/label/{id}/similar`, the labels whose genres look most like its own among those that
//! share its styles; `/api/label/dna/compare`, several DNAs side by side.
//!
//! Everything is read from the profiles the ingest counts (`store::profiles`): a DNA is one row
//! of `label_profiles` whatever the label's size, and the similar labels' candidates come from
//! `label_styles` ranked within each style, read only as deep as the ranking needs.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use tokio_postgres::Row;

use super::entity::{self, NodeType};
use super::params::{self, Params};
use super::{ApiError, AppState};
use crate::store::postgres;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/label/{label_id}/dna", get(dna))
        .route("/api/label/{label_id}/similar", get(similar))
        .route("/api/label/dna/compare", get(compare))
}

/// Releases a label needs for a DNA or a comparison.
pub const MIN_RELEASES: i64 = 5;
/// Styles of the target whose labels are candidates, and candidates whose genres are compared.
const TARGET_STYLES: usize = 5;
const CANDIDATES: usize = 100;
/// Labels read from each style's ranking at a time.
const STYLE_PAGE: i64 = 500;
/// Labels a comparison takes.
const COMPARE_MIN: usize = 2;
const COMPARE_MAX: usize = 5;

#[derive(Serialize)]
pub struct LabelDna {
    label_id: String,
    label_name: String,
    release_count: i64,
    artist_count: i64,
    artist_diversity: f64,
    active_years: Vec<i64>,
    peak_decade: Option<i64>,
    prolificacy: f64,
    genres: Vec<Share>,
    styles: Vec<Share>,
    formats: Vec<Share>,
    decades: Vec<DecadeShare>,
}

#[derive(Serialize)]
struct Share {
    name: String,
    count: i64,
    percentage: f64,
}

#[derive(Serialize)]
struct DecadeShare {
    decade: i64,
    count: i64,
    percentage: f64,
}

/// `value` rounded to `decimals` places.
pub fn rounded(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// `count` as a percentage of `total`, one decimal; 0 when the total is.
fn percentage(count: i64, total: i64) -> f64 {
    if total == 0 {
        0.0
    } else {
        rounded(count as f64 * 100.0 / total as f64, 1)
    }
}

fn shares(names: Vec<String>, counts: &[i64]) -> Vec<Share> {
    let total = counts.iter().sum();
    names
        .into_iter()
        .zip(counts)
        .map(|(name, &count)| Share {
            name,
            count,
            percentage: percentage(count, total),
        })
        .collect()
}

fn label_id(value: &str) -> Result<i64, ApiError> {
    params::id("label_id", value)
}

fn too_few_releases(id: i64) -> ApiError {
    ApiError::Unprocessable(format!(
        "Label '{id}' has fewer than {MIN_RELEASES} releases"
    ))
}

/// Label `id`'s name and profile row (`columns` of `label_profiles`), once it is known to exist
/// and to have [`MIN_RELEASES`].
async fn profiled(state: &AppState, id: i64, columns: &str) -> Result<(String, Row), ApiError> {
    let name = entity::name_of(&state.neo4j, NodeType::Label, id).await?;
    let sql = format!("SELECT release_count, {columns} FROM label_profiles WHERE label_id = $1");
    let row = postgres::query_pooled(&state.postgres, &sql, &[&id])
        .await?
        .into_iter()
        .next()
        .filter(|row| row.get::<_, i64>(0) >= MIN_RELEASES)
        .ok_or_else(|| too_few_releases(id))?;
    Ok((name, row))
}

/// The DNA of label `id`.
///
/// # Errors
///
/// 404 for no such label, 422 for one with fewer than [`MIN_RELEASES`] releases.
async fn label_dna(state: &AppState, id: i64) -> Result<LabelDna, ApiError> {
    let (label_name, row) = profiled(
        state,
        id,
        "artist_count, genres, genre_counts, styles, style_counts, formats, format_counts,
         years, year_counts",
    )
    .await?;
    let release_count: i64 = row.get(0);
    let artist_count: i64 = row.get(1);
    let years: Vec<i64> = row.get(8);
    let year_counts: Vec<i64> = row.get(9);
    let mut decades: Vec<(i64, i64)> = Vec::new();
    // Years are ascending, so a decade's years are adjacent.
    for (&year, &count) in years.iter().zip(&year_counts) {
        let decade = year.div_euclid(10) * 10;
        match decades.last_mut() {
            Some(last) if last.0 == decade => last.1 += count,
            _ => decades.push((decade, count)),
        }
    }
    let dated: i64 = year_counts.iter().sum();
    let peak_decade = decades
        .iter()
        .rev()
        .max_by_key(|(_, count)| *count)
        .map(|&(decade, _)| decade);
    let prolificacy = if years.is_empty() {
        0.0
    } else {
        rounded(release_count as f64 / years.len() as f64, 2)
    };
    Ok(LabelDna {
        label_id: id.to_string(),
        label_name,
        release_count,
        artist_count,
        artist_diversity: rounded((artist_count as f64 / release_count as f64).min(1.0), 4),
        active_years: years,
        peak_decade,
        prolificacy,
        genres: shares(row.get(2), &row.get::<_, Vec<i64>>(3)),
        styles: shares(row.get(4), &row.get::<_, Vec<i64>>(5)),
        formats: shares(row.get(6), &row.get::<_, Vec<i64>>(7)),
        decades: decades
            .into_iter()
            .map(|(decade, count)| DecadeShare {
                decade,
                count,
                percentage: percentage(count, dated),
            })
            .collect(),
    })
}

/// A label's release counts by genre, style, format and decade.
async fn dna(
    State(state): State<AppState>,
    Path(label): Path<String>,
) -> Result<Response, ApiError> {
    let id = label_id(&label)?;
    let compute_state = state.clone();
    let compute = async move { label_dna(&compute_state, id).await };
    state
        .cache
        .get_or_compute("label_dna", id.to_string(), compute)
        .await
}

#[derive(Serialize)]
struct Comparison {
    labels: Vec<ComparedLabel>,
}

#[derive(Serialize)]
struct ComparedLabel {
    dna: LabelDna,
}

/// The DNAs of 2 to 5 labels, in the order asked; the first that has none decides the error.
async fn compare(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let ids = params.required_text("ids")?;
    let ids: Vec<&str> = ids
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .collect();
    let bad_count = |reason: &str| ApiError::BadParameter {
        parameter: "ids",
        reason: reason.to_owned(),
    };
    if ids.len() < COMPARE_MIN {
        return Err(bad_count("At least 2 label IDs required"));
    }
    if ids.len() > COMPARE_MAX {
        return Err(bad_count("At most 5 label IDs allowed"));
    }
    let ids = ids
        .into_iter()
        .map(|id| params::id("ids", id))
        .collect::<Result<Vec<i64>, _>>()?;
    let key = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let compute_state = state.clone();
    let compute = async move {
        let mut labels = Vec::with_capacity(ids.len());
        for id in ids {
            labels.push(ComparedLabel {
                dna: label_dna(&compute_state, id).await?,
            });
        }
        Ok(Comparison { labels })
    };
    state
        .cache
        .get_or_compute("label_compare", key, compute)
        .await
}

#[derive(Serialize)]
struct SimilarLabels {
    label_id: String,
    label_name: String,
    similar: Vec<SimilarLabel>,
}

#[derive(Serialize)]
struct SimilarLabel {
    label_id: String,
    label_name: String,
    similarity: f64,
    release_count: i64,
    shared_genres: Vec<String>,
}

/// The cosine similarity of two histograms (keys with counts); 0 when either is empty.
pub fn cosine<K: Eq + std::hash::Hash>(a: &HashMap<K, i64>, b: &HashMap<K, i64>) -> f64 {
    let norm = |h: &HashMap<K, i64>| h.values().map(|&v| (v as f64).powi(2)).sum::<f64>().sqrt();
    let (norm_a, norm_b) = (norm(a), norm(b));
    if norm_a == 0.0 || norm_b == 0.0 {
        return 0.0;
    }
    // A fold from +0: an empty f64 sum is -0, which would print as such.
    let dot = a
        .iter()
        .filter_map(|(key, &x)| b.get(key).map(|&y| x as f64 * y as f64))
        .fold(0.0, |sum, product| sum + product);
    dot / (norm_a * norm_b)
}

/// A histogram from a profile's parallel arrays.
pub fn histogram<K: Eq + std::hash::Hash>(keys: Vec<K>, counts: Vec<i64>) -> HashMap<K, i64> {
    keys.into_iter().zip(counts).collect()
}

/// The labels most like label `id`: those with the most releases in its five commonest styles
/// (at least [`MIN_RELEASES`] summed over them; the first [`CANDIDATES`]), ranked by the cosine
/// of their genre counts with its own.
async fn similar(
    State(state): State<AppState>,
    Path(label): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let id = label_id(&label)?;
    let limit = params.limit(10, 50)?;
    let compute_state = state.clone();
    let compute = async move {
        let state = compute_state;
        let (label_name, row) = profiled(&state, id, "genres, genre_counts, styles").await?;
        let genres: HashMap<String, i64> = histogram(row.get(1), row.get(2));
        let mut styles: Vec<String> = row.get(3);
        styles.truncate(TARGET_STYLES);
        let mut similar = Vec::new();
        if !genres.is_empty() && !styles.is_empty() {
            let candidates = style_candidates(&state, id, &styles).await?;
            let rows = postgres::query_pooled(
                &state.postgres,
                "SELECT label_id, release_count, genres, genre_counts FROM label_profiles
                 WHERE label_id = ANY($1)",
                &[&candidates],
            )
            .await?;
            let mut scored: Vec<(f64, i64, i64, Vec<String>)> = rows
                .into_iter()
                .filter_map(|row| {
                    let theirs: HashMap<String, i64> = histogram(row.get(2), row.get(3));
                    let score = rounded(cosine(&genres, &theirs), 4);
                    let mut shared: Vec<String> = theirs
                        .into_keys()
                        .filter(|genre| genres.contains_key(genre))
                        .collect();
                    shared.sort_unstable();
                    (score > 0.0).then(|| (score, row.get(0), row.get(1), shared))
                })
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            scored.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            let ids: Vec<i64> = scored.iter().map(|s| s.1).collect();
            let names = entity::names(&state.neo4j, NodeType::Label, &ids).await?;
            similar = scored
                .into_iter()
                .filter_map(|(similarity, label, release_count, shared_genres)| {
                    Some(SimilarLabel {
                        label_id: label.to_string(),
                        label_name: names.get(&label)?.clone(),
                        similarity,
                        release_count,
                        shared_genres,
                    })
                })
                .collect();
        }
        Ok(SimilarLabels {
            label_id: id.to_string(),
            label_name,
            similar,
        })
    };
    state
        .cache
        .get_or_compute("label_similar", format!("{id}:{limit}"), compute)
        .await
}

/// The [`CANDIDATES`] labels other than `id` with the most releases summed over `styles`, at
/// least [`MIN_RELEASES`], most first (ties by id). Each style's ranking is read a page at a
/// time, round-robin, until no label not yet seen could rank among them (the sum of the counts
/// the rankings have reached is below the last candidate's): the cost follows the styles' top
/// labels, not how many labels a style has.
async fn style_candidates(
    state: &AppState,
    id: i64,
    styles: &[String],
) -> Result<Vec<i64>, ApiError> {
    let mut sums: HashMap<i64, i64> = HashMap::new();
    let mut seen: HashSet<i64> = HashSet::from([id]);
    let mut offset = 0;
    loop {
        let rows = postgres::query_pooled(
            &state.postgres,
            "SELECT s.n, l.label_id, l.releases
             FROM unnest($1::text[]) WITH ORDINALITY AS s(style, n)
             CROSS JOIN LATERAL (
                 SELECT label_id, releases FROM label_styles WHERE style = s.style
                 ORDER BY releases DESC, label_id LIMIT $2 OFFSET $3) l",
            &[&styles, &STYLE_PAGE, &offset],
        )
        .await?;
        // Per style: rows read this round, and the lowest count reached.
        let mut reached: HashMap<i64, (i64, i64)> = HashMap::new();
        let mut new = Vec::new();
        for row in &rows {
            let (style, label, releases): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
            let entry = reached.entry(style).or_insert((0, releases));
            *entry = (entry.0 + 1, entry.1.min(releases));
            if seen.insert(label) {
                new.push(label);
            }
        }
        if !new.is_empty() {
            let totals = postgres::query_pooled(
                &state.postgres,
                "SELECT label_id, sum(releases)::bigint FROM label_styles
                 WHERE label_id = ANY($1) AND style = ANY($2) GROUP BY label_id",
                &[&new, &styles],
            )
            .await?;
            sums.extend(
                totals
                    .iter()
                    .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1))),
            );
        }
        // What a label not seen yet could still sum to: a style whose page was short is done.
        let bound: i64 = reached
            .values()
            .filter(|(rows, _)| *rows == STYLE_PAGE)
            .map(|(_, lowest)| lowest)
            .sum();
        let mut ranked: Vec<(i64, i64)> = sums
            .iter()
            .filter(|&(_, &sum)| sum >= MIN_RELEASES)
            .map(|(&label, &sum)| (label, sum))
            .collect();
        ranked.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let settled = bound < MIN_RELEASES
            || ranked
                .get(CANDIDATES - 1)
                .is_some_and(|&(_, last)| last >= bound);
        if settled {
            ranked.truncate(CANDIDATES);
            return Ok(ranked.into_iter().map(|(label, _)| label).collect());
        }
        offset += STYLE_PAGE;
    }
}
