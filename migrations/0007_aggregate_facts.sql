-- What the graph aggregates count, per release and master, beside the records: an update recounts
-- the aggregates from these narrow tables instead of walking the graph, and writes to the graph
-- only the counts of the artists and labels it touched (`aggregate_touched`, emptied once they
-- are written). The ingest writes these rows in the transaction that writes the records; the
-- records already stored are filled in here from their JSON.
CREATE TABLE release_facts (
    id      BIGINT PRIMARY KEY,
    year    BIGINT,
    artists BIGINT[] NOT NULL,
    labels  BIGINT[] NOT NULL,
    genres  TEXT[]   NOT NULL,
    styles  TEXT[]   NOT NULL
);

CREATE TABLE master_facts (
    id     BIGINT PRIMARY KEY,
    genres TEXT[] NOT NULL,
    styles TEXT[] NOT NULL
);

CREATE TABLE aggregate_touched (
    kind TEXT   NOT NULL CHECK (kind IN ('artist', 'label')),
    id   BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

CREATE FUNCTION discogs_ids(jsonb) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(array_agg(DISTINCT (e->>'id')::bigint), '{}')
          FROM jsonb_array_elements($1) e WHERE e->>'id' IS NOT NULL $$;

INSERT INTO release_facts (id, year, artists, labels, genres, styles)
    SELECT id,
           CASE WHEN jsonb_typeof(data->'year') = 'number' THEN (data->>'year')::bigint END,
           coalesce(discogs_ids(data->'artists'), '{}'),
           coalesce(discogs_ids(data->'labels'), '{}'),
           coalesce(discogs_text_array(data->'genres'), '{}'),
           coalesce(discogs_text_array(data->'styles'), '{}')
    FROM releases;

INSERT INTO master_facts (id, genres, styles)
    SELECT id, coalesce(discogs_text_array(data->'genres'), '{}'),
           coalesce(discogs_text_array(data->'styles'), '{}')
    FROM masters;
