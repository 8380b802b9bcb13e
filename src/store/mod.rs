//! Database access. These modules know SQL and Cypher, not channels or pipeline stages.

pub mod bookkeeping;
pub mod explain;
pub mod graph;
pub mod migrate;
pub mod neo4j;
pub mod postgres;
pub mod records;
