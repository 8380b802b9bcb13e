//! `GET /api/path`: the shortest chain of credits, labels, genres, aliases, memberships and
//! masters between two named entities.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use neo4rs::query;
use serde::{Deserialize, Serialize};

use super::entity::{self, NodeType};
use super::params::{Choice, Params};
use super::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/path", get(path))
}

/// Deepest search allowed: every further hop multiplies the nodes a failing search visits.
const MAX_DEPTH: i64 = 10;

#[derive(Serialize)]
struct PathAnswer {
    found: bool,
    length: Option<usize>,
    path: Vec<Step>,
}

#[derive(Serialize, Deserialize)]
struct Step {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    /// The relationship that leads to this node; none for the first.
    rel: Option<String>,
}

#[derive(Deserialize)]
struct Row {
    nodes: Vec<Step>,
    rels: Vec<String>,
}

async fn path(State(state): State<AppState>, params: Params) -> Result<Response, ApiError> {
    let from_name = params.required_text("from_name")?;
    let from_type = params.choice("from_type", NodeType::NAMED, Some(NodeType::Artist))?;
    let to_name = params.required_text("to_name")?;
    let to_type = params.choice("to_type", NodeType::NAMED, Some(NodeType::Artist))?;
    let max_depth = params.int("max_depth", 1..=MAX_DEPTH)?.unwrap_or(6);
    let exclude_hubs = params.flag("exclude_hubs", false)?;
    let key = format!(
        "{}|{}|{max_depth}|{exclude_hubs}|{}|{from_name}|{to_name}",
        from_type.name(),
        to_type.name(),
        from_name.len()
    );
    let neo4j = state.neo4j.clone();
    let compute = async move {
        let (from, to) = tokio::try_join!(
            entity::find_by_name(&neo4j, from_type, &from_name),
            entity::find_by_name(&neo4j, to_type, &to_name)
        )?;
        if from.element_id == to.element_id {
            return Ok(PathAnswer {
                found: true,
                length: Some(0),
                path: vec![Step {
                    id: from.id,
                    name: from.name,
                    kind: from_type.name().to_owned(),
                    rel: None,
                }],
            });
        }
        let row: Option<Row> = neo4j
            .row(
                query(&shortest_path_query(
                    max_depth,
                    hubs(exclude_hubs, [from_type, to_type]),
                ))
                .param("from", from.element_id.as_str())
                .param("to", to.element_id.as_str()),
            )
            .await?;
        Ok(match row {
            Some(Row { nodes, rels }) => {
                let mut path = nodes;
                for (step, rel) in path.iter_mut().skip(1).zip(rels) {
                    step.rel = Some(rel);
                }
                PathAnswer {
                    found: true,
                    length: Some(path.len().saturating_sub(1)),
                    path,
                }
            }
            None => PathAnswer {
                found: false,
                length: None,
                path: Vec::new(),
            },
        })
    };
    state.cache.get_or_compute("path", key, compute).await
}

/// What a path may pass through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hubs {
    Allowed,
    /// Genres and styles kept out of the path's interior: only `IS` reaches them, so a path
    /// between two other nodes simply leaves that relationship out, and the search never
    /// enters a genre's millions of releases.
    NoIs,
    /// As above, with a genre or style at an end, which `IS` must reach: every node of a
    /// path found is checked instead.
    Checked,
}

fn hubs(exclude: bool, ends: [NodeType; 2]) -> Hubs {
    let tag = |end: &NodeType| matches!(end, NodeType::Genre | NodeType::Style);
    match (exclude, ends.iter().any(tag)) {
        (false, _) => Hubs::Allowed,
        (true, false) => Hubs::NoIs,
        (true, true) => Hubs::Checked,
    }
}

/// Cypher cannot take a variable-length bound as a parameter, so the validated depth (an integer
/// in `1..=MAX_DEPTH`) is written into the text; nothing a client sends is.
fn shortest_path_query(max_depth: i64, hubs: Hubs) -> String {
    let (types, filter) = match hubs {
        Hubs::Allowed => ("BY|ON|IS|ALIAS_OF|MEMBER_OF|DERIVED_FROM", ""),
        Hubs::NoIs => ("BY|ON|ALIAS_OF|MEMBER_OF|DERIVED_FROM", ""),
        Hubs::Checked => (
            "BY|ON|IS|ALIAS_OF|MEMBER_OF|DERIVED_FROM",
            "WHERE all(n IN nodes(p) WHERE n = a OR n = b OR NOT (n:Genre OR n:Style))",
        ),
    };
    format!(
        "MATCH (a) WHERE elementId(a) = $from
         MATCH (b) WHERE elementId(b) = $to
         MATCH p = shortestPath((a)-[:{types}*..{max_depth}]-(b))
         {filter}
         RETURN [n IN nodes(p) | {{id: coalesce(toString(n.id), n.name),
                                  name: coalesce(n.name, n.title, ''),
                                  `type`: toLower(labels(n)[0]), rel: null}}] AS nodes,
                [r IN relationships(p) | type(r)] AS rels"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hubs_are_left_out_by_relationship_unless_an_end_is_a_genre_or_style() {
        use NodeType::{Artist, Genre, Label, Style};
        let cases = [
            (false, [Artist, Genre], Hubs::Allowed),
            (false, [Artist, Label], Hubs::Allowed),
            (true, [Artist, Label], Hubs::NoIs),
            (true, [Label, Artist], Hubs::NoIs),
            (true, [Artist, Genre], Hubs::Checked),
            (true, [Style, Label], Hubs::Checked),
        ];
        for (exclude, ends, expected) in cases {
            assert_eq!(hubs(exclude, ends), expected, "{exclude} {ends:?}");
        }
        let without = shortest_path_query(8, Hubs::NoIs);
        assert!(without.contains("[:BY|ON|ALIAS_OF|MEMBER_OF|DERIVED_FROM*..8]"));
        assert!(!without.contains("all(n IN nodes(p)"));
        let checked = shortest_path_query(8, Hubs::Checked);
        assert!(checked.contains("[:BY|ON|IS|ALIAS_OF|MEMBER_OF|DERIVED_FROM*..8]"));
        assert!(checked.contains("NOT (n:Genre OR n:Style)"));
    }
}
