#!/usr/bin/env bash
# The main job: tls-server on its embedded default (a self-signed ECDSA certificate
# for localhost, written to tls-server-cert.pem), echoing on 127.0.0.1:4433.
# Extra arguments go to tls-server (see --help), e.g. --www or --port 8443.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/setup.sh
swift build -c release --product tls-server
exec .build/release/tls-server "$@"
