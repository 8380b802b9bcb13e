//! The ingest pipeline against real PostgreSQL and Neo4j: exact contents, idempotence,
//! incremental updates equal to a fresh load, and the mass-deletion guard.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use discogs::config::Config;
use discogs::ingest::{self, Settings, Summary};
use discogs::record::Kind;
use discogs::shutdown::Shutdown;
use discogs::store::graph::aggregates;
use discogs::store::neo4j::Neo4j;
use discogs::store::{facts, migrate, postgres, profiles};
use flate2::Compression;
use flate2::write::GzEncoder;
use neo4rs::query;

use crate::util::{
    assert_same_graph, fixture, fresh_database, fresh_graph, graph_snapshot, neo4j_lock,
    postgres_snapshot, temp_dir,
};

/// Ingests the newest dump in `dir` through the library, as `discogs ingest` does.
pub async fn ingest_dir(
    config: &Config,
    dir: &Path,
    allow_mass_delete: bool,
) -> Result<Summary, ingest::IngestError> {
    let pool = postgres::connect(&config.postgres).await.unwrap();
    let neo4j = Neo4j::connect(&config.neo4j).await.unwrap();
    migrate::postgres(&pool).await.unwrap();
    let (_trigger, shutdown) = Shutdown::new();
    let settings = Settings {
        data_dir: dir.to_owned(),
        allow_mass_delete,
        parser_threads: 2,
        ..Settings::from_config(config)
    };
    ingest::run(&pool, &neo4j.graph, &settings, shutdown).await
}

async fn count(graph: &neo4rs::Graph, statement: &str) -> i64 {
    let mut rows = graph.execute(query(statement)).await.unwrap();
    rows.next().await.unwrap().unwrap().get("n").unwrap()
}

async fn pg_count(pool: &deadpool_postgres::Pool, statement: &str) -> i64 {
    pool.get()
        .await
        .unwrap()
        .query_one(statement, &[])
        .await
        .unwrap()
        .get(0)
}

fn totals(summary: &Summary) -> ingest::Counts {
    let mut total = ingest::Counts::default();
    for (_, outcome) in &summary.files {
        let c = &outcome.counts;
        total.records += c.records;
        total.inserted += c.inserted;
        total.updated += c.updated;
        total.unchanged += c.unchanged;
        total.graph_only += c.graph_only;
        total.deleted += c.deleted;
        total.skipped += c.skipped;
    }
    total
}

#[tokio::test]
async fn sample_dump_loads_exactly_and_a_second_ingest_writes_nothing() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_pipeline_sample").await;
    let graph = fresh_graph(&config).await.graph;
    let dump = fixture("xml2db");

    let first = ingest_dir(&config, &dump, false).await.unwrap();
    assert_eq!(first.version, "20200806");
    assert!(first.complete);
    for (kind, outcome) in &first.files {
        let counts = &outcome.counts;
        assert_eq!(
            (counts.records, counts.inserted, counts.skipped),
            (1000, 1000, 0),
            "{kind}"
        );
    }

    let pool = postgres::connect(&config.postgres).await.unwrap();
    for table in ["artists", "labels", "masters", "releases"] {
        assert_eq!(
            pg_count(&pool, &format!("SELECT count(*) FROM {table}")).await,
            1000,
            "{table}"
        );
    }
    let client = pool.get().await.unwrap();
    let row = client
        .query_one(
            "SELECT data->>'title', data->'labels'->0->>'catno' FROM releases WHERE id = 1",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("Stockholm".to_owned(), "SK032".to_owned())
    );
    let realname: String = client
        .query_one("SELECT data->>'realname' FROM artists WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(realname, "Jesper Dahlbäck");

    // Node counts: every record is a node with its properties.
    assert_eq!(
        count(
            &graph,
            "MATCH (r:Release) WHERE r.title IS NOT NULL RETURN count(r) AS n"
        )
        .await,
        1000
    );
    assert_eq!(
        count(
            &graph,
            "MATCH (m:Master) WHERE m.title IS NOT NULL RETURN count(m) AS n"
        )
        .await,
        1000
    );
    assert_eq!(
        count(
            &graph,
            "MATCH (a:Artist) WHERE a.named_by IS NULL RETURN count(a) AS n"
        )
        .await,
        1000
    );
    assert_eq!(
        count(
            &graph,
            "MATCH (l:Label) WHERE l.named_by IS NULL RETURN count(l) AS n"
        )
        .await,
        1000
    );

    // Stubs: referenced, no record of their own, each called what its first referrer calls it.
    assert_eq!(
        count(
            &graph,
            "MATCH (n) WHERE n.named_by IS NOT NULL AND n.name IS NULL RETURN count(n) AS n"
        )
        .await,
        0,
        "every reference in the sample names what it references"
    );
    assert_eq!(
        count(
            &graph,
            "MATCH (a:Artist {id: 82730}) WHERE a.name = 'The Beatles' AND a.named_by IS NOT NULL
             RETURN count(a) AS n"
        )
        .await,
        1
    );

    // Relationship counts, each checked against PostgreSQL's JSONB as the oracle.
    let expectations = [
        (
            "MATCH (:Release)-[r:BY]->(:Artist) RETURN count(r) AS n",
            "SELECT count(DISTINCT (r.id, a->>'id')) FROM releases r, jsonb_array_elements(r.data->'artists') a WHERE a ? 'id'",
        ),
        (
            "MATCH (:Master)-[r:BY]->(:Artist) RETURN count(r) AS n",
            "SELECT count(DISTINCT (m.id, a->>'id')) FROM masters m, jsonb_array_elements(m.data->'artists') a WHERE a ? 'id'",
        ),
        (
            "MATCH (:Release)-[r:ON]->(:Label) RETURN count(r) AS n",
            "SELECT count(DISTINCT (r.id, l->>'id', coalesce(l->>'catno', ''))) FROM releases r, jsonb_array_elements(r.data->'labels') l WHERE l ? 'id'",
        ),
        (
            "MATCH (:Release)-[r:DERIVED_FROM]->(:Master) RETURN count(r) AS n",
            "SELECT count(*) FROM releases WHERE data ? 'master_id'",
        ),
        (
            "MATCH (:Release)-[r:IS]->(:Genre) RETURN count(r) AS n",
            "SELECT count(DISTINCT (r.id, g)) FROM releases r, jsonb_array_elements_text(r.data->'genres') g",
        ),
        (
            "MATCH (:Release)-[r:IS]->(:Style) RETURN count(r) AS n",
            "SELECT count(DISTINCT (r.id, s)) FROM releases r, jsonb_array_elements_text(r.data->'styles') s",
        ),
        (
            "MATCH (:Artist)-[r:CREDITED_ON]->(:Release) RETURN count(r) AS n",
            "SELECT count(DISTINCT (r.id, c->>'id', coalesce(c->>'role', ''))) FROM releases r,
                    jsonb_path_query(r.data, 'strict $.**.extraartists[*]') c WHERE c ? 'id'",
        ),
        (
            "MATCH (:Artist)-[r:ALIAS_OF]->(:Artist) RETURN count(r) AS n",
            "SELECT count(DISTINCT (a.id, x->>'id')) FROM artists a, jsonb_array_elements(a.data->'aliases') x WHERE x ? 'id'",
        ),
        (
            "MATCH (:Artist)-[r:MEMBER_OF]->(:Artist) RETURN count(r) AS n",
            "SELECT count(*) FROM (
               SELECT a.id AS member, (g->>'id')::bigint AS grp FROM artists a, jsonb_array_elements(a.data->'groups') g WHERE g ? 'id'
               UNION
               SELECT (m->>'id')::bigint, a.id FROM artists a, jsonb_array_elements(a.data->'members') m WHERE m ? 'id') pairs",
        ),
        (
            "MATCH (:Label)-[r:SUBLABEL_OF]->(:Label) RETURN count(r) AS n",
            "SELECT count(*) FROM (
               SELECT l.id AS child, (l.data->'parent_label'->>'id')::bigint AS parent FROM labels l WHERE l.data->'parent_label' ? 'id'
               UNION
               SELECT (s->>'id')::bigint, l.id FROM labels l, jsonb_array_elements(l.data->'sublabels') s WHERE s ? 'id') pairs",
        ),
    ];
    for (cypher, sql) in expectations {
        let expected = pg_count(&pool, sql).await;
        assert!(expected > 0, "the sample exercises {cypher}");
        assert_eq!(count(&graph, cypher).await, expected, "{cypher}");
    }

    // Chosen values: release 1 is by The Persuader, on Svek as SK032.
    let mut rows = graph
        .execute(query(
            "MATCH (r:Release {id: 1})-[:BY]->(a:Artist), (r)-[o:ON]->(l:Label)
             RETURN a.id AS artist, a.name AS name, l.id AS label, o.catno AS catno",
        ))
        .await
        .unwrap();
    let row = rows.next().await.unwrap().unwrap();
    assert_eq!(row.get::<i64>("artist").unwrap(), 1);
    assert_eq!(row.get::<String>("name").unwrap(), "The Persuader");
    assert_eq!(
        (
            row.get::<i64>("label").unwrap(),
            row.get::<String>("catno").unwrap()
        ),
        (5, "SK032".to_owned())
    );

    // Aggregates agree with PostgreSQL too.
    let persuader_releases = pg_count(
        &pool,
        "SELECT count(DISTINCT r.id) FROM releases r, jsonb_array_elements(r.data->'artists') a WHERE a->>'id' = '1'",
    )
    .await;
    assert_eq!(
        count(
            &graph,
            "MATCH (a:Artist {id: 1}) RETURN a.release_count AS n"
        )
        .await,
        persuader_releases
    );
    let electronic = pg_count(
        &pool,
        "SELECT count(*) FROM releases WHERE data->'genres' ? 'Electronic'",
    )
    .await;
    assert_eq!(
        count(
            &graph,
            "MATCH (g:Genre {name: 'Electronic'}) RETURN g.release_count AS n"
        )
        .await,
        electronic
    );
    let first_year = pg_count(
        &pool,
        "SELECT min((data->>'year')::bigint) FROM releases WHERE data->'genres' ? 'Electronic'",
    )
    .await;
    assert_eq!(
        count(
            &graph,
            "MATCH (g:Genre {name: 'Electronic'}) RETURN g.first_year AS n"
        )
        .await,
        first_year
    );
    assert!(
        count(
            &graph,
            "MATCH (:Style)-[r:PART_OF]->(:Genre) RETURN count(r) AS n"
        )
        .await
            > 0
    );
    assert_eq!(
        count(
            &graph,
            "MATCH (n) WHERE (n:Artist OR n:Label) AND n.release_count IS NULL RETURN count(n) AS n"
        )
        .await,
        0
    );

    // A second ingest of the same dump writes nothing to either store.
    let rows_before: i64 = pg_count(
        &pool,
        "SELECT sum(xmin::text::bigint)::bigint FROM releases",
    )
    .await;
    let graph_before = graph_snapshot(&graph).await;
    let second = ingest_dir(&config, &dump, false).await.unwrap();
    let total = totals(&second);
    assert_eq!((total.records, total.unchanged), (4000, 4000));
    for (kind, outcome) in &second.files {
        assert_eq!(
            outcome.unparsed, 1000,
            "{kind}: unchanged XML is not parsed again"
        );
    }
    assert_eq!(
        total.inserted + total.updated + total.graph_only + total.deleted,
        0
    );
    assert_eq!(
        second.generation, first.generation,
        "nothing changed, so cached answers stay valid"
    );
    assert_eq!(
        pg_count(
            &pool,
            "SELECT sum(xmin::text::bigint)::bigint FROM releases"
        )
        .await,
        rows_before,
        "no row rewritten"
    );
    assert_eq!(graph_snapshot(&graph).await, graph_before);

    // `discogs status` reports the files of the dump.
    let url = crate::util::with_database(&crate::util::postgres_url(), "test_pipeline_sample");
    let output = crate::util::discogs(&["status", "--postgres-url", &url]);
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with(&format!("generation {}\n", second.generation)),
        "{text}"
    );
    for kind in ["artists", "labels", "masters", "releases"] {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("20200806   {kind}")))
            .unwrap_or_else(|| panic!("{kind} in {text}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            &fields[2..8],
            ["done", "1000", "0", "0", "1000", "0"],
            "{line}"
        );
    }

    // A graph aggregated by an older release's definitions gets the current ones from the next
    // ingest, though the dump is unchanged, and the API's cache moves on with it; so do the
    // profiles counted with them.
    let profiled = postgres_snapshot(&pool).await;
    pool.get()
        .await
        .unwrap()
        .batch_execute(
            "UPDATE ingest_generation SET aggregates_version = 1;
             TRUNCATE label_profiles, label_styles, label_genres, artist_profiles,
                 artist_genres, artist_styles, artist_collaborations, artist_labels,
                 collaboration_years, tag_years, tag_records, genre_styles",
        )
        .await
        .unwrap();
    graph
        .run(query(
            "MATCH (g:Genre) REMOVE g.top_artist_ids, g.trend_years",
        ))
        .await
        .unwrap();
    let third = ingest_dir(&config, &dump, false).await.unwrap();
    assert!(third.aggregate_seconds > 0.0);
    assert_eq!(third.generation, second.generation + 1);
    assert_eq!(graph_snapshot(&graph).await, graph_before);
    assert_eq!(postgres_snapshot(&pool).await, profiled);

    // A database from before the credits (or of an older definition of them) gets them from the
    // stored releases at the next ingest, equal to what the load wrote, under a new generation.
    let loaded = postgres_snapshot(&pool).await;
    assert!(
        pg_count(&pool, "SELECT count(*) FROM credits").await > 6_000,
        "the sample's releases credit people"
    );
    pool.get()
        .await
        .unwrap()
        .batch_execute(
            "TRUNCATE credits, people, person_categories;
             UPDATE ingest_generation SET credits_version = 0",
        )
        .await
        .unwrap();
    let fourth = ingest_dir(&config, &dump, false).await.unwrap();
    assert_eq!(fourth.generation, third.generation + 1);
    assert!(fourth.credits_seconds > 0.0);
    assert_eq!(postgres_snapshot(&pool).await, loaded);

    // An update stopped between writing its releases and its end leaves their credits pending:
    // the next ingest puts them in first.
    pool.get()
        .await
        .unwrap()
        .batch_execute(
            "WITH taken AS (
                 DELETE FROM credits WHERE release_id IN
                     (SELECT DISTINCT release_id FROM credits ORDER BY release_id LIMIT 50)
                 RETURNING *)
             INSERT INTO credits_pending SELECT * FROM taken",
        )
        .await
        .unwrap();
    assert!(pg_count(&pool, "SELECT count(*) FROM credits_pending").await > 50);
    ingest_dir(&config, &dump, false).await.unwrap();
    assert_eq!(postgres_snapshot(&pool).await, loaded);
}

/// Writes `lines` (one record each) as a gzip'd dump file with its root element.
fn write_dump_file(path: &Path, kind: Kind, lines: &[String]) {
    let mut out = GzEncoder::new(std::fs::File::create(path).unwrap(), Compression::fast());
    writeln!(out, "<{kind}>").unwrap();
    for line in lines {
        writeln!(out, "{line}").unwrap();
    }
    writeln!(out, "</{kind}>").unwrap();
    out.finish().unwrap();
}

/// The records of a dump file as XML text, one string each (records may span lines).
fn record_lines(path: &Path) -> Vec<String> {
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()),
        &mut text,
    )
    .unwrap();
    // The 2020 sample's artists file has a line holding two artists; give each its own line.
    if text.starts_with("<artists>") {
        text = text.replace("</artist><artist>", "</artist>\n<artist>");
    }
    let starts = ["<artist>", "<label>", "<master ", "<release "];
    let mut records: Vec<String> = Vec::new();
    for line in text.lines() {
        if starts.iter().any(|start| line.starts_with(start)) {
            records.push(line.to_owned());
        } else if let Some(record) = records.last_mut().filter(|_| {
            !["</artists>", "</labels>", "</masters>", "</releases>"].contains(&line.trim())
        }) {
            record.push('\n');
            record.push_str(line);
        }
    }
    records
}

/// Writes a CHECKSUM file for the dump `version` in `dir`.
fn write_checksums(dir: &Path, version: &str) {
    let mut sums = String::new();
    for kind in Kind::ALL {
        let name = format!("discogs_{version}_{kind}.xml.gz");
        let digest = discogs::dump::checksum::sha256_file(&dir.join(&name)).unwrap();
        sums.push_str(&format!("{digest} {name}\n"));
    }
    std::fs::write(dir.join(format!("discogs_{version}_CHECKSUM.txt")), sums).unwrap();
}

/// The sample dump a month later: records changed, added and removed in every file.
pub fn modified_sample(dir: &Path) {
    let version = "20200906";
    for kind in Kind::ALL {
        let mut lines = record_lines(&fixture(&format!("xml2db/discogs_20200806_{kind}.xml.gz")));
        // Five records gone.
        lines.drain(10..15);
        // One changed: its name or title gains a suffix (the release's year moves too, which
        // its credits carry); another loses its aliases/labels/styles.
        let changed = match kind {
            Kind::Artists => lines[20].replacen("</name>", " (renamed)</name>", 1),
            Kind::Labels => lines[20].replacen("</name>", " (renamed)</name>", 1),
            Kind::Masters => lines[20].replacen("</title>", " (remastered)</title>", 1),
            Kind::Releases => {
                assert!(
                    lines[20].contains("<released>1998-") && lines[20].contains("<extraartists>")
                );
                lines[20]
                    .replacen("</title>", " (remastered)</title>", 1)
                    .replacen("<released>1998-", "<released>1997-", 1)
            }
        };
        lines[20] = changed;
        let (open, close) = match kind {
            Kind::Artists => ("<aliases>", "</aliases>"),
            Kind::Labels => ("<urls>", "</urls>"),
            Kind::Masters => ("<styles>", "</styles>"),
            Kind::Releases => ("<extraartists>", "</extraartists>"),
        };
        let index = lines[..20]
            .iter()
            .position(|line| line.contains(open))
            .unwrap_or_else(|| panic!("{open} in the first records"));
        lines[index] = strip(&lines[index], open, close);
        if kind == Kind::Releases {
            // One moves to another genre, with a style no other record has.
            let mut moved = strip(&lines[30], "<genres>", "</genres>");
            if moved.contains("<styles>") {
                moved = strip(&moved, "<styles>", "</styles>");
            }
            lines[30] = moved.replacen(
                "</title>",
                "</title><genres><genre>Jazz</genre></genres><styles><style>Free Jazz</style></styles>",
                1,
            );
        }
        // One added, referring to existing records (the release: with an artist who has a
        // collaborator already).
        lines.push(match kind {
            Kind::Artists => "<artist><id>90000001</id><name>Newcomer</name><aliases><name id=\"1\">The Persuader</name></aliases></artist>".into(),
            Kind::Labels => "<label><id>90000001</id><name>New Label</name><parentLabel id=\"5\">Svek</parentLabel></label>".into(),
            Kind::Masters => "<master id=\"90000001\"><main_release>90000001</main_release><artists><artist><id>90000001</id><name>Newcomer</name></artist></artists><genres><genre>Electronic</genre></genres><styles><style>Ambient</style></styles><year>2020</year><title>Debut</title></master>".into(),
            Kind::Releases => "<release id=\"90000001\" status=\"Accepted\"><artists><artist><id>90000001</id><name>Newcomer</name></artist><artist><id>92</id><name>Fredrik Stark</name></artist></artists><title>Debut</title><labels><label name=\"New Label\" catno=\"NEW001\" id=\"90000001\"/></labels><genres><genre>Electronic</genre></genres><released>2020-09-01</released><master_id is_main_release=\"true\">90000001</master_id></release>".into(),
        });
        write_dump_file(
            &dir.join(format!("discogs_{version}_{kind}.xml.gz")),
            kind,
            &lines,
        );
    }
    write_checksums(dir, version);
}

/// `line` without the element that runs from `open` to `close`.
fn strip(line: &str, open: &str, close: &str) -> String {
    let start = line.find(open).unwrap();
    let end = line.find(close).unwrap() + close.len();
    format!("{}{}", &line[..start], &line[end..])
}

/// `release_tags`, `release_artists` and `release_labels` as (owner, year, release) lines, each
/// once.
async fn paged_releases(pool: &deadpool_postgres::Pool) -> BTreeSet<String> {
    let client = pool.get().await.unwrap();
    let rows = client
        .query(
            "SELECT format('%s %s %s %s', CASE WHEN style THEN 'style' ELSE 'genre' END, tag, year,
                           release_id) FROM release_tags
             UNION ALL SELECT format('artist %s %s %s', artist_id, year, release_id) FROM release_artists
             UNION ALL SELECT format('label %s %s %s', label_id, year, release_id) FROM release_labels",
            &[],
        )
        .await
        .unwrap();
    let lines: BTreeSet<String> = rows.iter().map(|row| row.get(0)).collect();
    assert_eq!(
        lines.len(),
        rows.len(),
        "a release paged twice in one place"
    );
    lines
}

/// Each release's `IS`, `BY` and `ON` in the graph, in the lines of [`paged_releases`].
async fn pages_in_graph(graph: &neo4rs::Graph) -> BTreeSet<String> {
    let mut rows = graph
        .execute(neo4rs::query(
            "MATCH (r:Release)-[:IS]->(t)
             RETURN CASE WHEN t:Style THEN 'style' ELSE 'genre' END + ' ' + t.name AS owner,
                    coalesce(r.year, 0) AS year, r.id AS id
             UNION ALL MATCH (r:Release)-[:BY]->(a:Artist)
             RETURN 'artist ' + toString(a.id) AS owner, coalesce(r.year, 0) AS year, r.id AS id
             UNION ALL MATCH (r:Release)-[:ON]->(l:Label)
             RETURN 'label ' + toString(l.id) AS owner, coalesce(r.year, 0) AS year, r.id AS id",
        ))
        .await
        .unwrap();
    let mut lines = BTreeSet::new();
    while let Some(row) = rows.next().await.unwrap() {
        let (owner, year, id): (String, i64, i64) = (
            row.get("owner").unwrap(),
            row.get("year").unwrap(),
            row.get("id").unwrap(),
        );
        lines.insert(format!("{owner} {year} {id}"));
    }
    lines
}

#[tokio::test]
async fn an_incremental_ingest_equals_a_fresh_load_of_the_new_dump() {
    let _guard = neo4j_lock().await;
    let new_dump = temp_dir("incremental");
    modified_sample(&new_dump);

    // Fresh load of the new dump alone.
    let fresh = fresh_database("test_pipeline_fresh").await;
    let graph = fresh_graph(&fresh).await.graph;
    ingest_dir(&fresh, &new_dump, false).await.unwrap();
    let fresh_pg = postgres_snapshot(&postgres::connect(&fresh.postgres).await.unwrap()).await;
    let fresh_graph_lines = graph_snapshot(&graph).await;

    // The old dump, then the new one beside it in the same directory, as a download leaves it.
    let incremental = fresh_database("test_pipeline_incremental").await;
    fresh_graph(&incremental).await;
    let months = sample_copy("incremental-months");
    ingest_dir(&incremental, &months, false).await.unwrap();
    modified_sample(&months);
    let summary = ingest_dir(&incremental, &months, false).await.unwrap();
    assert_eq!(summary.version, "20200906");
    for (kind, outcome) in &summary.files {
        let counts = &outcome.counts;
        assert_eq!((counts.inserted, counts.deleted), (1, 5), "{kind}");
        let moved = u64::from(*kind == Kind::Releases);
        assert_eq!(
            counts.updated,
            2 + moved,
            "{kind}: one renamed, one stripped, a release moved"
        );
        assert_eq!(counts.unchanged, 993 - moved, "{kind}");
        assert_eq!(
            outcome.unparsed, counts.unchanged,
            "{kind}: only the records whose XML changed are parsed"
        );
    }
    assert_eq!(
        postgres_snapshot(&postgres::connect(&incremental.postgres).await.unwrap()).await,
        fresh_pg
    );
    assert_same_graph(
        (
            "after the incremental ingest",
            &graph_snapshot(&graph).await,
        ),
        ("in the fresh load", &fresh_graph_lines),
    );
    let pool = postgres::connect(&incremental.postgres).await.unwrap();
    assert_eq!(
        paged_releases(&pool).await,
        pages_in_graph(&graph).await,
        "the release pages' tables against the graph's IS, BY and ON"
    );
    let free_jazz = "MATCH (:Style {name: 'Free Jazz'})-[p:PART_OF]->(:Genre {name: 'Jazz'})
                     RETURN p.release_count AS n";
    let shared = "SELECT count(*) FROM release_facts
                  WHERE genres @> ARRAY['Jazz'] AND styles @> ARRAY['Free Jazz']";
    assert_eq!(
        count(&graph, free_jazz).await,
        pg_count(&pool, shared).await,
        "the moved release's new genre and style"
    );
    // The update wrote the aggregates of what it touched, and nothing is left to write.
    assert_eq!(
        pg_count(&pool, "SELECT count(*) FROM aggregate_touched").await,
        0
    );
    assert!(summary.aggregate_seconds > 0.0);
    // What the update moved by its journal equals a recount of every stored release.
    let moved = postgres_snapshot(&pool).await;
    assert!(moved.iter().any(|line| line.starts_with("tag_years ")));
    let recounted = facts::tally(&**pool.get().await.unwrap())
        .await
        .unwrap()
        .finish();
    profiles::write(&pool, &recounted).await.unwrap();
    assert_eq!(postgres_snapshot(&pool).await, moved);
    std::fs::remove_dir_all(&new_dump).unwrap();
    std::fs::remove_dir_all(&months).unwrap();
}

#[tokio::test]
async fn a_first_loads_tallied_aggregates_equal_their_recomputation() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_pipeline_tally").await;
    let graph = fresh_graph(&config).await.graph;
    let summary = ingest_dir(&config, &fixture("xml2db"), false)
        .await
        .unwrap();
    assert!(summary.aggregate_seconds > 0.0);
    let tallied = graph_snapshot(&graph).await;
    assert_eq!(
        pg_count(
            &postgres::connect(&config.postgres).await.unwrap(),
            "SELECT count(*) FROM pg_stat_user_tables
             WHERE relname IN ('artists', 'labels', 'masters', 'releases')
               AND last_analyze IS NOT NULL"
        )
        .await,
        4,
        "a first load leaves the record tables' statistics gathered"
    );

    // Real values: each store counts Electronic's releases and the years they span its own way.
    let pool = postgres::connect(&config.postgres).await.unwrap();
    let electronic = pg_count(
        &pool,
        "SELECT count(*) FROM releases WHERE genres @> ARRAY['Electronic']",
    )
    .await;
    assert!(electronic > 100, "{electronic}");
    let node = "MATCH (g:Genre {name: 'Electronic'})";
    assert_eq!(
        count(&graph, &format!("{node} RETURN g.release_count AS n")).await,
        electronic
    );
    let years = pg_count(
        &pool,
        "SELECT count(DISTINCT year) FROM releases WHERE genres @> ARRAY['Electronic'] AND year > 0",
    )
    .await;
    assert_eq!(
        count(&graph, &format!("{node} RETURN size(g.trend_years) AS n")).await,
        years
    );
    assert!(
        count(
            &graph,
            "MATCH (a:Artist) WHERE a.release_count > 1 RETURN count(a) AS n"
        )
        .await
            > 10
    );
    assert_eq!(
        count(
            &graph,
            "MATCH (l:Label) WHERE l.genre_count IS NULL RETURN count(l) AS n"
        )
        .await,
        0,
        "every label has its counts, stubs included"
    );

    aggregates::recompute(&graph).await.unwrap();
    assert_same_graph(
        ("recomputed", &graph_snapshot(&graph).await),
        ("tallied", &tallied),
    );
}

#[tokio::test]
async fn implausible_mass_deletion_is_refused_until_allowed() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_pipeline_mass_delete").await;
    let graph = fresh_graph(&config).await.graph;
    let dir = temp_dir("mass-delete");
    let spec = discogs::generate::Spec {
        releases: 2_400,
        version: "20990101".into(),
        seed: 3,
        level: 1,
        ..Default::default()
    };
    discogs::generate::generate(&spec, &dir).unwrap();
    ingest_dir(&config, &dir, false).await.unwrap();

    // Next month's releases file lost half its records (a truncated export, say).
    let lines = record_lines(&spec.path(&dir, Kind::Releases));
    let next = discogs::generate::Spec {
        version: "20990201".into(),
        ..spec.clone()
    };
    for kind in [Kind::Artists, Kind::Labels, Kind::Masters] {
        std::fs::copy(spec.path(&dir, kind), next.path(&dir, kind)).unwrap();
    }
    write_dump_file(
        &next.path(&dir, Kind::Releases),
        Kind::Releases,
        &lines[..1_200],
    );
    write_checksums(&dir, "20990201");

    let error = ingest_dir(&config, &dir, false)
        .await
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        "refusing to delete 1200 of 2400 releases (50.0%): the new dump looks incomplete; if it is right, run again with --allow-mass-delete"
    );
    let pool = postgres::connect(&config.postgres).await.unwrap();
    assert_eq!(
        pg_count(&pool, "SELECT count(*) FROM releases").await,
        2_400,
        "nothing deleted"
    );
    assert_eq!(
        count(&graph, "MATCH (r:Release) RETURN count(r) AS n").await,
        2_400
    );

    let summary = ingest_dir(&config, &dir, true).await.unwrap();
    assert_eq!(summary.files.last().unwrap().1.counts.deleted, 1_200);
    assert_eq!(
        pg_count(&pool, "SELECT count(*) FROM releases").await,
        1_200
    );
    assert_eq!(
        count(&graph, "MATCH (r:Release) RETURN count(r) AS n").await,
        1_200
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_graph_emptied_behind_the_databases_back_is_rebuilt() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_pipeline_rebuild").await;
    let graph = fresh_graph(&config).await.graph;
    let dump = fixture("xml2db");
    ingest_dir(&config, &dump, false).await.unwrap();
    let loaded = graph_snapshot(&graph).await;

    // Someone empties Neo4j; PostgreSQL still holds every record as unchanged.
    fresh_graph(&config).await;
    let summary = ingest_dir(&config, &dump, false).await.unwrap();
    let total = totals(&summary);
    assert_eq!(
        (total.inserted, total.updated, total.graph_only),
        (0, 0, 4000)
    );
    assert_eq!(graph_snapshot(&graph).await, loaded);

    // Paired again: the next ingest trusts the graph and writes nothing.
    let again = totals(&ingest_dir(&config, &dump, false).await.unwrap());
    assert_eq!((again.unchanged, again.graph_only), (4000, 0));
}

/// A copy of the sample dump in a directory of its own (a bulk import writes beside the dump).
fn sample_copy(name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    for entry in std::fs::read_dir(fixture("xml2db")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

#[tokio::test]
#[ignore = "restarts Neo4j under every other test; scripts/test.sh runs it alone"]
async fn a_first_load_through_neo4j_admin_import_equals_one_through_bolt() {
    let _guard = neo4j_lock().await;
    let dump = sample_copy("bulk-import");

    let bolt = fresh_database("test_pipeline_bolt_load").await;
    let graph = fresh_graph(&bolt).await.graph;
    let summary = ingest_dir(&bolt, &dump, false).await.unwrap();
    assert_eq!(summary.import_seconds, 0.0, "no import command: Bolt");
    let through_bolt = graph_snapshot(&graph).await;

    // The import command fails: the ingest says so, PostgreSQL keeps its records, and the graph
    // stays unpaired, so the next run exports it again.
    let mut config = fresh_database("test_pipeline_bulk_load").await;
    let failing = dump.join("failing-import.sh");
    std::fs::write(
        &failing,
        "echo \"$(basename \"$1\") given, but no neo4j-admin here\" >&2\nexit 3\n",
    )
    .unwrap();
    config.neo4j.import_command = Some(format!("sh {}", failing.display()));
    let error = ingest_dir(&config, &dump, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("exit status: 3"), "{error}");
    assert!(
        error.ends_with("import.args given, but no neo4j-admin here"),
        "{error}"
    );
    // A command that succeeds without replacing the database is caught too.
    config.neo4j.import_command = Some("true".into());
    let error = ingest_dir(&config, &dump, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("is not the one exported"), "{error}");

    config.neo4j.import_command = Some(format!(
        "{}/scripts/services.sh neo4j-import",
        env!("CARGO_MANIFEST_DIR")
    ));
    let summary = ingest_dir(&config, &dump, false).await.unwrap();
    assert!(summary.import_seconds > 0.0);
    let total = totals(&summary);
    assert_eq!(
        (total.unchanged, total.graph_only),
        (0, 4000),
        "exported again"
    );
    let graph = Neo4j::connect(&config.neo4j).await.unwrap().graph;
    let through_import = graph_snapshot(&graph).await;
    assert_same_graph(
        ("through the import", &through_import),
        ("through Bolt", &through_bolt),
    );
    aggregates::recompute(&graph).await.unwrap();
    assert_same_graph(
        ("recomputed", &graph_snapshot(&graph).await),
        ("with the exported aggregates", &through_import),
    );
    let exported = dump.join(".graph-import");
    assert!(exported.join("import.log").exists());
    assert!(!exported.join("releases.csv").exists(), "CSV files removed");

    // Paired: the next ingest writes nothing and imports nothing.
    let summary = ingest_dir(&config, &dump, false).await.unwrap();
    assert_eq!(summary.import_seconds, 0.0);
    let again = totals(&summary);
    assert_eq!((again.unchanged, again.graph_only), (4000, 0));
    std::fs::remove_dir_all(&dump).unwrap();
}

#[tokio::test]
async fn neo4j_batch_size_bounds_every_graph_transaction() {
    let _guard = neo4j_lock().await;
    fresh_database("test_pipeline_batch_size").await;
    let args = discogs::cli::GlobalArgs {
        postgres_url: Some(crate::util::with_database(
            &crate::util::postgres_url(),
            "test_pipeline_batch_size",
        )),
        neo4j_uri: Some(crate::util::neo4j_uri()),
        ..Default::default()
    };
    let env = |key: &str| (key == "NEO4J_BATCH_SIZE").then(|| "100".to_owned());
    let config = Config::resolve(&args, &env).unwrap();
    assert_eq!(
        config.postgres.batch_size,
        discogs::config::DEFAULT_POSTGRES_BATCH_SIZE,
        "PostgreSQL keeps its own size"
    );
    fresh_graph(&config).await;

    let summary = ingest_dir(&config, &fixture("xml2db"), false)
        .await
        .unwrap();
    for (kind, outcome) in &summary.files {
        assert_eq!(outcome.counts.inserted, 1000, "{kind}");
        assert_eq!(
            outcome.largest_neo4j_batch, 100,
            "{kind}: graph transactions hold at most NEO4J_BATCH_SIZE records"
        );
        assert!(
            outcome.neo4j_batches >= 10,
            "{kind}: 1,000 records in {} transactions",
            outcome.neo4j_batches
        );
    }
}

/// In the shape of vector's `serial_backpressure`: a sink that cannot write (Neo4j blocked on a
/// node lock the test holds) stops the stages before it. PostgreSQL then holds no more than what
/// the graph writer took (one batch) plus what the channel between them holds (GRAPH_CAPACITY
/// batches) plus the batch the PostgreSQL writer is trying to hand over; once the lock goes, the
/// ingest completes exactly.
#[tokio::test]
async fn a_stalled_graph_writer_holds_back_the_stages_before_it() {
    const BATCH: usize = 50;
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_pipeline_backpressure").await;
    let neo4j = fresh_graph(&config).await;
    let pool = postgres::connect(&config.postgres).await.unwrap();
    migrate::postgres(&pool).await.unwrap();
    // Paired already, so the ingest writes into this graph instead of clearing it.
    discogs::store::bookkeeping::set_graph_token(&pool, "backpressure")
        .await
        .unwrap();
    discogs::store::graph::set_pairing_token(&neo4j.graph, "backpressure")
        .await
        .unwrap();
    let dump = fixture("xml2db");
    let first_artist: i64 = {
        let path = dump.join("discogs_20200806_artists.xml.gz");
        let options = discogs::extract::Options::default();
        let mut extractor = discogs::extract::Extractor::open(&path, &options).unwrap();
        extractor.next_batch().unwrap().unwrap().records[0].id
    };
    neo4j
        .graph
        .run(query("CREATE (:Artist {id: $id})").param("id", first_artist))
        .await
        .unwrap();
    let mut lock = neo4j.graph.start_txn().await.unwrap();
    lock.run(query("MATCH (a:Artist {id: $id}) SET a.locked = true").param("id", first_artist))
        .await
        .unwrap();

    let settings = Settings {
        data_dir: dump.clone(),
        postgres_batch: ingest::BatchSettings {
            size: BATCH,
            ..Settings::from_config(&config).postgres_batch
        },
        neo4j_batch: ingest::BatchSettings {
            size: BATCH,
            ..Settings::from_config(&config).neo4j_batch
        },
        ..Settings::from_config(&config)
    };
    let ingesting = {
        let (pool, graph) = (pool.clone(), neo4j.graph.clone());
        tokio::spawn(async move {
            let (_trigger, shutdown) = Shutdown::new();
            ingest::run(&pool, &graph, &settings, shutdown).await
        })
    };
    // Wait until PostgreSQL stops growing: the pipeline is stalled.
    let mut written = -1;
    for _ in 0..60 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = pg_count(&pool, "SELECT count(*) FROM artists").await;
        if now == written && now > 0 {
            break;
        }
        written = now;
    }
    let bound = ((ingest::pipeline::GRAPH_CAPACITY + 2) * BATCH) as i64;
    assert!(
        (1..=bound).contains(&written),
        "PostgreSQL holds {written} artists with the graph writer stalled; at most {bound} expected"
    );
    assert!(!ingesting.is_finished());

    lock.rollback().await.unwrap();
    let summary = ingesting.await.unwrap().unwrap();
    assert!(summary.complete);
    assert_eq!(
        count(
            &neo4j.graph,
            "MATCH (a:Artist) WHERE a.named_by IS NULL RETURN count(a) AS n"
        )
        .await,
        1000
    );
    assert_eq!(pg_count(&pool, "SELECT count(*) FROM releases").await, 1000);
}

/// Month by month, a stub is called what its first referrer calls it (artists before labels,
/// masters and releases, then by id); its own record's name wins while the record exists, and
/// when the record goes the referrers name it again. After every month the graph is the one a
/// fresh load of that month builds.
#[tokio::test]
async fn a_stubs_name_follows_its_first_referrer_through_updates_and_deletions() {
    let _guard = neo4j_lock().await;
    let artist = |id: i64, name: &str, alias: Option<&str>| {
        let aliases = alias
            .map(|alias| format!("<aliases><name id=\"9\">{alias}</name></aliases>"))
            .unwrap_or_default();
        format!("<artist><id>{id}</id><name>{name}</name>{aliases}</artist>")
    };
    let label = |sublabel: Option<&str>| {
        let sublabels = sublabel
            .map(|name| format!("<sublabels><label id=\"7\">{name}</label></sublabels>"))
            .unwrap_or_default();
        format!("<label><id>5</id><name>Five</name>{sublabels}</label>")
    };
    let master = "<master id=\"50\"><title>M</title><artists><artist><id>9</id><name>Nine on a master</name></artist></artists></master>".to_owned();
    let release = "<release id=\"100\" status=\"Accepted\"><title>R</title><artists><artist><id>9</id><name>Nine on a release</name></artist></artists><labels><label name=\"Seven\" catno=\"X\" id=\"7\"/></labels></release>".to_owned();
    let months = [
        (
            "20210101",
            vec![
                artist(1, "One", Some("Nine by one")),
                artist(2, "Two", Some("Alias Nine")),
            ],
            label(Some("Seven by five")),
            (Some("Nine by one"), Some("Seven by five")),
        ),
        (
            "20210201",
            // Artist 1, still the first referrer, no longer names 9: the next one does.
            vec![
                artist(1, "One", Some("")),
                artist(2, "Two", Some("Alias Nine")),
            ],
            label(None),
            (Some("Alias Nine"), Some("Seven")),
        ),
        (
            "20210215",
            // Artist 1 names 9 again, with nothing else changed: it comes first.
            vec![
                artist(1, "One", Some("Nine again")),
                artist(2, "Two", Some("Alias Nine")),
            ],
            label(None),
            (Some("Nine again"), Some("Seven")),
        ),
        (
            "20210301",
            vec![
                artist(1, "One", None),
                artist(2, "Two", Some("Alias Nine")),
                artist(9, "Real Nine", None),
            ],
            label(None),
            (None, Some("Seven")),
        ),
        (
            "20210401",
            vec![artist(1, "One", None), artist(2, "Two", None)],
            label(None),
            (Some("Nine on a master"), Some("Seven")),
        ),
    ];
    let mut dirs = Vec::new();
    for (version, artists, label, _) in &months {
        let dir = temp_dir(&format!("stub-names-{version}"));
        for (kind, lines) in [
            (Kind::Artists, artists.clone()),
            (Kind::Labels, vec![label.clone()]),
            (Kind::Masters, vec![master.clone()]),
            (Kind::Releases, vec![release.clone()]),
        ] {
            write_dump_file(
                &dir.join(format!("discogs_{version}_{kind}.xml.gz")),
                kind,
                &lines,
            );
        }
        write_checksums(&dir, version);
        dirs.push(dir);
    }
    let name_of = async |graph: &neo4rs::Graph, node: &str| -> (Option<String>, bool) {
        let mut rows = graph
            .execute(query(&format!(
                "MATCH (n:{node}) RETURN n.name AS name, n.named_by IS NOT NULL AS stub"
            )))
            .await
            .unwrap();
        let row = rows.next().await.unwrap().unwrap();
        (row.get("name").ok(), row.get("stub").unwrap())
    };

    let mut fresh_loads = Vec::new();
    for dir in &dirs {
        let fresh = fresh_database("test_stub_names_fresh").await;
        let graph = fresh_graph(&fresh).await.graph;
        ingest_dir(&fresh, dir, true).await.unwrap();
        fresh_loads.push(graph_snapshot(&graph).await);
    }
    let monthly = fresh_database("test_stub_names_monthly").await;
    let graph = fresh_graph(&monthly).await.graph;
    for ((dir, fresh), (version, _, _, (artist_9, label_7))) in
        dirs.iter().zip(&fresh_loads).zip(&months)
    {
        ingest_dir(&monthly, dir, true).await.unwrap();
        let expected_9 = artist_9.unwrap_or("Real Nine");
        assert_eq!(
            name_of(&graph, "Artist {id: 9}").await,
            (Some(expected_9.to_owned()), artist_9.is_some()),
            "artist 9 in {version}"
        );
        assert_eq!(
            name_of(&graph, "Label {id: 7}").await,
            (label_7.map(str::to_owned), true),
            "label 7 in {version}"
        );
        assert_same_graph(
            (
                &format!("{version} month by month"),
                &graph_snapshot(&graph).await,
            ),
            (&format!("{version} loaded fresh"), fresh),
        );
    }
    for dir in dirs {
        std::fs::remove_dir_all(dir).unwrap();
    }
}
