//! Where the graph stage writes, as one component: Bolt transactions, or the CSV files of a bulk
//! import for a graph built from scratch. The graph writer owns it by value and hands it back when
//! its file is done; writes, deletions and the finish step (import, schema, aggregates, the
//! version marked done, pairing) are its methods, so no caller asks which kind it is.

use std::path::PathBuf;
use std::time::Instant;

use deadpool_postgres::Pool;
use neo4rs::Graph;

use super::pipeline::GraphWork;
use crate::record::Kind;
use crate::store::bookkeeping::{self, FileRun};
use crate::store::graph::aggregates::{self, Aggregates, Tally};
use crate::store::graph::bulk::{self, Export, ExportError, ImportError};
use crate::store::graph::{self, GraphRecord, stubs};
use crate::store::{self, deltas, facts, insights, migrate, neo4j, postgres, profiles};

/// Why a graph write, deletion or finish failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Neo4j(#[from] neo4j::Error),
    #[error(transparent)]
    Postgres(#[from] postgres::Error),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    StubNames(#[from] store::Error),
    #[error("graph export task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// The graph side of an ingest.
pub struct GraphSink {
    graph: Graph,
    pool: Pool,
    /// The token to mark the graph with once it is complete, when it is being built from scratch.
    pairing: Option<String>,
    target: Target,
}

enum Target {
    /// Bolt transactions, each batch checkpointed in PostgreSQL once committed. A graph rebuilt
    /// from scratch (`tally`) has its aggregates counted as its records pass.
    Bolt { tally: Option<Box<Tally>> },
    /// CSV files for `neo4j-admin database import`, for every file of the dump, aggregates
    /// included. No checkpoints:
    /// the graph gets nothing until all files are through, and an interrupted export starts over
    /// (the graph is still unpaired, so the next run rebuilds it).
    Bulk(Box<BulkImport>),
}

struct BulkImport {
    export: Export,
    command: String,
    dir: PathBuf,
    /// The marker the export carries, by which the import is known to have replaced the graph.
    token: String,
}

/// What [`GraphSink::finish`] does with the aggregates of a graph that was already there (one
/// built from scratch always gets them all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregation {
    /// Nothing changed since they were written.
    Keep,
    /// Move the kept counts by the update's journal; write what it touched.
    Update,
    /// Their definitions changed since they were written: recompute all of them over the graph.
    Recompute,
}

/// What [`GraphSink::finish`] did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Finished {
    /// Seconds spent loading the graph with the import tool (0 through Bolt).
    pub import_seconds: f64,
    /// Seconds spent on the aggregates: the export's last pass (bulk), writing a rebuild's tally
    /// (Bolt), reading an update's back from the counts it moved and writing what it touched, or
    /// recomputing them over the graph; 0 when not asked to.
    pub aggregate_seconds: f64,
    /// Seconds spent writing the label and artist profiles and kept counts (beside the import,
    /// for a bulk load), or moving them by an update's journal.
    pub profile_seconds: f64,
    /// Seconds spent computing the insights (0 when nothing changed).
    pub insight_seconds: f64,
    /// Seconds PostgreSQL's own last step took (beside the import, for a bulk load).
    pub postgres_seconds: f64,
    /// The generation after the version was marked done.
    pub generation: i64,
}

impl GraphSink {
    /// Writes to the graph Neo4j holds, which is current, or (with `pairing`) was emptied to be
    /// rebuilt through Bolt.
    pub fn bolt(graph: Graph, pool: Pool, pairing: Option<String>) -> GraphSink {
        GraphSink {
            graph,
            pool,
            target: Target::Bolt {
                tally: pairing.is_some().then(Box::default),
            },
            pairing,
        }
    }

    /// Builds the graph from scratch as CSV files in `dir` for `command` to import; `pairing`
    /// goes into them as a marker, by which the import is known to have replaced the database.
    ///
    /// # Errors
    ///
    /// The files could not be created.
    pub fn bulk(
        graph: Graph,
        pool: Pool,
        pairing: String,
        command: String,
        dir: PathBuf,
    ) -> Result<GraphSink, Error> {
        let export = Export::create(&dir, &pairing)?;
        tracing::info!(dir = %dir.display(), "building the graph from scratch: writing it as files for neo4j-admin database import");
        Ok(GraphSink {
            graph,
            pool,
            pairing: Some(pairing.clone()),
            target: Target::Bulk(Box::new(BulkImport {
                export,
                command,
                dir,
                token: pairing,
            })),
        })
    }

    /// Whether the graph is being built from scratch, so that every record must reach it.
    pub fn rebuilds(&self) -> bool {
        self.pairing.is_some()
    }

    /// Writes one batch of `run`'s records (in file order) and, through Bolt, checkpoints it.
    /// Takes the sink and gives it back: a bulk export's files are written on a blocking thread,
    /// which borrows nothing.
    ///
    /// # Errors
    ///
    /// A write failed for good, or the checkpoint could not be stored.
    pub async fn write(mut self, run: &FileRun, batch: Vec<GraphWork>) -> Result<Self, Error> {
        let Some(last_seq) = batch.last().map(|work| work.seq) else {
            return Ok(self);
        };
        let records: Vec<GraphRecord> = batch.into_iter().map(|work| work.record).collect();
        match self.target {
            Target::Bolt { ref mut tally } => {
                if let Some(tally) = tally {
                    for record in &records {
                        tally.add(&record.facts);
                    }
                }
                graph::write(&self.graph, &records).await?;
                let ordinal = i64::try_from(last_seq).unwrap_or(i64::MAX);
                postgres::retry("graph checkpoint", || {
                    bookkeeping::checkpoint_graph(&self.pool, run, ordinal)
                })
                .await?;
            }
            Target::Bulk(mut import) => {
                let import = tokio::task::spawn_blocking(move || {
                    import.export.write(&records)?;
                    Ok::<_, Error>(import)
                })
                .await??;
                self.target = Target::Bulk(import);
            }
        }
        Ok(self)
    }

    /// Takes deleted records of `kind` out of the graph; a graph about to be replaced by an import
    /// never held them.
    ///
    /// # Errors
    ///
    /// The deletion failed for good.
    pub async fn delete(&self, kind: Kind, ids: &[i64]) -> Result<(), Error> {
        match self.target {
            Target::Bolt { .. } => Ok(graph::delete(&self.graph, kind, ids).await?),
            Target::Bulk(_) => Ok(()),
        }
    }

    /// Completes the graph once every file of `version` is through: a graph written through Bolt
    /// has its flagged stubs named ([`stubs::rename`], beside an update's kept counts); a bulk
    /// export is finished (with its aggregates) and imported and the schema put back online; a
    /// rebuild through Bolt gets its tallied aggregates; a graph that was there gets what
    /// `aggregation` says. `postgres_step` is PostgreSQL's own last step, whose answer says
    /// whether answers read from PostgreSQL alone changed: it runs while the import tool builds
    /// the graph, when there is one (the tool leaves PostgreSQL idle), beside an update's
    /// aggregates, and first otherwise. Then the insights are computed if anything changed, and
    /// the version is marked done (the generation bumped if the aggregates were written, since
    /// then something changed, or if the step said so); last, a graph built from scratch is
    /// paired with its database, so that an interruption anywhere before leaves it unpaired and
    /// the next ingest builds it again.
    ///
    /// # Errors
    ///
    /// The import, a schema statement, the stub names, an aggregate, the bookkeeping or the
    /// pairing failed.
    pub async fn finish(
        self,
        version: &str,
        aggregation: Aggregation,
        postgres_step: impl Future<Output = postgres::Result<bool>>,
    ) -> Result<Finished, Error> {
        let mut finished = Finished::default();
        let postgres_step = async {
            let started = Instant::now();
            let changed = postgres_step.await?;
            Ok::<_, Error>((changed, started.elapsed().as_secs_f64()))
        };
        // Awaited by the Bolt targets' steps below; a graph about to be imported has no stubs yet.
        // Boxed, as is what runs beside it, so that the finish step's future stays small.
        let stub_names = Box::pin({
            let (graph, pool) = (self.graph.clone(), self.pool.clone());
            // The stubs of a graph written before stubs had names.
            let flag_unnamed = matches!(self.target, Target::Bolt { tally: None })
                && aggregation == Aggregation::Recompute;
            async move {
                if flag_unnamed {
                    stubs::flag_unnamed(&graph).await?;
                }
                let client = pool.get().await.map_err(postgres::Error::from)?;
                stubs::rename(&graph, &**client).await?;
                Ok::<_, Error>(())
            }
        });
        // A graph built from scratch always gets its aggregates.
        let aggregate = aggregation != Aggregation::Keep || self.rebuilds();
        if self.rebuilds() {
            tracing::info!("writing the graph aggregates counted in the stream");
        } else if aggregate {
            tracing::info!(?aggregation, "writing the graph aggregates");
        }
        let started = Instant::now();
        let (postgres_changed, postgres_seconds) = match self.target {
            Target::Bulk(import) => {
                let BulkImport {
                    export,
                    command,
                    dir,
                    token,
                } = *import;
                let graph = &self.graph;
                let import = async {
                    let (args_file, counted) =
                        tokio::task::spawn_blocking(move || export.finish()).await??;
                    finished.aggregate_seconds = started.elapsed().as_secs_f64();
                    let started = Instant::now();
                    // PostgreSQL takes the profiles while the import tool builds the graph.
                    let load = async {
                        bulk::import(graph, &command, &args_file, &token).await?;
                        migrate::neo4j(graph).await?;
                        migrate::await_neo4j_indexes(graph).await?;
                        Ok::<_, Error>(())
                    };
                    let written = write_profiles(&self.pool, &counted);
                    let ((), profile_seconds) = tokio::try_join!(load, written)?;
                    finished.profile_seconds = profile_seconds;
                    finished.import_seconds = started.elapsed().as_secs_f64();
                    Ok::<_, Error>(())
                };
                let ((), postgres) = tokio::try_join!(import, postgres_step)?;
                // The CSV files are as big as the graph; the tool's log and report stay for reading.
                bulk::remove_files(&dir);
                tracing::info!(
                    seconds = finished.import_seconds,
                    "graph imported; Neo4j is back with its indexes online"
                );
                postgres
            }
            Target::Bolt { tally: Some(tally) } => {
                stub_names.await?;
                let postgres = postgres_step.await?;
                let started = Instant::now();
                let aggregates = tally.finish();
                aggregates::write(&self.graph, &aggregates).await?;
                finished.aggregate_seconds = started.elapsed().as_secs_f64();
                finished.profile_seconds = write_profiles(&self.pool, &aggregates).await?;
                postgres
            }
            Target::Bolt { tally: None } => {
                // Different tables, each moved in transactions of its own: side by side, one
                // gets on while the other waits on the server or the disk.
                let aggregates = self.update_aggregates(aggregation, &mut finished, stub_names);
                let (postgres, ()) = tokio::try_join!(postgres_step, aggregates)?;
                postgres
            }
        };
        finished.postgres_seconds = postgres_seconds;
        if aggregate {
            // Written: what the touched list asked for is done, whichever way.
            let client = self.pool.get().await.map_err(postgres::Error::from)?;
            facts::clear_touched(&**client).await?;
            drop(client);
            bookkeeping::set_aggregates_version(&self.pool, aggregates::AGGREGATES_VERSION).await?;
            tracing::info!(
                seconds = finished.aggregate_seconds,
                "graph aggregates written"
            );
        }
        let changed = aggregate || postgres_changed;
        // Before the generation that publishes them; a database older than them gets them once.
        let insights = changed || insights::missing(&self.pool).await?;
        if insights {
            let started = Instant::now();
            insights::compute(&self.pool, &self.graph, finished.aggregate_seconds).await?;
            finished.insight_seconds = started.elapsed().as_secs_f64();
        }
        let publish = changed || insights;
        let bookmark = if publish {
            graph::bookmark(&self.graph).await?
        } else {
            None
        };
        finished.generation =
            bookkeeping::finish_version(&self.pool, version, publish, bookmark.as_deref()).await?;
        if insights {
            insights::stamp(&self.pool, finished.generation).await?;
        }
        if let Some(token) = &self.pairing {
            graph::set_pairing_token(&self.graph, token).await?;
        }
        Ok(finished)
    }

    /// Brings the aggregates of a graph that was already there up to date as `aggregation` says,
    /// after `stub_names` (an update's beside the kept counts, which are PostgreSQL's alone).
    async fn update_aggregates(
        &self,
        aggregation: Aggregation,
        finished: &mut Finished,
        stub_names: impl Future<Output = Result<(), Error>>,
    ) -> Result<(), Error> {
        match aggregation {
            Aggregation::Keep => stub_names.await?,
            Aggregation::Update => {
                // The kept counts and profiles move first, in one transaction; the graph then
                // gets what they say of the touched artists and labels (listed until written,
                // so a re-run after an interruption here writes them again).
                let follow = Box::pin(async { Ok::<_, Error>(deltas::follow(&self.pool).await?) });
                let (followed, ()) = tokio::try_join!(follow, stub_names)?;
                finished.profile_seconds = followed.seconds;
                let started = Instant::now();
                let client = self.pool.get().await.map_err(postgres::Error::from)?;
                let (artists, labels) = facts::touched(&**client).await?;
                let aggregates = deltas::aggregates(&**client, &artists, &labels).await?;
                drop(client);
                aggregates::refresh(&self.graph, &aggregates, &artists, &labels).await?;
                finished.aggregate_seconds = started.elapsed().as_secs_f64();
                tracing::info!(
                    seconds = finished.aggregate_seconds,
                    artists = artists.len(),
                    labels = labels.len(),
                    "graph aggregates of the touched artists and labels, and of every genre and style, written"
                );
            }
            Aggregation::Recompute => {
                // Before the aggregates, whose recomputation removes orphans by what is a stub.
                stub_names.await?;
                let started = Instant::now();
                aggregates::recompute(&self.graph).await?;
                // The profiles are counted from the facts, never from the graph.
                let client = self.pool.get().await.map_err(postgres::Error::from)?;
                let tally = facts::tally(&**client).await?;
                drop(client);
                finished.aggregate_seconds = started.elapsed().as_secs_f64();
                finished.profile_seconds = write_profiles(&self.pool, &tally.finish()).await?;
            }
        }
        Ok(())
    }
}

/// Writes the profiles and kept counts of `counted` whole; returns the seconds it took.
async fn write_profiles(pool: &Pool, counted: &Aggregates) -> Result<f64, Error> {
    let started = Instant::now();
    profiles::write(pool, counted).await?;
    Ok(started.elapsed().as_secs_f64())
}
