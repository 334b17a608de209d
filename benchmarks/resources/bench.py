#!/usr/bin/env python3
"""Collector memory benchmark (issue 11, "Bounded resources"): peak RSS of a release collector
on loopback under each load the issue names, against the 512 MiB budget (docs/RELIABILITY.md,
"Memory budget").

Each scenario starts `strata collector` with default settings (a fresh data directory unless
noted), samples its /proc/PID/status every 50 ms (VmRSS) and reads VmHWM (the kernel's peak)
at the end of the scenario:

  tree       `strata agent --once` ships a generated node tree (`strata generate --size SIZE`,
             10 containers, as benchmarks/agent/bench.py generates it) to the collector. Reports
             the peak during the run and the RSS 15 s after the agent is done ("after").
  ndjson     8 concurrent POSTs of a 200 MiB NDJSON batch, gzip-encoded (identity bodies of
             that size stop at the 64 MiB body limit; gzip is how one gets 200 MiB past it),
             and again 8 concurrent identity POSTs of the same text. Reports every status. Then
             8 senders each POST 4 different 16 MiB NDJSON batches (the default limit), retrying
             a 429 after its Retry-After: the budget under sustained load.
  bombs      decompression bombs, 8 concurrent each: gzip NDJSON, zstd NDJSON and lz4 NDJSON
             (Content-Encoding) expanding to 1 GiB of valid lines, and agent wire batches whose
             zstd / lz4 payload expands to 256 MiB (the wire format's largest) with a
             wrong checksum. All must be refused; the figure is what refusing cost.
  diagnose   on the tree's store (collector restarted on it): `strata diagnose --data-dir` over
             the whole store (a separate process beside the collector; its own peak from wait4),
             and with --diagnose-modes data-dir,collector also `strata diagnose --collector`
             (the collector pages every record out through /api/v1/query to the client).
  query      on the same store: the heaviest query shapes over the whole store — 10,000 newest
             records, a regex without a literal counted, `count by pod`, a 5 m histogram —
             each 4 times, 4 at once.

Usage:
  swift build -c release --product strata
  python3 benchmarks/resources/bench.py [--strata .build/release/strata] [--work /tmp/res-bench]
        [--scenarios tree,ndjson,bombs,diagnose,query] [--size 500MB] [--reuse] [--json OUT]
        [--collector-arg=ARG ...]

`--reuse` keeps the generated tree, the NDJSON text and the bombs in --work between runs.
Prints one row per scenario: peak sampled VmRSS, VmHWM, RSS after, wall seconds, outcome.
The machine's load (`uptime`) is printed at the start and end; quote it beside the figures.
Needs the `zstd` and `lz4` command-line tools for the bombs.
"""
import argparse
import gzip
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import zlib

MiB = 1 << 20


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid):
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS", "VmHWM")):
                    key, value = line.split(":", 1)
                    values[key] = int(value.split()[0]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return values


class Collector:
    """A release collector on loopback with default settings and an RSS sampler."""

    def __init__(self, strata, data_dir, log_path, extra=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = open(log_path, "ab")
        command = [strata, "collector", "--data-dir", data_dir, "--listen", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", *extra]
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=subprocess.STDOUT)
        self.peak = 0
        self.samples = 0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self.wait_ready(log_path)

    def _sample(self):
        while not self._stop.is_set():
            rss = proc_status(self.process.pid).get("VmRSS", 0)
            self.peak = max(self.peak, rss)
            self.samples += 1
            time.sleep(0.05)

    def reset_peak(self):
        self.peak = self.rss()

    def rss(self):
        return proc_status(self.process.pid).get("VmRSS", 0)

    def hwm(self):
        return proc_status(self.process.pid).get("VmHWM", 0)

    def wait_ready(self, log_path, timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"strata collector exited with {self.process.returncode} at start; see {log_path}")
            try:
                status, _, _ = request("GET", self.url + "/healthz", timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"strata collector did not answer /healthz within {timeout} s; see {log_path}")

    def stop(self):
        self._stop.set()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=300)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log_file.close()


def request(method, url, body=None, headers=None, timeout=600):
    """One HTTP request; returns (status, headers dict, body bytes). Never raises on 4xx/5xx."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path + (("?" + parts.query) if parts.query else "")
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        connection.close()


def concurrently(count, function):
    """Runs function(i) in `count` threads at once; returns their results in order."""
    results = [None] * count
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        try:
            results[i] = function(i)
        except OSError as error:  # a refused or reset connection is an outcome too
            results[i] = (None, {}, str(error).encode())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def outcome(results):
    """'200 x3, 429 x5 (ingest_busy)' from request results."""
    counts = {}
    for status, _, body in results:
        code = ""
        try:
            code = json.loads(body).get("code", "")
        except (ValueError, AttributeError):
            pass
        key = f"{status}" + (f" {code}" if code else "")
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{k} x{v}" for k, v in sorted(counts.items()))


# --------------------------------------------------------------------------------------------
# Inputs


def ndjson_text(path, size, reuse):
    """About `size` bytes of NDJSON records stamped in the last minutes, varied enough that the
    collector's templates and index do real work (not one line repeated)."""
    if reuse and os.path.exists(path) and os.path.getsize(path) >= size:
        return path
    log(f"writing {size / MiB:.0f} MiB of NDJSON to {path}")
    now = time.time_ns()
    levels = ["INFO", "WARN", "ERROR", "DEBUG"]
    written = 0
    i = 0
    with open(path, "wb") as f:
        chunk = []
        while written < size:
            stamp = now - (size - written) * 1000  # one microsecond per byte back: minutes
            line = json.dumps({
                "timestamp": stamp,
                "body": f"{levels[i % 4]} request {i} for /api/v1/orders/{i * 7919 % 100003} took {i % 997} ms "
                        f"user={i * 31 % 5003} trace={uuid.UUID(int=i * 2654435761 % (1 << 128)).hex}",
                "resource": {"k8s.namespace.name": f"ns-{i % 8}", "k8s.pod.name": f"api-{i % 40}",
                             "k8s.container.name": "api"},
                "attributes": {"http.status": str(200 + (i % 5) * 100)},
            }, separators=(",", ":")).encode() + b"\n"
            chunk.append(line)
            written += len(line)
            i += 1
            if len(chunk) >= 10000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))
    return path


def gzip_file(source, target, reuse):
    if not (reuse and os.path.exists(target)):
        log(f"gzip {source} -> {target}")
        with open(source, "rb") as fin, gzip.open(target, "wb", compresslevel=1) as fout:
            shutil.copyfileobj(fin, fout, 16 * MiB)
    with open(target, "rb") as f:
        return f.read()


def bomb(work, kind, reuse, expanded=1 << 30):
    """A Content-Encoding bomb: `expanded` bytes of one valid NDJSON line, repeated, compressed."""
    path = os.path.join(work, f"bomb-{kind}")
    if not (reuse and os.path.exists(path)):
        line = json.dumps({"body": "x" * 100, "timestamp": time.time_ns()}).encode() + b"\n"
        block = line * ((4 * MiB) // len(line))
        repeats = expanded // len(block)
        log(f"making the {kind} bomb ({repeats * len(block) / MiB:.0f} MiB expanded)")
        if kind == "gzip":
            compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
            with open(path, "wb") as f:
                for _ in range(repeats):
                    f.write(compressor.compress(block))
                f.write(compressor.flush())
        else:
            tool = ["zstd", "-q", "-3", "-c"] if kind == "zstd" else ["lz4", "-q", "-c"]
            with open(path, "wb") as f:
                process = subprocess.Popen(tool, stdin=subprocess.PIPE, stdout=f)
                for _ in range(repeats):
                    process.stdin.write(block)
                process.stdin.close()
                if process.wait() != 0:
                    raise SystemExit(f"{tool[0]} failed making the bomb")
    with open(path, "rb") as f:
        return f.read()


def wire_bomb(work, codec, reuse):
    """An agent wire frame (docs/WIRE.md) whose header declares the largest payload the format
    allows (256 MiB) and whose payload does expand to it (zeros), with a checksum that cannot
    match: a receiver that expands before it checks pays the full 256 MiB."""
    payload = 256 * MiB
    path = os.path.join(work, f"bomb-wire-{codec}")
    if not (reuse and os.path.exists(path)):
        log(f"making the wire {codec} bomb")
        tool = ["zstd", "-q", "-3", "-c"] if codec == "zstd" else ["lz4", "-q", "-c"]
        with open(path, "wb") as f:
            process = subprocess.Popen(tool, stdin=subprocess.PIPE, stdout=f)
            zeros = bytes(4 * MiB)
            for _ in range(payload // len(zeros)):
                process.stdin.write(zeros)
            process.stdin.close()
            if process.wait() != 0:
                raise SystemExit(f"{tool[0]} failed making the bomb")
    with open(path, "rb") as f:
        compressed = f.read()
    codec_byte = 1 if codec == "zstd" else 2
    header = (b"STRB" + bytes([1, codec_byte]) + (0).to_bytes(2, "little") + uuid.uuid4().bytes
              + (1000).to_bytes(4, "little") + payload.to_bytes(4, "little") + (0xDEADBEEF).to_bytes(4, "little")
              + len(compressed).to_bytes(4, "little"))
    return header + compressed


def generated_tree(strata, work, size, reuse):
    root = os.path.join(work, "tree")
    summary = os.path.join(work, "tree.json")
    if not (reuse and os.path.exists(summary)):
        shutil.rmtree(root, ignore_errors=True)
        log(f"generating a {size} tree under {root}")
        subprocess.run([strata, "generate", "--out", root, "--containers", "10", "--namespaces", "8",
                        "--size", size, "--summary", summary], check=True, stdout=subprocess.DEVNULL)
    with open(summary) as f:
        tree = json.load(f)
    tree["root"] = root
    return tree


# --------------------------------------------------------------------------------------------
# Scenarios


def row(name, collector, wall, result, after=None):
    peak = max(collector.peak, collector.rss())
    return {"scenario": name, "peak_rss_mib": round(peak / MiB, 1), "hwm_mib": round(collector.hwm() / MiB, 1),
            "after_mib": None if after is None else round(after / MiB, 1), "wall_s": round(wall, 2), "outcome": result}


def scenario_tree(args, work, rows):
    tree = generated_tree(args.strata, work, args.size, args.reuse)
    data = os.path.join(work, "store")
    shutil.rmtree(data, ignore_errors=True)
    subprocess.run(["cat"] + [f["path"] for f in tree["files"]], stdout=subprocess.DEVNULL, check=True)
    collector = Collector(args.strata, data, os.path.join(work, "collector-tree.log"), args.collector_arg)
    try:
        checkpoints = os.path.join(work, "agent-state")
        shutil.rmtree(checkpoints, ignore_errors=True)
        start = time.monotonic()
        result = subprocess.run(
            [args.strata, "agent", "--once", "--path", os.path.join(tree["root"], "var/log/containers/*.log"),
             "--checkpoint-dir", checkpoints, "--collector", collector.url, "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.monotonic() - start
        time.sleep(15)
        after = collector.rss()
        status, _, body = request("GET", collector.url + "/api/v1/query?count=true&since=30d&q=")
        count = json.loads(body).get("count") if status == 200 else None
        text = (f"agent exit {result.returncode}; {count} / {tree['totalRecords']} records stored; "
                f"{tree['totalBytes'] / 1e6:.0f} MB")
        rows.append(row("tree", collector, wall, text, after))
    finally:
        collector.stop()


def scenario_ndjson(args, work, rows):
    text_path = ndjson_text(os.path.join(work, "batch.ndjson"), 200 * MiB, args.reuse)
    gz = gzip_file(text_path, text_path + ".gz", args.reuse)
    for encoding in ("gzip", "identity"):
        data = os.path.join(work, f"store-ndjson-{encoding}")
        shutil.rmtree(data, ignore_errors=True)
        collector = Collector(args.strata, data, os.path.join(work, f"collector-ndjson-{encoding}.log"), args.collector_arg)
        try:
            if encoding == "gzip":
                body = gz
            else:
                with open(text_path, "rb") as f:
                    body = f.read()
            start = time.monotonic()
            results = concurrently(8, lambda i: request(
                "POST", collector.url + "/api/v1/ingest", body,
                {"Content-Type": "application/x-ndjson", "Content-Encoding": encoding,
                 "X-Strata-Batch-Id": str(uuid.uuid4())}))
            wall = time.monotonic() - start
            del body
            rows.append(row(f"ndjson 8x200MiB {encoding} ({len(gz if encoding == 'gzip' else b'') / MiB:.0f} MiB sent each)"
                            if encoding == "gzip" else "ndjson 8x200MiB identity", collector, wall, outcome(results),
                            after=collector.rss()))
        finally:
            collector.stop()
    # Batches within the default limits, 8 senders at once, each sending 4 different batches and
    # retrying a refused one after its Retry-After: what the budget does under sustained load.
    with open(text_path, "rb") as f:
        text = f.read(16 * MiB)
    text = text[:text.rindex(b"\n") + 1]
    data = os.path.join(work, "store-ndjson-16")
    shutil.rmtree(data, ignore_errors=True)
    collector = Collector(args.strata, data, os.path.join(work, "collector-ndjson-16.log"), args.collector_arg)
    try:
        def sender(i):
            answers = []
            for n in range(4):
                headers = {"Content-Type": "application/x-ndjson", "X-Strata-Batch-Id": str(uuid.uuid4())}
                for _ in range(60):
                    try:
                        answer = request("POST", collector.url + "/api/v1/ingest", text, headers)
                    except OSError as error:
                        answer = (None, {}, str(error).encode())
                    answers.append(answer)
                    if answer[0] != 429:
                        break
                    time.sleep(float(answer[1].get("retry-after", "1")))
            return answers
        start = time.monotonic()
        results = concurrently(8, sender)
        wall = time.monotonic() - start
        flat = [answer for answers in results for answer in answers]
        rows.append(row(f"ndjson 8 senders x4 x{len(text) / MiB:.0f}MiB identity, retrying 429", collector, wall,
                        outcome(flat), after=collector.rss()))
    finally:
        collector.stop()


def scenario_bombs(args, work, rows):
    kinds = [("gzip", "ndjson"), ("zstd", "ndjson"), ("lz4", "ndjson"), ("zstd", "wire"), ("lz4", "wire")]
    for codec, shape in kinds:
        data = os.path.join(work, f"store-bomb-{codec}-{shape}")
        shutil.rmtree(data, ignore_errors=True)
        collector = Collector(args.strata, data, os.path.join(work, f"collector-bomb.log"), args.collector_arg)
        try:
            if shape == "ndjson":
                body = bomb(work, codec, args.reuse)
                headers = {"Content-Type": "application/x-ndjson", "Content-Encoding": codec}
            else:
                body = wire_bomb(work, codec, args.reuse)
                headers = {"Content-Type": "application/vnd.strata.batch.v1"}
            start = time.monotonic()
            results = concurrently(8, lambda i: request("POST", collector.url + "/api/v1/ingest", body, headers))
            wall = time.monotonic() - start
            rows.append(row(f"bomb {shape} {codec} 8x ({len(body) / MiB:.1f} MiB sent each)", collector, wall,
                            outcome(results), after=collector.rss()))
        finally:
            collector.stop()


def store_range(collector):
    """(oldest, newest) stored time in nanoseconds, from the query API."""
    times = []
    for order in ("asc", "desc"):
        status, _, body = request("GET", collector.url + f"/api/v1/query?q=&since=30d&limit=1&order={order}")
        if status != 200:
            raise SystemExit(f"query for the store's range failed: {status} {body[:200]!r}")
        records = json.loads(body)["records"]
        if not records:
            raise SystemExit("the store is empty: run the tree scenario first")
        times.append(records[0]["timestamp"])
    return times


def scenario_diagnose(args, work, rows):
    data = os.path.join(work, "store")
    if not os.path.isdir(data):
        raise SystemExit("diagnose needs the tree scenario's store: run --scenarios tree,diagnose")
    collector = Collector(args.strata, data, os.path.join(work, "collector-diagnose.log"), args.collector_arg)
    try:
        oldest, newest = store_range(collector)
        # The whole store: the baseline is its first half, the window its second half.
        o = parse_rfc3339(oldest)
        n = parse_rfc3339(newest) + 1_000_000_000
        middle = (o + n) // 2
        window = ["--baseline-from", str(o), "--baseline-to", str(middle), "--from", str(middle), "--to", str(n)]
        for mode in ["--" + m for m in args.diagnose_modes.split(",")]:
            collector.reset_peak()
            target = collector.url if mode == "--collector" else data
            start = time.monotonic()
            process = subprocess.Popen([args.strata, "diagnose", mode, target, *window, "-o", "json",
                                        "--output", os.path.join(work, f"diagnosis{mode.replace('-', '_')}.json")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.monotonic() - start
            error = process.stderr.read().decode(errors="replace").strip().splitlines()
            code = os.waitstatus_to_exitcode(status)
            text = f"exit {code}" + (f" ({error[-1][:160]})" if code != 0 and error else "")
            if mode == "--data-dir":
                text += f"; strata diagnose process peak {usage.ru_maxrss / 1024:.0f} MiB"
            rows.append(row(f"diagnose {mode}, whole store", collector, wall, text))
    finally:
        collector.stop()


def parse_rfc3339(text):
    """Nanoseconds since the epoch of the API's `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`."""
    import calendar
    date, _, rest = text.partition("T")
    clock, _, fraction = rest.rstrip("Z").partition(".")
    seconds = calendar.timegm(time.strptime(f"{date}T{clock}", "%Y-%m-%dT%H:%M:%S"))
    return seconds * 1_000_000_000 + int((fraction + "000000000")[:9])


def scenario_query(args, work, rows):
    data = os.path.join(work, "store")
    if not os.path.isdir(data):
        raise SystemExit("query needs the tree scenario's store: run --scenarios tree,query")
    collector = Collector(args.strata, data, os.path.join(work, "collector-query.log"), args.collector_arg)
    try:
        shapes = [
            ("newest 10000", "/api/v1/query?since=30d&limit=10000&q="),
            ("regex count", "/api/v1/query?since=30d&count=true&q=" + urllib.parse.quote("/[a-z]+[0-9]{3}x/")),
            ("count by pod", "/api/v1/stats?since=30d&by=pod"),
            ("histogram 5m", "/api/v1/stats?since=30d&interval=5m"),  # 8,640 buckets: under the 10,000 cap
        ]
        for name, path in shapes:
            collector.reset_peak()
            start = time.monotonic()
            results = []
            for _ in range(4):
                results += concurrently(4, lambda i: request("GET", collector.url + path, timeout=300))
            wall = time.monotonic() - start
            rows.append(row(f"query {name}, 4 at once x4", collector, wall, outcome(results)))
    finally:
        collector.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strata", default=".build/release/strata")
    parser.add_argument("--work", default="/tmp/strata-resources-bench")
    parser.add_argument("--scenarios", default="tree,ndjson,bombs,diagnose,query")
    parser.add_argument("--size", default="500MB")
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--diagnose-modes", default="data-dir",
                        help="data-dir and/or collector: `--collector` pages every record out through the query "
                             "API into the client (the collector holds one page); slow")
    parser.add_argument("--collector-arg", action="append", default=[])
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    # A copy, so a concurrent build cannot swap the binary mid-run.
    binary = os.path.join(args.work, "strata")
    shutil.copy2(args.strata, binary)
    args.strata = binary
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    log(f"uptime at start: {load}")
    rows = []
    steps = {"tree": scenario_tree, "ndjson": scenario_ndjson, "bombs": scenario_bombs,
             "diagnose": scenario_diagnose, "query": scenario_query}
    for name in args.scenarios.split(","):
        if name not in steps:
            raise SystemExit(f"unknown scenario '{name}'; known: {', '.join(steps)}")
        log(f"scenario {name}")
        steps[name](args, args.work, rows)
        for r in rows:
            if r.get("_printed"):
                continue
            r["_printed"] = True
            log(f"  {r['scenario']}: peak {r['peak_rss_mib']} MiB, HWM {r['hwm_mib']} MiB, after {r['after_mib']}, "
                f"{r['wall_s']} s, {r['outcome']}")
    end_load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    log(f"uptime at end: {end_load}")
    for r in rows:
        r.pop("_printed", None)
    print(f"{'scenario':58} {'peak MiB':>9} {'HWM MiB':>8} {'after':>7} {'wall s':>7}  outcome")
    for r in rows:
        after = "" if r["after_mib"] is None else f"{r['after_mib']:.0f}"
        print(f"{r['scenario']:58} {r['peak_rss_mib']:9.0f} {r['hwm_mib']:8.0f} {after:>7} {r['wall_s']:7.1f}  {r['outcome']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"uptime_start": load, "uptime_end": end_load, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
