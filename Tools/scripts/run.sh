#!/usr/bin/env bash
# The main job: for now the crypto self-test (later: tls-server on its default certificate).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/setup.sh
swift build --product tls-selftest
exec .build/debug/tls-selftest "$@"
