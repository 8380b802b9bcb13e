-- A digest of each group of relationships a record asserts in the graph (its `BY`, `IS`, `ON`,
-- credits, aliases, members, the names it gives stubs...), written with the record: a changed
-- record's graph write then leaves alone the groups whose digests match the stored version's,
-- instead of reading back and comparing every relationship of the node. NULL (rows written
-- before this migration) means unknown: the next change to such a record rewrites all of it.
ALTER TABLE artists  ADD COLUMN graph_digests BYTEA;
ALTER TABLE labels   ADD COLUMN graph_digests BYTEA;
ALTER TABLE masters  ADD COLUMN graph_digests BYTEA;
ALTER TABLE releases ADD COLUMN graph_digests BYTEA;
