#!/usr/bin/env bash
# Makes the OCSP test vectors in Vectors/x509/ocsp/ with openssl (ca, ocsp responder in
# one-shot mode). Regenerate rather than edit; the tests read times from the responses,
# so a new run only changes bytes, not expectations. See Vectors/x509/ocsp/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=Vectors/x509/ocsp
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p "$OUT"

ec() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

cat > "$W/ext.cnf" <<'EOF'
[ca]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:ocsp-leaf.test
[responder]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
[notresponder]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
EOF

# CA, a second (unrelated) CA, a leaf, a revoked leaf, a delegated responder, a
# certificate of the CA's that is not authorised for OCSP.
for k in ca other leaf revoked responder notresponder stranger impostor forged; do ec "$W/$k.key"; done
openssl req -new -x509 -key "$W/ca.key" -subj "/CN=OCSP Test CA" -days 36500 -sha256 \
    -extensions ca -config "$W/ext.cnf" -out "$W/ca.pem" 2>/dev/null
openssl req -new -x509 -key "$W/other.key" -subj "/CN=Other CA" -days 36500 -sha256 \
    -extensions ca -config "$W/ext.cnf" -out "$W/other.pem" 2>/dev/null
serial=4096
issue() {  # name subject extensions [issuer]
    serial=$((serial + 1))
    local by=${4:-ca}
    openssl req -new -key "$W/$1.key" -subj "$2" -out "$W/$1.csr" 2>/dev/null
    openssl x509 -req -in "$W/$1.csr" -CA "$W/$by.pem" -CAkey "$W/$by.key" -set_serial "$serial" -days 36500 -sha256 \
        -extfile "$W/ext.cnf" -extensions "$3" -out "$W/$1.pem" 2>/dev/null
}
issue leaf "/CN=ocsp-leaf.test" leaf
issue revoked "/CN=ocsp-revoked.test" leaf
issue responder "/CN=OCSP Responder" responder
issue notresponder "/CN=Not A Responder" notresponder
# An impostor CA with the real CA's name (another key), and an OCSPSigning certificate from it.
openssl req -new -x509 -key "$W/impostor.key" -subj "/CN=OCSP Test CA" -days 36500 -sha256 \
    -extensions ca -config "$W/ext.cnf" -out "$W/impostor.pem" 2>/dev/null
issue forged "/CN=Forged Responder" responder impostor

# The CA's database: leaf valid, revoked revoked (keyCompromise).
serial_of() { openssl x509 -in "$W/$1.pem" -noout -serial | cut -d= -f2; }
subject_of() { openssl x509 -in "$W/$1.pem" -noout -subject -nameopt compat | sed 's/^subject=//'; }
{
    printf 'V\t21260101000000Z\t\t%s\tunknown\t%s\n' "$(serial_of leaf)" "$(subject_of leaf)"
    printf 'R\t21260101000000Z\t261101000000Z,keyCompromise\t%s\tunknown\t%s\n' "$(serial_of revoked)" "$(subject_of revoked)"
} > "$W/index.txt"

respond() {  # out cert digest signer signer-key [extra...]
    local out=$1 cert=$2 digest=$3 signer=$4 key=$5; shift 5
    openssl ocsp -issuer "$W/ca.pem" "-$digest" -cert "$W/$cert.pem" -no_nonce -reqout "$W/$out.req" >/dev/null 2>&1
    openssl ocsp -index "$W/index.txt" -CA "$W/ca.pem" -rsigner "$W/$signer.pem" -rkey "$W/$signer.key" \
        -reqin "$W/$out.req" -respout "$OUT/$out.der" -ndays 7 "$@" >/dev/null 2>&1
}
respond good-by-ca leaf sha1 ca ca
respond good-sha256-certid leaf sha256 ca ca
respond good-by-delegate leaf sha1 responder responder -resp_key_id
respond revoked revoked sha1 ca ca
respond by-unauthorised-cert leaf sha1 notresponder notresponder
respond by-other-ca leaf sha1 other other
respond by-forged-delegate leaf sha1 forged forged
# A certificate the CA's database does not list: status unknown.
issue stranger "/CN=stranger.test" leaf
respond unknown stranger sha1 ca ca
# No nextUpdate: "newer information is always available".
openssl ocsp -issuer "$W/ca.pem" -sha1 -cert "$W/leaf.pem" -no_nonce -reqout "$W/nn.req" >/dev/null 2>&1
openssl ocsp -index "$W/index.txt" -CA "$W/ca.pem" -rsigner "$W/ca.pem" -rkey "$W/ca.key" \
    -reqin "$W/nn.req" -respout "$OUT/good-no-next-update.der" >/dev/null 2>&1
# An unsigned error answer (tryLater): OCSPResponse { responseStatus 3 }.
printf '\x30\x03\x0a\x01\x03' > "$OUT/try-later.der"

cp "$W/ca.pem" "$W/leaf.pem" "$W/revoked.pem" "$W/stranger.pem" "$W/other.pem" "$W/responder.pem" "$OUT/"
# Test keys of the three server certificates, for handshakes that staple these responses.
# The CA's key too: the tests build and sign responses openssl cannot make (critical extensions).
for k in leaf revoked stranger ca; do openssl pkey -in "$W/$k.key" -out "$OUT/$k.key" 2>/dev/null; done
ls "$OUT"
