#!/usr/bin/env bash
# The main job's throughput end to end: a seeded generated capture replayed by
# ipattrib-agent, aggregated and shipped over mutual TLS to ipattrib-collector
# (SQLite, synchronous=FULL). Prints accesses/s and records/s as committed by
# the collector, and bytes on the wire per access.
#   bench/collector_ingest.sh [BUILD_DIR]   (default build/release)
#   REQUESTS (default 300000), SEED (default 1), WORK_DIR (default /tmp/ipattrib-collector-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build/release}
BIN="$BUILD_DIR/bin"
REQUESTS=${REQUESTS:-300000}
SEED=${SEED:-1}
WORK=${WORK_DIR:-/tmp/ipattrib-collector-bench}
INGEST_PORT=${INGEST_PORT:-27443}
API_PORT=${API_PORT:-28470}
for b in ipattrib-agent ipattrib-gen ipattrib-collector; do
  [ -x "$BIN/$b" ] || { echo "missing $BIN/$b: build it first (cmake --build $BUILD_DIR)" >&2; exit 1; }
done
rm -rf "$WORK" && mkdir -p "$WORK"
bash scripts/make-pki.sh "$WORK/pki" --agent bench-agent >/dev/null
"$BIN/ipattrib-gen" --requests "$REQUESTS" --seed "$SEED" --out "$WORK/gen.pcap" --truth "$WORK/truth.tsv" \
  --config-out "$WORK/agent.toml" --keys-out "$WORK/keys.tsv" 2>/dev/null
cat >> "$WORK/agent.toml" <<TOML

[agent]
id = "bench-agent"
[ship]
collectors = ["127.0.0.1:$INGEST_PORT"]
tls_ca = "$WORK/pki/ca.crt"
tls_cert = "$WORK/pki/agents/bench-agent.crt"
tls_key = "$WORK/pki/agents/bench-agent.key"
spool_dir = "$WORK/spool"
TOML
cat > "$WORK/collector.toml" <<TOML
[ledger]
sqlite_path = "$WORK/ledger.sqlite3"
[ingest]
listen = "127.0.0.1:$INGEST_PORT"
tls_ca = "$WORK/pki/ca.crt"
tls_cert = "$WORK/pki/collector.crt"
tls_key = "$WORK/pki/collector.key"
allowed_agents = ["bench-agent"]
[api]
listen = "127.0.0.1:$API_PORT"
TOML
"$BIN/ipattrib-collector" --config "$WORK/collector.toml" 2>"$WORK/collector.log" &
COLLECTOR=$!
trap 'kill "$COLLECTOR" 2>/dev/null || true; wait "$COLLECTOR" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$API_PORT") 2>/dev/null && break; sleep 0.1; done

start=$(date +%s.%N)
TZ=UTC "$BIN/ipattrib-agent" --config "$WORK/agent.toml" --read "$WORK/gen.pcap" 2>"$WORK/agent.log"
end=$(date +%s.%N)
stat() { grep -o "stats: .*" "$WORK/agent.log" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$1=//p"; }
accesses=$(stat aggregate.accesses)
records=$(stat aggregate.records)
bytes=$(stat ship.bytes_sent)
acked=$(stat ship.batches_acked)
lost=$(stat spool.dropped_accesses)
exec 3<>"/dev/tcp/127.0.0.1/$API_PORT"
printf 'GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3
committed=$(grep -E '^ipattrib_ingest_accesses_total ' <&3 | awk '{print $2}')
secs=$(echo "$end - $start" | bc -l 2>/dev/null || awk "BEGIN{print $end - $start}")
awk -v s="$secs" -v a="$accesses" -v r="$records" -v b="$bytes" -v c="$committed" -v k="$acked" -v l="$lost" 'BEGIN {
  printf "replay+ship+commit of %d accesses (%d records, %d batches acked, %s lost) in %.2f s\n", a, r, k, l, s
  printf "accesses/s end to end: %.0f   records/s: %.0f   bytes on the wire per access: %.2f   committed by the collector: %s\n",
         a / s, r / s, b / a, c
}'
