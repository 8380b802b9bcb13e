//! Per-label and per-artist profiles (API-ANALYTICS.md §1–§3): what label DNA, label and artist
//! similarity and the collaboration network read, counted by the aggregates' [`Tally`] as the
//! releases pass, so that they follow an update the way the aggregates do; `store::profiles`
//! writes them to PostgreSQL.
//!
//! A label's profile counts its releases per genre, style, format and year; an artist's, its
//! releases per genre, style and label, the other main artists of its releases (each pair's
//! distinct shared releases) and how many of its releases have another main artist. Every count
//! is of distinct releases: a release names each genre, style, format, artist and label once.
//!
//! [`Tally`]: super::aggregates::Tally

use std::cmp::Ordering;
use std::collections::HashMap;

/// Artists with fewer releases than this are not compared with others (`similar/artist` answers
/// 422 for them), so their genre, style and label lists are not kept.
pub const MIN_SIMILAR_ARTIST_RELEASES: i64 = 3;

/// The labels (and collaborators) artist similarity compares: each artist's commonest, so that a
/// comparison of prolific artists reads a bounded list, not one entry per label they ever
/// released on. The rest of a long tail weighs little in a cosine.
pub const SIMILARITY_LIST: usize = 100;

/// What a profile entry counts, in the top bits of its code; the rest is the genre, style or
/// format index, or the year.
const GENRE: u32 = 0;
const STYLE: u32 = 1;
const FORMAT: u32 = 2;
const YEAR: u32 = 3;
const KIND_SHIFT: u32 = 28;

fn code(kind: u32, value: u32) -> u32 {
    kind << KIND_SHIFT | value
}

fn split(code: u32) -> (u32, u32) {
    (code >> KIND_SHIFT, code & ((1 << KIND_SHIFT) - 1))
}

/// Pairs queued as 8-byte keys before they are sorted and packed into a run (1 MiB a list).
const QUEUED: usize = 1 << 17;
/// Pairs waiting in runs before they are merged into the counted ones, at least: a merge
/// rewrites every counted pair, so the runs grow with them to keep the cost of a pair constant,
/// by an eighth of their number.
const MIN_PENDING: usize = 1 << 20;
/// The counted pairs per pending one at most.
const COUNTED_PER_PENDING: usize = 8;

/// Counts by pair of ids. The pairs that fit in 32 bits each (all of Discogs' today) are kept
/// sorted and packed ([`PackedPairs`], ~3 bytes an entry): the ones seen since are queued as
/// 8-byte keys, packed into sorted runs a queue at a time, and the runs merged into the counted
/// pairs once they hold an eighth of their number. A whole catalogue's profiles hold tens of
/// millions of pairs, which a hash table keeps in two to four times 12 bytes each (and twice
/// that while it grows); a queue as long as an eighth of them held 38 of the 185 MB of a 1M
/// first load's peak heap.
#[derive(Default)]
struct PairCounts {
    counted: PackedPairs,
    /// Sorted runs of the pairs counted since the last merge, each more than twice the size of
    /// the next, so that there are few.
    runs: Vec<PackedPairs>,
    pending: usize,
    queued: Vec<u64>,
    large: HashMap<(i64, i64), u32>,
}

impl PairCounts {
    fn increment(&mut self, a: i64, b: i64) {
        match (u32::try_from(a), u32::try_from(b)) {
            (Ok(a), Ok(b)) => {
                self.queued.push(u64::from(a) << 32 | u64::from(b));
                if self.queued.len() >= QUEUED {
                    self.pack_queued();
                    if self.pending >= MIN_PENDING.max(self.counted.len / COUNTED_PER_PENDING) {
                        self.merge_runs();
                    }
                }
            }
            _ => {
                let count = self.large.entry((a, b)).or_default();
                *count = count.saturating_add(1);
            }
        }
    }

    /// Sorts the queued pairs into a run, merged with the runs before it that are no more than
    /// twice its size, as a binary counter carries.
    fn pack_queued(&mut self) {
        if self.queued.is_empty() {
            return;
        }
        self.queued.sort_unstable();
        let mut writer = PackedWriter::with_blocks(self.queued.len() / BLOCK_ENTRIES + 1);
        for run in self.queued.chunk_by(|a, b| a == b) {
            let count = u32::try_from(run.len()).unwrap_or(u32::MAX);
            writer.push(((run[0] >> 32) as u32, run[0] as u32, count));
        }
        self.queued.clear();
        let mut run = writer.finish();
        self.pending += run.len;
        while let Some(before) = self.runs.pop() {
            if before.len > run.len * 2 {
                self.runs.push(before);
                break;
            }
            run = merge(before, run);
        }
        self.runs.push(run);
    }

    /// Merges the runs, smallest first, and then the result into the counted pairs.
    fn merge_runs(&mut self) {
        let runs = std::mem::take(&mut self.runs);
        if let Some(pending) = runs
            .into_iter()
            .rev()
            .reduce(|merged, run| merge(run, merged))
        {
            self.counted = merge(std::mem::take(&mut self.counted), pending);
        }
        self.pending = 0;
    }

    /// Every pair with its count, sorted by pair.
    fn into_sorted(mut self) -> SortedPairs {
        self.pack_queued();
        self.merge_runs();
        let mut large: Vec<(i64, i64, u32)> = self
            .large
            .into_iter()
            .map(|((a, b), count)| (a, b, count))
            .collect();
        large.sort_unstable();
        SortedPairs {
            small: self.counted,
            large,
        }
    }
}

/// Entries of a packed block at most: a lookup decodes up to one block before the entries it
/// wants.
const BLOCK_ENTRIES: usize = 128;

/// Sorted (first id, second id, count) entries, in blocks of up to [`BLOCK_ENTRIES`]. Within a
/// block each entry is three LEB128 varints: how far its first id is past the entry before
/// (the block's first entry: from 0); its second id, as the step from the one before when the
/// first id is the same; its count. An owner's entries sit together and most counts are small,
/// so an entry takes ~3 bytes instead of 12: at 4.75 M releases the four lists' 48 M entries
/// took ~150 MB instead of 578 (the first load's peak fell by 427 MB).
#[derive(Debug, Default)]
struct PackedPairs {
    blocks: Vec<Block>,
    len: usize,
}

#[derive(Debug)]
struct Block {
    /// The first id of the block's first entry, by which a lookup finds its block.
    owner: u32,
    bytes: Box<[u8]>,
}

type Entry = (u32, u32, u32);

impl PackedPairs {
    /// Every entry from block `start` on.
    fn entries_from(&self, start: usize) -> impl Iterator<Item = Entry> + '_ {
        self.blocks[start.min(self.blocks.len())..]
            .iter()
            .flat_map(|block| BlockEntries::new(&block.bytes))
    }

    /// The entries whose first id is `id`.
    fn of(&self, id: u32) -> impl Iterator<Item = Entry> + '_ {
        // The block before the first one starting at `id` may end with some of its entries.
        let start = self
            .blocks
            .partition_point(|block| block.owner < id)
            .saturating_sub(1);
        self.entries_from(start)
            .skip_while(move |entry| entry.0 < id)
            .take_while(move |entry| entry.0 == id)
    }
}

/// Decodes one block's entries.
struct BlockEntries<'a> {
    bytes: &'a [u8],
    previous: (u32, u32),
}

impl<'a> BlockEntries<'a> {
    fn new(bytes: &'a [u8]) -> BlockEntries<'a> {
        BlockEntries {
            bytes,
            previous: (0, 0),
        }
    }

    fn varint(&mut self) -> u32 {
        let mut value = 0u32;
        let mut shift = 0;
        while let Some((&byte, rest)) = self.bytes.split_first() {
            self.bytes = rest;
            value |= u32::from(byte & 0x7f).wrapping_shl(shift);
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        value
    }
}

impl Iterator for BlockEntries<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        if self.bytes.is_empty() {
            return None;
        }
        let step = self.varint();
        let first = self.previous.0.wrapping_add(step);
        let second = self.varint();
        let second = if step == 0 {
            self.previous.1.wrapping_add(second)
        } else {
            second
        };
        let count = self.varint();
        self.previous = (first, second);
        Some((first, second, count))
    }
}

/// Writes entries, in pair order, into a new [`PackedPairs`].
struct PackedWriter {
    packed: PackedPairs,
    block: Vec<u8>,
    in_block: usize,
    owner: u32,
    previous: (u32, u32),
}

impl PackedWriter {
    fn with_blocks(blocks: usize) -> PackedWriter {
        PackedWriter {
            packed: PackedPairs {
                blocks: Vec::with_capacity(blocks),
                len: 0,
            },
            block: Vec::with_capacity(BLOCK_ENTRIES * 15),
            in_block: 0,
            owner: 0,
            previous: (0, 0),
        }
    }

    fn push(&mut self, (first, second, count): Entry) {
        if self.in_block == BLOCK_ENTRIES {
            self.seal();
        }
        if self.in_block == 0 {
            self.owner = first;
            self.previous = (0, 0);
        }
        // Entries come in pair order; wrapping arithmetic (undone by the reader's) keeps any
        // other order exact too.
        let step = first.wrapping_sub(self.previous.0);
        self.varint(step);
        self.varint(if step == 0 {
            second.wrapping_sub(self.previous.1)
        } else {
            second
        });
        self.varint(count);
        self.previous = (first, second);
        self.in_block += 1;
        self.packed.len += 1;
    }

    fn varint(&mut self, mut value: u32) {
        while value >= 0x80 {
            self.block.push((value & 0x7f) as u8 | 0x80);
            value >>= 7;
        }
        self.block.push(value as u8);
    }

    fn seal(&mut self) {
        if self.in_block > 0 {
            self.packed.blocks.push(Block {
                owner: self.owner,
                bytes: self.block.as_slice().into(),
            });
            self.block.clear();
            self.in_block = 0;
        }
    }

    fn finish(mut self) -> PackedPairs {
        self.seal();
        self.packed
    }
}

/// Two packed lists as one, the counts of a pair in both added; each block is freed once read,
/// so that the lists are never held twice.
fn merge(a: PackedPairs, b: PackedPairs) -> PackedPairs {
    let mut writer = PackedWriter::with_blocks(a.blocks.len() + b.blocks.len());
    let mut a = Draining::new(a).peekable();
    let mut b = Draining::new(b).peekable();
    loop {
        let entry = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (Some(x), Some(y)) => match (x.0, x.1).cmp(&(y.0, y.1)) {
                Ordering::Less => a.next(),
                Ordering::Greater => b.next(),
                Ordering::Equal => a
                    .next()
                    .zip(b.next())
                    .map(|(x, y)| (x.0, x.1, x.2.saturating_add(y.2))),
            },
        };
        if let Some(entry) = entry {
            writer.push(entry);
        }
    }
    writer.finish()
}

/// A packed list's entries in order, each block freed once decoded.
struct Draining {
    blocks: std::vec::IntoIter<Block>,
    decoded: Vec<Entry>,
    at: usize,
}

impl Draining {
    fn new(packed: PackedPairs) -> Draining {
        Draining {
            blocks: packed.blocks.into_iter(),
            decoded: Vec::with_capacity(BLOCK_ENTRIES),
            at: 0,
        }
    }
}

impl Iterator for Draining {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        loop {
            if let Some(&entry) = self.decoded.get(self.at) {
                self.at += 1;
                return Some(entry);
            }
            let block = self.blocks.next()?;
            self.decoded.clear();
            self.decoded.extend(BlockEntries::new(&block.bytes));
            self.at = 0;
        }
    }
}

/// Pairs of ids with their counts, sorted: the pairs that fit in 32 bits each packed, the rest
/// beside them, so that a profile's entries are found by binary search over the blocks.
#[derive(Debug, Default)]
struct SortedPairs {
    small: PackedPairs,
    large: Vec<(i64, i64, u32)>,
}

impl SortedPairs {
    /// The pairs whose first id is `id`, as (second id, count), by second id (those beyond 32
    /// bits last).
    fn of(&self, id: i64) -> impl Iterator<Item = (i64, u32)> + '_ {
        let small = u32::try_from(id)
            .ok()
            .into_iter()
            .flat_map(|id| self.small.of(id));
        let start = self.large.partition_point(|entry| entry.0 < id);
        let end = start + self.large[start..].partition_point(|entry| entry.0 == id);
        small.map(|(_, b, count)| (i64::from(b), count)).chain(
            self.large[start..end]
                .iter()
                .map(|&(_, b, count)| (b, count)),
        )
    }

    /// Every pair, by first then second id (those beyond 32 bits last).
    fn iter(&self) -> impl Iterator<Item = (i64, i64, u32)> + '_ {
        self.small
            .entries_from(0)
            .map(|(a, b, count)| (i64::from(a), i64::from(b), count))
            .chain(self.large.iter().copied())
    }
}

/// What the profiles count of one release, beside what the aggregates count: `genres` and
/// `styles` are the aggregates' indices of the release's (distinct) genres and styles.
pub struct ProfiledRelease<'a> {
    pub year: Option<i64>,
    pub artists: &'a [i64],
    pub labels: &'a [i64],
    pub genres: &'a [usize],
    pub styles: &'a [usize],
    pub formats: &'a [String],
}

/// The profiles being counted.
#[derive(Default)]
pub struct ProfileTally {
    format_index: HashMap<String, u32>,
    formats: Vec<String>,
    /// (label, code) → releases.
    label_tags: PairCounts,
    /// (artist, genre or style code) → releases.
    artist_tags: PairCounts,
    /// (artist, label) → releases.
    artist_labels: PairCounts,
    /// (artist, other main artist) → shared releases, both ways round.
    collaborations: PairCounts,
    /// Releases of each artist that have another main artist.
    collaboration_releases: HashMap<i64, u32>,
}

impl ProfileTally {
    pub fn add(&mut self, release: &ProfiledRelease<'_>) {
        let formats: Vec<u32> = release
            .formats
            .iter()
            .map(|name| self.format(name))
            .collect();
        let year = profile_year(release.year);
        let genres_and_styles =
            || index_codes(GENRE, release.genres).chain(index_codes(STYLE, release.styles));
        let tags = genres_and_styles()
            .chain(formats.iter().map(|&format| code(FORMAT, format)))
            .chain(year.map(|year| code(YEAR, year)));
        for code in tags {
            for &label in release.labels {
                self.label_tags.increment(label, i64::from(code));
            }
        }
        for &artist in release.artists {
            for code in genres_and_styles() {
                self.artist_tags.increment(artist, i64::from(code));
            }
            for &label in release.labels {
                self.artist_labels.increment(artist, label);
            }
            if release.artists.len() > 1 {
                *self.collaboration_releases.entry(artist).or_default() += 1;
                for &other in release.artists.iter().filter(|&&other| other != artist) {
                    self.collaborations.increment(artist, other);
                }
            }
        }
    }

    fn format(&mut self, name: &str) -> u32 {
        if let Some(&index) = self.format_index.get(name) {
            return index;
        }
        let index = u32::try_from(self.formats.len()).unwrap_or(u32::MAX);
        self.format_index.insert(name.to_owned(), index);
        self.formats.push(name.to_owned());
        index
    }

    /// The profiles of everything counted in. The aggregates bring what they counted already:
    /// genre and style names by index, each label's (id, releases) and each artist's (id,
    /// releases). A label's distinct artists are its pairs with them.
    pub fn finish(self, counted: Counted) -> Profiles {
        let artist_labels = self.artist_labels.into_sorted();
        let mut labels: Vec<(i64, i64, i64)> = counted
            .labels
            .into_iter()
            .map(|(id, releases)| (id, releases, 0))
            .collect();
        labels.sort_unstable();
        for (_, label, _) in artist_labels.iter() {
            if let Ok(index) = labels.binary_search_by_key(&label, |&(id, ..)| id) {
                labels[index].2 += 1;
            }
        }
        let mut artists = counted.artists;
        artists.sort_unstable();
        Profiles {
            genres: counted.genres,
            styles: counted.styles,
            formats: self.formats,
            labels,
            label_tags: self.label_tags.into_sorted(),
            artists,
            artist_tags: self.artist_tags.into_sorted(),
            artist_labels,
            collaborations: self.collaborations.into_sorted(),
            collaboration_releases: self.collaboration_releases,
        }
    }
}

/// A release's year as a label's profile counts it: none for no year, 0 or one out of range.
pub fn profile_year(year: Option<i64>) -> Option<u32> {
    year.and_then(|year| u32::try_from(year).ok())
        .filter(|&year| year > 0 && year < 1 << KIND_SHIFT)
}

fn index_codes(kind: u32, indices: &[usize]) -> impl Iterator<Item = u32> + '_ {
    indices
        .iter()
        .filter_map(move |&index| u32::try_from(index).ok().map(|index| code(kind, index)))
}

/// What the aggregates hand [`ProfileTally::finish`]; indices are into `genres` and `styles`.
pub struct Counted {
    pub genres: Vec<String>,
    pub styles: Vec<String>,
    pub labels: Vec<(i64, i64)>,
    pub artists: Vec<(i64, i64)>,
}

/// Every label's and artist's profile, as [`ProfileTally::finish`] counted them.
#[derive(Debug, Default)]
pub struct Profiles {
    genres: Vec<String>,
    styles: Vec<String>,
    formats: Vec<String>,
    /// (label, releases, artists) of the labels with releases, by label.
    labels: Vec<(i64, i64, i64)>,
    /// (label, code) and (artist, code) → releases; codes fit in 32 bits.
    label_tags: SortedPairs,
    /// (artist, releases) of the artists with releases, by artist.
    artists: Vec<(i64, i64)>,
    artist_tags: SortedPairs,
    artist_labels: SortedPairs,
    collaborations: SortedPairs,
    collaboration_releases: HashMap<i64, u32>,
}

/// Names (or ids, or years) with their release counts.
pub type Histogram<T> = Vec<(T, i64)>;

/// One label's profile: histograms by count descending, then name; years ascending.
#[derive(Debug, PartialEq, Eq)]
pub struct LabelProfile<'a> {
    pub id: i64,
    pub releases: i64,
    pub artists: i64,
    pub genres: Histogram<&'a str>,
    pub styles: Histogram<&'a str>,
    pub formats: Histogram<&'a str>,
    pub years: Histogram<i64>,
}

/// One artist's profile. The histograms (by count descending, then name or id; labels cut to
/// [`SIMILARITY_LIST`]) are only kept from [`MIN_SIMILAR_ARTIST_RELEASES`] releases up;
/// `primary_genre`, the genre of most of its releases (ties by name), always.
#[derive(Debug, PartialEq, Eq)]
pub struct ArtistProfile<'a> {
    pub id: i64,
    pub releases: i64,
    pub collaborators: i64,
    pub collaboration_releases: i64,
    pub primary_genre: Option<&'a str>,
    pub lists: Option<ArtistLists<'a>>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ArtistLists<'a> {
    pub genres: Histogram<&'a str>,
    pub styles: Histogram<&'a str>,
    pub labels: Histogram<i64>,
}

impl<'a> LabelProfile<'a> {
    /// A label's profile from its histograms in any order.
    pub fn new(
        (id, releases, artists): (i64, i64, i64),
        genres: Histogram<&'a str>,
        styles: Histogram<&'a str>,
        formats: Histogram<&'a str>,
        mut years: Histogram<i64>,
    ) -> LabelProfile<'a> {
        years.sort_unstable();
        LabelProfile {
            id,
            releases,
            artists,
            genres: ranked(genres),
            styles: ranked(styles),
            formats: ranked(formats),
            years,
        }
    }
}

/// What an artist's profile is made from: its counts, and its releases per genre, style and
/// label, in any order.
pub struct ArtistCounts<'a> {
    pub id: i64,
    pub releases: i64,
    pub collaborators: i64,
    pub collaboration_releases: i64,
    pub genres: Histogram<&'a str>,
    pub styles: Histogram<&'a str>,
    pub labels: Histogram<i64>,
}

impl<'a> ArtistProfile<'a> {
    pub fn new(counts: ArtistCounts<'a>) -> ArtistProfile<'a> {
        let genres = ranked(counts.genres);
        let lists = (counts.releases >= MIN_SIMILAR_ARTIST_RELEASES).then(|| ArtistLists {
            genres: genres.clone(),
            styles: ranked(counts.styles),
            labels: {
                let mut labels = ranked(counts.labels);
                labels.truncate(SIMILARITY_LIST);
                labels
            },
        });
        ArtistProfile {
            id: counts.id,
            releases: counts.releases,
            collaborators: counts.collaborators,
            collaboration_releases: counts.collaboration_releases,
            primary_genre: genres.first().map(|&(name, _)| name),
            lists,
        }
    }
}

/// `histogram` ordered by count descending, then key.
fn ranked<T: Ord>(mut histogram: Histogram<T>) -> Histogram<T> {
    histogram.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    histogram
}

impl Profiles {
    /// How many artists and labels have profiles (those with releases).
    pub fn sizes(&self) -> (usize, usize) {
        (self.artists.len(), self.labels.len())
    }

    /// Every label with releases, by id.
    pub fn labels(&self) -> impl Iterator<Item = LabelProfile<'_>> + '_ {
        self.labels.iter().map(|&entry| self.label_at(entry))
    }

    /// The profile of label `id`, if it has releases.
    pub fn label(&self, id: i64) -> Option<LabelProfile<'_>> {
        self.labels
            .binary_search_by_key(&id, |&(label, ..)| label)
            .ok()
            .map(|index| self.label_at(self.labels[index]))
    }

    fn label_at(&self, label: (i64, i64, i64)) -> LabelProfile<'_> {
        let (mut genres, mut styles, mut formats, mut years) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (code, count) in self.label_tags.of(label.0) {
            let (code, count) = (u32::try_from(code).unwrap_or(u32::MAX), i64::from(count));
            match split(code) {
                (GENRE, index) => genres.push((self.name(&self.genres, index), count)),
                (STYLE, index) => styles.push((self.name(&self.styles, index), count)),
                (FORMAT, index) => formats.push((self.name(&self.formats, index), count)),
                (_, year) => years.push((i64::from(year), count)),
            }
        }
        LabelProfile::new(label, genres, styles, formats, years)
    }

    fn name<'a>(&self, names: &'a [String], index: u32) -> &'a str {
        usize::try_from(index)
            .ok()
            .and_then(|index| names.get(index))
            .map_or("", String::as_str)
    }

    /// Every artist with releases, by id.
    pub fn artists(&self) -> impl Iterator<Item = ArtistProfile<'_>> + '_ {
        self.artists
            .iter()
            .map(|&(id, releases)| self.artist_at(id, releases))
    }

    /// The profile of artist `id`, if it has releases.
    pub fn artist(&self, id: i64) -> Option<ArtistProfile<'_>> {
        self.artists
            .binary_search_by_key(&id, |&(artist, _)| artist)
            .ok()
            .map(|index| self.artist_at(id, self.artists[index].1))
    }

    fn artist_at(&self, id: i64, releases: i64) -> ArtistProfile<'_> {
        let (mut genres, mut styles) = (Vec::new(), Vec::new());
        for (code, count) in self.artist_tags.of(id) {
            let (code, count) = (u32::try_from(code).unwrap_or(u32::MAX), i64::from(count));
            match split(code) {
                (GENRE, index) => genres.push((self.name(&self.genres, index), count)),
                (_, index) => styles.push((self.name(&self.styles, index), count)),
            }
        }
        ArtistProfile::new(ArtistCounts {
            id,
            releases,
            collaborators: i64::try_from(self.collaborations.of(id).count()).unwrap_or(i64::MAX),
            collaboration_releases: self
                .collaboration_releases
                .get(&id)
                .map_or(0, |&count| i64::from(count)),
            genres,
            styles,
            labels: self
                .artist_labels
                .of(id)
                .map(|(label, count)| (label, i64::from(count)))
                .collect(),
        })
    }

    /// Every artist's releases per genre and per style, as (artist, is a style, name, releases).
    pub fn artist_tags(&self) -> impl Iterator<Item = (i64, bool, &str, i64)> + '_ {
        self.artist_tag_counts().map(|count| self.named(count))
    }

    /// Every label's releases per genre and per style, as (label, is a style, name, releases).
    pub fn label_tags(&self) -> impl Iterator<Item = (i64, bool, &str, i64)> + '_ {
        self.label_tag_counts().map(|count| self.named(count))
    }

    fn named(&self, count: TagCount) -> (i64, bool, &str, i64) {
        let names = if count.style {
            &self.styles
        } else {
            &self.genres
        };
        let name = self.name(names, u32::try_from(count.tag).unwrap_or(u32::MAX));
        (count.owner, count.style, name, count.releases)
    }

    /// Every artist's releases per genre and per style, by artist.
    pub fn artist_tag_counts(&self) -> impl Iterator<Item = TagCount> + '_ {
        tag_counts(&self.artist_tags, self.genres.len(), self.styles.len())
    }

    /// Every label's releases per genre and per style, by label.
    pub fn label_tag_counts(&self) -> impl Iterator<Item = TagCount> + '_ {
        tag_counts(&self.label_tags, self.genres.len(), self.styles.len())
    }

    /// Every label with releases as (id, releases, distinct artists), by id.
    pub fn label_counts(&self) -> &[(i64, i64, i64)] {
        &self.labels
    }

    /// Every artist's collaborations as (artist, other, shared releases), by artist then other.
    pub fn collaborations(&self) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
        every_pair(&self.collaborations)
    }

    /// The collaborations of artist `id`, by other.
    pub fn collaborations_of(&self, id: i64) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
        pairs_of(&self.collaborations, id)
    }

    /// Every artist's labels as (artist, label, releases on it), by artist then label.
    pub fn artist_labels(&self) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
        every_pair(&self.artist_labels)
    }

    /// The labels of artist `id`, by label.
    pub fn artist_labels_of(&self, id: i64) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
        pairs_of(&self.artist_labels, id)
    }
}

/// An artist's or label's releases naming one genre or style; `tag` indexes the genres or the
/// styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TagCount {
    pub owner: i64,
    pub style: bool,
    pub tag: usize,
    pub releases: i64,
}

/// The genre and style entries of `pairs` (owner, code), leaving out formats, years and any
/// index beyond the names (there is none: the codes were made from them).
fn tag_counts(
    pairs: &SortedPairs,
    genres: usize,
    styles: usize,
) -> impl Iterator<Item = TagCount> + '_ {
    pairs.iter().filter_map(move |(owner, code, count)| {
        let (kind, index) = split(u32::try_from(code).ok()?);
        let tag = usize::try_from(index).ok()?;
        let style = match kind {
            GENRE if tag < genres => false,
            STYLE if tag < styles => true,
            _ => return None,
        };
        Some(TagCount {
            owner,
            style,
            tag,
            releases: i64::from(count),
        })
    })
}

fn every_pair(pairs: &SortedPairs) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
    pairs
        .iter()
        .map(|(id, other, count)| (id, other, i64::from(count)))
}

fn pairs_of(pairs: &SortedPairs, id: i64) -> impl Iterator<Item = (i64, i64, i64)> + '_ {
    pairs
        .of(id)
        .map(move |(other, count)| (id, other, i64::from(count)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|name| (*name).to_owned()).collect()
    }

    /// Three releases: two by artists 1 and 2 together on label 10, one by artist 1 alone on
    /// labels 10 and 11.
    fn counted() -> Profiles {
        let mut tally = ProfileTally::default();
        let releases = [
            (
                Some(1998),
                vec![1, 2],
                vec![10],
                vec![0],
                vec![0, 1],
                names(&["Vinyl"]),
            ),
            (
                Some(1999),
                vec![1, 2],
                vec![10],
                vec![0],
                vec![1],
                names(&["CD", "Vinyl"]),
            ),
            (None, vec![1], vec![10, 11], vec![1], vec![], names(&[])),
        ];
        for (year, artists, labels, genres, styles, formats) in &releases {
            tally.add(&ProfiledRelease {
                year: *year,
                artists,
                labels,
                genres,
                styles,
                formats,
            });
        }
        tally.finish(Counted {
            genres: names(&["Electronic", "Rock"]),
            styles: names(&["House", "Techno"]),
            labels: vec![(11, 1), (10, 3)],
            artists: vec![(2, 2), (1, 3)],
        })
    }

    #[test]
    fn a_labels_profile_counts_its_releases_per_genre_style_format_and_year() {
        let profiles = counted();
        let label = profiles.label(10).unwrap();
        assert_eq!((label.releases, label.artists), (3, 2));
        assert_eq!(label.genres, [("Electronic", 2), ("Rock", 1)]);
        assert_eq!(label.styles, [("Techno", 2), ("House", 1)]);
        assert_eq!(label.formats, [("Vinyl", 2), ("CD", 1)]);
        assert_eq!(label.years, [(1998, 1), (1999, 1)]);
        assert_eq!(profiles.label(11).unwrap().genres, [("Rock", 1)]);
        assert_eq!(profiles.label(12), None);
        let ids: Vec<i64> = profiles.labels().map(|label| label.id).collect();
        assert_eq!(ids, [10, 11]);
    }

    #[test]
    fn an_artists_profile_counts_collaborations_and_keeps_lists_from_three_releases() {
        let profiles = counted();
        let one = profiles.artist(1).unwrap();
        assert_eq!(
            (one.releases, one.collaborators, one.collaboration_releases),
            (3, 1, 2)
        );
        assert_eq!(one.primary_genre, Some("Electronic"));
        let lists = one.lists.unwrap();
        assert_eq!(lists.genres, [("Electronic", 2), ("Rock", 1)]);
        assert_eq!(lists.styles, [("Techno", 2), ("House", 1)]);
        assert_eq!(lists.labels, [(10, 3), (11, 1)]);
        let two = profiles.artist(2).unwrap();
        assert_eq!((two.releases, two.collaborators), (2, 1));
        assert_eq!(two.primary_genre, Some("Electronic"));
        assert_eq!(two.lists, None, "below three releases");
        let pairs: Vec<(i64, i64, i64)> = profiles.collaborations().collect();
        assert_eq!(pairs, [(1, 2, 2), (2, 1, 2)]);
        assert_eq!(
            profiles.collaborations_of(2).collect::<Vec<_>>(),
            [(2, 1, 2)]
        );
        assert!(profiles.artist(3).is_none());
        assert_eq!(
            profiles.artist_labels().collect::<Vec<_>>(),
            [(1, 10, 3), (1, 11, 1), (2, 10, 2)]
        );
        assert_eq!(
            profiles.artist_labels_of(1).collect::<Vec<_>>(),
            [(1, 10, 3), (1, 11, 1)]
        );
    }

    #[test]
    fn pairs_beyond_32_bits_are_kept_and_found_beside_the_others() {
        let big = i64::from(u32::MAX) + 7;
        let mut counts = PairCounts::default();
        for (a, b) in [(5, 9), (5, big), (big, 5), (5, 9), (5, 2)] {
            counts.increment(a, b);
        }
        let pairs = counts.into_sorted();
        assert_eq!(pairs.of(5).collect::<Vec<_>>(), [(2, 1), (9, 2), (big, 1)]);
        assert_eq!(pairs.of(big).collect::<Vec<_>>(), [(5, 1)]);
        assert_eq!(pairs.of(6).count(), 0);
        assert_eq!(pairs.iter().count(), 4);
    }

    #[test]
    fn queued_pairs_merge_into_the_counted_ones_as_a_hash_map_would_count_them() {
        // Runs carried into bigger ones, several merges into the counted pairs, pairs met again
        // across them, and new pairs both before and after the counted ones.
        let mut counts = PairCounts::default();
        let mut expected: HashMap<(i64, i64), u32> = HashMap::new();
        let mut state: u64 = 7;
        let mut most_runs = 0;
        for _ in 0..3 * MIN_PENDING + 17 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let (a, b) = ((state >> 33) % 5_000, (state >> 20) % 300);
            let (a, b) = (i64::try_from(a).unwrap(), i64::try_from(b).unwrap());
            counts.increment(a, b);
            *expected.entry((a, b)).or_default() += 1;
            most_runs = most_runs.max(counts.runs.len());
        }
        assert!(most_runs > 1, "runs wait beside each other");
        assert!(
            counts.counted.len > 0,
            "runs were merged into the counted pairs"
        );
        let mut expected: Vec<(i64, i64, u32)> = expected
            .into_iter()
            .map(|((a, b), count)| (a, b, count))
            .collect();
        expected.sort_unstable();
        let pairs = counts.into_sorted();
        assert!(
            pairs.small.blocks.len() > 1_000,
            "lookups cross block boundaries"
        );
        assert_eq!(pairs.iter().collect::<Vec<_>>(), expected);
        // An owner's entries are found whichever block they start in.
        for a in [0, 1, 2_499, 4_999, 5_000] {
            let owned: Vec<(i64, u32)> = expected
                .iter()
                .filter(|entry| entry.0 == a)
                .map(|&(_, b, count)| (b, count))
                .collect();
            assert_eq!(pairs.of(a).collect::<Vec<_>>(), owned, "owner {a}");
        }
    }

    #[test]
    fn packed_entries_read_back_as_written_across_blocks() {
        let entries: Vec<Entry> = (0..1_000u32)
            .flat_map(|a| {
                let a = a * 997;
                [(a, 0, 1), (a, 5, 300), (a, u32::MAX, u32::MAX)]
            })
            .chain([(u32::MAX, 0, 2), (u32::MAX, u32::MAX, 1)])
            .collect();
        let mut writer = PackedWriter::with_blocks(0);
        for &entry in &entries {
            writer.push(entry);
        }
        let packed = writer.finish();
        assert_eq!(packed.len, entries.len());
        assert_eq!(packed.blocks.len(), entries.len().div_ceil(BLOCK_ENTRIES));
        assert_eq!(packed.entries_from(0).collect::<Vec<_>>(), entries);
        assert_eq!(
            packed.of(997 * 42).collect::<Vec<_>>(),
            [
                (997 * 42, 0, 1),
                (997 * 42, 5, 300),
                (997 * 42, u32::MAX, u32::MAX)
            ]
        );
        assert_eq!(packed.of(u32::MAX).count(), 2);
        assert_eq!(Draining::new(packed).collect::<Vec<_>>(), entries);
    }

    #[test]
    fn tag_counts_are_the_genre_and_style_entries_by_owner() {
        let profiles = counted();
        let artist_tags: Vec<(i64, bool, usize, i64)> = profiles
            .artist_tag_counts()
            .map(|count| (count.owner, count.style, count.tag, count.releases))
            .collect();
        assert_eq!(
            artist_tags,
            [
                (1, false, 0, 2),
                (1, false, 1, 1),
                (1, true, 0, 1),
                (1, true, 1, 2),
                (2, false, 0, 2),
                (2, true, 0, 1),
                (2, true, 1, 2),
            ]
        );
        let label_tags: Vec<(i64, bool, usize, i64)> = profiles
            .label_tag_counts()
            .map(|count| (count.owner, count.style, count.tag, count.releases))
            .collect();
        assert_eq!(
            label_tags,
            [
                (10, false, 0, 2),
                (10, false, 1, 1),
                (10, true, 0, 1),
                (10, true, 1, 2),
                (11, false, 1, 1),
            ]
        );
        assert_eq!(profiles.label_counts(), [(10, 3, 2), (11, 1, 1)]);
    }
}
