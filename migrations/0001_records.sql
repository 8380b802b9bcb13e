-- One table per record type. `data` is the canonical record (SPEC §5), `hash` its SHA-256, and
-- `run_id` the ingest run (ingest_files.run_id) that last wrote the row: a resumed ingest uses it to
-- tell rows the interrupted run wrote (whose graph side may be missing) from rows already complete.
CREATE TABLE artists (
    id      BIGINT PRIMARY KEY,
    hash    BYTEA NOT NULL,
    run_id  BIGINT NOT NULL,
    data    JSONB NOT NULL
);

CREATE TABLE labels (
    id      BIGINT PRIMARY KEY,
    hash    BYTEA NOT NULL,
    run_id  BIGINT NOT NULL,
    data    JSONB NOT NULL
);

CREATE TABLE masters (
    id      BIGINT PRIMARY KEY,
    hash    BYTEA NOT NULL,
    run_id  BIGINT NOT NULL,
    data    JSONB NOT NULL
);

CREATE TABLE releases (
    id      BIGINT PRIMARY KEY,
    hash    BYTEA NOT NULL,
    run_id  BIGINT NOT NULL,
    data    JSONB NOT NULL
);
