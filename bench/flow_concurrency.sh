#!/usr/bin/env bash
# Issue 7: the agent's packet rate while its flow table holds 10 k, 100 k and
# 1 M concurrent flows, end to end (bench/agent_micro_bench times the flow
# table alone).
#
#   bench/flow_concurrency.sh [BUILD_DIR]   default: build-bench (as bench/run.sh)
#   env: FLOWS ("0 10000 100000 1000000"), REQUESTS (300000), SEED (1),
#        RUNS (3), WORK_DIR (kept; default a temporary directory)
#
# For each N the generator writes gen-N.pcap: N client connections that
# complete a handshake and then stay open, followed by the standard traffic
# (REQUESTS requests, as bench/run.sh); and idle-N.pcap: the same N handshakes
# alone, a byte-identical prefix of gen-N.pcap. The agent (pcap, 1 worker,
# [flow] max_flows = 1,100,000, idle_timeout_s = 600: the idle flows are never
# closed or evicted while the traffic runs) reads both RUNS times. The
# traffic's rate is its packets over the median wall time gen-N takes beyond
# idle-N, so neither start-up nor the handshakes are counted in it; the
# whole-file rate is printed beside it. "flows held" is the agent's count of
# flows still open at the end of gen-N (flow.closed_flush), evictions must be
# 0, and requests are the agent's against the generator's ground truth.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$repo/build-bench}
flows=${FLOWS:-0 10000 100000 1000000}
requests=${REQUESTS:-300000}
seed=${SEED:-1}
runs=${RUNS:-3}
max_flows=1100000
export TZ=UTC

source "$repo/bench/bench_common.sh"
bench_binaries ipattrib-agent ipattrib-gen
gen=$(find_binary ipattrib-gen)
agent=$(find_binary ipattrib-agent)
bench_work_dir ipattrib-flows

# run NAME FILE: RUNS timed agent runs; "wall_s rss_kb" per run in NAME.runs,
# the last run's stderr (with its final stats line) in NAME.err.
run() {
  local name=$1 file=$2
  : > "$work/$name.runs"
  for _ in $(seq "$runs"); do
    local start end
    start=$(date +%s.%N)
    "$time_bin" -o "$work/$name.rss" -f '%M' "$agent" --config "$work/agent.toml" --geo-db "$work/geo.mmdb" --read "$file" \
      > /dev/null 2> "$work/$name.err" || { echo "bench: $name failed:" >&2; tail -n 5 "$work/$name.err" >&2; exit 1; }
    end=$(date +%s.%N)
    awk -v s="$start" -v e="$end" -v m="$(tail -n 1 "$work/$name.rss")" 'BEGIN { printf "%.6f %s\n", e - s, m }' \
      >> "$work/$name.runs"
  done
}
stat_of() { grep 'stats:' "$work/$1.err" | tail -n 1 | sed -n "s/.* $2=\([0-9]*\).*/\1/p"; }
packets_of() { sed -n 's/.*packets=\([0-9]*\).*/\1/p' "$work/$1.gen"; }

rows=()
for n in $flows; do
  echo "bench: $n idle connections + $requests requests (seed $seed) ..."
  "$gen" --out "$work/gen-$n.pcap" --truth "$work/truth-$n.tsv" --requests "$requests" --seed "$seed" \
    --idle-connections "$n" --config-out "$work/gen.toml" --keys-out "$work/api-keys.tsv" \
    --geo-out "$work/geo.mmdb" 2> "$work/gen-$n.gen"
  "$gen" --out "$work/idle-$n.pcap" --requests 0 --seed "$seed" --idle-connections "$n" 2> "$work/idle-$n.gen"
  { cat "$work/gen.toml"
    printf '\n[flow]\nmax_flows = %s\nidle_timeout_s = 600\n' "$max_flows"
  } > "$work/agent.toml"
  run "idle-$n" "$work/idle-$n.pcap"
  run "gen-$n" "$work/gen-$n.pcap"
  all=$(packets_of "gen-$n")
  traffic=$((all - $(packets_of "idle-$n")))
  t_all=$(median_s "gen-$n")
  t_traffic=$(awk -v a="$t_all" -v i="$(median_s "idle-$n")" 'BEGIN { print a - i }')
  truth=$(($(wc -l < "$work/truth-$n.tsv") - 1))
  rows+=("$(printf '| %s | %s | %.2f M | %.2f M | %s | %s | %s / %s | %s MB |' "$n" "$traffic" \
    "$(awk -v p="$traffic" -v s="$t_traffic" 'BEGIN { print (s > 0 ? p / s : 0) / 1e6 }')" \
    "$(awk -v p="$all" -v s="$t_all" 'BEGIN { print p / s / 1e6 }')" \
    "$(stat_of "gen-$n" flow.closed_flush)" \
    "$(($(stat_of "gen-$n" flow.evicted_table_full) + $(stat_of "gen-$n" flow.evicted_for_memory)))" \
    "$(stat_of "gen-$n" attribution.requests)" "$truth" "$(peak_mb "gen-$n")")")
  rm -f "$work/gen-$n.pcap" "$work/idle-$n.pcap"
done

bound_mb=$(awk -v f="$max_flows" 'BEGIN { b = 1; while (b < 2 * f) b *= 2; printf "%.0f", (f * 160 + b * 4) / 1048576 }')
echo
echo "ipattrib-agent (pcap, 1 worker), $requests requests (seed $seed) behind N idle open connections; median of $runs runs"
echo "flow-table bound: [flow] max_flows = $max_flows -> at most $bound_mb MB of entries and buckets"
echo
echo "| idle flows N | traffic packets | traffic packets/s | whole file packets/s | flows held at the end | evictions | requests / truth | peak RSS |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "(traffic packets/s: the traffic's packets / (median wall of gen-N - median wall of idle-N); the"
echo " flow table's per-packet cost should not grow with N: issue 7, reported, not asserted)"
