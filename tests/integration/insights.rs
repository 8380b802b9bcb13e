//! The insights routes on the 2020 sample dump, against counts taken independently of the stored
//! insights: from the records' JSON in PostgreSQL and from the graph's relationships. Called from
//! the catalogue test, on its load of the sample.

use serde_json::{Value, json};

use crate::graph_api::{get_json, ok};

pub async fn insights_routes(base: &str, pool: &deadpool_postgres::Pool, graph: &neo4rs::Graph) {
    top_artists(base, graph).await;
    genre_trends(base, pool).await;
    label_longevity(base, pool).await;
    this_month(base, pool).await;
    completeness(base, pool).await;
    status(base, pool).await;
    errors(base).await;
}

async fn pg_numbers(pool: &deadpool_postgres::Pool, sql: &str) -> Vec<Option<i64>> {
    let row = pool.get().await.unwrap().query_one(sql, &[]).await.unwrap();
    (0..row.len()).map(|i| row.get(i)).collect()
}

async fn degree(graph: &neo4rs::Graph, id: i64) -> i64 {
    let mut rows = graph
        .execute(
            neo4rs::query("MATCH (:Artist {id: $id})-[r]-() RETURN count(r) AS n").param("id", id),
        )
        .await
        .unwrap();
    rows.next().await.unwrap().unwrap().get("n").unwrap()
}

async fn top_artists(base: &str, graph: &neo4rs::Graph) {
    let top = ok(base, "/api/insights/top-artists?limit=5").await;
    assert_eq!(top["metric"], "centrality");
    assert_eq!(top["count"], 5);
    let items = top["items"].as_array().unwrap();
    let mut previous = i64::MAX;
    for (index, item) in items.iter().enumerate() {
        assert_eq!(item["rank"], index + 1);
        let id: i64 = item["artist_id"].as_str().unwrap().parse().unwrap();
        let edges = item["edge_count"].as_i64().unwrap();
        assert_eq!(edges, degree(graph, id).await, "{item}");
        assert!(edges <= previous);
        previous = edges;
    }
    let mut most = graph
        .execute(neo4rs::query(
            "MATCH (a:Artist) RETURN max(COUNT { (a)-[]-() }) AS n",
        ))
        .await
        .unwrap();
    let most: i64 = most.next().await.unwrap().unwrap().get("n").unwrap();
    assert_eq!(items[0]["edge_count"], most);
    // "Various" (194), credited on every compilation, is the sample's most connected artist.
    assert_eq!(items[0]["artist_name"], "Various", "{top}");
}

async fn genre_trends(base: &str, pool: &deadpool_postgres::Pool) {
    let trends = ok(base, "/api/insights/genre-trends?genre=Electronic").await;
    let client = pool.get().await.unwrap();
    let rows = client
        .query(
            "SELECT year / 10 * 10 AS decade, count(*) FROM releases
             WHERE 'Electronic' = ANY(genres) AND year IS NOT NULL GROUP BY 1 ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let expected: Vec<Value> = rows
        .iter()
        .map(|row| json!({"decade": row.get::<_, i32>(0), "release_count": row.get::<_, i64>(1)}))
        .collect();
    assert!(expected.len() > 2, "the sample's Electronic spans decades");
    assert_eq!(trends["trends"], json!(expected));
    let peak = expected
        .iter()
        .max_by_key(|d| (d["release_count"].as_i64(), -d["decade"].as_i64().unwrap()))
        .unwrap();
    assert_eq!(trends["peak_decade"], peak["decade"]);
    assert_eq!(trends["genre"], "Electronic");

    let nothing = ok(base, "/api/insights/genre-trends?genre=Soul").await;
    assert_eq!(
        nothing,
        json!({"genre": "Soul", "trends": [], "peak_decade": null})
    );
}

async fn label_longevity(base: &str, pool: &deadpool_postgres::Pool) {
    let longevity = ok(base, "/api/insights/label-longevity?limit=3").await;
    assert_eq!(longevity["count"], 3);
    // Every label's span of dated releases, from the records' JSON.
    let spans = "SELECT (l->>'id')::bigint AS label, min(r.year) AS first, max(r.year) AS last,
                        count(DISTINCT r.id) AS releases
                 FROM releases r, jsonb_array_elements(r.data->'labels') l
                 WHERE r.year IS NOT NULL AND l ? 'id' GROUP BY 1";
    let longest = pg_numbers(
        pool,
        &format!("SELECT max(last - first + 1)::bigint FROM ({spans}) s"),
    )
    .await;
    let first = &longevity["items"][0];
    assert_eq!(first["rank"], 1);
    assert_eq!(Some(first["years_active"].as_i64().unwrap()), longest[0]);
    let label: i64 = first["label_id"].as_str().unwrap().parse().unwrap();
    let own = pg_numbers(
        pool,
        &format!(
            "SELECT first::bigint, last::bigint, releases FROM ({spans}) s WHERE label = {label}"
        ),
    )
    .await;
    assert_eq!(
        own,
        [
            first["first_year"].as_i64(),
            first["last_year"].as_i64(),
            first["total_releases"].as_i64()
        ],
        "{first}"
    );
    let peak = first["peak_decade"].as_i64().unwrap();
    assert_eq!(peak % 10, 0);
    assert!(peak >= own[0].unwrap() / 10 * 10 && peak <= own[1].unwrap());
    let years: Vec<i64> = longevity["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["years_active"].as_i64().unwrap())
        .collect();
    assert!(years.windows(2).all(|pair| pair[0] >= pair[1]), "{years:?}");
}

async fn this_month(base: &str, pool: &deadpool_postgres::Pool) {
    let month = ok(base, "/api/insights/this-month?limit=500").await;
    let now = pg_numbers(
        pool,
        "SELECT extract(year FROM now() AT TIME ZONE 'UTC')::bigint,
                extract(month FROM now() AT TIME ZONE 'UTC')::bigint",
    )
    .await;
    assert_eq!(
        (month["year"].as_i64(), month["month"].as_i64()),
        (now[0], now[1])
    );
    let year = now[0].unwrap();
    let milestones: Vec<String> = [25, 30, 40, 50, 75, 100]
        .iter()
        .map(|m| (year - m).to_string())
        .collect();
    let expected = pg_numbers(
        pool,
        &format!(
            "SELECT count(*) FROM masters WHERE (data->>'year')::int IN ({}) AND data ? 'title'",
            milestones.join(",")
        ),
    )
    .await;
    assert!(
        expected[0].unwrap() > 0,
        "the sample has masters at milestones"
    );
    assert_eq!(month["count"].as_i64(), expected[0]);
    let items = month["items"].as_array().unwrap();
    let anniversaries: Vec<i64> = items
        .iter()
        .map(|i| i["anniversary"].as_i64().unwrap())
        .collect();
    assert!(anniversaries.windows(2).all(|pair| pair[0] >= pair[1]));
    for item in items {
        assert_eq!(
            item["release_year"].as_i64().unwrap() + item["anniversary"].as_i64().unwrap(),
            year,
            "{item}"
        );
    }
    let two = ok(base, "/api/insights/this-month?limit=2").await;
    assert_eq!(two["items"], json!(items[..2]));
}

async fn completeness(base: &str, pool: &deadpool_postgres::Pool) {
    let answer = ok(base, "/api/insights/data-completeness").await;
    let items = answer["items"].as_array().unwrap();
    let types: Vec<&str> = items
        .iter()
        .map(|i| i["entity_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["artists", "labels", "masters", "releases"]);
    let releases = pg_numbers(
        pool,
        "SELECT count(*), count(*) FILTER (WHERE data ? 'year'), count(*) FILTER (WHERE data ? 'country'),
                count(*) FILTER (WHERE data ? 'genres') FROM releases",
    )
    .await;
    let r = &items[3];
    assert_eq!(
        [
            r["total_count"].as_i64(),
            r["with_year"].as_i64(),
            r["with_country"].as_i64(),
            r["with_genre"].as_i64()
        ],
        [releases[0], releases[1], releases[2], releases[3]],
        "{r}"
    );
    assert!(r["with_image"].is_null());
    let share = |with: Option<i64>| 100.0 * with.unwrap() as f64 / releases[0].unwrap() as f64;
    let mean = (share(releases[1]) + share(releases[2]) + share(releases[3])) / 3.0;
    assert!(
        (r["completeness_pct"].as_f64().unwrap() - mean).abs() < 0.01,
        "{r}"
    );
    let masters = pg_numbers(
        pool,
        "SELECT count(*), count(*) FILTER (WHERE data ? 'year'), count(*) FILTER (WHERE data ? 'genres') FROM masters",
    )
    .await;
    let m = &items[2];
    assert_eq!(
        [
            m["total_count"].as_i64(),
            m["with_year"].as_i64(),
            m["with_genre"].as_i64()
        ],
        [masters[0], masters[1], masters[2]]
    );
    assert!(m["with_country"].is_null());
    assert_eq!(items[0]["total_count"], 1000);
    assert!(items[0]["with_year"].is_null() && items[0]["completeness_pct"].is_null());
}

async fn status(base: &str, pool: &deadpool_postgres::Pool) {
    let generation = pg_numbers(pool, "SELECT generation FROM ingest_generation").await[0];
    let statuses = ok(base, "/api/insights/status").await;
    let statuses = statuses["statuses"].as_array().unwrap();
    let types: Vec<&str> = statuses
        .iter()
        .map(|s| s["insight_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "artist_centrality",
            "genre_trends",
            "label_longevity",
            "anniversaries",
            "data_completeness",
            "community_enrichment",
            "release_rarity"
        ]
    );
    for computed in &statuses[..5] {
        assert_eq!(computed["status"], "completed", "{computed}");
        assert_eq!(computed["generation"].as_i64(), generation, "{computed}");
        assert!(computed["last_computed"].as_str().unwrap().ends_with('Z'));
        assert!(computed["duration_ms"].is_i64());
    }
    for never in &statuses[5..] {
        assert_eq!(
            (
                never["status"].clone(),
                never["last_computed"].clone(),
                never["duration_ms"].clone()
            ),
            (json!("never_run"), Value::Null, Value::Null)
        );
    }
}

async fn errors(base: &str) {
    for (path, parameter) in [
        ("/api/insights/top-artists?limit=501", "limit"),
        ("/api/insights/label-longevity?limit=0", "limit"),
        ("/api/insights/this-month?limit=x", "limit"),
        ("/api/insights/genre-trends", "genre"),
    ] {
        let (status, body) = get_json(base, path).await;
        assert_eq!(
            (status, body["parameter"].clone()),
            (400, json!(parameter)),
            "{path}: {body}"
        );
    }
}
