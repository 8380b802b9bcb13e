//! The graph model of SPEC §7: how canonical records become nodes and relationships, how a changed
//! or deleted record takes back what it asserted, and the aggregate properties.
//!
//! Each record *owns* the relationships it asserts: a release its `BY`, `ON`, `DERIVED_FROM`, `IS`
//! and incoming `CREDITED_ON`; a master its `BY` and `IS`; an artist its `ALIAS_OF`. `MEMBER_OF`
//! and `SUBLABEL_OF` can be asserted from either end (a group's members, a member's groups), so
//! each such relationship carries a flag per end (`by_group`/`by_member`, `by_parent`/`by_child`)
//! and disappears when neither end asserts it any more. Replacing a record first takes back what
//! its old version owned, then writes the new one, in one transaction per batch; a node referenced
//! before its own record arrives is a stub with only its key.
//!
//! All Cypher here is fixed text with parameters; nothing is built from data.

use std::collections::BTreeSet;
use std::time::Duration;

use neo4rs::{BoltType, Graph, Query, query};
use serde::Deserialize;

use super::neo4j::{Error, Result};
use crate::record::Kind;

/// A record to write to the graph.
#[derive(Debug, Clone)]
pub struct GraphRecord {
    pub id: i64,
    /// Canonical JSON.
    pub json: Vec<u8>,
    /// The graph may hold an older version of this record: take back what it asserted first.
    pub replace: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("record {id} is not canonical JSON: {reason}")]
pub struct MalformedRecord {
    id: i64,
    reason: String,
}

#[derive(Deserialize)]
struct Reference {
    id: Option<i64>,
}

#[derive(Deserialize)]
struct ArtistDoc {
    id: i64,
    name: Option<String>,
    #[serde(default)]
    aliases: Vec<Reference>,
    #[serde(default)]
    groups: Vec<Reference>,
    #[serde(default)]
    members: Vec<Reference>,
}

#[derive(Deserialize)]
struct LabelDoc {
    id: i64,
    name: Option<String>,
    parent_label: Option<Reference>,
    #[serde(default)]
    sublabels: Vec<Reference>,
}

#[derive(Deserialize)]
struct Credit {
    id: Option<i64>,
    role: Option<String>,
}

#[derive(Deserialize)]
struct MasterDoc {
    id: i64,
    title: Option<String>,
    year: Option<i64>,
    #[serde(default)]
    artists: Vec<Credit>,
    #[serde(default)]
    genres: Vec<String>,
    #[serde(default)]
    styles: Vec<String>,
}

#[derive(Deserialize)]
struct LabelEntry {
    id: Option<i64>,
    catno: Option<String>,
}

#[derive(Deserialize)]
struct Format {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Track {
    #[serde(default)]
    extraartists: Vec<Credit>,
    #[serde(default)]
    sub_tracks: Vec<Track>,
}

#[derive(Deserialize)]
struct ReleaseDoc {
    id: i64,
    title: Option<String>,
    year: Option<i64>,
    country: Option<String>,
    #[serde(default)]
    artists: Vec<Credit>,
    #[serde(default)]
    extraartists: Vec<Credit>,
    #[serde(default)]
    labels: Vec<LabelEntry>,
    #[serde(default)]
    formats: Vec<Format>,
    #[serde(default)]
    genres: Vec<String>,
    #[serde(default)]
    styles: Vec<String>,
    master_id: Option<i64>,
    is_main_release: Option<bool>,
    #[serde(default)]
    tracklist: Vec<Track>,
}

fn parse<'a, T: Deserialize<'a>>(
    record: &'a GraphRecord,
) -> std::result::Result<T, MalformedRecord> {
    serde_json::from_slice(&record.json).map_err(|e| MalformedRecord {
        id: record.id,
        reason: e.to_string(),
    })
}

/// A row of an UNWIND parameter: a map from names to values.
fn row<const N: usize>(entries: [(&str, BoltType); N]) -> BoltType {
    BoltType::Map(
        entries
            .into_iter()
            .map(|(key, value)| (key.into(), value))
            .collect(),
    )
}

/// The ids of the records in `records` flagged `replace`.
fn replaced(records: &[GraphRecord]) -> BoltType {
    records.iter().filter(|r| r.replace).map(|r| r.id).collect()
}

/// Runs `queries` in one transaction; transient failures (deadlocks, a lost connection, a
/// restarting server) are retried with backoff, anything else is returned.
///
/// # Errors
///
/// A permanent error, or a transient one that outlasted the retries.
async fn run_in_transaction(graph: &Graph, queries: Vec<Query>) -> Result<()> {
    let mut delay = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        let result = async {
            let mut txn = graph.start_txn().await?;
            txn.run_queries(queries.clone()).await?;
            txn.commit().await?;
            Ok::<_, neo4rs::Error>(())
        }
        .await;
        match result {
            Ok(()) => return Ok(()),
            Err(error) if is_transient(&error) && attempt < RETRIES => {
                tracing::warn!(%error, attempt, retry_in = ?delay, "neo4j write failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
                attempt += 1;
            }
            Err(error) => return Err(Error::Query(error)),
        }
    }
}

/// Attempts per batch before a transient failure is given up on: with the backoff above, about
/// two minutes, enough to ride through a Neo4j restart.
const RETRIES: u32 = 16;

/// Whether retrying may succeed: Neo4j's transient errors (deadlocks, lock timeouts) and
/// connection-level failures.
pub fn is_transient(error: &neo4rs::Error) -> bool {
    match error {
        neo4rs::Error::Neo4j(e) => e.code().starts_with("Neo.TransientError"),
        neo4rs::Error::IOError { .. }
        | neo4rs::Error::ConnectionError
        | neo4rs::Error::IncompleteBoltExchange
        | neo4rs::Error::UnexpectedMessage(_) => true,
        _ => false,
    }
}

/// Writes one batch of records of `kind`: nodes first, then (for replaced records) the removal of
/// what their old versions asserted, then the relationships, in one transaction.
///
/// # Errors
///
/// A record's JSON does not parse (a bug upstream), or the write failed for good.
pub async fn write(graph: &Graph, kind: Kind, records: &[GraphRecord]) -> Result<()> {
    let queries = match kind {
        Kind::Artists => artist_queries(records),
        Kind::Labels => label_queries(records),
        Kind::Masters => master_queries(records),
        Kind::Releases => release_queries(records),
    }?;
    run_in_transaction(graph, queries).await
}

const ARTIST_UNASSERT: &str = "
    UNWIND $ids AS id
    MATCH (a:Artist {id: id})
    CALL { WITH a MATCH (a)-[r:ALIAS_OF]->() DELETE r }
    CALL { WITH a MATCH (a)-[r:MEMBER_OF]->() SET r.by_member = null WITH r WHERE r.by_group IS NULL DELETE r }
    CALL { WITH a MATCH (a)<-[r:MEMBER_OF]-() SET r.by_group = null WITH r WHERE r.by_member IS NULL DELETE r }";

fn artist_queries(records: &[GraphRecord]) -> std::result::Result<Vec<Query>, MalformedRecord> {
    let (mut nodes, mut aliases, mut groups, mut members) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for record in records {
        let artist: ArtistDoc = parse(record)?;
        nodes.push(row([
            ("id", artist.id.into()),
            ("name", artist.name.into()),
        ]));
        let ids = |refs: &[Reference]| refs.iter().filter_map(|r| r.id).collect::<BTreeSet<i64>>();
        for alias in ids(&artist.aliases) {
            aliases.push(row([("from", artist.id.into()), ("to", alias.into())]));
        }
        for group in ids(&artist.groups) {
            groups.push(row([("member", artist.id.into()), ("group", group.into())]));
        }
        for member in ids(&artist.members) {
            members.push(row([
                ("member", member.into()),
                ("group", artist.id.into()),
            ]));
        }
    }
    Ok(vec![
        query("UNWIND $rows AS row MERGE (a:Artist {id: row.id}) SET a.name = row.name").param("rows", nodes),
        query(ARTIST_UNASSERT).param("ids", replaced(records)),
        query("UNWIND $rows AS row MATCH (a:Artist {id: row.from}) MERGE (b:Artist {id: row.to}) CREATE (a)-[:ALIAS_OF]->(b)")
            .param("rows", aliases),
        query(
            "UNWIND $rows AS row MERGE (m:Artist {id: row.member}) MERGE (g:Artist {id: row.group})
             MERGE (m)-[r:MEMBER_OF]->(g) SET r.by_member = true",
        )
        .param("rows", groups),
        query(
            "UNWIND $rows AS row MERGE (m:Artist {id: row.member}) MERGE (g:Artist {id: row.group})
             MERGE (m)-[r:MEMBER_OF]->(g) SET r.by_group = true",
        )
        .param("rows", members),
    ])
}

const LABEL_UNASSERT: &str = "
    UNWIND $ids AS id
    MATCH (l:Label {id: id})
    CALL { WITH l MATCH (l)-[r:SUBLABEL_OF]->() SET r.by_child = null WITH r WHERE r.by_parent IS NULL DELETE r }
    CALL { WITH l MATCH (l)<-[r:SUBLABEL_OF]-() SET r.by_parent = null WITH r WHERE r.by_child IS NULL DELETE r }";

fn label_queries(records: &[GraphRecord]) -> std::result::Result<Vec<Query>, MalformedRecord> {
    let (mut nodes, mut parents, mut sublabels) = (Vec::new(), Vec::new(), Vec::new());
    for record in records {
        let label: LabelDoc = parse(record)?;
        nodes.push(row([("id", label.id.into()), ("name", label.name.into())]));
        if let Some(parent) = label.parent_label.and_then(|p| p.id) {
            parents.push(row([("child", label.id.into()), ("parent", parent.into())]));
        }
        for sub in label
            .sublabels
            .iter()
            .filter_map(|s| s.id)
            .collect::<BTreeSet<i64>>()
        {
            sublabels.push(row([("child", sub.into()), ("parent", label.id.into())]));
        }
    }
    Ok(vec![
        query("UNWIND $rows AS row MERGE (l:Label {id: row.id}) SET l.name = row.name")
            .param("rows", nodes),
        query(LABEL_UNASSERT).param("ids", replaced(records)),
        query(
            "UNWIND $rows AS row MERGE (c:Label {id: row.child}) MERGE (p:Label {id: row.parent})
             MERGE (c)-[r:SUBLABEL_OF]->(p) SET r.by_child = true",
        )
        .param("rows", parents),
        query(
            "UNWIND $rows AS row MERGE (c:Label {id: row.child}) MERGE (p:Label {id: row.parent})
             MERGE (c)-[r:SUBLABEL_OF]->(p) SET r.by_parent = true",
        )
        .param("rows", sublabels),
    ])
}

/// Relationship rows shared by masters and releases: main artists (`BY`) and genres and styles (`IS`).
#[derive(Default)]
struct Classified {
    by: Vec<BoltType>,
    genres: Vec<BoltType>,
    styles: Vec<BoltType>,
}

impl Classified {
    fn add(&mut self, id: i64, artists: &[Credit], genres: &[String], styles: &[String]) {
        for artist in artists
            .iter()
            .filter_map(|a| a.id)
            .collect::<BTreeSet<i64>>()
        {
            self.by
                .push(row([("id", id.into()), ("artist", artist.into())]));
        }
        for genre in genres.iter().collect::<BTreeSet<_>>() {
            self.genres
                .push(row([("id", id.into()), ("name", genre.as_str().into())]));
        }
        for style in styles.iter().collect::<BTreeSet<_>>() {
            self.styles
                .push(row([("id", id.into()), ("name", style.as_str().into())]));
        }
    }

    /// The queries for `label` nodes (`Master` or `Release`); the label is one of two constants.
    fn queries(self, label: &str) -> [Query; 3] {
        [
            query(&format!("UNWIND $rows AS row MATCH (n:{label} {{id: row.id}}) MERGE (a:Artist {{id: row.artist}}) CREATE (n)-[:BY]->(a)"))
                .param("rows", self.by),
            query(&format!("UNWIND $rows AS row MATCH (n:{label} {{id: row.id}}) MERGE (g:Genre {{name: row.name}}) CREATE (n)-[:IS]->(g)"))
                .param("rows", self.genres),
            query(&format!("UNWIND $rows AS row MATCH (n:{label} {{id: row.id}}) MERGE (s:Style {{name: row.name}}) CREATE (n)-[:IS]->(s)"))
                .param("rows", self.styles),
        ]
    }
}

fn master_queries(records: &[GraphRecord]) -> std::result::Result<Vec<Query>, MalformedRecord> {
    let mut nodes = Vec::new();
    let mut classified = Classified::default();
    for record in records {
        let master: MasterDoc = parse(record)?;
        nodes.push(row([
            ("id", master.id.into()),
            ("title", master.title.into()),
            ("year", master.year.into()),
        ]));
        classified.add(master.id, &master.artists, &master.genres, &master.styles);
    }
    let mut queries = vec![
        query("UNWIND $rows AS row MERGE (m:Master {id: row.id}) SET m.title = row.title, m.year = row.year").param("rows", nodes),
        query("UNWIND $ids AS id MATCH (m:Master {id: id})-[r:BY|IS]->() DELETE r").param("ids", replaced(records)),
    ];
    queries.extend(classified.queries("Master"));
    Ok(queries)
}

fn release_queries(records: &[GraphRecord]) -> std::result::Result<Vec<Query>, MalformedRecord> {
    let (mut nodes, mut credits, mut labels, mut masters) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut classified = Classified::default();
    for record in records {
        let release: ReleaseDoc = parse(record)?;
        let formats: BTreeSet<&str> = release
            .formats
            .iter()
            .filter_map(|f| f.name.as_deref())
            .collect();
        nodes.push(row([
            ("id", release.id.into()),
            ("title", release.title.into()),
            ("year", release.year.into()),
            ("country", release.country.into()),
            ("formats", formats.into_iter().collect::<BoltType>()),
        ]));
        classified.add(
            release.id,
            &release.artists,
            &release.genres,
            &release.styles,
        );
        // One CREDITED_ON per (artist, role), whether credited on the release or on its tracks.
        let mut credited = BTreeSet::new();
        let mut tracks: Vec<&Track> = release.tracklist.iter().collect();
        let mut extra: Vec<&Credit> = release.extraartists.iter().collect();
        while let Some(track) = tracks.pop() {
            extra.extend(&track.extraartists);
            tracks.extend(&track.sub_tracks);
        }
        for credit in extra {
            if let Some(artist) = credit.id {
                credited.insert((artist, credit.role.clone().unwrap_or_default()));
            }
        }
        for (artist, role) in credited {
            credits.push(row([
                ("id", release.id.into()),
                ("artist", artist.into()),
                ("role", role.into()),
            ]));
        }
        let on: BTreeSet<(i64, String)> = release
            .labels
            .iter()
            .filter_map(|l| Some((l.id?, l.catno.clone().unwrap_or_default())))
            .collect();
        for (label, catno) in on {
            labels.push(row([
                ("id", release.id.into()),
                ("label", label.into()),
                ("catno", catno.into()),
            ]));
        }
        if let Some(master) = release.master_id {
            masters.push(row([
                ("id", release.id.into()),
                ("master", master.into()),
                ("main", release.is_main_release.unwrap_or(false).into()),
            ]));
        }
    }
    let mut queries = vec![
        query(
            "UNWIND $rows AS row MERGE (r:Release {id: row.id})
             SET r.title = row.title, r.year = row.year, r.country = row.country, r.formats = row.formats",
        )
        .param("rows", nodes),
        query(
            "UNWIND $ids AS id MATCH (r:Release {id: id})
             CALL { WITH r MATCH (r)-[o:BY|ON|DERIVED_FROM|IS]->() DELETE o }
             CALL { WITH r MATCH (r)<-[c:CREDITED_ON]-() DELETE c }",
        )
        .param("ids", replaced(records)),
        query(
            "UNWIND $rows AS row MATCH (r:Release {id: row.id}) MERGE (a:Artist {id: row.artist})
             CREATE (a)-[:CREDITED_ON {role: row.role}]->(r)",
        )
        .param("rows", credits),
        query(
            "UNWIND $rows AS row MATCH (r:Release {id: row.id}) MERGE (l:Label {id: row.label})
             CREATE (r)-[:ON {catno: row.catno}]->(l)",
        )
        .param("rows", labels),
        query(
            "UNWIND $rows AS row MATCH (r:Release {id: row.id}) MERGE (m:Master {id: row.master})
             CREATE (r)-[:DERIVED_FROM {main: row.main}]->(m)",
        )
        .param("rows", masters),
    ];
    queries.extend(classified.queries("Release"));
    Ok(queries)
}

/// Takes deleted records out of the graph. Releases go entirely (they own all their
/// relationships); artists, labels and masters may still be referenced by other records, so they
/// lose their properties and what they asserted, and the node goes only if nothing else points at
/// it (otherwise it stays as a stub, as if never defined).
///
/// # Errors
///
/// The write failed for good.
pub async fn delete(graph: &Graph, kind: Kind, ids: &[i64]) -> Result<()> {
    let ids: BoltType = ids.iter().copied().collect();
    let queries = match kind {
        Kind::Releases => vec![query("UNWIND $ids AS id MATCH (r:Release {id: id}) DETACH DELETE r").param("ids", ids)],
        Kind::Masters => vec![
            query("UNWIND $ids AS id MATCH (m:Master {id: id})-[r:BY|IS]->() DELETE r").param("ids", ids.clone()),
            query("UNWIND $ids AS id MATCH (m:Master {id: id}) REMOVE m.title, m.year WITH m WHERE NOT (m)--() DELETE m")
                .param("ids", ids),
        ],
        Kind::Artists => vec![
            query(ARTIST_UNASSERT).param("ids", ids.clone()),
            query("UNWIND $ids AS id MATCH (a:Artist {id: id}) REMOVE a.name WITH a WHERE NOT (a)--() DELETE a").param("ids", ids),
        ],
        Kind::Labels => vec![
            query(LABEL_UNASSERT).param("ids", ids.clone()),
            query("UNWIND $ids AS id MATCH (l:Label {id: id}) REMOVE l.name WITH l WHERE NOT (l)--() DELETE l").param("ids", ids),
        ],
    };
    run_in_transaction(graph, queries).await
}

/// Aggregate statements, run in order after an ingest changed the graph. Per-node counts go in
/// batched transactions so memory stays bounded on millions of nodes.
pub const AGGREGATES: &[(&str, &str)] = &[
    // Stubs nothing points at any more (their last referring record changed or went), and
    // genres or styles no record uses: a fresh load of the same dump would not have them.
    (
        "orphan cleanup",
        "MATCH (n) WHERE (n:Artist OR n:Label OR n:Master) AND n.name IS NULL AND n.title IS NULL AND NOT (n)--()
         CALL { WITH n DELETE n } IN TRANSACTIONS OF 10000 ROWS",
    ),
    ("style PART_OF genre", "MATCH (:Style)-[p:PART_OF]->(:Genre) DELETE p"),
    ("orphan cleanup", "MATCH (n) WHERE (n:Genre OR n:Style) AND NOT (n)--() DELETE n"),
    (
        "style PART_OF genre",
        "MATCH (r)-[:IS]->(g:Genre) WHERE r:Release OR r:Master
         WITH r, collect(g) AS genres WHERE size(genres) = 1
         MATCH (r)-[:IS]->(s:Style)
         WITH DISTINCT s, genres[0] AS g
         MERGE (s)-[:PART_OF]->(g)",
    ),
    (
        "artist release_count",
        "MATCH (a:Artist)
         CALL { WITH a SET a.release_count = COUNT { MATCH (a)<-[:BY]-(r:Release) RETURN DISTINCT r } } IN TRANSACTIONS OF 10000 ROWS",
    ),
    (
        "label counts",
        "MATCH (l:Label)
         CALL { WITH l
           SET l.release_count = COUNT { MATCH (l)<-[:ON]-(r:Release) RETURN DISTINCT r },
               l.artist_count = COUNT { MATCH (l)<-[:ON]-(:Release)-[:BY]->(a:Artist) RETURN DISTINCT a },
               l.genre_count = COUNT { MATCH (l)<-[:ON]-(:Release)-[:IS]->(g:Genre) RETURN DISTINCT g }
         } IN TRANSACTIONS OF 5000 ROWS",
    ),
    (
        "genre and style counts",
        "MATCH (n) WHERE n:Genre OR n:Style
         CALL { WITH n
           SET n.release_count = COUNT { MATCH (n)<-[:IS]-(r:Release) RETURN DISTINCT r },
               n.artist_count = COUNT { MATCH (n)<-[:IS]-(:Release)-[:BY]->(a:Artist) RETURN DISTINCT a },
               n.label_count = COUNT { MATCH (n)<-[:IS]-(:Release)-[:ON]->(l:Label) RETURN DISTINCT l },
               n.first_year = COLLECT { MATCH (n)<-[:IS]-(r:Release) WHERE r.year IS NOT NULL RETURN min(r.year) }[0]
         } IN TRANSACTIONS OF 100 ROWS",
    ),
    ("genre style_count", "MATCH (g:Genre) SET g.style_count = COUNT { (g)<-[:PART_OF]-(:Style) }"),
    ("style genre_count", "MATCH (s:Style) SET s.genre_count = COUNT { (s)-[:PART_OF]->(:Genre) }"),
];

/// Recomputes every aggregate property of SPEC §7.
///
/// # Errors
///
/// A statement failed.
pub async fn aggregate(graph: &Graph) -> Result<()> {
    for (name, statement) in AGGREGATES {
        let started = std::time::Instant::now();
        graph.run(query(statement)).await?;
        tracing::info!(
            aggregate = name,
            seconds = started.elapsed().as_secs_f64(),
            "graph aggregate computed"
        );
    }
    Ok(())
}
