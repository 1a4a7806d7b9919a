#!/usr/bin/env bash
# The main job's throughput end to end: seeded generated captures replayed by
# ipattrib-agent, aggregated and shipped over mutual TLS to ipattrib-collector.
# Prints accesses/s and records/s as committed by the collectors, and bytes
# on the wire per access.
#   bench/collector_ingest.sh [BUILD_DIR]   (default build/release)
#   REQUESTS (default 300000, per agent), SEED (default 1), WORK_DIR (default /tmp/ipattrib-collector-bench)
#   STORE=sqlite (default; synchronous=FULL) or postgresql (a throwaway server
#     under WORK_DIR with fsync on, started and stopped here; Debian's
#     /usr/lib/postgresql/<version>/bin, run as nobody when we are root)
#   COLLECTORS (default 1; 2 needs STORE=postgresql: both share the database)
#   AGENTS (default 1): agent i replays its own capture (seed SEED+i-1) and
#     lists the collectors starting at collector (i-1) mod COLLECTORS, so
#     with AGENTS = COLLECTORS each collector takes one agent's stream
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build/release}
BIN="$BUILD_DIR/bin"
REQUESTS=${REQUESTS:-300000}
SEED=${SEED:-1}
WORK=${WORK_DIR:-/tmp/ipattrib-collector-bench}
STORE=${STORE:-sqlite}
COLLECTORS=${COLLECTORS:-1}
AGENTS=${AGENTS:-1}
INGEST_PORT=${INGEST_PORT:-27443}  # collector c listens on INGEST_PORT+c, API on API_PORT+c
API_PORT=${API_PORT:-28470}
PG_PORT=${PG_PORT:-25432}
for b in ipattrib-agent ipattrib-gen ipattrib-collector; do
  [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: build it first (cmake --build $BUILD_DIR)" >&2; exit 1; }
done
case "$STORE" in sqlite | postgresql) ;; *) echo "STORE must be sqlite or postgresql" >&2; exit 2 ;; esac
if [ "$COLLECTORS" -gt 1 ] && [ "$STORE" != postgresql ]; then
  echo "COLLECTORS > 1 needs STORE=postgresql (collectors share a PostgreSQL ledger)" >&2
  exit 2
fi
rm -rf "$WORK" && mkdir -p "$WORK"
PIDS=()
PG_BIN=""
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  if [ -n "$PG_BIN" ]; then as_pg "$PG_BIN/pg_ctl" stop -m fast -w -D "$WORK/pg/data" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }

# A server configured as in production as far as durability goes (fsync on).
start_postgres() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server not installed (scripts/setup.sh)" >&2; exit 1; }
  mkdir -p "$WORK/pg"
  [ "$(id -u)" = 0 ] && chown nobody "$WORK/pg"
  as_pg "$PG_BIN/initdb" -D "$WORK/pg/data" -U ipattrib --auth-local=trust -E UTF8 --locale=C >/dev/null 2>&1
  cat >>"$WORK/pg/data/postgresql.auto.conf" <<CONF
listen_addresses = ''
port = $PG_PORT
unix_socket_directories = '$WORK/pg'
max_connections = 100
shared_buffers = '256MB'
CONF
  as_pg "$PG_BIN/pg_ctl" start -w -D "$WORK/pg/data" -l "$WORK/pg/server.log" >/dev/null
  psql -h "$WORK/pg" -p "$PG_PORT" -U ipattrib -d postgres -qc "CREATE DATABASE ipattrib" >/dev/null
}
[ "$STORE" = postgresql ] && start_postgres

agent_names=()
for a in $(seq 1 "$AGENTS"); do agent_names+=(--agent "bench-agent-$a"); done
bash scripts/make-pki.sh "$WORK/pki" "${agent_names[@]}" >/dev/null

for c in $(seq 0 $((COLLECTORS - 1))); do
  mkdir -p "$WORK/collector-$c"
  {
    echo "[ledger]"
    echo "sqlite_path = \"$WORK/collector-$c/ledger.sqlite3\""
    if [ "$STORE" = postgresql ]; then
      echo "store = \"postgresql\""
      echo "postgresql_dsn = \"host=$WORK/pg port=$PG_PORT user=ipattrib dbname=ipattrib\""
    fi
    cat <<TOML
[ingest]
listen = "127.0.0.1:$((INGEST_PORT + c))"
tls_ca = "$WORK/pki/ca.crt"
tls_cert = "$WORK/pki/collector.crt"
tls_key = "$WORK/pki/collector.key"
allowed_agents = ["*"]
[api]
listen = "127.0.0.1:$((API_PORT + c))"
TOML
  } >"$WORK/collector-$c/collector.toml"
  "$BIN/ipattrib-collector" --config "$WORK/collector-$c/collector.toml" 2>"$WORK/collector-$c/collector.log" &
  PIDS+=($!)
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$((API_PORT + c))") 2>/dev/null && break; sleep 0.1; done
done

for a in $(seq 1 "$AGENTS"); do
  dir="$WORK/agent-$a"
  mkdir -p "$dir"
  "$BIN/ipattrib-gen" --requests "$REQUESTS" --seed $((SEED + a - 1)) --out "$dir/gen.pcap" --truth "$dir/truth.tsv" \
    --config-out "$dir/agent.toml" --keys-out "$dir/keys.tsv" 2>/dev/null
  list=""
  for k in $(seq 0 $((COLLECTORS - 1))); do
    list+="${list:+, }\"127.0.0.1:$((INGEST_PORT + (a - 1 + k) % COLLECTORS))\""
  done
  cat >>"$dir/agent.toml" <<TOML

[agent]
id = "bench-agent-$a"
[ship]
collectors = [$list]
tls_ca = "$WORK/pki/ca.crt"
tls_cert = "$WORK/pki/agents/bench-agent-$a.crt"
tls_key = "$WORK/pki/agents/bench-agent-$a.key"
spool_dir = "$dir/spool"
TOML
done

start=$(date +%s.%N)
AGENT_PIDS=()
for a in $(seq 1 "$AGENTS"); do
  TZ=UTC "$BIN/ipattrib-agent" --config "$WORK/agent-$a/agent.toml" --read "$WORK/agent-$a/gen.pcap" \
    2>"$WORK/agent-$a/agent.log" &
  AGENT_PIDS+=($!)
done
for p in "${AGENT_PIDS[@]}"; do wait "$p"; done
end=$(date +%s.%N)

# Sums a counter over the agents' final stats lines.
stat() {
  local total=0 v
  for a in $(seq 1 "$AGENTS"); do
    v=$(grep -o "stats: .*" "$WORK/agent-$a/agent.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p")
    total=$((total + ${v:-0}))
  done
  echo "$total"
}
accesses=$(stat aggregate.accesses)
records=$(stat aggregate.records)
bytes=$(stat ship.bytes_sent)
acked=$(stat ship.batches_acked)
lost=$(stat spool.dropped_accesses)
committed=0
for c in $(seq 0 $((COLLECTORS - 1))); do
  exec 3<>"/dev/tcp/127.0.0.1/$((API_PORT + c))"
  printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3
  n=$(grep -E '^ipattrib_ingest_accesses_total ' <&3 | awk '{print $2}')
  exec 3<&-
  echo "collector $c committed ${n:-0} accesses"
  committed=$((committed + ${n:-0}))
done
secs=$(echo "$end - $start" | bc -l 2>/dev/null || awk "BEGIN{print $end - $start}")
echo "store=$STORE collectors=$COLLECTORS agents=$AGENTS"
# An agent waits 10 s for acknowledgements after its file ends; what the
# collectors had not committed by then stays in its spool. Then the run
# measured the collectors with a backlog throughout: committed/s is their
# ingest rate, and the end-to-end figure does not apply.
awk -v s="$secs" -v a="$accesses" -v r="$records" -v b="$bytes" -v c="$committed" -v k="$acked" -v l="$lost" 'BEGIN {
  printf "replay+ship+commit of %d accesses (%d records, %d batches acked, %s lost) in %.2f s\n", a, r, k, l, s
  printf "committed by the collectors: %d (%.0f accesses/s)   left in the agents'"'"' spools: %d\n", c, c / s, a - c
  if (c == a) printf "accesses/s end to end: %.0f   records/s: %.0f   bytes on the wire per access: %.2f\n", a / s, r / s, b / a
}'
