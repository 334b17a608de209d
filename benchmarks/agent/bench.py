#!/usr/bin/env python3
"""Agent throughput benchmark: strata agent vs rsyslog imfile on the same node log tree.

Generates a tree with `strata generate`, then for each file count:
  * strata agent --once, pinned to one core, shipping zstd batches over loopback to a receiver
    (a small HTTP server on the other core that acknowledges and counts records);
  * rsyslog imfile, pinned to one core, reading the same files into one output file.
Reports wall time, MB/s and lines/s of input, CPU seconds per GB and peak RSS.

Usage: benchmarks/agent/bench.py [--size 1GB] [--files 10,1000] [--strata .build/release/strata]
"""
import argparse
import http.server
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HEADER = 40


class Receiver(http.server.BaseHTTPRequestHandler):
    records = 0
    batches = 0
    wire_bytes = 0
    lock = threading.Lock()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if len(body) < HEADER or body[:4] != b"STRB":
            self.send_response(400)
            self.end_headers()
            return
        with Receiver.lock:
            Receiver.records += int.from_bytes(body[24:28], "little")
            Receiver.batches += 1
            Receiver.wire_bytes += len(body)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def start_receiver():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_measured(command, cpu):
    """Runs a command pinned to `cpu`; returns (wall seconds, cpu seconds, peak RSS bytes, exit code)."""
    start = time.monotonic()
    process = subprocess.Popen(["taskset", "-c", str(cpu)] + command, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, os.waitstatus_to_exitcode(status)


def bench_strata(strata, tree, work):
    Receiver.records = Receiver.batches = Receiver.wire_bytes = 0
    server = start_receiver()
    checkpoints = os.path.join(work, "strata-state")
    shutil.rmtree(checkpoints, ignore_errors=True)
    command = [
        strata, "agent", "--once", "--path", os.path.join(tree["root"], "var/log/containers/*.log"),
        "--checkpoint-dir", checkpoints, "--collector", f"http://127.0.0.1:{server.server_address[1]}",
        "--log-level", "warning",
    ]
    wall, cpu, rss, code = run_measured(command, cpu=0)
    server.shutdown()
    return {"wall": wall, "cpu": cpu, "rss": rss, "exit": code, "records": Receiver.records,
            "batches": Receiver.batches, "wire_bytes": Receiver.wire_bytes}


RSYSLOG_CONF = """
global(workDirectory="{work}")
module(load="imfile" mode="polling" PollingInterval="1")
input(type="imfile" File="{root}/var/log/pods/*/*/*.log" Tag="k8s" reopenOnTruncate="on" freshStartTail="off")
template(name="raw" type="string" string="%msg%\\n")
action(type="omfile" file="{out}" template="raw" asyncWriting="on" ioBufferSize="1m")
"""


def bench_rsyslog(tree, work, expected_lines):
    state = os.path.join(work, "rsyslog")
    shutil.rmtree(state, ignore_errors=True)
    os.makedirs(state)
    out = os.path.join(state, "out.log")
    conf = os.path.join(state, "rsyslog.conf")
    with open(conf, "w") as f:
        f.write(RSYSLOG_CONF.format(work=state, root=tree["root"], out=out))
    start = time.monotonic()
    process = subprocess.Popen(
        ["taskset", "-c", "0", "rsyslogd", "-n", "-f", conf, "-i", os.path.join(state, "pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # rsyslog never exits on its own: wait until it has written every line, then stop it.
    lines = 0
    last_change = time.monotonic()
    while True:
        time.sleep(0.2)
        try:
            with open(out, "rb") as f:
                current = sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
        except FileNotFoundError:
            current = 0
        if current != lines:
            lines, last_change = current, time.monotonic()
        if lines >= expected_lines or time.monotonic() - last_change > 10:
            break
    wall = (last_change if lines else time.monotonic()) - start
    with open(f"/proc/{process.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    with open(f"/proc/{process.pid}/status") as f:
        rss = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmHWM"))
    process.terminate()
    process.wait()
    return {"wall": wall, "cpu": cpu, "rss": rss, "lines": lines}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1GB")
    parser.add_argument("--files", default="10,1000")
    parser.add_argument("--strata", default=".build/release/strata")
    parser.add_argument("--work", default=None)
    parser.add_argument("--no-rsyslog", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep an existing tree in --work")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="strata-bench-")
    rows = []
    for files in [int(x) for x in args.files.split(",")]:
        root = os.path.join(work, f"tree-{files}")
        summary = os.path.join(work, f"tree-{files}.json")
        if not (args.reuse and os.path.exists(summary)):
            shutil.rmtree(root, ignore_errors=True)
            subprocess.run([args.strata, "generate", "--out", root, "--containers", str(files), "--namespaces", "8",
                            "--size", args.size, "--summary", summary], check=True)
        with open(summary) as f:
            tree = json.load(f)
        tree["root"] = root
        size, lines = tree["totalBytes"], tree["totalLines"]
        subprocess.run(["cat"] + [f["path"] for f in tree["files"]], stdout=subprocess.DEVNULL, check=True)  # warm cache
        result = bench_strata(args.strata, tree, work)
        ok = result["exit"] == 0 and result["records"] == tree["totalRecords"]
        rows.append(("strata agent", len(tree["files"]), size, lines, result["wall"], result["cpu"], result["rss"],
                     f"{result['records']}/{tree['totalRecords']} records" + ("" if ok else " MISMATCH")))
        if not args.no_rsyslog:
            rs = bench_rsyslog(tree, work, lines)
            rows.append(("rsyslog imfile", len(tree["files"]), size, lines, rs["wall"], rs["cpu"], rs["rss"],
                         f"{rs['lines']}/{lines} lines"))
    print(f"{'tool':16} {'files':>6} {'input MB':>9} {'wall s':>7} {'MB/s':>7} {'lines/s':>10} {'CPU s/GB':>9} {'peak RSS MiB':>13}  check")
    for tool, files, size, lines, wall, cpu, rss, check in rows:
        print(f"{tool:16} {files:6d} {size / 1e6:9.1f} {wall:7.2f} {size / 1e6 / wall:7.1f} {lines / wall:10.0f} "
              f"{cpu / (size / 1e9):9.2f} {rss / 2**20:13.1f}  {check}")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
