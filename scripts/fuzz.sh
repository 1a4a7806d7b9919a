#!/usr/bin/env bash
# Bounded libFuzzer runs of every fuzz target (tests/fuzz), in their own build
# dir with clang. Skipped (exit 0) where clang or its fuzzer runtime is
# missing; fails when a target crashes or a build fails.
#   FUZZ_SECONDS  time per target (default 60)
#   FUZZ_BUILD_DIR (default build/fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
BUILD_DIR=${FUZZ_BUILD_DIR:-build/fuzz}
FUZZER_RT=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a

if ! command -v clang++ >/dev/null 2>&1 || [ ! -f "$FUZZER_RT" ]; then
  echo "fuzz.sh: clang++ or libFuzzer runtime ($FUZZER_RT) missing; skipping fuzz runs"
  exit 0
fi

# Libraries get coverage instrumentation (fuzzer-no-link) so libFuzzer can
# steer into them; the targets themselves link libFuzzer (tests/fuzz).
SANITIZE="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
# Bench stays configured (only named targets are built) because the packet-path
# seed writer replays the traffic generator's capture.
CC=clang CXX=clang++ cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DIPATTRIB_FUZZ=ON -DIPATTRIB_BUILD_TESTS=OFF -DIPATTRIB_BUILD_BENCH=ON \
  -DCMAKE_CXX_FLAGS="$SANITIZE" >/dev/null

# Every libFuzzer target: executables named fuzz_* that are not replays.
mapfile -t TARGETS < <(cmake --build "$BUILD_DIR" --target help | sed -n 's/^\(fuzz_[a-z0-9_]*\): .*/\1/p' |
  grep -v '_replay$' | sort -u)
if [ "${#TARGETS[@]}" -eq 0 ]; then
  echo "fuzz.sh: no fuzz targets found" >&2
  exit 1
fi
cmake --build "$BUILD_DIR" --target write_fuzz_seeds write_packet_path_seeds write_wire_fuzz_seeds "${TARGETS[@]}"

CORPUS_ROOT="$BUILD_DIR/corpus"
"$BUILD_DIR/tests/fuzz/write_fuzz_seeds" "$CORPUS_ROOT"
"$BUILD_DIR/tests/fuzz/write_packet_path_seeds" "$CORPUS_ROOT" >/dev/null
"$BUILD_DIR/tests/fuzz/write_wire_fuzz_seeds" "$CORPUS_ROOT" >/dev/null
for target in "${TARGETS[@]}"; do
  corpus="$CORPUS_ROOT/$target"
  mkdir -p "$corpus" "$BUILD_DIR/crashes/$target"
  echo "fuzz.sh: $target for ${FUZZ_SECONDS}s"
  if ! "$BUILD_DIR/tests/fuzz/$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$BUILD_DIR/crashes/$target/" "$corpus" 2>"$BUILD_DIR/$target.log"; then
    tail -n 60 "$BUILD_DIR/$target.log" >&2
    echo "fuzz.sh: $target FAILED; reproducer in $BUILD_DIR/crashes/$target/" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$BUILD_DIR/$target.log" || true
done
echo "fuzz.sh: all fuzz targets ran clean"
