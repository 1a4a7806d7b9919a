#!/usr/bin/env bash
# Offline throughput of the agent next to tcpdump on the same generated
# capture: ipattrib-agent --read FILE (events off) and tcpdump -r FILE -w
# /dev/null, each RUNS times; prints median wall time, packets/s, requests/s
# and peak RSS. Builds nothing: point it at an existing (Release) build.
#
#   bench/offline_throughput.sh [BUILD_DIR]        default: build/release
#   env: REQUESTS (300000, ~1.45M packets), SEED (1), RUNS (3),
#        WORKERS (the agent's [pipeline] workers; default: the config's, 1),
#        WORK_DIR (a fresh temporary folder, removed afterwards)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$repo/build/release}")
requests=${REQUESTS:-300000}
seed=${SEED:-1}
runs=${RUNS:-3}
source "$repo/bench/bench_common.sh"  # find_binary, bench_work_dir
gen=$(find_binary ipattrib-gen)
agent=$(find_binary ipattrib-agent)

[ -n "$gen" ] && [ -n "$agent" ] || {
  echo "offline_throughput: ipattrib-gen or ipattrib-agent not found under $build; build it first" >&2
  exit 1
}
command -v tcpdump >/dev/null || { echo "offline_throughput: tcpdump not installed (scripts/setup.sh)" >&2; exit 1; }
bench_work_dir ipattrib-throughput

export TZ=UTC  # glibc checks the zone per packet otherwise, which doubles tcpdump's time

echo "generating $requests requests (seed $seed) in $work ..."
"$gen" --out "$work/gen.pcap" --truth "$work/truth.tsv" --requests "$requests" --seed "$seed" \
  --config-out "$work/gen.toml" --keys-out "$work/api-keys.tsv" 2> "$work/gen.stderr"
summary=$(cat "$work/gen.stderr")
packets=$(sed -n 's/.*packets=\([0-9]*\).*/\1/p' <<< "$summary")
generated_requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<< "$summary")
file_bytes=$(stat -c %s "$work/gen.pcap")
if [ -n "${WORKERS:-}" ]; then
  printf '\n[pipeline]\nworkers = %s\n' "$WORKERS" >> "$work/gen.toml"
fi
if [ "${packets:-0}" -lt 1000000 ]; then
  echo "offline_throughput: note: only $packets packets; raise REQUESTS for a >= 1M-packet capture" >&2
fi

# run NAME CMD...: RUNS timed runs; records "seconds rss_kb" per run in $work/NAME.runs
run() {
  local name=$1
  shift
  : > "$work/$name.runs"
  for _ in $(seq "$runs"); do
    local start end rss
    start=$(date +%s.%N)
    "$time_bin" -o "$work/$name.rss" -f %M "$@" > /dev/null 2> "$work/$name.stderr"
    rss=$(tail -n 1 "$work/$name.rss")
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v r="$rss" 'BEGIN { printf "%.6f %s\n", e - s, r }' >> "$work/$name.runs"
  done
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

run agent "$agent" --config "$work/gen.toml" --read "$work/gen.pcap"
run tcpdump tcpdump -r "$work/gen.pcap" -w /dev/null

agent_s=$(cut -d' ' -f1 "$work/agent.runs" | median)
tcpdump_s=$(cut -d' ' -f1 "$work/tcpdump.runs" | median)
agent_rss=$(cut -d' ' -f2 "$work/agent.runs" | sort -n | tail -n 1)
tcpdump_rss=$(cut -d' ' -f2 "$work/tcpdump.runs" | sort -n | tail -n 1)

echo
echo "capture: $packets packets, $generated_requests requests, $((file_bytes / 1000000)) MB; $runs runs each, TZ=UTC"
printf '%-34s %10s %14s %14s %12s\n' "reader" "median s" "packets/s" "requests/s" "peak RSS MB"
row() {  # name seconds rss_kb with_requests
  local pps rps rss
  pps=$(awk -v p="$packets" -v s="$2" 'BEGIN { printf "%.0f", p / s }')
  rps=$( [ "$4" = yes ] && awk -v r="$generated_requests" -v s="$2" 'BEGIN { printf "%.0f", r / s }' || echo "-")
  rss=$( [ "$3" = "-" ] && echo "-" || awk -v k="$3" 'BEGIN { printf "%.1f", k / 1024 }')
  printf '%-34s %10.3f %14s %14s %12s\n' "$1" "$2" "$pps" "$rps" "$rss"
}
row "ipattrib-agent --read (${WORKERS:-1} worker(s))" "$agent_s" "$agent_rss" yes
row "tcpdump -r F -w /dev/null" "$tcpdump_s" "$tcpdump_rss" no
awk -v a="$agent_s" -v t="$tcpdump_s" 'BEGIN { printf "agent packets/s : tcpdump packets/s = %.2f\n", t / a }'
echo "(requests/s counts the generator's ground-truth requests; the agent's own counts are in its stats line:)"
tail -n 1 "$work/agent.stderr"
