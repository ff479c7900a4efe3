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

NOTES = """
Notes from profiling
====================

- The two modes: under multi-threaded TCG on a shared 2-core host, wall-clock spreads are 2 to
  100 % (3-59 % in this run; the host's other work lands in the samples), so a wall ratio proves
  only differences of that order. The ``icount`` ratios are instruction-count ratios: the same
  build gives the same figure to 0.4 % or better on every row (0.0 % on 38 of 48). Three kinds of
  other work landed in timed loops, each found in the per-round data and removed:

  - the other CPU's: under ``-icount`` the guest clock counts the instructions of every vCPU,
    so the deferred frees, RCU and kworkers running on CPU 1 advanced it (spreads of 0.5-4.5 %
    on the update helper, the 8-byte batch update, the fd array updates, create+close). The
    guest now takes every CPU but CPU 0 offline.
  - what ran before: timed in chunks of 100 operations, a ``cgroup_array`` update loop showed
    one burst of some 2.4 million instructions a few milliseconds into each process (the work
    deferred by the previous process's exit and frees), inside the loop or before it depending
    on timing: rounds in two levels 1 % apart (``cgroup_array syscall update`` 2.3 %). Each
    timed loop now starts after 50 ms idle (free under icount: ``sleep=off`` skips idle time);
    the burst no longer shows, and the row is at 0.0 %.
  - background work that runs once in a while: the side-by-side 4 KiB update still had rounds
    0.4-7 % off its level (0.8 %). Each loop is now timed in chunks (20 for a loop of single
    operations, one batch call each for the batch rows) and its figure is the median chunk's;
    work that the operation itself defers (RCU callbacks, the frees of what an update
    replaced) runs every few milliseconds and falls in every chunk alike. 0.0 %.

  ``create+close 64Ki PERCPU_ARRAY`` rounds also fell in two levels 2 % apart once the idle
  was in (the per-CPU allocator's state, which the previous map's deferred free changes, sets
  the cost of a creation); each map is now created after the idle, one at a time, and its
  rounds agreed to 0.003 % (2026-12-04).

  What is left between rounds is state, which can save as well as cost: a side's figure in a
  boot was the minimum of its rounds after the warm-up (on the view that noise only adds) and
  is now their median. In the run of 2026-12-05 the C side's second round of ``create+close
  64Ki PERCPU_ARRAY`` came out at 380 million instructions in two boots of three (388 million
  in every other round of either side), which the minimum took (1.021, spread 2.1 %; with the
  median 1.000, 0.0 %), and ``perf_event_array syscall update`` rounds differ by up to 0.6 %
  from boot to boot (spread 0.6 %, with the median 0.2 %). ``bpf update helper`` (Rust)
  alternates between 86.45 and 90.45 instructions an operation with the side that goes first
  in a round: exactly the four instructions with which ``memmove()`` checks for an overlap
  when the source lies below the destination, which follows where the round's map was
  allocated. The median reports 90.45 (0.76), the minimum reported 86.45 (0.73).
  Instruction counts do not weigh instructions: a ``rep movsb`` counts one per byte moved.
- The batch rows (``syscall batch lookup/update``, 1024 elements a call): the module has its own
  ``map_lookup_batch``/``map_update_batch`` for ARRAY and PERCPU_ARRAY (``rust/bpf/batch.rs``),
  which move up to 64 elements per user copy through stack buffers where the generic functions
  make an indirect call or two and two user copies per element. 8-byte values: 0.036 and 0.041
  (ARRAY, 28 and 24 times faster; wall clock 0.033 and 0.037), 0.092 and 0.105 (PERCPU_ARRAY,
  with two CPUs; wall 0.065 and 0.082); 64-byte values 0.15 and 0.17. Values larger than the
  512-byte stack buffer go one at a time (4096 B: 0.94 and 0.99). The chunk loops computed
  each element's range (two multiplications with overflow checks and a bounds check); walked
  with ``chunks_exact_mut()`` they took some 8 instructions an element fewer, but its division
  by the value size leaves a call to ``panic_const_div_by_zero()``, which 7.3's objtool does
  not know as noreturn (it warns: "falls through to next function"). They now split the chunk
  with ``split_at_mut()``: 34 instructions an element in the update loop's disassembly
  against 31 for that build and 38 before; measured with the minimum of the rounds, as that
  build was, 0.036 and 0.039 (that build: 0.036 and 0.040).
- ``syscall batch lookup/update 1 x 8B``, the fixed cost of a batch call: 0.967 and 0.995. The
  first version zeroed the whole 768 bytes of the chunk buffers on every call and was at 1.02
  and 1.05; they were then initialised as far as the batch needs them. Traced in the
  disassembly (2026-12-03), the update was then at 1.010, 171 instructions more: the map work
  itself is shorter in Rust (C adds migrate_disable, the uptr pin and
  ``bpf_obj_cancel_fields()``), but each of the four user copies went through the
  kernel crate's out-of-line ``UserSliceReader::read_slice``/``UserSliceWriter::write_slice``
  and a ``copy_*_user`` helper (+31 each), the first count was written with ``copy_to_user()``
  where C uses ``put_user()`` (+22), and the two syscall buffers, which only match C's
  allocation failures, were zeroed (+34). Since 2026-12-04 the buffers are allocated
  uninitialised and zeroed only where used (values above the stack buffer, a cursor, the
  element-wise path after a fault), and the counts are written as values
  (``UserSliceWriter::write()``: one ``_copy_to_user()``): 1.0105 to 1.004 for the update, 0.981
  to 0.973 for the lookup (same kernel, the old module against the new). Since 2026-12-05 the
  copies call ``_copy_from_user()`` and ``_copy_to_user()`` directly, as C and the kernel
  crate's ``UserSliceReader::read()`` do (``rust/bpf/batch.rs`` says why the
  ``check_object_size()`` of the helpers has nothing to find there), into stack buffers left
  uninitialised (no ``memset()``), and the first count goes out with ``put_user()`` through a
  one-line C wrapper, as in C: 0.967 and 0.995 (16,110 instructions against C's 16,184 for the
  update; old module against new, same kernel: 16,230 to 16,075).
- ``percpu syscall batch lookup/update`` were at 0.29 and 0.33 (8 B) and 1.03 and 1.17 (256 B,
  one element per chunk with two CPUs) in the run of 2026-12-03: each chunk took an RCU read
  lock around the per-CPU copy, which takes one of its own, and ``bpf_map_update_value()``
  takes none for PERCPU_ARRAY; under lockdep (the test kernel's) a lock pair is some 700
  instructions. The per-CPU batches now copy under the chunk's lock alone: 0.10 and 0.11
  (8 B), 0.88 and 1.00 (256 B), one icount round. Without lockdep most of that gain is gone.
- ``percpu bpf lookup_percpu_elem`` (1.06) is two instructions per call (34.5 against 36.5 per
  operation, in a program of 64), deliberate: the op returns NULL for a CPU number that is not
  in the possible mask (``PossibleCpu``: a bound and a bit test, 5 instructions), where C checks
  only ``cpu < nr_cpu_ids`` (2) and would hand out the per-CPU address of a CPU that has no copy;
  the Rust op has no ftrace nop, C's has. C's check alone would put Rust one instruction below C.
- ``prog_array syscall update`` (1.01, some 280 instructions of 17,300 per update): 210 of them
  are lockdep's. The kernel crate's ``Mutex::lock()`` asserts through its guard that the lock is
  held (``lockdep_assert_held()``, some 70 instructions with lockdep), and an update takes three
  mutexes (the new program's ``ext_mutex``, the array's ``poke_mutex``, the old program's
  ``ext_mutex``) where C calls ``mutex_lock()`` bare; without lockdep the assertion is empty.
  The rest (~70) is the trampoline's frames and ``from_err_ptr()``, which is not inline.

- ``bpf for_each 1Ki`` was at 1.09, then 1.31 with a generic element iterator: the
  ``Option<(u32, Elem)>`` of the iterator went through the stack on every element, and under
  TCG every extra instruction in a loop that runs per element shows. The loop now lives in
  ``ForEachCallback::call_each()`` and is the loop of ``bpf_for_each_array_elem()``: one key
  variable, one pointer increment, one indirect call per element.
- ``syscall lookup/update 4096B`` came out around 1.08 in wall-clock time when each
  implementation created its own 4 MiB map in its own turn, although the only Rust code on
  these paths is the few instructions of the lookup op (the copies are the syscall layer's, the
  same for both); in instructions they are at 1.00. With a C map (created
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
- The per-CPU lookups (``percpu syscall lookup``, and per element the batches): the copies of
  all CPUs use the kernel's ``copy_map_value_long()`` through a one-call wrapper per CPU (a
  Rust word loop was slower under TCG). The single lookups still cost some 140 instructions
  more (of 14,000: 1.008): four frames where C has one (the trampoline, ``from_result()``'s
  closure, which is not inline, ``copy_values``, ``load_all``: +94), per CPU the out-of-line copy
  helper and a bounds check (+25 each), the RCU lock through helpers (+4). Removable: one C
  helper per element that loops over the CPUs after one length check (not done yet), and the
  trampoline's ``from_result()`` frame, since replaced by ``errno_or()`` (for the batches, the
  per-CPU copies and the fd updates too): measured 2026-12-04 at 1.008 still, some 110
  instructions more.
- The fd array rows: the syscall updates take the object from its fd and drop the replaced one
  through the kernel's own functions (``bpf_prog_get()``/``bpf_prog_put()``,
  ``perf_event_get()`` and an RCU-freed entry, ``cgroup_get_from_fd()``, map_in_map's
  ``bpf_map_fd_get_ptr()``, which dominates ``array_of_maps syscall update``), so the ratios sit
  within 1 % of C (``array_of_maps`` 1.001, 70 instructions more of 50,000 per update;
  ``perf_event_array`` 1.005, some 110 of 20,000: the trampoline's frames, ``from_err_ptr()`` and
  ``KBox::new()``'s ``krealloc()`` path against C's ``kzalloc()`` for the event entry;
  ``cgroup_array`` 1.004, some 57 of 14,200). ``bpf tail call`` runs no module code at all: the
  JIT reads ``max_entries`` and ``ptrs[]`` of the module's ``struct bpf_array`` directly; 1.000.
- ``create+close 1Mi ARRAY`` times the creation (allocation and zeroing of 8 MiB) and the
  close of one map, the median of 5, each after 50 ms idle; the free itself is deferred (RCU,
  workqueue) and runs in that idle, not in the figure. ``create+close 64Ki PERCPU_ARRAY`` is
  some 388 million instructions a map on both sides: C and Rust alike make one per-CPU
  allocation per element, 65,536 searches of the per-CPU allocator, whose cost follows its
  state (417-435 million with the maps created back to back).
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
