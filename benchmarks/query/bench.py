#!/usr/bin/env python3
"""Query benchmark (issue 4): p50/p99 latency per query shape for strata beside Tantivy and ripgrep.

For each corpus (the real Train-Ticket node tree, and the generated tree of at least --lines lines)
the corpus preparation, the record decoding and the strata ingest are those of
benchmarks/collector/bench.py (imported as a module, not copied):
  1. `strata agent --once --sink stdout` decodes the tree into the records the collector receives;
  2. `strata collector` (core 1) receives the tree from `strata agent --once` (core 0) and flushes
     it into segments; a second collector on the same data directory answers the queries;
  3. Tantivy indexes exactly the records of step 1 (one thread); ripgrep searches the raw files.

Then the collector's stored view of every record (its body after normalization: parsers move
timestamps, levels and logger names out of the line) is read back over the API, and the query
terms are picked from the data by fixed rules (benchmarks/query/README.md), never by name:

  rare term, phrase, field filter (ns: + term), boolean ((a OR b) AND NOT c), prefix (p*), regex
  with a literal, regex without a useful literal: newest 100 records, and the count;
  common term: the count; stats: count by pod over every record; histogram: 1m over every record.

Each shape runs against strata (GET /api/v1/query or /api/v1/stats over one persistent loopback
connection; p50/p99 client-side plus the server's took_ms and work stats), Tantivy (in-process)
and ripgrep (one process per run, pinned to one core, --threads 1), and one row times
`strata query --data-dir` as a whole CLI process. Hit counts are printed side by side with two
brute-force references computed in Python (on the collector's stored bodies, and on the raw
record bodies the peers index).

Usage: benchmarks/query/bench.py --work /tmp/query-bench --json /tmp/query-bench/results.json
           [--corpora trainticket,generated] [--reuse-from /tmp/collector-bench] [--runs 20]
"""
import argparse
import collections
import datetime
import hashlib
import http.client
import importlib.util
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# The collector benchmark: corpora, record decoding, strata ingest, timing helpers.
_spec = importlib.util.spec_from_file_location("collector_bench", os.path.join(REPO, "benchmarks", "collector", "bench.py"))
cb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cb)
agent_bench = cb.agent_bench
BenchError = cb.BenchError
log = cb.log

TARGETS = {"selective_speedup": 50.0, "regex_ms": 200.0, "stats_by_pod_ms": 100.0}
MINUTE_NS = 60 * 10**9

# The index's words (docs/QUERY.md, "Terms"): runs of letters and digits, bytes >= 0x80 count as
# letters, lowercased. Used to pick terms and for the brute-force references.
WORD = re.compile(r"[0-9A-Za-z\u0080-\U0010ffff]+")
CLEAN = re.compile(r"[a-z]{4,24}")            # candidate words: ASCII letters only
CLEAN_ID = re.compile(r"[a-z0-9]{6,40}")      # rare-term candidates: letters and digits
HEX_ID = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")
HEX_LETTERS = re.compile(r"[a-f]+")           # `acae`, `beef`: pieces of ids, not words
# Level names match the level field too (docs/QUERY.md): not picked as plain words.
LEVEL_WORDS = {"trace", "debug", "info", "warn", "warning", "error", "fatal", "err", "crit", "critical"}
# Regexes without a useful literal, tried in this order; the first that matches a record is used.
LITERAL_FREE = [r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+", r"[0-9a-f]{8}-[0-9a-f]{4}", r"[0-9]{5,}"]


class Shape:
    """One measured query shape. `kind`: "search" (newest 100 and the count), "count", "stats",
    "histogram". `strata`: the query string; `tantivy`: a function(schema) -> tantivy.Query or
    None; `rg`: the ripgrep command builder or None; `ref`: a function(body, ns) -> bool."""

    def __init__(self, name, kind, strata, pick_note, tantivy=None, rg=None, ref=None, target=None):
        self.name, self.kind, self.strata, self.pick_note = name, kind, strata, pick_note
        self.tantivy, self.rg, self.ref, self.target = tantivy, rg, ref, target


# ---------------------------------------------------------------------------------------------
# Preparation (the collector benchmark's functions, plus reuse of its prepared corpora)


def link_prepared(reuse_from, name, work):
    """Hard-links a corpus the collector benchmark prepared (same tree, same markers) into
    `work`, so that its --reuse logic finds it. Nothing is linked when `work` already has one."""
    if not reuse_from:
        return
    source = os.path.join(reuse_from, name)
    tree = os.path.join(source, name)
    if not os.path.isdir(tree) or os.path.isdir(os.path.join(work, name)):
        return
    log(f"{name}: linking the corpus prepared in {source}")
    subprocess.run(["cp", "-al", tree, os.path.join(work, name)], check=True)
    for marker in ("generated.json", "generated.params.json"):
        if os.path.exists(os.path.join(source, marker)):
            shutil.copy2(os.path.join(source, marker), os.path.join(work, marker))


def binary_digest(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def decode_records(args, root, work):
    """The agent's stdout records of the tree (reused when the same binary made them)."""
    path = os.path.join(work, "records.ndjson")
    marker = path + ".binary"
    if args.reuse and os.path.exists(marker) and open(marker).read() == args.binary_digest:
        return path
    state = os.path.join(work, "stdout-agent-state")
    shutil.rmtree(state, ignore_errors=True)
    with open(path, "wb") as out:
        _, _, code = cb.run_with_timeout([args.strata, "agent", "--once", "--sink", "stdout", "--path",
                                          os.path.join(root, "var", "log", "containers", "*.log"),
                                          "--checkpoint-dir", state, "--log-level", "warning"], args.timeout, stdout=out)
    if code != 0:
        raise BenchError(f"strata agent --sink stdout exited with {code}")
    with open(marker, "w") as f:
        f.write(args.binary_digest)
    return path


def ingest_strata(args, corpus, work, time_range, expected):
    """The collector benchmark's ingest (bench_strata with no queries): the data directory in
    work/strata-data. Reused when the same binary ingested the same records."""
    data = os.path.join(work, "strata-data")
    marker = os.path.join(work, "strata-data.json")
    key = {"binary": args.binary_digest, "records": expected, "collector_args": args.collector_arg}
    if args.reuse and os.path.exists(marker) and os.path.isdir(data):
        with open(marker) as f:
            saved = json.load(f)
        if saved.get("key") == key:
            log(f"{corpus['name']}: reusing the strata data directory {data}")
            return saved["ingest"]
    if os.path.exists(marker):
        os.remove(marker)
    ingest = cb.bench_strata(args, corpus, work, [], time_range, expected)
    with open(marker, "w") as f:
        json.dump({"key": key, "ingest": ingest}, f)
    return ingest


# ---------------------------------------------------------------------------------------------
# strata's stored view of the records


class StoredView:
    """What the collector stored: body (after normalization), namespace, pod, time (ns)."""

    def __init__(self):
        self.body, self.namespace, self.pod, self.time = [], [], [], []

    def __len__(self):
        return len(self.body)


class StrataClient:
    """One persistent loopback connection to a collector's query API."""

    def __init__(self, port, timeout):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def get(self, path, params):
        # Spaces as %20: the collector reads '+' in a query string as a plus sign, not a space.
        self.connection.request("GET", path + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote))
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise BenchError(f"GET {path} {params} answered {response.status}: {body[:300]!r}")
        return body

    def close(self):
        self.connection.close()


def export_stored(client, time_range):
    """Every stored record, oldest first, 10,000 per page (untimed preparation)."""
    view = StoredView()
    params = {"q": "", "from": str(time_range[0]), "to": str(time_range[1]), "limit": "10000", "order": "asc"}
    while True:
        answer = json.loads(client.get("/api/v1/query", params))
        for record in answer["records"]:
            resource = record.get("resource") or {}
            view.body.append(record.get("body") or "")
            view.namespace.append(resource.get("k8s.namespace.name", ""))
            view.pod.append(resource.get("k8s.pod.name", ""))
            view.time.append(cb.rfc3339_nanos(record["timestamp"]))
        cursor = answer.get("next_cursor")
        if not cursor:
            return view
        params["cursor"] = cursor


# ---------------------------------------------------------------------------------------------
# Picking the terms


def word_sets(bodies, step=1):
    for i in range(0, len(bodies), step):
        yield set(WORD.findall(bodies[i].lower()))


def document_frequency(bodies):
    df = collections.Counter()
    for words in word_sets(bodies):
        df.update(words)
    return df


def word_regex(word):
    """Whole token `word` in the sense of the index: not inside a run of letters and digits."""
    return re.compile(r"(?<![0-9A-Za-z\u0080-\U0010ffff])" + re.escape(word) + r"(?![0-9A-Za-z\u0080-\U0010ffff])", re.IGNORECASE)


def phrase_regex(a, b):
    boundary_l, boundary_r = r"(?<![0-9A-Za-z\u0080-\U0010ffff])", r"(?![0-9A-Za-z\u0080-\U0010ffff])"
    return re.compile(boundary_l + re.escape(a) + r"[^0-9A-Za-z\u0080-\U0010ffff]+" + re.escape(b) + boundary_r, re.IGNORECASE)


def prefix_regex(prefix):
    return re.compile(r"(?<![0-9A-Za-z\u0080-\U0010ffff])" + re.escape(prefix), re.IGNORECASE)


def count_matching(bodies, predicate, namespaces=None):
    if namespaces is None:
        return sum(1 for body in bodies if predicate(body))
    return sum(1 for body, ns in zip(bodies, namespaces) if predicate(body, ns))


def closest(candidates, goal):
    """The (value, key) pair whose value is nearest `goal` (in ratio), ties by the smallest key."""
    return min(candidates, key=lambda c: (abs(_log_ratio(c[0], goal)), c[1]))


def _log_ratio(value, goal):
    return math.log(max(value, 1) / max(goal, 1))


def pick_shapes(stored, raw, time_range):
    """The query shapes, their terms picked from the stored view by the rules in the README.
    Candidate words must occur in as many stored bodies as raw bodies (so the word is part of
    the message, not of a header the parsers moved out) for the peers to be comparable."""
    n = len(stored)
    log(f"picking terms from {n:,} stored records")
    df_stored = document_frequency(stored.body)
    df_raw = document_frequency(raw.body)

    def agreeing(word):
        return df_stored[word] == df_raw.get(word, 0)

    picks = {}
    # Rare term: a letters-and-digits token (not a hex trace/span id, which has field semantics)
    # in the fewest stored records, at least 2; ties by the smallest token.
    rare = [(c, w) for w, c in df_stored.items()
            if c >= 2 and CLEAN_ID.fullmatch(w) and not w.isdigit() and not HEX_ID.fullmatch(w)
            and any(ch.isalpha() for ch in w) and agreeing(w)]
    if not rare:
        raise BenchError("no token occurs in at least 2 records: cannot pick a rare term")
    picks["rare"] = min(rare)[1]

    clean = {w: c for w, c in df_stored.items()
             if CLEAN.fullmatch(w) and not HEX_LETTERS.fullmatch(w) and w not in LEVEL_WORDS and agreeing(w)}
    if len(clean) < 4:
        raise BenchError("fewer than 4 letter words in the stored bodies: cannot pick terms")

    # Phrase: two consecutive letter words (>= 3 letters) of the stored bodies; the pair whose
    # record count is nearest 0.1% of the records, among pairs at most half as frequent as their
    # rarer word (so word positions matter). Counted on a sample, verified exactly.
    step = max(1, n // 200_000)
    pairs = collections.Counter()
    for i in range(0, n, step):
        words = WORD.findall(stored.body[i].lower())
        seen = set()
        for a, b in zip(words, words[1:]):
            if a != b and len(a) >= 3 and len(b) >= 3 and a.isalpha() and b.isalpha() and a.isascii() and b.isascii():
                seen.add((a, b))
        pairs.update(seen)
    phrase_candidates = [(c * step, p) for p, c in pairs.items()
                         if c * step <= 0.5 * min(df_stored[p[0]], df_stored[p[1]]) and p[0] not in LEVEL_WORDS
                         and p[1] not in LEVEL_WORDS]
    if not phrase_candidates:
        phrase_candidates = [(c * step, p) for p, c in pairs.items()]
    # The first pair, nearest first, found in as many stored bodies as raw bodies (at most 10 tried).
    phrase_candidates.sort(key=lambda c: (abs(_log_ratio(c[0], n / 1000)), c[1]))
    picks["phrase"] = phrase_candidates[0][1]
    for _, pair in phrase_candidates[:10]:
        compiled = phrase_regex(*pair)
        if count_matching(stored.body, lambda body: bool(compiled.search(body))) == \
                count_matching(raw.body, lambda body: bool(compiled.search(body))):
            picks["phrase"] = pair
            break

    # Field filter: the namespace with the most records, and the letter word whose count inside it
    # is nearest 0.1% of its records (at least 2) while it occurs at least as often outside.
    namespace = collections.Counter(stored.namespace).most_common(1)[0][0]
    inside = collections.Counter()
    for words, ns in zip(word_sets(stored.body), stored.namespace):
        if ns == namespace:
            inside.update(w for w in words if w in clean)
    size = sum(1 for ns in stored.namespace if ns == namespace)
    field_candidates = [(c, w) for w, c in inside.items() if c >= 2 and clean[w] >= 2 * c]
    if not field_candidates:
        field_candidates = [(c, w) for w, c in inside.items()]
    picks["field"] = (namespace, closest(field_candidates, size / 1000)[1])

    # Boolean (a OR b) AND NOT c: a, b the two letter words nearest 0.2% of the records; c the
    # letter word found in the most records of (a OR b) but not in all of them.
    # When every word beside a and b is in all of their records (one template), b moves to the
    # next word nearest N/500, so that the NOT removes some records and keeps others.
    by_goal = sorted(clean.items(), key=lambda item: (abs(_log_ratio(item[1], n / 500)), item[0]))
    a = by_goal[0][0]
    picks["boolean"] = (a, by_goal[1][0], by_goal[2][0])
    sets = list(word_sets(stored.body))
    for b, _ in by_goal[1:21]:
        union = [words for words in sets if a in words or b in words]
        with_c = collections.Counter()
        for words in union:
            with_c.update(w for w in words if w in clean and w not in (a, b))
        c_candidates = [(count, w) for w, count in with_c.items() if count < len(union)]
        if c_candidates:
            c = max(c_candidates, key=lambda item: (item[0], [-ord(ch) for ch in item[1]]))[1]
            picks["boolean"] = (a, b, c)
            break
    del sets

    # Prefix: 5 letters starting at least 3 distinct letter words of 7+ letters; the prefix whose
    # words' summed record counts are nearest 0.5% of the records.
    expansions = collections.defaultdict(list)
    for word, count in clean.items():
        if len(word) >= 7:
            expansions[word[:5]].append(count)
    # Every token opening with the prefix, in either view, must agree (else the peers would also
    # count words the parsers moved out of the body, such as logger names).
    disagreeing = {w[:5] for w in set(df_stored) | set(df_raw) if len(w) >= 5 and df_stored.get(w, 0) != df_raw.get(w, 0)}
    prefix_candidates = [(sum(counts), p) for p, counts in expansions.items() if len(counts) >= 3 and p not in disagreeing]
    if not prefix_candidates:
        prefix_candidates = [(sum(counts), p) for p, counts in expansions.items()]
    picks["prefix"] = closest(prefix_candidates, n / 200)[1]

    # Regex with a literal: a letter word followed by spaces, '=' or ':' and a number; the word
    # with this form in a number of records nearest 0.5% of the records.
    before_number = collections.Counter()
    shape = re.compile(r"(?<![0-9A-Za-z])([A-Za-z]{4,24})[ =:]+[0-9]+")
    for body in stored.body:
        before_number.update({m.lower() for m in shape.findall(body)})
    number_candidates = [(count, w) for w, count in before_number.items() if w in clean]
    if number_candidates:
        word = closest(number_candidates, n / 200)[1]
        picks["regex"] = f"(?i){word}[ =:]+[0-9]+"
    # Regex without a useful literal: the first generic shape that matches a stored record.
    for pattern in LITERAL_FREE:
        compiled = re.compile(pattern)
        if any(compiled.search(body) for body in stored.body):
            picks["regex_noliteral"] = pattern
            break
    # Common term: the letter word in the most records, among those in at most half of them (a
    # word in every record is counted from block metadata alone and measures nothing).
    common = [(c, w) for w, c in clean.items() if c <= n / 2] or [(c, w) for w, c in clean.items()]
    picks["common"] = max(common)[1]
    return picks, {"df_stored": df_stored, "namespace_records": size}


def build_shapes(picks, corpus):
    import tantivy

    files = corpus["files"]
    rg = ["rg", "--no-config", "--no-filename", "--threads", "1"]
    shapes = []

    word = picks["rare"]
    shapes.append(Shape("rare", "search", word, "token in the fewest records (>= 2)",
                        tantivy=lambda s, w=word: tantivy.Query.term_query(s, "body", w),
                        rg=lambda count, w=word: rg + ["-i", "-w"] + (["-c"] if count else []) + ["--", w] + files,
                        ref=lambda body, ns, r=word_regex(word): bool(r.search(body))))
    a, b = picks["phrase"]
    shapes.append(Shape("phrase", "search", f'"{a} {b}"', "consecutive words nearest 0.1% of records",
                        tantivy=lambda s, a=a, b=b: tantivy.Query.phrase_query(s, "body", [a, b]),
                        rg=lambda count, a=a, b=b: rg + ["-i", "-w"] + (["-c"] if count else []) +
                        ["--", f"{re.escape(a)}[^[:alnum:]]+{re.escape(b)}"] + files,
                        ref=lambda body, ns, r=phrase_regex(a, b): bool(r.search(body))))
    namespace, term = picks["field"]
    ns_files = [p for p in files if os.path.basename(os.path.dirname(os.path.dirname(p))).split("_", 1)[0] == namespace]
    shapes.append(Shape("field", "search", f"ns:{namespace} {term}", "largest namespace + a word nearest 0.1% of it",
                        tantivy=lambda s, ns=namespace, t=term: tantivy.Query.boolean_query([
                            (tantivy.Occur.Must, tantivy.Query.term_query(s, "namespace", ns)),
                            (tantivy.Occur.Must, tantivy.Query.term_query(s, "body", t))]),
                        rg=lambda count, t=term: rg + ["-i", "-w"] + (["-c"] if count else []) + ["--", t] + ns_files,
                        ref=lambda body, ns, r=word_regex(term), want=namespace: ns == want and bool(r.search(body))))
    a, b, c = picks["boolean"]
    shapes.append(Shape("boolean", "search", f"({a} OR {b}) AND NOT {c}", "a, b nearest 0.2%; c most frequent beside them",
                        tantivy=lambda s, a=a, b=b, c=c: tantivy.Query.boolean_query([
                            (tantivy.Occur.Must, tantivy.Query.boolean_query([
                                (tantivy.Occur.Should, tantivy.Query.term_query(s, "body", a)),
                                (tantivy.Occur.Should, tantivy.Query.term_query(s, "body", b))])),
                            (tantivy.Occur.MustNot, tantivy.Query.term_query(s, "body", c))]),
                        rg=lambda count, a=a, b=b, c=c: ["sh", "-c",
                                                         " ".join(rg + ["-i", "-w", "-e", a, "-e", b, "--"] + [_quote(p) for p in files])
                                                         + " | " + " ".join(rg + ["-i", "-w", "-v"] + (["-c"] if count else []) + ["--", c])],
                        ref=lambda body, ns, ra=word_regex(a), rb=word_regex(b), rc=word_regex(c):
                        bool(ra.search(body) or rb.search(body)) and not rc.search(body)))
    p = picks["prefix"]
    shapes.append(Shape("prefix", "search", f"{p}*", "5 letters opening >= 3 words, summed nearest 0.5%",
                        tantivy=lambda s, p=p: tantivy.Query.regex_query(s, "body", re.escape(p) + ".*"),
                        rg=lambda count, p=p: rg + ["-i", "-w"] + (["-c"] if count else []) + ["--", f"{p}[[:alnum:]]*"] + files,
                        ref=lambda body, ns, r=prefix_regex(p): bool(r.search(body))))
    if "regex" in picks:
        pattern = picks["regex"]
        shapes.append(Shape("regex", "search", f"/{pattern}/", "word before a number, nearest 0.5%",
                            rg=lambda count, pat=pattern: rg + (["-c"] if count else []) + ["--", pat] + files,
                            ref=lambda body, ns, r=re.compile(pattern): bool(r.search(body)), target="regex"))
    if "regex_noliteral" in picks:
        pattern = picks["regex_noliteral"]
        shapes.append(Shape("regex_noliteral", "search", f"/{pattern}/", "generic shape, no useful literal",
                            rg=lambda count, pat=pattern: rg + (["-c"] if count else []) + ["--", pat] + files,
                            ref=lambda body, ns, r=re.compile(pattern): bool(r.search(body)), target="regex"))
    word = picks["common"]
    shapes.append(Shape("common", "count", word, "letter word in the most records",
                        tantivy=lambda s, w=word: tantivy.Query.term_query(s, "body", w),
                        rg=lambda count, w=word: rg + ["-i", "-w", "-c", "--", w] + files,
                        ref=lambda body, ns, r=word_regex(word): bool(r.search(body))))
    shapes.append(Shape("stats_pod", "stats", "", "every record, count by pod",
                        rg=lambda count: rg + ["--with-filename", "-c", "--", ""] + files, target="stats"))
    shapes.append(Shape("histogram", "histogram", "", "every record, 1m buckets"))
    for shape in shapes:
        if shape.kind == "search" and shape.target is None:
            shape.target = "selective"
    return shapes


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


# ---------------------------------------------------------------------------------------------
# Measurement


def measure_strata(args, client, shapes, time_range, histogram_range):
    result = {}
    common = {"from": str(time_range[0]), "to": str(time_range[1])}

    def one(path, params):
        bodies = []
        latencies, body = cb.timed_runs(lambda: client.get(path, params), args.runs, args.query_budget, keep=bodies)
        answer = json.loads(body)
        took = [json.loads(b)["took_ms"] for b in bodies]
        entry = cb.summarize(latencies, None)
        entry.update({"took_ms_p50": cb.percentile(took, 0.5), "took_ms_p99": cb.percentile(took, 0.99),
                      "stats": answer.get("stats"), "response_bytes": len(body)})
        return entry, answer

    for shape in shapes:
        log(f"strata: {shape.name} {shape.strata!r}")
        if shape.kind == "search":
            entry, answer = one("/api/v1/query", dict(common, q=shape.strata, limit="100"))
            entry["hits"] = len(answer["records"])
            result[shape.name + "_top"] = entry
        if shape.kind in ("search", "count"):
            entry, answer = one("/api/v1/query", dict(common, q=shape.strata, count="true"))
            entry["hits"] = answer["count"]
            result[shape.name + "_count"] = entry
        if shape.kind == "stats":
            entry, answer = one("/api/v1/stats", dict(common, q="", by="pod"))
            entry["hits"] = answer["total"]
            entry["groups"] = len(answer["groups"]) + answer.get("other_groups", 0)
            result[shape.name] = entry
        if shape.kind == "histogram":
            entry, answer = one("/api/v1/stats", {"q": "", "from": str(histogram_range[0]),
                                                  "to": str(histogram_range[1] - 1), "interval": "1m"})
            entry["hits"] = answer["total"]
            entry["groups"] = sum(1 for bucket in answer["buckets"] if bucket["count"])
            entry["buckets"] = len(answer["buckets"])
            result[shape.name] = entry
    return result


def measure_cli(args, data_dir, shape, time_range):
    """`strata query --data-dir` as a whole process (start, open the directory, search, print)."""
    command = [args.strata, "query", shape.strata, "--data-dir", data_dir, "--from", str(time_range[0]),
               "--to", str(time_range[1]), "--limit", "100", "-o", "json"]
    output = subprocess.run(command, capture_output=True, timeout=args.timeout)
    if output.returncode != 0:
        raise BenchError(f"strata query --data-dir exited with {output.returncode}: {output.stderr[:300]!r}")
    hits = output.stdout.count(b"\n")
    latencies = []
    for _ in range(args.cli_runs):
        wall, _, _, code = agent_bench.run_measured(command, cpu=1)
        if code != 0:
            raise BenchError(f"strata query --data-dir exited with {code}")
        latencies.append(wall * 1000)
    return dict(cb.summarize(latencies, hits), command=" ".join(_quote(c) if " " in c or '"' in c else c for c in command))


def build_tantivy(args, work, raw):
    """Tantivy over the agent's records: body with the default tokenizer (positions), namespace
    raw, pod raw and fast (for the terms aggregation), time i64 fast. One indexing thread."""
    import tantivy

    directory = os.path.join(work, "tantivy-query")
    marker = directory + ".json"
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=True)
    builder.add_text_field("namespace", stored=True, tokenizer_name="raw")
    builder.add_text_field("pod", stored=True, fast=True, tokenizer_name="raw")
    builder.add_integer_field("time", stored=True, indexed=True, fast=True)
    schema = builder.build()
    if args.reuse and os.path.exists(marker):
        with open(marker) as f:
            saved = json.load(f)
        if saved.get("records") == len(raw):
            return tantivy.Index(schema, path=directory), schema, saved
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    index = tantivy.Index(schema, path=directory)
    log(f"tantivy: indexing {len(raw):,} records, one thread")
    cpu0, t0 = time.process_time(), time.monotonic()
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for i in range(len(raw)):
        document = tantivy.Document()
        document.add_text("body", raw.body[i])
        document.add_text("namespace", raw.namespace[i])
        document.add_text("pod", raw.pod[i])
        document.add_integer("time", raw.time[i])
        writer.add_document(document)
    writer.commit()
    writer.wait_merging_threads()
    saved = {"records": len(raw), "cpu_s": time.process_time() - cpu0, "wall_s": time.monotonic() - t0,
             "bytes": cb.dir_bytes(directory)}
    with open(marker, "w") as f:
        json.dump(saved, f)
    return index, schema, saved


def measure_tantivy(args, index, schema, shapes, time_range, histogram_range):
    import tantivy

    index.reload()
    searcher = index.searcher()
    result = {}
    in_range = tantivy.Query.range_query(schema, "time", tantivy.FieldType.Integer, time_range[0], time_range[1], True, True)
    everything = tantivy.Query.all_query()

    def run(name, run_once, hits_of):
        latencies, answer = cb.timed_runs(run_once, args.runs, args.query_budget)
        result[name] = cb.summarize(latencies, hits_of(answer))
        return answer

    for shape in shapes:
        if shape.kind in ("search", "count") and shape.tantivy is not None:
            log(f"tantivy: {shape.name}")
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, shape.tantivy(schema)), (tantivy.Occur.Must, in_range)])
            if shape.kind == "search":
                def top(query=query):
                    found = searcher.search(query, limit=100, count=False, order_by_field="time")
                    return [searcher.doc(address) for _, address in found.hits]
                run(shape.name + "_top", top, len)
            run(shape.name + "_count", lambda query=query: searcher.search(query, limit=1, count=True).count, lambda c: c)
        if shape.kind == "stats":
            log("tantivy: terms aggregation by pod")
            agg = {"pods": {"terms": {"field": "pod", "size": 1000}}}
            answer = run(shape.name, lambda: searcher.aggregate(in_range, agg),
                         lambda a: sum(bucket["doc_count"] for bucket in a["pods"]["buckets"]) + a["pods"].get("sum_other_doc_count", 0))
            result[shape.name]["groups"] = len(answer["pods"]["buckets"])
        if shape.kind == "histogram":
            log("tantivy: histogram 1m")
            agg = {"minutes": {"histogram": {"field": "time", "interval": MINUTE_NS,
                                             "extended_bounds": {"min": histogram_range[0], "max": histogram_range[1] - 1}}}}
            window = tantivy.Query.range_query(schema, "time", tantivy.FieldType.Integer, histogram_range[0], histogram_range[1], True, False)
            answer = run(shape.name, lambda: searcher.aggregate(window, agg),
                         lambda a: sum(bucket["doc_count"] for bucket in a["minutes"]["buckets"]))
            result[shape.name]["groups"] = sum(1 for bucket in answer["minutes"]["buckets"] if bucket["doc_count"])
            result[shape.name]["buckets"] = len(answer["minutes"]["buckets"])
    return result


def measure_ripgrep(args, shapes):
    result = {}
    for shape in shapes:
        if shape.rg is None:
            continue
        log(f"ripgrep: {shape.name}")
        variants = [("_top", False), ("_count", True)] if shape.kind == "search" else \
            [("_count", True)] if shape.kind == "count" else [("", True)]
        for suffix, count in variants:
            command = shape.rg(count)
            latencies = []
            started = time.monotonic()
            for _ in range(args.rg_runs):
                wall, _, _, code = agent_bench.run_measured(command, cpu=0)
                if code not in (0, 1):
                    raise BenchError(f"rg exited with {code}: {' '.join(command[:8])} ...")
                latencies.append(wall * 1000)
                if time.monotonic() - started > args.query_budget:
                    break
            output = subprocess.run(shape.rg(True), capture_output=True, timeout=args.timeout).stdout
            if shape.kind == "stats":
                per_pod = collections.Counter()
                for line in output.decode(errors="replace").splitlines():
                    path, _, value = line.rpartition(":")
                    pod_dir = os.path.basename(os.path.dirname(os.path.dirname(path)))
                    per_pod[pod_dir.split("_")[1] if "_" in pod_dir else pod_dir] += int(value)
                entry = cb.summarize(latencies, sum(per_pod.values()))
                entry["groups"] = len(per_pod)
            else:
                entry = cb.summarize(latencies, sum(int(x) for x in output.split()))
            entry["command"] = " ".join(_quote(c) if c == "" or " " in c else c for c in command[:12]) + (" ..." if len(command) > 12 else "")
            result[shape.name + suffix] = entry
    return result


# ---------------------------------------------------------------------------------------------
# Report


def fmt(ms):
    if ms is None:
        return "-"
    return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:.0f}"


def pair(entry, p50="p50_ms", p99="p99_ms"):
    return f"{fmt(entry[p50])} / {fmt(entry[p99])}" if entry and p50 in entry else "-"


def rows_of(shapes):
    for shape in shapes:
        if shape.kind == "search":
            yield shape, shape.name + "_top", "top 100"
            yield shape, shape.name + "_count", "count"
        elif shape.kind == "count":
            yield shape, shape.name + "_count", "count"
        else:
            yield shape, shape.name, shape.kind


def verdicts(shapes, results):
    strata, rg = results["strata"], results.get("ripgrep", {})
    out = {}
    for shape, key, _ in rows_of(shapes):
        entry = strata.get(key)
        if not entry or not shape.target:
            continue
        if shape.target == "selective":
            if key in rg:
                speedup = rg[key]["p50_ms"] / entry["p50_ms"]
                out[key] = {"target": f">= {TARGETS['selective_speedup']:.0f}x rg", "value": speedup,
                            "met": speedup >= TARGETS["selective_speedup"]}
        elif shape.target == "regex":
            out[key] = {"target": f"<= {TARGETS['regex_ms']:.0f} ms", "value": entry["p50_ms"],
                        "met": entry["p99_ms"] <= TARGETS["regex_ms"]}
        elif shape.target == "stats":
            out[key] = {"target": f"<= {TARGETS['stats_by_pod_ms']:.0f} ms", "value": entry["p50_ms"],
                        "met": entry["p99_ms"] <= TARGETS["stats_by_pod_ms"]}
    return out


def print_table(corpus, shapes, results, refs, met):
    strata, tv, rg = results["strata"], results.get("tantivy", {}), results.get("ripgrep", {})
    print()
    print(f"== {corpus['name']}: {len(corpus['files'])} files, {corpus['raw_bytes'] / 1e6:.1f} MB raw, {corpus['lines']:,} lines, "
          f"{corpus['records']:,} records ({corpus['stored_records']:,} stored by strata); {corpus['note']}")
    print(f"   range [{corpus['range_text'][0]}, {corpus['range_text'][1]}]; histogram range "
          f"[{corpus['histogram_text'][0]}, {corpus['histogram_text'][1]})")
    header = (f"{'shape':21}{'query':36}{'strata p50/p99':>17}{'took_ms p50/p99':>17}{'tantivy p50/p99':>17}"
              f"{'rg p50':>9}{'vs rg':>8}{'target':>13}{'met':>5}  {'hits strata/tantivy/rg':>29}  {'ref stored/raw':>19}")
    print(header)
    print("-" * len(header))
    for shape, key, variant in rows_of(shapes):
        s = strata.get(key)
        if not s:
            continue
        t, r = tv.get(key), rg.get(key)
        speedup = f"{r['p50_ms'] / s['p50_ms']:.0f}x" if r else "-"
        verdict = met.get(key)
        target = verdict["target"] if verdict else ""
        ok = ("yes" if verdict["met"] else "NO") if verdict else ""
        hits = f"{s['hits']:,}/{t['hits']:,}" if t else f"{s['hits']:,}/-"
        hits += f"/{r['hits']:,}" if r else "/-"
        ref = refs.get(key)
        ref_text = f"{ref[0]:,}/{ref[1]:,}" if ref else ""
        query = (shape.strata or "(all records)")
        print(f"{(shape.name + ' ' + variant)[:20]:21}{query[:35]:36}{pair(s):>17}{pair(s, 'took_ms_p50', 'took_ms_p99'):>17}"
              f"{pair(t):>17}{fmt(r['p50_ms']) if r else '-':>9}{speedup:>8}{target:>13}{ok:>5}  {hits:>29}  {ref_text:>19}")
    cli = results.get("cli")
    if cli:
        r = rg.get("rare_top")
        rg_text = fmt(r["p50_ms"]) if r else "-"
        speedup = f"{r['p50_ms'] / cli['p50_ms']:.0f}x" if r else "-"
        print(f"{'CLI --data-dir':21}{('strata query ' + shapes[0].strata)[:35]:36}{pair(cli):>17}{'(whole process)':>17}{'':>17}"
              f"{rg_text:>9}{speedup:>8}{'':>13}{'':>5}  {cli['hits']:>29,}")
    print("   strata work per query (from the answer's stats):")
    for shape, key, variant in rows_of(shapes):
        s = strata.get(key)
        if s and s.get("stats"):
            st = s["stats"]
            print(f"     {key:22} segments {st['segments']}, blocks {st['blocks']}, pruned {st['blocks_pruned']}, "
                  f"from metadata {st['blocks_from_metadata']}, decoded {st['blocks_decoded']}, rows examined "
                  f"{st['rows_examined']:,}, head {st['head_records']}; answer {s['response_bytes']:,} bytes")
    for key in ("stats_pod", "histogram"):
        parts = [f"{name} {results[name][key]['groups']}" for name in ("strata", "tantivy", "ripgrep")
                 if key in results.get(name, {}) and "groups" in results[name][key]]
        if parts:
            print(f"   {key}: non-empty groups " + ", ".join(parts)
                  + (f"; strata buckets {strata[key]['buckets']}" if "buckets" in strata.get(key, {}) else ""))
    print("   strata: HTTP on loopback (one persistent connection), client-side latency, collector pinned to core 1; "
          "tantivy: in-process Python calls; rg: whole process, --threads 1, pinned to core 0, lines not records, "
          "output to /dev/null, no time filter; ref = brute force on strata's stored bodies / on the raw record bodies")


# ---------------------------------------------------------------------------------------------


def run_corpus(args, name):
    work = os.path.join(args.work, name)
    os.makedirs(work, exist_ok=True)
    link_prepared(args.reuse_from, name, work)
    if name == "trainticket":
        root, shift = cb.prepare_trainticket(args.trainticket, work, True)
        note = f"docker json-file, dates moved {shift:+d} days"
    elif name == "generated":
        root, summary = cb.prepare_generated(args.strata, work, args.lines, args.seed, args.gen_start, True, args.timeout)
        note = f"strata generate --seed {args.seed} --start {args.gen_start}"
    else:
        raise BenchError(f"unknown corpus '{name}': choose trainticket or generated")
    files = cb.tree_files(root)
    corpus = {"name": name, "root": root, "files": files, "raw_bytes": sum(os.path.getsize(p) for p in files),
              "lines": cb.count_lines(files), "note": note}
    for path in files:  # warm the page cache for every reader alike
        with open(path, "rb") as f:
            while f.read(1 << 22):
                pass
    log(f"{name}: decoding the tree with strata agent --sink stdout")
    raw = cb.read_records(decode_records(args, root, work))
    corpus["records"] = len(raw)
    time_range = (min(raw.time) - 2 * cb.DAY_NS, max(raw.time) + 2 * cb.DAY_NS)
    ingest = ingest_strata(args, corpus, work, time_range, len(raw))

    data = os.path.join(work, "strata-data")
    collector = cb.Collector(args.strata, data, os.path.join(work, "collector-query.log"), cpu=1,
                             flush_interval=args.flush_interval, extra=args.collector_arg)
    results = {"ingest": ingest}
    try:
        collector.wait_ready()
        client = StrataClient(collector.port, args.query_timeout)
        log(f"{name}: reading back the stored records")
        stored = export_stored(client, time_range)
        corpus["stored_records"] = len(stored)
        low = min(min(stored.time), min(raw.time)) // MINUTE_NS * MINUTE_NS
        high = (max(max(stored.time), max(raw.time)) // MINUTE_NS + 1) * MINUTE_NS
        histogram_range = (low, high)
        corpus["range_text"] = [_stamp(t) for t in time_range]
        corpus["histogram_text"] = [_stamp(t) for t in histogram_range]
        picks, _ = pick_shapes(stored, raw, time_range)
        corpus["picks"] = picks
        shapes = build_shapes(picks, corpus)
        log(f"{name}: references")
        refs = {}
        for shape in shapes:
            if shape.ref is None:
                continue
            counts = (count_matching(stored.body, shape.ref, stored.namespace), count_matching(raw.body, shape.ref, raw.namespace))
            if shape.kind == "search":
                refs[shape.name + "_top"] = (min(counts[0], 100), min(counts[1], 100))
            refs[shape.name + "_count"] = counts
        refs["stats_pod"] = (len(stored), len(raw))
        refs["histogram"] = (len(stored), len(raw))
        results["strata"] = measure_strata(args, client, shapes, time_range, histogram_range)
        client.close()
        collector.stop(args.timeout)
    finally:
        collector.kill()
    log(f"{name}: strata query --data-dir (whole process)")
    results["cli"] = measure_cli(args, data, shapes[0], time_range)
    if "tantivy" in args.peer_list:
        index, schema, built = build_tantivy(args, work, raw)
        results["tantivy_index"] = built
        results["tantivy"] = measure_tantivy(args, index, schema, shapes, time_range, histogram_range)
    if "rg" in args.peer_list:
        results["ripgrep"] = measure_ripgrep(args, shapes)
    met = verdicts(shapes, results)
    print_table(corpus, shapes, results, refs, met)
    sys.stdout.flush()
    return {"corpus": {k: v for k, v in corpus.items() if k != "files"}, "file_count": len(files),
            "shapes": [{"name": s.name, "kind": s.kind, "query": s.strata, "rule": s.pick_note, "target": s.target} for s in shapes],
            "refs": {k: list(v) for k, v in refs.items()}, "targets": met, "results": results}


def _stamp(nanos):
    return datetime.datetime.fromtimestamp(nanos // 10**9, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main():
    yesterday_noon = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)).isoformat() + "T12:00:00Z"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strata", default=os.path.join(REPO, ".build", "release", "strata"))
    parser.add_argument("--corpora", default="trainticket,generated", help="comma list of trainticket, generated")
    parser.add_argument("--trainticket", default=cb.TRAINTICKET, help="the Train-Ticket var/log directory")
    parser.add_argument("--lines", type=int, default=2_000_000, help="lines of the generated corpus (at least)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--gen-start", default=yesterday_noon, help="first line of the generated corpus (RFC 3339)")
    parser.add_argument("--work", required=True, help="working directory (kept, reused across runs)")
    parser.add_argument("--reuse-from", default="/tmp/collector-bench",
                        help="hard-link corpora the collector benchmark prepared there (when present)")
    parser.add_argument("--reuse", action="store_true",
                        help="also reuse decoded records, the strata data directory and the Tantivy index from --work "
                             "(when made by the same binary from the same records)")
    parser.add_argument("--runs", type=int, default=20, help="measured runs per strata/Tantivy query")
    parser.add_argument("--rg-runs", type=int, default=5, help="measured runs per ripgrep command")
    parser.add_argument("--cli-runs", type=int, default=10, help="measured runs of strata query --data-dir")
    parser.add_argument("--query-budget", type=float, default=60.0, help="seconds per query before fewer runs are taken")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds any one step may take")
    parser.add_argument("--query-timeout", type=float, default=300.0)
    parser.add_argument("--flush-interval", default="10s", help="passed to strata collector")
    parser.add_argument("--collector-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for strata collector (repeatable)")
    parser.add_argument("--peers", default="tantivy,rg", help="comma list of tantivy, rg (empty: strata only)")
    parser.add_argument("--json", default=None, help="also write every figure to this JSON file")
    args = parser.parse_args()
    args.peer_list = [p for p in args.peers.split(",") if p]
    try:
        unknown = set(args.peer_list) - {"tantivy", "rg"}
        if unknown:
            raise BenchError(f"unknown peer(s) {sorted(unknown)}: choose from tantivy, rg")
        cb.check_peers(args.peer_list)
        if importlib.util.find_spec("tantivy") is None:
            raise BenchError("tantivy is needed to build the query objects: pip install tantivy")
        if not os.access(args.strata, os.X_OK):
            raise BenchError(f"{args.strata} is not an executable: build it with `swift build -c release --product strata`")
        if shutil.which("taskset") is None:
            raise BenchError("taskset (util-linux) is required to pin processes to cores")
        os.makedirs(args.work, exist_ok=True)
        pinned = os.path.join(args.work, "strata")  # a private copy: a concurrent build may replace the binary
        if os.path.abspath(args.strata) != pinned:
            shutil.copy2(args.strata, pinned)
        args.strata = pinned
        args.binary_digest = binary_digest(pinned)
        # bench_strata (collector benchmark) reads these.
        args.runs_strata = args.runs
        head = subprocess.run(["git", "-C", REPO, "log", "-1", "--format=%h %s"], capture_output=True, text=True).stdout.strip()
        built = datetime.datetime.fromtimestamp(os.path.getmtime(pinned), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        print(f"strata binary sha256 {args.binary_digest}… built {built}; repository HEAD {head}")
        everything = {"binary_sha256_16": args.binary_digest, "binary_built": built, "git_head": head,
                      "load_at_start": os.getloadavg(), "corpora": {}}
        for name in [c for c in args.corpora.split(",") if c]:
            everything["corpora"][name] = run_corpus(args, name)
        everything["load_at_end"] = os.getloadavg()
        print(f"\nload average at start {everything['load_at_start'][0]:.2f}, at end {everything['load_at_end'][0]:.2f} "
              f"(2-core VM shared with other builds)")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(everything, f, indent=1, default=str)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
