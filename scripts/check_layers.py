#!/usr/bin/python3
"""Checks the shape of the tree that DESIGN.md and STYLE.md ask for.

1. The layers of src/ include only downwards: core and proto include no
   cmd, port, posix or app header; cmd includes no posix or app header;
   port includes only port headers.
2. The include graph of src/cmd/ has no cycle. Files group into units by
   the name before the first '_' (wifi_sta.c, wifi_internal.h -> wifi), so
   a family's files are one node, as the before-stop hook counts them.
3. A family touches only its own state: in src/cmd/, `m->wifi` and its
   like (a struct espat_module member that a family row owns) appear only
   in the files of the family that owns the slot.

Prints what it found and ends with "check_layers: N passed, N failed" (one
count per rule);
exits 1 on any failure. Usage: scripts/check_layers.py [ROOT]
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
SRC = os.path.join(ROOT, "src")
INC = re.compile(r'^\s*#\s*include\s+"([a-z]+)/([^"]+)"', re.M)

# layer -> layers it may include (besides itself)
ALLOWED = {
    "core": {"port"},
    "proto": set(),
    "cmd": {"core", "proto", "port"},
    "port": set(),
    "world": {"port", "core", "proto"},
    "testport": {"port", "core", "proto", "cmd", "world", "posix"},
    "posix": {"port", "core"},
    "app": {"cmd", "core", "proto", "port", "posix", "world", "app"},
}


def sources(d):
    for f in sorted(os.listdir(d)):
        if f.endswith((".c", ".h")):
            yield f, open(os.path.join(d, f), errors="replace").read()


def unit(name):
    return name.rsplit(".", 1)[0].split("_")[0]


def find_cycle(graph):
    state, path = {}, []

    def dfs(n):
        state[n] = 1
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                c = dfs(m)
                if c:
                    return c
        state[n] = 2
        path.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            c = dfs(n)
            if c:
                return c
    return None


def main():
    failures = []
    failed_rules = set()

    # 1. layers
    for layer, allowed in ALLOWED.items():
        d = os.path.join(SRC, layer)
        if not os.path.isdir(d):
            continue
        for f, text in sources(d):
            for inc_layer, inc in INC.findall(text):
                if inc_layer != layer and inc_layer not in allowed:
                    failed_rules.add("layers")
                    failures.append(f"src/{layer}/{f} includes {inc_layer}/{inc}: "
                                    f"{layer} may include only {sorted(allowed) or 'libc'}")

    # 2. no include cycle between the units of src/cmd/
    cmd = os.path.join(SRC, "cmd")
    graph = {}
    files = dict(sources(cmd))
    for f, text in files.items():
        for inc_layer, inc in INC.findall(text):
            if inc_layer == "cmd" and unit(inc) != unit(f):
                graph.setdefault(unit(f), set()).add(unit(inc))
    cyc = find_cycle(graph)
    if cyc:
        failed_rules.add("cycle")
        failures.append("src/cmd/ include cycle: " + " -> ".join(cyc))

    # 3. family state: who owns which slot of struct espat_module
    owner = {}
    slot = re.compile(r"\.state_slot\s*=\s*offsetof\(struct espat_module,\s*(\w+)\)")
    for f, text in files.items():
        for s in slot.findall(text):
            owner[s] = unit(f)
    if owner:
        use = re.compile(r"(?:\bm|(?<!\w)\(m\)|->m)->(" + "|".join(sorted(owner)) + r")\b")
        for f, text in files.items():
            for s in sorted(set(use.findall(text))):
                if owner[s] != unit(f):
                    failed_rules.add("state")
                    failures.append(f"src/cmd/{f} reaches into the {s} family's state "
                                    f"(m->{s}); use that family's interface in its header")

    for msg in failures:
        print("FAIL " + msg)
    print(f"check_layers: units {sorted(graph)}; state slots {owner}")
    # one count per rule: layers, cycle, state
    print(f"check_layers: {3 - len(failed_rules)} passed, {len(failed_rules)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
