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

# (pattern, reason): the reason of a failure is that of the first pattern found in its first
# failing check (the first ":FAIL:" line of its log, else its first libbpf or runner error), else
# anywhere in its log; the report shows that line beside it, so the reader can judge.
REASONS = [
    (r"/dev/net/tun|AF_ALG|open sysctl|open\(sysctl\)|tcp_syncookies|"
     r"BPF_PROG_TYPE_LIRC_MODE2|BPF_PROG_TYPE_NETFILTER",
     "config: an option this configuration does not build (TUN, SYN_COOKIES, "
     "CRYPTO_USER_API, BPF_LIRC_MODE2, the netfilter BPF link)"),
    (r"not found|\b32512\b|exit (status )?127|unexpected error: 127|errno 126\b",
     "tool: a program the tests run that the VM's root does not have"),
    (r"WATCHDOG|timed? ?out|timeout|too slow|took too long",
     "time: a limit that TCG's slow guest reaches"),
    (r"errno 38\b|: -38\b|\(-38\)|actual -38\b|ENOSYS",
     "config: a system call this configuration does not build (ENOSYS)"),
    (r"mount cgroup net_cls|cgroup v1|cgroup1",
     "config: cgroup v1 controllers, which this configuration does not build"),
    (r"failed to find kernel BTF type ID|unknown func|kfunc|calls kernel function|"
     r"failed to resolve CO-RE|CO-RE relocating|target candidate search failed|"
     r"failed to find BTF for extern|failed to find valid kernel BTF|Unknown kernel symbol|"
     r"find_kernel_btf|no such kernel function",
     "config: a kernel function, kfunc or type this configuration does not build"),
    (r"errno 95|errno = 95|errno 524|\(-95\)|\(-524\)|: -95\b|: -524\b|actual -95\b|"
     r"not supported|EOPNOTSUPP|ENOTSUPP",
     "config: not supported by this configuration (an option, a JIT feature)"),
    (r"No such file or directory|errno 2\b|: -2\b|\(-2\)|ENOENT|"
     r"No such device|errno 19\b",
     "config or tool: a file, device, program or kernel object this VM does not have"),
    (r"Permission denied|errno 13\b|errno 1\b|: -1\b|: -13\b|EPERM|EACCES",
     "permissions (capabilities, an LSM, a sysctl)"),
    (r"Invalid argument|errno 22\b|: -22\b|EINVAL",
     "refused by this configuration (EINVAL: an option or feature missing)"),
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
        log = []  # what the runner printed since its last result line: the next one's log
        for line in read(out).splitlines():
            m = re.match(r"^#(\d+)/(\d+)\s+(\S+):(OK|SKIP|FAIL)", line)
            if m:
                subs.add(m.group(1))
                units["test_progs " + m.group(3)] = m.group(4)
                if m.group(4) == "FAIL":
                    messages.setdefault("test_progs " + m.group(3), "\n".join(log))
                continue
            m = re.match(r"^#(\d+)\s+(\S+):(OK|SKIP|FAIL)", line)
            if m:
                tests[m.group(1)] = (m.group(2), m.group(3))
                if m.group(3) == "FAIL":
                    messages.setdefault("test_progs " + m.group(2), "\n".join(log))
                log = []
                continue
            log.append(line)
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
            if msg:
                messages["test_progs " + t["name"]] = msg
            for sub in t.get("subtests", []):
                if sub.get("message", "") or msg:
                    messages["test_progs %s/%s" % (t["name"], sub["name"])] = \
                        sub.get("message", "") or msg
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


def first_failure(msg):
    """The line of a failure's log that says what failed first, after the nearest line before it
    that is no passed check (its cause, often: "ping: not found", an errno of a helper)."""
    lines = [l.strip() for l in (msg or "").splitlines() if l.strip()]
    for pat in (r":FAIL:", r"^libbpf: .*(fail|error|err)", r"WATCHDOG|Caught signal|FAIL"):
        for i, l in enumerate(lines):
            if re.search(pat, l, re.I):
                line = re.sub(r"^\S+:FAIL:", "", l)
                for prev in reversed(lines[max(0, i - 6):i]):
                    if ":PASS:" not in prev and re.search(r"not found|errno|error|fail", prev, re.I):
                        line = prev + " | " + line
                        break
                return line[:150]
    return lines[0][:150] if lines else ""


def reason(msg):
    first = first_failure(msg)
    for text in (first, msg or ""):
        for pat, why in REASONS:
            if re.search(pat, text, re.I):
                return why, first
    return "unclassified", first


def runner(unit):
    return unit.split(" ", 1)[0]


def reruns(results):
    """{unit: [verdict of each round]} of make full-selftests-rerun on one side (empty if none)."""
    runs = collections.defaultdict(list)
    for line in read(os.path.join(results, "rerun", "verdicts")).splitlines():
        name, _, verdict = line.split()
        runs["test_progs " + name].append(verdict)
    return runs


def main():
    c_units, c_msgs, c_secs, c_meta = side(sys.argv[1])
    r_units, r_msgs, r_secs, r_meta = side(sys.argv[2])
    keys = sorted(set(c_units) | set(r_units))
    if sys.argv[3:] == ["--differing"]:
        # The test_progs units to rerun (scripts/full-selftests-rerun.sh): run on both kernels,
        # with different verdicts.
        for k in keys:
            c, r = c_units.get(k), r_units.get(k)
            if runner(k) == "test_progs" and c and r and c != r:
                print(k.split(" ", 1)[1])
        return
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
                both_fail.append((k,) + reason(c_msgs.get(k, "")))
        else:
            row["different"] += 1
            differ.append((k, c, r))

    print(".. SPDX-License-Identifier: GPL-2.0")
    print()
    title = "The kernel's BPF selftest runners on the C and the Rust-only kernel"
    print("=" * len(title))
    print(title)
    print("=" * len(title))
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
    c_reruns, r_reruns = reruns(sys.argv[1]), reruns(sys.argv[2])
    if not differ:
        print("None: every unit has the same verdict on both kernels.")
    else:
        for k, c, r in differ:
            print("- ``%s``: C %s, Rust %s" % (k, c, r))
            if k in c_msgs and c in ("FAIL", "ENDED"):
                print("  (C: %s)" % rst_literal(first_failure(c_msgs[k])))
            if k in r_msgs and r in ("FAIL", "ENDED"):
                print("  (Rust: %s)" % rst_literal(first_failure(r_msgs[k])))
            if k in c_reruns or k in r_reruns:
                print("  Rerun alone (``make full-selftests-rerun``): C %s; Rust %s."
                      % (tally(c_reruns.get(k)), tally(r_reruns.get(k))))
    print()
    print("Failing on both kernels")
    print("=======================")
    print()
    print("Each with the first failing check of its log on the C kernel, under the reason that")
    print("line (or the log) shows (``REASONS`` in the script: patterns, so a reason may be wrong;")
    print("the line is there to judge by). They fail on both kernels alike, so nothing here is")
    print("decided by which implementation serves the array maps.")
    print()
    by_reason = collections.defaultdict(list)
    for k, why, first in both_fail:
        by_reason[why].append((k, first))
    if not by_reason:
        print("None.")
    for why in sorted(by_reason):
        title = "%s (%d)" % (why[0].upper() + why[1:], len(by_reason[why]))
        print(title)
        print("-" * len(title))
        print()
        for k, first in by_reason[why]:
            print("- ``%s``%s" % (k, ": " + rst_literal(first) if first else ""))
        print()


def tally(verdicts):
    """"3 runs: 2 OK, 1 FAIL" of a unit's rerun verdicts."""
    if not verdicts:
        return "not rerun"
    counts = collections.Counter(verdicts)
    return "%d runs: %s" % (len(verdicts), ", ".join("%d %s" % (n, v)
                                                     for v, n in sorted(counts.items())))


def rst_literal(text):
    """@text as an inline literal (backquotes in it made harmless)."""
    return "``" + text.replace("`", "'") + "``" if text else ""


if __name__ == "__main__":
    main()
