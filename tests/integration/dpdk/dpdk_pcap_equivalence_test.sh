#!/usr/bin/env bash
# The DPDK backend finds the same requests as libpcap: one generated capture
# is read by ipattrib-agent twice — with libpcap, and with backend = "dpdk"
# through a net_pcap vdev (no hugepages, no PCI, no NIC) — and the two event
# streams must be identical event by event (same requests, same attribution,
# same timestamps), and the DPDK one must match the generator's ground truth.
# Also checks the DPDK counters in the stats line and the run's peak RSS.
#
#   dpdk_pcap_equivalence_test.sh GEN_BIN AGENT_BIN COMPARE_BIN WORK_DIR [REQUESTS]
set -euo pipefail
source "$(dirname "$0")/dpdk_test_config.sh"

gen=$(realpath "$1") agent=$(realpath "$2") compare=$(realpath "$3") work=$4
requests=${5:-20000}

rm -rf "$work"
mkdir -p "$work"
cd "$work"

"$gen" --out gen.pcap --truth truth.tsv --requests "$requests" --seed 20261124 \
  --config-out gen.toml --keys-out api-keys.tsv

cp gen.toml dpdk.toml
append_dpdk_config dpdk.toml ipattrib-dpdk-test "net_pcap0,rx_pcap=$PWD/gen.pcap"
printf 'port = "net_pcap0"\nrx_ring_size = 1024\n' >> dpdk.toml

if ! "$agent" --config dpdk.toml --check-config; then
  echo "FAIL: the agent rejects $work/dpdk.toml" >&2
  exit 1
fi

TZ=UTC "$agent" --config gen.toml --read gen.pcap --events pcap.jsonl 2> pcap.stderr || {
  echo "FAIL: pcap run exited with $?:" >&2; tail -n 20 pcap.stderr >&2; exit 1
}
TZ=UTC /usr/bin/time -f 'peak_rss_kb=%M' -o dpdk.time "$agent" --config dpdk.toml --events dpdk.jsonl 2> dpdk.stderr || {
  echo "FAIL: dpdk run exited with $?:" >&2; tail -n 20 dpdk.stderr >&2; exit 1
}
grep -E 'dpdk: (rte_eal_init|port)' dpdk.stderr

events=$(wc -l < pcap.jsonl)
if [ "$events" -lt "$requests" ]; then
  echo "FAIL: the pcap run found $events events for $requests requests" >&2
  exit 1
fi
if ! cmp -s pcap.jsonl dpdk.jsonl; then
  echo "FAIL: DPDK and libpcap events differ (pcap.jsonl: $events, dpdk.jsonl: $(wc -l < dpdk.jsonl)):" >&2
  diff pcap.jsonl dpdk.jsonl | head -n 20 >&2
  exit 1
fi
echo "same $events events from libpcap and DPDK"

stats=$(grep 'stats:' dpdk.stderr | tail -n 1)
counter() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<< "$stats"; }
frames=$(grep 'stats:' pcap.stderr | tail -n 1 | sed -n 's/.* capture.frames=\([0-9]*\).*/\1/p')
for name in capture.dpdk_imissed capture.dpdk_rx_nombuf capture.dpdk_ierrors; do
  if [ "$(counter "$name")" != 0 ]; then
    echo "FAIL: $name is '$(counter "$name")', expected 0; stats: $stats" >&2
    exit 1
  fi
done
if [ "$(counter capture.frames)" != "$frames" ] || [ "$(counter capture.dpdk_queue0_packets)" != "$frames" ]; then
  echo "FAIL: DPDK read $(counter capture.frames) frames (queue 0: $(counter capture.dpdk_queue0_packets)), libpcap $frames" >&2
  exit 1
fi

# -m 256 without hugepages and a 4095-mbuf pool: the EAL reserves its memory
# lazily, so the whole agent stays small (about 60 MB here).
rss_kb=$(sed -n 's/^peak_rss_kb=//p' dpdk.time)
echo "DPDK run peak RSS: $((rss_kb / 1024)) MB"
if ldd "$agent" | grep -q libasan; then
  echo "(AddressSanitizer build: its shadow memory and quarantine inflate RSS; the 200 MB bound is not checked)"
elif [ "$rss_kb" -gt 204800 ]; then
  echo "FAIL: the DPDK run peaked at $((rss_kb / 1024)) MB (more than 200 MB)" >&2
  exit 1
fi

if "$compare" truth.tsv dpdk.jsonl; then
  echo "PASS: DPDK and libpcap agree on all $events events, and both on the ground truth"
  rm -f gen.pcap
else
  echo "FAIL: DPDK events differ from the ground truth; inputs kept in $work" >&2
  exit 1
fi
