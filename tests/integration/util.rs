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

/// Removes everything from the (single) Neo4j database and applies the constraints. Callers hold
/// [`neo4j_lock`].
pub async fn fresh_graph(config: &Config) -> discogs::store::neo4j::Neo4j {
    let neo4j = discogs::store::neo4j::Neo4j::connect(&config.neo4j)
        .await
        .unwrap_or_else(|e| panic!("Neo4j is not reachable; run scripts/services.sh up: {e}"));
    neo4j
        .graph
        .run(neo4rs::query(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
        ))
        .await
        .unwrap();
    discogs::store::migrate::neo4j(&neo4j.graph).await.unwrap();
    neo4j
}

/// The whole graph as sorted lines, one per node and one per relationship, keyed by node keys:
/// two graphs with equal snapshots hold the same nodes, properties (with their types) and
/// relationships.
pub async fn graph_snapshot(graph: &neo4rs::Graph) -> Vec<String> {
    let mut lines = Vec::new();
    for statement in [
        "MATCH (n) WHERE NOT n:SchemaMigration AND NOT n:GraphPairing
         WITH n, [k IN keys(n) | k + '=' + CASE WHEN valueType(n[k]) STARTS WITH 'LIST'
                 THEN reduce(s = '', x IN n[k] | s + toString(x) + ',') ELSE toString(n[k]) END
                 + ':' + valueType(n[k])] AS props
         RETURN labels(n)[0] + ' ' + apoc_free_sort(props) AS line",
        "MATCH (a)-[r]->(b)
         WITH a, r, b, [k IN keys(r) | k + '=' + toString(r[k]) + ':' + valueType(r[k])] AS props
         RETURN labels(a)[0] + ':' + toString(coalesce(a.id, a.name)) + ' -' + type(r) + ' ' + apoc_free_sort(props) + '-> '
                + labels(b)[0] + ':' + toString(coalesce(b.id, b.name)) AS line",
    ] {
        // Cypher has no built-in list sort without APOC; sort the property list by unwinding it.
        let statement = statement.replace(
            "apoc_free_sort(props)",
            "reduce(s = '', p IN COLLECT { UNWIND props AS p RETURN p ORDER BY p } | s + p + ';')",
        );
        let mut rows = graph.execute(neo4rs::query(&statement)).await.unwrap();
        while let Some(row) = rows.next().await.unwrap() {
            lines.push(row.get::<String>("line").unwrap());
        }
    }
    lines.sort();
    lines
}

/// Asserts two graph snapshots are equal, showing the first lines only one of them has.
pub fn assert_same_graph(left: (&str, &[String]), right: (&str, &[String])) {
    if left.1 == right.1 {
        return;
    }
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter()
            .filter(|l| !b.contains(l))
            .take(10)
            .cloned()
            .collect()
    };
    panic!(
        "graphs differ\nonly {}: {:#?}\nonly {}: {:#?}",
        left.0,
        only(left.1, right.1),
        right.0,
        only(right.1, left.1)
    );
}

/// Every record table as sorted `kind id hash` lines, then the rows of the tables derived from them.
pub async fn postgres_snapshot(pool: &deadpool_postgres::Pool) -> Vec<String> {
    let client = pool.get().await.unwrap();
    let mut lines = Vec::new();
    for table in ["artists", "labels", "masters", "releases"] {
        let rows = client
            .query(
                &format!("SELECT id, encode(hash, 'hex'), data::text FROM {table} ORDER BY id"),
                &[],
            )
            .await
            .unwrap();
        for row in rows {
            let (id, hash, data): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
            lines.push(format!("{table} {id} {hash} {data}"));
        }
    }
    // What the ingest derives in PostgreSQL from the records: the credits, their counts, the
    // insights, the label and artist profiles.
    for (table, order) in [
        ("credits", "release_id, name, role"),
        ("credits_pending", "release_id, name, role"),
        ("people", "name"),
        ("person_categories", "name, category"),
        ("credits_delta", "name, category, credits"),
        ("insight_top_artists", "rank"),
        ("insight_label_longevity", "rank"),
        ("insight_anniversaries", "rank"),
        ("insight_completeness", "entity_type"),
        ("label_profiles", "label_id"),
        ("label_styles", "label_id, style"),
        ("label_genres", "label_id, genre"),
        ("artist_profiles", "artist_id"),
        ("artist_genres", "artist_id, genre"),
        ("artist_styles", "artist_id, style"),
        ("tag_years", "style, tag, year"),
        ("tag_records", "style, tag"),
        ("genre_styles", "genre, style"),
        (
            "facts_journal",
            "sign, master, year, artists, labels, genres, styles, formats",
        ),
        ("artist_collaborations", "artist_id, other_id"),
        ("artist_labels", "artist_id, label_id"),
        ("collaboration_years", "artist_id, other_id"),
        ("release_tags", "style, tag, year DESC, release_id"),
        ("release_artists", "artist_id, year DESC, release_id"),
        ("release_labels", "label_id, year DESC, release_id"),
    ] {
        let rows = client
            .query(
                &format!("SELECT row_to_json(t)::text FROM {table} t ORDER BY {order}"),
                &[],
            )
            .await
            .unwrap();
        for row in rows {
            lines.push(format!("{table} {}", row.get::<_, String>(0)));
        }
    }
    lines
}

/// The path of a fixture file or directory.
pub fn fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("discogs-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Serves the API on a free port over the given config; returns its base URL.
pub async fn start_api(config: &discogs::config::Config) -> String {
    let state = discogs::api::AppState::new(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(discogs::api::serve(listener, state, std::future::pending()));
    base
}

/// A minimal HTTP/1.1 GET over a fresh connection: status and JSON-or-text body.
pub async fn get(url: &str) -> (u16, String) {
    request("GET", url, &[]).await
}

/// [`get`] with any method and extra header lines (`"Name: value"`).
pub async fn request(method: &str, url: &str, headers: &[&str]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let extra: String = headers.iter().map(|h| format!("{h}\r\n")).collect();
    stream
        .write_all(
            format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response[9..12].parse().unwrap();
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Starts the `discogs` binary with `args` against `config`'s databases, logging at info level;
/// its log lines (stderr) arrive on the returned channel.
pub fn spawn_discogs(
    config: &Config,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_discogs"))
        .args(args)
        .args([
            "--postgres-url",
            &with_database(
                &postgres_url(),
                config.postgres.connection.get_dbname().unwrap(),
            ),
        ])
        .args(["--neo4j-uri", &config.neo4j.uri])
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .env_remove("DISCOGS_CONFIG")
        .current_dir(std::env::temp_dir())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    (child, receiver)
}
