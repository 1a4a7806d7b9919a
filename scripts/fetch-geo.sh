#!/usr/bin/env bash
# Puts the default country database for the quickstart and tests in place:
# the npm registry package @ip-location-db/geo-whois-asn-country-mmdb (CC BY 4.0
# data), fetched with `npm pack` — no other download source. Idempotent: a
# database younger than 30 days is kept. Production deployments point the agent
# at MaxMind files kept fresh by geoipupdate instead (docs/geo.md).
set -euo pipefail

PACKAGE="@ip-location-db/geo-whois-asn-country-mmdb"
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST_DIR="${IPATTRIB_GEO_DIR:-$REPO_ROOT/var/geo}"
DEST="$DEST_DIR/geo-whois-asn-country.mmdb"
MAX_AGE_DAYS=30

if [ -s "$DEST" ] && [ -z "$(find "$DEST" -mtime +"$MAX_AGE_DAYS" -print)" ]; then
  echo "fetch-geo: $DEST is present and younger than $MAX_AGE_DAYS days; keeping it"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "fetch-geo: error: npm is not installed (scripts/setup.sh installs it); cannot fetch $PACKAGE" >&2
  exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

echo "fetch-geo: npm pack $PACKAGE"
if ! (cd "$WORK" && npm pack --silent "$PACKAGE" >"$WORK/pack.out" 2>"$WORK/pack.err"); then
  echo "fetch-geo: error: 'npm pack $PACKAGE' failed:" >&2
  cat "$WORK/pack.err" >&2
  exit 1
fi

TARBALL="$(find "$WORK" -maxdepth 1 -name '*.tgz' -print -quit)"
if [ -z "$TARBALL" ]; then
  echo "fetch-geo: error: npm pack produced no tarball" >&2
  exit 1
fi
tar -xzf "$TARBALL" -C "$WORK"

# The package ships -ipv4, -ipv6 and a combined file; the combined one answers
# both families.
MMDB="$WORK/package/geo-whois-asn-country.mmdb"
[ -f "$MMDB" ] || MMDB="$(find "$WORK/package" -name '*.mmdb' -print | sort | sed -n 1p)"
if [ -z "$MMDB" ]; then
  echo "fetch-geo: error: no .mmdb file in $(basename "$TARBALL")" >&2
  exit 1
fi
# libmaxminddb must be able to open it (a lookup miss is fine).
if command -v mmdblookup >/dev/null 2>&1 && mmdblookup --file "$MMDB" --ip 8.8.8.8 2>&1 | grep -q "Can't open"; then
  echo "fetch-geo: error: $MMDB from $(basename "$TARBALL") is not a readable MaxMind DB" >&2
  exit 1
fi

mkdir -p "$DEST_DIR"
# Write beside the destination and rename, as geoipupdate does, so a running
# agent never sees a half-written file.
cp "$MMDB" "$DEST.tmp"
mv -f "$DEST.tmp" "$DEST"
echo "fetch-geo: installed $DEST ($(stat -c %s "$DEST") bytes, from $(basename "$TARBALL"))"
