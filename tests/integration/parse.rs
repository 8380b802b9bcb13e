//! The extractor over the real Discogs excerpts in tests/fixtures and over dirty input.

use std::path::Path;

use crate::util::fixture;

use discogs::extract::{ExtractError, Extractor, Options, Skipped};
use discogs::record::Kind;
use serde_json::{Value, json};

/// The top-level keys of a JSON object in the order the bytes have them.
fn key_order(json: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    serde::Deserializer::deserialize_map(&mut deserializer, KeyCollector(&mut keys)).unwrap();
    keys
}

struct KeyCollector<'k>(&'k mut Vec<String>);

impl<'de> serde::de::Visitor<'de> for KeyCollector<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            map.next_value::<serde::de::IgnoredAny>()?;
            self.0.push(key);
        }
        Ok(())
    }
}

/// The canonical JSON bytes of record `id` in a file.
fn raw_record(path: &str, id: i64) -> Vec<u8> {
    let mut extractor = Extractor::open(&fixture(path), &Options::default()).unwrap();
    while let Some(batch) = extractor.next_batch().unwrap() {
        if let Some(record) = batch.records.into_iter().find(|r| r.id == id) {
            return record.json;
        }
    }
    panic!("{id} not in {path}")
}

/// One record as (id, hex hash, JSON value).
type Row = (i64, String, Value);
/// A file's kind, records and skipped records.
type Extracted = (Kind, Vec<Row>, Vec<Skipped>);

/// Every record of a file as (id, hex hash, JSON value), plus what was skipped.
fn extract_with(path: &Path, threads: usize) -> Result<Extracted, ExtractError> {
    let mut extractor = Extractor::open(
        path,
        &Options {
            threads,
            ..Options::default()
        },
    )?;
    let (mut records, mut skipped) = (Vec::new(), Vec::new());
    while let Some(batch) = extractor.next_batch()? {
        for record in batch.records {
            let value: Value = serde_json::from_slice(&record.json).unwrap();
            records.push((record.id, hex::encode(record.hash), value));
        }
        skipped.extend(batch.skipped);
    }
    Ok((extractor.kind(), records, skipped))
}

fn records_of(path: &str) -> Vec<Row> {
    let (_, records, skipped) = extract_with(&fixture(path), 2).unwrap();
    assert_eq!(skipped, [], "{path} parses cleanly");
    records
}

fn record(path: &str, id: i64) -> Value {
    records_of(path)
        .into_iter()
        .find(|(found, _, _)| *found == id)
        .unwrap_or_else(|| panic!("{id} in {path}"))
        .2
}

#[test]
fn every_sample_file_parses_completely() {
    for (path, kind, count) in [
        ("tgmz/discogs_artists.xml.gz", Kind::Artists, 19),
        ("tgmz/discogs_labels.xml.gz", Kind::Labels, 9),
        ("tgmz/discogs_masters.xml.gz", Kind::Masters, 4),
        ("tgmz/discogs_releases.xml.gz", Kind::Releases, 11),
        ("tgmz/discogs_20250101_releases.xml.gz", Kind::Releases, 3),
        ("tgmz/discogs_20250101_r2460568.xml", Kind::Releases, 1),
        (
            "xml2db/discogs_20200806_artists.xml.gz",
            Kind::Artists,
            1000,
        ),
        ("xml2db/discogs_20200806_labels.xml.gz", Kind::Labels, 1000),
        (
            "xml2db/discogs_20200806_masters.xml.gz",
            Kind::Masters,
            1000,
        ),
        (
            "xml2db/discogs_20200806_releases.xml.gz",
            Kind::Releases,
            1000,
        ),
        ("xml2db/artist.xml", Kind::Artists, 1),
        ("xml2db/label.xml", Kind::Labels, 1),
        ("xml2db/master.xml", Kind::Masters, 1),
        ("xml2db/release.xml", Kind::Releases, 1),
    ] {
        let (found, records, skipped) = extract_with(&fixture(path), 2).unwrap();
        assert_eq!(
            (found, records.len(), skipped.len()),
            (kind, count, 0),
            "{path}"
        );
        for (id, _, value) in &records {
            assert_eq!(
                value["id"],
                json!(id),
                "{path}: ids are integers and come first"
            );
            assert!(value.get("images").is_none(), "{path}: images are dropped");
        }
    }
}

#[test]
fn artist_references_and_text() {
    let jay = record("tgmz/discogs_artists.xml.gz", 32);
    assert_eq!(jay["name"], "Jay Denes");
    assert_eq!(
        jay["aliases"],
        json!([{"id": 33, "name": "Blue Six"}, {"id": 4709, "name": "Naked Music NYC"}, {"id": 84942, "name": "Thump'N'Johnson"}])
    );
    assert_eq!(
        jay["groups"],
        json!([{"id": 36, "name": "Lovetronic"}, {"id": 668, "name": "Summerland"}])
    );
    assert_eq!(jay["namevariations"][0], "Denes");
    assert!(jay["profile"].as_str().unwrap().starts_with(
        "Producer, songwriter and multi-instrumentalist from New York.\r\nCo-founded"
    ));
    assert_eq!(
        key_order(&raw_record("tgmz/discogs_artists.xml.gz", 32)),
        [
            "id",
            "name",
            "profile",
            "data_quality",
            "urls",
            "namevariations",
            "aliases",
            "groups"
        ]
    );

    let depeche = record("tgmz/discogs_artists.xml.gz", 2725);
    let members: Vec<i64> = depeche["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    assert_eq!(members, [25411, 26847, 27158, 132774, 670251]);

    // 2020 format: <members> holds <id> elements beside the <name id=…> ones; no duplicates.
    let duo = record("xml2db/discogs_20200806_artists.xml.gz", 2);
    assert_eq!(duo["name"], "Mr. James Barth & A.D.");
    assert_eq!(
        duo["members"],
        json!([{"id": 26, "name": "Alexi Delano"}, {"id": 27, "name": "Cari Lekebusch"}])
    );
}

#[test]
fn label_parent_and_sublabels() {
    let kinetic = record("tgmz/discogs_labels.xml.gz", 240);
    assert_eq!(
        kinetic["parent_label"],
        json!({"id": 157, "name": "Reprise Records"})
    );
    assert_eq!(
        kinetic["sublabels"],
        json!([{"id": 3241979, "name": "Kinetic (7)"}])
    );
    let reprise = record("tgmz/discogs_labels.xml.gz", 157);
    assert!(
        reprise["contactinfo"]
            .as_str()
            .unwrap()
            .starts_with("8380 Melrose Avenue\r\nHollywood 46 California\r\n")
    );
}

#[test]
fn master_fields() {
    let violator = record("tgmz/discogs_masters.xml.gz", 18080);
    assert_eq!(violator["main_release"], 46905);
    assert_eq!(violator["year"], 1990);
    assert_eq!(violator["title"], "Violator");
    assert_eq!(
        violator["artists"],
        json!([{"id": 2725, "name": "Depeche Mode", "join": ","}])
    );
    assert_eq!(violator["genres"], json!(["Electronic"]));
    assert_eq!(violator["notes"], "new version");
    let video = &violator["videos"][0];
    assert_eq!(video["src"], "https://www.youtube.com/watch?v=h1mD-_DKHc0");
    assert_eq!(
        (video["duration"].as_i64(), video["embed"].as_bool()),
        (Some(356), Some(true))
    );
    assert_eq!(video["title"], "Depeche Mode - Clean (Official Video)");
}

#[test]
fn release_fields_tracks_and_subtracks() {
    let memories = record("tgmz/discogs_20250101_r2460568.xml", 2460568);
    assert_eq!(memories["status"], "Accepted");
    assert_eq!(memories["title"], "Memories - The '68 Comeback Special");
    assert_eq!(
        memories["labels"],
        json!([{"id": 895, "name": "RCA", "catno": "07863 67612 2"}, {"id": 1003, "name": "BMG", "catno": "07863 67612 2"}])
    );
    assert_eq!(
        memories["extraartists"][0],
        json!({"id": 1274715, "name": "Peacock", "role": "Artwork, Layout, Design"})
    );
    assert_eq!(
        memories["formats"],
        json!([{"name": "CD", "qty": "2", "descriptions": ["Compilation", "Remastered"]}])
    );
    assert_eq!(memories["styles"], json!(["Rock & Roll", "Pop Rock"]));
    assert_eq!(
        (memories["released"].as_str(), memories["year"].as_i64()),
        (Some("1998"), Some(1998))
    );
    assert_eq!(
        (
            memories["master_id"].as_i64(),
            memories["is_main_release"].as_bool()
        ),
        (Some(633895), Some(false))
    );
    let medley = memories["tracklist"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["title"] == "Gospel Medley")
        .unwrap();
    assert!(medley.get("position").is_none(), "empty position omitted");
    assert_eq!(medley["duration"], "9:00");
    let positions: Vec<&str> = medley["sub_tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["position"].as_str().unwrap())
        .collect();
    assert_eq!(positions, ["1-12a", "1-12b", "1-12c", "1-12d"]);
    assert_eq!(
        key_order(&raw_record("tgmz/discogs_20250101_r2460568.xml", 2460568)),
        [
            "id",
            "status",
            "title",
            "artists",
            "extraartists",
            "labels",
            "formats",
            "genres",
            "styles",
            "country",
            "released",
            "year",
            "notes",
            "data_quality",
            "master_id",
            "is_main_release",
            "tracklist",
            "identifiers",
            "companies"
        ]
    );

    // master_id 0 means "no master": both fields are omitted.
    let various = record("tgmz/discogs_releases.xml.gz", 527839);
    assert!(various.get("master_id").is_none() && various.get("is_main_release").is_none());
    assert_eq!(various["artists"][0], json!({"id": 194, "name": "Various"}));

    let polydistortion = record("tgmz/discogs_releases.xml.gz", 2323);
    let borg = polydistortion["extraartists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == 293293)
        .unwrap();
    assert_eq!(borg["name"], "Páll Borg", "unicode kept");
    assert!(borg.get("join").is_none(), "extra artists carry no join");
}

#[test]
fn release_identifiers_companies_series_2020_format() {
    let franklins = record("tgmz/discogs_releases.xml.gz", 10526741);
    assert_eq!(
        franklins["series"],
        json!([{"id": 1276553, "name": "Various Franklins", "catno": "2"}])
    );
    let releases = records_of("xml2db/discogs_20200806_releases.xml.gz");
    let first = &releases[0].2;
    assert_eq!(first["id"], 1);
    assert_eq!(first["status"], "Accepted");
    let company = &first["companies"][0];
    assert!(
        company["entity_type"].is_i64() && company["entity_type_name"].is_string(),
        "{company}"
    );
    assert!(company.get("resource_url").is_none());
    assert!(releases.iter().any(|(_, _, r)| {
        r["identifiers"]
            .as_array()
            .is_some_and(|ids| ids.iter().any(|i| i.get("description").is_some()))
    }));
}

#[test]
fn the_same_record_hashes_the_same_in_different_files() {
    let plain = records_of("tgmz/discogs_20250101_r2460568.xml");
    let gzipped = records_of("tgmz/discogs_20250101_releases.xml.gz");
    let in_dump = gzipped.iter().find(|(id, _, _)| *id == 2460568).unwrap();
    assert_eq!(plain[0].1, in_dump.1);
    assert_eq!(
        plain[0].1,
        "de80810b703d841803ec825479de799df2895a7198f63b93bc0a7cbd2547734c"
    );

    // A pretty-printed single-record file and the compact 1,000-record dump.
    let single = records_of("xml2db/master.xml");
    let dump = records_of("xml2db/discogs_20200806_masters.xml.gz");
    assert_eq!(
        single[0].1,
        dump.iter().find(|(id, _, _)| *id == 122).unwrap().1
    );
}

#[test]
fn parallel_and_sequential_extraction_agree() {
    let path = fixture("xml2db/discogs_20200806_releases.xml.gz");
    let sequential = extract_with(&path, 0).unwrap();
    for threads in [1, 3] {
        let parallel = extract_with(&path, threads).unwrap();
        assert_eq!(parallel.1, sequential.1, "{threads} threads");
    }
}

#[test]
fn dirty_records_are_skipped_and_reported_and_the_rest_parse() {
    let (kind, records, skipped) =
        extract_with(&fixture("dirty/discogs_20250101_labels.xml"), 2).unwrap();
    assert_eq!(kind, Kind::Labels);
    let by_id = |id: i64| {
        records
            .iter()
            .find(|(found, _, _)| *found == id)
            .unwrap()
            .2
            .clone()
    };
    assert_eq!(
        records.iter().map(|r| r.0).collect::<Vec<_>>(),
        [1, 2, 5, 7]
    );
    assert_eq!(
        by_id(1)["parent_label"],
        json!({"id": 212}),
        "empty <parentLabel id=…/>"
    );
    assert_eq!(
        by_id(2)["name"],
        "\u{a0}",
        "a lone no-break space is a name"
    );
    assert_eq!(by_id(2)["profile"], "line one\r\nline two");
    assert_eq!(by_id(5)["urls"], json!(["http://e.example/?a=1&b=2"]));
    assert_eq!(by_id(7)["name"], "Tom & Jerry <live>");
    assert_eq!(by_id(7)["sublabels"], json!([{"id": 8, "name": "Eight"}]));
    let reported: Vec<(u64, &str)> = skipped
        .iter()
        .map(|s| (s.ordinal, s.reason.as_str()))
        .collect();
    assert_eq!(
        reported,
        [
            (3, "id is not an integer: \"x3\""),
            (4, "closing tag </label> does not match <profile>"),
            (6, "record has no id"),
        ]
    );
    assert_eq!(skipped[0].offset, 204, "byte offset of the third <label>");
}

#[test]
fn too_many_bad_records_abandon_the_file() {
    let path = fixture("dirty/discogs_20250101_labels.xml");
    let mut extractor = Extractor::open(
        &path,
        &Options {
            max_errors: 2,
            ..Options::default()
        },
    )
    .unwrap();
    let error = loop {
        match extractor.next_batch() {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("expected TooManyErrors"),
            Err(error) => break error,
        }
    };
    let message = error.to_string();
    assert!(
        message.contains("discogs_20250101_labels.xml: giving up after 3 unparseable records"),
        "{message}"
    );
}

#[test]
fn unreadable_files_fail_with_a_clear_error() {
    let dir = std::env::temp_dir().join(format!("discogs-parse-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let gz = std::fs::read(fixture("tgmz/discogs_releases.xml.gz")).unwrap();
    let truncated = dir.join("discogs_20250101_releases.xml.gz");
    std::fs::write(&truncated, &gz[..gz.len() / 2]).unwrap();
    let message = extract_with(&truncated, 2).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!("{}: read failed at XML byte", truncated.display())),
        "{message}"
    );

    let corrupt = dir.join("corrupt.xml.gz");
    let mut bytes = gz.clone();
    for byte in &mut bytes[200..400] {
        *byte ^= 0x5a;
    }
    std::fs::write(&corrupt, &bytes).unwrap();
    assert!(matches!(
        extract_with(&corrupt, 2),
        Err(ExtractError::Read { .. })
    ));

    let not_a_dump = dir.join("page.xml");
    std::fs::write(&not_a_dump, "<html><body>hello</body></html>").unwrap();
    let message = extract_with(&not_a_dump, 2).unwrap_err().to_string();
    assert!(message.ends_with("not a Discogs dump: root element is <html>, not <artists>, <labels>, <masters> or <releases>"), "{message}");

    let plain_truncated = dir.join("cut.xml");
    std::fs::write(
        &plain_truncated,
        "<artists>\n<artist><id>1</id><name>A</name></artist>\n<artist><id>2</id>",
    )
    .unwrap();
    let message = extract_with(&plain_truncated, 2).unwrap_err().to_string();
    assert!(
        message.ends_with("file is truncated: it ends at XML byte 70 without </artists>"),
        "{message}"
    );

    let wrong_kind = Extractor::open(
        &fixture("tgmz/discogs_labels.xml.gz"),
        &Options {
            kind: Some(Kind::Artists),
            ..Options::default()
        },
    );
    assert!(matches!(
        wrong_kind,
        Err(ExtractError::WrongKind {
            expected: Kind::Artists,
            found: Kind::Labels,
            ..
        })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dirty_release_fields_follow_the_canonical_rules() {
    let dir = std::env::temp_dir().join(format!("discogs-dirty-release-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let long_title = "T".repeat(10_000);
    let path = dir.join("releases.xml");
    std::fs::write(
        &path,
        format!(
            "<releases>\n<release id=\"9\"><title>{long_title}</title><artists><artist><name>No Id</name><id></id></artist></artists>\
             <extraartists><artist><name>Engineer</name><role>Mastered By</role><join>,</join></artist></extraartists>\
             <master_id is_main_release=\"true\">0</master_id><released>0000-00-00</released><genres><genre></genre></genres></release>\n</releases>\n"
        ),
    )
    .unwrap();
    let (_, records, _) = extract_with(&path, 0).unwrap();
    assert_eq!(
        records[0].2,
        json!({"id": 9, "title": long_title, "artists": [{"name": "No Id"}], "extraartists": [{"name": "Engineer", "role": "Mastered By"}], "released": "0000-00-00"})
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A stub's name is read back from stored JSON when its namer changes (`store::graph::stubs`): that
/// reading must give what the parser's graph facts gave, for every record of every sample.
#[test]
fn names_read_from_the_stored_json_are_the_names_the_facts_carry() {
    use discogs::record::graph::ReferenceNames;
    let mut named = 0;
    for_each_sample_record(|kind, record| {
        let json: Value = serde_json::from_slice(&record.json).unwrap();
        let names = record.graph.names();
        assert_eq!(
            &ReferenceNames::from_json(kind, &json),
            names,
            "{kind} {}",
            record.id
        );
        named += names.artists.len() + names.labels.len();
    });
    assert!(named > 1_000, "the samples name {named} references");
}

/// A stored release's credits are read back from its JSON when the credits table is rebuilt
/// (`store::credits`): that reading must give what the parser's facts gave, for every sample release.
#[test]
fn credits_read_from_the_stored_json_are_the_credits_the_facts_carry() {
    use discogs::record::graph::{GraphFacts, PersonCredit};
    let mut credited = 0;
    for_each_sample_record(|_, record| {
        if let GraphFacts::Release(release) = &record.graph {
            let json: Value = serde_json::from_slice(&record.json).unwrap();
            assert_eq!(
                PersonCredit::from_json(&json),
                release.people,
                "release {}",
                record.id
            );
            credited += release.people.len();
        }
    });
    assert!(credited > 1_000, "the samples credit {credited} people");
}

/// Calls `each` with every record of both samples, in file order.
fn for_each_sample_record(mut each: impl FnMut(Kind, &discogs::record::Canonical)) {
    for sample in ["tgmz/discogs_", "xml2db/discogs_20200806_"] {
        for kind in Kind::ALL {
            let path = format!("{sample}{kind}.xml.gz");
            let mut extractor = Extractor::open(&fixture(&path), &Options::default()).unwrap();
            while let Some(batch) = extractor.next_batch().unwrap() {
                for record in &batch.records {
                    each(kind, record);
                }
            }
        }
    }
}

/// A record whose XML has the raw hash the caller already holds is not parsed; one whose XML
/// changed by a byte is; one holding CDATA (where an end tag could hide) is always parsed.
#[test]
fn records_with_unchanged_xml_are_passed_on_unparsed() {
    use discogs::extract::RawHashes;
    use std::sync::Arc;
    let xml = |third: &str| {
        format!(
            "<labels>\n<label><id>1</id><name>One</name></label>\n<label><id>2</id><name>Two</name></label>\n{third}\n</labels>\n"
        )
    };
    let read = |xml: String, unchanged: Option<Arc<RawHashes>>| {
        let options = Options {
            threads: 0,
            unchanged,
            ..Options::default()
        };
        let mut extractor = Extractor::from_reader(
            Box::new(std::io::Cursor::new(xml)),
            Path::new("x"),
            &options,
        )
        .unwrap();
        let (mut parsed, mut unparsed) = (Vec::new(), Vec::new());
        while let Some(batch) = extractor.next_batch().unwrap() {
            parsed.extend(batch.records);
            unparsed.extend(batch.unchanged);
        }
        (parsed, unparsed)
    };
    let cdata = "<label><id>3</id><name><![CDATA[Three]]></name></label>";
    let (first, none) = read(xml(cdata), None);
    assert!(none.is_empty());
    assert!(first.iter().all(|record| record.raw_hash != 0));
    let known = Arc::new(RawHashes::new(
        first
            .iter()
            .map(|record| (record.id, record.raw_hash))
            .collect(),
    ));

    let (parsed, unparsed) = read(xml(cdata), Some(Arc::clone(&known)));
    let ids: Vec<i64> = parsed.iter().map(|record| record.id).collect();
    assert_eq!(ids, [3], "only the record with CDATA is parsed");
    assert_eq!(
        unparsed,
        [(1, known.get(1).unwrap()), (2, known.get(2).unwrap())]
    );
    assert_eq!(
        parsed[0].raw_hash,
        known.get(3).unwrap(),
        "the same raw hash either way"
    );

    let changed = xml(cdata).replace("<name>Two</name>", "<name>Two!</name>");
    let (parsed, unparsed) = read(changed, Some(known));
    let ids: Vec<i64> = parsed.iter().map(|record| record.id).collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(unparsed.len(), 1);
}

/// The canonical JSON of both samples, hashed: when this changes, the same XML gives another
/// canonical form, and `record::CANONICAL_VERSION` must be raised so that no ingest skips
/// parsing records on the strength of hashes taken under the old form.
#[test]
fn the_canonical_form_changes_only_with_its_version() {
    use sha2::{Digest, Sha256};
    let mut digest = Sha256::new();
    for_each_sample_record(|_, record| digest.update(&record.json));
    let digest = hex::encode(digest.finalize());
    assert_eq!(
        (discogs::record::CANONICAL_VERSION, digest.as_str()),
        (
            1,
            "fd0e1db5eada51407a80e3fc823a3b808ac0897b347eebb98c95890bb3673874"
        ),
        "the canonical form changed: raise CANONICAL_VERSION and record the new digest here"
    );
}
