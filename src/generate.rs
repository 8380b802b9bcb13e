//! Deterministic synthetic dumps, for benchmarks and tests (not a user command).
//!
//! [`generate`] writes a consistent four-file dump (`discogs_YYYYMMDD_{artists,labels,masters,
//! releases}.xml.gz` and its CHECKSUM file) of any size from a seed: the same arguments give the
//! same bytes. Proportions follow the 2026 catalogue (per release: 0.53 artists, 0.12 labels, 0.13
//! masters); popularity is skewed the way the real one is (a few huge artists, labels and genres,
//! a long tail), by drawing ids as `n·u³` for uniform `u`; records fan out like real ones (credits,
//! tracklists with sub-tracks, formats, identifiers, companies, videos), and every id a record
//! references exists in the dump, apart from the deliberate "Various" artist 194 case.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

use crate::record::Kind;

/// Artists per release in the 2026-03 dump (9.96 M / 18.95 M).
const ARTISTS_PER_RELEASE: f64 = 0.525;
/// Labels per release (2.35 M / 18.95 M).
const LABELS_PER_RELEASE: f64 = 0.124;
/// Masters per release (2.53 M / 18.95 M).
const MASTERS_PER_RELEASE: f64 = 0.134;
/// Share of releases that belong to a master.
const RELEASES_WITH_MASTER: f64 = 0.7;

const GENRES: &[&str] = &[
    "Electronic",
    "Rock",
    "Pop",
    "Funk / Soul",
    "Jazz",
    "Hip Hop",
    "Classical",
    "Folk, World, & Country",
    "Latin",
    "Reggae",
    "Stage & Screen",
    "Blues",
    "Non-Music",
    "Children's",
    "Brass & Military",
];
const STYLES: &[&str] = &[
    "House",
    "Techno",
    "Experimental",
    "Ambient",
    "Synth-pop",
    "Pop Rock",
    "Punk",
    "Indie Rock",
    "Alternative Rock",
    "Disco",
    "Soul",
    "Downtempo",
    "Hard Rock",
    "Electro",
    "Trance",
    "Drum n Bass",
    "Folk",
    "Country",
    "Ballad",
    "Hardcore",
    "Noise",
    "Rock & Roll",
    "Classic Rock",
    "Deep House",
    "Tech House",
    "Minimal",
    "Dub",
    "Vocal",
    "Soundtrack",
    "Contemporary Jazz",
    "Fusion",
    "Breakbeat",
    "IDM",
    "Psychedelic Rock",
    "Heavy Metal",
];
const ROLES: &[&str] = &[
    "Producer",
    "Written-By",
    "Mixed By",
    "Mastered By",
    "Engineer",
    "Photography By",
    "Design",
    "Vocals",
    "Guitar",
    "Bass",
    "Drums",
    "Keyboards",
    "Remix",
    "Arranged By",
    "Lacquer Cut By",
    "Liner Notes",
];
const FORMATS: &[&str] = &["Vinyl", "CD", "Cassette", "File", "CDr", "Box Set", "DVD"];
const DESCRIPTIONS: &[&str] = &[
    "LP",
    "Album",
    "12\"",
    "33 ⅓ RPM",
    "Single",
    "EP",
    "Compilation",
    "Reissue",
    "Stereo",
    "Promo",
];
const COUNTRIES: &[&str] = &[
    "US",
    "UK",
    "Germany",
    "France",
    "Japan",
    "Netherlands",
    "Italy",
    "Canada",
    "Europe",
    "Sweden",
    "Brasil",
];
const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ne", "ro", "sa", "ti", "vu", "zen", "dor", "bel", "ash", "ton", "ri", "qua",
    "ël", "ño", "stra",
];
const COMPANY_TYPES: &[(i64, &str)] = &[
    (13, "Phonographic Copyright (p)"),
    (14, "Copyright (c)"),
    (17, "Pressed By"),
    (23, "Recorded At"),
    (29, "Mastered At"),
];

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    pub releases: u64,
    /// Dump version in file names, `YYYYMMDD`.
    pub version: String,
    pub seed: u64,
    /// gzip level; 9 like Discogs, lower to generate big dumps faster.
    pub level: u32,
    /// Revision of the catalogue: records picked by `changed` differ from revision 0 (a title or
    /// name suffix, an extra style), the way a month's edits change a small share of records.
    pub revision: u32,
    /// Share of records (0..=1) that differ from revision 0 when `revision` is not 0.
    pub changed: f64,
    /// Shares of records a revision other than 0 adds (new ids after revision 0's last, referring
    /// to revision 0's records) and drops: with `changed`, a month of catalogue edits.
    pub added: f64,
    pub removed: f64,
}

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            releases: 1_000,
            version: "20990101".into(),
            seed: 1,
            level: 6,
            revision: 0,
            changed: 0.0,
            added: 0.0,
            removed: 0.0,
        }
    }
}

impl Spec {
    pub fn artists(&self) -> u64 {
        ((self.releases as f64 * ARTISTS_PER_RELEASE) as u64).max(200)
    }

    pub fn labels(&self) -> u64 {
        ((self.releases as f64 * LABELS_PER_RELEASE) as u64).max(10)
    }

    pub fn masters(&self) -> u64 {
        ((self.releases as f64 * MASTERS_PER_RELEASE) as u64).max(1)
    }

    /// Whether record `id` of `kind` differs from revision 0 in this revision.
    fn revised(&self, kind: Kind, id: u64) -> bool {
        self.revision_picks(kind, id, 0, self.changed)
    }

    /// Whether revision 0's record `id` of `kind` is gone in this revision.
    fn dropped(&self, kind: Kind, id: u64) -> bool {
        self.revision_picks(kind, id, 1, self.removed)
    }

    /// Picks a `share` of the records for one kind of edit (`edit`), the same ones every time.
    fn revision_picks(&self, kind: Kind, id: u64, edit: u64, share: f64) -> bool {
        if self.revision == 0 {
            return false;
        }
        let mut rng = Rng(self.seed
            ^ u64::from(self.revision).wrapping_mul(0x2545_f491_4f6c_dd1d)
            ^ edit.wrapping_mul(0x6a09_e667_f3bc_c909)
            ^ (kind as u64)
            ^ id.wrapping_mul(0x9e37_79b9));
        rng.chance(share)
    }

    /// The ids of `kind` in this revision's file: revision 0's, less the dropped, plus the added.
    fn ids(&self, kind: Kind) -> impl Iterator<Item = u64> + '_ {
        let count = match kind {
            Kind::Artists => self.artists(),
            Kind::Labels => self.labels(),
            Kind::Masters => self.masters(),
            Kind::Releases => self.releases,
        };
        let added = if self.revision == 0 {
            0
        } else {
            (count as f64 * self.added) as u64
        };
        (1..=count + added).filter(move |&id| id > count || !self.dropped(kind, id))
    }

    /// The path of one of the dump's files in `dir`.
    pub fn path(&self, dir: &Path, kind: Kind) -> PathBuf {
        dir.join(format!("discogs_{}_{}.xml.gz", self.version, kind.as_str()))
    }
}

/// Writes the four dump files and the CHECKSUM file into `dir`.
///
/// # Errors
///
/// Writing a file failed.
pub fn generate(spec: &Spec, dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut checksums = String::new();
    for kind in Kind::ALL {
        let path = spec.path(dir, kind);
        write_file(spec, kind, &path)?;
        let digest = Sha256::digest(std::fs::read(&path)?);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        checksums.push_str(&format!("{} {name}\n", hex::encode(digest)));
    }
    std::fs::write(
        dir.join(format!("discogs_{}_CHECKSUM.txt", spec.version)),
        checksums,
    )
}

/// Writes one file of the dump.
///
/// # Errors
///
/// Writing failed.
pub fn write_file(spec: &Spec, kind: Kind, path: &Path) -> io::Result<()> {
    let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut out =
        BufWriter::with_capacity(1 << 20, GzEncoder::new(file, Compression::new(spec.level)));
    let root = kind.as_str();
    writeln!(out, "<{root}>")?;
    let generator = Generator {
        spec,
        seed: spec.seed ^ (kind as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    };
    let mut line = String::with_capacity(64 * 1024);
    for id in spec.ids(kind) {
        line.clear();
        let mut rng = generator.rng_for(id);
        match kind {
            Kind::Artists => generator.artist(&mut line, &mut rng, id),
            Kind::Labels => generator.label(&mut line, &mut rng, id),
            Kind::Masters => generator.master(&mut line, &mut rng, id),
            Kind::Releases => generator.release(&mut line, &mut rng, id),
        }
        if spec.revised(kind, id) {
            line = revise(&line, kind, spec.revision);
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    writeln!(out, "</{root}>")?;
    out.into_inner()
        .map_err(|e| e.into_error())?
        .finish()?
        .flush()
}

/// A record as a later revision has it: a suffix on its name or title, and for masters and
/// releases one more style (so its relationships change too).
fn revise(record: &str, kind: Kind, revision: u32) -> String {
    let suffix = format!(" [rev {revision}]");
    match kind {
        Kind::Artists | Kind::Labels => record.replacen("</name>", &format!("{suffix}</name>"), 1),
        Kind::Masters | Kind::Releases => record
            .replacen("</title>", &format!("{suffix}</title>"), 1)
            .replacen("</styles>", "<style>Revised</style></styles>", 1),
    }
}

/// splitmix64: tiny, fast, and good enough to make data look varied; determinism is the point.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// In `low..=high`, uniform.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.below(high - low + 1)
    }

    /// An id in `1..=n`, skewed so that low ids are drawn far more often (a few huge entities).
    fn popular(&mut self, n: u64) -> u64 {
        let u = self.unit();
        1 + ((n as f64) * u * u * u) as u64 % n.max(1)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// Like `pick`, but skewed towards the front of the list.
    fn pick_popular<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.popular(items.len() as u64) - 1) as usize]
    }
}

struct Generator<'s> {
    spec: &'s Spec,
    seed: u64,
}

/// Appends `text` escaped for XML content or attribute values.
fn escaped(out: &mut String, text: &str) {
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\r' => out.push_str("&#13;"),
            _ => out.push(ch),
        }
    }
}

fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escaped(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

impl Generator<'_> {
    fn rng_for(&self, id: u64) -> Rng {
        let mut rng = Rng(self.seed ^ id.wrapping_mul(0xd6e8_feb8_6659_fd93));
        rng.next();
        rng
    }

    /// A name built from syllables; deterministic per (entity, id).
    fn name(&self, salt: u64, id: u64) -> String {
        let mut rng = Rng(self.spec.seed ^ salt ^ id.wrapping_mul(0xa076_1d64_78bd_642f));
        let words = 1 + rng.below(3);
        let mut name = String::new();
        for word in 0..words {
            if word > 0 {
                name.push(' ');
            }
            for syllable in 0..rng.between(1, 3) {
                let s = rng.pick(SYLLABLES);
                if syllable == 0 {
                    let mut chars = s.chars();
                    if let Some(first) = chars.next() {
                        name.extend(first.to_uppercase());
                        name.push_str(chars.as_str());
                    }
                } else {
                    name.push_str(s);
                }
            }
        }
        if rng.chance(0.05) {
            name.push_str(" & Co");
        }
        if rng.chance(0.1) {
            name.push_str(&format!(" ({})", rng.between(2, 9)));
        }
        name
    }

    fn artist_name(&self, id: u64) -> String {
        if id == 194 {
            "Various".to_owned()
        } else {
            self.name(1, id)
        }
    }

    fn label_name(&self, id: u64) -> String {
        self.name(2, id) + " Records"
    }

    fn title(&self, salt: u64, id: u64) -> String {
        self.name(salt, id)
    }

    fn prose(&self, out: &mut String, rng: &mut Rng, sentences: u64) {
        for sentence in 0..sentences {
            if sentence > 0 {
                out.push_str(if rng.chance(0.2) { "\r\n" } else { " " });
            }
            for word in 0..rng.between(5, 14) {
                if word > 0 {
                    out.push(' ');
                }
                out.push_str(rng.pick(SYLLABLES));
                out.push_str(rng.pick(SYLLABLES));
            }
            out.push('.');
        }
    }

    fn artist(&self, out: &mut String, rng: &mut Rng, id: u64) {
        let artists = self.spec.artists();
        out.push_str("<artist>");
        element(out, "id", &id.to_string());
        element(out, "name", &self.artist_name(id));
        if rng.chance(0.3) {
            element(out, "realname", &self.name(3, id));
        }
        if rng.chance(0.6) {
            let mut profile = String::new();
            let sentences = rng.between(1, 6);
            self.prose(&mut profile, rng, sentences);
            element(out, "profile", &profile);
        }
        element(
            out,
            "data_quality",
            rng.pick(&["Needs Vote", "Correct", "Needs Major Changes"]),
        );
        if rng.chance(0.3) {
            out.push_str("<urls>");
            for n in 0..rng.between(1, 4) {
                element(
                    out,
                    "url",
                    &format!("https://example.com/artist/{id}/{n}?a=1&b=2"),
                );
            }
            out.push_str("</urls>");
        }
        if rng.chance(0.4) {
            out.push_str("<namevariations>");
            for n in 0..rng.between(1, 5) {
                element(out, "name", &format!("{} {n}", self.artist_name(id)));
            }
            out.push_str("</namevariations>");
        }
        let references = |out: &mut String, rng: &mut Rng, list: &str, p: f64, max: u64| {
            if rng.chance(p) {
                out.push('<');
                out.push_str(list);
                out.push('>');
                for _ in 0..rng.between(1, max) {
                    let other = rng.between(1, artists);
                    out.push_str(&format!("<name id=\"{other}\">"));
                    escaped(out, &self.artist_name(other));
                    out.push_str("</name>");
                }
                out.push_str("</");
                out.push_str(list);
                out.push('>');
            }
        };
        references(out, rng, "aliases", 0.15, 4);
        references(out, rng, "groups", 0.12, 3);
        references(out, rng, "members", 0.08, 6);
        out.push_str("</artist>");
    }

    fn label(&self, out: &mut String, rng: &mut Rng, id: u64) {
        let labels = self.spec.labels();
        out.push_str("<label>");
        element(out, "id", &id.to_string());
        element(out, "name", &self.label_name(id));
        if rng.chance(0.2) {
            element(
                out,
                "contactinfo",
                &format!(
                    "{} Street {}\r\nCity\r\nCountry",
                    self.name(4, id),
                    rng.between(1, 200)
                ),
            );
        }
        if rng.chance(0.4) {
            let mut profile = String::new();
            let sentences = rng.between(1, 4);
            self.prose(&mut profile, rng, sentences);
            element(out, "profile", &profile);
        }
        element(out, "data_quality", rng.pick(&["Needs Vote", "Correct"]));
        if rng.chance(0.2) {
            out.push_str("<urls>");
            element(out, "url", &format!("https://label{id}.example.com/"));
            out.push_str("</urls>");
        }
        if id > 10 && rng.chance(0.15) {
            let parent = rng.popular(id - 1);
            out.push_str(&format!("<parentLabel id=\"{parent}\">"));
            escaped(out, &self.label_name(parent));
            out.push_str("</parentLabel>");
        }
        if id <= labels / 20 && rng.chance(0.5) {
            out.push_str("<sublabels>");
            for _ in 0..rng.between(1, 6) {
                let sub = rng.between(1, labels);
                out.push_str(&format!("<label id=\"{sub}\">"));
                escaped(out, &self.label_name(sub));
                out.push_str("</label>");
            }
            out.push_str("</sublabels>");
        }
        out.push_str("</label>");
    }

    fn credits(&self, out: &mut String, rng: &mut Rng, list: &str, count: u64, extra: bool) {
        if count == 0 {
            return;
        }
        let artists = self.spec.artists();
        out.push('<');
        out.push_str(list);
        out.push('>');
        for n in 0..count {
            let artist = if !extra && rng.chance(0.02) {
                194
            } else {
                rng.popular(artists)
            };
            out.push_str("<artist>");
            // Real dumps have credits without an id now and then.
            if !(extra && rng.chance(0.01)) {
                element(out, "id", &artist.to_string());
            }
            element(out, "name", &self.artist_name(artist));
            if rng.chance(0.1) {
                element(out, "anv", &self.name(5, artist));
            }
            if !extra && n + 1 < count {
                element(out, "join", rng.pick(&[",", "&", "Feat.", "Vs.", "And"]));
            }
            if extra {
                element(out, "role", rng.pick_popular(ROLES));
                if rng.chance(0.2) {
                    element(
                        out,
                        "tracks",
                        &format!("A{}, B{}", rng.between(1, 4), rng.between(1, 4)),
                    );
                }
            }
            out.push_str("</artist>");
        }
        out.push_str("</");
        out.push_str(list);
        out.push('>');
    }

    fn genres_and_styles(&self, out: &mut String, rng: &mut Rng) {
        out.push_str("<genres>");
        let genres = rng.between(1, 2);
        for _ in 0..genres {
            element(out, "genre", rng.pick_popular(GENRES));
        }
        out.push_str("</genres>");
        if rng.chance(0.85) {
            out.push_str("<styles>");
            for _ in 0..rng.between(1, 3) {
                element(out, "style", rng.pick_popular(STYLES));
            }
            out.push_str("</styles>");
        }
    }

    fn videos(&self, out: &mut String, rng: &mut Rng, id: u64) {
        if rng.chance(0.35) {
            out.push_str("<videos>");
            for n in 0..rng.between(1, 4) {
                out.push_str(&format!(
                    "<video src=\"https://www.youtube.com/watch?v={id:x}{n}\" duration=\"{}\" embed=\"true\">",
                    rng.between(60, 600)
                ));
                element(out, "title", &self.title(6, id * 10 + n));
                let mut description = String::new();
                self.prose(&mut description, rng, 1);
                element(out, "description", &description);
                out.push_str("</video>");
            }
            out.push_str("</videos>");
        }
    }

    /// Master `m`'s main release is release `m`; see [`Generator::master_of`].
    fn master(&self, out: &mut String, rng: &mut Rng, id: u64) {
        out.push_str(&format!("<master id=\"{id}\">"));
        element(out, "main_release", &id.to_string());
        let artists = rng.between(1, 2);
        self.credits(out, rng, "artists", artists, false);
        self.genres_and_styles(out, rng);
        element(
            out,
            "year",
            &(if rng.chance(0.05) {
                0
            } else {
                rng.between(1950, 2025)
            })
            .to_string(),
        );
        element(out, "title", &self.title(7, id));
        element(out, "data_quality", "Correct");
        if rng.chance(0.05) {
            element(out, "notes", "Reissued with bonus tracks & new artwork.");
        }
        self.videos(out, rng, id);
        out.push_str("</master>");
    }

    /// Releases `1..=masters` each belong to their own master (as its main release); a share
    /// of the others belong to master `(r - 1) % masters + 1` too.
    fn master_of(&self, release: u64, rng: &mut Rng) -> Option<u64> {
        let masters = self.spec.masters();
        (release <= masters || rng.chance(RELEASES_WITH_MASTER))
            .then(|| (release - 1) % masters + 1)
    }

    fn track(&self, out: &mut String, rng: &mut Rng, position: &str, depth: u32) {
        out.push_str("<track>");
        element(out, "position", position);
        element(out, "title", &self.title(8, rng.next() % 1_000_000));
        element(
            out,
            "duration",
            &format!("{}:{:02}", rng.between(1, 9), rng.below(60)),
        );
        if rng.chance(0.15) {
            self.credits(out, rng, "artists", 1, false);
        }
        if rng.chance(0.25) {
            let count = rng.between(1, 3);
            self.credits(out, rng, "extraartists", count, true);
        }
        if depth == 0 && rng.chance(0.03) {
            out.push_str("<sub_tracks>");
            for n in 0..rng.between(2, 5) {
                self.track(
                    out,
                    rng,
                    &format!("{position}.{}", (b'a' + n as u8) as char),
                    1,
                );
            }
            out.push_str("</sub_tracks>");
        }
        out.push_str("</track>");
    }

    fn release(&self, out: &mut String, rng: &mut Rng, id: u64) {
        let labels = self.spec.labels();
        out.push_str(&format!("<release id=\"{id}\" status=\"Accepted\">"));
        let main_artists = rng.between(1, 3).min(rng.between(1, 3));
        self.credits(out, rng, "artists", main_artists, false);
        element(out, "title", &self.title(9, id));
        out.push_str("<labels>");
        for _ in 0..rng.between(1, 2) {
            let label = rng.popular(labels);
            out.push_str("<label name=\"");
            escaped(out, &self.label_name(label));
            out.push_str(&format!(
                "\" catno=\"CAT {}-{}\" id=\"{label}\"/>",
                label % 1000,
                rng.below(10_000)
            ));
        }
        out.push_str("</labels>");
        let extra = rng.below(12);
        self.credits(out, rng, "extraartists", extra, true);
        out.push_str("<formats>");
        for _ in 0..rng.between(1, 2) {
            out.push_str(&format!(
                "<format name=\"{}\" qty=\"{}\" text=\"\"><descriptions>",
                rng.pick_popular(FORMATS),
                rng.between(1, 2)
            ));
            for _ in 0..rng.between(1, 3) {
                element(out, "description", rng.pick(DESCRIPTIONS));
            }
            out.push_str("</descriptions></format>");
        }
        out.push_str("</formats>");
        self.genres_and_styles(out, rng);
        element(out, "country", rng.pick_popular(COUNTRIES));
        let year = rng.between(1950, 2025);
        match rng.below(3) {
            0 => element(out, "released", &year.to_string()),
            1 => element(
                out,
                "released",
                &format!("{year}-{:02}-00", rng.between(1, 12)),
            ),
            _ => element(
                out,
                "released",
                &format!("{year}-{:02}-{:02}", rng.between(1, 12), rng.between(1, 28)),
            ),
        }
        if rng.chance(0.4) {
            let mut notes = String::new();
            let sentences = rng.between(1, 5);
            self.prose(&mut notes, rng, sentences);
            element(out, "notes", &notes);
        }
        element(
            out,
            "data_quality",
            rng.pick(&["Needs Vote", "Correct", "Complete and Correct"]),
        );
        match self.master_of(id, rng) {
            Some(master) => out.push_str(&format!(
                "<master_id is_main_release=\"{}\">{master}</master_id>",
                master == id
            )),
            None if rng.chance(0.1) => {
                out.push_str("<master_id is_main_release=\"false\">0</master_id>")
            }
            None => {}
        }
        out.push_str("<tracklist>");
        for n in 0..rng.between(2, 16) {
            let side = if n < 8 { 'A' } else { 'B' };
            self.track(out, rng, &format!("{side}{}", n % 8 + 1), 0);
        }
        out.push_str("</tracklist>");
        if rng.chance(0.6) {
            out.push_str("<identifiers>");
            for _ in 0..rng.between(1, 4) {
                out.push_str(&format!(
                    "<identifier type=\"{}\" description=\"Side A\" value=\"{:012}\"/>",
                    rng.pick(&["Barcode", "Matrix / Runout", "Rights Society", "Label Code"]),
                    rng.next() % 1_000_000_000_000
                ));
            }
            out.push_str("</identifiers>");
        }
        self.videos(out, rng, id);
        if rng.chance(0.5) {
            out.push_str("<companies>");
            for _ in 0..rng.between(1, 4) {
                let company = rng.popular(labels);
                let (entity_type, entity_type_name) =
                    COMPANY_TYPES[rng.below(COMPANY_TYPES.len() as u64) as usize];
                out.push_str("<company>");
                element(out, "id", &company.to_string());
                element(out, "name", &self.label_name(company));
                element(out, "entity_type", &entity_type.to_string());
                element(out, "entity_type_name", entity_type_name);
                element(
                    out,
                    "resource_url",
                    &format!("https://api.discogs.com/labels/{company}"),
                );
                out.push_str("</company>");
            }
            out.push_str("</companies>");
        }
        if rng.chance(0.05) {
            let series = rng.popular(labels);
            out.push_str("<series><series name=\"");
            escaped(out, &self.label_name(series));
            out.push_str(&format!(
                "\" catno=\"{}\" id=\"{series}\"/></series>",
                rng.between(1, 99)
            ));
        }
        out.push_str("</release>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{Extractor, Options};

    #[test]
    fn generated_dumps_are_deterministic_and_parse_cleanly() {
        let dir = std::env::temp_dir().join(format!("discogs-generate-{}", std::process::id()));
        let spec = Spec {
            releases: 2_000,
            version: "20990101".into(),
            seed: 7,
            level: 1,
            ..Default::default()
        };
        generate(&spec, &dir).unwrap();
        let first = std::fs::read(spec.path(&dir, Kind::Releases)).unwrap();
        write_file(&spec, Kind::Releases, &dir.join("again.xml.gz")).unwrap();
        assert_eq!(
            first,
            std::fs::read(dir.join("again.xml.gz")).unwrap(),
            "same spec, same bytes"
        );

        for (kind, expected) in [
            (Kind::Artists, spec.artists()),
            (Kind::Labels, spec.labels()),
            (Kind::Masters, spec.masters()),
            (Kind::Releases, 2_000),
        ] {
            let mut extractor = Extractor::open(
                &spec.path(&dir, kind),
                &Options {
                    threads: 0,
                    ..Options::default()
                },
            )
            .unwrap();
            let mut count = 0;
            while let Some(batch) = extractor.next_batch().unwrap() {
                assert_eq!(batch.skipped, [], "{kind}");
                count += batch.records.len() as u64;
            }
            assert_eq!(count, expected, "{kind}");
        }
        let checksums = std::fs::read_to_string(dir.join("discogs_20990101_CHECKSUM.txt")).unwrap();
        assert_eq!(checksums.lines().count(), 4);
        for kind in Kind::ALL {
            let digest = hex::encode(Sha256::digest(
                std::fs::read(spec.path(&dir, kind)).unwrap(),
            ));
            assert!(
                checksums.contains(&format!("{digest} discogs_20990101_{kind}.xml.gz\n")),
                "{checksums}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_revision_drops_and_adds_its_shares_of_records() {
        let spec = Spec {
            releases: 20_000,
            revision: 1,
            added: 0.005,
            removed: 0.01,
            ..Default::default()
        };
        let ids: Vec<u64> = spec.ids(Kind::Releases).collect();
        let dropped = (1..=20_000).filter(|id| !ids.contains(id)).count();
        assert!((150..250).contains(&dropped), "{dropped} of 20,000 dropped");
        let added: Vec<u64> = ids.iter().copied().filter(|&id| id > 20_000).collect();
        assert_eq!(
            added,
            (20_001..=20_100).collect::<Vec<_>>(),
            "new ids follow the last"
        );
        let original = Spec {
            revision: 0,
            ..spec.clone()
        };
        assert_eq!(
            original.ids(Kind::Releases).count(),
            20_000,
            "revision 0 is whole"
        );
    }
}
