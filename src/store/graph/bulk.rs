//! First loads through `neo4j-admin database import`: the graph of a whole dump written as CSV
//! files, then loaded offline by Neo4j's import tool, which builds the store files directly instead
//! of committing transactions (on two cores, ~40 k relationships/s through Bolt against ~150 k/s
//! for the tool, and the gap widens with cores).
//!
//! Only for an empty graph (a first load, or a rebuild), and only when the user says how to run
//! the tool (`neo4j.import_command`): it needs the Neo4j server stopped and its files at hand, which
//! only whoever runs the server can arrange. The files say exactly what the transactional writer
//! would have written (both go through [`model`](super::model)); stubs are the referenced ids no
//! record defined, found once everything is written.

use std::collections::{BTreeSet, HashMap};
use std::fmt::{self, Write as _};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use neo4rs::{Graph, query};

use super::GraphRecord;
use super::model::{self, MalformedRecord};
use crate::id_set::IdSet;
use crate::record::Kind;

/// Why the export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write the graph import file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Model(#[from] MalformedRecord),
}

/// Why the import failed.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
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
}

/// How long Neo4j may take to answer after the import command returned (it should have waited
/// for the server itself; this covers commands that start it in the background).
const RESTART_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs `command` with the argument file [`Export::finish`] wrote (as `$1`), its output going to
/// `import.log` beside it, then waits until Neo4j answers again.
///
/// # Errors
///
/// The command could not be started or failed, or Neo4j did not come back.
pub async fn import(graph: &Graph, command: &str, args_file: &Path) -> Result<(), ImportError> {
    let log = args_file.with_file_name("import.log");
    let spawn_error = |source| ImportError::Spawn {
        command: command.to_owned(),
        source,
    };
    let output = File::create(&log).map_err(spawn_error)?;
    let errors = output.try_clone().map_err(spawn_error)?;
    tracing::info!(command, args = %args_file.display(), "loading the graph with neo4j-admin database import");
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{command} \"$1\""))
        .arg("sh")
        .arg(args_file)
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .status()
        .await
        .map_err(spawn_error)?;
    if !status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
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
        if matches!(answered, Ok(Ok(()))) {
            return Ok(());
        }
        if started.elapsed() > RESTART_TIMEOUT {
            return Err(ImportError::NotBack(RESTART_TIMEOUT));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The import tool's arguments, beside the CSV files.
const ARGS_FILE: &str = "import.args";

/// Separates the elements of array properties: a control character, which XML 1.0 text cannot hold.
const ARRAY_DELIMITER: char = '\u{1f}';

/// The CSV files, in [`CsvFile`] order: name, header, and how the import tool takes it (node
/// label or relationship type).
const FILES: [(CsvFile, &str, &str, &str); 18] = [
    (
        CsvFile::Artists,
        "artists.csv",
        "id:ID(Artist){id-type:long},name",
        "--nodes=Artist",
    ),
    (
        CsvFile::Labels,
        "labels.csv",
        "id:ID(Label){id-type:long},name",
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
        "name:ID(Genre)",
        "--nodes=Genre",
    ),
    (
        CsvFile::Styles,
        "styles.csv",
        "name:ID(Style)",
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
}

/// Which ends of a `MEMBER_OF` or `SUBLABEL_OF` assert it (see the parent module).
#[derive(Debug, Default, Clone, Copy)]
struct Asserted {
    by_start: bool,
    by_end: bool,
}

/// Ids records defined and ids relationships point at, per node kind with an id.
#[derive(Default)]
struct Nodes {
    defined: IdSet,
    referenced: IdSet,
}

/// The graph of one dump on its way to CSV files.
pub struct Export {
    dir: PathBuf,
    /// One per [`FILES`] entry, in its order.
    writers: Vec<BufWriter<File>>,
    artists: Nodes,
    labels: Nodes,
    masters: Nodes,
    genres: BTreeSet<String>,
    styles: BTreeSet<String>,
    /// `MEMBER_OF` keyed by (member, group), and `SUBLABEL_OF` by (child, parent): both ends may
    /// assert one, and it must become one relationship carrying both flags.
    memberships: HashMap<(i64, i64), Asserted>,
    sublabels: HashMap<(i64, i64), Asserted>,
}

impl Export {
    /// Starts an export in `dir`, replacing whatever an earlier, interrupted one left there.
    ///
    /// # Errors
    ///
    /// The directory or a file could not be created.
    pub fn create(dir: &Path) -> Result<Self, ExportError> {
        let io_error = |path: &Path| {
            let path = path.to_owned();
            move |source| ExportError::Io { path, source }
        };
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(io_error(dir))?;
        }
        std::fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut writers = Vec::with_capacity(FILES.len());
        for (_, name, header, _) in FILES {
            let path = dir.join(name);
            let file = File::create(&path).map_err(io_error(&path))?;
            let mut writer = BufWriter::with_capacity(1 << 16, file);
            writeln!(writer, "{header}").map_err(io_error(&path))?;
            writers.push(writer);
        }
        Ok(Self {
            dir: dir.to_owned(),
            writers,
            artists: Nodes::default(),
            labels: Nodes::default(),
            masters: Nodes::default(),
            genres: BTreeSet::new(),
            styles: BTreeSet::new(),
            memberships: HashMap::new(),
            sublabels: HashMap::new(),
        })
    }

    /// Adds a batch of records of `kind`. Each id is written once: a repeat is skipped, as
    /// dedup keeps the first of an id a file holds twice.
    ///
    /// # Errors
    ///
    /// A record is not canonical JSON, or a write failed.
    pub fn write(&mut self, kind: Kind, records: &[GraphRecord]) -> Result<(), ExportError> {
        for record in records {
            match kind {
                Kind::Artists => self.artist(model::Artist::from_record(record)?),
                Kind::Labels => self.label(model::Label::from_record(record)?),
                Kind::Masters => self.master(model::Master::from_record(record)?),
                Kind::Releases => self.release(model::Release::from_record(record)?),
            }
            .map_err(|source| self.io_error(source))?;
        }
        Ok(())
    }

    /// Writes what only the whole dump determines (stubs, genres, styles, the relationships either
    /// end may assert), closes the files and writes the import tool's argument file (database,
    /// options, files), whose path it returns.
    ///
    /// # Errors
    ///
    /// A write failed.
    pub fn finish(mut self) -> Result<PathBuf, ExportError> {
        self.finish_files()
            .map_err(|source| self.io_error(source))?;
        let mut args = format!(
            "neo4j\n--overwrite-destination=true\n--multiline-fields=true\n--array-delimiter=U+{:04X}\n",
            ARRAY_DELIMITER as u32
        );
        // The tool's report of bad entries goes beside the files, not into its working directory.
        let report = format!("--report-file={}", self.dir.join("import.report").display());
        args.push_str(&argfile_quote(&report));
        args.push('\n');
        for (_, name, _, option) in FILES {
            let arg = format!("{option}={}", self.dir.join(name).display());
            args.push_str(&argfile_quote(&arg));
            args.push('\n');
        }
        let path = self.dir.join(ARGS_FILE);
        std::fs::write(&path, args).map_err(|source| ExportError::Io {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    fn finish_files(&mut self) -> io::Result<()> {
        for ((member, group), asserted) in std::mem::take(&mut self.memberships) {
            writeln!(self.out(CsvFile::MemberOf), "{member},{group},{asserted}")?;
        }
        for ((child, parent), asserted) in std::mem::take(&mut self.sublabels) {
            writeln!(self.out(CsvFile::SublabelOf), "{child},{parent},{asserted}")?;
        }
        for name in std::mem::take(&mut self.genres) {
            writeln!(self.out(CsvFile::Genres), "{}", Quoted(&name))?;
        }
        for name in std::mem::take(&mut self.styles) {
            writeln!(self.out(CsvFile::Styles), "{}", Quoted(&name))?;
        }
        // Stubs: a node with its key and nothing else, as the transactional writer leaves one.
        for (file, nodes) in [
            (CsvFile::Artists, std::mem::take(&mut self.artists)),
            (CsvFile::Labels, std::mem::take(&mut self.labels)),
            (CsvFile::Masters, std::mem::take(&mut self.masters)),
        ] {
            let out = self.out(file);
            for id in nodes
                .referenced
                .iter()
                .filter(|id| !nodes.defined.contains(*id))
            {
                writeln!(out, "{id}")?;
            }
        }
        for writer in &mut self.writers {
            writer.flush()?;
        }
        Ok(())
    }

    fn io_error(&self, source: io::Error) -> ExportError {
        ExportError::Io {
            path: self.dir.clone(),
            source,
        }
    }

    fn out(&mut self, file: CsvFile) -> &mut BufWriter<File> {
        &mut self.writers[file as usize]
    }

    fn artist(&mut self, artist: model::Artist) -> io::Result<()> {
        let id = artist.id;
        if !self.artists.defined.insert(id) {
            return Ok(());
        }
        writeln!(
            self.out(CsvFile::Artists),
            "{id},{}",
            Optional(&artist.name)
        )?;
        for alias in artist.aliases {
            self.artists.referenced.insert(alias);
            writeln!(self.out(CsvFile::AliasOf), "{id},{alias}")?;
        }
        for group in artist.groups {
            self.artists.referenced.insert(group);
            self.memberships.entry((id, group)).or_default().by_start = true;
        }
        for member in artist.members {
            self.artists.referenced.insert(member);
            self.memberships.entry((member, id)).or_default().by_end = true;
        }
        Ok(())
    }

    fn label(&mut self, label: model::Label) -> io::Result<()> {
        let id = label.id;
        if !self.labels.defined.insert(id) {
            return Ok(());
        }
        writeln!(self.out(CsvFile::Labels), "{id},{}", Optional(&label.name))?;
        for parent in label.parents {
            self.labels.referenced.insert(parent);
            self.sublabels.entry((id, parent)).or_default().by_start = true;
        }
        for child in label.sublabels {
            self.labels.referenced.insert(child);
            self.sublabels.entry((child, id)).or_default().by_end = true;
        }
        Ok(())
    }

    fn shared(&mut self, id: i64, shared: model::Shared, files: [CsvFile; 3]) -> io::Result<()> {
        let [by, genre, style] = files;
        for artist in shared.by {
            self.artists.referenced.insert(artist);
            writeln!(self.out(by), "{id},{artist}")?;
        }
        for name in shared.genres {
            writeln!(self.out(genre), "{id},{}", Quoted(&name))?;
            self.genres.insert(name);
        }
        for name in shared.styles {
            writeln!(self.out(style), "{id},{}", Quoted(&name))?;
            self.styles.insert(name);
        }
        Ok(())
    }

    fn master(&mut self, master: model::Master) -> io::Result<()> {
        let id = master.id;
        if !self.masters.defined.insert(id) {
            return Ok(());
        }
        writeln!(
            self.out(CsvFile::Masters),
            "{id},{},{}",
            Optional(&master.title),
            Number(master.year)
        )?;
        let files = [
            CsvFile::MasterBy,
            CsvFile::MasterGenre,
            CsvFile::MasterStyle,
        ];
        self.shared(id, master.shared, files)
    }

    fn release(&mut self, release: model::Release) -> io::Result<()> {
        let id = release.id;
        // No formats is no property, in both writers (CSV cannot say "empty array").
        let formats = (!release.formats.is_empty()).then(|| {
            let names: Vec<&str> = release.formats.iter().map(String::as_str).collect();
            names.join(&ARRAY_DELIMITER.to_string())
        });
        writeln!(
            self.out(CsvFile::Releases),
            "{id},{},{},{},{}",
            Optional(&release.title),
            Number(release.year),
            Optional(&release.country),
            Optional(&formats)
        )?;
        for (artist, role) in &release.credits {
            self.artists.referenced.insert(*artist);
            writeln!(
                self.out(CsvFile::CreditedOn),
                "{artist},{id},{}",
                Quoted(role)
            )?;
        }
        for (label, catno) in &release.labels {
            self.labels.referenced.insert(*label);
            writeln!(self.out(CsvFile::On), "{id},{label},{}", Quoted(catno))?;
        }
        if let Some((master, main)) = release.master {
            self.masters.referenced.insert(master);
            writeln!(self.out(CsvFile::DerivedFrom), "{id},{master},{main}")?;
        }
        let files = [
            CsvFile::ReleaseBy,
            CsvFile::ReleaseGenre,
            CsvFile::ReleaseStyle,
        ];
        self.shared(id, release.shared, files)
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
struct Optional<'a>(&'a Option<String>);

impl fmt::Display for Optional<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(text) => Quoted(text).fmt(f),
            None => Ok(()),
        }
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

/// Removes the CSV files and argument file an export wrote to `dir`.
///
/// # Errors
///
/// A file could not be removed.
pub fn remove_files(dir: &Path) -> io::Result<()> {
    for (_, name, _, _) in FILES {
        std::fs::remove_file(dir.join(name))?;
    }
    std::fs::remove_file(dir.join(ARGS_FILE))
}

/// One argument of a picocli argument file: double-quoted as a whole, with backslash escapes.
fn argfile_quote(arg: &str) -> String {
    format!("\"{}\"", arg.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_so_commas_quotes_and_newlines_survive() {
        assert_eq!(Quoted(r#"a, "b"\c"#).to_string(), r#""a, ""b""\c""#);
        assert_eq!(Quoted("\"").to_string(), r#""""""#);
        assert_eq!(Quoted("two\nlines").to_string(), "\"two\nlines\"");
        assert_eq!(Quoted("").to_string(), "\"\"");
        assert_eq!(Optional(&None).to_string(), "");
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
}
