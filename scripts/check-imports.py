#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The check of the module's structure that make check runs (scripts/check.sh): no two files of
the crate import each other, directly or through others.

A file imports another when its code names an item of the other's module: a `use` item
(`use super::array::Array;`, `use crate::bpf::{...};`, `pub(crate) use array::Array;` in a
parent, nested trees expanded) or a path in the code (`super::ffi::f()`, `crate::array::f`,
`bpf::builtin_map_ops!`). A path is the file of the longest module prefix it names:
`crate::bpf::Array` is rust/bpf.rs (the layer's facade), `crate::bpf::array::Array`
rust/bpf/array.rs; `super::` counts the inline modules (`mod tests { ... }`) it leaves.
Comments, strings and `$crate::` paths of macros (resolved where the macro is used) are left
out. The files are rust/*.rs and rust/bpf/*.rs, the crate root rust/rust_arraymap_main.rs.

    check-imports.py          check this tree; exit 1 naming a cycle
    check-imports.py DIR      check the tree at DIR instead (a checkout, or a copy of its rust/)
"""

import glob
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT_FILE = "rust_arraymap_main.rs"

# Comments, strings and character literals, in the order the lexer meets them.
NOISE = re.compile(r'//[^\n]*|/\*.*?\*/|r(#*)".*?"\1|b?"(?:\\.|[^"\\])*"|'
                   r"b?'(?:\\.|[^'\\\n])'", re.S)
USE = re.compile(r"\buse\s+([^;]+);")
MOD_DECL = re.compile(r"^\s*(?:pub(?:\([\w ]+\))?\s+)?mod\s+(\w+)\s*;", re.M)
INLINE_MOD = re.compile(r"\bmod\s+\w+\s*\{")
PATH = re.compile(r"(?<![\w:$])(\w+)((?:\s*::\s*\w+)+)")


def blank(text):
    """`text` with comments, strings and character literals blanked, lines kept."""
    return NOISE.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def module_of(rel):
    """The module path of a file: rust/bpf/array.rs is ("bpf", "array")."""
    parts = rel.split("/")[1:]
    if parts == [ROOT_FILE]:
        return ()
    parts[-1] = parts[-1][:-3]
    return tuple(parts)


def expand(tree):
    """The paths of a use tree, each a list of segments (`a::{b, c::d}` is a::b, a::c::d)."""
    tree = re.sub(r"\s+", "", re.sub(r"\s+as\s+\w+", "", tree))
    if "{" not in tree:
        return [[s for s in tree.split("::") if s not in ("", "*", "self")]]
    head, rest = tree.split("{", 1)
    prefix = [s for s in head.split("::") if s]
    items, depth, cur = [], 0, ""
    for c in rest[: rest.rindex("}")]:
        if c == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += (c == "{") - (c == "}")
        cur += c
    items.append(cur)
    return [prefix + sub for item in items if item for sub in expand(item)]


def inline_depth(text):
    """For each offset of `text`, how many inline modules (`mod name { ... }`) enclose it."""
    depth = [0] * (len(text) + 1)
    stack, level, cur = [], 0, 0
    opens = {m.end() - 1 for m in INLINE_MOD.finditer(text)}
    for i, c in enumerate(text):
        if c == "{":
            level += 1
            if i in opens:
                stack.append(level)
                cur += 1
        elif c == "}":
            if stack and stack[-1] == level:
                stack.pop()
                cur -= 1
            level -= 1
        depth[i] = cur
    return depth


def resolve(segs, here, inner, children, modules):
    """The file of the module that the path `segs`, written in module `here` inside `inner`
    inline modules of it, names; None for a path out of the crate's files (another crate, a
    local name, an inline module of the file itself)."""
    if not segs:
        return None
    if segs[0] == "crate":
        full = list(segs[1:])
    elif segs[0] in ("super", "self"):
        base = list(here) + [None] * inner
        i = 0
        while i < len(segs) and segs[i] in ("super", "self"):
            if segs[i] == "super":
                if not base:
                    return None
                base.pop()
            i += 1
        if None in base:
            return None
        full = base + list(segs[i:])
    elif inner == 0 and segs[0] in children:
        full = list(here) + list(segs)
    else:
        return None
    for n in range(len(full), -1, -1):
        if tuple(full[:n]) in modules:
            return modules[tuple(full[:n])]
    return None


def graph(top):
    """{file: {imported file: [names]}} of the crate's files under `top`."""
    files = sorted(glob.glob(os.path.join(top, "rust", "*.rs")) +
                   glob.glob(os.path.join(top, "rust", "bpf", "*.rs")))
    modules = {module_of(os.path.relpath(f, top)): os.path.relpath(f, top) for f in files}
    edges = {}
    for path in files:
        rel = os.path.relpath(path, top)
        here = module_of(rel)
        text = blank(open(path).read())
        children = set(MOD_DECL.findall(text))
        depth = inline_depth(text)
        found = []
        for m in USE.finditer(text):
            for segs in expand(m.group(1)):
                found.append((segs, depth[m.start()]))
        code = USE.sub(lambda m: " " * len(m.group(0)), text)
        for m in PATH.finditer(code):
            segs = [m.group(1)] + re.findall(r"\w+", m.group(2))
            found.append((segs, depth[m.start()]))
        out = edges.setdefault(rel, {})
        for segs, inner in found:
            target = resolve(segs, here, inner, children, modules)
            if target and target != rel:
                out.setdefault(target, [])
                name = segs[-1]
                if name not in out[target]:
                    out[target].append(name)
    return edges


def cycle(edges):
    """One cycle of the graph as a list of files (the first repeated at the end), or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, {})):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def circles(edges):
    """The sets of two files or more that all reach each other (strongly connected)."""
    reach = {}
    for node in edges:
        seen, todo = set(), [node]
        while todo:
            for nxt in edges.get(todo.pop(), {}):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        reach[node] = seen
    found = []
    for node in sorted(edges):
        group = sorted(n for n in reach[node] if node in reach.get(n, ()))
        if len(group) > 1 and group not in found:
            found.append(group)
    return found


def main():
    top = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else TOP
    if not os.path.isfile(os.path.join(top, "rust", ROOT_FILE)):
        print("check-imports: no rust/%s under %s" % (ROOT_FILE, top))
        return 2
    edges = graph(top)
    found = cycle(edges)
    if found:
        print("check-imports: an import cycle: " + " -> ".join(found))
        for a, b in zip(found, found[1:]):
            print("  %s -> %s: %s" % (a, b, ", ".join(edges[a][b])))
        for group in circles(edges):
            print("  %d files in one circle: %s" % (len(group), ", ".join(group)))
        return 1
    print("check-imports: %d files, %d imports between them, no cycle"
          % (len(edges), sum(len(v) for v in edges.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
