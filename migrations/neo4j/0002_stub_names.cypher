// Stubs whose name must be settled after an ingest (`rename`, see src/store/graph/stubs.rs): few
// nodes have the property, so these indexes stay small and finding them never scans a label.
CREATE INDEX artist_rename IF NOT EXISTS FOR (n:Artist) ON (n.rename);
CREATE INDEX label_rename IF NOT EXISTS FOR (n:Label) ON (n.rename);
