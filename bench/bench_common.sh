# Sourced by bench/run.sh and bench/flow_concurrency.sh, after they set
# `repo` and `build` (a build directory, default build-bench).
#
# bench_binaries NAME...: builds the named targets in $build (configured
#   Release, tests off, if it is not configured yet) when any is missing,
#   then sets build to its real path.
# find_binary NAME: the path of a built binary in $build.
# median_s NAME [FIELD]: the median of field FIELD (default 1, wall seconds)
#   over the lines of $work/NAME.runs.
# peak_mb NAME: the largest field 2 (peak RSS, KB) of $work/NAME.runs, in MB.
# bench_work_dir PREFIX: sets work to $WORK_DIR (kept) or a temporary
#   directory removed at exit; checks /usr/bin/time, which every benchmark
#   uses for peak RSS, and sets time_bin.
find_binary() { find "$build" -maxdepth 3 -name "$1" -type f -perm -u+x 2>/dev/null | sort | head -n 1; }

bench_binaries() {
  local name missing=""
  for name in "$@"; do [ -n "$(find_binary "$name")" ] || missing=yes; done
  if [ -n "$missing" ]; then
    echo "bench: building $* in $build (Release) ..."
    [ -f "$build/CMakeCache.txt" ] ||
      cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIPATTRIB_BUILD_TESTS=OFF > /dev/null
    cmake --build "$build" -j "${JOBS:-2}" --target "$@" > /dev/null
  fi
  build=$(realpath "$build")
}

median_s() { cut -d' ' -f"${2:-1}" "$work/$1.runs" | sort -n | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
peak_mb() { cut -d' ' -f2 "$work/$1.runs" | sort -n | tail -n 1 | awk '{ printf "%.1f", $1 / 1024 }'; }

bench_work_dir() {
  time_bin=/usr/bin/time
  [ -x "$time_bin" ] || { echo "bench: /usr/bin/time missing (Debian package 'time'; scripts/setup.sh)" >&2; exit 1; }
  if [ -n "${WORK_DIR:-}" ]; then
    work=$WORK_DIR
    mkdir -p "$work"
  else
    work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
    trap 'rm -rf "$work"' EXIT
  fi
}
