#!/usr/bin/env bash
# The DPDK backend is a module loaded only for backend = "dpdk"
# (agent/capture/dpdk_module.h):
#   - an agent reading a pcap file never maps a DPDK library;
#   - an agent with backend = "dpdk" maps the module and DPDK, and reads;
#   - an agent copied without its lib/ipattrib directory, or beside a file
#     that is not the module, exits non-zero with an error naming the module,
#     and --check-config (the unit's ExecStartPre) fails the same way.
#
#   dpdk_module_test.sh GEN_BIN AGENT_BIN WORK_DIR
set -euo pipefail
source "$(dirname "$0")/dpdk_test_config.sh"

gen=$(realpath "$1") agent=$(realpath "$2") work=$3

rm -rf "$work"
mkdir -p "$work"
cd "$work"
"$gen" --out small.pcap --requests 20 --seed 5 --config-out gen.toml --keys-out api-keys.tsv > /dev/null

fail() { echo "FAIL: $*" >&2; exit 1; }

# Reading pcap: the maps the agent had when it stopped (LD_DEBUG lists every
# object the loader maps, including dlopen's).
LD_DEBUG=files "$agent" --config gen.toml --read small.pcap --events pcap.jsonl 2> pcap.stderr
[ "$(wc -l < pcap.jsonl)" -gt 0 ] || fail "no events read from the pcap file"
if grep -E 'file=.*(librte_|ipattrib-capture-dpdk)' pcap.stderr > /dev/null; then
  fail "the pcap agent mapped DPDK: $(grep -oE 'file=[^ ]*(librte_|ipattrib-capture-dpdk)[^ ]*' pcap.stderr | head -3)"
fi

cp gen.toml dpdk.toml
append_dpdk_config dpdk.toml ipattrib-dpdk-module "net_pcap0,rx_pcap=$PWD/small.pcap"
"$agent" --config dpdk.toml --check-config > check.out 2>&1 || fail "--check-config of the DPDK config: $(cat check.out)"
LD_DEBUG=files "$agent" --config dpdk.toml --events dpdk.jsonl 2> dpdk.stderr ||
  fail "the DPDK agent failed: $(grep -v 'file=\|calling\|^ *[0-9]*: *$' dpdk.stderr | tail -n 5)"
grep -q 'file=.*ipattrib-capture-dpdk.so' dpdk.stderr || fail "the DPDK agent did not load the module"
grep -q 'file=.*librte_ethdev' dpdk.stderr || fail "the DPDK agent did not load DPDK"
[ "$(wc -l < pcap.jsonl)" = "$(wc -l < dpdk.jsonl)" ] ||
  fail "pcap found $(wc -l < pcap.jsonl) events, DPDK $(wc -l < dpdk.jsonl)"

# An agent whose lib/ipattrib is missing, then holds a file that is no module.
mkdir -p alone/bin
cp "$agent" alone/bin/ipattrib-agent
# --check-config (the unit's ExecStartPre) already says so.
rc=0
alone/bin/ipattrib-agent --config dpdk.toml --check-config > check-missing.out 2>&1 || rc=$?
[ "$rc" != 0 ] || fail "--check-config passed without the module"
grep -q "cannot load the DPDK capture module" check-missing.out || fail "--check-config printed: $(cat check-missing.out)"
rc=0
alone/bin/ipattrib-agent --config dpdk.toml --events alone.jsonl 2> missing.stderr || rc=$?
[ "$rc" != 0 ] || fail "an agent without its module exited 0"
grep -q "cannot load the DPDK capture module: $PWD/alone/lib/ipattrib/ipattrib-capture-dpdk.so" missing.stderr ||
  fail "no clear error for a missing module: $(tail -n 3 missing.stderr)"
mkdir -p alone/lib/ipattrib
# A real shared object without the module's symbol: the agent's own libz.
cp "$(ldd "$agent" | awk '/libz\.so/ { print $3 }')" alone/lib/ipattrib/ipattrib-capture-dpdk.so
rc=0
alone/bin/ipattrib-agent --config dpdk.toml --events alone.jsonl 2> wrong.stderr || rc=$?
[ "$rc" != 0 ] || fail "an agent beside a wrong module exited 0"
grep -q "is not an ipattrib DPDK capture module" wrong.stderr || fail "no clear error for a wrong module: $(tail -n 3 wrong.stderr)"
echo "PASS: pcap maps no DPDK; dpdk loads the module ($(wc -l < dpdk.jsonl) events, as pcap); missing and wrong modules are refused"
