#!/usr/bin/env bash
# The API latency suite on a generated dump, end to end: starts the services, generates the
# benchmark dump (BENCH_RELEASES releases, default 100,000, seed 5; kept under target/bench-data),
# ingests it into its own PostgreSQL database (discogs_perftest; Neo4j has one database, so its
# graph is replaced), serves it on 127.0.0.1:8100 and runs
#   discogs perftest --config benches/perftest.toml
# writing the table and the JSON report to PERFTEST_OUT (default target/perftest). Extra arguments
# go to `discogs perftest` (e.g. --concurrency 8 --duration 10).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

releases=${BENCH_RELEASES:-100000}
dump=target/bench-data/perftest-$releases
out=${PERFTEST_OUT:-target/perftest}
database=discogs_perftest
export POSTGRES_URL="postgres://postgres@127.0.0.1:5432/$database"

echo "perftest: loading the benchmark dump replaces the graph in Neo4j (it has one database);" \
    "the next ingest of another database rebuilds its own" >&2
scripts/services.sh up
cargo build --release --bin discogs --example generate_dump
if [[ ! -e $dump/discogs_20990101_CHECKSUM.txt ]]; then
    ./target/release/examples/generate_dump --releases "$releases" --seed 5 --out "$dump"
fi
if [[ -z $(psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$database'") ]]; then
    psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $database"
fi
./target/release/discogs ingest --data-dir "$dump"

./target/release/discogs serve --config benches/perftest.toml &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    curl -sf http://127.0.0.1:8100/health >/dev/null && break
    sleep 0.1
done
mkdir -p "$out"
./target/release/discogs perftest --config benches/perftest.toml --json "$out/perftest.json" "$@" \
    | tee "$out/perftest.txt"
