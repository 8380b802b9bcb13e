//! The catalogue routes over both stores loaded with the 2020 sample dump (tests/fixtures/xml2db):
//! real answers, validation, hostile input, the response cache and the OpenAPI document.
//!
//! Neo4j holds one database, so the whole suite runs as one test under the Neo4j lock on one
//! load of the sample.

use discogs::config::Config;
use neo4rs::query;
use serde_json::{Value, json};

use crate::pipeline::ingest_dir;
use crate::util::{fixture, fresh_database, fresh_graph, get, neo4j_lock, request, start_api};

pub async fn get_json(base: &str, path: &str) -> (u16, Value) {
    let (status, body) = get(&format!("{base}{path}")).await;
    let value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{path} answered {status} with non-JSON {body:?}: {e}"));
    (status, value)
}

pub async fn ok(base: &str, path: &str) -> Value {
    let (status, value) = get_json(base, path).await;
    assert_eq!(status, 200, "{path}: {value}");
    value
}

fn names(values: &Value, key: &str) -> Vec<String> {
    values
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {values}"))
        .iter()
        .map(|v| v[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn catalogue_routes_answer_from_both_stores() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_graph_api").await;
    let neo4j = fresh_graph(&config).await;
    ingest_dir(&config, &fixture("xml2db"), false)
        .await
        .unwrap();
    let base = start_api(&config).await;

    artists_and_labels(&base).await;
    shared_release_pages(&base, &neo4j.graph).await;
    collaborators(&base, &neo4j.graph).await;
    genres_and_overview(&base, &neo4j.graph).await;
    paths(&base).await;
    search_and_autocomplete(&base).await;
    let pool = discogs::store::postgres::connect(&config.postgres)
        .await
        .unwrap();
    broad_searches_read_a_bounded_sample(&base, &config, &pool).await;
    crate::credits::credits_routes(&base, &pool).await;
    crate::insights::insights_routes(&base, &pool, &neo4j.graph).await;
    crate::profiles::profile_routes(&base, &pool, &neo4j.graph).await;
    validation(&base).await;
    hostile_input(&base).await;
    openapi_documents_every_route(&base).await;
    stubs_carry_their_referrers_names(&base).await;
    no_answer_holds_a_null_name(&base).await;
    explained_requests_show_their_statements(&base).await;
    cache_is_keyed_by_the_ingest_generation(&base, &config, &neo4j.graph).await;
}

async fn artists_and_labels(base: &str) {
    // Blue Six (33): three releases; aliases Jay Denes (32, in the sample) and two artists the
    // sample only names (stubs).
    let explored = ok(base, "/api/explore?name=Blue%20Six&type=artist").await;
    assert_eq!(
        explored["center"],
        json!({"id": "33", "name": "Blue Six", "type": "artist"})
    );
    let counts: Vec<(String, i64)> = explored["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"].as_str().unwrap().to_owned(),
                c["count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("releases".into(), 3),
            ("labels".into(), 2),
            ("aliases".into(), 3)
        ]
    );

    let aliases = ok(
        base,
        "/api/expand?node_id=Blue%20Six&type=artist&category=aliases",
    )
    .await;
    assert_eq!(names(&aliases["children"], "id"), ["32", "4709", "84942"]);
    assert_eq!(aliases["children"][0]["name"], "Jay Denes");
    assert_eq!(aliases["total"], 3);

    let page = ok(
        base,
        "/api/expand?node_id=Blue%20Six&type=artist&category=releases&limit=2",
    )
    .await;
    assert_eq!(
        page["children"],
        json!([
            {"id": "9", "name": "Pure", "type": "release", "year": 2000},
            {"id": "11", "name": "Music And Wine", "type": "release", "year": 1999},
        ])
    );
    assert_eq!(
        (page["total"].as_i64(), page["has_more"].as_bool()),
        (Some(3), Some(true))
    );
    let rest = ok(
        base,
        "/api/expand?node_id=Blue%20Six&type=artist&category=releases&limit=2&offset=2",
    )
    .await;
    assert_eq!(names(&rest["children"], "id"), ["88"]);
    assert_eq!(rest["has_more"], false);

    let node = ok(base, "/api/node/33?type=artist").await;
    assert_eq!(node["release_count"], 3);
    assert_eq!(
        node["aliases"],
        json!(["Jay Denes", "Naked Music NYC", "Thump'N'Johnson"]),
        "the two aliases without a record of their own are called what Blue Six calls them"
    );
    let group = ok(base, "/api/node/36").await;
    assert_eq!(group["name"], "Lovetronic");
    assert_eq!(group["members"], json!(["Dave Warrin", "Jay Denes"]));

    // Label 60 is the parent of label 8, which names it as its parent label.
    let parent = ok(base, "/api/node/60?type=label").await;
    assert_eq!(
        parent["sublabels"],
        json!([{"id": "8", "name": "Rather Interesting"}])
    );
    let child = ok(base, "/api/node/8?type=label").await;
    assert_eq!(
        child["parent_label"],
        json!({"id": "60", "name": "Fax +49-69/450464"})
    );

    let release = ok(base, "/api/node/41?type=release").await;
    assert_eq!(release["name"], "Loungin");
    assert_eq!(release["year"], 1999);
    assert_eq!(release["artists"], json!(["City Dreams", "Fredrik Stark"]));

    // Release 41 credits Fredrik Stark (92) with City Dreams (17757, named only by the release).
    let collaborators = ok(base, "/api/collaborators/92?limit=5").await;
    assert_eq!(collaborators["artist_name"], "Fredrik Stark");
    assert_eq!(collaborators["total"], 1);
    assert_eq!(
        collaborators["collaborators"][0],
        json!({"artist_id": "17757", "artist_name": "City Dreams", "release_count": 1,
               "first_year": 1999, "last_year": 1999,
               "yearly_counts": [{"year": 1999, "count": 1}]})
    );

    let trend = ok(base, "/api/trends?name=Blue%20Six").await;
    assert_eq!(
        trend,
        json!({"name": "Blue Six", "type": "artist",
               "data": [{"year": 1998, "count": 1}, {"year": 1999, "count": 1}, {"year": 2000, "count": 1}]})
    );
}

/// A genre's and a style's release pages (read from PostgreSQL) against the graph's releases
/// `IS` the tag, newest first, undated last, then by id: first and deep pages, with and
/// without `before_year`.
/// The release pages of a genre, a style, and the artist and the label with the most releases,
/// paged from PostgreSQL: the releases, order and totals the graph gives them; and the artist's
/// and label's releases per year.
async fn release_pages(base: &str, graph: &neo4rs::Graph) {
    let mut owners = vec![
        (
            "genre",
            "(:Genre {name: $name})<-[:IS]-(r:Release)",
            "Rock".to_owned(),
        ),
        (
            "style",
            "(:Style {name: $name})<-[:IS]-(r:Release)",
            "Pop Rock".to_owned(),
        ),
    ];
    for (kind, label, pattern) in [
        (
            "artist",
            "Artist",
            "(:Artist {name: $name})<-[:BY]-(r:Release)",
        ),
        (
            "label",
            "Label",
            "(:Label {name: $name})<-[:ON]-(r:Release)",
        ),
    ] {
        let mut rows = graph
            .execute(query(&format!(
                "MATCH (n:{label}) WHERE n.name IS NOT NULL
                 RETURN n.name AS name ORDER BY n.release_count DESC, n.id LIMIT 1"
            )))
            .await
            .unwrap();
        let name: String = rows.next().await.unwrap().unwrap().get("name").unwrap();
        owners.push((kind, pattern, name));
    }
    for (kind, pattern, name) in owners {
        for before in [None, Some(1990)] {
            let mut rows = graph
                .execute(
                    query(&format!(
                        "MATCH {pattern}
                         WHERE $before IS NULL OR 0 < r.year <= $before
                         WITH DISTINCT r ORDER BY r.year IS NULL, r.year DESC, r.id
                         RETURN collect([toString(r.id), r.title, r.year]) AS releases"
                    ))
                    .param("name", name.as_str())
                    .param("before", before),
                )
                .await
                .unwrap();
            let releases: Vec<(String, String, Option<i64>)> =
                rows.next().await.unwrap().unwrap().get("releases").unwrap();
            let least = if before.is_none() { 20 } else { 2 };
            assert!(
                releases.len() > least,
                "{name} before {before:?}: {}",
                releases.len()
            );
            let before_param = before.map_or(String::new(), |year| format!("&before_year={year}"));
            for (offset, limit) in [(0, 5), (20, 50)] {
                let page = ok(
                    base,
                    &format!(
                        "/api/expand?node_id={}&type={kind}&category=releases&offset={offset}&limit={limit}{before_param}",
                        encoded(&name)
                    ),
                )
                .await;
                let expected: Vec<Value> = releases
                    .iter()
                    .skip(offset)
                    .take(limit)
                    .map(|(id, title, year)| {
                        json!({"id": id, "name": title, "type": "release", "year": year})
                    })
                    .collect();
                assert_eq!(
                    page["children"],
                    json!(expected),
                    "{name} {before:?} {offset}"
                );
                assert_eq!(page["total"], releases.len(), "{name} {before:?}");
                assert_eq!(page["has_more"], offset + limit < releases.len());
            }
        }
        if matches!(kind, "artist" | "label") {
            let mut rows = graph
                .execute(
                    query(&format!(
                        "MATCH {pattern} WHERE r.year > 0
                         WITH DISTINCT r WITH r.year AS year, count(r) AS count ORDER BY year
                         RETURN collect({{year: year, count: count}}) AS data"
                    ))
                    .param("name", name.as_str()),
                )
                .await
                .unwrap();
            let data: Vec<Value> = rows.next().await.unwrap().unwrap().get("data").unwrap();
            let trend = ok(
                base,
                &format!("/api/trends?name={}&type={kind}", encoded(&name)),
            )
            .await;
            assert!(data.len() > 5, "{name}: {data:?}");
            assert_eq!(trend["data"], json!(data), "{name}");
        }
    }
}

/// The artists of the label with the most, and the labels of the artist with the most, paged from
/// PostgreSQL: the ranking, counts and totals that counting through the graph's releases gives;
/// and that artist's explore counts and node.
async fn shared_release_pages(base: &str, graph: &neo4rs::Graph) {
    for (kind, pattern) in [
        ("label", "(n:Label)<-[:ON]-(r:Release)-[:BY]->(c:Artist)"),
        ("artist", "(n:Artist)<-[:BY]-(r:Release)-[:ON]->(c:Label)"),
    ] {
        let mut rows = graph
            .execute(query(&format!(
                "MATCH {pattern} WHERE n.name IS NOT NULL
                 WITH n, count(DISTINCT c) AS neighbours ORDER BY neighbours DESC, n.id LIMIT 1
                 MATCH {pattern} WHERE c.name IS NOT NULL
                 WITH n, c, count(DISTINCT r) AS shared ORDER BY shared DESC, c.id
                 RETURN n.name AS name, collect([toString(c.id), c.name, shared]) AS ranked"
            )))
            .await
            .unwrap();
        let row = rows.next().await.unwrap().unwrap();
        let name: String = row.get("name").unwrap();
        let ranked: Vec<(String, String, i64)> = row.get("ranked").unwrap();
        assert!(ranked.len() > 12, "{name}: {}", ranked.len());
        let category = if kind == "label" { "artists" } else { "labels" };
        let child_type = if kind == "label" { "artist" } else { "label" };
        for (offset, limit) in [(0, 5), (3, 10)] {
            let page = ok(
                base,
                &format!(
                    "/api/expand?node_id={}&type={kind}&category={category}&offset={offset}&limit={limit}",
                    encoded(&name)
                ),
            )
            .await;
            let expected: Vec<Value> = ranked
                .iter()
                .skip(offset)
                .take(limit)
                .map(|(id, name, shared)| {
                    json!({"id": id, "name": name, "type": child_type, "release_count": shared})
                })
                .collect();
            assert_eq!(page["children"], json!(expected), "{name} {offset}");
            assert_eq!(page["total"], ranked.len(), "{name}");
            assert_eq!(page["has_more"], true);
        }
        if kind == "label" {
            continue;
        }
        let explored = ok(
            base,
            &format!("/api/explore?name={}&type=artist", encoded(&name)),
        )
        .await;
        assert_eq!(explored["categories"][1]["category"], "labels");
        assert_eq!(explored["categories"][1]["count"], ranked.len());

        // Its genres and styles, from its profile, as its releases give them.
        let mut rows = graph
            .execute(
                query(
                    "MATCH (a:Artist {name: $name})<-[:BY]-(:Release)-[:IS]->(t)
                     WITH a, t ORDER BY t.name
                     WITH a, collect(DISTINCT CASE WHEN t:Genre THEN t.name END) AS genres,
                          collect(DISTINCT CASE WHEN t:Style THEN t.name END) AS styles
                     RETURN toString(a.id) AS id, genres, styles",
                )
                .param("name", name.as_str()),
            )
            .await
            .unwrap();
        let row = rows.next().await.unwrap().unwrap();
        let id: String = row.get("id").unwrap();
        let node = ok(base, &format!("/api/node/{id}?type=artist")).await;
        let genres: Vec<String> = row.get("genres").unwrap();
        let styles: Vec<String> = row.get("styles").unwrap();
        assert!(
            genres.len() > 1 && styles.len() > 1,
            "{genres:?} {styles:?}"
        );
        assert_eq!(node["genres"], json!(genres));
        assert_eq!(node["styles"], json!(styles));
    }
}

/// The collaborators of the artists with the most (read from PostgreSQL's
/// `collaboration_years`) as the graph gives them: every other main artist of their dated
/// releases, most shared releases first, with the shared releases per year; whole and cut short.
async fn collaborators(base: &str, graph: &neo4rs::Graph) {
    let mut rows = graph
        .execute(query(
            "MATCH (a:Artist)<-[:BY]-(r:Release)-[:BY]->(c:Artist)
             WHERE a.name IS NOT NULL AND c <> a AND r.year > 0 AND c.name IS NOT NULL
             WITH a, count(DISTINCT c) AS others ORDER BY others DESC, a.id LIMIT 3
             MATCH (a)<-[:BY]-(r:Release)-[:BY]->(c:Artist)
             WHERE c <> a AND r.year > 0 AND c.name IS NOT NULL
             WITH a, c, r.year AS year, count(DISTINCT r) AS shared ORDER BY year
             WITH a, c, collect(year) AS years, collect(shared) AS counts, sum(shared) AS shared
             ORDER BY shared DESC, c.id
             RETURN a.id AS id, collect([toString(c.id), c.name, shared]) AS ranked,
                    collect(years) AS years, collect(counts) AS counts
             ORDER BY size(ranked) DESC, id",
        ))
        .await
        .unwrap();
    let mut artists = 0;
    while let Some(row) = rows.next().await.unwrap() {
        let id: i64 = row.get("id").unwrap();
        let ranked: Vec<(String, String, i64)> = row.get("ranked").unwrap();
        let years: Vec<Vec<i64>> = row.get("years").unwrap();
        let counts: Vec<Vec<i64>> = row.get("counts").unwrap();
        if artists == 0 {
            assert!(ranked.len() > 3, "artist {id}: {}", ranked.len());
        }
        artists += 1;
        let expected: Vec<Value> = ranked
            .iter()
            .zip(years.iter().zip(&counts))
            .map(|((other, name, shared), (years, counts))| {
                let yearly: Vec<Value> = years
                    .iter()
                    .zip(counts)
                    .map(|(year, count)| json!({"year": year, "count": count}))
                    .collect();
                json!({"artist_id": other, "artist_name": name, "release_count": shared,
                       "first_year": years.first(), "last_year": years.last(),
                       "yearly_counts": yearly})
            })
            .collect();
        for limit in [100, 2] {
            let answer = ok(base, &format!("/api/collaborators/{id}?limit={limit}")).await;
            assert_eq!(answer["total"], ranked.len(), "artist {id}");
            let page: Vec<Value> = expected.iter().take(limit).cloned().collect();
            assert_eq!(
                answer["collaborators"],
                json!(page),
                "artist {id}, limit {limit}"
            );
        }
    }
    assert_eq!(artists, 3);
}

async fn genres_and_overview(base: &str, graph: &neo4rs::Graph) {
    let rock = ok(base, "/api/explore?name=Rock&type=genre").await;
    assert_eq!(rock["center"]["id"], "Rock");
    assert_eq!(rock["categories"][0]["count"], 332);
    let names_of = |explored: &Value| names(&explored["categories"], "category");
    assert_eq!(names_of(&rock), ["releases", "artists", "labels", "styles"]);

    let node = ok(base, "/api/node/Rock?type=genre").await;
    assert_eq!(node["release_count"], 332);
    assert_eq!(node["first_year"], 1959);

    // Read from the genre's precomputed top list: the ranking a live count gives.
    let top = ok(
        base,
        "/api/expand?node_id=Rock&type=genre&category=artists&limit=3",
    )
    .await;
    let mut rows = graph
        .execute(query(
            "MATCH (:Genre {name: 'Rock'})<-[:IS]-(r:Release)-[:BY]->(a:Artist)
             WITH a, count(*) AS n ORDER BY n DESC, a.id LIMIT 3
             RETURN collect(toString(a.id)) AS ids",
        ))
        .await
        .unwrap();
    let expected: Vec<String> = rows.next().await.unwrap().unwrap().get("ids").unwrap();
    assert_eq!(names(&top["children"], "id"), expected);
    assert_eq!(top["children"][0]["id"], "194", "Various leads");
    assert_eq!(top["total"], node["artist_count"]);
    // With before_year the count is live, and only dated releases count.
    let dated = ok(
        base,
        "/api/expand?node_id=Rock&type=genre&category=artists&limit=3&before_year=9999",
    )
    .await;
    assert_eq!(dated["children"][0]["id"], "194");
    assert!(
        dated["children"][0]["release_count"].as_i64()
            <= top["children"][0]["release_count"].as_i64()
    );

    release_pages(base, graph).await;

    let trend = ok(base, "/api/trends?name=Rock&type=genre").await;
    let total: i64 = trend["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|point| point["count"].as_i64().unwrap())
        .sum();
    assert!(total > 300 && total <= 332, "dated Rock releases: {total}");
    assert_eq!(trend["data"][0], json!({"year": 1959, "count": 1}));

    let tree = ok(base, "/api/genre-tree").await;
    assert_eq!(tree["genres"][0]["name"], "Rock");
    assert_eq!(tree["genres"][0]["release_count"], 332);
    assert_eq!(tree["genres"][0]["styles"][0]["name"], "Pop Rock");

    assert_eq!(
        ok(base, "/api/explore/year-range").await,
        json!({"min_year": 1933, "max_year": 2019})
    );
    let emergence = ok(base, "/api/explore/genre-emergence?before_year=1940").await;
    assert_eq!(
        names(&emergence["genres"], "name"),
        ["Latin", "Pop", "Stage & Screen", "Jazz"]
    );
    let stats = ok(base, "/api/graph/stats").await;
    assert_eq!(stats["counts"]["releases"], 1000);
    assert_eq!(stats["counts"]["genres"], 15);
    let counts = stats["counts"].as_object().unwrap();
    assert_eq!(
        stats["total_entities"].as_i64(),
        Some(counts.values().map(|n| n.as_i64().unwrap()).sum())
    );
}

async fn paths(base: &str) {
    // Alexi Delano and Cari Lekebusch are both members of Mr. James Barth & A.D. (2), and of
    // groups the sample only names; any of them makes a shortest path.
    let found = ok(
        base,
        "/api/path?from_name=Alexi%20Delano&to_name=Cari%20Lekebusch",
    )
    .await;
    assert_eq!(found["found"], true);
    assert_eq!(found["length"], 2);
    let path = found["path"].as_array().unwrap();
    assert_eq!(
        path[0],
        json!({"id": "26", "name": "Alexi Delano", "type": "artist", "rel": null})
    );
    assert_eq!(
        (&path[1]["type"], &path[1]["rel"]),
        (&json!("artist"), &json!("MEMBER_OF"))
    );
    assert_eq!(
        path[2],
        json!({"id": "27", "name": "Cari Lekebusch", "type": "artist", "rel": "MEMBER_OF"})
    );
    let too_short = ok(
        base,
        "/api/path?from_name=Alexi%20Delano&to_name=Cari%20Lekebusch&max_depth=1",
    )
    .await;
    assert_eq!(
        too_short,
        json!({"found": false, "length": null, "path": []})
    );

    // An artist reaches a genre through one of its releases; without the genre and style hubs
    // in between, the path may not pass through another genre.
    let to_genre = ok(
        base,
        "/api/path?from_name=Blue%20Six&to_name=Electronic&to_type=genre&exclude_hubs=true",
    )
    .await;
    assert_eq!(to_genre["found"], true);
    assert_eq!(to_genre["length"], 2);
    assert_eq!(to_genre["path"][1]["type"], "release");
    assert_eq!(to_genre["path"][2]["rel"], "IS");

    // Between an artist and a label, leaving the hubs out leaves them out of the search: the
    // label of the artist's releases, through one of them.
    let to_label = ok(
        base,
        "/api/path?from_name=Blue%20Six&to_name=Naked%20Music%20Recordings&to_type=label&exclude_hubs=true",
    )
    .await;
    assert_eq!(to_label["length"], 2);
    assert_eq!(
        (&to_label["path"][1]["type"], &to_label["path"][1]["rel"]),
        (&json!("release"), &json!("BY"))
    );
    assert_eq!(
        (&to_label["path"][2]["name"], &to_label["path"][2]["rel"]),
        (&json!("Naked Music Recordings"), &json!("ON"))
    );

    let same = ok(base, "/api/path?from_name=Blue%20Six&to_name=Blue%20Six").await;
    assert_eq!(same["length"], 0);
    let (status, missing) =
        get_json(base, "/api/path?from_name=Blue%20Six&to_name=Nobody%20Here").await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"], "Artist 'Nobody Here' not found");
}

async fn search_and_autocomplete(base: &str) {
    let search = ok(base, "/api/search?q=love&limit=3").await;
    assert_eq!(search["total"], 42);
    assert_eq!(search["total_is_estimate"], false);
    assert_eq!(search["facets_are_estimates"], false);
    assert_eq!(
        search["facets"]["type"],
        json!({"artist": 1, "label": 3, "master": 21, "release": 17})
    );
    assert_eq!(search["facets"]["decade"]["1980s"], 8);
    assert_eq!(search["facets"]["genre"]["Electronic"], 16);
    assert_eq!(search["results"].as_array().unwrap().len(), 3);
    assert_eq!(
        search["pagination"],
        json!({"limit": 3, "offset": 0, "has_more": true})
    );
    let first = &search["results"][0];
    assert!(
        first["highlight"].as_str().unwrap().contains("<b>Love</b>"),
        "{first}"
    );

    let filtered = ok(
        base,
        "/api/search?q=love&genres=Rock&year_min=1980&limit=50",
    )
    .await;
    for hit in filtered["results"].as_array().unwrap() {
        assert!(
            ["master", "release"].contains(&hit["type"].as_str().unwrap()),
            "{hit}"
        );
        assert!(hit["metadata"]["year"].as_i64().unwrap() >= 1980, "{hit}");
        assert!(
            hit["metadata"]["genres"]
                .as_array()
                .unwrap()
                .contains(&json!("Rock")),
            "{hit}"
        );
    }
    assert_eq!(
        filtered["total"].as_i64(),
        Some(filtered["results"].as_array().unwrap().len() as i64)
    );
    assert!(filtered["total"].as_i64().unwrap() > 0);

    let artists_only = ok(base, "/api/search?q=love&types=artist").await;
    assert_eq!(artists_only["total"], 1);
    assert_eq!(artists_only["results"][0]["name"], "Jonathan Love (2)");

    let suggestions = ok(base, "/api/autocomplete?q=blue%20si&type=artist").await;
    assert_eq!(suggestions["results"][0]["name"], "Blue Six");
    assert_eq!(suggestions["results"][0]["id"], "33");
    let exact = ok(base, "/api/autocomplete?q=BLUE%20SIX").await;
    assert_eq!(exact["results"][0]["score"], 1.0);
    let genres = ok(base, "/api/autocomplete?q=roc&type=genre").await;
    assert_eq!(
        genres["results"][0],
        json!({"id": "Rock", "name": "Rock", "score": 0.875})
    );
}

/// The hits of a page as (type, id, relevance).
fn hit_keys(search: &Value) -> Vec<(String, String, f64)> {
    search["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {search}"))
        .iter()
        .map(|hit| {
            (
                hit["type"].as_str().unwrap().to_owned(),
                hit["id"].as_str().unwrap().to_owned(),
                hit["relevance"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// A server that reads at most 3 matches of each type answers a word with more by estimate,
/// says so, and ranks its page among each such type's first matches by id; a filtered search
/// whose matches all fit the page is exact again.
async fn broad_searches_read_a_bounded_sample(
    exact_base: &str,
    config: &Config,
    pool: &deadpool_postgres::Pool,
) {
    let mut narrow = config.clone();
    narrow.search_exact_matches = 3;
    let base = start_api(&narrow).await;

    let broad = ok(&base, "/api/search?q=love&limit=5").await;
    assert_eq!(broad["total_is_estimate"], true, "{broad}");
    assert_eq!(broad["facets_are_estimates"], true, "{broad}");
    // One artist matches: read whole, counted exactly. Labels, masters and releases have 3 or
    // more: estimated, never below the 3 read.
    let types = &broad["facets"]["type"];
    assert_eq!(types["artist"], 1, "{broad}");
    for kind in ["label", "master", "release"] {
        assert!(types[kind].as_i64().unwrap() >= 3, "{kind}: {broad}");
    }
    assert_eq!(
        broad["total"].as_i64().unwrap(),
        ["artist", "label", "master", "release"]
            .iter()
            .map(|kind| types[kind].as_i64().unwrap())
            .sum::<i64>()
    );
    // The page: every artist match, and the first 5 (offset + limit) by id of each other type,
    // ranked as the exact search ranks.
    let client = pool.get().await.unwrap();
    let rows = client
        .query(
            "WITH q AS (SELECT plainto_tsquery('simple', 'love') AS query),
                  candidates AS (
                    (SELECT 'artist' AS type, id, ts_rank(search, q.query) AS rank
                       FROM artists, q WHERE search @@ q.query)
                    UNION ALL (SELECT 'label', id, ts_rank(search, q.query) FROM labels, q
                               WHERE search @@ q.query ORDER BY id LIMIT 5)
                    UNION ALL (SELECT 'master', id, ts_rank(search, q.query) FROM masters, q
                               WHERE search @@ q.query ORDER BY id LIMIT 5)
                    UNION ALL (SELECT 'release', id, ts_rank(search, q.query) FROM releases, q
                               WHERE search @@ q.query ORDER BY id LIMIT 5))
             SELECT type, id, rank FROM candidates ORDER BY rank DESC, type, id LIMIT 5",
            &[],
        )
        .await
        .unwrap();
    let expected: Vec<(String, String, f64)> = rows
        .iter()
        .map(|row| {
            let (id, rank): (i64, f32) = (row.get(1), row.get(2));
            (
                row.get(0),
                id.to_string(),
                (f64::from(rank) * 10_000.0).round() / 10_000.0,
            )
        })
        .collect();
    assert_eq!(hit_keys(&broad), expected);
    // Genres and decades come from the matches read, scaled to their type's count: each is
    // counted at least once and at most as often as masters and releases match in all.
    let with_years = types["master"].as_i64().unwrap() + types["release"].as_i64().unwrap();
    for facet in ["genre", "decade"] {
        let counts = broad["facets"][facet].as_object().unwrap();
        assert!(!counts.is_empty(), "{facet}: {broad}");
        for (key, count) in counts {
            let count = count.as_i64().unwrap();
            assert!(
                (1..=with_years).contains(&count),
                "{facet} {key}: {count} of {with_years}"
            );
        }
    }

    // Filtered, the masters and releases are read again with the filters, by id: all of them
    // fit the page, so the answer is the exact one.
    let path = "/api/search?q=love&genres=Rock&year_min=1980&limit=50";
    let filtered = ok(&base, path).await;
    let exact_filtered = ok(exact_base, path).await;
    assert_eq!(filtered["total_is_estimate"], false, "{filtered}");
    assert_eq!(filtered["total"], exact_filtered["total"]);
    assert_eq!(hit_keys(&filtered), hit_keys(&exact_filtered));
    assert_eq!(filtered["facets_are_estimates"], true, "{filtered}");
    assert_eq!(filtered["facets"]["type"]["artist"], 1);
}

async fn validation(base: &str) {
    for (path, parameter) in [
        ("/api/explore", "name"),
        ("/api/explore?name=Rock&type=planet", "type"),
        (
            "/api/expand?node_id=Rock&type=genre&category=aliases",
            "category",
        ),
        ("/api/expand?node_id=Rock&type=genre", "category"),
        (
            "/api/expand?node_id=Rock&type=genre&category=artists&limit=0",
            "limit",
        ),
        (
            "/api/expand?node_id=Rock&type=genre&category=artists&limit=201",
            "limit",
        ),
        (
            "/api/expand?node_id=Rock&type=genre&category=artists&offset=-1",
            "offset",
        ),
        (
            "/api/expand?node_id=Rock&type=genre&category=artists&offset=99999999",
            "offset",
        ),
        ("/api/search?q=a&limit=-5", "limit"),
        ("/api/search?q=a&limit=18446744073709551616", "limit"),
        ("/api/search?q=a&types=artist,planet", "types"),
        ("/api/search?q=a&year_min=twenty", "year_min"),
        ("/api/search", "q"),
        ("/api/autocomplete?q=a&limit=51", "limit"),
        ("/api/path?from_name=a&to_name=b&max_depth=11", "max_depth"),
        (
            "/api/path?from_name=a&to_name=b&exclude_hubs=maybe",
            "exclude_hubs",
        ),
        ("/api/explore/genre-emergence", "before_year"),
        ("/api/collaborators/abc", "artist_id"),
        ("/api/collaborators/1?limit=1000", "limit"),
        ("/api/node/abc?type=artist", "id"),
        ("/api/node/1?type=planet", "type"),
        ("/api/trends?name=Rock&type=release", "type"),
    ] {
        let (status, body) = get_json(base, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["parameter"], parameter, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().contains(parameter),
            "{body}"
        );
    }
    for path in [
        "/api/explore?name=Nobody%20Here",
        "/api/expand?node_id=Nobody&type=label&category=artists",
        "/api/node/999999999",
        "/api/node/Zydeco%20Metal?type=genre",
        "/api/trends?name=Zydeco%20Metal&type=style",
        "/api/collaborators/999999999",
    ] {
        let (status, body) = get_json(base, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(
            body["error"].as_str().unwrap().ends_with("not found"),
            "{body}"
        );
    }
}

/// Percent-encodes every byte, so the text reaches the handler exactly as written.
fn encoded(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

async fn hostile_input(base: &str) {
    let long = "x".repeat(10_000);
    let hostile = [
        "'",
        "\"",
        "\\",
        "\\'; DROP TABLE artists; --",
        "') OR 1=1 --",
        "n'}) DETACH DELETE n //",
        "` MATCH (n) DETACH DELETE n //",
        "$name",
        "%_%",
        "*:*",
        "a:* & !b | (c",
        "Björk ☃ 𝄞 \u{200b}\u{202e}",
        "\u{a0}",
        "a\0b",
        long.as_str(),
    ];
    let routes = [
        "/api/explore?name=",
        "/api/explore?type=label&name=",
        "/api/expand?type=style&category=artists&node_id=",
        "/api/trends?type=genre&name=",
        "/api/path?to_name=Blue%20Six&from_name=",
        "/api/search?q=",
        "/api/search?q=love&genres=",
        "/api/autocomplete?q=",
        "/api/autocomplete?type=style&q=",
        "/api/node/{}?type=genre",
        "/api/node/{}?type=artist",
        "/api/collaborators/{}",
        "/api/label/{}/dna",
        "/api/label/dna/compare?ids=5,",
        "/api/network/cluster/{}",
        "/api/recommend/similar/artist/{}",
    ];
    for route in routes {
        for text in hostile {
            let path = if route.contains("{}") {
                route.replace("{}", &encoded(text))
            } else {
                format!("{route}{}", encoded(text))
            };
            let (status, body) = get_json(base, &path).await;
            let shown: String = text.chars().take(40).collect();
            assert!(
                [200, 400, 404].contains(&status),
                "{route} with {shown:?}: {status} {body}"
            );
            if route.starts_with("/api/search") || route.starts_with("/api/autocomplete") {
                assert!(
                    status == 200 || status == 400,
                    "{route} with {shown:?}: {status} {body}"
                );
            }
        }
    }
    // The graph and the tables are still whole.
    assert_eq!(
        ok(base, "/api/graph/stats").await["counts"]["releases"],
        1000
    );
    assert_eq!(ok(base, "/api/artists/33").await["name"], "Blue Six");
}

async fn openapi_documents_every_route(base: &str) {
    let document = ok(base, "/api/openapi.json").await;
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    for route in [
        "/health",
        "/ready",
        "/metrics",
        "/api/cache",
        "/api/artists/{id}",
        "/api/labels/{id}",
        "/api/masters/{id}",
        "/api/releases/{id}",
        "/api/autocomplete",
        "/api/search",
        "/api/explore",
        "/api/expand",
        "/api/node/{id}",
        "/api/trends",
        "/api/path",
        "/api/explore/year-range",
        "/api/explore/genre-emergence",
        "/api/genre-tree",
        "/api/graph/stats",
        "/api/collaborators/{artist_id}",
        "/api/credits/person/{name}",
        "/api/credits/person/{name}/timeline",
        "/api/credits/person/{name}/profile",
        "/api/credits/release/{release_id}",
        "/api/credits/role/{role}/top",
        "/api/credits/shared",
        "/api/credits/connections/{name}",
        "/api/credits/autocomplete",
        "/api/nlq/status",
        "/api/nlq/suggestions",
        "/api/insights/top-artists",
        "/api/insights/genre-trends",
        "/api/insights/label-longevity",
        "/api/insights/this-month",
        "/api/insights/data-completeness",
        "/api/insights/status",
        "/api/label/{label_id}/dna",
        "/api/label/{label_id}/similar",
        "/api/label/dna/compare",
        "/api/recommend/similar/artist/{artist_id}",
        "/api/network/artist/{artist_id}/collaborators",
        "/api/network/artist/{artist_id}/centrality",
        "/api/network/cluster/{id}",
    ] {
        assert!(paths.contains_key(route), "{route} is not documented");
    }
    // Every documented GET route exists: an unknown route is a 404 saying "no route".
    for (route, operations) in paths {
        if operations.get("get").is_none() {
            continue;
        }
        let path = route
            .replace("{id}", "33")
            .replace("{artist_id}", "33")
            .replace("{release_id}", "1586427")
            .replace("{label_id}", "5")
            .replace("{name}", "George%20Martin")
            .replace("{role}", "mastering");
        let (status, body) = get(&format!("{base}{path}")).await;
        assert!(
            !(status == 404 && body.contains("no route")),
            "{route} is not served"
        );
        let parameters = operations["get"]["parameters"].as_array();
        for parameter in parameters.into_iter().flatten() {
            assert!(parameter["name"].is_string() && parameter["schema"].is_object());
        }
    }
}

async fn explained_requests_show_their_statements(base: &str) {
    let explained = |path: &'static str| async move {
        let (status, body) =
            request("GET", &format!("{base}{path}"), &["x-discogs-explain: 1"]).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let record = explained("/api/artists/33").await;
    assert_eq!(record["status"], 200);
    let statement = &record["statements"][0];
    assert_eq!(statement["store"], "postgres");
    assert!(
        statement["parameters"].as_str().unwrap().contains("33"),
        "{statement}"
    );
    assert!(
        statement["plan"]
            .as_str()
            .unwrap()
            .contains("Index Scan using artists_pkey"),
        "{statement}"
    );

    // Cached answers are computed again, so their statements show.
    ok(base, "/api/explore?name=Blue%20Six").await;
    let explore = explained("/api/explore?name=Blue%20Six").await;
    let statements = explore["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 3, "{explore}");
    assert!(
        statements[0]["text"]
            .as_str()
            .unwrap()
            .contains("MATCH (n:Artist {name: $name})")
    );
    // Its counts from the node, and its labels counted from one index range.
    let (postgres, neo4j): (Vec<&Value>, Vec<&Value>) =
        statements.iter().partition(|s| s["store"] == "postgres");
    assert_eq!((postgres.len(), neo4j.len()), (1, 2), "{explore}");
    assert!(
        postgres[0]["plan"]
            .as_str()
            .unwrap()
            .contains("artist_labels_by_artist"),
        "{explore}"
    );

    let search = explained("/api/search?q=love").await;
    assert!(
        search["statements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["plan"]
                .as_str()
                .unwrap_or_default()
                .contains("Bitmap Index Scan on releases_search_idx")),
        "{search}"
    );

    let (status, body) = request("DELETE", &format!("{base}/api/cache"), &[]).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"cleared"}"#));
}

/// `discogs_api_cache_requests_total` for one route and outcome, from `/metrics`.
async fn cache_count(base: &str, route: &str, outcome: &str) -> u64 {
    let metrics = get(&format!("{base}/metrics")).await.1;
    metrics
        .lines()
        .find(|line| {
            line.starts_with("discogs_api_cache_requests_total{")
                && line.contains(&format!("route=\"{route}\""))
                && line.contains(&format!("outcome=\"{outcome}\""))
        })
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or(0)
}

async fn cache_is_keyed_by_the_ingest_generation(
    base: &str,
    config: &Config,
    graph: &neo4rs::Graph,
) {
    let path = "/api/explore?name=Blue%20Six&type=artist";
    let before = ok(base, path).await;
    assert_eq!(before["categories"][0]["count"], 3);
    graph
        .run(query("MATCH (a:Artist {id: 33}) SET a.release_count = 99"))
        .await
        .unwrap();
    assert_eq!(
        ok(base, path).await,
        before,
        "the same generation is answered from the cache"
    );
    assert!(cache_count(base, "explore", "hit").await >= 1);

    // Concurrent misses of one answer share one computation.
    let (misses, hits) = (
        cache_count(base, "trends", "miss").await,
        cache_count(base, "trends", "hit").await,
    );
    let url = format!("{base}/api/trends?name=Jay%20Denes");
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { get(&url).await })
        })
        .collect();
    let mut answers = Vec::new();
    for request in requests {
        answers.push(request.await.unwrap());
    }
    assert!(
        answers
            .iter()
            .all(|(status, body)| *status == 200 && *body == answers[0].1)
    );
    assert_eq!(cache_count(base, "trends", "miss").await, misses + 1);
    assert_eq!(cache_count(base, "trends", "hit").await, hits + 7);

    let pool = discogs::store::postgres::connect(&config.postgres)
        .await
        .unwrap();
    pool.get()
        .await
        .unwrap()
        .execute(
            "UPDATE ingest_generation SET generation = generation + 1",
            &[],
        )
        .await
        .unwrap();
    let after = ok(base, path).await;
    assert_eq!(
        after["categories"][0]["count"], 99,
        "a new generation is never answered from before it"
    );
}

/// "The Beatles" (82730) has no record in the sample; four releases credit it by id and name.
async fn stubs_carry_their_referrers_names(base: &str) {
    let explored = ok(base, "/api/explore?name=The%20Beatles&type=artist").await;
    assert_eq!(
        explored["center"],
        json!({"id": "82730", "name": "The Beatles", "type": "artist"})
    );
    let releases = ok(
        base,
        "/api/expand?node_id=The%20Beatles&type=artist&category=releases",
    )
    .await;
    assert_eq!(releases["total"], 4);
    let path = ok(
        base,
        "/api/path?from_name=Blue%20Six&to_name=The%20Beatles&max_depth=10",
    )
    .await;
    assert_eq!(path["found"], true, "{path}");
    let last = path["path"]
        .as_array()
        .and_then(|steps| steps.last())
        .cloned();
    assert_eq!(
        last.map(|step| step["name"].clone()),
        Some(json!("The Beatles"))
    );
    let aliases = ok(
        base,
        "/api/expand?node_id=Blue%20Six&type=artist&category=aliases",
    )
    .await;
    assert_eq!(
        names(&aliases["children"], "name"),
        ["Jay Denes", "Naked Music NYC", "Thump'N'Johnson"]
    );
}

/// Where in `value` a key naming something (`name`, `artist_name`, …) is null, except where
/// there is nothing to name: `x_name` beside a null `x_id` (a credit not linked to an artist).
fn null_names(value: &Value, at: &str, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let here = format!("{at}.{key}");
                let unlinked = key
                    .strip_suffix("_name")
                    .is_some_and(|entity| map.get(&format!("{entity}_id")) == Some(&Value::Null));
                if key.ends_with("name") && item.is_null() && !unlinked {
                    found.push(here.clone());
                }
                null_names(item, &here, found);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                null_names(item, &format!("{at}[{index}]"), found);
            }
        }
        _ => {}
    }
}

/// Every documented route, with the sample's entities (stub-heavy ones included): no answer
/// holds a null name anywhere.
async fn no_answer_holds_a_null_name(base: &str) {
    let requests = [
        "/health",
        "/ready",
        "/api/artists/33",
        "/api/labels/2",
        "/api/masters/113",
        "/api/releases/1586418",
        "/api/autocomplete?q=the",
        "/api/search?q=the",
        "/api/explore?name=Blue%20Six",
        "/api/explore?name=The%20Beatles",
        "/api/explore?name=Earthtones%20Recordings&type=label",
        "/api/explore?name=Electronic&type=genre",
        "/api/explore?name=House&type=style",
        "/api/expand?node_id=Blue%20Six&type=artist&category=aliases",
        "/api/expand?node_id=Blue%20Six&type=artist&category=labels",
        "/api/expand?node_id=Blue%20Six&type=artist&category=releases",
        "/api/expand?node_id=George%20Martin&type=artist&category=releases",
        "/api/expand?node_id=Earthtones%20Recordings&type=label&category=artists",
        "/api/expand?node_id=Earthtones%20Recordings&type=label&category=releases",
        "/api/expand?node_id=Earthtones%20Recordings&type=label&category=genres",
        "/api/expand?node_id=Electronic&type=genre&category=artists",
        "/api/expand?node_id=Electronic&type=genre&category=labels",
        "/api/expand?node_id=Electronic&type=genre&category=styles",
        "/api/expand?node_id=Rock&type=genre&category=artists&before_year=1970",
        "/api/expand?node_id=House&type=style&category=genres",
        "/api/expand?node_id=House&type=style&category=artists",
        "/api/node/33?type=artist",
        "/api/node/82730?type=artist",
        "/api/node/2?type=label",
        "/api/node/113?type=master",
        "/api/node/1586418?type=release",
        "/api/node/Electronic?type=genre",
        "/api/node/House?type=style",
        "/api/trends?name=The%20Beatles",
        "/api/path?from_name=Blue%20Six&to_name=The%20Beatles&max_depth=10",
        "/api/explore/year-range",
        "/api/explore/genre-emergence?before_year=2000",
        "/api/genre-tree",
        "/api/graph/stats",
        "/api/collaborators/82730",
        "/api/collaborators/259769",
        "/api/credits/person/George%20Martin",
        "/api/credits/person/George%20Martin/timeline",
        "/api/credits/person/George%20Martin/profile",
        "/api/credits/person/Jay%20Denes/profile",
        "/api/credits/release/1586427",
        "/api/credits/release/11058780",
        "/api/credits/role/mastering/top",
        "/api/credits/role/other/top?limit=100",
        "/api/credits/shared?person1=John%20Lennon&person2=Paul%20McCartney",
        "/api/credits/connections/George%20Martin",
        "/api/credits/autocomplete?q=jo",
        "/api/nlq/status",
        "/api/nlq/suggestions",
        "/api/insights/top-artists?limit=500",
        "/api/insights/genre-trends?genre=Rock",
        "/api/insights/label-longevity?limit=200",
        "/api/insights/this-month?limit=500",
        "/api/insights/data-completeness",
        "/api/insights/status",
        "/api/label/5/dna",
        "/api/label/1818/similar?limit=50",
        "/api/label/dna/compare?ids=5,1818",
        "/api/recommend/similar/artist/95537?limit=50",
        "/api/recommend/similar/artist/194?limit=50",
        "/api/network/artist/95537/collaborators?depth=3&limit=200",
        "/api/network/artist/194/collaborators?depth=2&limit=200",
        "/api/network/artist/95537/centrality",
        "/api/network/cluster/194?limit=200",
        "/api/openapi.json",
    ];
    let document = ok(base, "/api/openapi.json").await;
    for (route, operations) in document["paths"].as_object().unwrap() {
        if operations.get("get").is_none() || route == "/metrics" {
            continue;
        }
        let prefix = route.split('{').next().unwrap_or(route);
        assert!(
            requests
                .iter()
                .any(|request| request.split('?').next() == Some(route.as_str())
                    || (route.contains('{') && request.starts_with(prefix))),
            "{route} is not tried"
        );
    }
    for request in requests {
        let (status, body) = get_json(base, request).await;
        assert_eq!(status, 200, "{request}: {body}");
        let mut found = Vec::new();
        null_names(&body, "", &mut found);
        assert!(found.is_empty(), "{request}: null names at {found:?}");
    }
}
