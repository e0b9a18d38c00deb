#!/usr/bin/env bash
# Records seed streams for the tls-fuzz connection targets over real sockets on
# 127.0.0.1, from OpenSSL, GnuTLS, Python ssl and our own tools, then derives
# the seeds of the other targets (Tools/scripts/corpus.py) into OUT.
#   server target: what each client sent to `tls-fuzz capture-server` (the
#                  server target's own deterministic peer, so the bytes replay);
#   client target: what each server sent to `tls-fuzz capture-client`.
# usage: Tools/scripts/record-corpus.sh [OUT]   (default: a temporary directory;
# minimize into Vectors/corpus with Tools/scripts/fuzz.sh --merge)
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=${1:-$(mktemp -d /tmp/tls-corpus.XXXXXX)}
RAW=$OUT/raw
mkdir -p "$RAW/server" "$RAW/client"
FUZZ=${TLS_FUZZ:-$ROOT/.build/debug/tls-fuzz}
CLIENT=${TLS_CLIENT:-$ROOT/.build/release/tls-client}
SERVER=${TLS_SERVER:-$ROOT/.build/release/tls-server}
[ -x "$FUZZ" ] || swift build --product tls-fuzz >/dev/null || exit 1
[ -x "$CLIENT" ] || CLIENT=$ROOT/.build/debug/tls-client
[ -x "$SERVER" ] || SERVER=$ROOT/.build/debug/tls-server
PORT=${PORT:-47000}
W=$(mktemp -d /tmp/tls-corpus-work.XXXXXX)
trap 'rm -rf "$W"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -keyout "$W/ec.key" -out "$W/ec.pem" -days 3650 -nodes -subj /CN=localhost 2>/dev/null
openssl req -x509 -newkey rsa:2048 -keyout "$W/rsa.key" -out "$W/rsa.pem" -days 3650 -nodes -subj /CN=localhost 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -keyout "$W/ec384.key" -out "$W/ec384.pem" -days 3650 -nodes -subj /CN=client 2>/dev/null
printf 'GET / HTTP/1.0\r\n\r\n' > "$W/get"
head -c 60 /dev/urandom | base64 > "$W/data"

# One client against the server target's peer: capture_server NAME CLIENT-COMMAND...
capture_server() {
    local name=$1; shift
    PORT=$((PORT + 1))
    timeout 20 "$FUZZ" capture-server $PORT "$RAW/server/$name" > "$W/cap.log" 2>&1 &
    local cap=$!
    for _ in $(seq 50); do grep -q listening "$W/cap.log" 2>/dev/null && break; sleep 0.1; done
    local cmd=("${@//@PORT@/$PORT}")
    timeout 10 "${cmd[@]}" < "$W/data" > "$W/client.log" 2>&1
    wait $cap
    echo "server/$name: $(tail -1 "$W/cap.log")"
}

# Our client target's peer against one server: capture_client NAME SERVER-COMMAND...
capture_client() {
    local name=$1; shift
    PORT=$((PORT + 1))
    local cmd=("${@//@PORT@/$PORT}")
    timeout 20 "${cmd[@]}" > "$W/server.log" 2>&1 &
    local srv=$!
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
    # The probe above was one connection: servers that take one only are started with a count of 2.
    "$FUZZ" capture-client 127.0.0.1:$PORT "$RAW/client/$name" > "$W/cap.log" 2>&1
    kill $srv 2>/dev/null; wait $srv 2>/dev/null
    echo "client/$name: $(tail -1 "$W/cap.log")"
}

S="openssl s_client -connect 127.0.0.1:@PORT@ -quiet -ign_eof"
capture_server ossl-tls13 $S
capture_server ossl-tls13-aes256 $S -ciphersuites TLS_AES_256_GCM_SHA384
capture_server ossl-tls13-chacha $S -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -groups P-384
capture_server ossl-tls13-hrr $S -groups X448:P-256
capture_server ossl-tls13-clientcert $S -cert "$W/ec384.pem" -key "$W/ec384.key"
capture_server ossl-tls13-alpn $S -alpn h2,http/1.1 -servername localhost
capture_server ossl-tls12-ecdsa-aes128 $S -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
capture_server ossl-tls12-ecdsa-aes256 $S -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384 -no_ticket
capture_server ossl-tls12-chacha $S -tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305 -groups P-256
capture_server ossl-tls12-clientcert $S -tls1_2 -cert "$W/ec384.pem" -key "$W/ec384.key"
capture_server ossl-tls13-sess-out $S -sess_out "$W/sess13"
capture_server ossl-tls13-resume $S -sess_in "$W/sess13"
capture_server ossl-tls13-sess-out-ed $S -sess_out "$W/sess13ed"
capture_server ossl-tls13-early-data $S -sess_in "$W/sess13ed" -early_data "$W/get"
capture_server ossl-tls12-sess-out $S -tls1_2 -sess_out "$W/sess12"
capture_server ossl-tls12-resume $S -tls1_2 -sess_in "$W/sess12"
capture_server ossl-tls12-sess-out-id $S -tls1_2 -no_ticket -sess_out "$W/sess12id"
capture_server ossl-tls12-resume-id $S -tls1_2 -no_ticket -sess_in "$W/sess12id"
G="gnutls-cli --insecure -p @PORT@ 127.0.0.1"
capture_server gnutls-default $G
capture_server gnutls-tls12 $G --priority NORMAL:-VERS-ALL:+VERS-TLS1.2
capture_server gnutls-tls13-p384 $G --priority NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1
capture_server python-ssl python3 -c "
import socket, ssl, sys
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
c.set_alpn_protocols(['http/1.1'])
with c.wrap_socket(socket.create_connection(('127.0.0.1', @PORT@)), server_hostname='localhost') as s:
    s.sendall(sys.stdin.buffer.read(1000)); s.recv(1000)
"
capture_server python-ssl-tls12 python3 -c "
import socket, ssl, sys
c = ssl.create_default_context(); c.check_hostname = False; c.verify_mode = ssl.CERT_NONE
c.maximum_version = ssl.TLSVersion.TLSv1_2
with c.wrap_socket(socket.create_connection(('127.0.0.1', @PORT@)), server_hostname='localhost') as s:
    s.sendall(sys.stdin.buffer.read(1000)); s.recv(1000)
"
C="$CLIENT 127.0.0.1:@PORT@ --insecure --wait 1"
capture_server ours-tls13 $C
capture_server ours-tls13-keyupdate $C --keyupdate
capture_server ours-tls13-p256 $C --groups P-256 --ciphers TLS_CHACHA20_POLY1305_SHA256
capture_server ours-tls12 $C --tls1_2
capture_server ours-tls12-renegotiate $C --tls1_2 --renegotiate
capture_server ours-tls13-status-rsl $C --status --record-size-limit 1024
capture_server ours-tls12-status-rsl $C --tls1_2 --status --record-size-limit 512

capture_client ossl-tls13 openssl s_server -accept @PORT@ -cert "$W/ec.pem" -key "$W/ec.key" -rev -naccept 2
capture_client ossl-tls13-rsa openssl s_server -accept @PORT@ -cert "$W/rsa.pem" -key "$W/rsa.key" -rev -naccept 2
capture_client ossl-tls13-hrr openssl s_server -accept @PORT@ -cert "$W/ec.pem" -key "$W/ec.key" -rev -naccept 2 -groups P-256
capture_client ossl-tls13-certreq openssl s_server -accept @PORT@ -cert "$W/ec.pem" -key "$W/ec.key" -rev -naccept 2 -verify 1
capture_client ossl-tls13-chacha openssl s_server -accept @PORT@ -cert "$W/ec.pem" -key "$W/ec.key" -rev -naccept 2 -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -alpn h2
capture_client ossl-tls12-ecdsa openssl s_server -accept @PORT@ -cert "$W/ec.pem" -key "$W/ec.key" -rev -naccept 2 -tls1_2
capture_client ossl-tls12-rsa openssl s_server -accept @PORT@ -cert "$W/rsa.pem" -key "$W/rsa.key" -rev -naccept 2 -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
capture_client ossl-tls12-certreq openssl s_server -accept @PORT@ -cert "$W/ec.pem" -key "$W/ec.key" -rev -naccept 2 -tls1_2 -verify 1 -no_ticket
capture_client gnutls-default gnutls-serv -p @PORT@ --x509certfile "$W/ec.pem" --x509keyfile "$W/ec.key" 
capture_client gnutls-tls12 gnutls-serv -p @PORT@ --x509certfile "$W/rsa.pem" --x509keyfile "$W/rsa.key"  --priority NORMAL:-VERS-ALL:+VERS-TLS1.2
capture_client gnutls-certreq gnutls-serv -p @PORT@ --x509certfile "$W/ec.pem" --x509keyfile "$W/ec.key"  --require-client-cert --verify-client-cert
capture_client python-ssl python3 -c "
import socket, ssl
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); c.load_cert_chain('$W/ec.pem', '$W/ec.key')
l = socket.create_server(('127.0.0.1', @PORT@))
for _ in range(2):
    conn, _ = l.accept()
    try:
        with c.wrap_socket(conn, server_side=True) as s:
            s.recv(1000); s.sendall(b'HTTP/1.0 200 OK\r\n\r\nhello')
    except Exception: pass
"
capture_client ours-tls13 $SERVER --port @PORT@ --echo --quiet --cert-out "$W/ours.pem"
capture_client ours-tls13-hrr $SERVER --port @PORT@ --echo --quiet --hrr --groups P-384:X25519 --cert-out "$W/ours.pem"
capture_client ours-tls13-certreq $SERVER --port @PORT@ --echo --quiet --verify-client request --cafile "$W/ec.pem" --alpn h2 --cert-out "$W/ours.pem"
printf '\x30\x03\x0a\x01\x00' > "$W/ocsp.der"
capture_client ours-tls13-ocsp-rsl $SERVER --port @PORT@ --echo --quiet --ocsp "$W/ocsp.der" --record-size-limit 1024 --cert-out "$W/ours.pem"
capture_client ours-tls12-ocsp $SERVER --port @PORT@ --echo --quiet --tls1_2 --ocsp "$W/ocsp.der" --cert-out "$W/ours.pem"
capture_client ours-tls12 $SERVER --port @PORT@ --echo --quiet --tls1_2 --cert-out "$W/ours.pem"
capture_client ours-tls12-rsa $SERVER --port @PORT@ --echo --quiet --tls1_2 --cert "$W/rsa.pem" --key "$W/rsa.key"

python3 Tools/scripts/corpus.py derive "$RAW" "$OUT" "$W"
echo "seeds in $OUT"
