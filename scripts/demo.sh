#!/usr/bin/env bash
# make demo: the agent on a generated node, then a generated cluster with an incident through
# agent -> collector -> search -> diagnosis.
set -euo pipefail
BIN=${1:-.build/release/strata}
OUT=${2:-demo-out}
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Generate a node log tree (12 containers, CRI and docker json-file, ~30 MB)"
"$BIN" generate --out "$OUT/node" --containers 12 --namespaces 3 --size 30MB --corrupt-rate 0.0005 \
    --summary "$OUT/tree.json"
expected=$(grep -m1 '"totalRecords"' "$OUT/tree.json" | tr -dc '0-9')
echo "files:"
ls "$OUT/node/var/log/containers" | head -5
echo "... ($(ls "$OUT/node/var/log/containers" | wc -l) in all)"

step "2. strata agent --once --sink stdout (every record as a JSON line)"
start=$(date +%s%N)
"$BIN" agent --once --sink stdout --path "$OUT/node/var/log/containers/*.log" \
    --checkpoint-dir "$OUT/agent-state" --log-level warning > "$OUT/records.ndjson"
end=$(date +%s%N)
got=$(wc -l < "$OUT/records.ndjson")
bytes=$(du -sbL "$OUT/node/var/log/pods" | cut -f1)
printf 'records: %s (the generator says %s)   input: %s MB in %s ms\n' "$got" "$expected" \
    "$((bytes / 1000000))" "$(( (end - start) / 1000000 ))"
if [ "$got" != "$expected" ]; then echo "MISMATCH: the agent produced a different number of records" >&2; exit 1; fi

step "3. Records per namespace and container"
grep -o '"k8s.namespace.name":"[^"]*","k8s.pod.name":"[^"]*","k8s.pod.uid":"[^"]*","k8s.container.name":"[^"]*"' \
    "$OUT/records.ndjson" | sed -E 's/"k8s.namespace.name":"([^"]*)","k8s.pod.name":"([^"]*)".*"k8s.container.name":"([^"]*)"/\1 \2 \3/' \
    | sort | uniq -c | sort -rn | head -12

step "4. What assembly did: multi-line stack traces, 16 KiB partials joined, corrupt lines kept"
printf 'multiline records:   %s\n' "$(grep -c '"multiline"' "$OUT/records.ndjson" || true)"
printf 'records > 16 KiB:    %s\n' "$(awk 'length($0) > 17000' "$OUT/records.ndjson" | wc -l)"
printf 'parse_error (kept):  %s\n' "$(grep -c '"parse_error"' "$OUT/records.ndjson" || true)"
printf 'invalid_utf8 (kept): %s\n' "$(grep -c '"invalid_utf8"' "$OUT/records.ndjson" || true)"
echo "one Java stack trace, as one record:"
grep -m1 '"body":"[^"]*Exception[^"]*\\n\\tat ' "$OUT/records.ndjson" | cut -c1-600
echo

step "5. Run again: checkpoints say everything was delivered, so nothing is sent twice"
"$BIN" agent --once --sink stdout --path "$OUT/node/var/log/containers/*.log" \
    --checkpoint-dir "$OUT/agent-state" --log-level warning > "$OUT/again.ndjson"
echo "records on the second run: $(wc -l < "$OUT/again.ndjson")"

step "6. A small cluster with an incident: 11 workloads calling each other, one fault that cascades"
"$BIN" generate --scenario cascade --out "$OUT/cluster" --seed 7 --summary "$OUT/scenario.json" 2>/dev/null
field() { grep -m1 "\"$1\"" "$OUT/scenario.json" | cut -d'"' -f4; }
WINDOW_FROM=$(field windowFrom); WINDOW_TO=$(field windowTo)
BASELINE_FROM=$(field baselineFrom); BASELINE_TO=$(field baselineTo)
cluster_records=$(grep -m1 '"totalRecords"' "$OUT/scenario.json" | tr -dc '0-9')
echo "records: $cluster_records   baseline: $BASELINE_FROM .. $BASELINE_TO   incident window: $WINDOW_FROM .. $WINDOW_TO"
echo "(the injected fault is in $OUT/cluster/scenario.json; the diagnosis below does not read it)"

step "7. Agent -> collector over HTTP (zstd batches)"
PORT=${STRATA_DEMO_PORT:-41870}
"$BIN" collector --data-dir "$OUT/collector" --listen "127.0.0.1:$PORT" --flush-interval 2s \
    --config pipelines/collector.yaml --parsers-dir parsers --log-level warning &
COLLECTOR=$!
trap 'kill $COLLECTOR 2>/dev/null || true' EXIT
C="http://127.0.0.1:$PORT"
for _ in $(seq 1 50); do
    "$BIN" query --collector "$C" --count >/dev/null 2>&1 && break
    sleep 0.2
done
"$BIN" agent --once --path "$OUT/cluster/var/log/containers/*.log" --checkpoint-dir "$OUT/agent-http-state" \
    --collector "$C" --log-level warning
echo "records stored by the collector: $("$BIN" query --collector "$C" --since 6h --count) of $cluster_records"

step "8. Search"
show() {
    echo; printf '$ strata query'
    for arg in "$@"; do case $arg in *[\ \"]*) printf " '%s'" "$arg" ;; *) printf ' %s' "$arg" ;; esac; done
    echo; "$BIN" query "$@" --collector "$C"
}
show 'level:error AND NOT ns:kube-system' --from "$WINDOW_FROM" --to "$WINDOW_TO" --limit 5 -o text
show '"connection refused" OR timeout*' --from "$WINDOW_FROM" --to "$WINDOW_TO" --count
show 'level:error' --from "$BASELINE_FROM" --to "$WINDOW_TO" --stats 'count by ns, pod' --limit 8
show 'level:error OR level:warn' --from "$BASELINE_FROM" --to "$WINDOW_TO" --histogram 5m
sleep 2.5   # one flush interval: the head goes into segments
kill $COLLECTOR
wait $COLLECTOR 2>/dev/null || true
trap - EXIT

step "9. Diagnosis: the incident window against the baseline hour"
echo "\$ strata diagnose --data-dir $OUT/collector --from $WINDOW_FROM --to $WINDOW_TO --baseline-from $BASELINE_FROM --baseline-to $BASELINE_TO -o md"
"$BIN" diagnose --data-dir "$OUT/collector" --from "$WINDOW_FROM" --to "$WINDOW_TO" \
    --baseline-from "$BASELINE_FROM" --baseline-to "$BASELINE_TO" -o md --max-suspects 3 | head -60
"$BIN" diagnose --data-dir "$OUT/collector" --from "$WINDOW_FROM" --to "$WINDOW_TO" \
    --baseline-from "$BASELINE_FROM" --baseline-to "$BASELINE_TO" -o html --output "$OUT/diagnosis.html"
echo
echo "injected fault (ground truth): $(grep -m1 '"faultWorkload"' "$OUT/scenario.json" | cut -d'"' -f4)"
echo "HTML report: $(cd "$OUT" && pwd)/diagnosis.html"

step "Done. Output in $OUT/ (records.ndjson, tree.json, cluster/, collector/, diagnosis.html)"
