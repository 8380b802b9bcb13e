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
    /// `total` is PostgreSQL's estimate: a type it counts has more matches than a search reads.
    total_is_estimate: bool,
    facets: Facets,
    /// The facets' counts are estimates, scaled from the matches read.
    facets_are_estimates: bool,
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
    /// Any of these; `None` when the request names none.
    genres: Option<Vec<String>>,
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
            genres: Some(params.texts("genres")?).filter(|genres| !genres.is_empty()),
            year_min: year("year_min")?,
            year_max: year("year_max")?,
            limit: params.limit(20, MAX_SEARCH_LIMIT)?,
            offset: params.offset()?,
        })
    }

    fn filtered(&self) -> bool {
        self.genres.is_some() || self.year_min.is_some() || self.year_max.is_some()
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

    /// The values of [`filters`]' parameters.
    fn filter_values(&self) -> [&(dyn ToSql + Sync); 3] {
        [&self.genres, &self.year_min, &self.year_max]
    }

    /// Whether `hit` passes the filters, as [`filters`] decides it in SQL: a missing genre list
    /// or year passes no filter on it.
    fn admits(&self, hit: &Match) -> bool {
        let genre = self.genres.as_ref().is_none_or(|wanted| {
            hit.genres
                .iter()
                .flatten()
                .any(|genre| wanted.contains(genre))
        });
        let year = |bound: Option<i32>, within: fn(i32, i32) -> bool| {
            bound.is_none_or(|bound| hit.year.is_some_and(|year| within(year, bound)))
        };
        genre
            && year(self.year_min, |year, min| year >= min)
            && year(self.year_max, |year, max| year <= max)
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

/// The query of the text `$1`. Statements over matches name it in each of their scans rather than
/// once in a common table expression: the planner then sees the words, and estimates from its
/// statistics of them how many rows a scan meets (and so whether walking the ids is cheaper).
const TSQUERY: &str = "plainto_tsquery('simple', $1)";
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

/// The rows of `kind` matching `q` as (type, id, relevance, year, genres), with the filters from
/// parameter `filters_from` on when given.
fn matches(kind: Kind, filters_from: Option<usize>) -> String {
    let extra = match kind {
        Kind::Artists | Kind::Labels => "NULL::integer AS year, NULL::text[] AS genres",
        // A genre list from JSON may hold a null, which no `Vec<String>` can.
        Kind::Masters | Kind::Releases => "year, array_remove(genres, NULL) AS genres",
    };
    format!(
        "SELECT '{}'::text AS type, id, ts_rank(search, {TSQUERY}) AS relevance, {extra}
         FROM {} WHERE search @@ {TSQUERY} {}",
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
    let exact_matches = state.search_exact_matches;
    let compute = async move { run_search(&postgres, request, exact_matches).await };
    state.cache.get_or_compute("search", key, compute).await
}

/// One matching record, with what ranking, the filters and the facets read of it.
#[derive(Clone)]
struct Match {
    kind: Kind,
    id: i64,
    relevance: f32,
    year: Option<i32>,
    genres: Option<Vec<String>>,
}

impl Match {
    /// The answer's order: most relevant first, then by type and id.
    fn rank(&self, other: &Match) -> std::cmp::Ordering {
        other
            .relevance
            .total_cmp(&self.relevance)
            .then_with(|| self.kind.singular().cmp(other.kind.singular()))
            .then_with(|| self.id.cmp(&other.id))
    }
}

/// What a search read of one type: how many matches, and whether they are all it has.
#[derive(Clone, Copy)]
struct TypeSample {
    kind: Kind,
    read: i64,
    complete: bool,
}

/// Matches a search read, per type.
#[derive(Default)]
struct Sample {
    matches: Vec<Match>,
    types: Vec<TypeSample>,
}

impl Sample {
    fn complete(&self, kind: Kind) -> bool {
        self.types
            .iter()
            .any(|sample| sample.kind == kind && sample.complete)
    }

    fn add(&mut self, kind: Kind, matches: impl IntoIterator<Item = Match>, complete: bool) {
        let before = self.matches.len();
        self.matches.extend(matches);
        let read = i64::try_from(self.matches.len() - before).unwrap_or(i64::MAX);
        self.types.push(TypeSample {
            kind,
            read,
            complete,
        });
    }

    /// This sample but for the types `kinds`.
    fn without(self, kinds: &[Kind]) -> Sample {
        Sample {
            matches: self
                .matches
                .into_iter()
                .filter(|hit| !kinds.contains(&hit.kind))
                .collect(),
            types: self
                .types
                .into_iter()
                .filter(|read| !kinds.contains(&read.kind))
                .collect(),
        }
    }

    fn extend(&mut self, other: Sample) {
        self.matches.extend(other.matches);
        self.types.extend(other.types);
    }

    /// The matches of `kind` in `other`, which read them all.
    fn add_whole(&mut self, other: &Sample, kind: Kind, admits: impl Fn(&Match) -> bool) {
        let matches = other
            .matches
            .iter()
            .filter(|hit| hit.kind == kind && admits(hit))
            .cloned()
            .collect::<Vec<_>>();
        self.add(kind, matches, true);
    }
}

/// How a search reads a type's matches.
#[derive(Clone, Copy)]
enum Reading {
    /// In storage order, for counts and facets: all of them if there are at most the limit.
    Listed,
    /// A uniform sample (`gin_fuzzy_search_limit`, which the caller sets), for the facets of one
    /// word with more matches than a search reads; never complete.
    Sampled,
    /// The first by id, for a page: with equal relevance, the answer's order.
    ById,
}

/// A search answers from bounded reads of the matches, so that the commonest word costs about
/// what a rare one does. Of each type it first reads up to `exact_matches`: a type with no more
/// is read whole, and everything about it is exact. A type with more is counted by PostgreSQL's
/// estimate and its facets scaled from `exact_matches` of its matches (a uniform sample for one
/// word, see [`Reading::Sampled`]; `facets_are_estimates`); its part of the page is ranked among
/// its first matches by id, which is the answer's order for records of equal relevance, so only
/// a record further on that ranks higher (its name repeats a word, or holds the words closer
/// together) can be missed (`total_is_estimate` says when).
async fn run_search(
    pool: &Pool,
    request: SearchRequest,
    exact_matches: i64,
) -> Result<SearchAnswer, ApiError> {
    let request = &request;
    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    let client = transaction.client();
    let mut estimates = BTreeMap::new();
    for &kind in &request.types {
        estimates.insert(kind, estimated_matches(client, request, kind, false).await?);
    }
    let one_word: bool = client
        .query_one(&format!("SELECT numnode({TSQUERY}) = 1"), &[&request.q])
        .await?
        .get(0);
    // A word's matches, when PostgreSQL expects more than a search reads, are sampled uniformly:
    // a GIN scan returns about `exact_matches` of them at random (still decoding every entry, but
    // leaving the rest out of the heap scan). Not for several words: each word's matches would be
    // sampled apart, and their intersection would shrink by the product. The planner would rather
    // read such a word's first matches in a sequential scan, which is no sample, and whose ring
    // of buffers leaves every page to be read again the next time (103 ms for three types at
    // 4.75M releases): only the GIN index's bitmap scan is left to it.
    let (sampled, listed): (Vec<Kind>, Vec<Kind>) = request
        .types
        .iter()
        .partition(|kind| one_word && estimates.get(kind).is_some_and(|&n| n > exact_matches));
    let mut all = read(
        client,
        request,
        &listed,
        false,
        Reading::Listed,
        exact_matches,
    )
    .await?;
    if !sampled.is_empty() {
        client
            .batch_execute(&format!(
                "SET LOCAL gin_fuzzy_search_limit = {};
                 SET LOCAL enable_seqscan = off;
                 SET LOCAL enable_indexscan = off",
                exact_matches.min(i64::from(i32::MAX))
            ))
            .await?;
        // Twice the target bounds the read where the index's guess of a word's size was low.
        let sample = read(
            client,
            request,
            &sampled,
            false,
            Reading::Sampled,
            exact_matches.saturating_mul(2),
        )
        .await?;
        client
            .batch_execute(
                "SET LOCAL gin_fuzzy_search_limit TO DEFAULT;
                 SET LOCAL enable_seqscan TO DEFAULT;
                 SET LOCAL enable_indexscan TO DEFAULT",
            )
            .await?;
        // A sample far smaller than asked for means the index expected fewer matches than the
        // planner did (whose statistics may be stale): such a type is small, and read whole.
        let thin: Vec<Kind> = sample
            .types
            .iter()
            .filter(|read| read.read.saturating_mul(2) < exact_matches)
            .map(|read| read.kind)
            .collect();
        all.extend(sample.without(&thin));
        all.extend(
            read(
                client,
                request,
                &thin,
                false,
                Reading::Listed,
                exact_matches,
            )
            .await?,
        );
    }
    let (type_counts, types_estimated) =
        counts(client, request, &all, false, Some(&estimates)).await?;

    let page_end = request.offset.saturating_add(request.limit);
    // The page's candidates: a type read whole, filtered here (no filters admit all); the
    // others read again by id, with the filters.
    let filtered = request.filtered();
    let (whole, partial): (Vec<Kind>, Vec<Kind>) = request
        .filtered_types()
        .into_iter()
        .partition(|&kind| all.complete(kind));
    let mut candidates = read(client, request, &partial, filtered, Reading::ById, page_end).await?;
    for kind in whole {
        candidates.add_whole(&all, kind, |hit| request.admits(hit));
    }
    let (total, total_is_estimate) = if filtered {
        let (counts, estimated) = counts(client, request, &candidates, true, None).await?;
        (counts.values().sum(), estimated)
    } else {
        (type_counts.values().sum(), types_estimated)
    };

    let mut ranked: Vec<&Match> = candidates.matches.iter().collect();
    ranked.sort_by(|a, b| a.rank(b));
    // A type read in part has more matches than the page's end; else the candidates are all.
    let has_more = candidates.types.iter().any(|read| !read.complete)
        || i64::try_from(ranked.len()).unwrap_or(i64::MAX) > page_end;
    let page: Vec<&Match> = ranked
        .into_iter()
        .skip(usize::try_from(request.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(request.limit).unwrap_or(0))
        .collect();
    let results = named_hits(client, request, &page).await?;

    let (genre, decade, tags_estimated) = genre_and_decade(&all, &type_counts);
    let mut kind = type_counts;
    for requested in &request.types {
        kind.entry(requested.singular()).or_insert(0);
    }
    transaction.rollback().await?;
    Ok(SearchAnswer {
        query: request.q.clone(),
        total,
        total_is_estimate,
        facets: Facets {
            kind,
            genre,
            decade,
        },
        facets_are_estimates: types_estimated || tags_estimated,
        pagination: Pagination {
            limit: request.limit,
            offset: request.offset,
            has_more,
        },
        results,
    })
}

/// Reads at most `limit` matches of each of `kinds` (with the filters when `filtered`), in one
/// statement; one more row tells that a type has more (a sampled type always may).
async fn read(
    client: &tokio_postgres::Client,
    request: &SearchRequest,
    kinds: &[Kind],
    filtered: bool,
    reading: Reading,
    limit: i64,
) -> Result<Sample, ApiError> {
    let mut sample = Sample::default();
    if kinds.is_empty() {
        return Ok(sample);
    }
    let order = match reading {
        Reading::Listed | Reading::Sampled => "",
        Reading::ById => "ORDER BY id",
    };
    let selects: Vec<String> = kinds
        .iter()
        .map(|&kind| {
            format!(
                "({} {order} LIMIT $2)",
                matches(kind, filtered.then_some(3))
            )
        })
        .collect();
    let sql = selects.join(" UNION ALL ");
    let filter_values = request.filter_values();
    let rows = postgres::query(
        client,
        &sql,
        &bind(
            &request.q,
            &[&limit.saturating_add(1)],
            if filtered { &filter_values[..] } else { &[] },
        ),
    )
    .await?;
    let read: Vec<Match> = rows
        .iter()
        .filter_map(|row| {
            Some(Match {
                kind: kind_named(row.get(0))?,
                id: row.get(1),
                relevance: row.get(2),
                year: row.get(3),
                genres: row.get(4),
            })
        })
        .collect();
    let limit_len = usize::try_from(limit).unwrap_or(usize::MAX);
    for &kind in kinds {
        let of_kind: Vec<Match> = read
            .iter()
            .filter(|hit| hit.kind == kind)
            .cloned()
            .collect();
        let more = i64::try_from(of_kind.len()).unwrap_or(i64::MAX) > limit;
        let complete = !more && !matches!(reading, Reading::Sampled);
        sample.add(kind, of_kind.into_iter().take(limit_len), complete);
    }
    Ok(sample)
}

/// The matches of each type of `sample`: counted where it read them all, else PostgreSQL's
/// estimate (`known`, or asked for), never below what was read; and whether any is an estimate.
async fn counts(
    client: &tokio_postgres::Client,
    request: &SearchRequest,
    sample: &Sample,
    filtered: bool,
    known: Option<&BTreeMap<Kind, i64>>,
) -> Result<(BTreeMap<&'static str, i64>, bool), ApiError> {
    let mut counts = BTreeMap::new();
    let mut estimated = false;
    for read in &sample.types {
        let count = if read.complete {
            read.read
        } else {
            estimated = true;
            let estimate = match known.and_then(|known| known.get(&read.kind)) {
                Some(&estimate) => estimate,
                None => estimated_matches(client, request, read.kind, filtered).await?,
            };
            estimate.max(read.read)
        };
        counts.insert(read.kind.singular(), count);
    }
    Ok((counts, estimated))
}

/// The planner's estimate of the matches of `kind` (with the filters when `filtered`), from
/// the column statistics PostgreSQL keeps of the commonest words. Sent as it is, not through
/// `postgres::query`: `--explain` would run `EXPLAIN ANALYZE EXPLAIN`, which is no statement.
async fn estimated_matches(
    client: &tokio_postgres::Client,
    request: &SearchRequest,
    kind: Kind,
    filtered: bool,
) -> Result<i64, ApiError> {
    let sql = format!(
        "EXPLAIN SELECT 1 FROM {} WHERE search @@ {TSQUERY} {}",
        kind.as_str(),
        if filtered { filters(2) } else { String::new() }
    );
    let filter_values = request.filter_values();
    let rows = client
        .query(
            &sql,
            &bind(
                &request.q,
                &[],
                if filtered { &filter_values[..] } else { &[] },
            ),
        )
        .await?;
    Ok(rows
        .first()
        .and_then(|row| plan_rows(row.get(0)))
        .unwrap_or(0))
}

/// The row estimate of a plan's top line, `… (cost=… rows=N width=…)`.
fn plan_rows(line: &str) -> Option<i64> {
    let rows = &line[line.find(" rows=")? + " rows=".len()..];
    let digits = rows
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rows.len());
    rows[..digits].parse().ok()
}

/// The page's hits with their names and headlines, in the page's order.
async fn named_hits(
    client: &tokio_postgres::Client,
    request: &SearchRequest,
    page: &[&Match],
) -> Result<Vec<Hit>, ApiError> {
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let types: Vec<&str> = page.iter().map(|hit| hit.kind.singular()).collect();
    let ids: Vec<i64> = page.iter().map(|hit| hit.id).collect();
    let sql = format!(
        "SELECT named.name, ts_headline('simple', named.name, {TSQUERY}, $4)
         FROM unnest($2::text[], $3::bigint[]) WITH ORDINALITY AS page(type, id, position)
         CROSS JOIN LATERAL (SELECT coalesce({}, '') AS name) named
         ORDER BY page.position",
        name_of_page_row(&request.types)
    );
    let rows = postgres::query(
        client,
        &sql,
        &bind(&request.q, &[&types, &ids, &HEADLINE_OPTIONS], &[]),
    )
    .await?;
    Ok(page
        .iter()
        .zip(&rows)
        .map(|(hit, row)| Hit {
            kind: hit.kind.singular(),
            id: hit.id.to_string(),
            name: row.get(0),
            relevance: (f64::from(hit.relevance) * 10_000.0).round() / 10_000.0,
            metadata: Metadata {
                year: hit.year,
                genres: hit.genres.clone(),
            },
            highlight: highlight(row.get(1)),
        })
        .collect())
}

/// The genre (the biggest [`GENRE_FACET_SIZE`]) and decade facets over the matches of `all`
/// (the filters ignored), each type's counts scaled from what was read of it to its count; and
/// whether any was scaled.
fn genre_and_decade(
    all: &Sample,
    counts: &BTreeMap<&'static str, i64>,
) -> (BTreeMap<String, i64>, BTreeMap<String, i64>, bool) {
    let mut genres: BTreeMap<String, f64> = BTreeMap::new();
    let mut decades: BTreeMap<String, f64> = BTreeMap::new();
    let mut scaled = false;
    for read in &all.types {
        let count = counts.get(read.kind.singular()).copied().unwrap_or(0);
        let weight = if read.complete || read.read == 0 {
            1.0
        } else {
            scaled = true;
            count as f64 / read.read as f64
        };
        for hit in all.matches.iter().filter(|hit| hit.kind == read.kind) {
            for genre in hit.genres.iter().flatten() {
                *genres.entry(genre.clone()).or_default() += weight;
            }
            if let Some(year) = hit.year {
                *decades.entry(format!("{}s", year / 10 * 10)).or_default() += weight;
            }
        }
    }
    let rounded = |value: f64| value.round() as i64;
    let mut genres: Vec<(String, i64)> = genres
        .into_iter()
        .map(|(genre, count)| (genre, rounded(count)))
        .collect();
    genres.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let decades = decades
        .into_iter()
        .map(|(decade, count)| (decade, rounded(count)))
        .collect();
    (
        genres.into_iter().take(GENRE_FACET_SIZE).collect(),
        decades,
        scaled,
    )
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

/// The type named `singular` in the `type` column the SQL writes.
fn kind_named(singular: &str) -> Option<Kind> {
    Kind::ALL
        .into_iter()
        .find(|kind| kind.singular() == singular)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{
        Kind, Match, Sample, SearchRequest, genre_and_decade, highlight, plan_rows, score,
    };

    fn hit(kind: Kind, id: i64, relevance: f32, year: Option<i32>, genres: &[&str]) -> Match {
        Match {
            kind,
            id,
            relevance,
            year,
            genres: (!genres.is_empty()).then(|| genres.iter().map(|g| (*g).to_owned()).collect()),
        }
    }

    #[test]
    fn a_plans_top_line_gives_its_row_estimate() {
        assert_eq!(
            plan_rows("Bitmap Heap Scan on releases  (cost=349.04..81171.97 rows=36779 width=4)"),
            Some(36779)
        );
        assert_eq!(
            plan_rows("Result  (cost=0.00..0.01 rows=1 width=4)"),
            Some(1)
        );
        assert_eq!(plan_rows("no estimate here"), None);
    }

    #[test]
    fn hits_rank_by_relevance_then_type_then_id() {
        let mut hits = [
            hit(Kind::Releases, 1, 0.06, None, &[]),
            hit(Kind::Artists, 9, 0.06, None, &[]),
            hit(Kind::Releases, 7, 0.08, None, &[]),
            hit(Kind::Artists, 3, 0.06, None, &[]),
        ];
        hits.sort_by(|a, b| a.rank(b));
        let order: Vec<(Kind, i64)> = hits.iter().map(|hit| (hit.kind, hit.id)).collect();
        assert_eq!(
            order,
            [
                (Kind::Releases, 7),
                (Kind::Artists, 3),
                (Kind::Artists, 9),
                (Kind::Releases, 1)
            ]
        );
    }

    #[test]
    fn filters_admit_as_the_sql_does() {
        let request = |genres: Option<&[&str]>, min, max| SearchRequest {
            q: "x".into(),
            types: Kind::ALL.to_vec(),
            genres: genres.map(|g| g.iter().map(|g| (*g).to_owned()).collect()),
            year_min: min,
            year_max: max,
            limit: 20,
            offset: 0,
        };
        let rock_1985 = hit(Kind::Releases, 1, 0.1, Some(1985), &["Rock", "Pop"]);
        let undated = hit(Kind::Masters, 2, 0.1, None, &["Jazz"]);
        let artist = hit(Kind::Artists, 3, 0.1, None, &[]);
        assert!(request(None, None, None).admits(&artist));
        assert!(request(Some(&["Pop", "Jazz"]), Some(1980), Some(1985)).admits(&rock_1985));
        assert!(!request(Some(&["Jazz"]), None, None).admits(&rock_1985));
        assert!(!request(None, Some(1986), None).admits(&rock_1985));
        assert!(!request(None, None, Some(1984)).admits(&rock_1985));
        assert!(request(Some(&["Jazz"]), None, None).admits(&undated));
        assert!(!request(None, Some(1900), None).admits(&undated));
        assert!(!request(Some(&["Rock"]), None, None).admits(&artist));
    }

    #[test]
    fn facets_of_a_type_read_in_part_are_scaled_to_its_count() {
        let mut sample = Sample::default();
        sample.add(
            Kind::Masters,
            [hit(Kind::Masters, 1, 0.1, Some(1971), &["Rock"])],
            true,
        );
        sample.add(
            Kind::Releases,
            [
                hit(Kind::Releases, 2, 0.1, Some(1979), &["Rock", "Jazz"]),
                hit(Kind::Releases, 3, 0.1, None, &["Jazz"]),
            ],
            false,
        );
        let counts = BTreeMap::from([("master", 1), ("release", 10)]);
        let (genres, decades, scaled) = genre_and_decade(&sample, &counts);
        assert!(scaled);
        assert_eq!(
            genres,
            BTreeMap::from([("Jazz".into(), 10), ("Rock".into(), 6)])
        );
        assert_eq!(decades, BTreeMap::from([("1970s".into(), 6)]));

        let counts = BTreeMap::from([("master", 1), ("release", 2)]);
        sample.types[1].complete = true;
        let (genres, _, scaled) = genre_and_decade(&sample, &counts);
        assert!(!scaled);
        assert_eq!(
            genres,
            BTreeMap::from([("Jazz".into(), 2), ("Rock".into(), 2)])
        );
    }

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
