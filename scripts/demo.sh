#!/usr/bin/env bash
# make demo: generate a node's container logs, run the agent over them, show what came out.
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

step "6. Agent -> collector over HTTP (zstd batches), then search"
PORT=${STRATA_DEMO_PORT:-41870}
"$BIN" collector --data-dir "$OUT/collector" --listen "127.0.0.1:$PORT" --flush-interval 2s \
    --config pipelines/collector.yaml --parsers-dir parsers --log-level warning &
COLLECTOR=$!
trap 'kill $COLLECTOR 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    "$BIN" query --collector "http://127.0.0.1:$PORT" --count >/dev/null 2>&1 && break
    sleep 0.2
done
"$BIN" agent --once --path "$OUT/node/var/log/containers/*.log" --checkpoint-dir "$OUT/agent-http-state" \
    --collector "http://127.0.0.1:$PORT" --log-level warning
echo "records stored by the collector: $("$BIN" query --collector "http://127.0.0.1:$PORT" --since 1d --count) of $expected"
echo "(the difference is what the drop rules of pipelines/collector.yaml remove: kube-probe health"
echo " checks and kube-system debug lines; the collector counts them in strata_collector_records_dropped_total)"
echo
echo "$ strata query 'severity:error k8s.namespace.name:payments' --since 1d --limit 5"
"$BIN" query 'severity:error k8s.namespace.name:payments' --collector "http://127.0.0.1:$PORT" --since 1d --limit 5
echo
echo "$ strata query '\"connection refused\"' --since 1d --count"
"$BIN" query '"connection refused"' --collector "http://127.0.0.1:$PORT" --since 1d --count
sleep 2.5   # one flush interval: the head goes into segments
echo
echo "collector data directory:"
find "$OUT/collector" -type f | sed "s|$OUT/collector/||" | sort | head -12
kill $COLLECTOR
wait $COLLECTOR 2>/dev/null || true
trap - EXIT

step "Done. Output in $OUT/ (records.ndjson, tree.json, agent-state/, collector/)"
