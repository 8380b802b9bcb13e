-- Which definition of the graph aggregates (`store::graph::AGGREGATES_VERSION`) the graph holds:
-- when a new release adds or changes aggregates, the next ingest recomputes them even if the
-- dump is unchanged.
ALTER TABLE ingest_generation ADD COLUMN aggregates_version INTEGER NOT NULL DEFAULT 0;
