//! A digest of each group of relationships a record asserts, stored with the record: when a
//! changed record comes, the groups whose digests match what the stored version had are what the
//! graph holds already, and the graph write leaves them alone. A month's edit usually changes a
//! title or one list, not the dozens of credits and labels of a release.
//!
//! A release's credits as PostgreSQL's `credits` table holds them are digested the same way, so
//! that an update whose credits did not change leaves that table unread and unwritten.
//!
//! A digest that differs although the group did not (another build hashing differently) only
//! costs a rewrite of that group; groups that differ with the same 64-bit digest are the one way
//! to miss a change, at odds of 2⁻⁶⁴ per group.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::{GraphFacts, ReferenceNames};
use crate::record::Kind;

/// A group of what records of some kind assert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `BY` (releases, masters).
    By,
    /// `IS`, genres and styles (releases, masters).
    Is,
    /// `ON`, with catalogue numbers (releases).
    On,
    /// `DERIVED_FROM` (releases).
    DerivedFrom,
    /// `CREDITED_ON` (releases).
    CreditedOn,
    /// `ALIAS_OF` (artists).
    Aliases,
    /// `MEMBER_OF` towards the artist's groups.
    Groups,
    /// `MEMBER_OF` from the artist's members.
    Members,
    /// `SUBLABEL_OF` towards the label's parents.
    Parents,
    /// `SUBLABEL_OF` from the label's sublabels.
    Sublabels,
    /// The names the record gives the stubs it references (every kind).
    Names,
    /// Who is credited with what, with the release's year: its rows in PostgreSQL's `credits`,
    /// not in the graph (releases).
    People,
}

impl Group {
    /// The groups of `kind`, in the order of its digests.
    pub fn of(kind: Kind) -> &'static [Group] {
        match kind {
            Kind::Artists => &[Group::Aliases, Group::Groups, Group::Members, Group::Names],
            Kind::Labels => &[Group::Parents, Group::Sublabels, Group::Names],
            Kind::Masters => &[Group::By, Group::Is, Group::Names],
            Kind::Releases => &[
                Group::By,
                Group::Is,
                Group::On,
                Group::DerivedFrom,
                Group::CreditedOn,
                Group::Names,
                Group::People,
            ],
        }
    }

    fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// Which groups of a record differ from the version the graph holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Changed(u16);

impl Changed {
    /// Every group: what the graph holds of the record is not known.
    pub const ALL: Changed = Changed(u16::MAX);

    /// The groups whose digests in `new` differ from those in `stored` (both as
    /// [`GraphFacts::digests`] gives them for `kind`); `None` if `stored` is not of that shape.
    pub fn between(kind: Kind, new: &[u8], stored: &[u8]) -> Option<Changed> {
        let groups = Group::of(kind);
        if new.len() != groups.len() * 8 || stored.len() != new.len() {
            return None;
        }
        let differs = new.chunks_exact(8).zip(stored.chunks_exact(8));
        let bits = groups
            .iter()
            .zip(differs)
            .filter(|(_, (new, stored))| new != stored)
            .fold(0, |bits, (group, _)| bits | group.bit());
        Some(Changed(bits))
    }

    pub fn has(self, group: Group) -> bool {
        self.0 & group.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Only the groups the graph holds.
    pub fn in_graph(self) -> Changed {
        Changed(self.0 & !Group::People.bit())
    }
}

fn digest(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

impl GraphFacts {
    /// The digest of each of its kind's [`Group`]s, in their order, as little-endian bytes: what
    /// is stored beside the record.
    pub fn digests(&self) -> Vec<u8> {
        let names = |names: &ReferenceNames| digest(&(&names.artists, &names.labels));
        let digests: Vec<u64> = match self {
            GraphFacts::Artist(facts) => vec![
                digest(&facts.aliases),
                digest(&facts.groups),
                digest(&facts.members),
                names(&facts.names),
            ],
            GraphFacts::Label(facts) => vec![
                digest(&facts.parents),
                digest(&facts.sublabels),
                names(&facts.names),
            ],
            GraphFacts::Master(facts) => vec![
                digest(&facts.shared.by),
                digest(&(&facts.shared.genres, &facts.shared.styles)),
                names(&facts.names),
            ],
            GraphFacts::Release(facts) => vec![
                digest(&facts.shared.by),
                digest(&(&facts.shared.genres, &facts.shared.styles)),
                digest(&facts.labels),
                digest(&facts.master),
                digest(&facts.credits),
                names(&facts.names),
                digest(&(&facts.people, facts.year)),
            ],
        };
        digests.iter().flat_map(|d| d.to_le_bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::facts;
    use super::*;

    const RELEASE: &str = r#"<release id="7"><title>T</title>
        <artists><artist><id>1</id><name>A</name></artist></artists>
        <extraartists><artist><id>2</id><name>P</name><role>Producer</role></artist></extraartists>
        <labels><label id="3" name="L" catno="C1"/></labels>
        <master_id is_main_release="true">4</master_id>
        <genres><genre>Rock</genre></genres><styles><style>Punk</style></styles></release>"#;

    #[test]
    fn each_group_changes_only_its_own_digest() {
        let stored = facts(Kind::Releases, RELEASE).digests();
        // (from, to, the groups that change)
        let cases: [(&str, &str, &[Group]); 8] = [
            ("<title>T</title>", "<title>T2</title>", &[]),
            // An artist's id keys the name the release gives it.
            ("<id>1</id>", "<id>9</id>", &[Group::By, Group::Names]),
            ("<style>Punk</style>", "<style>Ska</style>", &[Group::Is]),
            ("catno=\"C1\"", "catno=\"C2\"", &[Group::On]),
            (
                "is_main_release=\"true\"",
                "is_main_release=\"false\"",
                &[Group::DerivedFrom],
            ),
            (
                "<role>Producer</role>",
                "<role>Mixed By</role>",
                &[Group::CreditedOn, Group::People],
            ),
            (
                "<name>P</name>",
                "<name>Q</name>",
                &[Group::Names, Group::People],
            ),
            // Each credit row carries the release's year.
            (
                "<title>T</title>",
                "<title>T</title><released>1999</released>",
                &[Group::People],
            ),
        ];
        for (from, to, groups) in cases {
            let changed = facts(Kind::Releases, &RELEASE.replace(from, to)).digests();
            let changed = Changed::between(Kind::Releases, &changed, &stored).expect("same shape");
            for &group in Group::of(Kind::Releases) {
                assert_eq!(
                    changed.has(group),
                    groups.contains(&group),
                    "{from} → {to}: {group:?}"
                );
            }
            assert_eq!(changed.is_empty(), groups.is_empty(), "{from} → {to}");
        }
    }

    #[test]
    fn another_shape_is_unknown() {
        let release = facts(Kind::Releases, RELEASE).digests();
        let master = facts(
            Kind::Masters,
            r#"<master id="4"><title>T</title><genres><genre>Rock</genre></genres></master>"#,
        )
        .digests();
        assert_eq!(release.len(), 7 * 8);
        assert_eq!(master.len(), 3 * 8);
        assert_eq!(Changed::between(Kind::Releases, &release, &master), None);
        assert_eq!(Changed::between(Kind::Releases, &release, &[]), None);
        assert!(Changed::ALL.has(Group::CreditedOn) && !Changed::ALL.is_empty());
        let graph = Changed::ALL.in_graph();
        assert!(graph.has(Group::CreditedOn) && !graph.has(Group::People));
    }
}
