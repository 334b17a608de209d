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


def random_name(rng, used):
    """A pronounceable name nobody tuned anything to."""
    while True:
        name = "".join(rng.choice("bcdfghjklmnprstvz") + rng.choice("aeiou") for _ in range(rng.randint(2, 4)))
        if name not in used:
            used.add(name)
            return name


def renaming(faults, tree, seed):
    """Maps every namespace and workload name of the tree (from its pod directories and the
    labels) to a random name. Pod names keep their generated suffixes, so they still read as
    `<workload>-<hash>-<suffix>`."""
    import random
    rng = random.Random(seed)
    used = set()
    names = {}
    pods = os.path.join(tree, "var", "log", "pods")
    for entry in sorted(os.listdir(pods)):
        namespace, pod = entry.split("_")[:2]
        names.setdefault(namespace, random_name(rng, used))
        parts = pod.split("-")
        workload = "-".join(parts[:-2]) if len(parts) > 2 else pod
        names.setdefault(workload, random_name(rng, used) + "-" + random_name(rng, used))
    for fault in faults:
        names.setdefault(fault["workload"], random_name(rng, used))
    return names


def apply_names(text, names, pattern):
    return pattern.sub(lambda m: names[m.group(0)], text) if names else text


def shifted_copy(tree, faults, work, names=None):
    """Copies var/log of `tree` into `work` with docker/CRI times moved by whole days; returns
    the copy and the faults with their times moved the same way. With `names`, every namespace
    and workload name is replaced, in paths and in the log text."""
    names = names or {}
    pattern = re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))) if names else None
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
        os.makedirs(os.path.join(target, apply_names(relative, names, pattern)), exist_ok=True)
        for name in files:
            source = os.path.join(directory, name)
            destination = os.path.join(target, apply_names(relative, names, pattern), apply_names(name, names, pattern))
            if os.path.islink(source):
                os.symlink(apply_names(os.readlink(source), names, pattern), destination)
                continue
            with open(source, "rb") as inp, open(destination, "wb") as out:
                for line in inp:
                    text = line.decode("utf-8", errors="surrogateescape")
                    # The runtime's field is the last "time" of the line; log text may hold others.
                    matches = list(TIME_FIELD.finditer(text))
                    if matches:
                        last = matches[-1]
                        text = text[:last.start()] + move(last) + text[last.end():]
                    text = apply_names(text, names, pattern)
                    out.write(text.encode("utf-8", errors="surrogateescape"))
    moved = []
    for fault in faults:
        copy = dict(fault)
        copy["window"] = [format_time(parse_time(t) + shift) for t in fault["window"]]
        copy["baseline"] = [format_time(parse_time(t) + shift) for t in fault["baseline"]]
        copy["workload"] = names.get(fault["workload"], fault["workload"])
        copy["namespace"] = names.get(fault.get("namespace", ""), fault.get("namespace", ""))
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
               "--data-dir", data_dir, "-o", "json", "--output", out, "--log-level", "error", "--max-suspects", "1000"]
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


# Weights re-chosen by leave-one-workload-out. Every suspect's score is a sum of weighted
# components (docs/DIAGNOSIS.md, "Score"), so a report written at the default weights can be
# re-scored at others without diagnosing again (the onset component, which depends on which
# workloads pass the anomaly threshold, stays as computed at the defaults).
DEFAULT_WEIGHTS = {"flow": 2.0, "latency": 16.0, "errors": 1.0}
GRID = {
    "flow": [0.25, 0.5, 1.0, 2.0, 4.0],
    "latency": [2.0, 4.0, 8.0, 16.0, 32.0, 64.0],
    "errors": [0.25, 0.5, 1.0, 2.0],
}


def rescored_rank(report, fault, weights):
    best = []
    for suspect in report["suspects"]:
        c = suspect["score_components"]
        score = suspect["score"]
        for key, default in DEFAULT_WEIGHTS.items():
            value = c.get(key) or 0.0
            score += value * (weights[key] / default - 1)
        best.append((score, suspect["workload"]))
    best.sort(key=lambda x: (-x[0], x[1]))
    for index, (_, workload) in enumerate(best):
        if workload == fault["workload"]:
            return index + 1
    return None


def objective(pairs, weights):
    """Mean AC@1, then mean AC@3 to break ties, over (report, fault) pairs."""
    ranks = [rescored_rank(r, f, weights) for r, f in pairs]
    n = max(1, len(ranks))
    return (sum(1 for r in ranks if r == 1) / n, sum(1 for r in ranks if r is not None and r <= 3) / n)


def all_weights():
    import itertools
    keys = list(GRID)
    for values in itertools.product(*(GRID[k] for k in keys)):
        yield dict(zip(keys, values))


def choose(pairs):
    # Ties go to the weights nearest the defaults (in log scale), so a flat objective does not
    # wander to the edge of the grid.
    import math
    return max(all_weights(), key=lambda w: (objective(pairs, w),
                                             -sum(abs(math.log2(w[k] / DEFAULT_WEIGHTS[k])) for k in w)))


def leave_one_workload_out(reports, faults):
    """For each workload: weights chosen on the faults of every other workload, ranks of its own
    faults at those weights. Returns ranks in fault order and the weights chosen per workload."""
    ranks = [None] * len(faults)
    chosen = {}
    for workload in sorted({f["workload"] for f in faults}):
        train = [(r, f) for r, f in zip(reports, faults) if f["workload"] != workload]
        weights = choose(train)
        chosen[workload] = weights
        for index, (r, f) in enumerate(zip(reports, faults)):
            if f["workload"] == workload:
                ranks[index] = rescored_rank(r, f, weights)
    return ranks, chosen


def print_table(title, rows):
    types = sorted({r["type"] for r in rows})
    summary = {}
    for fault_type in types:
        summary[fault_type] = scores([r["rank"] for r in rows if r["type"] == fault_type])
    summary["code-level"] = scores([r["rank"] for r in rows if r["type"] in CODE_LEVEL])
    summary["all"] = scores([r["rank"] for r in rows])
    print(f"\n{title}")
    print(f"{'faults':16s} {'n':>3s} {'AC@1':>6s} {'AC@3':>6s} {'Avg@5':>6s}")
    for name, s in summary.items():
        if s:
            print(f"{name:16s} {s['n']:3d} {s['AC@1']:6.2f} {s['AC@3']:6.2f} {s['Avg@5']:6.2f}")
    return summary


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", ".."))
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", default=os.path.join(root, "..", "shared", "datasets", "trainticket"))
    parser.add_argument("--strata", default=os.path.join(root, ".build", "release", "strata"))
    parser.add_argument("--keep", help="work directory to keep (data dir, checkpoints, reports)")
    parser.add_argument("--reuse", action="store_true",
                        help="with --keep: diagnose the data directory already there instead of ingesting again")
    parser.add_argument("--rename", type=int, metavar="SEED",
                        help="renaming test: replace every namespace and workload name by a random one (seeded)")
    parser.add_argument("--reports", help="directory for the per-fault JSON reports")
    parser.add_argument("--json", help="write the summary as JSON here")
    args = parser.parse_args()

    labels_path = os.path.join(args.tree, "labels.json")
    if not os.path.exists(labels_path):
        raise SystemExit(f"no labels.json in {args.tree}: this evaluation needs the labelled tree")
    if not os.access(args.strata, os.X_OK):
        raise SystemExit(f"{args.strata} is not executable: run `swift build -c release --product strata`")
    faults = json.load(open(labels_path))["faults"]
    names = renaming(faults, args.tree, args.rename) if args.rename is not None else {}

    work = args.keep or tempfile.mkdtemp(prefix="strata-diagnosis-eval-")
    reuse = args.reuse and args.keep and os.path.exists(os.path.join(work, "data"))
    if args.keep and not reuse and os.path.exists(os.path.join(work, "data")):
        shutil.rmtree(os.path.join(work, "data"))
        shutil.rmtree(os.path.join(work, "checkpoints"), ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    report_dir = args.reports or os.path.join(work, "reports")
    os.makedirs(report_dir, exist_ok=True)
    ingest_seconds = None
    try:
        if reuse:
            faults = json.load(open(os.path.join(work, "faults.json")))
            data_dir = os.path.join(work, "data")
            print(f"reusing {data_dir}", file=sys.stderr)
        else:
            tree, faults, days = shifted_copy(args.tree, faults, work, names)
            json.dump(faults, open(os.path.join(work, "faults.json"), "w"))
            print(f"replaying {args.tree} shifted by {days} days" + (" with every name replaced" if names else ""),
                  file=sys.stderr)
            data_dir, ingest_seconds = ingest(args.strata, tree, work)
            print(f"ingested in {ingest_seconds:.1f} s", file=sys.stderr)
        rows = []
        reports = []
        for index, fault in enumerate(faults):
            report, seconds = diagnose(args.strata, data_dir, fault, report_dir, index)
            reports.append(report)
            rank = rank_of(report, fault)
            top = [s["workload"] for s in report["suspects"][:3]]
            rows.append({"index": index, "type": fault["fault_type"], "workload": fault["workload"],
                         "rank": rank, "seconds": seconds, "top3": top})
            print(f"{index:2d} {fault['fault_type']:15s} {fault['workload']:32s} rank {rank if rank else '-':>2}"
                  f"  {seconds:5.2f} s  top: {', '.join(top)}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    summary = print_table("plain (default weights)", rows)
    lowo_ranks, chosen = leave_one_workload_out(reports, faults)
    cross = print_table("leave-one-workload-out (weights chosen without the scored workload's faults)",
                        [dict(r, rank=k) for r, k in zip(rows, lowo_ranks)])
    print("\nweights chosen per held-out workload:")
    for workload, weights in chosen.items():
        print(f"  {workload:32s} " + ", ".join(f"{k} {v:g}" for k, v in weights.items()))
    everything = choose(list(zip(reports, faults)))
    print("weights chosen on all faults: " + ", ".join(f"{k} {v:g}" for k, v in everything.items())
          + f" (defaults: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_WEIGHTS.items()) + ")")
    times = [r["seconds"] for r in rows]
    print(f"\ntime per diagnosis: mean {statistics.mean(times):.2f} s, median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s (wall clock of `strata diagnose`, store opening included)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "leave_one_workload_out": cross, "chosen_weights": chosen,
                       "weights_on_all": everything, "faults": rows, "ingest_seconds": ingest_seconds,
                       "renamed": bool(names)}, f, indent=1)


if __name__ == "__main__":
    main()
