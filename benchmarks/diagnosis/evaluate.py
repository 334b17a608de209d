#!/usr/bin/env python3
"""Diagnosis accuracy on a labelled node log tree: agent -> collector -> strata diagnose.

The tree has the layout of ../shared/datasets/trainticket/ (var/log/containers/*.log and
var/log/pods/...) and a labels.json listing faults: {inject_time, workload, namespace,
fault_type, window: [T0, T1], baseline: [B0, B1]}.

Steps: copy the tree shifted by whole days so that it ends a day before now (the collector
refuses records older than its retention, 7 days, which `strata collector` cannot change
yet; whole days keep every time of day, so application stamps still agree with the
runtime's), start a collector on a fresh data directory, ship the whole tree once with
`strata agent --once`, stop the collector (it flushes), then run `strata diagnose
--data-dir` for every labelled window and score the ranked suspects at workload level:

  AC@k  = share of faults whose workload is among the first k suspects
  Avg@5 = mean of AC@1..AC@5

per fault type, on the code-level faults (exception, return), and over all faults, plus
the time per diagnosis (wall clock of the whole command, store opening included).

Usage:
  swift build -c release --product strata
  python3 benchmarks/diagnosis/evaluate.py [--tree ../shared/datasets/trainticket]
      [--strata .build/release/strata] [--keep DIR] [--reports DIR] [--json OUT]
"""

import argparse
import datetime
import json
import re
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

CODE_LEVEL = {"exception", "return"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, process, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"collector exited early with status {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"collector did not answer {url}/healthz within {timeout} s")


TIME_FIELD = re.compile(r'"time":"(\d{4}-\d\d-\d\dT[^"]+)"')


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def format_time(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def shifted_copy(tree, faults, work):
    """Copies var/log of `tree` into `work` with docker/CRI times moved by whole days; returns
    the copy and the faults with their times moved the same way."""
    latest = max(parse_time(t) for f in faults for t in f["window"] + f["baseline"])
    now = datetime.datetime.now(datetime.timezone.utc)
    days = (now - latest).days - 1
    shift = datetime.timedelta(days=max(0, days))
    target = os.path.join(work, "tree")
    if os.path.exists(target):
        shutil.rmtree(target)

    def move(match):
        original = match.group(1)
        try:
            moment = datetime.datetime.strptime(original[:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return match.group(0)
        return '"time":"' + (moment + shift).strftime("%Y-%m-%dT%H:%M:%S") + original[19:] + '"'

    for directory, _, files in os.walk(os.path.join(tree, "var", "log")):
        relative = os.path.relpath(directory, tree)
        os.makedirs(os.path.join(target, relative), exist_ok=True)
        for name in files:
            source = os.path.join(directory, name)
            destination = os.path.join(target, relative, name)
            if os.path.islink(source):
                os.symlink(os.readlink(source), destination)
                continue
            with open(source, "rb") as inp, open(destination, "wb") as out:
                for line in inp:
                    text = line.decode("utf-8", errors="surrogateescape")
                    # The runtime's field is the last "time" of the line; log text may hold others.
                    matches = list(TIME_FIELD.finditer(text))
                    if matches:
                        last = matches[-1]
                        text = text[:last.start()] + move(last) + text[last.end():]
                    out.write(text.encode("utf-8", errors="surrogateescape"))
    moved = []
    for fault in faults:
        copy = dict(fault)
        copy["window"] = [format_time(parse_time(t) + shift) for t in fault["window"]]
        copy["baseline"] = [format_time(parse_time(t) + shift) for t in fault["baseline"]]
        moved.append(copy)
    return target, moved, shift.days


def ingest(strata, tree, work):
    data_dir = os.path.join(work, "data")
    checkpoints = os.path.join(work, "checkpoints")
    os.makedirs(checkpoints, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(os.path.join(work, "collector.log"), "w")
    collector = subprocess.Popen(
        [strata, "collector", "--data-dir", data_dir, "--listen", f"127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, collector)
        started = time.time()
        agent = subprocess.run(
            [strata, "agent", "--once", "--path", os.path.join(tree, "var/log/containers/*.log"),
             "--sink", "http", "--collector", url, "--checkpoint-dir", checkpoints, "--log-level", "warning"],
            capture_output=True, text=True)
        if agent.returncode != 0:
            raise SystemExit(f"agent failed ({agent.returncode}): {agent.stderr[-2000:]}")
        ingest_seconds = time.time() - started
    finally:
        collector.send_signal(signal.SIGTERM)
        try:
            collector.wait(timeout=60)
        except subprocess.TimeoutExpired:
            collector.kill()
            collector.wait()
        log.close()
    return data_dir, ingest_seconds


def diagnose(strata, data_dir, fault, report_dir, index):
    out = os.path.join(report_dir, f"fault-{index:02d}.json")
    command = [strata, "diagnose", "--from", fault["window"][0], "--to", fault["window"][1],
               "--baseline-from", fault["baseline"][0], "--baseline-to", fault["baseline"][1],
               "--data-dir", data_dir, "-o", "json", "--output", out, "--log-level", "error"]
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True)
    seconds = time.time() - started
    if result.returncode != 0:
        raise SystemExit(f"diagnose failed for fault {index}: {result.stderr[-2000:]}")
    with open(out) as f:
        report = json.load(f)
    return report, seconds


def rank_of(report, fault):
    for suspect in report["suspects"]:
        if suspect["workload"] == fault["workload"] and suspect["namespace"] == fault.get("namespace", suspect["namespace"]):
            return suspect["rank"]
    return None


def scores(ranks):
    n = len(ranks)
    if n == 0:
        return {}
    ac = {k: sum(1 for r in ranks if r is not None and r <= k) / n for k in range(1, 6)}
    return {"n": n, "AC@1": ac[1], "AC@3": ac[3], "Avg@5": sum(ac.values()) / 5}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default=os.path.join(root, "..", "shared", "datasets", "trainticket"))
    parser.add_argument("--strata", default=os.path.join(root, ".build", "release", "strata"))
    parser.add_argument("--keep", help="work directory to keep (data dir, checkpoints, reports)")
    parser.add_argument("--reports", help="directory for the per-fault JSON reports")
    parser.add_argument("--json", help="write the summary as JSON here")
    args = parser.parse_args()

    labels_path = os.path.join(args.tree, "labels.json")
    if not os.path.exists(labels_path):
        raise SystemExit(f"no labels.json in {args.tree}: this evaluation needs the labelled tree")
    if not os.access(args.strata, os.X_OK):
        raise SystemExit(f"{args.strata} is not executable: run `swift build -c release --product strata`")
    faults = json.load(open(labels_path))["faults"]

    work = args.keep or tempfile.mkdtemp(prefix="strata-diagnosis-eval-")
    if args.keep and os.path.exists(os.path.join(work, "data")):
        shutil.rmtree(os.path.join(work, "data"))
        shutil.rmtree(os.path.join(work, "checkpoints"), ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    report_dir = args.reports or os.path.join(work, "reports")
    os.makedirs(report_dir, exist_ok=True)
    try:
        tree, faults, days = shifted_copy(args.tree, faults, work)
        print(f"replaying {args.tree} shifted by {days} days", file=sys.stderr)
        data_dir, ingest_seconds = ingest(args.strata, tree, work)
        print(f"ingested in {ingest_seconds:.1f} s", file=sys.stderr)
        rows = []
        for index, fault in enumerate(faults):
            report, seconds = diagnose(args.strata, data_dir, fault, report_dir, index)
            rank = rank_of(report, fault)
            top = [s["workload"] for s in report["suspects"][:3]]
            rows.append({"index": index, "type": fault["fault_type"], "workload": fault["workload"],
                         "rank": rank, "seconds": seconds, "top3": top})
            print(f"{index:2d} {fault['fault_type']:15s} {fault['workload']:32s} rank {rank if rank else '-':>2}"
                  f"  {seconds:5.2f} s  top: {', '.join(top)}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    types = sorted({r["type"] for r in rows})
    summary = {}
    for fault_type in types:
        summary[fault_type] = scores([r["rank"] for r in rows if r["type"] == fault_type])
    summary["code-level"] = scores([r["rank"] for r in rows if r["type"] in CODE_LEVEL])
    summary["all"] = scores([r["rank"] for r in rows])
    times = [r["seconds"] for r in rows]
    print()
    print(f"{'faults':16s} {'n':>3s} {'AC@1':>6s} {'AC@3':>6s} {'Avg@5':>6s}")
    for name, s in summary.items():
        print(f"{name:16s} {s['n']:3d} {s['AC@1']:6.2f} {s['AC@3']:6.2f} {s['Avg@5']:6.2f}")
    print(f"\ntime per diagnosis: mean {statistics.mean(times):.2f} s, median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s (wall clock of `strata diagnose`, store opening included)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "faults": rows, "ingest_seconds": ingest_seconds}, f, indent=1)


if __name__ == "__main__":
    main()
