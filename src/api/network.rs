//! The collaboration network: `GET /api/network/artist/{id}/collaborators`, the artists within
//! one to three hops of shared releases; `/centrality`, an artist's connection counts;
//! `/api/network/cluster/{id}`, its closest collaborators grouped by their main genre; and
//! `GET /api/recommend/similar/artist/{id}`, the artists whose genres, styles, labels and
//! collaborators look most like its own.
//!
//! Collaborators are the other main artists of an artist's releases. Their shared releases, and
//! each artist's genre, style and label counts, are read from the profiles the ingest counts
//! (`store::profiles`), so a hub costs what its answer holds, not a walk over its releases;
//! names and relationship counts come from the graph.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use neo4rs::query;
use serde::{Deserialize, Serialize};

use super::entity::{self, NodeType};
use super::labels::{cosine, histogram, rounded};
use super::params::{self, Params};
use super::{ApiError, AppState};
use crate::store::graph::profiles::{MIN_SIMILAR_ARTIST_RELEASES, SIMILARITY_LIST};
use crate::store::postgres;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/network/artist/{artist_id}/collaborators",
            get(collaborators),
        )
        .route(
            "/api/network/artist/{artist_id}/centrality",
            get(centrality),
        )
        .route("/api/network/cluster/{id}", get(cluster))
        .route("/api/recommend/similar/artist/{artist_id}", get(similar))
}

fn artist_id(value: &str) -> Result<i64, ApiError> {
    params::id("artist_id", value)
}

/// The artists adjacent to any of `frontier`, each with the releases it shares with them and how
/// many of them it is adjacent to; counted by PostgreSQL, so that a hub's thousands of
/// collaborators cross the wire once each, not once per pair.
async fn neighbours(state: &AppState, frontier: &[i64]) -> Result<Vec<(i64, i64, i64)>, ApiError> {
    let rows = postgres::query_pooled(
        &state.postgres,
        "SELECT other_id, sum(releases)::bigint, count(*) FROM artist_collaborations
         WHERE artist_id = ANY($1) GROUP BY other_id",
        &[&frontier],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect())
}

/// Artists of a hop whose collaborators a collaborators answer reads, once its page is full,
/// to count `total` exactly; beyond a hop this wide, the rest is estimated.
pub const EXACT_TOTAL_FRONTIER: usize = 500;

/// About how many artists an estimate looks at.
pub const TOTAL_SAMPLE: usize = 1_000;

/// The collaborators of each of `artists`.
async fn adjacency(state: &AppState, artists: &[i64]) -> Result<HashMap<i64, Vec<i64>>, ApiError> {
    let rows = postgres::query_pooled(
        &state.postgres,
        "SELECT artist_id, other_id FROM artist_collaborations WHERE artist_id = ANY($1)",
        &[&artists],
    )
    .await?;
    let mut lists: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in &rows {
        lists.entry(row.get(0)).or_default().push(row.get(1));
    }
    Ok(lists)
}

/// How many artists lie within `hops` more hops of the artists at distance `last` (the last
/// hop counted exactly, every nearer artist in `distance_of`), estimated from a sample of the
/// artists with releases (PostgreSQL's block sample, the same blocks every time): one not
/// counted yet is in if a collaborator is at distance `last`, or, with two hops, a collaborator
/// of a collaborator; the sample's share that is in, times the artists with releases.
async fn estimate_beyond(
    state: &AppState,
    distance_of: &HashMap<i64, i64>,
    last: i64,
    hops: i64,
) -> Result<usize, ApiError> {
    let rows = postgres::query_pooled(
        &state.postgres,
        "SELECT greatest(reltuples, 1)::float8 FROM pg_class WHERE relname = 'artist_profiles'",
        &[],
    )
    .await?;
    let artists: f64 = rows.first().map_or(1.0, |row| row.get(0));
    let percent = (100.0 * TOTAL_SAMPLE as f64 / artists).min(100.0);
    let rows = postgres::query_pooled(
        &state.postgres,
        "SELECT artist_id FROM artist_profiles TABLESAMPLE SYSTEM ($1::float8) REPEATABLE (0)",
        &[&percent],
    )
    .await?;
    let sample: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
    let uncounted: Vec<i64> = sample
        .iter()
        .copied()
        .filter(|artist| !distance_of.contains_key(artist))
        .collect();
    let at_last = |artist: &i64| distance_of.get(artist) == Some(&last);
    let first = adjacency(state, &uncounted).await?;
    let next_hop = |lists: &HashMap<i64, Vec<i64>>, artist: &i64| {
        lists
            .get(artist)
            .is_some_and(|list| list.iter().any(at_last))
    };
    let mut inside: HashSet<i64> = uncounted
        .iter()
        .copied()
        .filter(|artist| next_hop(&first, artist))
        .collect();
    if hops >= 2 {
        let mut via: Vec<i64> = first
            .iter()
            .filter(|(artist, _)| !inside.contains(artist))
            .flat_map(|(_, list)| list.iter().copied())
            .filter(|artist| !distance_of.contains_key(artist))
            .collect();
        via.sort_unstable();
        via.dedup();
        let second = adjacency(state, &via).await?;
        for (artist, list) in &first {
            if list.iter().any(|c| next_hop(&second, c)) {
                inside.insert(*artist);
            }
        }
    }
    let share = inside.len() as f64 / sample.len().max(1) as f64;
    Ok((share * artists).round() as usize)
}

#[derive(Serialize)]
struct Collaborators {
    artist_id: String,
    artist_name: String,
    depth: i64,
    collaborators: Vec<Collaborator>,
    total: usize,
    total_is_estimate: bool,
}

#[derive(Serialize)]
struct Collaborator {
    artist_id: String,
    artist_name: String,
    distance: i64,
    collaboration_count: i64,
}

/// The artists within `depth` hops: at distance 1 with their shared releases, further out with
/// the number of artists one hop nearer that connect them; nearest first, then by that count,
/// then by id. `total` counts every one within `depth`, exactly unless the page is full and a
/// further hop starts from more than [`EXACT_TOTAL_FRONTIER`] artists: then the artists beyond
/// are estimated from a sample ([`estimate_beyond`]), and `total_is_estimate` says so.
async fn collaborators(
    State(state): State<AppState>,
    Path(artist): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let id = artist_id(&artist)?;
    let depth = params.int("depth", 1..=3)?.unwrap_or(2);
    let limit = params.limit(50, 200)?;
    let compute_state = state.clone();
    let compute = async move {
        let state = compute_state;
        let artist_name = entity::name_of(&state.neo4j, NodeType::Artist, id).await?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        // (artist, distance, count), in the order of the answer within each distance.
        let mut found: Vec<(i64, i64, i64)> = Vec::new();
        let mut distance_of: HashMap<i64, i64> = HashMap::from([(id, 0)]);
        let mut frontier = vec![id];
        // Once the page is full, the hops further out only add to `total`: when the next one
        // starts from more than EXACT_TOTAL_FRONTIER artists, they are estimated instead.
        let mut beyond = None;
        for distance in 1..=depth {
            if found.len() >= limit && frontier.len() > EXACT_TOTAL_FRONTIER {
                let hops = depth - distance + 1;
                beyond = Some(estimate_beyond(&state, &distance_of, distance - 1, hops).await?);
                break;
            }
            // Shared releases at distance 1; connecting artists further out.
            let mut level: Vec<(i64, i64, i64)> = neighbours(&state, &frontier)
                .await?
                .into_iter()
                .filter(|(other, ..)| !distance_of.contains_key(other))
                .map(|(other, releases, via)| {
                    (other, distance, if distance == 1 { releases } else { via })
                })
                .collect();
            level.sort_unstable_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
            distance_of.extend(level.iter().map(|&(other, distance, _)| (other, distance)));
            frontier = level.iter().map(|&(other, ..)| other).collect();
            found.extend(level);
            if frontier.is_empty() {
                break;
            }
        }
        let total = found.len() + beyond.unwrap_or(0);
        let total_is_estimate = beyond.is_some();
        found.truncate(limit);
        let ids: Vec<i64> = found.iter().map(|&(other, ..)| other).collect();
        let names = entity::names(&state.neo4j, NodeType::Artist, &ids).await?;
        Ok(Collaborators {
            artist_id: id.to_string(),
            artist_name,
            depth,
            collaborators: found
                .into_iter()
                .filter_map(|(other, distance, collaboration_count)| {
                    Some(Collaborator {
                        artist_id: other.to_string(),
                        artist_name: names.get(&other)?.clone(),
                        distance,
                        collaboration_count,
                    })
                })
                .collect(),
            total,
            total_is_estimate,
        })
    };
    state
        .cache
        .get_or_compute(
            "network_collaborators",
            format!("{id}:{depth}:{limit}"),
            compute,
        )
        .await
}

#[derive(Serialize)]
struct Centrality {
    artist_id: String,
    artist_name: String,
    centrality: CentralityCounts,
}

#[derive(Serialize)]
struct CentralityCounts {
    degree: i64,
    collaborator_count: i64,
    collaboration_releases: i64,
    group_count: i64,
    alias_count: i64,
}

#[derive(Deserialize)]
struct Degrees {
    name: Option<String>,
    degree: i64,
    groups: i64,
    aliases: i64,
}

/// An artist's relationships of every kind, distinct collaborators, releases shared with one,
/// groups and aliases.
async fn centrality(
    State(state): State<AppState>,
    Path(artist): Path<String>,
) -> Result<Response, ApiError> {
    let id = artist_id(&artist)?;
    let compute_state = state.clone();
    let compute = async move {
        let state = compute_state;
        let degrees = state
            .neo4j
            .row::<Degrees>(
                query(
                    "MATCH (a:Artist {id: $id})
                     RETURN a.name AS name, COUNT { (a)--() } AS degree,
                            COUNT { (a)-[:MEMBER_OF]->() } AS groups,
                            COUNT { (a)-[:ALIAS_OF]->() } AS aliases",
                )
                .param("id", id),
            )
            .await?
            .filter(|degrees| degrees.name.is_some())
            .ok_or_else(|| entity::not_found(NodeType::Artist, &id.to_string()))?;
        let counts = postgres::query_pooled(
            &state.postgres,
            "SELECT collaborator_count, collaboration_releases FROM artist_profiles
             WHERE artist_id = $1",
            &[&id],
        )
        .await?;
        let (collaborator_count, collaboration_releases) = counts
            .first()
            .map_or((0, 0), |row| (row.get(0), row.get(1)));
        Ok(Centrality {
            artist_id: id.to_string(),
            artist_name: degrees.name.unwrap_or_default(),
            centrality: CentralityCounts {
                degree: degrees.degree,
                collaborator_count,
                collaboration_releases,
                group_count: degrees.groups,
                alias_count: degrees.aliases,
            },
        })
    };
    state
        .cache
        .get_or_compute("network_centrality", id.to_string(), compute)
        .await
}

#[derive(Serialize)]
struct Clusters {
    artist_id: String,
    artist_name: String,
    clusters: Vec<Cluster>,
    total_clusters: usize,
    total_members: usize,
}

#[derive(Serialize)]
struct Cluster {
    cluster_label: String,
    members: Vec<ClusterMember>,
    size: usize,
}

#[derive(Serialize)]
struct ClusterMember {
    artist_id: String,
    artist_name: String,
    shared_releases: i64,
}

/// An artist's `limit` closest collaborators (most shared releases, then id), grouped by each
/// one's primary genre ("Unknown" for none); the biggest group first, then the one whose best
/// member ranks higher.
async fn cluster(
    State(state): State<AppState>,
    Path(artist): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let id = artist_id(&artist)?;
    let limit = params.limit(50, 200)?;
    let compute_state = state.clone();
    let compute = async move {
        let state = compute_state;
        let artist_name = entity::name_of(&state.neo4j, NodeType::Artist, id).await?;
        let rows = postgres::query_pooled(
            &state.postgres,
            "SELECT c.other_id, c.releases, p.primary_genre
             FROM (SELECT other_id, releases FROM artist_collaborations WHERE artist_id = $1
                   ORDER BY releases DESC, other_id LIMIT $2) c
             LEFT JOIN artist_profiles p ON p.artist_id = c.other_id
             ORDER BY c.releases DESC, c.other_id",
            &[&id, &limit],
        )
        .await?;
        let ids: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
        let names = entity::names(&state.neo4j, NodeType::Artist, &ids).await?;
        let mut clusters: Vec<Cluster> = Vec::new();
        for row in &rows {
            let other: i64 = row.get(0);
            let Some(name) = names.get(&other) else {
                continue;
            };
            let genre = row
                .get::<_, Option<String>>(2)
                .unwrap_or_else(|| "Unknown".to_owned());
            let member = ClusterMember {
                artist_id: other.to_string(),
                artist_name: name.clone(),
                shared_releases: row.get(1),
            };
            match clusters.iter_mut().find(|c| c.cluster_label == genre) {
                Some(cluster) => cluster.members.push(member),
                None => clusters.push(Cluster {
                    cluster_label: genre,
                    members: vec![member],
                    size: 0,
                }),
            }
        }
        for cluster in &mut clusters {
            cluster.size = cluster.members.len();
        }
        // Stable: equal sizes keep the order of their best members.
        clusters.sort_by_key(|cluster| std::cmp::Reverse(cluster.size));
        Ok(Clusters {
            artist_id: id.to_string(),
            artist_name,
            total_clusters: clusters.len(),
            total_members: clusters.iter().map(|c| c.size).sum(),
            clusters,
        })
    };
    state
        .cache
        .get_or_compute("network_cluster", format!("{id}:{limit}"), compute)
        .await
}

/// Genres of the target whose top artists are candidates, candidates per genre, and how many
/// of the best-sharing candidates are compared.
const TARGET_GENRES: usize = 5;
const GENRE_TOP_ARTISTS: i64 = 500;
const MIN_SHARED: i64 = 3;
const COMPARED: usize = 50;
/// The weights of the genre, style, label and collaborator similarities.
const WEIGHTS: [f64; 4] = [0.35, 0.25, 0.25, 0.15];

#[derive(Serialize)]
struct SimilarArtists {
    artist_id: String,
    artist_name: String,
    similar: Vec<SimilarArtist>,
}

#[derive(Serialize)]
struct SimilarArtist {
    artist_id: String,
    artist_name: String,
    similarity: f64,
    breakdown: Breakdown,
    release_count: i64,
    shared_genres: Vec<String>,
    shared_labels: Vec<String>,
}

#[derive(Serialize)]
struct Breakdown {
    genre: f64,
    style: f64,
    label: f64,
    collaborator: f64,
}

/// An artist's four histograms (labels and collaborators: its [`SIMILARITY_LIST`] commonest).
struct Profile {
    releases: i64,
    genres: HashMap<String, i64>,
    styles: HashMap<String, i64>,
    labels: HashMap<i64, i64>,
    collaborators: HashMap<i64, i64>,
}

/// The profiles of `artists` that have [`MIN_SIMILAR_ARTIST_RELEASES`].
async fn profiles(state: &AppState, artists: &[i64]) -> Result<HashMap<i64, Profile>, ApiError> {
    let rows = postgres::query_pooled(
        &state.postgres,
        "SELECT artist_id, release_count, genres, genre_counts, styles, style_counts, labels,
                label_counts
         FROM artist_profiles WHERE artist_id = ANY($1) AND genres IS NOT NULL",
        &[&artists],
    )
    .await?;
    let mut profiles: HashMap<i64, Profile> = rows
        .into_iter()
        .map(|row| {
            let profile = Profile {
                releases: row.get(1),
                genres: histogram(row.get(2), row.get(3)),
                styles: histogram(row.get(4), row.get(5)),
                labels: histogram(row.get(6), row.get(7)),
                collaborators: HashMap::new(),
            };
            (row.get(0), profile)
        })
        .collect();
    let collaborators = postgres::query_pooled(
        &state.postgres,
        "SELECT a.id, c.other_id, c.releases FROM unnest($1::bigint[]) AS a(id)
         CROSS JOIN LATERAL (
             SELECT other_id, releases FROM artist_collaborations WHERE artist_id = a.id
             ORDER BY releases DESC, other_id LIMIT $2) c",
        &[&artists, &(SIMILARITY_LIST as i64)],
    )
    .await?;
    for row in &collaborators {
        if let Some(profile) = profiles.get_mut(&row.get::<_, i64>(0)) {
            profile.collaborators.insert(row.get(1), row.get(2));
        }
    }
    Ok(profiles)
}

#[derive(Deserialize)]
struct GenreTop {
    ids: Option<Vec<i64>>,
    counts: Option<Vec<i64>>,
}

/// The artists most like artist `id`. Candidates are the [`GENRE_TOP_ARTISTS`] artists with the
/// most releases in each of its five commonest genres, by those releases summed (at least
/// [`MIN_SHARED`]); the first [`COMPARED`] are scored by the weighted cosines of their genre,
/// style, label and collaborator counts with its own.
async fn similar(
    State(state): State<AppState>,
    Path(artist): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let id = artist_id(&artist)?;
    let limit = params.limit(20, 50)?;
    let compute_state = state.clone();
    let compute = async move {
        let state = compute_state;
        let artist_name = entity::name_of(&state.neo4j, NodeType::Artist, id).await?;
        let too_few = || {
            ApiError::Unprocessable(format!(
                "Artist '{id}' has fewer than {MIN_SIMILAR_ARTIST_RELEASES} releases"
            ))
        };
        let target = profiles(&state, &[id])
            .await?
            .remove(&id)
            .ok_or_else(too_few)?;
        let mut genres: Vec<(&String, i64)> = target.genres.iter().map(|(g, &c)| (g, c)).collect();
        genres.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let genres: Vec<&str> = genres
            .iter()
            .take(TARGET_GENRES)
            .map(|(genre, _)| genre.as_str())
            .collect();
        let tops: Vec<GenreTop> = state
            .neo4j
            .rows(
                query(
                    "MATCH (g:Genre) WHERE g.name IN $genres
                     RETURN g.top_artist_ids[0..$top] AS ids, g.top_artist_counts[0..$top] AS counts",
                )
                .param("genres", genres)
                .param("top", GENRE_TOP_ARTISTS),
            )
            .await?;
        let mut shared: HashMap<i64, i64> = HashMap::new();
        for top in tops {
            let pairs = top
                .ids
                .unwrap_or_default()
                .into_iter()
                .zip(top.counts.unwrap_or_default());
            for (artist, releases) in pairs.filter(|&(artist, _)| artist != id) {
                *shared.entry(artist).or_default() += releases;
            }
        }
        let mut candidates: Vec<(i64, i64)> = shared
            .into_iter()
            .filter(|&(_, count)| count >= MIN_SHARED)
            .collect();
        candidates.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let compared: Vec<i64> = candidates
            .iter()
            .take(COMPARED)
            .map(|&(artist, _)| artist)
            .collect();
        let profiles = profiles(&state, &compared).await?;
        let mut scored: Vec<(f64, i64, Breakdown, &Profile)> = Vec::new();
        for artist in &compared {
            let Some(profile) = profiles.get(artist) else {
                continue;
            };
            let parts = [
                cosine(&target.genres, &profile.genres),
                cosine(&target.styles, &profile.styles),
                cosine(&target.labels, &profile.labels),
                cosine(&target.collaborators, &profile.collaborators),
            ];
            let score: f64 = parts.iter().zip(WEIGHTS).map(|(part, w)| part * w).sum();
            let score = rounded(score, 4);
            if score > 0.0 {
                let breakdown = Breakdown {
                    genre: rounded(parts[0], 4),
                    style: rounded(parts[1], 4),
                    label: rounded(parts[2], 4),
                    collaborator: rounded(parts[3], 4),
                };
                scored.push((score, *artist, breakdown, profile));
            }
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let ids: Vec<i64> = scored.iter().map(|s| s.1).collect();
        let artist_names = entity::names(&state.neo4j, NodeType::Artist, &ids).await?;
        let shared_labels = |profile: &Profile| -> Vec<i64> {
            let mut labels: Vec<i64> = profile
                .labels
                .keys()
                .filter(|label| target.labels.contains_key(label))
                .copied()
                .collect();
            labels.sort_unstable();
            labels
        };
        let mut label_ids: Vec<i64> = scored.iter().flat_map(|s| shared_labels(s.3)).collect();
        label_ids.sort_unstable();
        label_ids.dedup();
        let label_names = entity::names(&state.neo4j, NodeType::Label, &label_ids).await?;
        let similar = scored
            .into_iter()
            .filter_map(|(similarity, artist, breakdown, profile)| {
                let mut shared_genres: Vec<String> = profile
                    .genres
                    .keys()
                    .filter(|genre| target.genres.contains_key(*genre))
                    .cloned()
                    .collect();
                shared_genres.sort_unstable();
                let mut shared_labels: Vec<String> = shared_labels(profile)
                    .iter()
                    .filter_map(|label| label_names.get(label).cloned())
                    .collect();
                shared_labels.sort_unstable();
                shared_labels.dedup();
                Some(SimilarArtist {
                    artist_id: artist.to_string(),
                    artist_name: artist_names.get(&artist)?.clone(),
                    similarity,
                    breakdown,
                    release_count: profile.releases,
                    shared_genres,
                    shared_labels,
                })
            })
            .collect();
        Ok(SimilarArtists {
            artist_id: id.to_string(),
            artist_name,
            similar,
        })
    };
    state
        .cache
        .get_or_compute("similar_artist", format!("{id}:{limit}"), compute)
        .await
}
