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
//! node referenced before its own record arrives is a stub with its key, zero counts and the name
//! its first referrer gives it (see [`stubs`]), and a stub nothing points at any more goes in the
//! statement that removed its last relationship.
//!
//! All Cypher here is fixed text with parameters; nothing is built from data.

use std::collections::{BTreeMap, BTreeSet};

use neo4rs::{BoltType, Graph, Query, query};

use super::neo4j::{self, Result};
use crate::record::Kind;
use crate::record::graph::{
    ArtistFacts, GraphFacts, LabelFacts, MasterFacts, ReferenceNames, ReleaseFacts, SharedFacts,
    referrer_key,
};

pub mod aggregates;
pub mod bulk;
pub mod profiles;
pub mod stubs;

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

/// `{id, name}` rows for the referenced `ids`, each with the name `names` gives it, if any.
fn named_references(ids: &[i64], names: &[(i64, String)]) -> BoltType {
    ids.iter()
        .map(|&id| {
            row([
                ("id", id.into()),
                (
                    "name",
                    ReferenceNames::of(names, id).map(str::to_owned).into(),
                ),
            ])
        })
        .collect()
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
    // Its bookmark is dropped: the API's reads on a cluster's secondaries may trail this write
    // by the replication delay (docs/deploy.md).
    txn.commit().await.map(drop)
}

/// A `CALL` subquery on node `$anchor` made of `$clauses`, which take back relationships between
/// it and nodes `t`; it ends by deleting each `t` that is a stub (an artist or label with a
/// `named_by`, a master without a title) nothing points at any more, as a fresh load of the dump
/// would not have it. Every statement that removes relationships does this, so the graph never
/// keeps an orphan and no pass over all nodes is needed to find them.
macro_rules! drop_orphaned {
    ($anchor:literal: $($clause:literal),+ $(,)?) => {
        concat!(
            " CALL (*) { ", $($clause,)+
            " WITH DISTINCT t WHERE t <> ", $anchor, " AND ", is_stub!("t"), " AND NOT (t)--() DELETE t }"
        )
    };
}

/// Whether node `$node` is a stub: referenced, but without a record of its own.
macro_rules! is_stub {
    ($node:literal) => {
        concat!(
            "(",
            $node,
            ".named_by IS NOT NULL OR ",
            $node,
            ":Master AND ",
            $node,
            ".title IS NULL)"
        )
    };
}
pub(crate) use is_stub;

/// [`crate::record::graph::UNNAMED`] as Cypher text.
macro_rules! unnamed {
    () => {
        "9223372036854775807"
    };
}

/// A `CALL` that flags for renaming ([`stubs::rename`]) each stub `t` of `$pattern` that the
/// record `$node` (of kind `$kind`), being replaced or deleted, named: its new version may name it
/// otherwise, or not at all. Runs before the record's relationships go.
macro_rules! flag_named {
    ($kind:ident $node:literal, $pattern:literal) => {
        concat!(
            " CALL (*) { MATCH ", $pattern, " WHERE t.named_by = ", key_of!($kind $node),
            " SET t.rename = true }"
        )
    };
}

/// [`referrer_key`] of artist `a`, label `l`, master `n` or `m`, release `n` or `r`, in Cypher.
macro_rules! key_of {
    (artist $node:literal) => {
        concat!($node, ".id")
    };
    (label $node:literal) => {
        concat!("72057594037927936 + ", $node, ".id")
    };
    (master $node:literal) => {
        concat!("144115188075855872 + ", $node, ".id")
    };
    (release $node:literal) => {
        concat!("216172782113783808 + ", $node, ".id")
    };
}

/// `MERGE`s node `$node` with label `$label` and id `x.id`, created as a stub: no name yet, and
/// the zero counts `$counts`.
macro_rules! merge_stub {
    ($node:literal, $label:literal, $counts:literal) => {
        concat!(
            " MERGE (",
            $node,
            ":",
            $label,
            " {id: x.id}) ON CREATE SET ",
            $node,
            ".named_by = ",
            unnamed!(),
            ", ",
            $counts
        )
    };
}

/// Gives stub `$node` the name `x.name` when the record of `row` (whose key is `row.key`) comes
/// before the referrer that named it so far. A node with a record of its own has no `named_by`
/// and keeps its record's name.
macro_rules! name_stub {
    ($node:literal) => {
        concat!(
            " FOREACH (_ IN CASE WHEN x.name IS NOT NULL AND row.key <= ",
            $node,
            ".named_by THEN [1] ELSE [] END | SET ",
            $node,
            ".name = x.name, ",
            $node,
            ".named_by = row.key)"
        )
    };
}

const ARTIST_UNASSERT: &str = concat!(
    "UNWIND $ids AS id MATCH (a:Artist {id: id})",
    flag_named!(artist "a", "(a)-[:ALIAS_OF|MEMBER_OF]-(t)"),
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
/// Each referenced artist is merged as a stub if missing and, while a stub, takes the name `row`
/// gives it if `row`'s record comes first among its referrers ([`name_stub`]).
const ARTIST_UPSERT: &str = concat!(
    "UNWIND $rows AS row
     MERGE (a:Artist {id: row.id}) ON CREATE SET a.release_count = 0
     SET a.name = row.name REMOVE a.named_by, a.rename
     WITH a, row
     CALL (a, row) { UNWIND row.aliases AS x ",
    merge_stub!("b", "Artist", "b.release_count = 0"),
    name_stub!("b"),
    " CREATE (a)-[:ALIAS_OF]->(b) }
     CALL (a, row) { UNWIND row.groups AS x ",
    merge_stub!("b", "Artist", "b.release_count = 0"),
    name_stub!("b"),
    " MERGE (a)-[r:MEMBER_OF]->(b) SET r.by_member = true }
     CALL (a, row) { UNWIND row.members AS x ",
    merge_stub!("b", "Artist", "b.release_count = 0"),
    name_stub!("b"),
    " MERGE (b)-[r:MEMBER_OF]->(a) SET r.by_group = true }"
);

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
            let named = |ids: &[i64]| named_references(ids, &artist.names.artists);
            row([
                ("id", artist.id.into()),
                ("key", referrer_key(Kind::Artists, artist.id).into()),
                ("aliases", named(&artist.aliases)),
                ("groups", named(&artist.groups)),
                ("members", named(&artist.members)),
                ("name", artist.name.clone().into()),
            ])
        },
    )
}

const LABEL_UNASSERT: &str = concat!(
    "UNWIND $ids AS id MATCH (l:Label {id: id})",
    flag_named!(label "l", "(l)-[:SUBLABEL_OF]-(t)"),
    drop_orphaned!("l":
        "MATCH (l)-[r:SUBLABEL_OF]->(t) SET r.by_child = null",
        " WITH r, t WHERE r.by_parent IS NULL DELETE r"
    ),
    drop_orphaned!("l":
        "MATCH (l)<-[r:SUBLABEL_OF]-(t) SET r.by_parent = null",
        " WITH r, t WHERE r.by_child IS NULL DELETE r"
    ),
);

const LABEL_UPSERT: &str = concat!(
    "UNWIND $rows AS row
     MERGE (l:Label {id: row.id}) ON CREATE SET l.release_count = 0, l.artist_count = 0, l.genre_count = 0
     SET l.name = row.name REMOVE l.named_by, l.rename
     WITH l, row
     CALL (l, row) { UNWIND row.parents AS x ",
    merge_stub!("p", "Label", "p.release_count = 0, p.artist_count = 0, p.genre_count = 0"),
    name_stub!("p"),
    " MERGE (l)-[r:SUBLABEL_OF]->(p) SET r.by_child = true }
     CALL (l, row) { UNWIND row.sublabels AS x ",
    merge_stub!("c", "Label", "c.release_count = 0, c.artist_count = 0, c.genre_count = 0"),
    name_stub!("c"),
    " MERGE (c)-[r:SUBLABEL_OF]->(l) SET r.by_parent = true }"
);

fn label_queries(records: &[(&LabelFacts, bool)], replace_all: bool) -> [Query; 2] {
    unassert_then_upsert(
        records,
        replace_all,
        [LABEL_UNASSERT, LABEL_UPSERT],
        |label| label.id,
        |label| {
            let named = |ids: &[i64]| named_references(ids, &label.names.labels);
            row([
                ("id", label.id.into()),
                ("key", referrer_key(Kind::Labels, label.id).into()),
                ("parents", named(&label.parents)),
                ("sublabels", named(&label.sublabels)),
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
/// `MERGE` per distinct node before the relationships are written. Artists and labels carry the
/// name the batch's first referrer of each gives it (its key and name), if any does.
#[derive(Default)]
struct Stubs {
    artists: BTreeMap<i64, Option<(i64, String)>>,
    labels: BTreeMap<i64, Option<(i64, String)>>,
    masters: BTreeSet<i64>,
    genres: BTreeSet<String>,
    styles: BTreeSet<String>,
}

/// Adds the nodes `ids` referenced by the record with key `key`, which names some of them.
fn add_named(
    stubs: &mut BTreeMap<i64, Option<(i64, String)>>,
    ids: impl IntoIterator<Item = i64>,
    names: &[(i64, String)],
    key: i64,
) {
    for id in ids {
        let namer = stubs.entry(id).or_default();
        if let Some(name) = ReferenceNames::of(names, id)
            && namer.as_ref().is_none_or(|(first, _)| key < *first)
        {
            *namer = Some((key, name.to_owned()));
        }
    }
}

/// The `{id, key, name}` rows of [`Stubs`]' artists or labels.
fn stub_rows(stubs: &BTreeMap<i64, Option<(i64, String)>>) -> BoltType {
    stubs
        .iter()
        .map(|(&id, namer)| {
            let (key, name) = namer
                .as_ref()
                .map_or((None, None), |(key, name)| (Some(*key), Some(name.clone())));
            row([
                ("id", id.into()),
                ("key", key.into()),
                ("name", name.into()),
            ])
        })
        .collect()
}

impl Stubs {
    fn add_shared(&mut self, shared: &SharedFacts, names: &ReferenceNames, key: i64) {
        add_named(
            &mut self.artists,
            shared.by.iter().copied(),
            &names.artists,
            key,
        );
        self.genres.extend(shared.genres.iter().cloned());
        self.styles.extend(shared.styles.iter().cloned());
    }

    fn query(self) -> Query {
        query(concat!(
            "CALL () { UNWIND $artists AS x",
            merge_stub!("a", "Artist", "a.release_count = 0"),
            " WITH a, x WHERE x.key <= a.named_by SET a.name = x.name, a.named_by = x.key }
             CALL () { UNWIND $labels AS x",
            merge_stub!(
                "l",
                "Label",
                "l.release_count = 0, l.artist_count = 0, l.genre_count = 0"
            ),
            " WITH l, x WHERE x.key <= l.named_by SET l.name = x.name, l.named_by = x.key }
             CALL () { UNWIND $masters AS id MERGE (:Master {id: id}) }
             CALL () { UNWIND $genres AS name MERGE (:Genre {name: name}) }
             CALL () { UNWIND $styles AS name MERGE (:Style {name: name}) }",
        ))
        .param("artists", stub_rows(&self.artists))
        .param("labels", stub_rows(&self.labels))
        .param("masters", list(&self.masters))
        .param("genres", list(&self.genres))
        .param("styles", list(&self.styles))
    }
}

const MASTER_STALE: &str = concat!(
    "UNWIND $rows AS row MATCH (n:Master {id: row.id})",
    flag_named!(master "n", "(n)-[:BY]->(t)"),
    shared_stale!(),
);

const RELEASE_STALE: &str = concat!(
    "UNWIND $rows AS row MATCH (n:Release {id: row.id})",
    flag_named!(release "n", "(n)-[:BY|ON]->(t)"),
    flag_named!(release "n", "(n)<-[:CREDITED_ON]-(t)"),
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
    flag_named!(master "m", "(m)-[:BY]->(t)"),
    drop_orphaned!("m": "MATCH (m)-[r:BY|IS]->(t) DELETE r"),
);

/// Genres and styles are never stubs (they have a name); the aggregates drop unused ones.
const RELEASE_UNASSERT: &str = concat!(
    "UNWIND $ids AS id MATCH (r:Release {id: id})",
    flag_named!(release "r", "(r)-[:BY|ON]->(t)"),
    flag_named!(release "r", "(r)<-[:CREDITED_ON]-(t)"),
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
        let key = referrer_key(Kind::Masters, master.id);
        stubs.add_shared(&master.shared, &master.names, key);
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
        let key = referrer_key(Kind::Releases, release.id);
        stubs.add_shared(&release.shared, &release.names, key);
        add_named(
            &mut stubs.artists,
            release.credits.iter().map(|(artist, _)| *artist),
            &release.names.artists,
            key,
        );
        add_named(
            &mut stubs.labels,
            release.label_ids(),
            &release.names.labels,
            key,
        );
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

/// Turns artist or label `$node`, whose record is deleted, back into a stub to be named from its
/// referrers ([`stubs::rename`]), or removes it when nothing references it.
macro_rules! unmake {
    ($node:literal) => {
        concat!(
            "REMOVE ",
            $node,
            ".name SET ",
            $node,
            ".named_by = ",
            unnamed!(),
            ", ",
            $node,
            ".rename = true WITH ",
            $node,
            " WHERE NOT (",
            $node,
            ")--() DELETE ",
            $node
        )
    };
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
            query(concat!("UNWIND $ids AS id MATCH (a:Artist {id: id}) ", unmake!("a"))).param("ids", ids),
        ],
        Kind::Labels => vec![
            query(LABEL_UNASSERT).param("ids", ids.clone()),
            query(concat!("UNWIND $ids AS id MATCH (l:Label {id: id}) ", unmake!("l"))).param("ids", ids),
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

/// The graph's bookmark as it is now: that of a transaction in write mode (so, on a cluster, on
/// the leader) that writes nothing, begun after every write of the ingest was acknowledged, so
/// that it covers them all. `None` when the server gives none.
///
/// # Errors
///
/// The transaction failed for good.
pub async fn bookmark(graph: &Graph) -> Result<Option<String>> {
    neo4j::retry("graph bookmark", || async {
        let mut txn = graph.start_txn().await?;
        txn.run(query("RETURN 1")).await?;
        txn.commit().await
    })
    .await
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

#[cfg(test)]
mod tests {
    use crate::record::Kind;
    use crate::record::graph::{UNNAMED, referrer_key};

    /// The Cypher spellings of the keys are the keys.
    #[test]
    fn cypher_keys_are_the_referrer_keys() {
        let key_in_cypher = |text: &str, id: i64| -> i64 {
            let offset = text.split(" + ").next().and_then(|n| n.parse().ok());
            offset.unwrap_or(0) + id
        };
        assert_eq!(
            key_in_cypher(key_of!(artist "n"), 7),
            referrer_key(Kind::Artists, 7)
        );
        assert_eq!(
            key_in_cypher(key_of!(label "n"), 7),
            referrer_key(Kind::Labels, 7)
        );
        assert_eq!(
            key_in_cypher(key_of!(master "n"), 7),
            referrer_key(Kind::Masters, 7)
        );
        assert_eq!(
            key_in_cypher(key_of!(release "n"), 7),
            referrer_key(Kind::Releases, 7)
        );
        assert_eq!(unnamed!(), UNNAMED.to_string());
    }
}
