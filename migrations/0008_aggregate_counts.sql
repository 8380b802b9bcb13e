-- The counts the graph aggregates are made of, kept current beside the facts of 0007: an update
-- adds what its changed, new and removed records take away and bring, in the transactions that
-- write them, and reads the aggregates of what it touched from here instead of recounting every
-- release (see `src/store/counts.rs`, which numbers the kinds of count).
--
-- Genres and styles are numbered once (`aggregate_tags`), so every count is keyed by integers:
-- `(count, a, b)`, e.g. (releases of a style by an artist, style, artist); `n` is never 0 (such
-- a row is deleted).
CREATE TABLE aggregate_tags (
    id   INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('genre', 'style')),
    name TEXT NOT NULL,
    UNIQUE (kind, name)
);

CREATE TABLE aggregate_counts (
    count SMALLINT NOT NULL,
    a     BIGINT   NOT NULL,
    b     BIGINT   NOT NULL,
    n     BIGINT   NOT NULL,
    PRIMARY KEY (count, a, b)
);

-- The top lists: a tag's artists (count 10) and labels (12) by releases.
CREATE INDEX aggregate_counts_ranked ON aggregate_counts (count, a, n DESC, b) WHERE count IN (10, 12);

-- The counts read each record's lists as sets; rows backfilled by 0007 may repeat a genre or style.
UPDATE release_facts SET genres = ARRAY(SELECT DISTINCT g FROM unnest(genres) g ORDER BY 1)
    WHERE cardinality(genres) <> (SELECT count(DISTINCT g) FROM unnest(genres) g);
UPDATE release_facts SET styles = ARRAY(SELECT DISTINCT s FROM unnest(styles) s ORDER BY 1)
    WHERE cardinality(styles) <> (SELECT count(DISTINCT s) FROM unnest(styles) s);
UPDATE master_facts SET genres = ARRAY(SELECT DISTINCT g FROM unnest(genres) g ORDER BY 1)
    WHERE cardinality(genres) <> (SELECT count(DISTINCT g) FROM unnest(genres) g);
UPDATE master_facts SET styles = ARRAY(SELECT DISTINCT s FROM unnest(styles) s ORDER BY 1)
    WHERE cardinality(styles) <> (SELECT count(DISTINCT s) FROM unnest(styles) s);
