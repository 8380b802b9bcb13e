-- The Neo4j bookmark of the graph each generation publishes, taken on the leader once the ingest's
-- writes are in: through a routing `neo4j://` URI the API's graph reads carry it, so that a cluster
-- answers them from a member that has applied those writes, never from one still behind them.
-- NULL until an ingest has finished since this migration.
ALTER TABLE ingest_generation ADD COLUMN graph_bookmark TEXT;
