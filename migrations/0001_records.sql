-- One table per record type. `data` is the canonical record (SPEC §5), `hash` its SHA-256.
-- `graph_hash` is the hash of the version the Neo4j graph holds (NULL until written there): a record
-- counts as done only when hash = graph_hash, which is how an interrupted ingest knows what to redo.
CREATE TABLE artists (
    id         BIGINT PRIMARY KEY,
    hash       BYTEA NOT NULL,
    graph_hash BYTEA,
    data       JSONB NOT NULL
);

CREATE TABLE labels (
    id         BIGINT PRIMARY KEY,
    hash       BYTEA NOT NULL,
    graph_hash BYTEA,
    data       JSONB NOT NULL
);

CREATE TABLE masters (
    id         BIGINT PRIMARY KEY,
    hash       BYTEA NOT NULL,
    graph_hash BYTEA,
    data       JSONB NOT NULL
);

CREATE TABLE releases (
    id         BIGINT PRIMARY KEY,
    hash       BYTEA NOT NULL,
    graph_hash BYTEA,
    data       JSONB NOT NULL
);
