#!/usr/bin/env bash
# The README's first command: installs what is needed, builds, generates a
# sample gateway capture with the project's own traffic generator, replays it
# through the agent and prints the attributed requests.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

BUILD_DIR=build/release
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIPATTRIB_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target ipattrib-agent ipattrib-gen

WORK=var/quickstart
mkdir -p "$WORK"
"$BUILD_DIR/bin/ipattrib-gen" --requests 2000 --seed 7 --out "$WORK/sample.pcap" --truth "$WORK/truth.tsv" \
  --config-out "$WORK/agent.toml" --keys-out "$WORK/api-keys.tsv"

GEO_ARGS=()
for db in var/geo/*.mmdb; do
  [ -f "$db" ] && GEO_ARGS+=(--geo-db "$db")
done

echo
echo "== replaying $WORK/sample.pcap through ipattrib-agent (config $WORK/agent.toml)"
"$BUILD_DIR/bin/ipattrib-agent" --config "$WORK/agent.toml" --read "$WORK/sample.pcap" \
  "${GEO_ARGS[@]}" --events "$WORK/events.jsonl" 2>"$WORK/agent.log"
grep -o 'stats: .*' "$WORK/agent.log" | tr ' ' '\n' | grep -E '^(decode.frames|http.requests|attribution.requests|attribution.no_account|flow.created)=' || true

echo
echo "== the first attributed requests (time, client IP and how it was found, account, class, request)"
head -n 12 "$WORK/events.jsonl" | while IFS= read -r line; do
  printf '%s\n' "$line" | sed -E 's/.*"ts":"([^"]*)".*"client_ip":"([^"]*)","ip_source":"([^"]*)".*"method":"([^"]*)","host":"([^"]*)","target":"([^"]*)","account":("[^"]*"|null).*"class":"([^"]*)".*/\1  \2 (\3)  account=\7  \8  \4 \6/'
done

echo
echo "== requests per account (top 5) and the agent against the generator's ground truth"
grep -o '"account":"[^"]*"' "$WORK/events.jsonl" | sort | uniq -c | sort -rn | head -5
events=$(wc -l < "$WORK/events.jsonl")
truth=$(($(wc -l < "$WORK/truth.tsv") - 1))
echo "agent found $events requests; the generator sent $truth"
echo "full events: $WORK/events.jsonl   agent log: $WORK/agent.log"
