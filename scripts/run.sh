#!/usr/bin/env bash
# The main job on the bundled sample dump: starts PostgreSQL and Neo4j, builds discogs, ingests the
# sample dump (tests/fixtures/xml2db, 1,000 records of each type; DISCOGS_DATA_DIR overrides it)
# into both stores and serves the API on DISCOGS_LISTEN (default 127.0.0.1:8000) until Ctrl-C.
# With DISCOGS_DATA_DIR set (a real dump), a first load goes through neo4j-admin database import
# (NEO4J_IMPORT_COMMAND, see README); the bundled sample is faster through Bolt than a Neo4j
# restart, so it keeps that. Extra arguments go to `discogs run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/services.sh up
cargo build --release
if [ -n "${DISCOGS_DATA_DIR:-}" ]; then
    export NEO4J_IMPORT_COMMAND=${NEO4J_IMPORT_COMMAND-"'$PWD/scripts/services.sh' neo4j-import"}
else
    export DISCOGS_DATA_DIR=tests/fixtures/xml2db
fi
exec ./target/release/discogs run --ingest --serve "$@"
