#!/usr/bin/env python3
"""Joins passes of ../shared/bench (its --json files) into one table for
`cargo xtask bench`: per workload, the native count, then Transit's count
and ratio (native / Transit) in each pass, and QEMU's where a pass ran
it; the geometric mean of the ratios over the harness's geomean workloads
(hello is reported, not averaged). stdlib only.

    bench_table.py 'cache off=cold.json' 'warm cache=warm.json' \
        [--markdown OUT.md] [--json OUT.json]

The JSON written holds every pass's harness results whole.
"""

import argparse
import json
import math
import sys


def geomean(ratios):
    ratios = [r for r in ratios if r]
    return math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else None


def cell(result):
    """(insns, ratio) of one emulator's result, or Nones for a failure."""
    if not result or not result.get("output_match") or result.get("ratio") is None:
        return None, None
    return result["insns"], result["ratio"]


def table(passes):
    columns = []  # (heading, pass results, emulator name)
    for name, results in passes:
        columns.append((f"Transit, {name}", results, "transit"))
    qemu = next(((n, r) for n, r in passes if "qemu-tcg" in r["emulators"]), None)
    if qemu:
        columns.append(("QEMU", qemu[1], "qemu-tcg"))
    first = passes[0][1]
    head = ["workload", "native insns"] + [h for c in columns for h in (f"{c[0]} insns", "ratio")]
    rows, ratios = [], {c[0]: [] for c in columns}
    for i, w in enumerate(first["workloads"]):
        row = [w["name"] + ("" if w["geomean"] else " \\*"), f"{w['native']['insns']:,}"]
        for heading, results, emulator in columns:
            insns, ratio = cell(results["workloads"][i]["emulators"].get(emulator))
            row += [f"{insns:,}" if insns else "FAIL", f"{ratio:.4f}" if ratio else "-"]
            if w["geomean"]:
                ratios[heading].append(ratio)
        rows.append(row)
    means = {h: geomean(r) for h, r in ratios.items()}
    n = sum(1 for w in first["workloads"] if w["geomean"])
    rows.append([f"**geomean** ({n})", ""] + [x for c in columns for x in ("", f"**{means[c[0]]:.4f}**" if means[c[0]] else "-")])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" + "---:|" * (len(head) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines.append("")
    lines.append("\\* not in the geometric mean. Ratio = native instructions / emulated instructions "
                 f"(aarch64, {first['cpu']}, size {first['size']}, {first['date']}).")
    return "\n".join(lines) + "\n", means


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("passes", nargs="+", metavar="NAME=JSON")
    p.add_argument("--markdown")
    p.add_argument("--json")
    args = p.parse_args()
    passes = []
    for spec in args.passes:
        name, sep, path = spec.partition("=")
        if not sep:
            p.error(f"want NAME=JSON, got {spec!r}")
        with open(path) as f:
            passes.append((name, json.load(f)))
    names = [[w["name"] for w in r["workloads"]] for _, r in passes]
    if any(n != names[0] for n in names):
        sys.exit("bench_table.py: the passes ran different workloads")
    text, means = table(passes)
    print(text, end="")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"geomeans": means, "passes": dict(passes)}, f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
