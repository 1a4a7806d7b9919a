#!/usr/bin/env bash
# A DPDK agent that never runs out of frames (a net_pcap vdev replaying a
# small capture forever, infinite_rx=1) stops cleanly on SIGTERM: exit
# status 0, its final stats line, and the port's counters in it.
#
#   dpdk_sigterm_test.sh GEN_BIN AGENT_BIN WORK_DIR
set -euo pipefail
source "$(dirname "$0")/dpdk_test_config.sh"

gen=$(realpath "$1") agent=$(realpath "$2") work=$3

rm -rf "$work"
mkdir -p "$work"
cd "$work"

"$gen" --out small.pcap --requests 50 --seed 3 --config-out gen.toml --keys-out api-keys.tsv
append_dpdk_config gen.toml ipattrib-dpdk-sigterm "net_pcap0,rx_pcap=$PWD/small.pcap,infinite_rx=1"

"$agent" --config gen.toml --events events.jsonl 2> agent.stderr &
pid=$!
# Running: the port started and frames are flowing (the events file fills).
for _ in $(seq 1 600); do
  if [ -s events.jsonl ]; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: the agent exited before it was stopped:" >&2; tail -n 20 agent.stderr >&2; exit 1
  fi
  sleep 0.1
done
if ! [ -s events.jsonl ]; then
  echo "FAIL: no events after 60 s:" >&2; tail -n 20 agent.stderr >&2; kill -KILL "$pid"; exit 1
fi

kill -TERM "$pid"
for _ in $(seq 1 300); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: the agent still runs 30 s after SIGTERM" >&2; kill -KILL "$pid"; exit 1
fi
rc=0
wait "$pid" || rc=$?
if [ "$rc" != 0 ]; then
  echo "FAIL: exit status $rc after SIGTERM:" >&2; tail -n 20 agent.stderr >&2; exit 1
fi
stats=$(grep 'stats:' agent.stderr | tail -n 1)
if ! grep -q 'capture.dpdk_imissed=' <<< "$stats"; then
  echo "FAIL: no final stats line with the DPDK counters:" >&2; tail -n 5 agent.stderr >&2; exit 1
fi
echo "PASS: stopped on SIGTERM with exit status 0 after $(wc -l < events.jsonl) events"
