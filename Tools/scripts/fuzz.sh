#!/usr/bin/env bash
# Builds tls-fuzz with libFuzzer + AddressSanitizer and fuzzes one target or all.
# usage: Tools/scripts/fuzz.sh [TARGET|all] [SECONDS]      (default: all, 60 s each)
#        Tools/scripts/fuzz.sh --merge [TARGET|all]        minimize Vectors/corpus/TARGET
#                                                          (FUZZ_MERGE_WORK=1: also take in the
#                                                          working corpus's finds)
# Environment: FUZZ_ARGS (extra libFuzzer flags),
# FUZZ_NO_BUILD=1 (use the binary already built).
# The working corpus (seeds + what libFuzzer finds) is .build-fuzz/corpus/TARGET;
# crashes, timeouts and OOMs go to .build-fuzz/artifacts/ and fail the run.
# Prints one line per target: executions, exec/s, coverage (cov = edges), features.
# The fuzzing build (-DFUZZING) memoizes libgcrypt's public-key results by their exact
# inputs (TLSCrypto/FuzzingMemo.swift): with scripted randomness the connection targets
# repeat the same key generations and signature checks, which were three quarters of
# their time. Every Swift path still runs; library builds never contain the memo.
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
merge=0
if [ "${1:-}" = "--merge" ]; then merge=1; shift; fi
target=${1:-all}
seconds=${2:-60}
B=$ROOT/.build-fuzz
BIN=$B/release/tls-fuzz

if [ "${FUZZ_NO_BUILD:-0}" != 1 ] || [ ! -x "$BIN" ]; then
    bash Tools/scripts/setup.sh >/dev/null || exit 1
    echo "building tls-fuzz (libFuzzer + ASan) ..."
    start=$(date +%s)
    swift build -c release --product tls-fuzz --build-path "$B" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -use-ld=lld > "$B.log" 2>&1 \
        || { tail -40 "$B.log"; echo "fuzz build failed"; exit 1; }
    echo "built in $(( $(date +%s) - start )) s"
fi

export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/Tools/scripts/lsan.supp:print_suppressions=0}

if [ "$target" = all ]; then
    targets=$("$BIN" --list | cut -f1)
else
    targets=$target
fi
mkdir -p "$B/corpus" "$B/artifacts" "$B/logs" "$ROOT/Vectors/corpus/regressions"
failed=0
total_execs=0
targets_ok=0
targets_failed=0
printf '%-12s %12s %10s %8s %8s %s\n' target execs exec/s cov ft result
for t in $targets; do
    seeds=$ROOT/Vectors/corpus/$t
    work=$B/corpus/$t
    mkdir -p "$work" "$seeds"
    log=$B/logs/$t.log
    if [ $merge = 1 ]; then
        fresh=$(mktemp -d)
        "$BIN" "$t" -merge=1 -rss_limit_mb=4096 -timeout=10 "$fresh" "$seeds" $([ "${FUZZ_MERGE_WORK:-0}" = 1 ] && echo "$work") > "$log" 2>&1
        if [ "$(ls "$fresh" | wc -l)" -gt 0 ]; then
            rm -f "$seeds"/*
            cp "$fresh"/* "$seeds"/
        else
            echo "$t: merge produced nothing (see $log); seeds kept"; failed=1
        fi
        rm -rf "$fresh"
        echo "$t: $(ls "$seeds" | wc -l) files, $(du -sk "$seeds" | cut -f1) KB after merge"
        continue
    fi
    "$BIN" "$t" "$work" "$seeds" "$ROOT/Vectors/corpus/regressions" \
        -dict="$ROOT/Vectors/corpus/tls.dict" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -max_len=16384 -print_final_stats=1 -artifact_prefix="$B/artifacts/$t-" \
        ${FUZZ_ARGS:-} > "$log" 2>&1
    rc=$?
    execs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
    speed=$(grep -a 'stat::average_exec_per_sec' "$log" | awk '{s+=$2} END {print s+0}')
    cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    ft=$(grep -aoE 'ft: [0-9]+' "$log" | tail -1 | awk '{print $2}')
    result=ok
    if [ $rc -ne 0 ] || grep -aqE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|deadly signal|Fatal error' "$log"; then
        result="FAILED (rc $rc; see $log and $B/artifacts/)"
        failed=1
        targets_failed=$((targets_failed + 1))
    else
        targets_ok=$((targets_ok + 1))
    fi
    printf '%-12s %12s %10s %8s %8s %s\n' "$t" "$execs" "$speed" "${cov:-?}" "${ft:-?}" "$result"
    total_execs=$((total_execs + execs))
done
if [ $merge = 0 ]; then
    echo "$total_execs executions in all, $([ $failed = 0 ] && echo 'no crash, hang or OOM' || echo 'FAILURES (see above)')"
    echo "fuzz: $targets_ok passed, $targets_failed failed"
fi
exit $failed
