//! Finding things by words: `GET /api/autocomplete` (names as they are typed) and
//! `GET /api/search` (PostgreSQL full-text search with type, genre and decade facets).
//!
//! Both use the `search` tsvector columns and their GIN indexes (migration 0002); the SQL text
//! is assembled only from fixed fragments chosen by validated enums, and everything a client
//! sends travels as a bind parameter.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use deadpool_postgres::Pool;
use neo4rs::query;
use serde::{Deserialize, Serialize};
use tokio_postgres::types::ToSql;

use super::entity::NodeType;
use super::params::{Choice, Params};
use super::{ApiError, AppState};
use crate::record::Kind;
use crate::store::postgres;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/autocomplete", get(autocomplete))
        .route("/api/search", get(search))
}

const AUTOCOMPLETE_TYPES: &[NodeType] = &[
    NodeType::Artist,
    NodeType::Label,
    NodeType::Genre,
    NodeType::Style,
];
const MAX_AUTOCOMPLETE_LIMIT: i64 = 50;

#[derive(Serialize)]
struct Suggestions {
    results: Vec<Suggestion>,
}

#[derive(Serialize)]
struct Suggestion {
    id: String,
    name: String,
    score: f64,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

/// Artists (by name or real name) and labels whose words start with every word of `q` ("beat"
/// finds "The Beatles"), exact names first, then names that start with `q`, then the shortest;
/// genres and styles whose name contains `q`, most releases first.
async fn autocomplete(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    // Case never matters to the answer, so the query runs on (and is cached under) one case.
    let q = params.required_text("q")?.to_lowercase();
    let kind = params.choice("type", AUTOCOMPLETE_TYPES, Some(NodeType::Artist))?;
    let limit = params.limit(10, MAX_AUTOCOMPLETE_LIMIT)?;
    let key = format!("{}|{limit}|{q}", kind.name());
    let pool = state.postgres.clone();
    let neo4j = state.neo4j.clone();
    let compute = async move {
        let names: Vec<(String, String)> = match kind {
            NodeType::Genre | NodeType::Style => {
                let statement = if kind == NodeType::Genre {
                    "MATCH (n:Genre) WHERE toLower(n.name) CONTAINS toLower($q)
                     RETURN n.name AS name ORDER BY n.release_count DESC, n.name"
                } else {
                    "MATCH (n:Style) WHERE toLower(n.name) CONTAINS toLower($q)
                     RETURN n.name AS name ORDER BY n.release_count DESC, n.name"
                };
                let mut names: Vec<(String, String)> = neo4j
                    .rows::<Named>(query(statement).param("q", q.as_str()))
                    .await?
                    .into_iter()
                    .map(|n| (n.name.clone(), n.name))
                    .collect();
                names.sort_by(|a, b| score(&q, &b.1).total_cmp(&score(&q, &a.1)));
                names.truncate(usize::try_from(limit).unwrap_or(0));
                names
            }
            _ => {
                let table = if kind == NodeType::Label {
                    "labels"
                } else {
                    "artists"
                };
                let client = pool.get().await?;
                let rows = postgres::query(
                    &client,
                    &format!(
                        "SELECT id::text, data->>'name' FROM {table}
                             WHERE search @@ {PREFIX_QUERY}
                             ORDER BY lower(data->>'name') = lower($1) DESC,
                                      starts_with(lower(data->>'name'), lower($1)) DESC,
                                      length(data->>'name'), id
                             LIMIT $2"
                    ),
                    &[&q, &limit],
                )
                .await?;
                rows.iter()
                    .map(|row| {
                        (
                            row.get(0),
                            row.get::<_, Option<String>>(1).unwrap_or_default(),
                        )
                    })
                    .collect()
            }
        };
        let results = names
            .into_iter()
            .map(|(id, name)| Suggestion {
                score: score(&q, &name),
                id,
                name,
            })
            .collect();
        Ok(Suggestions { results })
    };
    state
        .cache
        .get_or_compute("autocomplete", key, compute)
        .await
}

/// The tsquery that matches every word of `$1` as a prefix ("beat" matches "Beatles"), for a
/// `search` tsvector column.
pub(super) const PREFIX_QUERY: &str =
    "(SELECT to_tsquery('simple', string_agg(quote_literal(lexeme) || ':*', ' & '))
     FROM unnest(to_tsvector('simple', $1)))";

/// How well `name` answers the typed `q`, from 0 to 1: an exact name (ignoring case) is 1, a name
/// that starts with `q` scores above one that only contains its words, and shorter names (fewer
/// untyped characters) above longer ones.
pub(super) fn score(q: &str, name: &str) -> f64 {
    let (q, name) = (q.to_lowercase(), name.to_lowercase());
    if q == name {
        return 1.0;
    }
    let typed = q.chars().count() as f64 / name.chars().count().max(1) as f64;
    let base = if name.starts_with(&q) { 0.5 } else { 0.0 };
    let score = base + 0.5 * typed.min(1.0);
    (score * 10_000.0).round() / 10_000.0
}

impl Choice for Kind {
    fn name(self) -> &'static str {
        self.singular()
    }
}

const MAX_SEARCH_LIMIT: i64 = 100;
/// Genres listed in the genre facet.
const GENRE_FACET_SIZE: usize = 20;

#[derive(Serialize)]
struct SearchAnswer {
    query: String,
    total: i64,
    facets: Facets,
    results: Vec<Hit>,
    pagination: Pagination,
}

#[derive(Serialize, Default)]
struct Facets {
    #[serde(rename = "type")]
    kind: BTreeMap<&'static str, i64>,
    genre: BTreeMap<String, i64>,
    decade: BTreeMap<String, i64>,
}

#[derive(Serialize)]
struct Hit {
    #[serde(rename = "type")]
    kind: &'static str,
    id: String,
    name: String,
    highlight: String,
    relevance: f64,
    metadata: Metadata,
}

#[derive(Serialize)]
struct Metadata {
    #[serde(skip_serializing_if = "Option::is_none")]
    year: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    genres: Option<Vec<String>>,
}

#[derive(Serialize)]
struct Pagination {
    limit: i64,
    offset: i64,
    has_more: bool,
}

/// A validated search request.
struct SearchRequest {
    q: String,
    types: Vec<Kind>,
    genres: Vec<String>,
    year_min: Option<i32>,
    year_max: Option<i32>,
    limit: i64,
    offset: i64,
}

impl SearchRequest {
    fn from_params(params: &Params) -> Result<SearchRequest, ApiError> {
        let year = |name| -> Result<Option<i32>, ApiError> {
            Ok(params
                .int(name, 1..=9999)?
                .and_then(|year| i32::try_from(year).ok()))
        };
        let mut types = params.choices("types", &Kind::ALL)?;
        if types.is_empty() {
            types = Kind::ALL.to_vec();
        }
        Ok(SearchRequest {
            q: params.required_text("q")?,
            types,
            genres: params.texts("genres")?,
            year_min: year("year_min")?,
            year_max: year("year_max")?,
            limit: params.limit(20, MAX_SEARCH_LIMIT)?,
            offset: params.offset()?,
        })
    }

    fn filtered(&self) -> bool {
        !self.genres.is_empty() || self.year_min.is_some() || self.year_max.is_some()
    }

    /// The types whose rows can pass the filters: artists and labels have neither genres nor
    /// years, so any filter leaves only masters and releases.
    fn filtered_types(&self) -> Vec<Kind> {
        self.types
            .iter()
            .copied()
            .filter(|kind| !self.filtered() || matches!(kind, Kind::Masters | Kind::Releases))
            .collect()
    }

    fn cache_key(&self) -> String {
        let types: Vec<&str> = self.types.iter().map(|kind| kind.singular()).collect();
        format!(
            "{}|{:?}|{:?}|{:?}|{}|{}|{}",
            types.join(","),
            self.genres,
            self.year_min,
            self.year_max,
            self.limit,
            self.offset,
            self.q
        )
    }
}

/// `$1` is the query text.
const QUERY_CTE: &str = "WITH q AS (SELECT plainto_tsquery('simple', $1) AS query)";
/// The filters, with genres (any of) as `$first` and the year bounds as the next two; all may be
/// NULL.
fn filters(first: usize) -> String {
    let (genres, min, max) = (first, first + 1, first + 2);
    format!(
        "AND (${genres}::text[] IS NULL OR genres && ${genres}::text[])
         AND (${min}::integer IS NULL OR year >= ${min}::integer)
         AND (${max}::integer IS NULL OR year <= ${max}::integer)"
    )
}

/// One SELECT per type of (type, id, relevance, year, genres) over the rows matching `q`, with
/// the filters from parameter `filters_from` on when given. Names are not among them: a name is
/// read out of the record's JSON, which on a common word would be done for every match, not only
/// for the page's ([`name_of_page_row`]).
fn matches(kind: Kind, filters_from: Option<usize>) -> String {
    let extra = match kind {
        Kind::Artists | Kind::Labels => "NULL::integer AS year, NULL::text[] AS genres",
        Kind::Masters | Kind::Releases => "year, genres",
    };
    format!(
        "SELECT '{}'::text AS type, id, ts_rank(search, q.query) AS relevance, {extra}
         FROM {}, q WHERE search @@ q.query {}",
        kind.singular(),
        kind.as_str(),
        filters_from.map(filters).unwrap_or_default()
    )
}

/// The name (or title) of the record of row `page` (its `type` and `id`), one of `kinds`.
fn name_of_page_row(kinds: &[Kind]) -> String {
    let cases: String = kinds
        .iter()
        .map(|&kind| {
            let field = match kind {
                Kind::Artists | Kind::Labels => "name",
                Kind::Masters | Kind::Releases => "title",
            };
            format!(
                " WHEN '{}' THEN (SELECT data->>'{field}' FROM {} WHERE id = page.id)",
                kind.singular(),
                kind.as_str()
            )
        })
        .collect();
    format!("CASE page.type{cases} END")
}

async fn search(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let request = SearchRequest::from_params(&params)?;
    let key = request.cache_key();
    let postgres = state.postgres.clone();
    let compute = async move { run_search(&postgres, request).await };
    state.cache.get_or_compute("search", key, compute).await
}

async fn run_search(pool: &Pool, request: SearchRequest) -> Result<SearchAnswer, ApiError> {
    let request = &request;
    let filtered_types = request.filtered_types();
    let genres = (!request.genres.is_empty()).then_some(&request.genres);
    let filter_values: [&(dyn ToSql + Sync); 3] = [&genres, &request.year_min, &request.year_max];
    let filters = |filtered: bool| if filtered { &filter_values[..] } else { &[] };
    let union = |kinds: &[Kind], filters_from: Option<usize>| {
        kinds
            .iter()
            .map(|&kind| matches(kind, filters_from))
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
    };
    let page = async {
        if filtered_types.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{QUERY_CTE}
             SELECT page.type, page.id::text, named.name, page.relevance, page.year, page.genres,
                    ts_headline('simple', named.name, q.query, $4)
             FROM ({} ORDER BY relevance DESC, type, id LIMIT $2 OFFSET $3) page
             CROSS JOIN LATERAL (SELECT coalesce({}, '') AS name) named, q
             ORDER BY page.relevance DESC, page.type, page.id",
            union(&filtered_types, request.filtered().then_some(5)),
            name_of_page_row(&filtered_types)
        );
        let client = pool.get().await?;
        let rows = postgres::query(
            &client,
            &sql,
            &bind(
                &request.q,
                &[&request.limit, &request.offset, &HEADLINE_OPTIONS],
                filters(request.filtered()),
            ),
        )
        .await?;
        Ok::<_, ApiError>(
            rows.iter()
                .map(|row| Hit {
                    kind: kind_of(row.get(0)),
                    id: row.get(1),
                    name: row.get(2),
                    relevance: (f64::from(row.get::<_, f32>(3)) * 10_000.0).round() / 10_000.0,
                    metadata: Metadata {
                        year: row.get(4),
                        genres: row.get(5),
                    },
                    highlight: highlight(row.get(6)),
                })
                .collect(),
        )
    };
    let counts = |kinds: Vec<Kind>, filtered: bool| async move {
        if kinds.is_empty() {
            return Ok(BTreeMap::new());
        }
        let sql = format!(
            "{QUERY_CTE} SELECT type, count(*) FROM ({}) m GROUP BY type",
            union(&kinds, filtered.then_some(2))
        );
        let client = pool.get().await?;
        let rows =
            postgres::query(&client, &sql, &bind(&request.q, &[], filters(filtered))).await?;
        Ok::<_, ApiError>(
            rows.iter()
                .map(|row| (kind_of(row.get(0)), row.get::<_, i64>(1)))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let filtered_counts = counts(filtered_types.clone(), request.filtered());
    let type_facet = async {
        if request.filtered() {
            counts(request.types.clone(), false).await
        } else {
            Ok(BTreeMap::new())
        }
    };
    let genre_and_decade = async {
        let with_years: Vec<Kind> = request
            .types
            .iter()
            .copied()
            .filter(|kind| matches!(kind, Kind::Masters | Kind::Releases))
            .collect();
        if with_years.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{QUERY_CTE}, m AS ({})
             SELECT 'genre', g, count(*) FROM m, unnest(m.genres) g GROUP BY g
             UNION ALL
             SELECT 'decade', (year / 10 * 10)::text || 's', count(*) FROM m
             WHERE year IS NOT NULL GROUP BY 2",
            union(&with_years, None)
        );
        let client = pool.get().await?;
        let rows = postgres::query(&client, &sql, &bind(&request.q, &[], &[])).await?;
        Ok::<_, ApiError>(
            rows.iter()
                .map(|row| {
                    (
                        row.get::<_, String>(0),
                        row.get::<_, String>(1),
                        row.get::<_, i64>(2),
                    )
                })
                .collect::<Vec<_>>(),
        )
    };
    let (results, filtered_counts, type_facet, genre_and_decade) =
        tokio::try_join!(page, filtered_counts, type_facet, genre_and_decade)?;

    let total = filtered_counts.values().sum();
    let mut facets = Facets {
        kind: if request.filtered() {
            type_facet
        } else {
            filtered_counts
        },
        ..Facets::default()
    };
    for kind in &request.types {
        facets.kind.entry(kind.singular()).or_insert(0);
    }
    let mut genres = Vec::new();
    for (facet, value, count) in genre_and_decade {
        if facet == "genre" {
            genres.push((value, count));
        } else {
            facets.decade.insert(value, count);
        }
    }
    genres.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    facets.genre = genres.into_iter().take(GENRE_FACET_SIZE).collect();
    let shown = i64::try_from(results.len()).unwrap_or(0);
    Ok(SearchAnswer {
        query: request.q.clone(),
        total,
        facets,
        pagination: Pagination {
            limit: request.limit,
            offset: request.offset,
            has_more: request.offset + shown < total,
        },
        results,
    })
}

/// `ts_headline` marks matches with two private-use characters, which [`highlight`] turns into
/// `<b>`/`</b>` once the name itself is HTML-escaped (a name may contain markup).
const HEADLINE_OPTIONS: &str = "StartSel=\u{e000}, StopSel=\u{e001}, HighlightAll=true";

/// A headline as safe HTML: the text escaped, the matches in `<b>`.
fn highlight(headline: &str) -> String {
    let mut html = String::with_capacity(headline.len() + 16);
    for c in headline.chars() {
        match c {
            '\u{e000}' => html.push_str("<b>"),
            '\u{e001}' => html.push_str("</b>"),
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            c => html.push(c),
        }
    }
    html
}

/// A statement's parameters: `$1` the query text, then its own, then the filters when it has
/// them (an unused parameter has no type PostgreSQL could infer, so none is sent unused).
fn bind<'a>(
    q: &'a (dyn ToSql + Sync),
    own: &[&'a (dyn ToSql + Sync)],
    filters: &[&'a (dyn ToSql + Sync)],
) -> Vec<&'a (dyn ToSql + Sync)> {
    let mut values = vec![q];
    values.extend_from_slice(own);
    values.extend_from_slice(filters);
    values
}

/// The API's name for a type, from the `type` column the SQL writes.
fn kind_of(singular: &str) -> &'static str {
    Kind::ALL
        .iter()
        .map(|kind| kind.singular())
        .find(|name| *name == singular)
        .unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::{highlight, score};

    #[test]
    fn highlights_escape_the_name_and_mark_the_matches() {
        assert_eq!(
            highlight("<script>\u{e000}Love\u{e001} & \"Peace\""),
            "&lt;script&gt;<b>Love</b> &amp; &quot;Peace&quot;"
        );
    }

    #[test]
    fn exact_names_score_highest_then_prefixes_then_shorter_names() {
        assert_eq!(score("the beatles", "The Beatles"), 1.0);
        let prefix = score("beat", "Beatles Tribute");
        let contained = score("beat", "The Beat");
        assert!(prefix > contained, "{prefix} vs {contained}");
        assert!(score("beat", "The Beat") > score("beat", "The Beat Goes On"));
        assert!((0.0..=1.0).contains(&score("x", &"y".repeat(10_000))));
    }
}
