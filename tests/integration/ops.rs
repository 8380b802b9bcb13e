use std::time::Duration;

use serde_json::Value;

use crate::util::{config_for, eventually, get, start_api};

#[tokio::test]
async fn health_and_ready_with_both_databases_up() {
    let base = start_api(&config_for("discogs")).await;
    let (status, body) = get(&format!("{base}/health")).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));

    let (status, body) = get(&format!("{base}/ready")).await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["postgres"]["status"], "ok");
    assert_eq!(body["neo4j"]["status"], "ok");
}

#[tokio::test]
async fn ready_is_503_naming_neo4j_when_it_is_down() {
    let mut config = config_for("discogs");
    // A port nothing listens on: to this process, exactly a stopped Neo4j.
    config.neo4j.uri = "bolt://127.0.0.1:1".into();
    let base = start_api(&config).await;
    let (status, body) = get(&format!("{base}/ready")).await;
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "unavailable: neo4j");
    assert_eq!(body["postgres"]["status"], "ok");
    assert_eq!(body["neo4j"]["status"], "unavailable");
    assert!(
        body["neo4j"]["error"]
            .as_str()
            .unwrap()
            .contains("Connection refused"),
        "{body}"
    );
}

#[tokio::test]
async fn ready_is_503_naming_postgres_when_it_is_down() {
    let mut config = config_for("discogs");
    config.postgres = discogs::config::Config::resolve(
        &discogs::cli::GlobalArgs {
            postgres_url: Some("postgres://postgres@127.0.0.1:1/x".into()),
            ..Default::default()
        },
        &|_| None,
    )
    .unwrap()
    .postgres;
    let base = start_api(&config).await;
    let (status, body) = get(&format!("{base}/ready")).await;
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"], "unavailable: postgres");
    assert_eq!(body["neo4j"]["status"], "ok");
}

#[tokio::test]
async fn metrics_count_requests_by_route() {
    let base = start_api(&config_for("discogs")).await;
    get(&format!("{base}/health")).await;
    assert!(
        eventually(Duration::from_secs(5), async || {
            let (status, body) = get(&format!("{base}/metrics")).await;
            status == 200
                && body.contains(r#"discogs_http_requests_total{route="/health",status="200"}"#)
        })
        .await,
        "/metrics shows the /health request"
    );
}

#[tokio::test]
async fn serve_stops_gracefully_on_sigterm() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_discogs"))
        .args(["serve", "--listen", &address.to_string()])
        .current_dir(std::env::temp_dir())
        .spawn()
        .unwrap();
    let base = format!("http://{address}");
    assert!(
        eventually(Duration::from_secs(10), async || {
            tokio::net::TcpStream::connect(address).await.is_ok()
        })
        .await
    );
    assert_eq!(get(&format!("{base}/health")).await.0, 200);
    // SAFETY-free: kill(1) is the portable way to send SIGTERM without a libc dependency.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(exit.success(), "serve exits 0 after SIGTERM: {exit:?}");
}
