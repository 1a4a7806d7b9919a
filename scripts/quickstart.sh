#!/usr/bin/env bash
# The README's first command: the main job on this machine, on the embedded
# defaults. Installs what is needed, builds, makes a private PKI, starts a
# collector on SQLite, generates a sample gateway capture with the project's
# traffic generator, replays it through the agent (which attributes every
# request, geo-resolves it and ships the records over mutual TLS), asks the
# ledger with ipattribctl for an account's IP history, and shows the alerts
# the default special-measures policy raised.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

BUILD_DIR=build/release
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIPATTRIB_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target ipattrib-agent ipattrib-gen ipattrib-collector ipattribctl
BIN="$BUILD_DIR/bin"

WORK=var/quickstart
INGEST_PORT=${IPATTRIB_QUICKSTART_INGEST_PORT:-17443}
API_PORT=${IPATTRIB_QUICKSTART_API_PORT:-18470}
rm -rf "$WORK/ledger.sqlite3"* "$WORK/alerts.sqlite3"* "$WORK/alerts.jsonl" "$WORK/spool"
mkdir -p "$WORK"

echo "== private PKI (CA, collector and agent certificates) in $WORK/pki"
bash scripts/make-pki.sh "$WORK/pki" --agent quickstart-agent >/dev/null

TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN_SHA256=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)
cat > "$WORK/collector.toml" <<TOML
[ledger]
sqlite_path = "$WORK/ledger.sqlite3"
[ingest]
listen = "127.0.0.1:$INGEST_PORT"
tls_ca = "$WORK/pki/ca.crt"
tls_cert = "$WORK/pki/collector.crt"
tls_key = "$WORK/pki/collector.key"
allowed_agents = ["quickstart-agent"]
[api]
listen = "127.0.0.1:$API_PORT"
token_sha256 = ["$TOKEN_SHA256"]
[policy]
path = "config/special-measures.toml"
[alerts]
sqlite_path = "$WORK/alerts.sqlite3"
[[alerts.file]]
name = "jsonl"
path = "$WORK/alerts.jsonl"
TOML

echo "== starting ipattrib-collector (ledger $WORK/ledger.sqlite3, agents on :$INGEST_PORT, API on :$API_PORT)"
"$BIN/ipattrib-collector" --config "$WORK/collector.toml" 2>"$WORK/collector.log" &
COLLECTOR=$!
trap 'kill "$COLLECTOR" 2>/dev/null || true; wait "$COLLECTOR" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$API_PORT") 2>/dev/null && break
  kill -0 "$COLLECTOR" 2>/dev/null || { cat "$WORK/collector.log" >&2; exit 1; }
  sleep 0.1
done

# --geo-out: a demo geo database placing the generator's (documentation-range)
# clients in countries, some under the default policy: 203.0.113.0/24 in IR,
# 2001:db8:1000::/36 in Crimea (UA-43), 2001:db8:2000::/36 in RU.
"$BIN/ipattrib-gen" --requests 2000 --seed 7 --out "$WORK/sample.pcap" --truth "$WORK/truth.tsv" \
  --config-out "$WORK/agent.toml" --keys-out "$WORK/api-keys.tsv" --geo-out "$WORK/demo-geo.mmdb"
cat >> "$WORK/agent.toml" <<TOML

[agent]
id = "quickstart-agent"
gateway = "quickstart-gateway"

[ship]
collectors = ["127.0.0.1:$INGEST_PORT"]
tls_ca = "$WORK/pki/ca.crt"
tls_cert = "$WORK/pki/agents/quickstart-agent.crt"
tls_key = "$WORK/pki/agents/quickstart-agent.key"
spool_dir = "$WORK/spool"
TOML

GEO_ARGS=(--geo-db "$WORK/demo-geo.mmdb")

echo
echo "== replaying $WORK/sample.pcap through ipattrib-agent (config $WORK/agent.toml)"
"$BIN/ipattrib-agent" --config "$WORK/agent.toml" --read "$WORK/sample.pcap" \
  "${GEO_ARGS[@]}" --events "$WORK/events.jsonl" 2>"$WORK/agent.log"
grep -o 'stats: .*' "$WORK/agent.log" | tail -n 1 | tr ' ' '\n' |
  grep -E '^(decode.frames|http.requests|attribution.no_account|aggregate.records|ship.batches_acked|spool.dropped_accesses)=' || true

echo
echo "== the first attributed requests (time, client IP and how it was found, account, class, request)"
head -n 8 "$WORK/events.jsonl" | while IFS= read -r line; do
  printf '%s\n' "$line" | sed -E 's/.*"ts":"([^"]*)".*"client_ip":"([^"]*)","ip_source":"([^"]*)".*"method":"([^"]*)","host":"([^"]*)","target":"([^"]*)","account":("[^"]*"|null).*"class":"([^"]*)".*/\1  \2 (\3)  account=\7  \8  \4 \6/'
done
events=$(wc -l < "$WORK/events.jsonl")
truth=$(($(wc -l < "$WORK/truth.tsv") - 1))
echo "agent found $events requests; the generator sent $truth"

export IPATTRIB_URL="http://127.0.0.1:$API_PORT" IPATTRIB_TOKEN="$TOKEN"
# sed reads to the end (head would exit early and, under pipefail, sort's
# SIGPIPE would end the script with status 141).
ACCOUNT=$(grep -o '"account":"[^"]*"' "$WORK/events.jsonl" | sort | uniq -c | sort -rn |
  sed -n -E '1s/.*"account":"([^"]*)"/\1/p')
echo
echo "== the ledger: ipattribctl account $ACCOUNT   (every IP the account was used from)"
"$BIN/ipattribctl" account "$ACCOUNT"
echo
echo "== ipattribctl accesses $ACCOUNT   (the date and time of each access)"
"$BIN/ipattribctl" accesses "$ACCOUNT"
IP=$("$BIN/ipattribctl" account "$ACCOUNT" --format csv | sed -n 2p | cut -d, -f1)
echo
echo "== ipattribctl ip $IP   (the investigator's reverse lookup)"
"$BIN/ipattribctl" ip "$IP"
echo
echo "== ipattribctl alerts   (accesses under the special measures of config/special-measures.toml)"
delivered=-1  # alerts exist once the agent's batches are acknowledged; delivery to the file follows
for _ in $(seq 1 50); do
  sleep 0.2
  now=$(cat "$WORK/alerts.jsonl" 2>/dev/null | wc -l)
  [ "$now" -gt 0 ] && [ "$now" -eq "$delivered" ] && break
  delivered=$now
done
"$BIN/ipattribctl" alerts --limit 10
echo "$(wc -l < "$WORK/alerts.jsonl") alerts delivered to the JSON-lines sink $WORK/alerts.jsonl"
echo
echo "collector log: $WORK/collector.log   agent log: $WORK/agent.log   events: $WORK/events.jsonl"
echo "try: IPATTRIB_URL=$IPATTRIB_URL IPATTRIB_TOKEN=<token> $BIN/ipattribctl export ACCOUNT (the collector stops with this script)"
