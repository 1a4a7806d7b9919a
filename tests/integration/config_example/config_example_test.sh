#!/usr/bin/env bash
# Usage: config_example_test.sh AGENT REPO_ROOT WORK_DIR
#
# 1. config/agent.toml passes `--check-config`, from the repo root (relative
#    path) and from elsewhere (absolute path: the API key file must resolve
#    against the config's folder, not the working directory).
# 2. Copies with one fault each are rejected with exit 1 and exactly one
#    "agent.toml:LINE: message" naming the faulty line.
# 3. Every [section]/key in docs/configuration.md's tables appears in
#    config/agent.toml (set or commented out), and every key there is
#    documented.
set -uo pipefail

agent=$(realpath "$1")
root=$2
work=$3
example=$root/config/agent.toml
doc=$root/docs/configuration.md
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

rm -rf "$work"
mkdir -p "$work"

# --- 1. the example is valid as-is -----------------------------------------
if out=$(cd "$root" && "$agent" --config config/agent.toml --check-config 2>&1); then
  grep -q '^config/agent.toml: ok$' <<<"$out" || fail "relative --check-config printed: $out"
else
  fail "config/agent.toml rejected (from the repo root): $out"
fi
if ! out=$(cd "$work" && "$agent" --config "$example" --check-config 2>&1); then
  fail "config/agent.toml rejected (from another directory): $out"
fi

# --- 2. one fault per copy, reported at its line ----------------------------
# expect_error NAME LINE_REGEX SED_REPLACEMENT MESSAGE_REGEX
# Applies `s/LINE_REGEX/SED_REPLACEMENT/` to the first line matching
# LINE_REGEX in a fresh copy and requires exactly one error, at that line.
expect_error() {
  local name=$1 pattern=$2 replacement=$3 message=$4
  local dir=$work/$name
  mkdir -p "$dir"
  cp "$example" "$root/config/api-keys.example.tsv" "$dir/"
  local line
  line=$(grep -n -m1 -E "$pattern" "$dir/agent.toml" | cut -d: -f1)
  if [[ -z $line ]]; then
    fail "$name: no line matches '$pattern' in config/agent.toml"
    return
  fi
  sed -i -E "${line}s/${pattern}/${replacement}/" "$dir/agent.toml"
  check_rejected "$name" "$dir/agent.toml" "$line" "$message"
}

# check_rejected NAME CONFIG LINE MESSAGE_REGEX
check_rejected() {
  local name=$1 config=$2 line=$3 message=$4
  local err rc
  err=$("$agent" --config "$config" --check-config 2>&1 >/dev/null)
  rc=$?
  [[ $rc -eq 1 ]] || fail "$name: exit status $rc, expected 1 (stderr: $err)"
  local count
  count=$(grep -c . <<<"$err")
  [[ $count -eq 1 ]] || fail "$name: expected exactly one error, got $count: $err"
  grep -qE "^${config//./\\.}:${line}: ${message}" <<<"$err" ||
    fail "$name: expected 'agent.toml:$line: $message', got: $err"
}

expect_error unknown_key '^snaplen = ' 'snaplenn = ' "unknown key 'snaplenn' in \[capture\]"
expect_error wrong_type '^max_headers = 100' 'max_headers = "100"' "'max_headers' must be an integer"
expect_error out_of_range '^idle_timeout_s = 120' 'idle_timeout_s = 0' "'idle_timeout_s' must be between 1 and 86400, got 0"
expect_error bad_bool '^promiscuous = false' 'promiscuous = "no"' "'promiscuous' must be true or false"
expect_error bad_cidr '^trusted_proxies = \[\]' 'trusted_proxies = ["10.0.0.300"]' \
  "trusted_proxies: '10.0.0.300' is not an address or CIDR"
expect_error bad_class '^class = "access"' 'class = "write"' "'class' must be admin or access, got 'write'"
expect_error rule_key '^principal_claim = ' 'principal_clam = ' "unknown key 'principal_clam' in a jwt account rule"
expect_error bad_template '^template = .*' 'template = "\/v1\/{account}\/{account}"' \
  "'template': path template has more than one \{account\}"
expect_error geo_key '^optional = true' 'optonal = true' "unknown key 'optonal' in \[\[geo.database\]\]"

# An unknown section at the top level.
dir=$work/unknown_section
mkdir -p "$dir"
cp "$example" "$root/config/api-keys.example.tsv" "$dir/"
printf '\n[metrics]\nport = 9100\n' >>"$dir/agent.toml"
check_rejected unknown_section "$dir/agent.toml" "$(grep -n -m1 '^\[metrics\]' "$dir/agent.toml" | cut -d: -f1)" \
  "unknown key 'metrics' in the top level"

# A bad line in the API key file: reported at the key_file line, with the key
# file's own line, and without echoing the (possibly secret) field.
dir=$work/bad_key_file
mkdir -p "$dir"
cp "$example" "$root/config/api-keys.example.tsv" "$dir/"
echo 'sk_live_not_a_digest acme' >>"$dir/api-keys.example.tsv"
key_line=$(wc -l <"$dir/api-keys.example.tsv")
check_rejected bad_key_file "$dir/agent.toml" "$(grep -n -m1 '^key_file = ' "$dir/agent.toml" | cut -d: -f1)" \
  "${dir//./\\.}/api-keys\.example\.tsv:${key_line}: first field is not a SHA-256 digest"
if "$agent" --config "$dir/agent.toml" --check-config 2>&1 | grep -q sk_live_not_a_digest; then
  fail "bad_key_file: the bad field was echoed"
fi

# --- 3. docs/configuration.md and config/agent.toml list the same keys ------
# Documented: rows "| `key` |" of tables under a "## `[section]`" or
# "### `[[section]]`" heading (any other heading ends the section).
documented=$(awk '
  /^##+ `\[\[?[a-z_.]+\]\]?`/ { s = $0; sub(/^##+ `\[\[?/, "", s); sub(/\]\]?`.*/, "", s); section = s; next }
  /^#/ { section = ""; next }
  section != "" && /^\| `[a-z_]+` \|/ { k = $0; sub(/^\| `/, "", k); sub(/`.*/, "", k); print section "." k }
' "$doc" | sort -u)
# Shown: "key =" or "# key =" lines, under the last [section]/[[section]] header.
shown=$(awk '
  /^\[\[?[a-z_.]+\]\]?/ { s = $0; sub(/^\[\[?/, "", s); sub(/\].*/, "", s); section = s; print "header " s; next }
  /^(# )?[a-z_]+ = / { k = $0; sub(/^# /, "", k); sub(/ = .*/, "", k); print section "." k }
' "$example" | sort -u)

[[ $(wc -l <<<"$documented") -ge 40 ]] || fail "found only $(wc -l <<<"$documented") documented keys in $doc"
while read -r key; do
  grep -qxF "$key" <<<"$shown" && continue
  grep -qxF "header $key" <<<"$shown" && continue  # a sub-table key: [attribution] account -> [[attribution.account]]
  fail "docs/configuration.md documents '$key', config/agent.toml does not show it"
done <<<"$documented"
while read -r key; do
  [[ $key == header\ * ]] && continue
  grep -qxF "$key" <<<"$documented" || fail "config/agent.toml shows '$key', docs/configuration.md does not document it"
done <<<"$shown"
while read -r header; do
  section=${header#header }
  grep -q "^${section//./\\.}\." <<<"$documented" || fail "section [$section] of config/agent.toml is not documented"
done < <(grep '^header ' <<<"$shown")

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "config_example: all checks passed"
