use discogs::store::migrate;
use discogs::store::neo4j::Neo4j;
use discogs::store::postgres;

use crate::pipeline::ingest_dir;
use crate::util::{fixture, fresh_database, fresh_graph, neo4j_lock};

/// The first column of every row `sql` returns.
async fn first_column<T: for<'a> tokio_postgres::types::FromSql<'a>>(
    client: &tokio_postgres::Client,
    sql: &str,
) -> Vec<T> {
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect()
}

async fn two_columns<A, B>(client: &tokio_postgres::Client, sql: &str) -> Vec<(A, B)>
where
    A: for<'a> tokio_postgres::types::FromSql<'a>,
    B: for<'a> tokio_postgres::types::FromSql<'a>,
{
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[tokio::test]
async fn postgres_migrations_apply_once_and_create_the_schema() {
    let config = fresh_database("test_migrate").await;
    let pool = postgres::connect(&config.postgres).await.unwrap();

    assert_eq!(
        migrate::postgres(&pool).await.unwrap(),
        [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23
        ]
    );
    assert_eq!(
        migrate::postgres(&pool).await.unwrap(),
        Vec::<i32>::new(),
        "second run is a no-op"
    );

    let client = pool.get().await.unwrap();
    let tables: Vec<String> = first_column(
        &client,
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' ORDER BY table_name",
    )
    .await;
    assert_eq!(
        tables,
        [
            "aggregate_touched",
            "artist_collaborations",
            "artist_genres",
            "artist_labels",
            "artist_profiles",
            "artist_styles",
            "artists",
            "collaboration_years",
            "credits",
            "credits_delta",
            "credits_pending",
            "facts_journal",
            "genre_styles",
            "ingest_files",
            "ingest_generation",
            "ingest_versions",
            "insight_anniversaries",
            "insight_completeness",
            "insight_label_longevity",
            "insight_log",
            "insight_top_artists",
            "label_genres",
            "label_profiles",
            "label_styles",
            "labels",
            "master_facts",
            "masters",
            "people",
            "person_categories",
            "release_artists",
            "release_facts",
            "release_labels",
            "release_tags",
            "releases",
            "schema_migrations",
            "tag_records",
            "tag_years"
        ]
    );

    let columns: Vec<(String, String)> = two_columns(
        &client,
        "SELECT column_name::text, data_type::text FROM information_schema.columns
         WHERE table_name = 'releases' ORDER BY ordinal_position",
    )
    .await;
    let expected = [
        ("id", "bigint"),
        ("hash", "bytea"),
        ("run_id", "bigint"),
        ("data", "jsonb"),
        ("search", "tsvector"),
        ("year", "integer"),
        ("genres", "ARRAY"),
        ("graph_digests", "bytea"),
    ];
    assert_eq!(columns, expected.map(|(a, b)| (a.to_owned(), b.to_owned())));

    let versions: Vec<i32> = first_column(
        &client,
        "SELECT version FROM schema_migrations ORDER BY version",
    )
    .await;
    assert_eq!(
        versions,
        [
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23
        ]
    );

    let search_indexes: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%_search_idx'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(search_indexes, 4);

    // Record JSON is compressed with lz4 (Debian's server has it).
    let compressions: Vec<String> = first_column(
        &client,
        "SELECT attrelid::regclass::text || ' ' || attcompression::text FROM pg_attribute
         WHERE attname = 'data' AND attrelid IN ('artists'::regclass, 'labels'::regclass,
                                                 'masters'::regclass, 'releases'::regclass)
         ORDER BY 1",
    )
    .await;
    assert_eq!(
        compressions,
        ["artists l", "labels l", "masters l", "releases l"]
    );

    // The generated facet columns follow the record.
    client
        .execute(
            "INSERT INTO releases (id, hash, run_id, data)
             VALUES (1, '\\x00', 1, '{\"id\": 1, \"title\": \"T\", \"genres\": [\"Jazz\", \"Rock\"], \"year\": 1971}')",
            &[],
        )
        .await
        .unwrap();
    let row = client
        .query_one("SELECT year, genres FROM releases WHERE id = 1", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, Option<i32>>(0), Some(1971));
    assert_eq!(row.get::<_, Vec<String>>(1), ["Jazz", "Rock"]);
    // No genres is NULL, an empty list is empty; a year that is not a number is no year. The
    // functions (rewritten by migration 20) give what the old ones gave.
    client
        .execute(
            "INSERT INTO releases (id, hash, run_id, data) VALUES
                 (2, '\\x00', 1, '{\"id\": 2, \"year\": \"1971\"}'),
                 (3, '\\x00', 1, '{\"id\": 3, \"genres\": [], \"year\": 0}'),
                 (4, '\\x00', 1, '{\"id\": 4, \"genres\": [\"Folk, World, & Country\", \"Rock\", \"Rock\"]}')",
            &[],
        )
        .await
        .unwrap();
    let facets: Vec<(Option<i32>, Option<Vec<String>>)> = two_columns(
        &client,
        "SELECT year, genres FROM releases WHERE id > 1 ORDER BY id",
    )
    .await;
    let folk = ["Folk, World, & Country", "Rock", "Rock"].map(str::to_owned);
    assert_eq!(
        facets,
        [
            (None, None),
            (None, Some(vec![])),
            (None, Some(folk.to_vec()))
        ]
    );
    // A master's year is as written in the dump: one out of range is no year, not an error.
    client
        .execute(
            "INSERT INTO masters (id, hash, run_id, data)
             VALUES (1, '\\x00', 1, '{\"id\": 1, \"year\": 3000000000}')",
            &[],
        )
        .await
        .unwrap();
    let year: Option<i32> = client
        .query_one("SELECT year FROM masters WHERE id = 1", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(year, None);
}

/// Every row of the aggregate facts tables as text, each list sorted and deduplicated (what the
/// aggregates read from them).
async fn aggregate_facts(client: &tokio_postgres::Client) -> Vec<String> {
    let set = |column: &str| format!("ARRAY(SELECT DISTINCT x FROM unnest({column}) x ORDER BY 1)");
    let releases = format!(
        "SELECT format('release %s %s %s %s %s %s', id, year, {}, {}, {}, {}) FROM release_facts",
        set("artists"),
        set("labels"),
        set("genres"),
        set("styles")
    );
    let masters = format!(
        "SELECT format('master %s %s %s', id, {}, {}) FROM master_facts",
        set("genres"),
        set("styles")
    );
    let mut lines: Vec<String> = first_column(client, &releases).await;
    lines.extend(first_column::<String>(client, &masters).await);
    lines.sort();
    lines
}

#[tokio::test]
async fn migrations_7_11_13_15_to_19_and_23_give_what_the_ingest_writes() {
    let _guard = neo4j_lock().await;
    let config = fresh_database("test_migrate_facts").await;
    fresh_graph(&config).await;
    ingest_dir(&config, &fixture("xml2db"), false)
        .await
        .unwrap();
    let pool = postgres::connect(&config.postgres).await.unwrap();
    let client = pool.get().await.unwrap();
    let written = aggregate_facts(&client).await;
    assert_eq!(written.len(), 2_000, "1,000 releases and 1,000 masters");

    // The credits' indexes, which a first load builds once the table is full, as migration 13
    // defines them.
    let credit_indexes =
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'credits' ORDER BY indexname";
    let built: Vec<String> = first_column(&client, credit_indexes).await;
    assert_eq!(built.len(), 2, "{built:?}");
    client
        .batch_execute(
            "DROP INDEX credits_by_name;
             DELETE FROM schema_migrations WHERE version = 13",
        )
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [13]);
    assert_eq!(first_column::<String>(&client, credit_indexes).await, built);

    // The pair and genre and style counts an update moves, as the release before migration 19
    // lacked them.
    let counts = "SELECT format('ag %s %s %s', genre, artist_id, releases) FROM artist_genres
                  UNION ALL SELECT format('as %s %s %s', style, artist_id, releases) FROM artist_styles
                  UNION ALL SELECT format('lg %s %s %s', genre, label_id, releases) FROM label_genres
                  UNION ALL SELECT format('ty %s %s %s %s', style, tag, year, releases) FROM tag_years
                  UNION ALL SELECT format('tr %s %s %s %s %s', style, tag, records, artists, labels)
                            FROM tag_records
                  UNION ALL SELECT format('gs %s %s %s %s', genre, style, releases, sole_records)
                            FROM genre_styles
                  ORDER BY 1";
    let counted: Vec<String> = first_column(&client, counts).await;
    for prefix in ["ag ", "as ", "lg ", "ty ", "tr ", "gs "] {
        assert!(
            counted.iter().filter(|row| row.starts_with(prefix)).count() > 10,
            "{prefix}rows in {counted:?}"
        );
    }
    assert!(
        counted
            .iter()
            .any(|row| row.starts_with("gs ") && row.ends_with(" 0")),
        "a genre and style shared by releases with other genres only"
    );
    client
        .batch_execute(
            "DROP TABLE facts_journal, artist_genres, artist_styles, label_genres, tag_years,
                 tag_records, genre_styles;
             DELETE FROM schema_migrations WHERE version = 19",
        )
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [19]);
    assert_eq!(first_column::<String>(&client, counts).await, counted);

    // The release titles, as the release before migration 23 lacked them.
    let titles = "SELECT format('%s %s', id, title) FROM release_facts ORDER BY id";
    let titled: Vec<String> = first_column(&client, titles).await;
    assert_eq!(titled.len(), 1_000);
    assert_eq!(titled[0], "1 Stockholm");
    client
        .batch_execute(
            "ALTER TABLE release_facts DROP COLUMN title;
             DELETE FROM schema_migrations WHERE version = 23",
        )
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [23]);
    assert_eq!(first_column::<String>(&client, titles).await, titled);

    // The artists' collaborators per year, as the release before migration 18 lacked them.
    let collaborations = "SELECT format('%s %s %s %s %s %s %s', artist_id, other_id, releases,
                              first_year, last_year, years, counts)
                          FROM collaboration_years ORDER BY 1";
    let collaborated: Vec<String> = first_column(&client, collaborations).await;
    assert!(
        collaborated.len() > 100,
        "{} collaborations",
        collaborated.len()
    );
    client
        .batch_execute(
            "DROP TABLE collaboration_years; DELETE FROM schema_migrations WHERE version = 18",
        )
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [18]);
    assert_eq!(
        first_column::<String>(&client, collaborations).await,
        collaborated
    );

    // The genre and style pages' table, as the release before migration 15 lacked it.
    let tags =
        "SELECT format('%s %s %s %s', style, tag, year, release_id) FROM release_tags ORDER BY 1";
    let tagged: Vec<String> = first_column(&client, tags).await;
    assert!(tagged.len() > 2_000, "{} release tags", tagged.len());
    client
        .batch_execute("DROP TABLE release_tags; DELETE FROM schema_migrations WHERE version = 15")
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [15]);
    assert_eq!(first_column::<String>(&client, tags).await, tagged);

    // The artists' and labels' release pages, as the release before migration 17 lacked them.
    let pages = "SELECT format('a %s %s %s', artist_id, year, release_id) FROM release_artists
                 UNION ALL SELECT format('l %s %s %s', label_id, year, release_id) FROM release_labels
                 ORDER BY 1";
    let paged: Vec<String> = first_column(&client, pages).await;
    assert!(
        paged.len() > 2_000,
        "{} artist and label pages",
        paged.len()
    );
    client
        .batch_execute(
            "DROP TABLE release_artists, release_labels;
             DELETE FROM schema_migrations WHERE version = 17",
        )
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [17]);
    assert_eq!(first_column::<String>(&client, pages).await, paged);

    // The artists' labels, as the release before migration 16 lacked them.
    let pairs =
        "SELECT format('%s %s %s', artist_id, label_id, releases) FROM artist_labels ORDER BY 1";
    let paired: Vec<String> = first_column(&client, pairs).await;
    assert!(paired.len() > 1_000, "{} artist-label pairs", paired.len());
    client
        .batch_execute("DROP TABLE artist_labels; DELETE FROM schema_migrations WHERE version = 16")
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [16]);
    assert_eq!(first_column::<String>(&client, pairs).await, paired);

    // The release formats, as the release before migration 11 lacked them.
    let formats = "SELECT id, formats FROM release_facts ORDER BY id";
    let rows = client.query(formats, &[]).await.unwrap();
    let ingested: Vec<(i64, Vec<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert!(
        ingested.iter().filter(|(_, f)| f.len() > 1).count() > 10,
        "releases in several formats"
    );
    client
        .batch_execute(
            "ALTER TABLE release_facts DROP COLUMN formats;
             DROP TABLE label_profiles, label_styles, artist_profiles, artist_collaborations;
             DELETE FROM schema_migrations WHERE version = 11",
        )
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [11]);
    let rows = client.query(formats, &[]).await.unwrap();
    let migrated: Vec<(i64, Vec<String>)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(migrated, ingested);

    // The database as the release before migration 7 left it, with the same records.
    client
        .batch_execute(
            "DROP TABLE release_facts, master_facts, aggregate_touched;
             DROP FUNCTION discogs_ids(jsonb);
             DELETE FROM schema_migrations WHERE version = 7",
        )
        .await
        .unwrap();
    assert_eq!(migrate::postgres(&pool).await.unwrap(), [7]);
    assert_eq!(aggregate_facts(&client).await, written);
}

#[tokio::test]
async fn neo4j_constraints_and_indexes_exist_after_migrating_twice() {
    let _guard = neo4j_lock().await;
    let config = crate::util::config_for("discogs");
    let neo4j = Neo4j::connect(&config.neo4j).await.unwrap();
    migrate::neo4j(&neo4j.graph).await.unwrap();
    migrate::neo4j(&neo4j.graph).await.unwrap();

    let mut rows = neo4j
        .graph
        .execute(neo4rs::query(
            "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties RETURN * ORDER BY name",
        ))
        .await
        .unwrap();
    let mut constraints = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        let name: String = row.get("name").unwrap();
        let kind: String = row.get("type").unwrap();
        let labels: Vec<String> = row.get("labelsOrTypes").unwrap();
        let properties: Vec<String> = row.get("properties").unwrap();
        constraints.push(format!(
            "{name} {kind} {}.{}",
            labels.join(","),
            properties.join(",")
        ));
    }
    assert_eq!(
        constraints,
        [
            "artist_id UNIQUENESS Artist.id",
            "genre_name UNIQUENESS Genre.name",
            "label_id UNIQUENESS Label.id",
            "master_id UNIQUENESS Master.id",
            "release_id UNIQUENESS Release.id",
            "schema_migration_version UNIQUENESS SchemaMigration.version",
            "style_name UNIQUENESS Style.name",
        ]
    );

    let mut rows = neo4j
        .graph
        .execute(neo4rs::query(
            "SHOW INDEXES YIELD name, type, owningConstraint WHERE type = 'RANGE' AND owningConstraint IS NULL
             RETURN name ORDER BY name",
        ))
        .await
        .unwrap();
    let mut indexes = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        indexes.push(row.get::<String>("name").unwrap());
    }
    assert_eq!(
        indexes,
        [
            "artist_name",
            "artist_rename",
            "label_name",
            "label_rename",
            "master_year",
            "release_year"
        ]
    );

    let mut rows = neo4j
        .graph
        .execute(neo4rs::query(
            "MATCH (m:SchemaMigration) RETURN count(m) AS n",
        ))
        .await
        .unwrap();
    let count: i64 = rows.next().await.unwrap().unwrap().get("n").unwrap();
    assert_eq!(count, 2, "each applied script is recorded once");
}
