//! `discogs run --ingest --serve`: the API answers while the ingest runs, and answers with the
//! new data as soon as an ingest completes, its own or another process's.

use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::pipeline::{ingest_dir, modified_sample};
use crate::util::{
    eventually, fixture, fresh_database, fresh_graph, get, neo4j_lock, spawn_discogs, start_api,
    temp_dir, with_database,
};

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn get_json(url: &str) -> (u16, Value) {
    let (status, body) = get(url).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Drains the log lines that have arrived; true once one contains `text`.
fn logged(log: &Receiver<String>, lines: &mut Vec<String>, text: &str) -> bool {
    lines.extend(log.try_iter());
    lines.iter().any(|line| line.contains(text))
}

#[tokio::test]
async fn the_api_answers_during_an_ingest_and_with_new_data_right_after() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_freshness").await;
    fresh_graph(&config).await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let sample = fixture("xml2db").display().to_string();
    // Small batches stretch the ingest over many transactions, so there is a "during".
    let (mut server, log) = spawn_discogs(
        &config,
        &[
            "run",
            "--ingest",
            "--serve",
            "--listen",
            &listen,
            "--data-dir",
            &sample,
        ],
        &[("POSTGRES_BATCH_SIZE", "50"), ("NEO4J_BATCH_SIZE", "25")],
    );

    let mut lines = Vec::new();
    let mut answered_during_ingest = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    while !logged(&log, &mut lines, "ingest finished") {
        assert!(
            Instant::now() < deadline,
            "ingest did not finish:\n{}",
            lines.join("\n")
        );
        if let Some(status) = server.try_wait().unwrap() {
            panic!("discogs exited ({status}):\n{}", lines.join("\n"));
        }
        // Once the server listens, every answer during the ingest is a real one, never a 5xx.
        if logged(&log, &mut lines, "API listening") {
            for path in [
                "/health",
                "/api/graph/stats",
                "/api/search?q=love",
                "/api/genre-tree",
            ] {
                let (status, body) = get_json(&format!("{base}{path}")).await;
                assert_eq!(status, 200, "{path} during the ingest: {body}");
            }
            answered_during_ingest += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        answered_during_ingest >= 3,
        "only {answered_during_ingest} rounds of requests during the ingest"
    );

    // The first answers after the ingest hold all of it, though the same requests were cached
    // while it ran.
    let (_, stats) = get_json(&format!("{base}/api/graph/stats")).await;
    assert_eq!(stats["counts"]["releases"], 1000, "{stats}");
    let (_, search) = get_json(&format!("{base}/api/search?q=love")).await;
    assert_eq!(search["total"], 42, "{search}");

    // A month later another process ingests the next dump while this one serves: a new artist
    // and retitled records appear at once after it completes.
    let newcomer = format!("{base}/api/explore?name=Newcomer");
    let retitled = format!("{base}/api/search?q=remastered");
    assert_eq!(get_json(&newcomer).await.0, 404);
    let before = get_json(&retitled).await.1["facets"]["type"].clone();
    let next_month = temp_dir("freshness-next");
    modified_sample(&next_month);
    let (mut ingest, next_log) = spawn_discogs(
        &config,
        &["ingest", "--data-dir", &next_month.display().to_string()],
        &[],
    );
    let status = ingest.wait().unwrap();
    let next_lines: Vec<String> = next_log.iter().collect();
    assert!(status.success(), "{}", next_lines.join("\n"));
    let (status, explored) = get_json(&newcomer).await;
    assert_eq!(status, 200, "{explored}");
    assert_eq!(explored["categories"][0]["count"], 1, "{explored}");
    let after = get_json(&retitled).await.1["facets"]["type"].clone();
    for kind in ["master", "release"] {
        assert_eq!(
            after[kind].as_i64(),
            before[kind].as_i64().map(|n| n + 1),
            "{kind}: {before} then {after}"
        );
    }

    server.kill().unwrap();
    server.wait().unwrap();
}

/// The replica that `scripts/services.sh replica` starts, streaming from the test server.
fn replica_url() -> String {
    std::env::var("POSTGRES_REPLICA_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5433/discogs".into())
}

/// Connects to database `name` on the replica, once its base backup or replay has created it.
async fn replica_client(name: &str) -> tokio_postgres::Client {
    let url = with_database(&replica_url(), name);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
            Ok((client, connection)) => {
                tokio::spawn(connection);
                return client;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => {
                panic!(
                    "replica at {url} is not reachable; run scripts/services.sh replica: {error}"
                )
            }
        }
    }
}

#[tokio::test]
async fn answers_read_from_a_lagging_replica_are_never_cached_under_a_newer_generation() {
    let _guard = neo4j_lock().await;
    let mut config = fresh_database("test_replica").await;
    fresh_graph(&config).await;
    ingest_dir(&config, &fixture("xml2db"), false)
        .await
        .unwrap();
    let primary = discogs::store::postgres::connect(&config.postgres)
        .await
        .unwrap();
    let generation = discogs::store::bookkeeping::generation(&primary)
        .await
        .unwrap();
    let replica = replica_client("test_replica").await;
    let replayed = async || -> i64 {
        replica
            .query_one("SELECT generation FROM ingest_generation", &[])
            .await
            .map_or(-1, |row| row.get(0))
    };
    assert!(
        eventually(Duration::from_secs(30), async || replayed().await
            == generation)
        .await,
        "the replica never reached generation {generation}"
    );
    let read_url = with_database(&replica_url(), "test_replica");
    config.postgres.replica = Some(discogs::config::PostgresReplica {
        connection: read_url.parse().unwrap(),
        url_redacted: read_url.clone(),
    });
    let base = start_api(&config).await;
    let (status, ready) = get_json(&format!("{base}/ready")).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        ready["postgres_replica"]["generations_behind"], 0,
        "{ready}"
    );
    let person = format!("{base}/api/credits/person/George%20Martin");
    let (status, before) = get_json(&person).await;
    assert_eq!((status, before["total_credits"].as_i64()), (200, Some(15)));

    // The replica stops replaying; an ingest on the primary completes a new generation.
    replica
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .unwrap();
    primary
        .get()
        .await
        .unwrap()
        .batch_execute(
            "DELETE FROM credits WHERE name = 'George Martin' AND role = 'Harmonium';
             UPDATE ingest_generation SET generation = generation + 1",
        )
        .await
        .unwrap();
    let (status, lagging) = get_json(&person).await;
    assert_eq!(status, 503, "answered from the old data: {lagging}");
    assert!(
        lagging["error"]
            .as_str()
            .is_some_and(|error| error.contains(&format!(
                "replayed generation {generation}, the primary is at {}",
                generation + 1
            ))),
        "{lagging}"
    );
    let (status, ready) = get_json(&format!("{base}/ready")).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(
        ready["postgres_replica"]["generations_behind"], 1,
        "{ready}"
    );

    // Once it replays, the new generation's answer is the new data's.
    replica
        .batch_execute("SELECT pg_wal_replay_resume()")
        .await
        .unwrap();
    let (status, after) = get_json(&person).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(
        after["total_credits"], 15,
        "people's counts are the ingest's: {after}"
    );
    let harmonium = |body: &Value| {
        body["credits"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|credit| credit["role"] == "Harmonium")
            .count()
    };
    assert_eq!((harmonium(&before), harmonium(&after)), (2, 0), "{after}");

    // A replica that cannot be reached says so.
    config.postgres.replica = Some(discogs::config::PostgresReplica {
        connection: "postgres://postgres@127.0.0.1:1/x".parse().unwrap(),
        url_redacted: "postgres://postgres@127.0.0.1:1/x".into(),
    });
    let unreachable = start_api(&config).await;
    let (status, ready) = get_json(&format!("{unreachable}/ready")).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(
        ready["postgres_replica"]["status"], "unavailable",
        "{ready}"
    );
    assert_eq!(ready["postgres"]["status"], "ok", "{ready}");
}

/// Each path's status and body from the API at `base`.
async fn answers(base: &str, paths: &[&str]) -> Vec<(u16, String)> {
    let mut answers = Vec::new();
    for path in paths {
        answers.push(get(&format!("{base}{path}")).await);
    }
    answers
}

#[tokio::test]
async fn two_serve_replicas_answer_alike_before_during_and_after_another_process_ingests() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_replicas").await;
    fresh_graph(&config).await;
    ingest_dir(&config, &fixture("xml2db"), false)
        .await
        .unwrap();
    let mut servers = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..2 {
        let listen = format!("127.0.0.1:{}", free_port());
        // With its log receiver kept: a closed stderr pipe would end the server.
        servers.push(spawn_discogs(&config, &["serve", "--listen", &listen], &[]));
        bases.push(format!("http://{listen}"));
    }
    for base in &bases {
        let ready = eventually(Duration::from_secs(60), async || {
            tokio::net::TcpStream::connect(base.trim_start_matches("http://"))
                .await
                .is_ok()
                && get(&format!("{base}/ready")).await.0 == 200
        })
        .await;
        assert!(ready, "{base} never became ready");
    }
    let paths = [
        "/api/search?q=remastered",
        "/api/graph/stats",
        "/api/credits/person/George%20Martin",
        "/api/genre-tree",
    ];
    let before = answers(&bases[0], &paths).await;
    assert!(
        before.iter().all(|(status, _)| *status == 200),
        "{before:?}"
    );
    assert_eq!(answers(&bases[1], &paths).await, before);

    // A third process ingests the next month in small batches; until it completes, both serve
    // the answers of the generation they were computed in.
    let next_month = temp_dir("replicas-next");
    modified_sample(&next_month);
    let (mut ingest, _log) = spawn_discogs(
        &config,
        &["ingest", "--data-dir", &next_month.display().to_string()],
        &[("POSTGRES_BATCH_SIZE", "50"), ("NEO4J_BATCH_SIZE", "25")],
    );
    let primary = discogs::store::postgres::connect(&config.postgres)
        .await
        .unwrap();
    let generation = async || {
        discogs::store::bookkeeping::generation(&primary)
            .await
            .unwrap()
    };
    let old_generation = generation().await;
    let mut rounds = 0;
    while ingest.try_wait().unwrap().is_none() {
        let during = [
            answers(&bases[0], &paths).await,
            answers(&bases[1], &paths).await,
        ];
        // The process goes on for a moment after the new generation is in.
        if generation().await != old_generation {
            break;
        }
        assert_eq!(
            during,
            [before.clone(), before.clone()],
            "during the ingest"
        );
        rounds += 1;
    }
    assert!(ingest.wait().unwrap().success());
    assert!(rounds >= 1, "no request was made during the ingest");

    // After it, both answer the new generation, alike.
    let after = answers(&bases[0], &paths).await;
    assert_ne!(after[0], before[0], "the retitled records are not found");
    assert_eq!(answers(&bases[1], &paths).await, after);
    for (mut server, _log) in servers {
        server.kill().unwrap();
        server.wait().unwrap();
    }
}

/// Through a routing URI the API's graph reads carry the bookmark the latest ingest published
/// (taken on the leader once its writes were in), so that a cluster member behind those writes
/// never answers them; a bookmark the server rejects (a graph wiped and loaded by hand since)
/// does not take the graph routes down.
#[tokio::test]
async fn graph_reads_through_a_routing_uri_carry_the_bookmark_the_ingest_published() {
    let _guard = neo4j_lock().await;
    let mut config = fresh_database("test_bookmark").await;
    let (_, address) = config.neo4j.uri.split_once("://").unwrap();
    config.neo4j.uri = format!("neo4j://{address}");
    fresh_graph(&config).await;
    ingest_dir(&config, &fixture("xml2db"), false)
        .await
        .unwrap();
    let primary = discogs::store::postgres::connect(&config.postgres)
        .await
        .unwrap();
    let published = discogs::store::bookkeeping::published(&primary)
        .await
        .unwrap();
    let bookmark = published.graph_bookmark.unwrap_or_default();
    assert!(!bookmark.is_empty(), "no bookmark published");

    let base = start_api(&config).await;
    let blue_six = format!("{base}/api/explore?name=Blue%20Six&type=artist");
    let (status, explored) = get_json(&blue_six).await;
    assert_eq!(status, 200, "{explored}");
    assert_eq!(explored["center"]["id"], "33", "{explored}");

    // Another generation with a bookmark no server issued, which the server refuses outright: the
    // API's reads fall back to none.
    let graph = discogs::store::neo4j::Neo4j::connect(&config.neo4j)
        .await
        .unwrap()
        .graph;
    let refused = async {
        let mut txn = graph
            .start_txn_as(
                neo4rs::Operation::Read,
                Some(vec!["FB:not-a-bookmark".to_owned()]),
            )
            .await?;
        txn.run(neo4rs::query("RETURN 1")).await?;
        txn.commit().await
    }
    .await;
    assert!(
        matches!(&refused, Err(neo4rs::Error::Neo4j(e)) if e.code().contains("Bookmark")),
        "{refused:?}"
    );
    primary
        .get()
        .await
        .unwrap()
        .batch_execute(
            "UPDATE ingest_generation
             SET generation = generation + 1, graph_bookmark = 'FB:not-a-bookmark'",
        )
        .await
        .unwrap();
    let (status, again) = get_json(&blue_six).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, explored);

    // The next month's ingest writes the graph and publishes the bookmark it left.
    let next_month = temp_dir("bookmark-next");
    modified_sample(&next_month);
    ingest_dir(&config, &next_month, false).await.unwrap();
    let republished = discogs::store::bookkeeping::published(&primary)
        .await
        .unwrap()
        .graph_bookmark
        .unwrap_or_default();
    assert!(
        !republished.is_empty() && republished != "FB:not-a-bookmark" && republished != bookmark,
        "{republished} after {bookmark}"
    );
    let (status, newcomer) = get_json(&format!("{base}/api/explore?name=Newcomer")).await;
    assert_eq!(status, 200, "{newcomer}");
}
