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

use std::collections::HashMap;

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
use crate::store::graph::profiles::MIN_SIMILAR_ARTIST_RELEASES;
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

/// Artists' collaborators as (artist, other, shared releases), most shared first.
async fn adjacent(state: &AppState, artists: &[i64]) -> Result<Vec<(i64, i64, i64)>, ApiError> {
    let rows = postgres::query_pooled(
        &state.postgres,
        "SELECT artist_id, other_id, releases FROM artist_collaborations
         WHERE artist_id = ANY($1) ORDER BY artist_id, releases DESC, other_id",
        &[&artists],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|row| (row.get(0), row.get(1), row.get(2)))
        .collect())
}

#[derive(Serialize)]
struct Collaborators {
    artist_id: String,
    artist_name: String,
    depth: i64,
    collaborators: Vec<Collaborator>,
    total: usize,
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
/// then by id. `total` counts every one within `depth`.
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
        // (artist, distance, count), in the order of the answer within each distance.
        let mut found: Vec<(i64, i64, i64)> = Vec::new();
        let mut distance_of: HashMap<i64, i64> = HashMap::from([(id, 0)]);
        let mut frontier = vec![id];
        for distance in 1..=depth {
            let mut counts: HashMap<i64, i64> = HashMap::new();
            for (_, other, releases) in adjacent(&state, &frontier).await? {
                if distance_of.contains_key(&other) {
                    continue;
                }
                // Shared releases at distance 1; connecting artists further out.
                *counts.entry(other).or_default() += if distance == 1 { releases } else { 1 };
            }
            let mut level: Vec<(i64, i64, i64)> = counts
                .into_iter()
                .map(|(other, count)| (other, distance, count))
                .collect();
            level.sort_unstable_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
            distance_of.extend(level.iter().map(|&(other, distance, _)| (other, distance)));
            frontier = level.iter().map(|&(other, ..)| other).collect();
            found.extend(level);
            if frontier.is_empty() {
                break;
            }
        }
        let total = found.len();
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
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
        })
    };
    state
        .cache
        .get_or_compute(
            &state.postgres,
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
        .get_or_compute(
            &state.postgres,
            "network_centrality",
            id.to_string(),
            compute,
        )
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
        .get_or_compute(
            &state.postgres,
            "network_cluster",
            format!("{id}:{limit}"),
            compute,
        )
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

/// An artist's four histograms.
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
    for (artist, other, releases) in adjacent(state, artists).await? {
        if let Some(profile) = profiles.get_mut(&artist) {
            profile.collaborators.insert(other, releases);
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
        .get_or_compute(
            &state.postgres,
            "similar_artist",
            format!("{id}:{limit}"),
            compute,
        )
        .await
}
