#!/usr/bin/env bash
# Regenerates the X.509 path-validation test corpus in Vectors/x509/ from scratch.
#
#   usage (from the repository root):  Tools/scripts/make-x509-corpus.sh
#
# Needs: openssl 3.x on PATH, python3 (for DER tampering, the manifest and the
# openssl cross-check). Keys and certificates are fresh on every run; validity
# periods are fixed dates, so the expected results do not depend on when this runs.
# The output is meant to be generated once and committed. See Vectors/x509/README.md.
set -euo pipefail
export LC_ALL=C

if [[ ! -f Tools/scripts/make-x509-corpus.sh ]]; then
    echo "error: run this from the repository root" >&2
    exit 1
fi
command -v openssl >/dev/null || { echo "error: openssl not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "error: python3 not found" >&2; exit 1; }

OUT=Vectors/x509
# Keep an existing README.md (it is hand-maintained), regenerate everything else.
README_KEEP=""
if [[ -f "$OUT/README.md" ]]; then README_KEEP=$(mktemp); cp "$OUT/README.md" "$README_KEEP"; fi
rm -rf "$OUT"
mkdir -p "$OUT"/{roots,intermediates,leaves,private,keys,bundle}
if [[ -n "$README_KEEP" ]]; then mv "$README_KEEP" "$OUT/README.md"; fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/newcerts" "$WORK/csr" "$WORK/ext"
: > "$WORK/index.txt"
echo 01 > "$WORK/serial"

# --------------------------------------------------------------------------
# openssl configuration for `openssl req` and `openssl ca`
# --------------------------------------------------------------------------
CNF="$WORK/ca.cnf"
cat > "$CNF" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
database        = $WORK/index.txt
new_certs_dir   = $WORK/newcerts
serial          = $WORK/serial
default_md      = sha256
policy          = policy_any
unique_subject  = no
email_in_dn     = yes
copy_extensions = none
[ policy_any ]
commonName = optional
[ req ]
distinguished_name = req_dn
prompt = no
[ req_dn ]
CN = unused
EOF

# Validity periods (fixed dates; the verification time used by the manifest is
# 1767225600 = 2026-01-01T00:00:00Z).
NB=20250101000000Z          # normal notBefore
NA_ROOT=20450101000000Z     # roots
NA_INT=20400101000000Z      # intermediates
NA=20350101000000Z          # leaves
NA_GT=20550101000000Z       # after 2049: encoded as GeneralizedTime

ORG="/C=US/O=TLS Swift Test PKI"

# Common extension blocks ---------------------------------------------------
SKI="subjectKeyIdentifier=hash"
AKI="authorityKeyIdentifier=keyid:always"
ROOT_EXT="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
$SKI"
CA_EXT="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
$SKI
$AKI"
LEAF_BASE="basicConstraints=critical,CA:FALSE
$SKI
$AKI"
KU_SIG="keyUsage=critical,digitalSignature"
KU_RSA="keyUsage=critical,digitalSignature,keyEncipherment"
EKU_SERVER="extendedKeyUsage=serverAuth"
EKU_CLIENT="extendedKeyUsage=clientAuth"
SAN_WWW="subjectAltName=DNS:www.example.com"

declare -A CERT KEY KTYPE

log() { printf '  %s\n' "$*"; }

# genkey TYPE FILE
genkey() {
    local type=$1 file=$2
    case $type in
        rsa)     openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$file" 2>/dev/null ;;
        p256)    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve -out "$file" ;;
        p384)    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -pkeyopt ec_param_enc:named_curve -out "$file" ;;
        ed25519) openssl genpkey -algorithm ED25519 -out "$file" ;;
        *) echo "unknown key type $type" >&2; exit 1 ;;
    esac
}

# mkcert -n NAME -d DIR -s SUBJECT -i ISSUER|self [-k KEYTYPE | -K REUSE_KEY_OF]
#        [-e EXTENSIONS] [-m MD] [-P pss] [-b NOTBEFORE] [-a NOTAFTER]
#        [-A AKI_SOURCE_CERT]
# Issues DIR/NAME.pem (private key in private/NAME.key) with `openssl ca`.
# With no -e the certificate is X.509 v1 (openssl ca writes v1 when there are no
# extensions). -A signs with the issuer's key but takes the authority key
# identifier from another certificate with the same key (used for v1 issuers, which
# have no subjectKeyIdentifier to copy). ISSUER is the NAME of an earlier cert.
mkcert() {
    local OPTIND opt name="" dir="" subj="" issuer="" ktype="p256" reuse="" ext="" md="" pss=""
    local nb=$NB na=$NA akisrc=""
    while getopts "n:d:s:i:k:K:e:m:P:b:a:A:" opt; do
        case $opt in
            n) name=$OPTARG ;; d) dir=$OPTARG ;; s) subj=$OPTARG ;; i) issuer=$OPTARG ;;
            k) ktype=$OPTARG ;; K) reuse=$OPTARG ;; e) ext=$OPTARG ;; m) md=$OPTARG ;;
            P) pss=$OPTARG ;; b) nb=$OPTARG ;; a) na=$OPTARG ;; A) akisrc=$OPTARG ;;
            *) echo "mkcert: bad option" >&2; exit 1 ;;
        esac
    done
    local keyfile="$OUT/private/$name.key"
    if [[ -n $reuse ]]; then
        cp "${KEY[$reuse]}" "$keyfile"; ktype=${KTYPE[$reuse]}
    elif [[ ! -f $keyfile ]]; then
        genkey "$ktype" "$keyfile"
    fi
    local certfile="$OUT/$dir/$name.pem"
    local csr="$WORK/csr/$name.csr"
    openssl req -new -config "$CNF" -key "$keyfile" -subj "$subj" -out "$csr"

    local args=(ca -batch -config "$CNF" -in "$csr" -out "$WORK/out.pem" -notext -preserveDN
                -rand_serial -startdate "$nb" -enddate "$na")
    local ikeytype
    if [[ $issuer == self ]]; then
        args+=(-selfsign -keyfile "$keyfile")
        ikeytype=$ktype
    else
        [[ -n ${CERT[$issuer]:-} ]] || { echo "mkcert $name: unknown issuer $issuer" >&2; exit 1; }
        args+=(-cert "${akisrc:-${CERT[$issuer]}}" -keyfile "${KEY[$issuer]}")
        ikeytype=${KTYPE[$issuer]}
    fi
    if [[ -z $md ]]; then
        case $ikeytype in p384) md=sha384 ;; *) md=sha256 ;; esac
    fi
    args+=(-md "$md")
    case $pss in
        "") ;;
        pss) args+=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -sigopt "rsa_mgf1_md:$md") ;;
        *) echo "bad -P" >&2; exit 1 ;;
    esac
    if [[ -n $ext ]]; then
        printf '[ ext ]\n%s\n' "$ext" > "$WORK/ext/$name.cnf"
        args+=(-extfile "$WORK/ext/$name.cnf" -extensions ext)
    fi
    if ! openssl "${args[@]}" > "$WORK/ca.log" 2>&1; then
        cat "$WORK/ca.log" >&2; echo "mkcert $name: openssl ca failed" >&2; exit 1
    fi
    # strip anything but the PEM block
    openssl x509 -in "$WORK/out.pem" -out "$certfile"
    CERT[$name]=$certfile; KEY[$name]=$keyfile; KTYPE[$name]=$ktype
}

# tamper IN OUT MODE [ARGS]: see the python helper below
cat > "$WORK/tamper.py" <<'PY'
"""Tamper with a PEM certificate while keeping the DER well-formed.

mode sig: flip the lowest bit of the last byte of the signature BIT STRING
          (for RSA: the signature integer; ECDSA: the low byte of s, still valid
          DER; Ed25519: the top byte of S, which stays below the group order).
mode tbs OLD NEW: replace the first occurrence of OLD by NEW (same length) inside
          tbsCertificate, leaving the signature untouched.
"""
import base64, re, sys

def read_len(b, i):
    n = b[i]; i += 1
    if n < 0x80:
        return n, i
    k = n & 0x7F
    return int.from_bytes(b[i:i + k], "big"), i + k

def tlv(b, i):
    """returns (tag, header_start, content_start, end)"""
    tag = b[i]
    ln, j = read_len(b, i + 1)
    return tag, i, j, j + ln

src, dst, mode = sys.argv[1], sys.argv[2], sys.argv[3]
pem = open(src).read()
m = re.search(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", pem, re.S)
der = bytearray(base64.b64decode("".join(m.group(1).split())))
tag, _, c0, end = tlv(der, 0); assert tag == 0x30 and end == len(der)
tag, t0, tc, tend = tlv(der, c0); assert tag == 0x30          # tbsCertificate
tag, _, _, aend = tlv(der, tend); assert tag == 0x30          # signatureAlgorithm
tag, _, sc, send = tlv(der, aend); assert tag == 0x03 and send == len(der)  # signatureValue
if mode == "sig":
    der[send - 1] ^= 0x01
elif mode == "tbs":
    old, new = sys.argv[4].encode(), sys.argv[5].encode()
    assert len(old) == len(new)
    k = der.find(old, tc, tend); assert k >= 0, "pattern not in TBS"
    der[k:k + len(old)] = new
else:
    raise SystemExit("bad mode")
b64 = base64.b64encode(bytes(der)).decode()
with open(dst, "w") as f:
    f.write("-----BEGIN CERTIFICATE-----\n")
    for i in range(0, len(b64), 64):
        f.write(b64[i:i + 64] + "\n")
    f.write("-----END CERTIFICATE-----\n")
PY
tamper() { python3 "$WORK/tamper.py" "$@"; }

echo "== roots"
mkcert -n root-rsa     -d roots -k rsa     -i self -s "$ORG/CN=Test Root RSA"           -e "$ROOT_EXT" -a $NA_ROOT
mkcert -n root-ecdsa   -d roots -k p256    -i self -s "$ORG/CN=Test Root ECDSA P-256"   -e "$ROOT_EXT" -a $NA_ROOT
mkcert -n root-ed25519 -d roots -k ed25519 -i self -s "$ORG/CN=Test Root Ed25519"       -e "$ROOT_EXT" -a $NA_GT
# Not in any trust set: for unknown-issuer cases and as the other issuer of a cross-signed CA.
mkcert -n root-other   -d roots -k p256    -i self -s "$ORG/CN=Test Root Not Trusted"   -e "$ROOT_EXT" -a $NA_ROOT
# Same subject name as root-rsa, different key.
mkcert -n root-impostor -d roots -k rsa    -i self -s "$ORG/CN=Test Root RSA"           -e "$ROOT_EXT" -a $NA_ROOT
# X.509 v1 root: no extensions at all.
mkcert -n root-v1      -d roots -k rsa     -i self -s "$ORG/CN=Test Root V1"             -a $NA_ROOT
# v3 twin of root-v1 (same key and name, with a subjectKeyIdentifier); used only as
# the AKI source when issuing under root-v1, never shipped.
mkcert -n tmp-root-v1-v3 -d roots -K root-v1 -i self -s "$ORG/CN=Test Root V1" -e "$ROOT_EXT" -a $NA_ROOT
# Root whose own self-signature uses SHA-1 (irrelevant for a trust anchor).
mkcert -n root-rsa-sha1 -d roots -k rsa    -i self -s "$ORG/CN=Test Root RSA SHA-1 Self-Signature" -e "$ROOT_EXT" -a $NA_ROOT -m sha1

echo "== intermediates"
mkcert -n int-rsa        -d intermediates -k rsa     -i root-rsa     -s "$ORG/CN=Test Intermediate RSA"        -e "$CA_EXT" -a $NA_INT
mkcert -n int-ecdsa      -d intermediates -k p256    -i root-ecdsa   -s "$ORG/CN=Test Intermediate ECDSA P-256" -e "$CA_EXT" -a $NA_INT
mkcert -n int-ecdsa-p384 -d intermediates -k p384    -i root-ecdsa   -s "$ORG/CN=Test Intermediate ECDSA P-384" -e "$CA_EXT" -a $NA_INT
mkcert -n int-ed25519    -d intermediates -k ed25519 -i root-ed25519 -s "$ORG/CN=Test Intermediate Ed25519"    -e "$CA_EXT" -a $NA_INT
mkcert -n int-other      -d intermediates -k p256    -i root-other   -s "$ORG/CN=Test Intermediate Under Untrusted Root" -e "$CA_EXT" -a $NA_INT
mkcert -n int-impostor   -d intermediates -k p256    -i root-impostor -s "$ORG/CN=Test Intermediate Under Impostor Root" -e "$CA_EXT" -a $NA_INT
mkcert -n int-expired    -d intermediates -k p256    -i root-rsa     -s "$ORG/CN=Test Intermediate Expired"   -e "$CA_EXT" -b 20200101000000Z -a 20250601000000Z
mkcert -n int-under-sha1-root -d intermediates -k p256 -i root-rsa-sha1 -s "$ORG/CN=Test Intermediate Under SHA-1 Root" -e "$CA_EXT" -a $NA_INT
# not a CA
mkcert -n int-no-bc      -d intermediates -k p256 -i root-rsa -s "$ORG/CN=Test Intermediate No BasicConstraints" -a $NA_INT -e "keyUsage=critical,keyCertSign,cRLSign
$SKI
$AKI"
mkcert -n int-ca-false   -d intermediates -k p256 -i root-rsa -s "$ORG/CN=Test Intermediate CA FALSE" -a $NA_INT -e "basicConstraints=critical,CA:FALSE
keyUsage=critical,keyCertSign,cRLSign
$SKI
$AKI"
mkcert -n int-no-keycertsign -d intermediates -k p256 -i root-rsa -s "$ORG/CN=Test Intermediate Without keyCertSign" -a $NA_INT -e "basicConstraints=critical,CA:TRUE
keyUsage=critical,digitalSignature,cRLSign
$SKI
$AKI"
mkcert -n int-v1         -d intermediates -k p256 -i root-rsa -s "$ORG/CN=Test Intermediate V1" -a $NA_INT
mkcert -n tmp-int-v1-v3  -d intermediates -K int-v1 -i root-rsa -s "$ORG/CN=Test Intermediate V1" -e "$CA_EXT" -a $NA_INT
# path length
mkcert -n int-pathlen0   -d intermediates -k p256 -i root-rsa -s "$ORG/CN=Test Intermediate pathLen 0" -a $NA_INT -e "basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
$SKI
$AKI"
mkcert -n int-under-pathlen0 -d intermediates -k p256 -i int-pathlen0 -s "$ORG/CN=Test Intermediate Under pathLen 0" -e "$CA_EXT" -a $NA_INT
mkcert -n int-pathlen1   -d intermediates -k p256 -i root-rsa -s "$ORG/CN=Test Intermediate pathLen 1" -a $NA_INT -e "basicConstraints=critical,CA:TRUE,pathlen:1
keyUsage=critical,keyCertSign,cRLSign
$SKI
$AKI"
mkcert -n int-under-pathlen1 -d intermediates -k p256 -i int-pathlen1 -s "$ORG/CN=Test Intermediate Under pathLen 1" -e "$CA_EXT" -a $NA_INT
# name constraints
mkcert -n int-nc-dns     -d intermediates -k p256 -i root-ecdsa -s "$ORG/CN=Test Intermediate NC permitted example.com" -a $NA_INT -e "$CA_EXT
nameConstraints=critical,permitted;DNS:example.com"
mkcert -n int-nc-dns-excluded -d intermediates -k p256 -i root-ecdsa -s "$ORG/CN=Test Intermediate NC excluded bad.example.com" -a $NA_INT -e "$CA_EXT
nameConstraints=critical,excluded;DNS:bad.example.com"
mkcert -n int-nc-ip      -d intermediates -k p256 -i root-ecdsa -s "$ORG/CN=Test Intermediate NC permitted 192.168.0.0-16" -a $NA_INT -e "$CA_EXT
nameConstraints=critical,permitted;IP:192.168.0.0/255.255.0.0"
# unknown critical extension on a CA
mkcert -n int-crit-unknown -d intermediates -k p256 -i root-ecdsa -s "$ORG/CN=Test Intermediate Unknown Critical Extension" -a $NA_INT -e "$CA_EXT
1.3.6.1.4.1.55555.1.1=critical,ASN1:UTF8String:unknown critical extension"
# key rollover: two CAs with the same name, different keys
mkcert -n int-rollover-old -d intermediates -k p256 -i root-rsa -s "$ORG/CN=Test Intermediate Rollover" -e "$CA_EXT" -a $NA_INT
mkcert -n int-rollover-new -d intermediates -k p256 -i root-rsa -s "$ORG/CN=Test Intermediate Rollover" -e "$CA_EXT" -a $NA_INT
# cross-signing: one CA key, certified by root-other (untrusted) and by root-rsa
mkcert -n int-cross-by-other -d intermediates -k p256 -i root-other -s "$ORG/CN=Test Intermediate Cross-Signed" -e "$CA_EXT" -a $NA_INT
mkcert -n int-cross-by-rsa   -d intermediates -K int-cross-by-other -i root-rsa -s "$ORG/CN=Test Intermediate Cross-Signed" -e "$CA_EXT" -a $NA_INT
# loop: A issued by B, B issued by A (bootstrapped with a throw-away self-signed B)
mkcert -n tmp-loop-b-self -d intermediates -k p256 -i self -s "$ORG/CN=Test Loop B" -e "$ROOT_EXT" -a $NA_INT
mkcert -n int-loop-a  -d intermediates -k p256 -i tmp-loop-b-self -s "$ORG/CN=Test Loop A" -e "$CA_EXT" -a $NA_INT
mkcert -n int-loop-b  -d intermediates -K tmp-loop-b-self -i int-loop-a -s "$ORG/CN=Test Loop B" -e "$CA_EXT" -a $NA_INT
# six-deep chain under root-ecdsa
prev=root-ecdsa
for i in 1 2 3 4 5 6; do
    mkcert -n int-deep-$i -d intermediates -k p256 -i $prev -s "$ORG/CN=Test Intermediate Depth $i" -e "$CA_EXT" -a $NA_INT
    prev=int-deep-$i
done
# an intermediate with a tampered signature
tamper "${CERT[int-rsa]}" "$OUT/intermediates/int-rsa-badsig.pem" sig

echo "== leaves"
SRV="$LEAF_BASE
$KU_SIG
$EKU_SERVER"
SRV_RSA="$LEAF_BASE
$KU_RSA
$EKU_SERVER"
W="$ORG/CN=www.example.com"
# 1. plain valid chains
mkcert -n leaf-rsa            -d leaves -k rsa     -i int-rsa        -s "$W" -e "$SRV_RSA
$SAN_WWW"
mkcert -n leaf-ecdsa-p256     -d leaves -k p256    -i int-ecdsa      -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-ecdsa-p384     -d leaves -k p384    -i int-ecdsa-p384 -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-ed25519        -d leaves -k ed25519 -i int-ed25519    -s "$W" -e "$SRV
$SAN_WWW" -a $NA_GT
mkcert -n leaf-rsa-pss-sha256 -d leaves -k rsa     -i int-rsa        -s "$W" -e "$SRV_RSA
$SAN_WWW" -P pss -m sha256
mkcert -n leaf-rsa-pss-sha384 -d leaves -K leaf-rsa-pss-sha256 -i int-rsa -s "$W" -e "$SRV_RSA
$SAN_WWW" -P pss -m sha384
mkcert -n leaf-rsa-under-ecdsa -d leaves -k rsa    -i int-ecdsa      -s "$W" -e "$SRV_RSA
$SAN_WWW"
mkcert -n leaf-direct-under-root -d leaves -k p256 -i root-ecdsa     -s "$W" -e "$SRV
$SAN_WWW"
# 2. validity
mkcert -n leaf-expired        -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
$SAN_WWW" -b 20240101000000Z -a 20250601000000Z
mkcert -n leaf-not-yet-valid  -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
$SAN_WWW" -b 20270101000000Z -a 20370101000000Z
mkcert -n leaf-under-expired-int -d leaves -k p256 -i int-expired -s "$W" -e "$SRV
$SAN_WWW" -b 20240101000000Z -a 20300101000000Z
mkcert -n leaf-notafter-20260101 -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
$SAN_WWW" -a 20260101000000Z
mkcert -n leaf-notbefore-20260101 -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
$SAN_WWW" -b 20260101000000Z
# 3. issuer
mkcert -n leaf-under-untrusted-root -d leaves -k p256 -i int-other -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-under-impostor-root  -d leaves -k p256 -i int-impostor -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-self-signed    -d leaves -k p256 -i self -s "$W" -e "basicConstraints=critical,CA:FALSE
$SKI
$KU_SIG
$EKU_SERVER
$SAN_WWW"
# 4. bad signatures
tamper "${CERT[leaf-rsa]}"        "$OUT/leaves/leaf-rsa-badsig.pem" sig
tamper "${CERT[leaf-ecdsa-p256]}" "$OUT/leaves/leaf-ecdsa-p256-badsig.pem" sig
tamper "${CERT[leaf-ed25519]}"    "$OUT/leaves/leaf-ed25519-badsig.pem" sig
tamper "${CERT[leaf-rsa-pss-sha256]}" "$OUT/leaves/leaf-rsa-pss-sha256-badsig.pem" sig
tamper "${CERT[leaf-ecdsa-p256]}" "$OUT/leaves/leaf-ecdsa-p256-tbs-modified.pem" tbs "www.example.com" "www.examp1e.com"
# 5. CA flags and path length
mkcert -n leaf-under-int-no-bc          -d leaves -k p256 -i int-no-bc          -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-under-int-ca-false       -d leaves -k p256 -i int-ca-false       -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-under-int-no-keycertsign -d leaves -k p256 -i int-no-keycertsign -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-under-pathlen0           -d leaves -k p256 -i int-pathlen0       -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-under-pathlen0-sub       -d leaves -k p256 -i int-under-pathlen0 -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-under-pathlen1-sub       -d leaves -k p256 -i int-under-pathlen1 -s "$W" -e "$SRV
$SAN_WWW"
# 12. v1 root and v1 intermediate (AKI keyid copied from a v3 twin with the same key)
mkcert -n leaf-under-v1-root -d leaves -k p256 -i root-v1 -A "${CERT[tmp-root-v1-v3]}" -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-under-v1-int  -d leaves -k p256 -i int-v1  -A "${CERT[tmp-int-v1-v3]}"  -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-under-sha1-root -d leaves -k p256 -i int-under-sha1-root -s "$W" -e "$SRV
$SAN_WWW"
# 6. key usage / extended key usage
mkcert -n leaf-ku-keyagreement-ecdsa   -d leaves -k p256 -i int-ecdsa -s "$W" -e "$LEAF_BASE
keyUsage=critical,keyAgreement
$EKU_SERVER
$SAN_WWW"
mkcert -n leaf-ku-contentcommitment-ecdsa -d leaves -k p256 -i int-ecdsa -s "$W" -e "$LEAF_BASE
keyUsage=critical,nonRepudiation
$EKU_SERVER
$SAN_WWW"
mkcert -n leaf-ku-keyencipherment-rsa  -d leaves -k rsa  -i int-rsa -s "$W" -e "$LEAF_BASE
keyUsage=critical,keyEncipherment
$EKU_SERVER
$SAN_WWW"
mkcert -n leaf-no-ku -d leaves -k p256 -i int-ecdsa -s "$W" -e "$LEAF_BASE
$EKU_SERVER
$SAN_WWW"
mkcert -n leaf-eku-client-only -d leaves -k p256 -i int-ecdsa -s "$ORG/CN=Test Client" -e "$LEAF_BASE
$KU_SIG
$EKU_CLIENT
subjectAltName=DNS:client.example.com,email:client@example.com"
mkcert -n leaf-eku-server-only -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-eku-none -d leaves -k p256 -i int-ecdsa -s "$W" -e "$LEAF_BASE
$KU_SIG
$SAN_WWW"
mkcert -n leaf-eku-both -d leaves -k p256 -i int-ecdsa -s "$W" -e "$LEAF_BASE
$KU_SIG
extendedKeyUsage=serverAuth,clientAuth
$SAN_WWW"
# 7. name constraints
mkcert -n leaf-nc-www-example-com -d leaves -k p256 -i int-nc-dns -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-nc-example-com     -d leaves -k p256 -i int-nc-dns -s "$ORG/CN=example.com" -e "$SRV
subjectAltName=DNS:example.com"
mkcert -n leaf-nc-www-other-org   -d leaves -k p256 -i int-nc-dns -s "$ORG/CN=www.other.org" -e "$SRV
subjectAltName=DNS:www.other.org"
mkcert -n leaf-nc-wwwexample-com  -d leaves -k p256 -i int-nc-dns -s "$ORG/CN=wwwexample.com" -e "$SRV
subjectAltName=DNS:wwwexample.com"
mkcert -n leaf-nc-mixed           -d leaves -k p256 -i int-nc-dns -s "$W" -e "$SRV
subjectAltName=DNS:www.example.com,DNS:www.other.org"
mkcert -n leaf-ncx-host-bad-example-com -d leaves -k p256 -i int-nc-dns-excluded -s "$ORG/CN=host.bad.example.com" -e "$SRV
subjectAltName=DNS:host.bad.example.com"
mkcert -n leaf-ncx-good-example-com -d leaves -k p256 -i int-nc-dns-excluded -s "$ORG/CN=good.example.com" -e "$SRV
subjectAltName=DNS:good.example.com"
mkcert -n leaf-ncip-192-168-1-1   -d leaves -k p256 -i int-nc-ip -s "$ORG/CN=Test NC IP Leaf" -e "$SRV
subjectAltName=IP:192.168.1.1"
mkcert -n leaf-ncip-10-0-0-1      -d leaves -k p256 -i int-nc-ip -s "$ORG/CN=Test NC IP Leaf" -e "$SRV
subjectAltName=IP:10.0.0.1"
# 8. unknown extensions
mkcert -n leaf-crit-unknown-ext    -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
$SAN_WWW
1.3.6.1.4.1.55555.1.1=critical,ASN1:UTF8String:unknown critical extension"
mkcert -n leaf-noncrit-unknown-ext -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
$SAN_WWW
1.3.6.1.4.1.55555.1.1=ASN1:UTF8String:unknown non-critical extension"
mkcert -n leaf-under-int-crit-unknown -d leaves -k p256 -i int-crit-unknown -s "$W" -e "$SRV
$SAN_WWW"
# 9. hostnames
mkcert -n leaf-host-wildcard      -d leaves -k p256 -i int-ecdsa -s "$ORG/CN=*.example.com" -e "$SRV
subjectAltName=DNS:*.example.com"
mkcert -n leaf-host-partial-wildcard -d leaves -k p256 -i int-ecdsa -s "$ORG/CN=f*.example.com" -e "$SRV
subjectAltName=DNS:f*.example.com"
mkcert -n leaf-host-wildcard-not-leftmost -d leaves -k p256 -i int-ecdsa -s "$ORG/CN=www.*.example.com" -e "$SRV
subjectAltName=DNS:www.*.example.com"
mkcert -n leaf-host-ip            -d leaves -k p256 -i int-ecdsa -s "$ORG/CN=Test IP Leaf" -e "$SRV
subjectAltName=IP:127.0.0.1,IP:::1"
mkcert -n leaf-host-ip-as-dns     -d leaves -k p256 -i int-ecdsa -s "$ORG/CN=Test IP-as-DNS Leaf" -e "$SRV
subjectAltName=DNS:127.0.0.1"
mkcert -n leaf-host-cn-only       -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV"
mkcert -n leaf-host-san-email-uri -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
subjectAltName=DNS:www.example.com,email:admin@example.com,URI:https://www.example.com/"
mkcert -n leaf-host-san-email-uri-no-dns -d leaves -k p256 -i int-ecdsa -s "$W" -e "$SRV
subjectAltName=email:admin@example.com,URI:https://www.example.com/"
# 10. weak signature algorithms
mkcert -n leaf-sha1-rsa   -d leaves -k p256 -i int-rsa   -s "$W" -m sha1 -e "$SRV
$SAN_WWW"
mkcert -n leaf-sha1-ecdsa -d leaves -k p256 -i int-ecdsa -s "$W" -m sha1 -e "$SRV
$SAN_WWW"
MD5_OK=1
if ! ( mkcert -n leaf-md5-rsa -d leaves -k p256 -i int-rsa -s "$W" -m md5 -e "$SRV
$SAN_WWW" ) ; then
    MD5_OK=0; rm -f "$OUT/leaves/leaf-md5-rsa.pem" "$OUT/private/leaf-md5-rsa.key"
    echo "note: openssl could not sign with MD5; MD5 case skipped" >&2
fi
# 11. path building
mkcert -n leaf-rollover       -d leaves -k p256 -i int-rollover-new -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-rollover-no-aki -d leaves -k p256 -i int-rollover-new -s "$W" -e "basicConstraints=critical,CA:FALSE
authorityKeyIdentifier=none
$SKI
$KU_SIG
$EKU_SERVER
$SAN_WWW"
mkcert -n leaf-cross-signed   -d leaves -k p256 -i int-cross-by-rsa -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-loop           -d leaves -k p256 -i int-loop-a -s "$W" -e "$SRV
$SAN_WWW"
mkcert -n leaf-deep           -d leaves -k p256 -i int-deep-6 -s "$W" -e "$SRV
$SAN_WWW"

# throw-away helpers are not part of the corpus
for t in tmp-root-v1-v3 tmp-int-v1-v3 tmp-loop-b-self; do
    rm -f "${CERT[$t]}" "$OUT/private/$t.key"
done

echo "== key formats"
K="$OUT/keys"
PW=test-password
mkself() {  # mkself KEYFILE CERTFILE DNSNAME: self-signed certificate for a key-format test key
    openssl req -new -config "$CNF" -key "$1" -subj "$ORG/CN=$3" -out "$WORK/self.csr"
    printf '[ ext ]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nsubjectKeyIdentifier=hash\nsubjectAltName=DNS:%s\n' "$3" > "$WORK/ext/self.cnf"
    openssl ca -batch -config "$CNF" -selfsign -keyfile "$1" -in "$WORK/self.csr" -out "$WORK/self.pem" -notext \
        -preserveDN -rand_serial -startdate $NB -enddate $NA -extfile "$WORK/ext/self.cnf" -extensions ext >/dev/null 2>&1
    openssl x509 -in "$WORK/self.pem" -out "$2"
}
# RSA-2048
genkey rsa "$WORK/rsa.key"
openssl pkey -in "$WORK/rsa.key" -out "$K/rsa-2048.pkcs8.pem"
openssl pkey -in "$WORK/rsa.key" -outform DER -out "$K/rsa-2048.pkcs8.der"
openssl pkey -in "$WORK/rsa.key" -traditional -out "$K/rsa-2048.pkcs1.pem"
openssl rsa  -in "$WORK/rsa.key" -traditional -outform DER -out "$K/rsa-2048.pkcs1.der" 2>/dev/null
openssl pkcs8 -topk8 -in "$WORK/rsa.key" -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout pass:$PW -out "$K/rsa-2048.pkcs8.aes256.pem"
openssl pkcs8 -topk8 -in "$WORK/rsa.key" -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout pass:$PW -outform DER -out "$K/rsa-2048.pkcs8.aes256.der"
openssl rsa  -in "$WORK/rsa.key" -traditional -aes256 -passout pass:$PW -out "$K/rsa-2048.pkcs1.aes256-legacy.pem" 2>/dev/null
openssl pkey -in "$WORK/rsa.key" -pubout -out "$K/rsa-2048.spki.pem"
mkself "$WORK/rsa.key" "$K/rsa-2048.cert.pem" rsa-2048.example.com
# P-256
genkey p256 "$WORK/p256.key"
openssl pkey -in "$WORK/p256.key" -out "$K/ec-p256.pkcs8.pem"
openssl pkey -in "$WORK/p256.key" -outform DER -out "$K/ec-p256.pkcs8.der"
openssl pkey -in "$WORK/p256.key" -traditional -out "$K/ec-p256.sec1.pem"
openssl ec   -in "$WORK/p256.key" -outform DER -out "$K/ec-p256.sec1.der" 2>/dev/null
openssl ec   -in "$WORK/p256.key" -param_enc explicit -out "$K/ec-p256.sec1-explicit-params.pem" 2>/dev/null
openssl pkcs8 -topk8 -in "$WORK/p256.key" -v2 aes-128-cbc -v2prf hmacWithSHA256 -passout pass:$PW -out "$K/ec-p256.pkcs8.aes128.pem"
openssl pkey -in "$WORK/p256.key" -pubout -out "$K/ec-p256.spki.pem"
mkself "$WORK/p256.key" "$K/ec-p256.cert.pem" ec-p256.example.com
# P-384
genkey p384 "$WORK/p384.key"
openssl pkey -in "$WORK/p384.key" -out "$K/ec-p384.pkcs8.pem"
openssl pkey -in "$WORK/p384.key" -traditional -out "$K/ec-p384.sec1.pem"
openssl pkcs8 -topk8 -in "$WORK/p384.key" -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout pass:$PW -out "$K/ec-p384.pkcs8.aes256.pem"
openssl pkey -in "$WORK/p384.key" -pubout -out "$K/ec-p384.spki.pem"
mkself "$WORK/p384.key" "$K/ec-p384.cert.pem" ec-p384.example.com
# Ed25519
genkey ed25519 "$WORK/ed.key"
openssl pkey -in "$WORK/ed.key" -out "$K/ed25519.pkcs8.pem"
openssl pkey -in "$WORK/ed.key" -outform DER -out "$K/ed25519.pkcs8.der"
openssl pkcs8 -topk8 -in "$WORK/ed.key" -v2 aes-256-cbc -v2prf hmacWithSHA256 -passout pass:$PW -out "$K/ed25519.pkcs8.aes256.pem"
openssl pkey -in "$WORK/ed.key" -pubout -out "$K/ed25519.spki.pem"
mkself "$WORK/ed.key" "$K/ed25519.cert.pem" ed25519.example.com
# mismatched pair: a P-256 key and a certificate for a different P-256 key
genkey p256 "$WORK/mm1.key"; genkey p256 "$WORK/mm2.key"
openssl pkey -in "$WORK/mm1.key" -out "$K/mismatch.key.pem"
mkself "$WORK/mm2.key" "$K/mismatch.cert.pem" mismatch.example.com

echo "== bundle"
B="$OUT/bundle/ca-bundle.pem"
{
    echo "# Test CA bundle: several roots with free text around and between the PEM blocks."
    echo "# Parsers must skip everything outside -----BEGIN/END CERTIFICATE----- lines."
    echo
    for r in root-rsa root-ecdsa root-ed25519 root-v1; do
        echo "# $(openssl x509 -in "$OUT/roots/$r.pem" -noout -subject -nameopt RFC2253)"
        echo "# $(openssl x509 -in "$OUT/roots/$r.pem" -noout -fingerprint -sha256)"
        if [[ $r == root-ecdsa ]]; then
            # this one is preceded by openssl's text dump, as `openssl x509 -text` writes it
            openssl x509 -in "$OUT/roots/$r.pem" -text
        else
            cat "$OUT/roots/$r.pem"
        fi
        echo
        echo "Some text that is not a comment and not PEM. ----- dashes too -----"
        echo
    done
    echo "# end of bundle"
} > "$B"
sed 's/$/\r/' "$B" > "$OUT/bundle/ca-bundle.crlf.pem"
cat > "$OUT/bundle/bundle.json" <<EOF
{"files": ["ca-bundle.pem", "ca-bundle.crlf.pem"],
 "certificates": ["roots/root-rsa.pem", "roots/root-ecdsa.pem", "roots/root-ed25519.pem", "roots/root-v1.pem"],
 "note": "both files hold these four certificates in this order; ca-bundle.crlf.pem is the same text with CRLF line ends; the root-ecdsa block is preceded by openssl's -text dump"}
EOF

echo "== manifest (running openssl verify on every case)"
python3 - "$OUT" "$MD5_OK" <<'PY'
import ipaddress, json, os, re, subprocess, sys, tempfile

OUT, MD5_OK = sys.argv[1], sys.argv[2] == "1"
T = 1767225600  # 2026-01-01T00:00:00Z
ROOTS3 = ["roots/root-rsa.pem", "roots/root-ecdsa.pem", "roots/root-ed25519.pem"]
cases = []

def L(n): return f"leaves/{n}.pem"
def I(*ns): return [f"intermediates/{n}.pem" for n in ns]
def R(*ns): return [f"roots/{n}.pem" for n in ns]

def case(id, leaf, untrusted, trusted, ok, reason=None, hostname=None, time=T,
         purpose="server", depth=None, note="", openssl_differs=None):
    """openssl_differs: explanation, given exactly when openssl's verdict is
    expected to differ from ours (checked below)."""
    assert (reason is None) == ok, id
    cases.append(dict(id=id, leaf=leaf, untrusted=untrusted, trusted=trusted,
                      hostname=hostname, time=time, purpose=purpose,
                      max_chain_depth=depth, expect_ok=ok, expect_reason=reason,
                      note=note, _differs=openssl_differs))

WWW = "www.example.com"
# 1. plain valid chains ------------------------------------------------------
case("valid_rsa", L("leaf-rsa"), I("int-rsa"), ROOTS3, True, hostname=WWW,
     note="RSA-2048 leaf <- RSA intermediate <- RSA root, sha256WithRSAEncryption")
case("valid_ecdsa_p256", L("leaf-ecdsa-p256"), I("int-ecdsa"), ROOTS3, True, hostname=WWW,
     note="P-256 leaf <- P-256 intermediate <- P-256 root, ecdsa-with-SHA256")
case("valid_ecdsa_p384", L("leaf-ecdsa-p384"), I("int-ecdsa-p384"), ROOTS3, True, hostname=WWW,
     note="P-384 leaf signed ecdsa-with-SHA384 by a P-384 intermediate, which the P-256 root signed")
case("valid_ed25519", L("leaf-ed25519"), I("int-ed25519"), ROOTS3, True, hostname=WWW,
     note="Ed25519 throughout; leaf notAfter 2055 and root notAfter 2055 are GeneralizedTime")
case("valid_rsa_pss_sha256", L("leaf-rsa-pss-sha256"), I("int-rsa"), ROOTS3, True, hostname=WWW,
     note="leaf signed RSASSA-PSS, SHA-256, MGF1-SHA-256, salt 32 (explicit RSASSA-PSS-params)")
case("valid_rsa_pss_sha384", L("leaf-rsa-pss-sha384"), I("int-rsa"), ROOTS3, True, hostname=WWW,
     note="leaf signed RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48")
case("valid_rsa_leaf_ecdsa_ca", L("leaf-rsa-under-ecdsa"), I("int-ecdsa"), ROOTS3, True, hostname=WWW,
     note="RSA leaf key, ECDSA P-256 issuer")
case("valid_leaf_directly_under_root", L("leaf-direct-under-root"), [], ROOTS3, True, hostname=WWW,
     note="no intermediate")
case("valid_chain_includes_root", L("leaf-rsa"), I("int-rsa") + R("root-rsa"), R("root-rsa"), True,
     hostname=WWW, note="peer also sends the (trusted) root")
case("valid_irrelevant_untrusted", L("leaf-ecdsa-p256"), I("int-rsa", "int-ed25519", "int-ecdsa"),
     ROOTS3, True, hostname=WWW, note="unrelated intermediates presented before the right one")
case("valid_single_trusted_root", L("leaf-rsa"), I("int-rsa"), R("root-rsa"), True, hostname=WWW)
case("valid_no_hostname", L("leaf-ecdsa-p256"), I("int-ecdsa"), ROOTS3, True,
     note="hostname null: no name check")
# 2. validity ------------------------------------------------------------------
case("expired_leaf", L("leaf-expired"), I("int-ecdsa"), R("root-ecdsa"), False, "expired",
     note="leaf valid 2024-01-01..2025-06-01")
case("expired_leaf_at_earlier_time", L("leaf-expired"), I("int-ecdsa"), R("root-ecdsa"), True,
     time=1740000000, note="same leaf, verification time 2025-02-19T21:20:00Z: inside its validity")
case("not_yet_valid_leaf", L("leaf-not-yet-valid"), I("int-ecdsa"), R("root-ecdsa"), False,
     "not_yet_valid", note="leaf valid 2027-01-01..2037-01-01")
case("expired_intermediate", L("leaf-under-expired-int"), I("int-expired"), R("root-rsa"), False,
     "expired", note="intermediate valid 2020-01-01..2025-06-01; leaf itself valid")
case("notafter_equals_time", L("leaf-notafter-20260101"), I("int-ecdsa"), R("root-ecdsa"), True,
     time=T, note="notAfter = 2026-01-01T00:00:00Z = verification time; RFC 5280 4.1.2.5: "
     "the validity period is notBefore through notAfter, inclusive",
     openssl_differs="OpenSSL treats a certificate as expired when notAfter <= time "
     "(X509_cmp_time returns -1 on equality); RFC 5280 makes notAfter inclusive")
case("notafter_plus_one_second", L("leaf-notafter-20260101"), I("int-ecdsa"), R("root-ecdsa"), False,
     "expired", time=T + 1)
case("notbefore_equals_time", L("leaf-notbefore-20260101"), I("int-ecdsa"), R("root-ecdsa"), True,
     time=T, note="notBefore = verification time (inclusive)")
case("notbefore_minus_one_second", L("leaf-notbefore-20260101"), I("int-ecdsa"), R("root-ecdsa"),
     False, "not_yet_valid", time=T - 1)
# 3. issuer ----------------------------------------------------------------------
case("unknown_issuer", L("leaf-under-untrusted-root"), I("int-other"), ROOTS3, False,
     "unknown_issuer", note="chain ends at root-other, which is not trusted")
case("unknown_issuer_root_presented", L("leaf-under-untrusted-root"), I("int-other") + R("root-other"),
     ROOTS3, False, "unknown_issuer",
     note="the untrusted root is sent by the peer; a self-signed certificate in the untrusted "
     "list is not a trust anchor")
case("missing_intermediate", L("leaf-rsa"), [], R("root-rsa"), False, "unknown_issuer",
     note="int-rsa not provided")
case("self_signed_leaf", L("leaf-self-signed"), [], ROOTS3, False, "unknown_issuer",
     note="self-signed end-entity certificate, not trusted")
case("impostor_root_same_name", L("leaf-under-impostor-root"), I("int-impostor"), R("root-rsa"),
     False, "unknown_issuer",
     note="int-impostor's issuer name equals root-rsa's subject, but it was signed by a "
     "different key (root-impostor; its AKI keyid does not match root-rsa's SKI). No valid "
     "path exists; a validator that tries root-rsa anyway sees a signature failure but must "
     "still report the chain as having no trusted issuer")
# 4. bad signature ---------------------------------------------------------------
case("bad_signature_rsa_leaf", L("leaf-rsa-badsig"), I("int-rsa"), R("root-rsa"), False,
     "bad_signature", note="last bit of the leaf's signature flipped")
case("bad_signature_ecdsa_leaf", L("leaf-ecdsa-p256-badsig"), I("int-ecdsa"), R("root-ecdsa"), False,
     "bad_signature", note="lowest bit of s flipped (Ecdsa-Sig-Value still valid DER)")
case("bad_signature_ed25519_leaf", L("leaf-ed25519-badsig"), I("int-ed25519"), R("root-ed25519"),
     False, "bad_signature", note="a bit of S flipped (S stays below the group order)")
case("bad_signature_rsa_pss_leaf", L("leaf-rsa-pss-sha256-badsig"), I("int-rsa"), R("root-rsa"),
     False, "bad_signature")
case("bad_signature_tbs_modified", L("leaf-ecdsa-p256-tbs-modified"), I("int-ecdsa"), R("root-ecdsa"),
     False, "bad_signature",
     note="subject CN changed to www.examp1e.com after signing; signature bytes intact")
case("bad_signature_intermediate", L("leaf-rsa"), I("int-rsa-badsig"), R("root-rsa"), False,
     "bad_signature", note="the intermediate's signature is tampered, the leaf is fine")
# 5. CA flags, key usage of CAs, path length -----------------------------------------
case("intermediate_without_basic_constraints", L("leaf-under-int-no-bc"), I("int-no-bc"),
     R("root-rsa"), False, "not_a_ca",
     note="v3 intermediate with keyUsage keyCertSign but no basicConstraints")
case("intermediate_ca_false", L("leaf-under-int-ca-false"), I("int-ca-false"), R("root-rsa"),
     False, "not_a_ca", note="basicConstraints CA:FALSE (keyUsage does include keyCertSign, so "
     "basicConstraints is the only fault)")
case("intermediate_without_keycertsign", L("leaf-under-int-no-keycertsign"), I("int-no-keycertsign"),
     R("root-rsa"), False, "key_usage",
     note="CA:TRUE but keyUsage digitalSignature,cRLSign (no keyCertSign)")
case("pathlen0_with_sub_ca", L("leaf-under-pathlen0-sub"), I("int-under-pathlen0", "int-pathlen0"),
     R("root-rsa"), False, "path_length_exceeded",
     note="root -> int-pathlen0 (pathLenConstraint 0) -> int-under-pathlen0 -> leaf")
case("pathlen0_leaf_directly_under", L("leaf-under-pathlen0"), I("int-pathlen0"), R("root-rsa"), True,
     note="pathLenConstraint 0 allows end-entity certificates directly below")
case("pathlen1_with_sub_ca", L("leaf-under-pathlen1-sub"), I("int-under-pathlen1", "int-pathlen1"),
     R("root-rsa"), True, note="pathLenConstraint 1 allows one further CA")
# 12. v1 ---------------------------------------------------------------------------
case("v1_root_trust_anchor", L("leaf-under-v1-root"), [], R("root-v1"), True,
     note="root-v1 is X.509 v1 with no extensions; a trust anchor is just a name and a key "
     "(RFC 5280 6.1.1 d), so its version and missing basicConstraints do not matter",
     openssl_differs="with -x509_strict OpenSSL rejects a v1 CA even as the trust anchor "
     "('invalid CA certificate'); without -x509_strict it accepts it")
case("v1_intermediate", L("leaf-under-v1-int"), I("int-v1"), R("root-rsa"), False, "not_a_ca",
     note="X.509 v1 intermediate: no basicConstraints, so not a CA (RFC 5280 6.1.4 k)")
case("sha1_self_signature_on_trust_anchor", L("leaf-under-sha1-root"), I("int-under-sha1-root"),
     R("root-rsa-sha1"), True,
     note="the trust anchor's own self-signature is SHA-1; it is never verified, so this passes; "
     "everything else in the chain is SHA-256")
# 6. key usage / EKU -----------------------------------------------------------------
case("leaf_ku_keyagreement_only_ecdsa_server", L("leaf-ku-keyagreement-ecdsa"), I("int-ecdsa"),
     R("root-ecdsa"), False, "key_usage", hostname=WWW,
     note="ECDSA server leaf with keyUsage keyAgreement only: TLS 1.3 and ECDHE TLS 1.2 need the "
     "server key to sign (digitalSignature)",
     openssl_differs="OpenSSL's sslserver purpose accepts keyUsage with any of digitalSignature, "
     "keyEncipherment or keyAgreement, without regard to the key type")
case("leaf_ku_contentcommitment_only_ecdsa_server", L("leaf-ku-contentcommitment-ecdsa"), I("int-ecdsa"),
     R("root-ecdsa"), False, "key_usage", hostname=WWW,
     note="keyUsage nonRepudiation (contentCommitment) only")
case("leaf_ku_keyencipherment_only_rsa_server", L("leaf-ku-keyencipherment-rsa"), I("int-rsa"),
     R("root-rsa"), False, "key_usage", hostname=WWW,
     note="RSA server leaf with keyEncipherment only: usable only for TLS 1.2 RSA key transport, "
     "which this stack does not implement (ECDHE only), so digitalSignature is required",
     openssl_differs="OpenSSL's sslserver purpose accepts keyEncipherment alone (RSA key transport)")
case("leaf_no_key_usage_extension", L("leaf-no-ku"), I("int-ecdsa"), R("root-ecdsa"), True,
     hostname=WWW, note="keyUsage absent: no restriction")
case("eku_client_only_purpose_server", L("leaf-eku-client-only"), I("int-ecdsa"), R("root-ecdsa"),
     False, "extended_key_usage", note="EKU clientAuth only, used as a server")
case("eku_client_only_purpose_client", L("leaf-eku-client-only"), I("int-ecdsa"), R("root-ecdsa"),
     True, purpose="client")
case("eku_server_only_purpose_client", L("leaf-eku-server-only"), I("int-ecdsa"), R("root-ecdsa"),
     False, "extended_key_usage", purpose="client")
case("eku_server_only_purpose_server", L("leaf-eku-server-only"), I("int-ecdsa"), R("root-ecdsa"),
     True, hostname=WWW)
case("eku_absent_purpose_server", L("leaf-eku-none"), I("int-ecdsa"), R("root-ecdsa"), True,
     hostname=WWW, note="no EKU extension: any purpose")
case("eku_absent_purpose_client", L("leaf-eku-none"), I("int-ecdsa"), R("root-ecdsa"), True,
     purpose="client")
case("eku_both_purpose_client", L("leaf-eku-both"), I("int-ecdsa"), R("root-ecdsa"), True,
     purpose="client")
# 7. name constraints ---------------------------------------------------------------
case("nc_dns_permitted_subdomain", L("leaf-nc-www-example-com"), I("int-nc-dns"), R("root-ecdsa"),
     True, hostname=WWW, note="permitted DNS example.com; SAN www.example.com")
case("nc_dns_permitted_exact", L("leaf-nc-example-com"), I("int-nc-dns"), R("root-ecdsa"),
     True, hostname="example.com", note="permitted DNS example.com; SAN example.com")
case("nc_dns_permitted_violation", L("leaf-nc-www-other-org"), I("int-nc-dns"), R("root-ecdsa"),
     False, "name_constraints", hostname="www.other.org")
case("nc_dns_label_boundary", L("leaf-nc-wwwexample-com"), I("int-nc-dns"), R("root-ecdsa"),
     False, "name_constraints", hostname="wwwexample.com",
     note="wwwexample.com is not within example.com (constraints match whole labels)")
case("nc_dns_one_of_two_sans_outside", L("leaf-nc-mixed"), I("int-nc-dns"), R("root-ecdsa"),
     False, "name_constraints", hostname=WWW,
     note="SAN www.example.com and www.other.org: every name must satisfy the constraints")
case("nc_dns_excluded_violation", L("leaf-ncx-host-bad-example-com"), I("int-nc-dns-excluded"),
     R("root-ecdsa"), False, "name_constraints", hostname="host.bad.example.com",
     note="excluded DNS bad.example.com")
case("nc_dns_excluded_not_matching", L("leaf-ncx-good-example-com"), I("int-nc-dns-excluded"),
     R("root-ecdsa"), True, hostname="good.example.com")
case("nc_ip_permitted", L("leaf-ncip-192-168-1-1"), I("int-nc-ip"), R("root-ecdsa"), True,
     hostname="192.168.1.1", note="permitted IP 192.168.0.0/16; SAN IP 192.168.1.1")
case("nc_ip_permitted_violation", L("leaf-ncip-10-0-0-1"), I("int-nc-ip"), R("root-ecdsa"), False,
     "name_constraints", hostname="10.0.0.1", note="SAN IP 10.0.0.1 outside 192.168.0.0/16")
# 8. critical extensions ---------------------------------------------------------------
case("unknown_critical_extension_leaf", L("leaf-crit-unknown-ext"), I("int-ecdsa"), R("root-ecdsa"),
     False, "unsupported_critical_extension", hostname=WWW,
     note="extension 1.3.6.1.4.1.55555.1.1 marked critical")
case("unknown_noncritical_extension_leaf", L("leaf-noncrit-unknown-ext"), I("int-ecdsa"),
     R("root-ecdsa"), True, hostname=WWW, note="same extension, not critical: ignored")
case("unknown_critical_extension_intermediate", L("leaf-under-int-crit-unknown"), I("int-crit-unknown"),
     R("root-ecdsa"), False, "unsupported_critical_extension", hostname=WWW)
# 9. hostnames (all chains: leaf <- int-ecdsa <- root-ecdsa) ------------------------------
def H(id, leafname, host, ok, note="", openssl_differs=None):
    case(id, L(leafname), I("int-ecdsa"), R("root-ecdsa"), ok, None if ok else "hostname_mismatch",
         hostname=host, note=note, openssl_differs=openssl_differs)
H("host_exact", "leaf-ecdsa-p256", "www.example.com", True)
H("host_case_insensitive", "leaf-ecdsa-p256", "WWW.Example.COM", True,
  "DNS names compare case-insensitively (ASCII)")
H("host_parent_domain", "leaf-ecdsa-p256", "example.com", False, "SAN www.example.com")
H("host_subdomain_of_san", "leaf-ecdsa-p256", "a.www.example.com", False, "SAN www.example.com")
H("host_wildcard_one_label", "leaf-host-wildcard", "a.example.com", True, "SAN *.example.com")
H("host_wildcard_case_insensitive", "leaf-host-wildcard", "A.EXAMPLE.COM", True, "SAN *.example.com")
H("host_wildcard_two_labels", "leaf-host-wildcard", "a.b.example.com", False,
  "a wildcard matches exactly one label (RFC 6125 6.4.3)")
H("host_wildcard_apex", "leaf-host-wildcard", "example.com", False,
  "*.example.com does not match example.com")
H("host_partial_wildcard", "leaf-host-partial-wildcard", "foo.example.com", False,
  "SAN f*.example.com; our policy rejects partial-label wildcards (RFC 6125 6.4.3 allows "
  "clients not to match them; CA/B Forum forbids issuing them)",
  openssl_differs="OpenSSL matches partial wildcards such as f*.example.com unless "
  "X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS is set, which `openssl verify` cannot set")
H("host_wildcard_not_leftmost", "leaf-host-wildcard-not-leftmost", "www.a.example.com", False,
  "SAN www.*.example.com: wildcard only allowed as the complete left-most label")
H("host_ipv4_san", "leaf-host-ip", "127.0.0.1", True, "SAN IP 127.0.0.1 and ::1")
H("host_ipv6_san", "leaf-host-ip", "::1", True, "SAN IP 127.0.0.1 and ::1")
H("host_ipv4_wrong_address", "leaf-host-ip", "127.0.0.2", False)
H("host_dns_name_vs_ip_san", "leaf-host-ip", "localhost", False,
  "only iPAddress SANs; a DNS reference identifier never matches them")
H("host_ip_written_as_dns_san", "leaf-host-ip-as-dns", "127.0.0.1", False,
  "SAN dNSName '127.0.0.1' (the IP as text); an IP reference identifier must match an "
  "iPAddress SAN, never a dNSName (RFC 2818 3.1, quoted in RFC 6125 Appendix B.2; RFC 5280 4.2.1.6)")
H("host_cn_only_no_fallback", "leaf-host-cn-only", "www.example.com", False,
  "no subjectAltName, CN=www.example.com: our policy never falls back to the CN",
  openssl_differs="OpenSSL falls back to the subject CN when there is no DNS SAN")
H("host_san_with_email_and_uri", "leaf-host-san-email-uri", "www.example.com", True,
  "SAN DNS:www.example.com, email:admin@example.com, URI:https://www.example.com/")
H("host_san_email_uri_without_dns", "leaf-host-san-email-uri-no-dns", "www.example.com", False,
  "SAN has only email and URI, CN=www.example.com: no DNS-ID, and no CN fallback (RFC 6125 "
  "6.4.4 also forbids the CN fallback when a URI-ID is presented)",
  openssl_differs="OpenSSL falls back to the CN because the SAN holds no dNSName")
# 10. weak signature algorithms ----------------------------------------------------------
WEAK = ("`openssl verify` checks no signature strength unless -auth_level is given "
        "(its default auth level is -1); with -auth_level 1 it rejects this chain "
        "('CA signature digest algorithm too weak')")
case("sha1_rsa_leaf", L("leaf-sha1-rsa"), I("int-rsa"), R("root-rsa"), False,
     "weak_signature_algorithm", hostname=WWW, note="leaf signed sha1WithRSAEncryption",
     openssl_differs=WEAK)
case("sha1_ecdsa_leaf", L("leaf-sha1-ecdsa"), I("int-ecdsa"), R("root-ecdsa"), False,
     "weak_signature_algorithm", hostname=WWW, note="leaf signed ecdsa-with-SHA1",
     openssl_differs=WEAK)
if MD5_OK:
    case("md5_rsa_leaf", L("leaf-md5-rsa"), I("int-rsa"), R("root-rsa"), False,
         "weak_signature_algorithm", hostname=WWW, note="leaf signed md5WithRSAEncryption",
         openssl_differs=WEAK)
# 11. path building --------------------------------------------------------------------------
RO = "int-rollover-old"; RN = "int-rollover-new"
case("rollover_same_name_wrong_one_first", L("leaf-rollover"), I(RO, RN), R("root-rsa"), True,
     hostname=WWW, note="two intermediates named 'Test Intermediate Rollover' with different "
     "keys; only int-rollover-new signed the leaf; the wrong one is presented first")
case("rollover_same_name_right_one_first", L("leaf-rollover"), I(RN, RO), R("root-rsa"), True,
     hostname=WWW)
case("rollover_same_name_leaf_without_aki", L("leaf-rollover-no-aki"), I(RO, RN), R("root-rsa"),
     True, hostname=WWW,
     note="as above but the leaf has no authorityKeyIdentifier, so the builder cannot "
     "pre-select by key id and must fall back to trying the other candidate",
     openssl_differs="with -x509_strict OpenSSL requires an authorityKeyIdentifier in every "
     "non-root certificate ('Missing Authority Key Identifier'); without it OpenSSL takes the "
     "first name match and reports a signature failure")
case("cross_signed_needs_backtracking", L("leaf-cross-signed"),
     I("int-cross-by-other") + R("root-other") + I("int-cross-by-rsa"), R("root-rsa"), True,
     hostname=WWW,
     note="the leaf's issuer exists twice (same name and key): certified by root-other "
     "(untrusted, presented first together with root-other) and by root-rsa (trusted). "
     "The builder must abandon the dead end and try the second certificate",
     openssl_differs="OpenSSL does not backtrack over alternative untrusted issuers: it follows "
     "the first match to root-other and stops")
case("loop_between_two_cas", L("leaf-loop"), I("int-loop-a", "int-loop-b"), R("root-rsa"), False,
     "loop", hostname=WWW,
     note="int-loop-a is issued by int-loop-b and int-loop-b by int-loop-a; neither is trusted. "
     "The builder must terminate; a builder that prunes visited certificates may equally see "
     "this as unknown_issuer")
DEEP = I(*[f"int-deep-{i}" for i in range(6, 0, -1)])
case("deep_chain_default_depth", L("leaf-deep"), DEEP, R("root-ecdsa"), True, hostname=WWW,
     note="six intermediates; the default limit must allow this")
case("deep_chain_max_depth_3", L("leaf-deep"), DEEP, R("root-ecdsa"), False, "chain_too_long",
     hostname=WWW, depth=3)
case("deep_chain_max_depth_5", L("leaf-deep"), DEEP, R("root-ecdsa"), False, "chain_too_long",
     hostname=WWW, depth=5)
case("deep_chain_max_depth_6", L("leaf-deep"), DEEP, R("root-ecdsa"), True, hostname=WWW, depth=6,
     note="exactly six intermediates allowed")
case("deep_chain_shuffled_order", L("leaf-deep"),
     I("int-deep-3", "int-deep-1", "int-deep-6", "int-deep-4", "int-deep-2", "int-deep-5"),
     R("root-ecdsa"), True, hostname=WWW, note="intermediates presented out of order")

# -------------------------------------------------------------------------------------
def cat(paths, dest):
    with open(dest, "w") as f:
        for p in paths:
            f.write(open(os.path.join(OUT, p)).read())

def run_openssl(c, extra=()):
    with tempfile.TemporaryDirectory() as td:
        ca = os.path.join(td, "trusted.pem"); cat(c["trusted"], ca)
        cmd = ["openssl", "verify", "-x509_strict", "-attime", str(c["time"]),
               "-purpose", "sslserver" if c["purpose"] == "server" else "sslclient"]
        h = c["hostname"]
        if h is not None:
            try:
                ipaddress.ip_address(h); cmd += ["-verify_ip", h]
            except ValueError:
                cmd += ["-verify_hostname", h]
        if c["max_chain_depth"] is not None:
            cmd += ["-verify_depth", str(c["max_chain_depth"])]
        cmd += list(extra)
        cmd += ["-CAfile", ca]
        if c["untrusted"]:
            un = os.path.join(td, "untrusted.pem"); cat(c["untrusted"], un)
            cmd += ["-untrusted", un]
        cmd += [os.path.join(OUT, c["leaf"])]
        p = subprocess.run(cmd, capture_output=True, text=True)
        text = p.stdout + p.stderr
        ok = p.returncode == 0 and re.search(r": OK\s*$", p.stdout) is not None
        errs = ["error %s at depth %s: %s" % m for m in
                re.findall(r"error (\d+) at (\d+) depth lookup: (.*)", text)]
        if not ok and not errs:
            errs = [l for l in text.strip().splitlines() if l][-1:]
        return ok, "; ".join(errs)

ids = set()
problems = []
with open(os.path.join(OUT, "manifest.jsonl"), "w") as out:
    for c in cases:
        assert c["id"] not in ids, c["id"]; ids.add(c["id"])
        for p in [c["leaf"]] + c["untrusted"] + c["trusted"]:
            assert os.path.exists(os.path.join(OUT, p)), p
        ok, err = run_openssl(c)
        differs = c.pop("_differs")
        note = c["note"]
        if differs:
            note = (note + " | " if note else "") + "OpenSSL differs: " + differs
            if ok == c["expect_ok"]:
                problems.append(f"{c['id']}: a difference from openssl was expected but it agrees")
        elif ok != c["expect_ok"]:
            problems.append(f"{c['id']}: openssl says {ok}, expected {c['expect_ok']} ({err})")
        if differs and differs is WEAK:
            ok2, err2 = run_openssl(c, ["-auth_level", "1"])
            if ok2:
                problems.append(f"{c['id']}: openssl -auth_level 1 accepted it")
        rec = {"id": c["id"], "leaf": c["leaf"], "untrusted": c["untrusted"],
               "trusted": c["trusted"], "hostname": c["hostname"], "time": c["time"],
               "purpose": c["purpose"], "max_chain_depth": c["max_chain_depth"],
               "expect_ok": c["expect_ok"], "expect_reason": c["expect_reason"],
               "openssl_ok": ok, "openssl_error": err, "note": note}
        out.write(json.dumps(rec) + "\n")

n = len(cases); nok = sum(c["expect_ok"] for c in cases)
print(f"  {n} cases: {nok} expect ok, {n - nok} expect failure")
with open(os.path.join(OUT, "manifest.jsonl")) as f:
    for line in f:
        r = json.loads(line)
        if r["openssl_ok"] != r["expect_ok"]:
            print(f"  openssl differs (by design): {r['id']}")
for p in problems:
    print("  WARNING:", p)
if problems:
    sys.exit(1)
PY

echo "== key manifest"
python3 - "$OUT" "$PW" <<'PY'
import json, os, subprocess, sys
OUT, PW = sys.argv[1], sys.argv[2]
K = os.path.join(OUT, "keys")
ENC256 = {"scheme": "PBES2", "kdf": "PBKDF2", "prf": "hmacWithSHA256", "cipher": "aes-256-cbc", "password": PW}
ENC128 = dict(ENC256, cipher="aes-128-cbc")
LEGACY = {"scheme": "OpenSSL legacy PEM (Proc-Type/DEK-Info, EVP_BytesToKey MD5)", "kdf": None,
          "prf": None, "cipher": "aes-256-cbc", "password": PW}
rows = [
 ("rsa-2048.pkcs1.pem", "private", "rsa", "pkcs1", "pem", None, "rsa-2048.cert.pem", True, "BEGIN RSA PRIVATE KEY"),
 ("rsa-2048.pkcs1.der", "private", "rsa", "pkcs1", "der", None, "rsa-2048.cert.pem", True, ""),
 ("rsa-2048.pkcs8.pem", "private", "rsa", "pkcs8", "pem", None, "rsa-2048.cert.pem", True, "BEGIN PRIVATE KEY"),
 ("rsa-2048.pkcs8.der", "private", "rsa", "pkcs8", "der", None, "rsa-2048.cert.pem", True, ""),
 ("rsa-2048.pkcs8.aes256.pem", "private", "rsa", "pkcs8-encrypted", "pem", ENC256, "rsa-2048.cert.pem", True, "BEGIN ENCRYPTED PRIVATE KEY"),
 ("rsa-2048.pkcs8.aes256.der", "private", "rsa", "pkcs8-encrypted", "der", ENC256, "rsa-2048.cert.pem", True, ""),
 ("rsa-2048.pkcs1.aes256-legacy.pem", "private", "rsa", "pkcs1-legacy-encrypted", "pem", LEGACY, "rsa-2048.cert.pem", True,
  "traditional OpenSSL encryption; a parser may reject it (unsupported), never misparse it"),
 ("rsa-2048.spki.pem", "public", "rsa", "spki", "pem", None, "rsa-2048.cert.pem", True, "BEGIN PUBLIC KEY"),
 ("ec-p256.sec1.pem", "private", "ec-p256", "sec1", "pem", None, "ec-p256.cert.pem", True, "BEGIN EC PRIVATE KEY, namedCurve"),
 ("ec-p256.sec1.der", "private", "ec-p256", "sec1", "der", None, "ec-p256.cert.pem", True, ""),
 ("ec-p256.sec1-explicit-params.pem", "private", "ec-p256", "sec1", "pem", None, "ec-p256.cert.pem", True,
  "explicit (specifiedCurve) domain parameters instead of a named curve; RFC 5480 forbids them in PKIX, expected to be rejected"),
 ("ec-p256.pkcs8.pem", "private", "ec-p256", "pkcs8", "pem", None, "ec-p256.cert.pem", True, ""),
 ("ec-p256.pkcs8.der", "private", "ec-p256", "pkcs8", "der", None, "ec-p256.cert.pem", True, ""),
 ("ec-p256.pkcs8.aes128.pem", "private", "ec-p256", "pkcs8-encrypted", "pem", ENC128, "ec-p256.cert.pem", True, ""),
 ("ec-p256.spki.pem", "public", "ec-p256", "spki", "pem", None, "ec-p256.cert.pem", True, ""),
 ("ec-p384.sec1.pem", "private", "ec-p384", "sec1", "pem", None, "ec-p384.cert.pem", True, ""),
 ("ec-p384.pkcs8.pem", "private", "ec-p384", "pkcs8", "pem", None, "ec-p384.cert.pem", True, ""),
 ("ec-p384.pkcs8.aes256.pem", "private", "ec-p384", "pkcs8-encrypted", "pem", ENC256, "ec-p384.cert.pem", True, ""),
 ("ec-p384.spki.pem", "public", "ec-p384", "spki", "pem", None, "ec-p384.cert.pem", True, ""),
 ("ed25519.pkcs8.pem", "private", "ed25519", "pkcs8", "pem", None, "ed25519.cert.pem", True, "RFC 8410 OneAsymmetricKey v1"),
 ("ed25519.pkcs8.der", "private", "ed25519", "pkcs8", "der", None, "ed25519.cert.pem", True, ""),
 ("ed25519.pkcs8.aes256.pem", "private", "ed25519", "pkcs8-encrypted", "pem", ENC256, "ed25519.cert.pem", True, ""),
 ("ed25519.spki.pem", "public", "ed25519", "spki", "pem", None, "ed25519.cert.pem", True, ""),
 ("mismatch.key.pem", "private", "ec-p256", "pkcs8", "pem", None, "mismatch.cert.pem", False,
  "the certificate holds a different P-256 key: loading this pair must fail"),
]

def pub_of_key(path, row):
    if "explicit" in row[0]:  # map the explicit parameters back to the named curve to compare
        args = ["openssl", "ec", "-param_enc", "named_curve", "-pubout", "-outform", "DER", "-in", path]
        return subprocess.run(args, capture_output=True, check=True).stdout
    args = ["openssl", "pkey", "-pubout", "-outform", "DER", "-in", path]
    if row[4] == "der": args += ["-inform", "DER"]
    if row[1] == "public": args += ["-pubin"]
    if row[5]: args += ["-passin", "pass:" + PW]
    return subprocess.run(args, capture_output=True, check=True).stdout

def pub_of_cert(path):
    pem = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-pubkey"], capture_output=True, check=True).stdout
    return subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pem, capture_output=True, check=True).stdout

with open(os.path.join(K, "keys.jsonl"), "w") as f:
    for r in rows:
        file, kind, alg, fmt, enc, crypt, cert, matches, note = r
        assert os.path.exists(os.path.join(K, file)), file
        got = pub_of_key(os.path.join(K, file), r) == pub_of_cert(os.path.join(K, cert))
        assert got == matches, (file, got)
        f.write(json.dumps({"file": file, "kind": kind, "algorithm": alg, "format": fmt,
                            "encoding": enc, "encryption": crypt, "cert": cert,
                            "matches_cert": matches, "note": note}) + "\n")
listed = {r[0] for r in rows} | {r[6] for r in rows} | {"keys.jsonl"}
extra = set(os.listdir(K)) - listed
assert not extra, extra
print(f"  {len(rows)} key files")
PY

echo "done: $(find "$OUT" -type f | wc -l) files in $OUT"
