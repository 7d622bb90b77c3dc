#!/usr/bin/env python3
"""Import cycles in src/: the evidence that the crate's layers depend one way.

Every file under src/ (except the binary's root, main.rs, which is another crate) is a node.
File A has an edge to file B when A names an item that B defines:

* a `use` declaration (`use crate::…`, `use super::…`, `use self::…`, or a path starting with a
  child module of A's module), every leaf of a `{…}` tree, `self` and `as` included;
* a path in code: `crate::a::b`, `super::x`, `self::x`, `child::x`, or `alias::x` where `alias`
  was brought in by a `use`.

A path is resolved to the file that *defines* the item: it walks the module tree (`mod x;`
declarations, `x.rs` / `x/mod.rs`, and inline `mod x { … }` blocks, which belong to their file),
and follows `use` re-exports (`pub use child::X` in a parent sends `parent::X` on to the child).
So a parent that only declares or re-exports its own children (`mod child;`,
`pub use child::X;`) has no edge to them; a re-export of one of its descendants counts only when
the parent's own code also uses the name. A re-export of any other module's item is an edge.

Comments, string and char literals are removed first, and `#[cfg(test)]` items are skipped (unit
tests may use anything; `--tests` includes them). Doc links are comments and do not count.

The script prints every elementary cycle of the file graph and of the graph between top-level
modules (scalar, tensor, ops, check, report, strategy, tape, error), each edge with the line
that makes it, and exits 1 if there is any cycle (0 otherwise). Python 3 standard library only.

    python3 scripts/import_cycles.py [--src DIR] [--tests] [--max-cycles N]
"""

import argparse
import os
import re
import sys
from collections import defaultdict

ITEM_KINDS = r"(?:fn|struct|enum|trait|type|const|static|union|macro_rules!|mod)"
VIS = r"(?:pub(?:\s*\([^)]*\))?\s+)?"
ITEM_RE = re.compile(
    r"^\s*" + VIS + r"(?:(?:const|async|unsafe|extern\s*(?:\"[^\"]*\")?)\s+)*"
    + ITEM_KINDS + r"\s+([A-Za-z_]\w*)",
    re.M,
)
USE_RE = re.compile(r"(?<![\w$])(" + VIS + r")use\s+([^;]*);", re.S)
PATH_RE = re.compile(r"(?<![\w$.])(\$?crate|super|self|[A-Za-z_]\w*)((?:\s*::\s*(?:super|[A-Za-z_]\w*))+)")
IDENT_RE = re.compile(r"[A-Za-z_]\w*")


def strip(text):
    """The code with comments, strings and char literals blanked (newlines kept for lines)."""
    out = []
    i, n = 0, len(text)

    def blank(s):
        return "".join("\n" if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(blank(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(blank(text[i:j]))
            i = j
        elif re.match(r'b?r(#*)"', text[i:i + 260]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'b?r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + m.end())
            j = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + blank(text[i + 2:j]))
            i = j
        elif c == '"' or (c == "b" and text.startswith('b"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"))):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append('""' + blank(text[i + 2:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(?:\\(?:u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])'", text[i:])
            if m:
                out.append(" " * len(m.group(0)))
                i += len(m.group(0))
            else:  # a lifetime or a label
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(code, open_at):
    depth = 0
    for j in range(open_at, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def drop_test_items(code):
    """Blanks every item under `#[cfg(test)]` (a test module or function)."""
    while True:
        m = re.search(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]", code)
        if not m:
            return code
        brace = code.find("{", m.end())
        semi = code.find(";", m.end())
        if semi >= 0 and (brace < 0 or semi < brace):
            end = semi
        else:
            end = matching_brace(code, brace)
        code = code[: m.start()] + "".join("\n" if c == "\n" else " " for c in code[m.start(): end + 1]) + code[end + 1:]


def expand_use_tree(tree):
    """`a::{b, c::{self as d, *}}` → [(['a','b'], 'b'), (['a','c'], 'd'), (['a','c','*'], None)]."""
    tree = re.sub(r"\s+", " ", tree).strip()
    out = []

    def parse(s, prefix):
        s = s.strip()
        if not s:
            return
        if s.startswith("::"):
            s = s[2:]
        brace = s.find("{")
        if brace >= 0 and s.endswith("}"):
            head = [p.strip() for p in s[:brace].split("::") if p.strip()]
            inner = s[brace + 1: -1]
            depth, start = 0, 0
            for k, ch in enumerate(inner):
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                elif ch == "," and depth == 0:
                    parse(inner[start:k], prefix + head)
                    start = k + 1
            parse(inner[start:], prefix + head)
            return
        alias = None
        m = re.match(r"(.*?)\s+as\s+(\w+)$", s)
        if m:
            s, alias = m.group(1), m.group(2)
        segs = [p.strip() for p in s.split("::") if p.strip()]
        if segs and segs[-1] == "self":
            segs = segs[:-1]
        path = prefix + segs
        if not path:
            return
        if path[-1] == "*":
            out.append((path, None))
        else:
            out.append((path, alias or path[-1]))

    parse(tree, [])
    return out


class Crate:
    def __init__(self, src, tests):
        self.src = src
        self.tests = tests
        self.files = {}  # relative file -> stripped code
        self.module_file = {}  # module path tuple -> file
        self.children = defaultdict(set)  # module path -> child names
        self.defs = defaultdict(set)  # module path -> names defined there
        self.uses = defaultdict(list)  # module path -> [(vis, path, alias, line)]
        self.file_modules = defaultdict(list)  # file -> module paths it holds
        self.bodies = {}  # module path -> its code without `use` and `mod x;` declarations
        self.load(("crate",), "lib.rs")

    def read(self, rel):
        with open(os.path.join(self.src, rel), encoding="utf-8") as f:
            code = strip(f.read())
        return code if self.tests else drop_test_items(code)

    def load(self, module, rel):
        code = self.read(rel)
        self.files[rel] = code
        self.scan(module, rel, code, os.path.dirname(rel) if rel.endswith(("mod.rs", "lib.rs")) else rel[:-3])

    def scan(self, module, rel, code, child_dir):
        """Records what `module` (whose text is `code`, in file `rel`) defines, declares, uses."""
        self.module_file[module] = rel
        self.file_modules[rel].append(module)
        # Inline modules are scanned on their own and blanked from the parent's text.
        while True:
            m = re.search(r"(?m)^[ \t]*" + VIS + r"mod\s+(\w+)\s*\{", code)
            if not m:
                break
            brace = code.index("{", m.start())
            end = matching_brace(code, brace)
            name = m.group(1)
            self.children[module].add(name)
            self.defs[module].add(name)
            self.scan(module + (name,), rel, code[brace + 1:end], os.path.join(child_dir, name))
            code = code[: m.start()] + "".join("\n" if c == "\n" else " " for c in code[m.start(): end + 1]) + code[end + 1:]
        for m in re.finditer(r"(?m)^[ \t]*" + VIS + r"mod\s+(\w+)\s*;", code):
            name = m.group(1)
            self.children[module].add(name)
            self.defs[module].add(name)
            for cand in (os.path.join(child_dir, name + ".rs"), os.path.join(child_dir, name, "mod.rs")):
                if os.path.exists(os.path.join(self.src, cand)):
                    self.load(module + (name,), os.path.normpath(cand))
                    break
        for m in ITEM_RE.finditer(code):
            self.defs[module].add(m.group(1))
        # Declaring a child is no use of it: `mod x;` is left out of the text searched for names.
        body = re.sub(r"(?m)^[ \t]*" + VIS + r"mod\s+\w+\s*;", "", code)
        for m in USE_RE.finditer(code):
            line = code.count("\n", 0, m.start()) + 1
            for path, alias in expand_use_tree(m.group(2)):
                self.uses[module].append((m.group(1).strip(), path, alias, line))
        body = USE_RE.sub(lambda m: "\n" * m.group(0).count("\n"), body)
        self.bodies[module] = body

    # -- resolution -------------------------------------------------------------------------

    def absolute(self, module, segs, seen=None):
        """The absolute path of `segs` written in `module`, or None for another crate."""
        segs = list(segs)
        if not segs:
            return None
        head = segs[0]
        if head in ("crate", "$crate"):
            return ["crate"] + segs[1:]
        if head == "self":
            return list(module) + segs[1:]
        if head == "super":
            base = list(module)
            while segs and segs[0] == "super":
                base, segs = base[:-1], segs[1:]
            return base + segs
        if head in self.children[module]:
            return list(module) + segs
        # `use other_crate;` (or `use x::{self}`) names itself: another crate, not a loop.
        seen = seen or set()
        if head in seen:
            return None
        for vis, path, alias, _ in self.uses[module]:
            if alias == head:
                target = self.absolute(module, path, seen | {head})
                return None if target is None else target + segs[1:]
        return None

    def resolve(self, path, seen=None):
        """The file defining what the absolute `path` names (following re-exports)."""
        seen = seen or set()
        key = tuple(path)
        if key in seen:
            return None
        seen.add(key)
        k = len(path)
        while k > 1 and tuple(path[:k]) not in self.module_file:
            k -= 1
        module = tuple(path[:k])
        if module not in self.module_file:
            return None
        if k == len(path) or path[k] == "*":
            return self.module_file[module]
        name = path[k]
        if name in self.defs[module]:
            return self.module_file[module]
        for vis, upath, alias, _ in self.uses[module]:
            if alias == name:
                target = self.absolute(module, upath)
                if target is None:
                    return None  # another crate's item, re-exported
                return self.resolve(target + path[k + 1:], seen)
        for vis, upath, alias, _ in self.uses[module]:
            if alias is None:  # a glob could bring the name
                target = self.absolute(module, upath[:-1])
                if target is not None:
                    got = self.resolve(target + [name], seen)
                    if got is not None:
                        return got
        return self.module_file[module]

    # -- edges ------------------------------------------------------------------------------

    def edges(self):
        """{(a, b): "a:line: text"} for every file a naming an item that file b ≠ a defines."""
        edges = {}

        def add(rel, target, line, text):
            if target and target != rel and (rel, target) not in edges:
                edges[(rel, target)] = f"{rel}:{line}: {text}"

        for module, rel in self.module_file.items():
            body = self.bodies[module]
            idents = set(IDENT_RE.findall(body))
            for vis, path, alias, line in self.uses[module]:
                target_path = self.absolute(module, path)
                if target_path is None:
                    continue
                target = self.resolve(target_path)
                descendant = target_path[: len(module)] == list(module) and len(target_path) > len(module)
                if vis.startswith("pub") and descendant and (alias is None or alias not in idents):
                    continue  # a parent re-exporting its own child
                add(rel, target, line, "use " + "::".join(path))
            for m in PATH_RE.finditer(body):
                segs = [s.strip() for s in m.group(0).split("::")]
                target_path = self.absolute(module, segs)
                if target_path is None:
                    continue
                line = body.count("\n", 0, m.start()) + 1
                add(rel, self.resolve(target_path), line, re.sub(r"\s+", "", m.group(0)))
        return edges


def cycles(nodes, adj, limit):
    """Elementary cycles (Johnson's algorithm), at most `limit` of them, shortest first."""
    found = []
    order = sorted(nodes)
    index = {v: i for i, v in enumerate(order)}
    for s in order:
        if len(found) >= limit:
            break
        # Only cycles whose smallest node is s.
        sub = {v for v in order if index[v] >= index[s]}
        blocked, bmap, stack = set(), defaultdict(set), [s]

        def unblock(u):
            todo = [u]
            while todo:
                w = todo.pop()
                if w in blocked:
                    blocked.discard(w)
                    todo.extend(bmap.pop(w, ()))

        def circuit(v):
            closed = False
            blocked.add(v)
            for w in sorted(adj[v] & sub):
                if len(found) >= limit:
                    return True
                if w == s:
                    found.append(list(stack))
                    closed = True
                elif w not in blocked:
                    stack.append(w)
                    if circuit(w):
                        closed = True
                    stack.pop()
            if closed:
                unblock(v)
            else:
                for w in adj[v] & sub:
                    bmap[w].add(v)
            return closed

        circuit(s)
    return sorted(found, key=lambda c: (len(c), c))


def top(rel):
    return rel.split(os.sep)[0].removesuffix(".rs")


def report(title, edges, limit):
    adj = defaultdict(set)
    for a, b in edges:
        adj[a].add(b)
    nodes = set(adj) | {b for _, b in edges}
    found = cycles(nodes, adj, limit)
    print(f"{title}: {len(found)}{'+' if len(found) >= limit else ''} cycle(s)")
    for c in found:
        print("  " + " -> ".join(c + [c[0]]))
        for a, b in zip(c, c[1:] + c[:1]):
            print(f"      {edges[(a, b)]}  (-> {b})")
    return len(found)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    ap.add_argument("--tests", action="store_true", help="include #[cfg(test)] items")
    ap.add_argument("--max-cycles", type=int, default=200, help="stop listing after this many per graph")
    ap.add_argument("--edges", action="store_true", help="also print every file-level edge")
    args = ap.parse_args()
    crate = Crate(os.path.normpath(args.src), args.tests)
    edges = crate.edges()
    if args.edges:
        for (a, b), why in sorted(edges.items()):
            print(f"{a} -> {b}  ({why})")
    n = report("file-level", edges, args.max_cycles)
    top_edges = {}
    for (a, b), why in sorted(edges.items()):
        ta, tb = top(a), top(b)
        if ta != tb and "lib" not in (ta, tb) and (ta, tb) not in top_edges:
            top_edges[(ta, tb)] = why
    n += report("top-level modules", top_edges, args.max_cycles)
    sys.exit(1 if n else 0)


if __name__ == "__main__":
    main()
