-- Who is credited with what: one row per (release, person, role) for every extra artist of a
-- release or of its tracks that has a name and a role (`record::graph::PersonCredit`), written
-- and deleted in the transactions that write and delete the releases. A person is a credited
-- name, linked to its artist where a credit carries the id. `year` is the release's.
CREATE TABLE credits (
    release_id BIGINT NOT NULL,
    name       TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    category   TEXT   NOT NULL,
    artist_id  BIGINT,
    year       BIGINT,
    PRIMARY KEY (release_id, name, role)
);
CREATE INDEX credits_by_name ON credits (name, year);

-- Per person and per (person, category): credits (rows) and distinct releases, first and last
-- year, the lowest artist id its credits carry. Recounted at the end of an ingest for the names in
-- `credits_touched` (listed in the same transactions as the credits they had or gain), or in full
-- after a first load.
CREATE TABLE people (
    name       TEXT PRIMARY KEY,
    credits    BIGINT NOT NULL,
    releases   BIGINT NOT NULL,
    first_year BIGINT,
    last_year  BIGINT,
    artist_id  BIGINT,
    search     TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', name)) STORED
);
CREATE INDEX people_search ON people USING gin (search);

CREATE TABLE person_categories (
    name     TEXT   NOT NULL,
    category TEXT   NOT NULL,
    credits  BIGINT NOT NULL,
    releases BIGINT NOT NULL,
    PRIMARY KEY (name, category)
);
CREATE INDEX person_categories_top ON person_categories (category, releases DESC, name);

CREATE TABLE credits_touched (name TEXT PRIMARY KEY);

-- Which definition of the credits (`store::credits::CREDITS_VERSION`) the tables hold. Releases
-- stored before this migration have none yet: the next ingest fills them from the stored JSON.
ALTER TABLE ingest_generation ADD COLUMN credits_version INTEGER NOT NULL DEFAULT 0;
UPDATE ingest_generation SET credits_version = 1 WHERE NOT EXISTS (SELECT 1 FROM releases);
