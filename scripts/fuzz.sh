#!/usr/bin/env bash
# make fuzz: every fuzz target under libFuzzer for FUZZ_SECONDS each (docs/RELIABILITY.md,
# "Fuzzing"). Corpora grow in .fuzz/corpus/<target> across runs; crashing or property-breaking
# inputs land in .fuzz/findings/ and are replayed with `strata-fuzz replay TARGET FILE`.
set -uo pipefail
BIN=${1:?usage: fuzz.sh STRATA_FUZZ_BINARY [SECONDS_PER_TARGET] [TARGET...]}
SECONDS_PER_TARGET=${2:-300}
shift 2 || shift $#
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <("$BIN" list | awk '{print $1}')
fi
mkdir -p .fuzz/findings
failed=()
for target in "${targets[@]}"; do
    corpus=.fuzz/corpus/$target
    mkdir -p "$corpus"
    "$BIN" seeds "$target" "$corpus" || exit 1
    echo "== $target: ${SECONDS_PER_TARGET}s"
    log=.fuzz/$target.log
    "$BIN" libfuzzer "$target" -max_total_time="$SECONDS_PER_TARGET" -print_final_stats=1 \
        -artifact_prefix=.fuzz/findings/"$target"- "$corpus" >"$log" 2>&1
    status=$?
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb|^#[0-9]+.*DONE" "$log" | tr '\n' ' '
    echo
    if [ $status -ne 0 ]; then
        failed+=("$target")
        grep -E "FuzzFinding|Swift runtime failure|Fatal error|ERROR: libFuzzer|^[a-z-]+: " "$log" | head -5
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in ${failed[*]} (inputs in .fuzz/findings/, logs in .fuzz/<target>.log)"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, no finding"
