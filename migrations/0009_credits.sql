-- Who is credited with what: one row per (release, person, role), each once, for every extra
-- artist of a release or of its tracks that has a name and a role (`record::graph::PersonCredit`),
-- written and deleted in the transactions that write and delete the releases. A person is a
-- credited name, linked to its artist where a credit carries the id. `year` is the release's.
CREATE TABLE credits (
    release_id BIGINT NOT NULL,
    name       TEXT   COLLATE "C" NOT NULL,
    role       TEXT   NOT NULL,
    category   TEXT   COLLATE "C" NOT NULL,
    artist_id  BIGINT,
    year       BIGINT,
    -- The person's first credit in its category on the release: counting these counts releases.
    counts_release BOOLEAN NOT NULL
);
-- A first load fills the table without these and builds them once it is full
-- (`store::credits::prepare`), which costs a fraction of keeping them up to date row by row.
CREATE INDEX credits_by_release ON credits (release_id);
CREATE INDEX credits_by_name ON credits (name, year);

-- Per (person, category): credits (rows) and releases; per person: credits. Counted in full after
-- a first load; otherwise moved by `credits_delta`, what each transaction that wrote or deleted
-- credits changed in them, applied and emptied at the end of the ingest. Names compare byte by
-- byte ("C"): sorting and indexing millions of them costs a fraction of a linguistic collation's,
-- and no answer depends on linguistic order. A full count drops and rebuilds the indexes of both
-- tables (`store::credits::refresh`), which costs less than keeping them up to date row by row.
CREATE TABLE person_categories (
    name       TEXT COLLATE "C" NOT NULL,
    category   TEXT COLLATE "C" NOT NULL,
    credits    BIGINT NOT NULL,
    releases   BIGINT NOT NULL,
    CONSTRAINT person_categories_pkey PRIMARY KEY (name, category)
);
CREATE INDEX person_categories_top ON person_categories (category, releases DESC, name);

CREATE TABLE people (
    name       TEXT COLLATE "C" CONSTRAINT people_pkey PRIMARY KEY,
    credits    BIGINT NOT NULL,
    search     TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', name)) STORED
);
CREATE INDEX people_search ON people USING gin (search);

CREATE TABLE credits_delta (
    name     TEXT COLLATE "C" NOT NULL,
    category TEXT COLLATE "C" NOT NULL,
    credits  BIGINT NOT NULL,
    releases BIGINT NOT NULL
);

-- Which definition of the credits (`store::credits::CREDITS_VERSION`) the tables hold. Releases
-- stored before this migration have none yet: the next ingest fills them from the stored JSON.
ALTER TABLE ingest_generation ADD COLUMN credits_version INTEGER NOT NULL DEFAULT 0;
UPDATE ingest_generation SET credits_version = 1 WHERE NOT EXISTS (SELECT 1 FROM releases);
