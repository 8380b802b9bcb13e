//! `GET /api/openapi.json`: an OpenAPI 3.1 description of every route, built once.

use std::sync::LazyLock;

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use bytes::Bytes;
use serde_json::{Value, json};

use super::AppState;
use super::cache::json_response;
use super::params::MAX_OFFSET;
use crate::record::role::Category;
use crate::store::insights;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi))
}

async fn openapi() -> Response {
    static DOCUMENT: LazyLock<Bytes> =
        LazyLock::new(|| Bytes::from(document().to_string().into_bytes()));
    json_response(DOCUMENT.clone())
}

fn query(name: &str, description: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required,
           "description": description, "schema": schema})
}

fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": schema})
}

fn text() -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": super::params::MAX_TEXT_CHARS})
}

fn one_of(names: &[&str]) -> Value {
    json!({"type": "string", "enum": names})
}

fn int(minimum: i64, maximum: i64, default: Option<i64>) -> Value {
    let mut schema = json!({"type": "integer", "minimum": minimum, "maximum": maximum});
    if let Some(default) = default {
        schema["default"] = json!(default);
    }
    schema
}

fn limit(default: i64, maximum: i64) -> Value {
    query("limit", "Page size.", int(1, maximum, Some(default)), false)
}

fn offset() -> Value {
    query(
        "offset",
        "Items to skip.",
        int(0, MAX_OFFSET, Some(0)),
        false,
    )
}

fn reference(schema: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{schema}")})
}

/// A GET operation answering `schema` as JSON, with the error answers every route can give.
fn operation(summary: &str, parameters: Vec<Value>, schema: Value, can_404: bool) -> Value {
    let error = |description: &str| {
        json!({"description": description,
               "content": {"application/json": {"schema": reference("Error")}}})
    };
    let mut responses = json!({
        "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
        "400": error("A parameter is missing, malformed or out of range; `parameter` names it."),
        "503": error("A database the answer needs is unreachable."),
    });
    if can_404 {
        responses["404"] = error("No such entity.");
    }
    json!({"get": {"summary": summary, "parameters": parameters, "responses": responses}})
}

const NAMED_TYPES: &[&str] = &["artist", "genre", "label", "style"];

fn document() -> Value {
    let named_type = |name: &str, required: bool| {
        let mut schema = one_of(NAMED_TYPES);
        if !required {
            schema["default"] = json!("artist");
        }
        query(name, "Entity type.", schema, required)
    };
    let record = |kind: &str| {
        operation(
            &format!("The canonical {kind} record (SPEC §5), as stored."),
            vec![path_param("id", "Discogs id.", int(1, i64::MAX, None))],
            json!({"type": "object"}),
            true,
        )
    };
    let before_year = |required: bool| {
        query(
            "before_year",
            "Only releases up to this year.",
            int(1, 9999, None),
            required,
        )
    };
    let mut document = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "discogs",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The Discogs catalogue as a graph (Neo4j) and as records with full-text search (PostgreSQL). Answers are cached until the next completed ingest.",
        },
        "paths": {
            "/health": operation("Liveness.", vec![], json!({"type": "object"}), false),
            "/ready": operation("Both databases answer (503 naming the one that does not).", vec![], json!({"type": "object"}), false),
            "/metrics": {"get": {"summary": "Prometheus metrics.", "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
            "/api/cache": {"delete": {"summary": "Drop every cached answer (only from the server's own machine).", "responses": {
                "200": {"description": "Cleared", "content": {"application/json": {"schema": {"type": "object"}}}},
                "403": {"description": "Not from the server's machine", "content": {"application/json": {"schema": reference("Error")}}}}}},
            "/api/openapi.json": {"get": {"summary": "This document.", "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/api/artists/{id}": record("artist"),
            "/api/labels/{id}": record("label"),
            "/api/masters/{id}": record("master"),
            "/api/releases/{id}": record("release"),
            "/api/autocomplete": operation(
                "Names containing every typed word as a word prefix: exact names first, then names starting with q, then the shortest.",
                vec![
                    query("q", "Typed text.", text(), true),
                    query("type", "Entity type.", json!({"type": "string", "enum": NAMED_TYPES, "default": "artist"}), false),
                    limit(10, 50),
                ],
                reference("Suggestions"),
                false,
            ),
            "/api/search": operation(
                &format!("Full-text search over artist and label names and master and release titles, with facets. A genre or year filter keeps only masters and releases; facets ignore the filters. Relevance first, then type, then id. A search reads at most api.search_exact_matches matches of each type ({} by default): a type with no more is counted, ranked and faceted exactly. A type with more (a common word) is counted by PostgreSQL's estimate, its genre and decade counts scaled from a sample of its matches (uniform for a one-word query; facets_are_estimates), and its part of the page ranked among its first matches by id, the order of equal relevance, so that a record further on that ranks higher (its name repeats a word, or holds the words closer together) can be missed (total_is_estimate says when).", crate::config::DEFAULT_SEARCH_EXACT_MATCHES),
                vec![
                    query("q", "Words, all of which must match.", text(), true),
                    query("types", "Comma-separated: artist,label,master,release (default all).", json!({"type": "string"}), false),
                    query("genres", "Comma-separated genres; a match has any of them.", json!({"type": "string"}), false),
                    query("year_min", "Earliest year.", int(1, 9999, None), false),
                    query("year_max", "Latest year.", int(1, 9999, None), false),
                    limit(20, 100),
                    offset(),
                ],
                reference("SearchAnswer"),
                false,
            ),
            "/api/explore": operation(
                "A named entity and how many neighbours of each category it has.",
                vec![query("name", "Exact name.", text(), true), named_type("type", false)],
                reference("Explored"),
                true,
            ),
            "/api/expand": operation(
                "One page of one category of a named entity's neighbours. Categories: artist: releases, labels, aliases; genre: releases, artists, labels, styles; label: releases, artists, genres; style: releases, artists, labels, genres.",
                vec![
                    query("node_id", "The entity's exact name.", text(), true),
                    named_type("type", true),
                    query("category", "Neighbour category.", one_of(&["releases", "artists", "labels", "aliases", "genres", "styles"]), true),
                    limit(50, 200),
                    offset(),
                    before_year(false),
                ],
                reference("Expanded"),
                true,
            ),
            "/api/node/{id}": operation(
                "One node with its direct neighbours' names; genres and styles are keyed by name.",
                vec![
                    path_param("id", "Numeric id, or the name of a genre or style.", text()),
                    query("type", "Node type.", json!({"type": "string", "enum": ["artist", "label", "master", "release", "genre", "style"], "default": "artist"}), false),
                ],
                json!({"type": "object", "required": ["id", "name"]}),
                true,
            ),
            "/api/trends": operation(
                "Releases per year (known years, oldest first) of a named entity.",
                vec![query("name", "Exact name.", text(), true), named_type("type", false)],
                reference("Trend"),
                true,
            ),
            "/api/path": operation(
                "The shortest path over BY, ON, IS, ALIAS_OF, MEMBER_OF and DERIVED_FROM between two named entities.",
                vec![
                    query("from_name", "Exact name.", text(), true),
                    named_type("from_type", false),
                    query("to_name", "Exact name.", text(), true),
                    named_type("to_type", false),
                    query("max_depth", "Most relationships on the path.", int(1, 10, Some(6)), false),
                    query("exclude_hubs", "Keep genres and styles out of the path's interior.", json!({"type": "boolean", "default": false}), false),
                ],
                reference("Path"),
                true,
            ),
            "/api/explore/year-range": operation("The earliest and latest release year.", vec![], reference("YearRange"), false),
            "/api/explore/genre-emergence": operation(
                "Genres and styles whose first release is no later than before_year, earliest first.",
                vec![before_year(true)],
                reference("Emergence"),
                false,
            ),
            "/api/genre-tree": operation("Genres by release count, each with its styles by shared releases.", vec![], reference("GenreTree"), false),
            "/api/graph/stats": operation("Nodes per type.", vec![], reference("GraphStats"), false),
            "/api/collaborators/{artist_id}": operation(
                "Artists sharing releases (with a known year) with this one, most shared first.",
                vec![path_param("artist_id", "Discogs artist id.", int(1, i64::MAX, None)), limit(20, 100)],
                reference("Collaborators"),
                true,
            ),
        },
        "components": {"schemas": schemas()},
    });
    merge(&mut document["paths"], credits_paths());
    merge(&mut document["components"]["schemas"], credits_schemas());
    merge(&mut document["paths"], insights_paths());
    merge(&mut document["components"]["schemas"], insights_schemas());
    merge(&mut document["paths"], profile_paths());
    merge(&mut document["components"]["schemas"], profile_schemas());
    document
}

/// Adds the members of object `more` to object `into`.
fn merge(into: &mut Value, more: Value) {
    if let (Some(into), Value::Object(more)) = (into.as_object_mut(), more) {
        into.extend(more);
    }
}

fn credits_paths() -> Value {
    let person = || {
        path_param(
            "name",
            "The credited name, exactly (e.g. \"Bob Ludwig\", or \"John Smith (2)\").",
            text(),
        )
    };
    let category = one_of(&Category::ALL.map(Category::as_str));
    json!({
        "/api/credits/person/{name}": operation(
            "A person's credits (an extra artist of a release or of one of its tracks, with a role): one entry per release and role as written, newest first with undated credits last, then by title. artists: up to 3 main artists of the release; labels: its first label. total_credits counts them all. Unlike the service this replaces, which answers every credit at once (megabytes for the most credited people), the answer is a page: the first 1,000 by default, which is every credit of nearly everyone; `offset` pages on.",
            vec![
                person(),
                limit(1_000, 10_000),
                query("offset", "Credits to skip.", int(0, i64::MAX, Some(0)), false),
            ],
            reference("PersonCredits"),
            true,
        ),
        "/api/credits/person/{name}/timeline": operation(
            "A person's dated credits counted per year and category, oldest first.",
            vec![person()],
            reference("CreditTimeline"),
            true,
        ),
        "/api/credits/person/{name}/profile": operation(
            "A person's totals: credits (entries, as in /api/credits/person), first and last year, categories by credits, and the artist the credits link to (the lowest artist id among them).",
            vec![person()],
            reference("CreditProfile"),
            true,
        ),
        "/api/credits/release/{release_id}": operation(
            "Everyone credited on a release or its tracks, by category, then name.",
            vec![path_param("release_id", "Discogs release id.", int(1, i64::MAX, None))],
            reference("ReleaseCredits"),
            true,
        ),
        "/api/credits/role/{role}/top": operation(
            "The people with credits of a category on the most releases (credit_count counts distinct releases); ties by name.",
            vec![path_param("role", "Role category.", category), limit(20, 100)],
            reference("CreditLeaderboard"),
            false,
        ),
        "/api/credits/shared": operation(
            &format!("Releases both people are credited on, one entry per pair of their roles there, newest first with undated ones last. Deliberately different: when both have more than {} releases, looked for among person1's newest that many (by year, undated last, then by id), so that two of the most credited answer as fast as anyone; releases_counted says how many releases were looked among and complete whether the answer is all there is (the service this API keeps compatible with read every shared credit, tens of thousands of rows for two such people).", super::credits::WINDOW_RELEASES),
            vec![query("person1", "A credited name.", text(), true), query("person2", "Another.", text(), true)],
            reference("SharedCredits"),
            false,
        ),
        "/api/credits/connections/{name}": operation(
            &format!("People credited on the same releases as this one, by distinct releases shared (desc), then name. Direct co-credits at every depth, as the service this API keeps compatible with answered. Deliberately different: counted over the person's newest {} releases (by year, undated last, then by id), so that the most credited few answer as fast as anyone; releases_counted says how many releases were counted and complete whether those were all of them (the service this API keeps compatible with counted every release, which takes seconds for a person on 100,000).", super::credits::WINDOW_RELEASES),
            vec![person(), query("depth", "Accepted for compatibility; does not change the answer.", int(1, 3, Some(2)), false), limit(50, 200)],
            reference("CreditConnections"),
            false,
        ),
        "/api/credits/autocomplete": operation(
            "Credited names containing every typed word as a word prefix: the exact name first, then names starting with q, then the most credited.",
            vec![query("q", "Typed text, at least 2 characters.", text(), true), limit(10, 50)],
            reference("PersonSuggestions"),
            false,
        ),
        "/api/nlq/status": operation("Natural-language questions: always disabled here.", vec![], object(json!({"enabled": {"type": "boolean", "const": false}})), false),
        "/api/nlq/suggestions": operation("Suggested natural-language questions: always none here.", vec![], object(json!({"suggestions": array(json!({"type": "string"}))})), false),
        "/api/nlq/query": {"post": {"summary": "Natural-language questions are not available: always 503.", "responses": {
            "503": {"description": "Not available", "content": {"application/json": {"schema": reference("Error")}}}}}},
    })
}

fn credits_schemas() -> Value {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    let nullable_string = json!({"type": ["string", "null"]});
    let nullable_integer = json!({"type": ["integer", "null"]});
    let category = one_of(&Category::ALL.map(Category::as_str));
    let names = array(string.clone());
    json!({
        "PersonCredits": object(json!({
            "name": string, "total_credits": integer, "offset": integer,
            "credits": array(object(json!({
                "release_id": string, "title": string, "year": nullable_integer, "role": string,
                "category": category, "artists": names, "labels": names,
            }))),
        })),
        "CreditTimeline": object(json!({
            "name": string,
            "timeline": array(object(json!({"year": integer, "category": category, "count": integer}))),
        })),
        "CreditProfile": object(json!({
            "name": string, "total_credits": integer, "categories": array(category.clone()),
            "first_year": nullable_integer, "last_year": nullable_integer,
            "artist_id": nullable_string, "artist_name": nullable_string,
            "role_breakdown": array(object(json!({"category": category, "count": integer}))),
        })),
        "ReleaseCredits": object(json!({
            "release_id": string,
            "credits": array(object(json!({
                "name": string, "role": string, "category": category,
                "artist_id": nullable_string, "artist_name": nullable_string,
            }))),
        })),
        "CreditLeaderboard": object(json!({
            "category": category,
            "entries": array(object(json!({"name": string, "credit_count": integer}))),
        })),
        "SharedCredits": object(json!({
            "person1": string, "person2": string,
            "releases_counted": integer, "complete": {"type": "boolean"},
            "shared_releases": array(object(json!({
                "release_id": string, "title": string, "year": nullable_integer,
                "person1_role": string, "person2_role": string, "artists": names,
            }))),
        })),
        "CreditConnections": object(json!({
            "name": string,
            "releases_counted": integer,
            "complete": {"type": "boolean"},
            "connections": array(object(json!({"name": string, "shared_count": integer}))),
        })),
        "PersonSuggestions": object(json!({"results": array(object(json!({"name": string, "score": {"type": "number"}})))})),
    })
}

fn object(properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    json!({"type": "object", "properties": properties, "required": required})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

fn schemas() -> Value {
    let string = json!({"type": "string"});
    let nullable_string = json!({"type": ["string", "null"]});
    let integer = json!({"type": "integer"});
    let nullable_integer = json!({"type": ["integer", "null"]});
    let year_count = object(json!({"year": integer, "count": integer}));
    let first_year = object(json!({"name": string, "first_year": integer}));
    let counts = |keys: &[&str]| {
        json!({"type": "object", "additionalProperties": integer,
               "description": format!("Counts by {}", keys.join(", "))})
    };
    json!({
        "Error": {"type": "object", "properties": {"error": string, "parameter": string}, "required": ["error"]},
        "Suggestions": object(json!({"results": array(object(json!({"id": string, "name": string, "score": {"type": "number"}})))})),
        "SearchAnswer": object(json!({
            "query": string,
            "total": integer,
            "total_is_estimate": {"type": "boolean", "description": "total is PostgreSQL's estimate, and the page is ranked among each estimated type's first matches by id"},
            "facets_are_estimates": {"type": "boolean", "description": "the facets' counts of some type are estimates"},
            "facets": object(json!({"type": counts(&["type"]), "genre": counts(&["genre (top 20)"]), "decade": counts(&["decade, e.g. 1990s"])})),
            "results": array(json!({"type": "object", "required": ["type", "id", "name", "highlight", "relevance", "metadata"], "properties": {
                "type": one_of(&["artist", "label", "master", "release"]), "id": string, "name": string,
                "highlight": {"type": "string", "description": "The name with matches in <b></b>"},
                "relevance": {"type": "number"},
                "metadata": {"type": "object", "properties": {"year": integer, "genres": array(string.clone())}},
            }})),
            "pagination": object(json!({"limit": integer, "offset": integer, "has_more": {"type": "boolean"}})),
        })),
        "Explored": object(json!({
            "center": object(json!({"id": string, "name": string, "type": one_of(NAMED_TYPES)})),
            "categories": array(object(json!({"id": string, "name": string, "category": string, "count": integer}))),
        })),
        "Expanded": object(json!({
            "children": array(json!({"type": "object", "required": ["id", "name", "type"], "properties": {
                "id": string, "name": nullable_string, "type": string,
                "year": {"type": ["integer", "null"], "description": "releases only"},
                "release_count": {"type": "integer", "description": "all but releases"},
            }})),
            "total": integer, "offset": integer, "limit": integer, "has_more": {"type": "boolean"},
        })),
        "Trend": object(json!({"name": string, "type": one_of(NAMED_TYPES), "data": array(year_count.clone())})),
        "Path": object(json!({
            "found": {"type": "boolean"},
            "length": nullable_integer,
            "path": array(object(json!({"id": string, "name": string, "type": string, "rel": nullable_string}))),
        })),
        "YearRange": object(json!({"min_year": nullable_integer, "max_year": nullable_integer})),
        "Emergence": object(json!({"genres": array(first_year.clone()), "styles": array(first_year)})),
        "GenreTree": object(json!({"genres": array(object(json!({
            "name": string, "release_count": integer,
            "styles": array(object(json!({"name": string, "release_count": integer}))),
        })))})),
        "GraphStats": object(json!({
            "total_entities": integer,
            "counts": object(json!({"artists": integer, "labels": integer, "masters": integer, "releases": integer, "genres": integer, "styles": integer})),
        })),
        "Collaborators": object(json!({
            "artist_id": string, "artist_name": nullable_string, "total": integer,
            "collaborators": array(object(json!({
                "artist_id": string, "artist_name": nullable_string, "release_count": integer,
                "first_year": integer, "last_year": integer, "yearly_counts": array(year_count),
            }))),
        })),
    })
}

fn insights_paths() -> Value {
    let computed =
        "Computed by each ingest that changed something, before it publishes its generation.";
    json!({
        "/api/insights/top-artists": operation(
            &format!("The artists with the most relationships of any type and direction (ties by id). {computed}"),
            vec![limit(100, insights::TOP_ARTISTS)],
            reference("TopArtists"),
            false,
        ),
        "/api/insights/genre-trends": operation(
            "A genre's dated releases per decade, oldest first; peak_decade is the decade with the most (the earliest of equals). A genre no release has: an empty list.",
            vec![query("genre", "Exact genre name.", text(), true)],
            reference("GenreTrends"),
            false,
        ),
        "/api/insights/label-longevity": operation(
            &format!("The labels whose dated releases span the most years (then most dated releases, then by id); still_active: a release in the last 2 years. {computed}"),
            vec![limit(50, insights::LONGEST_LIVED_LABELS)],
            reference("LabelLongevity"),
            false,
        ),
        "/api/insights/this-month": operation(
            &format!("Masters whose year is 25, 30, 40, 50, 75 or 100 years before the year of the latest ingest (masters have no month): the oldest milestone first, then most releases, then by id. month and year: when it was computed. {computed}"),
            vec![limit(50, insights::ANNIVERSARIES)],
            reference("ThisMonth"),
            false,
        ),
        "/api/insights/data-completeness": operation(
            &format!("Per record type, the records with each checked field; null for a field not checked (records keep no images, artists and labels have no field checked). completeness_pct: the mean share of the checked fields, null when none. {computed}"),
            vec![],
            reference("DataCompleteness"),
            false,
        ),
        "/api/insights/status": operation(
            "When each insight was last computed, whether it failed, how long it took, and the ingest generation that published it; never_run for the two nothing here computes.",
            vec![],
            reference("InsightStatuses"),
            false,
        ),
    })
}

fn insights_schemas() -> Value {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    let boolean = json!({"type": "boolean"});
    let nullable_string = json!({"type": ["string", "null"]});
    let nullable_integer = json!({"type": ["integer", "null"]});
    json!({
        "TopArtists": object(json!({
            "metric": {"type": "string", "const": "centrality"}, "count": integer,
            "items": array(object(json!({"rank": integer, "artist_id": string, "artist_name": string, "edge_count": integer}))),
        })),
        "GenreTrends": object(json!({
            "genre": string, "peak_decade": nullable_integer,
            "trends": array(object(json!({"decade": integer, "release_count": integer}))),
        })),
        "LabelLongevity": object(json!({
            "count": integer,
            "items": array(object(json!({
                "rank": integer, "label_id": string, "label_name": string, "first_year": integer,
                "last_year": integer, "years_active": integer, "total_releases": integer,
                "peak_decade": integer, "still_active": boolean,
            }))),
        })),
        "ThisMonth": object(json!({
            "month": nullable_integer, "year": nullable_integer, "count": integer,
            "items": array(object(json!({
                "master_id": string, "title": string, "artist_name": nullable_string,
                "release_year": integer, "anniversary": integer,
            }))),
        })),
        "DataCompleteness": object(json!({
            "count": integer,
            "items": array(object(json!({
                "entity_type": one_of(&["artists", "labels", "masters", "releases"]), "total_count": integer,
                "with_image": nullable_integer, "with_year": nullable_integer,
                "with_country": nullable_integer, "with_genre": nullable_integer,
                "completeness_pct": {"type": ["number", "null"]},
            }))),
        })),
        "InsightStatuses": object(json!({
            "statuses": array(object(json!({
                "insight_type": string, "status": one_of(&["completed", "failed", "never_run"]),
                "last_computed": nullable_string, "duration_ms": nullable_integer,
                "generation": nullable_integer,
            }))),
        })),
    })
}

/// `operation` that also answers 422 when its entity has too few releases.
fn with_too_few(mut operation: Value, description: &str) -> Value {
    operation["get"]["responses"]["422"] = json!({
        "description": description,
        "content": {"application/json": {"schema": reference("Error")}},
    });
    operation
}

fn profile_paths() -> Value {
    use super::labels::MIN_RELEASES;
    use crate::store::graph::profiles::MIN_SIMILAR_ARTIST_RELEASES;
    let label_id = || path_param("label_id", "Discogs label id.", int(1, i64::MAX, None));
    let artist_id = || path_param("artist_id", "Discogs artist id.", int(1, i64::MAX, None));
    let few_label = format!("The label has fewer than {MIN_RELEASES} releases.");
    let few_artist = format!("The artist has fewer than {MIN_SIMILAR_ARTIST_RELEASES} releases.");
    let counted = "Counted by the ingest with the graph aggregates.";
    json!({
        "/api/label/{label_id}/dna": with_too_few(operation(
            &format!("A label's releases and artists, its dated years, and its releases per genre, style, format and decade: lists by count descending, then name (decades ascending); a percentage is a share of the list's total, so of tags, not releases. {counted}"),
            vec![label_id()],
            reference("LabelDna"),
            true,
        ), &few_label),
        "/api/label/{label_id}/similar": with_too_few(operation(
            &format!("Labels ranked by the cosine of their genre counts with this label's, among the 100 with the most releases summed over its five commonest styles (at least 5; ties by id). release_count: the candidate's own releases. Score 0 is left out; ties by id. {counted}"),
            vec![label_id(), limit(10, 50)],
            reference("SimilarLabels"),
            true,
        ), &few_label),
        "/api/label/dna/compare": with_too_few(operation(
            "The DNAs of 2 to 5 labels, in the order given (repeats allowed); the first that has none decides the error.",
            vec![query("ids", "Comma-separated Discogs label ids, 2 to 5.", text(), true)],
            reference("LabelComparison"),
            true,
        ), &few_label),
        "/api/recommend/similar/artist/{artist_id}": with_too_few(operation(
            &format!("Artists ranked by 0.35 genre + 0.25 style + 0.25 label + 0.15 collaborator cosine similarity with this one (labels and collaborators by id), among the 50 with the most releases summed over its five commonest genres, taken from each genre's 500 artists with the most releases there (at least 3). Deterministic; release_count: the candidate's own releases; ties by id. {counted}"),
            vec![artist_id(), limit(20, 50)],
            reference("SimilarArtists"),
            true,
        ), &few_artist),
        "/api/network/artist/{artist_id}/collaborators": operation(
            &format!("Artists within depth hops of shared releases (main artists of the same release). collaboration_count: shared releases at distance 1; at distance 2 and 3, the distinct artists one hop nearer that connect them. Nearest first, then by count, then by id; total: all within depth, exact unless the page is full and a further hop starts from more than {} artists (a hub's second and third hops): then the artists beyond are estimated from a block sample of about {} artists with releases, and total_is_estimate is true. {counted}", super::network::EXACT_TOTAL_FRONTIER, super::network::TOTAL_SAMPLE),
            vec![artist_id(), query("depth", "Hops.", int(1, 3, Some(2)), false), limit(50, 200)],
            reference("NetworkCollaborators"),
            true,
        ),
        "/api/network/artist/{artist_id}/centrality": operation(
            "degree: the artist's relationships of every type and direction; collaborator_count: distinct collaborators; collaboration_releases: its releases with another main artist; group_count and alias_count: its MEMBER_OF and ALIAS_OF.",
            vec![artist_id()],
            reference("Centrality"),
            true,
        ),
        "/api/network/cluster/{id}": operation(
            &format!("The artist's limit closest collaborators (most shared releases, then id), grouped by each one's primary genre (the genre of most of its releases, ties by name; \"Unknown\" for none): biggest group first, then the group whose best member ranks higher. {counted}"),
            vec![path_param("id", "Discogs artist id.", int(1, i64::MAX, None)), limit(50, 200)],
            reference("Clusters"),
            true,
        ),
    })
}

fn profile_schemas() -> Value {
    let string = json!({"type": "string"});
    let integer = json!({"type": "integer"});
    let number = json!({"type": "number"});
    let strings = array(string.clone());
    let share = object(json!({"name": string, "count": integer, "percentage": number}));
    json!({
        "LabelDna": object(json!({
            "label_id": string, "label_name": string, "release_count": integer,
            "artist_count": integer, "artist_diversity": number, "active_years": array(integer.clone()),
            "peak_decade": {"type": ["integer", "null"]}, "prolificacy": number,
            "genres": array(share.clone()), "styles": array(share.clone()), "formats": array(share),
            "decades": array(object(json!({"decade": integer, "count": integer, "percentage": number}))),
        })),
        "LabelComparison": object(json!({
            "labels": array(object(json!({"dna": reference("LabelDna")}))),
        })),
        "SimilarLabels": object(json!({
            "label_id": string, "label_name": string,
            "similar": array(object(json!({
                "label_id": string, "label_name": string, "similarity": number,
                "release_count": integer, "shared_genres": strings,
            }))),
        })),
        "SimilarArtists": object(json!({
            "artist_id": string, "artist_name": string,
            "similar": array(object(json!({
                "artist_id": string, "artist_name": string, "similarity": number,
                "breakdown": object(json!({"genre": number, "style": number, "label": number, "collaborator": number})),
                "release_count": integer, "shared_genres": strings, "shared_labels": strings,
            }))),
        })),
        "NetworkCollaborators": object(json!({
            "artist_id": string, "artist_name": string, "depth": integer, "total": integer,
            "total_is_estimate": {"type": "boolean"},
            "collaborators": array(object(json!({
                "artist_id": string, "artist_name": string, "distance": integer,
                "collaboration_count": integer,
            }))),
        })),
        "Centrality": object(json!({
            "artist_id": string, "artist_name": string,
            "centrality": object(json!({
                "degree": integer, "collaborator_count": integer, "collaboration_releases": integer,
                "group_count": integer, "alias_count": integer,
            })),
        })),
        "Clusters": object(json!({
            "artist_id": string, "artist_name": string, "total_clusters": integer,
            "total_members": integer,
            "clusters": array(object(json!({
                "cluster_label": string, "size": integer,
                "members": array(object(json!({"artist_id": string, "artist_name": string, "shared_releases": integer}))),
            }))),
        })),
    })
}
