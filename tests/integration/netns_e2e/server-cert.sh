#!/usr/bin/env bash
# server-cert.sh PKI_DIR NAME SUBJECT_ALT_NAME
#
# A TLS server certificate for a host of the netns end-to-end test, signed by
# the CA that scripts/make-pki.sh made in PKI_DIR: NAME.crt, NAME.key and
# NAME.pem (both, for haproxy). make-pki.sh's collector certificate names
# localhost only; hosts in the test's namespaces are reached by address, so
# their certificates carry IP subject alternative names.
set -euo pipefail
[[ $# -eq 3 ]] || { echo "usage: $0 PKI_DIR NAME SUBJECT_ALT_NAME" >&2; exit 2; }
pki=$1 name=$2 san=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
umask 077
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$name.key" 2>/dev/null
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' \
  "$san" > "$tmp/ext.cnf"
openssl req -new -key "$pki/$name.key" -subj "/CN=$name" -out "$tmp/req.csr" 2>/dev/null
openssl x509 -req -in "$tmp/req.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -set_serial "0x$(openssl rand -hex 8)" \
  -days 2 -sha256 -extfile "$tmp/ext.cnf" -out "$pki/$name.crt" 2>/dev/null
cat "$pki/$name.crt" "$pki/$name.key" > "$pki/$name.pem"
chmod 644 "$pki/$name.crt"
