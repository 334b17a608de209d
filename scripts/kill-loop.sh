#!/usr/bin/env bash
# The long kill -9 loop of docs/RELIABILITY.md, "Exactly once from file to store": the real
# `strata agent` and `strata collector`, killed at seeded random moments (the agent, the
# collector, or both) while lines are written, for ROUNDS rounds per seed; each run ends with
# one "kill-loop: ..." line (kills, records, re-sent records dropped, stored twice, missing).
#
#   scripts/kill-loop.sh                 # 60 rounds, seeds 1 2 3
#   ROUNDS=200 SEEDS="7 8" scripts/kill-loop.sh
#
# `make test` runs the same test with 20 rounds (seed 11). Builds the tests first when needed.
set -uo pipefail
SWIFT=${SWIFT:-swift}
ROUNDS=${ROUNDS:-60}
SEEDS=${SEEDS:-"1 2 3"}
cd "$(dirname "$0")/.." || exit 1
build_log=$(mktemp)
if ! $SWIFT build --build-tests >"$build_log" 2>&1; then
    grep -E "error:" "$build_log" | head -20 >&2
    echo "kill-loop: the build failed (see above)" >&2
    rm -f "$build_log"
    exit 1
fi
rm -f "$build_log"
status=0
for seed in $SEEDS; do
    log=$(mktemp)
    STRATA_KILL_LOOP_ROUNDS=$ROUNDS STRATA_KILL_LOOP_SEED=$seed \
        $SWIFT test --skip-build --filter 'ExactlyOnceTests/killLoopEndsWithEveryLineStoredOnce' >"$log" 2>&1
    result=$?
    grep -E "^kill-loop: " "$log" || { echo "kill-loop: seed $seed printed no report" >&2; tail -30 "$log" >&2; }
    if [ $result -ne 0 ]; then
        grep -E "Expectation failed|error:" "$log" | head -10 >&2
        status=1
    fi
    rm -f "$log"
done
exit $status
