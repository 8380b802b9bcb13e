#!/usr/bin/env bash
# The main job on the bundled sample dump: starts PostgreSQL and Neo4j, builds discogs, applies the
# migrations, ingests tests/fixtures/dump into both stores and serves the API on DISCOGS_LISTEN
# (default 127.0.0.1:8000) until Ctrl-C. Extra arguments go to `discogs run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/services.sh up
cargo build --release
./target/release/discogs migrate
exec ./target/release/discogs run --serve "$@"
