use crate::util::discogs;

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn every_subcommand_has_help() {
    let top = discogs(&["--help"]);
    assert!(top.status.success());
    let text = String::from_utf8_lossy(&top.stdout);
    for command in [
        "run", "ingest", "serve", "download", "migrate", "status", "parse", "perftest",
    ] {
        assert!(text.contains(command), "--help lists {command}");
        let output = discogs(&[command, "--help"]);
        assert!(output.status.success(), "{command} --help exits 0");
        assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: discogs"));
    }
}

#[test]
fn help_never_shows_a_secret() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_discogs"))
        .arg("--help")
        .env("NEO4J_PASSWORD", "hunter2-secret")
        .env("POSTGRES_URL", "postgres://u:pw-secret@h/d")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("hunter2-secret") && !text.contains("pw-secret"));
}

#[test]
fn malformed_config_file_is_one_clear_line() {
    let dir = std::env::temp_dir().join(format!("discogs-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");

    std::fs::write(&path, "[neo4j]\nbatch_size = \"many\"\n").unwrap();
    let output = discogs(&["migrate", "--config", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.starts_with("discogs: invalid config file"),
        "{message}"
    );
    assert!(message.contains("batch_size"), "{message}");

    std::fs::write(&path, "[postgres]\nurl_typo = 'x'\n").unwrap();
    let message = stderr(&discogs(&["migrate", "--config", path.to_str().unwrap()]));
    assert!(message.contains("unknown field `url_typo`"), "{message}");

    let missing = dir.join("missing.toml");
    let message = stderr(&discogs(&[
        "migrate",
        "--config",
        missing.to_str().unwrap(),
    ]));
    assert!(
        message.starts_with("discogs: cannot read config file"),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn unreachable_databases_are_one_clear_line() {
    let output = discogs(&["migrate", "--neo4j-uri", "bolt://127.0.0.1:1"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim(),
        "discogs: cannot connect to Neo4j at bolt://127.0.0.1:1: Connection refused (os error 111)"
    );

    let output = discogs(&[
        "migrate",
        "--postgres-url",
        "postgres://me:pw@127.0.0.1:1/db",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stderr(&output).trim(),
        "discogs: cannot connect to PostgreSQL at postgres://me:***@127.0.0.1:1/db: Connection refused (os error 111)"
    );
}

#[test]
fn parse_prints_ndjson_records_and_a_summary() {
    let file = crate::util::fixture("tgmz/discogs_artists.xml.gz");
    let output = discogs(&["parse", "--limit", "2", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["type"], "artist");
    assert_eq!(lines[0]["id"], 32);
    assert_eq!(lines[0]["record"]["name"], "Jay Denes");
    assert_eq!(lines[0]["sha256"].as_str().unwrap().len(), 64);
    let summary = stderr(&output);
    assert!(
        summary.contains(": 2 records of artists, 0 skipped, "),
        "{summary}"
    );

    let bytes = std::fs::read(&file).unwrap();
    let truncated = std::env::temp_dir().join(format!(
        "discogs-cli-truncated-{}.xml.gz",
        std::process::id()
    ));
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let output = discogs(&["parse", truncated.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert_eq!(
        message
            .lines()
            .filter(|l| l.starts_with("discogs: "))
            .count(),
        1,
        "{message}"
    );
    assert!(message.contains("read failed at XML byte"), "{message}");
    assert_each_cause_once(&message);
    std::fs::remove_file(&truncated).unwrap();
}

/// No `: `-separated part of the error line says what an earlier part said.
fn assert_each_cause_once(stderr: &str) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("discogs: "))
        .unwrap_or_default();
    let parts: Vec<&str> = line.split(": ").collect();
    for (index, part) in parts.iter().enumerate() {
        assert!(
            !parts[..index].contains(part),
            "{part:?} said twice in {line}"
        );
    }
}

#[test]
fn a_dump_whose_xml_stops_early_names_the_cause_once() {
    use std::io::{Read, Write};
    let mut xml = Vec::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(crate::util::fixture("tgmz/discogs_artists.xml.gz")).unwrap(),
    )
    .read_to_end(&mut xml)
    .unwrap();
    let cut = xml.len() / 2;
    let cut = cut + xml[cut..].iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzip.write_all(&xml[..cut]).unwrap();
    let path =
        std::env::temp_dir().join(format!("discogs-cli-xml-cut-{}.xml.gz", std::process::id()));
    std::fs::write(&path, gzip.finish().unwrap()).unwrap();
    let output = discogs(&["parse", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    let line = message
        .lines()
        .find(|l| l.starts_with("discogs: "))
        .unwrap_or_default();
    assert_eq!(
        line,
        format!(
            "discogs: {}: file is truncated: it ends at XML byte {cut} without </artists>",
            path.display()
        )
    );
    std::fs::remove_file(&path).unwrap();
}

/// The drivers put their cause in their message and return it as `source()` too; the line says it
/// once.
#[tokio::test]
async fn a_database_error_is_one_line_naming_its_cause_once() {
    let (client, connection) =
        tokio_postgres::connect(&crate::util::postgres_url(), tokio_postgres::NoTls)
            .await
            .unwrap();
    tokio::spawn(connection);
    let failed = client.execute("SELECT 1 / 0", &[]).await.unwrap_err();
    let error =
        anyhow::Error::new(discogs::store::postgres::Error::from(failed)).context("ingest failed");
    assert_eq!(
        discogs::telemetry::one_line(error.as_ref()),
        "ingest failed: PostgreSQL query failed: db error: ERROR: division by zero"
    );
}
