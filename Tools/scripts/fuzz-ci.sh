#!/usr/bin/env bash
# CI: build the fuzzers (libFuzzer + ASan) and run every target briefly
# (FUZZ_SECONDS, default 25 s each: 8 targets, so about 3.5 minutes of fuzzing
# after a clean build of about 2 minutes on 2 cores); fails on any crash, hang
# or OOM. The last line is "fuzz: N passed, M failed" (targets).
set -uo pipefail
cd "$(dirname "$0")/../.."
exec bash Tools/scripts/fuzz.sh all "${FUZZ_SECONDS:-25}"
