//! One entity's own view: `GET /api/node/{id}` (its properties and direct neighbours' names),
//! `GET /api/trends` (its releases per year) and `GET /api/collaborators/{artist_id}`.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use deadpool_postgres::Pool;
use neo4rs::{BoltType, Query, query};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_postgres::types::ToSql;

use super::entity::{self, NodeType};
use super::explore::ReleaseOwner;
use super::params::{self, Choice, Params};
use super::{ApiError, AppState};
use crate::store::postgres;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/node/{id}", get(node))
        .route("/api/trends", get(trends))
        .route("/api/collaborators/{artist_id}", get(collaborators))
}

/// A node by key: a numeric id, or the name of a genre or style.
async fn node(
    State(state): State<AppState>,
    Path(id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let kind = params.choice("type", NodeType::ALL, Some(NodeType::Artist))?;
    let key = if kind.keyed_by_name() {
        BoltType::from(params::text("id", &id)?)
    } else {
        BoltType::from(params::id("id", &id)?)
    };
    let cache_key = format!("{}|{id}", kind.name());
    let neo4j = state.neo4j.clone();
    let postgres = state.postgres.clone();
    let compute = async move {
        let query = match &key {
            BoltType::Integer(id) if kind == NodeType::Artist => {
                artist_query(&postgres, id.value).await?
            }
            _ => query(&node_query(kind)),
        };
        neo4j
            .row::<NodeView>(query.param("key", key))
            .await?
            .map(|row| row.node)
            .ok_or_else(|| ApiError::NotFound(format!("{} {id}", kind.name())))
    };
    state.cache.get_or_compute("node", cache_key, compute).await
}

/// An artist's node, with its genres and styles (by name) from its profile when that keeps them
/// (from [`MIN_SIMILAR_ARTIST_RELEASES`] releases up), else through its few releases: a prolific
/// artist's would be a walk through every release it has.
///
/// [`MIN_SIMILAR_ARTIST_RELEASES`]: crate::store::graph::profiles::MIN_SIMILAR_ARTIST_RELEASES
async fn artist_query(postgres: &Pool, id: i64) -> Result<Query, ApiError> {
    let rows = postgres::query_pooled(
        postgres,
        "SELECT genres, styles FROM artist_profiles WHERE artist_id = $1 AND genres IS NOT NULL",
        &[&id],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(query(&node_query(NodeType::Artist)));
    };
    let (mut genres, mut styles): (Vec<String>, Vec<String>) = (row.get(0), row.get(1));
    genres.sort_unstable();
    styles.sort_unstable();
    Ok(
        query(&ARTIST_NODE.replace("{tags}", "genres: $genres, styles: $styles,"))
            .param("genres", genres)
            .param("styles", styles),
    )
}

/// An artist's node; `{tags}` gives its `genres` and `styles`.
const ARTIST_NODE: &str = "MATCH (a:Artist {id: $key}) WHERE a.name IS NOT NULL
     RETURN {id: toString(a.id), name: a.name, release_count: coalesce(a.release_count, 0), {tags}
             groups: COLLECT { MATCH (a)-[:MEMBER_OF]->(g:Artist) WHERE g.name IS NOT NULL
                               RETURN g.name AS n ORDER BY n },
             members: COLLECT { MATCH (a)<-[:MEMBER_OF]-(m:Artist) WHERE m.name IS NOT NULL
                                RETURN m.name AS n ORDER BY n },
             aliases: COLLECT { MATCH (a)-[:ALIAS_OF]-(o:Artist) WHERE o <> a AND o.name IS NOT NULL
                                RETURN DISTINCT o.name AS n ORDER BY n }} AS node";

/// An artist's genres and styles, through its releases.
const LIVE_ARTIST_TAGS: &str = "genres: COLLECT { MATCH (a)<-[:BY]-(:Release)-[:IS]->(g:Genre)
                               RETURN DISTINCT g.name AS n ORDER BY n },
             styles: COLLECT { MATCH (a)<-[:BY]-(:Release)-[:IS]->(s:Style)
                               RETURN DISTINCT s.name AS n ORDER BY n },";

#[derive(Deserialize)]
struct NodeView {
    node: Value,
}

/// One row with one map column, `node`; neighbour lists are sorted so answers are stable. A node
/// nothing names (no record of its own gives a name or title, and no referrer does) is not found,
/// and neighbour lists leave such nodes out.
fn node_query(kind: NodeType) -> Cow<'static, str> {
    let statement = match kind {
        NodeType::Artist => return Cow::Owned(ARTIST_NODE.replace("{tags}", LIVE_ARTIST_TAGS)),
        NodeType::Label => {
            "MATCH (l:Label {id: $key}) WHERE l.name IS NOT NULL
             RETURN {id: toString(l.id), name: l.name, release_count: coalesce(l.release_count, 0),
                     artist_count: coalesce(l.artist_count, 0), genre_count: coalesce(l.genre_count, 0),
                     parent_label: COLLECT { MATCH (l)-[:SUBLABEL_OF]->(p:Label) WHERE p.name IS NOT NULL
                                             RETURN {id: toString(p.id), name: p.name} AS p
                                             ORDER BY p.id }[0],
                     sublabels: COLLECT { MATCH (l)<-[:SUBLABEL_OF]-(s:Label) WHERE s.name IS NOT NULL
                                          RETURN {id: toString(s.id), name: s.name} AS s
                                          ORDER BY s.name, s.id }} AS node"
        }
        NodeType::Master => {
            "MATCH (m:Master {id: $key}) WHERE m.title IS NOT NULL
             RETURN {id: toString(m.id), name: m.title, year: m.year,
                     artists: COLLECT { MATCH (m)-[:BY]->(a:Artist) WHERE a.name IS NOT NULL RETURN a.name AS n ORDER BY n },
                     genres: COLLECT { MATCH (m)-[:IS]->(g:Genre) RETURN g.name AS n ORDER BY n },
                     styles: COLLECT { MATCH (m)-[:IS]->(s:Style) RETURN s.name AS n ORDER BY n },
                     release_count: COUNT { (m)<-[:DERIVED_FROM]-(:Release) }} AS node"
        }
        NodeType::Release => {
            "MATCH (r:Release {id: $key}) WHERE r.title IS NOT NULL
             OPTIONAL MATCH (r)-[d:DERIVED_FROM]->(m:Master)
             RETURN {id: toString(r.id), name: r.title, year: r.year, country: r.country,
                     formats: coalesce(r.formats, []),
                     master: CASE WHEN m.title IS NULL THEN null
                             ELSE {id: toString(m.id), name: m.title, main: d.main} END,
                     artists: COLLECT { MATCH (r)-[:BY]->(a:Artist) WHERE a.name IS NOT NULL RETURN a.name AS n ORDER BY n },
                     labels: COLLECT { MATCH (r)-[:ON]->(l:Label) WHERE l.name IS NOT NULL
                                     RETURN DISTINCT l.name AS n ORDER BY n },
                     genres: COLLECT { MATCH (r)-[:IS]->(g:Genre) RETURN g.name AS n ORDER BY n },
                     styles: COLLECT { MATCH (r)-[:IS]->(s:Style) RETURN s.name AS n ORDER BY n }} AS node"
        }
        NodeType::Genre => {
            "MATCH (g:Genre {name: $key})
             RETURN {id: g.name, name: g.name, release_count: coalesce(g.release_count, 0),
                     artist_count: coalesce(g.artist_count, 0), label_count: coalesce(g.label_count, 0),
                     style_count: coalesce(g.style_count, 0), first_year: g.first_year} AS node"
        }
        NodeType::Style => {
            "MATCH (s:Style {name: $key})
             RETURN {id: s.name, name: s.name, release_count: coalesce(s.release_count, 0),
                     artist_count: coalesce(s.artist_count, 0), label_count: coalesce(s.label_count, 0),
                     genre_count: coalesce(s.genre_count, 0), first_year: s.first_year} AS node"
        }
    };
    Cow::Borrowed(statement)
}

#[derive(Serialize)]
struct Trend {
    name: String,
    #[serde(rename = "type")]
    kind: NodeType,
    data: Vec<YearCount>,
}

#[derive(Serialize, Deserialize)]
struct YearCount {
    year: i64,
    count: i64,
}

/// Releases per year (years known only, oldest first) of a named artist, label, genre or style.
async fn trends(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let (name, kind) = entity::named(&params)?;
    let key = format!("{}|{name}", kind.name());
    let neo4j = state.neo4j.clone();
    let postgres = state.postgres.clone();
    let compute = async move {
        let found = entity::find_by_name(&neo4j, kind, &name).await?;
        // An artist's or label's dated releases are counted from one index range of its page
        // table (`store::facts`); a genre or style keeps its counts on its node, precomputed by
        // the ingest's aggregates.
        let owner = match kind {
            NodeType::Artist => Some(ReleaseOwner::Artist(found.numeric_id()?)),
            NodeType::Label => Some(ReleaseOwner::Label(found.numeric_id()?)),
            _ => None,
        };
        let data = if let Some(owner) = owner {
            let (table, condition) = owner.table();
            let statement = format!(
                "SELECT year::bigint, count(*) FROM {table} WHERE {condition} AND year > 0
                 GROUP BY year ORDER BY year"
            );
            postgres::query_pooled(&postgres, &statement, &owner.values())
                .await?
                .iter()
                .map(|row| YearCount {
                    year: row.get(0),
                    count: row.get(1),
                })
                .collect()
        } else {
            neo4j
                .rows(
                    query(
                        "MATCH (g) WHERE elementId(g) = $node
                         UNWIND range(0, size(coalesce(g.trend_years, [])) - 1) AS i
                         RETURN g.trend_years[i] AS year, g.trend_counts[i] AS count ORDER BY year",
                    )
                    .param("node", found.element_id.as_str()),
                )
                .await?
        };
        Ok(Trend {
            name: found.name,
            kind,
            data,
        })
    };
    state.cache.get_or_compute("trends", key, compute).await
}

/// Largest `limit` of `collaborators`.
const MAX_COLLABORATORS: i64 = 100;

#[derive(Serialize)]
struct Collaborators {
    artist_id: String,
    artist_name: String,
    total: i64,
    collaborators: Vec<Collaborator>,
}

#[derive(Serialize)]
struct Collaborator {
    artist_id: String,
    artist_name: String,
    release_count: i64,
    first_year: i64,
    last_year: i64,
    yearly_counts: Vec<YearCount>,
}

/// The artists credited as main artists on the same releases (with a known year) as this one,
/// most shared releases first, each with its shared releases per year: one index range of
/// PostgreSQL's `collaboration_years` (however many releases the artist has), with the names from
/// the graph. As on the other pages of neighbours, a collaborator that no record or release
/// names is counted in the total but left off the page (Discogs names every artist it credits).
async fn collaborators(
    State(state): State<AppState>,
    Path(artist_id): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let id = params::id("artist_id", &artist_id)?;
    let limit = params.limit(20, MAX_COLLABORATORS)?;
    let key = format!("{id}|{limit}");
    let pool = state.postgres.clone();
    let neo4j = state.neo4j.clone();
    let compute = async move {
        let client = pool.get().await?;
        let page_values: [&(dyn ToSql + Sync); 2] = [&id, &limit];
        let page = postgres::query(
            &client,
            "SELECT other_id, releases, first_year, last_year, years, counts
             FROM collaboration_years WHERE artist_id = $1
             ORDER BY releases DESC, other_id LIMIT $2",
            &page_values,
        );
        let total_values: [&(dyn ToSql + Sync); 1] = [&id];
        let total = postgres::query(
            &client,
            "SELECT count(*) FROM collaboration_years WHERE artist_id = $1",
            &total_values,
        );
        let (page, total) = tokio::try_join!(page, total)?;
        drop(client);
        let ids: Vec<i64> = page.iter().map(|row| row.get(0)).collect();
        let names = neo4j
            .row::<Names>(
                query(
                    "MATCH (a:Artist {id: $id}) WHERE a.name IS NOT NULL
                     OPTIONAL MATCH (c:Artist) WHERE c.id IN $ids AND c.name IS NOT NULL
                     RETURN a.name AS artist_name, collect(c {.id, .name}) AS named",
                )
                .param("id", id)
                .param("ids", ids),
            )
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("Artist '{id}'")))?;
        let named: HashMap<i64, String> = names
            .named
            .into_iter()
            .map(|artist| (artist.id, artist.name))
            .collect();
        let collaborators = page
            .iter()
            .filter_map(|row| {
                let other: i64 = row.get(0);
                let artist_name = named.get(&other)?.clone();
                let years: Vec<i32> = row.get(4);
                let counts: Vec<i64> = row.get(5);
                Some(Collaborator {
                    artist_id: other.to_string(),
                    artist_name,
                    release_count: row.get(1),
                    first_year: row.get::<_, i32>(2).into(),
                    last_year: row.get::<_, i32>(3).into(),
                    yearly_counts: years
                        .into_iter()
                        .zip(counts)
                        .map(|(year, count)| YearCount {
                            year: year.into(),
                            count,
                        })
                        .collect(),
                })
            })
            .collect();
        Ok::<_, ApiError>(Collaborators {
            artist_id: id.to_string(),
            artist_name: names.artist_name,
            total: total.first().map_or(0, |row| row.get(0)),
            collaborators,
        })
    };
    state
        .cache
        .get_or_compute("collaborators", key, compute)
        .await
}

/// An artist's name and those of the collaborators on its page that have one.
#[derive(Deserialize)]
struct Names {
    artist_name: String,
    named: Vec<NamedArtist>,
}

#[derive(Deserialize)]
struct NamedArtist {
    id: i64,
    name: String,
}
