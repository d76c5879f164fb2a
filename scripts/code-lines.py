#!/usr/bin/env python3
"""Code a server runs per click: distinct 64-byte lines of machine code.

Reads a callgrind output written with `--dump-instr=yes` and prints how many distinct
instruction addresses had a cost, and how many distinct 64-byte cache lines they span;
with `--top N`, the N functions that touch the most lines. BENCHMARKS.md shows how the
profile is taken (instrumentation switched on only while one clicker clicks).

usage: scripts/code-lines.py CALLGRIND.OUT [--top N]
"""

import collections
import re
import sys


def parse(path):
    """Executed instruction addresses per function."""
    names = {}
    per_fn = collections.defaultdict(set)
    fn = None
    addr = 0
    after_calls = False
    with open(path) as f:
        for line in f:
            if line.startswith("fn="):
                m = re.match(r"\((\d+)\)(?:\s+(.*))?", line[3:].strip())
                if m:
                    if m.group(2):
                        names[m.group(1)] = m.group(2)
                    fn = names.get(m.group(1), "?")
                else:
                    fn = line[3:].strip()
                continue
            if line.startswith("cfn="):
                m = re.match(r"\((\d+)\)\s+(.*)", line[4:].strip())
                if m:
                    names[m.group(1)] = m.group(2)
                continue
            if line.startswith("calls="):
                after_calls = True
                continue
            if not line or line[0] not in "0123456789+-*":
                continue
            fields = line.split()
            position = fields[0]
            if position.startswith("0x"):
                addr = int(position, 16)
            elif position.startswith("+"):
                addr += int(position[1:])
            elif position.startswith("-"):
                addr -= int(position[1:])
            elif position != "*":
                addr = int(position)
            if after_calls:  # the cost line of a call: inclusive, not this address's own
                after_calls = False
                continue
            if len(fields) > 1 and int(fields[-1]) > 0:
                per_fn[fn].add(addr)
    return per_fn


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    per_fn = parse(sys.argv[1])
    addrs = set().union(*per_fn.values()) if per_fn else set()
    print(f"instructions {len(addrs)}  code lines {len({a >> 6 for a in addrs})}")
    if "--top" in sys.argv:
        top = int(sys.argv[sys.argv.index("--top") + 1])
        rows = sorted(((len({a >> 6 for a in v}), k) for k, v in per_fn.items()), reverse=True)
        for lines, name in rows[:top]:
            print(f"{lines:5d}  {name[:140]}")


if __name__ == "__main__":
    main()
