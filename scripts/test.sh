#!/usr/bin/env bash
# make test: build and run every test, then close with one plain summary line.
# (swift test prints XCTest's summary, then Swift Testing's "0 tests" line, which would read as
# "no test ran"; the last line here states what XCTest executed.)
set -uo pipefail
SWIFT=${SWIFT:-swift}
$SWIFT build --build-tests || exit 1
log=$(mktemp)
$SWIFT test --skip-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# The last "Executed" line is the whole run ("All tests"), e.g.
# "Executed 344 tests, with 1 test skipped and 0 failures (0 unexpected) in ..."
summary=$(grep -E "^[[:space:]]*Executed [0-9]+ tests?, with " "$log" | tail -1)
rm -f "$log"
if [ -z "$summary" ]; then echo "tests: no XCTest summary found" >&2; exit 1; fi
total=$(echo "$summary" | sed -E 's/.*Executed ([0-9]+) tests?.*/\1/')
failed=$(echo "$summary" | sed -E 's/.* ([0-9]+) failures? .*/\1/')
skipped=0
if echo "$summary" | grep -qE "[0-9]+ tests? skipped"; then
    skipped=$(echo "$summary" | sed -E 's/.*with ([0-9]+) tests? skipped.*/\1/')
fi
echo "tests: $((total - failed - skipped)) passed, $failed failed, $skipped skipped"
exit "$status"
