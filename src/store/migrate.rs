//! Applies `migrations/` to both stores, idempotently.
//!
//! The migration files are embedded in the binary, so a deployed `discogs` needs no source tree.
//! PostgreSQL files run once each, in order, each in its own transaction together with the row
//! that records it; a session-level advisory lock keeps two processes from migrating at once.
//! Neo4j statements are all `IF NOT EXISTS` and run every time.

use deadpool_postgres::Pool;
use neo4rs::{Graph, query};
use tracing::info;

use super::{neo4j, postgres};

/// A numbered migration file, embedded at compile time.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub text: &'static str,
}

macro_rules! migration {
    ($version:literal, $file:literal) => {
        Migration {
            version: $version,
            name: $file,
            text: include_str!(concat!("../../migrations/", $file)),
        }
    };
}

/// PostgreSQL migrations, in order. `migrations_list_matches_the_folder` keeps this in step.
pub const POSTGRES: &[Migration] = &[
    migration!(1, "0001_records.sql"),
    migration!(2, "0002_search.sql"),
    migration!(3, "0003_ingest_state.sql"),
    migration!(4, "0004_graph_pairing.sql"),
    migration!(5, "0005_search_facets.sql"),
    migration!(6, "0006_aggregates_version.sql"),
    migration!(7, "0007_aggregate_facts.sql"),
    migration!(8, "0008_lz4_records.sql"),
    migration!(9, "0009_credits.sql"),
    migration!(10, "0010_insights.sql"),
    migration!(11, "0011_profiles.sql"),
    migration!(12, "0012_credits_by_person.sql"),
    migration!(13, "0013_credits_counted_from_index.sql"),
    migration!(14, "0014_graph_bookmark.sql"),
    migration!(15, "0015_release_tags.sql"),
    migration!(16, "0016_artist_labels.sql"),
    migration!(17, "0017_release_pages.sql"),
    migration!(18, "0018_collaboration_years.sql"),
    migration!(19, "0019_aggregate_counts.sql"),
    migration!(20, "0020_cheaper_facet_functions.sql"),
    migration!(21, "0021_graph_digests.sql"),
    migration!(22, "0022_credits_pending.sql"),
    migration!(23, "0023_release_titles.sql"),
];

/// Neo4j constraint and index scripts, in order.
pub const NEO4J: &[Migration] = &[
    migration!(1, "neo4j/0001_constraints.cypher"),
    migration!(2, "neo4j/0002_stub_names.cypher"),
];

/// Arbitrary key for `pg_advisory_lock`, shared by every discogs process.
const MIGRATION_LOCK_KEY: i64 = 0x0064_6973_636f_6773; // "discogs"

/// Applies the PostgreSQL migrations not yet recorded; returns the versions applied now.
///
/// # Errors
///
/// A connection failure or a failing statement; the failing file's transaction is rolled back.
pub async fn postgres(pool: &Pool) -> postgres::Result<Vec<i32>> {
    let mut client = pool.get().await?;
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                version    INTEGER PRIMARY KEY,
                name       TEXT NOT NULL,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    let result = apply_pending(&mut client).await;
    // Unlock even after a failure: the connection goes back to the pool and would keep the lock.
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    result
}

async fn apply_pending(client: &mut deadpool_postgres::Object) -> postgres::Result<Vec<i32>> {
    let applied: Vec<i32> = client
        .query("SELECT version FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
    let mut now_applied = Vec::new();
    for migration in POSTGRES.iter().filter(|m| !applied.contains(&m.version)) {
        let tx = client.transaction().await?;
        tx.batch_execute(migration.text).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
            &[&migration.version, &migration.name],
        )
        .await?;
        tx.commit().await?;
        info!(
            version = migration.version,
            name = migration.name,
            "applied postgres migration"
        );
        now_applied.push(migration.version);
    }
    Ok(now_applied)
}

/// Creates the Neo4j constraints and indexes that are missing and records each script's version.
///
/// # Errors
///
/// A failing statement.
pub async fn neo4j(graph: &Graph) -> neo4j::Result<()> {
    for migration in NEO4J {
        for statement in cypher_statements(migration.text) {
            graph.run(query(&statement)).await?;
        }
        graph
            .run(
                query("MERGE (m:SchemaMigration {version: $version}) ON CREATE SET m.name = $name")
                    .param("version", i64::from(migration.version))
                    .param("name", migration.name),
            )
            .await?;
    }
    info!(
        scripts = NEO4J.len(),
        "neo4j constraints and indexes in place"
    );
    Ok(())
}

/// Waits (up to an hour) until every Neo4j index is online: after [`neo4j`] on a freshly imported
/// graph they are still being populated, and queries meanwhile would scan.
///
/// # Errors
///
/// A query failed, or the indexes took longer.
pub async fn await_neo4j_indexes(graph: &Graph) -> neo4j::Result<()> {
    graph.run(query("CALL db.awaitIndexes(3600)")).await?;
    Ok(())
}

/// Splits a Cypher script into statements: `;` ends one, `//` starts a comment line.
fn cypher_statements(script: &str) -> Vec<String> {
    let without_comments: String = script
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    without_comments
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_list_matches_the_folder() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        on_disk.sort();
        let listed: Vec<&str> = POSTGRES.iter().map(|m| m.name).collect();
        assert_eq!(on_disk, listed);
        for (index, migration) in POSTGRES.iter().enumerate() {
            assert_eq!(
                migration.version as usize,
                index + 1,
                "versions are numbered without gaps"
            );
            assert!(
                migration
                    .name
                    .starts_with(&format!("{:04}_", migration.version))
            );
        }
    }

    #[test]
    fn cypher_scripts_split_into_statements() {
        let statements = cypher_statements("// c\nCREATE A;\n\nCREATE B\n  X;\n// end\n");
        assert_eq!(statements, ["CREATE A", "CREATE B\n  X"]);
        assert_eq!(cypher_statements(NEO4J[0].text).len(), 11);
    }
}
