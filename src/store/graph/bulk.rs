//! First loads through `neo4j-admin database import`: the graph of a whole dump written as CSV
//! files, then loaded offline by Neo4j's import tool, which builds the store files directly instead
//! of committing transactions (on two cores, ~40 k relationships/s through Bolt against 180–280 k/s
//! for the tool).
//!
//! Only for a graph built from scratch (a first load, or a rebuild), and only when the user says
//! how to run the tool (`neo4j.import_command`): it needs the Neo4j server stopped and its files at
//! hand, which only whoever runs the server can arrange. The files say exactly what the
//! transactional writer would have written (both take the records' [`GraphFacts`]); stubs are the
//! referenced ids no record defined, found once everything is written. The aggregates are counted
//! as the records pass ([`Tally`]) and written as columns, so the imported graph is complete:
//! artists and labels wait on disk for their counts until the releases are through.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use neo4rs::{Graph, query};

use super::GraphRecord;
use super::aggregates::{Aggregates, Tally};
use crate::id_set::IdSet;
use crate::record::Kind;
use crate::record::graph::{
    ArtistFacts, GraphFacts, LabelFacts, MasterFacts, ReleaseFacts, SharedFacts, UNNAMED,
    referrer_key,
};

/// Why the export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the graph import file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(
        "{kind} record {id} reached the graph export after a later kind's: a dump's files are exported in load order"
    )]
    OutOfOrder { kind: Kind, id: i64 },
}

/// Why the import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot write the Neo4j import log {}: {source}", path.display())]
    Log { path: PathBuf, source: io::Error },
    #[error("cannot run the Neo4j import command `{command}`: {source}")]
    Spawn { command: String, source: io::Error },
    #[error(
        "the Neo4j import command `{command}` failed ({status}); its output is in {}: {last_line}",
        log.display()
    )]
    Failed {
        command: String,
        status: ExitStatus,
        log: PathBuf,
        last_line: String,
    },
    #[error("Neo4j did not answer within {0:?} of the import command finishing")]
    NotBack(Duration),
    #[error(
        "the Neo4j import command `{command}` succeeded, but the graph Neo4j serves is not the one \
         exported (the command imported elsewhere, into another database than `neo4j`, or \
         without stopping the server); see {}",
        log.display()
    )]
    NotReplaced { command: String, log: PathBuf },
    #[error("Neo4j query failed after the import: {0}")]
    Query(#[from] neo4rs::Error),
}

/// How long Neo4j may take to answer after the import command returned (it should have waited
/// for the server itself; this covers commands that start it in the background).
const RESTART_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `command` through `sh -c`, with the path of the argument file [`Export::finish`] wrote
/// appended as its last argument (`<command> "$1"`), its output going to `import.log` beside it;
/// then waits until Neo4j answers again and checks that it serves the exported graph (the marker
/// node carrying `token`, which it removes).
///
/// The command runs in a process group of its own, so a Ctrl-C at the terminal does not cut an
/// import short and leave Neo4j stopped.
///
/// # Errors
///
/// The command could not be started or failed, Neo4j did not come back, or it does not serve the
/// exported graph.
pub async fn import(
    graph: &Graph,
    command: &str,
    args_file: &Path,
    token: &str,
) -> Result<(), ImportError> {
    let log = args_file.with_file_name("import.log");
    let log_error = |source| ImportError::Log {
        path: log.clone(),
        source,
    };
    let output = File::create(&log).map_err(log_error)?;
    let errors = output.try_clone().map_err(log_error)?;
    tracing::info!(command, args = %args_file.display(), "loading the graph with neo4j-admin database import");
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} \"$1\""))
        .arg("sh")
        .arg(args_file)
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .status()
        .await
        .map_err(|source| ImportError::Spawn {
            command: command.to_owned(),
            source,
        })?;
    if !status.success() {
        let text = std::fs::read(&log).unwrap_or_default();
        let text = String::from_utf8_lossy(&text);
        let last_line = text
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .unwrap_or("no output")
            .trim()
            .to_owned();
        return Err(ImportError::Failed {
            command: command.to_owned(),
            status,
            log,
            last_line,
        });
    }
    let started = Instant::now();
    loop {
        // Spawned: a neo4rs future must not be dropped mid-exchange (see `store::neo4j`).
        let probe = graph.clone();
        let answered = tokio::spawn(async move { probe.run(query("RETURN 1")).await }).await;
        if matches!(answered, Ok(Ok(_))) {
            break;
        }
        if started.elapsed() > RESTART_TIMEOUT {
            return Err(ImportError::NotBack(RESTART_TIMEOUT));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut rows = graph
        .execute(
            query("MATCH (m:GraphImport {token: $token}) DELETE m RETURN count(*) AS found")
                .param("token", token),
        )
        .await?;
    let mut found = 0;
    while let Some(row) = rows.next().await? {
        found += row.get::<i64>("found").unwrap_or(0);
    }
    if found == 0 {
        return Err(ImportError::NotReplaced {
            command: command.to_owned(),
            log,
        });
    }
    Ok(())
}

/// The import tool's arguments, beside the CSV files.
const ARGS_FILE: &str = "import.args";

/// The files artists and labels wait in for their counts (see [`Spool`]).
const SPOOLS: [&str; 2] = ["artists.spool", "labels.spool"];

/// Separates the elements of array properties: a control character, which XML 1.0 text cannot hold.
const ARRAY_DELIMITER: char = '\u{1f}';

/// The CSV files, in [`CsvFile`] order: name, header, and how the import tool takes it (node
/// label or relationship type).
const FILES: [(CsvFile, &str, &str, &str); 20] = [
    (
        CsvFile::Artists,
        "artists.csv",
        "id:ID(Artist){id-type:long},name,release_count:long,named_by:long",
        "--nodes=Artist",
    ),
    (
        CsvFile::Labels,
        "labels.csv",
        "id:ID(Label){id-type:long},name,release_count:long,artist_count:long,genre_count:long,named_by:long",
        "--nodes=Label",
    ),
    (
        CsvFile::Masters,
        "masters.csv",
        "id:ID(Master){id-type:long},title,year:long",
        "--nodes=Master",
    ),
    (
        CsvFile::Releases,
        "releases.csv",
        "id:ID(Release){id-type:long},title,year:long,country,formats:string[]",
        "--nodes=Release",
    ),
    (
        CsvFile::Genres,
        "genres.csv",
        "name:ID(Genre),release_count:long,artist_count:long,label_count:long,style_count:long,first_year:long,\
         trend_years:long[],trend_counts:long[],top_artist_ids:long[],top_artist_counts:long[],\
         top_label_ids:long[],top_label_counts:long[]",
        "--nodes=Genre",
    ),
    (
        CsvFile::Styles,
        "styles.csv",
        "name:ID(Style),release_count:long,artist_count:long,label_count:long,genre_count:long,first_year:long,\
         trend_years:long[],trend_counts:long[],top_artist_ids:long[],top_artist_counts:long[],\
         top_label_ids:long[],top_label_counts:long[]",
        "--nodes=Style",
    ),
    (
        CsvFile::AliasOf,
        "alias_of.csv",
        ":START_ID(Artist),:END_ID(Artist)",
        "--relationships=ALIAS_OF",
    ),
    (
        CsvFile::MemberOf,
        "member_of.csv",
        ":START_ID(Artist),:END_ID(Artist),by_member:boolean,by_group:boolean",
        "--relationships=MEMBER_OF",
    ),
    (
        CsvFile::SublabelOf,
        "sublabel_of.csv",
        ":START_ID(Label),:END_ID(Label),by_child:boolean,by_parent:boolean",
        "--relationships=SUBLABEL_OF",
    ),
    (
        CsvFile::MasterBy,
        "master_by.csv",
        ":START_ID(Master),:END_ID(Artist)",
        "--relationships=BY",
    ),
    (
        CsvFile::MasterGenre,
        "master_genre.csv",
        ":START_ID(Master),:END_ID(Genre)",
        "--relationships=IS",
    ),
    (
        CsvFile::MasterStyle,
        "master_style.csv",
        ":START_ID(Master),:END_ID(Style)",
        "--relationships=IS",
    ),
    (
        CsvFile::ReleaseBy,
        "release_by.csv",
        ":START_ID(Release),:END_ID(Artist)",
        "--relationships=BY",
    ),
    (
        CsvFile::ReleaseGenre,
        "release_genre.csv",
        ":START_ID(Release),:END_ID(Genre)",
        "--relationships=IS",
    ),
    (
        CsvFile::ReleaseStyle,
        "release_style.csv",
        ":START_ID(Release),:END_ID(Style)",
        "--relationships=IS",
    ),
    (
        CsvFile::CreditedOn,
        "credited_on.csv",
        ":START_ID(Artist),:END_ID(Release),role",
        "--relationships=CREDITED_ON",
    ),
    (
        CsvFile::On,
        "on.csv",
        ":START_ID(Release),:END_ID(Label),catno",
        "--relationships=ON",
    ),
    (
        CsvFile::DerivedFrom,
        "derived_from.csv",
        ":START_ID(Release),:END_ID(Master),main:boolean",
        "--relationships=DERIVED_FROM",
    ),
    (
        CsvFile::PartOf,
        "part_of.csv",
        ":START_ID(Style),:END_ID(Genre),release_count:long",
        "--relationships=PART_OF",
    ),
    (
        CsvFile::Marker,
        "marker.csv",
        "token",
        "--nodes=GraphImport",
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CsvFile {
    Artists,
    Labels,
    Masters,
    Releases,
    Genres,
    Styles,
    AliasOf,
    MemberOf,
    SublabelOf,
    MasterBy,
    MasterGenre,
    MasterStyle,
    ReleaseBy,
    ReleaseGenre,
    ReleaseStyle,
    CreditedOn,
    On,
    DerivedFrom,
    PartOf,
    /// One `GraphImport {token}` node: proof that the import replaced the database.
    Marker,
}

/// Which ends of a `MEMBER_OF` or `SUBLABEL_OF` assert it (see the parent module).
#[derive(Debug, Default, Clone, Copy)]
struct Asserted {
    by_start: bool,
    by_end: bool,
}

/// Ids records defined and ids relationships point at, per node kind with an id; and for the
/// referenced ids not defined (yet), the first referrer's key and the name it gives them (see
/// [`super::stubs`]). A name waits only until its node's record arrives, so what stays is the
/// stubs' names.
#[derive(Default)]
struct Nodes {
    defined: IdSet,
    referenced: IdSet,
    stub_names: HashMap<i64, (i64, Box<str>)>,
}

impl Nodes {
    fn define(&mut self, id: i64) {
        self.defined.insert(id);
        self.stub_names.remove(&id);
    }

    /// The names the record with key `key` gives the nodes it references.
    fn offer_names(&mut self, key: i64, names: &[(i64, String)]) {
        for (id, name) in names {
            if self.defined.contains(*id) {
                continue;
            }
            let first = self
                .stub_names
                .entry(*id)
                .or_insert_with(|| (key, name.as_str().into()));
            if key < first.0 {
                *first = (key, name.as_str().into());
            }
        }
    }

    /// The `named_by` and name of stub `id`.
    fn stub_name(&self, id: i64) -> (i64, Option<&str>) {
        self.stub_names
            .get(&id)
            .map_or((UNNAMED, None), |(key, name)| (*key, Some(&**name)))
    }
}

/// The CSV files being written, one per [`FILES`] entry in its order, each with its path for
/// error messages.
struct Files(Vec<(PathBuf, BufWriter<File>)>);

impl Files {
    /// Writes one line to `file`.
    fn row(&mut self, file: CsvFile, line: fmt::Arguments<'_>) -> Result<(), ExportError> {
        let (path, writer) = &mut self.0[file as usize];
        writer
            .write_fmt(line)
            .and_then(|()| writer.write_all(b"\n"))
            .map_err(|source| ExportError::Io {
                path: path.clone(),
                source,
            })
    }
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> ExportError + use<> {
    let path = path.to_owned();
    move |source| ExportError::Io { path, source }
}

/// The length a spooled node without a name is written with.
const NO_NAME: u32 = u32::MAX;

/// Artists' or labels' ids and names in the order their records came, kept on disk until the
/// releases (which their counts are of) are all through; then they become CSV rows.
struct Spool {
    path: PathBuf,
    writer: BufWriter<File>,
}

impl Spool {
    fn create(path: PathBuf) -> Result<Self, ExportError> {
        let file = File::create(&path).map_err(io_error(&path))?;
        let writer = BufWriter::with_capacity(1 << 16, file);
        Ok(Spool { path, writer })
    }

    /// Appends one node: its id, then its name's length (`u32::MAX` for no name) and bytes.
    fn push(&mut self, id: i64, name: Option<&str>) -> Result<(), ExportError> {
        let (length, bytes) = match name {
            None => (NO_NAME, &[][..]),
            Some(name) => match u32::try_from(name.len()) {
                Ok(length) if length != NO_NAME => (length, name.as_bytes()),
                _ => {
                    let error = io::Error::new(io::ErrorKind::InvalidData, "a name of 4 GiB");
                    return Err(io_error(&self.path)(error));
                }
            },
        };
        let writer = &mut self.writer;
        writer
            .write_all(&id.to_le_bytes())
            .and_then(|()| writer.write_all(&length.to_le_bytes()))
            .and_then(|()| writer.write_all(bytes))
            .map_err(io_error(&self.path))
    }

    /// Calls `each` with every node pushed, in order, then removes the spool.
    fn drain(
        self,
        mut each: impl FnMut(i64, Option<&str>) -> Result<(), ExportError>,
    ) -> Result<(), ExportError> {
        let Spool { path, writer } = self;
        let file = writer
            .into_inner()
            .map_err(|error| io_error(&path)(error.into_error()))?;
        drop(file);
        let file = File::open(&path).map_err(io_error(&path))?;
        let mut reader = io::BufReader::with_capacity(1 << 16, file);
        let mut name = Vec::new();
        loop {
            if reader.fill_buf().map_err(io_error(&path))?.is_empty() {
                break;
            }
            let mut id = [0; 8];
            let mut length = [0; 4];
            reader.read_exact(&mut id).map_err(io_error(&path))?;
            reader.read_exact(&mut length).map_err(io_error(&path))?;
            let id = i64::from_le_bytes(id);
            let length = u32::from_le_bytes(length);
            if length == NO_NAME {
                each(id, None)?;
                continue;
            }
            name.resize(length as usize, 0);
            reader.read_exact(&mut name).map_err(io_error(&path))?;
            let text = std::str::from_utf8(&name).map_err(|error| {
                io_error(&path)(io::Error::new(io::ErrorKind::InvalidData, error))
            })?;
            each(id, Some(text))?;
        }
        std::fs::remove_file(&path).map_err(io_error(&path))
    }
}

/// The graph of one dump on its way to CSV files.
pub struct Export {
    dir: PathBuf,
    files: Files,
    artists: Nodes,
    labels: Nodes,
    masters: Nodes,
    /// Artist and label nodes wait here for their counts.
    artist_spool: Spool,
    label_spool: Spool,
    tally: Tally,
    /// `MEMBER_OF` keyed by (member, group), and `SUBLABEL_OF` by (child, parent): both ends may
    /// assert one, and it must become one relationship carrying both flags. Only artists (labels)
    /// assert them, so they are written, and the map dropped, when the first record of a later
    /// kind arrives (`None` from then on) rather than held through the releases.
    memberships: Option<HashMap<(i64, i64), Asserted>>,
    sublabels: Option<HashMap<(i64, i64), Asserted>>,
}

impl Export {
    /// Starts an export in `dir`, replacing the files an earlier, interrupted one left there (the
    /// import tool's log of an earlier attempt stays until the next import). `token` goes into
    /// the graph as a marker node, by which [`import`] knows the database was really replaced.
    ///
    /// # Errors
    ///
    /// The directory or a file could not be created.
    pub fn create(dir: &Path, token: &str) -> Result<Self, ExportError> {
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut writers = Vec::with_capacity(FILES.len());
        for (_, name, header, _) in FILES {
            let path = dir.join(name);
            let file = File::create(&path).map_err(io_error(&path))?;
            let mut writer = BufWriter::with_capacity(1 << 16, file);
            writeln!(writer, "{header}").map_err(io_error(&path))?;
            writers.push((path, writer));
        }
        let mut export = Self {
            dir: dir.to_owned(),
            files: Files(writers),
            artists: Nodes::default(),
            labels: Nodes::default(),
            masters: Nodes::default(),
            artist_spool: Spool::create(dir.join(SPOOLS[0]))?,
            label_spool: Spool::create(dir.join(SPOOLS[1]))?,
            tally: Tally::default(),
            memberships: Some(HashMap::new()),
            sublabels: Some(HashMap::new()),
        };
        export
            .files
            .row(CsvFile::Marker, format_args!("{}", Quoted(token)))?;
        Ok(export)
    }

    /// Adds a batch of records (dedup has dropped repeated ids).
    ///
    /// # Errors
    ///
    /// A write failed.
    pub fn write(&mut self, records: &[GraphRecord]) -> Result<(), ExportError> {
        for record in records {
            let kind = record.facts.kind();
            if kind != Kind::Artists {
                write_asserted(&mut self.files, CsvFile::MemberOf, &mut self.memberships)?;
            }
            if matches!(kind, Kind::Masters | Kind::Releases) {
                write_asserted(&mut self.files, CsvFile::SublabelOf, &mut self.sublabels)?;
            }
            self.tally.add(&record.facts);
            let key = referrer_key(kind, record.facts.id());
            let names = record.facts.names();
            self.artists.offer_names(key, &names.artists);
            self.labels.offer_names(key, &names.labels);
            match &record.facts {
                GraphFacts::Artist(artist) => self.artist(artist)?,
                GraphFacts::Label(label) => self.label(label)?,
                GraphFacts::Master(master) => self.master(master)?,
                GraphFacts::Release(release) => self.release(release)?,
            }
        }
        Ok(())
    }

    /// Writes what only the whole dump determines (artists and labels with their counts, stubs,
    /// genres and styles with theirs, `PART_OF`, the relationships either end may assert), closes
    /// the files and writes the import tool's argument file (database, options, files). Returns
    /// its path, and the aggregates, whose profiles and counts go to PostgreSQL.
    ///
    /// # Errors
    ///
    /// A write failed.
    pub fn finish(self) -> Result<(PathBuf, Aggregates), ExportError> {
        let Export {
            dir,
            mut files,
            artists,
            labels,
            masters,
            artist_spool,
            label_spool,
            tally,
            mut memberships,
            mut sublabels,
        } = self;
        write_asserted(&mut files, CsvFile::MemberOf, &mut memberships)?;
        write_asserted(&mut files, CsvFile::SublabelOf, &mut sublabels)?;
        let aggregates = tally.finish();
        let artist_row = |files: &mut Files, id: i64, name: Option<&str>, named_by| {
            let releases = aggregates.artist_release_count(id);
            files.row(
                CsvFile::Artists,
                format_args!("{id},{},{releases},{}", Optional(name), Number(named_by)),
            )
        };
        artist_spool.drain(|id, name| artist_row(&mut files, id, name, None))?;
        let label_row = |files: &mut Files, id: i64, name: Option<&str>, named_by| {
            let counts = aggregates.label_counts(id);
            files.row(
                CsvFile::Labels,
                format_args!(
                    "{id},{},{},{},{},{}",
                    Optional(name),
                    counts.releases,
                    counts.artists,
                    counts.genres,
                    Number(named_by)
                ),
            )
        };
        label_spool.drain(|id, name| label_row(&mut files, id, name, None))?;
        // Stubs: a node with its key, its counts and its first referrer's name, as the
        // transactional writer leaves one.
        for id in stubs(&artists) {
            let (named_by, name) = artists.stub_name(id);
            artist_row(&mut files, id, name, Some(named_by))?;
        }
        for id in stubs(&labels) {
            let (named_by, name) = labels.stub_name(id);
            label_row(&mut files, id, name, Some(named_by))?;
        }
        for id in stubs(&masters) {
            files.row(CsvFile::Masters, format_args!("{id},,"))?;
        }
        for (file, tags) in [
            (CsvFile::Genres, &aggregates.genres),
            (CsvFile::Styles, &aggregates.styles),
        ] {
            for tag in tags {
                files.row(
                    file,
                    format_args!(
                        "{},{},{},{},{},{},{},{},{},{},{},{}",
                        Quoted(&tag.name),
                        tag.release_count,
                        tag.artist_count,
                        tag.label_count,
                        tag.related,
                        Number(tag.first_year),
                        Longs(&tag.trend_years),
                        Longs(&tag.trend_counts),
                        Longs(&tag.top_artist_ids),
                        Longs(&tag.top_artist_counts),
                        Longs(&tag.top_label_ids),
                        Longs(&tag.top_label_counts),
                    ),
                )?;
            }
        }
        for part_of in &aggregates.part_of {
            files.row(
                CsvFile::PartOf,
                format_args!(
                    "{},{},{}",
                    Quoted(&part_of.style),
                    Quoted(&part_of.genre),
                    Number(part_of.release_count)
                ),
            )?;
        }
        for (path, writer) in &mut files.0 {
            writer.flush().map_err(io_error(path))?;
        }
        let mut args = format!(
            "neo4j\n--overwrite-destination=true\n--multiline-fields=true\n--array-delimiter=U+{:04X}\n",
            ARRAY_DELIMITER as u32
        );
        // The tool's report of bad entries goes beside the files, not into its working directory.
        let report = format!("--report-file={}", dir.join("import.report").display());
        args.push_str(&argfile_quote(&report));
        args.push('\n');
        for (_, name, _, option) in FILES {
            let arg = format!("{option}={}", dir.join(name).display());
            args.push_str(&argfile_quote(&arg));
            args.push('\n');
        }
        let path = dir.join(ARGS_FILE);
        std::fs::write(&path, args).map_err(io_error(&path))?;
        Ok((path, aggregates))
    }

    fn artist(&mut self, artist: &ArtistFacts) -> Result<(), ExportError> {
        let id = artist.id;
        let memberships = self.memberships.as_mut().ok_or(ExportError::OutOfOrder {
            kind: Kind::Artists,
            id,
        })?;
        self.artists.define(id);
        self.artist_spool.push(id, artist.name.as_deref())?;
        for &alias in &artist.aliases {
            self.artists.referenced.insert(alias);
            self.files
                .row(CsvFile::AliasOf, format_args!("{id},{alias}"))?;
        }
        assert_both_ends(
            memberships,
            &mut self.artists,
            id,
            &artist.groups,
            &artist.members,
        );
        Ok(())
    }

    fn label(&mut self, label: &LabelFacts) -> Result<(), ExportError> {
        let id = label.id;
        let sublabels = self.sublabels.as_mut().ok_or(ExportError::OutOfOrder {
            kind: Kind::Labels,
            id,
        })?;
        self.labels.define(id);
        self.label_spool.push(id, label.name.as_deref())?;
        assert_both_ends(
            sublabels,
            &mut self.labels,
            id,
            &label.parents,
            &label.sublabels,
        );
        Ok(())
    }

    fn shared(
        &mut self,
        id: i64,
        shared: &SharedFacts,
        files: [CsvFile; 3],
    ) -> Result<(), ExportError> {
        let [by, genre, style] = files;
        for &artist in &shared.by {
            self.artists.referenced.insert(artist);
            self.files.row(by, format_args!("{id},{artist}"))?;
        }
        for name in &shared.genres {
            self.files
                .row(genre, format_args!("{id},{}", Quoted(name)))?;
        }
        for name in &shared.styles {
            self.files
                .row(style, format_args!("{id},{}", Quoted(name)))?;
        }
        Ok(())
    }

    fn master(&mut self, master: &MasterFacts) -> Result<(), ExportError> {
        let id = master.id;
        self.masters.defined.insert(id);
        let (title, year) = (Optional(master.title.as_deref()), Number(master.year));
        self.files
            .row(CsvFile::Masters, format_args!("{id},{title},{year}"))?;
        let files = [
            CsvFile::MasterBy,
            CsvFile::MasterGenre,
            CsvFile::MasterStyle,
        ];
        self.shared(id, &master.shared, files)
    }

    fn release(&mut self, release: &ReleaseFacts) -> Result<(), ExportError> {
        let id = release.id;
        // No formats is no property, in both writers (CSV cannot say "empty array").
        let formats = (!release.formats.is_empty()).then(|| {
            let names: Vec<&str> = release.formats.iter().map(String::as_str).collect();
            names.join(&ARRAY_DELIMITER.to_string())
        });
        self.files.row(
            CsvFile::Releases,
            format_args!(
                "{id},{},{},{},{}",
                Optional(release.title.as_deref()),
                Number(release.year),
                Optional(release.country.as_deref()),
                Optional(formats.as_deref())
            ),
        )?;
        for (artist, role) in &release.credits {
            self.artists.referenced.insert(*artist);
            self.files.row(
                CsvFile::CreditedOn,
                format_args!("{artist},{id},{}", Quoted(role)),
            )?;
        }
        for (label, catno) in &release.labels {
            self.labels.referenced.insert(*label);
            self.files
                .row(CsvFile::On, format_args!("{id},{label},{}", Quoted(catno)))?;
        }
        if let Some((master, main)) = release.master {
            self.masters.referenced.insert(master);
            self.files
                .row(CsvFile::DerivedFrom, format_args!("{id},{master},{main}"))?;
        }
        let files = [
            CsvFile::ReleaseBy,
            CsvFile::ReleaseGenre,
            CsvFile::ReleaseStyle,
        ];
        self.shared(id, &release.shared, files)
    }
}

/// The ids relationships point at that no record defined.
fn stubs(nodes: &Nodes) -> impl Iterator<Item = i64> + '_ {
    nodes
        .referenced
        .iter()
        .filter(|id| !nodes.defined.contains(*id))
}

/// Records what node `id` asserts of a relationship either end may assert (`MEMBER_OF`,
/// `SUBLABEL_OF`): `id` → each of `towards`, and each of `from` → `id`.
fn assert_both_ends(
    relationships: &mut HashMap<(i64, i64), Asserted>,
    nodes: &mut Nodes,
    id: i64,
    towards: &[i64],
    from: &[i64],
) {
    for &end in towards {
        nodes.referenced.insert(end);
        relationships.entry((id, end)).or_default().by_start = true;
    }
    for &start in from {
        nodes.referenced.insert(start);
        relationships.entry((start, id)).or_default().by_end = true;
    }
}

/// A CSV field holding the text exactly: quoted, inner quotes doubled. A quoted empty field is the
/// empty string to the import tool, where an unquoted empty one is no property.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        for (i, part) in self.0.split('"').enumerate() {
            if i > 0 {
                f.write_str("\"\"")?;
            }
            f.write_str(part)?;
        }
        f.write_char('"')
    }
}

/// A text property that may be absent: quoted, or an empty field for none.
struct Optional<'a>(Option<&'a str>);

impl fmt::Display for Optional<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => Quoted(text).fmt(f),
            None => Ok(()),
        }
    }
}

/// A list of numbers, its elements joined by [`ARRAY_DELIMITER`]; empty is no property.
struct Longs<'a>(&'a [i64]);

impl fmt::Display for Longs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, n) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_char(ARRAY_DELIMITER)?;
            }
            write!(f, "{n}")?;
        }
        Ok(())
    }
}

/// A number property that may be absent.
struct Number(Option<i64>);

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(n) => write!(f, "{n}"),
            None => Ok(()),
        }
    }
}

/// The two flag columns: `true`, or empty for no property.
impl fmt::Display for Asserted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |set: bool| if set { "true" } else { "" };
        write!(f, "{},{}", flag(self.by_start), flag(self.by_end))
    }
}

/// Writes to `file` the relationships either end may assert, one per pair with each end's flag,
/// and drops them (`None` from then on); written already, there is nothing to do.
fn write_asserted(
    files: &mut Files,
    file: CsvFile,
    pairs: &mut Option<HashMap<(i64, i64), Asserted>>,
) -> Result<(), ExportError> {
    for ((start, end), asserted) in pairs.take().into_iter().flatten() {
        files.row(file, format_args!("{start},{end},{asserted}"))?;
    }
    Ok(())
}

/// Removes the CSV files, spools and argument file an export wrote to `dir`, if there; files that
/// cannot be removed are logged and left.
pub fn remove_files(dir: &Path) {
    let names = FILES.iter().map(|(_, name, _, _)| *name);
    for path in names
        .chain(SPOOLS)
        .chain([ARGS_FILE])
        .map(|name| dir.join(name))
    {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "could not remove a graph import file")
            }
        }
    }
}

/// One argument of a picocli argument file: double-quoted as a whole, with backslash escapes.
fn argfile_quote(arg: &str) -> String {
    format!("\"{}\"", arg.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::graph::ReferenceNames;

    #[test]
    fn fields_are_quoted_so_commas_quotes_and_newlines_survive() {
        assert_eq!(Quoted(r#"a, "b"\c"#).to_string(), r#""a, ""b""\c""#);
        assert_eq!(Quoted("\"").to_string(), r#""""""#);
        assert_eq!(Quoted("two\nlines").to_string(), "\"two\nlines\"");
        assert_eq!(Quoted("").to_string(), "\"\"");
        assert_eq!(Optional(None).to_string(), "");
        assert_eq!(Longs(&[]).to_string(), "");
        assert_eq!(Longs(&[1990, -2]).to_string(), "1990\u{1f}-2");
        assert_eq!(Number(None).to_string(), "");
        assert_eq!(Number(Some(-3)).to_string(), "-3");
        let both = Asserted {
            by_start: true,
            by_end: true,
        };
        assert_eq!(both.to_string(), "true,true");
        assert_eq!(
            Asserted {
                by_start: false,
                by_end: true
            }
            .to_string(),
            ",true"
        );
    }

    #[test]
    fn argument_file_paths_are_quoted_for_picocli() {
        assert_eq!(
            argfile_quote("--nodes=Artist=/data/my dumps/\"x\".csv"),
            r#""--nodes=Artist=/data/my dumps/\"x\".csv""#
        );
    }

    #[test]
    fn files_are_listed_in_their_enum_order() {
        for (index, (file, ..)) in FILES.iter().enumerate() {
            assert_eq!(*file as usize, index, "{file:?}");
        }
    }

    fn record(facts: GraphFacts) -> GraphRecord {
        GraphRecord {
            facts,
            prior: crate::store::graph::Prior::Nothing,
        }
    }

    fn named(names: &[(i64, &str)]) -> Vec<(i64, String)> {
        names
            .iter()
            .map(|&(id, name)| (id, name.to_owned()))
            .collect()
    }

    fn ids<const N: usize>(ids: [i64; N]) -> Vec<i64> {
        ids.to_vec()
    }

    fn lines(dir: &Path, name: &str) -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(name)).expect("exported file");
        let mut lines: Vec<String> = text.lines().skip(1).map(str::to_owned).collect();
        lines.sort();
        lines
    }

    #[test]
    fn an_export_refuses_artists_and_labels_after_a_later_kind() {
        let dir = std::env::temp_dir().join(format!("discogs-bulk-order-{}", std::process::id()));
        let mut export = Export::create(&dir, "tok").expect("export");
        let artist = record(GraphFacts::Artist(ArtistFacts {
            id: 1,
            name: Some("One".into()),
            aliases: Vec::new(),
            groups: ids([2]),
            members: Vec::new(),
            names: ReferenceNames::default(),
        }));
        let label = record(GraphFacts::Label(LabelFacts {
            id: 5,
            name: Some("Five".into()),
            parents: Vec::new(),
            sublabels: ids([6]),
            names: ReferenceNames::default(),
        }));
        let master = record(GraphFacts::Master(MasterFacts {
            id: 50,
            title: Some("Fifty".into()),
            year: None,
            shared: SharedFacts {
                by: Vec::new(),
                genres: Vec::new(),
                styles: Vec::new(),
            },
            names: ReferenceNames::default(),
        }));
        export
            .write(&[artist.clone(), label.clone()])
            .expect("in load order");
        // The labels closed the artists' memberships, which a later artist could not join.
        assert!(matches!(
            export.write(&[artist]),
            Err(ExportError::OutOfOrder {
                kind: Kind::Artists,
                id: 1
            })
        ));
        export.write(&[master]).expect("a master after the labels");
        assert!(matches!(
            export.write(&[label]),
            Err(ExportError::OutOfOrder {
                kind: Kind::Labels,
                id: 5
            })
        ));
        let (_, _) = export.finish().expect("finish");
        assert_eq!(lines(&dir, "member_of.csv"), ["1,2,true,"]);
        assert_eq!(lines(&dir, "sublabel_of.csv"), ["6,5,,true"]);
        remove_files(&dir);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn an_export_merges_two_ended_relationships_and_writes_stubs_for_the_undefined() {
        let dir = std::env::temp_dir().join(format!("discogs-bulk-unit-{}", std::process::id()));
        let mut export = Export::create(&dir, "tok").expect("export");
        let artist = |id, name: &str, groups, members, aliases, names: &[(i64, &str)]| {
            record(GraphFacts::Artist(ArtistFacts {
                id,
                name: Some(name.into()),
                aliases,
                groups,
                members,
                names: ReferenceNames {
                    artists: named(names),
                    labels: Vec::new(),
                },
            }))
        };
        let artists = [
            // 1 says it is a member of group 2; group 2 lists 1 and 3 as members.
            artist(
                1,
                "Solo, \"the\" one",
                ids([2]),
                ids([]),
                ids([9]),
                &[(2, "Group"), (9, "Nine")],
            ),
            artist(
                2,
                "Group",
                ids([]),
                ids([1, 3]),
                ids([]),
                &[(1, "Solo"), (3, "Three")],
            ),
        ];
        export.write(&artists).expect("artists");
        let labels = [record(GraphFacts::Label(LabelFacts {
            id: 5,
            name: Some("Parent".into()),
            parents: ids([]),
            sublabels: ids([6]),
            names: ReferenceNames {
                artists: Vec::new(),
                labels: named(&[(6, "Six")]),
            },
        }))];
        export.write(&labels).expect("labels");
        let releases = [record(GraphFacts::Release(ReleaseFacts {
            id: 100,
            title: Some("Two\nlines".into()),
            year: None,
            country: None,
            formats: Vec::new(),
            credits: vec![(4, String::new())],
            labels: vec![(6, "X-1".to_owned())],
            master: Some((50, false)),
            shared: SharedFacts {
                by: ids([1]),
                genres: vec!["Rock".to_owned()],
                styles: vec!["Punk".to_owned()],
            },
            // A label names 6 first: labels come before releases.
            names: ReferenceNames {
                artists: named(&[(1, "Solo"), (4, "Four")]),
                labels: named(&[(6, "Six on the release")]),
            },
            people: Vec::new(),
        }))];
        export.write(&releases).expect("releases");
        let (args, _) = export.finish().expect("finish");

        assert_eq!(
            lines(&dir, "member_of.csv"),
            ["1,2,true,true", "3,2,,true"],
            "one relationship per pair, each end's flag"
        );
        assert_eq!(lines(&dir, "sublabel_of.csv"), ["6,5,,true"]);
        assert_eq!(
            lines(&dir, "artists.csv"),
            [
                "1,\"Solo, \"\"the\"\" one\",1,",
                "2,\"Group\",0,",
                "3,\"Three\",0,2",
                "4,\"Four\",0,216172782113783908",
                "9,\"Nine\",0,1"
            ],
            "3, 4 and 9 are only referenced: stubs named by their first referrer; 1 has a release"
        );
        assert_eq!(
            lines(&dir, "labels.csv"),
            ["5,\"Parent\",0,0,0,", "6,\"Six\",1,1,1,72057594037927941"]
        );
        assert_eq!(lines(&dir, "masters.csv"), ["50,,"]);
        assert_eq!(lines(&dir, "releases.csv"), ["100,\"Two", "lines\",,,"]);
        assert_eq!(lines(&dir, "credited_on.csv"), ["4,100,\"\""]);
        assert_eq!(lines(&dir, "on.csv"), ["100,6,\"X-1\""]);
        assert_eq!(lines(&dir, "derived_from.csv"), ["100,50,false"]);
        // Releases, artists, labels, styles; no year; top artists and labels with their counts.
        assert_eq!(lines(&dir, "genres.csv"), ["\"Rock\",1,1,1,1,,,,1,1,6,1"]);
        assert_eq!(lines(&dir, "styles.csv"), ["\"Punk\",1,1,1,1,,,,1,1,6,1"]);
        assert_eq!(lines(&dir, "part_of.csv"), ["\"Punk\",\"Rock\",1"]);
        assert!(!dir.join("artists.spool").exists(), "spools removed");
        assert_eq!(lines(&dir, "marker.csv"), ["\"tok\""]);
        let args = std::fs::read_to_string(args).expect("argument file");
        assert!(args.starts_with("neo4j\n"), "{args}");
        let releases = format!("\"--nodes=Release={}\"", dir.join("releases.csv").display());
        assert!(args.lines().any(|line| line == releases), "{args}");

        remove_files(&dir);
        assert!(!dir.join("releases.csv").exists());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
