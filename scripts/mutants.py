#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The mutants of make mutants (scripts/mutants.sh): tests/mutants.list read, one applied to a
copy of the sources, the campaign's report written.

tests/mutants.list holds one block per mutant:

    @ FILE ID KIND TESTS
    < a line of FILE (leading and trailing whitespace ignored)
    > its replacement (none: the "<" lines are dropped)
    ! equivalent: why no test can tell (only for a survivor argued equivalent)

The "<" lines must match consecutive lines of FILE at exactly one place. TESTS are the suite
tests and selftest entries (make list-tests) expected to kill the mutant, comma-separated.

    mutants.py check                  every block well formed and matching once in rust/
    mutants.py list                   "ID FILE TESTS" per mutant
    mutants.py apply ID SRC           apply mutant ID to the copy SRC of the sources
    mutants.py report RESULTS COMMITS Documentation/testing.rst's report section rewritten from
                                      RESULTS (a file per mutant: "killed STAGE:POINTS",
                                      "survived STAGES" or "nobuild ERROR") and COMMITS (a
                                      file per mutant: the commit its result was had at)
"""

import datetime
import os
import re
import sys
import textwrap

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIST = os.path.join(TOP, "tests", "mutants.list")
TESTING = os.path.join(TOP, "Documentation", "testing.rst")
KINDS = ("cond", "drop", "off-by-one", "errno", "put", "lock", "value")
BEGIN = ".. mutants report: written by scripts/mutants.py report (make mutants); do not edit"
END = ".. end of the mutants report"


class Mutant:
    def __init__(self, path, ident, kind, tests, line):
        self.path, self.id, self.kind, self.tests, self.line = path, ident, kind, tests, line
        self.old, self.new, self.equivalent = [], [], None


def parse(path=LIST):
    mutants, errors, cur = [], [], None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            tag, text = line[0], line[2:] if len(line) > 1 else ""
            if tag == "@":
                words = text.split()
                if len(words) != 4:
                    errors.append(f"{path}:{n}: '@ FILE ID KIND TESTS' expected")
                    cur = None
                    continue
                cur = Mutant(*words, n)
                if cur.kind not in KINDS:
                    errors.append(f"{path}:{n}: kind {cur.kind} is none of {', '.join(KINDS)}")
                mutants.append(cur)
            elif cur is None:
                errors.append(f"{path}:{n}: a line outside a mutant")
            elif tag == "<":
                cur.old.append(text.strip())
            elif tag == ">":
                cur.new.append(text.strip())
            elif tag == "!":
                cur.equivalent = text.removeprefix("equivalent:").strip()
            else:
                errors.append(f"{path}:{n}: unknown line")
    seen = set()
    for m in mutants:
        if m.id in seen:
            errors.append(f"{path}:{m.line}: mutant {m.id} named twice")
        seen.add(m.id)
        if not m.old:
            errors.append(f"{path}:{m.line}: mutant {m.id} has no '<' line")
        if m.old == m.new:
            errors.append(f"{path}:{m.line}: mutant {m.id} changes nothing")
    return mutants, errors


def find(m, lines):
    """The indexes where m's "<" lines match lines (stripped)."""
    stripped = [line.strip() for line in lines]
    k = len(m.old)
    return [i for i in range(len(lines) - k + 1) if stripped[i:i + k] == m.old]


def apply(m, src):
    path = os.path.join(src, m.path)
    with open(path) as f:
        lines = f.read().split("\n")
    at = find(m, lines)
    if len(at) != 1:
        sys.exit(f"mutant {m.id}: its '<' lines match {len(at)} places of {m.path}, not one")
    i = at[0]
    indent = re.match(r"\s*", lines[i]).group(0)
    lines[i:i + len(m.old)] = [indent + line for line in m.new]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def check(mutants, errors):
    files = {}
    for m in mutants:
        path = os.path.join(TOP, m.path)
        if not os.path.isfile(path):
            errors.append(f"mutant {m.id}: no file {m.path}")
            continue
        if path not in files:
            with open(path) as f:
                files[path] = f.read().split("\n")
        n = len(find(m, files[path]))
        if n != 1:
            errors.append(f"mutant {m.id}: its '<' lines match {n} places of {m.path}, not one")
    rust = sorted(os.path.relpath(os.path.join(d, f), TOP)
                  for d in (os.path.join(TOP, "rust"), os.path.join(TOP, "rust", "bpf"))
                  for f in os.listdir(d) if f.endswith(".rs"))
    hit = {m.path for m in mutants}
    for path in rust:
        if path not in hit:
            errors.append(f"no mutant in {path} (every file of rust/ and rust/bpf/ has one)")
    return errors


def wrap(text, **kwargs):
    """text as the lines of an rst paragraph (code is not broken at its hyphens)."""
    return textwrap.wrap(text, 100, break_on_hyphens=False, break_long_words=False, **kwargs)


def at_commits(ids_of):
    """Where the results were had: the commit of most of them, then those of reruns."""
    order = sorted(ids_of, key=lambda c: -len(ids_of[c]))
    text = f"the module and tests of commit ``{order[0]}``"
    for c in order[1:]:
        text += f"; {', '.join(ids_of[c])} at ``{c}``"
    return text


def report(mutants, results, commits):
    got = {}
    ids_of = {}
    for m in mutants:
        path = os.path.join(results, m.id)
        if os.path.exists(path):
            with open(path) as f:
                verdict, _, where = f.read().strip().partition(" ")
            got[m.id] = (verdict, where)
            path = os.path.join(commits, m.id)
            commit = "unknown"
            if os.path.exists(path):
                with open(path) as f:
                    commit = f.read().strip()
            ids_of.setdefault(commit, []).append(m.id)
    ran = [m for m in mutants if m.id in got and got[m.id][0] != "nobuild"]
    killed = [m for m in ran if got[m.id][0] == "killed"]
    survived = [m for m in ran if got[m.id][0] == "survived"]
    equivalent = [m for m in survived if m.equivalent]
    live = [m for m in survived if not m.equivalent]
    nobuild = [m for m in mutants if m.id in got and got[m.id][0] == "nobuild"]
    missing = [m for m in mutants if m.id not in got]
    scored = len(ran) - len(equivalent)
    score = 100.0 * len(killed) / scored if scored else 0.0
    today = datetime.date.today().isoformat()
    summary = (f"Last campaign: {today}, {at_commits(ids_of) if ids_of else 'nothing run'}; "
               f"{len(mutants)} mutants in {len({m.path for m in mutants})} files "
               f"(``tests/mutants.list``): {len(killed)} killed, {len(live)} survived, "
               f"{len(equivalent)} equivalent"
               + (f", {len(nobuild)} not built" if nobuild else "")
               + (f", {len(missing)} not run" if missing else "")
               + f". Score (killed of the non-equivalent): {score:.1f} %.")
    out = [BEGIN, ""] + wrap(summary) + [""]
    stages = {}
    for m in killed:
        stage = got[m.id][1].split(":")[0]
        stages[stage] = stages.get(stage, 0) + 1
    if stages:
        out += wrap("Where they were killed: " + ", ".join(
            f"{n} by stage {stage}" for stage, n in sorted(stages.items())) + ".") + [""]
    per_file = {}
    for m in mutants:
        k, s = per_file.get(m.path, (0, 0))
        if m in killed:
            k += 1
        elif m in survived:
            s += 1
        per_file[m.path] = (k, s)
    w = max(len(p) for p in per_file) + 4
    rule = "=" * w + " ======= ========"
    out += [rule, "File".ljust(w) + " killed  survived", rule]
    for path in sorted(per_file):
        k, s = per_file[path]
        out.append(f"``{path}``".ljust(w) + f" {k:<7} {s}")
    out += [rule, ""]
    if survived:
        out += ["Survivors (each a line of ``tests/mutants.list``):", ""]
        for m in survived:
            stages = got[m.id][1] or "listed, suite, long"
            what = (f"equivalent: {m.equivalent}" if m.equivalent else "not killed: a hole") + \
                f" (stages run: {stages.replace(',', ', ')})"
            change = " / ".join(m.old) + " -> " + (" / ".join(m.new) or "(dropped)")
            out += wrap(f"``{m.id}`` ({m.kind}, ``{m.path}``): ``{change}``; {what}.",
                        initial_indent="- ", subsequent_indent="  ")
        out.append("")
    out.append(END)
    with open(TESTING) as f:
        text = f.read()
    block = "\n".join(out)
    if BEGIN in text:
        head, _, rest = text.partition(BEGIN)
        _, _, tail = rest.partition(END)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    with open(TESTING, "w") as f:
        f.write(text)
    print(f"{len(killed)} killed, {len(live)} survived, {len(equivalent)} equivalent, "
          f"{len(nobuild)} not built, {len(missing)} not run: {score:.1f} %")
    return 0 if not live and not nobuild and not missing and score >= 95.0 else 1


def main(argv):
    mutants, errors = parse()
    cmd = argv[1] if len(argv) > 1 else "check"
    if cmd == "check":
        errors = check(mutants, errors)
        for e in errors:
            print(e, file=sys.stderr)
        return 1 if errors else 0
    if errors:
        sys.exit("\n".join(errors))
    if cmd == "list":
        for m in mutants:
            print(m.id, m.path, m.tests)
        return 0
    if cmd == "apply":
        by_id = {m.id: m for m in mutants}
        if argv[2] not in by_id:
            sys.exit(f"no mutant {argv[2]}")
        apply(by_id[argv[2]], argv[3])
        return 0
    if cmd == "report":
        return report(mutants, argv[2], argv[3])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
