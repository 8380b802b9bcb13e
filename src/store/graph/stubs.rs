//! The names of stubs (SPEC §7): an artist or label that records reference but that has no record
//! of its own is called what its first referrer calls it: of the records that reference it and
//! give it a name, the one with the lowest [`referrer_key`] (artists, then labels, masters,
//! releases; then by id). A stub's `named_by` holds that key ([`UNNAMED`] while no referrer names
//! it), which is also what marks it as a stub; its own record, when it arrives, removes both.
//!
//! The writes keep this as references are added: a lower key takes over (see the parent module).
//! A referrer that is replaced or deleted may stop naming the stub, and a deleted record's node
//! may stay as a stub; the writes then flag the node (`rename`), and [`rename`] settles every
//! flagged node once the files are through, from its referrers in the graph and their stored
//! records in PostgreSQL. Its cost follows the flagged nodes, not the catalogue.

use std::collections::HashMap;

use neo4rs::{BoltType, Graph, query};
use tokio_postgres::GenericClient;

use super::neo4j;
use super::{row, run_in_transaction};
use crate::record::Kind;
use crate::record::graph::{ReferenceNames, UNNAMED, referrer_key};
use crate::store::{Error, records};

/// Flagged nodes settled per round.
const BATCH: i64 = 1_000;

/// A stub's referrers read per round, lowest keys first; nearly always the first names it.
const REFERRERS_PER_ROUND: i64 = 16;

/// The kinds that have stubs with names: their node label and the kind of their records.
const NAMED_KINDS: [(&str, Kind); 2] = [("Artist", Kind::Artists), ("Label", Kind::Labels)];

/// Gives every flagged artist and label the name the rule of this module says, or, if it has a
/// record of its own after all, makes it an ordinary node again. Returns how many it settled.
///
/// # Errors
///
/// A query failed.
pub async fn rename(graph: &Graph, client: &impl GenericClient) -> Result<u64, Error> {
    let started = std::time::Instant::now();
    let mut settled = 0;
    for (label, kind) in NAMED_KINDS {
        loop {
            let flagged = flagged(graph, label).await?;
            if flagged.is_empty() {
                break;
            }
            if settled == 0 {
                tracing::info!("settling the names of stubs whose referrers changed");
            }
            let defined = records::lookup(client, kind, &flagged).await?;
            let (records, stubs): (Vec<i64>, Vec<i64>) =
                flagged.iter().partition(|id| defined.contains_key(id));
            let names = first_names(graph, client, label, kind, &stubs).await?;
            write(graph, label, &records, &names).await?;
            settled += flagged.len() as u64;
        }
    }
    if settled > 0 {
        tracing::info!(
            nodes = settled,
            seconds = started.elapsed().as_secs_f64(),
            "stub names settled"
        );
    }
    Ok(settled)
}

/// Up to [`BATCH`] flagged nodes with label `label`.
async fn flagged(graph: &Graph, label: &str) -> Result<Vec<i64>, neo4j::Error> {
    let mut rows = graph
        .execute(
            query(&format!(
                "MATCH (n:{label}) WHERE n.rename = true RETURN n.id AS id LIMIT $batch"
            ))
            .param("batch", BATCH),
        )
        .await?;
    let mut ids = Vec::new();
    while let Some(row) = rows.next().await? {
        ids.push(row.get::<i64>("id")?);
    }
    Ok(ids)
}

/// The first name each of `stubs` is given by its referrers in key order, with that referrer's
/// key: the first two referrers of all of them in one query, the first one's stored record in
/// one query per kind; the rare stub its first referrer does not name is followed further on
/// its own.
async fn first_names(
    graph: &Graph,
    client: &impl GenericClient,
    label: &str,
    kind: Kind,
    stubs: &[i64],
) -> Result<Vec<(i64, Option<(i64, String)>)>, Error> {
    let mut rows = graph
        .execute(
            query(&format!(
                "UNWIND $ids AS id MATCH (t:{label} {{id: id}})
                 CALL (t) {{ {REFERRERS} RETURN collect([rank, id]) AS referrers }}
                 RETURN id, referrers"
            ))
            .param("ids", stubs)
            .param("skip", 0)
            .param("limit", 2),
        )
        .await?;
    let mut referrers: HashMap<i64, Vec<(Kind, i64)>> = HashMap::with_capacity(stubs.len());
    while let Some(row) = rows.next().await? {
        let pairs = row.get::<Vec<Vec<i64>>>("referrers")?;
        let pairs = pairs.iter().filter_map(|pair| match pair[..] {
            [rank, id] => Some((ranked(rank), id)),
            _ => None,
        });
        referrers.insert(row.get("id")?, pairs.collect());
    }
    // Each stub's first referrer, which nearly always names it, read in one query per kind.
    let mut names = HashMap::new();
    for referrer_kind in Kind::ALL {
        let ids: Vec<i64> = referrers
            .values()
            .filter_map(|referrers| referrers.first())
            .filter(|(of, _)| *of == referrer_kind)
            .map(|&(_, id)| id)
            .collect();
        if !ids.is_empty() {
            let stored = records::reference_names(client, referrer_kind, &ids).await?;
            let stored = stored.into_iter();
            names.extend(stored.map(|(id, given)| ((referrer_kind, id), given)));
        }
    }
    let mut first = Vec::with_capacity(stubs.len());
    for &stub in stubs {
        let referrers = referrers.get(&stub).map_or(&[][..], Vec::as_slice);
        let named = referrers.first().and_then(|&(of, referrer)| {
            named_by(names.get(&(of, referrer))?, (of, referrer), kind, stub)
        });
        let name = match named {
            None if referrers.len() > 1 => first_name(graph, client, label, kind, stub, 1).await?,
            named => named,
        };
        first.push((stub, name));
    }
    Ok(first)
}

/// The name `given` (the names of the stored record `referrer`) gives stub `stub` of `kind`, with
/// the referrer's key.
fn named_by(
    given: &ReferenceNames,
    (of, referrer): (Kind, i64),
    kind: Kind,
    stub: i64,
) -> Option<(i64, String)> {
    let name = ReferenceNames::of(given.for_kind(kind), stub)?;
    Some((referrer_key(of, referrer), name.to_owned()))
}

/// The kind of records of `rank` in [`REFERRERS`]' order.
fn ranked(rank: i64) -> Kind {
    Kind::ALL[rank.clamp(0, 3) as usize]
}

/// The first name stub `id` is given by its referrers in key order from the `skip`th, with that
/// referrer's key.
async fn first_name(
    graph: &Graph,
    client: &impl GenericClient,
    label: &str,
    kind: Kind,
    id: i64,
    mut skip: i64,
) -> Result<Option<(i64, String)>, Error> {
    loop {
        let referrers = referrers(graph, label, id, skip).await?;
        for &(of, referrer) in &referrers {
            let stored = records::reference_names(client, of, &[referrer]).await?;
            let named = stored
                .get(&referrer)
                .and_then(|given| named_by(given, (of, referrer), kind, id));
            if named.is_some() {
                return Ok(named);
            }
        }
        if (referrers.len() as i64) < REFERRERS_PER_ROUND {
            return Ok(None);
        }
        skip += REFERRERS_PER_ROUND;
    }
}

/// The Cypher of the records whose nodes reference stub `t` (every relationship of a stub was
/// asserted by its other end), lowest keys first: their kinds' ranks and ids, from the `$skip`th,
/// at most `$limit`.
const REFERRERS: &str = "MATCH (t)--(o) WITH DISTINCT o
     WITH o, CASE WHEN o:Artist THEN 0 WHEN o:Label THEN 1 WHEN o:Master THEN 2 ELSE 3 END AS rank
     WITH rank, o.id AS id ORDER BY rank, id SKIP $skip LIMIT $limit";

/// The records whose nodes reference stub `id`, lowest keys first, from the `skip`th.
async fn referrers(
    graph: &Graph,
    label: &str,
    id: i64,
    skip: i64,
) -> Result<Vec<(Kind, i64)>, neo4j::Error> {
    let mut rows = graph
        .execute(
            query(&format!(
                "MATCH (t:{label} {{id: $id}}) {REFERRERS} RETURN rank, id"
            ))
            .param("id", id)
            .param("skip", skip)
            .param("limit", REFERRERS_PER_ROUND),
        )
        .await?;
    let mut referrers = Vec::new();
    while let Some(row) = rows.next().await? {
        referrers.push((ranked(row.get("rank")?), row.get::<i64>("id")?));
    }
    Ok(referrers)
}

/// Writes the settled names (a stub nothing references any more goes, as in every write), and
/// makes the `records` ordinary nodes.
async fn write(
    graph: &Graph,
    label: &str,
    records: &[i64],
    names: &[(i64, Option<(i64, String)>)],
) -> Result<(), neo4j::Error> {
    let rows: BoltType = names
        .iter()
        .map(|(id, first)| {
            let (key, name) = match first {
                Some((key, name)) => (*key, Some(name.clone())),
                None => (UNNAMED, None),
            };
            row([
                ("id", (*id).into()),
                ("key", key.into()),
                ("name", name.into()),
            ])
        })
        .collect();
    let records: BoltType = records.iter().copied().collect();
    let queries = vec![
        query(&format!(
            "UNWIND $rows AS r MATCH (t:{label} {{id: r.id}})
             SET t.name = r.name, t.named_by = r.key REMOVE t.rename
             WITH t WHERE NOT (t)--() DELETE t"
        ))
        .param("rows", rows),
        query(&format!(
            "UNWIND $ids AS id MATCH (t:{label} {{id: id}}) REMOVE t.named_by, t.rename"
        ))
        .param("ids", records),
    ];
    neo4j::retry("stub names", || run_in_transaction(graph, queries.clone())).await
}

/// Flags every artist and label without a name or a `named_by`: the stubs of a graph written
/// before stubs had names ([`rename`] then names them, or finds their record).
///
/// # Errors
///
/// The write failed.
pub async fn flag_unnamed(graph: &Graph) -> Result<(), neo4j::Error> {
    for (label, _) in NAMED_KINDS {
        graph
            .run(query(&format!(
                "MATCH (n:{label}) WHERE n.name IS NULL AND n.named_by IS NULL
                 CALL (n) {{ SET n.named_by = $unnamed, n.rename = true }} IN TRANSACTIONS OF 10000 ROWS"
            )).param("unnamed", UNNAMED))
            .await?;
    }
    Ok(())
}
