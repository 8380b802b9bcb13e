-- The catalogue insights (API-ANALYTICS.md §5), computed by the ingest once the graph is finished
-- (`store::insights`), each table replaced whole in one transaction; `insight_log` says when each
-- was computed, how long it took, whether it failed, and the ingest generation that published it.
CREATE TABLE insight_top_artists (
    rank        INTEGER PRIMARY KEY,
    artist_id   BIGINT NOT NULL,
    artist_name TEXT   NOT NULL,
    edge_count  BIGINT NOT NULL
);

CREATE TABLE insight_label_longevity (
    rank           INTEGER PRIMARY KEY,
    label_id       BIGINT  NOT NULL,
    label_name     TEXT    NOT NULL,
    first_year     INTEGER NOT NULL,
    last_year      INTEGER NOT NULL,
    total_releases BIGINT  NOT NULL,
    peak_decade    INTEGER NOT NULL,
    still_active   BOOLEAN NOT NULL
);

-- Masters whose year is a milestone (25, 30, 40, 50, 75, 100 years) before `year`, the year of the
-- computation, in the order the route lists them.
CREATE TABLE insight_anniversaries (
    rank          INTEGER PRIMARY KEY,
    master_id     BIGINT  NOT NULL,
    title         TEXT    NOT NULL,
    artist_name   TEXT,
    release_year  INTEGER NOT NULL,
    anniversary   INTEGER NOT NULL,
    release_count BIGINT  NOT NULL,
    year          INTEGER NOT NULL,
    month         INTEGER NOT NULL
);

-- NULL where a field is not checked for the entity type.
CREATE TABLE insight_completeness (
    entity_type  TEXT PRIMARY KEY,
    total_count  BIGINT NOT NULL,
    with_image   BIGINT,
    with_year    BIGINT,
    with_country BIGINT,
    with_genre   BIGINT
);

CREATE TABLE insight_log (
    insight_type  TEXT PRIMARY KEY,
    status        TEXT NOT NULL CHECK (status IN ('completed', 'failed')),
    last_computed TIMESTAMPTZ NOT NULL,
    duration_ms   BIGINT NOT NULL,
    generation    BIGINT
);

-- Completeness counts a release's country and a master's year from the narrow fact tables.
ALTER TABLE release_facts ADD COLUMN country TEXT;
UPDATE release_facts f SET country = r.data->>'country'
    FROM releases r WHERE r.id = f.id AND r.data ? 'country';
ALTER TABLE master_facts ADD COLUMN year BIGINT;
UPDATE master_facts f SET year = (m.data->>'year')::bigint
    FROM masters m WHERE m.id = f.id AND jsonb_typeof(m.data->'year') = 'number';
