//! The credits routes on the 2020 sample dump, against values read by hand from its releases' XML
//! (release- and track-level `extraartists`, roles classified by API-ANALYTICS.md §4.2). Called
//! from the catalogue test, on its load of the sample.

use serde_json::{Value, json};

use crate::graph_api::{get_json, ok};

pub async fn credits_routes(base: &str, pool: &deadpool_postgres::Pool) {
    person_credits(base).await;
    leaderboards_and_release_credits(base).await;
    shared_and_connections(base).await;
    connections_of_the_newest_releases(pool).await;
    errors_and_hostile_input(base).await;
    nlq_is_switched_off(base).await;
}

/// George Martin: 15 credits on four releases, six of them only on tracks of Rubber Soul and The
/// Beatles ("Harmonium", "Piano", "Piano [Steinway]", "Written-By").
async fn person_credits(base: &str) {
    let credits = ok(base, "/api/credits/person/George%20Martin").await;
    assert_eq!(credits["name"], "George Martin");
    assert_eq!(credits["total_credits"], 15);
    let entries = credits["credits"].as_array().unwrap();
    let brief: Vec<(&str, Value, &str, &str)> = entries
        .iter()
        .map(|c| {
            (
                c["release_id"].as_str().unwrap(),
                c["year"].clone(),
                c["role"].as_str().unwrap(),
                c["category"].as_str().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("1586418", json!(1982), "Producer", "production"),
        ("1586427", json!(1969), "Arranged By", "other"),
        (
            "1586427",
            json!(1969),
            "Composed By, Orchestrated By",
            "other",
        ),
        ("1586427", json!(1969), "Producer", "production"),
        ("1586427", json!(1969), "Written-By", "other"),
        ("6084067", json!(1965), "Harmonium", "other"),
        ("6084067", json!(1965), "Piano", "session"),
        ("6084067", json!(1965), "Producer", "production"),
        // Undated: last.
        ("11058780", Value::Null, "Harmonium", "other"),
        ("11058780", Value::Null, "Liner Notes [Cd8]", "design"),
        ("11058780", Value::Null, "Orchestrated By", "other"),
        ("11058780", Value::Null, "Piano", "session"),
        ("11058780", Value::Null, "Piano [Steinway]", "session"),
        ("11058780", Value::Null, "Producer", "production"),
        ("11058780", Value::Null, "Written-By", "other"),
    ];
    assert_eq!(brief, expected);
    // Every page is the same slice of that order, whichever years and undated credits it spans.
    for limit in [1, 2, 3, 5, 16] {
        for offset in 0..=16 {
            let page = ok(
                base,
                &format!("/api/credits/person/George%20Martin?limit={limit}&offset={offset}"),
            )
            .await;
            assert_eq!(
                (&page["total_credits"], &page["offset"]),
                (&json!(15), &json!(offset))
            );
            let page: Vec<&Value> = page["credits"].as_array().unwrap().iter().collect();
            let slice: Vec<&Value> = entries.iter().skip(offset).take(limit).collect();
            assert_eq!(page, slice, "limit {limit}, offset {offset}");
        }
    }
    assert_eq!(entries[0]["title"], "20 Greatest Hits");
    assert_eq!(entries[8]["title"], "The Beatles");
    assert_eq!(entries[8]["artists"], json!(["The Beatles"]));
    assert_eq!(entries[8]["labels"].as_array().unwrap().len(), 1);

    let timeline = ok(base, "/api/credits/person/George%20Martin/timeline").await;
    assert_eq!(
        timeline["timeline"],
        json!([
            {"year": 1965, "category": "other", "count": 1},
            {"year": 1965, "category": "production", "count": 1},
            {"year": 1965, "category": "session", "count": 1},
            {"year": 1969, "category": "other", "count": 3},
            {"year": 1969, "category": "production", "count": 1},
            {"year": 1982, "category": "production", "count": 1},
        ])
    );

    let profile = ok(base, "/api/credits/person/George%20Martin/profile").await;
    assert_eq!(profile["total_credits"], 15);
    assert_eq!(
        (profile["first_year"].clone(), profile["last_year"].clone()),
        (json!(1965), json!(1982))
    );
    assert_eq!(
        profile["role_breakdown"],
        json!([
            {"category": "other", "count": 7},
            {"category": "production", "count": 4},
            {"category": "session", "count": 3},
            {"category": "design", "count": 1},
        ])
    );
    assert_eq!(
        profile["categories"],
        json!(["other", "production", "session", "design"])
    );
    let linked = profile["artist_id"]
        .as_str()
        .expect("George Martin's credits carry his id");
    let artist = ok(base, &format!("/api/node/{linked}?type=artist")).await;
    assert_eq!(artist["name"], profile["artist_name"]);
}

async fn leaderboards_and_release_credits(base: &str) {
    // Distinct releases with a mastering credit, ties by name.
    let mastering = ok(base, "/api/credits/role/mastering/top?limit=4").await;
    assert_eq!(
        mastering,
        json!({"category": "mastering", "entries": [
            {"name": "Rick Essig", "credit_count": 5},
            {"name": "Joona Lukala", "credit_count": 4},
            {"name": "Mark Richardson (3)", "credit_count": 4},
            {"name": "Tom Coyne", "credit_count": 4},
        ]})
    );
    let production = ok(base, "/api/credits/role/Production/top?limit=3").await;
    assert_eq!(
        production["entries"],
        json!([
            {"name": "Jeff Craven", "credit_count": 7},
            {"name": "David Boonshoft", "credit_count": 5},
            {"name": "Jay Denes", "credit_count": 5},
        ])
    );

    // Yellow Submarine: by category, then name, then role.
    let release = ok(base, "/api/credits/release/1586427").await;
    assert_eq!(release["release_id"], "1586427");
    let rows: Vec<(&str, &str, &str)> = release["credits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["category"].as_str().unwrap(),
                c["name"].as_str().unwrap(),
                c["role"].as_str().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("other", "George Harrison", "Written-By"),
        ("other", "George Martin", "Arranged By"),
        ("other", "George Martin", "Composed By, Orchestrated By"),
        ("other", "George Martin", "Written-By"),
        ("other", "Lennon-McCartney", "Written-By"),
        ("production", "George Martin", "Producer"),
    ];
    assert_eq!(rows, expected);
}

/// Connections counted over a person's newest releases only: George Martin's are 1586418 (1982:
/// with Lennon-McCartney), 1586427 (1969: with George Harrison and Lennon-McCartney), 6084067
/// (1965: those two, John Lennon, Mal Evans, Paul McCartney, Richard Starkey, Ringo Starr and
/// Robert Freeman (4)) and the undated 11058780.
async fn connections_of_the_newest_releases(pool: &deadpool_postgres::Pool) {
    let client = pool.get().await.unwrap();
    let client: &tokio_postgres::Client = &client;
    let counted = async |releases: i64, limit: i64| {
        discogs::store::credits::connections(client, "George Martin", limit, releases)
            .await
            .unwrap()
    };
    let people = |list: &[(&str, i64)]| -> Vec<(String, i64)> {
        list.iter().map(|&(name, n)| (name.to_owned(), n)).collect()
    };
    let newest = counted(1, 10).await;
    assert_eq!(
        (newest.releases_counted, newest.complete, newest.people),
        (1, false, people(&[("Lennon-McCartney", 1)]))
    );
    let two = counted(2, 10).await;
    assert_eq!(
        (two.releases_counted, two.complete, two.people),
        (
            2,
            false,
            people(&[("Lennon-McCartney", 2), ("George Harrison", 1)])
        )
    );
    let three = counted(3, 4).await;
    assert_eq!(
        (three.releases_counted, three.complete, three.people),
        (
            3,
            false,
            people(&[
                ("Lennon-McCartney", 3),
                ("George Harrison", 2),
                ("John Lennon", 1),
                ("Mal Evans", 1)
            ])
        ),
        "ties by name"
    );
    for releases in [4, 100] {
        let all = counted(releases, 2).await;
        assert_eq!(
            (all.releases_counted, all.complete, all.people),
            (
                4,
                true,
                people(&[("Lennon-McCartney", 4), ("George Harrison", 3)])
            ),
            "{releases} asked"
        );
    }
    let nobody = discogs::store::credits::connections(client, "Nobody At All", 10, 5)
        .await
        .unwrap();
    assert_eq!(
        (nobody.releases_counted, nobody.complete, nobody.people),
        (0, true, Vec::new())
    );
}

async fn shared_and_connections(base: &str) {
    // John Lennon and Paul McCartney share Rubber Soul (1965) and The Beatles (undated): one row
    // per pair of their roles there, 104 in all, the dated release first.
    let shared = ok(
        base,
        "/api/credits/shared?person1=John%20Lennon&person2=Paul%20McCartney",
    )
    .await;
    let rows = shared["shared_releases"].as_array().unwrap();
    assert_eq!(rows.len(), 104);
    // Neither is credited on more releases than a window holds: the answer is all there is.
    assert_eq!(shared["complete"], true);
    assert!(
        shared["releases_counted"].as_i64().unwrap() >= 2,
        "{shared}"
    );
    assert_eq!(
        (rows[0]["release_id"].clone(), rows[0]["year"].clone()),
        (json!("6084067"), json!(1965))
    );
    assert_eq!(
        (
            rows[0]["person1_role"].clone(),
            rows[0]["person2_role"].clone()
        ),
        (json!("Vocals"), json!("Bass [Fuzz Bass]"))
    );
    assert_eq!(rows[103]["release_id"], "11058780");
    assert_eq!(rows[103]["title"], "The Beatles");
    let none = ok(
        base,
        "/api/credits/shared?person1=John%20Lennon&person2=Nobody%20At%20All",
    )
    .await;
    assert_eq!(none["shared_releases"], json!([]));
    assert_eq!(none["complete"], true);

    let connections = ok(
        base,
        "/api/credits/connections/George%20Martin?depth=1&limit=5",
    )
    .await;
    assert_eq!(
        connections["connections"],
        json!([
            {"name": "Lennon-McCartney", "shared_count": 4},
            {"name": "George Harrison", "shared_count": 3},
            {"name": "John Lennon", "shared_count": 2},
            {"name": "Mal Evans", "shared_count": 2},
            {"name": "Paul McCartney", "shared_count": 2},
        ])
    );
    assert_eq!(
        (&connections["releases_counted"], &connections["complete"]),
        (&json!(4), &json!(true)),
        "all four of his releases"
    );
    let deeper = ok(
        base,
        "/api/credits/connections/George%20Martin?depth=3&limit=5",
    )
    .await;
    assert_eq!(deeper["connections"], connections["connections"]);

    let suggestions = ok(base, "/api/credits/autocomplete?q=george%20ma").await;
    let names: Vec<&str> = suggestions["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"George Martin"), "{suggestions}");
    assert!(
        names.iter().all(|n| n.to_lowercase().contains("ma")),
        "{names:?}"
    );
}

async fn errors_and_hostile_input(base: &str) {
    let cases = [
        ("/api/credits/person/Nobody%20At%20All", 404, None),
        ("/api/credits/person/Nobody%20At%20All/timeline", 404, None),
        ("/api/credits/person/Nobody%20At%20All/profile", 404, None),
        (
            "/api/credits/person/George%20Martin?limit=0",
            400,
            Some("limit"),
        ),
        (
            "/api/credits/person/George%20Martin?limit=10001",
            400,
            Some("limit"),
        ),
        (
            "/api/credits/person/George%20Martin?offset=-1",
            400,
            Some("offset"),
        ),
        ("/api/credits/release/999999999", 404, None),
        ("/api/credits/release/abc", 400, Some("release_id")),
        ("/api/credits/role/conductor/top", 400, Some("role")),
        (
            "/api/credits/role/mastering/top?limit=101",
            400,
            Some("limit"),
        ),
        (
            "/api/credits/shared?person1=John%20Lennon",
            400,
            Some("person2"),
        ),
        (
            "/api/credits/connections/George%20Martin?depth=4",
            400,
            Some("depth"),
        ),
        ("/api/credits/autocomplete?q=g", 400, Some("q")),
        ("/api/credits/autocomplete", 400, Some("q")),
        ("/api/credits/person/a%00b", 400, Some("name")),
    ];
    for (path, status, parameter) in cases {
        let (answered, body) = get_json(base, path).await;
        assert_eq!(answered, status, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
        if let Some(parameter) = parameter {
            assert_eq!(body["parameter"], parameter, "{path}: {body}");
        }
    }
    // A slash inside a name is one path segment when encoded, and quotes and SQL stay text.
    for path in [
        "/api/credits/person/AC%2FDC",
        "/api/credits/person/x'%20OR%20'1'='1",
        "/api/credits/connections/%25",
    ] {
        let (status, body) = get_json(base, path).await;
        assert!(status == 404 || status == 200, "{path}: {status} {body}");
        assert!(body.is_object(), "{path}: {body}");
    }
    let (status, body) = get_json(base, "/api/credits/autocomplete?q=%27%3A*%20%26%20%21").await;
    assert_eq!(
        (status, body["results"].clone()),
        (200, json!([])),
        "{body}"
    );
}

async fn nlq_is_switched_off(base: &str) {
    assert_eq!(ok(base, "/api/nlq/status").await, json!({"enabled": false}));
    assert_eq!(
        ok(base, "/api/nlq/suggestions?pane=credits").await,
        json!({"suggestions": []})
    );
}
