//! Shared test helpers: configurations pointing at the test databases, a fresh PostgreSQL database
//! per test, the Neo4j lock, and running the built binary.

use std::process::{Command, Output};
use std::sync::LazyLock;
use std::time::Duration;

use discogs::cli::GlobalArgs;
use discogs::config::Config;
use tokio::sync::{Mutex, MutexGuard};

/// The PostgreSQL server the tests use; each test gets its own database on it.
pub fn postgres_url() -> String {
    std::env::var("POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/discogs".into())
}

pub fn neo4j_uri() -> String {
    std::env::var("NEO4J_URI").unwrap_or_else(|_| "bolt://127.0.0.1:7687".into())
}

/// A configuration from built-in defaults plus the test servers; no config file is read.
pub fn config_for(database: &str) -> Config {
    let args = GlobalArgs {
        postgres_url: Some(with_database(&postgres_url(), database)),
        neo4j_uri: Some(neo4j_uri()),
        ..Default::default()
    };
    Config::resolve(&args, &|_| None).expect("test configuration resolves")
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let base = url.rsplit_once('/').map_or(url, |(base, _)| base);
    format!("{base}/{database}")
}

/// Drops and recreates database `name`, so each test starts from nothing.
pub async fn fresh_database(name: &str) -> Config {
    let (client, connection) = tokio_postgres::connect(
        &with_database(&postgres_url(), "postgres"),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap_or_else(|e| {
        panic!(
            "PostgreSQL at {} is not reachable; run scripts/services.sh up: {e}",
            postgres_url()
        )
    });
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    config_for(name)
}

/// Neo4j Community has one database, so tests that touch it take turns.
pub async fn neo4j_lock() -> MutexGuard<'static, ()> {
    static LOCK: LazyLock<Mutex<()>> = LazyLock::new(|| Mutex::new(()));
    LOCK.lock().await
}

/// The `discogs` binary built for these tests, with a clean environment for its settings.
pub fn discogs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_discogs"))
        .args(args)
        .env_remove("NEO4J_URI")
        .env_remove("POSTGRES_URL")
        .env_remove("DISCOGS_CONFIG")
        .env("RUST_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("discogs binary runs")
}

/// Polls `probe` until it returns true or `timeout` passes.
pub async fn eventually(timeout: Duration, mut probe: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while tokio::time::Instant::now() < deadline {
        if probe().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}
