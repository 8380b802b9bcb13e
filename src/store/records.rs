//! The record tables (`artists`, `labels`, `masters`, `releases`): hash lookups for dedup, batched
//! writes, and deletions. Every statement names its table from [`Kind`], never from user input.

use std::collections::HashMap;
use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::GenericClient;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

use super::postgres::Result;
use super::{credits, facts};
use crate::record::graph::ReferenceNames;
use crate::record::graph::digest::Changed;
use crate::record::{Canonical, Hash, Kind};

/// What the table holds for an id: the stored hash, the run that wrote it, and the digests of
/// its graph facts (`None` when written before they were kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub hash: Hash,
    pub run_id: i64,
    pub graph_digests: Option<Vec<u8>>,
}

/// Gathers the record tables' planner statistics, after a first load filled them: the search's
/// row estimates come from them, and autovacuum would only get to it a minute or more later.
///
/// # Errors
///
/// The statement failed.
pub async fn analyze(pool: &deadpool_postgres::Pool) -> Result<()> {
    let started = std::time::Instant::now();
    tracing::info!("gathering the record tables' statistics");
    let client = pool.get().await?;
    client
        .batch_execute("ANALYZE artists, labels, masters, releases")
        .await?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "record tables analyzed"
    );
    Ok(())
}

/// The stored hash, writing run and graph digests of each of `ids` that exists.
///
/// # Errors
///
/// The query failed.
pub async fn lookup(
    client: &impl GenericClient,
    kind: Kind,
    ids: &[i64],
) -> Result<HashMap<i64, Stored>> {
    let sql = format!(
        "SELECT id, hash, run_id, graph_digests FROM {} WHERE id = ANY($1)",
        kind.as_str()
    );
    let rows = client.query(&sql, &[&ids]).await?;
    let mut stored = HashMap::with_capacity(rows.len());
    for row in rows {
        let hash: &[u8] = row.get(1);
        // A hash of another length cannot match any record's; all zeros forces a rewrite.
        let hash = Hash::try_from(hash).unwrap_or_default();
        stored.insert(
            row.get(0),
            Stored {
                hash,
                run_id: row.get(2),
                graph_digests: row.get(3),
            },
        );
    }
    Ok(stored)
}

/// The names each stored record of `ids` gives the artists and labels it references, read from
/// its canonical JSON; a record whose JSON does not parse names nothing.
///
/// # Errors
///
/// The query failed.
pub async fn reference_names(
    client: &impl GenericClient,
    kind: Kind,
    ids: &[i64],
) -> Result<HashMap<i64, ReferenceNames>> {
    let sql = format!(
        "SELECT id, data::text FROM {} WHERE id = ANY($1)",
        kind.as_str()
    );
    let mut names = HashMap::new();
    for row in client.query(&sql, &[&ids]).await? {
        if let Ok(record) = serde_json::from_str(row.get::<_, &str>(1)) {
            names.insert(row.get(0), ReferenceNames::from_json(kind, &record));
        }
    }
    Ok(names)
}

/// A changed record on its way in.
#[derive(Debug, Clone, Copy)]
pub struct Update<'a> {
    pub record: &'a Canonical,
    /// Which of its digested groups differ from the stored version's ([`Changed::ALL`] when
    /// that is not known).
    pub changed: Changed,
}

/// Writes `inserts` (ids not in the table) and `updates` (ids that are), their aggregate facts
/// (see [`facts`]) and a release's credits (see [`credits`]), with `touched` listing what they
/// touch, in one transaction.
///
/// New rows go in by binary COPY straight into the table, the fastest path for a first load;
/// updates are COPYed into a temporary table and merged with `INSERT … ON CONFLICT`.
///
/// # Errors
///
/// Any statement failed; the transaction is rolled back and nothing is written.
pub async fn write(
    client: &mut deadpool_postgres::Object,
    kind: Kind,
    run_id: i64,
    inserts: &[&Canonical],
    updates: &[Update<'_>],
    touched: bool,
) -> Result<()> {
    let table = kind.as_str();
    let changed: Vec<&Canonical> = updates.iter().map(|update| update.record).collect();
    let tx = client.transaction().await?;
    if !inserts.is_empty() {
        copy_rows(
            &tx,
            &format!("COPY {table} (id, hash, run_id, data, graph_digests) FROM STDIN BINARY"),
            run_id,
            inserts,
        )
        .await?;
    }
    if !updates.is_empty() {
        tx.batch_execute(
            "CREATE TEMP TABLE IF NOT EXISTS staged_records (id BIGINT, hash BYTEA, run_id BIGINT, data JSONB, graph_digests BYTEA) ON COMMIT DELETE ROWS",
        )
        .await?;
        copy_rows(
            &tx,
            "COPY staged_records (id, hash, run_id, data, graph_digests) FROM STDIN BINARY",
            run_id,
            &changed,
        )
        .await?;
        tx.batch_execute(&format!(
            "INSERT INTO {table} (id, hash, run_id, data, graph_digests)
                 SELECT id, hash, run_id, data, graph_digests FROM staged_records
             ON CONFLICT (id) DO UPDATE SET hash = EXCLUDED.hash, run_id = EXCLUDED.run_id,
                 data = EXCLUDED.data, graph_digests = EXCLUDED.graph_digests"
        ))
        .await?;
    }
    facts::write(&tx, kind, inserts, &changed, touched).await?;
    if kind == Kind::Releases {
        credits::write(&tx, inserts, updates, touched).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn copy_rows(
    tx: &tokio_postgres::Transaction<'_>,
    copy: &str,
    run_id: i64,
    records: &[&Canonical],
) -> Result<()> {
    let sink = tx.copy_in(copy).await?;
    let writer = BinaryCopyInWriter::new(
        sink,
        &[
            Type::INT8,
            Type::BYTEA,
            Type::INT8,
            Type::JSONB,
            Type::BYTEA,
        ],
    );
    pin_mut!(writer);
    for record in records {
        writer
            .as_mut()
            .write(&[
                &record.id,
                &record.hash.as_slice(),
                &run_id,
                &RawJsonb(&record.json),
                &record.graph_digests.as_slice(),
            ])
            .await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Every id in the table, streamed, so that memory stays flat on tens of millions of rows.
///
/// # Errors
///
/// The query failed.
pub async fn for_each_id(
    client: &impl GenericClient,
    kind: Kind,
    mut visit: impl FnMut(i64),
) -> Result<()> {
    let sql = format!("SELECT id FROM {}", kind.as_str());
    let rows = client.query_raw(&sql, std::iter::empty::<i64>()).await?;
    pin_mut!(rows);
    while let Some(row) = rows.try_next().await? {
        visit(row.get(0));
    }
    Ok(())
}

/// Deletes `ids` from the table, and their aggregate facts and credits, in one transaction.
///
/// # Errors
///
/// A statement failed; nothing is deleted.
pub async fn delete(
    client: &mut deadpool_postgres::Object,
    kind: Kind,
    ids: &[i64],
) -> Result<u64> {
    let tx = client.transaction().await?;
    facts::delete(&tx, kind, ids).await?;
    credits::delete(&tx, kind, ids).await?;
    let sql = format!("DELETE FROM {} WHERE id = ANY($1)", kind.as_str());
    let deleted = tx.execute(&sql, &[&ids]).await?;
    tx.commit().await?;
    Ok(deleted)
}

/// The canonical JSON bytes as a `jsonb` parameter, sent in jsonb's binary form (a version byte,
/// then the text) without re-encoding.
#[derive(Debug)]
struct RawJsonb<'a>(&'a [u8]);

impl ToSql for RawJsonb<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        out.put_u8(1);
        out.extend_from_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    to_sql_checked!();
}
