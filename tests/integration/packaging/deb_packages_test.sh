#!/usr/bin/env bash
# Usage: deb_packages_test.sh BUILD_DIR WORK_DIR
#
# Builds the ipattrib-agent and ipattrib-collector packages with cpack from
# this build, installs them with `dpkg -i` on this machine, and checks what a
# user gets: binaries and configs where the installed units point, units that
# `systemd-analyze verify` accepts, the system user and its state directory,
# nothing enabled, configs kept over a reinstall (conffiles), `--help` from
# /usr/bin; then `dpkg --purge` leaves nothing behind. The machine ends as it
# was (the user "ipattrib" is removed again if this test created it).
# Exit 77 (skipped) when not root, without dpkg/cpack, or when ipattrib is
# already installed or configured here (the test must not touch that).
set -uo pipefail
build=$(realpath "$1")
work=$2
packages=(ipattrib-agent ipattrib-collector)

skip() {
  echo "skipped: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "installing packages needs root"
for tool in dpkg dpkg-deb dpkg-shlibdeps cpack flock; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done

# One run at a time on this machine, whichever build dir it comes from.
lock_dir=/run/lock
[[ -d $lock_dir ]] || lock_dir=/tmp
exec 9>"$lock_dir/ipattrib-deb-packages-test.lock"
flock -w 900 9 || { echo "FAIL: another deb_packages test held the lock for 15 minutes" >&2; exit 1; }

for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed" && skip "$p is installed on this machine"
done
[[ -e /etc/ipattrib || -e /var/lib/ipattrib ]] && skip "/etc/ipattrib or /var/lib/ipattrib exists on this machine"
user_existed=no
getent passwd ipattrib >/dev/null && user_existed=yes
group_existed=no
getent group ipattrib >/dev/null && group_existed=yes

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
cleanup() {
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -qv "not-installed" && dpkg --purge "$p" >/dev/null 2>&1
  done
  [[ $user_existed == no ]] && getent passwd ipattrib >/dev/null && userdel ipattrib
  [[ $group_existed == no ]] && getent group ipattrib >/dev/null && groupdel ipattrib
  rm -rf /etc/ipattrib /var/lib/ipattrib
}
trap cleanup EXIT

rm -rf "$work"
mkdir -p "$work"
if ! cpack --config "$build/CPackConfig.cmake" -B "$work" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  echo "FAIL: cpack" >&2
  exit 1
fi
debs=()
for p in "${packages[@]}"; do
  deb=$(ls "$work/${p}_"*.deb 2>/dev/null | head -1)
  [[ -n $deb ]] || { echo "FAIL: cpack made no $p package" >&2; exit 1; }
  debs+=("$deb")
  dpkg-deb -f "$deb" Depends | grep -q 'libc6' || fail "$p: Depends lacks the shared-library dependencies: $(dpkg-deb -f "$deb" Depends)"
done
dpkg-deb -f "${debs[0]}" Depends | grep -q 'libpcap0.8' || fail "ipattrib-agent does not depend on libpcap0.8"

if ! dpkg -i "${debs[@]}" >"$work/dpkg-install.log" 2>&1; then
  cat "$work/dpkg-install.log" >&2
  echo "FAIL: dpkg -i" >&2
  exit 1
fi

# --- what the installed units expect is there --------------------------------
unit_dir=/usr/lib/systemd/system
for p in "${packages[@]}"; do
  unit=$unit_dir/$p.service
  [[ -f $unit ]] || { fail "$unit missing"; continue; }
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  binary=${exec_start%% *}
  [[ $binary == /usr/bin/$p && -x $binary ]] || fail "$unit: ExecStart binary '$binary' is not an executable /usr/bin/$p"
  config=$(sed -n 's/.*--config \([^ ]*\).*/\1/p' <<<"$exec_start")
  [[ $config == /etc/ipattrib/${p#ipattrib-}.toml && -f $config ]] || fail "$unit: config '$config' missing"
  dpkg-query -W -f='${Conffiles}\n' "$p" | grep -q " $config " || fail "$p: $config is not a conffile"
  out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify $unit: $out"
  [[ -z $out ]] || fail "systemd-analyze verify $unit printed: $out"
  # Installing enables nothing.
  ls /etc/systemd/system/*.wants/"$p.service" >/dev/null 2>&1 && fail "$p.service was enabled by the package"
  [[ -f /usr/share/doc/$p/operations.md ]] || fail "/usr/share/doc/$p/operations.md missing"
done
[[ -x /usr/bin/ipattribctl ]] || fail "/usr/bin/ipattribctl missing"
[[ -f /etc/ipattrib/api-keys.example.tsv ]] || fail "the agent config's key file is missing"

# --- the system user and its directories --------------------------------------
shell=$(getent passwd ipattrib | cut -d: -f7)
[[ $shell == /usr/sbin/nologin ]] || fail "user ipattrib: shell '$shell', expected /usr/sbin/nologin"
[[ $(stat -c '%U:%G %a' /var/lib/ipattrib) == "ipattrib:ipattrib 750" ]] ||
  fail "/var/lib/ipattrib is $(stat -c '%U:%G %a' /var/lib/ipattrib)"
[[ $(stat -c '%U:%G %a' /etc/ipattrib/pki) == "root:ipattrib 750" ]] ||
  fail "/etc/ipattrib/pki is $(stat -c '%U:%G %a' /etc/ipattrib/pki)"

# --- the installed programs run ------------------------------------------------
/usr/bin/ipattrib-collector --help >"$work/help.txt" 2>&1 || fail "ipattrib-collector --help failed: $(cat "$work/help.txt")"
grep -q -- "--config" "$work/help.txt" || fail "ipattrib-collector --help printed: $(cat "$work/help.txt")"
/usr/bin/ipattribctl --help >/dev/null 2>&1 || fail "ipattribctl --help failed"
# The unit's ExecStartPre: the installed example config is valid as it stands.
out=$(/usr/bin/ipattrib-agent --config /etc/ipattrib/agent.toml --check-config 2>&1) ||
  fail "installed agent.toml fails --check-config: $out"

# The DPDK backend's module, when this build has one, is installed where the
# agent looks for it, and the installed agent reads a capture through it.
if [[ -f $build/lib/ipattrib/ipattrib-capture-dpdk.so ]]; then
  [[ -f /usr/lib/ipattrib/ipattrib-capture-dpdk.so ]] || fail "/usr/lib/ipattrib/ipattrib-capture-dpdk.so missing"
  "$build/bin/ipattrib-gen" --out "$work/dpdk.pcap" --requests 10 --seed 2 --config-out "$work/dpdk.toml" \
    --keys-out "$work/dpdk-keys.tsv" >/dev/null 2>&1 || fail "ipattrib-gen failed"
  source "$(dirname "$0")/../dpdk/dpdk_test_config.sh"
  append_dpdk_config "$work/dpdk.toml" ipattrib-deb "net_pcap0,rx_pcap=$work/dpdk.pcap"
  /usr/bin/ipattrib-agent --config "$work/dpdk.toml" --events "$work/dpdk.jsonl" 2>"$work/dpdk.stderr" ||
    fail "the installed agent cannot read through DPDK: $(tail -n 3 "$work/dpdk.stderr")"
  [[ $(wc -l <"$work/dpdk.jsonl") -eq 10 ]] || fail "the installed agent found $(wc -l <"$work/dpdk.jsonl") of 10 requests through DPDK"
fi

# --- an operator's config edit survives a reinstall (conffile) ------------------
echo "# edited by the operator" >>/etc/ipattrib/agent.toml
dpkg -i "${debs[@]}" >"$work/dpkg-reinstall.log" 2>&1 || fail "reinstall: $(cat "$work/dpkg-reinstall.log")"
grep -q "edited by the operator" /etc/ipattrib/agent.toml || fail "reinstall overwrote /etc/ipattrib/agent.toml"

# --- purge leaves nothing ------------------------------------------------------
dpkg --purge "${packages[@]}" >"$work/dpkg-purge.log" 2>&1 || fail "dpkg --purge: $(cat "$work/dpkg-purge.log")"
for path in /usr/bin/ipattrib-agent /usr/bin/ipattrib-collector /usr/bin/ipattribctl /usr/lib/ipattrib \
  $unit_dir/ipattrib-agent.service $unit_dir/ipattrib-collector.service /etc/ipattrib /var/lib/ipattrib; do
  [[ -e $path ]] && fail "$path remains after purge"
done
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "installed" && fail "$p still known to dpkg after purge"
done

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "deb_packages: all checks passed"
