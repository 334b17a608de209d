#!/usr/bin/env python3
"""Template mining: accuracy on Loghub-2k and throughput on Train-Ticket, Strata against Drain3.

Usage (from the repository root, after `swift build -c release --product strata`):

    python3 benchmarks/templates/eval.py                  # accuracy + throughput, both miners
    python3 benchmarks/templates/eval.py --skip-throughput
    python3 benchmarks/templates/eval.py --skip-drain3 --show-errors 5

See benchmarks/templates/README.md for what is compared and how.
"""
import argparse
import collections
import csv
import glob
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared", "datasets"))


# ---------------------------------------------------------------- data

def load_loghub(directory):
    """{name: [(content, true_template)]} from every <set>/*_structured_corrected.csv."""
    sets = {}
    for path in sorted(glob.glob(os.path.join(directory, "*", "*_structured_corrected.csv"))):
        name = os.path.basename(os.path.dirname(path))
        with open(path, newline="", encoding="utf-8", errors="replace") as handle:
            rows = [(row["Content"], row["EventTemplate"]) for row in csv.DictReader(handle)]
        sets[name] = rows
    return sets


def one_line(message):
    # A message is one input line for the miners; embedded line breaks become spaces.
    return message.replace("\r", " ").replace("\n", " ")


def trainticket_messages(directory):
    """The `log` field of every docker json-file line under var/log/pods (corrupt lines skipped)."""
    messages, corrupt = [], 0
    for path in sorted(glob.glob(os.path.join(directory, "var", "log", "pods", "*", "*", "*.log"))):
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                try:
                    log = json.loads(line)["log"]
                except (ValueError, KeyError, TypeError):
                    corrupt += 1
                    continue
                if log.endswith("\n"):
                    log = log[:-1]
                messages.append(one_line(log))
    return messages, corrupt


# ---------------------------------------------------------------- miners

def run_strata(binary, messages, configuration=None):
    """(per-message final template ids, id -> final template text) from `strata templates mine`.

    The miner merges templates as evidence accumulates and gives a template a new id (a hash
    of its text) when its text changes; the old id stays an alias. The printed id of a message
    is the one current when it was mined, so every printed id is resolved through the alias
    table of the state file written at the end (`--state`), and the text is the final text of
    the surviving template. `configuration` (a dict of TemplateMiner.Configuration keys) is
    passed in through the same state file, which the miner loads before mining.
    """
    data = ("\n".join(one_line(m) for m in messages) + "\n").encode("utf-8")
    with tempfile.TemporaryDirectory() as directory:
        state_path = os.path.join(directory, "state.json")
        if configuration:
            with open(state_path, "w") as handle:
                json.dump({"format": "strata-templates", "version": 2, "configuration": configuration,
                           "templates": [], "aliases": {}}, handle)
        result = subprocess.run([binary, "templates", "mine", "--state", state_path], input=data,
                                stdout=subprocess.PIPE, check=True)
        with open(state_path) as handle:
            state = json.load(handle)
    texts = {t["id"]: " ".join(t["tokens"]) for t in state["templates"]}
    aliases = state.get("aliases", {})
    lines = result.stdout.decode("utf-8", errors="replace").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(messages):
        raise SystemExit(f"strata printed {len(lines)} lines for {len(messages)} messages")
    ids = []
    for line in lines:
        template_id = line.partition("\t")[0]
        for _ in range(1000):
            if template_id in texts or template_id not in aliases:
                break
            template_id = aliases[template_id]
        if template_id not in texts:
            raise SystemExit(f"printed id {line.partition(chr(9))[0]} resolves to no template in the state file")
        ids.append(template_id)
    final = {i: texts[i] for i in set(ids)}
    return ids, final


DRAIN3_MASKS = [
    # The masking instructions shipped in Drain3's example drain3.ini, written as `<*>`.
    r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)",
    r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)",
]


def drain3_miner():
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.masking_instructions = [MaskingInstruction(pattern, "*") for pattern in DRAIN3_MASKS]
    config.mask_prefix = "<"
    config.mask_suffix = ">"
    # Drain3's defaults otherwise: depth 4, similarity threshold 0.4, max children 100.
    return TemplateMiner(config=config)


def run_drain3(messages):
    miner = drain3_miner()
    cluster_ids = [miner.add_log_message(one_line(m))["cluster_id"] for m in messages]
    final = {cluster.cluster_id: cluster.get_template() for cluster in miner.drain.clusters}
    return cluster_ids, final


# ---------------------------------------------------------------- metrics

def normalize(template):
    # Both sides: runs of whitespace become one space, ends trimmed. Nothing else.
    return re.sub(r"\s+", " ", template).strip()


def grouping_accuracy(predicted, truth):
    """Zhu et al. 2019: a message counts when its predicted group is exactly its true group."""
    true_sizes = collections.Counter(truth)
    groups = collections.defaultdict(list)
    for index, key in enumerate(predicted):
        groups[key].append(index)
    correct = 0
    for members in groups.values():
        templates = {truth[i] for i in members}
        if len(templates) == 1 and true_sizes[truth[members[0]]] == len(members):
            correct += len(members)
    return correct / len(truth)


def parsing_accuracy(predicted_text, truth):
    """Khan et al. 2022: a message counts when its template text equals the true template."""
    return sum(normalize(p) == normalize(t) for p, t in zip(predicted_text, truth)) / len(truth)


def evaluate(ids, final, truth):
    texts = [final[i] for i in ids]
    return grouping_accuracy(ids, truth), parsing_accuracy(texts, truth), len(final)


# ---------------------------------------------------------------- throughput

def timed(command, stdin_path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with open(stdin_path, "rb") as source, open(os.devnull, "wb") as sink:
        subprocess.run(command, stdin=source, stdout=sink, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def throughput(args, binary):
    messages, corrupt = trainticket_messages(args.trainticket)
    if not messages:
        print(f"no Train-Ticket messages under {args.trainticket}; throughput skipped")
        return
    total_bytes = sum(len(m.encode("utf-8")) + 1 for m in messages)
    print(f"\nThroughput on Train-Ticket message bodies: {len(messages)} messages, "
          f"{total_bytes / 1e6:.1f} MB ({corrupt} corrupt JSON lines skipped)")
    with tempfile.TemporaryDirectory() as directory:
        once = os.path.join(directory, "messages.txt")
        with open(once, "w", encoding="utf-8") as handle:
            handle.write("\n".join(messages) + "\n")
        repeated = os.path.join(directory, "messages-x%d.txt" % args.repeat)
        with open(repeated, "wb") as handle:
            block = open(once, "rb").read()
            for _ in range(args.repeat):
                handle.write(block)
        print(f"{'miner':<34}{'messages':>10}{'wall s':>9}{'cpu s':>8}{'msg/s wall':>13}{'msg/s per core':>16}")
        for label, path, count in [("strata templates mine (1 pass)", once, len(messages)),
                                   (f"strata templates mine (x{args.repeat})", repeated, len(messages) * args.repeat)]:
            best = None
            for _ in range(args.runs):
                wall, cpu = timed([binary, "templates", "mine"], path)
                if best is None or wall < best[0]:
                    best = (wall, cpu)
            wall, cpu = best
            print(f"{label:<34}{count:>10}{wall:>9.2f}{cpu:>8.2f}{count / wall:>13,.0f}{count / cpu:>16,.0f}")
        if not args.skip_drain3:
            sample = messages[: args.drain3_messages] if args.drain3_messages else messages
            miner = drain3_miner()
            cpu_start, start = time.process_time(), time.perf_counter()
            for message in sample:
                miner.add_log_message(message)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
            label = "drain3 %s (1 pass%s)" % (
                __import__("drain3").__version__ if hasattr(__import__("drain3"), "__version__") else "",
                "" if len(sample) == len(messages) else f", first {len(sample)}")
            print(f"{label:<34}{len(sample):>10}{wall:>9.2f}{cpu:>8.2f}{len(sample) / wall:>13,.0f}"
                  f"{len(sample) / cpu:>16,.0f}")


# ---------------------------------------------------------------- accuracy

def mean(values):
    return sum(values) / len(values)


def accuracy(args, binary, sets):
    """Per-set GA/PA of the build's default configuration (and Drain3), mean and worst set."""
    header = f"{'set':<12}{'truth':>6} | {'Strata GA':>9}{'PA':>7}{'tmpl':>6} |"
    if not args.skip_drain3:
        header += f" {'Drain3 GA':>9}{'PA':>7}{'tmpl':>6}"
    print(header)
    totals = collections.defaultdict(list)
    for name, rows in sets.items():
        contents = [content for content, _ in rows]
        truth = [template for _, template in rows]
        ids, final = run_strata(binary, contents)
        ga, pa, count = evaluate(ids, final, truth)
        totals["sga"].append((ga, name))
        totals["spa"].append((pa, name))
        line = f"{name:<12}{len(set(truth)):>6} | {ga:>9.3f}{pa:>7.3f}{count:>6} |"
        if not args.skip_drain3:
            dids, dfinal = run_drain3(contents)
            dga, dpa, dcount = evaluate(dids, dfinal, truth)
            totals["dga"].append((dga, name))
            totals["dpa"].append((dpa, name))
            line += f" {dga:>9.3f}{dpa:>7.3f}{dcount:>6}"
        print(line)
        if args.show_errors:
            wrong = collections.Counter(
                (normalize(final[i]), normalize(t)) for i, t in zip(ids, truth) if normalize(final[i]) != normalize(t))
            for (got, want), n in wrong.most_common(args.show_errors):
                print(f"    {n:>4}x got  {got[:150]}\n          want {want[:150]}")
    values = lambda key: [v for v, _ in totals[key]]
    line = f"{'mean':<12}{'':>6} | {mean(values('sga')):>9.3f}{mean(values('spa')):>7.3f}{'':>6} |"
    if not args.skip_drain3:
        line += f" {mean(values('dga')):>9.3f}{mean(values('dpa')):>7.3f}"
    print(line)
    worst = lambda key: min(totals[key])
    line = f"{'worst':<12}{'':>6} | {worst('sga')[0]:>9.3f}{worst('spa')[0]:>7.3f}{'':>6} |"
    if not args.skip_drain3:
        line += f" {worst('dga')[0]:>9.3f}{worst('dpa')[0]:>7.3f}"
    print(line + f"   (GA worst: Strata {worst('sga')[1]}" +
          ("" if args.skip_drain3 else f", Drain3 {worst('dga')[1]}") + ")")


# The thresholds of TemplateMiner.Configuration (and one on/off choice), and the values the leave-one-set-out check
# chooses among. The first entry of each list is the build's default (docs/TEMPLATES.md says
# where each comes from); ties in the choice go to the earlier entry.
THRESHOLD_GRID = {
    "newValueThreshold": [0.5, 0.3, 0.4, 0.6, 0.7],
    "variableConfidence": [1.96, 1.0, 1.282, 1.645, 2.576, 3.29],
    "similarityThreshold": [0.5, 0.4, 0.6, 0.7],
    # A method choice rather than a threshold, checked the same way.
    "alignAcrossTokenCounts": [True, False],
}


def grid_settings():
    keys = list(THRESHOLD_GRID)
    settings = [{}]
    for key in keys:
        settings = [dict(s, **{key: v}) for s in settings for v in THRESHOLD_GRID[key]]
    return settings


def leave_one_set_out(args, binary, sets):
    """For each set: the setting with the best mean GA on the other sets, scored on that set."""
    settings = grid_settings()
    print(f"\nLeave-one-set-out over {len(settings)} settings of {', '.join(THRESHOLD_GRID)} "
          f"(each set scored with the setting that maximizes mean GA on the other {len(sets) - 1}):")
    scores = {}
    for index, setting in enumerate(settings):
        for name, rows in sets.items():
            ids, final = run_strata(binary, [c for c, _ in rows], setting)
            scores[index, name] = evaluate(ids, final, [t for _, t in rows])[:2]
    names = list(sets)
    print(f"{'held out':<12}| {'GA':>6}{'PA':>7} | setting chosen on the others")
    held = []
    for name in names:
        others = [n for n in names if n != name]
        best = max(range(len(settings)), key=lambda i: (mean([scores[i, n][0] for n in others]), -i))
        ga, pa = scores[best, name]
        held.append((ga, pa, name))
        print(f"{name:<12}| {ga:>6.3f}{pa:>7.3f} | " + ", ".join(f"{k}={v}" for k, v in settings[best].items()))
    print(f"{'mean':<12}| {mean([h[0] for h in held]):>6.3f}{mean([h[1] for h in held]):>7.3f} |")
    worst = min(held)
    print(f"{'worst':<12}| {worst[0]:>6.3f}{min(h[1] for h in held):>7.3f} | (GA worst: {worst[2]})")
    overall = max(range(len(settings)), key=lambda i: (mean([scores[i, n][0] for n in names]), -i))
    print("setting with the best mean GA on all sets: " +
          ", ".join(f"{k}={v}" for k, v in settings[overall].items()) +
          f" (mean GA {mean([scores[overall, n][0] for n in names]):.3f}, "
          f"PA {mean([scores[overall, n][1] for n in names]):.3f}; defaults are index 0)")


# ---------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strata", default=os.path.join(ROOT, ".build", "release", "strata"),
                        help="strata binary (default: the release build)")
    parser.add_argument("--loghub", default=os.path.join(SHARED, "loghub-2k"))
    parser.add_argument("--trainticket", default=os.path.join(SHARED, "trainticket"))
    parser.add_argument("--skip-drain3", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--repeat", type=int, default=10, help="copies of the Train-Ticket input in the long run")
    parser.add_argument("--runs", type=int, default=3, help="runs per throughput measurement (best kept)")
    parser.add_argument("--drain3-messages", type=int, default=0, help="limit Drain3's throughput run (0: all)")
    parser.add_argument("--show-errors", type=int, default=0, help="print up to N wrong templates per set")
    parser.add_argument("--sets", default="", help="comma-separated subset of Loghub sets")
    parser.add_argument("--skip-loso", action="store_true", help="skip the leave-one-set-out threshold check")
    args = parser.parse_args()

    binary = args.strata
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary} not found: run `swift build -c release --product strata` first, or pass --strata")

    if not args.skip_accuracy:
        sets = load_loghub(args.loghub)
        if args.sets:
            wanted = set(args.sets.split(","))
            sets = {k: v for k, v in sets.items() if k in wanted}
        if not sets:
            raise SystemExit(f"no *_structured_corrected.csv under {args.loghub}")
        accuracy(args, binary, sets)
        if not args.skip_loso and len(sets) > 1:
            leave_one_set_out(args, binary, sets)

    if not args.skip_throughput:
        throughput(args, binary)


if __name__ == "__main__":
    main()
