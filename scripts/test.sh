#!/usr/bin/env bash
# Sets up, configures, builds and runs the whole test suite (the README's test
# command; CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

BUILD_DIR=${BUILD_DIR:-build/test}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build "$BUILD_DIR" -j"$(nproc)"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$(nproc)"

# Bounded libFuzzer runs, only where clang's fuzzer runtime exists.
if [ -x scripts/fuzz.sh ]; then
  bash scripts/fuzz.sh
fi
