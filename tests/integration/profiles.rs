//! Label DNA, label and artist similarity and the collaboration network on the 2020 sample dump,
//! against values computed independently of the stored profiles: from the records' JSON in
//! PostgreSQL (labels) and from the graph's relationships (artists), with API-ANALYTICS.md's
//! formulas. Called from the catalogue test, on its load of the sample.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Value, json};

use crate::graph_api::{get_json, ok};

pub async fn profile_routes(base: &str, pool: &deadpool_postgres::Pool, graph: &neo4rs::Graph) {
    label_dna(base, pool).await;
    similar_labels(base, pool).await;
    network(base, graph).await;
    estimated_totals(base, pool).await;
    similar_artists(base, graph).await;
    errors(base, pool).await;
}

type Histogram = BTreeMap<String, i64>;

/// Label `id`'s releases per genre, style, format and year, read from the releases' JSON.
struct LabelRecords {
    releases: i64,
    artists: i64,
    genres: Histogram,
    styles: Histogram,
    formats: Histogram,
    years: BTreeMap<i64, i64>,
}

const LABEL_RELEASES: &str = "SELECT data::text FROM releases WHERE data->'labels' @> jsonb_build_array(jsonb_build_object('id', $1::bigint))";

async fn label_records(pool: &deadpool_postgres::Pool, id: i64) -> LabelRecords {
    let client = pool.get().await.unwrap();
    let rows = client.query(LABEL_RELEASES, &[&id]).await.unwrap();
    let mut records = LabelRecords {
        releases: 0,
        artists: 0,
        genres: Histogram::new(),
        styles: Histogram::new(),
        formats: Histogram::new(),
        years: BTreeMap::new(),
    };
    let mut artists = HashSet::new();
    for row in rows {
        let data: Value = serde_json::from_str(row.get(0)).unwrap();
        records.releases += 1;
        for artist in data["artists"].as_array().into_iter().flatten() {
            if let Some(id) = artist["id"].as_i64() {
                artists.insert(id);
            }
        }
        let names = |list: &Value, key: Option<&str>| -> HashSet<String> {
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| match key {
                    Some(key) => item[key].as_str(),
                    None => item.as_str(),
                })
                .map(str::to_owned)
                .collect()
        };
        for (histogram, names) in [
            (&mut records.genres, names(&data["genres"], None)),
            (&mut records.styles, names(&data["styles"], None)),
            (&mut records.formats, names(&data["formats"], Some("name"))),
        ] {
            for name in names {
                *histogram.entry(name).or_default() += 1;
            }
        }
        if let Some(year) = data["year"].as_i64().filter(|&year| year > 0) {
            *records.years.entry(year).or_default() += 1;
        }
    }
    records.artists = artists.len() as i64;
    records
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// A histogram as the route lists it: count descending, then name, with percentages of the
/// list's total.
fn shares(histogram: &Histogram) -> Value {
    let total: i64 = histogram.values().sum();
    let mut entries: Vec<(&String, &i64)> = histogram.iter().collect();
    entries.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    entries
        .into_iter()
        .map(|(name, &count)| {
            json!({"name": name, "count": count,
                   "percentage": round(count as f64 * 100.0 / total as f64, 1)})
        })
        .collect()
}

async fn label_dna(base: &str, pool: &deadpool_postgres::Pool) {
    // Svek (5): seven releases of 1998–1999, all Electronic on vinyl; Not On Label (1818): the
    // sample's biggest label, 21 releases over four decades and six genres.
    for (id, name) in [(5, "Svek"), (1818, "Not On Label")] {
        let records = label_records(pool, id).await;
        let mut decades: BTreeMap<i64, i64> = BTreeMap::new();
        for (year, count) in &records.years {
            *decades.entry(year / 10 * 10).or_default() += count;
        }
        let dated: i64 = decades.values().sum();
        let peak = decades
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(decade, _)| *decade);
        let expected = json!({
            "label_id": id.to_string(),
            "label_name": name,
            "release_count": records.releases,
            "artist_count": records.artists,
            "artist_diversity": round((records.artists as f64 / records.releases as f64).min(1.0), 4),
            "active_years": records.years.keys().collect::<Vec<_>>(),
            "peak_decade": peak,
            "prolificacy": round(records.releases as f64 / records.years.len() as f64, 2),
            "genres": shares(&records.genres),
            "styles": shares(&records.styles),
            "formats": shares(&records.formats),
            "decades": decades.iter().map(|(decade, &count)| json!({
                "decade": decade, "count": count,
                "percentage": round(count as f64 * 100.0 / dated as f64, 1),
            })).collect::<Vec<_>>(),
        });
        let dna = ok(base, &format!("/api/label/{id}/dna")).await;
        assert_eq!(dna, expected);
    }
    let svek = ok(base, "/api/label/5/dna").await;
    assert_eq!(svek["release_count"], 7);
    assert_eq!(
        svek["genres"],
        json!([{"name": "Electronic", "count": 7, "percentage": 100.0}])
    );
    assert_eq!(svek["peak_decade"], 1990);
    assert_eq!(
        (&svek["styles"][0]["name"], &svek["styles"][0]["count"]),
        (&json!("Tech House"), &json!(5))
    );
    let big = ok(base, "/api/label/1818/dna").await;
    assert_eq!(
        (&big["release_count"], &big["artist_count"]),
        (&json!(21), &json!(20))
    );
    assert_eq!(
        (&big["genres"][0]["name"], &big["genres"][0]["percentage"]),
        (&json!("Rock"), &json!(53.3))
    );
    assert_eq!(big["peak_decade"], 2010);

    // Compare: the DNAs in the order asked, repeats allowed.
    let compared = ok(base, "/api/label/dna/compare?ids=1818,%205,,1818").await;
    let labels = compared["labels"].as_array().unwrap();
    assert_eq!(labels.len(), 3);
    assert_eq!(labels[0]["dna"], big);
    assert_eq!(labels[1]["dna"], svek);
    assert_eq!(labels[2]["dna"], big);
}

fn cosine<K: Ord>(a: &BTreeMap<K, i64>, b: &BTreeMap<K, i64>) -> f64 {
    let norm = |h: &BTreeMap<K, i64>| h.values().map(|&v| (v * v) as f64).sum::<f64>().sqrt();
    let dot: i64 = a
        .iter()
        .filter_map(|(key, x)| b.get(key).map(|y| x * y))
        .sum();
    if norm(a) == 0.0 || norm(b) == 0.0 {
        0.0
    } else {
        dot as f64 / (norm(a) * norm(b))
    }
}

/// The top `n` keys of a histogram by count, then key.
fn top<K: Ord + Clone>(histogram: &BTreeMap<K, i64>, n: usize) -> Vec<K> {
    let mut entries: Vec<(&K, &i64)> = histogram.iter().collect();
    entries.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    entries
        .into_iter()
        .take(n)
        .map(|(k, _)| k.clone())
        .collect()
}

async fn similar_labels(base: &str, pool: &deadpool_postgres::Pool) {
    // Every label's style and genre counts, from the releases' JSON.
    let client = pool.get().await.unwrap();
    let rows = client
        .query(
            "SELECT (l->>'id')::bigint, r.data::text FROM releases r, jsonb_array_elements(r.data->'labels') l
             WHERE l->>'id' IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    let mut releases: HashMap<i64, HashMap<i64, Value>> = HashMap::new();
    for row in rows {
        let data: Value = serde_json::from_str(row.get(1)).unwrap();
        let release = data["id"].as_i64().unwrap();
        releases
            .entry(row.get(0))
            .or_default()
            .insert(release, data);
    }
    let histogram = |label: i64, key: &str| -> Histogram {
        let mut counts = Histogram::new();
        for data in releases.get(&label).into_iter().flat_map(HashMap::values) {
            let names: HashSet<&str> = data[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for name in names {
                *counts.entry(name.to_owned()).or_default() += 1;
            }
        }
        counts
    };
    let target = 5;
    let styles = top(&histogram(target, "styles"), 5);
    let mut candidates: Vec<(i64, i64)> = releases
        .keys()
        .filter(|&&label| label != target)
        .map(|&label| {
            let counts = histogram(label, "styles");
            (label, styles.iter().filter_map(|s| counts.get(s)).sum())
        })
        .filter(|&(_, sum)| sum >= 5)
        .collect();
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    candidates.truncate(100);
    let genres = histogram(target, "genres");
    let mut expected: Vec<(String, f64, i64)> = candidates
        .iter()
        .map(|&(label, _)| {
            let score = round(cosine(&genres, &histogram(label, "genres")), 4);
            (label.to_string(), score, releases[&label].len() as i64)
        })
        .filter(|(_, score, _)| *score > 0.0)
        .collect();
    expected.sort_by(|a, b| {
        b.1.total_cmp(&a.1)
            .then(a.0.parse::<i64>().unwrap().cmp(&b.0.parse().unwrap()))
    });
    assert!(expected.len() >= 3, "the sample has labels like Svek's");

    let similar = ok(base, "/api/label/5/similar?limit=50").await;
    assert_eq!(similar["label_name"], "Svek");
    let answered: Vec<(String, f64, i64)> = similar["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["label_id"].as_str().unwrap().to_owned(),
                s["similarity"].as_f64().unwrap(),
                s["release_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(answered, expected);
    assert_eq!(
        similar["similar"][0]["shared_genres"],
        json!(["Electronic"])
    );
    let two = ok(base, "/api/label/5/similar?limit=2").await;
    assert_eq!(two["similar"].as_array().unwrap().len(), 2);
    assert_eq!(two["similar"][0], similar["similar"][0]);
}

/// The (`k`, `n`) rows of `statement` about node `id`.
async fn cypher_pairs<K: serde::de::DeserializeOwned>(
    graph: &neo4rs::Graph,
    statement: &str,
    id: i64,
) -> Vec<(K, i64)> {
    let mut rows = graph
        .execute(neo4rs::query(statement).param("id", id))
        .await
        .unwrap();
    let mut pairs = Vec::new();
    while let Some(row) = rows.next().await.unwrap() {
        pairs.push((row.get("k").unwrap(), row.get("n").unwrap()));
    }
    pairs
}

async fn cypher_histogram(graph: &neo4rs::Graph, statement: &str, id: i64) -> Histogram {
    cypher_pairs(graph, statement, id)
        .await
        .into_iter()
        .collect()
}

const COLLABORATORS: &str = "MATCH (:Artist {id: $id})<-[:BY]-(r:Release)-[:BY]->(b:Artist)
    WHERE b.id <> $id RETURN b.id AS k, count(DISTINCT r) AS n";

/// Johann Sebastian Bach (95537): on six compilations with 25 other composers and performers.
async fn network(base: &str, graph: &neo4rs::Graph) {
    let bach = 95537;
    let direct: HashMap<i64, i64> = cypher_pairs(graph, COLLABORATORS, bach)
        .await
        .into_iter()
        .collect();
    assert_eq!(direct.len(), 25);
    let mut second: HashMap<i64, i64> = HashMap::new();
    for &via in direct.keys() {
        for (other, _) in cypher_pairs(graph, COLLABORATORS, via).await {
            if other != bach && !direct.contains_key(&other) {
                *second.entry(other).or_default() += 1;
            }
        }
    }
    let mut expected: Vec<(i64, i64, i64)> = direct
        .iter()
        .map(|(&id, &n)| (id, 1, n))
        .chain(second.iter().map(|(&id, &n)| (id, 2, n)))
        .collect();
    expected.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));

    let answer = ok(
        base,
        "/api/network/artist/95537/collaborators?depth=2&limit=200",
    )
    .await;
    assert_eq!(answer["artist_name"], "Johann Sebastian Bach");
    assert_eq!(answer["depth"], 2);
    assert_eq!(answer["total"], expected.len());
    assert_eq!(answer["total_is_estimate"], false);
    let answered: Vec<(i64, i64, i64)> = answer["collaborators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["artist_id"].as_str().unwrap().parse().unwrap(),
                c["distance"].as_i64().unwrap(),
                c["collaboration_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(answered, expected);
    let near = ok(
        base,
        "/api/network/artist/95537/collaborators?depth=1&limit=3",
    )
    .await;
    assert_eq!(near["total"], 25);
    assert_eq!(near["collaborators"].as_array().unwrap().len(), 3);
    assert_eq!(near["collaborators"][0], answer["collaborators"][0]);
    // Depth 3 reaches further than depth 2, or finds nothing more.
    let far = ok(
        base,
        "/api/network/artist/95537/collaborators?depth=3&limit=200",
    )
    .await;
    assert!(far["total"].as_u64() >= answer["total"].as_u64());

    let centrality = ok(base, "/api/network/artist/95537/centrality").await;
    let count = |statement: &'static str| count_for(graph, statement, bach);
    let degree = count("MATCH (a:Artist {id: $id})-[r]-() RETURN count(r) AS n").await;
    let shared = count(
        "MATCH (a:Artist {id: $id})<-[:BY]-(r:Release) WHERE COUNT { (r)-[:BY]->(b) WHERE b <> a } > 0
         RETURN count(DISTINCT r) AS n",
    )
    .await;
    assert_eq!(
        centrality["centrality"],
        json!({"degree": degree, "collaborator_count": 25, "collaboration_releases": shared,
               "group_count": 0, "alias_count": 0})
    );
    assert_eq!(shared, 6);
    // An artist in groups and with aliases: The Persuader (1) is Jesper Dahlbäck.
    let persuader = ok(base, "/api/network/artist/1/centrality").await;
    let groups = count_for(
        graph,
        "MATCH (:Artist {id: $id})-[:MEMBER_OF]->(g) RETURN count(g) AS n",
        1,
    )
    .await;
    let aliases = count_for(
        graph,
        "MATCH (:Artist {id: $id})-[:ALIAS_OF]->(g) RETURN count(g) AS n",
        1,
    )
    .await;
    assert_eq!(
        (
            &persuader["centrality"]["group_count"],
            &persuader["centrality"]["alias_count"]
        ),
        (&json!(groups), &json!(aliases))
    );

    // Clusters: the closest collaborators by primary genre (the genre of most of their
    // releases, ties by name).
    let cluster = ok(base, "/api/network/cluster/95537?limit=10").await;
    let mut members: Vec<(i64, i64)> = direct.iter().map(|(&id, &n)| (id, n)).collect();
    members.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    members.truncate(10);
    let mut expected: Vec<(String, Vec<i64>)> = Vec::new();
    for (member, _) in &members {
        let genres = cypher_histogram(
            graph,
            "MATCH (:Artist {id: $id})<-[:BY]-(r:Release)-[:IS]->(g:Genre) RETURN g.name AS k, count(DISTINCT r) AS n",
            *member,
        )
        .await;
        let genre = top(&genres, 1)
            .pop()
            .unwrap_or_else(|| "Unknown".to_owned());
        match expected.iter_mut().find(|(label, _)| *label == genre) {
            Some((_, ids)) => ids.push(*member),
            None => expected.push((genre, vec![*member])),
        }
    }
    expected.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    let answered: Vec<(String, Vec<i64>)> = cluster["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert_eq!(c["size"], c["members"].as_array().unwrap().len());
            (
                c["cluster_label"].as_str().unwrap().to_owned(),
                c["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["artist_id"].as_str().unwrap().parse().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(answered, expected);
    assert_eq!(cluster["total_members"], 10);
    assert_eq!(cluster["total_clusters"], expected.len());
    assert_eq!(cluster["clusters"][0]["cluster_label"], "Classical");
}

/// The one number `statement` returns as `n`.
/// A hop too wide to count has its artists estimated from a sample, and says so. The sample has
/// no such hub, so one is made for the occasion, and taken out again after: 600 artists beside
/// Bach (numbered after the sample's last), each beside a 600th of the sample's artists, so
/// that two hops from Bach reach every artist with releases.
async fn estimated_totals(base: &str, pool: &deadpool_postgres::Pool) {
    let client = pool.get().await.unwrap();
    let real: i64 = client
        .query_one("SELECT count(*) FROM artist_profiles", &[])
        .await
        .unwrap()
        .get(0);
    client
        .batch_execute(
            "CREATE TEMPORARY TABLE made AS
                 SELECT (SELECT max(artist_id) FROM artist_profiles) + i AS id, i
                 FROM generate_series(1, 600) AS i;
             CREATE TEMPORARY TABLE made_pairs AS
                 SELECT 95537 AS a, id AS b FROM made
                 UNION ALL SELECT m.id, p.artist_id FROM made m
                     JOIN artist_profiles p ON p.artist_id % 600 + 1 = m.i AND p.artist_id <> 95537;
             INSERT INTO artist_collaborations (artist_id, other_id, releases)
                 SELECT a, b, 1 FROM made_pairs UNION ALL SELECT b, a, 1 FROM made_pairs;
             INSERT INTO artist_profiles (artist_id, release_count, collaborator_count, collaboration_releases)
                 SELECT id, 1, 2, 1 FROM made;
             ANALYZE artist_profiles",
        )
        .await
        .unwrap();
    let near = ok(
        base,
        "/api/network/artist/95537/collaborators?depth=1&limit=7",
    )
    .await;
    assert_eq!(
        (&near["total"], &near["total_is_estimate"]),
        (&json!(25 + 600), &json!(false))
    );
    let far = ok(
        base,
        "/api/network/artist/95537/collaborators?depth=2&limit=7",
    )
    .await;
    assert_eq!(far["total_is_estimate"], true, "{far}");
    assert_eq!(
        far["collaborators"], near["collaborators"],
        "the page is exact"
    );
    // Beyond the first hop: every other artist with releases.
    let beyond = far["total"].as_i64().unwrap() - (25 + 600);
    let exact = real - 1 - 25;
    assert!(
        (beyond - exact).abs() * 4 < exact,
        "estimated {beyond} artists beyond the first hop, {exact} are: {far}"
    );
    client
        .batch_execute(
            "DELETE FROM artist_collaborations
                 WHERE artist_id IN (SELECT id FROM made) OR other_id IN (SELECT id FROM made);
             DELETE FROM artist_profiles WHERE artist_id IN (SELECT id FROM made);
             DROP TABLE made, made_pairs;
             ANALYZE artist_profiles",
        )
        .await
        .unwrap();
}

async fn count_for(graph: &neo4rs::Graph, statement: &str, id: i64) -> i64 {
    let mut rows = graph
        .execute(neo4rs::query(statement).param("id", id))
        .await
        .unwrap();
    rows.next().await.unwrap().unwrap().get("n").unwrap()
}

/// Similarity compares an artist's 100 commonest labels and collaborators.
const COMMONEST: &str = "ORDER BY n DESC, k LIMIT 100";

/// An artist's four histograms, from the graph.
async fn graph_profile(graph: &neo4rs::Graph, id: i64) -> [BTreeMap<String, i64>; 4] {
    let ids = |pairs: Vec<(i64, i64)>| -> BTreeMap<String, i64> {
        pairs.into_iter().map(|(k, n)| (k.to_string(), n)).collect()
    };
    [
        cypher_histogram(graph, "MATCH (:Artist {id: $id})<-[:BY]-(r:Release)-[:IS]->(g:Genre) RETURN g.name AS k, count(DISTINCT r) AS n", id).await,
        cypher_histogram(graph, "MATCH (:Artist {id: $id})<-[:BY]-(r:Release)-[:IS]->(s:Style) RETURN s.name AS k, count(DISTINCT r) AS n", id).await,
        ids(cypher_pairs(graph, &format!("MATCH (:Artist {{id: $id}})<-[:BY]-(r:Release)-[:ON]->(l:Label) RETURN l.id AS k, count(DISTINCT r) AS n {COMMONEST}"), id).await),
        ids(cypher_pairs(graph, &format!("{COLLABORATORS} {COMMONEST}"), id).await),
    ]
}

async fn similar_artists(base: &str, graph: &neo4rs::Graph) {
    let bach = 95537;
    let target = graph_profile(graph, bach).await;
    // Candidates: each of the target's five commonest genres' 500 artists with most releases
    // in it, by those summed.
    let mut shared: HashMap<i64, i64> = HashMap::new();
    for genre in top(&target[0], 5) {
        let mut rows = graph
            .execute(
                neo4rs::query(
                    "MATCH (:Genre {name: $genre})<-[:IS]-(r:Release)-[:BY]->(a:Artist)
                     WITH a, count(DISTINCT r) AS n ORDER BY n DESC, a.id LIMIT 500
                     RETURN a.id AS k, n",
                )
                .param("genre", genre),
            )
            .await
            .unwrap();
        while let Some(row) = rows.next().await.unwrap() {
            let (artist, n): (i64, i64) = (row.get("k").unwrap(), row.get("n").unwrap());
            if artist != bach {
                *shared.entry(artist).or_default() += n;
            }
        }
    }
    let mut candidates: Vec<(i64, i64)> = shared.into_iter().filter(|&(_, n)| n >= 3).collect();
    candidates.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut expected: Vec<(i64, f64, Vec<f64>, i64)> = Vec::new();
    for &(artist, _) in candidates.iter().take(50) {
        let profile = graph_profile(graph, artist).await;
        let releases = count_for(
            graph,
            "MATCH (:Artist {id: $id})<-[:BY]-(r:Release) RETURN count(DISTINCT r) AS n",
            artist,
        )
        .await;
        if releases < 3 {
            continue;
        }
        let parts: Vec<f64> = (0..4).map(|i| cosine(&target[i], &profile[i])).collect();
        let score: f64 = parts
            .iter()
            .zip([0.35, 0.25, 0.25, 0.15])
            .map(|(p, w)| p * w)
            .sum();
        if round(score, 4) > 0.0 {
            let parts = parts.iter().map(|p| round(*p, 4)).collect();
            expected.push((artist, round(score, 4), parts, releases));
        }
    }
    expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    assert!(!expected.is_empty());

    let similar = ok(base, "/api/recommend/similar/artist/95537?limit=50").await;
    assert_eq!(similar["artist_name"], "Johann Sebastian Bach");
    let answered: Vec<(i64, f64, Vec<f64>, i64)> = similar["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let b = &s["breakdown"];
            (
                s["artist_id"].as_str().unwrap().parse().unwrap(),
                s["similarity"].as_f64().unwrap(),
                ["genre", "style", "label", "collaborator"]
                    .iter()
                    .map(|k| b[k].as_f64().unwrap())
                    .collect(),
                s["release_count"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(answered, expected);
    assert_eq!(similar["similar"][0]["artist_name"], "Franz Schubert");
    assert_eq!(similar["similar"][0]["shared_genres"], json!(["Classical"]));
    assert_eq!(similar["similar"][0]["shared_labels"], json!(["Forlane"]));
    let one = ok(base, "/api/recommend/similar/artist/95537?limit=1").await;
    assert_eq!(one["similar"], json!([similar["similar"][0]]));
}

async fn errors(base: &str, pool: &deadpool_postgres::Pool) {
    let client = pool.get().await.unwrap();
    // A label of the sample with releases, but fewer than five.
    let small: i64 = client
        .query_one(
            "SELECT (l->>'id')::bigint FROM releases r, jsonb_array_elements(r.data->'labels') l
             WHERE l->>'id' IS NOT NULL GROUP BY 1 HAVING count(DISTINCT r.id) = 2 ORDER BY 1 LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    // An artist with a single release.
    let single: i64 = client
        .query_one(
            "SELECT (a->>'id')::bigint FROM releases r, jsonb_array_elements(r.data->'artists') a
             WHERE a->>'id' IS NOT NULL GROUP BY 1 HAVING count(DISTINCT r.id) = 1 ORDER BY 1 LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let cases = [
        (
            "/api/label/99999999/dna".to_owned(),
            404,
            "Label '99999999' not found",
        ),
        (
            "/api/label/99999999/similar".to_owned(),
            404,
            "Label '99999999' not found",
        ),
        (format!("/api/label/{small}/dna"), 422, ""),
        (format!("/api/label/{small}/similar"), 422, ""),
        (
            "/api/label/dna/compare?ids=5,99999999,1".to_owned(),
            404,
            "Label '99999999' not found",
        ),
        (
            format!("/api/label/dna/compare?ids=5,{small},99999999"),
            422,
            "",
        ),
        (
            "/api/label/dna/compare?ids=5".to_owned(),
            400,
            "At least 2 label IDs required",
        ),
        (
            "/api/label/dna/compare?ids=1,2,3,4,5,6".to_owned(),
            400,
            "At most 5 label IDs allowed",
        ),
        ("/api/label/dna/compare?ids=5,abc".to_owned(), 400, ""),
        ("/api/label/dna/compare".to_owned(), 400, ""),
        ("/api/label/abc/dna".to_owned(), 400, ""),
        ("/api/label/5/similar?limit=51".to_owned(), 400, ""),
        (
            "/api/recommend/similar/artist/99999999".to_owned(),
            404,
            "Artist '99999999' not found",
        ),
        (format!("/api/recommend/similar/artist/{single}"), 422, ""),
        (
            "/api/recommend/similar/artist/1?limit=0".to_owned(),
            400,
            "",
        ),
        (
            "/api/network/artist/99999999/collaborators".to_owned(),
            404,
            "Artist '99999999' not found",
        ),
        (
            "/api/network/artist/1/collaborators?depth=4".to_owned(),
            400,
            "",
        ),
        (
            "/api/network/artist/1/collaborators?limit=201".to_owned(),
            400,
            "",
        ),
        (
            "/api/network/artist/99999999/centrality".to_owned(),
            404,
            "",
        ),
        ("/api/network/artist/-1/centrality".to_owned(), 400, ""),
        ("/api/network/cluster/99999999".to_owned(), 404, ""),
        ("/api/network/cluster/1?limit=abc".to_owned(), 400, ""),
    ];
    for (path, status, message) in cases {
        let (answered, body) = get_json(base, &path).await;
        assert_eq!(answered, status, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
        if !message.is_empty() {
            assert!(
                body["error"].as_str().unwrap().contains(message),
                "{path}: {body}"
            );
        }
    }
    let (_, body) = get_json(base, &format!("/api/label/{small}/dna")).await;
    assert_eq!(
        body["error"],
        format!("Label '{small}' has fewer than 5 releases")
    );
    let (_, body) = get_json(base, &format!("/api/recommend/similar/artist/{single}")).await;
    assert_eq!(
        body["error"],
        format!("Artist '{single}' has fewer than 3 releases")
    );
}
