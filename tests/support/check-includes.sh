#!/usr/bin/env bash
# check-includes.sh: the source tree keeps its layering readable.
#
#   tests/support/check-includes.sh [TOPSRC]
#
# Fails (exit 1, naming the files) when
#  - the project's own #include "..." lines among src/ and include/ form a
#    cycle (a header that, through others, includes itself), or
#  - a file in src/ is over MAX_LINES lines (default 900): split it along
#    its module's seams instead, or
#  - the src/ files call each other in a circle: a.c uses a function or
#    variable that b.c defines and b.c, directly or through others, one of
#    a.c's.  Read from the objects ($BUILD/*.o, default build/, so `make`
#    first: `make check-includes` does) with nm, which sees what the
#    compiler kept: a static inline function in a header is no edge, a
#    call through a function pointer set by the caller neither.  Each
#    circle is printed as its files with one symbol for every edge.
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
max=${MAX_LINES:-900}
build=${BUILD:-build}
cd "$top" || exit 2

python3 - "$max" <<'PY'
import os, re, sys
max_lines = int(sys.argv[1])
files = sorted([os.path.join(d, f) for d in ("src", "include") if os.path.isdir(d)
                for f in os.listdir(d) if f.endswith((".c", ".h"))])
by_name = {}
for p in files:
    by_name.setdefault(os.path.basename(p), p)
inc = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
edges = {}
for p in files:
    deps = []
    with open(p, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = inc.match(line)
            if not m:
                continue
            name = m.group(1)
            target = by_name.get(os.path.basename(name))
            if target and target != p:
                deps.append(target)
            elif target == p:
                deps.append(p)
    edges[p] = deps

bad = 0
# Cycles: depth-first search with colours; report each cycle once.
WHITE, GREY, BLACK = 0, 1, 2
colour = {p: WHITE for p in files}
stack = []
seen = set()
def visit(p):
    global bad
    colour[p] = GREY
    stack.append(p)
    for q in edges[p]:
        if colour[q] == GREY:
            cyc = stack[stack.index(q):] + [q]
            key = frozenset(cyc)
            if key not in seen:
                seen.add(key)
                print("include cycle: " + " -> ".join(cyc))
                bad += 1
        elif colour[q] == WHITE:
            visit(q)
    stack.pop()
    colour[p] = BLACK
sys.setrecursionlimit(10000)
for p in files:
    if colour[p] == WHITE:
        visit(p)

for p in files:
    if not p.startswith("src/"):
        continue
    with open(p, encoding="utf-8", errors="replace") as fh:
        n = sum(1 for _ in fh)
    if n > max_lines:
        print(f"{p}: {n} lines (over {max_lines}): split it")
        bad += 1

if bad:
    sys.exit(1)
print(f"check-includes: {len(files)} files, no include cycle, none over {max_lines} lines in src/")
PY
inc_rc=$?

python3 - "$build" <<'PY'
import os, subprocess, sys
build = sys.argv[1]
srcs = sorted(f[:-2] for f in os.listdir("src") if f.endswith(".c"))
missing = [s for s in srcs if not os.path.isfile(os.path.join(build, s + ".o"))]
if missing:
    print(f"check-includes: no {build}/{missing[0]}.o (and {len(missing) - 1} more): build first (make)")
    sys.exit(2)
# nm -P: "name type [value size]"; U is undefined (used here, defined
# elsewhere); an upper-case type other than U is a global definition.
defined, used = {}, {}
for s in srcs:
    out = subprocess.run(["nm", "-P", os.path.join(build, s + ".o")],
                         capture_output=True, text=True, check=True).stdout
    used[s] = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) < 2:
            continue
        name, kind = f[0], f[1]
        if kind in ("U", "w"):
            used[s].add(name)
        elif kind.isupper():
            defined.setdefault(name, s)
# edges[a][b] = the symbols a takes from b
edges = {s: {} for s in srcs}
for s in srcs:
    for name in sorted(used[s]):
        d = defined.get(name)
        if d and d != s:
            edges[s].setdefault(d, []).append(name)

# Strongly connected components (Tarjan, iterative): each one of more
# than one file is a circle.
index, low, onstack, stack, comps = {}, {}, set(), [], []
counter = 0
for root in srcs:
    if root in index:
        continue
    work = [(root, iter(sorted(edges[root])))]
    index[root] = low[root] = counter; counter += 1
    stack.append(root); onstack.add(root)
    while work:
        v, it = work[-1]
        w = next(it, None)
        if w is not None:
            if w not in index:
                index[w] = low[w] = counter; counter += 1
                stack.append(w); onstack.add(w)
                work.append((w, iter(sorted(edges[w]))))
            elif w in onstack:
                low[v] = min(low[v], index[w])
            continue
        work.pop()
        if work:
            low[work[-1][0]] = min(low[work[-1][0]], low[v])
        if low[v] == index[v]:
            comp = []
            while True:
                x = stack.pop(); onstack.discard(x); comp.append(x)
                if x == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

def one_loop(comp):
    """A shortest way from comp[0] back to itself inside comp."""
    start, inside = comp[0], set(comp)
    prev, frontier = {start: None}, [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(edges[v]):
                if w not in inside:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(prev[path[-1]])
                    return path[::-1] + [start]
                if w not in prev:
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start]

for n, comp in enumerate(comps, 1):
    print(f"call circle {n}: {len(comp)} files: " + ", ".join(f"src/{c}.c" for c in comp))
    loop = one_loop(comp)
    print("  for one: " + " -> ".join(
        f"src/{a}.c ({edges[a][b][0]})" for a, b in zip(loop, loop[1:])) + f" -> src/{loop[-1]}.c")
    for a in comp:
        for b in sorted(edges[a]):
            if b in comp:
                names = edges[a][b]
                more = f" and {len(names) - 3} more" if len(names) > 3 else ""
                print(f"  src/{a}.c -> src/{b}.c: {', '.join(names[:3])}{more}")
if comps:
    print(f"check-includes: {len(comps)} call circle(s) among src/*.c: "
          "cut each where a lower layer calls up (a hook, or the code moved down)")
    sys.exit(1)
nedges = sum(len(e) for e in edges.values())
print(f"check-includes: {len(srcs)} objects, {nedges} file-to-file uses, no call circle")
PY
sym_rc=$?
[ "$inc_rc" -eq 0 ] && [ "$sym_rc" -eq 0 ] && exit 0
[ "$inc_rc" -eq 2 ] || [ "$sym_rc" -eq 2 ] && exit 2
exit 1
