#!/usr/bin/env bash
# The test command: installs what is missing, builds, runs every test suite, and
# ends with one line "all: N passed, M failed". Exit status non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
bash Tools/scripts/setup.sh || exit 1
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
passed=0
failed=0

# Unit and in-memory protocol tests (XCTest).
swift build --build-tests || { echo "all: 0 passed, 1 failed"; exit 1; }
swift test --skip-build --disable-swift-testing 2>&1 | tee "$logdir/unit.log"
unit_rc=${PIPESTATUS[0]}
summary=$(grep -E "Executed [0-9]+ tests?, with [0-9]+ failures?" "$logdir/unit.log" | tail -1)
n=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
f=$(echo "$summary" | sed -E 's/.*with ([0-9]+) failures?.*/\1/')
if [ -z "$summary" ]; then n=0; f=1; fi
if [ "$unit_rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
echo "unit: $((n - f)) passed, $f failed"
passed=$((passed + n - f)); failed=$((failed + f))

# Suites that add their own scripts report "NAME: N passed, M failed" as their last line.
run_suite() {
  local name=$1; shift
  "$@" 2>&1 | tee "$logdir/$name.log"
  local rc=${PIPESTATUS[0]}
  local line
  line=$(grep -E "^[a-z-]+: [0-9]+ passed, [0-9]+ failed" "$logdir/$name.log" | tail -1)
  local p f
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) failed.*/\1/')
  if [ -z "$line" ]; then
    # A suite without its own count is one check: it passed if it exited 0.
    if [ "$rc" -eq 0 ]; then p=1; f=0; else p=0; f=1; fi
    echo "$name: $p passed, $f failed"
  fi
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
}

if [ -f Tools/scripts/interop.py ]; then
  swift build --product tls-server && swift build --product tls-client && swift build --product tls-replay || { failed=$((failed + 1)); }
  run_suite interop python3 Tools/scripts/interop.py --bin .build/debug
fi
if [ -f Tools/scripts/fuzz-ci.sh ]; then
  run_suite fuzz bash Tools/scripts/fuzz-ci.sh
fi
if [ -f Tools/scripts/bench-smoke.sh ]; then
  run_suite bench bash Tools/scripts/bench-smoke.sh
fi

echo "all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
