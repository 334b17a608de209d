#!/usr/bin/env python3
"""Collector benchmark: strata collector vs Tantivy, chDB, ripgrep and clp-s on the same records.

For each corpus (the real Train-Ticket node tree, and a generated tree of at least --lines lines):
  1. `strata agent --once --sink stdout` turns the tree into the records the collector will see
     (one JSON object per record, after docker/CRI decoding and multi-line joining). The peers
     index exactly these records; ripgrep searches the raw files.
  2. strata: a collector pinned to core 1 receives the tree from `strata agent --once --sink http`
     (pinned to core 0). Ingest cost = the collector's user+system CPU from its start through the
     final flush that SIGTERM triggers (decompression, normalization, WAL, head, segments, index).
     Bytes on disk = every file in the data directory afterwards. A second collector on the same
     data directory then answers GET /api/v1/query over one persistent loopback connection.
  3. Tantivy (one indexing thread), chDB (MergeTree, ZSTD codecs, max_threads=1), ripgrep and
     clp-s (both pinned to one core) on the same records / raw files, the same queries.

Queries, over the whole time range of the corpus: a rare term (a trace id found in the fewest
records, at least 2; picked from the data, ties broken by the smallest id; the collector is asked
`trace_id:<id>`, and the bare word in a row of its own), a medium term (`Exception`, records
newest first with limit 100, and a count) and a common term (`INFO`, count only; also as
`severity:info` against the peers' level column). The indexes match whole words
case-insensitively; the "ref" figure is a brute-force Python count of records whose body holds
the word, to make disagreements visible. benchmarks/collector/README.md explains every choice.

The committed collector refuses records older than its retention (7 days), so:
  * the Train-Ticket copy under --work has its docker `time` fields moved by whole days so that the
    capture ends yesterday (byte-for-byte the same size; time-of-day in the messages stays right);
  * the generated tree starts at noon UTC yesterday (--gen-start overrides).

Usage: benchmarks/collector/bench.py [--corpora trainticket,generated] [--lines 2000000]
           [--work DIR] [--runs 20] [--skip-peers | --peers tantivy,chdb,rg,clp] [--strata PATH]
"""
import argparse
import calendar
import collections
import datetime
import http.client
import importlib.util
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TRAINTICKET = os.path.join(os.path.dirname(REPO), "shared", "datasets", "trainticket", "var", "log")

# The agent benchmark's process runner (pinned, wall + rusage); reused for the ripgrep runs.
_spec = importlib.util.spec_from_file_location("agent_bench", os.path.join(REPO, "benchmarks", "agent", "bench.py"))
agent_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(agent_bench)

TARGETS = {"ingest_mb_per_core": 100.0, "ratio": 20.0, "rare_ms": 5.0, "common_count_ms": 50.0}
DAY_NS = 86_400 * 10**9
TRACE_ID = re.compile(r"(?<![0-9a-fA-F])[0-9a-f]{32}(?![0-9a-fA-F])")
LEVEL = re.compile(r"\b(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL|trace|debug|info|warn|warning|error|fatal)\b")
LEVEL_NAMES = {"warning": "warn", "critical": "fatal"}


class Query(collections.namedtuple("Query", "name term count strata_field peer_field strata_only")):
    """One measured query. strata_field: ask the collector for `field:term` instead of the bare
    word; peer_field: "level" to match the peers' level column instead of a body word;
    strata_only: the peers would repeat another row, so they skip it."""

    @property
    def strata_text(self):
        return f"{self.strata_field}:{self.term.lower()}" if self.strata_field else self.term


class BenchError(Exception):
    pass


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Processes


def run_with_timeout(command, timeout, cpu=None, stdout=subprocess.DEVNULL, stderr=None):
    """Runs a command (optionally pinned to `cpu`) and returns (wall s, cpu s, exit code); kills
    it and raises when it outlives `timeout` seconds."""
    if cpu is not None:
        command = ["taskset", "-c", str(cpu)] + command
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return time.monotonic() - start, usage.ru_utime + usage.ru_stime, process.returncode
        if time.monotonic() - start > timeout:
            process.kill()
            process.wait()
            raise BenchError(f"{' '.join(command[:4])} ... did not finish within {timeout:.0f} s; killed it")
        time.sleep(0.02)


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    """One `strata collector` process pinned to a core, with its rusage collected at exit."""

    def __init__(self, strata, data_dir, log_path, cpu, flush_interval, extra=()):
        self.port = free_port()
        self.log_path = log_path
        self.started = time.monotonic()
        command = ["taskset", "-c", str(cpu), strata, "collector", "--data-dir", data_dir,
                   "--listen", f"127.0.0.1:{self.port}", "--log-level", "warning", "--flush-interval", flush_interval]
        command += list(extra)
        self.log_file = open(log_path, "ab")
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=subprocess.STDOUT)
        self.ready_after = None

    def wait_ready(self, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"strata collector exited with {self.process.returncode} at start; see {self.log_path}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    self.ready_after = time.monotonic() - self.started
                    connection.close()
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise BenchError(f"strata collector did not answer /healthz within {timeout} s; see {self.log_path}")

    def metrics(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        connection.close()
        values = {}
        for line in text.splitlines():
            if line.startswith("strata_collector_") and " " in line and "{" not in line:
                name, value = line.rsplit(" ", 1)
                values[name[len("strata_collector_"):]] = float(value)
        return values

    def cpu_seconds(self):
        return proc_cpu_seconds(self.process.pid)

    def stop(self, timeout=600):
        """SIGTERM (which flushes the head into segments) and wait; returns (cpu s, wall s of the
        shutdown, exit code)."""
        start = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        while True:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                self.log_file.close()
                return usage.ru_utime + usage.ru_stime, time.monotonic() - start, self.process.returncode
            if time.monotonic() - start > timeout:
                self.process.kill()
                self.process.wait()
                self.log_file.close()
                raise BenchError(f"strata collector did not stop within {timeout} s of SIGTERM; killed it")
            time.sleep(0.02)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.log_file.closed:
            self.log_file.close()


# ---------------------------------------------------------------------------------------------
# Corpora


def tree_files(root):
    """The real log files of a node tree (what the container symlinks point to), sorted."""
    found = []
    for directory, _, names in os.walk(os.path.join(root, "var", "log", "pods")):
        found += [os.path.join(directory, n) for n in names if n.endswith(".log")]
    return sorted(found)


def count_lines(paths):
    lines = 0
    for path in paths:
        with open(path, "rb") as f:
            last = b"\n"
            for chunk in iter(lambda: f.read(1 << 22), b""):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
            if last != b"\n":
                lines += 1
    return lines


DOCKER_DATE = re.compile(rb'"time":"(\d{4}-\d{2}-\d{2})T')


def prepare_trainticket(source, work, reuse):
    """Copies the tree with every docker `time` moved by whole days so the capture ends yesterday
    (the collector's retention refuses older records). Same bytes per line, same files."""
    if not os.path.isdir(os.path.join(source, "pods")):
        raise BenchError(f"Train-Ticket tree not found at {source} (pods/ missing); pass --trainticket DIR")
    root = os.path.join(work, "trainticket")
    originals = tree_files(os.path.join(source, "..", ".."))
    dates = set()
    for path in originals:
        with open(path, "rb") as f:
            dates.update(DOCKER_DATE.findall(f.read()))
    if not dates:
        raise BenchError(f"no docker json-file time fields found under {source}")
    newest = datetime.date.fromisoformat(max(dates).decode())
    target = datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)
    shift = (target - newest).days
    marker = os.path.join(root, "shift.json")
    if reuse and os.path.exists(marker):
        with open(marker) as f:
            if json.load(f).get("shift_days") == shift:
                return root, shift
    shutil.rmtree(root, ignore_errors=True)
    cache = {}

    def moved(match):
        day = match.group(1)
        if day not in cache:
            cache[day] = (datetime.date.fromisoformat(day.decode()) + datetime.timedelta(days=shift)).isoformat().encode()
        return b'"time":"' + cache[day] + b"T"

    pods = os.path.join(source, "pods")
    for path in originals:
        relative = os.path.relpath(path, pods)
        out = os.path.join(root, "var", "log", "pods", relative)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(path, "rb") as f:
            data = f.read()
        with open(out, "wb") as f:
            f.write(DOCKER_DATE.sub(moved, data))
    # The containers/ entries: real symlinks, or (in a git checkout without symlinks) text stubs
    # holding the link target. Recreate them as symlinks with the same relative target.
    containers = os.path.join(root, "var", "log", "containers")
    os.makedirs(containers)
    for name in sorted(os.listdir(os.path.join(source, "containers"))):
        entry = os.path.join(source, "containers", name)
        target_path = os.readlink(entry) if os.path.islink(entry) else open(entry).read().strip()
        if "/pods/" in target_path and not target_path.startswith("../pods/"):
            target_path = "../pods/" + target_path.split("/pods/", 1)[1]
        os.symlink(target_path, os.path.join(containers, name))
    with open(marker, "w") as f:
        json.dump({"shift_days": shift, "source": os.path.abspath(source)}, f)
    return root, shift


def prepare_generated(strata, work, lines, seed, start, reuse, timeout):
    root = os.path.join(work, "generated")
    summary_path = os.path.join(work, "generated.json")
    params = {"lines": lines, "seed": seed, "start": start, "containers": 50, "namespaces": 8}
    params_path = os.path.join(work, "generated.params.json")
    if reuse and os.path.exists(summary_path) and os.path.exists(params_path):
        with open(params_path) as f:
            if json.load(f) == params:
                with open(summary_path) as f:
                    return root, json.load(f)
    bytes_per_line = 360  # measured on the generator's mix; corrected below if it falls short
    size = int(lines * bytes_per_line)
    for _ in range(4):
        shutil.rmtree(root, ignore_errors=True)
        log(f"generating {size / 1e6:.0f} MB (at least {lines:,} lines) under {root}")
        run_with_timeout([strata, "generate", "--out", root, "--containers", "50", "--namespaces", "8",
                          "--size", str(size), "--seed", str(seed), "--start", start, "--summary", summary_path],
                         timeout)
        with open(summary_path) as f:
            summary = json.load(f)
        if summary["totalLines"] >= lines:
            with open(params_path, "w") as f:
                json.dump(params, f)
            return root, summary
        size = int(size * lines / summary["totalLines"] * 1.02) + 1
    raise BenchError(f"strata generate did not reach {lines:,} lines")


# ---------------------------------------------------------------------------------------------
# Records (what the collector receives), the query terms, reference counts


class Records:
    """Columns of the agent's stdout records, the input of the Tantivy and chDB loads."""

    def __init__(self):
        self.time, self.namespace, self.pod, self.container, self.stream, self.level, self.body = ([] for _ in range(7))

    def __len__(self):
        return len(self.body)


def rfc3339_nanos(text, cache={}):
    second = text[:19]
    base = cache.get(second)
    if base is None:
        base = calendar.timegm(time.strptime(second, "%Y-%m-%dT%H:%M:%S")) * 10**9
        cache[second] = base
    fraction = text[20:-1] if len(text) > 20 and text[19] == "." else ""
    return base + int((fraction + "000000000")[:9] or 0)


def read_records(path):
    records = Records()
    with open(path, "rb") as f:
        for line in f:
            record = json.loads(line)
            resource = record.get("resource") or {}
            body = record.get("body") or ""
            records.time.append(rfc3339_nanos(record["timestamp"]))
            records.namespace.append(resource.get("k8s.namespace.name", ""))
            records.pod.append(resource.get("k8s.pod.name", ""))
            records.container.append(resource.get("k8s.container.name", ""))
            records.stream.append(record.get("stream") or "")
            level = LEVEL.search(body, 0, 200)
            name = level.group(1).lower() if level else ""
            records.level.append(LEVEL_NAMES.get(name, name))
            records.body.append(body)
    return records


def word_pattern(word):
    return re.compile(r"(?<![0-9A-Za-z_])" + re.escape(word) + r"(?![0-9A-Za-z_])", re.IGNORECASE)


def pick_rare_trace_id(records):
    """The trace id in the fewest records (at least two), ties broken by the smallest id."""
    per_id = collections.Counter()
    for body in records.body:
        per_id.update(set(TRACE_ID.findall(body)))
    candidates = [(count, trace) for trace, count in per_id.items() if count >= 2]
    if not candidates:
        candidates = [(count, trace) for trace, count in per_id.items()]
    if not candidates:
        raise BenchError("no 32-hex-digit trace id in any record: cannot pick a rare term")
    count, trace = min(candidates)
    return trace, len(per_id)


def reference_count(records, word):
    pattern = word_pattern(word)
    return sum(1 for body in records.body if pattern.search(body))


# ---------------------------------------------------------------------------------------------
# Measurement helpers


def percentile(values, q):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def timed_runs(run_once, runs, budget_s, warmup=2, keep=None):
    """Calls run_once() `warmup` times unmeasured, then up to `runs` times (fewer when the budget
    is spent); returns (latencies in ms, last result). `keep`, a list, receives every measured
    result."""
    result = None
    for _ in range(warmup):
        result = run_once()
    latencies = []
    started = time.monotonic()
    for _ in range(runs):
        t0 = time.perf_counter()
        result = run_once()
        latencies.append((time.perf_counter() - t0) * 1000)
        if keep is not None:
            keep.append(result)
        if time.monotonic() - started > budget_s and len(latencies) >= 3:
            break
    return latencies, result


def summarize(latencies, hits):
    return {"p50_ms": percentile(latencies, 0.5), "p99_ms": percentile(latencies, 0.99), "runs": len(latencies), "hits": hits}


def dir_bytes(path):
    total = 0
    for directory, _, names in os.walk(path):
        for name in names:
            full = os.path.join(directory, name)
            if not os.path.islink(full):
                total += os.path.getsize(full)
    return total


# ---------------------------------------------------------------------------------------------
# strata


def bench_strata(args, corpus, work, queries, time_range, expected_records):
    data = os.path.join(work, "strata-data")
    shutil.rmtree(data, ignore_errors=True)
    checkpoints = os.path.join(work, "strata-agent-state")
    shutil.rmtree(checkpoints, ignore_errors=True)
    log_path = os.path.join(work, "collector.log")
    if os.path.exists(log_path):
        os.remove(log_path)
    result = {}
    collector = Collector(args.strata, data, log_path, cpu=1, flush_interval=args.flush_interval, extra=args.collector_arg)
    try:
        collector.wait_ready()
        cpu_at_start = collector.cpu_seconds()
        log(f"strata: shipping {corpus['raw_bytes'] / 1e6:.1f} MB with strata agent --once to the collector on :{collector.port}")
        agent = [args.strata, "agent", "--once", "--sink", "http", "--collector", f"http://127.0.0.1:{collector.port}",
                 "--path", os.path.join(corpus["root"], "var", "log", "containers", "*.log"),
                 "--checkpoint-dir", checkpoints, "--log-level", "warning"]
        t0 = time.monotonic()
        wall, agent_cpu, code = run_with_timeout(agent, args.timeout, cpu=0)
        if code != 0:
            raise BenchError(f"strata agent --once exited with {code}")
        metrics = collector.metrics()
        ingest_cpu = collector.cpu_seconds()
        ingested = int(metrics.get("records_ingested_total", -1))
        too_old = int(metrics.get("records_too_old_total", 0))
        if ingested + too_old != expected_records or too_old:
            log(f"strata: WARNING the collector took {ingested:,} records and refused {too_old:,} as too old; "
                f"the agent's stdout sink produced {expected_records:,}")
        total_cpu, flush_wall, code = collector.stop(args.timeout)
        ingest_wall = time.monotonic() - t0
        if code != 0:
            raise BenchError(f"strata collector exited with {code} after SIGTERM; see {log_path}")
    finally:
        collector.kill()
    segments = dir_bytes(os.path.join(data, "segments"))
    wal = dir_bytes(os.path.join(data, "wal"))
    stored = dir_bytes(data)
    result.update({
        "records": ingested, "too_old": too_old, "agent_wall_s": wall, "agent_cpu_s": agent_cpu,
        "ingest_wall_s": ingest_wall, "final_flush_wall_s": flush_wall, "cpu_s": total_cpu,
        "cpu_before_final_flush_s": ingest_cpu - cpu_at_start, "startup_cpu_s": cpu_at_start,
        "stored_bytes": stored, "segment_bytes": segments, "wal_bytes": wal, "other_bytes": stored - segments - wal,
        "segments": sum(1 for _, _, names in os.walk(os.path.join(data, "segments")) for n in names),
    })
    log(f"strata: {ingested:,} records, collector CPU {total_cpu:.2f} s, {stored / 1e6:.1f} MB on disk; restarting for queries")

    collector = Collector(args.strata, data, log_path, cpu=1, flush_interval=args.flush_interval, extra=args.collector_arg)
    try:
        collector.wait_ready()
        result["restart_ready_s"] = collector.ready_after
        head = collector.metrics().get("head_bytes", 0)
        if head:
            log(f"strata: WARNING {head:.0f} head bytes after restart (the WAL was replayed): queries include the head")
        connection = http.client.HTTPConnection("127.0.0.1", collector.port, timeout=args.query_timeout)
        result["took_ms_reported"] = False
        queries_by_name = {q.name: q for q in queries}

        def get(query, count, limit=100):
            params = {"q": query, "from": str(time_range[0]), "to": str(time_range[1])}
            if count:
                params["count"] = "true"
            else:
                params["limit"] = str(limit)
            connection.request("GET", "/api/v1/query?" + urllib.parse.urlencode(params))
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                raise BenchError(f"GET /api/v1/query q={query!r} answered {response.status}: {body[:300]!r}")
            return body

        for name, term, count, _, _, _ in queries:
            text = queries_by_name[name].strata_text
            bodies = []
            latencies, body = timed_runs(lambda: get(text, count), args.runs, args.query_budget, keep=bodies)
            answer = json.loads(body)
            hits = answer["count"] if count else len(answer["records"])
            result[name] = summarize(latencies, hits)
            # Newer collectors time the query themselves (`took_ms`) and describe the work done.
            took = [json.loads(b).get("took_ms") for b in bodies]
            if all(isinstance(t, (int, float)) for t in took):
                result["took_ms_reported"] = True
                result[name]["took_ms_p50"] = percentile(took, 0.5)
                result[name]["took_ms_p99"] = percentile(took, 0.99)
            if isinstance(answer.get("stats"), dict):
                result[name]["stats"] = answer["stats"]
        connection.close()
        collector.stop(args.timeout)
    finally:
        collector.kill()
    # Background compaction may have gone on during the query phase: the size it left.
    result["stored_bytes_after_queries"] = dir_bytes(data)
    result["segments_after_queries"] = sum(1 for _, _, names in os.walk(os.path.join(data, "segments")) for n in names)
    return result


# ---------------------------------------------------------------------------------------------
# Peers


def bench_tantivy(args, corpus, work, records, queries, time_range):
    import tantivy

    directory = os.path.join(work, "tantivy")
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", stored=True)  # default tokenizer (words, lowercased), positions
    for field in ("namespace", "pod", "container", "stream", "level"):
        builder.add_text_field(field, stored=True, tokenizer_name="raw")
    builder.add_integer_field("time", stored=True, indexed=True, fast=True)
    schema = builder.build()
    index = tantivy.Index(schema, path=directory)
    log(f"tantivy: indexing {len(records):,} records, one thread")
    cpu0, t0 = time.process_time(), time.monotonic()
    writer = index.writer(heap_size=256_000_000, num_threads=1)
    for i in range(len(records)):
        document = tantivy.Document()
        document.add_text("body", records.body[i])
        document.add_text("namespace", records.namespace[i])
        document.add_text("pod", records.pod[i])
        document.add_text("container", records.container[i])
        document.add_text("stream", records.stream[i])
        document.add_text("level", records.level[i])
        document.add_integer("time", records.time[i])
        writer.add_document(document)
    writer.commit()
    writer.wait_merging_threads()
    cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    result = {"records": len(records), "cpu_s": cpu, "ingest_wall_s": wall, "stored_bytes": dir_bytes(directory)}
    index.reload()
    searcher = index.searcher()
    in_range = tantivy.Query.range_query(schema, "time", tantivy.FieldType.Integer, time_range[0], time_range[1], True, False)
    for name, term, count, _, field, strata_only in queries:
        if strata_only:
            continue
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.term_query(schema, field or "body", term.lower())),
            (tantivy.Occur.Must, in_range)])
        if count:
            def run_once(query=query):
                return searcher.search(query, limit=1, count=True).count
        else:
            def run_once(query=query):
                found = searcher.search(query, limit=100, count=False, order_by_field="time")
                return [searcher.doc(address) for _, address in found.hits]
        latencies, answer = timed_runs(run_once, args.runs, args.query_budget)
        result[name] = summarize(latencies, answer if count else len(answer))
    return result


def bench_chdb(args, corpus, work, records, queries, time_range):
    from chdb import session

    directory = os.path.join(work, "chdb")
    shutil.rmtree(directory, ignore_errors=True)
    source = flat_records(work, records)
    db = session.Session(directory)

    def sql(text, fmt="CSV"):
        return db.query(text, fmt)

    sql("CREATE DATABASE IF NOT EXISTS bench")
    sql("""CREATE TABLE bench.logs (
             time DateTime64(9) CODEC(DoubleDelta, ZSTD(3)),
             namespace LowCardinality(String) CODEC(ZSTD(3)),
             pod LowCardinality(String) CODEC(ZSTD(3)),
             container LowCardinality(String) CODEC(ZSTD(3)),
             stream LowCardinality(String) CODEC(ZSTD(3)),
             level LowCardinality(String) CODEC(ZSTD(3)),
             body String CODEC(ZSTD(3)))
           ENGINE = MergeTree ORDER BY (namespace, container, pod, time)""")
    log(f"chdb: loading {len(records):,} records from {source}, max_threads=1")
    cpu0, t0 = time.process_time(), time.monotonic()
    sql(f"""INSERT INTO bench.logs
            SELECT parseDateTime64BestEffort(time, 9, 'UTC'), namespace, pod, container, stream, level, body
            FROM file('{source}', JSONEachRow,
                      'time String, namespace String, pod String, container String, stream String, level String, body String')
            SETTINGS max_threads = 1, max_insert_threads = 1""")
    cpu, wall = time.process_time() - cpu0, time.monotonic() - t0
    stats = str(sql("SELECT sum(rows), sum(bytes_on_disk), count() FROM system.parts "
                    "WHERE database = 'bench' AND table = 'logs' AND active")).strip().split(",")
    result = {"records": int(stats[0]), "cpu_s": cpu, "ingest_wall_s": wall, "stored_bytes": int(stats[1]),
              "parts": int(stats[2]), "data_dir_bytes": dir_bytes(directory)}
    where = (f"time >= fromUnixTimestamp64Nano(toInt64({time_range[0]})) "
             f"AND time < fromUnixTimestamp64Nano(toInt64({time_range[1]}))")
    for name, term, count, _, field, strata_only in queries:
        if strata_only:
            continue
        match = f"{field} = '{term.lower()}'" if field else f"hasTokenCaseInsensitive(body, '{term}')"
        if count:
            text = f"SELECT count() FROM bench.logs WHERE {match} AND {where} SETTINGS max_threads = 1"
            run_once = lambda text=text: int(str(sql(text)).strip())
        else:
            text = (f"SELECT time, namespace, pod, container, stream, level, body FROM bench.logs "
                    f"WHERE {match} AND {where} ORDER BY time DESC LIMIT 100 "
                    f"SETTINGS max_threads = 1")
            run_once = lambda text=text: sql(text, "JSONEachRow").bytes().count(b"\n")
        latencies, answer = timed_runs(run_once, args.runs, args.query_budget)
        result[name] = summarize(latencies, answer)
    db.close()
    return result


def flat_records(work, records):
    """The records as flat NDJSON (time as RFC 3339, identity, level, body): the load input of
    chDB and clp-s. Written once per corpus, untimed."""
    path = os.path.join(work, "records.flat.ndjson")
    if os.path.exists(path + ".done"):
        return path
    with open(path, "w") as f:
        for i in range(len(records)):
            t = records.time[i]
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t // 10**9)) + f".{t % 10**9:09d}Z"
            f.write(json.dumps({"time": stamp, "namespace": records.namespace[i], "pod": records.pod[i],
                                "container": records.container[i], "stream": records.stream[i],
                                "level": records.level[i], "body": records.body[i]}, ensure_ascii=False))
            f.write("\n")
    open(path + ".done", "w").close()
    return path


def bench_clp(args, corpus, work, records, queries, time_range):
    """clp-s (yscope-clp-core): compress the flat records, then search with KQL. KQL matches
    substrings (`*term*`), not whole words, and a count is the number of records printed."""
    source = flat_records(work, records)
    archives = os.path.join(work, "clp-archives")
    shutil.rmtree(archives, ignore_errors=True)
    log(f"clp-s: compressing {len(records):,} records")
    wall, cpu, code = run_with_timeout(["clp-s", "c", "--timestamp-key", "time", archives, source], args.timeout, cpu=0)
    if code != 0:
        raise BenchError(f"clp-s c exited with {code}")
    result = {"records": len(records), "cpu_s": cpu, "ingest_wall_s": wall, "stored_bytes": dir_bytes(archives)}
    window = ["--tge", str(time_range[0] // 10**6), "--tle", str(time_range[1] // 10**6)]
    for name, term, count, _, field, strata_only in queries:
        if strata_only:
            continue
        if field:
            kql = f'{field}: "{term.lower()}"'
        else:
            kql = f'body: "*{term}*"'
        command = ["clp-s", "s", "-i"] + window + [archives, kql]
        latencies = []
        started = time.monotonic()
        for _ in range(max(3, args.runs // 4)):
            run_wall, _, _, code = agent_bench.run_measured(command, cpu=0)
            if code != 0:
                raise BenchError(f"clp-s s exited with {code} for {kql}")
            latencies.append(run_wall * 1000)
            if time.monotonic() - started > args.query_budget:
                break
        output = subprocess.run(command, capture_output=True, timeout=args.timeout).stdout
        hits = output.count(b"\n")
        result[name] = summarize(latencies, min(hits, 100) if not count else hits)
    return result


def bench_ripgrep(args, corpus, queries):
    files = corpus["files"]
    result = {"stored_bytes": corpus["raw_bytes"], "cpu_s": None}
    for name, term, count, _, field, strata_only in queries:
        if field or strata_only:
            continue  # raw lines have no level field
        # Whole words, case-insensitive, like the indexes; counts are of raw lines, not records.
        command = ["rg", "--no-config", "--no-filename", "-i", "-w"] + (["-c"] if count else []) + ["--", term] + files
        latencies = []
        started = time.monotonic()
        for _ in range(max(3, args.runs // 4)):
            wall, _, _, code = agent_bench.run_measured(command, cpu=0)
            if code not in (0, 1):
                raise BenchError(f"rg exited with {code}")
            latencies.append(wall * 1000)
            if time.monotonic() - started > args.query_budget:
                break
        output = subprocess.run(["rg", "--no-config", "--no-filename", "-i", "-w", "-c", "--", term] + files,
                                capture_output=True, timeout=args.timeout).stdout
        hits = sum(int(x) for x in output.split())
        result[name] = summarize(latencies, hits)
    return result


# ---------------------------------------------------------------------------------------------
# Report


def fmt_ms(entry):
    if not entry:
        return "-"

    def one(ms):
        return f"{ms:.3f}" if ms < 1 else f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:.0f}"
    return f"{one(entry['p50_ms'])} / {one(entry['p99_ms'])}"


def print_table(corpus, results, queries, refs):
    systems = [s for s in ("strata", "tantivy", "chdb", "ripgrep", "clp-s") if s in results]
    raw = corpus["raw_bytes"]
    print()
    print(f"== {corpus['name']}: {len(corpus['files'])} files, {raw / 1e6:.1f} MB raw, {corpus['lines']:,} lines, "
          f"{corpus['records']:,} records; {corpus['note']}")
    print(f"   rare term = {queries[0][1]} ({corpus['trace_ids']:,} distinct trace ids); time range "
          f"[{corpus['range_text'][0]}, {corpus['range_text'][1]})")
    width = 20
    header = f"{'':40}" + "".join(f"{s:>{width}}" for s in systems) + f"{'target':>{width}}"
    print(header)
    print("-" * len(header))

    def row(label, cell, target=""):
        cells = []
        for system in systems:
            value = results[system]
            cells.append(cell(value) if isinstance(value, dict) and "error" not in value else
                         ("error" if isinstance(value, dict) else "-"))
        print(f"{label:40}" + "".join(f"{c:>{width}}" for c in cells) + f"{target:>{width}}")

    def ingest_rate(r):
        return f"{raw / 1e6 / r['cpu_s']:.1f}" if r.get("cpu_s") else "-"

    row("records indexed", lambda r: f"{r['records']:,}" if "records" in r else "-")
    row("ingest CPU s", lambda r: f"{r['cpu_s']:.2f}" if r.get("cpu_s") else "-")
    row("ingest wall s", lambda r: f"{r['ingest_wall_s']:.2f}" if r.get("ingest_wall_s") else "-")
    row("ingest MB/s per core (raw)", ingest_rate, f">= {TARGETS['ingest_mb_per_core']:.0f}")
    row("bytes on disk (MB)", lambda r: f"{r['stored_bytes'] / 1e6:.2f}")
    row("raw / on disk", lambda r: f"{raw / r['stored_bytes']:.1f}x", f">= {TARGETS['ratio']:.0f}x")
    for query in queries:
        name, count = query.name, query.count
        kind = "count" if count else "top 100"
        term = {"rare": "trace id", "rare_count": "trace id", "rare_word": "trace id as word",
                "common_severity": "severity:info"}.get(name, query.term)
        target = ""
        if name in ("rare", "rare_word"):
            target = f"<= {TARGETS['rare_ms']:.0f} ms"
        if name in ("common_count", "common_severity"):
            target = f"<= {TARGETS['common_count_ms']:.0f} ms"
        row(f"{term} {kind} p50/p99 ms", lambda r, n=name: fmt_ms(r.get(n)), target)
        row(f"  hits (ref {refs[name]:,})", lambda r, n=name: f"{r[n]['hits']:,}" if n in r else "-")
        if "took_ms_p50" in results.get("strata", {}).get(name, {}):
            row("  server took_ms p50/p99", lambda r, n=name: (
                f"{fmt_ms({'p50_ms': r[n]['took_ms_p50'], 'p99_ms': r[n]['took_ms_p99']})}" if "took_ms_p50" in r.get(n, {}) else "-"))
    print("   trace id: strata is asked trace_id:<id> (its parsers may move the id out of the body), the peers the word; "
          "'trace id as word' asks strata for the bare word")
    print("   ref = records whose body holds the word (whole word, any case), by brute force in Python; for severity:info,"
          " records whose first level word in the first 200 characters is INFO (the peers' level field)")
    if "strata" in results and "segments" in results["strata"]:
        s = results["strata"]
        print(f"   strata: {s['segments']} segment files {s['segment_bytes'] / 1e6:.2f} MB, WAL {s['wal_bytes'] / 1e6:.2f} MB, "
              f"other {s['other_bytes'] / 1e3:.1f} kB; CPU before the final flush {s['cpu_before_final_flush_s']:.2f} s, "
              f"final flush {s['final_flush_wall_s']:.2f} s wall; agent {s['agent_wall_s']:.2f} s wall / {s['agent_cpu_s']:.2f} s CPU; "
              f"restart to ready {s['restart_ready_s']:.2f} s; took_ms in answers: {'yes' if s['took_ms_reported'] else 'no'}")
        if "stored_bytes_after_queries" in s:
            print(f"   strata after the query phase (background compaction may have run): "
                  f"{s['segments_after_queries']} segment files, {s['stored_bytes_after_queries'] / 1e6:.2f} MB on disk "
                  f"= {raw / s['stored_bytes_after_queries']:.1f}x smaller than raw")
    if "strata" in results:
        for query in queries:
            stats = results["strata"].get(query.name, {}).get("stats")
            if stats:
                print(f"   strata {query.strata_text[:24]} ({'count' if query.count else 'top 100'}): "
                      + ", ".join(f"{k} {v}" for k, v in stats.items()))
    for system in systems:
        if isinstance(results[system], dict) and "error" in results[system]:
            print(f"   {system}: ERROR {results[system]['error']}")
    print("   strata: HTTP on loopback, one persistent connection, client-side latency; tantivy/chdb: in-process calls; "
          "ripgrep: whole process over the raw files (lines, no time filter), one core; clp-s: whole process, KQL "
          "substring match (*term*), a count = records printed")


# ---------------------------------------------------------------------------------------------


def check_peers(peers):
    missing = []
    if "tantivy" in peers and importlib.util.find_spec("tantivy") is None:
        missing.append("tantivy (pip install tantivy)")
    if "chdb" in peers and importlib.util.find_spec("chdb") is None:
        missing.append("chdb (pip install chdb)")
    if "rg" in peers and shutil.which("rg") is None:
        missing.append("ripgrep (apt-get install ripgrep)")
    if "clp" in peers and shutil.which("clp-s") is None:
        missing.append("clp-s (pip install yscope-clp-core)")
    if missing:
        raise BenchError("missing peer(s): " + ", ".join(missing) + "; install them, or pass --skip-peers or --peers with the others")


def main():
    yesterday_noon = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)).isoformat() + "T12:00:00Z"
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strata", default=os.path.join(REPO, ".build", "release", "strata"))
    parser.add_argument("--corpora", default="trainticket,generated", help="comma list of trainticket, generated")
    parser.add_argument("--trainticket", default=TRAINTICKET, help="the Train-Ticket var/log directory")
    parser.add_argument("--lines", type=int, default=2_000_000, help="lines of the generated corpus (at least)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--gen-start", default=yesterday_noon, help="first line of the generated corpus (RFC 3339)")
    parser.add_argument("--work", default=None, help="working directory (kept); default: a temporary one, removed")
    parser.add_argument("--reuse", action="store_true", help="reuse corpora already prepared in --work")
    parser.add_argument("--runs", type=int, default=20, help="measured runs per query")
    parser.add_argument("--query-budget", type=float, default=60.0, help="seconds per query before fewer runs are taken")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds any one step may take")
    parser.add_argument("--query-timeout", type=float, default=120.0)
    parser.add_argument("--flush-interval", default="10s", help="passed to strata collector")
    parser.add_argument("--collector-arg", action="append", default=[], metavar="ARG",
                        help="extra argument for strata collector (repeatable), e.g. --collector-arg=--set=storage.x=y")
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--peers", default="tantivy,chdb,rg,clp", help="comma list of tantivy, chdb, rg, clp")
    parser.add_argument("--json", default=None, help="also write every figure to this JSON file")
    args = parser.parse_args()
    peers = [] if args.skip_peers else [p for p in args.peers.split(",") if p]
    try:
        unknown = set(peers) - {"tantivy", "chdb", "rg", "clp"}
        if unknown:
            raise BenchError(f"unknown peer(s) {sorted(unknown)}: choose from tantivy, chdb, rg, clp")
        check_peers(peers)
        if not os.access(args.strata, os.X_OK):
            raise BenchError(f"{args.strata} is not an executable: build it with `swift build -c release --product strata`")
        if shutil.which("taskset") is None:
            raise BenchError("taskset (util-linux) is required to pin processes to cores")
        work = args.work or tempfile.mkdtemp(prefix="strata-collector-bench-")
        os.makedirs(work, exist_ok=True)
        # Run a private copy: another build may replace the binary in the middle of the run.
        pinned = os.path.join(work, "strata")
        if os.path.abspath(args.strata) != pinned:
            shutil.copy2(args.strata, pinned)
        args.strata = pinned
        everything = {}
        for name in [c for c in args.corpora.split(",") if c]:
            everything[name] = run_corpus(args, name, os.path.join(work, name), peers)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(everything, f, indent=1)
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)


def run_corpus(args, name, work, peers):
    os.makedirs(work, exist_ok=True)
    if name == "trainticket":
        root, shift = prepare_trainticket(args.trainticket, work, args.reuse)
        note = f"docker json-file, dates moved {shift:+d} days"
    elif name == "generated":
        root, summary = prepare_generated(args.strata, work, args.lines, args.seed, args.gen_start, args.reuse, args.timeout)
        note = f"strata generate --seed {args.seed} --start {args.gen_start}, {summary['totalRecords']:,} records expected"
    else:
        raise BenchError(f"unknown corpus '{name}': choose trainticket or generated")
    files = tree_files(root)
    corpus = {"name": name, "root": root, "files": files, "raw_bytes": sum(os.path.getsize(p) for p in files),
              "lines": count_lines(files), "note": note}
    for path in files:  # warm the page cache for every reader alike
        with open(path, "rb") as f:
            while f.read(1 << 22):
                pass

    records_path = os.path.join(work, "records.ndjson")
    state = os.path.join(work, "stdout-agent-state")
    shutil.rmtree(state, ignore_errors=True)
    log(f"{name}: decoding the tree with strata agent --sink stdout")
    with open(records_path, "wb") as out:
        _, _, code = run_with_timeout([args.strata, "agent", "--once", "--sink", "stdout", "--path",
                                       os.path.join(root, "var", "log", "containers", "*.log"),
                                       "--checkpoint-dir", state, "--log-level", "warning"], args.timeout, stdout=out)
    if code != 0:
        raise BenchError(f"strata agent --sink stdout exited with {code}")
    log(f"{name}: reading the records, picking the rare term, counting references")
    records = read_records(records_path)
    corpus["records"] = len(records)
    if name == "generated" and len(records) != summary["totalRecords"]:
        log(f"WARNING: the agent produced {len(records):,} records, the generator expects {summary['totalRecords']:,}")
    trace, distinct = pick_rare_trace_id(records)
    corpus["trace_ids"] = distinct
    # The rare term is asked of the collector as `trace_id:<id>`: its parsers move a trace id
    # found in a JSON/logfmt field out of the body (the peers keep the whole body), so the bare
    # word finds only records whose text still holds it; that bare-word search is a row of its
    # own. Likewise the parsers move a logback line's "INFO" into severity=info, so the common
    # term is measured as the bare word (index counts) and as `severity:info` (peers: their
    # level column, filled by a naive first-level-word regex, hence a different ref).
    queries = [
        Query("rare", trace, False, "trace_id", None, False),
        Query("rare_count", trace, True, "trace_id", None, False),
        Query("rare_word", trace, False, None, None, True),
        Query("medium", "Exception", False, None, None, False),
        Query("medium_count", "Exception", True, None, None, False),
        Query("common_count", "INFO", True, None, None, False),
        Query("common_severity", "INFO", True, "severity", "level", False),
    ]
    ref = {"rare": reference_count(records, trace), "medium": reference_count(records, "Exception"),
           "common_count": reference_count(records, "INFO")}
    refs = {"rare": min(ref["rare"], 100), "rare_count": ref["rare"], "rare_word": min(ref["rare"], 100),
            "medium": min(ref["medium"], 100), "medium_count": ref["medium"], "common_count": ref["common_count"],
            "common_severity": sum(1 for level in records.level if level == "info")}
    # The whole range: the collector may move a record to its application time (up to a day away).
    time_range = (min(records.time) - 2 * DAY_NS, max(records.time) + 2 * DAY_NS)
    corpus["range_text"] = [datetime.datetime.fromtimestamp(t // 10**9, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")
                            for t in time_range]

    results = {}
    runners = [("strata", lambda: bench_strata(args, corpus, work, queries, time_range, len(records)))]
    if "tantivy" in peers:
        runners.append(("tantivy", lambda: bench_tantivy(args, corpus, work, records, queries, time_range)))
    if "chdb" in peers:
        runners.append(("chdb", lambda: bench_chdb(args, corpus, work, records, queries, time_range)))
    if "rg" in peers:
        runners.append(("ripgrep", lambda: bench_ripgrep(args, corpus, queries)))
    if "clp" in peers:
        runners.append(("clp-s", lambda: bench_clp(args, corpus, work, records, queries, time_range)))
    for system, runner in runners:
        try:
            results[system] = runner()
        except Exception as error:  # one failing system must not hide the others' figures
            log(f"{system}: FAILED: {error}")
            results[system] = {"error": str(error)}
    print_table(corpus, results, queries, refs)
    sys.stdout.flush()
    return {"corpus": {k: v for k, v in corpus.items() if k != "files"}, "file_count": len(files),
            "queries": [q._asdict() for q in queries], "refs": refs, "results": results}


if __name__ == "__main__":
    main()
