//! The graph model of SPEC §7 through Bolt: how records' graph facts
//! ([`crate::record::graph`]) become nodes and relationships, how a changed or deleted record takes
//! back what it asserted; the aggregate properties are in [`aggregates`].
//!
//! Each record *owns* the relationships it asserts: a release its `BY`, `ON`, `DERIVED_FROM`, `IS`
//! and incoming `CREDITED_ON`; a master its `BY` and `IS`; an artist its `ALIAS_OF`. `MEMBER_OF`
//! and `SUBLABEL_OF` can be asserted from either end (a group's members, a member's groups), so
//! each such relationship carries a flag per end (`by_group`/`by_member`, `by_parent`/`by_child`)
//! and disappears when neither end asserts it any more. Replacing an artist or label first takes
//! back what its old version owned, then writes the new one; a replaced master or release loses
//! only the relationships its new version no longer asserts and gains only the ones it lacks (a
//! changed title does not rewrite its `IS` to a genre of millions). One transaction per batch; a
//! node referenced before its own record arrives is a stub with only its key (and zero counts),
//! and a stub nothing points at any more goes in the statement that removed its last
//! relationship.
//!
//! All Cypher here is fixed text with parameters; nothing is built from data.

use std::collections::BTreeSet;

use neo4rs::{BoltType, Graph, Query, query};

use super::neo4j::{self, Result};
use crate::record::Kind;
use crate::record::graph::{
    ArtistFacts, GraphFacts, LabelFacts, MasterFacts, ReleaseFacts, SharedFacts,
};

pub mod aggregates;
pub mod bulk;

/// A record's graph facts on their way to the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphRecord {
    pub facts: GraphFacts,
    /// The graph may hold an older version of this record: take back what it asserted first.
    pub replace: bool,
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

/// A list parameter of ids or names.
fn list<'a, T: Clone + Into<BoltType> + 'a>(items: impl IntoIterator<Item = &'a T>) -> BoltType {
    items.into_iter().cloned().map(Into::into).collect()
}

/// One batch's records, by the kind of node they define, each with its `replace` flag.
#[derive(Default)]
struct ByKind<'a> {
    artists: Vec<(&'a ArtistFacts, bool)>,
    labels: Vec<(&'a LabelFacts, bool)>,
    masters: Vec<(&'a MasterFacts, bool)>,
    releases: Vec<(&'a ReleaseFacts, bool)>,
}

impl<'a> ByKind<'a> {
    fn new(records: &'a [GraphRecord]) -> Self {
        let mut by_kind = ByKind::default();
        for record in records {
            let replace = record.replace;
            match &record.facts {
                GraphFacts::Artist(facts) => by_kind.artists.push((facts, replace)),
                GraphFacts::Label(facts) => by_kind.labels.push((facts, replace)),
                GraphFacts::Master(facts) => by_kind.masters.push((facts, replace)),
                GraphFacts::Release(facts) => by_kind.releases.push((facts, replace)),
            }
        }
        by_kind
    }

    /// The batch's queries, kinds in load order; with `replace_all`, every record takes back what
    /// an older version may have asserted.
    fn queries(&self, replace_all: bool) -> Vec<Query> {
        let mut queries = Vec::new();
        if !self.artists.is_empty() {
            queries.extend(artist_queries(&self.artists, replace_all));
        }
        if !self.labels.is_empty() {
            queries.extend(label_queries(&self.labels, replace_all));
        }
        if !self.masters.is_empty() {
            queries.extend(master_queries(&self.masters, replace_all));
        }
        if !self.releases.is_empty() {
            queries.extend(release_queries(&self.releases, replace_all));
        }
        queries
    }
}

/// The ids of the records flagged `replace`, or of all of them with `all`.
fn replaced<T>(records: &[(&T, bool)], all: bool, id: impl Fn(&T) -> i64) -> BoltType {
    records
        .iter()
        .filter(|(_, replace)| all || *replace)
        .map(|(facts, _)| id(facts))
        .collect()
}

/// Writes one batch of records: nodes first, then (for replaced records) the removal of what their
/// old versions asserted, then the relationships, in one transaction.
///
/// # Errors
///
/// The write failed for good (see [`neo4j::retry`]).
pub async fn write(graph: &Graph, records: &[GraphRecord]) -> Result<()> {
    let by_kind = ByKind::new(records);
    let mut first = Some(by_kind.queries(false));
    neo4j::retry("graph write", || {
        // A retry treats every record as replaced: if the failed attempt did commit, what it
        // wrote is found, not written twice.
        let queries = first.take().unwrap_or_else(|| by_kind.queries(true));
        run_in_transaction(graph, queries)
    })
    .await
}

/// Runs `queries` in one transaction.
async fn run_in_transaction(graph: &Graph, queries: Vec<Query>) -> Result<(), neo4rs::Error> {
    let mut txn = graph.start_txn().await?;
    txn.run_queries(queries).await?;
    txn.commit().await
}

/// A `CALL` subquery on node `$anchor` made of `$clauses`, which take back relationships between
/// it and nodes `t`; it ends by deleting each `t` that is a stub (no name, no title) nothing points
/// at any more, as a fresh load of the dump would not have it. Every statement that removes
/// relationships does this, so the graph never keeps an orphan and no pass over all nodes is
/// needed to find them.
macro_rules! drop_orphaned {
    ($anchor:literal: $($clause:literal),+ $(,)?) => {
        concat!(
            " CALL (*) { ", $($clause,)+
            " WITH DISTINCT t WHERE t <> ", $anchor,
            " AND t.name IS NULL AND t.title IS NULL AND NOT (t)--() DELETE t }"
        )
    };
}

const ARTIST_UNASSERT: &str = concat!(
    "UNWIND $ids AS id MATCH (a:Artist {id: id})",
    drop_orphaned!("a": "MATCH (a)-[r:ALIAS_OF]->(t) DELETE r"),
    drop_orphaned!("a":
        "MATCH (a)-[r:MEMBER_OF]->(t) SET r.by_member = null",
        " WITH r, t WHERE r.by_group IS NULL DELETE r"
    ),
    drop_orphaned!("a":
        "MATCH (a)<-[r:MEMBER_OF]-(t) SET r.by_group = null",
        " WITH r, t WHERE r.by_member IS NULL DELETE r"
    ),
);

/// One row per record carrying its relationships as lists, so each record's node is looked up once
/// per batch rather than once per relationship.
const ARTIST_UPSERT: &str = "
    UNWIND $rows AS row
    MERGE (a:Artist {id: row.id}) ON CREATE SET a.release_count = 0 SET a.name = row.name
    WITH a, row
    CALL (a, row) { UNWIND row.aliases AS id MERGE (b:Artist {id: id}) ON CREATE SET b.release_count = 0 CREATE (a)-[:ALIAS_OF]->(b) }
    CALL (a, row) { UNWIND row.groups AS id MERGE (g:Artist {id: id}) ON CREATE SET g.release_count = 0 MERGE (a)-[r:MEMBER_OF]->(g) SET r.by_member = true }
    CALL (a, row) { UNWIND row.members AS id MERGE (m:Artist {id: id}) ON CREATE SET m.release_count = 0 MERGE (m)-[r:MEMBER_OF]->(a) SET r.by_group = true }";

/// The queries of a kind whose records assert relationships only among their own kind (artists,
/// labels): take back what the replaced records asserted, then upsert a row per record.
fn unassert_then_upsert<T>(
    records: &[(&T, bool)],
    replace_all: bool,
    [unassert, upsert]: [&str; 2],
    id: impl Fn(&T) -> i64,
    to_row: impl Fn(&T) -> BoltType,
) -> [Query; 2] {
    let rows: Vec<BoltType> = records.iter().map(|(facts, _)| to_row(facts)).collect();
    [
        query(unassert).param("ids", replaced(records, replace_all, id)),
        query(upsert).param("rows", rows),
    ]
}

fn artist_queries(records: &[(&ArtistFacts, bool)], replace_all: bool) -> [Query; 2] {
    unassert_then_upsert(
        records,
        replace_all,
        [ARTIST_UNASSERT, ARTIST_UPSERT],
        |artist| artist.id,
        |artist| {
            row([
                ("id", artist.id.into()),
                ("aliases", list(&artist.aliases)),
                ("groups", list(&artist.groups)),
                ("members", list(&artist.members)),
                ("name", artist.name.clone().into()),
            ])
        },
    )
}

const LABEL_UNASSERT: &str = concat!(
    "UNWIND $ids AS id MATCH (l:Label {id: id})",
    drop_orphaned!("l":
        "MATCH (l)-[r:SUBLABEL_OF]->(t) SET r.by_child = null",
        " WITH r, t WHERE r.by_parent IS NULL DELETE r"
    ),
    drop_orphaned!("l":
        "MATCH (l)<-[r:SUBLABEL_OF]-(t) SET r.by_parent = null",
        " WITH r, t WHERE r.by_child IS NULL DELETE r"
    ),
);

const LABEL_UPSERT: &str = "
    UNWIND $rows AS row
    MERGE (l:Label {id: row.id}) ON CREATE SET l.release_count = 0, l.artist_count = 0, l.genre_count = 0
    SET l.name = row.name
    WITH l, row
    CALL (l, row) {
      UNWIND row.parents AS id
      MERGE (p:Label {id: id}) ON CREATE SET p.release_count = 0, p.artist_count = 0, p.genre_count = 0
      MERGE (l)-[r:SUBLABEL_OF]->(p) SET r.by_child = true }
    CALL (l, row) {
      UNWIND row.sublabels AS id
      MERGE (c:Label {id: id}) ON CREATE SET c.release_count = 0, c.artist_count = 0, c.genre_count = 0
      MERGE (c)-[r:SUBLABEL_OF]->(l) SET r.by_parent = true }";

fn label_queries(records: &[(&LabelFacts, bool)], replace_all: bool) -> [Query; 2] {
    unassert_then_upsert(
        records,
        replace_all,
        [LABEL_UNASSERT, LABEL_UPSERT],
        |label| label.id,
        |label| {
            row([
                ("id", label.id.into()),
                ("parents", list(&label.parents)),
                ("sublabels", list(&label.sublabels)),
                ("name", label.name.clone().into()),
            ])
        },
    )
}

/// [`SharedFacts`] as row entries, for [`SHARED_UPSERT`] and [`shared_stale`].
fn shared_entries(shared: &SharedFacts) -> [(&'static str, BoltType); 3] {
    [
        ("by", list(&shared.by)),
        ("genres", list(&shared.genres)),
        ("styles", list(&shared.styles)),
    ]
}
/// The `CALL` clauses for [`shared_entries`], on node `n`: each relationship its row asserts that
/// `n` lacks is created. The target nodes exist already ([`Stubs`]), so a plain `MATCH` finds
/// them: cheaper than a `MERGE` per relationship, which also locks. Whether `n` has it is asked
/// from `n`'s side, whose few relationships are quick to look through even when the target is a
/// genre with millions.
const SHARED_UPSERT: &str = "
    CALL (n, row) { UNWIND row.by AS id MATCH (a:Artist {id: id}) WHERE NOT (n)-[:BY]->(a) CREATE (n)-[:BY]->(a) }
    CALL (n, row) { UNWIND row.genres AS name MATCH (g:Genre {name: name}) WHERE NOT (n)-[:IS]->(g) CREATE (n)-[:IS]->(g) }
    CALL (n, row) { UNWIND row.styles AS name MATCH (s:Style {name: name}) WHERE NOT (n)-[:IS]->(s) CREATE (n)-[:IS]->(s) }";

/// The clauses that take back, from a replaced master or release `n`, the `BY` and `IS` its
/// row no longer asserts (the counterpart of [`SHARED_UPSERT`]): a changed record touches only the
/// relationships that changed, not, say, its `IS` to a genre with millions.
macro_rules! shared_stale {
    () => {
        concat!(
            drop_orphaned!("n": "MATCH (n)-[o:BY]->(t) WHERE NOT t.id IN row.by DELETE o"),
            " CALL (*) { MATCH (n)-[o:IS]->(t)",
            " WHERE NOT t.name IN CASE WHEN t:Genre THEN row.genres ELSE row.styles END DELETE o }",
        )
    };
}

/// The nodes a batch's relationships point at, each once: created as stubs when missing, in one
/// `MERGE` per distinct node before the relationships are written.
#[derive(Default)]
struct Stubs {
    artists: BTreeSet<i64>,
    labels: BTreeSet<i64>,
    masters: BTreeSet<i64>,
    genres: BTreeSet<String>,
    styles: BTreeSet<String>,
}

impl Stubs {
    fn add_shared(&mut self, shared: &SharedFacts) {
        self.artists.extend(&shared.by);
        self.genres.extend(shared.genres.iter().cloned());
        self.styles.extend(shared.styles.iter().cloned());
    }

    fn query(self) -> Query {
        query(
            "CALL () { UNWIND $artists AS id MERGE (a:Artist {id: id}) ON CREATE SET a.release_count = 0 }
             CALL () {
               UNWIND $labels AS id
               MERGE (l:Label {id: id}) ON CREATE SET l.release_count = 0, l.artist_count = 0, l.genre_count = 0
             }
             CALL () { UNWIND $masters AS id MERGE (:Master {id: id}) }
             CALL () { UNWIND $genres AS name MERGE (:Genre {name: name}) }
             CALL () { UNWIND $styles AS name MERGE (:Style {name: name}) }",
        )
        .param("artists", list(&self.artists))
        .param("labels", list(&self.labels))
        .param("masters", list(&self.masters))
        .param("genres", list(&self.genres))
        .param("styles", list(&self.styles))
    }
}

const MASTER_STALE: &str = concat!(
    "UNWIND $rows AS row MATCH (n:Master {id: row.id})",
    shared_stale!(),
);

const RELEASE_STALE: &str = concat!(
    "UNWIND $rows AS row MATCH (n:Release {id: row.id})",
    shared_stale!(),
    drop_orphaned!("n":
        "MATCH (n)-[o:ON]->(t) WHERE NOT {id: t.id, catno: o.catno} IN row.labels DELETE o"
    ),
    drop_orphaned!("n":
        "MATCH (n)-[o:DERIVED_FROM]->(t) WHERE NOT {id: t.id, main: o.main} IN row.masters DELETE o"
    ),
    drop_orphaned!("n":
        "MATCH (n)<-[o:CREDITED_ON]-(t) WHERE NOT {artist: t.id, role: o.role} IN row.credits DELETE o"
    ),
);

const MASTER_UNASSERT: &str = concat!(
    "UNWIND $ids AS id MATCH (m:Master {id: id})",
    drop_orphaned!("m": "MATCH (m)-[r:BY|IS]->(t) DELETE r"),
);

/// Genres and styles are never stubs (they have a name); the aggregates drop unused ones.
const RELEASE_UNASSERT: &str = concat!(
    "UNWIND $ids AS id MATCH (r:Release {id: id})",
    drop_orphaned!("r": "MATCH (r)-[o:BY|ON|DERIVED_FROM|IS]->(t) DELETE o"),
    drop_orphaned!("r": "MATCH (r)<-[c:CREDITED_ON]-(t) DELETE c"),
);

/// The rows of the records flagged `replace`, or all of them with `all`.
fn replaced_rows<T>(records: &[(&T, bool)], rows: &[BoltType], all: bool) -> BoltType {
    records
        .iter()
        .zip(rows)
        .filter(|((_, replace), _)| all || *replace)
        .map(|(_, row)| row.clone())
        .collect()
}

/// A master's or release's queries: what replaced records no longer assert goes, the stubs are
/// made, then every record's node and the relationships it lacks.
fn master_queries(records: &[(&MasterFacts, bool)], replace_all: bool) -> [Query; 3] {
    let mut rows = Vec::with_capacity(records.len());
    let mut stubs = Stubs::default();
    for (master, _) in records {
        stubs.add_shared(&master.shared);
        let [by, genres, styles] = shared_entries(&master.shared);
        rows.push(row([
            ("id", master.id.into()),
            ("title", master.title.clone().into()),
            ("year", master.year.into()),
            by,
            genres,
            styles,
        ]));
    }
    [
        query(MASTER_STALE).param("rows", replaced_rows(records, &rows, replace_all)),
        stubs.query(),
        query(&format!(
            "UNWIND $rows AS row MERGE (n:Master {{id: row.id}}) SET n.title = row.title, n.year = row.year WITH n, row {SHARED_UPSERT}"
        ))
        .param("rows", rows),
    ]
}

fn release_queries(records: &[(&ReleaseFacts, bool)], replace_all: bool) -> [Query; 3] {
    let mut rows = Vec::with_capacity(records.len());
    let mut stubs = Stubs::default();
    for (release, _) in records {
        stubs.add_shared(&release.shared);
        stubs
            .artists
            .extend(release.credits.iter().map(|(artist, _)| *artist));
        stubs
            .labels
            .extend(release.labels.iter().map(|(label, _)| *label));
        stubs
            .masters
            .extend(release.master.map(|(master, _)| master));
        let credits: BoltType = release
            .credits
            .iter()
            .map(|(artist, role)| {
                row([("artist", (*artist).into()), ("role", role.as_str().into())])
            })
            .collect();
        let labels: BoltType = release
            .labels
            .iter()
            .map(|(label, catno)| row([("id", (*label).into()), ("catno", catno.as_str().into())]))
            .collect();
        let masters: BoltType = release
            .master
            .map(|(master, main)| row([("id", master.into()), ("main", main.into())]))
            .into_iter()
            .collect();
        let [by, genres, styles] = shared_entries(&release.shared);
        rows.push(row([
            ("id", release.id.into()),
            ("title", release.title.clone().into()),
            ("year", release.year.into()),
            ("country", release.country.clone().into()),
            // No formats is no property: what the bulk import can express.
            (
                "formats",
                if release.formats.is_empty() {
                    BoltType::Null(neo4rs::BoltNull)
                } else {
                    list(&release.formats)
                },
            ),
            ("credits", credits),
            ("labels", labels),
            ("masters", masters),
            by,
            genres,
            styles,
        ]));
    }
    [
        query(RELEASE_STALE).param("rows", replaced_rows(records, &rows, replace_all)),
        stubs.query(),
        query(&format!(
            "UNWIND $rows AS row
             MERGE (n:Release {{id: row.id}})
             SET n.title = row.title, n.year = row.year, n.country = row.country, n.formats = row.formats
             WITH n, row
             CALL (n, row) {{
               UNWIND row.credits AS c MATCH (a:Artist {{id: c.artist}})
               WHERE NOT (a)-[:CREDITED_ON {{role: c.role}}]->(n) CREATE (a)-[:CREDITED_ON {{role: c.role}}]->(n) }}
             CALL (n, row) {{
               UNWIND row.labels AS l MATCH (x:Label {{id: l.id}})
               WHERE NOT (n)-[:ON {{catno: l.catno}}]->(x) CREATE (n)-[:ON {{catno: l.catno}}]->(x) }}
             CALL (n, row) {{
               UNWIND row.masters AS m MATCH (x:Master {{id: m.id}})
               WHERE NOT (n)-[:DERIVED_FROM {{main: m.main}}]->(x) CREATE (n)-[:DERIVED_FROM {{main: m.main}}]->(x) }}
             {SHARED_UPSERT}"
        ))
        .param("rows", rows),
    ]
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
        Kind::Releases => vec![
            query(RELEASE_UNASSERT).param("ids", ids.clone()),
            query("UNWIND $ids AS id MATCH (r:Release {id: id}) DETACH DELETE r").param("ids", ids),
        ],
        Kind::Masters => vec![
            query(MASTER_UNASSERT).param("ids", ids.clone()),
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
    // Deleting is idempotent, so a retry runs the same queries.
    neo4j::retry("graph deletion", || {
        run_in_transaction(graph, queries.clone())
    })
    .await
}

/// The token on the graph's `(:GraphPairing)` node, if it has one.
///
/// # Errors
///
/// The query failed.
pub async fn pairing_token(graph: &Graph) -> Result<Option<String>> {
    let mut rows = graph
        .execute(query(
            "MATCH (p:GraphPairing) RETURN p.token AS token LIMIT 1",
        ))
        .await?;
    Ok(match rows.next().await? {
        Some(row) => row.get::<String>("token").ok(),
        None => None,
    })
}

/// Marks the graph as built from the database holding `token`.
///
/// # Errors
///
/// The write failed.
pub async fn set_pairing_token(graph: &Graph, token: &str) -> Result<()> {
    graph.run(query("MATCH (p:GraphPairing) DELETE p")).await?;
    graph
        .run(query("CREATE (:GraphPairing {token: $token})").param("token", token))
        .await?;
    Ok(())
}

/// Removes every node and relationship of the data model (the migrations' bookkeeping stays), in
/// batches so that memory stays bounded on a full catalogue: relationships first, since detaching
/// a batch of nodes that includes a genre would take its millions of relationships in one
/// transaction. Returns how many relationships and nodes went.
///
/// # Errors
///
/// The write failed.
pub async fn clear(graph: &Graph) -> Result<(u64, u64)> {
    let mut removed = [0u64; 2];
    for (statement, count) in [
        "MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS RETURN count(*) AS removed",
        "MATCH (n) WHERE NOT n:SchemaMigration CALL (n) { DELETE n } IN TRANSACTIONS OF 10000 ROWS RETURN count(*) AS removed",
    ]
    .into_iter()
    .zip(&mut removed)
    {
        let mut rows = graph.execute(query(statement)).await?;
        if let Some(row) = rows.next().await? {
            *count = row.get::<u64>("removed")?;
        }
    }
    Ok((removed[0], removed[1]))
}
