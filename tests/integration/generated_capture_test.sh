#!/usr/bin/env bash
# The agent against the generator's ground truth: a generated gateway capture
# of >= 100k requests is replayed with the matching config and every request
# must be reported exactly once with the right client IP, account, principal
# and class, and nothing else.
#
#   generated_capture_test.sh GEN_BIN AGENT_BIN COMPARE_BIN WORK_DIR [REQUESTS] [SEED]
set -euo pipefail

gen=$(realpath "$1") agent=$(realpath "$2") compare=$(realpath "$3") work=$4
requests=${5:-100000}
seed=${6:-20261123}
workers=${7:-}

rm -rf "$work"
mkdir -p "$work"
cd "$work"

"$gen" --out gen.pcap --truth truth.tsv --requests "$requests" --seed "$seed" \
  --config-out gen.toml --keys-out api-keys.tsv
if [ -n "$workers" ]; then
  printf '\n[pipeline]\nworkers = %s\n' "$workers" >> gen.toml
fi

if ! "$agent" --config gen.toml --check-config; then
  echo "FAIL: the agent rejects the generated config $work/gen.toml" >&2
  exit 1
fi

TZ=UTC "$agent" --config gen.toml --read gen.pcap --events out.jsonl 2> agent.stderr || {
  echo "FAIL: agent exited with $?; its stderr:" >&2
  tail -n 20 agent.stderr >&2
  exit 1
}
tail -n 3 agent.stderr

if [ -n "$workers" ]; then
  stats=$(grep 'stats:' agent.stderr | tail -n 1)
  counter() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<< "$stats"; }
  if [ "$(counter pipeline.workers)" != "$workers" ] || [ "$(counter pipeline.queue_full_drops)" != 0 ]; then
    echo "FAIL: expected $workers workers and no queue-full drops; stats: $stats" >&2
    exit 1
  fi
  for ((i = 0; i < workers; i++)); do
    frames=$(counter "pipeline.worker$i.frames")
    if [ "${frames:-0}" -eq 0 ]; then
      echo "FAIL: worker $i handled no frames; stats: $stats" >&2
      exit 1
    fi
  done
fi

if "$compare" truth.tsv out.jsonl; then
  echo "PASS: agent agrees with the ground truth on all $requests requests"
  rm -f gen.pcap  # large; the rest stays for inspection
else
  echo "FAIL: inputs kept in $work (gen.pcap, truth.tsv, out.jsonl, gen.toml, agent.stderr)" >&2
  exit 1
fi
