-- What has been ingested: one row per dump file. `status` moves running -> done (or failed); a file
-- is done only when both stores hold every record of it and its deletions are applied.
CREATE TABLE ingest_files (
    version     TEXT NOT NULL,           -- dump version, YYYYMMDD
    kind        TEXT NOT NULL CHECK (kind IN ('artists', 'labels', 'masters', 'releases')),
    file_name   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    records     BIGINT NOT NULL DEFAULT 0,
    inserted    BIGINT NOT NULL DEFAULT 0,
    updated     BIGINT NOT NULL DEFAULT 0,
    unchanged   BIGINT NOT NULL DEFAULT 0,
    deleted     BIGINT NOT NULL DEFAULT 0,
    skipped     BIGINT NOT NULL DEFAULT 0,
    error       TEXT,
    started_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ,
    PRIMARY KEY (version, kind)
);

-- Bumped once per completed ingest; the API keys its cache on it so it never serves older answers.
CREATE TABLE ingest_generation (
    singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    generation BIGINT NOT NULL,
    version    TEXT,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
INSERT INTO ingest_generation (generation) VALUES (0);
