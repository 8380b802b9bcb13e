#!/usr/bin/env bash
# The main job on the bundled sample dump: starts PostgreSQL and Neo4j, builds discogs, ingests the
# sample dump (tests/fixtures/xml2db, 1,000 records of each type; DISCOGS_DATA_DIR overrides it)
# into both stores and serves the API on DISCOGS_LISTEN (default 127.0.0.1:8000) until Ctrl-C.
# Extra arguments go to `discogs run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/services.sh up
cargo build --release
export DISCOGS_DATA_DIR=${DISCOGS_DATA_DIR:-tests/fixtures/xml2db}
exec ./target/release/discogs run --ingest --serve "$@"
