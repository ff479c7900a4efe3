#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The report of make full-selftests: the kernel's BPF selftest runners on the C kernel and on
the Rust-only kernel, verdict by verdict.

    full-selftests-report.py C-RESULTS RUST-RESULTS > Documentation/selftests-full.rst

Each RESULTS directory is what scripts/full-selftests.sh leaves for one kernel: boot<N>/ per boot
(tests/full-selftests.sh's output) and meta (the commit and date of each boot). A unit is what a
runner gives a verdict to: a test_progs subtest (or a test without subtests), a test_verifier
test in one of its modes (u, p), a test_maps map_test and test_maps' run as a whole. A unit that
one kernel ran and the other did not counts as different. Failures on both kernels are listed
with the reason their messages show (REASONS below: the first pattern that matches), so that
nothing is hidden.
"""

import collections
import glob
import json
import os
import re
import sys

# (pattern on a failure's message or log, reason): the first that matches gives the reason.
REASONS = [
    (r"failed to find kernel BTF type ID of '([^']+)'|unknown func|kfunc .* not found|"
     r"calls kernel function .* is not allowed|failed to find BTF for extern",
     "config: a kernel function or kfunc this kernel does not have"),
    (r"failed to resolve CO-RE relocation|CO-RE relocating|relo #\d+: target candidate search failed",
     "config: a kernel type or field this kernel does not have (CO-RE)"),
    (r"bpf_testmod|bpf_test_no_cfi|bpf_test_modorder",
     "the selftests' test modules: a kfunc or hook of theirs"),
    (r"ENOTSUPP|Operation not supported|-95\b|-524\b|not supported",
     "config: not supported by this kernel (option, JIT feature)"),
    (r"No such file or directory|-2\b|ENOENT", "config: a file, device or kernel object missing"),
    (r"Permission denied|EPERM|-1\b|-13\b", "permissions (LSM, capabilities, sysctl)"),
    (r"timeout|timed out|WATCHDOG|took too long|exceeded", "time: TCG runs the guest slowly"),
]


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def parse_progs(part_dir, units, messages):
    """test_progs: "#N/M test/sub:RES" and "#N test:RES" lines; ended-by: the test a kill or the
    end of a boot stopped."""
    names = read(os.path.join(part_dir, "list")).split()
    for out in sorted(glob.glob(os.path.join(part_dir, "out.*"))):
        subs = set()
        tests = {}
        for line in read(out).splitlines():
            m = re.match(r"^#(\d+)/(\d+)\s+(\S+):(OK|SKIP|FAIL)", line)
            if m:
                subs.add(m.group(1))
                units["test_progs " + m.group(3)] = m.group(4)
                continue
            m = re.match(r"^#(\d+)\s+(\S+):(OK|SKIP|FAIL)", line)
            if m:
                tests[m.group(1)] = (m.group(2), m.group(3))
        for num, (name, res) in tests.items():
            if num not in subs:
                units["test_progs " + name] = res
    for js in glob.glob(os.path.join(part_dir, "json.*")):
        try:
            data = json.loads(read(js) or "{}")
        except ValueError:
            continue
        for t in data.get("results", []):
            msg = t.get("message", "")
            messages["test_progs " + t["name"]] = msg
            for s in t.get("subtests", []):
                messages["test_progs %s/%s" % (t["name"], s["name"])] = s.get("message", "") or msg
    for line in read(os.path.join(part_dir, "ended-by")).splitlines():
        num, _, why = line.partition(" ")
        name = names[int(num) - 1] if num.isdigit() and 0 < int(num) <= len(names) else "#" + num
        key = "test_progs " + name
        if not any(k == key or k.startswith(key + "/") for k in units):
            units[key] = "ENDED"
            messages[key] = why


def parse_verifier(part_dir, units, messages):
    """test_verifier: "#N/u descr RESULT" (u unprivileged, p privileged)."""
    for line in read(os.path.join(part_dir, "out.1")).splitlines():
        m = re.match(r"^#(\d+)/([up]) (.*)$", line)
        if not m:
            continue
        r = re.search(r"\s(OK|FAIL|SKIP)(?=$|[\s:(])", " " + m.group(3))
        res = r.group(1) if r else "FAIL"
        key = "test_verifier #%s/%s" % (m.group(1), m.group(2))
        units[key] = res
        if res == "FAIL":
            messages[key] = m.group(3)


def parse_maps(part_dir, units, messages):
    """test_maps: the "name:PASS" lines of its map_tests, and the run as a whole."""
    out = read(os.path.join(part_dir, "out.1"))
    rc = read(os.path.join(part_dir, "rc.1")).strip()
    for line in out.splitlines():
        m = re.match(r"^(\w+):PASS$", line)
        if m:
            units["test_maps " + m.group(1)] = "OK"
    whole = "OK" if rc == "exit 0" and re.search(r"^test_maps: OK, \d+ SKIPPED$", out, re.M) else "FAIL"
    units["test_maps (the whole run)"] = whole
    if whole == "FAIL":
        messages["test_maps (the whole run)"] = "\n".join(out.splitlines()[-5:])


def side(results):
    """Units, failure messages, seconds per runner, boots' meta, kernel reports."""
    units, messages, secs = {}, {}, collections.Counter()
    for boot in sorted(glob.glob(os.path.join(results, "boot*"))):
        for line in read(os.path.join(boot, "progress")).splitlines():
            _, part, s = line.split()
            secs[part.split(":")[0]] += int(s)
        for part_dir in sorted(glob.glob(os.path.join(boot, "*/"))):
            part = os.path.basename(part_dir.rstrip("/"))
            if part.startswith("test_progs"):
                parse_progs(part_dir, units, messages)
            elif part == "test_verifier":
                parse_verifier(part_dir, units, messages)
            elif part == "test_maps":
                parse_maps(part_dir, units, messages)
    return units, messages, secs, read(os.path.join(results, "meta")).strip()


def reason(msg):
    for pat, why in REASONS:
        if re.search(pat, msg or "", re.I):
            return why
    return "unclassified (see the message in the run's logs)"


def runner(unit):
    return unit.split(" ", 1)[0]


def main():
    c_units, c_msgs, c_secs, c_meta = side(sys.argv[1])
    r_units, r_msgs, r_secs, r_meta = side(sys.argv[2])
    keys = sorted(set(c_units) | set(r_units))
    rows = collections.OrderedDict()
    for name in ("test_verifier", "test_maps", "test_progs"):
        rows[name] = collections.Counter()
    differ, both_fail = [], []
    for k in keys:
        c, r = c_units.get(k, "NOT RUN"), r_units.get(k, "NOT RUN")
        row = rows[runner(k)]
        row["units"] += 1
        if c == r:
            row["same"] += 1
            row["both " + c] += 1
            if c in ("FAIL", "ENDED"):
                both_fail.append((k, reason(c_msgs.get(k, "") + "\n" + r_msgs.get(k, ""))))
        else:
            row["different"] += 1
            differ.append((k, c, r))

    print(".. SPDX-License-Identifier: GPL-2.0")
    print()
    print("=" * 66)
    print("The kernel's BPF selftest runners on the C and the Rust-only kernel")
    print("=" * 66)
    print()
    print("Written by ``scripts/full-selftests-report.py`` from a run of ``make full-selftests``; not")
    print("edited by hand. The C kernel is the test kernel (``.config.fragment``, the array maps of")
    print("``kernel/bpf/arraymap.c``, the module not loaded); the Rust-only kernel is the same")
    print("configuration with ``CONFIG_BPF_ARRAY_MAPS_RUST`` (``make rust-only``,")
    print("``Documentation/builtin.rst``). Both under QEMU's TCG, 2 vCPUs, each runner whole, with no")
    print("filter: test_verifier, test_maps, and test_progs in shards of test numbers, one boot each.")
    print()
    print("Boots, C kernel::")
    print()
    for line in c_meta.splitlines():
        print("    " + line)
    print()
    print("Boots, Rust-only kernel::")
    print()
    for line in r_meta.splitlines():
        print("    " + line)
    print()
    print("A unit is what a runner gives a verdict to: a test_progs subtest (or a test without")
    print("subtests), a test_verifier test in one mode (``/u`` unprivileged, ``/p`` privileged), a")
    print("test_maps map_test that reports ``:PASS``, and test_maps' run as a whole (test_maps stops at")
    print("its first failure and names no other test). ENDED: a test that its runner's watchdog or")
    print("the end of a boot stopped.")
    print()
    hdr = ["runner", "units", "same verdict", "different", "OK on both", "SKIP on both",
           "FAIL on both", "C time", "Rust time"]
    table = [hdr]
    for name, row in rows.items():
        table.append([name, str(row["units"]), str(row["same"]), str(row["different"]),
                      str(row["both OK"]), str(row["both SKIP"]),
                      str(row["both FAIL"] + row["both ENDED"]),
                      "%d s" % c_secs[name], "%d s" % r_secs[name]])
    widths = [max(len(r[i]) for r in table) for i in range(len(hdr))]
    sep = " ".join("=" * w for w in widths)
    print(sep)
    for i, r in enumerate(table):
        print(" ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        if i == 0:
            print(sep)
    print(sep)
    print()
    print("Different verdicts")
    print("==================")
    print()
    if not differ:
        print("None: every unit has the same verdict on both kernels.")
    else:
        for k, c, r in differ:
            print("- ``%s``: C %s, Rust %s" % (k, c, r))
    print()
    print("Failing on both kernels")
    print("=======================")
    print()
    print("By the reason their messages show (``REASONS`` in the script); the same on both kernels,")
    print("so nothing that the array maps' implementation decides.")
    print()
    by_reason = collections.defaultdict(list)
    for k, why in both_fail:
        by_reason[why].append(k)
    for why in sorted(by_reason):
        units = by_reason[why]
        print("- %s (%d): %s" % (why, len(units), ", ".join("``%s``" % u for u in units)))
    if not by_reason:
        print("None.")


if __name__ == "__main__":
    main()
