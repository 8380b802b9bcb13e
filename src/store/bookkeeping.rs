//! Ingest bookkeeping in PostgreSQL: the lock that lets one ingest at a time write the stores, one
//! run per dump file, the graph checkpoint, the version status, the graph pairing and the
//! generation the API's cache keys on. The ingest writes it; the API and `discogs status` read it.

use std::fmt;

use deadpool_postgres::Pool;
use tokio_postgres::types::{FromSql, ToSql};

use crate::record::Kind;
use crate::store::postgres::Result;

/// The advisory lock key that says "an ingest is writing these stores": the same for every
/// discogs process ("discogs" in ASCII, then 1).
const INGEST_LOCK: i64 = 0x6469_7363_6f67_7301;

/// How often [`lock_ingest`] tries a lock whose holder has gone, and how long it waits between.
const LOCK_ATTEMPTS: u32 = 20;
const LOCK_RETRY_PAUSE: std::time::Duration = std::time::Duration::from_millis(100);

/// Held by the one ingest that may write the stores. It lives on a connection of its own, taken out
/// of the pool: dropping the lock closes that connection, and PostgreSQL releases a session's
/// advisory locks when its connection ends, so a killed ingest leaves no lock behind.
pub struct IngestLock {
    _connection: deadpool_postgres::ClientWrapper,
}

/// Takes the ingest lock, or says who holds it: `Ok(Err(holder))` names the running ingest (its
/// host, process and start, as it announced them in `application_name`). A lock whose holder's
/// session is ending, or that this process's previous ingest held, is tried again, for up to two
/// seconds.
///
/// # Errors
///
/// A query failed.
pub async fn lock_ingest(pool: &Pool) -> Result<std::result::Result<IngestLock, String>> {
    let connection = deadpool_postgres::Object::take(pool.get().await?);
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_or_else(|_| "unknown host".to_owned(), |name| name.trim().to_owned());
    let me = format!("discogs ingest on {host}, pid {}", std::process::id());
    connection
        .execute("SELECT set_config('application_name', $1, false)", &[&me])
        .await?;
    let mut attempts = 0;
    loop {
        let locked: bool = connection
            .query_one("SELECT pg_try_advisory_lock($1)", &[&INGEST_LOCK])
            .await?
            .get(0);
        if locked {
            return Ok(Ok(IngestLock {
                _connection: connection,
            }));
        }
        // An advisory lock on a bigint key shows as its high and low 32 bits.
        let holder = connection
            .query_opt(
                "SELECT a.application_name, host(a.client_addr), to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ')
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted
                   AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid",
                &[&INGEST_LOCK],
            )
            .await?;
        let holder = holder.map(|row| {
            let name: Option<String> = row.get(0);
            let address: Option<String> = row.get(1);
            let since: Option<String> = row.get(2);
            let name = name.filter(|name| !name.is_empty());
            // This process's own lock is its last ingest's, whose connection is closing.
            let ours = name.as_deref() == Some(me.as_str());
            let holder = format!(
                "{} (connected from {}, since {})",
                name.unwrap_or_else(|| "an unnamed client".to_owned()),
                address.unwrap_or_else(|| "a local socket".to_owned()),
                since.unwrap_or_default()
            );
            (holder, ours)
        });
        if let Some((holder, false)) = holder {
            return Ok(Err(holder));
        }
        // Held by a session that is ending: the server frees its locks a moment after its
        // connection closes, as when one ingest follows another in the same process (until
        // then it may still list the lock as granted).
        attempts += 1;
        if attempts == LOCK_ATTEMPTS {
            let holder = holder.map_or_else(|| "one that has just finished".to_owned(), |h| h.0);
            return Ok(Err(holder));
        }
        tokio::time::sleep(LOCK_RETRY_PAUSE).await;
    }
}

/// Where the run of one dump file stands (`ingest_files.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    /// Stopped by an error; the next ingest of the same version resumes it.
    Failed,
    Done,
    /// Left unfinished, then rewritten by a later version's run.
    Superseded,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Failed => "failed",
            RunStatus::Done => "done",
            RunStatus::Superseded => "superseded",
        }
    }

    /// The status a row holds; anything else is taken for `Failed`, which is resumed.
    fn from_column(text: &str) -> RunStatus {
        [RunStatus::Running, RunStatus::Done, RunStatus::Superseded]
            .into_iter()
            .find(|status| status.as_str() == text)
            .unwrap_or(RunStatus::Failed)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One ingest run of one dump file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRun {
    pub kind: Kind,
    pub run_id: i64,
    /// Records up to this position in the file are known to be in the graph.
    pub graph_ordinal: i64,
    /// Unfinished runs of other dump versions of this kind: rows they wrote may lack their graph
    /// side, so rows still carrying their run id are rewritten to the graph.
    pub suspect_runs: Vec<i64>,
    /// Whether this run resumes an interrupted one.
    pub resumed: bool,
    /// The graph is being rebuilt: every record goes to the graph, changed or not.
    pub rebuild_graph: bool,
}

/// What happened to a file's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Already in PostgreSQL, rewritten to the graph after an interruption.
    pub graph_only: u64,
    pub deleted: u64,
    pub skipped: u64,
}

impl Counts {
    /// Whether the run wrote anything to either store.
    pub fn changed_anything(&self) -> bool {
        self.inserted + self.updated + self.graph_only + self.deleted > 0
    }
}

/// Records that the graph holds every record of `run` up to position `ordinal` in its file; an
/// interrupted run resumes writing the graph after it.
///
/// # Errors
///
/// A query failed.
pub async fn checkpoint_graph(pool: &Pool, run: &FileRun, ordinal: i64) -> Result<()> {
    let client = pool.get().await?;
    let statement = client
        .prepare_cached("UPDATE ingest_files SET graph_ordinal = $1 WHERE run_id = $2")
        .await?;
    client.execute(&statement, &[&ordinal, &run.run_id]).await?;
    Ok(())
}

/// Starts (or resumes) the run of `kind` for `version`.
///
/// # Errors
///
/// A query failed.
pub async fn begin_file(
    pool: &Pool,
    version: &str,
    kind: Kind,
    file_name: &str,
    rebuild_graph: bool,
) -> Result<FileRun> {
    let client = pool.get().await?;
    let unfinished = client
        .query(
            "SELECT version, run_id, graph_ordinal FROM ingest_files
             WHERE kind = $1 AND status IN ('running', 'failed')",
            &[&kind.as_str()],
        )
        .await?;
    let mut resumed = None;
    let mut suspect_runs = Vec::new();
    for row in &unfinished {
        let (run_version, run_id, graph_ordinal): (String, i64, i64) =
            (row.get(0), row.get(1), row.get(2));
        if run_version == version {
            resumed = Some((run_id, graph_ordinal));
        } else {
            suspect_runs.push(run_id);
        }
    }
    let (run_id, graph_ordinal, resumed) = match resumed {
        Some((run_id, graph_ordinal)) => {
            client
                .execute(
                    "UPDATE ingest_files SET status = 'running', error = NULL WHERE run_id = $1",
                    &[&run_id],
                )
                .await?;
            (run_id, graph_ordinal, true)
        }
        None => {
            let row = client
                .query_one(
                    "INSERT INTO ingest_files (version, kind, file_name, status) VALUES ($1, $2, $3, 'running')
                     ON CONFLICT (version, kind) DO UPDATE
                       SET status = 'running', run_id = nextval('ingest_run_seq'), graph_ordinal = 0, error = NULL,
                           started_at = now(), finished_at = NULL, file_name = EXCLUDED.file_name
                     RETURNING run_id",
                    &[&version, &kind.as_str(), &file_name],
                )
                .await?;
            (row.get(0), 0, false)
        }
    };
    Ok(FileRun {
        kind,
        run_id,
        graph_ordinal,
        suspect_runs,
        resumed,
        rebuild_graph,
    })
}

/// The last done run of `kind`, if no run of that kind is unfinished: the run whose records the
/// stores then hold exactly (see `ingest::raw_hashes`). Ask before [`begin_file`], which turns a
/// re-ingested version's row into the new run.
///
/// # Errors
///
/// A query failed.
pub async fn settled_run(pool: &Pool, kind: Kind) -> Result<Option<i64>> {
    let client = pool.get().await?;
    let row = client
        .query_one(
            "SELECT (SELECT run_id FROM ingest_files WHERE kind = $1 AND status = 'done'
                     ORDER BY finished_at DESC, run_id DESC LIMIT 1),
                    (SELECT count(*) FROM ingest_files WHERE kind = $1 AND status IN ('running', 'failed'))",
            &[&kind.as_str()],
        )
        .await?;
    let unfinished: i64 = row.get(1);
    Ok(row.get::<_, Option<i64>>(0).filter(|_| unfinished == 0))
}

/// Marks the run done with its counts; unfinished runs of older versions are superseded, since
/// this run rewrote whatever they left half-done.
///
/// # Errors
///
/// A query failed.
pub async fn finish_file(pool: &Pool, run: &FileRun, counts: &Counts, seconds: f64) -> Result<()> {
    let client = pool.get().await?;
    let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    client
        .execute(
            "UPDATE ingest_files SET status = 'done', records = $2, inserted = $3, updated = $4, unchanged = $5,
               deleted = $6, skipped = $7, seconds = $8, finished_at = now(), error = NULL
             WHERE run_id = $1",
            &[
                &run.run_id,
                &as_i64(counts.records),
                &as_i64(counts.inserted),
                &as_i64(counts.updated),
                &as_i64(counts.unchanged + counts.graph_only),
                &as_i64(counts.deleted),
                &as_i64(counts.skipped),
                &seconds,
            ],
        )
        .await?;
    client
        .execute(
            "UPDATE ingest_files SET status = 'superseded' WHERE run_id = ANY($1)",
            &[&run.suspect_runs],
        )
        .await?;
    Ok(())
}

/// Records why a run failed; it stays resumable.
///
/// # Errors
///
/// A query failed.
pub async fn fail_file(pool: &Pool, run: &FileRun, error: &str) -> Result<()> {
    pool.get()
        .await?
        .execute(
            "UPDATE ingest_files SET status = 'failed', error = $2 WHERE run_id = $1",
            &[&run.run_id, &error],
        )
        .await?;
    Ok(())
}

/// Marks `version` as being ingested; returns whether it was already complete before.
///
/// # Errors
///
/// A query failed.
pub async fn begin_version(pool: &Pool, version: &str) -> Result<bool> {
    let client = pool.get().await?;
    let before = client
        .query_opt(
            "SELECT status FROM ingest_versions WHERE version = $1",
            &[&version],
        )
        .await?
        .map(|row| row.get::<_, String>(0));
    if before.as_deref() != Some("done") {
        client
            .execute(
                "INSERT INTO ingest_versions (version, status) VALUES ($1, 'running')
                 ON CONFLICT (version) DO UPDATE SET status = 'running', finished_at = NULL",
                &[&version],
            )
            .await?;
    }
    Ok(before.as_deref() == Some("done"))
}

/// Marks `version` complete and, if the stores changed, bumps the generation (which tells the
/// API's cache that every answer it holds is stale), publishing `graph_bookmark` with it (the
/// graph's bookmark once the ingest's writes are in; see [`Published`]). Returns the current
/// generation.
///
/// # Errors
///
/// A query failed.
pub async fn finish_version(
    pool: &Pool,
    version: &str,
    changed: bool,
    graph_bookmark: Option<&str>,
) -> Result<i64> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    tx.execute(
        "UPDATE ingest_versions SET status = 'done', finished_at = now() WHERE version = $1 AND status <> 'done'",
        &[&version],
    )
    .await?;
    let generation = if changed {
        tx.query_one(
            "UPDATE ingest_generation
             SET generation = generation + 1, version = $1, graph_bookmark = $2, updated_at = now()
             RETURNING generation",
            &[&version, &graph_bookmark],
        )
        .await?
    } else {
        tx.query_one("SELECT generation FROM ingest_generation", &[])
            .await?
    };
    tx.commit().await?;
    Ok(generation.get(0))
}

/// The token pairing this database with its graph (see migration 0004), if any.
///
/// # Errors
///
/// A query failed.
pub async fn graph_token(pool: &Pool) -> Result<Option<String>> {
    read_generation_row(pool, "SELECT graph_token FROM ingest_generation").await
}

/// Stores a new pairing token.
///
/// # Errors
///
/// A query failed.
pub async fn set_graph_token(pool: &Pool, token: &str) -> Result<()> {
    write_generation_row(
        pool,
        "UPDATE ingest_generation SET graph_token = $1",
        &token,
    )
    .await
}

/// The version of the aggregate definitions the graph was last aggregated with (see migration
/// 0006; 0 before any).
///
/// # Errors
///
/// A query failed.
pub async fn aggregates_version(pool: &Pool) -> Result<i32> {
    read_generation_row(pool, "SELECT aggregates_version FROM ingest_generation").await
}

/// Records that the graph's aggregates follow definition `version`.
///
/// # Errors
///
/// A query failed.
pub async fn set_aggregates_version(pool: &Pool, version: i32) -> Result<()> {
    write_generation_row(
        pool,
        "UPDATE ingest_generation SET aggregates_version = $1",
        &version,
    )
    .await
}

/// The version of the credit definitions the credits tables were last filled with (see
/// migration 0009; 0 before any).
///
/// # Errors
///
/// A query failed.
pub async fn credits_version(pool: &Pool) -> Result<i32> {
    read_generation_row(pool, "SELECT credits_version FROM ingest_generation").await
}

/// The current generation (0 before any ingest).
///
/// # Errors
///
/// A query failed.
pub async fn generation(pool: &Pool) -> Result<i64> {
    read_generation_row(pool, "SELECT generation FROM ingest_generation").await
}

/// What the latest completed ingest published: its generation (0 before any ingest) and the
/// graph's Neo4j bookmark as it left it, which graph reads through a cluster carry so that no
/// member behind those writes answers them (`None` before any ingest recorded one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub generation: i64,
    pub graph_bookmark: Option<String>,
}

/// The generation and graph bookmark the latest completed ingest published. The API's cache
/// reads this on every request.
///
/// # Errors
///
/// A query failed.
pub async fn published(pool: &Pool) -> Result<Published> {
    let client = pool.get().await?;
    let statement = client
        .prepare_cached("SELECT generation, graph_bookmark FROM ingest_generation")
        .await?;
    let row = client.query_one(&statement, &[]).await?;
    Ok(Published {
        generation: row.get(0),
        graph_bookmark: row.get(1),
    })
}

/// The one value `select` reads from the single `ingest_generation` row; the statement is
/// prepared once per pooled connection.
async fn read_generation_row<T: for<'a> FromSql<'a>>(pool: &Pool, select: &str) -> Result<T> {
    let client = pool.get().await?;
    let statement = client.prepare_cached(select).await?;
    Ok(client.query_one(&statement, &[]).await?.get(0))
}

/// Sets one column of the single `ingest_generation` row with `update` (`... = $1`).
async fn write_generation_row(pool: &Pool, update: &str, value: &(dyn ToSql + Sync)) -> Result<()> {
    pool.get().await?.execute(update, &[value]).await?;
    Ok(())
}

/// One line of `discogs status`.
#[derive(Debug, Clone)]
pub struct FileStatus {
    pub version: String,
    pub kind: String,
    pub status: RunStatus,
    pub records: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub deleted: i64,
    pub skipped: i64,
    pub seconds: Option<f64>,
    pub error: Option<String>,
}

/// Every file run, newest version first.
///
/// # Errors
///
/// A query failed.
pub async fn file_statuses(pool: &Pool) -> Result<Vec<FileStatus>> {
    let rows = pool
        .get()
        .await?
        .query(
            "SELECT version, kind, status, records, inserted, updated, unchanged, deleted, skipped, seconds, error
             FROM ingest_files
             ORDER BY version DESC, array_position(ARRAY['artists','labels','masters','releases'], kind)",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|row| FileStatus {
            version: row.get(0),
            kind: row.get(1),
            status: RunStatus::from_column(row.get(2)),
            records: row.get(3),
            inserted: row.get(4),
            updated: row.get(5),
            unchanged: row.get(6),
            deleted: row.get(7),
            skipped: row.get(8),
            seconds: row.get(9),
            error: row.get(10),
        })
        .collect())
}
