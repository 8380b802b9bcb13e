-- The token that pairs this database with the graph built from it. The same token is kept on a
-- (:GraphPairing) node in Neo4j once an ingest completes; when the two differ (the graph was
-- emptied, restored from elsewhere, or belongs to another database), the next ingest rebuilds the
-- graph from scratch instead of trusting that unchanged records are already in it.
ALTER TABLE ingest_generation ADD COLUMN graph_token TEXT;
