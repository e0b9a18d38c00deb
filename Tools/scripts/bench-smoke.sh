#!/usr/bin/env bash
# CI: tls-bench very briefly, to prove every workload (ours and OpenSSL's) still runs.
set -uo pipefail
cd "$(dirname "$0")/../.."
swift build --product tls-bench || exit 1
.build/debug/tls-bench --smoke --json > .build/tls-bench-smoke.json || exit 1
echo "tls-bench --smoke: every workload ran (figures in .build/tls-bench-smoke.json)"
