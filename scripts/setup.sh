#!/usr/bin/env bash
# Installs every Debian package ipattrib needs to build, test and benchmark.
# Idempotent; the only install step. Run as root (or with sudo available).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev                # libFuzzer targets
  libpcap-dev tcpdump                     # capture; tcpdump is the benchmark peer
  httpry tshark                           # bench/run.sh peers (tshark installs non-interactively below)
  libdpdk-dev                             # optional DPDK capture backend (net_pcap/net_af_packet vdevs in tests)
  libmaxminddb-dev mmdb-bin               # geo
  libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev nlohmann-json3-dev
  libboost-dev                            # Boost.Lockfree
  libzstd-dev libssl-dev libsqlite3-dev libsystemd-dev
  libcap-dev                              # agent: privilege drop keeping CAP_NET_RAW
  libcpp-httplib-dev                      # collector query API, ipattribctl
  libgtest-dev libgmock-dev libbenchmark-dev
  iproute2 procps time                    # time: peak RSS in benchmarks
  nginx-light haproxy curl                # netns end-to-end test: real reverse proxies and clients
  openssl                                 # make-pki.sh (test and quickstart certificates)
  dpkg-dev systemd                        # packaging: dpkg-shlibdeps for cpack, systemd-analyze verify
  iso-codes                               # ISO 3166 codes the special-measures policy is checked against
  libpq-dev postgresql                    # PostgreSQL ledger; tests run their own throwaway server (initdb + pg_ctl)
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# The default geo database for the quickstart and tests (skipped when present).
if [ -x "$(dirname "$0")/fetch-geo.sh" ]; then
  # Not fatal: everything works without it (geo fields stay unknown, the
  # tests that need this database say they skipped).
  "$(dirname "$0")/fetch-geo.sh" || echo "setup: warning: no default geo database (see scripts/fetch-geo.sh)" >&2
fi
