#!/usr/bin/env bash
# check-includes.sh: the source tree keeps its layering readable.
#
#   tests/support/check-includes.sh [TOPSRC]
#
# Fails (exit 1, naming the files) when
#  - the project's own #include "..." lines among src/ and include/ form a
#    cycle (a header that, through others, includes itself), or
#  - a file in src/ is over MAX_LINES lines (default 900): split it along
#    its module's seams instead.
set -u
top=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
max=${MAX_LINES:-900}
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
