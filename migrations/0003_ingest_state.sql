-- What has been ingested: one row (one run) per dump file. `status` moves running -> done, or
-- failed; a file is done only when both stores hold every record of it and its deletions are
-- applied. An unfinished run is resumed by the next ingest of the same file, or superseded once a
-- newer dump's file completes. `graph_ordinal` is the graph writer's checkpoint: every record of the
-- file up to that position that needed a graph write has one, so a resumed run redoes the graph
-- only past it.
CREATE SEQUENCE ingest_run_seq;
CREATE TABLE ingest_files (
    version       TEXT NOT NULL,         -- dump version, YYYYMMDD
    kind          TEXT NOT NULL CHECK (kind IN ('artists', 'labels', 'masters', 'releases')),
    run_id        BIGINT NOT NULL UNIQUE DEFAULT nextval('ingest_run_seq'),
    file_name     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'superseded')),
    graph_ordinal BIGINT NOT NULL DEFAULT 0,
    records       BIGINT NOT NULL DEFAULT 0,
    inserted      BIGINT NOT NULL DEFAULT 0,
    updated       BIGINT NOT NULL DEFAULT 0,
    unchanged     BIGINT NOT NULL DEFAULT 0,
    deleted       BIGINT NOT NULL DEFAULT 0,
    skipped       BIGINT NOT NULL DEFAULT 0,
    seconds       DOUBLE PRECISION,
    error         TEXT,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at   TIMESTAMPTZ,
    PRIMARY KEY (version, kind)
);

-- One row per dump version: `done` once all four files and the graph aggregates are complete.
CREATE TABLE ingest_versions (
    version     TEXT PRIMARY KEY,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);

-- Bumped once per completed ingest that changed something; the API keys its cache on it so it
-- never serves answers from before the latest completed ingest.
CREATE TABLE ingest_generation (
    singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    generation BIGINT NOT NULL,
    version    TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO ingest_generation (generation) VALUES (0);
