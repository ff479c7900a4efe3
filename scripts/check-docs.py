#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The checks of the docs that make check runs (scripts/check.sh):

- every Documentation/*.rst renders with docutils without a warning or an error;
- the counts of `unsafe` in Documentation/design.rst's table ("Where the ``unsafe`` is") are
  those of the sources now: per file of rust/bpf/, `unsafe {` blocks, `unsafe fn` (with
  `unsafe extern "C" fn`) and `unsafe impl`/`unsafe trait`, each counted by line; and the map-type
  files rust/*.rs have none;
- Documentation/layer-contract.rst has an entry for every safe `pub(crate)` function of
  rust/bpf/ (ffi.rs's declarations and the unit tests' fixture.rs aside) and none for a function
  that is gone: a method as ``Type::name``, a free function as ``name``, under the file's title;
- the cases of tests/defects.c are those tests/run-suite.sh checks (DEFECT_CASES), and each has
  a row in Documentation/historic-defects.rst.

    check-docs.py           check; exit 1 with what is wrong
    check-docs.py --fix     rewrite the counts of the table from the sources
"""

import glob
import io
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DESIGN = os.path.join(TOP, "Documentation", "design.rst")
CONTRACT = os.path.join(TOP, "Documentation", "layer-contract.rst")
DEFECTS = os.path.join(TOP, "Documentation", "historic-defects.rst")


def render_problems():
    import docutils.core

    problems = []
    for path in sorted(glob.glob(os.path.join(TOP, "Documentation", "*.rst"))):
        stream = io.StringIO()
        with open(path) as f:
            docutils.core.publish_string(
                f.read(), source_path=path, writer_name="null",
                settings_overrides={"report_level": 2, "halt_level": 5,
                                    "warning_stream": stream,
                                    # code-block's languages would need Pygments
                                    "syntax_highlight": "none"})
        if stream.getvalue():
            problems.append(stream.getvalue().strip())
    return problems


def counts(path):
    """blocks/fns/impls of `unsafe` in one file, comments left out."""
    text = re.sub(r"//[^\n]*", "", open(path).read())
    lines = text.splitlines()
    blk = sum(1 for l in lines if re.search(r"\bunsafe \{", l))
    fns = sum(1 for l in lines if re.search(r'\bunsafe (extern "C" )?fn\b', l))
    imp = sum(1 for l in lines if re.search(r"\bunsafe (impl|trait)\b", l))
    return "%d/%d/%d" % (blk, fns, imp)


def table_rows(text):
    """(line index, files, counts) of each row of the unsafe table that names files."""
    lines = text.split("\n")
    start = text[: text.index("Where the ``unsafe`` is")].count("\n")
    rows, borders = [], 0
    for i in range(start, len(lines)):
        if re.fullmatch(r"=+ +=+ +=+", lines[i]):
            borders += 1
            if borders == 3:
                break
            continue
        if borders < 2:
            continue
        m = re.match(r"^(``\S+``(?:, ``\S+``)*)\s+(\d+/\d+/\d+)( each)?", lines[i])
        if m:
            files = re.findall(r"``([^`]+)``", m.group(1))
            rows.append((i, files, m.group(2)))
    return lines, rows


def safe_functions(path):
    """Type::name (methods) and name (free functions) of the safe pub(crate) functions of a
    file of rust/bpf/, its unit tests left out."""
    text = open(path).read().split("#[kunit_tests")[0]
    names, impl = set(), None
    for line in text.splitlines():
        m = re.match(r"(?:pub\(crate\) )?(?:unsafe )?impl\b(?:<.*?>)?\s+(?:[\w:]+(?:<.*>)?\s+for\s+)?"
                     r"(\w+)", line)
        if m:
            impl = m.group(1)
        elif line.startswith("}"):
            impl = None
        m = re.match(r"(\s*)pub\(crate\) (?:const )?fn (\w+)", line)
        if m:
            names.add("%s::%s" % (impl, m.group(2)) if m.group(1) and impl else m.group(2))
    return names


def contract_problems():
    """What Documentation/layer-contract.rst lacks, or names in vain."""
    documented, section, bullets = {}, None, []
    for line in open(CONTRACT).read().splitlines():
        m = re.fullmatch(r"``(\w+\.rs)``", line)
        if m:
            section = m.group(1)
        elif section and line.startswith("- "):
            bullets.append((section, line[2:]))
        elif section and line.startswith("  ") and bullets:
            bullets[-1] = (bullets[-1][0], bullets[-1][1] + " " + line.strip())
    for section, bullet in bullets:
        # The names: the ``...`` before the entry's first ": ".
        head = bullet.split(": ", 1)[0]
        documented.setdefault(section, set()).update(re.findall(r"``([\w:]+)``", head))
    problems = []
    for path in sorted(glob.glob(os.path.join(TOP, "rust", "bpf", "*.rs"))):
        name = os.path.basename(path)
        if name in ("ffi.rs", "fixture.rs"):
            continue
        have, doc = safe_functions(path), documented.get(name, set())
        for f in sorted(have - doc):
            problems.append("%s: %s has no entry" % (name, f))
        for f in sorted(doc - have):
            problems.append("%s: an entry for %s, which the file does not have" % (name, f))
    return ["Documentation/layer-contract.rst: " + p for p in problems]


def defects_problems():
    """The cases of tests/defects.c against the suite's list and the table of the defects."""
    src = open(os.path.join(TOP, "tests", "defects.c")).read()
    block = src[src.index("} cases[] = {"):]
    cases = re.findall(r'\{ "(\w+)", \w+ \}', block[:block.index("};")])
    suite = open(os.path.join(TOP, "tests", "run-suite.sh")).read()
    listed = re.search(r'DEFECT_CASES="([^"]*)"', suite).group(1).split()
    table = open(DEFECTS).read()
    problems = []
    if listed != cases:
        problems.append("tests/run-suite.sh: DEFECT_CASES %s, tests/defects.c has %s"
                        % (listed, cases))
    for c in cases:
        if "``%s``" % c not in table:
            problems.append("Documentation/historic-defects.rst: no row for the case %s" % c)
    return problems


def main():
    fix = "--fix" in sys.argv[1:]
    text = open(DESIGN).read()
    lines, rows = table_rows(text)
    wrong = []
    seen = set()
    for i, files, cnt in rows:
        now = {counts(os.path.join(TOP, "rust", "bpf", f)) for f in files}
        seen.update(files)
        if len(now) != 1:
            wrong.append("%s: different counts %s in one row" % (", ".join(files), sorted(now)))
            continue
        now = now.pop()
        if now != cnt:
            wrong.append("%s: the table says %s, the source has %s" % (", ".join(files), cnt, now))
            lines[i] = lines[i].replace(cnt, now.ljust(len(cnt)) if len(now) < len(cnt) else now, 1)
    for path in sorted(glob.glob(os.path.join(TOP, "rust", "bpf", "*.rs"))):
        name = os.path.basename(path)
        if name not in seen and counts(path) != "0/0/0":
            wrong.append("%s: %s, not in the table" % (name, counts(path)))
    for path in sorted(glob.glob(os.path.join(TOP, "rust", "*.rs"))):
        if counts(path) != "0/0/0":
            wrong.append("%s: a map-type file with unsafe (%s)" % (os.path.relpath(path, TOP),
                                                                   counts(path)))
    if fix:
        open(DESIGN, "w").write("\n".join(lines))
        for w in wrong:
            print("fixed: " + w if "the table says" in w else "left: " + w)
        return 0 if all("the table says" in w for w in wrong) else 1
    problems = render_problems() + ["Documentation/design.rst, unsafe table: " + w
                                    for w in wrong] + contract_problems() + defects_problems()
    for p in problems:
        print(p)
    if problems:
        print("check-docs: %d problem(s); the unsafe counts: scripts/check-docs.py --fix"
              % len(problems))
        return 1
    print("check-docs: every document renders, the unsafe table and the layer's contract "
          "match the sources, every historic defect case has its row")
    return 0


if __name__ == "__main__":
    sys.exit(main())
