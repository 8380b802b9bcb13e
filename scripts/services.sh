#!/usr/bin/env bash
# Installs and runs the two databases discogs needs, without Docker, on 127.0.0.1:
#
#   PostgreSQL  from Debian's `postgresql` package, in a cluster of its own under .services/postgres
#   Neo4j 5.26  Community, from Maven Central jars run on Java 17, under .services/neo4j
#
# usage: scripts/services.sh up|down|status
#        scripts/services.sh browser                  (installs Chromium and chromedriver for the explorer's test)
#        scripts/services.sh replica|replica-stop     (a streaming PostgreSQL replica on PG_REPLICA_PORT, 5433,
#                                                      for the tests of POSTGRES_READ_URL)
#        scripts/services.sh restart postgres|neo4j   (tests use it to restart a database mid-ingest)
#        scripts/services.sh neo4j-import ARGS_FILE   (discogs's neo4j.import_command: a first load
#                                                      through neo4j-admin database import)
#
# `up` is idempotent: it installs what is missing (the Debian package, the jars), initialises data
# directories once, starts what is not running and waits until both answer. `down` stops only the
# processes this script started (it knows them by their pid files). Ports come from PGPORT (5432) and
# NEO4J_BOLT_PORT (7687); the data lives under SERVICES_DIR (.services in the repository, git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES_DIR=${SERVICES_DIR:-$ROOT/.services}
PGPORT=${PGPORT:-5432}
PG_REPLICA_PORT=${PG_REPLICA_PORT:-5433}
NEO4J_BOLT_PORT=${NEO4J_BOLT_PORT:-7687}
NEO4J_VERSION=$(sed -n 's:.*<version>\(5\.26\.[0-9]*\)</version>.*:\1:p' "$ROOT/scripts/neo4j/pom.xml")

# Memory, sized from the machine's (MemTotal) unless set. Neo4j: 1/8 for its heap (queries and
# transactions; 1-8 GiB) and 1/4 for its page cache (the store files it keeps in memory; a graph
# of the whole catalogue is ~30 GB, so the cap is high). PostgreSQL: 1/8 for shared_buffers (the
# OS page cache holds the rest of its tables; 256 MiB-8 GiB), 1/32 for maintenance_work_mem (index
# builds; 256 MiB-2 GiB), and the planner told that half the memory caches files. About half the
# machine is left to the ingest, the import tool and the OS page cache. On 24 GiB: 3 GiB heap,
# 6 GiB page cache, 3 GiB shared_buffers, 768 MiB maintenance_work_mem.
MEM_MB=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
# share DIVISOR MIN_MB MAX_MB: MEM_MB / DIVISOR within [MIN_MB, MAX_MB], in MiB.
share() {
    local mb=$((MEM_MB / $1))
    ((mb < $2)) && mb=$2
    ((mb > $3)) && mb=$3
    echo "$mb"
}
NEO4J_HEAP=${NEO4J_HEAP:-$(share 8 1024 8192)m}
NEO4J_PAGECACHE=${NEO4J_PAGECACHE:-$(share 4 1024 32768)m}
PG_SHARED_BUFFERS=${PG_SHARED_BUFFERS:-$(share 8 256 8192)MB}
PG_MAINTENANCE_WORK_MEM=${PG_MAINTENANCE_WORK_MEM:-$(share 32 256 2048)MB}
PG_OPTIONS="-p $PGPORT -c shared_buffers=$PG_SHARED_BUFFERS -c maintenance_work_mem=$PG_MAINTENANCE_WORK_MEM -c effective_cache_size=$((MEM_MB / 2))MB"

PG_DIR=$SERVICES_DIR/postgres
PG_REPLICA_DIR=$PG_DIR/replica
NEO4J_HOME=$SERVICES_DIR/neo4j

log() { printf 'services: %s %s\n' "$(date +%T)" "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [ -f "$1" ] && kill -0 "$(head -n1 "$1")" 2>/dev/null; }

# ---------------------------------------------------------------- PostgreSQL

pg_bindir() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
    [ -n "$dir" ] && echo "$dir"
}

# PG_OPTIONS, with the WAL's full-page images (the first change to each page after a
# checkpoint, and every page of a new index) compressed with lz4 where the server has it
# (PostgreSQL 15 on), pglz before: deleting 40,000 random release_facts rows took 3.6-3.8 s with
# pglz, 0.53 s with lz4 and 0.40 s without compression (46, 58 and 156 MB of WAL). Passed at
# every start, so that a cluster initialised before gets it too.
pg_options() {
    local major
    major=$(basename "$(dirname "$(pg_bindir)")")
    if [ "${major%%.*}" -ge 15 ] 2>/dev/null; then
        echo "$PG_OPTIONS -c wal_compression=lz4"
    else
        echo "$PG_OPTIONS -c wal_compression=on"
    fi
}

pg_install() {
    if [ -z "$(pg_bindir)" ]; then
        log "installing PostgreSQL from Debian packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq postgresql >/dev/null
        # The package may start the system cluster; ours is separate, so keep the port free for it.
        pg_ctlcluster --help >/dev/null 2>&1 && for c in $(pg_lsclusters -h | awk '$4 == "online" {print $1"/"$2}'); do
            pg_ctlcluster "${c%/*}" "${c#*/}" stop || true
        done
    fi
    pg_bindir >/dev/null || die "PostgreSQL binaries not found under /usr/lib/postgresql after install"
}

# ---------------------------------------------------------------- the browser tests' Chromium

# Headless Chromium and its WebDriver from Debian, for the explorer's browser test.
browser_install() {
    if ! command -v chromedriver >/dev/null || ! command -v chromium >/dev/null; then
        log "installing Chromium and chromedriver from Debian packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null
        apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
    command -v chromedriver >/dev/null || die "chromedriver not found after installing chromium-driver"
}

# Runs a PostgreSQL binary as the postgres user: the server refuses to run as root.
as_postgres() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_up() {
    pg_install
    local bin
    bin=$(pg_bindir)
    mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$PG_DIR"
    if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
        log "initialising PostgreSQL cluster in $PG_DIR/data"
        as_postgres "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
        cat >>"$PG_DIR/data/postgresql.conf" <<EOF
# discogs local development settings
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PG_DIR'
max_wal_size = 8GB
checkpoint_timeout = 15min
max_connections = 200
EOF
    fi
    if as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        log "PostgreSQL already running on 127.0.0.1:$PGPORT"
    else
        port_open "$PGPORT" && die "port $PGPORT is taken by another process; stop it or set PGPORT"
        log "starting PostgreSQL on 127.0.0.1:$PGPORT (shared_buffers $PG_SHARED_BUFFERS)"
        as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -o "$(pg_options)" -w -t 60 start >/dev/null \
            || die "PostgreSQL did not start; see $PG_DIR/postgres.log"
    fi
    local exists
    exists=$("$bin/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'discogs'")
    if [ "$exists" != 1 ]; then
        "$bin/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qc "CREATE DATABASE discogs" >/dev/null
        log "created database discogs"
    fi
}

pg_down() {
    local bin
    bin=$(pg_bindir) || return 0
    if [ -f "$PG_DIR/data/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        log "stopping PostgreSQL"
        as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
    fi
}

pg_status() {
    local bin
    bin=$(pg_bindir) || { echo "postgres: not installed"; return; }
    if [ -f "$PG_DIR/data/PG_VERSION" ] && as_postgres "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        echo "postgres: running  postgres://postgres@127.0.0.1:$PGPORT/discogs  data=$PG_DIR/data  log=$PG_DIR/postgres.log"
    else
        echo "postgres: stopped  data=$PG_DIR/data"
    fi
}

# A hot standby of the cluster above, streaming from it. It has no replication slot, so a stopped
# replica never holds WAL back on the primary; the price is that it is made afresh from a base
# backup (of every database, benchmarks' included) whenever it is not running. Stop it before a
# benchmark: it would copy every write.
pg_replica_running() {
    [ -f "$PG_REPLICA_DIR/postmaster.pid" ] && as_postgres "$(pg_bindir)/pg_ctl" -D "$PG_REPLICA_DIR" status >/dev/null 2>&1
}

pg_replica_up() {
    pg_up
    local bin
    bin=$(pg_bindir)
    if pg_replica_running; then
        log "PostgreSQL replica already running on 127.0.0.1:$PG_REPLICA_PORT"
        return
    fi
    port_open "$PG_REPLICA_PORT" && die "port $PG_REPLICA_PORT is taken by another process; stop it or set PG_REPLICA_PORT"
    rm -rf "$PG_REPLICA_DIR"
    log "copying PostgreSQL into a replica on 127.0.0.1:$PG_REPLICA_PORT"
    as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p "$PGPORT" -U postgres -D "$PG_REPLICA_DIR" -R -X stream -c fast \
        || die "pg_basebackup from 127.0.0.1:$PGPORT failed"
    # Replay waits at most 1 s for a conflicting query on the replica, so a test sees the
    # primary's writes promptly.
    as_postgres "$bin/pg_ctl" -D "$PG_REPLICA_DIR" -l "$PG_DIR/replica.log" \
        -o "-p $PG_REPLICA_PORT -c shared_buffers=256MB -c hot_standby_feedback=on -c max_standby_streaming_delay=1s" \
        -w -t 60 start >/dev/null || die "the PostgreSQL replica did not start; see $PG_DIR/replica.log"
    log "PostgreSQL replica ready on 127.0.0.1:$PG_REPLICA_PORT"
}

pg_replica_down() {
    if pg_replica_running; then
        log "stopping the PostgreSQL replica"
        as_postgres "$(pg_bindir)/pg_ctl" -D "$PG_REPLICA_DIR" -m fast -w stop >/dev/null
    fi
}

# ---------------------------------------------------------------- Neo4j

neo4j_install() {
    local stamp=$NEO4J_HOME/lib/.version
    if [ "$(cat "$stamp" 2>/dev/null)" = "$NEO4J_VERSION" ]; then return; fi
    command -v java >/dev/null || die "java not found; Neo4j $NEO4J_VERSION needs Java 17"
    command -v mvn >/dev/null || die "mvn not found; it fetches the Neo4j jars from Maven Central"
    log "fetching Neo4j $NEO4J_VERSION jars from Maven Central"
    rm -rf "$NEO4J_HOME/lib"
    mkdir -p "$NEO4J_HOME/lib"
    mvn -q -B -f "$ROOT/scripts/neo4j/pom.xml" \
        org.apache.maven.plugins:maven-dependency-plugin:3.11.0:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$NEO4J_HOME/lib" >&2 \
        || die "could not fetch the Neo4j jars with Maven"
    echo "$NEO4J_VERSION" >"$stamp"
}

neo4j_configure() {
    mkdir -p "$NEO4J_HOME"/{conf,data,logs,run,plugins,import}
    # Rewritten on every start so a changed port or memory size takes effect.
    cat >"$NEO4J_HOME/conf/neo4j.conf" <<EOF
server.directories.data=$NEO4J_HOME/data
server.directories.logs=$NEO4J_HOME/logs
server.directories.run=$NEO4J_HOME/run
server.directories.plugins=$NEO4J_HOME/plugins
server.directories.import=$NEO4J_HOME/import
server.directories.lib=$NEO4J_HOME/lib
server.default_listen_address=127.0.0.1
server.bolt.enabled=true
server.bolt.listen_address=127.0.0.1:$NEO4J_BOLT_PORT
server.http.enabled=false
server.https.enabled=false
dbms.security.auth_enabled=false
dbms.usage_report.enabled=false
server.memory.heap.initial_size=$NEO4J_HEAP
server.memory.heap.max_size=$NEO4J_HEAP
server.memory.pagecache.size=$NEO4J_PAGECACHE
db.tx_log.rotation.retention_policy=1 files
# Stop at once instead of waiting 5 s twice for Bolt connections and jobs: a bulk import stops
# the server, and nothing of ours is mid-request then. Internal settings of the pinned 5.26; a
# version without them would refuse to start, naming them.
internal.server.bolt.thread_pool_shutdown_wait_time=0s
internal.server.bolt.connection_shutdown_wait_time=0s
dbms.memory.transaction.total.max=0
EOF
}

# True when a Bolt server on the port completes the version handshake (the server answers with a
# non-zero version once the DBMS is up).
bolt_ready() {
    local reply
    reply=$({
        exec 3<>"/dev/tcp/127.0.0.1/$NEO4J_BOLT_PORT" || exit 1
        printf '\x60\x60\xb0\x17\x00\x00\x04\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00' >&3
        timeout 2 head -c 4 <&3 | od -An -tx1 | tr -d ' \n'
    } 2>/dev/null) || return 1
    [ -n "$reply" ] && [ "$reply" != 00000000 ]
}

neo4j_up() {
    neo4j_install
    if pid_alive "$NEO4J_HOME/run/discogs-neo4j.pid"; then
        log "Neo4j already running (pid $(cat "$NEO4J_HOME/run/discogs-neo4j.pid"))"
    else
        port_open "$NEO4J_BOLT_PORT" && die "port $NEO4J_BOLT_PORT is taken by another process; stop it or set NEO4J_BOLT_PORT"
        neo4j_configure
        log "starting Neo4j $NEO4J_VERSION on bolt://127.0.0.1:$NEO4J_BOLT_PORT (heap $NEO4J_HEAP, page cache $NEO4J_PAGECACHE)"
        # JVM flags as in the --add-opens list of Neo4j's own launcher template.
        nohup java -Xms"$NEO4J_HEAP" -Xmx"$NEO4J_HEAP" -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow \
            -XX:+AlwaysPreTouch -XX:+UnlockExperimentalVMOptions -XX:+TrustFinalNonStaticFields \
            -XX:+DisableExplicitGC -Djdk.nio.maxCachedBufferSize=1024 -Dio.netty.tryReflectionSetAccessible=true \
            -Djdk.tls.ephemeralDHKeySize=2048 -Djdk.tls.rejectClientInitiatedRenegotiation=true \
            -XX:FlightRecorderOptions=stackdepth=256 -XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints \
            --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED \
            --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
            --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
            --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/sun.net.www.protocol.http=ALL-UNNAMED \
            --add-exports=java.base/sun.nio.ch=ALL-UNNAMED --add-exports=java.base/jdk.internal.misc=ALL-UNNAMED \
            --enable-native-access=ALL-UNNAMED \
            -Dfile.encoding=UTF-8 -cp "$NEO4J_HOME/lib/*" org.neo4j.server.CommunityEntryPoint \
            --home-dir="$NEO4J_HOME" --config-dir="$NEO4J_HOME/conf" --console-mode \
            >"$NEO4J_HOME/logs/console.log" 2>&1 </dev/null &
        echo $! >"$NEO4J_HOME/run/discogs-neo4j.pid"
    fi
    local waited=0
    until bolt_ready; do
        pid_alive "$NEO4J_HOME/run/discogs-neo4j.pid" || die "Neo4j exited; see $NEO4J_HOME/logs/console.log"
        [ "$waited" -ge 900 ] && die "Neo4j not ready after $((waited / 5))s; see $NEO4J_HOME/logs/console.log"
        sleep 0.2
        waited=$((waited + 1))
    done
    log "Neo4j ready on bolt://127.0.0.1:$NEO4J_BOLT_PORT"
}

neo4j_down() {
    local pidfile=$NEO4J_HOME/run/discogs-neo4j.pid
    if pid_alive "$pidfile"; then
        local pid
        pid=$(cat "$pidfile")
        log "stopping Neo4j (pid $pid)"
        kill "$pid"
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
        # The port is free only once the killed process is gone entirely.
        for _ in $(seq 1 50); do port_open "$NEO4J_BOLT_PORT" || break; sleep 0.2; done
    fi
    rm -f "$pidfile"
}

neo4j_status() {
    if pid_alive "$NEO4J_HOME/run/discogs-neo4j.pid"; then
        local state=starting
        bolt_ready && state=running
        echo "neo4j:    $state  bolt://127.0.0.1:$NEO4J_BOLT_PORT  pid=$(cat "$NEO4J_HOME/run/discogs-neo4j.pid")  version=$NEO4J_VERSION  log=$NEO4J_HOME/logs/console.log"
    else
        echo "neo4j:    stopped  home=$NEO4J_HOME"
    fi
}

# `neo4j-admin database import full @ARGS_FILE` on a stopped server, which is started again
# whether or not the import succeeded (discogs then finds out which). discogs runs this as its
# neo4j.import_command for first loads.
neo4j_import() {
    local args_file=$1
    [ -f "$args_file" ] || die "no import argument file at $args_file"
    neo4j_install
    neo4j_configure
    # Neither Ctrl-C nor a stop request may leave the server down: the server starts again (with
    # its old database if the import was cut short), then the signal takes effect. A handler, not
    # an ignored signal, which the server would inherit and then not stop on SIGTERM.
    local signalled=
    trap 'signalled=1' INT TERM
    neo4j_down
    local status=0
    # The tool sizes its off-heap memory from the memory free at that moment, which the OS page
    # cache keeps small (1.9 GiB of 24 at 4.75M releases, where relationship import then took 11
    # minutes); the server is stopped, so half the machine is the tool's.
    NEO4J_HOME=$NEO4J_HOME NEO4J_CONF=$NEO4J_HOME/conf java -Xmx"$NEO4J_HEAP" \
        -cp "$NEO4J_HOME/lib/*" org.neo4j.cli.AdminTool database import full \
        --max-off-heap-memory="$(share 2 1024 262144)m" "@$args_file" || status=$?
    neo4j_up
    trap - INT TERM
    [ -z "$signalled" ] || exit 130
    return "$status"
}

case "${1:-}" in
    up) pg_up; neo4j_up ;;
    browser) browser_install ;;
    replica) pg_replica_up ;;
    replica-stop) pg_replica_down ;;
    neo4j-import)
        [ -n "${2:-}" ] || { echo "usage: $0 neo4j-import ARGS_FILE" >&2; exit 2; }
        neo4j_import "$2" ;;
    down) neo4j_down; pg_replica_down; pg_down ;;
    status)
        pg_status
        pg_replica_running && echo "postgres replica: running  postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/discogs  log=$PG_DIR/replica.log"
        neo4j_status ;;
    restart)
        case "${2:-}" in
            postgres) as_postgres "$(pg_bindir)/pg_ctl" -D "$PG_DIR/data" -m fast -w restart -o "$(pg_options)" >/dev/null ;;
            neo4j) neo4j_down; neo4j_up ;;
            *) echo "usage: $0 restart postgres|neo4j" >&2; exit 2 ;;
        esac ;;
    *) echo "usage: $0 up|down|status|browser|replica|replica-stop|restart postgres|neo4j|neo4j-import ARGS_FILE" >&2; exit 2 ;;
esac
