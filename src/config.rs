//! Resolved configuration: every setting the program reads, with its final value.
//!
//! Each key is resolved once, at start, in the order command-line flag > environment variable >
//! `config.toml` > built-in default. [`Config::resolve`] takes the environment as a lookup function
//! so that precedence is tested without touching the process environment; nothing after it reads
//! the environment. Values are validated here, and an error names the key and where its value came
//! from. Secrets (the Neo4j password, the password inside `POSTGRES_URL`) never appear in `Debug`
//! output or logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::cli::GlobalArgs;

/// The config file read when neither `--config` nor `DISCOGS_CONFIG` names one; its absence is fine.
pub const DEFAULT_CONFIG_FILE: &str = "config.toml";

/// Records per Neo4j write transaction. Measured at 1,000, 5,000 and 20,000 on a 100k-release
/// first load (benches/runs/2026-12-01-polyglot-2core): the same speed within the noise, but peak
/// memory grows with the batch (336, 526 and 1,196 MiB), so the smallest.
pub const DEFAULT_NEO4J_BATCH_SIZE: usize = 1_000;
/// Records per Postgres write. A batch's records are held whole while it is written, and the
/// batches in flight are most of a first load's memory: at 5,000 rather than 10,000 a 1M-release
/// first load peaked at 282 against 371 MiB, in the same time within the noise (237.6 against
/// 231.2 s; benches/runs/2026-12-07h-polyglot-2core).
pub const DEFAULT_POSTGRES_BATCH_SIZE: usize = 5_000;
/// How long a partial batch may wait before it is written anyway, so a slow trickle still lands.
pub const DEFAULT_BATCH_FLUSH_INTERVAL: Duration = Duration::from_secs(2);
/// How long an API request may take: well above any answer the API should give (the targets are
/// milliseconds), low enough that a runaway question neither holds a client nor delays a shutdown.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Matches of each type a search reads (and counts exactly) by default.
pub const DEFAULT_SEARCH_EXACT_MATCHES: i64 = 500;

/// Why the configuration could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid value for {key} (from {origin}): {reason}")]
    Invalid {
        key: &'static str,
        origin: Origin,
        reason: String,
    },
}

/// Where a value came from, so an error can tell the user what to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Flag(&'static str),
    Env(&'static str),
    File(&'static str),
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag(name) => write!(f, "flag --{name}"),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::File(key) => write!(f, "config file key {key}"),
            Origin::Default => f.write_str("built-in default"),
        }
    }
}

/// A string that must not be shown: `Debug` and `Display` print `***`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "\"***\"" })
    }
}

/// Neo4j connection and write settings.
#[derive(Debug, Clone)]
pub struct Neo4jConfig {
    /// `bolt://host:port` for one server, `neo4j://host:port` to route through a cluster (reads to
    /// any member, writes to the leader); `+s` and `+ssc` variants for TLS.
    pub uri: String,
    pub user: String,
    pub password: Secret,
    pub batch_size: usize,
    pub batch_flush_interval: Duration,
    /// How to run `neo4j-admin database import` against the server (see `store::graph::bulk`);
    /// `None` writes every load through Bolt.
    pub import_command: Option<String>,
}

/// PostgreSQL connection and write settings.
#[derive(Clone)]
pub struct PostgresConfig {
    /// Parsed from the URL; carries the password, so this struct's `Debug` prints `url_redacted`.
    pub connection: tokio_postgres::Config,
    /// The URL with its password replaced by `***`, for logs and messages.
    pub url_redacted: String,
    /// A read-only replica of the same database (`postgres.read_url`) for the API's reads; the
    /// ingest and the generation always use the primary.
    pub replica: Option<PostgresReplica>,
    pub batch_size: usize,
    pub batch_flush_interval: Duration,
}

/// A PostgreSQL replica: its connection settings and redacted URL, as for the primary.
#[derive(Clone)]
pub struct PostgresReplica {
    pub connection: tokio_postgres::Config,
    pub url_redacted: String,
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.url_redacted)
            .field(
                "read_url",
                &self.replica.as_ref().map(|replica| &replica.url_redacted),
            )
            .field("batch_size", &self.batch_size)
            .field("batch_flush_interval", &self.batch_flush_interval)
            .finish()
    }
}

/// Everything the program reads, resolved and validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub neo4j: Neo4jConfig,
    pub postgres: PostgresConfig,
    /// Where dump files live and are downloaded to.
    pub data_dir: PathBuf,
    /// The Discogs data site (its listing page), for `discogs download`.
    pub base_url: String,
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// How long an API request may take before it is answered 503.
    pub request_timeout: Duration,
    /// Matches of each type a search reads at most; a type with more is counted by estimate.
    pub search_exact_matches: i64,
    /// The `[perftest]` section, for `discogs perftest`.
    pub perftest: PerftestConfig,
}

/// `discogs perftest` settings; its flags override them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerftestConfig {
    /// The API to test; `http://<api.listen>` when absent.
    pub url: Option<String>,
    pub concurrency: Option<usize>,
    /// Seconds of the load phase.
    pub duration: Option<f64>,
    pub cold_runs: Option<usize>,
    pub warm_runs: Option<usize>,
    #[serde(default)]
    pub lookups: Vec<crate::perftest::Lookup>,
    #[serde(default)]
    pub requests: Vec<crate::perftest::Request>,
    /// Questions asked once each under load, with the cache cold.
    #[serde(default)]
    pub distinct: Vec<crate::perftest::Request>,
}

/// The shape of `config.toml`. Unknown keys are errors, so a typo is not silently ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    neo4j: FileNeo4j,
    #[serde(default)]
    postgres: FilePostgres,
    #[serde(default)]
    data: FileData,
    #[serde(default)]
    api: FileApi,
    #[serde(default)]
    perftest: PerftestConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNeo4j {
    uri: Option<String>,
    user: Option<String>,
    password: Option<String>,
    batch_size: Option<usize>,
    batch_flush_interval: Option<f64>,
    import_command: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePostgres {
    url: Option<String>,
    read_url: Option<String>,
    batch_size: Option<usize>,
    batch_flush_interval: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileData {
    dir: Option<PathBuf>,
    base_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileApi {
    listen: Option<String>,
    request_timeout: Option<f64>,
    search_exact_matches: Option<i64>,
}

/// Reads one environment variable; tests pass a map instead of the process environment.
pub type EnvLookup = dyn Fn(&str) -> Option<String>;

/// One setting's value as a string, with where it came from.
struct Raw {
    value: String,
    origin: Origin,
}

impl Raw {
    fn parse<T: FromStr>(self, key: &'static str) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.value
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                key,
                origin: self.origin,
                reason: e.to_string(),
            })
    }
}

/// Picks the first present source: flag, then environment, then file, then default.
fn pick(
    flag: (&'static str, Option<String>),
    env: (&'static str, &EnvLookup),
    file: (&'static str, Option<String>),
    default: &str,
) -> Raw {
    if let Some(value) = flag.1 {
        return Raw {
            value,
            origin: Origin::Flag(flag.0),
        };
    }
    if let Some(value) = (env.1)(env.0) {
        return Raw {
            value,
            origin: Origin::Env(env.0),
        };
    }
    if let Some(value) = file.1 {
        return Raw {
            value,
            origin: Origin::File(file.0),
        };
    }
    Raw {
        value: default.to_owned(),
        origin: Origin::Default,
    }
}

fn positive(raw: Raw, key: &'static str) -> Result<usize, ConfigError> {
    let origin = raw.origin;
    match raw.parse::<usize>(key)? {
        0 => Err(ConfigError::Invalid {
            key,
            origin,
            reason: "must be at least 1".into(),
        }),
        n => Ok(n),
    }
}

fn seconds(raw: Raw, key: &'static str) -> Result<Duration, ConfigError> {
    let origin = raw.origin;
    let secs: f64 = raw.parse(key)?;
    Duration::try_from_secs_f64(secs)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| ConfigError::Invalid {
            key,
            origin,
            reason: format!("{secs} is not a positive number of seconds"),
        })
}

/// A PostgreSQL URL parsed, with its redacted form for messages.
fn postgres_connection(raw: Raw, key: &'static str) -> Result<PostgresReplica, ConfigError> {
    let url_redacted = redact_url(&raw.value);
    let connection =
        tokio_postgres::Config::from_str(&raw.value).map_err(|e| ConfigError::Invalid {
            key,
            origin: raw.origin,
            reason: format!("{url_redacted}: {e}"),
        })?;
    Ok(PostgresReplica {
        connection,
        url_redacted,
    })
}

fn float_to_string(value: Option<f64>) -> Option<String> {
    value.map(|v| v.to_string())
}

impl Config {
    /// Resolves every key from the command line, the environment (through `env`) and the config
    /// file named by `--config`, `DISCOGS_CONFIG`, or `config.toml` in the working directory.
    ///
    /// # Errors
    ///
    /// An unreadable or malformed config file, an unknown key, or a value that does not parse.
    pub fn resolve(args: &GlobalArgs, env: &EnvLookup) -> Result<Config, ConfigError> {
        let file = match (&args.config, env("DISCOGS_CONFIG")) {
            (Some(path), _) => read_file(path)?,
            (None, Some(path)) => read_file(Path::new(&path))?,
            (None, None) if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            (None, None) => FileConfig::default(),
        };
        Self::from_sources(args, env, file)
    }

    fn from_sources(
        args: &GlobalArgs,
        env: &EnvLookup,
        file: FileConfig,
    ) -> Result<Config, ConfigError> {
        let neo4j_uri = pick(
            ("neo4j-uri", args.neo4j_uri.clone()),
            ("NEO4J_URI", env),
            ("neo4j.uri", file.neo4j.uri),
            "bolt://127.0.0.1:7687",
        );
        if ![
            "bolt://",
            "bolt+s://",
            "bolt+ssc://",
            "neo4j://",
            "neo4j+s://",
            "neo4j+ssc://",
        ]
        .iter()
        .any(|scheme| neo4j_uri.value.starts_with(scheme))
        {
            return Err(ConfigError::Invalid {
                key: "neo4j.uri",
                origin: neo4j_uri.origin,
                reason: format!("{:?} is not a bolt:// or neo4j:// URI", neo4j_uri.value),
            });
        }
        let neo4j = Neo4jConfig {
            uri: neo4j_uri.value,
            user: pick(
                ("neo4j-user", args.neo4j_user.clone()),
                ("NEO4J_USER", env),
                ("neo4j.user", file.neo4j.user),
                "neo4j",
            )
            .value,
            password: Secret::new(
                pick(
                    ("neo4j-password", None),
                    ("NEO4J_PASSWORD", env),
                    ("neo4j.password", file.neo4j.password),
                    "",
                )
                .value,
            ),
            batch_size: positive(
                pick(
                    (
                        "neo4j-batch-size",
                        args.neo4j_batch_size.map(|n| n.to_string()),
                    ),
                    ("NEO4J_BATCH_SIZE", env),
                    (
                        "neo4j.batch_size",
                        file.neo4j.batch_size.map(|n| n.to_string()),
                    ),
                    &DEFAULT_NEO4J_BATCH_SIZE.to_string(),
                ),
                "neo4j.batch_size",
            )?,
            batch_flush_interval: seconds(
                pick(
                    (
                        "neo4j-batch-flush-interval",
                        float_to_string(args.neo4j_batch_flush_interval),
                    ),
                    ("NEO4J_BATCH_FLUSH_INTERVAL", env),
                    (
                        "neo4j.batch_flush_interval",
                        float_to_string(file.neo4j.batch_flush_interval),
                    ),
                    &DEFAULT_BATCH_FLUSH_INTERVAL.as_secs_f64().to_string(),
                ),
                "neo4j.batch_flush_interval",
            )?,
            // Empty (the default, or set so to override a file) means no bulk import.
            import_command: Some(
                pick(
                    ("neo4j-import-command", args.neo4j_import_command.clone()),
                    ("NEO4J_IMPORT_COMMAND", env),
                    ("neo4j.import_command", file.neo4j.import_command),
                    "",
                )
                .value,
            )
            .filter(|command| !command.trim().is_empty()),
        };

        let postgres_url = pick(
            ("postgres-url", args.postgres_url.clone()),
            ("POSTGRES_URL", env),
            ("postgres.url", file.postgres.url),
            "postgres://postgres@127.0.0.1:5432/discogs",
        );
        let primary = postgres_connection(postgres_url, "postgres.url")?;
        // Empty (the default, or set so to override a file) means no replica.
        let read_url = pick(
            ("postgres-read-url", args.postgres_read_url.clone()),
            ("POSTGRES_READ_URL", env),
            ("postgres.read_url", file.postgres.read_url),
            "",
        );
        let replica = if read_url.value.trim().is_empty() {
            None
        } else {
            Some(postgres_connection(read_url, "postgres.read_url")?)
        };
        let postgres = PostgresConfig {
            connection: primary.connection,
            url_redacted: primary.url_redacted,
            replica,
            batch_size: positive(
                pick(
                    (
                        "postgres-batch-size",
                        args.postgres_batch_size.map(|n| n.to_string()),
                    ),
                    ("POSTGRES_BATCH_SIZE", env),
                    (
                        "postgres.batch_size",
                        file.postgres.batch_size.map(|n| n.to_string()),
                    ),
                    &DEFAULT_POSTGRES_BATCH_SIZE.to_string(),
                ),
                "postgres.batch_size",
            )?,
            batch_flush_interval: seconds(
                pick(
                    (
                        "postgres-batch-flush-interval",
                        float_to_string(args.postgres_batch_flush_interval),
                    ),
                    ("POSTGRES_BATCH_FLUSH_INTERVAL", env),
                    (
                        "postgres.batch_flush_interval",
                        float_to_string(file.postgres.batch_flush_interval),
                    ),
                    &DEFAULT_BATCH_FLUSH_INTERVAL.as_secs_f64().to_string(),
                ),
                "postgres.batch_flush_interval",
            )?,
        };

        let data_dir = PathBuf::from(
            pick(
                (
                    "data-dir",
                    args.data_dir.as_ref().map(|p| p.display().to_string()),
                ),
                ("DISCOGS_DATA_DIR", env),
                ("data.dir", file.data.dir.map(|p| p.display().to_string())),
                "./data",
            )
            .value,
        );
        let base_url = pick(
            ("base-url", args.base_url.clone()),
            ("DISCOGS_BASE_URL", env),
            ("data.base_url", file.data.base_url),
            crate::dump::download::DEFAULT_BASE_URL,
        );
        if !base_url.value.starts_with("http://") && !base_url.value.starts_with("https://") {
            return Err(ConfigError::Invalid {
                key: "data.base_url",
                origin: base_url.origin,
                reason: format!("{:?} is not an http:// or https:// URL", base_url.value),
            });
        }
        let listen = pick(
            ("listen", args.listen.clone()),
            ("DISCOGS_LISTEN", env),
            ("api.listen", file.api.listen),
            "127.0.0.1:8000",
        )
        .parse("api.listen")?;
        let request_timeout = seconds(
            pick(
                ("request-timeout", float_to_string(args.request_timeout)),
                ("DISCOGS_REQUEST_TIMEOUT", env),
                (
                    "api.request_timeout",
                    float_to_string(file.api.request_timeout),
                ),
                &DEFAULT_REQUEST_TIMEOUT.as_secs_f64().to_string(),
            ),
            "api.request_timeout",
        )?;
        let search_exact_matches = pick(
            ("search-exact-matches", None),
            ("DISCOGS_SEARCH_EXACT_MATCHES", env),
            (
                "api.search_exact_matches",
                file.api.search_exact_matches.map(|n| n.to_string()),
            ),
            &DEFAULT_SEARCH_EXACT_MATCHES.to_string(),
        );
        let origin = search_exact_matches.origin;
        let search_exact_matches: i64 = search_exact_matches.parse("api.search_exact_matches")?;
        if search_exact_matches < 1 {
            return Err(ConfigError::Invalid {
                key: "api.search_exact_matches",
                origin,
                reason: format!("{search_exact_matches} is not a positive number of matches"),
            });
        }

        Ok(Config {
            neo4j,
            postgres,
            data_dir,
            base_url: base_url.value,
            listen,
            request_timeout,
            search_exact_matches,
            perftest: file.perftest,
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| {
        // toml's own message spans several lines with a source excerpt; keep one line that
        // still names the key: the message plus the offending line of the file.
        let location = e.span().map(|span| {
            let line_number = text[..span.start].matches('\n').count() + 1;
            let line = text.lines().nth(line_number - 1).unwrap_or_default().trim();
            format!(" (line {line_number}: {line})")
        });
        ConfigError::Syntax {
            path: path.to_owned(),
            message: e.message().trim().to_owned() + &location.unwrap_or_default(),
        }
    })
}

/// Replaces the password of a `scheme://user:password@host` URL with `***`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let Some(at) = rest.rfind('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |key| map.get(key).cloned()
    }

    fn file_of(text: &str) -> FileConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config =
            Config::from_sources(&GlobalArgs::default(), &env_of(&[]), FileConfig::default())
                .unwrap();
        assert_eq!(config.neo4j.uri, "bolt://127.0.0.1:7687");
        assert_eq!(config.neo4j.user, "neo4j");
        assert_eq!(config.neo4j.password.expose(), "");
        assert_eq!(config.neo4j.batch_size, DEFAULT_NEO4J_BATCH_SIZE);
        assert_eq!(
            config.postgres.url_redacted,
            "postgres://postgres@127.0.0.1:5432/discogs"
        );
        assert_eq!(config.postgres.connection.get_dbname(), Some("discogs"));
        assert_eq!(config.data_dir, PathBuf::from("./data"));
        assert_eq!(config.listen, "127.0.0.1:8000".parse().unwrap());
        assert_eq!(
            config.postgres.batch_flush_interval,
            DEFAULT_BATCH_FLUSH_INTERVAL
        );
    }

    #[test]
    fn an_empty_import_command_turns_the_file_one_off() {
        let file = || file_of("[neo4j]\nimport_command = 'scripts/services.sh neo4j-import'");
        let config = Config::from_sources(&GlobalArgs::default(), &env_of(&[]), file()).unwrap();
        assert_eq!(
            config.neo4j.import_command.as_deref(),
            Some("scripts/services.sh neo4j-import")
        );
        let env = env_of(&[("NEO4J_IMPORT_COMMAND", " ")]);
        let config = Config::from_sources(&GlobalArgs::default(), &env, file()).unwrap();
        assert_eq!(config.neo4j.import_command, None);
    }

    #[test]
    fn a_read_replica_is_its_own_url_redacted_and_empty_means_none() {
        let file =
            || file_of("[postgres]\nread_url = 'postgres://reader:secret@replica:5433/discogs'");
        let config = Config::from_sources(&GlobalArgs::default(), &env_of(&[]), file()).unwrap();
        let replica = config.postgres.replica.as_ref().unwrap();
        assert_eq!(replica.connection.get_dbname(), Some("discogs"));
        assert_eq!(
            replica.url_redacted,
            "postgres://reader:***@replica:5433/discogs"
        );
        assert!(!format!("{config:?}").contains("secret"));
        let env = env_of(&[("POSTGRES_READ_URL", "")]);
        let config = Config::from_sources(&GlobalArgs::default(), &env, file()).unwrap();
        assert!(config.postgres.replica.is_none());
        let env = env_of(&[("POSTGRES_READ_URL", "postgres://x:notaport/db")]);
        let error = Config::from_sources(&GlobalArgs::default(), &env, file()).unwrap_err();
        assert!(
            error.to_string().starts_with(
                "invalid value for postgres.read_url (from environment variable POSTGRES_READ_URL)"
            ),
            "{error}"
        );
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let file = file_of(
            "[neo4j]\nuri = 'bolt://file:1'\nbatch_size = 3\n[api]\nlisten = '127.0.0.1:3'",
        );
        let env = env_of(&[("NEO4J_URI", "bolt://env:2"), ("NEO4J_BATCH_SIZE", "2")]);
        let args = GlobalArgs {
            neo4j_uri: Some("bolt://flag:1".into()),
            ..Default::default()
        };
        let config = Config::from_sources(&args, &env, file).unwrap();
        assert_eq!(config.neo4j.uri, "bolt://flag:1");
        assert_eq!(config.neo4j.batch_size, 2, "env beats file");
        assert_eq!(config.listen.port(), 3, "file beats default");
    }

    #[test]
    fn every_env_name_of_the_spec_is_read() {
        let env = env_of(&[
            ("NEO4J_URI", "neo4j://db:7688"),
            ("NEO4J_USER", "admin"),
            ("NEO4J_PASSWORD", "hunter2"),
            ("NEO4J_BATCH_SIZE", "17"),
            ("NEO4J_BATCH_FLUSH_INTERVAL", "0.5"),
            ("POSTGRES_URL", "postgres://u:pw@pg:5433/d"),
            ("POSTGRES_BATCH_SIZE", "19"),
            ("POSTGRES_BATCH_FLUSH_INTERVAL", "3"),
            ("DISCOGS_DATA_DIR", "/dumps"),
            ("DISCOGS_LISTEN", "0.0.0.0:9000"),
        ]);
        let config =
            Config::from_sources(&GlobalArgs::default(), &env, FileConfig::default()).unwrap();
        assert_eq!(config.neo4j.uri, "neo4j://db:7688");
        assert_eq!(config.neo4j.user, "admin");
        assert_eq!(config.neo4j.password.expose(), "hunter2");
        assert_eq!(config.neo4j.batch_size, 17);
        assert_eq!(
            config.neo4j.batch_flush_interval,
            Duration::from_millis(500)
        );
        assert_eq!(config.postgres.connection.get_ports(), &[5433]);
        assert_eq!(config.postgres.batch_size, 19);
        assert_eq!(config.postgres.batch_flush_interval, Duration::from_secs(3));
        assert_eq!(config.data_dir, PathBuf::from("/dumps"));
        assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let env = env_of(&[
            ("NEO4J_PASSWORD", "hunter2"),
            ("POSTGRES_URL", "postgres://u:s3cret@h/d"),
        ]);
        let config =
            Config::from_sources(&GlobalArgs::default(), &env, FileConfig::default()).unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://u:***@h/d"), "{shown}");
    }

    #[test]
    fn bad_values_name_the_key_and_origin() {
        let env = env_of(&[("NEO4J_BATCH_SIZE", "lots")]);
        let err = Config::from_sources(&GlobalArgs::default(), &env, FileConfig::default())
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "invalid value for neo4j.batch_size (from environment variable NEO4J_BATCH_SIZE): invalid digit found in string"
        );

        let file = file_of("[postgres]\nbatch_flush_interval = -1.0");
        let err = Config::from_sources(&GlobalArgs::default(), &env_of(&[]), file)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("invalid value for postgres.batch_flush_interval (from config file key postgres.batch_flush_interval)"), "{err}");

        let args = GlobalArgs {
            neo4j_uri: Some("http://x".into()),
            ..Default::default()
        };
        let err = Config::from_sources(&args, &env_of(&[]), FileConfig::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("neo4j.uri (from flag --neo4j-uri)"), "{err}");
    }

    #[test]
    fn unknown_file_keys_are_rejected() {
        let err = toml::from_str::<FileConfig>("[neo4j]\nbatchsize = 1").unwrap_err();
        assert!(
            err.message().contains("unknown field `batchsize`"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn shipped_config_file_parses_and_documents_every_key() {
        let text = include_str!("../config.toml");
        let file: FileConfig = toml::from_str(text).unwrap();
        assert!(file.neo4j.uri.is_some() && file.postgres.url.is_some());
        for key in [
            "NEO4J_URI",
            "NEO4J_USER",
            "NEO4J_PASSWORD",
            "NEO4J_BATCH_SIZE",
            "NEO4J_BATCH_FLUSH_INTERVAL",
            "POSTGRES_URL",
            "POSTGRES_BATCH_SIZE",
            "POSTGRES_BATCH_FLUSH_INTERVAL",
            "DISCOGS_DATA_DIR",
            "DISCOGS_BASE_URL",
            "DISCOGS_LISTEN",
            "DISCOGS_REQUEST_TIMEOUT",
            "DISCOGS_SEARCH_EXACT_MATCHES",
        ] {
            assert!(text.contains(key), "config.toml does not document {key}");
        }
    }

    #[test]
    fn benchmark_perftest_suite_covers_every_catalogue_route() {
        let file: FileConfig = toml::from_str(include_str!("../benches/perftest.toml")).unwrap();
        let paths: Vec<&str> = file
            .perftest
            .requests
            .iter()
            .map(|request| request.path.as_str())
            .collect();
        for route in [
            "/api/artists/",
            "/api/labels/",
            "/api/masters/",
            "/api/releases/",
            "/api/autocomplete?",
            "/api/search?",
            "/api/explore?",
            "/api/expand?",
            "/api/node/",
            "/api/trends?",
            "/api/path?",
            "/api/explore/year-range",
            "/api/explore/genre-emergence?",
            "/api/genre-tree",
            "/api/graph/stats",
            "/api/collaborators/",
        ] {
            assert!(
                paths.iter().any(|path| path.starts_with(route)),
                "benches/perftest.toml has no {route} request"
            );
        }
    }

    #[test]
    fn redact_url_hides_only_the_password() {
        assert_eq!(redact_url("postgres://a:b@h:1/d"), "postgres://a:***@h:1/d");
        assert_eq!(redact_url("postgres://a@h/d"), "postgres://a@h/d");
        assert_eq!(redact_url("host=h user=a"), "host=h user=a");
    }
}
