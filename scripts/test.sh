#!/usr/bin/env bash
# The whole test suite: starts PostgreSQL and Neo4j (scripts/services.sh up), installs Chromium for
# the explorer's browser test where missing (scripts/services.sh browser), and runs every test,
# unit and integration, against them, then the tests that restart a database, alone. Extra
# arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/services.sh up
scripts/services.sh browser
cargo test --all-targets "$@"
# Tests that restart a database under the others run last, one at a time.
cargo test --test integration "$@" -- --ignored --test-threads=1
