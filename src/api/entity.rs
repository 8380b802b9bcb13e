//! The graph's node types as the API names them, and finding a node by the name a client gives.

use std::collections::HashMap;

use neo4rs::query;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::params::{Choice, Params};
use crate::store::neo4j::Neo4j;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeType {
    Artist,
    Label,
    Master,
    Release,
    Genre,
    Style,
}

impl NodeType {
    /// The types a client can name an entity of (`explore`, `expand`, `trends`, `path`).
    pub const NAMED: &'static [NodeType] = &[
        NodeType::Artist,
        NodeType::Genre,
        NodeType::Label,
        NodeType::Style,
    ];
    /// Every type, for lookups by key (`node`).
    pub const ALL: &'static [NodeType] = &[
        NodeType::Artist,
        NodeType::Label,
        NodeType::Master,
        NodeType::Release,
        NodeType::Genre,
        NodeType::Style,
    ];

    /// Genres and styles are keyed by name; everything else by a numeric id.
    pub fn keyed_by_name(self) -> bool {
        matches!(self, NodeType::Genre | NodeType::Style)
    }
}

impl Choice for NodeType {
    fn name(self) -> &'static str {
        match self {
            NodeType::Artist => "artist",
            NodeType::Label => "label",
            NodeType::Master => "master",
            NodeType::Release => "release",
            NodeType::Genre => "genre",
            NodeType::Style => "style",
        }
    }
}

impl Serialize for NodeType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

/// The `name` and `type` (default artist) of a request about a named entity.
///
/// # Errors
///
/// A missing name or an unknown type.
pub fn named(params: &Params) -> Result<(String, NodeType), ApiError> {
    Ok((
        params.required_text("name")?,
        params.choice("type", NodeType::NAMED, Some(NodeType::Artist))?,
    ))
}

/// A node a client named: its key as text (a genre's or style's key is its name), its name, and
/// its element id for queries that start from it.
#[derive(Debug, Clone, Deserialize)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub element_id: String,
}

impl Found {
    /// The id of an artist or label, whose key is a number.
    pub fn numeric_id(&self) -> Result<i64, ApiError> {
        self.id.parse().map_err(|_| {
            ApiError::Internal(anyhow::anyhow!("node key {:?} is not a number", self.id))
        })
    }
}

/// The node of type `kind` called `name`, exactly. Discogs disambiguates artist and label names
/// ("Name (2)"), so a clash is rare; when there is one, the node with the most releases wins.
///
/// # Errors
///
/// [`ApiError::NotFound`] when there is none; `kind` must be one of [`NodeType::NAMED`].
pub async fn find_by_name(neo4j: &Neo4j, kind: NodeType, name: &str) -> Result<Found, ApiError> {
    let statement = match kind {
        NodeType::Artist => {
            "MATCH (n:Artist {name: $name})
             RETURN toString(n.id) AS id, n.name AS name, elementId(n) AS element_id
             ORDER BY n.release_count DESC, n.id LIMIT 1"
        }
        NodeType::Label => {
            "MATCH (n:Label {name: $name})
             RETURN toString(n.id) AS id, n.name AS name, elementId(n) AS element_id
             ORDER BY n.release_count DESC, n.id LIMIT 1"
        }
        NodeType::Genre => {
            "MATCH (n:Genre {name: $name})
             RETURN n.name AS id, n.name AS name, elementId(n) AS element_id"
        }
        NodeType::Style => {
            "MATCH (n:Style {name: $name})
             RETURN n.name AS id, n.name AS name, elementId(n) AS element_id"
        }
        NodeType::Master | NodeType::Release => {
            return Err(ApiError::BadParameter {
                parameter: "type",
                reason: "masters and releases are found by id, not by name".to_owned(),
            });
        }
    };
    neo4j
        .row(query(statement).param("name", name))
        .await?
        .ok_or_else(|| not_found(kind, name))
}

/// The 404 for a named entity, worded like the service this one replaces.
pub fn not_found(kind: NodeType, name: &str) -> ApiError {
    let kind = kind.name();
    let mut capitalized = kind[..1].to_ascii_uppercase();
    capitalized.push_str(&kind[1..]);
    ApiError::NotFound(format!("{capitalized} '{name}'"))
}

#[derive(Deserialize)]
struct Named {
    id: i64,
    name: Option<String>,
}

/// The names of the artists or labels (`kind`) among `ids` that exist; a node without a name
/// is left out, so no answer carries a null name.
///
/// # Errors
///
/// The query failed; `kind` must be [`NodeType::Artist`] or [`NodeType::Label`].
pub async fn names(
    neo4j: &Neo4j,
    kind: NodeType,
    ids: &[i64],
) -> Result<HashMap<i64, String>, ApiError> {
    let statement = match kind {
        NodeType::Artist => "MATCH (n:Artist) WHERE n.id IN $ids RETURN n.id AS id, n.name AS name",
        NodeType::Label => "MATCH (n:Label) WHERE n.id IN $ids RETURN n.id AS id, n.name AS name",
        _ => {
            return Err(ApiError::Internal(anyhow::anyhow!(
                "{} nodes are not looked up by id",
                kind.name()
            )));
        }
    };
    let rows: Vec<Named> = neo4j
        .rows(query(statement).param("ids", ids.to_vec()))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| Some((row.id, row.name?)))
        .collect())
}

/// The name of artist or label `id` (`kind`), which must exist.
///
/// # Errors
///
/// [`ApiError::NotFound`] when it does not (or has no name), worded like the service this one
/// replaces; the query failed.
pub async fn name_of(neo4j: &Neo4j, kind: NodeType, id: i64) -> Result<String, ApiError> {
    names(neo4j, kind, &[id])
        .await?
        .remove(&id)
        .ok_or_else(|| not_found(kind, &id.to_string()))
}
