#!/usr/bin/env python3
"""Turn the bench.tsv of tests/bench.sh into a table, Documentation/performance.rst and a PNG
bar chart of the Rust/C ratios. Runs inside the root (matplotlib).

usage: bench-report.py BENCH.TSV DOCDIR KERNEL-RELEASE
"""
import csv
import datetime
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Rows for map types the module does not serve (none since the fd arrays).
NOT_SERVED = []


NOTES = """
Notes from profiling
====================

- ``bpf for_each 1Ki`` was at 1.09, then 1.31 with a generic element iterator: the
  ``Option<(u32, Elem)>`` of the iterator went through the stack on every element, and under
  TCG every extra instruction in a loop that runs per element shows. The loop now lives in
  ``ForEachCallback::call_each()`` and is the loop of ``bpf_for_each_array_elem()``: one key
  variable, one pointer increment, one indirect call per element.
- ``syscall lookup/update 4096B`` come out around 1.08 when each implementation creates its
  own 4 MiB map in its own turn, although the only Rust code on these paths is the few
  instructions of the lookup op (the copies are the syscall layer's, the same for both) and the
  batch variants, which call the same ops per element, are at 1.00. With a C map (created
  before ``insmod``) and a Rust map alive side by side and measured alternately, the rows
  "maps side by side", the ratio is 1.00: the difference follows where and when the map's
  vmalloc area was allocated (the softmmu TLB of TCG), not the implementation.
- ``bpf update helper`` (ARRAY and PERCPU_ARRAY) is faster in Rust: for values without special
  fields the Rust op copies the value itself (``copy_map_value()`` is a ``memcpy()`` then) and
  skips ``bpf_obj_cancel_fields()``, which has nothing to do; C makes that call. Under TCG every
  call and return (through the return thunk of the CPU mitigations) shows. Before these fast
  paths, with the copy through a one-call C wrapper, the ratios were 1.12 and 1.26.
- ``percpu bpf lookup_percpu_elem`` was at 1.92 while ``per_cpu_ptr()`` and ``nr_cpu_ids`` went
  through C wrappers; the per-CPU layer now reads ``__per_cpu_offset[]`` and ``nr_cpu_ids``
  directly (boot-time data), as the C inlines do.
- ``percpu syscall batch lookup``: the copies of all CPUs use the kernel's
  ``copy_map_value_long()`` through a one-call wrapper per CPU (a Rust word loop was slower
  under TCG); the remaining difference is that call.
- The fd array rows: the syscall updates take the object from its fd and drop the replaced one
  through the kernel's own functions (``bpf_prog_get()``/``bpf_prog_put()``,
  ``perf_event_get()`` and an RCU-freed entry, ``cgroup_get_from_fd()``, map_in_map's
  ``bpf_map_fd_get_ptr()``, which dominates ``array_of_maps syscall update``), so the ratios sit
  at 1.00 within the spread. ``bpf tail call`` runs no module code at all: the JIT reads
  ``max_entries`` and ``ptrs[]`` of the module's ``struct bpf_array`` directly; its 1.02 is
  inside the run-to-run spread of the row (3%) and of the same order as the placement effect of
  the map areas described above.
- ``create+close 1Mi ARRAY`` times the creation (allocation and zeroing of 8 MiB) and the
  close; the free itself is deferred (RCU, workqueue) and not in the figure.
"""


def iqr(xs):
    """Interquartile range: robust against the odd run that TCG stalls."""
    if len(xs) < 4:
        return max(xs) - min(xs)
    q = statistics.quantiles(xs, n=4)
    return q[2] - q[0]


def main():
    tsv, docdir, release = sys.argv[1:4]
    samples = {}
    order = []
    with open(tsv) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            key = row["op"]
            if key not in samples:
                samples[key] = {"c": [], "rust": []}
                order.append(key)
            samples[key][row["impl"]].append(float(row["ns"]))

    rows = []
    for op in order:
        c, r = samples[op]["c"], samples[op]["rust"]
        if not c or not r:
            continue
        cm, rm = statistics.median(c), statistics.median(r)
        spread = max(iqr(c) / cm if cm else 0.0, iqr(r) / rm if rm else 0.0)
        rows.append((op, cm, rm, rm / cm if cm else float("nan"), spread, len(c)))

    head = f"{'operation':34} {'C median':>12} {'Rust median':>12} {'Rust/C':>7} {'spread':>7}"
    print(head)
    print("-" * len(head))
    for op, cm, rm, ratio, spread, _ in rows:
        print(f"{op:34} {cm:12.1f} {rm:12.1f} {ratio:7.3f} {spread * 100:6.1f}%")
    for op, why in NOT_SERVED:
        print(f"{op:34} {why}")

    # Chart
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(rows) + 1.5))
    names = [r[0] for r in rows]
    ratios = [r[3] for r in rows]
    colors = ["#2a9d8f" if x <= 1.03 else "#e76f51" for x in ratios]
    ax.barh(names, ratios, color=colors)
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.axvline(1.03, color="grey", linewidth=0.8, linestyle="--")
    ax.invert_yaxis()
    ax.set_xlabel("Rust median / C median (lower is faster; dashed: 1.03)")
    ax.set_title(f"rust_arraymap / built-in C, Linux {release}, QEMU TCG, one boot", fontsize=10)
    ax.set_xlim(0, max([1.2] + [x + 0.05 for x in ratios]))
    fig.tight_layout()
    fig.savefig(f"{docdir}/performance.png", dpi=100)

    today = datetime.date.today().isoformat()
    rounds = rows[0][5] if rows else 0
    with open(f"{docdir}/performance.rst", "w") as f:
        f.write(".. SPDX-License-Identifier: GPL-2.0\n\n")
        f.write("===========\nPerformance\n===========\n\n")
        f.write(
            f"Measured by ``make bench`` on {today}, kernel {release}, in one boot of QEMU under\n"
            "TCG (2 vCPUs; these machines have no working KVM), alternating the built-in C map\n"
            f"and the module for {rounds} rounds. Absolute times under TCG mean little; the\n"
            "ratio within one boot is the figure. Syscall rows are ns per element, BPF rows ns\n"
            "per map operation (BPF_PROG_TEST_RUN, 64 operations a run; ``bpf tail call``\n"
            "is ns per run, one tail call each); the fd array syscall updates replace the\n"
            "stored object each time; spread is the larger interquartile range / median of\n"
            "the two.\n\n"
            ".. image:: performance.png\n\n"
        )
        w = max(len(r[0]) for r in rows) if rows else 10
        sep = f"{'=' * w} {'=' * 10} {'=' * 11} {'=' * 7} {'=' * 7}\n"
        f.write(sep)
        f.write(f"{'operation':{w}} {'C (ns)':>10} {'Rust (ns)':>11} {'Rust/C':>7} {'spread':>7}\n")
        f.write(sep)
        for op, cm, rm, ratio, spread, _ in rows:
            f.write(f"{op:{w}} {cm:10.1f} {rm:11.1f} {ratio:7.3f} {spread * 100:6.1f}%\n")
        f.write(sep)
        if NOT_SERVED:
            f.write("\nNot measured yet, because the module does not serve the type:\n\n")
            for op, why in NOT_SERVED:
                f.write(f"- {op}: {why}\n")
        f.write(NOTES)


if __name__ == "__main__":
    main()
