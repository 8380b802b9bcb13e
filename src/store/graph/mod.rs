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
use crate::record::graph::digest::{Changed, Group};
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
    pub prior: Prior,
}

/// What the graph may hold of a record before its write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prior {
    /// Nothing: the record is new.
    Nothing,
    /// An older version, whose relationships differ in the groups flagged ([`Changed::ALL`] when
    /// that is not known): those are taken back where the new version no longer asserts them,
    /// and the others are left alone.
    Version(Changed),
}

impl Prior {
    /// The groups to write (every group of a new record), and whether what an older version
    /// asserted in them is to be taken back first; with `all`, every group of every record is
    /// written and taken back.
    fn groups(self, all: bool) -> (Changed, bool) {
        match self {
            _ if all => (Changed::ALL, true),
            Prior::Nothing => (Changed::ALL, false),
            Prior::Version(changed) => (changed, true),
        }
    }
}

/// A row entry for `group`: its `value` when `groups` has it, else `absent`, which is an empty
/// list in an upsert row (nothing to add) and null in a stale row (its clauses skip the group).
fn pick(
    groups: Changed,
    group: Group,
    absent: &BoltType,
    value: impl FnOnce() -> BoltType,
) -> BoltType {
    if groups.has(group) {
        value()
    } else {
        absent.clone()
    }
}

fn empty_list() -> BoltType {
    BoltType::List(neo4rs::BoltList::default())
}

fn null() -> BoltType {
    BoltType::Null(neo4rs::BoltNull)
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

/// One batch's records, by the kind of node they define, each with what the graph may hold.
#[derive(Default)]
struct ByKind<'a> {
    artists: Vec<(&'a ArtistFacts, Prior)>,
    labels: Vec<(&'a LabelFacts, Prior)>,
    masters: Vec<(&'a MasterFacts, Prior)>,
    releases: Vec<(&'a ReleaseFacts, Prior)>,
}

impl<'a> ByKind<'a> {
    fn new(records: &'a [GraphRecord]) -> Self {
        let mut by_kind = ByKind::default();
        for record in records {
            let prior = record.prior;
            match &record.facts {
                GraphFacts::Artist(facts) => by_kind.artists.push((facts, prior)),
                GraphFacts::Label(facts) => by_kind.labels.push((facts, prior)),
                GraphFacts::Master(facts) => by_kind.masters.push((facts, prior)),
                GraphFacts::Release(facts) => by_kind.releases.push((facts, prior)),
            }
        }
        by_kind
    }

    /// The batch's queries, kinds in load order; with `replace_all`, every record takes back all
    /// that an older version may have asserted.
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
        queries.into_iter().flatten().collect()
    }
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

/// `statement` over `rows` (its `$rows`), or no query when there are none: one that would do
/// nothing still costs its round trip, 10-20 ms each on a busy two-core machine, and a first
/// load's batches have nothing to take back.
fn unwind(statement: &str, rows: Vec<BoltType>) -> Option<Query> {
    (!rows.is_empty()).then(|| query(statement).param("rows", rows))
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
/// otherwise, or not at all. Runs before the record's relationships go; with `if`, only for the
/// rows whose `flag` is true (a changed record whose references and names stay as they were
/// leaves its stubs' names alone).
macro_rules! flag_named {
    ($kind:ident $node:literal, $pattern:literal) => {
        flag_named!(@ "", $kind $node, $pattern)
    };
    (if $kind:ident $node:literal, $pattern:literal) => {
        flag_named!(@ "WITH * WHERE row.flag ", $kind $node, $pattern)
    };
    (@ $guard:literal, $kind:ident $node:literal, $pattern:literal) => {
        concat!(
            " CALL (*) { ", $guard, "MATCH ", $pattern, " WHERE t.named_by = ", key_of!($kind $node),
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

/// Takes back, for each row (see [`unassert_row`]), what the artist asserted in the groups the
/// row flags.
const ARTIST_UNASSERT: &str = concat!(
    "UNWIND $rows AS row MATCH (a:Artist {id: row.id})",
    flag_named!(if artist "a", "(a)-[:ALIAS_OF|MEMBER_OF]-(t)"),
    drop_orphaned!("a": "WITH * WHERE row.first MATCH (a)-[r:ALIAS_OF]->(t) DELETE r"),
    drop_orphaned!("a":
        "WITH * WHERE row.second MATCH (a)-[r:MEMBER_OF]->(t) SET r.by_member = null",
        " WITH r, t WHERE r.by_group IS NULL DELETE r"
    ),
    drop_orphaned!("a":
        "WITH * WHERE row.third MATCH (a)<-[r:MEMBER_OF]-(t) SET r.by_group = null",
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

/// The groups of relationships an artist or label asserts among its own kind, in the order of
/// [`unassert_row`]'s fields.
const ARTIST_GROUPS: &[Group] = &[Group::Aliases, Group::Groups, Group::Members];
const LABEL_GROUPS: &[Group] = &[Group::Parents, Group::Sublabels];

/// An unassert row of an artist or label ([`ARTIST_UNASSERT`], [`LABEL_UNASSERT`]): its id,
/// whether to take back each of the groups `owned` that `groups` has (`first`, `second`,
/// `third`: an artist's aliases, groups and members; a label's parents and sublabels), and
/// whether to flag the stubs it named (`flag`).
fn unassert_row(id: i64, groups: Changed, owned: &[Group]) -> BoltType {
    let has = |index: usize| owned.get(index).is_some_and(|&group| groups.has(group));
    let flag = groups.has(Group::Names) || (0..owned.len()).any(has);
    row([
        ("id", id.into()),
        ("first", has(0).into()),
        ("second", has(1).into()),
        ("third", has(2).into()),
        ("flag", flag.into()),
    ])
}

/// The queries of a kind whose records assert relationships only among their own kind (artists,
/// labels): take back what the replaced records asserted in the groups that changed, then upsert
/// a row per record, which asserts those groups again. `to_row` gives a record's row with the
/// references of the groups given, and none of the others.
fn unassert_then_upsert<T>(
    records: &[(&T, Prior)],
    replace_all: bool,
    [unassert, upsert]: [&str; 2],
    owned: &[Group],
    id: impl Fn(&T) -> i64,
    to_row: impl Fn(&T, Changed) -> BoltType,
) -> [Option<Query>; 2] {
    let mut unassert_rows = Vec::new();
    let mut rows = Vec::with_capacity(records.len());
    for &(facts, prior) in records {
        let (groups, replace) = prior.groups(replace_all);
        // Names are given in the upsert as references are asserted: a record that names its
        // references otherwise asserts them all again, as it may now be a stub's first namer.
        let groups = stub_groups(groups);
        if replace && !groups.is_empty() {
            unassert_rows.push(unassert_row(id(facts), groups, owned));
        }
        rows.push(to_row(facts, groups));
    }
    [unwind(unassert, unassert_rows), unwind(upsert, rows)]
}

fn artist_queries(records: &[(&ArtistFacts, Prior)], replace_all: bool) -> [Option<Query>; 2] {
    unassert_then_upsert(
        records,
        replace_all,
        [ARTIST_UNASSERT, ARTIST_UPSERT],
        ARTIST_GROUPS,
        |artist| artist.id,
        |artist, groups| {
            let named = |group, ids: &[i64]| {
                pick(groups, group, &empty_list(), || {
                    named_references(ids, &artist.names.artists)
                })
            };
            row([
                ("id", artist.id.into()),
                ("key", referrer_key(Kind::Artists, artist.id).into()),
                ("aliases", named(Group::Aliases, &artist.aliases)),
                ("groups", named(Group::Groups, &artist.groups)),
                ("members", named(Group::Members, &artist.members)),
                ("name", artist.name.clone().into()),
            ])
        },
    )
}

/// Takes back, for each row (see [`unassert_row`]), what the label asserted in the groups the row
/// flags.
const LABEL_UNASSERT: &str = concat!(
    "UNWIND $rows AS row MATCH (l:Label {id: row.id})",
    flag_named!(if label "l", "(l)-[:SUBLABEL_OF]-(t)"),
    drop_orphaned!("l":
        "WITH * WHERE row.first MATCH (l)-[r:SUBLABEL_OF]->(t) SET r.by_child = null",
        " WITH r, t WHERE r.by_parent IS NULL DELETE r"
    ),
    drop_orphaned!("l":
        "WITH * WHERE row.second MATCH (l)<-[r:SUBLABEL_OF]-(t) SET r.by_parent = null",
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

fn label_queries(records: &[(&LabelFacts, Prior)], replace_all: bool) -> [Option<Query>; 2] {
    unassert_then_upsert(
        records,
        replace_all,
        [LABEL_UNASSERT, LABEL_UPSERT],
        LABEL_GROUPS,
        |label| label.id,
        |label, groups| {
            let named = |group, ids: &[i64]| {
                pick(groups, group, &empty_list(), || {
                    named_references(ids, &label.names.labels)
                })
            };
            row([
                ("id", label.id.into()),
                ("key", referrer_key(Kind::Labels, label.id).into()),
                ("parents", named(Group::Parents, &label.parents)),
                ("sublabels", named(Group::Sublabels, &label.sublabels)),
                ("name", label.name.clone().into()),
            ])
        },
    )
}

/// [`SharedFacts`] as row entries, for [`shared_upsert`] and [`shared_stale`]: the lists of the
/// `groups` given, `absent` for the others.
fn shared_entries(
    shared: &SharedFacts,
    groups: Changed,
    absent: &BoltType,
) -> [(&'static str, BoltType); 3] {
    [
        ("by", pick(groups, Group::By, absent, || list(&shared.by))),
        (
            "genres",
            pick(groups, Group::Is, absent, || list(&shared.genres)),
        ),
        (
            "styles",
            pick(groups, Group::Is, absent, || list(&shared.styles)),
        ),
    ]
}
/// `CREATE pattern`; `guarded`, only where the node lacks that relationship. A new record's node
/// has none of its own yet, so its relationships are created unasked: PostgreSQL, written before
/// the graph and deleted from after it, lists every record the graph may hold, a release is never
/// a stub, and a master stub has no `BY` or `IS`. A replaced record keeps those it still asserts,
/// and a retried batch finds what the failed attempt may have written. Whether the node has it is
/// asked from the node's side, whose few relationships are quick to look through even when the
/// target is a genre with millions.
fn create(pattern: &str, guarded: bool) -> String {
    if guarded {
        format!("WHERE NOT {pattern} CREATE {pattern}")
    } else {
        format!("CREATE {pattern}")
    }
}

/// The `CALL` clauses for [`shared_entries`], on node `n`: each relationship its row asserts is
/// created ([`create`]). The target nodes exist already ([`Stubs`]), so a plain `MATCH` finds
/// them: cheaper than a `MERGE` per relationship, which also locks.
fn shared_upsert(guarded: bool) -> String {
    format!(
        "CALL (n, row) {{ UNWIND row.by AS id MATCH (a:Artist {{id: id}}) {} }}
         CALL (n, row) {{ UNWIND row.genres AS name MATCH (g:Genre {{name: name}}) {} }}
         CALL (n, row) {{ UNWIND row.styles AS name MATCH (s:Style {{name: name}}) {} }}",
        create("(n)-[:BY]->(a)", guarded),
        create("(n)-[:IS]->(g)", guarded),
        create("(n)-[:IS]->(s)", guarded),
    )
}

/// The clauses that take back, from a replaced master or release `n`, the `BY` and `IS` its
/// row no longer asserts (the counterpart of [`shared_upsert`]): a changed record touches only the
/// relationships that changed, not, say, its `IS` to a genre with millions. A group whose list
/// is null in the row did not change, and is not looked at.
macro_rules! shared_stale {
    () => {
        concat!(
            drop_orphaned!("n":
                "WITH * WHERE row.by IS NOT NULL MATCH (n)-[o:BY]->(t) WHERE NOT t.id IN row.by DELETE o"
            ),
            " CALL (*) { WITH * WHERE row.genres IS NOT NULL MATCH (n)-[o:IS]->(t)",
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
    /// Adds the nodes of the `groups` of `shared`.
    fn add_shared(
        &mut self,
        shared: &SharedFacts,
        groups: Changed,
        names: &ReferenceNames,
        key: i64,
    ) {
        if groups.has(Group::By) {
            let by = shared.by.iter().copied();
            add_named(&mut self.artists, by, &names.artists, key);
        }
        if groups.has(Group::Is) {
            self.genres.extend(shared.genres.iter().cloned());
            self.styles.extend(shared.styles.iter().cloned());
        }
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
    flag_named!(if master "n", "(n)-[:BY]->(t)"),
    shared_stale!(),
);

const RELEASE_STALE: &str = concat!(
    "UNWIND $rows AS row MATCH (n:Release {id: row.id})",
    flag_named!(if release "n", "(n)-[:BY|ON]->(t)"),
    flag_named!(if release "n", "(n)<-[:CREDITED_ON]-(t)"),
    shared_stale!(),
    drop_orphaned!("n":
        "WITH * WHERE row.labels IS NOT NULL MATCH (n)-[o:ON]->(t)",
        " WHERE NOT {id: t.id, catno: o.catno} IN row.labels DELETE o"
    ),
    drop_orphaned!("n":
        "WITH * WHERE row.masters IS NOT NULL MATCH (n)-[o:DERIVED_FROM]->(t)",
        " WHERE NOT {id: t.id, main: o.main} IN row.masters DELETE o"
    ),
    drop_orphaned!("n":
        "WITH * WHERE row.credits IS NOT NULL MATCH (n)<-[o:CREDITED_ON]-(t)",
        " WHERE NOT {artist: t.id, role: o.role} IN row.credits DELETE o"
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

/// The groups of a record whose references are to be named: those written, and all of them when
/// the names it gives changed (it may now name a stub it referenced before).
fn stub_groups(groups: Changed) -> Changed {
    if groups.has(Group::Names) {
        Changed::ALL
    } else {
        groups
    }
}

/// Whether a replaced master or release flags the stubs it named: when it references other nodes
/// or names them otherwise.
fn flags(groups: Changed) -> bool {
    [Group::By, Group::On, Group::CreditedOn, Group::Names]
        .into_iter()
        .any(|group| groups.has(group))
}

/// A batch's master or release rows: new records' (their relationships created unasked, see
/// [`create`]) and replaced ones'.
#[derive(Default)]
struct Rows {
    new: Vec<BoltType>,
    replaced: Vec<BoltType>,
}

impl Rows {
    fn push(&mut self, replaced: bool, row: BoltType) {
        if replaced {
            self.replaced.push(row);
        } else {
            self.new.push(row);
        }
    }
}

/// A master's or release's queries: what replaced records no longer assert goes, the stubs are
/// made, then the replaced records' nodes and the relationships they lack, and the new records'
/// nodes and all of theirs. A replaced record's rows carry only the groups that changed.
fn master_queries(records: &[(&MasterFacts, Prior)], replace_all: bool) -> [Option<Query>; 4] {
    let mut rows = Rows::default();
    let mut stale = Vec::new();
    let mut stubs = Stubs::default();
    for &(master, prior) in records {
        let key = referrer_key(Kind::Masters, master.id);
        let (groups, replace) = prior.groups(replace_all);
        stubs.add_shared(&master.shared, stub_groups(groups), &master.names, key);
        let [by, genres, styles] = shared_entries(&master.shared, groups, &empty_list());
        if replace && !groups.is_empty() {
            let [by, genres, styles] = shared_entries(&master.shared, groups, &null());
            stale.push(row([
                ("id", master.id.into()),
                ("flag", flags(groups).into()),
                by,
                genres,
                styles,
            ]));
        }
        rows.push(
            replace,
            row([
                ("id", master.id.into()),
                ("title", master.title.clone().into()),
                ("year", master.year.into()),
                by,
                genres,
                styles,
            ]),
        );
    }
    let upsert = |guarded| {
        format!(
            "UNWIND $rows AS row MERGE (n:Master {{id: row.id}})
             SET n.title = row.title, n.year = row.year WITH n, row {}",
            shared_upsert(guarded)
        )
    };
    [
        unwind(MASTER_STALE, stale),
        Some(stubs.query()),
        unwind(&upsert(true), rows.replaced),
        unwind(&upsert(false), rows.new),
    ]
}

/// A release's `credits`, `labels` and `masters` row entries, each of the `groups` given, or
/// `absent`.
fn release_entries(
    release: &ReleaseFacts,
    groups: Changed,
    absent: &BoltType,
) -> [(&'static str, BoltType); 3] {
    let credits = || -> BoltType {
        let credits = release.credits.iter().map(|(artist, role)| {
            row([("artist", (*artist).into()), ("role", role.as_str().into())])
        });
        credits.collect()
    };
    let labels = || -> BoltType {
        let labels = release
            .labels
            .iter()
            .map(|(label, catno)| row([("id", (*label).into()), ("catno", catno.as_str().into())]));
        labels.collect()
    };
    let masters = || -> BoltType {
        let master = release
            .master
            .map(|(master, main)| row([("id", master.into()), ("main", main.into())]));
        master.into_iter().collect()
    };
    [
        ("credits", pick(groups, Group::CreditedOn, absent, credits)),
        ("labels", pick(groups, Group::On, absent, labels)),
        ("masters", pick(groups, Group::DerivedFrom, absent, masters)),
    ]
}

fn release_queries(records: &[(&ReleaseFacts, Prior)], replace_all: bool) -> [Option<Query>; 4] {
    let mut rows = Rows::default();
    let mut stale = Vec::new();
    let mut stubs = Stubs::default();
    for &(release, prior) in records {
        let key = referrer_key(Kind::Releases, release.id);
        let (groups, replace) = prior.groups(replace_all);
        let referenced = stub_groups(groups);
        stubs.add_shared(&release.shared, referenced, &release.names, key);
        if referenced.has(Group::CreditedOn) {
            let credited = release.credits.iter().map(|(artist, _)| *artist);
            add_named(&mut stubs.artists, credited, &release.names.artists, key);
        }
        if referenced.has(Group::On) {
            let labels = release.label_ids();
            add_named(&mut stubs.labels, labels, &release.names.labels, key);
        }
        if referenced.has(Group::DerivedFrom) {
            stubs
                .masters
                .extend(release.master.map(|(master, _)| master));
        }
        if replace && !groups.is_empty() {
            let [by, genres, styles] = shared_entries(&release.shared, groups, &null());
            let [credits, labels, masters] = release_entries(release, groups, &null());
            stale.push(row([
                ("id", release.id.into()),
                ("flag", flags(groups).into()),
                by,
                genres,
                styles,
                credits,
                labels,
                masters,
            ]));
        }
        let [by, genres, styles] = shared_entries(&release.shared, groups, &empty_list());
        let [credits, labels, masters] = release_entries(release, groups, &empty_list());
        rows.push(
            replace,
            row([
                ("id", release.id.into()),
                ("title", release.title.clone().into()),
                ("year", release.year.into()),
                ("country", release.country.clone().into()),
                // No formats is no property: what the bulk import can express.
                (
                    "formats",
                    if release.formats.is_empty() {
                        null()
                    } else {
                        list(&release.formats)
                    },
                ),
                credits,
                labels,
                masters,
                by,
                genres,
                styles,
            ]),
        );
    }
    let upsert = |guarded| {
        format!(
            "UNWIND $rows AS row
             MERGE (n:Release {{id: row.id}})
             SET n.title = row.title, n.year = row.year, n.country = row.country, n.formats = row.formats
             WITH n, row
             CALL (n, row) {{ UNWIND row.credits AS c MATCH (a:Artist {{id: c.artist}}) {} }}
             CALL (n, row) {{ UNWIND row.labels AS l MATCH (x:Label {{id: l.id}}) {} }}
             CALL (n, row) {{ UNWIND row.masters AS m MATCH (x:Master {{id: m.id}}) {} }}
             {}",
            create("(a)-[:CREDITED_ON {role: c.role}]->(n)", guarded),
            create("(n)-[:ON {catno: l.catno}]->(x)", guarded),
            create("(n)-[:DERIVED_FROM {main: m.main}]->(x)", guarded),
            shared_upsert(guarded)
        )
    };
    [
        unwind(RELEASE_STALE, stale),
        Some(stubs.query()),
        unwind(&upsert(true), rows.replaced),
        unwind(&upsert(false), rows.new),
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
    let unassert_all = |owned| -> BoltType {
        let rows = ids.iter().map(|&id| unassert_row(id, Changed::ALL, owned));
        rows.collect()
    };
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
            query(ARTIST_UNASSERT).param("rows", unassert_all(ARTIST_GROUPS)),
            query(concat!("UNWIND $ids AS id MATCH (a:Artist {id: id}) ", unmake!("a"))).param("ids", ids),
        ],
        Kind::Labels => vec![
            query(LABEL_UNASSERT).param("rows", unassert_all(LABEL_GROUPS)),
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
