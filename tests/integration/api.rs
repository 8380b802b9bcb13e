//! Catalogue routes over real PostgreSQL, loaded with the sample dump's canonical records.

use discogs::extract::{Extractor, Options};
use discogs::record::Kind;
use discogs::store::{migrate, postgres, records};
use serde_json::Value;

use crate::util::{fixture, fresh_database, get, request, start_api};

/// A fresh database holding the tgmz sample's records (no graph needed for these routes).
async fn loaded_api(name: &str) -> String {
    let config = fresh_database(name).await;
    let pool = postgres::connect(&config.postgres).await.unwrap();
    migrate::postgres(&pool).await.unwrap();
    for kind in Kind::ALL {
        let mut extractor = Extractor::open(
            &fixture(&format!("tgmz/discogs_{kind}.xml.gz")),
            &Options::default(),
        )
        .unwrap();
        let mut canonical = Vec::new();
        while let Some(batch) = extractor.next_batch().unwrap() {
            canonical.extend(batch.records);
        }
        let inserts: Vec<_> = canonical.iter().collect();
        records::write(
            &mut pool.get().await.unwrap(),
            kind,
            1,
            &inserts,
            &[],
            false,
        )
        .await
        .unwrap();
    }
    start_api(&config).await
}

#[tokio::test]
async fn records_by_id_return_the_canonical_json() {
    let base = loaded_api("test_api_records").await;
    let (status, body) = get(&format!("{base}/api/artists/32")).await;
    assert_eq!(status, 200, "{body}");
    let artist: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(artist["name"], "Jay Denes");
    assert_eq!(artist["aliases"][0]["id"], 33);

    let (status, body) = get(&format!("{base}/api/releases/2460568")).await;
    assert_eq!(status, 200);
    let release: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(release["title"], "Memories - The '68 Comeback Special");
    assert_eq!(release["master_id"], 633895);

    let (status, body) = get(&format!("{base}/api/labels/240")).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["parent_label"]["id"],
        157
    );

    let (status, body) = get(&format!("{base}/api/masters/18080")).await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["title"],
        "Violator"
    );
}

#[tokio::test]
async fn unknown_ids_are_404_and_bad_ids_are_400_naming_the_parameter() {
    let base = loaded_api("test_api_errors").await;
    let (status, body) = get(&format!("{base}/api/labels/999999999")).await;
    assert_eq!(
        (status, body.as_str()),
        (404, r#"{"error":"label 999999999 not found"}"#)
    );

    for bad in [
        "abc",
        "-1",
        "0",
        "1%27%20OR%201%3D1",
        "99999999999999999999999",
        &"9".repeat(10_000),
    ] {
        let (status, body) = get(&format!("{base}/api/masters/{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["parameter"], "id", "{bad}");
    }
}

#[tokio::test]
async fn every_error_answer_is_json_including_the_frameworks_own() {
    let base = loaded_api("test_api_json_errors").await;
    let error_of = |status: u16, body: &str| -> String {
        let answer: Value = serde_json::from_str(body)
            .unwrap_or_else(|_| panic!("a {status} that is not JSON: {body:?}"));
        answer["error"].as_str().unwrap_or_default().to_owned()
    };
    for (path, expected) in [
        ("/api/artists/", "no route /api/artists/"),
        ("/api/node/", "no route /api/node/"),
        ("/api/no-such-thing?q=1", "no route /api/no-such-thing"),
    ] {
        let (status, body) = get(&format!("{base}{path}")).await;
        assert_eq!((status, error_of(status, &body).as_str()), (404, expected));
    }
    let (status, body) = request("POST", &format!("{base}/api/artists/32"), &[]).await;
    assert_eq!(
        (status, error_of(status, &body).as_str()),
        (405, "POST is not allowed on /api/artists/32")
    );
    for path in ["/api/node/%ED%A0%80?type=artist", "/api/artists/%FF"] {
        let (status, body) = get(&format!("{base}{path}")).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(!error_of(status, &body).is_empty(), "{path}: {body}");
    }
}

#[tokio::test]
async fn a_request_over_the_time_limit_is_a_json_503_and_the_server_keeps_answering() {
    let mut config = fresh_database("test_api_time_limit").await;
    let pool = postgres::connect(&config.postgres).await.unwrap();
    migrate::postgres(&pool).await.unwrap();
    config.request_timeout = std::time::Duration::from_micros(1);
    let base = start_api(&config).await;
    let (status, body) = get(&format!("{base}/api/search?q=love")).await;
    assert_eq!(status, 503, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        error["error"],
        "no answer within 0.000001 s; try again, or ask a narrower question"
    );
    // What answers at once still does.
    assert_eq!(get(&format!("{base}/health")).await.0, 200);
}

/// The API's sessions do without JIT compilation, which the server would start for a statement
/// about a hub and which costs more than the statement; the ingest's keep the server's default.
#[tokio::test]
async fn api_sessions_run_without_jit_and_keep_the_options_they_were_given() {
    let mut config = crate::util::config_for("discogs");
    let jit = |pool: deadpool_postgres::Pool| async move {
        let client = pool.get().await.unwrap();
        let row = client
            .query_one(
                "SELECT current_setting('jit'), current_setting('application_name')",
                &[],
            )
            .await
            .unwrap();
        (row.get::<_, String>(0), row.get::<_, String>(1))
    };
    let server_default = jit(postgres::pool(&config.postgres).unwrap()).await.0;
    assert_eq!(server_default, "on");
    config
        .postgres
        .connection
        .options("-c application_name=replica-7");
    assert_eq!(
        jit(postgres::api_pool(&config.postgres).unwrap()).await,
        ("off".to_owned(), "replica-7".to_owned())
    );
}
