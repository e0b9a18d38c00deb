#!/usr/bin/env bash
# CI: build the fuzzers (libFuzzer + ASan) and run every target briefly
# (FUZZ_SECONDS, default 30 s each); fails on any crash, hang or OOM.
set -uo pipefail
cd "$(dirname "$0")/../.."
exec bash Tools/scripts/fuzz.sh all "${FUZZ_SECONDS:-30}"
