#!/usr/bin/env bash
# Usage: systemd_units_test.sh REPO_ROOT BIN_DIR WORK_DIR
#
# systemd/ipattrib-agent.service and systemd/ipattrib-collector.service, with
# their /usr/bin paths pointed at this build's binaries, pass
# `systemd-analyze verify` with no output at all, and keep the settings
# docs/operations.md promises (a later edit that drops one fails here).
# Exit 77 (skipped) where systemd-analyze is absent.
set -uo pipefail
root=$1
bin=$2
work=$3

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "skipped: systemd-analyze is not installed (Debian package: systemd)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

for unit in ipattrib-agent.service ipattrib-collector.service; do
  sed "s#/usr/bin/#$bin/#g" "$root/systemd/$unit" >"$work/$unit"
done
out=$(cd "$work" && systemd-analyze verify ./ipattrib-agent.service ./ipattrib-collector.service 2>&1)
rc=$?
[[ $rc -eq 0 && -z $out ]] || fail "systemd-analyze verify (exit $rc): $out"

require() {  # require UNIT LINE
  grep -qxF "$2" "$work/$1" || fail "$1 lacks '$2'"
}
for unit in ipattrib-agent.service ipattrib-collector.service; do
  for line in Type=notify NotifyAccess=main 'ExecReload=/bin/kill -HUP $MAINPID' Restart=on-failure WatchdogSec=30s \
    User=ipattrib Group=ipattrib NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    StateDirectory=ipattrib ConfigurationDirectory=ipattrib UMask=0077 SystemCallFilter=@system-service; do
    require "$unit" "$line"
  done
done
require ipattrib-agent.service 'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN'
require ipattrib-agent.service 'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN'
require ipattrib-agent.service 'RestrictAddressFamilies=AF_PACKET AF_NETLINK AF_UNIX AF_INET AF_INET6'
require ipattrib-collector.service 'AmbientCapabilities='
require ipattrib-collector.service 'CapabilityBoundingSet='
require ipattrib-collector.service 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6'

# The exposure figures docs/operations.md reports (informational here).
for unit in ipattrib-agent.service ipattrib-collector.service; do
  (cd "$work" && systemd-analyze security --offline=true --no-pager "./$unit" 2>/dev/null | tail -1)
done

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "systemd_units: all checks passed"
