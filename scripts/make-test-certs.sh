#!/usr/bin/env bash
# Regenerates the test PKI under fixtures/tls/ with the openssl CLI (1.1.1 or 3.x).
#
#   ca.pem           a private CA ("dojo-hook test CA"), valid until 2125
#   server.pem       for 127.0.0.1 (IP SAN) and localhost (DNS SAN), valid until 2125
#   expired.pem      same names, valid only during 2020
#   wrong-name.pem   for wrong.example only, valid until 2125
#   server.key       the one key of all three server certificates (PKCS#8, P-256)
#   other-ca.pem     an unrelated CA, for "a CA file that does not hold the issuer"
#
# The CA keys are not kept: rerun the script to change anything. The tests only need
# the files above; they never create certificates themselves.
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/fixtures/tls"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

# ca.cnf reads $SAN when loaded; `sign` sets the real value.
export SAN="DNS:unused"

ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

cat > ca.cnf <<'CNF'
[ req ]
distinguished_name = dn
prompt             = no
x509_extensions    = ca_ext
[ dn ]
CN = dojo-hook test CA
[ ca_ext ]
basicConstraints       = critical, CA:true
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ ca ]
default_ca = test_ca
[ test_ca ]
dir             = .
database        = ./index.txt
new_certs_dir   = ./issued
serial          = ./serial
default_md      = sha256
policy          = any
copy_extensions = none
unique_subject  = no
[ any ]
commonName = supplied
[ server_ext ]
basicConstraints       = critical, CA:false
keyUsage               = critical, digitalSignature
extendedKeyUsage       = serverAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
subjectAltName         = $ENV::SAN
CNF

mkdir issued
touch index.txt
echo 1000 > serial

# Two self-signed CAs with fixed dates (`openssl ca -selfsign`: `req -x509` cannot
# back-date on OpenSSL 3.0); only the first signs anything.
for name in ca other-ca; do
  ec_key "$name.key"
  cn="dojo-hook test CA"; [ "$name" = other-ca ] && cn="dojo-hook unrelated CA"
  openssl req -new -config ca.cnf -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
  openssl ca -batch -selfsign -config ca.cnf -extensions ca_ext -keyfile "$name.key" \
    -in "$name.csr" -out "$name.full" -startdate 20250101000000Z -enddate 21250101000000Z 2>/dev/null
  openssl x509 -in "$name.full" -out "$name.pem"
done

ec_key server.key

# sign NAME SAN START END
sign() {
  openssl req -new -key server.key -subj "/CN=$1" -out "$1.csr"
  SAN="$2" openssl ca -batch -config ca.cnf -extensions server_ext \
    -cert ca.pem -keyfile ca.key -in "$1.csr" -out "$1.full" \
    -startdate "$3" -enddate "$4" 2>/dev/null
  openssl x509 -in "$1.full" -out "$1.pem"
}

sign server "IP:127.0.0.1, DNS:localhost" 20250101000000Z 21250101000000Z
sign expired "IP:127.0.0.1, DNS:localhost" 20200101000000Z 20210101000000Z
sign wrong-name "DNS:wrong.example" 20250101000000Z 21250101000000Z

mkdir -p "$out"
cp ca.pem other-ca.pem server.pem expired.pem wrong-name.pem server.key "$out/"
for f in server expired wrong-name; do
  openssl x509 -in "$out/$f.pem" -noout -subject -enddate -ext subjectAltName
done
echo "wrote $out"
