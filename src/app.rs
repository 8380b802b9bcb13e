//! One entry point per subcommand. `main` resolves the configuration and calls exactly one of
//! these; each returns an error with context for `main` to print on one line.

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::cli::RunArgs;
use crate::config::Config;
use crate::shutdown::{self, Shutdown};
use crate::store::{migrate, neo4j::Neo4j, postgres};
use crate::telemetry;

/// `discogs migrate`: both stores' schemas, idempotently.
///
/// # Errors
///
/// A database is unreachable or a migration fails.
pub async fn migrate(config: &Config) -> Result<()> {
    let (pool, neo4j) = connect(config).await?;
    let applied = migrate::postgres(&pool)
        .await
        .context("migrating PostgreSQL")?;
    migrate::neo4j(&neo4j.graph)
        .await
        .context("migrating Neo4j")?;
    tracing::info!(applied = ?applied, "migrations complete");
    Ok(())
}

/// `discogs run`: ingest and/or serve, until done or until SIGINT/SIGTERM.
///
/// # Errors
///
/// Neither part was asked for, a database is unreachable, or the listener cannot bind.
pub async fn run(config: &Config, args: &RunArgs) -> Result<()> {
    if !args.serve {
        bail!("nothing to do: give --serve");
    }
    serve(config).await
}

/// `discogs serve`: the API until SIGINT/SIGTERM.
///
/// The databases need not be up yet: `/ready` reports them until they are, as a service started
/// beside its databases (docker compose, systemd) expects.
///
/// # Errors
///
/// The listener cannot bind.
pub async fn serve(config: &Config) -> Result<()> {
    let state = AppState {
        postgres: postgres::pool(&config.postgres)?,
        neo4j: Neo4j::new(&config.neo4j)?,
        metrics: telemetry::metrics(),
    };
    let listener = TcpListener::bind(config.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (set DISCOGS_LISTEN or --listen)",
            config.listen
        )
    })?;
    let (trigger, shutdown) = Shutdown::new();
    tokio::spawn(async move {
        shutdown::signal().await;
        let _ = trigger.send(true);
    });
    api::serve(listener, state, shutdown.fired())
        .await
        .context("API server failed")
}

/// Connects to both stores, failing with one clear message per unreachable one.
async fn connect(config: &Config) -> Result<(deadpool_postgres::Pool, Neo4j)> {
    let (pool, neo4j) = tokio::join!(
        postgres::connect(&config.postgres),
        Neo4j::connect(&config.neo4j)
    );
    Ok((pool?, neo4j?))
}
