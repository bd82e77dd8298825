#!/usr/bin/env python3
"""Where a Transit run's aarch64 instructions went: hotpc.c's counts per
host block, named by Transit's own functions (addr2line) and, for the code
cache, by the guest block each translation came from (Transit's
--perf-map: `main+0x1c [x86_64:0x401150]`, guest function and address, or
the address alone). Counts are per block start, like ../shared/bench.

usage: report.py [--outer] COUNTS TRANSIT ADDR2LINE TOP [PERF_MAP...]
--outer names each of Transit's instructions by the function it was
inlined into rather than the innermost inlined one.
"""
import bisect
import collections
import subprocess
import sys


def entry_point(binary):
    for line in subprocess.run(["readelf", "-h", binary], capture_output=True, text=True).stdout.splitlines():
        if "Entry point address" in line:
            return int(line.split()[-1], 16)
    raise SystemExit(f"report.py: no ELF header in {binary}")


def main():
    global outer
    args = sys.argv[1:]
    outer = args[0] == "--outer"
    if outer:
        args = args[1:]
    counts_file, transit, addr2line, top = args[0], args[1], args[2], int(args[3])
    blocks = []  # (host start, host end, guest name), from every map given
    for path in args[4:]:
        for line in open(path):
            start, size, name = line.split(maxsplit=2)
            blocks.append((int(start, 16), int(start, 16) + int(size, 16), name.strip()))
    blocks.sort()
    starts = [b[0] for b in blocks]
    counts = collections.Counter()
    first = None
    for line in open(counts_file):
        addr, n = line.split()
        counts[int(addr, 16)] += int(n)
        # hotpc.c lists blocks newest first: the last is Transit's entry.
        first = int(addr, 16)
    if first is None:
        raise SystemExit("report.py: no block ran")
    # Transit is a static PIE: its load address is where its entry ran.
    base = first - entry_point(transit)
    guest = collections.Counter()
    own = []
    for a, n in counts.items():
        i = bisect.bisect_right(starts, a) - 1
        if i >= 0 and a < blocks[i][1]:
            guest[blocks[i][2]] += n
        elif a >= base:
            own.append(a)
    names = {}
    if own:
        # -a starts each address's group, -i lists its inlining chain: the
        # group's last function is the one not inlined (named by
        # `outer`), the first the innermost.
        out = subprocess.run([addr2line, "-a", "-f", "-i", "-C", "-e", transit],
                             input="".join(f"{a - base:#x}\n" for a in own), capture_output=True, text=True).stdout
        groups = [g.splitlines()[1::2] for g in out.split("0x")[1:]]
        pick = (lambda fs: fs[-1]) if outer else (lambda fs: fs[0])
        names = {a: pick(g) if g else "?" for a, g in zip(own, groups)}
    by = collections.Counter()
    for a, n in counts.items():
        i = bisect.bisect_right(starts, a) - 1
        if i >= 0 and a < blocks[i][1]:
            by["[generated code]"] += n
        else:
            by[names.get(a, "[other: libraries, loader, vdso]")] += n
    total = sum(counts.values())
    print(f"{total} aarch64 instructions")
    for name, n in by.most_common(top):
        print(f"{100 * n / total:6.2f}% {n:14d}  {name[:120]}")
    if guest:
        print(f"\nhottest guest blocks (their translations' instructions; show one with\n"
              f"`cargo run -p transit-translator --example listing -- PROGRAM ADDR`):")
        for name, n in guest.most_common(top):
            print(f"{100 * n / total:6.2f}% {n:14d}  {name}")
        # `main+0x1c [x86_64:0x401150]` -> main; address-only names stay.
        functions = collections.Counter()
        for name, n in guest.items():
            functions[name.split(" [x86_64:")[0].split("+0x")[0]] += n
        if len(functions) < len(guest):
            print("\nhottest guest functions (their blocks' translations' instructions):")
            for name, n in functions.most_common(top):
                print(f"{100 * n / total:6.2f}% {n:14d}  {name}")


if __name__ == "__main__":
    main()
