#!/usr/bin/env bash
# make-pki.sh OUT_DIR [--agent NAME ...] [--collector NAME ...]
#
# Makes a small private PKI for agent <-> collector mutual TLS with the
# openssl CLI (EC P-256 keys, SHA-256 signatures):
#   OUT_DIR/ca.crt, ca.key                  the private CA
#   OUT_DIR/collector.crt, collector.key    server cert: SAN DNS:localhost, IP:127.0.0.1, IP:::1
#                                           and DNS:NAME for each --collector NAME
#   OUT_DIR/agents/NAME.crt, NAME.key       client cert per --agent NAME (CN and SAN DNS = NAME)
# Key files are mode 0600. Idempotent: files that exist are kept (the CA is
# reused, so running it again with a new --agent adds that agent only).
# For tests and the quickstart; production PKI belongs to the operator.
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR [--agent NAME ...] [--collector NAME ...]" >&2; exit 2; }

[[ $# -ge 1 ]] || usage
out=$1
shift
agents=()
collector_names=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --agent) [[ $# -ge 2 ]] || usage; agents+=("$2"); shift 2 ;;
    --collector) [[ $# -ge 2 ]] || usage; collector_names+=("$2"); shift 2 ;;
    *) usage ;;
  esac
done

valid_name() { [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; }
for name in "${agents[@]}" "${collector_names[@]}"; do
  valid_name "$name" || { echo "make-pki.sh: invalid name '$name' (letters, digits, . _ -)" >&2; exit 2; }
done

mkdir -p "$out/agents"
umask 077
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; chmod 600 "$1"; }

if [[ ! -s $out/ca.crt || ! -s $out/ca.key ]]; then
  new_key "$out/ca.key"
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days 3650 -subj "/CN=ipattrib test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$out/ca.crt" 2>/dev/null
fi

# sign KEY CRT CN SAN EKU
sign() {
  local key=$1 crt=$2 cn=$3 san=$4 eku=$5
  new_key "$key"
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
    "$eku" "$san" > "$tmp/ext.cnf"
  openssl req -new -key "$key" -subj "/CN=$cn" -out "$tmp/req.csr" 2>/dev/null
  openssl x509 -req -in "$tmp/req.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -CAserial "$tmp/ca.srl" -days 825 -sha256 -extfile "$tmp/ext.cnf" -out "$crt" 2>/dev/null
  chmod 644 "$crt"
}

if [[ ! -s $out/collector.crt || ! -s $out/collector.key ]]; then
  san="DNS:localhost,IP:127.0.0.1,IP:::1"
  for name in "${collector_names[@]}"; do san+=",DNS:$name"; done
  sign "$out/collector.key" "$out/collector.crt" "${collector_names[0]:-localhost}" "$san" serverAuth
fi

for name in "${agents[@]}"; do
  if [[ ! -s $out/agents/$name.crt || ! -s $out/agents/$name.key ]]; then
    sign "$out/agents/$name.key" "$out/agents/$name.crt" "$name" "DNS:$name" clientAuth
  fi
done
chmod 644 "$out/ca.crt"
echo "make-pki.sh: PKI in $out (agents: ${agents[*]:-none})"
