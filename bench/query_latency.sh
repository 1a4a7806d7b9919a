#!/usr/bin/env bash
# Query latency on a large ledger: ledger_bench fills a SQLite ledger with
# ACCESSES accesses (default 10 million, the issue's figure; ~2 min of ingest
# here) and prints store-level latencies, then api_query_bench asks the same
# kinds of questions through the HTTP API. Prints; asserts nothing.
#   bench/query_latency.sh [ACCESSES]      (needs a build with -DIPATTRIB_BUILD_BENCH=ON in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
accesses=${1:-10000000}
bin=${BUILD_DIR:-build}/bench
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/ledger_bench" "$accesses" "$work/ledger.sqlite3"
"$bin/api_query_bench" "$work/ledger.sqlite3"
