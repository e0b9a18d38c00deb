#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/setup.sh
swift build --build-tests
swift test --skip-build
# The benchmark, very briefly: proves every workload (ours and OpenSSL's) still runs.
.build/debug/tls-bench --smoke --json > .build/tls-bench-smoke.json
echo "tls-bench --smoke: every workload ran (figures in .build/tls-bench-smoke.json)"
