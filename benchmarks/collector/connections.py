#!/usr/bin/env python3
"""Connections and live tails of a running `strata collector`, measured over loopback only
(docs/RELIABILITY.md, "Connections and live tails").

    python3 benchmarks/collector/connections.py --strata .build/debug/strata [--nofile 1024]

Three measurements, each on a fresh collector and data directory, with the collector's
descriptor limit set to --nofile (the common default 1024, where the issue saw flushes fail):
  idle        --idle-connections unauthenticated connections that send nothing; then one ingest
              and one flush: descriptors the collector holds, connections refused, whether ingest
              and the flush still worked.
  tails       --tails SSE tails that never read (4 KiB receive buffers), then --records records
              of 1 KiB: the collector's RSS before the tails, with them idle, and after the
              records arrived.
  shutdown    one upload that sends its head and part of its body, then SIGTERM: seconds until
              the process exits (given up after --shutdown-wait seconds).
Every loop is bounded in count and time and talks to 127.0.0.1 only.
"""
import argparse
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Collector:
    def __init__(self, strata, nofile, extra):
        self.root = tempfile.mkdtemp(prefix="strata-conn-")
        self.port = free_port()
        config = os.path.join(self.root, "collector.yaml")
        with open(config, "w") as f:
            f.write("storage:\n  flush_interval: 1s\n")

        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        self.process = subprocess.Popen(
            [strata, "collector", "--data-dir", os.path.join(self.root, "data"), "--listen", f"127.0.0.1:{self.port}",
             "--config", config, "--log-level", "error"] + extra,
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.root, "stderr.log"), "w"), preexec_fn=limit)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.get("/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("collector did not start: " + self.stderr())

    def stderr(self):
        with open(os.path.join(self.root, "stderr.log")) as f:
            return f.read()

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def ingest(self, lines):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request("POST", "/api/v1/ingest", body="".join(lines).encode(), headers={"Content-Type": "application/x-ndjson"})
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def descriptors(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def rss_mib(self):
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0

    def metric(self, name):
        status, text = self.get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def measure_idle(args):
    collector = Collector(args.strata, args.nofile, args.extra)
    sockets = []
    try:
        before = collector.descriptors()
        for _ in range(args.idle_connections):
            s = socket.socket()
            s.settimeout(5)
            try:
                s.connect(("127.0.0.1", collector.port))
            except OSError:
                s.close()
                break
            sockets.append(s)
        time.sleep(2)
        held = collector.descriptors()
        refused = 0
        for s in sockets:
            s.setblocking(False)
            try:
                data = s.recv(4096)
                if data.startswith(b"HTTP/1.1 503"):
                    refused += 1
            except (BlockingIOError, ConnectionResetError):
                pass
        def ingest(label):
            try:
                return collector.ingest([json.dumps({"body": f"{label} {i}"}) + "\n" for i in range(100)])[0]
            except OSError as error:
                return f"failed ({error.__class__.__name__})"

        at_once = ingest("at once")
        # The idle connections still open keep their places until http.header_timeout (10 s).
        time.sleep(12)
        later = ingest("later")
        held_later = collector.descriptors()
        time.sleep(3)
        try:
            segments = collector.metric("strata_collector_segment_records")
            failures = collector.metric("strata_collector_maintenance_failures_total")
        except OSError as error:
            segments, failures = f"unreadable ({error.__class__.__name__})", "unreadable"
        print(f"idle: {len(sockets)} connected, descriptors {before} -> {held} (after 12 s: {held_later}), "
              f"answered 503: {refused}, ingest at once: {at_once}, after 12 s: {later}, "
              f"records in segments 3 s later: {segments}, maintenance failures: {failures}")
        if collector.process.poll() is not None:
            print(f"idle: the collector exited with status {collector.process.returncode}; its last words: "
                  + " | ".join(collector.stderr().strip().splitlines()[-3:]))
        if "Too many open files" in collector.stderr():
            print("idle: the collector logged 'Too many open files'")
    finally:
        for s in sockets:
            s.close()
        collector.stop()


def measure_tails(args):
    collector = Collector(args.strata, args.nofile, args.extra + ["--set", f"http.max_tails_per_caller={args.tails}",
                                                                   "--set", f"http.max_tails={args.tails}"]
                          if args.after else args.extra)
    tails = []
    try:
        rss_start = collector.rss_mib()
        for _ in range(args.tails):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(("127.0.0.1", collector.port))
            s.sendall(b"GET /api/v1/tail HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
            tails.append(s)
        time.sleep(1)
        rss_idle = collector.rss_mib()
        padding = "x" * 1000
        per_batch = 2000
        sent = 0
        while sent < args.records:
            status, answer = collector.ingest(
                [json.dumps({"body": f"tail load {sent + i} {padding}"}) + "\n" for i in range(per_batch)])
            if status != 200:
                print("tails: ingest answered", status, answer)
                break
            sent += per_batch
        peak = collector.rss_mib()
        for _ in range(10):
            time.sleep(1)
            peak = max(peak, collector.rss_mib())
        print(f"tails: {args.tails} unread tails, {sent} records of 1 KiB: RSS {rss_start:.0f} MiB at start, "
              f"{rss_idle:.0f} MiB with the tails idle, {peak:.0f} MiB peak after the records "
              f"({(peak - rss_idle) / max(1, args.tails):.1f} MiB per tail above idle)")
    finally:
        for s in tails:
            s.close()
        collector.stop()


def measure_shutdown(args):
    collector = Collector(args.strata, args.nofile, args.extra)
    upload = socket.socket()
    try:
        upload.connect(("127.0.0.1", collector.port))
        upload.sendall(b"POST /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n"
                       b"Content-Length: 100000\r\n\r\n{\"body\":")
        time.sleep(0.5)
        started = time.time()
        collector.process.send_signal(signal.SIGTERM)
        try:
            collector.process.wait(timeout=args.shutdown_wait)
            print(f"shutdown: exited {time.time() - started:.2f} s after SIGTERM (status {collector.process.returncode})")
        except subprocess.TimeoutExpired:
            print(f"shutdown: still running {args.shutdown_wait} s after SIGTERM; killed")
    finally:
        upload.close()
        collector.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strata", required=True, help="the strata executable to measure")
    parser.add_argument("--nofile", type=int, default=1024, help="the collector's descriptor limit")
    parser.add_argument("--idle-connections", type=int, default=1100)
    parser.add_argument("--tails", type=int, default=50)
    parser.add_argument("--records", type=int, default=40000)
    parser.add_argument("--shutdown-wait", type=float, default=75)
    parser.add_argument("--after", action="store_true", help="the build has http.* settings (raise the tail caps to --tails)")
    parser.add_argument("--only", choices=["idle", "tails", "shutdown"])
    args = parser.parse_args()
    args.extra = []
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, args.idle_connections + 512)), hard))
    for name, run in [("idle", measure_idle), ("tails", measure_tails), ("shutdown", measure_shutdown)]:
        if args.only in (None, name):
            run(args)


if __name__ == "__main__":
    main()
