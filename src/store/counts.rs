//! The counts the graph aggregates are made of, kept in PostgreSQL (`aggregate_counts`, migration
//! 0008) so that an update's aggregates cost what it changed, not what the catalogue holds:
//!
//! - every transaction that writes or deletes releases and masters adds what their old versions
//!   took away and their new ones bring ([`Changes`], [`apply`]), and learns which artists' and
//!   labels' counts moved;
//! - when the whole graph gets its aggregates (a graph built from scratch, changed definitions),
//!   the counts are rebuilt from the facts in one transaction ([`rebuild`]);
//! - an update reads the aggregates of the artists and labels it touched, and of every genre and
//!   style, from here ([`aggregates`]).
//!
//! The counts are exactly what [`Tally`](super::graph::aggregates::Tally) counts; the tests compare
//! an updated database's rows with a fresh load's.

use std::collections::{BTreeMap, HashMap};

use futures_util::{TryStreamExt, pin_mut};
use tokio_postgres::{GenericClient, Transaction};

use super::graph::aggregates::{
    Aggregates, CountedRelease, LabelCounts, PartOf, TOP_LIST_LENGTH, TagAggregates,
};
use super::postgres::Result;

/// What a row of `aggregate_counts` counts, and the numbers the table stores them by (the
/// migration's partial index names 10 and 12). Tags are keyed by their `aggregate_tags` id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(i16)]
enum Count {
    /// Releases by artist `a`.
    ArtistReleases = 1,
    /// Releases on label `a`.
    LabelReleases = 2,
    /// Releases on label `a` by artist `b`; `LabelArtists` counts those rows of label `a`.
    LabelArtist = 3,
    LabelArtists = 4,
    /// Releases on label `a` of genre `b`; `LabelGenres` counts those rows of label `a`.
    LabelGenre = 5,
    LabelGenres = 6,
    /// Releases and masters naming tag `a`: the genre or style exists while there are any.
    TagRecords = 7,
    /// Releases naming tag `a`.
    TagReleases = 8,
    /// Releases naming tag `a` from year `b` (years > 0 only).
    TagYear = 9,
    /// Releases naming tag `a` by artist `b`; `TagArtists` counts those rows of tag `a`.
    TagArtist = 10,
    TagArtists = 11,
    /// Releases naming tag `a` on label `b`; `TagLabels` counts those rows of tag `a`.
    TagLabel = 12,
    TagLabels = 13,
    /// Releases naming genre `a` and style `b`.
    Shared = 14,
    /// Releases and masters whose only genre is `b` naming style `a`: while there are any, the
    /// style is `PART_OF` the genre.
    PartOf = 15,
    /// The `PART_OF` relationships of tag `a`: a genre's styles, a style's genres.
    TagRelated = 16,
}

impl Count {
    const ALL: [Count; 16] = [
        Count::ArtistReleases,
        Count::LabelReleases,
        Count::LabelArtist,
        Count::LabelArtists,
        Count::LabelGenre,
        Count::LabelGenres,
        Count::TagRecords,
        Count::TagReleases,
        Count::TagYear,
        Count::TagArtist,
        Count::TagArtists,
        Count::TagLabel,
        Count::TagLabels,
        Count::Shared,
        Count::PartOf,
        Count::TagRelated,
    ];

    fn code(self) -> i16 {
        self as i16
    }

    fn from_code(code: i16) -> Option<Count> {
        Count::ALL.into_iter().find(|count| count.code() == code)
    }
}

/// One row's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key {
    count: Count,
    a: i64,
    b: i64,
}

impl Key {
    fn new(count: Count, a: i64, b: i64) -> Key {
        Key { count, a, b }
    }

    /// The distinct counts this row is one of while its `n` is positive.
    fn distinct_counts(self) -> impl Iterator<Item = Key> {
        let one = |count| Some(Key::new(count, self.a, 0));
        let (first, second) = match self.count {
            Count::LabelArtist => (one(Count::LabelArtists), None),
            Count::LabelGenre => (one(Count::LabelGenres), None),
            Count::TagArtist => (one(Count::TagArtists), None),
            Count::TagLabel => (one(Count::TagLabels), None),
            Count::PartOf => (
                one(Count::TagRelated),
                Some(Key::new(Count::TagRelated, self.b, 0)),
            ),
            _ => (None, None),
        };
        first.into_iter().chain(second)
    }
}

/// A genre or a style, as `aggregate_tags` names its kind.
type TagName = (&'static str, String);

/// What one release or master contributes to the counts.
#[derive(Debug)]
struct Counted {
    /// A master names genres and styles and nothing else counted.
    release: bool,
    year: Option<i64>,
    artists: Vec<i64>,
    labels: Vec<i64>,
    genres: Vec<String>,
    styles: Vec<String>,
}

/// Releases and masters counted in (`delta` 1, a new version) or out (-1, an old version or a
/// deleted record) by one transaction. Lists hold each item once.
#[derive(Debug, Default)]
pub struct Changes {
    records: Vec<(i64, Counted)>,
}

impl Changes {
    pub fn release(&mut self, delta: i64, release: &CountedRelease<'_>) {
        self.records.push((
            delta,
            Counted {
                release: true,
                year: release.year,
                artists: release.artists.to_vec(),
                labels: release.labels.to_vec(),
                genres: release.genres.to_vec(),
                styles: release.styles.to_vec(),
            },
        ));
    }

    pub fn master(&mut self, delta: i64, genres: &[String], styles: &[String]) {
        self.records.push((
            delta,
            Counted {
                release: false,
                year: None,
                artists: Vec::new(),
                labels: Vec::new(),
                genres: genres.to_vec(),
                styles: styles.to_vec(),
            },
        ));
    }

    fn tag_names(&self) -> Vec<TagName> {
        let mut names: Vec<TagName> = self
            .records
            .iter()
            .flat_map(|(_, record)| {
                let genres = record.genres.iter().map(|name| ("genre", name.clone()));
                genres.chain(record.styles.iter().map(|name| ("style", name.clone())))
            })
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The net change of every row, none of them zero.
    fn deltas(&self, tags: &HashMap<TagName, i64>) -> HashMap<Key, i64> {
        let mut deltas: HashMap<Key, i64> = HashMap::new();
        // Every name was interned before this is called.
        let ids = |kind: &'static str, names: &[String]| -> Vec<i64> {
            names
                .iter()
                .filter_map(|name| tags.get(&(kind, name.clone())).copied())
                .collect()
        };
        for (delta, record) in &self.records {
            let mut add = |count, a, b| *deltas.entry(Key::new(count, a, b)).or_default() += delta;
            let (genres, styles) = (ids("genre", &record.genres), ids("style", &record.styles));
            for &tag in genres.iter().chain(&styles) {
                add(Count::TagRecords, tag, 0);
            }
            if let [genre] = genres[..] {
                for &style in &styles {
                    add(Count::PartOf, style, genre);
                }
            }
            if !record.release {
                continue;
            }
            for &artist in &record.artists {
                add(Count::ArtistReleases, artist, 0);
            }
            for &label in &record.labels {
                add(Count::LabelReleases, label, 0);
                for &artist in &record.artists {
                    add(Count::LabelArtist, label, artist);
                }
                for &genre in &genres {
                    add(Count::LabelGenre, label, genre);
                }
            }
            let year = record.year.filter(|&year| year > 0);
            for &tag in genres.iter().chain(&styles) {
                add(Count::TagReleases, tag, 0);
                if let Some(year) = year {
                    add(Count::TagYear, tag, year);
                }
                for &artist in &record.artists {
                    add(Count::TagArtist, tag, artist);
                }
                for &label in &record.labels {
                    add(Count::TagLabel, tag, label);
                }
            }
            for &genre in &genres {
                for &style in &styles {
                    add(Count::Shared, genre, style);
                }
            }
        }
        deltas.retain(|_, delta| *delta != 0);
        deltas
    }
}

/// The artists and labels whose counts a transaction changed.
#[derive(Debug, Default)]
pub struct Moved {
    pub artists: Vec<i64>,
    pub labels: Vec<i64>,
}

/// Adds `changes` to the counts, inside the transaction that writes the records.
///
/// # Errors
///
/// A statement failed.
pub async fn apply(tx: &Transaction<'_>, changes: &Changes) -> Result<Moved> {
    if changes.records.is_empty() {
        return Ok(Moved::default());
    }
    let tags = intern(tx, &changes.tag_names()).await?;
    let deltas = changes.deltas(&tags);
    let mut emptied = Vec::new();
    let mut distinct: HashMap<Key, i64> = HashMap::new();
    for (key, n) in add(tx, &deltas).await? {
        let before = n - deltas.get(&key).copied().unwrap_or_default();
        if (before > 0) != (n > 0) {
            let step = if n > 0 { 1 } else { -1 };
            for owner in key.distinct_counts() {
                *distinct.entry(owner).or_default() += step;
            }
        }
        if n <= 0 {
            emptied.push(key);
        }
    }
    distinct.retain(|_, delta| *delta != 0);
    for (key, n) in add(tx, &distinct).await? {
        if n <= 0 {
            emptied.push(key);
        }
    }
    remove(tx, &emptied).await?;
    let mut moved = Moved::default();
    for key in deltas.keys().chain(distinct.keys()) {
        match key.count {
            Count::ArtistReleases => moved.artists.push(key.a),
            Count::LabelReleases | Count::LabelArtists | Count::LabelGenres => {
                moved.labels.push(key.a);
            }
            _ => {}
        }
    }
    Ok(moved)
}

/// The ids of `names`, numbering the new ones.
async fn intern(tx: &Transaction<'_>, names: &[TagName]) -> Result<HashMap<TagName, i64>> {
    let kinds: Vec<&str> = names.iter().map(|(kind, _)| *kind).collect();
    let texts: Vec<&str> = names.iter().map(|(_, name)| name.as_str()).collect();
    tx.execute(
        "INSERT INTO aggregate_tags (kind, name)
         SELECT kind, name FROM unnest($1::text[], $2::text[]) AS wanted (kind, name)
         WHERE NOT EXISTS (SELECT 1 FROM aggregate_tags t WHERE t.kind = wanted.kind AND t.name = wanted.name)
         ON CONFLICT DO NOTHING",
        &[&kinds, &texts],
    )
    .await?;
    let rows = tx
        .query(
            "SELECT t.kind, t.name, t.id FROM aggregate_tags t
             JOIN unnest($1::text[], $2::text[]) AS wanted (kind, name) USING (kind, name)",
            &[&kinds, &texts],
        )
        .await?;
    let mut ids = HashMap::with_capacity(rows.len());
    for row in rows {
        let kind = if row.get::<_, &str>(0) == "genre" {
            "genre"
        } else {
            "style"
        };
        ids.insert((kind, row.get(1)), i64::from(row.get::<_, i32>(2)));
    }
    Ok(ids)
}

/// Adds each delta to its row (created if missing); returns each row's new `n`.
async fn add(tx: &Transaction<'_>, deltas: &HashMap<Key, i64>) -> Result<Vec<(Key, i64)>> {
    if deltas.is_empty() {
        return Ok(Vec::new());
    }
    // In key order, so that two writers would take the rows' locks in the same order.
    let sorted: BTreeMap<Key, i64> = deltas.iter().map(|(&key, &delta)| (key, delta)).collect();
    let (keys, values): (Vec<Key>, Vec<i64>) = sorted.into_iter().unzip();
    let (counts, a, b) = columns(&keys);
    let rows = tx
        .query(
            "INSERT INTO aggregate_counts AS c (count, a, b, n)
             SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bigint[], $4::bigint[])
             ON CONFLICT (count, a, b) DO UPDATE SET n = c.n + excluded.n
             RETURNING count, a, b, n",
            &[&counts, &a, &b, &values],
        )
        .await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let count = Count::from_code(row.get(0))?;
            Some((Key::new(count, row.get(1), row.get(2)), row.get(3)))
        })
        .collect())
}

/// Deletes the rows of `keys` (their counts reached zero).
async fn remove(tx: &Transaction<'_>, keys: &[Key]) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let (counts, a, b) = columns(keys);
    tx.execute(
        "DELETE FROM aggregate_counts WHERE (count, a, b) IN
         (SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bigint[]))",
        &[&counts, &a, &b],
    )
    .await?;
    Ok(())
}

fn columns(keys: &[Key]) -> (Vec<i16>, Vec<i64>, Vec<i64>) {
    let counts = keys.iter().map(|key| key.count.code()).collect();
    let a = keys.iter().map(|key| key.a).collect();
    let b = keys.iter().map(|key| key.b).collect();
    (counts, a, b)
}

/// Replaces every count with one computed from `release_facts` and `master_facts`, in one
/// transaction: what a graph built from scratch, or aggregates whose definitions changed, start
/// from. One pass over the facts per kind of count, the indexes built after.
///
/// # Errors
///
/// A statement failed; the counts are as they were.
pub async fn rebuild(client: &mut deadpool_postgres::Object) -> Result<()> {
    let tx = client.transaction().await?;
    tx.batch_execute(&rebuild_script()).await?;
    tx.commit().await?;
    Ok(())
}

fn rebuild_script() -> String {
    use Count::*;
    // A release (or master) row `f` once per genre and style it names, as `t.kind`, `t.name`.
    let tagged = |table: &str| {
        format!(
            "{table} f CROSS JOIN LATERAL (SELECT 'genre', g FROM unnest(f.genres) g
                                       UNION ALL SELECT 'style', s FROM unnest(f.styles) s) t (kind, name)"
        )
    };
    let (releases, masters) = (tagged("release_facts"), tagged("master_facts"));
    let code = |count: Count| count.code();
    format!(
        "SET LOCAL work_mem = '256MB';
         ALTER TABLE aggregate_counts DROP CONSTRAINT aggregate_counts_pkey;
         DROP INDEX aggregate_counts_ranked;
         TRUNCATE aggregate_counts;

         CREATE TEMP TABLE tag_records ON COMMIT DROP AS
             SELECT kind, name, count(*) AS n FROM (
                 SELECT t.kind, t.name FROM {releases} UNION ALL SELECT t.kind, t.name FROM {masters}
             ) named GROUP BY kind, name;
         INSERT INTO aggregate_tags (kind, name) SELECT kind, name FROM tag_records r
             WHERE NOT EXISTS (SELECT 1 FROM aggregate_tags t WHERE t.kind = r.kind AND t.name = r.name);
         INSERT INTO aggregate_counts
             SELECT {tag_records}, tag.id, 0, r.n FROM tag_records r JOIN aggregate_tags tag USING (kind, name);

         INSERT INTO aggregate_counts
             SELECT CASE whole WHEN 1 THEN {tag_releases} ELSE {tag_year} END, tag.id, coalesce(year, 0), x.n
             FROM (SELECT kind, name, year, GROUPING(year) AS whole, count(*) AS n
                   FROM (SELECT t.kind, t.name, CASE WHEN f.year > 0 THEN f.year END AS year FROM {releases}) r
                   GROUP BY GROUPING SETS ((kind, name), (kind, name, year))) x
             JOIN aggregate_tags tag USING (kind, name)
             WHERE whole = 1 OR year IS NOT NULL;
         INSERT INTO aggregate_counts
             SELECT {tag_artist}, tag.id, x.artist, x.n
             FROM (SELECT t.kind, t.name, artist, count(*) AS n FROM {releases}, unnest(f.artists) artist
                   GROUP BY 1, 2, 3) x
             JOIN aggregate_tags tag USING (kind, name);
         INSERT INTO aggregate_counts
             SELECT {tag_label}, tag.id, x.label, x.n
             FROM (SELECT t.kind, t.name, label, count(*) AS n FROM {releases}, unnest(f.labels) label
                   GROUP BY 1, 2, 3) x
             JOIN aggregate_tags tag USING (kind, name);
         INSERT INTO aggregate_counts
             SELECT {shared}, g.id, s.id, x.n
             FROM (SELECT genre, style, count(*) AS n
                   FROM release_facts, unnest(genres) genre, unnest(styles) style GROUP BY 1, 2) x
             JOIN aggregate_tags g ON g.kind = 'genre' AND g.name = x.genre
             JOIN aggregate_tags s ON s.kind = 'style' AND s.name = x.style;
         INSERT INTO aggregate_counts
             SELECT {part_of}, s.id, g.id, x.n
             FROM (SELECT f.genres[1] AS genre, style, count(*) AS n
                   FROM (SELECT genres, styles FROM release_facts UNION ALL SELECT genres, styles FROM master_facts) f,
                        unnest(f.styles) style
                   WHERE cardinality(f.genres) = 1 GROUP BY 1, 2) x
             JOIN aggregate_tags g ON g.kind = 'genre' AND g.name = x.genre
             JOIN aggregate_tags s ON s.kind = 'style' AND s.name = x.style;

         INSERT INTO aggregate_counts
             SELECT {artist_releases}, artist, 0, count(*) FROM release_facts, unnest(artists) artist GROUP BY artist;
         INSERT INTO aggregate_counts
             SELECT {label_releases}, label, 0, count(*) FROM release_facts, unnest(labels) label GROUP BY label;
         INSERT INTO aggregate_counts
             SELECT {label_artist}, label, artist, count(*)
             FROM release_facts, unnest(labels) label, unnest(artists) artist GROUP BY label, artist;
         INSERT INTO aggregate_counts
             SELECT {label_genre}, x.label, g.id, x.n
             FROM (SELECT label, genre, count(*) AS n
                   FROM release_facts, unnest(labels) label, unnest(genres) genre GROUP BY 1, 2) x
             JOIN aggregate_tags g ON g.kind = 'genre' AND g.name = x.genre;

         INSERT INTO aggregate_counts
             SELECT CASE count WHEN {label_artist} THEN {label_artists} WHEN {label_genre} THEN {label_genres}
                               WHEN {tag_artist} THEN {tag_artists} ELSE {tag_labels} END,
                    a, 0, count(*)
             FROM aggregate_counts WHERE count IN ({label_artist}, {label_genre}, {tag_artist}, {tag_label})
             GROUP BY count, a;
         INSERT INTO aggregate_counts
             SELECT {tag_related}, tag, 0, count(*)
             FROM (SELECT a AS tag FROM aggregate_counts WHERE count = {part_of}
                   UNION ALL SELECT b FROM aggregate_counts WHERE count = {part_of}) related
             GROUP BY tag;

         ALTER TABLE aggregate_counts ADD PRIMARY KEY (count, a, b);
         CREATE INDEX aggregate_counts_ranked ON aggregate_counts (count, a, n DESC, b)
             WHERE count IN ({tag_artist}, {tag_label});",
        tag_records = code(TagRecords),
        tag_releases = code(TagReleases),
        tag_year = code(TagYear),
        tag_artist = code(TagArtist),
        tag_artists = code(TagArtists),
        tag_label = code(TagLabel),
        tag_labels = code(TagLabels),
        shared = code(Shared),
        part_of = code(PartOf),
        tag_related = code(TagRelated),
        artist_releases = code(ArtistReleases),
        label_releases = code(LabelReleases),
        label_artist = code(LabelArtist),
        label_artists = code(LabelArtists),
        label_genre = code(LabelGenre),
        label_genres = code(LabelGenres),
    )
}

/// The aggregates an update writes: the counts of `artists` and `labels` (the ones it touched),
/// and every genre's and style's aggregates and `PART_OF`, as the counts now stand.
///
/// # Errors
///
/// A query failed.
pub async fn aggregates(
    client: &impl GenericClient,
    artists: &[i64],
    labels: &[i64],
) -> Result<Aggregates> {
    let mut aggregates = Aggregates::default();
    let rows = client
        .query(
            "SELECT a, n FROM aggregate_counts WHERE count = $1 AND a = ANY($2)",
            &[&Count::ArtistReleases.code(), &artists],
        )
        .await?;
    aggregates.artists = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    let label_counts = [
        Count::LabelReleases,
        Count::LabelArtists,
        Count::LabelGenres,
    ];
    let rows = client
        .query(
            "SELECT count, a, n FROM aggregate_counts WHERE count = ANY($1) AND a = ANY($2)",
            &[&codes(&label_counts), &labels],
        )
        .await?;
    for row in rows {
        let counts: &mut LabelCounts = aggregates.labels.entry(row.get(1)).or_default();
        let n: i64 = row.get(2);
        match Count::from_code(row.get(0)) {
            Some(Count::LabelReleases) => counts.releases = n,
            Some(Count::LabelArtists) => counts.artists = n,
            _ => counts.genres = n,
        }
    }
    tag_aggregates(client, &mut aggregates).await?;
    Ok(aggregates)
}

fn codes(counts: &[Count]) -> Vec<i16> {
    counts.iter().map(|count| count.code()).collect()
}

/// Every genre's and style's aggregates, and `PART_OF`, into `aggregates`.
async fn tag_aggregates(client: &impl GenericClient, aggregates: &mut Aggregates) -> Result<()> {
    let mut tags: HashMap<i64, (bool, TagAggregates)> = HashMap::new();
    for row in client
        .query("SELECT id, kind, name FROM aggregate_tags", &[])
        .await?
    {
        let tag = TagAggregates {
            name: row.get(2),
            ..TagAggregates::default()
        };
        tags.insert(
            i64::from(row.get::<_, i32>(0)),
            (row.get::<_, &str>(1) == "genre", tag),
        );
    }
    let per_tag = [
        Count::TagRecords,
        Count::TagReleases,
        Count::TagYear,
        Count::TagArtists,
        Count::TagLabels,
        Count::TagRelated,
        Count::Shared,
        Count::PartOf,
    ];
    let rows = client
        .query_raw(
            "SELECT count, a, b, n FROM aggregate_counts WHERE count = ANY($1) ORDER BY count, a, b",
            [codes(&per_tag)],
        )
        .await?;
    pin_mut!(rows);
    let (mut named, mut shared, mut part_of) = (Vec::new(), HashMap::new(), Vec::new());
    while let Some(row) = rows.try_next().await? {
        let (a, b, n): (i64, i64, i64) = (row.get(1), row.get(2), row.get(3));
        let Some(count) = Count::from_code(row.get(0)) else {
            continue;
        };
        if count == Count::Shared {
            shared.insert((a, b), n);
            continue;
        }
        if count == Count::PartOf {
            part_of.push((a, b));
            continue;
        }
        let Some((_, tag)) = tags.get_mut(&a) else {
            continue;
        };
        match count {
            Count::TagRecords => named.push(a),
            Count::TagReleases => tag.release_count = n,
            Count::TagYear => {
                tag.first_year = tag.first_year.or(Some(b));
                tag.trend_years.push(b);
                tag.trend_counts.push(n);
            }
            Count::TagArtists => tag.artist_count = n,
            Count::TagLabels => tag.label_count = n,
            _ => tag.related = n,
        }
    }
    for (count, field) in [(Count::TagArtist, true), (Count::TagLabel, false)] {
        // Index-ordered: each tag's first rows by releases, read straight off the index.
        let sql = format!(
            "SELECT top.a, top.b, top.n FROM aggregate_counts tag CROSS JOIN LATERAL (
                 SELECT a, b, n FROM aggregate_counts c
                 WHERE c.count = {list} AND c.a = tag.a ORDER BY n DESC, b LIMIT {TOP_LIST_LENGTH}
             ) top
             WHERE tag.count = {named} ORDER BY top.a, top.n DESC, top.b",
            list = count.code(),
            named = Count::TagRecords.code(),
        );
        let rows = client.query_raw(&sql, std::iter::empty::<i64>()).await?;
        pin_mut!(rows);
        while let Some(row) = rows.try_next().await? {
            let Some((_, tag)) = tags.get_mut(&row.get(0)) else {
                continue;
            };
            let (ids, counts) = if field {
                (&mut tag.top_artist_ids, &mut tag.top_artist_counts)
            } else {
                (&mut tag.top_label_ids, &mut tag.top_label_counts)
            };
            ids.push(row.get(1));
            counts.push(row.get(2));
        }
    }
    let name = |tags: &HashMap<i64, (bool, TagAggregates)>, id| {
        tags.get(&id).map(|(_, tag)| tag.name.clone())
    };
    for (style, genre) in part_of {
        if let (Some(style_name), Some(genre_name)) = (name(&tags, style), name(&tags, genre)) {
            aggregates.part_of.push(PartOf {
                style: style_name,
                genre: genre_name,
                release_count: shared.get(&(genre, style)).copied(),
            });
        }
    }
    aggregates
        .part_of
        .sort_by(|a, b| (&a.style, &a.genre).cmp(&(&b.style, &b.genre)));
    for id in named {
        if let Some((genre, tag)) = tags.remove(&id) {
            if genre {
                aggregates.genres.push(tag);
            } else {
                aggregates.styles.push(tag);
            }
        }
    }
    for list in [&mut aggregates.genres, &mut aggregates.styles] {
        list.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(())
}
