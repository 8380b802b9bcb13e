//! Who made the records: `GET /api/credits/…`, a person's credits, timeline and profile, a
//! release's credits, the leaderboard of a role category, two people's shared releases, the
//! people credited beside someone, and person-name suggestions.
//!
//! A person is a credited name: every extra artist of a release or of its tracks with a name and
//! a role (`store::credits`). Everything is read from PostgreSQL: `credits` by name or release
//! (indexed; by name in the credits' order, newest year first, with what the timeline and the
//! profile count, so those read the index alone), and the per-person counts the ingest keeps
//! (`people`, `person_categories`), so a leaderboard reads a few rows whatever the catalogue's
//! size, and a person's credits come a page at a time.

use axum::Router;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use tokio_postgres::types::ToSql;

use super::params::{self, Choice, Params};
use super::search::{PREFIX_QUERY, score};
use super::{ApiError, AppState};
use crate::record::role::Category;
use crate::store::{credits, postgres};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/credits/person/{name}", get(person))
        .route("/api/credits/person/{name}/timeline", get(timeline))
        .route("/api/credits/person/{name}/profile", get(profile))
        .route("/api/credits/release/{release_id}", get(release))
        .route("/api/credits/role/{role}/top", get(role_top))
        .route("/api/credits/shared", get(shared))
        .route("/api/credits/connections/{name}", get(connections))
        .route("/api/credits/autocomplete", get(autocomplete))
}

impl Choice for Category {
    fn name(self) -> &'static str {
        self.as_str()
    }
}

/// Up to three distinct main-artist names of release `r`, in record order.
const RELEASE_ARTISTS: &str = "ARRAY(SELECT a->>'name' FROM jsonb_array_elements(r.data->'artists') WITH ORDINALITY AS e(a, n)
            WHERE a->>'name' IS NOT NULL GROUP BY a->>'name' ORDER BY min(n) LIMIT 3)";

/// A release title from its `release_facts` row `f`, "Unknown" when the record has none.
const RELEASE_TITLE: &str = "coalesce(f.title, 'Unknown')";

/// Credits on a person's page when the request does not say: all of them for everyone but the
/// most credited few, whose thousands are read a page at a time.
const DEFAULT_PERSON_CREDITS: i64 = 1_000;
const MAX_PERSON_CREDITS: i64 = 10_000;

#[derive(Serialize)]
struct PersonCredits {
    name: String,
    total_credits: i64,
    offset: i64,
    credits: Vec<CreditEntry>,
}

#[derive(Serialize)]
struct CreditEntry {
    release_id: String,
    title: String,
    year: Option<i64>,
    role: String,
    category: String,
    artists: Vec<String>,
    labels: Vec<String>,
}

fn person_name(name: &str) -> Result<String, ApiError> {
    params::text("name", name)
}

/// A page of a person's credits, newest first (undated last), then by title.
///
/// Ordering by title costs a narrow facts row read for each credit of the years the page spans,
/// and only those: which years those are, and how many credits come before them, is counted off
/// the index by name and year (cheap entries, however far the offset). The records are read for
/// the page's credits alone.
async fn person(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let name = person_name(&name)?;
    let limit = params.limit(DEFAULT_PERSON_CREDITS, MAX_PERSON_CREDITS)?;
    let offset = params.int("offset", 0..=i64::MAX)?.unwrap_or(0);
    let key = format!("{limit}|{offset}|{name}");
    let pool = state.postgres.clone();
    let compute = async move {
        let client = pool.get().await?;
        let found = postgres::query(
            &client,
            "SELECT credits FROM people WHERE name = $1",
            &[&name],
        )
        .await?;
        let Some(total) = found.first() else {
            return Err(ApiError::NotFound(format!("credits for '{name}'")));
        };
        let total_credits: i64 = total.get(0);
        // The credits up to the page's end, counted per year off the index by name and year:
        // where the page starts and ends, and how many come before its first year.
        let upto = offset.saturating_add(limit);
        let years: Vec<(Option<i64>, i64)> = postgres::query(
            &client,
            "SELECT year, count(*) FROM (SELECT year FROM credits WHERE name = $1
                                         ORDER BY year DESC NULLS LAST LIMIT $2) upto
             GROUP BY year ORDER BY year DESC NULLS LAST",
            &[&name, &upto],
        )
        .await?
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
        let Some((window, skipped)) = CreditWindow::locate(&years, offset, limit) else {
            return Ok(PersonCredits {
                name,
                total_credits,
                offset,
                credits: Vec::new(),
            });
        };
        let (within, years) = window.conditions();
        // Ordered by the titles of the narrow facts rows; the records only of the page.
        let sql = format!(
            "WITH page AS (
                 SELECT c.release_id, {RELEASE_TITLE} AS title, c.year, c.role, c.category
                 FROM credits c JOIN release_facts f ON f.id = c.release_id
                 WHERE c.name = $1 AND {within}
                 ORDER BY c.year DESC NULLS LAST, title, c.release_id, c.role
                 OFFSET $2 LIMIT $3)
             SELECT page.release_id::text, page.title, page.year, page.role, page.category,
                    {RELEASE_ARTISTS},
                    ARRAY(SELECT l->>'name' FROM jsonb_array_elements(r.data->'labels') l
                          WHERE l->>'name' IS NOT NULL LIMIT 1)
             FROM page JOIN releases r ON r.id = page.release_id
             ORDER BY page.year DESC NULLS LAST, page.title, page.release_id, page.role"
        );
        let page = offset - skipped;
        let mut values: Vec<&(dyn ToSql + Sync)> = vec![&name, &page, &limit];
        values.extend(years.iter().map(|year| year as &(dyn ToSql + Sync)));
        let credits = postgres::query(&client, &sql, &values)
            .await?
            .iter()
            .map(|row| CreditEntry {
                release_id: row.get(0),
                title: row.get(1),
                year: row.get(2),
                role: row.get(3),
                category: row.get(4),
                artists: row.get(5),
                labels: row.get(6),
            })
            .collect();
        Ok(PersonCredits {
            name,
            total_credits,
            offset,
            credits,
        })
    };
    state
        .cache
        .get_or_compute("credits_person", key, compute)
        .await
}

/// The years a page of credits spans, in their order (newest first, undated last).
#[derive(Debug, PartialEq, Eq)]
enum CreditWindow {
    /// From the year of the page's first credit to that of its last (`None`: undated, or the
    /// page runs to the end).
    Dated { newest: i64, oldest: Option<i64> },
    /// The page starts among the undated credits.
    Undated,
}

impl CreditWindow {
    /// The window of the page of `limit` credits from `offset`, and how many credits come before
    /// its first year, from a person's credits per year (newest first, undated last) up to the
    /// page's end at least; `None` past the last credit.
    fn locate(years: &[(Option<i64>, i64)], offset: i64, limit: i64) -> Option<(Self, i64)> {
        let mut before = 0;
        let mut first = None;
        for &(year, credits) in years {
            if before + credits > offset {
                first = Some(year);
                break;
            }
            before += credits;
        }
        let counted: i64 = years.iter().map(|&(_, credits)| credits).sum();
        let window = match first? {
            None => CreditWindow::Undated,
            Some(newest) => CreditWindow::Dated {
                newest,
                // The page ends within the last year counted, unless the credits end first.
                oldest: if counted >= offset.saturating_add(limit) {
                    years.last().and_then(|&(year, _)| year)
                } else {
                    None
                },
            },
        };
        Some((window, before))
    }

    /// The SQL condition on `c.year` of the credits in the window, with its years from `$4`;
    /// and those years.
    fn conditions(&self) -> (&'static str, Vec<i64>) {
        match *self {
            CreditWindow::Dated {
                newest,
                oldest: Some(oldest),
            } => ("c.year <= $4 AND c.year >= $5", vec![newest, oldest]),
            CreditWindow::Dated {
                newest,
                oldest: None,
            } => ("(c.year <= $4 OR c.year IS NULL)", vec![newest]),
            CreditWindow::Undated => ("c.year IS NULL", Vec::new()),
        }
    }
}

#[derive(Serialize)]
struct Timeline {
    name: String,
    timeline: Vec<TimelinePoint>,
}

#[derive(Serialize)]
struct TimelinePoint {
    year: i64,
    category: String,
    count: i64,
}

/// A person's dated credits per year and category, oldest year first.
async fn timeline(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let name = person_name(&name)?;
    let key = name.clone();
    let pool = state.postgres.clone();
    let compute = async move {
        let timeline: Vec<TimelinePoint> = postgres::query_pooled(
            &pool,
            "SELECT year, category, count(*) FROM credits
             WHERE name = $1 AND year IS NOT NULL
             GROUP BY year, category ORDER BY year, category",
            &[&name],
        )
        .await?
        .iter()
        .map(|row| TimelinePoint {
            year: row.get(0),
            category: row.get(1),
            count: row.get(2),
        })
        .collect();
        if timeline.is_empty() {
            return Err(ApiError::NotFound(format!("timeline data for '{name}'")));
        }
        Ok(Timeline { name, timeline })
    };
    state
        .cache
        .get_or_compute("credits_timeline", key, compute)
        .await
}

#[derive(Serialize)]
struct Profile {
    name: String,
    total_credits: i64,
    categories: Vec<String>,
    first_year: Option<i64>,
    last_year: Option<i64>,
    artist_id: Option<String>,
    artist_name: Option<String>,
    role_breakdown: Vec<CategoryCount>,
}

#[derive(Serialize)]
struct CategoryCount {
    category: String,
    count: i64,
}

/// A person's totals: credits and categories from the counts the ingest keeps, the first and
/// last year from the index by name and year, and the artist its credits link to (the lowest id
/// when they name several).
async fn profile(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let name = person_name(&name)?;
    let key = name.clone();
    let pool = state.postgres.clone();
    let compute = async move {
        let found = postgres::query_pooled(
            &pool,
            "SELECT p.credits, years.first, years.last, linked.id::text,
                    CASE WHEN linked.id IS NOT NULL THEN coalesce(a.data->>'name', p.name) END
             FROM people p
             CROSS JOIN LATERAL (SELECT min(year) AS first, max(year) AS last
                                 FROM credits WHERE name = p.name) years
             CROSS JOIN LATERAL (SELECT min(artist_id) AS id FROM credits WHERE name = p.name) linked
             LEFT JOIN artists a ON a.id = linked.id
             WHERE p.name = $1",
            &[&name],
        )
        .await?;
        let Some(person) = found.first() else {
            return Err(ApiError::NotFound(format!("Person '{name}'")));
        };
        let role_breakdown: Vec<CategoryCount> = postgres::query_pooled(
            &pool,
            "SELECT category, credits FROM person_categories WHERE name = $1
             ORDER BY credits DESC, category",
            &[&name],
        )
        .await?
        .iter()
        .map(|row| CategoryCount {
            category: row.get(0),
            count: row.get(1),
        })
        .collect();
        Ok(Profile {
            total_credits: person.get(0),
            categories: role_breakdown.iter().map(|c| c.category.clone()).collect(),
            first_year: person.get(1),
            last_year: person.get(2),
            artist_id: person.get(3),
            artist_name: person.get(4),
            role_breakdown,
            name,
        })
    };
    state
        .cache
        .get_or_compute("credits_profile", key, compute)
        .await
}

#[derive(Serialize)]
struct ReleaseCredits {
    release_id: String,
    credits: Vec<ReleaseCredit>,
}

#[derive(Serialize)]
struct ReleaseCredit {
    name: String,
    role: String,
    category: String,
    artist_id: Option<String>,
    artist_name: Option<String>,
}

/// Everyone credited on a release, by category, then name.
async fn release(
    State(state): State<AppState>,
    Path(release_id): Path<String>,
) -> Result<Response, ApiError> {
    let id = params::id("release_id", &release_id)?;
    let pool = state.postgres.clone();
    let compute = async move {
        let credits: Vec<ReleaseCredit> = postgres::query_pooled(
            &pool,
            "SELECT c.name, c.role, c.category, c.artist_id::text,
                    CASE WHEN c.artist_id IS NOT NULL THEN coalesce(a.data->>'name', c.name) END
             FROM credits c LEFT JOIN artists a ON a.id = c.artist_id
             WHERE c.release_id = $1
             ORDER BY c.category, c.name, c.role",
            &[&id],
        )
        .await?
        .iter()
        .map(|row| ReleaseCredit {
            name: row.get(0),
            role: row.get(1),
            category: row.get(2),
            artist_id: row.get(3),
            artist_name: row.get(4),
        })
        .collect();
        if credits.is_empty() {
            return Err(ApiError::NotFound(format!("credits for release '{id}'")));
        }
        Ok(ReleaseCredits {
            release_id: id.to_string(),
            credits,
        })
    };
    state
        .cache
        .get_or_compute("credits_release", id.to_string(), compute)
        .await
}

const MAX_LEADERBOARD_LIMIT: i64 = 100;

#[derive(Serialize)]
struct Leaderboard {
    category: &'static str,
    entries: Vec<Leader>,
}

#[derive(Serialize)]
struct Leader {
    name: String,
    credit_count: i64,
}

/// The people with credits of a category on the most releases (ties by name).
async fn role_top(
    State(state): State<AppState>,
    Path(role): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let category = params::parse_choice("role", role.trim(), &Category::ALL)?;
    let limit = params.limit(20, MAX_LEADERBOARD_LIMIT)?;
    let pool = state.postgres.clone();
    let compute = async move {
        let entries = postgres::query_pooled(
            &pool,
            "SELECT name, releases FROM person_categories WHERE category = $1
             ORDER BY releases DESC, name LIMIT $2",
            &[&category.as_str(), &limit],
        )
        .await?
        .iter()
        .map(|row| Leader {
            name: row.get(0),
            credit_count: row.get(1),
        })
        .collect();
        Ok(Leaderboard {
            category: category.as_str(),
            entries,
        })
    };
    let key = format!("{}|{limit}", category.as_str());
    state
        .cache
        .get_or_compute("credits_role_top", key, compute)
        .await
}

#[derive(Serialize)]
struct Shared {
    person1: String,
    person2: String,
    /// The releases of one of them the answer looked among: all of theirs when either has at
    /// most [`WINDOW_RELEASES`], else person1's newest that many.
    releases_counted: i64,
    /// Whether those are all of that person's releases, and so the answer all there is.
    complete: bool,
    shared_releases: Vec<SharedRelease>,
}

#[derive(Serialize)]
struct SharedRelease {
    release_id: String,
    title: String,
    year: Option<i64>,
    person1_role: String,
    person2_role: String,
    artists: Vec<String>,
}

/// The releases two people are both credited on, one row per pair of their roles there, newest
/// first (undated last), among the releases of whichever of them has at most
/// [`WINDOW_RELEASES`] (so the answer is all there is), or else among person1's newest that many:
/// two hubs share tens of thousands of rows, and reading them takes seconds.
async fn shared(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let person1 = params.required_text("person1")?;
    let person2 = params.required_text("person2")?;
    let key = format!("{}|{person1}|{person2}", person1.len());
    let pool = state.postgres.clone();
    let compute = async move {
        let client = pool.get().await?;
        let mut window = credits::newest_releases(&**client, &person1, WINDOW_RELEASES).await?;
        // Reading a second hub's window only to find it incomplete costs as much as the answer.
        if !window.complete
            && !credits::surely_more_releases(&**client, &person2, WINDOW_RELEASES).await?
        {
            let second = credits::newest_releases(&**client, &person2, WINDOW_RELEASES).await?;
            if second.complete {
                window = second;
            }
        }
        // Every credit of the window's releases, read through the index by release alone (a
        // hub's entries by name number hundreds of thousands), then the two people's picked
        // from them; the records only of the releases they share.
        let sql = format!(
            "WITH credited AS MATERIALIZED (
                 SELECT release_id, name, role, year FROM credits WHERE release_id = ANY($3))
             SELECT a.release_id::text, {RELEASE_TITLE}, a.year, a.role, b.role, {RELEASE_ARTISTS}
             FROM credited a
             JOIN credited b ON b.release_id = a.release_id AND b.name = $2
             JOIN release_facts f ON f.id = a.release_id
             JOIN releases r ON r.id = a.release_id
             WHERE a.name = $1
             ORDER BY a.year DESC NULLS LAST, 2, a.release_id, a.role, b.role"
        );
        let shared_releases = postgres::query(&client, &sql, &[&person1, &person2, &window.ids])
            .await?
            .iter()
            .map(|row| SharedRelease {
                release_id: row.get(0),
                title: row.get(1),
                year: row.get(2),
                person1_role: row.get(3),
                person2_role: row.get(4),
                artists: row.get(5),
            })
            .collect();
        Ok(Shared {
            person1,
            person2,
            releases_counted: i64::try_from(window.ids.len()).unwrap_or(i64::MAX),
            complete: window.complete,
            shared_releases,
        })
    };
    state
        .cache
        .get_or_compute("credits_shared", key, compute)
        .await
}

const MAX_CONNECTIONS_LIMIT: i64 = 200;

/// The releases of a person its connections and shared releases are answered over, newest first:
/// all of them for everyone but the most credited few, for whom reading every credit of every
/// release would take seconds.
pub(super) const WINDOW_RELEASES: i64 = 2_000;

#[derive(Serialize)]
struct Connections {
    name: String,
    releases_counted: i64,
    complete: bool,
    connections: Vec<Connection>,
}

#[derive(Serialize)]
struct Connection {
    name: String,
    shared_count: i64,
}

/// The people credited on the same releases as a person, by the number of releases shared (ties
/// by name), over the person's newest [`WINDOW_RELEASES`] releases. `depth` is accepted for
/// the old clients and does not change the answer: theirs answered the direct co-credits at every
/// depth too.
async fn connections(
    State(state): State<AppState>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Response, ApiError> {
    let name = person_name(&name)?;
    params.int("depth", 1..=3)?;
    let limit = params.limit(50, MAX_CONNECTIONS_LIMIT)?;
    let key = format!("{limit}|{name}");
    let pool = state.postgres.clone();
    let compute = async move {
        let client = pool.get().await?;
        let counted = credits::connections(&**client, &name, limit, WINDOW_RELEASES).await?;
        Ok(Connections {
            name,
            releases_counted: counted.releases_counted,
            complete: counted.complete,
            connections: counted
                .people
                .into_iter()
                .map(|(name, shared_count)| Connection { name, shared_count })
                .collect(),
        })
    };
    state
        .cache
        .get_or_compute("credits_connections", key, compute)
        .await
}

const MAX_AUTOCOMPLETE_LIMIT: i64 = 50;
/// Characters `q` needs before suggestions are worth looking up.
const MIN_AUTOCOMPLETE_CHARS: usize = 2;

#[derive(Serialize)]
struct Suggestions {
    results: Vec<Suggestion>,
}

#[derive(Serialize)]
struct Suggestion {
    name: String,
    score: f64,
}

/// People whose name's words start with every word of `q`: the exact name first, then names
/// that start with `q`, then the most credited.
async fn autocomplete(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let q = params.required_text("q")?.to_lowercase();
    if q.chars().count() < MIN_AUTOCOMPLETE_CHARS {
        return Err(ApiError::BadParameter {
            parameter: "q",
            reason: format!("needs at least {MIN_AUTOCOMPLETE_CHARS} characters"),
        });
    }
    let limit = params.limit(10, MAX_AUTOCOMPLETE_LIMIT)?;
    let key = format!("{limit}|{q}");
    let pool = state.postgres.clone();
    let compute = async move {
        let sql = format!(
            "SELECT name FROM people WHERE search @@ {PREFIX_QUERY}
             ORDER BY lower(name) = $1 DESC, starts_with(lower(name), $1) DESC, credits DESC, name
             LIMIT $2"
        );
        let results = postgres::query_pooled(&pool, &sql, &[&q, &limit])
            .await?
            .iter()
            .map(|row| {
                let name: String = row.get(0);
                Suggestion {
                    score: score(&q, &name),
                    name,
                }
            })
            .collect();
        Ok(Suggestions { results })
    };
    state
        .cache
        .get_or_compute("credits_autocomplete", key, compute)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dated(newest: i64, oldest: Option<i64>) -> CreditWindow {
        CreditWindow::Dated { newest, oldest }
    }

    #[test]
    fn a_page_is_located_by_the_credits_per_year_up_to_its_end() {
        // 3 credits of 2001, 2 of 1999, 4 undated; the query counts up to the page's end.
        let all = [(Some(2001), 3), (Some(1999), 2), (None, 4)];
        let cases = [
            (&all[..1], 0, 2, Some((dated(2001, Some(2001)), 0))),
            (&all[..1], 0, 3, Some((dated(2001, Some(2001)), 0))),
            (&all[..2], 2, 2, Some((dated(2001, Some(1999)), 0))),
            (&all[..2], 3, 2, Some((dated(1999, Some(1999)), 3))),
            (&all[..], 4, 2, Some((dated(1999, None), 3))),
            (&all[..], 5, 2, Some((CreditWindow::Undated, 5))),
            (&all[..], 8, 5, Some((CreditWindow::Undated, 5))),
            (&all[..], 9, 5, None),
            // Fewer credits than the page asks for: it runs to the end.
            (&all[..2], 0, 10, Some((dated(2001, None), 0))),
        ];
        for (years, offset, limit, expected) in cases {
            assert_eq!(
                CreditWindow::locate(years, offset, limit),
                expected,
                "{years:?} from {offset}, {limit}"
            );
        }
    }
}
