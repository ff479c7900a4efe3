#!/usr/bin/env python3
"""Turn the bench.tsv files of tests/bench.sh (one per mode of scripts/bench.sh) into a table,
Documentation/performance.rst and a PNG bar chart of the Rust/C ratios. Runs inside the root
(matplotlib).

usage: bench-report.py [--check] DOCDIR KERNEL-RELEASE MODE=BENCH.TSV[,BENCH.TSV...]...

Several files for one mode are runs of that mode (boots of the same build). A run's figure for a
side is the median of its rounds in wall mode, and the median of its rounds after the first (a
warm-up) in icount mode.
The ratio of a mode is the median of its runs' ratios; its spread, with several runs, is their
range over that median (run to run), and with one run the larger interquartile range / median of
the two sides' rounds.

Every sample must be a time (not FAIL) taken on a map served by its side (builtin for the C
rounds, rust_arraymap for the Rust rounds), and every row must have both sides in every mode:
otherwise the problems are listed, nothing is written, and the exit status is 1. --check only
prints the table and the problems.
"""
import csv
import datetime
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

SERVER = {"c": "builtin", "rust": "rust_arraymap"}

# What the figures mean, and what was found in them, is in Documentation/performance-notes.rst,
# written by hand with the dates of its runs: the report itself carries only what this run measured.
NOTES = """
What the figures mean, what was found and changed in them, run by run:
``Documentation/performance-notes.rst``.
"""


def iqr(xs):
    """Interquartile range: robust against the odd run that TCG stalls."""
    if len(xs) < 4:
        return max(xs) - min(xs)
    q = statistics.quantiles(xs, n=4)
    return q[2] - q[0]


def load(tsv, mode, problems):
    """{op: {"c": [ns...], "rust": [ns...]}} and the ops in order; problems appended."""
    samples, order = {}, []
    with open(tsv) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            op, impl = row["op"], row["impl"]
            if op not in samples:
                samples[op] = {"c": [], "rust": []}
                order.append(op)
            if row["ns"] == "FAIL":
                problems.append(f"{mode}: {op}: an operation failed ({impl}, round {row['round']})")
                continue
            if row.get("server") != SERVER[impl]:
                problems.append(
                    f"{mode}: {op}: the {impl} round {row['round']} measured a map served by "
                    f"{row.get('server')}"
                )
                continue
            samples[op][impl].append(float(row["ns"]))
    return samples, order


def estimate(mode, xs):
    """A side's figure in one run: the median of its rounds, in icount mode of those after the
    first (a warm-up, whose one-off costs or savings, such as first faults or a cache that
    later rounds find filled, are not the steady state). Not the minimum: a round's figure is
    already the median of its chunks, and what still differs between rounds is state left by
    what ran before (the per-CPU allocator's, where a map lands), which can save as well as
    cost."""
    if mode == "icount" and len(xs) > 1:
        xs = xs[1:]
    return statistics.median(xs)


def stats(mode, runs):
    """(C, Rust, ratio, spread, rounds) of one row of one mode, from its runs' samples."""
    per_run = []
    for s in runs:
        c, r = s["c"], s["rust"]
        ce, re_ = estimate(mode, c), estimate(mode, r)
        per_run.append((ce, re_, re_ / ce if ce else float("nan")))
    cm = statistics.median(x[0] for x in per_run)
    rm = statistics.median(x[1] for x in per_run)
    ratios = [x[2] for x in per_run]
    ratio = statistics.median(ratios)
    if len(runs) > 1:
        spread = (max(ratios) - min(ratios)) / ratio if ratio else 0.0
    else:
        c, r = runs[0]["c"], runs[0]["rust"]
        cmed, rmed = statistics.median(c), statistics.median(r)
        spread = max(iqr(c) / cmed if cmed else 0.0, iqr(r) / rmed if rmed else 0.0)
    return cm, rm, ratio, spread, min(len(s["c"]) for s in runs)


def main():
    args = sys.argv[1:]
    check = args[:1] == ["--check"]
    if check:
        args = args[1:]
    docdir, release = args[:2]
    modes = [a.split("=", 1) for a in args[2:]]
    problems, order, data, nruns = [], [], {}, {}
    for mode, tsvs in modes:
        data[mode] = []
        files = tsvs.split(",")
        nruns[mode] = len(files)
        for k, tsv in enumerate(files, 1):
            label = f"{mode} run {k}" if len(files) > 1 else mode
            try:
                samples, ops = load(tsv, label, problems)
            except OSError as e:
                problems.append(f"{label}: no results ({e})")
                samples, ops = {}, []
            data[mode].append((label, samples))
            order += [op for op in ops if op not in order]
    names = [m for m, _ in modes]
    rows = []
    for op in order:
        per = {}
        for mode in names:
            runs = []
            for label, samples in data[mode]:
                s = samples.get(op)
                missing = [i for i in ("c", "rust") if not s or not s[i]]
                if missing:
                    problems.append(f"{label}: {op}: no {' and no '.join(missing)} sample")
                    continue
                runs.append(s)
            if len(runs) == len(data[mode]):
                per[mode] = stats(mode, runs)
        rows.append((op, per))

    head = f"{'operation':40}" + "".join(
        f" {'C ' + m:>12} {'Rust ' + m:>12} {'ratio':>6} {'spread':>6}" for m in names
    )
    print(head)
    print("-" * len(head))
    for op, per in rows:
        line = f"{op:40}"
        for m in names:
            if m in per:
                cm, rm, ratio, spread, _ = per[m]
                line += f" {cm:12.1f} {rm:12.1f} {ratio:6.3f} {spread * 100:5.1f}%"
            else:
                line += f" {'missing':>12} {'':12} {'':6} {'':6}"
        print(line)
    for p in problems:
        print(f"problem: {p}")
    if problems or check:
        sys.exit(1 if problems else 0)

    # Chart: one bar per mode and row.
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) * max(1, len(names)) / 1.5 + 1.5))
    height = 0.8 / len(names)
    for k, m in enumerate(names):
        ys = [i + k * height for i in range(len(rows))]
        xs = [per[m][2] for _, per in rows]
        ax.barh(ys, xs, height=height, label=m)
    ax.set_yticks([i + 0.4 - height / 2 for i in range(len(rows))])
    ax.set_yticklabels([op for op, _ in rows], fontsize=7)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.legend()
    ax.set_xlabel("Rust median / C median (lower is faster)")
    ax.set_title(f"rust_arraymap / built-in C, Linux {release}, QEMU TCG, one boot per mode",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(f"{docdir}/performance.png", dpi=100)

    today = datetime.date.today().isoformat()
    rounds = {m: min(per[m][4] for _, per in rows) if rows else 0 for m in names}
    boots = ", ".join(
        f"{m}: {nruns[m]} boot{'s' if nruns[m] > 1 else ''} of {rounds[m]} rounds" for m in names
    )
    with open(f"{docdir}/performance.rst", "w") as f:
        f.write(".. SPDX-License-Identifier: GPL-2.0\n\n")
        f.write("===========\nPerformance\n===========\n\n")
        f.write(
            f"Measured by ``make bench`` on {today}, kernel {release}, in QEMU under TCG (2 vCPUs;\n"
            "these machines have no working KVM), alternating the built-in C map and the module\n"
            f"in each boot ({boots}). ``wall``: multi-threaded TCG, guest time\n"
            "is host time. ``icount``: single-threaded TCG with ``-icount shift=0,sleep=off``,\n"
            "the guest clock advances 1 ns per executed instruction, so its ratio is an\n"
            "instruction-count ratio (caches and branches are not modelled); the guest takes every\n"
            "CPU but CPU 0 offline first, so that no other CPU's instructions advance the clock\n"
            "(both CPUs stay possible: a PERCPU_ARRAY keeps two copies). Syscall rows are per\n"
            "element, BPF rows per map operation (BPF_PROG_TEST_RUN, 64 operations a run; ``bpf\n"
            "tail call`` per run, one tail call each); the fd array syscall updates replace the\n"
            "stored object each time. Each timed loop starts after 50 ms idle (the deferred work\n"
            "of what ran before runs then) and is timed in chunks, its figure the median chunk's\n"
            "(20 chunks of a loop of single operations, one batch call each for the batch rows,\n"
            "one map each for create+close). A side's figure in a boot is the median of its\n"
            "rounds (in icount mode of those after the first, a warm-up); the ratio is\n"
            "the median of the boots' ratios. Spread: with several boots, the range of their\n"
            "ratios over the median (run to run); with one, the larger interquartile range /\n"
            "median of the two sides' rounds. Every timed operation's result is checked, and\n"
            "every sample was taken on a map that its fdinfo shows served by its side\n"
            "(``ops_owner: rust_arraymap`` in the Rust rounds, none in the C ones).\n\n"
            ".. image:: performance.png\n\n"
        )
        w = max(len(op) for op, _ in rows) if rows else 10
        cols = [(f"C {m} (ns)", 14) for m in names[:1]] + [(f"Rust {m} (ns)", 15) for m in names[:1]]
        for m in names:
            cols += [(f"Rust/C {m}", 13), (f"spread {m}", 13)]
        sep = f"{'=' * w} " + " ".join("=" * n for _, n in cols) + "\n"
        f.write(sep)
        f.write(f"{'operation':{w}} " + " ".join(f"{t:>{n}}" for t, n in cols) + "\n")
        f.write(sep)
        for op, per in rows:
            first = per[names[0]]
            cells = [f"{first[0]:14.1f}", f"{first[1]:15.1f}"]
            for m in names:
                cells += [f"{per[m][2]:13.3f}", f"{per[m][3] * 100:12.1f}%"]
            f.write(f"{op:{w}} " + " ".join(cells) + "\n")
        f.write(sep)
        f.write(NOTES)


if __name__ == "__main__":
    main()
