#!/usr/bin/env python3
"""How many of the instructions translated code executes address CpuState
(x28, the state register of generated code): the price of guest state
that lives in memory rather than in host registers. Reads hotpc.c's
counts with `disas=on` and the run's --perf-map files (which say which
host code is translated guest code).

usage: state_traffic.py COUNTS TOP FIELD=LO:HI... -- PERF_MAP...

FIELD=LO:HI names the CpuState byte range [LO, HI) (hex or decimal), e.g.
ymm_upper=0x1e0:0x2e0; each gets a line of its own. An instruction counts
at the offset it addresses from x28; `add xN, x28, #OFF` (the base of a
run of stores, as vzeroupper's) counts once at OFF.
"""
import bisect
import collections
import re
import sys

# [x28], [x28, #OFF] and its pre-index form; add xN, x28, #OFF.
ADDRESS = re.compile(r"\[x28(?:, #(-?(?:0x[0-9a-f]+|\d+)))?\]")
BASE = re.compile(r"^add x\d+, x28, #(0x[0-9a-f]+|\d+)")
# An instruction's form: its text with register numbers and immediates
# replaced (x28 kept).
FORM = re.compile(r"(?<=[xwqdsvb])(?!28\b)\d+|#-?(0x[0-9a-f]+|\d+)")


def parse_blocks(path):
    """(host address, instructions executed, [disassembly]) per block."""
    blocks, current = [], None
    for line in open(path):
        if line.startswith("\t"):
            current[2].append(line.strip())
        else:
            addr, count = line.split()
            current = [int(addr, 16), int(count), []]
            blocks.append(current)
    return blocks


def state_offset(text):
    m = ADDRESS.search(text)
    if m:
        return int(m.group(1), 0) if m.group(1) else 0
    m = BASE.match(text)
    return int(m.group(1), 0) if m else None


def main():
    args = sys.argv[1:]
    split = args.index("--")
    counts_file, top, fields, maps = args[0], int(args[1]), args[2:split], args[split + 1:]
    ranges = []
    for f in fields:
        name, span = f.split("=")
        lo, hi = span.split(":")
        ranges.append((name, int(lo, 0), int(hi, 0)))
    generated = []
    for path in maps:
        for line in open(path):
            start, size, _ = line.split(maxsplit=2)
            generated.append((int(start, 16), int(start, 16) + int(size, 16)))
    generated.sort()
    starts = [g[0] for g in generated]

    total = translated = state = 0
    by_offset = collections.Counter()
    by_field = collections.Counter()
    by_form = collections.Counter()
    for addr, count, insns in parse_blocks(counts_file):
        total += count
        i = bisect.bisect_right(starts, addr) - 1
        if i < 0 or addr >= generated[i][1] or not insns:
            continue
        translated += count
        executions = count // len(insns)
        for text in insns:
            off = state_offset(text)
            if off is None:
                continue
            state += executions
            by_offset[off] += executions
            by_form[FORM.sub("N", text)] += executions
            for name, lo, hi in ranges:
                if lo <= off < hi:
                    by_field[name] += executions

    def share(n):
        return f"{n:14d}  {100 * n / total:6.2f}% of all, {100 * n / max(translated, 1):6.2f}% of translated code"

    print(f"{total} aarch64 instructions, {translated} of them in translated code")
    print(f"addressing CpuState: {share(state)}")
    for name, _, _ in ranges:
        print(f"  {name}: {share(by_field[name])}")
    print("busiest CpuState offsets:")
    for off, n in by_offset.most_common(top):
        print(f"  {off:#06x} {share(n)}")
    print("busiest instruction forms addressing it:")
    for form, n in by_form.most_common(top):
        print(f"  {form:<32} {share(n)}")


if __name__ == "__main__":
    main()
