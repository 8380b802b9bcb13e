#!/usr/bin/env bash
# The whole test suite: starts PostgreSQL and Neo4j (scripts/services.sh up) and a PostgreSQL
# replica for the read-replica tests (stopped again at the end, so it does not copy a later
# benchmark's writes), installs Chromium for the explorer's browser test where missing
# (scripts/services.sh browser), and runs every test, unit and integration, against them, then
# the graph tests again through a routing neo4j:// URI, then the tests that restart a database,
# alone. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/services.sh up
scripts/services.sh replica
trap 'scripts/services.sh replica-stop' EXIT
scripts/services.sh browser
cargo test --all-targets "$@"
# The graph routes, a Bolt load and an incremental update through the routing connection manager.
NEO4J_URI=neo4j://127.0.0.1:7687 cargo test --test integration "$@" -- graph_api:: pipeline::
# Tests that restart a database under the others run last, one at a time.
cargo test --test integration "$@" -- --ignored --test-threads=1
