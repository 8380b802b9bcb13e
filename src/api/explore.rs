//! `GET /api/explore` (a named entity and how many of each kind of neighbour it has) and
//! `GET /api/expand` (one page of one kind of neighbour).
//!
//! Counts that the ingest precomputes (SPEC §7 aggregates) are read from the node; the rest are
//! counted from the node outwards, never over the whole graph. A genre's, style's, artist's or
//! label's releases, by year, are paged from PostgreSQL's `release_tags`, `release_artists` and
//! `release_labels`, and an artist's labels or a label's artists, by the releases they share,
//! from its `artist_labels`: their indexes hold them in that order, so a page costs what it
//! returns, however big the hub.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use neo4rs::query;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use deadpool_postgres::Pool;
use tokio_postgres::types::ToSql;

use super::entity::{self, NodeType};
use super::params::{Choice, Params};
use super::{ApiError, AppState};
use crate::store;
use crate::store::graph::aggregates::TOP_LIST_LENGTH;
use crate::store::neo4j::Neo4j;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/explore", get(explore))
        .route("/api/expand", get(expand))
}

/// A kind of neighbour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Releases,
    Artists,
    Labels,
    Aliases,
    Genres,
    Styles,
}

impl Choice for Category {
    fn name(self) -> &'static str {
        match self {
            Category::Releases => "releases",
            Category::Artists => "artists",
            Category::Labels => "labels",
            Category::Aliases => "aliases",
            Category::Genres => "genres",
            Category::Styles => "styles",
        }
    }
}

impl Category {
    const ALL: &'static [Category] = &[
        Category::Releases,
        Category::Artists,
        Category::Labels,
        Category::Aliases,
        Category::Genres,
        Category::Styles,
    ];

    /// The categories an entity of `kind` has, in the order `explore` lists them.
    pub fn of(kind: NodeType) -> &'static [Category] {
        match kind {
            NodeType::Artist => &[Category::Releases, Category::Labels, Category::Aliases],
            NodeType::Genre => &[
                Category::Releases,
                Category::Artists,
                Category::Labels,
                Category::Styles,
            ],
            NodeType::Label => &[Category::Releases, Category::Artists, Category::Genres],
            NodeType::Style => &[
                Category::Releases,
                Category::Artists,
                Category::Labels,
                Category::Genres,
            ],
            NodeType::Master | NodeType::Release => &[],
        }
    }

    /// The type of the nodes this category lists.
    fn child_type(self) -> &'static str {
        match self {
            Category::Releases => "release",
            Category::Artists | Category::Aliases => "artist",
            Category::Labels => "label",
            Category::Genres => "genre",
            Category::Styles => "style",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Category::Releases => "Releases",
            Category::Artists => "Artists",
            Category::Labels => "Labels",
            Category::Aliases => "Aliases & Members",
            Category::Genres => "Genres",
            Category::Styles => "Styles",
        }
    }
}

#[derive(Serialize)]
struct Explored {
    center: Center,
    categories: Vec<CategoryCount>,
}

#[derive(Serialize)]
struct Center {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: NodeType,
}

#[derive(Serialize)]
struct CategoryCount {
    id: String,
    name: &'static str,
    category: &'static str,
    count: i64,
}

/// One count per category, named like the categories.
#[derive(Deserialize)]
struct Counts {
    releases: Option<i64>,
    artists: Option<i64>,
    labels: Option<i64>,
    aliases: Option<i64>,
    genres: Option<i64>,
    styles: Option<i64>,
}

impl Counts {
    fn get(&self, category: Category) -> i64 {
        match category {
            Category::Releases => self.releases,
            Category::Artists => self.artists,
            Category::Labels => self.labels,
            Category::Aliases => self.aliases,
            Category::Genres => self.genres,
            Category::Styles => self.styles,
        }
        .unwrap_or(0)
    }
}

async fn explore(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let (name, kind) = entity::named(&params)?;
    let key = format!("{}|{name}", kind.name());
    let neo4j = state.neo4j.clone();
    let postgres = state.postgres.clone();
    let compute = async move {
        let found = entity::find_by_name(&neo4j, kind, &name).await?;
        let counts = async {
            let counts: Option<Counts> = neo4j
                .row(query(count_query(kind)).param("node", found.element_id.as_str()))
                .await?;
            counts.ok_or_else(|| entity::not_found(kind, &name))
        };
        let counts = if kind == NodeType::Artist {
            let labels = SharedReleases::of_artist(found.numeric_id()?);
            let client = postgres.get().await?;
            let (mut counts, labels) = tokio::try_join!(counts, labels.total(&client))?;
            counts.labels = Some(labels.total);
            counts
        } else {
            counts.await?
        };
        let categories = Category::of(kind)
            .iter()
            .map(|&category| CategoryCount {
                id: format!("cat-{}", category.name()),
                name: category.title(),
                category: category.name(),
                count: counts.get(category),
            })
            .collect();
        Ok(Explored {
            center: Center {
                id: found.id,
                name: found.name,
                kind,
            },
            categories,
        })
    };
    state.cache.get_or_compute("explore", key, compute).await
}

/// The category counts of the node with element id `$node`, for the named types (the only ones
/// `explore` takes).
fn count_query(kind: NodeType) -> &'static str {
    match kind {
        // An artist's labels are counted in PostgreSQL ([`SharedReleases`]).
        NodeType::Artist => {
            "MATCH (a) WHERE elementId(a) = $node
             RETURN a.release_count AS releases,
                    COUNT { MATCH (a)-[:ALIAS_OF|MEMBER_OF]-(o:Artist) WHERE o <> a RETURN DISTINCT o } AS aliases"
        }
        NodeType::Label => {
            "MATCH (l) WHERE elementId(l) = $node
             RETURN l.release_count AS releases, l.artist_count AS artists, l.genre_count AS genres"
        }
        NodeType::Genre => {
            "MATCH (g) WHERE elementId(g) = $node
             RETURN g.release_count AS releases, g.artist_count AS artists,
                    g.label_count AS labels, g.style_count AS styles"
        }
        // Styles; masters and releases have no name to explore by and no categories.
        NodeType::Style | NodeType::Master | NodeType::Release => {
            "MATCH (s) WHERE elementId(s) = $node
             RETURN s.release_count AS releases, s.artist_count AS artists,
                    s.label_count AS labels, s.genre_count AS genres"
        }
    }
}

/// Largest page `expand` serves.
const MAX_EXPAND_LIMIT: i64 = 200;

#[derive(Serialize)]
struct Expanded {
    children: Vec<Value>,
    total: i64,
    offset: i64,
    limit: i64,
    has_more: bool,
}

#[derive(Deserialize)]
struct ReleaseChild {
    id: String,
    name: Option<String>,
    year: Option<i64>,
}

#[derive(Deserialize)]
struct CountedChild {
    id: String,
    name: Option<String>,
    release_count: Option<i64>,
}

#[derive(Deserialize)]
struct Total {
    total: i64,
}

/// `node_id` is the parent's *name*, as in the service this one replaces (its clients send the
/// name they got from `explore`).
async fn expand(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let name = params.required_text("node_id")?;
    let kind = params.choice("type", NodeType::NAMED, None)?;
    let category = params.choice("category", Category::ALL, None)?;
    let Some(expansion) = expand_queries(kind, category) else {
        return Err(ApiError::BadParameter {
            parameter: "category",
            reason: format!(
                "a {} has no {}; it has {}",
                kind.name(),
                category.name(),
                Category::of(kind)
                    .iter()
                    .map(|c| c.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    };
    let limit = params.limit(50, MAX_EXPAND_LIMIT)?;
    let offset = params.offset()?;
    let before_year = params.int("before_year", 1..=9999)?;
    let key = format!(
        "{}|{}|{limit}|{offset}|{before_year:?}|{name}",
        kind.name(),
        category.name()
    );
    let neo4j = state.neo4j.clone();
    let postgres = state.postgres.clone();
    let compute = async move {
        let found = entity::find_by_name(&neo4j, kind, &name).await?;
        let bind = |statement: &str| {
            query(statement)
                .param("node", found.element_id.as_str())
                .param("before", before_year)
                .param("offset", offset)
                .param("limit", limit)
        };
        let (rows, total) = match expansion {
            Expansion::ReleasePages => {
                let owner = match kind {
                    NodeType::Artist => ReleaseOwner::Artist(found.numeric_id()?),
                    NodeType::Label => ReleaseOwner::Label(found.numeric_id()?),
                    _ => ReleaseOwner::Tag {
                        style: kind == NodeType::Style,
                        name: &found.name,
                    },
                };
                let pages = ReleasePages {
                    owner,
                    found: &found,
                    before_year,
                    offset,
                    limit,
                };
                let (rows, total) = pages.page(&postgres, &neo4j).await?;
                (Rows::Releases(rows), total)
            }
            Expansion::SharedReleases { from_label, .. } if before_year.is_none() => {
                let shared = SharedReleases {
                    from_label,
                    id: found.numeric_id()?,
                    offset,
                    limit,
                };
                let (rows, total) = shared.page(&postgres, &neo4j).await?;
                (Rows::Counted(rows), Some(total))
            }
            Expansion::Graph(page, count)
            | Expansion::SharedReleases {
                dated: (page, count),
                ..
            } => {
                let from_top_list = kind.keyed_by_name()
                    && matches!(category, Category::Artists | Category::Labels)
                    && before_year.is_none()
                    && offset + limit <= TOP_LIST_LENGTH;
                let (page, count) = if from_top_list {
                    top_list_queries(category)
                } else {
                    (page, count)
                };
                let (rows, total) = tokio::try_join!(
                    neo4j.rows::<CountedChild>(bind(&page)),
                    neo4j.row::<Total>(bind(&count))
                )?;
                (Rows::Counted(rows), total)
            }
        };
        let child_type = category.child_type();
        let children = match rows {
            // Every release record has a title in practice; one without is left off its page.
            Rows::Releases(rows) => rows
                .into_iter()
                .filter_map(|r| {
                    Some(json!({"id": r.id, "name": r.name?, "type": child_type, "year": r.year}))
                })
                .collect::<Vec<_>>(),
            Rows::Counted(rows) => rows
                .into_iter()
                .map(|r| {
                    json!({"id": r.id, "name": r.name, "type": child_type,
                           "release_count": r.release_count.unwrap_or(0)})
                })
                .collect(),
        };
        let total = total.map_or(0, |t| t.total);
        let has_more = offset + i64::try_from(children.len()).unwrap_or(0) < total;
        Ok(Expanded {
            children,
            total,
            offset,
            limit,
            has_more,
        })
    };
    state.cache.get_or_compute("expand", key, compute).await
}

/// Whose releases a page lists.
#[derive(Clone, Copy)]
pub(super) enum ReleaseOwner<'a> {
    /// A genre (`style` false) or a style, by name.
    Tag {
        style: bool,
        name: &'a str,
    },
    Artist(i64),
    Label(i64),
}

/// A page of a genre's, style's, artist's or label's releases, newest first (undated last, then
/// by id), read from PostgreSQL's `release_tags`, `release_artists` or `release_labels` (one
/// index range, however many releases the owner has). The total is the node's precomputed
/// count; with `before_year`, a genre's or style's is the sum of its per-year counts up to that
/// year, an artist's or label's counted from the same index range.
struct ReleasePages<'a> {
    owner: ReleaseOwner<'a>,
    found: &'a entity::Found,
    before_year: Option<i64>,
    offset: i64,
    limit: i64,
}

const TAG_RELEASE_TOTAL: &str = "MATCH (n) WHERE elementId(n) = $node
     WITH n, coalesce(n.trend_years, []) AS years, coalesce(n.trend_counts, []) AS counts
     RETURN CASE WHEN $before IS NULL THEN coalesce(n.release_count, 0)
            ELSE reduce(total = 0, i IN range(0, size(years) - 1) |
                        total + CASE WHEN years[i] <= $before THEN counts[i] ELSE 0 END)
            END AS total";

impl ReleaseOwner<'_> {
    /// The owner's page table (`store::facts`), and the condition on it, whose values
    /// [`Self::values`] gives as `$1` (and `$2`).
    pub(super) fn table(&self) -> (&'static str, &'static str) {
        match self {
            ReleaseOwner::Tag { .. } => ("release_tags", "style = $1 AND tag = $2"),
            ReleaseOwner::Artist(_) => ("release_artists", "artist_id = $1"),
            ReleaseOwner::Label(_) => ("release_labels", "label_id = $1"),
        }
    }

    pub(super) fn values(&self) -> Vec<&(dyn ToSql + Sync)> {
        match self {
            ReleaseOwner::Tag { style, name } => vec![style, name],
            ReleaseOwner::Artist(id) | ReleaseOwner::Label(id) => vec![id],
        }
    }
}

impl ReleasePages<'_> {
    /// The page's releases and the total.
    async fn page(
        &self,
        postgres: &Pool,
        neo4j: &Neo4j,
    ) -> Result<(Vec<ReleaseChild>, Option<Total>), ApiError> {
        let before = self.before_year.and_then(|year| i32::try_from(year).ok());
        let (table, owner) = self.owner.table();
        // The owner's values, then the last year if there is one, then offset and limit.
        let mut dated = self.owner.values();
        dated.extend(before.as_ref().map(|year| year as &(dyn ToSql + Sync)));
        let years = before.map(|_| format!("AND year BETWEEN 1 AND ${}", dated.len()));
        let years = years.as_deref().unwrap_or_default();
        let mut paged = dated.clone();
        paged.extend([&self.offset as &(dyn ToSql + Sync), &self.limit]);
        let client = postgres.get().await?;
        let sql = format!(
            "SELECT page.release_id::text, r.data->>'title', nullif(page.year, 0)::bigint
             FROM (SELECT release_id, year FROM {table} WHERE {owner} {years}
                   ORDER BY year DESC, release_id OFFSET ${} LIMIT ${}) page
             JOIN releases r ON r.id = page.release_id
             ORDER BY page.year DESC, page.release_id",
            paged.len() - 1,
            paged.len(),
        );
        let rows =
            async { Ok::<_, ApiError>(store::postgres::query(&client, &sql, &paged).await?) };
        let total = async {
            let statement = match self.owner {
                ReleaseOwner::Tag { .. } => TAG_RELEASE_TOTAL,
                _ if before.is_none() => PRECOMPUTED_RELEASE_COUNT,
                _ => {
                    let sql = format!("SELECT count(*) FROM {table} WHERE {owner} {years}");
                    let rows = store::postgres::query(&client, &sql, &dated).await?;
                    return Ok(rows.first().map(|row| Total { total: row.get(0) }));
                }
            };
            let statement = query(statement)
                .param("node", self.found.element_id.as_str())
                .param("before", self.before_year);
            Ok::<_, ApiError>(neo4j.row::<Total>(statement).await?)
        };
        let (rows, total) = tokio::try_join!(rows, total)?;
        let children = rows
            .iter()
            .map(|row| ReleaseChild {
                id: row.get(0),
                name: row.get(1),
                year: row.get(2),
            })
            .collect();
        Ok((children, total))
    }
}

/// The rows of a page, before they become its children.
enum Rows {
    Releases(Vec<ReleaseChild>),
    Counted(Vec<CountedChild>),
}

/// A page of an artist's labels (or, `from_label`, a label's artists), most shared releases
/// first, then by id, read from PostgreSQL's `artist_labels` (one index range, however many the
/// hub has), with their names from the graph. As on the top lists, a neighbour that no record or
/// referrer names is counted in the total but left off its page (Discogs names every label and
/// artist it references, so none is in practice).
struct SharedReleases {
    from_label: bool,
    id: i64,
    offset: i64,
    limit: i64,
}

impl SharedReleases {
    /// The labels of artist `id`, for their [`total`](Self::total).
    fn of_artist(id: i64) -> SharedReleases {
        SharedReleases {
            from_label: false,
            id,
            offset: 0,
            limit: 0,
        }
    }

    /// The columns of the node paged from and of its neighbours, and the neighbours' node label.
    fn columns(&self) -> (&'static str, &'static str, &'static str) {
        if self.from_label {
            ("label_id", "artist_id", "Artist")
        } else {
            ("artist_id", "label_id", "Label")
        }
    }

    /// How many neighbours the node has. A label's distinct artists are kept in its profile,
    /// counted from the same pairs, since the biggest labels have tens of thousands; an artist's
    /// labels are few enough to count.
    async fn total(&self, client: &tokio_postgres::Client) -> Result<Total, ApiError> {
        let statement = if self.from_label {
            "SELECT coalesce((SELECT artist_count FROM label_profiles WHERE label_id = $1), 0)"
        } else {
            "SELECT count(*) FROM artist_labels WHERE artist_id = $1"
        };
        let rows = store::postgres::query(client, statement, &[&self.id]).await?;
        Ok(Total {
            total: rows.first().map_or(0, |row| row.get(0)),
        })
    }

    /// The page's neighbours and the total.
    async fn page(
        &self,
        postgres: &Pool,
        neo4j: &Neo4j,
    ) -> Result<(Vec<CountedChild>, Total), ApiError> {
        let (own, other, label) = self.columns();
        let page = format!(
            "SELECT {other}, releases FROM artist_labels WHERE {own} = $1
             ORDER BY releases DESC, {other} OFFSET $2 LIMIT $3"
        );
        let client = postgres.get().await?;
        let rows = async {
            let values: [&(dyn ToSql + Sync); 3] = [&self.id, &self.offset, &self.limit];
            Ok::<_, ApiError>(store::postgres::query(&client, &page, &values).await?)
        };
        let (rows, total) = tokio::try_join!(rows, self.total(&client))?;
        drop(client);
        let (ids, counts): (Vec<i64>, Vec<i64>) = rows
            .iter()
            .map(|row| (row.get::<_, i64>(0), row.get::<_, i64>(1)))
            .unzip();
        if ids.is_empty() {
            return Ok((Vec::new(), total));
        }
        let statement = format!(
            "WITH $ids AS ids, $counts AS counts {}",
            named_in_order(label)
        );
        let children = neo4j
            .rows(query(&statement).param("ids", ids).param("counts", counts))
            .await?;
        Ok((children, total))
    }
}

/// The rows of the `label` nodes with ids `ids[i]` and release counts `counts[i]`, in list
/// order; those no record or referrer names are left out.
fn named_in_order(label: &str) -> String {
    format!(
        "UNWIND range(0, size(ids) - 1) AS i
         MATCH (c:{label} {{id: ids[i]}}) WHERE c.name IS NOT NULL
         RETURN toString(c.id) AS id, c.name AS name, counts[i] AS release_count ORDER BY i"
    )
}

/// The count of all releases of an artist, label, genre or style (an aggregate of SPEC §7).
const PRECOMPUTED_RELEASE_COUNT: &str =
    "MATCH (n) WHERE elementId(n) = $node RETURN coalesce(n.release_count, 0) AS total";

/// The page and count queries of a genre's or style's artists or labels, read from the top lists
/// and counts its node keeps (see [`crate::store::graph::aggregates`]).
fn top_list_queries(category: Category) -> (String, String) {
    let (list, label) = if category == Category::Artists {
        ("artist", "Artist")
    } else {
        ("label", "Label")
    };
    (
        format!(
            "MATCH (n) WHERE elementId(n) = $node
             WITH coalesce(n.top_{list}_ids, [])[$offset..$offset + $limit] AS ids,
                  coalesce(n.top_{list}_counts, [])[$offset..$offset + $limit] AS counts
             {}",
            named_in_order(label)
        ),
        format!("MATCH (n) WHERE elementId(n) = $node RETURN coalesce(n.{list}_count, 0) AS total"),
    )
}

/// How one (type, category) is expanded.
enum Expansion {
    /// A page query and a count query over the graph; both start from the node `n` with element
    /// id `$node`, and those that go through releases keep releases up to `$before` when it is
    /// set. Built from fixed fragments only.
    Graph(String, String),
    /// A genre's, style's, artist's or label's releases, from PostgreSQL ([`ReleasePages`]).
    ReleasePages,
    /// An artist's labels or a label's artists, from PostgreSQL ([`SharedReleases`]); with
    /// `before_year`, which the table does not count by, the graph's `dated` queries.
    SharedReleases {
        from_label: bool,
        dated: (String, String),
    },
}

/// How a (type, category) is expanded; `None` when the type has no such category.
fn expand_queries(kind: NodeType, category: Category) -> Option<Expansion> {
    use Category as C;
    use NodeType as T;
    let (page, count) = match (kind, category) {
        (T::Artist | T::Label | T::Genre | T::Style, C::Releases) => {
            return Some(Expansion::ReleasePages);
        }
        (T::Artist, C::Labels) => {
            return Some(Expansion::SharedReleases {
                from_label: false,
                dated: ranked("(n)<-[:BY]-(r:Release)-[:ON]->(c:Label)", Key::Id),
            });
        }
        (T::Genre | T::Style, C::Artists) => {
            ranked("(n)<-[:IS]-(r:Release)-[:BY]->(c:Artist)", Key::Id)
        }
        (T::Genre | T::Style, C::Labels) => {
            ranked("(n)<-[:IS]-(r:Release)-[:ON]->(c:Label)", Key::Id)
        }
        (T::Label, C::Artists) => {
            return Some(Expansion::SharedReleases {
                from_label: true,
                dated: ranked("(n)<-[:ON]-(r:Release)-[:BY]->(c:Artist)", Key::Id),
            });
        }
        (T::Label, C::Genres) => ranked("(n)<-[:ON]-(r:Release)-[:IS]->(c:Genre)", Key::Name),
        (T::Genre, C::Styles) => part_of("(n)<-[p:PART_OF]-(c:Style)"),
        (T::Style, C::Genres) => part_of("(n)-[p:PART_OF]->(c:Genre)"),
        (T::Artist, C::Aliases) => (
            "MATCH (n)-[:ALIAS_OF|MEMBER_OF]-(c:Artist)
             WHERE elementId(n) = $node AND c <> n AND c.name IS NOT NULL
             WITH DISTINCT c
             RETURN toString(c.id) AS id, c.name AS name, c.release_count AS release_count
             ORDER BY c.id SKIP $offset LIMIT $limit"
                .to_owned(),
            "MATCH (n)-[:ALIAS_OF|MEMBER_OF]-(c:Artist)
             WHERE elementId(n) = $node AND c <> n AND c.name IS NOT NULL
             RETURN count(DISTINCT c) AS total"
                .to_owned(),
        ),
        _ => return None,
    };
    Some(Expansion::Graph(page, count))
}

const THROUGH_RELEASES: &str =
    "elementId(n) = $node AND ($before IS NULL OR 0 < r.year <= $before)";

/// Neighbours nothing names are left out of lists and counts alike (tested once per neighbour,
/// after the rows through releases are grouped).
const NAMED: &str = "c.name IS NOT NULL";

/// What identifies a neighbour: a numeric id, or (genres, styles) a name.
enum Key {
    Id,
    Name,
}

/// The neighbours `c` that `pattern` reaches through releases `r`, by the releases they share.
fn ranked(pattern: &str, key: Key) -> (String, String) {
    let (id, order) = match key {
        Key::Id => ("toString(c.id)", "c.id"),
        Key::Name => ("c.name", "c.name"),
    };
    (
        format!(
            "MATCH {pattern} WHERE {THROUGH_RELEASES}
             WITH c, count(DISTINCT r) AS release_count WHERE {NAMED}
             RETURN {id} AS id, c.name AS name, release_count
             ORDER BY release_count DESC, {order} SKIP $offset LIMIT $limit"
        ),
        format!(
            "MATCH {pattern} WHERE {THROUGH_RELEASES}
             WITH DISTINCT c WHERE {NAMED} RETURN count(c) AS total"
        ),
    )
}

/// The genres or styles `c` joined to `n` by `PART_OF` `p`, by the releases they share.
fn part_of(pattern: &str) -> (String, String) {
    (
        format!(
            "MATCH {pattern} WHERE elementId(n) = $node
             RETURN c.name AS id, c.name AS name, coalesce(p.release_count, 0) AS release_count
             ORDER BY release_count DESC, c.name SKIP $offset LIMIT $limit"
        ),
        format!("MATCH {pattern} WHERE elementId(n) = $node RETURN count(c) AS total"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_category_expands_and_no_other_does() {
        for &kind in NodeType::ALL {
            for &category in Category::ALL {
                assert_eq!(
                    expand_queries(kind, category).is_some(),
                    Category::of(kind).contains(&category),
                    "{} / {}",
                    kind.name(),
                    category.name()
                );
            }
        }
    }
}
