-- A person's credits in the order its routes read them, newest year first and undated last, with
-- what the timeline and the profile count in the key, so that those read the index alone (an
-- index-only scan: ~20 ms for a person with 128,000 credits, against ~700 ms through the table)
-- and the credits route finds the years of a page without reading the credits before it. Twice
-- the size of the index it replaces (569 against 265 MB at 1M releases). `store::credits` builds
-- the same index after a first load.
DROP INDEX IF EXISTS credits_by_name;
CREATE INDEX credits_by_name ON credits (name, year DESC NULLS LAST, category, artist_id);

-- Index-only scans need the visibility map current: a month's writes are a sliver of the table,
-- so vacuum after a percent of it changed instead of the default fifth.
ALTER TABLE credits SET (autovacuum_vacuum_scale_factor = 0.01,
                         autovacuum_vacuum_insert_scale_factor = 0.01);
